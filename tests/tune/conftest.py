"""Tuning fixtures: one workspace (real ingest and curate) and one tiny model, built once per session."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest

# Two torch threads next to another busy process were ~10x slower than one (and the commands run in subprocesses).
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"

TOPICS = [
    ("Why we ship small", "We ship small changes because small changes are easy to review, easy to undo and easy to explain."),
    ("Notes on testing", "A test should say what a user would check. When it fails, the name alone should tell you what broke."),
    ("Our release checklist", "Every release starts with the changelog. We read it aloud, and anything we cannot explain waits."),
    ("On naming things", "Names are the first documentation anyone reads. We pick words our readers already use."),
    ("Lessons from a migration", "The migration took three weeks instead of one. The plan was fine; the estimate was a guess."),
    ("How we review code", "Review is a conversation, not a gate. We ask questions before we suggest changes."),
    ("Writing for people in a hurry", "Lead with the answer. Put the reasons after it, and the history last, if at all."),
    ("What the outage taught us", "The alert fired on time and nobody read it. We now page a person, not a channel."),
    ("Keeping meetings short", "A meeting without a written question at the top is a meeting we cancel."),
    ("The case for boring tools", "Boring tools fail in ways we have seen before, which makes them cheap to run."),
    ("Holding the line on scope", "Every feature we add is a feature we answer for. We say no kindly and often."),
    ("A year of on-call", "On-call got quieter when we fixed the alerts that woke us twice for the same cause."),
]

TURNS = [
    ("Ana", "Welcome back to the show. Today we talk about small releases and why they calm everyone down."),
    ("Ben", "Thanks for having me. Small releases changed how our whole team sleeps at night, honestly."),
    ("Ana", "What was the first thing you changed when you moved from monthly to daily releases?"),
    ("Ben", "We stopped batching fixes. Every fix went out the day it was reviewed, with a note in the changelog."),
    ("Ana", "And did the number of incidents go down, or did you just notice them sooner than before?"),
    ("Ben", "Both. We noticed sooner, and each one was smaller, so the fix was usually a one-line revert."),
]


def body(title: str, lead: str) -> str:
    return (f"{lead}\n\n"
            f"This is something we learned the slow way. {title} is a habit, not a rule, and habits take "
            f"practice: we write them down, we try them for a month, and we keep what worked.\n\n"
            f"If you want to try it, start with one team and one week. Tell us what you find.")


def write_corpus(path: Path) -> Path:
    rows = []
    for i, (title, lead) in enumerate(TOPICS):
        rows.append({"id": f"post-{i}", "title": title, "text": body(title, lead), "author": "Sam Writer",
                     "published_at": f"2023-0{1 + i % 9}-1{i % 9}", "status": "publish", "kind": "post"})
    rows.append({**rows[0], "id": "post-copy"})  # an exact duplicate of the first post
    rows.append({"id": "draft-1", "title": "Unfinished thoughts on pricing", "text": body("Pricing", "Pricing is hard to talk about and we have not decided anything yet."),
                 "author": "Sam Writer", "published_at": "2023-05-01", "status": "draft", "kind": "post"})
    for i, (speaker, text) in enumerate(TURNS):
        rows.append({"id": f"ep1#turn-{i}", "title": "Episode 1: Small releases", "text": text, "author": speaker,
                     "published_at": "2023-06-01", "status": "publish", "kind": "transcript_turn",
                     "episode": "ep1", "turn_index": i})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _decide(ws) -> dict[str, str]:
    """An expert approves one record under review (with an edit) and rejects one kept record."""
    curated = ws.read_table("curated").sort("record_id")
    review = curated.filter(pl.col("route") == "review")["record_id"].to_list()
    keep = curated.filter(pl.col("route") == "keep")["record_id"].to_list()
    now = datetime.now(timezone.utc)
    rows = [{"record_id": keep[0], "decision": "reject", "edited_text": None, "comment": "off topic",
             "reviewer": "dana", "decided_at": now, "origin": "label-studio:1/1"}]
    if review:
        rows.append({"record_id": review[0], "decision": "approve", "edited_text": "An edited post, in our voice.\n\nIt is short.",
                     "comment": "", "reviewer": "dana", "decided_at": now, "origin": "label-studio:1/2"})
    ws.append_table("decisions", pl.DataFrame(rows))
    return {"rejected": keep[0], "approved": review[0] if review else ""}


def _preferences(ws) -> None:
    good = ["We ship small because small changes are easy to review and easy to undo.",
            "Lead with the answer. Put the reasons after it.", "A test should say what a user would check."]
    bad = ["buy now buy now", "lorem ipsum dolor sit", "click here!!!"]
    prompts = ['Write a blog post titled "Unfinished thoughts on pricing".', "Write a blog post about testing."]
    now = datetime.now(timezone.utc)
    rows = [{"pair_id": f"pair-{i}", "prompt": p, "chosen": g, "rejected": b, "chosen_version": "sft-a",
             "rejected_version": "sft-a", "annotator": "ann", "created_at": now, "origin": "import:test.jsonl"}
            for i, (p, g, b) in enumerate((p, g, b) for p in prompts for g in good for b in bad)]
    ws.append_table("preferences", pl.DataFrame(rows))


@pytest.fixture(scope="session")
def tune_template(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A workspace with records, curation, review decisions and preference pairs; copy it before writing."""
    from housevoice.curate.pipeline import curate
    from housevoice.ingest import ingest_sources
    from housevoice.store import Workspace

    root = tmp_path_factory.mktemp("tune") / "ws"
    ws = Workspace.create(root)
    ingest_sources(ws, [write_corpus(root.parent / "corpus.jsonl")])
    curate(ws)
    decided = _decide(ws)
    _preferences(ws)
    return root, decided


@pytest.fixture(scope="session")
def tiny_model(tune_template, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("models") / "tiny"
    proc = subprocess.run([sys.executable, "-m", "housevoice", "model", "tiny", str(out), "--from", str(tune_template[0])],
                          capture_output=True, text=True, env=dict(os.environ, HF_HUB_OFFLINE="1"), timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == str(out)
    assert "%|" not in proc.stdout + proc.stderr  # no library progress bars beside the command's own lines
    return out


@pytest.fixture
def tune_ws(tune_template, tmp_path):
    """A fresh copy of the template workspace for one test."""
    from housevoice.store import Workspace

    root = tmp_path / "ws"
    shutil.copytree(tune_template[0], root)
    return Workspace.open(root)
