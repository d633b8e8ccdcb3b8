"""Training throughput: tokens/s, peak memory and MFU of housevoice SFT (LoRA, full) vs TRL's SFTTrainer
defaults on the same model and data, and the RLHF (GRPO) step time.

The model is built from a config (no download): ~0.5B parameters on a GPU, the tiny model on a CPU.

    python bench/train_throughput.py            # picks the size from the device
    python bench/train_throughput.py --tiny     # the CPU-sized run, anywhere
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from transformers import TrainerCallback  # noqa: E402

from housevoice.tune.models import load_causal_lm, model_dtype, packed_attention  # noqa: E402
from housevoice.tune.runs import quiet_libraries, trainer_args  # noqa: E402
from housevoice.tune.settings import TuneSettings  # noqa: E402
from housevoice.tune.sft import build_sft_trainer  # noqa: E402
from housevoice.tune.tiny import build_tiny_model  # noqa: E402

# Dense bf16 peak FLOP/s by device name; MFU is left out for devices not listed (CPUs).
PEAK_FLOPS = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L40S": 362e12, "A10G": 125e12}


class StepClock(TrainerCallback):
    """Wall time and non-padding tokens of the steps after a warm-up, so start-up cost is not counted."""

    def __init__(self, warmup: int):
        self.warmup, self.t0, self.tokens0, self.seconds, self.tokens, self.steps = warmup, None, 0, 0.0, 0, 0

    def on_step_end(self, args, state, control, **kwargs):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        if state.global_step == self.warmup:
            self.t0, self.tokens0 = time.perf_counter(), state.num_input_tokens_seen
        elif state.global_step > self.warmup:
            self.seconds = time.perf_counter() - self.t0
            self.tokens = state.num_input_tokens_seen - self.tokens0
            self.steps = state.global_step - self.warmup


def build_model_dir(folder: Path, tiny: bool) -> Path:
    """The tiny model, or a ~0.5B Llama-shaped model on the tiny model's tokenizer (random weights)."""
    model = build_tiny_model(folder / "tiny")
    if tiny:
        return model.path
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(model.path)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=1024, intermediate_size=4096, num_hidden_layers=28,
                         num_attention_heads=16, num_key_value_heads=4, max_position_embeddings=4096,
                         pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id)
    big = folder / "half-b"
    LlamaForCausalLM(config).save_pretrained(big)
    tokenizer.model_max_length = 4096
    tokenizer.save_pretrained(big)
    return big


def bench_rows(tokenizer, n: int, max_tokens: int, seed: int = 0) -> list[dict]:
    """Chat examples of varied length (a quarter to all of max_tokens), like real posts."""
    from housevoice.tune.tiny import _bundled_texts

    words = " ".join(_bundled_texts()).split()
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        length = rng.randint(max_tokens // 4, max_tokens - 32)
        start = rng.randrange(0, max(1, len(words) - length))
        text = " ".join(words[start:start + length])
        ids = tokenizer(text, add_special_tokens=False)["input_ids"][:length]
        rows.append({"prompt": [{"role": "user", "content": f"Write post {i}."}],
                     "completion": [{"role": "assistant", "content": tokenizer.decode(ids)}]})
    return rows


def flops_per_token(params: int, trainable: int, layers: int, hidden: int, seq: int) -> float:
    """6N for full training (2N forward, 4N backward); frozen weights skip their weight gradients (2N).
    Plus attention scores: 12 · layers · hidden · seq."""
    return 2 * params + 2 * params + 2 * trainable + 12 * layers * hidden * seq


def run_case(name: str, model_dir: Path, rows, tokenizer, *, full: bool, trl_defaults: bool, steps: int,
             batch: int, seq: int, out: Path) -> dict:
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, PrinterCallback
    from trl import SFTConfig, SFTTrainer

    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    clock = StepClock(warmup=min(3, steps - 2))
    common = dict(max_steps=steps, include_num_input_tokens_seen="non_padding", save_strategy="no",
                  report_to="none", per_device_train_batch_size=batch, disable_tqdm=True, logging_steps=steps)
    if trl_defaults:
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
        cuda = torch.cuda.is_available()
        args = SFTConfig(output_dir=str(out / name), bf16=cuda, use_cpu=not cuda, max_length=seq, **common)
        peft = None if full else LoraConfig(r=16, lora_alpha=32, target_modules="all-linear", task_type="CAUSAL_LM")
        trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tokenizer,
                             peft_config=peft)
        trainer.remove_callback(PrinterCallback)
    else:
        model = load_causal_lm(model_dir, packed=True)
        settings = TuneSettings(batch_size=batch)
        trainer = build_sft_trainer(model, tokenizer, rows, settings, out / name, full=full, max_length=seq,
                                    description=name, **common)
    trainer.add_callback(clock)
    trainer.train()
    config = trainer.model.config
    params = sum(p.numel() for p in trainer.model.parameters())
    trainable = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
    tps = clock.tokens / clock.seconds if clock.seconds else float("nan")
    peak = torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else None
    name_gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else ""
    peak_flops = next((v for k, v in PEAK_FLOPS.items() if k in name_gpu), None)
    fpt = flops_per_token(params, trainable, config.num_hidden_layers, config.hidden_size, seq)
    mfu = tps * fpt / peak_flops if peak_flops else None
    del trainer, model
    return {"case": name, "tokens/s": tps, "peak GiB": peak, "MFU": mfu, "steps timed": clock.steps}


