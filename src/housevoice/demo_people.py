"""The demo's simulated people: a scripted reviewer and a scripted ranker, who say so in every row.

They answer either straight into the workspace tables (origins `demo:reviewer` / `demo:ranker`) or
through Label Studio's API, where their annotations are pulled like anybody else's.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone

import polars as pl

from housevoice.errors import HousevoiceError
from housevoice.label.client import LabelStudio
from housevoice.store import Workspace

REVIEWER = "demo reviewer (scripted)"
RANKER = "demo ranker (scripted)"
# The scripted reviewer rejects what a careful expert usually would, and approves the rest.
REJECT_FLAGS = {"near_duplicate", "exact_duplicate", "templated", "pii", "off_author", "not_published"}
# Label Studio shows these names beside the suggestions the scripted people turned into annotations.
REVIEWER_MODEL_VERSION = "housevoice demo: scripted reviewer"
RANKER_MODEL_VERSION = "housevoice demo: scripted ranker"


def review_decision(flag_names: set[str]) -> tuple[str, str]:
    """(decision, comment) the scripted reviewer gives a record with these flags."""
    reasons = sorted(flag_names & REJECT_FLAGS)
    if reasons:
        return "reject", f"scripted: rejected for {', '.join(reasons)}"
    return "approve", "scripted: the flags are acceptable"


def scripted_review(ws: Workspace) -> dict[str, int]:
    """Decide every record routed to review that nobody decided yet; origin `demo:reviewer`."""
    curated = ws.read_table("curated").filter(pl.col("route") == "review")
    decided = set(ws.read_table("decisions")["record_id"].to_list())
    rows = []
    now = datetime.now(timezone.utc)
    for rec in curated.iter_rows(named=True):
        if rec["record_id"] in decided:
            continue
        decision, comment = review_decision({f["name"] for f in rec["flags"]})
        rows.append({"record_id": rec["record_id"], "decision": decision, "edited_text": None, "comment": comment,
                     "reviewer": REVIEWER, "decided_at": now, "origin": "demo:reviewer"})
    if rows:
        with ws.lock():
            ws.append_table("decisions", pl.DataFrame(rows))
    return _count(r["decision"] for r in rows)


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


# -- through Label Studio ------------------------------------------------------------------
def _unanswered(client: LabelStudio, project_id: int) -> list[dict]:
    tasks = client.tasks(project_id, include="id,data,total_annotations,cancelled_annotations")
    return [t for t in tasks if not t.get("total_annotations") and not t.get("cancelled_annotations")]


def _annotate(client: LabelStudio, project_id: int, answers: list[dict], model_version: str) -> int:
    """Submit one annotation per task in two requests whatever the number of tasks.

    Label Studio has no bulk annotation endpoint (one annotation per request costs 120-170 ms), so the
    answers go in as suggestions and the Data Manager action "Create Annotations From Predictions" turns
    them into annotations by the logged-in user, as a person selecting all tasks in the UI would.
    """
    if not answers:
        return 0
    imported = client.json("POST", f"/api/projects/{project_id}/import/predictions",
                           json=[{**a, "model_version": model_version} for a in answers])
    # the server drops, without an error, a suggestion whose result does not fit the labeling config
    if imported.get("created") != len(answers):
        raise HousevoiceError(f"Label Studio took {imported.get('created')} of {len(answers)} scripted answers "
                              f"in project {project_id}", hint="its labeling config no longer matches the demo's answers")
    client.json("POST", "/api/dm/actions", params={"id": "predictions_to_annotations", "project": project_id},
                json={"selectedItems": {"all": False, "included": [a["task"] for a in answers]},
                      "model_version": model_version})
    return len(answers)


def review_in_label_studio(ws: Workspace, client: LabelStudio, project_id: int) -> dict[str, int]:
    """The scripted reviewer annotates every unanswered task of the review project; pull them with `pull_review`."""
    flags = {r["record_id"]: {f["name"] for f in r["flags"] or []}
             for r in ws.read_table("curated").select("record_id", "flags").iter_rows(named=True)}
    answers, decisions = [], []
    for task in _unanswered(client, project_id):
        decision, comment = review_decision(flags.get(task["data"].get("record_id"), set()))
        decisions.append(decision)
        answers.append({"task": task["id"], "result": [
            {"from_name": "decision", "to_name": "clean_text", "type": "choices", "value": {"choices": [decision]}},
            {"from_name": "comment", "to_name": "clean_text", "type": "textarea", "value": {"text": [comment]}},
        ]})
    _annotate(client, project_id, answers, REVIEWER_MODEL_VERSION)
    return _count(decisions)


def rank_in_label_studio(ws: Workspace, client: LabelStudio) -> int:
    """The scripted ranker annotates every unanswered pairwise and list task; pull them with `pull_rankings`."""
    from housevoice.label.ranking import LIST_CONFIG, PAIR_CONFIG, project_titles

    responses = {s["sample_id"]: s["response"] for s in ws.read_table("samples").iter_rows(named=True)}
    score = lambda sample_id: _ranker_score(responses.get(sample_id, ""))  # noqa: E731
    titles, ranked = project_titles(ws), 0
    for kind, config in (("pairs", PAIR_CONFIG), ("lists", LIST_CONFIG)):
        project = client.project(titles[kind], config)
        answers = []
        for task in _unanswered(client, project["id"]):
            samples = task["data"]["samples"]
            if kind == "pairs":
                left = score(samples[0]) >= score(samples[1])
                # the server takes a pairwise result that names the first of its two texts
                result = {"from_name": "pref", "to_name": "answer_a", "type": "pairwise",
                          "value": {"selected": "left" if left else "right"}}
            else:
                order = sorted(samples, key=lambda item: -score(samples[item]))
                result = {"from_name": "rank", "to_name": "responses", "type": "ranker",
                          "value": {"ranker": {"rank": order}}}
            answers.append({"task": task["id"], "result": [result]})
        ranked += _annotate(client, project["id"], answers, RANKER_MODEL_VERSION)
    return ranked


def _count(decisions) -> dict[str, int]:
    decisions = list(decisions)
    return {"approve": decisions.count("approve"), "reject": decisions.count("reject")}
