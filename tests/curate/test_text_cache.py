"""The per-text caches of a workspace: what is read, what is computed, what is written."""

from __future__ import annotations

import polars as pl

from housevoice.curate.text_cache import MAX_PARTS, TextCache


def _cache(folder, fingerprint="0123456789abcdef") -> TextCache:
    return TextCache(folder, "lengths", fingerprint, {"n": pl.Int64})


def _lengths(texts: list[str], folder, computed: list[str] | None = None, **kwargs) -> tuple[list[int], TextCache]:
    series = pl.Series(texts, dtype=pl.String)
    cache = _cache(folder, **kwargs)

    def compute(todo: pl.Series) -> pl.DataFrame:
        chosen = series.gather(todo)
        if computed is not None:
            computed.extend(chosen.to_list())
        return pl.DataFrame({"n": chosen.str.len_chars()})

    return cache.rows(series, compute)["n"].to_list(), cache


def _files(folder) -> list:
    return sorted(folder.glob("lengths-*.parquet"))


def test_a_run_computes_only_new_texts_and_writes_only_theirs(tmp_path):
    texts = [f"post number {i}" + "!" * i for i in range(20)]
    first, _ = _lengths(texts, tmp_path)
    assert first == [len(t) for t in texts]
    [base] = _files(tmp_path)
    written = base.stat().st_mtime_ns

    computed: list[str] = []
    again, cache = _lengths(texts + ["a new post"], tmp_path, computed)
    assert again == [len(t) for t in texts] + [10] and computed == ["a new post"] and cache.hits == 20
    # The new text went into a file of its own; the first file was not written again.
    assert base.stat().st_mtime_ns == written and len(_files(tmp_path)) == 2

    computed.clear()
    third, _ = _lengths(texts + ["a new post"], tmp_path, computed)
    assert computed == [] and third == again and len(_files(tmp_path)) == 2


def test_the_cache_is_written_again_as_one_file_when_most_of_it_is_no_longer_asked_for(tmp_path):
    texts = [f"text {i}" for i in range(10)]
    _lengths(texts, tmp_path)
    _lengths(texts[:6] + ["new one"], tmp_path)  # four left: a part is added
    assert len(_files(tmp_path)) == 2
    computed: list[str] = []
    result, _ = _lengths(texts[:2] + ["new two"], tmp_path, computed)  # most of what it holds has left
    assert computed == ["new two"] and result == [6, 6, 7]
    [only] = _files(tmp_path)
    assert pl.read_parquet(only).height == 3


def test_after_many_runs_the_files_become_one(tmp_path):
    texts = ["first text"] * 3 + [f"base {i}" for i in range(40)]
    _lengths(texts, tmp_path)
    for run in range(MAX_PARTS + 1):
        texts = texts + [f"added at run {run}"]
        result, _ = _lengths(texts, tmp_path)
        assert result == [len(t) for t in texts]
        assert len(_files(tmp_path)) <= MAX_PARTS
    assert len(_files(tmp_path)) < MAX_PARTS  # written again as one at the limit, then added to


def test_a_damaged_file_is_a_note_and_every_text_is_computed_again(tmp_path):
    texts = [f"text {i}" for i in range(5)]
    _lengths(texts, tmp_path)
    _lengths(texts + ["more"], tmp_path)
    _files(tmp_path)[-1].write_bytes(b"PAR1 not really")
    computed: list[str] = []
    result, cache = _lengths(texts + ["more"], tmp_path, computed)
    assert result == [6] * 5 + [4] and sorted(computed) == sorted(texts + ["more"])
    assert any("not read" in note for note in cache.notes)
    assert len(_files(tmp_path)) == 1  # written again whole


def test_another_fingerprint_reads_nothing_and_its_write_removes_the_old_files(tmp_path):
    texts = ["one", "two"]
    _lengths(texts, tmp_path)
    _lengths(texts + ["three"], tmp_path)
    computed: list[str] = []
    _lengths(texts, tmp_path, computed, fingerprint="fedcba9876543210")
    assert computed == texts
    [only] = _files(tmp_path)
    assert "fedcba9876543210" in only.name
