"""What a version is evaluated on (writing it never learned from), and `evaluate voice`: generate, score, store."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import polars as pl

from housevoice.errors import HousevoiceError
from housevoice.registry import Registry
from housevoice.schema import SAMPLES
from housevoice.store import Workspace

EVALUATED_KINDS = ("base", "sft", "rlhf", "dpo")
# Records that are not the organization's own distinct writing: never held-out text, never a prompt.
NOT_OWN_WRITING = ("exact_duplicate", "near_duplicate", "off_author")


def open_workspace(workspace: Workspace | str | Path) -> Workspace:
    return workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)


def eval_dir(ws: Workspace, version_id: str) -> Path:
    return ws.reports_dir / "eval" / version_id


def run_stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-%f")


def fingerprint(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode("utf-8")).hexdigest()[:16]


# -- versions ---------------------------------------------------------------------------------
def version_to_evaluate(registry: Registry, version_id: str) -> dict:
    version = registry.get(version_id)
    if version["kind"] not in EVALUATED_KINDS:
        raise HousevoiceError(f"{version_id} is a {version['kind']} version; evaluate scores the ones that write: "
                              f"{', '.join(EVALUATED_KINDS)}")
    if version["status"] != "ready":
        raise HousevoiceError(f"{version_id} is {version['status']}, not ready",
                              hint="evaluate a version whose training finished (`housevoice versions`)")
    return version


def base_version(ws: Workspace, registry: Registry, version_id: str) -> str:
    """The base model a version started from, registered as a `base` version the first time it is needed."""
    from housevoice.tune.models import base_of, resolve_base

    version = registry.get(version_id)
    if version["kind"] == "base":
        return version_id
    spec = base_of(registry, version_id)
    if not spec:
        raise HousevoiceError(f"{version_id} does not say which base model it was tuned from")
    for known in registry.versions(kind="base", status="ready"):
        if known["base_model"] == spec:
            return known["version_id"]
    folder = resolve_base(spec)
    with ws.lock(timeout=60):
        base_id = registry.create_version("base", base_model=spec, config={"registered_by": "evaluate"})
        registry.finish_version(base_id, str(folder))
    return base_id


def load_version(ws: Workspace, registry: Registry, version_id: str):
    """(model, tokenizer) of a version: a base from its folder, a tuned one with its adapters merged."""
    from housevoice.tune.models import load_causal_lm, load_policy, load_tokenizer, resolve_base

    version = version_to_evaluate(registry, version_id)
    if version["kind"] != "base":
        return load_policy(ws, registry, version_id)
    folder = resolve_base(version["artifact_path"] or version["base_model"])
    return load_causal_lm(folder), load_tokenizer(folder)


def learned_by(registry: Registry, version_id: str) -> set[str]:
    from housevoice.tune.runs import records_learned

    return records_learned(registry, version_id)


# -- held-out writing ---------------------------------------------------------------------------
def held_out_records(ws: Workspace, learned: set[str]) -> pl.DataFrame:
    """The organization's own records a version did not learn from: record_id, kind, author, title, text.

    Copies of learned texts, other authors' writing and empty texts are left out, so the
    perplexity and the prompts measure writing the version has never seen.
    """
    curated = ws.read_table("curated")
    records = ws.read_table("records").select("record_id", "kind", "author", "title", "meta")
    if curated.is_empty():
        raise HousevoiceError(f"{ws.root}: nothing curated yet, so there is no held-out writing to evaluate on",
                              hint=f"run `housevoice curate {ws.root}` first")
    flagged = curated.select("record_id", pl.col("flags").list.eval(pl.element().struct.field("name")).alias("names"))
    not_own = set(flagged.filter(pl.col("names").list.set_intersection(list(NOT_OWN_WRITING)).list.len() > 0)
                  ["record_id"].to_list())
    learned_texts = set(curated.filter(pl.col("record_id").is_in(list(learned)))["clean_text"].to_list())
    held = (curated.filter(~pl.col("record_id").is_in(list(learned | not_own))
                           & (pl.col("clean_text").str.strip_chars().str.len_chars() > 0)
                           & ~pl.col("clean_text").is_in(list(learned_texts)))
            .join(records, on="record_id", how="left")
            .select("record_id", "kind", "author", "title", "meta", pl.col("clean_text").alias("text"))
            .sort("record_id"))
    return held


def write_perplexity_data(held: pl.DataFrame, path: Path) -> Path:
    """One {"record_id", "text"} line per held-out record: the data of the `heldout_perplexity` task."""
    if held.is_empty():
        raise HousevoiceError(
            "no held-out writing: the version learned from every record of the organization's own writing",
            hint="leave some approved records out of training, or ingest newer writing, then evaluate again",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"record_id": r["record_id"], "text": r["text"]}, ensure_ascii=False)
             for r in held.iter_rows(named=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def voice_prompts(ws: Workspace, held: pl.DataFrame, settings, limit: int) -> list[str]:
    """Prompts the version never trained on: held-out titles and transcript contexts, then [tune] prompts."""
    from housevoice.tune.datasets import record_prompt, turn_contexts

    contexts = turn_contexts(ws, settings) if (held["kind"] == "transcript_turn").any() else {}
    prompts: list[str] = []
    for rec in held.iter_rows(named=True):
        if rec["kind"] == "transcript_turn" and not contexts.get(rec["record_id"]):
            continue  # the first turn of an episode has no conversation to continue
        if rec["kind"] != "transcript_turn" and not (rec["title"] or "").strip():
            continue
        prompt = record_prompt(rec, settings, contexts.get(rec["record_id"], ""))
        if prompt not in prompts:
            prompts.append(prompt)
    prompts = prompts[:limit]
    prompts += [p for p in settings.prompts if p not in prompts]
    if not prompts:
        raise HousevoiceError(
            "no held-out prompts: every titled record and transcript turn was used in training",
            hint='add prompts to housevoice.toml under [tune] prompts = ["…"], or leave some records out of training',
        )
    return prompts


def fit_voice_profile(ws: Workspace):
    """(profile, fingerprint of its texts): the target voice is the approved training records; other
    authors' writing (flagged off_author) is the background it is told apart from."""
    from housevoice.evaluate.voice import VoiceProfile
    from housevoice.label.decisions import training_records

    texts = training_records(ws)["text"].to_list()
    curated = ws.read_table("curated")
    off_author = curated.filter(pl.col("flags").list.eval(pl.element().struct.field("name") == "off_author").list.any())
    background = off_author["clean_text"].to_list()
    return VoiceProfile.fit(texts, background=background or None), fingerprint([sorted(texts), sorted(background)])


