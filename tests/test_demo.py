"""The demo as a new user runs it: scripted people, scripted people in Label Studio, and a pause for real people."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from housevoice.label.client import Connection, LabelStudio
from housevoice.store import Workspace

ADMIN = "admin@housevoice.local"


def demo(*args: str | os.PathLike, token: str | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    """`housevoice demo ARGS…` in a subprocess, as a user runs it; one torch thread keeps it fast on a busy machine."""
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1", HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")
    if token:
        env["LABEL_STUDIO_API_KEY"] = token
    return subprocess.run([sys.executable, "-m", "housevoice", "demo", *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=timeout, stdin=subprocess.DEVNULL)


def ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, f"demo failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def state(ws: Path) -> dict:
    return json.loads((ws / "demo-state.json").read_text())


def people_decisions(ws: Workspace) -> pl.DataFrame:
    return ws.read_table("decisions").filter(~pl.col("origin").str.starts_with("rule:"))


def assert_loop_finished(root: Path, out: str) -> Workspace:
    """What a user checks at the end: every kind of version ready and evaluated, and the way to the dashboard."""
    from housevoice.registry import Registry

    ws = Workspace.open(root)
    registry = Registry(ws)
    ready = {v["kind"]: v["version_id"] for v in registry.versions(status="ready")}
    assert {"sft", "reward", "rlhf", "dpo"} <= set(ready)
    assert "model versions" in out and all(vid in out for vid in ready.values())
    evaluated = {r["version_id"] for r in registry.eval_results()}
    assert {ready["sft"], ready["rlhf"], ready["dpo"]} <= evaluated
    assert f"housevoice dashboard {root}" in out
    assert state(root)["next"] == "done" and state(root)["versions"]["dpo"] == ready["dpo"]
    # A scripted lead promoted the version with the best voice fidelity (no gates are set in the sample's
    # config), and it was exported as one model folder with its model card.
    promoted = state(root)["promoted"]
    assert promoted in {ready["sft"], ready["rlhf"], ready["dpo"]}
    assert registry.get(promoted)["stage"] == "promoted" and registry.promotions()[-1]["actor"] == "demo:lead"
    exported = root / "exports" / promoted
    assert {"README.md", "housevoice.json", "config.json"} <= {p.name for p in exported.iterdir()}
    return ws


@pytest.mark.slow
def test_demo_runs_the_whole_loop_with_scripted_people(tmp_path):
    root = tmp_path / "demo"
    out = ok(demo("--workspace", root))
    ws = assert_loop_finished(root, out)
    decisions = people_decisions(ws)
    assert len(decisions) and set(decisions["origin"]) == {"demo:reviewer"}
    prefs = ws.read_table("preferences")
    assert len(prefs) and set(prefs["origin"]) == {"demo:ranker"}
    assert "scripted reviewer" in out and "scripted ranker" in out
    assert not (root / "label-studio").exists()  # no server without the flags


def answer_as_a_person(ws: Path, url: str, token: str) -> dict[str, int]:
    """Click through both kinds of task via the API, one annotation per task; returns what was answered."""
    from housevoice.label.ranking import PAIR_CONFIG, project_titles
    from housevoice.label.review import REVIEW_CONFIG, review_project_title

    client = LabelStudio(Connection(url, token, False, ""))
    workspace = Workspace.open(ws)
    answered = {"review": 0, "rank": 0}
    review = client.project(review_project_title(workspace), REVIEW_CONFIG)
    for i, task in enumerate(client.tasks(review["id"], include="id,data,total_annotations")):
        if task["total_annotations"]:
            continue
        # approve one record, corrected; rejecting the rest leaves titled records out of training to prompt with
        choice = "approve" if i == 0 else "reject"
        result = [{"from_name": "decision", "to_name": "clean_text", "type": "choices", "value": {"choices": [choice]}}]
        if i == 0:
            result.append({"from_name": "edited_text", "to_name": "clean_text", "type": "textarea",
                           "value": {"text": ["Corrected by a person in Label Studio."]}})
        client.create_annotation(task["id"], result)
        answered["review"] += 1
    pairs = client.project(project_titles(workspace)["pairs"], PAIR_CONFIG)
    for task in client.tasks(pairs["id"], include="id,total_annotations"):
        if not task["total_annotations"]:
            client.create_annotation(task["id"], [{"from_name": "pref", "to_name": "answer_a,answer_b",
                                                   "type": "pairwise", "value": {"selected": "left"}}])
            answered["rank"] += 1
    return answered


@pytest.mark.slow
def test_demo_with_label_studio_pulls_the_scripted_answers_like_a_team(tmp_path, label_server):
    root = tmp_path / "demo"
    out = ok(demo("--workspace", root, "--with-label-studio", "--label-url", label_server.url, token=label_server.token))
    ws = assert_loop_finished(root, out)
    decisions = people_decisions(ws)
    assert len(decisions) and decisions["origin"].str.starts_with("label-studio:").all()
    assert set(decisions["reviewer"]) == {ADMIN} and decisions["comment"].str.starts_with("scripted:").all()
    prefs = ws.read_table("preferences")
    assert len(prefs) and prefs["origin"].str.starts_with("label-studio:").all() and set(prefs["annotator"]) == {ADMIN}
    assert "scripted people through Label Studio's API" in out
    assert "stopped the demo's Label Studio" not in out  # a server the demo did not start keeps running


@pytest.mark.slow
def test_demo_pauses_for_people_and_resumes_with_what_they_did(tmp_path, label_server):
    root = tmp_path / "demo"
    out = ok(demo("--workspace", root, "--pause-for-people", "--label-url", label_server.url, token=label_server.token))
    assert state(root)["next"] == "pull-review" and f"{label_server.url}/projects/" in out
    assert f"next: housevoice demo --resume --workspace {root}" in out
    assert people_decisions(Workspace.open(root)).is_empty()

    before = (root / "demo-state.json").read_bytes()
    early = demo("--resume", "--workspace", root, token=label_server.token)
    assert early.returncode != 0 and "nobody has answered the review tasks" in early.stderr
    assert "Traceback" not in early.stderr and (root / "demo-state.json").read_bytes() == before

    assert answer_as_a_person(root, label_server.url, label_server.token)["review"] > 0
    out = ok(demo("--resume", "--workspace", root, token=label_server.token))
    assert state(root)["next"] == "pull-ranking" and "sft" in state(root)["versions"]
    decisions = people_decisions(Workspace.open(root))
    assert len(decisions) and decisions["origin"].str.starts_with("label-studio:").all()
    assert "Corrected by a person in Label Studio." in decisions["edited_text"].to_list()

    assert answer_as_a_person(root, label_server.url, label_server.token)["rank"] > 0
    out = ok(demo("--resume", "--workspace", root, token=label_server.token))
    ws = assert_loop_finished(root, out)
    prefs = ws.read_table("preferences")
    assert len(prefs) and prefs["origin"].str.starts_with("label-studio:").all()


def test_resume_without_a_paused_demo_says_how_to_start_one(tmp_path):
    proc = demo("--resume", "--workspace", tmp_path / "nothing-here", timeout=120)
    assert proc.returncode != 0 and "no paused demo in" in proc.stderr and "--pause-for-people" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_resume_refuses_new_settings(tmp_path):
    proc = demo("--resume", "--base", "gpt2", "--workspace", tmp_path, timeout=120)
    assert proc.returncode != 0 and "--resume goes on with the settings the demo started with" in proc.stderr
