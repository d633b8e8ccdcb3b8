"""`evaluate bench`: lm-eval on a version and its base (held-out perplexity, shipped and standard tasks) into the registry."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from housevoice.errors import HousevoiceError
from housevoice.evaluate.heldout import (
    base_version,
    earlier_run,
    eval_dir,
    fingerprint,
    held_out_records,
    learned_by,
    load_version,
    open_workspace,
    run_stamp,
    version_to_evaluate,
    write_perplexity_data,
)
from housevoice.registry import Registry
from housevoice.store import Workspace

TASKS_DIR = Path(__file__).parent / "tasks"
HELD_OUT_TASK = "heldout_perplexity"
DEFAULT_TASKS = (HELD_OUT_TASK, "housevoice_mc")
OFFLINE_VARS = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")
SUITE = "lm-eval"


def local_tasks() -> list[str]:
    """Tasks shipped in evaluate/tasks/ (one YAML each, named like the file)."""
    return sorted(p.stem for p in TASKS_DIR.glob("*.yaml"))


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def machine_offline() -> bool:
    """Offline when the user said so (HF_*_OFFLINE) or the hub does not answer within a second."""
    if any(_truthy(v) for v in (*OFFLINE_VARS, "TRANSFORMERS_OFFLINE")):
        return True
    try:
        with socket.create_connection(("huggingface.co", 443), timeout=1):
            return False
    except OSError:
        return True


def _cached_hub_datasets() -> bool:
    """Whether any data set was downloaded before (then a standard task may still run from the cache)."""
    hf_home = Path(os.environ.get("HF_HOME", Path.home() / ".cache" / "huggingface"))
    hub = Path(os.environ.get("HF_HUB_CACHE", hf_home / "hub"))
    return any(hub.glob("datasets--*")) if hub.is_dir() else False


def _offline_error(tasks: list[str]) -> HousevoiceError:
    names = ", ".join(tasks)
    return HousevoiceError(
        f"{names}: not a shipped task, so lm-eval would fetch {'its' if len(tasks) == 1 else 'their'} data from the "
        f"Hugging Face hub, and this machine is offline",
        hint=f"run `housevoice evaluate bench` once on a connected machine (the data is then cached), "
             f"or use the offline suite: --tasks {','.join(DEFAULT_TASKS)}",
    )


def prepare_network(standard: list[str]) -> None:
    """Go offline before lm-eval imports the hub client, so a missing data set fails in seconds, not after retries."""
    if standard and not machine_offline():
        return
    for name in OFFLINE_VARS:
        os.environ[name] = "1"
    if standard and not _cached_hub_datasets():
        raise _offline_error(standard)


def write_task_folder(folder: Path, held_out_file: Path | None) -> Path:
    """The shipped task templates, with their data paths made absolute, in this run's folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for template in TASKS_DIR.glob("*.yaml"):
        if template.stem == HELD_OUT_TASK:
            if held_out_file is None:
                continue
            data = held_out_file
        else:
            data = TASKS_DIR / f"{template.stem}.jsonl"
        text = template.read_text(encoding="utf-8").replace("@DATA_FILE@", data.resolve().as_posix())
        (folder / template.name).write_text(text, encoding="utf-8")
    return folder


def metric_rows(results: dict) -> list[dict]:
    """Every metric lm-eval reported, as registry rows: `task/metric` (plus `,filter` when not the default)."""
    rows = []
    counts = results.get("n-samples", {})
    for task, values in results.get("results", {}).items():
        n = counts.get(task, {}).get("effective")
        for key, value in values.items():
            metric, _, filt = key.partition(",")
            if metric in ("alias", "sample_len") or metric.endswith("_stderr") or not isinstance(value, (int, float)):
                continue
            stderr = values.get(f"{metric}_stderr,{filt}")
            name = f"{task}/{metric}" if filt in ("", "none") else f"{task}/{metric},{filt}"
            rows.append({"metric": name, "value": float(value),
                         "stderr": float(stderr) if isinstance(stderr, (int, float)) else None, "n": n})
    return rows


def _use_vllm(backend: str) -> bool:
    import importlib.util

    if backend == "hf":
        return False
    available = importlib.util.find_spec("vllm") is not None
    import torch

    if backend == "vllm" and not (available and torch.cuda.is_available()):
        raise HousevoiceError("--backend vllm needs the vllm package and a CUDA GPU", hint="use --backend hf")
    return available and torch.cuda.is_available()


def _language_model(ws: Workspace, registry: Registry, version_id: str, *, backend: str, batch_size: int):
    """The lm-eval model object: vLLM from a folder when it is available on a GPU, else HF in memory."""
    from housevoice.tune.models import device

    if _use_vllm(backend):
        from lm_eval.models.vllm_causallms import VLLM

        folder = ws.models_dir / version_id / "merged"
        if not (folder / "config.json").is_file():
            model, tokenizer = load_version(ws, registry, version_id)
            model.save_pretrained(str(folder))
            tokenizer.save_pretrained(str(folder))
        return VLLM(pretrained=str(folder), batch_size="auto")
    from lm_eval.models.huggingface import HFLM

    model, tokenizer = load_version(ws, registry, version_id)
    return HFLM(pretrained=model.to(device()).eval(), tokenizer=tokenizer, batch_size=batch_size)


