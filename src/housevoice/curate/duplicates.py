"""Exact and near duplicates: MinHash LSH candidates, verified on shared phrases and specifics."""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl
import rensa
from pydantic import Field

from housevoice.curate.base import FLAG_ROWS, MONTHS, Clusters, Flagger, FlaggerSettings, FlagResult
from housevoice.curate.clean import text_key
from housevoice.curate.text_cache import TextCache, chosen, fingerprint

# Links carry tracking parameters and change between copies; their text survives in clean_text.
_URL = r"https?://\S+"
# Letters and digits only: markdown punctuation (`*`, `-`, `#`, `_`, `=`) must not change a shingle.
_WORD = r"[^\W_]+"
# Specifics two copies of one text agree on: numbers, versions, dates, months. (`_B`, an ASCII word
# boundary: polars' engine reads a Unicode one on its slow path, five times slower over a corpus.)
_B = r"(?-u:\b)"
_SPECIFIC_PATTERN = rf"{_B}\d\w*(?:[.\-/]\d+)*{_B}|{_B}(?:" + "|".join(MONTHS) + rf"){_B}"
# In a title, ordinals are specifics too: "Second call for papers" is not "Call for papers" again.
_ORDINALS = "first second third fourth fifth sixth seventh eighth ninth tenth final".split()
_ORDINAL_SET = set(_ORDINALS)
_TITLE_SPECIFIC_PATTERN = _SPECIFIC_PATTERN + rf"|{_B}(?:" + "|".join(_ORDINALS) + rf"){_B}"
_MULT = np.uint64(0x9E3779B97F4A7C15)


# The exact key of an empty (or all-whitespace) text.
_EMPTY_KEY = text_key(pl.Series([""], dtype=pl.String))[0]


class DuplicateSettings(FlaggerSettings):
    shingle_words: int = Field(5, ge=1, le=20, description="Words per shingle (phrase) compared between texts.")
    min_words: int = Field(
        20,
        ge=1,
        description="Texts with fewer words (after cleaning) are never called near duplicates: the phrases of a "
        "short line say too little to tell an edit from another text. Exact copies are flagged at any length "
        "(the fifth 'Yeah.' of a podcast's turns is the same text as the first).",
    )
    num_perm: int = Field(128, ge=16, le=1024, description="MinHash permutations per text.")
    band_rows: int = Field(2, ge=1, le=16, description="MinHash values per LSH band; fewer rows find less similar pairs.")
    min_containment: float = Field(
        0.45,
        ge=0.0,
        le=1.0,
        description="Share of the shorter text's phrases found in the other text for a near duplicate.",
    )
    min_specifics_overlap: float = Field(
        0.8,
        ge=0.0,
        le=1.0,
        description="Share of the numbers, versions, dates and months of the text with fewer of them "
        "that the other text also has; below it the two are siblings of a series, not copies.",
    )
    max_bucket_pairs: int = Field(
        64, ge=2, description="Above this many texts in one LSH bucket, link each only to the bucket's first text."
    )
    chunk_rows: int = Field(4096, ge=64, description="Texts shingled at once (bounds memory on large corpora).")
    seed: int = Field(42, description="MinHash seed.")


# Between two words: any run of what is not a word character (`_WORD`), less a space alone — each
# becomes one space, and the single space between two words (the most common run) is left as it is.
_BETWEEN_WORDS = r"(?:[^\w ]|_)[\W_]*| [\W_]+"


def _tokens(texts: pl.Series) -> pl.Series:
    """The words (`_WORD`) of each text, lower case, web addresses aside. (Split at single spaces once
    the runs between words are one space each: the same words as extracting them, a third faster.)"""
    spaced = (
        texts.fill_null("").str.replace_all(_URL, " ").str.to_lowercase().str.replace_all(_BETWEEN_WORDS, " ").str.strip_chars(" ")
    )
    return pl.select(pl.when(spaced.str.len_bytes() > 0).then(spaced.str.split(" "))).to_series()


