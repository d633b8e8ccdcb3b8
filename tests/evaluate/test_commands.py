"""`housevoice evaluate voice|bench` and `housevoice versions` end to end, through the command line, on a tiny model."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

pytestmark = pytest.mark.slow


def _versions(cli, root: Path) -> dict[str, dict]:
    proc = cli("versions", root, "--json", check=True)
    return {v["version_id"]: v for v in json.loads(proc.stdout)}


def test_bench_scores_land_in_registry_for_version_and_its_base(eval_ws, cli):
    root, sft = eval_ws["root"], eval_ws["sft"]
    proc = cli("evaluate", "bench", root, "--version", sft, "--limit", "8", check=True)
    assert "housevoice_mc/acc" in proc.stdout

    versions = _versions(cli, root)
    base = [v for v in versions.values() if v["kind"] == "base"]
    assert len(base) == 1 and base[0]["base_model"] == str(eval_ws["model"])
    for vid in (sft, base[0]["version_id"]):
        scores = versions[vid]["scores"]["lm-eval"]
        acc = scores["housevoice_mc/acc"]
        assert 0.0 <= acc["value"] <= 1.0 and acc["stderr"] > 0 and acc["n"] == 8
        ppl = scores["heldout_perplexity/word_perplexity"]
        assert ppl["value"] > 1 and ppl["n"] >= len(eval_ws["held_out"])
        assert {"heldout_perplexity/byte_perplexity", "heldout_perplexity/bits_per_byte", "housevoice_mc/acc_norm"} <= set(scores)
        details = Path(acc["details_path"])
        assert details.is_file() and details.is_relative_to(root / "reports" / "eval" / vid)
        assert "housevoice_mc" in json.loads(details.read_text())["results"]

    held_out = (Path(versions[sft]["scores"]["lm-eval"]["housevoice_mc/acc"]["details_path"]).parent / "heldout.jsonl")
    ids = {json.loads(line)["record_id"] for line in held_out.read_text().splitlines()}
    assert set(eval_ws["held_out"]) <= ids

    table = cli("versions", root, check=True).stdout
    assert sft in table and "mc acc" in table


def test_voice_scores_and_samples_for_version_and_its_base(eval_ws, cli):
    root, sft = eval_ws["root"], eval_ws["sft"]
    proc = cli("evaluate", "voice", root, "--version", sft, "--prompts", "3", "--max-new-tokens", "12", check=True)
    assert f"{sft}: voice" in proc.stdout

    versions = _versions(cli, root)
    base_id = next(v["version_id"] for v in versions.values() if v["kind"] == "base")
    for vid in (sft, base_id):
        voice = versions[vid]["scores"]["voice"]
        assert 0.0 <= voice["mean"]["value"] <= 1.0
        assert voice["std"]["value"] >= 0 and voice["n"]["value"] == voice["mean"]["n"] >= 2

    samples = pl.read_parquet(root / "tables" / "samples.parquet")
    assert set(samples["version_id"]) == {sft, base_id}
    assert samples["prompt_id"].str.starts_with("eval:").all()
    assert all(0.0 <= json.loads(p)["voice_score"] <= 1.0 for p in samples["params"])


@pytest.mark.parametrize("command", ["voice", "bench"])
def test_unknown_version_is_one_clear_line(eval_ws, cli, command):
    proc = cli("evaluate", command, eval_ws["root"], "--version", "sft-nope", check=False)
    assert proc.returncode == 1
    assert "no version 'sft-nope'" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) <= 2  # the error and its hint


def test_hub_task_offline_fails_fast_with_one_clear_line(eval_ws, cli, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-hf-home"))  # no data set cached on this machine
    proc = cli("evaluate", "bench", eval_ws["root"], "--version", eval_ws["sft"], "--tasks", "hellaswag", check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    first = proc.stderr.strip().splitlines()[0]
    assert "hellaswag" in first and "offline" in first
    assert "--tasks heldout_perplexity,housevoice_mc" in proc.stderr
