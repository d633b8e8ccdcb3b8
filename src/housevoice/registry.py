"""The model registry (registry.sqlite): versions, lineage, eval results, promotions."""

from __future__ import annotations

import functools
import json
import os
import secrets
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from housevoice.errors import HousevoiceError, WorkspaceError

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS versions (
    version_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('base', 'sft', 'reward', 'rlhf', 'dpo')),
    base_model TEXT,
    parent_version TEXT REFERENCES versions(version_id),
    dataset_hash TEXT,
    config TEXT NOT NULL DEFAULT '{}',
    artifact_path TEXT,
    created_at TEXT NOT NULL,
    stage TEXT NOT NULL DEFAULT 'candidate' CHECK (stage IN ('candidate', 'promoted', 'archived')),
    status TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'ready', 'failed')),
    error TEXT
);
CREATE TABLE IF NOT EXISTS lineage (
    version_id TEXT NOT NULL REFERENCES versions(version_id),
    item_kind TEXT NOT NULL CHECK (item_kind IN ('record', 'pair')),
    item_id TEXT NOT NULL,
    PRIMARY KEY (version_id, item_kind, item_id)
);
CREATE INDEX IF NOT EXISTS lineage_item ON lineage(item_id);
CREATE TABLE IF NOT EXISTS eval_results (
    version_id TEXT NOT NULL REFERENCES versions(version_id),
    suite TEXT NOT NULL,
    metric TEXT NOT NULL,
    value REAL,
    stderr REAL,
    n INTEGER,
    created_at TEXT NOT NULL,
    details_path TEXT
);
CREATE INDEX IF NOT EXISTS eval_version ON eval_results(version_id);
CREATE TABLE IF NOT EXISTS promotions (
    version_id TEXT NOT NULL REFERENCES versions(version_id),
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    reason TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS promotions_append_only_u BEFORE UPDATE ON promotions
BEGIN SELECT RAISE(ABORT, 'promotions is an append-only audit log'); END;
CREATE TRIGGER IF NOT EXISTS promotions_append_only_d BEFORE DELETE ON promotions
BEGIN SELECT RAISE(ABORT, 'promotions is an append-only audit log'); END;
"""


ABANDONED = "interrupted: the process ended before the run finished; continue it with --resume, or train again"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def is_main_process() -> bool:
    """Under torchrun or `accelerate launch` every rank runs the command; only rank 0 writes the registry."""
    return int(os.environ.get("RANK", "0")) == 0


def _main_rank_only(write):
    """A registry write that the other ranks of a multi-process run skip (rank 0 makes it once)."""
    @functools.wraps(write)
    def guarded(self, *args, **kwargs):
        return write(self, *args, **kwargs) if is_main_process() else None
    return guarded


def new_version_id(kind: str) -> str:
    return f"{kind}-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


class Registry:
    """One workspace's registry. Every write is a single SQLite transaction."""

    def __init__(self, workspace):
        self.workspace = workspace
        self.path = workspace.registry_path
        self._check_owner()
        self.fail_abandoned()

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        try:
            conn = sqlite3.connect(self.path, timeout=30)
        except sqlite3.Error as exc:
            raise WorkspaceError(f"{self.path}: cannot open the registry ({exc})") from None
        conn.row_factory = sqlite3.Row
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            with conn:
                yield conn
        except sqlite3.DatabaseError as exc:
            if "file is not a database" in str(exc) or "malformed" in str(exc):
                raise WorkspaceError(f"{self.path}: the registry is damaged ({exc})",
                                     hint="restore registry.sqlite from a backup") from None
            raise
        finally:
            conn.close()

    def _check_owner(self) -> None:
        workspace_id = self.workspace.config.workspace.id
        existed = self.path.exists()
        with self.connect() as conn:
            conn.executescript(SCHEMA)
            row = conn.execute("SELECT value FROM meta WHERE key = 'workspace_id'").fetchone()
            if row is None:
                conn.execute("INSERT INTO meta VALUES ('workspace_id', ?)", (workspace_id,))
            elif row["value"] != workspace_id and existed:
                raise WorkspaceError(
                    f"{self.path} belongs to another workspace (id {row['value']}, this one is {workspace_id})",
                    hint="registries are not shared between workspaces; move it back where it came from",
                )

    # -- versions -------------------------------------------------------------------------
    @_main_rank_only
    def create_version(self, kind: str, *, base_model: str | None, parent: str | None = None,
                       config: dict[str, Any] | None = None, dataset_hash: str | None = None,
                       version_id: str | None = None) -> str:
        if parent is not None:
            self.get(parent)
        version_id = version_id or new_version_id(kind)
        with self.connect() as conn:
            conn.execute(
                "INSERT INTO versions (version_id, kind, base_model, parent_version, dataset_hash, config, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (version_id, kind, base_model, parent, dataset_hash, json.dumps(config or {}, default=str), now_iso()),
            )
        return version_id

    @_main_rank_only
    def add_lineage(self, version_id: str, item_kind: str, item_ids: Iterable[str]) -> int:
        rows = [(version_id, item_kind, i) for i in item_ids]
        with self.connect() as conn:
            conn.executemany("INSERT OR IGNORE INTO lineage VALUES (?, ?, ?)", rows)
        return len(rows)

    @_main_rank_only
    def finish_version(self, version_id: str, artifact_path: str) -> None:
        with self.connect() as conn:
            conn.execute("UPDATE versions SET status = 'ready', artifact_path = ? WHERE version_id = ?",
                         (artifact_path, version_id))

    @_main_rank_only
    def fail_version(self, version_id: str, error: str) -> None:
        with self.connect() as conn:
            conn.execute("UPDATE versions SET status = 'failed', error = ? WHERE version_id = ? AND status = 'running'",
                         (error[:2000], version_id))

    @_main_rank_only
    def restart_version(self, version_id: str) -> None:
        """A failed run that continues (--resume) is running again until it ends."""
        with self.connect() as conn:
            conn.execute("UPDATE versions SET status = 'running', error = NULL WHERE version_id = ?", (version_id,))

    # -- runs in progress -----------------------------------------------------------------
    def run_lock(self, version_id: str) -> FileLock:
        """Held by the process training a version; the OS lets go of it when that process dies, however it dies."""
        return FileLock(str(self.workspace.models_dir / version_id / ".running.lock"))

    def fail_abandoned(self) -> list[str]:
        """Mark failed the versions left 'running' by a process that is gone (killed, out of memory, power cut)."""
        abandoned = []
        for version in self.versions(status="running"):
            lock = self.run_lock(version["version_id"])
            if not Path(lock.lock_file).is_file():
                # no run lock: registered without one (the base model) and not finished within a minute
                started = datetime.fromisoformat(version["created_at"])
                if datetime.now(timezone.utc) - started > timedelta(minutes=1):
                    abandoned.append(version["version_id"])
                continue
            try:
                lock.acquire(timeout=0)
            except Timeout:
                continue  # its process is still training
            try:
                abandoned.append(version["version_id"])
            finally:
                lock.release()
        for version_id in abandoned:
            self.fail_version(version_id, ABANDONED)
        return abandoned

    def get(self, version_id: str) -> dict[str, Any]:
        with self.connect() as conn:
            row = conn.execute("SELECT * FROM versions WHERE version_id = ?", (version_id,)).fetchone()
        if row is None:
            known = [v["version_id"] for v in self.versions()][-5:]
            raise HousevoiceError(
                f"no version {version_id!r} in {self.path}",
                hint=f"known versions: {', '.join(known)}" if known else "no versions yet: train one with `housevoice tune sft`",
            )
        return dict(row)

    def versions(self, *, kind: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        query, args = "SELECT * FROM versions WHERE 1=1", []
        if kind:
            query, args = query + " AND kind = ?", [*args, kind]
        if status:
            query, args = query + " AND status = ?", [*args, status]
        with self.connect() as conn:
            return [dict(r) for r in conn.execute(query + " ORDER BY created_at, rowid", args)]

    def lineage(self, version_id: str, item_kind: str | None = None) -> list[str]:
        query, args = "SELECT item_id FROM lineage WHERE version_id = ?", [version_id]
        if item_kind:
            query, args = query + " AND item_kind = ?", [*args, item_kind]
        with self.connect() as conn:
            return [r[0] for r in conn.execute(query, args)]

    def versions_using(self, item_id: str) -> list[str]:
        with self.connect() as conn:
            return [r[0] for r in conn.execute("SELECT version_id FROM lineage WHERE item_id = ?", (item_id,))]

    # -- evaluation and promotion ---------------------------------------------------------
    @_main_rank_only
    def add_eval_results(self, version_id: str, suite: str, results: Iterable[dict[str, Any]],
                         details_path: str | None = None) -> int:
        self.get(version_id)
        at = now_iso()
        rows = [(version_id, suite, r["metric"], r.get("value"), r.get("stderr"), r.get("n"), at, details_path)
                for r in results]
        with self.connect() as conn:
            conn.executemany("INSERT INTO eval_results VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        return len(rows)

    def eval_results(self, version_id: str | None = None) -> list[dict[str, Any]]:
        query, args = "SELECT * FROM eval_results", []
        if version_id:
            query, args = query + " WHERE version_id = ?", [version_id]
        with self.connect() as conn:
            return [dict(r) for r in conn.execute(query + " ORDER BY created_at, rowid", args)]

    @_main_rank_only
    def record_promotion(self, version_id: str, action: str, actor: str, reason: str) -> None:
        """Append to the audit log and set the stages in one transaction."""
        self.get(version_id)
        with self.connect() as conn:
            conn.execute("INSERT INTO promotions VALUES (?, ?, ?, ?, ?)", (version_id, action, actor, reason, now_iso()))
            if action in ("promote", "rollback"):
                conn.execute("UPDATE versions SET stage = 'archived' WHERE stage = 'promoted' AND version_id != ?", (version_id,))
                conn.execute("UPDATE versions SET stage = 'promoted' WHERE version_id = ?", (version_id,))
            elif action == "archive":
                conn.execute("UPDATE versions SET stage = 'archived' WHERE version_id = ?", (version_id,))

    def promotions(self) -> list[dict[str, Any]]:
        with self.connect() as conn:
            return [dict(r) for r in conn.execute("SELECT * FROM promotions ORDER BY at, rowid")]


def check_versions(workspace, *versions: str) -> None:
    """A missing workspace or an unknown version is told at once, before the model libraries load."""
    from housevoice.store import Workspace

    ws = Workspace.open(workspace)
    if versions:
        registry = Registry(ws)
        for version_id in versions:
            registry.get(version_id)
