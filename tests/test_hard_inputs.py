"""Every command refuses bad input with one clear line, a non-zero exit, and an untouched workspace."""

from __future__ import annotations

import json
import os
import shutil
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest

# The commands run in subprocesses; one torch thread each keeps them quick on a busy machine.
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"

POSTS = [
    ("Why we ship small", "We ship small changes because small changes are easy to review, easy to undo and easy to "
     "explain.\n\nLast year a single large release cost us a weekend. Since then nothing goes out that one person "
     "cannot read in an afternoon."),
    ("Notes on testing", "A test should say what a user would check. When it fails, the name alone should tell you "
     "what broke.\n\nWe delete tests that only repeat the code, and we keep the ones that caught a real bug once."),
    ("Our release checklist", "Every release starts with the changelog. We read it aloud, and anything we cannot "
     "explain waits for the next train.\n\nThe checklist fits on a card; when it grew past one card we cut it."),
    ("On naming things", "Names are the first documentation anyone reads. We pick words our readers already use, "
     "not the words from our database.\n\nA rename is cheap on a Tuesday and expensive after launch."),
    ("Lessons from a migration", "The migration took three weeks instead of one. The plan was fine; the estimate "
     "was a guess dressed as a plan.\n\nNext time we will move one customer first and time it."),
    ("How we review code", "Review is a conversation, not a gate. We ask questions before we suggest changes, and "
     "we say which comments are optional.\n\nMost reviews here finish within a working day."),
]


def write_posts(path: Path) -> Path:
    """Posts by two authors, some with HTML and links, and one exact duplicate."""
    rows = []
    for i, (title, text) in enumerate(POSTS):
        if i % 3 == 1:
            text = f'<p>{text}</p>\n<p>More in <a href="https://example.com/{i}?utm_source=feed">our notes</a>.</p>'
        rows.append({"id": f"post-{i}", "title": title, "text": text, "author": "Sam Writer" if i % 2 else "Kim Editor",
                     "published_at": f"2023-0{1 + i}-10", "status": "publish"})
    rows.append({**rows[0], "id": "post-copy"})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@dataclass
class Built:
    """The module's workspaces, made once by the real commands; cases copy them before touching them."""

    root: Path
    base: Path      # ingested and curated
    trained: Path   # base + one SFT version on the tiny model
    other: Path     # another workspace with a registry of its own
    model: Path     # the tiny model
    version: str    # the SFT version in `trained`


