"""The data contracts (see DESIGN.md) as polars schemas and small dataclasses."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

RECORDS = pl.Schema(
    {
        "record_id": pl.String,
        "source_key": pl.String,
        "source": pl.String,
        "kind": pl.String,
        "author": pl.String,
        "title": pl.String,
        "text": pl.String,
        "published_at": pl.Datetime("us"),
        "url": pl.String,
        "status": pl.String,
        "meta": pl.String,
    }
)

FLAG = pl.Struct({"name": pl.String, "score": pl.Float64, "detail": pl.String})

CURATED = pl.Schema(
    {
        "record_id": pl.String,
        "clean_text": pl.String,
        "flags": pl.List(FLAG),
        "dup_group": pl.String,
        "template_family": pl.String,
        "n_tokens": pl.Int64,
        "route": pl.String,
    }
)

DECISIONS = pl.Schema(
    {
        "record_id": pl.String,
        "decision": pl.String,
        "edited_text": pl.String,
        "comment": pl.String,
        "reviewer": pl.String,
        "decided_at": pl.Datetime("us", "UTC"),
        "origin": pl.String,
    }
)

PREFERENCES = pl.Schema(
    {
        "pair_id": pl.String,
        "prompt": pl.String,
        "chosen": pl.String,
        "rejected": pl.String,
        "chosen_version": pl.String,
        "rejected_version": pl.String,
        "annotator": pl.String,
        "created_at": pl.Datetime("us", "UTC"),
        "origin": pl.String,
    }
)

SAMPLES = pl.Schema(
    {
        "sample_id": pl.String,
        "prompt_id": pl.String,
        "prompt": pl.String,
        "version_id": pl.String,
        "response": pl.String,
        "params": pl.String,
        "created_at": pl.Datetime("us", "UTC"),
    }
)

# A reward model's score for each sample it read: which model (`scorer`, a reward version) said what.
SAMPLE_SCORES = pl.Schema(
    {
        "sample_id": pl.String,
        "scorer": pl.String,
        "score": pl.Float64,
        "scored_at": pl.Datetime("us", "UTC"),
    }
)

TABLES: dict[str, pl.Schema] = {
    "records": RECORDS,
    "curated": CURATED,
    "decisions": DECISIONS,
    "preferences": PREFERENCES,
    "samples": SAMPLES,
    "sample_scores": SAMPLE_SCORES,
}

FLAG_NAMES = (
    "html",
    "url",
    "exact_duplicate",
    "near_duplicate",
    "templated",
    "stale",
    "too_long",
    "too_short",
    "pii",
    "off_author",
    "not_published",
    "not_prose",
    "reviewer_pattern",
    "boilerplate",
)

ROUTES = ("keep", "review", "drop")


@dataclass(frozen=True)
class Flag:
    """One reason curation raised about a record."""

    name: str
    score: float
    detail: str
