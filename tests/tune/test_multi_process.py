"""Two processes training one version, as `torchrun` / `accelerate launch` run it: one version, one report."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from housevoice.registry import Registry

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_process_sft_registers_one_version_saved_once(tune_ws, tiny_model):
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(free_port()),
         "-m", "housevoice", "tune", "sft", str(tune_ws.root), "--base", str(tiny_model), "--epochs", "1"],
        capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
        env=dict(os.environ, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1", COLUMNS="200", NO_COLOR="1"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    [version] = Registry(tune_ws).versions()
    assert version["status"] == "ready" and Registry(tune_ws).lineage(version["version_id"], "record")
    # rank 0 alone speaks and saves; the other rank trained under the same version id
    assert proc.stdout.count("trained on") == 1 and proc.stdout.strip().splitlines()[-1] == version["version_id"]
    assert [p.name for p in tune_ws.models_dir.iterdir()] == [version["version_id"]]
    assert (tune_ws.models_dir / version["version_id"] / "adapter_config.json").is_file()
    assert not (tune_ws.models_dir / version["version_id"] / "checkpoints").exists()
