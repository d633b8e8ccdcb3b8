"""`housevoice model …` and `housevoice tune …`: thin wrappers over the tuning functions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from housevoice.registry import check_versions

console = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)

WorkspaceArg = Annotated[Path, typer.Argument(help="the workspace folder (made by `housevoice init`)")]

model_app = typer.Typer(help="Models to start from.\n\nExample: housevoice model tiny tiny-model --from ws",
                        no_args_is_help=True, add_completion=False)
tune_app = typer.Typer(
    help="Train model versions: SFT, samples to rank, a reward model, RLHF, DPO.\n\n"
         "Example: housevoice tune sft ws --base Qwen/Qwen2.5-0.5B",
    no_args_is_help=True, add_completion=False)


def _spinner(text: str):
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    progress = Progress(SpinnerColumn(), TextColumn(text), TimeElapsedColumn(), console=err, transient=True)
    progress.add_task(text, total=None)
    return progress


@model_app.command("tiny")
def tiny(
    out: Annotated[Path, typer.Argument(help="an empty or new folder for the model")],
    from_workspace: Annotated[Optional[Path], typer.Option("--from", help="train the tokenizer on this workspace's text (default: the bundled sample)")] = None,
) -> None:
    """Build a tiny offline model (BPE tokenizer with a chat template + a few-million-parameter LM).

    For tests, the demo, and a smoke test of the whole loop before renting a GPU.

    Example: housevoice model tiny tiny-model --from ws
    """
    from housevoice.tune.tiny import build_tiny_model

    with _spinner("training a tokenizer and building the model"):
        model = build_tiny_model(out, workspace=from_workspace)
    console.print(f"built a {model.parameters / 1e6:.1f}M-parameter model with a {model.vocab_size}-token "
                  f"vocabulary (tokenizer trained on {model.texts} texts from {model.source})")
    console.print(f"next: housevoice tune sft WORKSPACE --base {model.path}")
    console.print(str(model.path))


@tune_app.command("sft")
def sft(
    workspace: WorkspaceArg,
    base: Annotated[str, typer.Option("--base", help="a Hugging Face model name (already downloaded) or a local folder")],
    full: Annotated[bool, typer.Option("--full", help="train every weight instead of a LoRA adapter")] = False,
    resume: Annotated[bool, typer.Option("--resume", help="continue the last interrupted run from its checkpoint")] = False,
    epochs: Annotated[Optional[float], typer.Option(help="passes over the training set (default: [tune] epochs)")] = None,
    save_steps: Annotated[Optional[int], typer.Option(help="a checkpoint every N steps (default: [tune] save_steps)")] = None,
    max_length: Annotated[Optional[int], typer.Option(help="longest sequence in tokens; longer records are split at paragraphs")] = None,
) -> None:
    """Fine-tune a base model on the records routed keep or approved in review, and register the version.

    Example: housevoice tune sft ws --base Qwen/Qwen2.5-0.5B --epochs 2
    """
    check_versions(workspace)
    from housevoice.tune.sft import run_sft

    result = run_sft(workspace, base, full=full, resume=resume, epochs=epochs, save_steps=save_steps,
                     max_length=max_length)
    for note in result.notes:
        console.print(f"[yellow]note:[/] {note}")
    resumed = f", resumed from {result.resumed_from}" if result.resumed_from else ""
    loss = f", final loss {result.train_loss:.3f}" if result.train_loss is not None else ""
    steps = f", {result.steps} steps" if result.steps is not None else ""
    packed = ", packed without padding" if result.packed else ""
    console.print(f"trained on {result.records} records ({result.examples} examples{steps}{packed}) "
                  f"in {result.seconds:.0f} s"
                  f"{resumed}{loss}; saved in {result.artifact}")
    console.print(f"next: housevoice tune sample {workspace} --versions {result.version_id}")
    console.print(result.version_id)


@tune_app.command("sample")
def sample(
    workspace: WorkspaceArg,
    versions: Annotated[list[str], typer.Option("--versions", help="the versions to sample: --versions V1 V2 …")],
    more_versions: Annotated[Optional[list[str]], typer.Argument(hidden=True, help="more versions after --versions")] = None,
    n: Annotated[Optional[int], typer.Option("--n", help="responses per prompt per version (default 2)")] = None,
    limit: Annotated[Optional[int], typer.Option(help="at most this many held-out prompts")] = None,
    seed: Annotated[Optional[int], typer.Option(help="sampling seed")] = None,
    temperature: Annotated[Optional[float], typer.Option(help="sampling temperature")] = None,
    max_new_tokens: Annotated[Optional[int], typer.Option(help="longest response in tokens")] = None,
) -> None:
    """Generate responses to held-out prompts into tables/samples.parquet, for people to rank.

    Example: housevoice tune sample ws --versions sft-20250101-120000-ab12 --n 2
    """
    versions = [v for item in [*versions, *(more_versions or [])] for v in item.split(",") if v.strip()]
    check_versions(workspace, *versions)
    from housevoice.tune.sample import run_sample

    with _spinner(f"sampling {len(versions)} version(s)"):
        result = run_sample(workspace, versions, n=n, limit=limit, seed=seed, temperature=temperature,
                            max_new_tokens=max_new_tokens)
    params = ", ".join(f"{k} {v}" for k, v in result.params.items())
    console.print(f"{result.samples} responses to {result.prompts} prompts from {len(result.versions)} version(s) "
                  f"({params}) appended to {result.table_path}")
    console.print(f"next: housevoice label rank push {workspace} --versions {' '.join(result.versions)}")


@tune_app.command("reward")
def reward(
    workspace: WorkspaceArg,
    base: Annotated[Optional[str], typer.Option("--base", help="start from this model instead of the latest SFT version")] = None,
    full: Annotated[bool, typer.Option("--full", help="train every weight instead of a LoRA adapter")] = False,
    epochs: Annotated[Optional[float], typer.Option(help="passes over the pairs")] = None,
) -> None:
    """Train a reward model on the preference pairs; report its accuracy on held-out pairs.

    Example: housevoice tune reward ws
    """
    check_versions(workspace)
    from housevoice.tune.reward import run_reward

    result = run_reward(workspace, base=base, full=full, epochs=epochs)
    if result.accuracy is None:
        console.print(f"trained on {result.pairs} pairs; too few pairs to hold any out for a held-out accuracy")
    else:
        console.print(f"trained on {result.pairs} pairs; held-out pairwise accuracy "
                      f"{result.accuracy:.2f} on {result.held_out} pairs")
    console.print(f"next: housevoice tune rlhf {workspace} --policy SFT_VERSION --reward {result.version_id}")
    console.print(result.version_id)


@tune_app.command("rlhf")
def rlhf(
    workspace: WorkspaceArg,
    policy: Annotated[str, typer.Option("--policy", help="the version to improve (usually an SFT version)")],
    reward: Annotated[str, typer.Option("--reward", help="the reward-model version to train against")],
    algo: Annotated[Optional[str], typer.Option("--algo", help="grpo (default) or rloo")] = None,
    steps: Annotated[Optional[int], typer.Option(help="RL steps")] = None,
    beta: Annotated[Optional[float], typer.Option(help="KL penalty to the policy you start from")] = None,
    max_new_tokens: Annotated[Optional[int], typer.Option(help="longest response per RL generation")] = None,
) -> None:
    """Online RL against the reward model (GRPO or RLOO) with a KL penalty; logs reward, KL and length.

    Example: housevoice tune rlhf ws --policy sft-20250101-120000-ab12 --reward reward-20250102-090000-cd34
    """
    check_versions(workspace, policy, reward)
    from housevoice.tune.rlhf import run_rlhf

    result = run_rlhf(workspace, policy, reward, algo=algo, steps=steps, beta=beta, max_new_tokens=max_new_tokens)
    console.print(f"{result.algo.upper()}: {result.steps} steps on {result.prompts} prompts in {result.seconds:.0f} s; "
                  f"per-step log {result.log_path}, plot {result.plot_path}")
    console.print(f"next: housevoice tune sample {workspace} --versions {policy} {result.version_id}")
    console.print(result.version_id)


@tune_app.command("dpo")
def dpo(
    workspace: WorkspaceArg,
    policy: Annotated[str, typer.Option("--policy", help="the version to improve (usually an SFT version)")],
    epochs: Annotated[Optional[float], typer.Option(help="passes over the pairs")] = None,
    beta: Annotated[Optional[float], typer.Option(help="how far from the policy DPO may move (smaller: further)")] = None,
) -> None:
    """Train directly on the preference pairs with DPO (a LoRA adapter on the policy).

    Example: housevoice tune dpo ws --policy sft-20250101-120000-ab12
    """
    check_versions(workspace, policy)
    from housevoice.tune.dpo import run_dpo

    result = run_dpo(workspace, policy, epochs=epochs, beta=beta)
    loss = f", final loss {result.train_loss:.3f}" if result.train_loss is not None else ""
    console.print(f"trained on {result.pairs} pairs in {result.seconds:.0f} s{loss}; saved in {result.artifact}")
    console.print(f"next: housevoice tune sample {workspace} --versions {policy} {result.version_id}")
    console.print(result.version_id)


def export(
    workspace: WorkspaceArg,
    out: Annotated[Path, typer.Argument(help="a new (or empty) folder for the model")],
    version: Annotated[Optional[str], typer.Option("--version", help="the version to export (default: the promoted one)")] = None,
) -> None:
    """Write a version as a standalone model folder (adapters merged, tokenizer, a model card) to serve or share.

    Example: housevoice export ws voice-model
    """
    check_versions(workspace, *([version] if version else []))
    from housevoice.tune.export import export_version

    with _spinner("merging and writing the model"):
        result = export_version(workspace, out, version)
    console.print(f"exported {result.version_id} ({' → '.join(result.chain)}) to {result.path}: "
                  f"{result.parameters / 1e6:,.1f}M parameters, {result.size_mb:,.1f} MB, with README.md (model card) "
                  "and housevoice.json (lineage, training data, scores, promotions)")
    console.print(f"next: load it with transformers (AutoModelForCausalLM.from_pretrained('{result.path}')) "
                  f"or serve it (vllm serve {result.path})")
    console.print(str(result.path))


def register(app: typer.Typer) -> None:
    app.add_typer(model_app, name="model")
    app.add_typer(tune_app, name="tune")
    app.command("export")(export)
