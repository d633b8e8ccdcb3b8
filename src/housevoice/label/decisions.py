"""The decisions log read as people use it: latest decision per record, rule decisions, the training set."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from housevoice.config import CurateConfig
from housevoice.schema import DECISIONS
from housevoice.store import Workspace


def _open(workspace: Workspace | Path | str) -> Workspace:
    return workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)


def latest_decisions(workspace: Workspace | Path | str) -> pl.DataFrame:
    """One row per record: its latest human decision, or its latest rule decision when no person decided.

    A rule decision never supersedes a person's, so re-running curation cannot undo a review.
    """
    ws = _open(workspace)
    log = ws.read_table("decisions").with_row_index("_row")
    return (
        log.with_columns(pl.col("origin").str.starts_with("rule:").not_().alias("_human"))
        .sort(["_human", "_row"])
        .group_by("record_id", maintain_order=True)
        .last()
        .sort("_row")
        .drop("_row", "_human")
    )


def _rule_rows(curated: pl.DataFrame, records: pl.DataFrame, config: CurateConfig) -> pl.DataFrame:
    """keep -> approve, drop -> reject, named after the flag that decided it (`rule:no_flags` when none)."""
    decided = curated.filter(pl.col("route").is_in(["keep", "drop"])).join(
        records.select("record_id", "kind"), on="record_id", how="left", maintain_order="left"
    )
    names = []
    for route, kind, flags in zip(decided["route"], decided["kind"], decided["flags"].to_list(), strict=True):
        match = [f["name"] for f in flags or [] if config.route_of(f["name"], kind) == route]
        names.append(match[0] if match else ("no_flags" if not flags else route))
    return decided.select(
        "record_id",
        pl.when(pl.col("route") == "keep").then(pl.lit("approve")).otherwise(pl.lit("reject")).alias("decision"),
    ).with_columns(pl.Series("origin", [f"rule:{n}" for n in names], dtype=pl.String))


def record_rule_decisions(workspace: Workspace | Path | str) -> int:
    """Append a `rule:<name>` decision for each keep/drop record whose rule decision is new or changed."""
    ws = _open(workspace)
    if not ws.has_table("curated"):
        return 0
    with ws.lock():
        rules = _rule_rows(ws.read_table("curated"), ws.read_table("records"), ws.config.curate)
        log = ws.read_table("decisions").filter(pl.col("origin").str.starts_with("rule:"))
        last = log.group_by("record_id", maintain_order=True).last().select("record_id", "decision", "origin")
        new = rules.join(last, on=["record_id", "decision", "origin"], how="anti")
        if new.is_empty():
            return 0
        now = datetime.now(UTC)
        rows = new.with_columns(
            pl.lit(None, pl.String).alias("edited_text"),
            pl.lit("routed by curation").alias("comment"),
            pl.lit("housevoice").alias("reviewer"),
            pl.lit(now, DECISIONS["decided_at"]).alias("decided_at"),
        )
        ws.append_table("decisions", rows)
        return len(rows)


def training_records(workspace: Workspace | Path | str) -> pl.DataFrame:
    """What to train on: records a person approved (their edited text where given) + records curation kept.

    Columns: record_id, text, origin. A person's rejection removes a record even when curation kept it.
    """
    ws = _open(workspace)
    curated = ws.read_table("curated").select("record_id", "clean_text", "route")
    latest = latest_decisions(ws).with_columns(pl.col("origin").str.starts_with("rule:").alias("by_rule"))
    joined = curated.join(latest.select("record_id", "decision", "edited_text", "origin", "by_rule"), on="record_id", how="left")
    by_person = pl.col("by_rule").not_().fill_null(False)
    # a rule decision only echoes a route; the current route decides, so re-curation takes effect
    chosen = joined.filter(pl.when(by_person).then(pl.col("decision") == "approve").otherwise(pl.col("route") == "keep"))
    return chosen.select(
        "record_id",
        pl.when(pl.col("edited_text").str.strip_chars().str.len_chars() > 0)
        .then(pl.col("edited_text")).otherwise(pl.col("clean_text")).alias("text"),
        pl.col("origin").fill_null(pl.lit("curation:keep")).alias("origin"),
    )


@dataclass
class DecisionSummary:
    latest: pl.DataFrame
    by_decision: dict[str, int]
    by_origin: dict[str, int]  # "people" / "rules"
    log_rows: int
    training: int
    awaiting_review: int


def decision_summary(workspace: Workspace | Path | str) -> DecisionSummary:
    """Counts for `housevoice decisions`: latest decision per record, the training set, what still waits."""
    ws = _open(workspace)
    latest = latest_decisions(ws)
    people = latest.filter(~pl.col("origin").str.starts_with("rule:"))
    curated = ws.read_table("curated")
    waiting = curated.filter(pl.col("route") == "review").join(people, on="record_id", how="anti")
    return DecisionSummary(
        latest=latest,
        by_decision=dict(latest["decision"].value_counts().sort("decision").iter_rows()),
        by_origin={"people": len(people), "rules": len(latest) - len(people)},
        log_rows=len(ws.read_table("decisions")),
        training=len(training_records(ws)),
        awaiting_review=len(waiting),
    )
