"""`housevoice evaluate voice|bench` and `housevoice versions`: thin wrappers over the evaluation functions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from housevoice.registry import check_versions

console = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)

WorkspaceArg = Annotated[Path, typer.Argument(help="the workspace folder (made by `housevoice init`)")]
VersionOpt = Annotated[list[str], typer.Option("--version", "-v", metavar="VERSION", help="the version id to evaluate (see `housevoice versions`); "
                                                                    "repeat it to score several in one run")]

evaluate_app = typer.Typer(
    help="Score model versions: voice fidelity, and lm-eval benchmarks to catch forgetting.\n\n"
         "Example: housevoice evaluate voice ws --version sft-20250101-120000-ab12",
    no_args_is_help=True, add_completion=False)

# The columns `housevoice versions` shows, when a version has them: (suite, metric, header).
SHOWN_SCORES = (("voice", "mean", "voice"), ("lm-eval", "heldout_perplexity/word_perplexity", "held-out ppl"),
                ("lm-eval", "housevoice_mc/acc", "mc acc"))


def _spinner(text: str):
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    progress = Progress(SpinnerColumn(), TextColumn(text), TimeElapsedColumn(), console=err, transient=True)
    progress.add_task(text, total=None)
    return progress


@evaluate_app.command("voice")
def voice(
    workspace: WorkspaceArg,
    version: VersionOpt,
    prompts: Annotated[Optional[int], typer.Option(help="at most this many held-out prompts (default: [tune] sample_prompts)")] = None,
    max_new_tokens: Annotated[Optional[int], typer.Option(help="longest response (default: [tune] max_new_tokens)")] = None,
    seed: Annotated[Optional[int], typer.Option(help="sampling seed (default: [tune] seed)")] = None,
    base: Annotated[bool, typer.Option("--base/--no-base", help="also score the base model the version started from (once)")] = True,
) -> None:
    """Write a response to each held-out prompt and score how much it sounds like the approved writing.

    Stores mean, spread (std) and n in the registry (suite `voice`); the responses go to
    tables/samples.parquet for the dashboard.

    Example: housevoice evaluate voice ws --version sft-20250101-120000-ab12
    (repeat --version to score several versions, their base once)
    """
    version = list(dict.fromkeys(version))  # (each once)
    check_versions(workspace, *version)
    from housevoice.evaluate.heldout import evaluate_voice

    for one in version:
        with _spinner(f"writing and scoring responses of {one}"):
            result = evaluate_voice(workspace, one, prompts=prompts, max_new_tokens=max_new_tokens, seed=seed, with_base=base)
        for s in result.scores:
            again = " (kept from an earlier run)" if s.reused else ""
            console.print(f"{s.version_id}: voice {s.mean:.3f} ± {s.std:.3f} over {s.n} responses{again}")
        for note in result.notes:
            console.print(f"[yellow]note:[/] {note}")
        if result.samples_path:
            console.print(f"responses in {result.samples_path}; details in {result.scores[0].details_path.parent}")
    shown = " ".join(f"--version {one}" for one in version)
    console.print(f"next: housevoice evaluate bench {workspace} {shown}, then housevoice versions {workspace}")


@evaluate_app.command("bench")
def bench(
    workspace: WorkspaceArg,
    version: VersionOpt,
    tasks: Annotated[Optional[str], typer.Option(help="comma-separated lm-eval tasks (default: heldout_perplexity,housevoice_mc; "
                                                      "standard ones like hellaswag,arc_easy need a network or a cache)")] = None,
    limit: Annotated[Optional[int], typer.Option(help="at most this many examples per task (a quick check)")] = None,
    batch_size: Annotated[int, typer.Option(help="examples per forward pass")] = 8,
    backend: Annotated[str, typer.Option(help="auto (vLLM when installed and on a GPU, else hf), hf or vllm")] = "auto",
    base: Annotated[bool, typer.Option("--base/--no-base", help="also run the base model the version started from (once)")] = True,
) -> None:
    """Run lm-eval on a version (base + adapters) and its base; store every metric with stderr and n.

    Example: housevoice evaluate bench ws --version sft-20250101-120000-ab12 --tasks heldout_perplexity,housevoice_mc
    (repeat --version to run several versions, their base once)
    """
    version = list(dict.fromkeys(version))  # (each once)
    check_versions(workspace, *version)
    from housevoice.evaluate.bench import evaluate_bench

    names = [t for t in (tasks or "").split(",") if t.strip()] or None
    for one in version:
        with _spinner(f"running lm-eval on {one}"):
            result = evaluate_bench(workspace, one, tasks=names, limit=limit, batch_size=batch_size,
                                    backend=backend, with_base=base)
        table = Table(show_edge=False)
        for col in ("version", "metric", "value", "stderr", "n"):
            table.add_column(col, justify="left" if col in ("version", "metric") else "right")
        for s in result.scores:
            for m in s.metrics:
                stderr = "-" if m["stderr"] is None else f"{m['stderr']:.4g}"
                table.add_row(s.version_id, m["metric"], f"{m['value']:.4g}", stderr, str(m["n"] if m["n"] is not None else "-"))
        console.print(table)
        for s in result.scores:
            how = "kept from an earlier run" if s.reused else f"{s.seconds:.1f} s"
            console.print(f"{s.version_id}: {len(s.metrics)} metrics ({how}); lm-eval output {s.details_path}")
        if result.held_out_records:
            console.print(f"held-out perplexity over {result.held_out_records} records {one} did not learn from")
    console.print(f"next: housevoice versions {workspace}")


@evaluate_app.command("reward")
def reward(
    workspace: WorkspaceArg,
    reward_version: Annotated[str, typer.Option("--reward", "-r", help="the reward-model version that reads the responses")],
    versions: Annotated[Optional[list[str]], typer.Option("--versions", help="only these versions' samples (default: all)")] = None,
    again: Annotated[bool, typer.Option("--again", help="score samples this reward model already scored once more")] = False,
    batch_size: Annotated[int, typer.Option(help="responses per forward pass")] = 8,
) -> None:
    """Score the versions' samples with a reward model: per response (for the dashboard) and per version (mean).

    Scores go to tables/sample_scores.parquet; each version's mean, stderr and n to the registry
    (suite `reward`, metric `score:<reward version>`). Samples already scored are skipped.

    Example: housevoice evaluate reward ws --reward reward-20250101-120000-ab12
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    check_versions(workspace, reward_version, *(versions or []))
    from housevoice.evaluate.reward_scores import score_samples

    with Progress(TextColumn(f"scoring with {reward_version}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=True) as bar:
        task = bar.add_task("score", total=None)
        result = score_samples(workspace, reward_version, versions=versions, again=again, batch_size=batch_size,
                               progress=lambda done, total: bar.update(task, completed=done, total=total))
    console.print(f"{result.scored} responses scored by {reward_version}"
                  + (f" ({result.already_scored} scored before, kept)" if result.already_scored else "")
                  + f" in {result.seconds:.1f} s")
    for v in result.per_version:
        console.print(f"{v.version_id}: reward {v.mean:.3f} ± {v.std:.3f} over {v.n} responses")
    if result.table_path:
        console.print(f"scores in {result.table_path}")
    console.print(f"next: housevoice dashboard {workspace} (Compare shows each response's reward)")


def versions_with_scores(workspace) -> list[dict[str, Any]]:
    """Every registered version with its latest score per (suite, metric): what `versions` shows."""
    from housevoice.evaluate.heldout import open_workspace
    from housevoice.registry import Registry

    registry = Registry(open_workspace(workspace))
    latest: dict[str, dict[str, dict[str, dict]]] = {}
    for row in registry.eval_results():  # oldest first, so a later run replaces an earlier one
        latest.setdefault(row["version_id"], {}).setdefault(row["suite"], {})[row["metric"]] = {
            "value": row["value"], "stderr": row["stderr"], "n": row["n"], "created_at": row["created_at"],
            "details_path": row["details_path"]}
    out = []
    for v in registry.versions():
        config = json.loads(v.pop("config") or "{}")
        out.append({**v, "config": config, "scores": latest.get(v["version_id"], {})})
    return out


def versions(
    workspace: WorkspaceArg,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON (every score, with stderr and n)")] = False,
) -> None:
    """The registry: every version with its kind, stage, parent and latest scores.

    Example: housevoice versions ws --json
    """
    rows = versions_with_scores(workspace)
    if as_json:
        print(json.dumps(rows, indent=1, default=str))
        return
    if not rows:
        console.print(f"no versions yet; next: housevoice tune sft {workspace} --base MODEL")
        return
    table = Table(show_edge=False)
    for col in ("version", "kind", "stage", "status", "from", "created", *(h for _, _, h in SHOWN_SCORES)):
        table.add_column(col, justify="right" if col in {h for _, _, h in SHOWN_SCORES} else "left")
    for v in rows:
        cells = []
        for suite, metric, _ in SHOWN_SCORES:
            score = v["scores"].get(suite, {}).get(metric)
            cells.append("-" if score is None or score["value"] is None else f"{score['value']:.3g}")
        origin = v["parent_version"] or v["base_model"] or "-"
        table.add_row(v["version_id"], v["kind"], v["stage"], v["status"], Path(origin).name if "/" in origin and Path(origin).exists() else origin,
                      (v["created_at"] or "")[:16].replace("T", " "), *cells)
    console.print(table)
    scored = sum(1 for v in rows if v["scores"])
    console.print(f"{len(rows)} versions, {scored} with scores; all metrics: housevoice versions {workspace} --json")


def register(app: typer.Typer) -> None:
    app.add_typer(evaluate_app, name="evaluate")
    app.command("versions")(versions)
