"""The command line as a user meets it: help with examples, counts, next steps, clear failures."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import polars as pl


def test_help_of_every_command_shows_an_example(cli):
    top = cli("--help", check=True)
    assert "Example:" in top.stdout
    for command in ("init", "ingest", "status", "curate", "report", "demo"):
        out = cli(command, "--help", check=True).stdout
        assert "Example:" in out, command


def test_init_ingest_status_round_trip(cli, tmp_path, shared_data):
    ws = tmp_path / "ws"
    out = cli("init", ws, check=True).stdout
    assert "next: housevoice ingest" in out
    out = cli("ingest", ws, shared_data / "dev-corpus" / "records.jsonl", check=True).stdout
    assert "826 new, 0 changed, 0 unchanged" in out
    assert "next: housevoice curate" in out
    out = cli("status", ws, check=True).stdout
    assert "826 records" in out
    assert "Niko Matsakis" in out and "jsonl:records.jsonl" in out
    assert "next: housevoice curate" in out


def test_ingest_with_map_flag(cli, tmp_path, workspace):
    src = tmp_path / "n.jsonl"
    src.write_text(json.dumps({"uid": "7", "body": "Hello", "headline": "Hi"}) + "\n")
    cli("ingest", workspace.root, src, "--map", "text=body,title=headline,id=uid", check=True)
    row = workspace.read_table("records").row(0, named=True)
    assert (row["source_key"], row["title"]) == ("7", "Hi")


def test_errors_are_one_clear_line_and_exit_non_zero(cli, tmp_path, workspace):
    cases = [
        (("status", tmp_path / "nowhere"), "no workspace at"),
        (("ingest", workspace.root, tmp_path / "missing.xml"), "no such file or folder"),
        (("ingest", workspace.root, tmp_path, "--map", "nonsense"), "expected FIELD=COLUMN"),
        (("ingest", workspace.root, tmp_path, "--map", "colour=x"), "unknown field 'colour'"),
        (("init", workspace.root), "already a housevoice workspace"),
    ]
    for args, message in cases:
        proc = cli(*args, check=False)
        assert proc.returncode != 0
        assert message in proc.stderr, (args, proc.stderr)
        assert "Traceback" not in proc.stderr


def test_a_broken_file_in_a_folder_stops_the_ingest_unless_skip_broken_names_it_and_reads_the_rest(cli, tmp_path, workspace, digest, shared_data):
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "post.md").write_text("---\ntitle: Kept\n---\nA post that reads well.\n")
    (folder / "cut.xml").write_bytes((shared_data / "wxr" / "malformed-simple.xml").read_bytes())
    (folder / "notes.jsonl").write_text('{"id": "1", "text": "fine"}\n{"id": "2", "text": \n')
    before = digest(workspace.root)
    stopped = cli("ingest", workspace.root, folder, check=False)
    assert stopped.returncode != 0 and "Traceback" not in stopped.stderr
    assert "cut.xml:14: the file ends in the middle of the XML" in stopped.stderr
    assert "--skip-broken reads the rest of the folder" in stopped.stderr
    assert digest(workspace.root) == before  # nothing written

    read = cli("ingest", workspace.root, folder, "--skip-broken", check=True)
    out = " ".join(read.stdout.split())  # (rich wraps long lines)
    assert "broken file 2" in out
    assert "skipped, cannot be read: " in out and "cut.xml:14: the file ends in the middle of the XML" in out
    assert "notes.jsonl:2" in out
    assert workspace.read_table("records")["title"].to_list() == ["Kept"]

    (folder / "post.md").unlink()
    nothing = cli("ingest", workspace.root, folder, "--skip-broken", check=False)
    assert nothing.returncode != 0 and "no file in the folder holds writing housevoice reads (2 broken file)" in nothing.stderr


def test_a_dry_run_counts_what_an_ingest_would_do_and_writes_nothing(cli, tmp_path, workspace, digest):
    folder = tmp_path / "posts"
    folder.mkdir()
    (folder / "a.md").write_text("First post.\n")
    cli("ingest", workspace.root, folder, check=True)
    (folder / "a.md").write_text("First post, edited.\n")
    (folder / "b.md").write_text("Second post.\n")
    before = digest(workspace.root)
    proc = cli("ingest", workspace.root, folder, "--dry-run", check=True)
    out = " ".join(proc.stdout.split())
    assert "dry run: nothing written" in out
    assert "1 would be new, 1 changed, 0 unchanged; nothing written" in out and "would hold 2 records" in out
    assert digest(workspace.root) == before
    assert workspace.read_table("records")["text"].to_list() == ["First post.\n"]


def test_killing_an_ingest_mid_write_leaves_the_previous_table(tmp_path, workspace):
    small = tmp_path / "small.jsonl"
    small.write_text(json.dumps({"id": "old", "text": "the earlier table"}) + "\n")
    subprocess.run([sys.executable, "-m", "housevoice", "ingest", str(workspace.root), str(small)], check=True, capture_output=True)
    before = workspace.table_path("records").read_bytes()
    big = tmp_path / "big.jsonl"
    with big.open("w") as fh:
        for i in range(60_000):
            fh.write(json.dumps({"id": f"n{i}", "text": f"post number {i} " * 40}) + "\n")
    proc = subprocess.Popen([sys.executable, "-m", "housevoice", "ingest", str(workspace.root), str(big)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if any(p.suffix == ".tmp" for p in workspace.tables_dir.iterdir()):
            break  # the new table is being written right now
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    after = workspace.read_table("records")
    # Either the kill landed mid-write (old table intact) or just after the rename (new table whole).
    if workspace.table_path("records").read_bytes() == before:
        assert after["source_key"].to_list() == ["old"]
    else:
        assert len(after) == 60_001
    assert pl.read_parquet(workspace.table_path("records")).height in (1, 60_001)
