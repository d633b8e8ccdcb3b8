"""What SFT learns from: keep + approved (edited) − rejected, prompts per kind, long records split, not cut."""

from __future__ import annotations

import polars as pl

from housevoice.tune.datasets import record_prompt, split_to_fit, training_records, turn_contexts
from housevoice.tune.settings import TuneSettings


def test_training_set_is_keep_plus_approved_minus_rejected(tune_ws, tune_template):
    decided = tune_template[1]
    frame = training_records(tune_ws)
    ids = set(frame["record_id"].to_list())
    curated = tune_ws.read_table("curated")
    keep = set(curated.filter(pl.col("route") == "keep")["record_id"].to_list())
    assert decided["rejected"] not in ids
    assert keep - {decided["rejected"]} <= ids
    if decided["approved"]:
        approved = frame.filter(pl.col("record_id") == decided["approved"]).row(0, named=True)
        assert approved["text"].startswith("An edited post")


def test_a_later_decision_supersedes_an_earlier_one(tune_ws, tune_template):
    from datetime import datetime, timezone

    rejected = tune_template[1]["rejected"]
    tune_ws.append_table("decisions", pl.DataFrame([{
        "record_id": rejected, "decision": "approve", "edited_text": None, "comment": "on second thought",
        "reviewer": "dana", "decided_at": datetime.now(timezone.utc), "origin": "label-studio:1/9"}]))
    assert rejected in training_records(tune_ws)["record_id"].to_list()


def test_prompts_name_the_title_or_continue_the_conversation(tune_ws):
    settings = TuneSettings()
    assert record_prompt({"kind": "post", "title": "Notes on testing"}, settings) == 'Write a blog post titled "Notes on testing".'
    contexts = turn_contexts(tune_ws, settings)
    records = tune_ws.read_table("records").filter(pl.col("kind") == "transcript_turn").sort("source_key")
    third = records.filter(pl.col("source_key") == "ep1#turn-2").row(0, named=True)
    prompt = record_prompt(third, settings, contexts[third["record_id"]])
    assert prompt.startswith("Continue the conversation as Ana.")
    assert "Ana: Welcome back to the show." in prompt and "Ben: Thanks for having me." in prompt
    assert "What was the first thing" not in prompt  # the turn itself is the answer, not the context


def test_long_text_is_split_at_paragraphs_without_losing_words():
    paragraphs = [" ".join(f"w{p}_{i}" for i in range(30)) for p in range(5)]
    text = "\n\n".join(paragraphs)
    parts = split_to_fit(text, 70, lambda t: len(t.split()))
    assert len(parts) == 3
    assert all(len(p.split()) <= 70 for p in parts)
    assert parts[0] == "\n\n".join(paragraphs[:2])
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())
