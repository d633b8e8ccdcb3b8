"""The demo: the bundled sample through every stage of the loop, with a one-line summary per stage.

People are scripted: they write straight into the tables, or answer through a real Label Studio
(`--with-label-studio`), or the demo stops after each push for real people (`--pause-for-people`)
and continues with `--resume`; its progress lives in WS/demo-state.json.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

from rich.console import Console

from housevoice.errors import HousevoiceError
from housevoice.store import CONFIG_FILE, Workspace, write_atomic

SAMPLE_TARGET_AUTHOR = "Niko Matsakis"
STATE_FILE = "demo-state.json"
PEOPLE = ("scripted", "label-studio", "pause")


def sample_dir() -> Path:
    return Path(str(resources.files("housevoice") / "sample"))


@dataclass
class DemoState:
    """What the demo did so far and what comes next, saved in WS/demo-state.json."""

    people: str  # scripted | label-studio | pause
    next: str = "review"  # review | pull-review | ranking | pull-ranking | done
    base: str | None = None
    tiny: bool = False
    versions: dict[str, str] = field(default_factory=dict)
    server_started: bool = False  # the demo started a local Label Studio, so it stops it at the end
    report: str = ""
    elapsed_s: float = 0.0
    stages_shown: int = 0  # so that stage numbers go on after a pause
    promoted: str | None = None  # the version the scripted lead's promotion made live, if the gates let it

    def save(self, ws: Workspace) -> None:
        write_atomic(ws.root / STATE_FILE, json.dumps(asdict(self), indent=2).encode())

    @classmethod
    def load(cls, root: Path) -> DemoState:
        path = root / STATE_FILE
        if not path.is_file():
            raise HousevoiceError(f"no paused demo in {root} (no {STATE_FILE})",
                                  hint=f"start one with `housevoice demo --pause-for-people --workspace {root}`")
        try:
            return cls(**json.loads(path.read_text()))
        except (ValueError, TypeError) as exc:
            raise HousevoiceError(f"{path} is damaged ({exc})", hint="start the demo again without --resume") from None


class _Stages:
    """Numbered stage headers and a timed one-line summary after each."""

    def __init__(self, console: Console, n: int = 0, elapsed: float = 0.0):
        self.console, self.n, self.start = console, n, time.perf_counter() - elapsed

    def begin(self, title: str) -> float:
        self.n += 1
        self.console.rule(f"{self.n}. {title}")
        return time.perf_counter()

    def done(self, began: float, line: str) -> None:
        self.console.print(f"  {line}  ({time.perf_counter() - began:.0f} s)")

    def elapsed(self) -> float:
        return time.perf_counter() - self.start


def run_demo(workspace: Path, *, console: Console | None = None, base: str | None = None, people: str = "scripted",
             label_url: str | None = None, stop_after: str | None = None) -> Workspace:
    """Run the loop on the bundled sample, starting over in `workspace`.

    `base`: a real model instead of the tiny offline one. `people`: `scripted` (answers written to the
    tables), `label-studio` (scripted answers through Label Studio) or `pause` (real people, then `resume_demo`).
    `label_url`: a running Label Studio to use (token in the variable named by [label] token_env) instead of a local one.
    """
    from housevoice.curate.pipeline import curate
    from housevoice.curate.report import write_report
    from housevoice.ingest import ingest_sources

    if people not in PEOPLE:
        raise HousevoiceError(f"people={people!r} is not one of {', '.join(PEOPLE)}")
    console = console or Console(highlight=False, markup=False)
    stages = _Stages(console)
    sample = sample_dir()
    if (workspace / CONFIG_FILE).exists():
        console.print(f"starting over: removing the earlier demo workspace {workspace}")
        _stop_local_server(workspace)
        shutil.rmtree(workspace)
    ws = Workspace.create(workspace, name="housevoice demo")
    if label_url:
        _use_label_server(ws, label_url)
        ws = Workspace.open(ws.root)
    state = DemoState(people=people, base=base)

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
    state.report = str(rep.html_path)
    stages.done(t, f"{rep.html_path} ({len(rep.plots)} plots)")

    try:
        if people != "scripted":
            state.server_started = _start_label_studio(ws, stages, console)
        _review(ws, state, stages, console)
        if state.next == "pull-review" or stop_after == "review":
            return ws
        _continue(ws, state, stages, console)
    finally:
        if state.next not in ("pull-review", "pull-ranking"):  # paused: people need the server
            _finish_label_studio(ws, state, console)
    return ws


def resume_demo(workspace: Path, *, console: Console | None = None) -> Workspace:
    """Pull what people did in Label Studio since the demo paused, and go on to the end (or the next pause)."""
    from housevoice.label.ranking import pull_rankings
    from housevoice.label.review import pull_review

    console = console or Console(highlight=False, markup=False)
    state = DemoState.load(Path(workspace))
    ws = Workspace.open(workspace)
    if state.next == "done":
        console.print(f"the demo in {ws.root} has finished already")
        _print_end(ws, state, console)
        return ws
    if state.next not in ("pull-review", "pull-ranking"):
        raise HousevoiceError(f"the demo in {ws.root} did not pause for people (next stage: {state.next})",
                              hint=f"start it again: housevoice demo --workspace {ws.root}")
    stages = _Stages(console, n=state.stages_shown, elapsed=state.elapsed_s)
    state.server_started = _start_label_studio(ws, stages, console) or state.server_started
    try:
        if state.next == "pull-review":
            t = stages.begin("pull the review decisions people made in Label Studio")
            s = pull_review(ws)
            _require_answers(ws, s.annotations, "review")
            stages.done(t, f"{s.annotations} annotations: {s.appended} new decisions (origin label-studio:{s.project_id}/…)")
            _after_review(ws, stages, console)
            state.next = "ranking"
        else:
            t = stages.begin("pull the rankings people made in Label Studio")
            s = pull_rankings(ws)
            _require_answers(ws, s.rankings, "ranking")
            stages.done(t, f"{s.rankings} rankings ({s.ties} ties): {s.appended_pairs} preference pairs")
            state.next = "reward"
        _continue(ws, state, stages, console)
    finally:
        if state.next == "done":
            _finish_label_studio(ws, state, console)
    return ws


# -- the stages ------------------------------------------------------------------------------
def _review(ws: Workspace, state: DemoState, stages: _Stages, console: Console) -> None:
    if state.people == "scripted":
        from housevoice.demo_people import scripted_review

        t = stages.begin("review (a scripted reviewer stands in for your domain experts)")
        decided = scripted_review(ws)
        stages.done(t, f"approved {decided['approve']}, rejected {decided['reject']} (origin demo:reviewer)")
        _after_review(ws, stages, console)
        state.next = "ranking"
        return
    from housevoice.label.client import LabelStudio
    from housevoice.label.review import pull_review, push_review

    client = LabelStudio.for_workspace(ws)
    t = stages.begin("push the records that need a person to Label Studio's review project")
    pushed = push_review(ws, client=client)
    stages.done(t, f"{pushed.pushed} records to review at {pushed.project_url}")
    if state.people == "pause":
        state.next = "pull-review"
        _pause(ws, state, stages, console, [pushed.project_url],
               "for each record, read why it needs a person, choose approve or reject (optionally correct the "
               "text or add a comment), then Submit")
        return
    from housevoice.demo_people import review_in_label_studio

    t = stages.begin("review in Label Studio (a scripted reviewer answers through its API)")
    decided = review_in_label_studio(ws, client, pushed.project_id)
    pulled = pull_review(ws, client=client)
    stages.done(t, f"the scripted reviewer approved {decided['approve']}, rejected {decided['reject']}; pulled "
                   f"{pulled.appended} decisions (origin label-studio:{pulled.project_id}/…)")
    _after_review(ws, stages, console)
    state.next = "ranking"


def _after_review(ws: Workspace, stages: _Stages, console: Console) -> None:
    import polars as pl

    from housevoice.label.decisions import record_rule_decisions, training_records

    record_rule_decisions(ws)  # a push records them too, so count what the log holds
    rules = ws.read_table("decisions").filter(pl.col("origin").str.starts_with("rule:"))["record_id"].n_unique()
    console.print(f"  {rules} records decided by rule (keep/drop by curation); training set {len(training_records(ws))} records")


def _continue(ws: Workspace, state: DemoState, stages: _Stages, console: Console) -> None:
    """From the tiny model to the end, or up to the pause before ranking."""
    from housevoice.tune.dpo import run_dpo
    from housevoice.tune.reward import run_reward
    from housevoice.tune.rlhf import run_rlhf

    if state.next == "ranking":
        _sft_and_samples(ws, state, stages, console)
        _ranking(ws, state, stages, console)
        if state.next == "pull-ranking":
            return
    sft = state.versions["sft"]

    t = stages.begin("reward model")
    reward = run_reward(ws, epochs=1)
    acc = f"{reward.accuracy:.0%}" if reward.accuracy is not None else "n/a"
    state.versions["reward"] = reward.version_id
    stages.done(t, f"version {reward.version_id}: {reward.pairs} pairs, held-out pairwise accuracy {acc}")

    t = stages.begin("RLHF against the reward model (GRPO)")
    rl = run_rlhf(ws, sft, reward.version_id, steps=2, max_new_tokens=32)
    state.versions["rlhf"] = rl.version_id
    stages.done(t, f"version {rl.version_id}: {rl.steps} steps; log {rl.log_path}")

    t = stages.begin("DPO on the same preferences")
    dpo = run_dpo(ws, sft, epochs=1)
    state.versions["dpo"] = dpo.version_id
    stages.done(t, f"version {dpo.version_id}: {dpo.pairs} pairs")

    voices = _evaluate(ws, [sft, rl.version_id, dpo.version_id], stages, console)

    from housevoice.evaluate.reward_scores import score_samples

    t = stages.begin("the reward model reads every response")
    scored = score_samples(ws, reward.version_id)
    stages.done(t, f"{scored.scored} responses; " + ", ".join(f"{v.version_id} {v.mean:.2f}" for v in scored.per_version))
    state.promoted = _promote_and_export(ws, voices, stages)
    state.next, state.elapsed_s = "done", stages.elapsed()
    state.save(ws)
    console.rule("done")
    console.print(f"total {state.elapsed_s:.0f} s · workspace {ws.root}")
    _print_end(ws, state, console)


def _sft_and_samples(ws: Workspace, state: DemoState, stages: _Stages, console: Console) -> None:
    from housevoice.tune.sample import run_sample
    from housevoice.tune.sft import run_sft

    if state.base is None:
        t = stages.begin("build a tiny offline model (--base MODEL for a real one)")
        from housevoice.tune.tiny import build_tiny_model

        tiny = build_tiny_model(ws.root / "models" / "tiny-base", workspace=ws)
        state.base, state.tiny = str(tiny.path), True
        stages.done(t, f"{tiny.parameters:,} parameters, vocabulary {tiny.vocab_size:,}, at {tiny.path}")
    # the tiny model learns little more from longer runs
    quick = {"epochs": 1, "max_length": 256} if state.tiny else {}

    t = stages.begin("SFT on the approved records (LoRA)")
    sft = run_sft(ws, state.base, console=console, **quick)
    state.versions["sft"] = sft.version_id
    stages.done(t, f"version {sft.version_id}: {sft.records} records, {sft.examples} examples")

    t = stages.begin("samples to rank")
    samples = run_sample(ws, [sft.version_id], n=2, limit=12, max_new_tokens=48)
    stages.done(t, f"{samples.samples} responses to {samples.prompts} prompts")


def _ranking(ws: Workspace, state: DemoState, stages: _Stages, console: Console) -> None:
    sft = state.versions["sft"]
    if state.people == "scripted":
        from housevoice.demo_people import scripted_ranking

        t = stages.begin("ranking (a scripted ranker stands in for your annotators)")
        pairs = scripted_ranking(ws, [sft])
        stages.done(t, f"{pairs} preference pairs (origin demo:ranker)")
        state.next = "reward"
        return
    from housevoice.label.client import LabelStudio
    from housevoice.label.ranking import pull_rankings, push_rankings

    client = LabelStudio.for_workspace(ws)
    t = stages.begin("push the samples to Label Studio's ranking project")
    pushed = push_rankings(ws, [sft], client=client)
    stages.done(t, f"{pushed.pair_tasks} pairwise and {pushed.list_tasks} list tasks at {', '.join(pushed.project_urls)}")
    if state.people == "pause":
        state.next = "pull-ranking"
        _pause(ws, state, stages, console, pushed.project_urls,
               "for each prompt, pick the better response (or drag the list into order, best first), then Submit")
        return
    from housevoice.demo_people import rank_in_label_studio

    t = stages.begin("ranking in Label Studio (a scripted ranker answers through its API)")
    ranked = rank_in_label_studio(ws, client)
    pulled = pull_rankings(ws, client=client)
    stages.done(t, f"the scripted ranker ranked {ranked} tasks; pulled {pulled.appended_pairs} preference pairs "
                   "(origin label-studio:<project>/<annotation>)")
    state.next = "reward"


def _promote_and_export(ws: Workspace, voices: dict[str, float], stages: _Stages) -> str | None:
    """A scripted lead asks for the version that sounds most like the writer; the gates of `[promote]` decide.
    The version is exported either way (as `housevoice export --version` would), to show what leaves the workspace."""
    from housevoice.dashboard.promotion import promote_version
    from housevoice.errors import HousevoiceError
    from housevoice.tune.export import export_version

    best = max(voices, key=lambda vid: voices[vid])
    t = stages.begin("promotion (a scripted lead stands in for yours, who would choose in the dashboard)")
    try:
        result = promote_version(ws, best, actor="demo:lead", reason="the best voice fidelity of the demo's versions")
        promoted: str | None = result.version_id
        gates = ", ".join(f"{c.name} passed" for c in result.checks) or "no gates set in [promote] of housevoice.toml"
        stages.done(t, f"{best} is the promoted version ({gates}); the dashboard shows it and can roll back")
    except HousevoiceError as exc:
        promoted = None
        stages.done(t, f"{best} not promoted: {exc} — the gates of [promote] in housevoice.toml hold a model that "
                       "does not beat its base (a tiny model on a sample does not)")
    t = stages.begin(f"export {best}: one model folder with its model card")
    out = export_version(ws, ws.root / "exports" / best, best)
    stages.done(t, f"{out.path}: {out.parameters:,} parameters, {out.size_mb:.1f} MB, lineage {' ← '.join(out.chain)}")
    return promoted


def _evaluate(ws: Workspace, versions: list[str], stages: _Stages, console: Console) -> dict[str, float]:
    """Voice fidelity and the offline benchmark of each version; their mean voice fidelity."""
    from housevoice.evaluate.bench import evaluate_bench
    from housevoice.evaluate.heldout import evaluate_voice

    voices: dict[str, float] = {}
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
        voices[vid] = mine.mean
    return voices


# -- Label Studio ---------------------------------------------------------------------------
def _use_label_server(ws: Workspace, url: str) -> None:
    """Point the demo workspace at a running Label Studio ([label] url; its token stays in the environment)."""
    path = ws.root / CONFIG_FILE
    text, n = re.subn(r'(?m)^url = ""', f"url = {json.dumps(url)}", path.read_text(), count=1)
    if not n:
        raise HousevoiceError(f"cannot set [label] url in {path}", hint="set it by hand, then run the demo with --resume")
    ws.write_text(path, text)


def _start_label_studio(ws: Workspace, stages: _Stages, console: Console) -> bool:
    """Start this workspace's Label Studio unless [label] url names a running one; True when started here."""
    from housevoice.label.client import LabelStudio, connection

    t = stages.begin("Label Studio")
    if ws.config.label.url:
        LabelStudio(connection(ws)).check()
        stages.done(t, f"using the Label Studio at {ws.config.label.url}")
        return False
    from housevoice.label.server import serve

    server = serve(ws, say=lambda line: console.print(f"  {line}"))
    stages.done(t, ("started" if server.started else "already running") + f" at {server.url} (data in {server.data_dir})")
    return server.started


