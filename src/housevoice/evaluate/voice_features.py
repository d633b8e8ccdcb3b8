"""What a voice profile measures in a text: function words, masked character n-grams, rhythm and punctuation."""

from __future__ import annotations

import re
import zlib
from functools import lru_cache

import numpy as np

# A general English function-word list (articles, pronouns, auxiliaries, prepositions,
# conjunctions, common adverbs, discourse markers and spoken fillers), written from
# general knowledge so that no corpus decides which words count as style.
FUNCTION_WORDS: tuple[str, ...] = tuple(
    """
    a an the this that these those some any each every either neither no none all both half
    several many much more most few fewer less least other another such what which who whom whose
    i me my mine myself we us our ours ourselves you your yours yourself yourselves he him his
    himself she her hers herself it its itself they them their theirs themselves one ones
    someone somebody something anyone anybody anything everyone everybody everything nobody nothing
    be am is are was were been being have has had having do does did doing done
    will would shall should can could may might must ought need dare
    i'm i've i'd i'll you're you've you'd you'll he's she's it's we're we've we'd we'll
    they're they've they'd they'll that's there's here's what's who's let's
    isn't aren't wasn't weren't hasn't haven't hadn't don't doesn't didn't won't wouldn't
    can't couldn't shouldn't mustn't
    about above across after against along amid among around as at before behind below beneath
    beside besides between beyond by despite down during except for from in inside into like
    near of off on onto out outside over past per since than through throughout till to toward
    towards under underneath unlike until up upon via with within without
    and but or nor so yet because although though while whereas if unless whether once whenever
    wherever however therefore thus hence moreover furthermore meanwhile otherwise instead also
    too either anyway anyhow nevertheless nonetheless
    not never always often sometimes usually rarely ever still already just only even really
    very quite rather pretty fairly somewhat almost nearly enough again then now here there
    where when why how actually basically certainly clearly definitely especially exactly
    generally indeed maybe perhaps probably simply literally obviously honestly essentially
    sort kind lot bit thing things way ways stuff
    yes yeah yep no nope okay ok well oh um uh hmm like right sure cool awesome
    first second finally next last lastly example instance course fact general particular
    """.split()
)

_FUNCTION_SET = frozenset(FUNCTION_WORDS)
_FENCED_CODE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.S | re.M)
_URL = re.compile(r"https?://\S+|www\.\S+")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*|\d+")
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")
_SPACES = re.compile(r"[ \t]+")
_PARAGRAPH = re.compile(r"\n\s*\n")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+\.)\s", re.M)


def prose(text: str) -> str:
    """The prose of a text: fenced code and raw URLs out, since they say little about voice."""
    text = _FENCED_CODE.sub(" ", text or "")
    text = _URL.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


def masked(text: str) -> str:
    """Text distortion: content words become shapes, so character n-grams see style rather than topic.

    Function words stay, every other word keeps its length as `*`, digits become `#`;
    punctuation, casing of the first letter and spacing are kept.
    """
    return _WORD.sub(lambda match: _shape(match.group(0)), text)


@lru_cache(maxsize=200_000)
def _shape(word: str) -> str:
    if word.lower().replace("’", "'") in _FUNCTION_SET:
        return word
    if word.isdigit():
        return "#"
    return ("W" if word[0].isupper() else "w") + "*" * min(len(word) - 1, 9)


def function_word_rates(texts: list[str]) -> np.ndarray:
    """Per text, the share of its words that are each function word (texts × words)."""
    index = {w: i for i, w in enumerate(FUNCTION_WORDS)}
    out = np.zeros((len(texts), len(FUNCTION_WORDS)), dtype=np.float64)
    for row, text in enumerate(texts):
        tokens = words(text)
        columns = [index[t] for t in tokens if t in index]
        if columns:
            out[row] = np.bincount(columns, minlength=len(FUNCTION_WORDS)) / len(tokens)
    return out


SURFACE_NAMES: tuple[str, ...] = (
    "words_per_sentence", "sentence_length_spread", "chars_per_word", "long_word_share",
    "function_word_share", "distinct_word_share", "contraction_share", "capitalised_share",
    "commas", "semicolons", "colons", "dashes", "parentheses", "questions", "exclamations",
    "quotes", "ellipses", "emphasis", "list_items", "words_per_paragraph",
)
_PUNCTUATION = {
    "commas": (",",), "semicolons": (";",), "colons": (":",), "dashes": (" - ", "—", "–", "--"),
    "parentheses": ("(",), "questions": ("?",), "exclamations": ("!",), "quotes": ('"', "“", "”"),
    "ellipses": ("...", "…"), "emphasis": ("*", "_"),
}


