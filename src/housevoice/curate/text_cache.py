"""What curation computed from each text at the last run, kept for the next one.

Cleaning is most of what curation costs, the duplicate finder's MinHash digests, the template
finder's sentences, exact token counts and the shape measures of not_prose much of the rest; most of a corpus is the same text at the next run (a few posts
added, a route or a cutoff changed). A text met before, with the same settings and the same code, is taken from here. Each
cache is a file of the workspace's `cache/` folder, `<name>-<fingerprint>.parquet`, one row per
text: two 64-bit hashes of it and what was computed (`clean`: its clean text and exact-duplicate
key; `minhash`: the digest of its clean text, its shingles and words; `sentences`: the opening and
closing sentences of its clean text as the template finder compares them; `tokens`: the exact token
count of its clean text under the configured tokenizer, where one was counted; `prose`: what not_prose
measures of a text and its clean text together). A file may be deleted at
any time. A change to the settings, to the code that computes the rows, to Python or the libraries
it runs on, or another kind of machine gives another fingerprint, and the old file goes at the next
write. What runs over the whole corpus (boilerplate lines, mailing footers, clustering) is never cached.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import os
import platform
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

KEYS = {"k1": pl.UInt64, "k2": pl.UInt64}


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
    cached_rows: int = 0  # rows the file held at the last lookup

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
        """The schema's columns for every text, in order: from the file where a text is in it, from
        `compute(positions)` (a frame of the schema's columns, a row per position) for the others; the
        file is written again when texts were computed or it holds texts no longer asked for. `flag`,
        `also`: see `keys`."""
        keys = self.keys(texts, flag, also)
        known, todo, stale = self.lookup(keys)
        table = known.select(list(self.schema))
        if len(todo):
            fresh = compute(todo).select(list(self.schema)).cast(self.schema)
            at = pl.int_range(len(texts), eager=True).alias("at")
            hit = pl.concat([table, at.to_frame()], how="horizontal").filter(~at.is_in(todo.cast(pl.Int64).implode()))
            table = pl.concat([hit, fresh.with_columns(at=todo.cast(pl.Int64))]).sort("at").drop("at")
        if stale:
            self.save(pl.concat([keys, table], how="horizontal"))
        return table

    def lookup(self, keys: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series, bool]:
        """(the cached rows in the order of `keys`, null where a text is not cached; the positions of
        those; whether the file should be written again: texts are missing, or it holds others)."""
        cached = self._load()
        self.cached_rows = cached.height
        known = keys.join(cached, on=list(KEYS), how="left", maintain_order="left")
        todo = known[next(iter(self.schema))].is_null().arg_true()
        self.hits = keys.height - len(todo)
        return known, todo, len(todo) > 0 or cached.height != keys.n_unique()

    def _load(self) -> pl.DataFrame:
        schema = {**KEYS, **self.schema}
        if not self.path.is_file():
            return pl.DataFrame(schema=schema)
        try:
            return pl.read_parquet(self.path).select(list(schema)).cast(schema)
        except Exception as exc:  # a damaged cache is only a slower run
            self.notes.append(f"{self.name} cache {self.path}: not read ({type(exc).__name__}); every text was read again")
            return pl.DataFrame(schema=schema)

    def save(self, rows: pl.DataFrame) -> None:
        """Replace the file with `rows` (keys and schema: those of the corpus just read) atomically; drop
        other fingerprints' files. A file that cannot be written is only a note: the next run reads again."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.name}.", suffix=".tmp", dir=self.folder)
        except OSError as exc:
            self.notes.append(f"{self.name} cache not written to {self.folder}: {exc.strerror or exc}")
            return
        os.close(fd)
        try:
            rows.select(*KEYS, *self.schema).unique(list(KEYS), keep="first").write_parquet(tmp, compression="lz4")
            os.replace(tmp, self.path)
        except OSError as exc:
            self.notes.append(f"{self.name} cache not written to {self.path}: {exc.strerror or exc}")
            return
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        remove_caches(self.folder, self.name, keep=self.path)


def remove_caches(folder: Path, name: str = "*", keep: Path | None = None) -> None:
    """The cache files `name` (all, by default) in `folder` gone, but `keep`."""
    for old in folder.glob(f"{name}-*.parquet"):
        if old != keep:
            with contextlib.suppress(OSError):
                old.unlink()
