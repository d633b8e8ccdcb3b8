"""What the pages show, read from the store and cached until a file underneath changes."""

from __future__ import annotations

import json
import os

import polars as pl
import streamlit as st

from housevoice.errors import HousevoiceError
from housevoice.registry import Registry
from housevoice.store import Workspace

WORKSPACE_ENV = "HOUSEVOICE_WORKSPACE"
BENCH_SUITE = "lm-eval"


class NoRegistry(HousevoiceError):
    """The workspace has no registry.sqlite yet: nothing trained, nothing to show."""


def open_workspace(root: str | os.PathLike | None = None) -> Workspace:
    """The workspace the app was started on (argument, else $HOUSEVOICE_WORKSPACE)."""
    root = root or os.environ.get(WORKSPACE_ENV)
    if not root:
        raise HousevoiceError("no workspace given", hint="start the app with `housevoice dashboard WORKSPACE`")
    return Workspace.open(root)


def open_registry(ws: Workspace) -> Registry:
    """The registry, without creating one: the dashboard never writes while reading."""
    if not ws.registry_path.is_file():
        raise NoRegistry(f"{ws.root} has no model registry yet ({ws.registry_path.name})",
                         hint=f"train a version first: housevoice tune sft {ws.root} --base MODEL")
    return Registry(ws)


def stamp(ws: Workspace, *tables: str) -> tuple:
    """File modification times that key the caches: a new write means a fresh read."""
    paths = [ws.registry_path, ws.registry_path.with_name(ws.registry_path.name + "-wal")]
    paths += [ws.table_path(t) for t in tables]
    return tuple(p.stat().st_mtime_ns if p.exists() else 0 for p in paths)


def _registry_rows(root: str, sql: str) -> list[dict]:
    registry = open_registry(Workspace.open(root))
    with registry.connect() as conn:
        return [dict(r) for r in conn.execute(sql)]


@st.cache_data(show_spinner=False, max_entries=8)
def latest_eval(root: str, changed: tuple) -> pl.DataFrame:
    """One row per (version, suite, metric): the most recent result."""
    rows = _registry_rows(root, "SELECT version_id, suite, metric, value, stderr, n, created_at "
                                "FROM eval_results ORDER BY created_at, rowid")
    schema = {"version_id": pl.String, "suite": pl.String, "metric": pl.String, "value": pl.Float64,
              "stderr": pl.Float64, "n": pl.Int64, "created_at": pl.String}
    frame = pl.DataFrame(rows, schema=schema)
    return frame.group_by("version_id", "suite", "metric", maintain_order=True).last()


@st.cache_data(show_spinner=False, max_entries=8)
def versions_table(root: str, changed: tuple) -> pl.DataFrame:
    """Every version with its place in the registry, data size, voice fidelity and benchmark score."""
    versions = _registry_rows(root, "SELECT version_id, kind, parent_version, base_model, created_at, stage, "
                                    "status FROM versions ORDER BY created_at, rowid")
    sizes = _registry_rows(root, "SELECT version_id, item_kind, count(*) AS n FROM lineage "
                                 "GROUP BY version_id, item_kind")
    frame = pl.DataFrame(versions, schema={"version_id": pl.String, "kind": pl.String, "parent_version": pl.String,
                                           "base_model": pl.String, "created_at": pl.String, "stage": pl.String,
                                           "status": pl.String})
    size = pl.DataFrame(sizes, schema={"version_id": pl.String, "item_kind": pl.String, "n": pl.Int64})
    records = size.filter(pl.col("item_kind") == "record").select("version_id", pl.col("n").alias("records"))
    pairs = size.filter(pl.col("item_kind") == "pair").select("version_id", pl.col("n").alias("pairs"))
    scores = latest_eval(root, changed)
    voice = scores.filter((pl.col("suite") == "voice") & (pl.col("metric") == "mean")).select(
        "version_id", pl.col("value").alias("voice_fidelity"))
    bench = scores.filter(pl.col("suite") == BENCH_SUITE).group_by("version_id").agg(
        pl.col("value").mean().alias("benchmark"))
    reward = scores.filter(pl.col("metric") == "pairwise_accuracy").select(
        "version_id", pl.col("value").alias("pairwise_accuracy"))
    for extra in (records, pairs, voice, bench, reward):
        frame = frame.join(extra, on="version_id", how="left")
    return frame.with_columns(pl.col("records").fill_null(0), pl.col("pairs").fill_null(0))


@st.cache_data(show_spinner=False, max_entries=4)
def promotions(root: str, changed: tuple) -> pl.DataFrame:
    rows = _registry_rows(root, "SELECT at, version_id, action, actor, reason FROM promotions ORDER BY at, rowid")
    return pl.DataFrame(rows, schema={"at": pl.String, "version_id": pl.String, "action": pl.String,
                                      "actor": pl.String, "reason": pl.String})


@st.cache_data(show_spinner=False, max_entries=4)
def samples(root: str, changed: tuple) -> pl.DataFrame:
    return Workspace.open(root).read_table("samples")


@st.cache_data(show_spinner=False, max_entries=4)
def table(root: str, name: str, changed: tuple) -> pl.DataFrame:
    return Workspace.open(root).read_table(name)


@st.cache_data(show_spinner=False, max_entries=16)
def lineage_ids(root: str, version_id: str, changed: tuple) -> list[str]:
    return open_registry(Workspace.open(root)).lineage(version_id, "record")


@st.cache_data(show_spinner=False, max_entries=32)
def versions_using(root: str, record_id: str, changed: tuple) -> list[str]:
    return open_registry(Workspace.open(root)).versions_using(record_id)


@st.cache_resource(show_spinner="fitting the voice profile", max_entries=2)
def voice_profile(root: str, changed: tuple):
    """The workspace's voice profile, fitted by evaluate's own function; None when it cannot be fitted yet."""
    from housevoice.evaluate.heldout import fit_voice_profile

    try:
        return fit_voice_profile(Workspace.open(root))[0]
    except HousevoiceError:
        return None


def response_voice_scores(ws: Workspace, texts: list[str], params: list[str | None]) -> list[float | None]:
    """A voice score beside each response: the one evaluate stored with it, else the profile's, else None."""
    stored = [_params(p).get("voice_score") for p in params]
    if all(s is not None for s in stored):
        return [float(s) for s in stored]
    profile = voice_profile(str(ws.root), stamp(ws, "curated", "decisions"))
    if profile is None:
        return stored
    fresh = profile.score(texts)
    return [float(s) if s is not None else float(f) for s, f in zip(stored, fresh)]


def _params(params: str | None) -> dict:
    try:
        data = json.loads(params or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def sample_params(params: str | None) -> str:
    """`temperature 0.8, seed 42` from a sample's params JSON, or the text as it is."""
    try:
        data = json.loads(params or "{}")
    except ValueError:
        return params or ""
    return ", ".join(f"{k} {v}" for k, v in data.items()) if isinstance(data, dict) else str(data)