def surface_stats(texts: list[str]) -> np.ndarray:
    """Rhythm and punctuation per text: sentence and word lengths, punctuation per 100 words."""
    out = np.zeros((len(texts), len(SURFACE_NAMES)), dtype=np.float64)
    for row, text in enumerate(texts):
        found = list(_WORD.finditer(text))
        if not found:
            continue
        n = len(found)
        tokens = [m.group(0) for m in found]
        lowered = [t.lower().replace("’", "'") for t in tokens]
        lengths = np.fromiter((len(t) for t in tokens), dtype=np.int64, count=n)
        # words per sentence: which sentence end each word start falls before
        ends = np.array([m.start() for m in _SENTENCE_END.finditer(text)] + [len(text)])
        starts = np.fromiter((m.start() for m in found), dtype=np.int64, count=n)
        per_sentence = np.bincount(np.searchsorted(ends, starts))
        per_sentence = per_sentence[per_sentence > 0]
        paragraphs = max(len(_PARAGRAPH.findall(text.strip())) + 1, 1)
        per100 = 100.0 / n
        stats = {
            "words_per_sentence": per_sentence.mean(),
            "sentence_length_spread": per_sentence.std(),
            "chars_per_word": lengths.mean(),
            "long_word_share": float((lengths >= 7).mean()),
            "function_word_share": sum(t in _FUNCTION_SET for t in lowered) / n,
            "distinct_word_share": len(set(lowered)) / n,
            "contraction_share": sum("'" in t for t in lowered) / n,
            "capitalised_share": sum(t[0].isupper() for t in tokens) / n,
            "list_items": len(_LIST_ITEM.findall(text)) * per100,
            "words_per_paragraph": n / paragraphs,
        }
        for name, marks in _PUNCTUATION.items():
            stats[name] = sum(text.count(mark) for mark in marks) * per100
        out[row] = [stats[name] for name in SURFACE_NAMES]
    return out


def compressed_bits(texts: list[str], dictionary: bytes) -> np.ndarray:
    """Bits per character of each text when compressed with a preset dictionary (zlib, 32 KB window)."""
    out = np.empty(len(texts), dtype=np.float64)
    for row, text in enumerate(texts):
        data = text.encode("utf-8")
        packer = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, dictionary) if dictionary else zlib.compressobj(9, zlib.DEFLATED, -15)
        size = len(packer.compress(data)) + len(packer.flush())
        out[row] = 8.0 * size / max(len(data), 1)
    return out


def char_ngram_counts(texts: list[str], n_min: int, n_max: int, n_buckets: int = 1 << 20, keep: np.ndarray | None = None):
    """Hashed counts of byte n-grams (n_min..n_max ≤ 4) per text, as a sparse matrix.

    With `keep` (bucket -> column, -1 to drop), only kept buckets come back, as those columns.

    Hand-written with numpy because scikit-learn's char analyzer runs in Python and is
    ten times slower; an n-gram of up to 4 bytes is packed into one integer, then hashed.
    """
    from scipy import sparse

    rows, cols, vals = [], [], []
    for row, text in enumerate(texts):
        data = np.frombuffer(text.encode("utf-8"), dtype=np.uint8).astype(np.uint64)
        codes = []
        for n in range(n_min, n_max + 1):
            if len(data) < n:
                break
            packed = np.zeros(len(data) - n + 1, dtype=np.uint64)
            for k in range(n):
                packed = (packed << np.uint64(8)) | data[k : len(data) - n + 1 + k]
            codes.append(packed | (np.uint64(n) << np.uint64(40)))
        if not codes:
            continue
        hashed = (np.concatenate(codes) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(64 - n_buckets.bit_length() + 1)
        unique, counts = np.unique(hashed, return_counts=True)
        if keep is not None:
            mapped = keep[unique.astype(np.int64)]
            unique, counts = mapped[mapped >= 0], counts[mapped >= 0]
        rows.append(np.full(len(unique), row, dtype=np.int32))
        cols.append(unique.astype(np.int64))
        vals.append(counts.astype(np.float32))
    width = n_buckets if keep is None else int(keep.max(initial=-1)) + 1
    if not rows:
        return sparse.csr_matrix((len(texts), width), dtype=np.float32)
    return sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(len(texts), width), dtype=np.float32
    )
