"""bench/train_throughput.py runs on a CPU too (the tiny model), so it keeps up with the code it measures."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "train_throughput.py"


@pytest.mark.slow
def test_throughput_bench_measures_every_case_on_cpu():
    proc = subprocess.run([sys.executable, str(BENCH), "--tiny", "--steps", "5"], capture_output=True, text=True,
                          timeout=600, env=dict(os.environ, HF_HUB_OFFLINE="1"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    rates = dict(re.findall(r"^((?:LoRA|full) · (?:TRL defaults|housevoice))\s+(\d+)", proc.stdout, re.M))
    assert set(rates) == {"LoRA · TRL defaults", "LoRA · housevoice", "full · TRL defaults", "full · housevoice"}
    assert all(int(rate) > 0 for rate in rates.values())
    assert re.search(r"^LoRA: housevoice / TRL defaults = \d+\.\d\dx$", proc.stdout, re.M)
    assert re.search(r"^RLHF \(GRPO, LoRA, \d generations/prompt\): \d+\.\d\d s/step$", proc.stdout, re.M)
