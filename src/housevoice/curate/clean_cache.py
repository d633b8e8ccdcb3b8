"""What the per-text cleaners made of each text at the last curation, kept for the next one.

Cleaning is most of what curation costs, and most of a corpus is the same text at the next run
(a few posts added, a route or a cutoff changed): a text cleaned before, with the same cleaner
settings and the same cleaner code, is taken from here. The cache is a file of the workspace's
`cache/` folder (`clean-<fingerprint>.parquet`, one row per text: two 64-bit hashes of the text,
its clean text and exact-duplicate key); it may be deleted at any time. A change to the cleaners'
settings, to their code, to polars, selectolax or Python gives another fingerprint, and the old file goes at the next
write. What runs over the whole corpus (boilerplate lines, mailing footers) is not cached.
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

# The modules whose code makes a clean text: a change to any of them makes every cached text stale.
_CLEANER_MODULES = ("clean.py", "code_masks.py", "markup.py")
SCHEMA = {"k1": pl.UInt64, "k2": pl.UInt64, "clean": pl.String, "text_key": pl.UInt64}


def fingerprint(settings_json: str) -> str:
    """The cleaners' settings, their code and the libraries they run on, as 16 hex digits."""
    digest = hashlib.sha256(settings_json.encode())
    here = Path(__file__).parent
    for name in _CLEANER_MODULES:
        digest.update((here / name).read_bytes())
    digest.update(platform.python_version().encode())  # (html.unescape's entities, re's behaviour)
    for package in ("polars", "selectolax"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            digest.update(f"{package}={importlib.metadata.version(package)}".encode())
    return digest.hexdigest()[:16]


@dataclass
class CleanCache:
    """The cache file of one workspace for one fingerprint."""

    folder: Path
    fingerprint: str
    notes: list[str] = field(default_factory=list)  # what went wrong with the file (the run goes on)
    hits: int = 0  # texts taken from the cache at the last run

    @property
    def path(self) -> Path:
        return self.folder / f"clean-{self.fingerprint}.parquet"

    def keys(self, texts: pl.Series, own_lines: pl.Series) -> pl.DataFrame:
        """(k1, k2) per text: two hashes of it (with different seeds, 128 bits together), and whether
        its line breaks are the writer's (which changes how it is cleaned)."""
        seed = int(self.fingerprint, 16)
        return pl.DataFrame({"text": texts.fill_null(""), "own": own_lines.fill_null(False)}).select(
            k1=pl.col("text").hash(seed=seed % 2**63) + pl.col("own").cast(pl.UInt64),
            k2=pl.col("text").hash(seed=(seed >> 1) % 2**63 + 1),
        )

    def load(self) -> pl.DataFrame:
        """The cached rows (none when there is no file, or it cannot be read: a note says so)."""
        empty = pl.DataFrame(schema=SCHEMA)
        if not self.path.is_file():
            return empty
        try:
            return pl.read_parquet(self.path).select(list(SCHEMA)).cast(SCHEMA)
        except Exception as exc:  # a damaged cache is only a slower run
            self.notes.append(f"clean cache {self.path}: not read ({type(exc).__name__}); every text was cleaned again")
            return empty

    def save(self, rows: pl.DataFrame) -> None:
        """Replace the cache with `rows` (those of the corpus just cleaned) atomically; drop other
        fingerprints' files. A cache that cannot be written is only a note: the next run cleans again."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".clean.", suffix=".tmp", dir=self.folder)
        except OSError as exc:
            self.notes.append(f"clean cache not written to {self.folder}: {exc.strerror or exc}")
            return
        os.close(fd)
        try:
            rows.select(list(SCHEMA)).unique(["k1", "k2"], keep="first").write_parquet(tmp, compression="lz4")
            os.replace(tmp, self.path)
        except OSError as exc:
            self.notes.append(f"clean cache not written to {self.path}: {exc.strerror or exc}")
            return
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        remove_clean_caches(self.folder, keep=self.path)


def remove_clean_caches(folder: Path, keep: Path | None = None) -> None:
    """The clean cache files in `folder` gone (but `keep`)."""
    for old in folder.glob("clean-*.parquet"):
        if old != keep:
            with contextlib.suppress(OSError):
                old.unlink()
