"""Expert review round trip: push flagged records, reviewers decide in Label Studio, pull into `decisions`."""

from __future__ import annotations

import os
import signal
from datetime import timedelta

import polars as pl
import pytest

from housevoice.errors import HousevoiceError
from housevoice.label.client import LabelStudio, PullMark, save_pull
from housevoice.label.decisions import latest_decisions, training_records
from housevoice.label.review import REVIEW_CONFIG, pull_review, push_review, review_project_title

pytestmark = pytest.mark.slow


def review(client: LabelStudio, ws, decide: dict[str, list[dict]]) -> dict[str, int]:
    """A scripted reviewer: one annotation per record through the API; returns record_id -> annotation id."""
    project = client.project(review_project_title(ws), REVIEW_CONFIG)
    tasks = {t["data"]["record_id"]: t["id"] for t in client.tasks(project["id"], include="id,data")}
    return {rid: client.create_annotation(tasks[rid], result)["id"] for rid, result in decide.items()}


def choice(value: str, edited: str | None = None, comment: str | None = None) -> list[dict]:
    out = [{"from_name": "decision", "to_name": "clean_text", "type": "choices", "value": {"choices": [value]}}]
    if edited:
        out.append({"from_name": "edited_text", "to_name": "clean_text", "type": "textarea", "value": {"text": [edited]}})
    if comment:
        out.append({"from_name": "comment", "to_name": "clean_text", "type": "textarea", "value": {"text": [comment]}})
    return out


def test_review_round_trip_builds_the_training_set(team_ws, cli):
    curated = team_ws.read_table("curated")
    to_review = curated.filter(pl.col("route") == "review")["record_id"].to_list()
    kept = curated.filter(pl.col("route") == "keep")["record_id"].to_list()
    out = cli("label", "review", "push", team_ws.root, check=True).stdout
    assert f"pushed {len(to_review)} records" in out and "next: housevoice label review pull" in out
    again = cli("label", "review", "push", team_ws.root, check=True).stdout
    assert f"pushed 0 records; {len(to_review)} were pushed before" in again

    client = LabelStudio.for_workspace(team_ws)
    approved, rejected, *rest = to_review
    review(client, team_ws, {approved: choice("approve", edited="Closed on Monday for the holiday."),
                             rejected: choice("reject", comment="not our voice")})
    out = cli("label", "review", "pull", team_ws.root, check=True).stdout
    assert "2 new or changed" in out and "next: housevoice decisions" in out
    before = team_ws.read_table("decisions")
    assert "0 new or changed" in cli("label", "review", "pull", team_ws.root, check=True).stdout
    assert team_ws.read_table("decisions").equals(before)

    latest = latest_decisions(team_ws)
    row = latest.filter(pl.col("record_id") == rejected).row(0, named=True)
    assert row["decision"] == "reject" and row["comment"] == "not our voice"
    assert row["reviewer"] == "admin@housevoice.local" and row["origin"].startswith("label-studio:")
    assert set(latest.filter(pl.col("origin").str.starts_with("rule:"))["record_id"]) == set(kept)
    train = training_records(team_ws)
    assert set(train["record_id"]) == {*kept, approved}
    assert train.filter(pl.col("record_id") == approved)["text"].item() == "Closed on Monday for the holiday."
    assert rest and not set(rest) & set(train["record_id"])

    out = cli("decisions", team_ws.root, check=True).stdout
    assert f"training set: {len(kept) + 1} records; {len(rest)} records still await review" in out


def test_changed_annotation_supersedes_without_losing_the_old_row(team_ws):
    push_review(team_ws)
    client = LabelStudio.for_workspace(team_ws)
    rid = team_ws.read_table("curated").filter(pl.col("route") == "review")["record_id"][0]
    ann = review(client, team_ws, {rid: choice("approve")})[rid]
    pull_review(team_ws)
    client.update_annotation(ann, choice("reject", comment="on second thought"))
    summary = pull_review(team_ws)
    assert summary.appended == 1
    log = team_ws.read_table("decisions").filter(pl.col("record_id") == rid)
    assert log["decision"].to_list() == ["approve", "reject"]
    assert latest_decisions(team_ws).filter(pl.col("record_id") == rid)["decision"].item() == "reject"
    assert push_review(team_ws).pushed == 0  # decided records are not re-sent


