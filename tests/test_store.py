"""The store: atomic table writes, readable errors for damaged tables, the write lock."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import textwrap

import polars as pl
import pytest

from housevoice.errors import WorkspaceError
from housevoice.schema import RECORDS
from housevoice.store import Workspace


def _records(n: int) -> pl.DataFrame:
    return pl.DataFrame(
        {"record_id": [f"r{i}" for i in range(n)], "source_key": [str(i) for i in range(n)],
         "source": ["t"] * n, "kind": ["post"] * n, "text": ["hello"] * n, "meta": ["{}"] * n},
    ).with_columns([pl.lit(None, dtype=RECORDS[c]).alias(c) for c in ("author", "title", "published_at", "url", "status")])


def test_missing_table_reads_as_empty_with_the_contract_schema(workspace):
    frame = workspace.read_table("decisions")
    assert frame.is_empty()
    assert frame.schema["decided_at"] == pl.Datetime("us", "UTC")


def test_write_then_read_round_trips_and_leaves_no_temp_files(workspace):
    workspace.write_table("records", _records(5))
    assert workspace.read_table("records")["record_id"].to_list() == [f"r{i}" for i in range(5)]
    assert sorted(p.name for p in workspace.tables_dir.iterdir()) == ["records.parquet"]


def test_append_keeps_every_earlier_row(workspace):
    from datetime import datetime, timezone

    row = {"record_id": "r1", "decision": "approve", "edited_text": None, "comment": "", "reviewer": "ana",
           "decided_at": datetime(2026, 1, 1, tzinfo=timezone.utc), "origin": "rule:test"}
    workspace.append_table("decisions", pl.DataFrame([row]))
    workspace.append_table("decisions", pl.DataFrame([{**row, "decision": "reject"}]))
    assert workspace.read_table("decisions")["decision"].to_list() == ["approve", "reject"]


def test_corrupted_table_gives_one_clear_error(workspace):
    workspace.table_path("records").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(WorkspaceError, match=r"records\.parquet: cannot read the records table"):
        workspace.read_table("records")


def test_table_with_a_missing_column_is_named(workspace):
    _records(2).drop("text").write_parquet(workspace.table_path("records"))
    with pytest.raises(WorkspaceError, match="has no column 'text'"):
        workspace.read_table("records")


def test_open_a_folder_that_is_not_a_workspace(tmp_path):
    with pytest.raises(WorkspaceError, match="not a housevoice workspace"):
        Workspace.open(tmp_path)
    with pytest.raises(WorkspaceError, match="no workspace at"):
        Workspace.open(tmp_path / "missing")


def test_init_refuses_to_overwrite_a_workspace(workspace):
    with pytest.raises(WorkspaceError, match="already a housevoice workspace"):
        Workspace.create(workspace.root)


def test_second_writer_is_told_the_workspace_is_busy(workspace):
    with workspace.lock():
        with pytest.raises(WorkspaceError, match="busy"):
            with Workspace(workspace.root).lock(timeout=0.2):
                pass


def test_killed_writer_leaves_the_previous_table_intact(workspace):
    workspace.write_table("records", _records(3))
    before = workspace.table_path("records").read_bytes()
    # A child process starts writing a large table and is killed while it writes.
    script = textwrap.dedent(f"""
        import os, polars as pl, signal
        from housevoice.store import Workspace
        ws = Workspace({str(workspace.root)!r})
        big = pl.DataFrame({{"record_id": [str(i) for i in range(3_000_000)]}})
        orig = pl.DataFrame.write_parquet
        def write_and_die(self, path, *a, **k):
            orig(self.head(1000), path)  # part of the file is on disk...
            os.kill(os.getpid(), signal.SIGKILL)  # ...and the process dies
        pl.DataFrame.write_parquet = write_and_die
        from housevoice.schema import RECORDS
        frame = big.with_columns([pl.lit("x").alias(c) for c in RECORDS.names() if c != "record_id"])
        frame = frame.with_columns(pl.lit(None, dtype=pl.Datetime("us")).alias("published_at"))
        ws.write_table("records", frame)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode != 0
    assert workspace.table_path("records").read_bytes() == before
    assert len(workspace.read_table("records")) == 3
    leftovers = [p for p in workspace.tables_dir.iterdir() if p.name != "records.parquet"]
    assert leftovers and all(p.name.startswith(".") and p.suffix == ".tmp" for p in leftovers)
    assert os.path.exists(workspace.table_path("records"))

    # the next write of the table tidies what the killed writer left, once it is clearly stale
    fresh = workspace.tables_dir / ".records.fresh.tmp"
    fresh.write_bytes(b"a write in progress")
    for p in leftovers:
        os.utime(p, (time.time() - 7200, time.time() - 7200))
    workspace.write_table("records", workspace.read_table("records"))
    assert not any(p.exists() for p in leftovers) and fresh.exists()
