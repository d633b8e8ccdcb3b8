"""Padding-free attention on PyTorch's own variable-length FlashAttention kernel.

Packing several examples into one row without padding needs an attention kernel that keeps them apart. The
flash-attn package is one (hard to install: it compiles against one CUDA and torch build); PyTorch ships the same
kernel as `torch.nn.attention.varlen.varlen_attn` (torch >= 2.9, CUDA, Ampere or newer). This module registers it
with transformers as the attention implementation `housevoice_varlen`, used only while training.

Rows that carry no sequence boundaries (a padded batch, generation with a cache) go through PyTorch's SDPA with
the mask they need, so the implementation is correct for every call, not just packed training.
"""

from __future__ import annotations

import inspect
from functools import lru_cache

NAME = "housevoice_varlen"


@lru_cache(maxsize=1)
def _kernel():
    """PyTorch's varlen_attn and the keywords this torch build takes, or None where it has none."""
    try:
        from torch.nn.attention.varlen import varlen_attn
    except ImportError:
        return None
    return varlen_attn, set(inspect.signature(varlen_attn).parameters)


def available() -> bool:
    """CUDA, an Ampere or newer GPU (FlashAttention's floor) and a torch that ships varlen_attn."""
    import torch

    return torch.cuda.is_available() and torch.cuda.get_device_capability()[0] >= 8 and _kernel() is not None


def register() -> str:
    """Make `housevoice_varlen` an attention implementation transformers can load a model with."""
    from transformers import AttentionInterface
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, flash_attention_mask

    AttentionInterface.register(NAME, attention)
    # Like FlashAttention: no 4D mask is built; a padded batch hands over its 2D mask, a packed one none at all.
    ALL_MASK_ATTENTION_FUNCTIONS.register(NAME, flash_attention_mask)
    return NAME


def _boundaries(position_ids):
    """cu_seq_lens of a packed row from its positions: a sequence starts wherever a position does not follow on."""
    import torch

    positions = position_ids.reshape(-1)
    start = torch.diff(positions, prepend=positions[:1]) != 1
    start[0] = True
    starts = start.nonzero().flatten()
    return torch.cat([starts, starts.new_tensor([positions.numel()])]).to(torch.int32)


def _dense_mask(attention_mask, cu_seq_lens, q_len: int, kv_len: int, device, window: int | None = None):
    """The boolean mask SDPA needs for what the fast path cannot take: causal, a sliding window, padding and
    sequence boundaries."""
    import torch

    q_idx = torch.arange(q_len, device=device)[:, None] + (kv_len - q_len)
    kv_idx = torch.arange(kv_len, device=device)[None, :]
    mask = kv_idx <= q_idx
    if window:  # a token sees the `window` latest tokens, itself included
        mask = mask & (kv_idx > q_idx - window)
    mask = mask[None, None]
    if cu_seq_lens is not None:  # packed: a token sees only its own sequence
        seq = torch.zeros(kv_len, dtype=torch.long, device=device)
        seq[cu_seq_lens[1:-1].long()] = 1
        seq = seq.cumsum(0)
        mask = mask & (seq[kv_len - q_len:, None] == seq[None, :])[None, None]
    if attention_mask is not None:  # 2D padding mask, one row per batch item
        mask = mask & attention_mask[:, None, None, -kv_len:].bool()
    return mask


def attention(module, query, key, value, attention_mask, scaling=None, dropout: float = 0.0, **kwargs):
    """transformers' attention signature: query (B, H, L, D), key/value (B, Hkv, L, D) → ((B, L, H, D), None)."""
    import torch

    cu_seq_lens = kwargs.get("cu_seq_lens_q")
    batch, heads, q_len, dim = query.shape
    kv_heads, kv_len = key.shape[1], key.shape[2]
    positions = kwargs.get("position_ids")
    if cu_seq_lens is None and attention_mask is None and batch == 1 and q_len == kv_len and positions is not None:
        cu_seq_lens = _boundaries(positions)  # a caller that packs a row but hands over only its positions
    window = kwargs.get("sliding_window") or getattr(module, "sliding_window", None)
    if window and cu_seq_lens is not None and kwargs.get("max_length_q") and window >= kwargs["max_length_q"]:
        window = None  # no packed example is longer than the window: it changes nothing (and the fast path may run)
    plain = window is None and kwargs.get("softcap") is None and not (dropout and module.training)
    fast = (plain and cu_seq_lens is not None and attention_mask is None and batch == 1 and q_len == kv_len
            and query.is_cuda and query.dtype in (torch.bfloat16, torch.float16) and _kernel() is not None)
    if not fast:
        from transformers.integrations.sdpa_attention import sdpa_attention_forward

        mask = None
        if cu_seq_lens is not None or attention_mask is not None or q_len != kv_len or window:
            mask = _dense_mask(attention_mask, cu_seq_lens, q_len, kv_len, query.device, window)
        return sdpa_attention_forward(module, query, key, value, mask, dropout=dropout, scaling=scaling,
                                      is_causal=mask is None and q_len > 1)
    varlen_attn, takes = _kernel()
    q = query.transpose(1, 2).reshape(q_len, heads, dim)
    k = key.transpose(1, 2).reshape(kv_len, kv_heads, dim)
    v = value.transpose(1, 2).reshape(kv_len, kv_heads, dim)
    options = {"scale": scaling}
    if kv_heads != heads:
        if "enable_gqa" in takes:
            options["enable_gqa"] = True
        else:
            k, v = (t.repeat_interleave(heads // kv_heads, dim=1) for t in (k, v))
    if "window_size" in takes:  # newer torch: causal is a window reaching back forever and forward not at all
        options["window_size"] = (-1, 0)
    else:
        options["is_causal"] = True
    cu = cu_seq_lens.to(device=query.device, dtype=torch.int32)
    longest = int(kwargs.get("max_length_q") or int((cu[1:] - cu[:-1]).max()))
    out = varlen_attn(q, k, v, cu, cu, longest, longest, **options)
    return out.reshape(1, q_len, heads, dim), None
