"""The demo: the bundled sample through every stage of the loop, with a one-line summary per stage."""

from __future__ import annotations

import shutil
import time
from importlib import resources
from pathlib import Path

from rich.console import Console

from housevoice.store import CONFIG_FILE, Workspace

SAMPLE_TARGET_AUTHOR = "Niko Matsakis"


def sample_dir() -> Path:
    return Path(str(resources.files("housevoice") / "sample"))


class _Stages:
    """Numbered stage headers and a timed one-line summary after each."""

    def __init__(self, console: Console):
        self.console, self.n, self.start = console, 0, time.perf_counter()

    def begin(self, title: str) -> float:
        self.n += 1
        self.console.rule(f"{self.n}. {title}")
        return time.perf_counter()

    def done(self, began: float, line: str) -> None:
        self.console.print(f"  {line}  ({time.perf_counter() - began:.0f} s)")


def run_demo(workspace: Path, *, console: Console | None = None, base: str | None = None,
             stop_after: str | None = None) -> Workspace:
    """Run the loop on the bundled sample. `base`: a real model instead of the tiny offline one."""
    from housevoice.curate.pipeline import curate
    from housevoice.curate.report import write_report
    from housevoice.demo_people import scripted_ranking, scripted_review
    from housevoice.ingest import ingest_sources

    console = console or Console(highlight=False, markup=False)
    stages = _Stages(console)
    sample = sample_dir()
    if (workspace / CONFIG_FILE).exists():
        console.print(f"starting over: removing the earlier demo workspace {workspace}")
        shutil.rmtree(workspace)
    ws = Workspace.create(workspace, name="housevoice demo")

    t = stages.begin("ingest the bundled WordPress export and transcripts")
    result = ingest_sources(ws, [sample / "blog.wxr.xml", sample / "transcripts"])
    for s in result.sources:
        skipped = ", ".join(f"{v} {k}" for k, v in sorted(s.skipped.items()))
        console.print(f"  {s.source}: {s.read} records from {s.files} file(s) ({s.format})" + (f"; skipped {skipped}" if skipped else ""))
    stages.done(t, f"{result.total_records} records in {result.table_path}")

    t = stages.begin("curate: flag what would poison a voice model")
    summary = curate(ws, target_author=SAMPLE_TARGET_AUTHOR, stale_before="2016-01-01")
    console.print("  flags: " + ", ".join(f"{k} {v}" for k, v in summary.flags.items()))
    stages.done(t, "routes: " + ", ".join(f"{r} {summary.routes.get(r, 0)}" for r in ("keep", "review", "drop")))

    t = stages.begin("report")
    rep = write_report(ws)
    stages.done(t, f"{rep.html_path} ({len(rep.plots)} plots)")

    t = stages.begin("review (a scripted reviewer stands in for your domain experts)")
    decided = scripted_review(ws)
    from housevoice.label.decisions import record_rule_decisions, training_records

    rules = record_rule_decisions(ws)
    train = training_records(ws)
    stages.done(t, f"approved {decided['approve']}, rejected {decided['reject']} (origin demo:reviewer); "
                   f"{rules} rule decisions; training set {len(train)} records")
    if stop_after == "review":
        return ws

    from housevoice.tune.dpo import run_dpo
    from housevoice.tune.reward import run_reward
    from housevoice.tune.rlhf import run_rlhf
    from housevoice.tune.sample import run_sample
    from housevoice.tune.sft import run_sft

    quick: dict = {}
    if base is None:
        quick = {"epochs": 1, "max_length": 256}  # the tiny model learns little more from longer runs
        t = stages.begin("build a tiny offline model (a few million parameters; --base MODEL for a real one)")
        from housevoice.tune.tiny import build_tiny_model

        tiny = build_tiny_model(ws.root / "models" / "tiny-base", workspace=ws)
        base = str(tiny.path)
        stages.done(t, f"{tiny.parameters:,} parameters, vocabulary {tiny.vocab_size:,}, at {tiny.path}")

    t = stages.begin("SFT on the approved records (LoRA)")
    sft = run_sft(ws, base, console=console, **quick)
    stages.done(t, f"version {sft.version_id}: {sft.records} records, {sft.examples} examples")

    t = stages.begin("samples to rank")
    samples = run_sample(ws, [sft.version_id], n=2, limit=12, max_new_tokens=48)
    stages.done(t, f"{samples.samples} responses to {samples.prompts} prompts")

    t = stages.begin("ranking (a scripted ranker stands in for your annotators)")
    pairs = scripted_ranking(ws, [sft.version_id])
    stages.done(t, f"{pairs} preference pairs (origin demo:ranker)")

    t = stages.begin("reward model")
    reward = run_reward(ws, epochs=1)
    acc = f"{reward.accuracy:.0%}" if reward.accuracy is not None else "n/a"
    stages.done(t, f"version {reward.version_id}: {reward.pairs} pairs, held-out pairwise accuracy {acc}")

    t = stages.begin("RLHF against the reward model (GRPO)")
    rl = run_rlhf(ws, sft.version_id, reward.version_id, steps=2, max_new_tokens=32)
    stages.done(t, f"version {rl.version_id}: {rl.steps} steps; log {rl.log_path}")

    t = stages.begin("DPO on the same preferences")
    dpo = run_dpo(ws, sft.version_id, epochs=1)
    stages.done(t, f"version {dpo.version_id}: {dpo.pairs} pairs")

    trained = [sft.version_id, rl.version_id, dpo.version_id]
    _evaluate(ws, trained, stages, console)

    console.rule("done")
    _print_versions(ws, console)
    console.print(f"total {time.perf_counter() - stages.start:.0f} s · workspace {ws.root}")
    console.print(f"curation report: {rep.html_path.resolve().as_uri()}")
    console.print(f"open the dashboard: housevoice dashboard {ws.root}")
    return ws


def _evaluate(ws: Workspace, versions: list[str], stages: _Stages, console: Console) -> None:
    from housevoice.evaluate.bench import evaluate_bench
    from housevoice.evaluate.heldout import evaluate_voice

    for vid in versions:
        t = stages.begin(f"evaluate {vid}: voice fidelity and the offline benchmark suite")
        voice = evaluate_voice(ws, vid, prompts=8, max_new_tokens=48)
        bench = evaluate_bench(ws, vid, limit=40)
        mine = voice.scores[0]
        base = next((v for v in voice.scores[1:]), None)
        line = f"voice {mine.mean:.2f} ± {mine.std:.2f} (n={mine.n})" + (f", base {base.mean:.2f}" if base else "")
        metrics = {m["metric"]: m["value"] for m in bench.scores[0].metrics}
        shown = [f"{k} {v:.3g}" for k, v in metrics.items() if k.endswith(("/acc", "/word_perplexity"))]
        stages.done(t, line + (" · " + ", ".join(shown) if shown else ""))


def _print_versions(ws: Workspace, console: Console) -> None:
    from rich.table import Table

    from housevoice.registry import Registry

    table = Table(title="model versions", show_edge=False)
    for col in ("version", "kind", "parent", "stage", "status"):
        table.add_column(col)
    for v in Registry(ws).versions():
        table.add_row(v["version_id"], v["kind"], v["parent_version"] or "-", v["stage"], v["status"])
    console.print(table)
