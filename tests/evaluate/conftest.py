"""Evaluation fixtures: a curated workspace, a tiny model and one SFT version, built once per session."""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest

# One torch thread: two next to another busy process were ~10x slower (the commands run in subprocesses too).
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"

OUR_POSTS = [
    ("Why we ship small", "We ship small changes because small changes are easy to review, easy to undo and easy to explain."),
    ("Notes on testing", "A test should say what a user would check. When it fails, its name alone tells you what broke."),
    ("Our release checklist", "Every release starts with the changelog. We read it aloud, and anything we cannot explain waits."),
    ("On naming things", "Names are the first documentation anyone reads. We pick words our readers already use."),
    ("Lessons from a migration", "The migration took three weeks instead of one. The plan was fine; the estimate was a guess."),
    ("How we review code", "Review is a conversation, not a gate. We ask questions before we suggest changes."),
    ("Writing for people in a hurry", "Lead with the answer. Put the reasons after it, and the history last, if at all."),
    ("What the outage taught us", "The alert fired on time and nobody read it. We now page a person, not a channel."),
    ("Keeping meetings short", "A meeting without a written question at the top is a meeting we cancel."),
    ("The case for boring tools", "Boring tools fail in ways we have seen before, which makes them cheap to run."),
]
GUEST_POSTS = [
    ("Synergy in the enterprise", "Leveraging cross-functional synergies unlocks unprecedented value for stakeholders across verticals."),
    ("Ten hacks for growth", "These ten amazing growth hacks will absolutely transform your funnel overnight, guaranteed!"),
    ("Thought leadership 101", "Thought leaders disrupt paradigms by curating best-in-class narratives at scale."),
    ("The future of everything", "In the future, everything will be different, and visionary brands will own that difference."),
    ("Maximize your impact", "Maximize impact by aligning holistic deliverables with mission-critical KPIs today."),
    ("Growth mindset unlocked", "Unlock exponential growth with our proven, award-winning, revolutionary mindset framework."),
]
TARGET = "Sam Writer"


SECOND_PARAGRAPHS = [
    "Our first big release took a month to untangle. Since then nothing goes out that two of us cannot read in one sitting.",
    "We keep the slow tests too, but they run at night. The quick ones run before every push, on every laptop.",
    "The checklist is one page. When it grows past one page we cut something, usually a step nobody remembers adding.",
    "A good name survives a conversation with someone from sales. A bad one needs a glossary and an apology.",
    "Next time we will move one table first and watch it for a week before we touch the rest of the schema.",
    "When a reviewer is unsure, they say so. Guessing in a review costs more than asking in one.",
    "Most readers stop after the first paragraph, so that paragraph has to carry the whole message by itself.",
    "Nobody was careless. The channel was simply too loud, and a loud channel is the same as a silent one.",
    "If the question is answered in the first ten minutes, everyone leaves early, and nobody has ever complained.",
    "New tools are fun for a week. After that we pay for every surprise, usually at three in the morning.",
]


def _body(i: int, lead: str) -> str:
    return f"{lead}\n\n{SECOND_PARAGRAPHS[i]}"


def _write_corpus(path: Path) -> Path:
    rows = [{"id": f"ours-{i}", "title": t, "text": _body(i, lead), "author": TARGET, "status": "publish",
             "published_at": f"2023-0{1 + i % 9}-10", "kind": "post"} for i, (t, lead) in enumerate(OUR_POSTS)]
    rows += [{"id": f"guest-{i}", "title": t, "text": f"{lead} {lead}", "author": "Guest Author", "status": "publish",
              "published_at": f"2023-0{1 + i % 9}-12", "kind": "post"} for i, (t, lead) in enumerate(GUEST_POSTS)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _reject_two_of_ours(ws) -> list[str]:
    """An expert rejects two posts of the target author: they stay out of training, so they are held out."""
    curated = ws.read_table("curated").join(ws.read_table("records").select("record_id", "author"), on="record_id")
    ours = curated.filter(pl.col("author") == TARGET).sort("record_id")["record_id"].to_list()[:2]
    now = datetime.now(timezone.utc)
    ws.append_table("decisions", pl.DataFrame([
        {"record_id": r, "decision": "reject", "edited_text": None, "comment": "kept for evaluation",
         "reviewer": "dana", "decided_at": now, "origin": "label-studio:1/1"} for r in ours]))
    return ours


@pytest.fixture(scope="session")
def eval_template(tmp_path_factory) -> dict:
    """A workspace with an SFT version of a tiny model, and that model; copy the workspace before writing."""
    import torch

    from housevoice.curate.pipeline import curate
    from housevoice.ingest import ingest_sources
    from housevoice.store import Workspace
    from housevoice.tune.sft import run_sft
    from housevoice.tune.tiny import build_tiny_model

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("evaluate") / "ws"
    ws = Workspace.create(root)
    ingest_sources(ws, [_write_corpus(root.parent / "corpus.jsonl")])
    curate(ws, target_author=TARGET)
    held_out = _reject_two_of_ours(ws)
    model = build_tiny_model(root.parent / "tiny", workspace=ws, vocab_size=1024, hidden_size=64, layers=2)
    sft = run_sft(ws, str(model.path), epochs=1, max_length=128)
    return {"root": root, "model": model.path, "sft": sft.version_id, "held_out": held_out}


@pytest.fixture
def eval_ws(eval_template, tmp_path) -> dict:
    """A fresh copy of the template workspace for one test (the model folder is shared, read-only)."""
    root = tmp_path / "ws"
    shutil.copytree(eval_template["root"], root)
    return {**eval_template, "root": root}
