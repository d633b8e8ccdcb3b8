"""Online RL against the reward model (TRL GRPO or RLOO), a KL penalty to the SFT policy, a per-step log."""

from __future__ import annotations

import csv
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from housevoice.errors import HousevoiceError
from housevoice.registry import Registry, is_main_process
from housevoice.store import Workspace
from housevoice.tune.models import artifact_dir, base_of, load_policy, ready_version
from housevoice.tune.runs import checkpointing, lora_config, quiet_libraries, trainer_args, version_run
from housevoice.tune.settings import tune_settings

LOGGED = {"reward": "reward", "kl": "kl", "completions/mean_length": "length"}


@dataclass
class RlhfResult:
    version_id: str
    algo: str
    steps: int
    prompts: int
    log_path: Path
    plot_path: Path
    artifact: Path
    seconds: float


def write_step_log(rows: list[dict], csv_path: Path, png_path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    csv_path.parent.mkdir(parents=True, exist_ok=True)
    with open(csv_path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["step", *LOGGED.values()])
        writer.writeheader()
        writer.writerows(rows)
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
    steps = [r["step"] for r in rows]
    for ax, name in zip(axes, LOGGED.values()):
        ax.plot(steps, [r[name] if r[name] is not None else float("nan") for r in rows], marker=".")
        ax.set_title(name)
        ax.set_xlabel("step")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(png_path, dpi=100)
    plt.close(fig)


def rl_prompts(ws, settings) -> list[str]:
    """The prompts people ranked responses to, then the configured prompts."""
    prompts = list(dict.fromkeys(ws.read_table("preferences")["prompt"].to_list()))
    prompts += [p for p in settings.prompts if p not in prompts]
    if not prompts:
        raise HousevoiceError("no prompts for RLHF: there are no preference pairs and no [tune] prompts",
                              hint="rank samples first, or add prompts to housevoice.toml under [tune] prompts")
    return prompts


def run_rlhf(workspace: Workspace | str | Path, policy: str, reward: str, *, algo: str | None = None,
             steps: int | None = None, beta: float | None = None, max_new_tokens: int | None = None) -> RlhfResult:
    """Train the policy against the reward model and register the result (an adapter on the policy)."""
    quiet_libraries()
    from datasets import Dataset
    from transformers import PrinterCallback

    start = time.perf_counter()
    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)
    registry = Registry(ws)
    settings = tune_settings(ws, rl_algo=algo, rl_steps=steps, rl_beta=beta, max_new_tokens=max_new_tokens)
    ready_version(registry, policy, ("sft", "rlhf", "dpo"))
    reward_version = ready_version(registry, reward, ("reward",))
    reward_path = artifact_dir(ws, reward_version)
    prompts = rl_prompts(ws, settings)
    if settings.rl_algo == "grpo":
        from trl import GRPOConfig as Config
        from trl import GRPOTrainer as Trainer
    else:
        from trl import RLOOConfig as Config
        from trl import RLOOTrainer as Trainer
    from housevoice.tune.progress import RichProgress, StepLog

    config = {"algo": settings.rl_algo, "reward_version": reward, "beta": settings.rl_beta,
              "steps": settings.rl_steps, "prompts": len(prompts), "settings": settings.model_dump()}
    with version_run(registry, "rlhf", base_model=base_of(registry, policy), parent=policy, config=config) as version_id:
        out = ws.models_dir / version_id
        model, tokenizer = load_policy(ws, registry, policy)
        tokenizer.padding_side = "left"
        generations = settings.rl_generations
        args = Config(**trainer_args(
            settings, out / "checkpoints", max_steps=settings.rl_steps, learning_rate=settings.rl_learning_rate,
            beta=settings.rl_beta, num_generations=generations, per_device_train_batch_size=generations,
            gradient_accumulation_steps=1, max_completion_length=settings.max_new_tokens,
            temperature=settings.temperature, top_p=settings.top_p,
            gradient_checkpointing=checkpointing(settings, model, generations * settings.max_length, full=False),
        ))
        log = StepLog(LOGGED)
        trainer = Trainer(
            model=model, reward_funcs=str(reward_path), args=args, processing_class=tokenizer,
            train_dataset=Dataset.from_list([{"prompt": [{"role": "user", "content": p}]} for p in prompts]),
            peft_config=lora_config(settings),  # the adapter off is the SFT policy: the KL reference, for free
            callbacks=[RichProgress(f"{settings.rl_algo.upper()} {version_id}", console=Console(stderr=True)), log],
        )
        trainer.remove_callback(PrinterCallback)
        trainer.train()
        trainer.save_model(str(out))  # rank 0 alone saves in a multi-process run
        if is_main_process():
            tokenizer.save_pretrained(str(out))
            shutil.rmtree(out / "checkpoints", ignore_errors=True)
        csv_path = ws.reports_dir / f"{version_id}-rlhf.csv"
        png_path = ws.reports_dir / f"{version_id}-rlhf.png"
        if is_main_process():
            write_step_log(log.rows, csv_path, png_path, f"{version_id}: {settings.rl_algo.upper()} on {policy}")
        registry.add_lineage(version_id, "pair", registry.lineage(reward, "pair"))
        registry.finish_version(version_id, f"models/{version_id}")
    return RlhfResult(version_id, settings.rl_algo, settings.rl_steps, len(prompts), csv_path, png_path, out,
                      time.perf_counter() - start)