def _token_hashes(texts: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """Hash of every word, flat, and words per text; slices run on all cores (polars frees the GIL)."""
    step = max(256, -(-len(texts) // (os.cpu_count() or 1)))
    slices = [texts.slice(start, step) for start in range(0, len(texts), step)] or [texts]

    def one(part: pl.Series) -> tuple[np.ndarray, np.ndarray]:
        tokens = _tokens(part)
        lengths = tokens.list.len().fill_null(0).to_numpy().astype(np.int64)
        return tokens.explode().drop_nulls().hash(seed=11).to_numpy(), lengths

    with ThreadPoolExecutor(max_workers=len(slices)) as pool:
        parts = list(pool.map(one, slices))
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def shingle_hashes(texts: pl.Series, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hashes of every k-word shingle of each text, flat, with row offsets (texts shorter than k: one shingle),
    and the words of each text."""
    token_hash, lengths = _token_hashes(texts)
    n_shingles = np.where(lengths >= k, lengths - k + 1, np.minimum(lengths, 1))
    offsets = np.concatenate(([0], np.cumsum(n_shingles))).astype(np.uint64)
    if len(token_hash) == 0:
        return np.zeros(0, np.uint64), offsets, lengths
    # Rolling hash over the flat word stream, then keep the windows that start and end in one text.
    padded = np.concatenate((token_hash, np.zeros(k - 1, np.uint64)))
    window = np.zeros(len(token_hash), np.uint64)
    with np.errstate(over="ignore"):
        for j in range(k):
            # In place: no temporary arrays the size of the word stream.
            np.multiply(window, _MULT, out=window)
            np.add(window, padded[j : j + len(token_hash)], out=window)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    long_rows = lengths >= k
    # +1 where a text's windows start, -1 past its last: a running sum marks the windows kept.
    edges = len(token_hash) + 1
    keep = np.bincount(starts[long_rows], minlength=edges) - np.bincount((starts + lengths - k + 1)[long_rows], minlength=edges)
    out = window[np.cumsum(keep[:-1]) > 0]
    short_rows = np.flatnonzero((lengths > 0) & ~long_rows)
    if len(short_rows):
        # Texts shorter than one shingle: all their words make one shingle, spliced in text order.
        short = np.zeros(len(short_rows), np.uint64)
        with np.errstate(over="ignore"):
            for n, r in enumerate(short_rows):
                for h in token_hash[starts[r] : starts[r] + lengths[r]]:
                    short[n] = short[n] * _MULT + h
        pieces, pos = [], 0
        long_counts = np.where(long_rows, n_shingles, 0)
        long_offsets = np.concatenate(([0], np.cumsum(long_counts)))
        for n, r in enumerate(short_rows):
            pieces.append(out[long_offsets[pos] : long_offsets[r]])
            pieces.append(short[n : n + 1])
            pos = r
        pieces.append(out[long_offsets[pos] :])
        out = np.concatenate(pieces)
    return out, offsets, lengths


def _specifics_of(texts: pl.Series, pattern: str = _SPECIFIC_PATTERN) -> list[set[str]]:
    """Numbers, versions, dates and months of each text (web addresses aside), lower case, in one polars pass.
    Underscores are no part of them: `__3__` is markdown's bold 3, as `**3**` is."""
    found = (
        texts.fill_null("")
        .str.replace_all(_URL, " ")
        .str.replace_all("_", " ", literal=True)
        .str.extract_all(f"(?i){pattern}")
        .list.eval(pl.element().str.to_lowercase().str.strip_chars_end("."))
    )
    return [set(values or ()) for values in found.to_list()]


def _agree(a: set[str], b: set[str], min_overlap: float) -> bool:
    if not a or not b:
        return True
    return len(a & b) / min(len(a), len(b)) >= min_overlap


def _when(then: datetime | None, now: datetime | None) -> str:
    if then is None or now is None:
        return ""
    days = (now - then).days
    word = "earlier" if days >= 0 else "later"
    days = abs(days)
    if days == 0:
        return ", published the same day"
    for size, unit in ((365, "year"), (30, "month"), (1, "day")):
        if days >= size:
            n = days // size
            return f", published {n} {unit}{'s' if n != 1 else ''} {word}"
    return ""


def _bucket_pairs(sub: np.ndarray, rows: np.ndarray, rows_per_band: int, bands: int, max_bucket_pairs: int):
    """Row pairs (a < b) that share an LSH bucket: a band's MinHash values, hashed with the band's number.

    One sort of every (row, band) key finds the buckets; a bucket of up to `max_bucket_pairs` rows
    gives all its pairs, a larger one links each row to its first.
    """
    n = len(rows)
    key = np.zeros((n, bands), np.uint64)
    with np.errstate(over="ignore"):
        for j in range(rows_per_band):
            key = key * _MULT + sub[:, j : bands * rows_per_band : rows_per_band]
        key = key * _MULT + np.arange(bands, dtype=np.uint64)  # the same values in two bands are two buckets
    flat = key.ravel()
    # Most keys are a bucket of one: only the others are sorted (found by hashing, faster than a sort of all).
    shared = np.flatnonzero(pl.Series(flat, dtype=pl.UInt64).is_duplicated().to_numpy())
    order = shared[np.argsort(flat[shared], kind="stable")]  # row-major: a bucket's rows come out in row order
    ordered, owner = flat[order], rows[order // bands]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    lengths = np.diff(np.concatenate((starts, [len(ordered)])))
    pieces_a, pieces_b = [], []
    for length in np.unique(lengths[lengths > 1]):
        first = starts[lengths == length]
        members = owner[first[:, None] + np.arange(length)]  # one bucket per row
        if length <= max_bucket_pairs:
            i, j = np.triu_indices(int(length), 1)
            pieces_a.append(members[:, i].ravel())
            pieces_b.append(members[:, j].ravel())
        else:
            pieces_a.append(np.repeat(members[:, 0], length - 1))
            pieces_b.append(members[:, 1:].ravel())
    if not pieces_a:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    a, b = np.concatenate(pieces_a).astype(np.int64), np.concatenate(pieces_b).astype(np.int64)
    # A row can sit twice in one bucket only through a hash collision of two bands: drop such pairs.
    pairs = np.unique(np.minimum(a, b) * (int(rows.max()) + 1) + np.maximum(a, b))
    a, b = np.divmod(pairs, int(rows.max()) + 1)
    keep = a != b
    return a[keep], b[keep]


class DuplicateFlagger(Flagger):
    """Flags every member of a duplicate cluster except its earliest-published keeper."""

    name = "duplicates"
    flag_names = ("exact_duplicate", "near_duplicate")
    Settings = DuplicateSettings
    # Set by the pipeline: where the digests of this run are kept for the next (see `text_cache`).
    cache_dir: Path | None = None

    def flag(self, frame: pl.DataFrame) -> FlagResult:
        s: DuplicateSettings = self.settings  # type: ignore[assignment]
        n = frame.height
        if n == 0:
            return FlagResult(pl.DataFrame(schema=FLAG_ROWS), pl.DataFrame(schema={"record_id": pl.String, "dup_group": pl.String}))
        text_col = "clean_text" if "clean_text" in frame.columns else "text"
        texts = frame[text_col]
        raw_key = (frame["text_key"] if "text_key" in frame.columns else text_key(frame["text"])).to_numpy()
        digests, sizes, words = self._digests(texts, s)
        eligible = words >= s.min_words
        clusters = Clusters(n)
        edges: dict[tuple[int, int], float] = {}
        # Exact duplicates: the same raw text after NFC and whitespace collapse, at any length
        # (an empty text is no writing to copy: length flags it).
        exact = (
            pl.DataFrame({"key": raw_key, "row": np.arange(n), "ok": raw_key != _EMPTY_KEY})
            .filter("ok")
            .group_by("key")
            .agg(pl.col("row").min().alias("first"), pl.col("row"))
            .filter(pl.col("row").list.len() > 1)
        )
        for first, rows in exact.select("first", "row").iter_rows():
            for r in rows:
                if r != first:
                    clusters.union(first, r)
        candidates = self._candidates(digests, sizes, raw_key, eligible, s)
        shingles = self._shingle_sets(texts, sorted({r for pair in candidates for r in pair}), s)
        titles = frame["title"] if "title" in frame.columns else pl.Series([None] * n, dtype=pl.String)
        rows = sorted(shingles)
        specifics = dict(zip(rows, _specifics_of(texts.gather(rows))))
        title_specifics = dict(zip(rows, _specifics_of(titles.gather(rows), _TITLE_SPECIFIC_PATTERN)))
        for a, b in candidates:
            if clusters.find(a) == clusters.find(b):
                continue
            score = self._verify(shingles, specifics, title_specifics, a, b, s)
            if score is not None:
                clusters.union(a, b)
                edges[(a, b)] = score
        return self._result(frame, clusters, edges, raw_key)

    def _digests(self, texts: pl.Series, s: DuplicateSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """MinHash digests, distinct shingles and words of every text: from the cache where a text was
        read at an earlier run with these settings (see `text_cache`), computed for the others."""
        self.cache_notes: list[str] = []
        if self.cache_dir is None:
            return self._computed_digests(texts, s)
        cache = TextCache(
            self.cache_dir, "minhash", fingerprint(s.model_dump_json(), ("duplicates.py",), ("polars", "rensa", "numpy")),
            {"digest": pl.Array(pl.UInt32, s.num_perm), "shingles": pl.Int64, "words": pl.Int64},
        )

        def compute(todo: pl.Series) -> pl.DataFrame:
            digests, sizes, words = self._computed_digests(chosen(texts, todo), s)
            return pl.DataFrame({"digest": pl.Series(digests, dtype=pl.Array(pl.UInt32, s.num_perm)), "shingles": sizes, "words": words})

        known = cache.rows(texts, compute)
        self.cache_notes = cache.notes
        digests = known["digest"].to_numpy().reshape(len(texts), s.num_perm)
        return digests, known["shingles"].to_numpy(), known["words"].to_numpy()

    def _computed_digests(self, texts: pl.Series, s: DuplicateSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        blocks, sizes, words = [], [], []
        for start in range(0, len(texts), s.chunk_rows):
            hashes, offsets, lengths = shingle_hashes(texts.slice(start, s.chunk_rows), s.shingle_words)
            words.append(lengths)
            if len(hashes) == 0:
                hashes, offsets = np.zeros(1, np.uint64), np.concatenate(([0], np.ones(len(offsets) - 1, np.uint64)))
            matrix = rensa.RMinHash.digest_matrix_from_flat_token_hashes(hashes, offsets, s.num_perm, s.seed)
            blocks.append(np.asarray(matrix.to_rows(), dtype=np.uint32))
            counts = np.diff(offsets.astype(np.int64))
            owner = np.repeat(np.arange(len(counts)), counts)
            distinct = pl.DataFrame({"o": owner, "h": hashes}).group_by("o").agg(pl.col("h").n_unique()).sort("o")
            size = np.zeros(len(counts), np.int64)
            size[distinct["o"].to_numpy()] = distinct["h"].to_numpy()
            sizes.append(size)
        return np.vstack(blocks), np.concatenate(sizes), np.concatenate(words)

    def _candidates(self, digests, sizes, raw_key, eligible, s: DuplicateSettings):
        """Row pairs sharing an LSH band whose estimated containment can reach the threshold, most similar first."""
        n, perms = digests.shape
        rows_per_band = s.band_rows
        bands = perms // rows_per_band
        # One row per distinct exact text: copies are already joined, and must not flood buckets.
        keep = pl.DataFrame({"k": raw_key, "row": np.arange(n), "ok": eligible}).filter("ok").unique("k", keep="first")["row"].to_numpy()
        keep = np.sort(keep)
        if len(keep) < 2:
            return []
        a, b = _bucket_pairs(digests[keep].astype(np.uint64), keep, rows_per_band, bands, s.max_bucket_pairs)
        if len(a) == 0:
            return []
        jac = np.zeros(len(a))
        for start in range(0, len(a), 200_000):
            sl = slice(start, start + 200_000)
            jac[sl] = (digests[a[sl]] == digests[b[sl]]).mean(axis=1)
        sa, sb = sizes[a], sizes[b]
        shared = jac / (1 + jac) * (sa + sb)
        containment = shared / np.maximum(np.minimum(sa, sb), 1)
        # Slack for MinHash estimation error; the exact check decides.
        ok = containment >= s.min_containment - 0.15
        order = np.argsort(-containment[ok], kind="stable")
        return list(zip(a[ok][order].tolist(), b[ok][order].tolist()))

    def _shingle_sets(self, texts: pl.Series, rows: list[int], s: DuplicateSettings) -> dict[int, np.ndarray]:
        """Distinct shingle hashes of the rows that have a candidate pair, sorted, for exact checks."""
        sets: dict[int, np.ndarray] = {}
        for start in range(0, len(rows), s.chunk_rows):
            part = rows[start : start + s.chunk_rows]
            hashes, offsets, _ = shingle_hashes(texts.gather(part), s.shingle_words)
            for i, r in enumerate(part):
                sets[r] = np.unique(hashes[int(offsets[i]) : int(offsets[i + 1])])
        return sets

    def _verify(self, shingles, specifics, title_specifics, a: int, b: int, s: DuplicateSettings) -> float | None:
        """Exact shared-phrase share, or None when the pair is two instances of a series rather than copies."""
        ta, tb = title_specifics[a], title_specifics[b]
        # Titles naming different versions, dates or months name different documents; so does
        # an ordinal in one title only ("Second call for papers" after "Call for papers").
        if (ta and tb and ta != tb) or (ta & _ORDINAL_SET) != (tb & _ORDINAL_SET):
            return None
        sa, sb = shingles[a], shingles[b]
        if len(sa) == 0 or len(sb) == 0:
            return None
        small, large = (sa, sb) if len(sa) <= len(sb) else (sb, sa)
        # Both sorted and distinct: each of the smaller's hashes is looked up in the larger.
        at = np.searchsorted(large, small).clip(max=len(large) - 1)
        share = np.count_nonzero(large[at] == small) / len(small)
        if share < s.min_containment:
            return None
        if not _agree(specifics[a], specifics[b], s.min_specifics_overlap):
            return None
        return share

    def _result(self, frame, clusters: Clusters, edges, raw_key) -> FlagResult:
        n = frame.height
        roots = np.array([clusters.find(i) for i in range(n)])
        members: dict[int, list[int]] = {}
        for i in np.flatnonzero(np.bincount(roots, minlength=n)[roots] > 1):
            members.setdefault(int(roots[i]), []).append(int(i))
        ids = frame["record_id"].to_list()
        titles = frame["title"].to_list() if "title" in frame.columns else [None] * n
        dates = frame["published_at"].to_list() if "published_at" in frame.columns else [None] * n
        best: dict[int, tuple[float, int]] = {}
        for (a, b), score in edges.items():
            for x, y in ((a, b), (b, a)):
                if score > best.get(x, (-1.0, 0))[0]:
                    best[x] = (score, y)
        rows, groups = [], []
        for rows_in in members.values():
            # Keeper: earliest published; undated last; ties go to the first ingested.
            keeper = min(rows_in, key=lambda r: (dates[r] is None, dates[r] or datetime.min, r))
            group = "dup-" + hashlib.sha1(ids[keeper].encode()).hexdigest()[:12]
            first_of_text: dict[int, int] = {}
            for r in sorted(rows_in, key=lambda r: (r != keeper, dates[r] is None, dates[r] or datetime.min, r)):
                first_of_text.setdefault(int(raw_key[r]), r)
            for r in rows_in:
                groups.append((ids[r], group))
                if r == keeper:
                    continue
                original = first_of_text[int(raw_key[r])]
                if original != r:
                    other = original
                    rows.append((ids[r], "exact_duplicate", 1.0, self._detail_exact(r, other, ids, titles, dates)))
                    continue
                # Only one copy of each exact text was compared: borrow the closest match of a copy.
                copies = [c for c in rows_in if raw_key[c] == raw_key[r] and c in best]
                score, other = best[r] if r in best else best[copies[0]] if copies else (1.0, keeper)
                rows.append((ids[r], "near_duplicate", round(score, 4), self._detail_near(r, other, score, ids, titles, dates)))
        flags = pl.DataFrame(rows, schema=FLAG_ROWS, orient="row")
        columns = pl.DataFrame(groups, schema={"record_id": pl.String, "dup_group": pl.String}, orient="row")
        return FlagResult(flags, columns)

    def _name(self, r: int, ids, titles) -> str:
        title = f"'{titles[r]}' " if titles[r] else "an untitled record "
        return f"{title}({ids[r]})"

    def _detail_exact(self, r, other, ids, titles, dates) -> str:
        return f"Same text as {self._name(other, ids, titles)}{_when(dates[other], dates[r])}."

    def _detail_near(self, r, other, score, ids, titles, dates) -> str:
        k = self.settings.shingle_words  # type: ignore[attr-defined]
        return (
            f"{round(score * 100)}% of the {k}-word phrases of the shorter of the two also appear in "
            f"{self._name(other, ids, titles)}{_when(dates[other], dates[r])}."
        )
