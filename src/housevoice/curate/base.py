"""What a flagger is: a name, its settings, and one function from records to flags."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict

# Month names, as titles and texts write dates ("March 3", "Mar 3").
MONTHS = "january february march april may june july august september october november december".split()
MONTH_ABBREVIATIONS = "jan feb mar apr jun jul aug sep sept oct nov dec".split()

# Long format: one row per flag raised. The pipeline gathers them into curated.flags.
FLAG_ROWS = pl.Schema({"record_id": pl.String, "name": pl.String, "score": pl.Float64, "detail": pl.String})


class FlaggerSettings(BaseModel):
    """Base of every flagger's settings (its `[curate.<name>]` table); unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


@dataclass
class FlagResult:
    """What a flagger found.

    `flags`: rows of FLAG_ROWS, one per flag raised (a record may get several, or none).
    `columns`: optional frame keyed by record_id adding curated columns this flagger owns
    (`dup_group`, `template_family`); records absent from it get null.
    """

    flags: pl.DataFrame
    columns: pl.DataFrame | None = None

    @staticmethod
    def empty() -> FlagResult:
        return FlagResult(pl.DataFrame(schema=FLAG_ROWS))

    @staticmethod
    def from_rows(rows: list[tuple[str, str, float, str]]) -> FlagResult:
        return FlagResult(pl.DataFrame(rows, schema=FLAG_ROWS, orient="row"))


class Flagger:
    """One small unit of curation (see STYLE.md: a pipeline is a list of these).

    Subclasses set `name` (the `[curate.<name>]` table), `flag_names` (the flags it may raise),
    `Settings`, and implement `flag(frame)`. `frame` has every column of the records table
    plus `clean_text` (after the cleaners) and `n_tokens`. A flagger never drops rows.
    """

    name: ClassVar[str]
    flag_names: ClassVar[tuple[str, ...]]
    Settings: ClassVar[type[FlaggerSettings]] = FlaggerSettings
    # What `flag` reads beyond the records' own columns: flaggers that read neither `clean_text`
    # nor `n_tokens` run while the text is cleaned, the others once it is (and the count is done).
    reads_clean_text: ClassVar[bool] = True
    reads_tokens: ClassVar[bool] = False

    def __init__(self, settings: FlaggerSettings | None = None):
        self.settings = settings if settings is not None else self.Settings()

    def flag(self, frame: pl.DataFrame) -> FlagResult:
        raise NotImplementedError


class TextFlagger(Flagger):
    """A flagger whose flag on a record depends on its raw `text` alone (and the settings): one flag name,
    at most one flag per record, and a reason that names no other record. With `cache_dir` set (by the
    pipeline), what it found in texts met at an earlier run is taken from the workspace's cache (see
    `text_cache`); `flag_texts` reads the others."""

    # Set by the pipeline: where the flags of this run are kept for the next.
    cache_dir: Path | None = None
    # The files of this package whose code decides the flags (the subclass's module and what it calls).
    modules: ClassVar[tuple[str, ...]] = ()

    def flag_texts(self, frame: pl.DataFrame) -> FlagResult:
        raise NotImplementedError

    def flag(self, frame: pl.DataFrame) -> FlagResult:
        from housevoice.curate.text_cache import TextCache, chosen, fingerprint

        self.cache_notes: list[str] = []
        if self.cache_dir is None:
            return self.flag_texts(frame)
        found = {"flagged": pl.Boolean, "score": pl.Float64, "detail": pl.String}
        cache = TextCache(self.cache_dir, self.name, fingerprint(self.settings.model_dump_json(), (*self.modules, "base.py"), ("polars",)), found)

        def compute(todo: pl.Series) -> pl.DataFrame:
            texts = pl.DataFrame({"record_id": pl.int_range(len(todo), eager=True).cast(pl.String), "text": chosen(frame["text"], todo)})
            flags = self.flag_texts(texts).flags.select(pl.col("record_id").cast(pl.Int64), "score", "detail")
            rows = pl.DataFrame({"record_id": pl.int_range(len(todo), eager=True, dtype=pl.Int64)})
            return rows.join(flags, on="record_id", how="left", maintain_order="left").select(
                flagged=pl.col("score").is_not_null(), score="score", detail="detail"
            )

        table = cache.rows(frame["text"], compute)
        self.cache_notes = cache.notes
        flags = (
            pl.concat([frame.select("record_id"), table], how="horizontal")
            .filter("flagged")
            .select("record_id", name=pl.lit(self.flag_names[0]), score="score", detail="detail")
        )
        return FlagResult(flags.cast(FLAG_ROWS))


class Clusters:
    """Union-find over row numbers, the smaller number the root (hand-written: a few lines, no library
    offers it on plain ints). Duplicate clusters and merged template series use it."""

    def __init__(self, n: int):
        self.parent = np.arange(n)

    def find(self, x: int) -> int:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return int(root)

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)