def rlhf_step_time(model_dir: Path, tokenizer, out: Path, steps: int, max_new: int) -> float:
    """Seconds per GRPO step (the housevoice settings) against a reward model of the same shape."""
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, PrinterCallback
    from trl import GRPOConfig, GRPOTrainer

    from housevoice.tune.runs import lora_config

    reward_dir = out / "reward"
    reward = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=1, dtype=model_dtype())
    reward.config.pad_token_id = tokenizer.pad_token_id
    reward.save_pretrained(reward_dir)
    tokenizer.save_pretrained(reward_dir)
    settings = TuneSettings()
    tokenizer.padding_side = "left"
    args = GRPOConfig(**trainer_args(settings, out / "grpo", max_steps=steps, beta=settings.rl_beta,
                                     num_generations=settings.rl_generations,
                                     per_device_train_batch_size=settings.rl_generations,
                                     max_completion_length=max_new, gradient_accumulation_steps=1))
    prompts = [{"prompt": [{"role": "user", "content": f"Write a blog post about topic {i}."}]} for i in range(32)]
    trainer = GRPOTrainer(model=AutoModelForCausalLM.from_pretrained(model_dir, dtype=model_dtype()),
                          reward_funcs=str(reward_dir), args=args, train_dataset=Dataset.from_list(prompts),
                          processing_class=tokenizer, peft_config=lora_config(settings))
    trainer.remove_callback(PrinterCallback)
    clock = StepClock(warmup=1)
    trainer.add_callback(clock)
    trainer.train()
    return clock.seconds / max(clock.steps, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="the tiny model (default on a CPU)")
    parser.add_argument("--steps", type=int, default=None)
    args = parser.parse_args()
    quiet_libraries()
    cuda = torch.cuda.is_available()
    tiny = args.tiny or not cuda
    if not cuda:
        torch.set_num_threads(1)  # steady figures next to other processes
    steps = args.steps or (8 if tiny else 30)
    seq, batch = (256, 4) if tiny else (2048, 8)
    from transformers import AutoTokenizer

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        model_dir = build_model_dir(out, tiny)
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        rows = bench_rows(tokenizer, n=batch * (steps + 2), max_tokens=seq)
        device = torch.cuda.get_device_name() if cuda else "CPU (1 thread)"
        print(f"device: {device}; model: {'tiny' if tiny else '~0.5B'} from a config; seq {seq}, batch {batch}, "
              f"{steps} steps; packed attention: {packed_attention() or 'none (padded batches)'}")
        results = []
        for full in (False, True):
            for trl_defaults in (True, False):
                name = f"{'full' if full else 'LoRA'} · {'TRL defaults' if trl_defaults else 'housevoice'}"
                results.append(run_case(name, model_dir, rows, tokenizer, full=full, trl_defaults=trl_defaults,
                                        steps=steps, batch=batch, seq=seq, out=out))
        print(f"{'case':28} {'tokens/s':>10} {'peak GiB':>9} {'MFU':>6}")
        for r in results:
            peak = f"{r['peak GiB']:.1f}" if r["peak GiB"] is not None else "-"
            mfu = f"{r['MFU']:.0%}" if r["MFU"] is not None else "-"
            print(f"{r['case']:28} {r['tokens/s']:10.0f} {peak:>9} {mfu:>6}")
        for mode in ("LoRA", "full"):
            ours = next(r for r in results if r["case"] == f"{mode} · housevoice")["tokens/s"]
            base = next(r for r in results if r["case"] == f"{mode} · TRL defaults")["tokens/s"]
            print(f"{mode}: housevoice / TRL defaults = {ours / base:.2f}x")
        step = rlhf_step_time(model_dir, tokenizer, out, steps=4 if tiny else 6, max_new=32 if tiny else 256)
        print(f"RLHF (GRPO, LoRA, {TuneSettings().rl_generations} generations/prompt): {step:.2f} s/step")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
