"""The `housevoice` command: one sub-command per stage; thin: parse, call, print."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from housevoice.errors import HousevoiceError

app = typer.Typer(
    name="housevoice",
    help=(
        "Turn your organization's own writing into a private language model that writes in its voice.\n\n"
        "Example: housevoice init ws && housevoice ingest ws export.xml && housevoice curate ws"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
# markup off: titles such as "[Cross-post] …" and config keys such as [curate.length] print as they are
console = Console(highlight=False, markup=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, markup=False, soft_wrap=True)
# Lines of clean text `curate --explain` shows.
_PREVIEW_LINES = 12

WorkspaceArg = Annotated[Path, typer.Argument(help="the workspace folder (made by `housevoice init`)")]


def _parse_map(values: list[str]) -> dict[str, str]:
    from housevoice.ingest.tabular import MAP_FIELDS

    mapping: dict[str, str] = {}
    for value in values:
        for item in value.split(","):
            if not item.strip():
                continue
            field, sep, column = item.partition("=")
            field, column = field.strip(), column.strip()
            if not sep or not column:
                raise HousevoiceError(f"--map {item!r}: expected FIELD=COLUMN, e.g. --map text=body,title=headline")
            if field not in MAP_FIELDS:
                raise HousevoiceError(f"--map {item!r}: unknown field {field!r}; fields: {', '.join(MAP_FIELDS)}")
            mapping[field] = column
    return mapping


@app.command()
def init(
    workspace: WorkspaceArg,
    name: Annotated[Optional[str], typer.Option(help="a name for the workspace")] = None,
) -> None:
    """Create a workspace with a commented housevoice.toml.

    Example: housevoice init ws
    """
    from housevoice.store import CONFIG_FILE, Workspace

    ws = Workspace.create(workspace, name=name)
    console.print(f"created workspace {ws.root}  (config: {ws.root / CONFIG_FILE})")
    console.print(f"next: housevoice ingest {ws.root} SOURCE…")


@app.command()
def ingest(
    workspace: WorkspaceArg,
    sources: Annotated[list[Path], typer.Argument(help="files, folders or .zip archives: a WordPress export, JSONL/CSV, posts, transcripts")],
    format: Annotated[Optional[str], typer.Option("--format", "-f", help="read every source as this format instead of sniffing it")] = None,
    map: Annotated[list[str], typer.Option("--map", help="column mapping for JSONL/CSV, e.g. text=body,title=headline")] = [],  # noqa: B006
    skip_broken: Annotated[bool, typer.Option("--skip-broken", help="in a folder, count and name a file that cannot be read instead of stopping")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="read and count what would be new, changed or unchanged; write nothing")] = False,
) -> None:
    """Read sources into tables/records.parquet (re-ingesting updates, never duplicates).

    Example: housevoice ingest ws export.xml transcripts/ --map text=body
    """
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from housevoice.ingest import ingest_sources
    from housevoice.store import Workspace

    ws = Workspace.open(workspace)
    mapping = _parse_map(map)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=err, transient=True) as bar:
        task = bar.add_task(f"reading {len(sources)} source(s)", total=len(sources))

        def advance(summary) -> None:
            bar.update(task, advance=1, description=f"read {summary.source}: {summary.read} records")

        def reading(source: Path, done: int, total: int) -> None:
            if total > 1:
                bar.update(task, description=f"reading {source.name}: file {done + 1:,} of {total:,}")

        result = ingest_sources(
            ws, sources, fmt=format, mapping=mapping, progress=advance, skip_broken=skip_broken, on_file=reading,
            dry_run=dry_run,
        )
    table = Table(title="would be ingested (dry run: nothing written)" if dry_run else "ingested", show_edge=False)
    for col in ("source", "format", "files", "records", "new", "changed", "unchanged", "skipped"):
        table.add_column(col, justify="right" if col not in ("source", "format", "skipped") else "left")
    for s in result.sources:
        skipped = ", ".join(f"{k} {v}" for k, v in sorted(s.skipped.items())) or "-"
        table.add_row(s.source, s.format, str(s.files), str(s.read), str(s.new), str(s.changed), str(s.unchanged), skipped)
    console.print(table)
    for s in result.sources:
        for why in s.broken:  # every one: the user must know what is missing
            console.print(f"skipped, cannot be read: {why}")
        for note in s.notes[:10]:
            console.print(f"note: {note}")
        if len(s.notes) > 10:
            console.print(f"note: … and {len(s.notes) - 10} more notes for {s.source}")
    if dry_run:
        console.print(
            f"{result.new} would be new, {result.changed} changed, {result.unchanged} unchanged; "
            f"nothing written ({result.table_path} would hold {result.total_records} records)"
        )
        console.print(f"next: housevoice ingest {ws.root} {' '.join(str(s) for s in sources)} (without --dry-run)")
        return
    console.print(
        f"{result.new} new, {result.changed} changed, {result.unchanged} unchanged; "
        f"{result.total_records} records in {result.table_path}"
    )
    console.print(f"next: housevoice curate {ws.root}")


@app.command()
def status(workspace: WorkspaceArg) -> None:
    """Counts per stage (records by source, kind and author; routes; decisions) and the next step.

    Example: housevoice status ws
    """
    from housevoice.status import workspace_status

    st = workspace_status(workspace)
    console.print(f"{workspace}: {st.records} records")
    for title, rows in (("source", st.by_source), ("kind", st.by_kind), ("author (top 10)", st.by_author)):
        if rows:
            table = Table(show_edge=False)
            table.add_column(title)
            table.add_column("records", justify="right")
            for k, n in rows:
                table.add_row(k, str(n))
            console.print(table)
    if st.curated:
        console.print("curated: " + ", ".join(f"{k} {v}" for k, v in st.routes.items()))
        console.print("flags: " + ", ".join(f"{k} {v}" for k, v in st.flags))
    if st.decisions:
        console.print(f"decisions: {st.decisions}")
    console.print(f"next: {st.next_step}")


@app.command()
def curate(
    workspace: WorkspaceArg,
    stale_before: Annotated[Optional[str], typer.Option(help="records published before this date (YYYY-MM-DD) are stale")] = None,
    target_author: Annotated[Optional[str], typer.Option(help="records not written by this author get `off_author`")] = None,
    explain: Annotated[Optional[str], typer.Option(help="print every flag of one record (record_id or source key), the rule that routed it and the start of its clean text")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="read every text again and keep no per-text cache (what curation computed from each text: the workspace's cache/ is emptied)")] = False,
) -> None:
    """Flag what would poison a voice model, clean the text, route each record to keep / review / drop.

    Example: housevoice curate ws --stale-before 2020-01-01 --target-author "Jane Doe"
    """
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from housevoice.curate.pipeline import curate as run_curate
    from housevoice.curate.pipeline import explain_record

    if explain:
        info = explain_record(workspace, explain)
        rec, cur = info["record"], info["curated"]
        console.print(f"{rec['record_id']} ({rec['source']} · {rec['source_key']}) {rec['title'] or '(untitled)'}")
        console.print(f"author {rec['author'] or '-'} · published {rec['published_at'] or '-'} · {cur['n_tokens']} tokens")
        if not info["flags"]:
            console.print("no flags")
        for f in info["flags"]:
            console.print(f"  {f['name']} (score {f['score']:.2f}, routes to {f['route']}): {f['detail']}")
        if cur["dup_group"]:
            console.print(f"  duplicate cluster: {cur['dup_group']}")
        if cur["template_family"]:
            console.print(f"  template family: {cur['template_family']}")
        console.print(f"route: {cur['route']} — rule: {info['rule']}")
        clean, raw = cur["clean_text"] or "", rec["text"] or ""
        lines = clean.splitlines()
        console.print(f"clean text, what training reads ({len(clean):,} of {len(raw):,} characters):")
        for line in lines[:_PREVIEW_LINES]:
            console.print(f"  | {line}")
        if len(lines) > _PREVIEW_LINES:
            console.print(f"  … {len(lines) - _PREVIEW_LINES:,} more lines")
        return
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err, transient=True) as bar:
        task = bar.add_task("curating", total=None)
        summary = run_curate(
            workspace, stale_before=stale_before, target_author=target_author,
            progress=lambda step: bar.update(task, description=f"curating: {step}"),
            processes=len(os.sched_getaffinity(0)), use_cache=not no_cache,
        )
    console.print(f"curated {summary.records} records in {summary.seconds:.1f} s")
    table = Table(show_edge=False)
    table.add_column("flag")
    table.add_column("records", justify="right")
    for name, n in summary.flags.items():
        table.add_row(name, str(n))
    console.print(table)
    console.print("routes: " + ", ".join(f"{r} {summary.routes.get(r, 0)}" for r in ("keep", "review", "drop")))
    for note in summary.notes:
        console.print(f"note: {note}")
    console.print(f"wrote {summary.table_path}")
    console.print(f"next: housevoice report {workspace}  (or explain one record: housevoice curate {workspace} --explain RECORD_ID)")


@app.command()
def report(workspace: WorkspaceArg) -> None:
    """Write reports/curation.html with plots: flags, routes, lengths, years, authors, clusters.

    Example: housevoice report ws
    """
    from housevoice.curate.report import write_report

    result = write_report(workspace)
    console.print(f"wrote {result.html_path} and {len(result.plots)} plots")
    from housevoice.status import workspace_status

    console.print(f"next: open {result.html_path.resolve().as_uri()}; then {workspace_status(workspace).next_step}")


@app.command()
def demo(
    workspace: Annotated[Path, typer.Option("--workspace", help="where to build the demo workspace")] = Path("demo-workspace"),
    base: Annotated[Optional[str], typer.Option(help="a real model (Hugging Face name or local path) instead of the tiny offline one")] = None,
    with_label_studio: Annotated[bool, typer.Option("--with-label-studio", help="start a real Label Studio; scripted people answer through its API")] = False,
    pause_for_people: Annotated[bool, typer.Option("--pause-for-people", help="stop after each push to Label Studio so that you review and rank")] = False,
    resume: Annotated[bool, typer.Option("--resume", help="pull what people did in Label Studio and go on from where the demo paused")] = False,
    label_url: Annotated[Optional[str], typer.Option(help="use this running Label Studio (token in $LABEL_STUDIO_API_KEY) instead of starting one")] = None,
) -> None:
    """Run the loop on the bundled sample (a WordPress export and transcripts), stage by stage.

    Example: housevoice demo --workspace demo-workspace --pause-for-people
    """
    from housevoice.demo import resume_demo, run_demo

    if resume:
        if base or label_url or with_label_studio or pause_for_people:
            raise HousevoiceError("--resume goes on with the settings the demo started with",
                                  hint=f"run `housevoice demo --resume --workspace {workspace}` alone")
        resume_demo(workspace, console=console)
        return
    people = "pause" if pause_for_people else "label-studio" if (with_label_studio or label_url) else "scripted"
    run_demo(workspace, console=console, base=base, people=people, label_url=label_url)


def _register_stage_commands() -> None:
    """Each stage's commands live beside the stage (`<stage>/commands.py`) and are mounted here."""
    import importlib

    for module_name in ("housevoice.label.commands", "housevoice.tune.commands",
                        "housevoice.evaluate.commands", "housevoice.dashboard.commands"):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue  # that stage is not installed in this build
            raise
        module.register(app)


_register_stage_commands()


def main() -> None:
    from housevoice.registry import is_main_process

    if not is_main_process():  # every rank of a multi-process run prints the same report: rank 0 alone speaks
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
    try:
        rc = app(standalone_mode=False)  # with standalone_mode off, Ctrl-C comes back as 130
        if isinstance(rc, int) and rc != 0:
            if rc == 130:
                err.print("interrupted; tables were left as they were before this command")
            sys.exit(rc)
    except HousevoiceError as exc:
        err.print(f"error: {exc.message}", soft_wrap=True)
        if exc.hint:
            err.print(f"  → {exc.hint}", soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        err.print("interrupted; tables were left as they were before this command")
        sys.exit(130)
    except (typer.Abort, typer.Exit) as exc:
        sys.exit(getattr(exc, "exit_code", 1))
    except Exception as exc:  # usage errors (typer bundles its own click: match by shape, not class)
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):
            exc.show()
            sys.exit(exc.exit_code or 2)
        raise
