"""Gradient checkpointing: on, off, or on only when a step would not fit in the GPU's memory."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest
import torch
from rich.console import Console
from transformers import LlamaConfig, LlamaForCausalLM

from housevoice.errors import HousevoiceError
from housevoice.tune.runs import checkpointing, trainer_args, training_memory
from housevoice.tune.settings import TuneSettings, validate_table

GiB = 2**30


@pytest.fixture(scope="module")
def model():
    config = LlamaConfig(vocab_size=1000, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2)
    return LlamaForCausalLM(config)


def test_estimate_grows_with_tokens_and_with_full_training(model):
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    assert training_memory(model, 0, full=False) == weights
    assert training_memory(model, 0, full=True) == 4 * weights  # gradients and AdamW's two states
    one, two = training_memory(model, 1000, full=False), training_memory(model, 2000, full=False)
    assert two - one == one - weights > 0  # linear in the tokens of a step


def _gpu(monkeypatch, total: int) -> None:
    """A GPU of `total` bytes (there is none here: torch's answers about it are stood in)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda index: SimpleNamespace(total_memory=total))


def test_auto_turns_checkpointing_on_only_when_a_step_would_not_fit(monkeypatch, model):
    settings = TuneSettings()
    assert settings.gradient_checkpointing == "auto"
    assert checkpointing(settings, model, 10**9, full=True) is False  # no GPU: a CPU step is never checkpointed
    need = training_memory(model, 8192, full=False)
    out = io.StringIO()
    _gpu(monkeypatch, total=need * 2)
    assert checkpointing(settings, model, 8192, full=False, console=Console(file=out)) is False
    assert out.getvalue() == ""
    _gpu(monkeypatch, total=need // 2)
    assert checkpointing(settings, model, 8192, full=False, console=Console(file=out, width=200)) is True
    assert "gradient checkpointing on" in out.getvalue() and "8,192 tokens" in out.getvalue()
    # a setting of true or false is obeyed, whatever the estimate
    assert checkpointing(TuneSettings(gradient_checkpointing=False), model, 8192, full=False) is False
    _gpu(monkeypatch, total=need * 2)
    assert checkpointing(TuneSettings(gradient_checkpointing=True), model, 8192, full=False) is True


def test_trainer_arguments_never_receive_auto(tmp_path):
    assert trainer_args(TuneSettings(), tmp_path)["gradient_checkpointing"] is False
    assert trainer_args(TuneSettings(gradient_checkpointing=True), tmp_path)["gradient_checkpointing"] is True


def test_setting_takes_true_false_or_auto_and_names_the_key_otherwise():
    assert validate_table({"gradient_checkpointing": True}).gradient_checkpointing is True
    assert validate_table({"gradient_checkpointing": "auto"}).gradient_checkpointing == "auto"
    with pytest.raises(HousevoiceError, match="gradient_checkpointing"):
        validate_table({"gradient_checkpointing": "sometimes"})
