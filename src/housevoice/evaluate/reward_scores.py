"""`evaluate reward`: a reward model reads the versions' samples; its score per response and mean per version are kept."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import polars as pl

from housevoice.errors import HousevoiceError
from housevoice.evaluate.heldout import open_workspace
from housevoice.registry import Registry
from housevoice.schema import SAMPLE_SCORES
from housevoice.store import Workspace

SUITE = "reward"


def metric_name(reward_version: str) -> str:
    """The registry metric a policy's mean score from one reward model is stored under."""
    return f"score:{reward_version}"


@dataclass
class VersionReward:
    version_id: str
    mean: float
    std: float
    n: int


@dataclass
class RewardScoring:
    reward_version: str
    scored: int
    already_scored: int
    per_version: list[VersionReward] = field(default_factory=list)
    table_path: Path | None = None
    seconds: float = 0.0


def score_texts(model, tokenizer, prompts: list[str], responses: list[str], *, batch_size: int = 8,
                progress: Callable[[int], None] | None = None) -> list[float]:
    """The reward model's score for each (prompt, response), read as the chat it was trained on."""
    import torch

    model.eval()
    scores: list[float] = []
    for start in range(0, len(prompts), batch_size):
        chats = [[{"role": "user", "content": p}, {"role": "assistant", "content": r or ""}]
                 for p, r in zip(prompts[start:start + batch_size], responses[start:start + batch_size])]
        texts = [tokenizer.apply_chat_template(chat, tokenize=False) for chat in chats]
        enc = tokenizer(texts, return_tensors="pt", padding=True, truncation=True,
                        add_special_tokens=False).to(model.device)
        with torch.no_grad():
            scores.extend(model(**enc).logits[:, 0].float().tolist())
        if progress:
            progress(len(texts))
    return scores


def load_scorer(ws: Workspace, version: dict):
    """(model, tokenizer) of a ready reward version, on the GPU when there is one."""
    from housevoice.tune.models import artifact_dir, device, load_reward_model, load_tokenizer

    path = artifact_dir(ws, version)
    tokenizer = load_tokenizer(path)
    return load_reward_model(path, tokenizer).to(device()), tokenizer


def score_samples(workspace: Workspace | str | Path, reward_version: str, *, versions: list[str] | None = None,
                  again: bool = False, batch_size: int = 8,
                  progress: Callable[[int, int], None] | None = None) -> RewardScoring:
    """Score every sample of `versions` (all when None) not yet scored by this reward model; store both levels.

    Per response: rows in `sample_scores` (a rescore with `again` replaces that scorer's rows for those samples).
    Per version: mean, stderr and n in the registry under suite `reward`, metric `score:<reward version>`.
    """
    start = time.perf_counter()
    ws = open_workspace(workspace)
    registry = Registry(ws)
    from housevoice.tune.models import ready_version

    scorer = ready_version(registry, reward_version, ("reward",))
    samples = ws.read_table("samples")
    if versions:
        for v in versions:
            registry.get(v)  # an unknown version id is named before any model is loaded
        samples = samples.filter(pl.col("version_id").is_in(versions))
    if samples.is_empty():
        which = " ".join(versions) if versions else "V…"
        raise HousevoiceError(f"no samples to score in {ws.root}" + (f" for {', '.join(versions)}" if versions else ""),
                              hint=f"write some first: housevoice tune sample {ws.root} --versions {which}")
    done = ws.read_table("sample_scores").filter(pl.col("scorer") == reward_version)
    todo = samples if again else samples.join(done.select("sample_id"), on="sample_id", how="anti")
    scored_rows = pl.DataFrame(schema=SAMPLE_SCORES)
    if not todo.is_empty():
        model, tokenizer = load_scorer(ws, scorer)
        total, seen = todo.height, 0

        def step(k: int) -> None:
            nonlocal seen
            seen += k
            if progress:
                progress(seen, total)

        values = score_texts(model, tokenizer, todo["prompt"].to_list(), todo["response"].to_list(),
                             batch_size=batch_size, progress=step)
        scored_rows = pl.DataFrame({"sample_id": todo["sample_id"], "scorer": reward_version, "score": values,
                                    "scored_at": datetime.now(timezone.utc)}, schema=SAMPLE_SCORES)
    with ws.lock():
        table = ws.read_table("sample_scores")
        kept = table.join(scored_rows.select("sample_id", "scorer"), on=["sample_id", "scorer"], how="anti")
        path = ws.write_table("sample_scores", pl.concat([kept, scored_rows])) if scored_rows.height else None
    mine = (pl.concat([done, scored_rows]).unique("sample_id", keep="last")
            .join(samples.select("sample_id", "version_id"), on="sample_id"))
    per_version = []
    for (version_id,), rows in sorted(mine.group_by("version_id"), key=lambda g: g[0][0]):
        values = rows["score"]
        n, mean = len(values), float(values.mean())
        std = float(values.std()) if n > 1 else 0.0
        per_version.append(VersionReward(version_id, mean, std, n))
        if scored_rows.height:
            registry.add_eval_results(version_id, SUITE, [
                {"metric": metric_name(reward_version), "value": mean, "stderr": std / math.sqrt(n), "n": n}])
    return RewardScoring(reward_version, scored_rows.height, samples.height - todo.height, per_version, path,
                         time.perf_counter() - start)
