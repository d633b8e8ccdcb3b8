"""The demo's simulated people: a scripted reviewer and a scripted ranker, who say so in every row."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone

import polars as pl

from housevoice.store import Workspace

REVIEWER = "demo reviewer (scripted)"
RANKER = "demo ranker (scripted)"
# The scripted reviewer rejects what a careful expert usually would, and approves the rest.
REJECT_FLAGS = {"near_duplicate", "exact_duplicate", "templated", "pii", "off_author", "not_published"}


def scripted_review(ws: Workspace) -> dict[str, int]:
    """Decide every record routed to review that nobody decided yet; origin `demo:reviewer`."""
    curated = ws.read_table("curated").filter(pl.col("route") == "review")
    decided = set(ws.read_table("decisions")["record_id"].to_list())
    rows = []
    now = datetime.now(timezone.utc)
    for rec in curated.iter_rows(named=True):
        if rec["record_id"] in decided:
            continue
        names = {f["name"] for f in rec["flags"]}
        reasons = sorted(names & REJECT_FLAGS)
        decision = "reject" if reasons else "approve"
        comment = f"scripted: rejected for {', '.join(reasons)}" if reasons else "scripted: the flags are acceptable"
        rows.append({"record_id": rec["record_id"], "decision": decision, "edited_text": None, "comment": comment,
                     "reviewer": REVIEWER, "decided_at": now, "origin": "demo:reviewer"})
    if rows:
        with ws.lock():
            ws.append_table("decisions", pl.DataFrame(rows))
    return {"approve": sum(r["decision"] == "approve" for r in rows), "reject": sum(r["decision"] == "reject" for r in rows)}


def _ranker_score(text: str) -> float:
    """Prefers prose: real words, few links or markup, not too short, not repetitive."""
    words = re.findall(r"[A-Za-z']+", text)
    if not words:
        return -1.0
    distinct = len(set(w.lower() for w in words)) / len(words)
    noise = len(re.findall(r"https?://|<[a-z/]", text))
    return min(len(words), 120) / 120 + distinct - 0.2 * noise


def scripted_ranking(ws: Workspace, versions: list[str]) -> int:
    """Rank each prompt's responses from the given versions; append their pairs (origin `demo:ranker`)."""
    from housevoice.label.ranking import ranked_pairs

    samples = ws.read_table("samples").filter(
        pl.col("version_id").is_in(versions) & ~pl.col("prompt_id").str.starts_with("eval:")
    )
    existing = set(ws.read_table("preferences")["pair_id"].to_list())
    by_id = {s["sample_id"]: s for s in samples.iter_rows(named=True)}
    rows = []
    now = datetime.now(timezone.utc)
    for _, group in samples.group_by("prompt_id", maintain_order=True):
        ids = sorted(group["sample_id"].to_list(), key=lambda i: -_ranker_score(by_id[i]["response"]))
        if len(ids) < 2:
            continue
        for chosen, rejected in ranked_pairs([[i] for i in ids]):
            pair_id = "p_" + hashlib.sha1(f"demo\x1f{chosen}\x1f{rejected}".encode()).hexdigest()[:16]
            if pair_id in existing:
                continue
            a, b = by_id[chosen], by_id[rejected]
            rows.append({"pair_id": pair_id, "prompt": a["prompt"], "chosen": a["response"], "rejected": b["response"],
                         "chosen_version": a["version_id"], "rejected_version": b["version_id"],
                         "annotator": RANKER, "created_at": now, "origin": "demo:ranker"})
    if rows:
        with ws.lock():
            ws.append_table("preferences", pl.DataFrame(rows))
    return len(rows)
