"""Responses from one or more versions to held-out prompts, appended to `samples` for people to rank."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import polars as pl

from housevoice.errors import HousevoiceError
from housevoice.registry import Registry
from housevoice.schema import SAMPLES
from housevoice.store import Workspace
from housevoice.tune.datasets import held_out_prompts, prompt_id
from housevoice.tune.models import device, load_policy, ready_version
from housevoice.tune.runs import quiet_libraries, records_learned
from housevoice.tune.settings import tune_settings


@dataclass
class SampleResult:
    samples: int
    prompts: int
    versions: list[str]
    params: dict
    table_path: Path


def generate(model, tokenizer, prompts: list[str], *, n: int, temperature: float, top_p: float,
             max_new_tokens: int, seed: int, batch_size: int = 8) -> list[list[str]]:
    """n sampled responses per prompt (chat template, left padding for batched generation)."""
    import torch

    tokenizer.padding_side = "left"
    model.to(device()).eval()
    torch.manual_seed(seed)
    answers: list[list[str]] = []
    for start in range(0, len(prompts), batch_size):
        batch = prompts[start:start + batch_size]
        texts = [tokenizer.apply_chat_template([{"role": "user", "content": p}], tokenize=False,
                                               add_generation_prompt=True) for p in batch]
        enc = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
        with torch.no_grad():
            out = model.generate(**enc, do_sample=True, temperature=temperature, top_p=top_p,
                                 max_new_tokens=max_new_tokens, num_return_sequences=n,
                                 pad_token_id=tokenizer.pad_token_id)
        decoded = tokenizer.batch_decode(out[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)
        answers += [[d.strip() for d in decoded[i * n:(i + 1) * n]] for i in range(len(batch))]
    return answers


def run_sample(workspace: Workspace | str | Path, versions: list[str], *, n: int | None = None,
               limit: int | None = None, seed: int | None = None, temperature: float | None = None,
               top_p: float | None = None, max_new_tokens: int | None = None) -> SampleResult:
    """Append n responses per held-out prompt per version to tables/samples.parquet."""
    quiet_libraries()
    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)
    if not versions:
        raise HousevoiceError("name at least one version to sample from (--versions V…)")
    registry = Registry(ws)
    settings = tune_settings(ws, sample_n=n, sample_prompts=limit, seed=seed, temperature=temperature,
                             top_p=top_p, max_new_tokens=max_new_tokens)
    for version_id in versions:
        ready_version(registry, version_id, ("sft", "rlhf", "dpo"))
    trained: set[str] = set()
    for version_id in versions:
        trained |= records_learned(registry, version_id)
    prompts = held_out_prompts(ws, settings, trained, settings.sample_prompts)
    if not prompts:
        raise HousevoiceError("no prompts to sample: every titled record was used in training",
                              hint="add prompts to housevoice.toml under [tune] prompts = [\"…\"]")
    params = {"temperature": settings.temperature, "top_p": settings.top_p, "seed": settings.seed,
              "max_new_tokens": settings.max_new_tokens, "n": settings.sample_n}
    created = datetime.now(timezone.utc)
    rows = []
    for version_id in versions:
        model, tokenizer = load_policy(ws, registry, version_id)
        answers = generate(model, tokenizer, prompts, n=settings.sample_n, temperature=settings.temperature,
                           top_p=settings.top_p, max_new_tokens=settings.max_new_tokens, seed=settings.seed)
        for prompt, responses in zip(prompts, answers):
            pid = prompt_id(prompt)
            for i, response in enumerate(responses):
                key = f"{version_id}|{pid}|{i}|{settings.seed}|{created.isoformat()}"
                rows.append({"sample_id": "s_" + hashlib.sha256(key.encode()).hexdigest()[:16], "prompt_id": pid,
                             "prompt": prompt, "version_id": version_id, "response": response,
                             "params": json.dumps(params), "created_at": created})
    with ws.lock():
        path = ws.append_table("samples", pl.DataFrame(rows, schema=SAMPLES))
    return SampleResult(len(rows), len(prompts), list(versions), params, path)
