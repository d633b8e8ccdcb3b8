"""Near-duplicate recall under harder edits than a labelled corpus happens to hold.

Usage: python bench/near_duplicate_stress.py CORPUS_DIR [--copies 300] [--seed 1]

A labelled corpus plants a few dozen re-posts, each with one to four edits drawn at random; the
next corpus may draw the harsh end more often. This bench takes CORPUS_DIR's own posts (records
with 50 words or more that are no copy), plants `--copies` re-posts of random ones with the edits
its README describes, each at the harsh end of its range — a new intro paragraph, in half of the
copies with the post's first paragraph removed (where the rest is half the post or more); 3, 6 or 10% of the prose words changed (synonym-like
swaps for words of the corpus, deletions of function words first, letter-swap typos); tracking
parameters on the links; markdown restyled (bullets, bold, extra blank lines, CRLF) — cleans and
runs the duplicate flagger on the corpus with them, and prints the share of copies found
(recall), by edit and by the length of the post, and how many flagged records are no planted copy
and no labelled duplicate (false alarms).
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

INTROS = [
    "Editor's note: this post first appeared on our old blog, and we are sharing it again for new readers.",
    "We are re-posting this piece from the archive because it answers a question we get every week.",
    "Cross-posted from [the team's own blog](https://team.example.org/blog). Some links may have moved since.",
    "Update: a reader asked us to bring this one back, so here it is, lightly edited.",
]
FUNCTION_WORDS = {"the", "a", "an", "of", "to", "and", "that", "in", "is", "it", "for", "on", "with", "as", "this", "be"}
_FENCE = re.compile(r"^\s*(```|~~~)")
_SKIP_LINE = re.compile(r"^(?: {4}|\t|\s*\||\s*\[[^\]]+\]:)")
_WORD = re.compile(r"(?<![\w/.`\[])[A-Za-z]{2,}(?![\w/.`\]])")
_LINK = re.compile(r"\]\((https?://[^)\s]+)\)")


def _prose_lines(text: str) -> list[tuple[int, bool]]:
    lines, fenced, out = text.split("\n"), False, []
    for i, line in enumerate(lines):
        if _FENCE.match(line):
            fenced = not fenced
            out.append((i, False))
            continue
        out.append((i, not fenced and not _SKIP_LINE.match(line) and "http" not in line and "`" not in line))
    return out


def word_edits(text: str, rate: float, rng: random.Random, vocab: list[str]) -> str:
    """`rate` of the prose words changed: 40% swapped for another word, 35% deleted (function
    words first), the rest typos (two letters swapped)."""
    lines = text.split("\n")
    spots = [(i, m) for i, prose in _prose_lines(text) if prose for m in _WORD.finditer(lines[i])]
    if not spots:
        return text
    chosen = rng.sample(spots, max(1, round(rate * len(spots))))
    deletions = sorted(chosen, key=lambda s: s[1].group().lower() not in FUNCTION_WORDS)[: round(0.35 * len(chosen))]
    by_line: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
    for i, m in chosen:
        word = m.group()
        if (i, m) in deletions:
            new = ""
        elif rng.random() < 0.4 / 0.65:
            new = rng.choice(vocab)
        else:
            k = rng.randrange(len(word) - 1)
            new = word[:k] + word[k + 1] + word[k] + word[k + 2 :]
        by_line[i].append((m.start(), m.end(), new))
    for i, edits in by_line.items():
        line = lines[i]
        for start, end, new in sorted(edits, reverse=True):
            line = line[:start] + new + line[end:]
        lines[i] = re.sub(r"  +", " ", line)
    return "\n".join(lines)


def restyle(text: str, rng: random.Random) -> str:
    text = re.sub(r"(?m)^(\s*)\* ", r"\1- ", text) if rng.random() < 0.5 else re.sub(r"(?m)^(\s*)- ", r"\1* ", text)
    text = re.sub(r"\*\*([^*\n]+)\*\*", r"__\1__", text)
    text = text.replace("\n\n", "\n\n\n")
    return text.replace("\n", "\r\n") if rng.random() < 0.5 else text


def plant(post: dict, rng: random.Random, vocab: list[str], removal: bool, rate: float) -> str:
    paragraphs = post["text"].split("\n\n")
    rest = " ".join(paragraphs[1:]).split()
    # (Not where the first paragraph is most of the post: nothing of it would be left to find.)
    if removal and 2 * len(rest) >= len(post["text"].split()) and not _FENCE.match(paragraphs[0]):
        paragraphs = paragraphs[1:]
    text = rng.choice(INTROS) + "\n\n" + "\n\n".join(paragraphs)
    text = word_edits(text, rate, rng, vocab)
    text = _LINK.sub(lambda m: f"]({m.group(1)}{'&' if '?' in m.group(1) else '?'}utm_source=newsletter&utm_medium=email)", text)
    return restyle(text, rng)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--copies", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    from housevoice.curate.clean import CleanSettings, clean_frame
    from housevoice.curate.duplicates import DuplicateFlagger

    rng = random.Random(args.seed)
    records = [json.loads(line) for line in (args.corpus / "records.jsonl").open(encoding="utf-8") if line.strip()]
    labels = {row["id"]: row for row in map(json.loads, (args.corpus / "labels.jsonl").open(encoding="utf-8"))}
    copies_of_something = {i for i, lab in labels.items() if lab.get("exact_dup_of") or lab.get("near_dup_of")}
    originals = [r for r in records if r["id"] not in copies_of_something and len(r["text"].split()) >= 50 and r.get("kind", "post") == "post"]
    vocab = [w for r in originals for w in _WORD.findall(r["text"]) if w.islower()]
    planted = []
    for n in range(args.copies):
        post = rng.choice(originals)
        removal, rate = n % 2 == 0, (0.03, 0.06, 0.10)[n % 3]
        when = datetime.fromisoformat(post["published_at"]) + timedelta(days=rng.randint(1, 700)) if post.get("published_at") else None
        planted.append({**post, "id": f"stress-{n}", "text": plant(post, rng, vocab, removal, rate),
                        "published_at": when.isoformat() if when else None, "_source": post["id"], "_removal": removal,
                        "_rate": rate, "_words": len(post["text"].split())})
    rows = records + planted
    frame = pl.DataFrame(
        {
            "record_id": [r["id"] for r in rows], "text": [r["text"] for r in rows], "title": [r.get("title") for r in rows],
            "kind": [r.get("kind", "post") for r in rows], "author": [r.get("author") for r in rows],
            "source": [r.get("source") or "" for r in rows],
            "published_at": [datetime.fromisoformat(r["published_at"]) if r.get("published_at") else None for r in rows],
        }
    )
    cleaned = clean_frame(frame, CleanSettings())
    result = DuplicateFlagger().flag(cleaned)
    flagged = set(result.flags["record_id"].to_list())
    group = dict(result.columns.iter_rows())
    found = {p["id"]: p["id"] in flagged and group.get(p["id"]) is not None and group.get(p["id"]) == group.get(p["_source"]) for p in planted}

    def recall(members: list[dict]) -> str:
        return f"{sum(found[p['id']] for p in members) / len(members):.3f} ({sum(found[p['id']] for p in members)}/{len(members)})" if members else "-"

    print(f"corpus {args.corpus}: {len(records)} records, {len(planted)} planted re-posts (seed {args.seed})")
    print(f"recall, all planted copies: {recall(planted)}")
    for removal in (False, True):
        for rate in (0.03, 0.06, 0.10):
            part = [p for p in planted if p["_removal"] == removal and p["_rate"] == rate]
            print(f"  new intro{' + first paragraph removed' if removal else ''}, {rate:.0%} words changed: {recall(part)}")
    for low, high in ((50, 150), (150, 400), (400, 10**9)):
        part = [p for p in planted if low <= p["_words"] < high]
        print(f"  posts of {low}–{high if high < 10**9 else '…'} words: {recall(part)}")
    alarms = [r for r in flagged if not r.startswith("stress-") and not (labels.get(r, {}).get("exact_dup_of") or labels.get(r, {}).get("near_dup_of"))]
    print(f"false alarms (flagged, neither planted nor labelled a copy): {len(alarms)}")


if __name__ == "__main__":
    main()
