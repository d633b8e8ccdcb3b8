"""What every training run shares: the registry guard, trainer arguments, quiet libraries.

Nothing here imports torch or transformers at import time: a command checks its inputs (workspace, base
model, training set) first and fails in a second or two, not after the libraries load (progress bars: `progress`)."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from rich.console import Console

from housevoice.errors import HousevoiceError
from housevoice.tune.settings import TuneSettings


def quiet_libraries() -> None:
    """Library chatter (warnings, tqdm bars) would bury the one line a user needs."""
    import datasets
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    for name in ("trl", "peft", "accelerate", "torch"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")


def shared(value):
    """Rank 0's value on every rank of a multi-process run (torchrun, accelerate launch); the value itself otherwise."""
    import os

    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return value
    import torch
    import torch.distributed as dist

    if not dist.is_initialized():  # the trainer finds this group and uses it
        dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def wait_for_rank_0() -> None:
    """In a multi-process run, the other ranks wait here until rank 0 arrives (after it wrote a file they read)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()


@contextmanager
def version_run(registry, kind: str, *, base_model: str | None, parent: str | None = None,
                config: dict | None = None, dataset_hash: str | None = None,
                resume_version: str | None = None) -> Iterator[str]:
    """A registered version that ends ready or failed, never half-registered.

    The run lock is taken before the version is registered, so a later command can tell a run
    whose process was killed (lock free, status still 'running') from one still training.
    """
    from filelock import Timeout

    from housevoice.registry import is_main_process, new_version_id

    version_id = shared(resume_version or new_version_id(kind))
    if not is_main_process():  # the other ranks of a multi-process run train; rank 0 registers and saves
        yield version_id
        return
    run_lock = registry.run_lock(version_id)
    try:
        run_lock.acquire(timeout=0)
    except Timeout:
        raise HousevoiceError(f"{version_id} is still training in another process",
                              hint="wait for it to finish, or stop it first") from None
    try:
        if resume_version:
            registry.restart_version(version_id)
        else:
            registry.create_version(kind, base_model=base_model, parent=parent, config=config,
                                    dataset_hash=dataset_hash, version_id=version_id)
        yield version_id
    except KeyboardInterrupt:
        registry.fail_version(version_id, "interrupted; continue it with --resume")
        raise
    except HousevoiceError as exc:
        registry.fail_version(version_id, str(exc))
        raise
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        registry.fail_version(version_id, f"{type(exc).__name__}: {first}")
        hint = "it is recorded as failed in the registry"
        if _out_of_memory(exc):
            hint = (f"the model and batch do not fit in the GPU's memory: lower batch_size (raise "
                    f"gradient_accumulation_steps to keep the batch), or set gradient_checkpointing = true or "
                    f"load_in_4bit = true, under [tune] in housevoice.toml; {hint}")
        raise HousevoiceError(f"{kind} run {version_id} failed ({type(exc).__name__}: {first})", hint=hint) from None
    finally:
        run_lock.release()
        Path(run_lock.lock_file).unlink(missing_ok=True)
        with suppress(OSError):
            Path(run_lock.lock_file).parent.rmdir()  # only when the run wrote nothing else there


def _out_of_memory(exc: BaseException) -> bool:
    import torch

    return isinstance(exc, torch.OutOfMemoryError) or "out of memory" in str(exc).lower()


def trainer_args(settings: TuneSettings, output_dir: Path, **extra) -> dict:
    """Arguments every TRL config takes: bf16 and GPU when there is one, plain fp32 on a CPU."""
    import torch

    cuda = torch.cuda.is_available()
    args = dict(
        output_dir=str(output_dir), bf16=cuda and torch.cuda.is_bf16_supported(), fp16=False,
        use_cpu=not cuda, gradient_checkpointing=settings.gradient_checkpointing is True, report_to="none",
        logging_steps=1, save_strategy="no", seed=settings.seed, disable_tqdm=True,
        per_device_train_batch_size=settings.batch_size,
        gradient_accumulation_steps=settings.gradient_accumulation_steps, dataloader_num_workers=0,
    )
    args.update(extra)
    return args


# Bytes of activations kept for the backward pass, per token, layer and unit of hidden size, without
# checkpointing (bf16, FlashAttention). Measured on an H100 (bench/train_throughput.py, ~0.5B Llama-shaped
# model): LoRA keeps more, since PEFT's fp32 adapters keep an fp32 copy of each adapted layer's input.
ACTIVATION_BYTES = {"lora": 70, "full": 50}
# Share of the GPU's memory a step may plan to fill before "auto" turns checkpointing on.
AUTO_CHECKPOINT_SHARE = 0.85


def training_memory(model, tokens: int, *, full: bool) -> int:
    """Bytes a training step needs without gradient checkpointing, estimated: the weights (with their gradients
    and AdamW's two states when every weight trains), the activations of `tokens` tokens, and their logits."""
    config = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    per_token = ACTIVATION_BYTES["full" if full else "lora"] * config.hidden_size * config.num_hidden_layers
    per_token += 12 * getattr(config, "vocab_size", 0)  # bf16 logits, their fp32 copy for the loss, its gradient
    return weights * (4 if full else 1) + tokens * per_token


def checkpointing(settings: TuneSettings, model, tokens: int, *, full: bool, console: Console | None = None) -> bool:
    """Whether to recompute activations in the backward pass: the setting when it is true or false. With
    "auto", on when a step of `tokens` tokens would not fit in the GPU's memory without it (a note says so)."""
    choice = settings.gradient_checkpointing
    if choice != "auto":
        return bool(choice)
    import torch

    if not torch.cuda.is_available():
        return False
    total = torch.cuda.get_device_properties(torch.cuda.current_device()).total_memory
    need = training_memory(model, tokens, full=full)
    if need <= AUTO_CHECKPOINT_SHARE * total:
        return False
    (console or Console(stderr=True)).print(
        f"[yellow]note:[/] gradient checkpointing on: a step of {tokens:,} tokens needs about {need / 2**30:.0f} GiB "
        f"without it and the GPU has {total / 2**30:.0f} GiB (set gradient_checkpointing = false under [tune] "
        f"to keep it off, or lower batch_size)")
    return True


def lora_config(settings: TuneSettings, task_type: str = "CAUSAL_LM"):
    from peft import LoraConfig

    return LoraConfig(r=settings.lora_r, lora_alpha=settings.lora_alpha, lora_dropout=settings.lora_dropout,
                      target_modules="all-linear", task_type=task_type)


def records_learned(registry, version_id: str) -> set[str]:
    """Records a version learned from, through its parents (RLHF/DPO learn from pairs on top of SFT)."""
    seen: set[str] = set()
    while version_id:
        seen.update(registry.lineage(version_id, "record"))
        version_id = registry.get(version_id)["parent_version"]
    return seen


def save_for_loading(model, tokenizer, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
