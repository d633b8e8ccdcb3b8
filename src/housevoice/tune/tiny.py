"""A tiny offline model (BPE tokenizer with a chat template + a few-million-parameter Llama) for smoke tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from housevoice.errors import HousevoiceError

SPECIAL_TOKENS = ["<|pad|>", "<|bos|>", "<|end|>", "<|unk|>", "<|system|>", "<|user|>", "<|assistant|>"]

# `{% generation %}` marks what the model says, so assistant-only loss works with this template too.
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{% if message['role'] == 'assistant' %}"
    "<|assistant|>\n{% generation %}{{ message['content'] }}<|end|>{% endgeneration %}\n"
    "{% else %}<|{{ message['role'] }}|>\n{{ message['content'] }}<|end|>\n{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


@dataclass(frozen=True)
class TinyModel:
    path: Path
    parameters: int
    vocab_size: int
    texts: int
    source: str


def _workspace_texts(workspace) -> Iterator[str]:
    from housevoice.store import Workspace

    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)
    curated = ws.read_table("curated")
    column = curated["clean_text"] if not curated.is_empty() else ws.read_table("records")["text"]
    yield from (t for t in column.to_list() if t)


def _bundled_texts() -> Iterator[str]:
    from housevoice.demo import sample_dir

    for path in sorted(sample_dir().rglob("*")):
        if path.is_file() and path.suffix in (".xml", ".txt", ".md", ".srt", ".vtt"):
            yield path.read_text(encoding="utf-8", errors="replace")


def build_tiny_model(out: Path | str, *, workspace=None, vocab_size: int = 4096, hidden_size: int = 192,
                     layers: int = 4, heads: int = 4, context: int = 512, seed: int = 0) -> TinyModel:
    """Train a byte-level BPE tokenizer on the text, then save a randomly initialised Llama beside it."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise HousevoiceError(f"{out} already exists and is not empty", hint="choose a new folder for the model")
    texts = list(_workspace_texts(workspace)) if workspace is not None else list(_bundled_texts())
    if not texts:
        raise HousevoiceError(f"{workspace} has no text to train a tokenizer on", hint="ingest some sources first")
    # (torch and transformers load once the inputs are checked: a mistake is named in a second.)
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast
    from transformers.utils import logging

    logging.disable_progress_bar()  # saving draws a bar per shard: noise next to the command's own lines

    tokenizer = Tokenizer(models.BPE(unk_token="<|unk|>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, bos_token="<|bos|>", eos_token="<|end|>", pad_token="<|pad|>",
        unk_token="<|unk|>", model_max_length=context,
    )
    fast.chat_template = CHAT_TEMPLATE
    config = LlamaConfig(
        vocab_size=len(fast), hidden_size=hidden_size, intermediate_size=hidden_size * 8 // 3,
        num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=heads,
        max_position_embeddings=context, pad_token_id=fast.pad_token_id, bos_token_id=fast.bos_token_id,
        eos_token_id=fast.eos_token_id, tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.generation_config.pad_token_id = fast.pad_token_id
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    fast.save_pretrained(out)
    source = str(workspace) if workspace is not None else "the bundled sample"
    (out / "housevoice-tiny.json").write_text(json.dumps({"trained_on": source, "texts": len(texts)}) + "\n")
    return TinyModel(out, sum(p.numel() for p in model.parameters()), len(fast), len(texts), source)
