"""Packed attention: examples packed into one row must not see each other, with or without the GPU kernel."""

from __future__ import annotations

import json

import pytest
import torch

from housevoice.tune import varlen


def _model(attn: str, device: str = "cpu", dtype=torch.float32):
    from transformers import LlamaConfig, LlamaForCausalLM

    varlen.register()
    config = LlamaConfig(vocab_size=97, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128)
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    model.set_attn_implementation(attn)
    return model.to(device=device, dtype=dtype)


def _packed(seqs: list[torch.Tensor], device: str):
    """One row as TRL's padding-free collator makes it: input ids, restarting positions, sequence boundaries."""
    lengths = [len(s) for s in seqs]
    cu = torch.tensor([0, *torch.tensor(lengths).cumsum(0).tolist()], dtype=torch.int32)
    return dict(input_ids=torch.cat(seqs)[None].to(device),
                position_ids=torch.cat([torch.arange(n) for n in lengths])[None].to(device),
                cu_seq_lens_q=cu.to(device), cu_seq_lens_k=cu.to(device),
                max_length_q=max(lengths), max_length_k=max(lengths))


def _separate_logits(model, seqs, device):
    return torch.cat([model(input_ids=s[None].to(device)).logits[0] for s in seqs])


SEQS = [torch.randint(0, 97, (n,), generator=torch.Generator().manual_seed(n)) for n in (7, 19, 3, 12)]


def test_packed_row_equals_each_example_alone_on_the_fallback_path():
    model = _model(varlen.NAME)
    reference = _model("sdpa")
    with torch.no_grad():
        packed = model(**_packed(SEQS, "cpu")).logits[0]
        alone = _separate_logits(reference, SEQS, "cpu")
        leaky = reference(input_ids=torch.cat(SEQS)[None]).logits[0]  # one row, no boundaries: tokens see the others
    torch.testing.assert_close(packed, alone, atol=1e-5, rtol=1e-4)
    assert not torch.allclose(leaky, alone, atol=1e-3)  # the comparison can tell packing from plain concatenation


def test_positions_alone_keep_packed_examples_apart():
    """A caller that packs a row but passes only restarting positions (no boundaries) is kept apart too."""
    model, reference = _model(varlen.NAME), _model("sdpa")
    row = _packed(SEQS, "cpu")
    with torch.no_grad():
        packed = model(input_ids=row["input_ids"], position_ids=row["position_ids"]).logits[0]
        alone = _separate_logits(reference, SEQS, "cpu")
    torch.testing.assert_close(packed, alone, atol=1e-5, rtol=1e-4)
    assert varlen._boundaries(row["position_ids"]).tolist() == row["cu_seq_lens_q"].tolist()


def test_sliding_window_models_keep_their_window_when_packed():
    """A Mistral-shaped model whose window is shorter than its examples: packed, each token still sees only the
    window's latest tokens of its own example."""
    from transformers import MistralConfig, MistralForCausalLM

    varlen.register()

    def mistral(attn: str, window: int | None):  # a config each: the implementation is kept on the config
        config = MistralConfig(vocab_size=97, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                               num_attention_heads=4, num_key_value_heads=2, sliding_window=window)
        torch.manual_seed(0)
        model = MistralForCausalLM(config)
        model.set_attn_implementation(attn)
        return model

    with torch.no_grad():
        packed = mistral(varlen.NAME, 5)(**_packed(SEQS, "cpu")).logits[0]
        alone = _separate_logits(mistral("sdpa", 5), SEQS, "cpu")
        wide = _separate_logits(mistral("sdpa", None), SEQS, "cpu")
        # a window longer than every example changes nothing
        long_window = mistral(varlen.NAME, max(len(s) for s in SEQS))(**_packed(SEQS, "cpu")).logits[0]
    torch.testing.assert_close(packed, alone, atol=1e-5, rtol=1e-4)
    assert not torch.allclose(wide, alone, atol=1e-3)  # the window matters at these lengths
    torch.testing.assert_close(long_window, wide, atol=1e-5, rtol=1e-4)


def test_padded_generation_matches_sdpa():
    """A padded batch with a cache (how `tune sample` generates) takes the dense-mask path and agrees with SDPA."""
    ids = torch.tensor([[0, 0, 5, 6, 7], [1, 2, 3, 4, 5]])
    mask = torch.tensor([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]])
    outs = [_model(attn).generate(input_ids=ids, attention_mask=mask, max_new_tokens=6, do_sample=False, pad_token_id=0)
            for attn in (varlen.NAME, "sdpa")]
    assert torch.equal(outs[0], outs[1])


def test_saved_model_does_not_name_the_training_attention(tmp_path):
    """A version trained with packed attention loads anywhere, without housevoice registering anything."""
    _model(varlen.NAME).save_pretrained(tmp_path)
    assert varlen.NAME not in (tmp_path / "config.json").read_text()
    assert json.loads((tmp_path / "config.json").read_text())["model_type"] == "llama"


def test_packed_attention_is_none_without_a_gpu(monkeypatch):
    from housevoice.tune import models

    monkeypatch.setattr(models, "device", lambda: "cpu")
    assert models.packed_attention() is None


@pytest.mark.skipif(not varlen.available(), reason="needs CUDA (Ampere or newer) and torch's varlen_attn")
def test_gpu_kernel_matches_each_example_alone_forward_and_backward():
    model = _model(varlen.NAME, "cuda", torch.bfloat16)
    reference = _model("sdpa", "cuda", torch.bfloat16)
    packed = model(**_packed(SEQS, "cuda")).logits[0].float()
    alone = _separate_logits(reference, SEQS, "cuda").float()
    torch.testing.assert_close(packed, alone, atol=3e-2, rtol=3e-2)
    packed.square().mean().backward()
    alone.square().mean().backward()
    for (name, p), q in zip(model.named_parameters(), reference.parameters()):
        torch.testing.assert_close(p.grad.float(), q.grad.float(), atol=5e-2, rtol=5e-2, msg=name)
