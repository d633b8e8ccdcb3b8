"""What curation computed from each text at the last run, kept for the next one.

Cleaning is most of what curation costs, the duplicate finder's MinHash digests, the template
finder's sentences, exact token counts and not_prose's measures much of the rest; most of a corpus
is the same text at the next run (a few posts added, a route or a cutoff changed). A text met
before, with the same settings and the same code, is taken from here. Each cache is in the
workspace's `cache/` folder, `<name>-<fingerprint>.parquet` and the texts of later runs beside it
(`<name>-<fingerprint>.<time>.parquet`), one row per text: two 64-bit hashes of it and what was
computed (`clean`: its clean text and exact-duplicate key; `content`: the content key of a clean text; `minhash`: the digest of its clean text,
its shingles and words; `sentences`: the opening and closing sentences of its clean text as the
template finder compares them; `tokens`: the exact token count of its clean text under the
configured tokenizer, where one was counted; `prose`: what not_prose measures of a text and its
clean text together). The files may be deleted at any time. A change to the settings, to the code
that computes the rows, to Python or the libraries it runs on, or another kind of machine gives
another fingerprint, and the old files go at the next write. What runs over the whole corpus
(boilerplate lines, mailing footers, clustering) is never cached.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import os
import platform
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

KEYS = {"k1": pl.UInt64, "k2": pl.UInt64}
# Files of one cache (each run that computed new texts adds one) before it is written again as one.
MAX_PARTS = 16


def fingerprint(settings_json: str, modules: tuple[str, ...], packages: tuple[str, ...]) -> str:
    """Settings, the code of `modules` (files of this package) and of this one, the versions of Python
    and `packages`, and the kind of machine, as 16 hex digits."""
    digest = hashlib.sha256(settings_json.encode())
    here = Path(__file__).parent
    for name in (*modules, Path(__file__).name):  # (this module makes the keys)
        digest.update((here / name).read_bytes())
    digest.update(platform.python_version().encode())  # (html.unescape's entities, re's behaviour)
    # A workspace copied to another kind of machine: hashes computed there need not match these.
    digest.update(f"{platform.system()} {platform.machine()}".encode())
    for package in packages:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            digest.update(f"{package}={importlib.metadata.version(package)}".encode())
    return digest.hexdigest()[:16]


@dataclass
class TextCache:
    """One cache file of a workspace: `name` (what it holds), for one fingerprint, rows of `schema` besides the keys."""

    folder: Path
    name: str
    fingerprint: str
    schema: dict[str, pl.DataType]
    notes: list[str] = field(default_factory=list)  # what went wrong with the file (the run goes on)
    hits: int = 0  # texts taken from the cache at the last lookup
    cached_rows: int = 0  # rows the cache held at the last lookup
    _unused: int = 0  # of those, texts not asked for at the last lookup
    _damaged: bool = False  # the cache could not be read at the last lookup

    @property
    def path(self) -> Path:
        return self.folder / f"{self.name}-{self.fingerprint}.parquet"

    def keys(self, texts: pl.Series, flag: pl.Series | None = None, also: pl.Series | None = None) -> pl.DataFrame:
        """(k1, k2) per text: two hashes of it (with different seeds, 128 bits together), the first
        moved by `flag` where it is true (something besides the text that changes the result); with
        `also` (a second text per row that the result depends on), hashes of both."""
        seed = int(self.fingerprint, 16)
        frame = pl.DataFrame({"text": texts.fill_null(""), "flag": flag.fill_null(False) if flag is not None else False})
        keys = frame.select(
            k1=pl.col("text").hash(seed=seed % 2**63) + pl.col("flag").cast(pl.UInt64),
            k2=pl.col("text").hash(seed=(seed >> 1) % 2**63 + 1),
        )
        if also is None:
            return keys
        second = pl.DataFrame({"text": also.fill_null("")}).select(
            k1=pl.col("text").hash(seed=(seed >> 2) % 2**63 + 2), k2=pl.col("text").hash(seed=(seed >> 3) % 2**63 + 3)
        )
        return keys.select(k1=pl.col("k1") ^ second["k1"], k2=pl.col("k2") ^ second["k2"])

    def rows(self, texts: pl.Series, compute, flag: pl.Series | None = None, also: pl.Series | None = None) -> pl.DataFrame:
        """The schema's columns for every text, in order: from the cache where a text is in it, from
        `compute(positions)` (a frame of the schema's columns, a row per position) for the others, which
        are then kept (see `update`). `flag`, `also`: see `keys`."""
        keys = self.keys(texts, flag, also)
        known, todo = self.lookup(keys)
        table = known.select(list(self.schema))
        if len(todo) == len(texts):  # (nothing from the cache: no copy of the computed rows to interleave)
            table = compute(todo).select(list(self.schema)).cast(self.schema)
        elif len(todo):
            fresh = compute(todo).select(list(self.schema)).cast(self.schema)
            at = pl.int_range(len(texts), eager=True).alias("at")
            hit = pl.concat([table, at.to_frame()], how="horizontal").filter(~at.is_in(todo.cast(pl.Int64).implode()))
            table = pl.concat([hit, fresh.with_columns(at=todo.cast(pl.Int64))]).sort("at").drop("at")
        self.update(pl.concat([keys, table], how="horizontal"), todo)
        return table

    def lookup(self, keys: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series]:
        """(the cached rows in the order of `keys`, null where a text is not cached; the positions of those)."""
        cached = self._load()
        self.cached_rows = cached.height
        known = keys.join(cached, on=list(KEYS), how="left", maintain_order="left")
        todo = known[next(iter(self.schema))].is_null().arg_true()
        self.hits = keys.height - len(todo)
        # Texts the cache holds that this corpus no longer has (an edited post's old text, a record gone).
        self._unused = cached.height - keys.filter(known[next(iter(self.schema))].is_not_null()).n_unique()
        return known, todo

    def update(self, rows: pl.DataFrame, fresh: pl.Series) -> None:
        """Keep what this run computed: `rows` (keys and schema) are the corpus just read, `fresh` the
        positions of those computed now. They are added as a file of their own, so a run that adds a few
        posts writes only theirs; the cache is written again whole, as one file, when it holds more texts no
        longer asked for than texts asked for, after `MAX_PARTS` files, or when it could not be read."""
        parts = self._parts()
        if self._damaged or not parts or len(parts) >= MAX_PARTS or self._unused > self.cached_rows - self._unused:
            if len(fresh) or self._unused or self._damaged or len(parts) > 1:
                self.save(rows)
        elif len(fresh):
            self._write(rows.select(pl.all().gather(fresh)).unique(list(KEYS), keep="first"), self.folder / f"{self.name}-{self.fingerprint}.{time.time_ns():x}.parquet")

    def keep(self, keys: pl.DataFrame, values: pl.Series, fresh: pl.Series) -> None:
        """Keep what is known of a corpus's texts asked for a few at a time: `values` (the schema's one
        column) in the order of `keys` (from `keys`), null where a text was neither cached nor computed;
        `fresh`: the positions computed at this run (see `update`)."""
        rows = pl.concat([keys, values.alias(next(iter(self.schema))).to_frame()], how="horizontal").with_row_index("at")
        rows = rows.filter(pl.col(next(iter(self.schema))).is_not_null())
        self.update(rows.drop("at"), rows["at"].is_in(fresh.cast(pl.UInt32).implode()).arg_true())

    def _parts(self) -> list[Path]:
        return sorted(self.folder.glob(f"{self.name}-{self.fingerprint}*.parquet")) if self.folder.is_dir() else []

    def _load(self) -> pl.DataFrame:
        schema = {**KEYS, **self.schema}
        self._damaged, self._unused = False, 0
        parts = self._parts()
        if not parts:
            return pl.DataFrame(schema=schema)
        read = []
        for part in parts:
            try:
                read.append(pl.read_parquet(part).select(list(schema)).cast(schema))
            except Exception as exc:  # a damaged cache is only a slower run
                self.notes.append(f"{self.name} cache {part}: not read ({type(exc).__name__}); every text was read again")
                self._damaged = True
                return pl.DataFrame(schema=schema)
        cached = pl.concat(read)
        if len(parts) > 1 and cached.select(list(KEYS)).n_unique() != cached.height:  # (a compaction cut short)
            cached = cached.unique(list(KEYS), keep="last", maintain_order=True)
        return cached

    def save(self, rows: pl.DataFrame) -> None:
        """Replace the cache with `rows` (keys and schema: those of the corpus just read), as one file
        written atomically; drop its other files and other fingerprints' files. A file that cannot be
        written is only a note: the next run reads again."""
        rows = rows.select(*KEYS, *self.schema)
        if rows.select(list(KEYS)).n_unique() != rows.height:  # (the same text twice: once is enough)
            rows = rows.unique(list(KEYS), keep="first")
        if self._write(rows, self.path):
            remove_caches(self.folder, self.name, keep=self.path)

    def _write(self, rows: pl.DataFrame, path: Path) -> bool:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.name}.", suffix=".tmp", dir=self.folder)
        except OSError as exc:
            self.notes.append(f"{self.name} cache not written to {self.folder}: {exc.strerror or exc}")
            return False
        os.close(fd)
        try:
            rows.select(*KEYS, *self.schema).write_parquet(tmp, compression="lz4")
            os.replace(tmp, path)
        except OSError as exc:
            self.notes.append(f"{self.name} cache not written to {path}: {exc.strerror or exc}")
            return False
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        return True


def chosen(items: pl.Series | pl.DataFrame, todo: pl.Series) -> pl.Series | pl.DataFrame:
    """The rows of `items` at the positions `todo` (in order, as `TextCache.rows` gives them): `items` itself
    when they are all of it (a first run), not a copy of every text."""
    if len(todo) == len(items):
        return items
    return items.gather(todo) if isinstance(items, pl.Series) else items.select(pl.all().gather(todo))


def remove_caches(folder: Path, name: str = "*", keep: Path | None = None) -> None:
    """The files of caches `name` (all, by default) in `folder` gone, but `keep`."""
    for old in folder.glob(f"{name}-*.parquet"):
        if old != keep:
            with contextlib.suppress(OSError):
                old.unlink()