@pytest.fixture(scope="module")
def built(tmp_path_factory, cli) -> Built:
    root = tmp_path_factory.mktemp("hard")
    base, other, model = root / "base", root / "other", root / "tiny"
    cli("init", base, check=True)
    cli("ingest", base, write_posts(root / "posts.jsonl"), check=True)
    cli("curate", base, check=True)
    cli("init", other, check=True)
    cli("versions", other, check=True)  # opening the registry ties it to `other`
    cli("model", "tiny", model, "--from", base, check=True)
    trained = root / "trained"
    shutil.copytree(base, trained)
    proc = cli("tune", "sft", trained, "--base", model, "--epochs", "1", check=True)
    return Built(root, base, trained, other, model, proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def cli():
    from conftest import run_cli  # the shared runner, at module scope so the workspaces are built once

    return run_cli


# -- how each case breaks its copy of a workspace --------------------------------------------
def wrong_version(ws: Path, b: Built) -> None:
    cfg = ws / "housevoice.toml"
    cfg.write_text(cfg.read_text().replace("version = 1 ", "version = 99 ", 1))


def corrupt(table: str) -> Callable[[Path, Built], None]:
    def apply(ws: Path, b: Built) -> None:
        path = ws / "tables" / f"{table}.parquet"
        path.write_bytes(b"PAR1" + b"\x00garbage, not a parquet file\x00" * 8 + b"PAR1")
    return apply


def drop_column(table: str, column: str) -> Callable[[Path, Built], None]:
    def apply(ws: Path, b: Built) -> None:
        path = ws / "tables" / f"{table}.parquet"
        pl.read_parquet(path).drop(column).write_parquet(path)
    return apply


def some_decisions(ws: Path, b: Built) -> None:
    ids = pl.read_parquet(ws / "tables" / "curated.parquet")["record_id"].to_list()
    now = datetime.now(timezone.utc)
    from housevoice.schema import DECISIONS

    pl.DataFrame([{"record_id": i, "decision": "reject", "edited_text": None, "comment": "", "reviewer": "dana",
                   "decided_at": now, "origin": "label-studio:1/1"} for i in ids],
                 schema=DECISIONS).write_parquet(ws / "tables" / "decisions.parquet")


def then(*steps: Callable[[Path, Built], None]) -> Callable[[Path, Built], None]:
    def apply(ws: Path, b: Built) -> None:
        for step in steps:
            step(ws, b)
    return apply


def foreign_registry(ws: Path, b: Built) -> None:
    shutil.copy(b.other / "registry.sqlite", ws / "registry.sqlite")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: nothing listens there


def refusing_label_studio(ws: Path, b: Built) -> None:
    cfg = ws / "housevoice.toml"
    cfg.write_text(cfg.read_text().replace('url = ""', f'url = "http://127.0.0.1:{closed_port()}"', 1))


def bad_ranking(ws: Path, b: Built) -> None:
    (ws.parent / "rankings.jsonl").write_text(json.dumps(
        {"prompt": "Write a post.", "responses": ["one", "two", "three"], "ranking": [0, 0, 2], "annotator": "ann"}) + "\n")


def model_without_weights(ws: Path, b: Built) -> None:
    shutil.copytree(b.model, ws.parent / "no-weights")
    (ws.parent / "no-weights" / "model.safetensors").unlink()


def nothing(ws: Path, b: Built) -> None:
    pass


@dataclass
class Case:
    id: str
    args: tuple[str, ...]      # after the command: WS stands for the workspace, V for the trained version
    break_it: Callable[[Path, Built], None] = nothing
    says: str = ""             # what the error line must contain
    start: str = "base"        # which built workspace the case copies
    env: tuple[tuple[str, str], ...] = ()


LIGHT = [("status", "WS"), ("curate", "WS"), ("report", "WS"), ("decisions", "WS"), ("versions", "WS"),
         ("ingest", "WS", "POSTS"), ("label", "review", "push", "WS"), ("label", "rank", "import", "WS", "POSTS"),
         ("promote", "WS", "V", "--actor", "dana", "--reason", "better")]
HEAVY = [("tune", "sft", "WS", "--base", "MODEL"), ("tune", "sample", "WS", "--versions", "V"),
         ("evaluate", "voice", "WS", "--version", "V")]


def _name(args: tuple[str, ...]) -> str:
    return "-".join(a for a in args[:3] if a.isalpha() and a.islower())


LS_TOKEN = (("LABEL_STUDIO_API_KEY", "not-a-real-token"),)

CASES = [
    *(Case(f"missing-workspace:{_name(a)}", a, says="no workspace at") for a in [*LIGHT, *HEAVY[:1]]),
    *(Case(f"wrong-version:{_name(a)}", a, wrong_version, "workspace version 99") for a in [*LIGHT, *HEAVY[:1]]),
    Case("corrupt-records:status", ("status", "WS"), corrupt("records"), "cannot read the records table"),
    Case("corrupt-records:curate", ("curate", "WS"), corrupt("records"), "cannot read the records table"),
    Case("corrupt-records:ingest", ("ingest", "WS", "POSTS"), corrupt("records"), "cannot read the records table"),
    Case("corrupt-curated:report", ("report", "WS"), corrupt("curated"), "cannot read the curated table"),
    Case("corrupt-curated:explain", ("curate", "WS", "--explain", "post-1"), corrupt("curated"), "cannot read the curated table"),
    Case("corrupt-curated:review-push", ("label", "review", "push", "WS"), corrupt("curated"), "cannot read the curated table"),
    Case("corrupt-curated:decisions", ("decisions", "WS"), corrupt("curated"), "cannot read the curated table"),
    Case("corrupt-curated:sft", ("tune", "sft", "WS", "--base", "MODEL"), corrupt("curated"), "cannot read the curated table"),
    Case("corrupt-decisions:decisions", ("decisions", "WS"), then(some_decisions, corrupt("decisions")),
         "cannot read the decisions table"),
    Case("corrupt-decisions:curate", ("curate", "WS"), then(some_decisions, corrupt("decisions")),
         "cannot read the decisions table"),
    Case("corrupt-decisions:status", ("status", "WS"), then(some_decisions, corrupt("decisions")),
         "cannot read the decisions table"),
    Case("missing-column:curate", ("curate", "WS"), drop_column("records", "text"), "has no column 'text'"),
    Case("missing-column:report", ("report", "WS"), drop_column("curated", "route"), "has no column 'route'"),
    Case("missing-column:review-push", ("label", "review", "push", "WS"), drop_column("curated", "route"),
         "has no column 'route'"),
    Case("missing-column:decisions", ("decisions", "WS"), then(some_decisions, drop_column("decisions", "decision")),
         "has no column 'decision'"),
    *(Case(f"foreign-registry:{_name(a)}", a, foreign_registry, "belongs to another workspace", start="trained")
      for a in [("versions", "WS"), ("promote", "WS", "V", "--actor", "dana", "--reason", "better"), HEAVY[2]]),
    Case("unknown-version:promote", ("promote", "WS", "sft-nope", "--actor", "dana", "--reason", "better"), says="no version 'sft-nope'",
         start="trained"),
    Case("unknown-version:sample", ("tune", "sample", "WS", "--versions", "sft-nope"), says="no version 'sft-nope'",
         start="trained"),
    Case("unknown-version:dpo", ("tune", "dpo", "WS", "--policy", "sft-nope"), says="no version 'sft-nope'",
         start="trained"),
    Case("unknown-version:voice", ("evaluate", "voice", "WS", "--version", "sft-nope"), says="no version 'sft-nope'",
         start="trained"),
    Case("unknown-version:bench", ("evaluate", "bench", "WS", "--version", "sft-nope"), says="no version 'sft-nope'",
         start="trained"),
    Case("promotion-without-reason", ("promote", "WS", "V", "--actor", "dana"), says="reason is required", start="trained"),
    Case("promotion-with-blank-reason", ("promote", "WS", "V", "--actor", "dana", "--reason", "  "), says="reason is required",
         start="trained"),
    Case("refused-label-studio:push", ("label", "review", "push", "WS"), refusing_label_studio, "connection refused",
         env=LS_TOKEN),
    Case("refused-label-studio:pull", ("label", "review", "pull", "WS"), refusing_label_studio, "connection refused",
         env=LS_TOKEN),
    Case("refused-label-studio:rank-pull", ("label", "rank", "pull", "WS"), refusing_label_studio, "connection refused",
         env=LS_TOKEN),
    Case("base-without-weights", ("tune", "sft", "WS", "--base", "NOWEIGHTS"), model_without_weights, "has no weights"),
    Case("hub-model-offline", ("tune", "sft", "WS", "--base", "some-org/some-model"),
         says="some-org/some-model is not on this machine and housevoice is offline"),
    Case("empty-training-set", ("tune", "sft", "WS", "--base", "MODEL"), some_decisions, "nothing to train on"),
    Case("ranking-not-a-permutation", ("label", "rank", "import", "WS", "RANKINGS"), bad_ranking,
         "is not a permutation"),
]


def _args(case: Case, ws: Path, b: Built) -> list[str]:
    names = {"WS": str(ws), "V": b.version, "MODEL": str(b.model), "POSTS": str(b.root / "posts.jsonl"),
             "NOWEIGHTS": str(ws.parent / "no-weights"), "RANKINGS": str(ws.parent / "rankings.jsonl")}
    return [names.get(a, a) for a in case.args]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_gets_one_clear_line_and_changes_nothing(case, built, cli, digest, tmp_path, monkeypatch):
    for key, value in case.env:
        monkeypatch.setenv(key, value)
    if case.id.startswith("missing-workspace"):
        ws = tmp_path / "no-such-workspace"
    else:
        ws = tmp_path / "ws"
        shutil.copytree(getattr(built, case.start), ws)
        case.break_it(ws, built)
    before = digest(tmp_path)

    proc = cli(*_args(case, ws, built), check=False)

    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
    assert 1 <= len(lines) <= 2, proc.stderr  # the error, and perhaps the hint on what to do
    assert lines[0].startswith("error: ") and case.says in lines[0], proc.stderr
    assert digest(tmp_path) == before, "a refused command changed the workspace"
    assert not ws.exists() or not (ws / "tables").exists() or {p.name for p in (ws / "tables").iterdir()} <= {
        f"{t}.parquet" for t in ("records", "curated", "decisions", "preferences", "samples")}, "a temporary table was left"
