"""The demo: the bundled sample taken through every stage that exists, with a summary per stage."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from rich.console import Console

from housevoice.store import CONFIG_FILE, Workspace

SAMPLE_TARGET_AUTHOR = "Niko Matsakis"


def sample_dir() -> Path:
    return Path(str(resources.files("housevoice") / "sample"))


def run_demo(workspace: Path, *, console: Console | None = None) -> Workspace:
    from housevoice.curate.pipeline import curate
    from housevoice.curate.report import write_report
    from housevoice.ingest import ingest_sources

    console = console or Console()
    sample = sample_dir()
    if (workspace / CONFIG_FILE).exists():
        console.print(f"[demo] starting over: removing the earlier demo workspace {workspace}")
        shutil.rmtree(workspace)
    ws = Workspace.create(workspace, name="housevoice demo")
    console.rule("1. ingest")
    result = ingest_sources(ws, [sample / "blog.wxr.xml", sample / "transcripts"])
    for s in result.sources:
        skipped = ", ".join(f"{v} {k}" for k, v in sorted(s.skipped.items()))
        console.print(f"  {s.source}: {s.read} records from {s.files} file(s) ({s.format})" + (f"; skipped {skipped}" if skipped else ""))
    console.print(f"  {result.total_records} records in {result.table_path}")
    console.rule("2. curate")
    summary = curate(ws, target_author=SAMPLE_TARGET_AUTHOR, stale_before="2016-01-01")
    console.print("  flags: " + ", ".join(f"{k} {v}" for k, v in summary.flags.items()))
    console.print("  routes: " + ", ".join(f"{r} {summary.routes.get(r, 0)}" for r in ("keep", "review", "drop")))
    console.rule("3. report")
    rep = write_report(ws)
    console.print(f"  {rep.html_path} ({len(rep.plots)} plots)")
    console.rule("done")
    console.print(f"workspace: {ws.root}")
    console.print(f"open the report: {rep.html_path.resolve().as_uri()}")
    console.print(f"see one record's reasons: housevoice curate {ws.root} --explain RECORD_ID")
    return ws
