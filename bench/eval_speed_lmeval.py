"""lm-eval wall time of the offline suite (held-out perplexity + the shipped multiple-choice task) on the tiny model.

Usage: python bench/eval_speed_lmeval.py [--tasks heldout_perplexity,housevoice_mc] [--limit N]
(`bench/eval_speed.py` imports `lm_eval_speed` from here.)

A throwaway workspace is built from the bundled sample (ingest, curate), the tiny model
(`housevoice model tiny` defaults) is registered as its base version, and
`evaluate_bench` runs on it: every held-out record (the base learned from none) and the
70 shipped questions. Imports and model building are timed apart from the evaluation.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")


def lm_eval_speed(tasks: list[str] | None = None, limit: int | None = None) -> dict:
    """Build the tiny model and a sample workspace, run the offline suite once, print and return the timings."""
    started = time.perf_counter()
    import torch

    from housevoice.curate.pipeline import curate
    from housevoice.demo import sample_dir
    from housevoice.evaluate.bench import DEFAULT_TASKS, evaluate_bench
    from housevoice.ingest import ingest_sources
    from housevoice.registry import Registry
    from housevoice.store import Workspace
    from housevoice.tune.tiny import build_tiny_model

    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    imports_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        ws = Workspace.create(Path(tmp) / "ws")
        ingest_sources(ws, [sample_dir() / "blog.wxr.xml", sample_dir() / "transcripts"])
        curate(ws)
        model = build_tiny_model(Path(tmp) / "tiny")
        registry = Registry(ws)
        base_id = registry.create_version("base", base_model=str(model.path))
        registry.finish_version(base_id, str(model.path))
        setup_s = time.perf_counter() - started

        started = time.perf_counter()
        result = evaluate_bench(ws, base_id, tasks=tasks or list(DEFAULT_TASKS), limit=limit, with_base=False)
        wall_s = time.perf_counter() - started
    score = result.scores[0]
    shown = {m["metric"]: m for m in score.metrics}
    print(f"imports {imports_s:.1f} s; sample workspace + tiny model ({model.parameters / 1e6:.1f}M parameters) {setup_s:.1f} s")
    for name in ("heldout_perplexity/word_perplexity", "housevoice_mc/acc"):
        if name in shown:
            print(f"  {name} = {shown[name]['value']:.4g} (n {shown[name]['n']})")
    print(f"lm-eval offline suite ({', '.join(result.tasks)}; {result.held_out_records} held-out records) "
          f"on the tiny model: {wall_s:.1f} s wall (model load + lm-eval {score.seconds:.1f} s), "
          f"{torch.get_num_threads()} torch thread(s)")
    return {"imports_s": imports_s, "setup_s": setup_s, "wall_s": wall_s, "lm_eval_s": score.seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default=None, help="comma-separated (default: the offline suite)")
    parser.add_argument("--limit", type=int, default=None, help="at most this many examples per task")
    args = parser.parse_args(argv)
    lm_eval_speed([t for t in (args.tasks or "").split(",") if t] or None, args.limit)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
