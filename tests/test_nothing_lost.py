"""Commands killed at random points (SIGKILL) and run again leave consistent tables and registry."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest

from housevoice.registry import Registry
from housevoice.schema import TABLES
from housevoice.store import Workspace

pytestmark = pytest.mark.slow

# The commands run in subprocesses; one torch thread each keeps them quick on a busy machine.
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"

SEED = int(os.environ.get("HOUSEVOICE_KILL_SEED", "20240611"))
WORDS = ("release review habit team week changelog migration estimate naming reader answer reason meeting "
         "alert outage tool scope feature card train customer plan question draft note").split()


def write_posts(path: Path, n: int, seed: int = 1) -> Path:
    """n distinct posts by two authors, some with HTML and links, and a few exact duplicates."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        sentences = [" ".join(rng.choice(WORDS) for _ in range(12)).capitalize() + "." for _ in range(8)]
        text = " ".join(sentences[:4]) + "\n\n" + " ".join(sentences[4:])
        if i % 5 == 0:
            text = f'<p>{text}</p><p>See <a href="https://example.com/{i}?utm_source=x">the notes</a>.</p>'
        rows.append({"id": f"post-{i}", "title": f"Post number {i}", "text": text,
                     "author": "Sam Writer" if i % 2 else "Kim Editor", "published_at": "2023-03-01", "status": "publish"})
    rows += [{**rows[i], "id": f"copy-{i}"} for i in range(0, n, 50)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def start(*args) -> subprocess.Popen:
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1", HF_HUB_OFFLINE="1")
    return subprocess.Popen([sys.executable, "-m", "housevoice", *map(str, args)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)


def kill_after(proc: subprocess.Popen, delay: float) -> bool:
    """SIGKILL the command after `delay` seconds; True when it was still running (so it was cut short)."""
    try:
        proc.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        return True


def assert_tables_consistent(ws: Workspace) -> dict[str, pl.DataFrame]:
    """Every table reads back with its contract's schema; keyed tables have no key twice."""
    ws = Workspace.open(ws.root)
    tables = {name: ws.read_table(name) for name in TABLES if ws.has_table(name)}
    for name, frame in tables.items():
        assert frame.schema == TABLES[name], name
    for name, key in (("records", "record_id"), ("curated", "record_id"), ("preferences", "pair_id")):
        if name in tables:
            assert tables[name][key].is_unique().all(), f"{name}: a {key} appears twice"
    if "decisions" in tables:
        assert not tables["decisions"].select("record_id", "origin", "decided_at").is_duplicated().any(), \
            "decisions: a decision was recorded twice"
    return tables


@pytest.mark.parametrize("round_", range(3))
def test_killed_ingest_then_rerun_has_every_record_once(cli, tmp_path, round_):
    rng = random.Random(SEED + round_)
    ws = Workspace.create(tmp_path / "ws")
    posts = write_posts(tmp_path / "posts.jsonl", 1500)
    if round_ == 2:  # a re-ingest killed over an existing table
        cli("ingest", ws.root, posts, check=True)
    kill_after(start("ingest", ws.root, posts), rng.uniform(1.0, 6.0))
    cli("ingest", ws.root, posts, check=True)
    records = assert_tables_consistent(ws)["records"]
    assert len(records) == 1500 + 30
    again = cli("ingest", ws.root, posts, check=True).stdout
    assert "0 new, 0 changed, 1530 unchanged" in again


@pytest.mark.parametrize("round_", range(2))
def test_killed_curate_then_rerun_curates_every_record_once(cli, tmp_path, round_):
    rng = random.Random(SEED + 10 + round_)
    ws = Workspace.create(tmp_path / "ws")
    cli("ingest", ws.root, write_posts(tmp_path / "posts.jsonl", 600), check=True)
    if round_ == 1:
        cli("curate", ws.root, check=True)
    before = ws.read_table("curated")
    cut = kill_after(start("curate", ws.root), rng.uniform(2.0, 12.0))
    if cut:  # the table is the old one or the new one, never half of either
        curated = assert_tables_consistent(ws).get("curated", before)
        assert len(curated) in (0, 630) and (len(curated) == 0 or curated["route"].is_not_null().all())
    cli("curate", ws.root, check=True)
    tables = assert_tables_consistent(ws)
    assert set(tables["curated"]["record_id"]) == set(tables["records"]["record_id"])


# -- review pull against the real Label Studio ---------------------------------------------------
@pytest.fixture
def review_ws(tmp_path, label_server, monkeypatch):
    from label.conftest import build_workspace, point_at

    from housevoice.label.server import running_server

    if not running_server(label_server.ws):
        label_server.restart()
    ws = build_workspace(tmp_path, name=f"kill-{tmp_path.name}")
    point_at(ws, label_server.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", label_server.token)
    return Workspace.open(ws.root)


def test_killed_review_pull_then_rerun_loses_and_duplicates_no_decision(cli, review_ws):
    from housevoice.label.client import LabelStudio
    from housevoice.label.review import REVIEW_CONFIG, review_project_title

    rng = random.Random(SEED + 20)
    cli("label", "review", "push", review_ws.root, check=True)
    client = LabelStudio.for_workspace(review_ws)
    project = client.project(review_project_title(review_ws), REVIEW_CONFIG)
    tasks = {t["data"]["record_id"]: t["id"] for t in client.tasks(project["id"], include="id,data")}
    assert tasks, "nothing was routed to review"
    annotations = {}
    for i, (record_id, task_id) in enumerate(sorted(tasks.items())):
        decision = "approve" if i % 2 else "reject"
        result = [{"from_name": "decision", "to_name": "clean_text", "type": "choices", "value": {"choices": [decision]}}]
        annotations[client.create_annotation(task_id, result)["id"]] = record_id

    for attempt in range(2):  # killed twice at different points, then a full pull
        kill_after(start("label", "review", "pull", review_ws.root), rng.uniform(0.5, 4.0))
        assert_tables_consistent(review_ws)
    cli("label", "review", "pull", review_ws.root, check=True)
    decisions = assert_tables_consistent(review_ws)["decisions"]
    from_people = decisions.filter(pl.col("origin").str.starts_with("label-studio:"))
    pulled = {int(o.rsplit("/", 1)[1]) for o in from_people["origin"]}
    assert pulled == set(annotations) and len(from_people) == len(annotations)
    assert "0 new or changed" in cli("label", "review", "pull", review_ws.root, check=True).stdout
    assert assert_tables_consistent(review_ws)["decisions"].equals(decisions)


# -- training ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sft_template(tmp_path_factory):
    """A curated workspace (real ingest, curate) and a tiny model trained on its text."""
    from conftest import run_cli

    root = tmp_path_factory.mktemp("lost")
    ws = Workspace.create(root / "ws")
    run_cli("ingest", ws.root, write_posts(root / "posts.jsonl", 40), check=True)
    run_cli("curate", ws.root, check=True)
    review = ws.read_table("curated").filter(pl.col("route") == "review")["record_id"]
    ws.append_table("decisions", pl.DataFrame(  # an expert approved everything routed to review
        [{"record_id": r, "decision": "approve", "edited_text": None, "comment": "", "reviewer": "dana",
          "decided_at": datetime.now(timezone.utc), "origin": f"label-studio:1/{i}"} for i, r in enumerate(review)]))
    run_cli("model", "tiny", root / "tiny", "--from", ws.root, check=True)
    return ws.root, root / "tiny"


def test_killed_training_resumes_or_is_marked_failed(cli, sft_template, tmp_path):
    import shutil

    rng = random.Random(SEED + 30)
    shutil.copytree(sft_template[0], tmp_path / "ws")
    ws, model = Workspace.open(tmp_path / "ws"), sft_template[1]
    run = start("tune", "sft", ws.root, "--base", model, "--epochs", "100", "--save-steps", "2")
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and run.poll() is None and not list(ws.models_dir.glob("*/.running.lock")):
        time.sleep(0.1)  # the version is registered; now kill it at a random point of its training
    assert kill_after(run, rng.uniform(0.0, 10.0)), "training ended before it could be interrupted"
    [killed] = Registry(ws).versions()  # the next command to open the registry sees the process is gone
    assert killed["status"] == "failed" and "--resume" in killed["error"]

    proc = cli("tune", "sft", ws.root, "--base", model, "--resume", "--epochs", "1", "--save-steps", "2")
    if proc.returncode == 0:  # a checkpoint was written before the kill: the same version finishes
        assert proc.stdout.strip().splitlines()[-1] == killed["version_id"]
    else:  # killed before its first checkpoint: nothing to resume, and it stays failed
        assert "nothing to resume" in proc.stderr and "Traceback" not in proc.stderr
        cli("tune", "sft", ws.root, "--base", model, "--epochs", "1", check=True)
    registry = Registry(ws)
    versions = {v["version_id"]: v for v in registry.versions()}
    assert not [v for v in versions.values() if v["status"] == "running"]
    assert versions[killed["version_id"]]["status"] in ("ready", "failed")
    for v in versions.values():  # lineage only for versions that finished
        assert bool(registry.lineage(v["version_id"])) == (v["status"] == "ready")
    assert_tables_consistent(ws)
