"""The `housevoice label …` and `housevoice decisions` commands: thin wrappers over the label stage."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

console = Console(highlight=False)
err = Console(stderr=True, highlight=False)

WorkspaceArg = Annotated[Path, typer.Argument(help="the workspace folder (made by `housevoice init`)")]

label_app = typer.Typer(help="People in the loop: expert review and preference ranking in Label Studio.\n\n"
                        "Example: housevoice label serve ws", no_args_is_help=True)
review_app = typer.Typer(help="Expert review round trip into `decisions`.\n\nExample: housevoice label review push ws",
                         no_args_is_help=True)
rank_app = typer.Typer(help="Preference ranking round trip into `preferences`.\n\n"
                       "Example: housevoice label rank push ws --versions sft-a sft-b", no_args_is_help=True)
label_app.add_typer(review_app, name="review")
label_app.add_typer(rank_app, name="rank")


@label_app.command("serve")
def serve_command(
    workspace: WorkspaceArg,
    port: Annotated[Optional[int], typer.Option(help="port on 127.0.0.1 (default: a free one)")] = None,
) -> None:
    """Start a local Label Studio for this workspace (its own environment, made on first use).

    Example: housevoice label serve ws --port 8080
    """
    from housevoice.label.server import serve

    server = serve(workspace, port=port, say=lambda line: err.print(line))
    console.print(("started" if server.started else "already running") + f" Label Studio at {server.url}  (pid {server.pid})")
    console.print(f"login: {server.username}  password: in {server.data_dir / 'credentials.json'}")
    console.print(f"data: {server.data_dir}")
    console.print(f"stop it with: housevoice label stop {workspace}")
    console.print(f"next: housevoice label review push {workspace}")


@label_app.command("stop")
def stop_command(workspace: WorkspaceArg) -> None:
    """Stop this workspace's local Label Studio (its data stays in WS/label-studio/).

    Example: housevoice label stop ws
    """
    from housevoice.label.server import stop

    stopped = stop(workspace)
    console.print("stopped Label Studio" if stopped else f"Label Studio was not running for {workspace}")
    console.print(f"next: housevoice label serve {workspace} to start it again")


@review_app.command("push")
def review_push(
    workspace: WorkspaceArg,
    where: Annotated[Optional[str], typer.Option(help="send other records: route=drop, flag=pii or record_id=ID,ID")] = None,
) -> None:
    """Send records routed to review (not yet pushed nor decided) to the review project.

    Example: housevoice label review push ws --where flag=near_duplicate
    """
    from housevoice.label.review import push_review

    s = push_review(workspace, where=where)
    console.print(f"pushed {s.pushed} records; {s.already_pushed} were pushed before, {s.already_decided} already decided")
    if s.rule_decisions:
        console.print(f"recorded {s.rule_decisions} rule decisions (keep/drop by curation) in decisions")
    console.print(f"review them at {s.project_url}")
    console.print(f"next: housevoice label review pull {workspace}")


@review_app.command("pull")
def review_pull(
    workspace: WorkspaceArg,
    full: Annotated[bool, typer.Option("--full", help="read every task again, not only those changed since the last pull")] = False,
) -> None:
    """Append new and changed review annotations to tables/decisions.parquet (pulling twice adds nothing).

    After a complete pull, the next one reads only the tasks Label Studio changed since then.

    Example: housevoice label review pull ws
    """
    from housevoice.label.review import pull_review

    s = pull_review(workspace, full=full, progress=lambda done, total: err.print(f"fetched batch {done}/{total}"))
    for line in s.invalid[:10]:
        console.print(f"[yellow]skipped:[/] {line}")
    console.print(f"{s.annotations} annotations in project {s.project_id}: {s.appended} new or changed, {s.unchanged} already pulled"
                  + (f", {len(s.invalid)} skipped" if s.invalid else ""))
    console.print(f"wrote {s.table_path}")
    console.print(f"next: housevoice decisions {workspace}")


@rank_app.command("push")
def rank_push(
    workspace: WorkspaceArg,
    versions: Annotated[list[str], typer.Option("--versions", help="model versions whose samples to rank")],
) -> None:
    """Ranking tasks from tables/samples.parquet: pairs for 2 responses, a list for 3+, versions hidden.

    Example: housevoice label rank push ws --versions sft-a sft-b
    """
    from housevoice.label.ranking import push_rankings

    s = push_rankings(workspace, versions)
    console.print(f"pushed {s.pair_tasks} pairwise and {s.list_tasks} list tasks; {s.already_pushed} pushed before, "
                  f"{s.skipped_prompts} prompts with fewer than 2 responses skipped")
    for url in s.project_urls:
        console.print(f"rank them at {url}")
    console.print(f"next: housevoice label rank pull {workspace}")


def _print_rank_summary(s, workspace: Path) -> None:
    for line in s.invalid[:10]:
        console.print(f"[yellow]skipped:[/] {line}")
    console.print(f"{s.rankings} rankings ({s.ties} ties, no pairs): {s.appended_pairs} new pairs, {s.unchanged} already there")
    console.print(f"wrote {s.table_path}")
    console.print(f"next: housevoice label agreement {workspace}")


@rank_app.command("pull")
def rank_pull(workspace: WorkspaceArg) -> None:
    """Expand each new ranking into its (chosen, rejected) pairs in tables/preferences.parquet.

    Example: housevoice label rank pull ws
    """
    from housevoice.label.ranking import pull_rankings

    _print_rank_summary(pull_rankings(workspace), workspace)


@rank_app.command("import")
def rank_import(
    workspace: WorkspaceArg,
    file: Annotated[Path, typer.Argument(help='JSONL: {"prompt", "responses": [...], "ranking": [indexes, best first], "annotator"}')],
) -> None:
    """Rankings made elsewhere into tables/preferences.parquet; a bad line writes nothing.

    Example: housevoice label rank import ws rankings.jsonl
    """
    from housevoice.label.ranking import import_rankings

    _print_rank_summary(import_rankings(workspace, file), workspace)


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


@label_app.command("agreement")
def agreement_command(workspace: WorkspaceArg) -> None:
    """Pairwise agreement and Krippendorff's alpha, per project and per annotator.

    Example: housevoice label agreement ws
    """
    from housevoice.label.agreement import agreement_report

    report = agreement_report(workspace)
    table = Table(show_edge=False)
    for col in ("", "annotators", "shared pairs", "pairwise agreement", "alpha"):
        table.add_column(col, justify="left" if not col else "right")
    for a in [report.overall, *report.projects, *report.annotators]:
        table.add_row(a.name, str(a.annotators), str(a.shared_items), _fmt(a.pairwise), _fmt(a.alpha))
    console.print(table)
    console.print(f"{len(report.projects)} projects, {len(report.annotators)} annotators; "
                  f"overall alpha {_fmt(report.overall.alpha)}")
    console.print(f"next: housevoice tune reward {workspace}")


def decisions_command(
    workspace: WorkspaceArg,
    limit: Annotated[int, typer.Option(help="how many latest decisions to list")] = 20,
) -> None:
    """Counts and the latest decision per record; the training set is keep + approved (edited text where given).

    Example: housevoice decisions ws --limit 50
    """
    from housevoice.label.decisions import decision_summary

    s = decision_summary(workspace)
    table = Table(show_edge=False)
    for col in ("record", "decision", "reviewer", "decided at", "origin", "edited"):
        table.add_column(col)
    for row in s.latest.tail(limit).iter_rows(named=True):
        table.add_row(row["record_id"], row["decision"], row["reviewer"] or "-", str(row["decided_at"])[:19],
                      row["origin"], "yes" if row["edited_text"] else "")
    if len(s.latest):
        console.print(table)
    console.print("latest decisions: " + (", ".join(f"{k} {v}" for k, v in s.by_decision.items()) or "none")
                  + f" ({s.by_origin['people']} by people, {s.by_origin['rules']} by rules; {s.log_rows} rows in the log)")
    console.print(f"training set: {s.training} records; {s.awaiting_review} records still await review")
    console.print(f"next: housevoice label review push {workspace}" if s.awaiting_review else f"next: housevoice tune sft {workspace}")


def register(app: typer.Typer) -> None:
    app.add_typer(label_app, name="label")
    app.command("decisions")(decisions_command)
