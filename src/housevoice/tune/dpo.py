"""Direct preference optimisation on `preferences`: the alternative to a reward model and RLHF."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from housevoice.registry import Registry, is_main_process
from housevoice.store import Workspace
from housevoice.tune.datasets import preference_data
from housevoice.tune.models import base_of, load_policy, ready_version
from housevoice.tune.runs import checkpointing, lora_config, quiet_libraries, trainer_args, version_run
from housevoice.tune.settings import tune_settings


@dataclass
class DpoResult:
    version_id: str
    pairs: int
    artifact: Path
    seconds: float
    train_loss: float | None


def run_dpo(workspace: Workspace | str | Path, policy: str, *, epochs: float | None = None,
            beta: float | None = None) -> DpoResult:
    """Train a LoRA adapter on the policy with DPO (the adapter off is the reference) and register it."""
    quiet_libraries()
    start = time.perf_counter()
    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)
    registry = Registry(ws)
    settings = tune_settings(ws, epochs=epochs, dpo_beta=beta)
    ready_version(registry, policy, ("sft", "rlhf", "dpo"))
    pairs = preference_data(ws)
    config = {"beta": settings.dpo_beta, "pairs": len(pairs.train), "settings": settings.model_dump()}
    # The training libraries load once the inputs are checked: a mistake is named in a second or two.
    from datasets import Dataset
    from transformers import PrinterCallback
    from trl import DPOConfig, DPOTrainer
    from housevoice.tune.progress import RichProgress

    with version_run(registry, "dpo", base_model=base_of(registry, policy), parent=policy, config=config,
                     dataset_hash=pairs.dataset_hash) as version_id:
        out = ws.models_dir / version_id
        model, tokenizer = load_policy(ws, registry, policy)
        args = DPOConfig(**trainer_args(settings, out / "checkpoints", num_train_epochs=settings.epochs,
                                        learning_rate=settings.dpo_learning_rate, beta=settings.dpo_beta,
                                        max_length=settings.max_length,
                                        gradient_checkpointing=checkpointing(
                                            settings, model, 2 * settings.batch_size * settings.max_length, full=False)))
        trainer = DPOTrainer(model=model, ref_model=None, args=args, train_dataset=Dataset.from_list(pairs.train),
                             processing_class=tokenizer, peft_config=lora_config(settings),
                             callbacks=[RichProgress(f"DPO {version_id}", console=Console(stderr=True))])
        trainer.remove_callback(PrinterCallback)
        result = trainer.train()
        trainer.save_model(str(out))  # rank 0 alone saves in a multi-process run
        if is_main_process():
            tokenizer.save_pretrained(str(out))
            shutil.rmtree(out / "checkpoints", ignore_errors=True)
        registry.add_lineage(version_id, "pair", pairs.train_pair_ids)
        registry.finish_version(version_id, f"models/{version_id}")
    return DpoResult(version_id, len(pairs.train), out, time.perf_counter() - start,
                     getattr(result, "training_loss", None))
