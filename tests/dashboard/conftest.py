"""Dashboard fixtures: a workspace built once by the real commands with the tiny model, and the app under test."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import subprocess
import sys

import pytest

# Torch in the command subprocesses: one thread each is faster than contending for a busy machine.
os.environ.setdefault("OMP_NUM_THREADS", "1")
APP = Path(__file__).resolve().parents[2] / "src" / "housevoice" / "dashboard" / "app.py"

POSTS = [
    ("Why we ship small", "We ship small changes because small changes are easy to review, easy to undo and easy to explain."),
    ("Notes on testing", "A test should say what a user would check. When it fails, the name alone should tell you what broke."),
    ("Our release checklist", "Every release starts with the changelog. We read it aloud, and anything we cannot explain waits."),
    ("On naming things", "Names are the first documentation anyone reads. We pick words our readers already use."),
    ("Lessons from a migration", "The migration took three weeks instead of one. The plan was fine; the estimate was a guess."),
    ("How we review code", "Review is a conversation, not a gate. We ask questions before we suggest changes."),
    ("Writing for people in a hurry", "Lead with the answer. Put the reasons after it, and the history last, if at all."),
    ("What the outage taught us", "The alert fired on time and nobody read it. We now page a person, not a channel."),
    ("Keeping meetings short", "A meeting without a written question at the top is a meeting we cancel."),
    ("The case for <b>boring</b> tools", "Boring tools fail in ways we have seen before, which makes them cheap to run."),
]


def _corpus(path: Path) -> Path:
    rows = [{"id": f"post-{i}", "title": title, "author": "Sam Writer", "status": "publish", "kind": "post",
             "published_at": f"202{i % 3}-0{1 + i % 9}-1{i % 9}",
             "text": f"{lead}\n\nIn short: {title.lower()} matters to us, and post {i} explains why."}
            for i, (title, lead) in enumerate(POSTS)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def run_cli(*args, check: bool = False, timeout: float = 300) -> subprocess.CompletedProcess:
    """`housevoice ARGS…` in a subprocess, as a user runs it (session fixtures cannot take the `cli` fixture)."""
    proc = subprocess.run([sys.executable, "-m", "housevoice", *map(str, args)], capture_output=True, text=True,
                          env=dict(os.environ, COLUMNS="200", NO_COLOR="1", HF_HUB_OFFLINE="1"), timeout=timeout,
                          stdin=subprocess.DEVNULL)
    if check and proc.returncode != 0:
        raise AssertionError(f"housevoice {' '.join(map(str, args))} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def _last_line(proc) -> str:
    return proc.stdout.strip().splitlines()[-1].strip()


def _scores(root: Path, versions: list[str]) -> tuple[str, str]:
    """Voice and benchmark scores of the versions (and of their base model) through `housevoice evaluate`, each
    command run once for all of them: (the base's version id, what `evaluate voice` printed)."""
    from housevoice.registry import Registry
    from housevoice.store import Workspace

    chosen = [arg for version in versions for arg in ("--version", version)]
    voice = run_cli("evaluate", "voice", root, *chosen, check=True).stdout
    run_cli("evaluate", "bench", root, *chosen, "--tasks", "housevoice_mc", "--limit", "8", check=True)
    bases = Registry(Workspace.open(root)).versions(kind="base")
    return (bases[-1]["version_id"] if bases else ""), voice


@pytest.fixture(scope="session")
def built_workspace(tmp_path_factory) -> dict:
    """init → ingest → curate → model tiny → tune sft (twice) → tune sample → scores. Copy before writing."""
    top = tmp_path_factory.mktemp("dashboard")
    root = top / "ws"
    run_cli("init", root, check=True)
    # every post is kept and trained on, so evaluation needs prompts of its own
    config = root / "housevoice.toml"
    config.write_text(config.read_text().replace("[tune]", '[tune]\nprompts = ["Write a blog post about small releases.", '
                                                           '"Write a blog post about code review."]', 1))
    run_cli("ingest", root, _corpus(top / "posts.jsonl"), check=True)
    run_cli("curate", root, check=True)
    model = top / "tiny"
    run_cli("model", "tiny", model, "--from", root, check=True)
    first = _last_line(run_cli("tune", "sft", root, "--base", model, "--epochs", "1", check=True))
    second = _last_line(run_cli("tune", "sft", root, "--base", model, "--epochs", "2", check=True))
    run_cli("tune", "sample", root, "--versions", first, second, "--n", "1", "--limit", "3",
            "--max-new-tokens", "10", check=True)
    base, voice_output = _scores(root, [first, second])
    reward = _reward(root, top)
    return {"root": root, "first": first, "second": second, "base": base, "reward": reward, "voice_output": voice_output}


def _reward(root: Path, top: Path) -> str:
    """Rankings of the samples (imported as a file, as a team ranking elsewhere would), a reward model, its scores."""
    from housevoice.store import Workspace

    samples = Workspace.open(root).read_table("samples")
    lines = [{"prompt": prompt, "responses": [*group["response"].to_list(), "click here!!!"],
              "ranking": list(range(group.height + 1)), "annotator": "lead"}
             for (prompt,), group in samples.group_by("prompt", maintain_order=True)]
    rankings = top / "rankings.jsonl"
    rankings.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    run_cli("label", "rank", "import", root, rankings, check=True)
    reward = _last_line(run_cli("tune", "reward", root, "--epochs", "1", check=True))
    run_cli("evaluate", "reward", root, "--reward", reward, check=True)
    return reward


@pytest.fixture
def dashboard_ws(built_workspace, tmp_path, monkeypatch) -> Path:
    """A fresh copy of the built workspace that the app under test serves."""
    root = tmp_path / "ws"
    shutil.copytree(built_workspace["root"], root)
    monkeypatch.setenv("HOUSEVOICE_WORKSPACE", str(root))
    return root


@pytest.fixture
def app():
    """An AppTest of the dashboard; call `open_page(app, "compare")` to land on a page."""
    from streamlit.testing.v1 import AppTest

    import streamlit as st

    st.cache_data.clear()  # each test serves its own workspace copy
    return AppTest.from_file(str(APP), default_timeout=60)


@pytest.fixture
def open_page():
    """`open_page(app, "compare")`: run the app, then switch to that page."""
    return _open_page


def _open_page(app, page: str):
    app.run()
    if page != "versions":
        app.switch_page(f"views/{page}.py").run()
    assert not app.exception, app.exception
    return app