# -- evaluate voice -------------------------------------------------------------------------------
@dataclass
class VoiceScore:
    version_id: str
    mean: float
    std: float
    n: int
    details_path: Path
    reused: bool = False  # an earlier run on the same prompts and profile was kept


@dataclass
class VoiceResult:
    scores: list[VoiceScore]  # the evaluated version first, then its base
    prompts: int
    samples_path: Path | None
    notes: list[str] = field(default_factory=list)


def earlier_run(registry: Registry, version_id: str, suite: str, key: str) -> dict | None:
    """An earlier run of the same evaluation (same key) of this version, read from its run.json."""
    for row in reversed(registry.eval_results(version_id)):
        if row["suite"] != suite or not row["details_path"]:
            continue
        run_file = Path(row["details_path"]).parent / "run.json"
        try:
            run = json.loads(run_file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if run.get("key") == key:
            return {"run": run, "details_path": row["details_path"]}
    return None


def evaluate_voice(workspace: Workspace | str | Path, version_id: str, *, prompts: int | None = None,
                   max_new_tokens: int | None = None, seed: int | None = None, with_base: bool = True) -> VoiceResult:
    """Generate one response per held-out prompt, score each for voice fidelity, store mean / std / n.

    The version's base model answers the same prompts (once; later runs reuse it), so a
    version is always compared with where it started. Responses go to `samples` with
    prompt ids starting `eval:` and their score in `params`.
    """
    ws = open_workspace(workspace)
    registry = Registry(ws)
    version_to_evaluate(registry, version_id)  # before the heavy imports, so a wrong id fails at once
    from housevoice.tune.datasets import prompt_id
    from housevoice.tune.runs import quiet_libraries
    from housevoice.tune.sample import generate
    from housevoice.tune.settings import tune_settings

    quiet_libraries()
    settings = tune_settings(ws, sample_prompts=prompts, max_new_tokens=max_new_tokens, seed=seed)
    held = held_out_records(ws, learned_by(registry, version_id))
    chosen = voice_prompts(ws, held, settings, settings.sample_prompts)
    profile, profile_key = fit_voice_profile(ws)
    params = {"temperature": settings.temperature, "top_p": settings.top_p, "seed": settings.seed,
              "max_new_tokens": settings.max_new_tokens}
    targets = [version_id]
    if with_base:
        base_id = base_version(ws, registry, version_id)
        if base_id != version_id:
            targets.append(base_id)
    key = fingerprint({"prompts": chosen, "params": params, "profile": profile_key})

    scores, rows, created = [], [], datetime.now(timezone.utc)
    for target in targets:
        earlier = earlier_run(registry, target, "voice", key) if target != version_id else None
        if earlier:
            run = earlier["run"]
            scores.append(VoiceScore(target, run["mean"], run["std"], run["n"], Path(earlier["details_path"]), True))
            continue
        model, tokenizer = load_version(ws, registry, target)
        responses = [r[0] for r in generate(model, tokenizer, chosen, n=1, temperature=settings.temperature,
                                            top_p=settings.top_p, max_new_tokens=settings.max_new_tokens,
                                            seed=settings.seed)]
        del model
        values = profile.score(responses)
        mean, std = float(np.mean(values)), float(np.std(values))
        run_dir = eval_dir(ws, target) / f"voice-{run_stamp()}"
        run_dir.mkdir(parents=True, exist_ok=True)
        profile.save(run_dir / "voice-profile.npz")
        details = run_dir / "samples.json"
        details.write_text(json.dumps([{"prompt": p, "response": r, "score": float(s)}
                                       for p, r, s in zip(chosen, responses, values)], indent=1, ensure_ascii=False),
                           encoding="utf-8")
        (run_dir / "run.json").write_text(json.dumps({"key": key, "version_id": target, "mean": mean, "std": std,
                                                      "n": len(values), "params": params}, indent=1), encoding="utf-8")
        for prompt, response, value in zip(chosen, responses, values):
            sid = "s_" + hashlib.sha256(f"eval|{target}|{prompt}|{created.isoformat()}".encode()).hexdigest()[:16]
            rows.append({"sample_id": sid, "prompt_id": "eval:" + prompt_id(prompt), "prompt": prompt,
                         "version_id": target, "response": response,
                         "params": json.dumps({**params, "voice_score": round(float(value), 4)}), "created_at": created})
        scores.append(VoiceScore(target, mean, std, len(values), details))

    samples_path = None
    with ws.lock(timeout=60):
        for s in scores:
            if s.reused:
                continue
            registry.add_eval_results(s.version_id, "voice", [
                {"metric": "mean", "value": s.mean, "stderr": s.std / max(s.n, 1) ** 0.5, "n": s.n},
                {"metric": "std", "value": s.std, "stderr": None, "n": s.n},
                {"metric": "n", "value": float(s.n), "stderr": None, "n": s.n},
            ], details_path=str(s.details_path))
        if rows:
            samples_path = ws.append_table("samples", pl.DataFrame(rows, schema=SAMPLES))
    notes = [] if profile.has_background else [
        "no other authors' writing (off_author) to contrast with: scores are percentiles among the approved texts"]
    return VoiceResult(scores, len(chosen), samples_path, notes)
