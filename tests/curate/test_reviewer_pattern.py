"""reviewer_pattern: once people have decided enough records, new ones like those they rejected are flagged."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

import polars as pl
import pytest

from housevoice.curate.pipeline import curate
from housevoice.ingest import ingest_sources
from housevoice.schema import DECISIONS
from housevoice.store import Workspace

# Two kinds of writing: sales copy reviewers reject, essays in the author's voice they approve.
PITCH = [
    "Buy the premium plan today and save forty percent on every seat.",
    "Limited offer: upgrade now and unlock exclusive bonus features for your whole team.",
    "Act fast, this discount ends on Friday at midnight.",
    "Sign up for our webinar and claim a free trial of the enterprise bundle.",
    "Our award-winning platform boosts conversions and maximizes your revenue.",
    "Click to subscribe and get the best deal of the season.",
    "Order the starter pack now with free shipping and a money-back guarantee.",
]
ESSAY = [
    "I spent the winter rewriting the parser, and it taught me patience more than syntax.",
    "What surprised me most was how often the slow path turned out to be the common one.",
    "We argued about error messages for weeks before admitting that nobody reads them twice.",
    "My grandmother kept a notebook of every recipe she ruined, which is how I learned to debug.",
    "There is a quiet pleasure in deleting code that nobody will miss.",
    "Looking back, the migration went wrong in the planning meeting, not in production.",
    "I still think the first draft of an idea should be written by hand.",
]


def _text(pool: list[str], rng: random.Random) -> str:
    return " ".join(rng.sample(pool, 5))


@pytest.fixture
def decided(tmp_path, workspace):
    """80 records, 60 of them decided by people (pitches rejected, essays approved), 20 undecided."""
    rng = random.Random(7)
    rows = []
    for n in range(40):
        rows.append({"id": f"pitch-{n}", "title": f"Offer {n}", "author": "Ana", "date": "2024-01-01", "text": _text(PITCH, rng)})
        rows.append({"id": f"essay-{n}", "title": f"Notes {n}", "author": "Ana", "date": "2024-01-01", "text": _text(ESSAY, rng)})
    path = tmp_path / "posts.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ingest_sources(workspace, [path])
    ids = dict(workspace.read_table("records").select("source_key", "record_id").iter_rows())
    return workspace, ids


def _decide(ws, ids, keys: list[str], origin: str = "label-studio:1/{}") -> None:
    rows = pl.DataFrame(
        {
            "record_id": [ids[k] for k in keys],
            "decision": ["reject" if k.startswith("pitch") else "approve" for k in keys],
            "edited_text": None,
            "comment": "",
            "reviewer": "ana",
            "decided_at": datetime(2026, 1, 2, tzinfo=UTC),
            "origin": [origin.format(i) for i in range(len(keys))],
        },
        schema=DECISIONS,
    )
    ws.append_table("decisions", rows)


def _pattern_flags(ws, ids) -> dict[str, dict]:
    by_id = {v: k for k, v in ids.items()}
    flags = ws.read_table("curated").select("record_id", "flags").explode("flags").drop_nulls("flags").unnest("flags")
    return {by_id[r["record_id"]]: r for r in flags.filter(pl.col("name") == "reviewer_pattern").iter_rows(named=True)}


def test_new_records_like_rejected_ones_are_flagged_with_their_score(decided, monkeypatch):
    import housevoice.curate.reviewer_pattern as reviewer_pattern

    monkeypatch.setattr(reviewer_pattern, "_CHUNK", 3)  # undecided texts are scored a few at a time
    ws, ids = decided
    _decide(ws, ids, [f"pitch-{n}" for n in range(30)] + [f"essay-{n}" for n in range(30)])
    curate(ws)
    flagged = _pattern_flags(ws, ids)
    undecided_pitches = {f"pitch-{n}" for n in range(30, 40)}
    assert set(flagged) == undecided_pitches  # no essay, and nothing people already decided
    for row in flagged.values():
        assert 0.7 <= row["score"] <= 1.0
        assert "learned from 30 rejections and 30 approvals" in row["detail"]
        assert f"{row['score']:.0%} likely to be rejected" in row["detail"]
    routes = dict(ws.read_table("curated").select("record_id", "route").iter_rows())
    assert {routes[ids[k]] for k in undecided_pitches} == {"review"}


def test_off_until_enough_decisions_of_both_kinds(decided):
    ws, ids = decided
    _decide(ws, ids, [f"pitch-{n}" for n in range(10)] + [f"essay-{n}" for n in range(10)])
    curate(ws)
    assert _pattern_flags(ws, ids) == {}  # 20 decisions: fewer than min_decisions (30)
    config = ws.root / "housevoice.toml"
    config.write_text(config.read_text() + "\n[curate.reviewer_pattern]\nmin_per_class = 11\n")
    ws = Workspace.open(ws.root)  # as the next command would
    _decide(ws, ids, [f"essay-{n}" for n in range(10, 30)])
    curate(ws)
    assert _pattern_flags(ws, ids) == {}  # 40 decisions, but 10 rejections of the 11 asked for
    _decide(ws, ids, ["pitch-10"])
    curate(ws)
    assert set(_pattern_flags(ws, ids)) == {f"pitch-{n}" for n in range(11, 40)}


def test_rule_decisions_are_not_peoples_judgement(decided):
    ws, ids = decided
    _decide(ws, ids, [f"pitch-{n}" for n in range(30)] + [f"essay-{n}" for n in range(30)], origin="rule:exact_duplicate:{}")
    curate(ws)
    assert _pattern_flags(ws, ids) == {}