def test_malformed_annotation_is_skipped_and_named(team_ws):
    push_review(team_ws)
    client = LabelStudio.for_workspace(team_ws)
    rid = team_ws.read_table("curated").filter(pl.col("route") == "review")["record_id"][0]
    review(client, team_ws, {rid: choice("maybe")})
    summary = pull_review(team_ws)
    assert summary.appended == 0 and rid in summary.invalid[0]


def test_server_dying_mid_pull_leaves_decisions_as_before(team_ws, live_server, digest):
    push_review(team_ws)
    client = LabelStudio.for_workspace(team_ws)
    ids = team_ws.read_table("curated").filter(pl.col("route") == "review")["record_id"].to_list()
    review(client, team_ws, {rid: choice("approve") for rid in ids})
    before = digest(team_ws.root / "tables")

    def kill_after_first_batch(done: int, total: int) -> None:
        from housevoice.label.server import running_server

        os.killpg(running_server(live_server.ws)["pid"], signal.SIGKILL)

    with pytest.raises(HousevoiceError, match="cannot reach Label Studio"):
        pull_review(team_ws, batch=1, progress=kill_after_first_batch)
    assert digest(team_ws.root / "tables") == before

    live_server.restart()
    assert pull_review(team_ws).appended == len(ids)  # resuming picks up everything


def test_annotation_made_during_a_pull_arrives_with_the_next(team_ws):
    push_review(team_ws)
    client = LabelStudio.for_workspace(team_ws)
    first, *others = team_ws.read_table("curated").filter(pl.col("route") == "review")["record_id"].to_list()
    review(client, team_ws, {first: choice("approve")})

    def reviewer_meanwhile(done: int, total: int) -> None:
        if done == 1:
            review(client, team_ws, {rid: choice("reject") for rid in others})

    pull_review(team_ws, batch=1, progress=reviewer_meanwhile)
    pull_review(team_ws)
    latest = latest_decisions(team_ws).filter(~pl.col("origin").str.starts_with("rule:"))
    assert dict(latest.select("record_id", "decision").iter_rows()) == {first: "approve", **{r: "reject" for r in others}}


def test_malformed_annotation_is_named_again_on_the_next_pull(team_ws):
    push_review(team_ws)
    client = LabelStudio.for_workspace(team_ws)
    bad, good = team_ws.read_table("curated").filter(pl.col("route") == "review")["record_id"].to_list()[:2]
    review(client, team_ws, {bad: choice("maybe")})
    pull_review(team_ws)
    review(client, team_ws, {good: choice("approve")})
    summary = pull_review(team_ws)
    assert summary.appended == 1 and len(summary.invalid) == 1 and bad in summary.invalid[0]


def test_pull_reads_what_changed_since_the_last_and_everything_when_the_log_was_replaced(team_ws, cli):
    push_review(team_ws)
    client = LabelStudio.for_workspace(team_ws)
    project = client.project(review_project_title(team_ws), REVIEW_CONFIG)
    ids = team_ws.read_table("curated").filter(pl.col("route") == "review")["record_id"].to_list()
    anns = review(client, team_ws, {rid: choice("approve") for rid in ids})
    assert pull_review(team_ws).appended == len(ids)

    def last_pull_long_after_these_annotations() -> None:
        save_pull(team_ws, client.conn, project, PullMark(client.server_time() + timedelta(hours=1), len(ids), {}))

    last_pull_long_after_these_annotations()
    client.update_annotation(anns[ids[0]], choice("reject"))  # Label Studio marks its task as changed now
    again = pull_review(team_ws)
    assert again.appended == 0 and again.annotations == len(ids)  # unchanged tasks are not read, yet counted
    out = cli("label", "review", "pull", team_ws.root, "--full", check=True).stdout
    assert f"{len(ids)} annotations in project" in out and "1 new or changed" in out

    last_pull_long_after_these_annotations()
    team_ws.write_table("decisions", team_ws.read_table("decisions").head(0))
    assert pull_review(team_ws).appended == len(ids)
