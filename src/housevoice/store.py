"""The workspace on disk: where each table lives, atomic writes, the lock, the registry path."""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path

import polars as pl
from filelock import FileLock, Timeout

from housevoice.config import CONFIG_TEMPLATE, Config, load_config
from housevoice.errors import WorkspaceError
from housevoice.schema import TABLES

CONFIG_FILE = "housevoice.toml"


class Workspace:
    """A housevoice workspace folder. Every read and write of a table goes through here."""

    def __init__(self, root: Path | str):
        self.root = Path(root)

    # -- creating and opening -------------------------------------------------------------
    @classmethod
    def create(cls, root: Path | str, *, name: str | None = None) -> Workspace:
        root = Path(root)
        if (root / CONFIG_FILE).exists():
            raise WorkspaceError(f"{root} is already a housevoice workspace ({CONFIG_FILE} exists)")
        if root.exists() and not root.is_dir():
            raise WorkspaceError(f"{root} exists and is not a folder")
        for sub in ("tables", "models", "reports"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        ws = cls(root)
        import uuid

        ws.write_text(
            root / CONFIG_FILE,
            CONFIG_TEMPLATE.format(name=name or root.resolve().name, workspace_id=uuid.uuid4().hex),
        )
        return ws

    @classmethod
    def open(cls, root: Path | str) -> Workspace:
        root = Path(root)
        if not root.is_dir():
            raise WorkspaceError(f"no workspace at {root}", hint=f"create one with `housevoice init {root}`")
        if not (root / CONFIG_FILE).is_file():
            raise WorkspaceError(
                f"{root} is not a housevoice workspace (no {CONFIG_FILE})",
                hint=f"create one with `housevoice init {root}`",
            )
        ws = cls(root)
        ws.config  # noqa: B018 - validate the config on open, so every command fails early
        return ws

    @cached_property
    def config(self) -> Config:
        return load_config(self.root / CONFIG_FILE)

    # -- paths ----------------------------------------------------------------------------
    @property
    def tables_dir(self) -> Path:
        return self.root / "tables"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    @property
    def cache_dir(self) -> Path:
        """What a later run may reuse (what curation computed from the text of unchanged records); safe to delete."""
        return self.root / "cache"

    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    @property
    def registry_path(self) -> Path:
        return self.root / "registry.sqlite"

    def table_path(self, name: str) -> Path:
        if name not in TABLES:
            raise KeyError(f"unknown table {name!r}")
        return self.tables_dir / f"{name}.parquet"

    def has_table(self, name: str) -> bool:
        return self.table_path(name).is_file()

    # -- reading --------------------------------------------------------------------------
    def read_table(self, name: str) -> pl.DataFrame:
        """The table, or an empty frame with the contract's schema when it does not exist yet."""
        path = self.table_path(name)
        schema = TABLES[name]
        if not path.is_file():
            return pl.DataFrame(schema=schema)
        try:
            frame = pl.read_parquet(path)
        except Exception as exc:  # polars raises several types for a damaged file
            raise WorkspaceError(
                f"{path}: cannot read the {name} table ({type(exc).__name__}: {str(exc).splitlines()[0]})",
                hint="restore it from a backup, or remove it and run the stage that writes it again",
            ) from None
        missing = [c for c in schema.names() if c not in frame.columns]
        if missing:
            raise WorkspaceError(
                f"{path}: the {name} table has no column {missing[0]!r}"
                + (f" (nor {', '.join(map(repr, missing[1:]))})" if len(missing) > 1 else ""),
                hint="it was not written by this housevoice; run the stage that writes it again",
            )
        try:
            return frame.select(schema.names()).cast(dict(schema))
        except Exception as exc:
            raise WorkspaceError(f"{path}: the {name} table has columns of the wrong type ({exc})") from None

    # -- writing --------------------------------------------------------------------------
    def write_table(self, name: str, frame: pl.DataFrame) -> Path:
        """Replace a table atomically: a reader sees the old file or the new one, never half."""
        schema = TABLES[name]
        frame = frame.select(schema.names()).cast(dict(schema))
        path = self.table_path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        try:
            frame.write_parquet(tmp)
            _fsync(tmp)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        _sweep_leftovers(path.parent, name)
        return path

    def append_table(self, name: str, rows: pl.DataFrame) -> Path:
        """Append rows to a log table (decisions, preferences): old rows are never changed."""
        current = self.read_table(name)
        schema = TABLES[name]
        rows = rows.select(schema.names()).cast(dict(schema))
        return self.write_table(name, pl.concat([current, rows], how="vertical"))

    def write_text(self, path: Path, text: str) -> Path:
        write_atomic(path, text.encode("utf-8"))
        return path

    @contextlib.contextmanager
    def lock(self, timeout: float = 5.0) -> Iterator[None]:
        """Hold the workspace's write lock: one writing command at a time."""
        lock = FileLock(str(self.root / ".housevoice.lock"))
        try:
            lock.acquire(timeout=timeout)
        except Timeout:
            raise WorkspaceError(
                f"{self.root} is busy: another housevoice command is writing to it",
                hint="wait for it to finish, then try again",
            ) from None
        try:
            yield
        finally:
            lock.release()


def write_atomic(path: Path, data: bytes) -> None:
    """Write bytes to a temp file in the same folder, then rename it over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _fsync(path: str) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


LEFTOVER_AGE_S = 3600  # a write takes seconds: an hour-old temporary file is one a killed process left


def _sweep_leftovers(folder: Path, name: str) -> None:
    """Remove temporary files of this table that a killed writer left; never one a live writer may still use."""
    for tmp in folder.glob(f".{name}.*.tmp"):
        with contextlib.suppress(OSError):
            if time.time() - tmp.stat().st_mtime > LEFTOVER_AGE_S:
                tmp.unlink()
