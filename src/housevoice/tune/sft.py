"""Supervised fine-tuning on the approved records: LoRA by default, full by flag, resumable, registered."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from housevoice.errors import HousevoiceError
from housevoice.registry import Registry, is_main_process
from housevoice.store import Workspace
from housevoice.tune.datasets import sft_data, trainable_records
from housevoice.tune.models import PACKED_ATTENTION, load_causal_lm, load_tokenizer, resolve_base
from housevoice.tune.runs import checkpointing, lora_config, quiet_libraries, trainer_args, version_run
from housevoice.tune.settings import tune_settings


@dataclass
class SftResult:
    version_id: str
    examples: int
    records: int
    artifact: Path
    seconds: float
    resumed_from: str | None = None
    train_loss: float | None = None
    notes: list[str] = field(default_factory=list)
    steps: int | None = None
    packed: bool = False  # examples packed into full rows without padding (a GPU with packed attention)


def model_context(tokenizer, model_dir: Path, wanted: int) -> int:
    """The longest sequence to train on: the setting, capped by what the model was built for."""
    import json

    limits = [wanted]
    if 0 < (tokenizer.model_max_length or 0) < 10**7:
        limits.append(tokenizer.model_max_length)
    config = model_dir / "config.json"
    if config.is_file():
        positions = json.loads(config.read_text()).get("max_position_embeddings")
        if isinstance(positions, int) and positions > 0:
            limits.append(positions)
    return min(limits)


def last_checkpoint(folder: Path) -> Path | None:
    """The newest checkpoint that was written completely (an interruption can cut the last one short)."""
    done = [p for p in folder.glob("checkpoint-*") if (p / "trainer_state.json").is_file()]
    return max(done, key=lambda p: int(p.name.split("-")[-1]), default=None)


def _resumable(ws, registry, base_ref: str, data_hash: str, full: bool) -> tuple[str, Path]:
    for version in reversed(registry.versions(kind="sft")):
        if version["status"] != "failed" or version["base_model"] != base_ref:  # 'running': still training
            continue
        checkpoint = last_checkpoint(ws.models_dir / version["version_id"] / "checkpoints")
        if checkpoint is None:
            continue
        if version["dataset_hash"] != data_hash:
            raise HousevoiceError(
                f"cannot resume {version['version_id']}: the training set changed since it started",
                hint="run without --resume to train a new version on the current records")
        return version["version_id"], checkpoint
    raise HousevoiceError(f"nothing to resume: no interrupted SFT run on {base_ref} with a checkpoint",
                          hint="run without --resume to start a new version")


def build_sft_trainer(model, tokenizer, rows: list[dict], settings, output_dir: Path, *, full: bool,
                      max_length: int, description: str = "SFT", **extra):
    """The SFT trainer housevoice runs (also what the throughput benchmark measures). Examples are packed without
    padding when the model was loaded with attention that keeps them apart (`load_causal_lm(..., packed=True)`)."""
    from datasets import Dataset
    from transformers import PrinterCallback
    from trl import SFTConfig, SFTTrainer
    from housevoice.tune.progress import RichProgress

    args = dict(num_train_epochs=settings.epochs,
                learning_rate=settings.full_learning_rate if full else settings.learning_rate,
                save_strategy="steps", save_steps=settings.save_steps, save_total_limit=2, max_length=max_length,
                packing=model.config._attn_implementation in PACKED_ATTENTION, completion_only_loss=True)
    args = SFTConfig(**trainer_args(settings, output_dir, **{**args, **extra}))
    trainer = SFTTrainer(
        model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tokenizer,
        peft_config=None if full else lora_config(settings),
        callbacks=[RichProgress(description, console=Console(stderr=True))],
    )
    trainer.remove_callback(PrinterCallback)
    if args.bf16 or args.fp16:
        # PEFT casts each adapted layer's input to its fp32 adapter's dtype, and autocast casts it back for the
        # product: two copies of every input for nothing. Off: +17-22% LoRA tokens/s on an H100, same loss
        # (bench/RESULTS.md). Only under autocast, which training always runs in here.
        for module in trainer.model.modules():
            if hasattr(module, "cast_input_dtype_enabled"):
                module.cast_input_dtype_enabled = False
    return trainer


def run_sft(workspace: Workspace | str | Path, base: str, *, full: bool = False, resume: bool = False,
            epochs: float | None = None, save_steps: int | None = None, max_length: int | None = None,
            console: Console | None = None) -> SftResult:
    """Train a new SFT version of `base` on the workspace's training records and register it."""
    quiet_libraries()
    start = time.perf_counter()
    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)
    settings = tune_settings(ws, epochs=epochs, save_steps=save_steps, max_length=max_length)
    base_path = resolve_base(base)
    base_ref = base if not Path(base).expanduser().exists() else str(base_path)
    chosen = trainable_records(ws)  # before the tokenizer loads: an empty training set is named at once
    tokenizer = load_tokenizer(base_path)
    context = model_context(tokenizer, base_path, settings.max_length)
    data = sft_data(ws, chosen, settings, tokenizer, context)
    registry = Registry(ws)  # opened (and made) only once there is something to train
    resume_version, checkpoint = _resumable(ws, registry, base_ref, data.dataset_hash, full) if resume else (None, None)
    config = {"base": base_ref, "full": full, "max_length": context, "examples": len(data.rows),
              "settings": settings.model_dump()}
    with version_run(registry, "sft", base_model=base_ref, config=config, dataset_hash=data.dataset_hash,
                     resume_version=resume_version) as version_id:
        out = ws.models_dir / version_id
        model = load_causal_lm(base_path, load_in_4bit=settings.load_in_4bit, packed=True)
        trainer = build_sft_trainer(model, tokenizer, data.rows, settings, out / "checkpoints", full=full,
                                    max_length=context, description=f"SFT {version_id}",
                                    gradient_checkpointing=checkpointing(settings, model, settings.batch_size * context,
                                                                         full=full, console=console))
        result = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
        trainer.save_model(str(out))  # rank 0 alone saves in a multi-process run; the others wait here
        if is_main_process():
            tokenizer.save_pretrained(str(out))
            shutil.rmtree(out / "checkpoints", ignore_errors=True)
        registry.add_lineage(version_id, "record", data.record_ids)
        registry.finish_version(version_id, f"models/{version_id}")
    return SftResult(version_id, len(data.rows), len(data.record_ids), out, time.perf_counter() - start,
                     resumed_from=checkpoint.name if checkpoint else None,
                     train_loss=getattr(result, "training_loss", None), notes=data.notes,
                     steps=getattr(result, "global_step", None), packed=bool(trainer.args.packing))
