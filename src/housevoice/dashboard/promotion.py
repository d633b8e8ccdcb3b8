"""Promote a model version (or roll back to an earlier one) through the config's gates, audit-logged."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from housevoice.config import table_error
from housevoice.errors import HousevoiceError, WorkspaceError
from housevoice.registry import Registry
from housevoice.store import Workspace

Action = Literal["promote", "rollback"]
# versions that write text; a reward model scores text and never goes live on its own
PROMOTABLE_KINDS = ("base", "sft", "rlhf", "dpo")


class PromotionGates(BaseModel):
    """The `[promote]` table: what a candidate must show before it can be promoted.

    A gate left unset is not checked. A set gate whose scores are missing fails, so an
    unevaluated version never goes live by accident.
    """

    model_config = ConfigDict(extra="forbid")

    min_voice_gain: float | None = Field(
        None, description="voice fidelity must be at least the base model's + this much (e.g. 0.02)")
    max_benchmark_drop: float | None = Field(
        None, ge=0, description="no benchmark metric may fall more than this below the base model's (e.g. 0.01)")


@dataclass
class GateCheck:
    """One gate and what it found, in words a lead reads on the page."""

    name: str
    passed: bool
    detail: str


@dataclass
class PromotionResult:
    version_id: str
    action: str
    actor: str
    reason: str
    previous: str | None  # the version that was live before, if any
    checks: list[GateCheck] = field(default_factory=list)


def validate_table(data: dict[str, Any]) -> PromotionGates:
    """The `[promote]` table as gates; a bad key or value names itself and what is allowed."""
    try:
        return PromotionGates.model_validate(data or {})
    except ValidationError as exc:
        raise table_error("promote", exc, PromotionGates.model_fields) from None


def promotion_gates(ws: Workspace) -> PromotionGates:
    """The gates from `[promote]` in housevoice.toml; none when the table is absent."""
    return validate_table(getattr(ws.config, "promote", None) or {})


def latest_scores(registry: Registry, version_id: str) -> dict[tuple[str, str], float]:
    """(suite, metric) -> the most recent value for one version."""
    scores: dict[tuple[str, str], float] = {}
    for row in registry.eval_results(version_id):  # oldest first, so later rows win
        if row["value"] is not None:
            scores[(row["suite"], row["metric"])] = float(row["value"])
    return scores


def base_version_of(registry: Registry, version: dict[str, Any]) -> dict[str, Any] | None:
    """The registered `base` version a version was trained from (same base model), if any."""
    if version["kind"] == "base":
        return None
    bases = [v for v in registry.versions(kind="base")
             if v["base_model"] == version["base_model"] or v["version_id"] == version["base_model"]]
    return bases[-1] if bases else None


def check_gates(registry: Registry, version: dict[str, Any], gates: PromotionGates) -> list[GateCheck]:
    """Each configured gate, passed or failed, with the numbers behind it."""
    if gates.min_voice_gain is None and gates.max_benchmark_drop is None:
        return []
    base = base_version_of(registry, version)
    mine = latest_scores(registry, version["version_id"])
    theirs = latest_scores(registry, base["version_id"]) if base else {}
    base_name = base["version_id"] if base else f"base model {version['base_model']!r}"
    checks: list[GateCheck] = []
    if gates.min_voice_gain is not None:
        name, delta = "min_voice_gain", gates.min_voice_gain
        voice, base_voice = mine.get(("voice", "mean")), theirs.get(("voice", "mean"))
        if voice is None:
            checks.append(GateCheck(name, False, f"{version['version_id']} has no voice fidelity score yet "
                                                 f"(run `housevoice evaluate voice`)"))
        elif base is None or base_voice is None:
            checks.append(GateCheck(name, False, f"{base_name} has no voice fidelity score to compare with"))
        else:
            ok = voice >= base_voice + delta
            checks.append(GateCheck(name, ok, f"voice fidelity {voice:.3f} {'≥' if ok else '<'} "
                                              f"base {base_voice:.3f} + {delta:g}"))
    if gates.max_benchmark_drop is not None:
        name, eps = "max_benchmark_drop", gates.max_benchmark_drop
        shared = sorted(k for k in mine if k[0] == "lm-eval" and k in theirs)
        if base is None or not shared:
            checks.append(GateCheck(name, False, f"no benchmark scores shared with {base_name} "
                                                 f"(run `housevoice evaluate bench` on both)"))
        else:
            drops = {k[1]: theirs[k] - mine[k] for k in shared}
            metric, worst = max(drops.items(), key=lambda kv: kv[1])
            ok = worst <= eps
            checks.append(GateCheck(name, ok, f"largest benchmark drop {worst:.3f} on {metric} "
                                              f"{'≤' if ok else '>'} allowed {eps:g}"))
    return checks


def promote_version(ws: Workspace | Path | str, version_id: str, *, actor: str, reason: str,
                    action: Action = "promote", gates: PromotionGates | None = None) -> PromotionResult:
    """Make a version the live one and append the action to the `promotions` audit log.

    `promote` takes a candidate through the `[promote]` gates (or `gates`, when given);
    `rollback` returns to a version that was live before and is not gated, since it only
    restores what already passed. Nothing is written unless every check passes.
    """
    ws = ws if isinstance(ws, Workspace) else Workspace.open(ws)
    actor, reason, version_id = (actor or "").strip(), (reason or "").strip(), (version_id or "").strip()
    if not actor:
        raise HousevoiceError("say who promotes: the actor's name is required", hint="--actor NAME")
    if not reason:
        raise HousevoiceError("say why: a reason is required for the audit log", hint="--reason TEXT")
    if action not in ("promote", "rollback"):
        raise HousevoiceError(f"unknown action {action!r}; use promote or rollback")
    if not ws.registry_path.is_file():
        raise WorkspaceError(f"{ws.root} has no registry yet ({ws.registry_path.name})",
                             hint="train a version first with `housevoice tune sft`")
    registry = Registry(ws)
    version = registry.get(version_id)
    if version["kind"] not in PROMOTABLE_KINDS:
        raise HousevoiceError(f"{version_id} is a {version['kind']} model, which scores text and cannot go live",
                              hint="promote a version that writes: sft, rlhf or dpo")
    if version["kind"] != "base" and version["status"] != "ready":
        raise HousevoiceError(f"{version_id} is not ready (its training is {version['status']})",
                              hint="promote a version whose training finished")
    if version["stage"] == "promoted":
        raise HousevoiceError(f"{version_id} is already the promoted version")
    history = registry.promotions()
    was_live = any(p["version_id"] == version_id and p["action"] in ("promote", "rollback") for p in history)
    if action == "rollback" and not was_live:
        raise HousevoiceError(f"cannot roll back to {version_id}: it was never promoted",
                              hint="roll back only to a version that was live before; promote a new one instead")
    checks: list[GateCheck] = []
    if action == "promote":
        checks = check_gates(registry, version, gates if gates is not None else promotion_gates(ws))
        failed = [c for c in checks if not c.passed]
        if failed:
            raise HousevoiceError(f"{version_id} did not pass the gate {failed[0].name}: {failed[0].detail}",
                                  hint="see [promote] in housevoice.toml")
    live = [v["version_id"] for v in registry.versions() if v["stage"] == "promoted"]
    with ws.lock():
        registry.record_promotion(version_id, action, actor, reason)
    return PromotionResult(version_id, action, actor, reason, live[-1] if live else None, checks)
