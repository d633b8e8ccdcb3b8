"""The unhappy paths of tuning: offline names, broken models, nothing to train on, interruptions."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone

import polars as pl
import pytest
import torch

from housevoice.errors import HousevoiceError
from housevoice.registry import Registry
from housevoice.tune.runs import version_run


def one_line_error(proc) -> str:
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
    assert 1 <= len(lines) <= 2, proc.stderr  # the error, and perhaps its hint
    return lines[0]


def test_help_of_tuning_commands_shows_an_example(cli):
    for command in (("model", "tiny"), ("tune", "sft"), ("tune", "sample"), ("tune", "reward"),
                    ("tune", "rlhf"), ("tune", "dpo")):
        assert "Example:" in cli(*command, "--help", check=True).stdout, command


def test_mistakes_are_named_before_the_training_libraries_load(tune_ws):
    # A fresh interpreter, as a command starts: a hub name offline, an unknown policy, no SFT version to build a
    # reward model on, a tiny model's folder taken or its workspace missing fail on their own line without
    # loading torch, TRL or PEFT (seconds of import for a typo).
    script = (
        "import sys\n"
        "from housevoice.errors import HousevoiceError\n"
        "from housevoice.tune.dpo import run_dpo\n"
        "from housevoice.tune.reward import run_reward\n"
        "from housevoice.tune.sft import run_sft\n"
        "from housevoice.tune.tiny import build_tiny_model\n"
        "said = []\n"
        f"for run in (lambda: run_sft({str(tune_ws.root)!r}, 'example-org/not-downloaded-7b'),\n"
        f"            lambda: run_dpo({str(tune_ws.root)!r}, 'sft-no-such-version'),\n"
        f"            lambda: run_reward({str(tune_ws.root)!r}),\n"
        f"            lambda: build_tiny_model({str(tune_ws.root)!r}),\n"
        f"            lambda: build_tiny_model({str(tune_ws.root / 'new-model')!r}, workspace={str(tune_ws.root / 'nowhere')!r})):\n"
        "    try:\n"
        "        run()\n"
        "    except HousevoiceError as exc:\n"
        "        said.append(str(exc))\n"
        "print(*said, sep='\\n')\n"
        "print('loaded:', *sorted(m for m in ('torch', 'trl', 'peft') if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, HF_HUB_OFFLINE="1"))
    assert proc.returncode == 0, proc.stderr
    offline, unknown, no_sft, taken, nowhere, loaded = proc.stdout.strip().splitlines()
    assert "example-org/not-downloaded-7b is not on this machine" in offline
    assert "sft-no-such-version" in unknown
    assert "no SFT version yet" in no_sft
    assert "already exists and is not empty" in taken and "no workspace at" in nowhere
    assert loaded == "loaded:"
    assert not (tune_ws.root / "new-model").exists()


def test_hub_model_not_downloaded_gives_one_line_offline(cli, tune_ws):
    proc = cli("tune", "sft", tune_ws.root, "--base", "example-org/not-downloaded-7b", check=False)
    line = one_line_error(proc)
    assert "example-org/not-downloaded-7b is not on this machine and housevoice is offline" in line
    assert "huggingface-cli download example-org/not-downloaded-7b" in line
    assert Registry(tune_ws).versions() == []


def test_model_folder_without_weights_gives_one_line(cli, tune_ws, tiny_model, tmp_path):
    base = tmp_path / "no-weights"
    shutil.copytree(tiny_model, base)
    (base / "model.safetensors").unlink()
    line = one_line_error(cli("tune", "sft", tune_ws.root, "--base", base, check=False))
    assert "has no weights" in line and str(base) in line


def test_everything_rejected_gives_one_clear_line(cli, tune_ws, tiny_model):
    ids = tune_ws.read_table("curated")["record_id"].to_list()
    now = datetime.now(timezone.utc)
    tune_ws.append_table("decisions", pl.DataFrame([
        {"record_id": i, "decision": "reject", "edited_text": None, "comment": "", "reviewer": "dana",
         "decided_at": now, "origin": "label-studio:2/1"} for i in ids]))
    line = one_line_error(cli("tune", "sft", tune_ws.root, "--base", tiny_model, check=False))
    assert "nothing to train on" in line
    assert Registry(tune_ws).versions() == []


def test_damaged_weights_leave_a_failed_version_not_a_half_registered_one(cli, tune_ws, tiny_model, tmp_path):
    base = tmp_path / "damaged"
    shutil.copytree(tiny_model, base)
    (base / "model.safetensors").write_bytes(b"not a safetensors file")
    line = one_line_error(cli("tune", "sft", tune_ws.root, "--base", base, check=False))
    assert "cannot load the model" in line
    [version] = Registry(tune_ws).versions()
    assert version["status"] == "failed" and "cannot load the model" in version["error"]
    assert Registry(tune_ws).lineage(version["version_id"]) == []


def _interruptible() -> None:
    """A shell's background job ignores Ctrl-C, and its children inherit that: restore it, as in a terminal."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_interrupted_sft_resumes_from_its_checkpoint(cli, tune_ws, tiny_model):
    registry = Registry(tune_ws)
    env = dict(os.environ, HF_HUB_OFFLINE="1", NO_COLOR="1", COLUMNS="200")
    run = subprocess.Popen([sys.executable, "-m", "housevoice", "tune", "sft", str(tune_ws.root), "--base", str(tiny_model),
                            "--epochs", "200", "--save-steps", "2"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, preexec_fn=_interruptible)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(tune_ws.models_dir.glob("*/checkpoints/checkpoint-*/trainer_state.json")):
        time.sleep(0.2)
    run.send_signal(signal.SIGINT)
    run.communicate(timeout=60)
    [interrupted] = registry.versions()
    assert interrupted["status"] == "failed" and "--resume" in interrupted["error"]

    proc = cli("tune", "sft", tune_ws.root, "--base", tiny_model, "--resume", "--epochs", "1", "--save-steps", "2", check=True)
    assert proc.stdout.strip().splitlines()[-1] == interrupted["version_id"]
    assert "resumed from checkpoint-" in proc.stdout
    version = registry.get(interrupted["version_id"])
    assert version["status"] == "ready" and registry.lineage(version["version_id"], "record")
    assert len(registry.versions()) == 1


def test_resume_with_nothing_interrupted_says_so(cli, tune_ws, tiny_model):
    line = one_line_error(cli("tune", "sft", tune_ws.root, "--base", tiny_model, "--resume", check=False))
    assert "nothing to resume" in line


def test_reward_model_waits_for_annotators_to_agree_when_configured(cli, tune_ws, tiny_model):
    config = tune_ws.root / "housevoice.toml"
    config.write_text(config.read_text().replace("[label]", "[label]\nmin_agreement = 0.5", 1))
    proc = cli("tune", "reward", tune_ws.root, "--base", tiny_model, "--epochs", "1")
    # the fixture's rankings come from one annotator: agreement cannot be measured, so no training
    assert proc.returncode == 1 and "agreement cannot be measured yet" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert Registry(tune_ws).versions(kind="reward") == []


def test_gpu_out_of_memory_fails_the_version_and_says_which_settings_help(tune_ws):
    """A base too large for the GPU (which cannot happen on CPU: torch's own error is raised in its place)."""
    registry = Registry(tune_ws)
    with pytest.raises(HousevoiceError) as caught:
        with version_run(registry, "sft", base_model="big") as version_id:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
    assert "out of memory" in str(caught.value) and version_id in str(caught.value)
    assert "batch_size" in caught.value.hint and "gradient_checkpointing = true" in caught.value.hint
    assert registry.get(version_id)["status"] == "failed"
    with pytest.raises(HousevoiceError) as other:  # any other failure keeps the plain hint
        with version_run(registry, "sft", base_model="big"):
            raise ValueError("bad shapes")
    assert "batch_size" not in other.value.hint
