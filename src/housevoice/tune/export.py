"""`housevoice export`: a version as a standalone model folder that any tool loading Hugging Face models serves.

A version in the workspace may be a LoRA adapter on a parent version on a base model; the export is
one plain causal LM (adapters merged, recursively), its tokenizer with the chat template it was
trained with, and a model card saying where it came from: its lineage, what it was trained on, its
scores and who promoted it. The folder appears whole or not at all.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from housevoice.errors import HousevoiceError, WorkspaceError

EXPORTABLE_KINDS = ("sft", "rlhf", "dpo", "base")


@dataclass
class Exported:
    version_id: str
    path: Path
    parameters: int
    size_mb: float
    chain: list[str]  # the version, its parent, …, then the base model


def _chosen(registry, version_id: str | None) -> dict[str, Any]:
    """The version asked for, else the promoted one."""
    if version_id:
        return registry.get(version_id)
    live = [v for v in registry.versions() if v["stage"] == "promoted"]
    if not live:
        raise HousevoiceError("no version is promoted yet: name the one to export with --version",
                              hint="or promote one first: housevoice promote WS VERSION --actor NAME --reason TEXT")
    return live[-1]


def _chain(registry, version: dict[str, Any]) -> list[str]:
    chain, current = [version["version_id"]], version
    while current["parent_version"]:
        current = registry.get(current["parent_version"])
        chain.append(current["version_id"])
    chain.append(current["base_model"] or "")
    return [link for link in chain if link]


def _provenance(registry, version: dict[str, Any], chain: list[str]) -> dict[str, Any]:
    from housevoice import __version__

    scores: dict[str, dict[str, float]] = {}
    for row in registry.eval_results(version["version_id"]):  # latest value of each metric
        if row["value"] is not None:
            scores.setdefault(row["suite"], {})[row["metric"]] = row["value"]
    return {
        "version_id": version["version_id"],
        "kind": version["kind"],
        "stage": version["stage"],
        "created_at": version["created_at"],
        "lineage": chain,
        "trained_on": {
            vid: {"records": len(registry.lineage(vid, "record")), "preference_pairs": len(registry.lineage(vid, "pair"))}
            for vid in chain[:-1] or chain
        },
        "dataset_hash": version["dataset_hash"],
        "config": json.loads(version["config"] or "{}"),
        "scores": scores,
        "promotions": [p for p in registry.promotions() if p["version_id"] == version["version_id"]],
        "exported_by": f"housevoice {__version__}",
    }


def _model_card(facts: dict[str, Any]) -> str:
    lines = [
        "---", "library_name: transformers", "pipeline_tag: text-generation", "tags: [housevoice, private]", "---", "",
        f"# {facts['version_id']}", "",
        "A private language model tuned with housevoice on an organization's own writing, to write in its voice. "
        "Its training data is private: do not publish these weights.", "",
        f"- kind: {facts['kind']} · stage: {facts['stage']} · created {facts['created_at']}",
        f"- lineage: {' → '.join(facts['lineage'])} (adapters merged into these weights)",
    ]
    for vid, used in facts["trained_on"].items():
        what = [f"{n:,} {name.replace('_', ' ')}" for name, n in used.items() if n]
        if what:
            lines.append(f"- {vid} trained on {' and '.join(what)}")
    if facts["scores"]:
        lines += ["", "## Scores", "", "| suite | metric | value |", "|---|---|---|"]
        lines += [f"| {suite} | {metric} | {value:.4g} |" for suite, metrics in facts["scores"].items() for metric, value in metrics.items()]
    if facts["promotions"]:
        lines += ["", "## Promotions", ""]
        lines += [f"- {p['at']}: {p['action']} by {p['actor']}: {p['reason']}" for p in facts["promotions"]]
    lines += ["", "## Use", "", "```python", "from transformers import AutoModelForCausalLM, AutoTokenizer", "",
              'tokenizer = AutoTokenizer.from_pretrained("THIS_FOLDER")',
              'model = AutoModelForCausalLM.from_pretrained("THIS_FOLDER")', "```", ""]
    return "\n".join(lines)


def export_version(workspace, out: Path | str, version_id: str | None = None) -> Exported:
    """Write the version (default: the promoted one) to `out` (new, or an empty folder) as a merged model,
    its tokenizer, README.md (a model card) and housevoice.json (the same facts for programs)."""
    from housevoice.registry import Registry
    from housevoice.store import Workspace
    from housevoice.tune.models import load_causal_lm, load_policy, load_tokenizer, ready_version, resolve_base

    from housevoice.tune.runs import quiet_libraries

    quiet_libraries()
    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)
    out = Path(out).expanduser().absolute()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise HousevoiceError(f"{out} already exists and is not an empty folder", hint="give a new folder to export into")
    if not ws.registry_path.is_file():
        raise WorkspaceError(f"{ws.root} has no registry yet ({ws.registry_path.name})",
                             hint="train a version first with `housevoice tune sft`")
    registry = Registry(ws)
    chosen = _chosen(registry, version_id)
    version = chosen if chosen["kind"] == "base" else ready_version(registry, chosen["version_id"], EXPORTABLE_KINDS)
    chain = _chain(registry, version)
    if version["kind"] == "base":
        folder = resolve_base(version["base_model"])
        model, tokenizer = load_causal_lm(folder), load_tokenizer(folder)
    else:
        # (Merged onto its parents; the tokenizer and chat template are the version's own, saved with it.)
        model, tokenizer = load_policy(ws, registry, version["version_id"])
    facts = _provenance(registry, version, chain)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        model.save_pretrained(staging, safe_serialization=True)
        tokenizer.save_pretrained(staging)
        (staging / "README.md").write_text(_model_card(facts), encoding="utf-8")
        (staging / "housevoice.json").write_text(json.dumps(facts, indent=2, default=str) + "\n", encoding="utf-8")
        if out.is_dir():
            out.rmdir()  # (empty, checked above)
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) / 2**20
    return Exported(version["version_id"], out, sum(p.numel() for p in model.parameters()), size, chain)
