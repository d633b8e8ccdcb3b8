"""Preference ranking: tasks from samples, rankings expanded to pairs, file imports, agreement."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import polars as pl
import pytest

from housevoice.errors import HousevoiceError, SourceError
from housevoice.label.agreement import agreement_report, require_agreement
from housevoice.label.client import LabelStudio
from housevoice.label.ranking import (
    LIST_CONFIG, PAIR_CONFIG, import_rankings, project_titles, pull_rankings, push_rankings, ranked_pairs,
)
from housevoice.schema import SAMPLES

pytestmark = pytest.mark.slow


def write_samples(ws) -> None:
    rows = []
    for p in range(3):
        for v in ("v1", "v2", "v3"):
            rows.append({"sample_id": f"s{p}{v}", "prompt_id": f"q{p}", "prompt": f"Prompt {p}", "version_id": v,
                         "response": f"answer {p} from {v}", "params": "{}", "created_at": datetime.now(UTC)})
    ws.write_table("samples", pl.DataFrame(rows, schema=SAMPLES))


def test_ranking_of_n_becomes_its_pairs_and_ties_stay_ties():
    assert ranked_pairs([["a"], ["b"], ["c"]]) == [("a", "b"), ("a", "c"), ("b", "c")]
    assert ranked_pairs([["a", "b"], ["c"]]) == [("a", "c"), ("b", "c")]
    assert ranked_pairs([["a", "b"]]) == []


def test_rank_round_trip_pairs_and_lists(team_ws, cli):
    write_samples(team_ws)
    out = cli("label", "rank", "push", team_ws.root, "--versions", "v1", "--versions", "v2", check=True).stdout
    assert "pushed 3 pairwise and 0 list tasks" in out
    out = cli("label", "rank", "push", team_ws.root, "--versions", "v1", "--versions", "v2", "--versions", "v3", check=True).stdout
    assert "pushed 0 pairwise and 3 list tasks" in out
    assert "3 pushed before" in cli("label", "rank", "push", team_ws.root, "--versions", "v1", "--versions", "v2", check=True).stdout

    client = LabelStudio.for_workspace(team_ws)
    titles = project_titles(team_ws)
    pairs = client.project(titles["pairs"], PAIR_CONFIG)
    lists = client.project(titles["lists"], LIST_CONFIG)
    pair_tasks = client.tasks(pairs["id"], include="id,data")
    list_tasks = client.tasks(lists["id"], include="id,data")
    assert all("version" not in json.dumps(t["data"]) for t in pair_tasks + list_tasks)
    client.create_annotation(pair_tasks[0]["id"], [{"from_name": "pref", "to_name": "answer_a,answer_b", "type": "pairwise", "value": {"selected": "left"}}])
    client.create_annotation(pair_tasks[1]["id"], [{"from_name": "tie", "to_name": "prompt", "type": "choices", "value": {"choices": ["equally good"]}}])
    order = ["r3", "r1", "r2"]
    client.create_annotation(list_tasks[0]["id"], [{"from_name": "rank", "to_name": "responses", "type": "ranker", "value": {"ranker": {"rank": order}}}])
    out = cli("label", "rank", "pull", team_ws.root, check=True).stdout
    assert "3 rankings (1 ties, no pairs): 4 new pairs" in out
    assert "0 new pairs" in cli("label", "rank", "pull", team_ws.root, check=True).stdout

    prefs = team_ws.read_table("preferences")
    samples = team_ws.read_table("samples")
    best = list_tasks[0]["data"]["samples"]["r3"]
    best_row = samples.filter(pl.col("sample_id") == best).row(0, named=True)
    from_list = prefs.filter(pl.col("chosen") == best_row["response"])
    assert len(from_list) == 2 and set(from_list["chosen_version"]) == {best_row["version_id"]}
    left = pair_tasks[0]["data"]["answer_a"]
    assert prefs.filter(pl.col("chosen") == left)["rejected"].item() == pair_tasks[0]["data"]["answer_b"]
    assert set(prefs["annotator"]) == {"admin@housevoice.local"}


def test_rank_push_names_unknown_versions(team_ws):
    write_samples(team_ws)
    with pytest.raises(HousevoiceError, match="no samples of version v9"):
        push_rankings(team_ws, ["v1", "v9"])


def write_rankings(path, lines) -> None:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))


def test_import_rankings_and_agreement(workspace, tmp_path, cli):
    responses = ["alpha", "beta", "gamma"]
    lines = [
        {"prompt": "P1", "responses": responses, "ranking": [0, 1, 2], "annotator": "ann"},
        {"prompt": "P1", "responses": responses, "ranking": [0, 1, 2], "annotator": "bob"},
        {"prompt": "P1", "responses": responses, "ranking": [2, 1, 0], "annotator": "cy"},
        {"prompt": "P2", "responses": ["x", "y"], "ranking": [[0, 1]], "annotator": "ann"},
    ]
    path = tmp_path / "rankings.jsonl"
    write_rankings(path, lines)
    out = cli("label", "rank", "import", workspace.root, path, check=True).stdout
    assert "4 rankings (1 ties, no pairs): 9 new pairs" in out
    assert "0 new pairs" in cli("label", "rank", "import", workspace.root, path, check=True).stdout
    prefs = workspace.read_table("preferences")
    assert set(prefs["origin"]) == {"file:rankings.jsonl"}
    report = agreement_report(workspace)
    assert report.overall.annotators == 3 and report.overall.shared_items == 3
    assert report.overall.pairwise == pytest.approx(1 / 3)
    assert report.overall.alpha is not None and report.overall.alpha < 0.5
    out = cli("label", "agreement", workspace.root, check=True).stdout
    assert "file:rankings.jsonl" in out and "overall alpha" in out
    with pytest.raises(HousevoiceError, match="agree too little"):
        require_agreement(workspace, 0.6)


def test_malformed_ranking_line_writes_nothing(workspace, tmp_path, digest):
    path = tmp_path / "bad.jsonl"
    write_rankings(path, [
        {"prompt": "P1", "responses": ["a", "b"], "ranking": [1, 0], "annotator": "ann"},
        {"prompt": "P1", "responses": ["a", "b"], "ranking": [1, 1], "annotator": "ann"},
    ])
    before = digest(workspace.root)
    with pytest.raises(SourceError, match=r"bad.jsonl:2: ranking \[1, 1\] is not a permutation"):
        import_rankings(workspace, path)
    write_rankings(path, ["{not json"])
    with pytest.raises(SourceError, match="bad.jsonl:1: not valid JSON"):
        import_rankings(workspace, path)
    assert digest(workspace.root) == before
