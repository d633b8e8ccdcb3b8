"""Token counts: exact counts piece by piece match the tokenizer's own, and estimates say so."""

from __future__ import annotations

import polars as pl

from housevoice.curate.pipeline import token_counts
from housevoice.curate.tokens import count_tokens, load_tokenizer

TRICKY = [
    "",
    "   ",
    "Hello world, this is a blog post.",
    "a\n\n\n  b  \n",
    "it's  'twas \t\n x they'll we'd",
    "naïve café 日本語 テスト 123,456.7 — “quoted”",
    "x\r\n\r\ny",
    "<|endoftext|> special in the middle",
    "\x00nul\x00 bytes",
    "a \t b  c\t\td \u3000e\u00a0\u00a0f \n\n g",
    "```rust\nfn main() {\n    println!(\"hi\");\n}\n```\n\n- item\n  - nested",
]


def test_exact_counts_equal_the_tokenizers_own():
    counts, note = token_counts(pl.Series(TRICKY), None, limits=(20, 4096), exact_all=True)
    assert counts == count_tokens(TRICKY, load_tokenizer(None))
    assert note == ""


def test_large_inputs_estimate_far_from_the_limits_and_say_so():
    texts = pl.Series(["word " * n for n in range(1, 400)])
    counts, note = token_counts(texts, None, limits=(20, 4096))
    exact = count_tokens(texts.to_list(), load_tokenizer(None))
    near_min = [i for i, n in enumerate(exact) if 5 <= n <= 40]
    assert all(counts[i] == exact[i] for i in near_min)
    assert "estimated for" in note
