"""`housevoice export`: a version as one standalone model folder, the same model, with where it came from."""

from __future__ import annotations

import json

import pytest

from housevoice.registry import Registry
from housevoice.store import Workspace

pytestmark = pytest.mark.slow


def _logits(model, tokenizer, text: str):
    import torch

    with torch.no_grad():
        return model(**tokenizer(text, return_tensors="pt")).logits


def test_export_writes_the_promoted_version_as_one_model_that_predicts_as_the_workspace_one(cli, dashboard_ws, built_workspace, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from housevoice.tune.models import load_policy

    second = built_workspace["second"]
    proc = cli("export", dashboard_ws, tmp_path / "nothing", check=False)
    assert proc.returncode != 0 and "no version is promoted yet" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "nothing").exists()
    cli("promote", dashboard_ws, second, "--actor", "Dana Lee", "--reason", "best voice so far", check=True)
    out = tmp_path / "release" / "voice-model"
    proc = cli("export", dashboard_ws, out, check=True)
    assert "%|" not in proc.stderr and "Warning" not in proc.stderr  # no library chatter beside the command's lines
    assert proc.stdout.strip().splitlines()[-1] == str(out)
    assert f"exported {second}" in proc.stdout
    assert not any(p.name.startswith(".voice-model.partial") for p in out.parent.iterdir())
    # Plain transformers loads it, and it is the same model the workspace serves (adapters merged).
    model, tokenizer = AutoModelForCausalLM.from_pretrained(out), AutoTokenizer.from_pretrained(out)
    ws = Workspace.open(dashboard_ws)
    registry = Registry(ws)
    inside, inside_tokenizer = load_policy(ws, registry, second)
    prompt = "Write a blog post about small releases."
    assert tokenizer(prompt)["input_ids"] == inside_tokenizer(prompt)["input_ids"]
    assert tokenizer.chat_template == inside_tokenizer.chat_template
    assert _logits(model, tokenizer, prompt).allclose(_logits(inside, inside_tokenizer, prompt), atol=1e-5)
    assert not (out / "adapter_config.json").exists()
    facts = json.loads((out / "housevoice.json").read_text())
    assert facts["version_id"] == second and facts["stage"] == "promoted"
    assert facts["lineage"][0] == second and facts["lineage"][-1] == registry.get(second)["base_model"]
    assert facts["trained_on"][second]["records"] == len(registry.lineage(second, "record")) > 0
    assert facts["scores"]["voice"] and facts["promotions"][0]["actor"] == "Dana Lee"
    card = (out / "README.md").read_text()
    assert f"# {second}" in card and "best voice so far" in card and "do not publish these weights" in card


def test_export_refuses_a_folder_in_use_and_a_version_that_does_not_write(cli, dashboard_ws, built_workspace, tmp_path):
    used = tmp_path / "used"
    used.mkdir()
    (used / "notes.txt").write_text("mine")
    proc = cli("export", dashboard_ws, used, "--version", built_workspace["first"], check=False)
    assert proc.returncode != 0 and "already exists and is not an empty folder" in proc.stderr
    assert [p.name for p in used.iterdir()] == ["notes.txt"]
    proc = cli("export", dashboard_ws, tmp_path / "reward", "--version", built_workspace["reward"], check=False)
    assert proc.returncode != 0 and "is a reward version" in proc.stderr and "Traceback" not in proc.stderr
    proc = cli("export", dashboard_ws, tmp_path / "x", "--version", "sft-nope", check=False)
    assert proc.returncode != 0 and proc.stderr.startswith("error: no version 'sft-nope'")
    assert not (tmp_path / "reward").exists() and not (tmp_path / "x").exists()
    # An empty folder is fine, and --version exports a version that is not live.
    empty = tmp_path / "empty"
    empty.mkdir()
    cli("export", dashboard_ws, empty, "--version", built_workspace["first"], check=True)
    assert json.loads((empty / "housevoice.json").read_text())["version_id"] == built_workspace["first"]
    # The base model registered for comparison exports as itself.
    base = tmp_path / "base"
    cli("export", dashboard_ws, base, "--version", built_workspace["base"], check=True)
    facts = json.loads((base / "housevoice.json").read_text())
    assert facts["kind"] == "base" and facts["lineage"][0] == built_workspace["base"] and (base / "config.json").is_file()
