"""The SFT trainer's settings that depend on the precision it trains in."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM

from housevoice.tune.models import load_tokenizer
from housevoice.tune.settings import TuneSettings
from housevoice.tune.sft import build_sft_trainer
from housevoice.tune.tiny import build_tiny_model

ROWS = [{"prompt": [{"role": "user", "content": f"Write post {i}."}],
         "completion": [{"role": "assistant", "content": "We ship small changes, and we say why. " * 8}]}
        for i in range(8)]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("m") / "tiny").path


def _trainer(tiny, out, *, bf16: bool):
    model = AutoModelForCausalLM.from_pretrained(tiny, dtype=torch.bfloat16 if bf16 else torch.float32)
    return build_sft_trainer(model, load_tokenizer(tiny), ROWS, TuneSettings(lora_dropout=0.0, seed=1), out,
                             full=False, max_length=256, bf16=bf16, use_cpu=True, max_steps=3, save_strategy="no")


def _casting(trainer) -> set[bool]:
    return {m.cast_input_dtype_enabled for m in trainer.model.modules() if hasattr(m, "cast_input_dtype_enabled")}


def test_under_autocast_adapters_take_their_input_as_it_comes_and_learn_the_same(tiny, tmp_path):
    """bf16 (autocast, as on a GPU; CPU autocast here): PEFT's cast of each input to the fp32 adapter is off,
    and three steps end at the loss the casting trainer reaches."""
    fast = _trainer(tiny, tmp_path / "fast", bf16=True)
    assert _casting(fast) == {False}
    slow = _trainer(tiny, tmp_path / "slow", bf16=True)
    for module in slow.model.modules():
        if hasattr(module, "cast_input_dtype_enabled"):
            module.cast_input_dtype_enabled = True
    fast_loss, slow_loss = fast.train().training_loss, slow.train().training_loss
    assert fast_loss == pytest.approx(slow_loss, rel=2e-2)


def test_full_precision_keeps_peft_casting(tiny, tmp_path):
    """fp32 (a CPU run): no autocast to cast back, so PEFT keeps matching the input to its adapters."""
    assert _casting(_trainer(tiny, tmp_path / "fp32", bf16=False)) == {True}
