"""Token counting: load the configured tokenizer (or the bundled one) and count tokens fast."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from tokenizers import Tokenizer

from housevoice.errors import HousevoiceError

BUNDLED_TOKENIZER = Path(__file__).parent / "tokenizer" / "tokenizer.json"
# "org/model" or "model" with no path separators or file suffix: a Hugging Face hub name.
_HUB_NAME = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def _read(path: Path) -> Tokenizer:
    try:
        return Tokenizer.from_file(str(path))
    except Exception as exc:  # the library raises a bare Exception for bad JSON or an unknown model
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise HousevoiceError(
            f"{path}: not a tokenizer.json that the tokenizers library can read ({reason})",
            hint="give the tokenizer.json of a Hugging Face model, or leave [curate.length] tokenizer empty",
        ) from None


@lru_cache(maxsize=8)
def _load(spec: str) -> Tokenizer:
    if not spec:
        return _read(BUNDLED_TOKENIZER)
    path = Path(spec).expanduser()
    if path.is_dir():
        candidate = path / "tokenizer.json"
        if not candidate.is_file():
            raise HousevoiceError(
                f"{path}: this folder has no tokenizer.json",
                hint="give a model folder that has one, or the path of the tokenizer.json itself",
            )
        return _read(candidate)
    if path.is_file():
        return _read(path)
    if _HUB_NAME.match(spec) and not path.suffix == ".json":
        raise HousevoiceError(
            f"tokenizer {spec!r} is not a local path; housevoice works offline: "
            "download the model's tokenizer.json and give its path"
        )
    raise HousevoiceError(f"tokenizer {spec!r}: no such file or folder", hint="check [curate.length] tokenizer")


def load_tokenizer(spec: str | None = None) -> Tokenizer:
    """The tokenizer at `spec` (a tokenizer.json or a model folder), or the bundled one when empty."""
    return _load((spec or "").strip())


def count_tokens(texts: list[str], tokenizer: Tokenizer) -> list[int]:
    """Tokens in each text (no special tokens), encoded in parallel batches."""
    if not texts:
        return []
    encodings = tokenizer.encode_batch_fast([t or "" for t in texts], add_special_tokens=False)
    return [len(e.ids) for e in encodings]
