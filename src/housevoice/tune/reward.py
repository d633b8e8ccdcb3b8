"""A reward model from people's rankings: a one-output classifier head trained on `preferences`."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from housevoice.errors import HousevoiceError
from housevoice.registry import Registry, is_main_process
from housevoice.store import Workspace
from housevoice.tune.datasets import preference_data
from housevoice.tune.models import base_of, load_policy, load_reward_model, load_tokenizer, resolve_base
from housevoice.tune.runs import (checkpointing, lora_config, quiet_libraries, save_for_loading,
                                  trainer_args, version_run, wait_for_rank_0)
from housevoice.tune.settings import tune_settings


@dataclass
class RewardResult:
    version_id: str
    pairs: int
    held_out: int
    accuracy: float | None
    artifact: Path
    seconds: float


def pairwise_accuracy(model, tokenizer, rows: list[dict]) -> float | None:
    """Share of held-out pairs where the chosen response scores above the rejected one."""
    import torch

    if not rows:
        return None
    model.eval()
    wins = 0
    for row in rows:
        texts = [tokenizer.apply_chat_template(row["prompt"] + row[side], tokenize=False) for side in ("chosen", "rejected")]
        enc = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
        with torch.no_grad():
            scores = model(**enc).logits[:, 0]
        wins += bool(scores[0] > scores[1])
    return wins / len(rows)


def latest_sft(registry) -> str:
    ready = registry.versions(kind="sft", status="ready")
    if not ready:
        raise HousevoiceError("no SFT version yet to build the reward model on",
                              hint="train one with `housevoice tune sft`, or name a base model with --base")
    return ready[-1]["version_id"]


def run_reward(workspace: Workspace | str | Path, *, base: str | None = None, full: bool = False,
               epochs: float | None = None) -> RewardResult:
    """Train and register a reward model on the preference pairs; report held-out pairwise accuracy."""
    quiet_libraries()
    start = time.perf_counter()
    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)
    registry = Registry(ws)
    settings = tune_settings(ws, epochs=epochs)
    if ws.config.label.min_agreement is not None:  # people must agree before a model learns their taste
        from housevoice.label import require_agreement

        require_agreement(ws, ws.config.label.min_agreement)
    pairs = preference_data(ws, settings.reward_eval_fraction)
    parent = None if base else latest_sft(registry)
    base_path = resolve_base(base) if base else None
    base_ref = (str(base_path) if Path(base).expanduser().exists() else base) if base else base_of(registry, parent)
    config = {"base": base_ref, "on_version": parent, "full": full, "pairs": len(pairs.train),
              "held_out": len(pairs.held_out), "settings": settings.model_dump()}
    # The training libraries load once the inputs are checked: a mistake is named in a second or two.
    from datasets import Dataset
    from transformers import PrinterCallback
    from trl import RewardConfig, RewardTrainer
    from housevoice.tune.progress import RichProgress

    with version_run(registry, "reward", base_model=base_ref, parent=parent, config=config,
                     dataset_hash=pairs.dataset_hash) as version_id:
        out = ws.models_dir / version_id
        init = base_path
        if parent:  # the SFT policy, merged, is where the reward model starts
            policy, tokenizer = load_policy(ws, registry, parent)
            init = out / "init"
            if is_main_process():
                save_for_loading(policy, tokenizer, init)
            wait_for_rank_0()
            del policy
        tokenizer = load_tokenizer(init)
        model = load_reward_model(init, tokenizer)
        pair_tokens = 2 * settings.batch_size * settings.max_length  # chosen and rejected
        args = RewardConfig(**trainer_args(settings, out / "checkpoints", num_train_epochs=settings.epochs,
                                           learning_rate=settings.full_learning_rate if full else settings.learning_rate,
                                           max_length=settings.max_length,
                                           gradient_checkpointing=checkpointing(settings, model, pair_tokens, full=full)))
        trainer = RewardTrainer(model=model, args=args, train_dataset=Dataset.from_list(pairs.train),
                                processing_class=tokenizer, peft_config=None if full else lora_config(settings, "SEQ_CLS"),
                                callbacks=[RichProgress(f"reward {version_id}", console=Console(stderr=True))])
        trainer.remove_callback(PrinterCallback)
        trainer.train()
        model = trainer.model
        if hasattr(model, "merge_and_unload"):  # RLHF loads the reward model by path: it must be whole
            model = model.merge_and_unload()
        if is_main_process():
            save_for_loading(model, tokenizer, out)
            shutil.rmtree(out / "checkpoints", ignore_errors=True)
            if parent:
                shutil.rmtree(init, ignore_errors=True)
        accuracy = pairwise_accuracy(model, tokenizer, pairs.held_out)
        if accuracy is not None:
            registry.add_eval_results(version_id, "reward", [
                {"metric": "pairwise_accuracy", "value": accuracy, "n": len(pairs.held_out)}])
        registry.add_lineage(version_id, "pair", pairs.train_pair_ids)
        registry.finish_version(version_id, f"models/{version_id}")
    return RewardResult(version_id, len(pairs.train), len(pairs.held_out), accuracy, out, time.perf_counter() - start)