@contextlib.contextmanager
def _stderr_to(sink):
    """Python's and the process's stderr into `sink` (lm-eval runs `git describe`, whose complaint
    outside a git checkout would otherwise reach the terminal)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        os.dup2(sink.fileno(), 2)
        with contextlib.redirect_stderr(sink):
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def _simple_evaluate(lm, tasks: list[str], task_manager, limit: int | None, standard: list[str], log: Path) -> dict:
    import lm_eval

    try:
        # lm-eval's progress bars cannot be switched off from outside; they go to the run's log instead
        with open(log, "a", encoding="utf-8") as sink, _stderr_to(sink):
            results = lm_eval.simple_evaluate(model=lm, tasks=tasks, task_manager=task_manager, limit=limit,
                                              log_samples=False, bootstrap_iters=1000, verbosity="ERROR")
    except Exception as exc:  # the hub and datasets clients raise many types for "offline" and "not cached"
        text = f"{type(exc).__name__}: {exc}"
        if standard and any(s in text for s in ("Offline", "offline", "ConnectionError", "couldn't reach", "Couldn't reach")):
            raise _offline_error(standard) from None
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        raise HousevoiceError(f"lm-eval failed on {', '.join(tasks)} ({type(exc).__name__}: {first})",
                              hint=f"its log: {log}") from None
    if not results:
        raise HousevoiceError(f"lm-eval returned no results for {', '.join(tasks)}")
    return results


@dataclass
class BenchScore:
    version_id: str
    metrics: list[dict]
    details_path: Path
    seconds: float
    reused: bool = False  # an earlier run on the same tasks and held-out data was kept


@dataclass
class BenchResult:
    scores: list[BenchScore]  # the evaluated version first, then its base
    tasks: list[str]
    held_out_records: int
    notes: list[str] = field(default_factory=list)


def evaluate_bench(workspace: Workspace | str | Path, version_id: str, *, tasks: list[str] | None = None,
                   limit: int | None = None, batch_size: int = 8, backend: str = "auto",
                   with_base: bool = True) -> BenchResult:
    """Run lm-eval tasks on a version (and once on its base), store every metric with stderr and n.

    The default suite runs offline: `heldout_perplexity` on the workspace's writing the version
    did not learn from, and the shipped `housevoice_mc`. Standard lm-eval tasks (hellaswag,
    arc_easy, mmlu, …) work by name on a connected machine. lm-eval's own output is kept in
    WS/reports/eval/<version>/bench-<time>/results.json.
    """
    names = list(dict.fromkeys(t.strip() for t in (tasks or DEFAULT_TASKS) if t.strip()))
    if not names:
        raise HousevoiceError("name at least one task (--tasks), e.g. --tasks " + ",".join(DEFAULT_TASKS))
    if backend not in ("auto", "hf", "vllm"):
        raise HousevoiceError(f"--backend {backend!r}: use auto, hf or vllm")
    standard = [n for n in names if n not in local_tasks()]
    ws = open_workspace(workspace)
    registry = Registry(ws)
    version_to_evaluate(registry, version_id)
    prepare_network(standard)  # before anything imports huggingface_hub or datasets

    from housevoice.tune.runs import quiet_libraries

    quiet_libraries()
    run_dir = eval_dir(ws, version_id) / f"bench-{run_stamp()}"
    held_count, held_file = 0, None
    if HELD_OUT_TASK in names:
        held = held_out_records(ws, learned_by(registry, version_id))
        held_file = write_perplexity_data(held, run_dir / "heldout.jsonl")
        held_count = len(held)
    task_folder = write_task_folder(run_dir / "tasks", held_file)
    key = fingerprint({"tasks": names, "limit": limit,
                       "held_out": held_file.read_text(encoding="utf-8") if held_file else None})

    import logging

    from lm_eval.tasks import TaskManager

    for name in ("lm_eval", "lm-eval", "datasets", "evaluate"):
        logging.getLogger(name).setLevel(logging.ERROR)
    task_manager = TaskManager(include_path=str(task_folder), include_defaults=bool(standard), verbosity="ERROR")
    unknown = [n for n in names if n not in task_manager.all_tasks]
    if unknown:
        raise HousevoiceError(f"unknown lm-eval task {unknown[0]!r}",
                              hint=f"shipped tasks: {', '.join(local_tasks())}; standard ones: `lm-eval ls tasks`")

    targets = [version_id]
    if with_base:
        base_id = base_version(ws, registry, version_id)
        if base_id != version_id:
            targets.append(base_id)
    scores: list[BenchScore] = []
    for target in targets:
        earlier = earlier_run(registry, target, SUITE, key) if target != version_id else None
        if earlier:
            rows = [r for r in registry.eval_results(target) if r["details_path"] == earlier["details_path"]]
            scores.append(BenchScore(target, rows, Path(earlier["details_path"]), 0.0, reused=True))
            continue
        started = time.perf_counter()
        target_dir = run_dir if target == version_id else eval_dir(ws, target) / run_dir.name
        target_dir.mkdir(parents=True, exist_ok=True)
        lm = _language_model(ws, registry, target, backend=backend, batch_size=batch_size)
        results = _simple_evaluate(lm, names, task_manager, limit, standard, target_dir / "lm-eval.log")
        del lm
        seconds = time.perf_counter() - started
        if target_dir != run_dir:
            shutil.copytree(task_folder, target_dir / "tasks", dirs_exist_ok=True)
        details = target_dir / "results.json"
        from lm_eval.utils import handle_non_serializable

        details.write_text(json.dumps(results, indent=1, default=handle_non_serializable, ensure_ascii=False),
                           encoding="utf-8")
        rows = metric_rows(results)
        (target_dir / "run.json").write_text(json.dumps({"key": key, "version_id": target, "tasks": names,
                                                         "limit": limit, "seconds": round(seconds, 2),
                                                         "held_out_records": held_count}, indent=1), encoding="utf-8")
        scores.append(BenchScore(target, rows, details, seconds))

    with ws.lock(timeout=60):
        for s in scores:
            if not s.reused:
                registry.add_eval_results(s.version_id, SUITE, s.metrics, details_path=str(s.details_path))
    return BenchResult(scores, names, held_count)