def _stop_local_server(root: Path) -> None:
    """An earlier paused demo may have left its Label Studio running on the folder we are about to remove."""
    from housevoice.label.server import running_server, stop

    try:
        ws = Workspace.open(root)
        if running_server(ws):
            stop(ws)
    except HousevoiceError:
        pass  # a damaged earlier workspace has no server we could stop


def _finish_label_studio(ws: Workspace, state: DemoState, console: Console) -> None:
    if not state.server_started:
        return
    from housevoice.label.server import stop

    stop(ws)
    console.print(f"stopped the demo's Label Studio; its projects stay in {ws.root / 'label-studio'} "
                  f"(look at them with `housevoice label serve {ws.root}`)")


def _require_answers(ws: Workspace, answered: int, what: str) -> None:
    if not answered:
        raise HousevoiceError(f"nobody has answered the {what} tasks in Label Studio yet",
                              hint=f"answer at least one, then run `housevoice demo --resume --workspace {ws.root}` again")


def _pause(ws: Workspace, state: DemoState, stages: _Stages, console: Console, urls: list[str], todo: str) -> None:
    from housevoice.label.server import data_dir

    state.elapsed_s, state.stages_shown = stages.elapsed(), stages.n
    state.save(ws)
    console.rule("your turn: the demo waits for people")
    for url in urls:
        console.print(f"open {url}")
    if ws.config.label.url:
        console.print("log in with your own Label Studio account")
    else:
        console.print(f"log in as {json.loads((data_dir(ws) / 'credentials.json').read_text())['username']}, "
                      f"password in {data_dir(ws) / 'credentials.json'}")
    console.print(f"what to do: {todo}")
    console.print(f"progress saved in {ws.root / STATE_FILE}; Label Studio keeps running until the demo ends")
    console.print(f"next: housevoice demo --resume --workspace {ws.root}")


def _print_end(ws: Workspace, state: DemoState, console: Console) -> None:
    _print_versions(ws, console)
    if state.people == "label-studio":
        console.print("the review and ranking answers came from scripted people through Label Studio's API")
    if state.report:
        console.print(f"curation report: {Path(state.report).resolve().as_uri()}")
    console.print(f"open the dashboard: housevoice dashboard {ws.root}")


def _print_versions(ws: Workspace, console: Console) -> None:
    from rich.table import Table

    from housevoice.registry import Registry

    table = Table(title="model versions", show_edge=False)
    table.add_column("version", no_wrap=True)
    for col in ("kind", "parent", "stage", "status"):
        table.add_column(col)
    for v in Registry(ws).versions():
        table.add_row(v["version_id"], v["kind"], v["parent_version"] or "-", v["stage"], v["status"])
    console.print(table)
