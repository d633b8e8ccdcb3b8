"""`housevoice promote` and `promote_version`: the same gates, an audit log, nothing written on failure."""

from __future__ import annotations

import pytest

from housevoice.dashboard.promotion import PromotionGates, promote_version
from housevoice.errors import HousevoiceError
from housevoice.registry import Registry
from housevoice.store import Workspace

pytestmark = pytest.mark.slow


def test_promote_command_promotes_and_logs_who_and_why(cli, dashboard_ws, built_workspace):
    second = built_workspace["second"]
    proc = cli("promote", dashboard_ws, second, "--actor", "Dana Lee", "--reason", "best voice so far", check=True)
    assert f"{second} is now the promoted version" in proc.stdout
    registry = Registry(Workspace.open(dashboard_ws))
    assert registry.get(second)["stage"] == "promoted"
    [entry] = registry.promotions()
    assert (entry["version_id"], entry["action"], entry["actor"], entry["reason"]) == (second, "promote", "Dana Lee", "best voice so far")


@pytest.mark.parametrize("args, message", [
    (["--actor", "Dana"], "a reason is required"),
    (["--reason", "why not"], "the actor's name is required"),
    (["--actor", "Dana", "--reason", "   "], "a reason is required"),
])
def test_promote_command_without_actor_or_reason_fails_and_writes_nothing(cli, dashboard_ws, built_workspace, digest, args, message):
    before = digest(dashboard_ws)
    proc = cli("promote", dashboard_ws, built_workspace["second"], *args, check=False)
    assert proc.returncode != 0 and message in proc.stderr and "Traceback" not in proc.stderr
    assert digest(dashboard_ws) == before


def test_promote_unknown_version_fails_with_one_line(cli, dashboard_ws, digest):
    before = digest(dashboard_ws)
    proc = cli("promote", dashboard_ws, "sft-nope", "--actor", "Dana", "--reason", "r", check=False)
    assert proc.returncode != 0 and proc.stderr.startswith("error: no version 'sft-nope'")
    assert digest(dashboard_ws) == before


def test_promote_without_registry_says_so_and_creates_none(cli, workspace):
    proc = cli("promote", workspace.root, "sft-x", "--actor", "Dana", "--reason", "r", check=False)
    assert proc.returncode != 0 and "has no registry yet" in proc.stderr
    assert not workspace.registry_path.exists()


def test_a_failed_gate_is_named_and_nothing_is_written(dashboard_ws, built_workspace, digest):
    before = digest(dashboard_ws)
    with pytest.raises(HousevoiceError, match="did not pass the gate min_voice_gain"):
        promote_version(dashboard_ws, built_workspace["second"], actor="Dana", reason="r",
                        gates=PromotionGates(min_voice_gain=5.0))
    assert digest(dashboard_ws) == before


def test_gates_in_the_config_apply_to_the_command(cli, dashboard_ws, built_workspace, digest):
    config = dashboard_ws / "housevoice.toml"
    config.write_text(config.read_text().replace("[promote]\n", "[promote]\nmin_voice_gain = 5.0\n", 1))
    before = digest(dashboard_ws)
    proc = cli("promote", dashboard_ws, built_workspace["second"], "--actor", "Dana", "--reason", "r", check=False)
    assert proc.returncode != 0 and "gate min_voice_gain" in proc.stderr
    assert digest(dashboard_ws) == before


def test_a_gate_without_scores_to_check_fails(dashboard_ws, built_workspace):
    registry = Registry(Workspace.open(dashboard_ws))
    fresh = registry.create_version("sft", base_model="elsewhere")  # bad data: a version nobody evaluated
    registry.finish_version(fresh, "models/none")
    with pytest.raises(HousevoiceError, match="no voice fidelity score"):
        promote_version(dashboard_ws, fresh, actor="Dana", reason="r", gates=PromotionGates(min_voice_gain=0.0))


def test_rollback_returns_to_a_version_that_was_live(dashboard_ws, built_workspace):
    first, second = built_workspace["first"], built_workspace["second"]
    with pytest.raises(HousevoiceError, match="never promoted"):
        promote_version(dashboard_ws, first, actor="Dana", reason="undo", action="rollback")
    promote_version(dashboard_ws, first, actor="Dana", reason="first one")
    promote_version(dashboard_ws, second, actor="Dana", reason="better")
    result = promote_version(dashboard_ws, first, actor="Sam", reason="second one misbehaves", action="rollback")
    assert result.previous == second
    registry = Registry(Workspace.open(dashboard_ws))
    assert [p["action"] for p in registry.promotions()] == ["promote", "promote", "rollback"]
    assert registry.get(first)["stage"] == "promoted" and registry.get(second)["stage"] == "archived"
