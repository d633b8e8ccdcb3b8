"""What a workspace holds, stage by stage, and the next step to take."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from housevoice.store import Workspace


@dataclass
class WorkspaceStatus:
    records: int = 0
    by_source: list[tuple[str, int]] = field(default_factory=list)
    by_kind: list[tuple[str, int]] = field(default_factory=list)
    by_author: list[tuple[str, int]] = field(default_factory=list)
    curated: int = 0
    routes: dict[str, int] = field(default_factory=dict)
    flags: list[tuple[str, int]] = field(default_factory=list)
    decisions: int = 0
    next_step: str = ""


def _counts(frame: pl.DataFrame, column: str, top: int | None = None) -> list[tuple[str, int]]:
    counts = frame.group_by(column).len().sort(["len", column], descending=[True, False], nulls_last=True)
    rows = [(str(k) if k is not None else "(none)", n) for k, n in counts.iter_rows()]
    return rows[:top] if top else rows


def workspace_status(workspace: Workspace | str) -> WorkspaceStatus:
    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)
    st = WorkspaceStatus()
    records = ws.read_table("records")
    st.records = len(records)
    if st.records:
        st.by_source = _counts(records, "source")
        st.by_kind = _counts(records, "kind")
        st.by_author = _counts(records, "author", top=10)
    if ws.has_table("curated"):
        curated = ws.read_table("curated")
        st.curated = len(curated)
        st.routes = dict(_counts(curated, "route"))
        names = curated.select(pl.col("flags").list.eval(pl.element().struct.field("name"))).explode("flags")
        st.flags = _counts(names.drop_nulls(), "flags")
    if ws.has_table("decisions"):
        st.decisions = len(ws.read_table("decisions"))
    ws_arg = str(ws.root)
    if not st.records:
        st.next_step = f"housevoice ingest {ws_arg} SOURCE…  (a WordPress export, JSONL/CSV, a folder of posts or transcripts)"
    elif st.curated < st.records:
        st.next_step = f"housevoice curate {ws_arg}"
    elif not (ws.reports_dir / "curation.html").exists():
        st.next_step = f"housevoice report {ws_arg}"
    else:
        st.next_step = _after_curation(ws, ws_arg)
    return st


def _after_curation(ws: Workspace, ws_arg: str) -> str:
    """The next step once the report is written: review, tune, evaluate, then compare and promote."""
    from housevoice.label.decisions import decision_summary

    waiting = decision_summary(ws).awaiting_review
    if waiting:
        return (
            f"housevoice label review push {ws_arg}, then `pull` once people decided  "
            f"({waiting} {'record' if waiting == 1 else 'records'} routed to review "
            f"{'awaits' if waiting == 1 else 'await'} a person's decision)"
        )
    versions = []
    if ws.registry_path.exists():
        from housevoice.registry import Registry

        registry = Registry(ws)
        versions = [v for v in registry.versions(status="ready") if v["kind"] in ("sft", "rlhf", "dpo")]
    if not versions:
        return f"housevoice tune sft {ws_arg} --base MODEL  (nothing awaits review: train a first version)"
    newest = versions[-1]["version_id"]
    if not registry.eval_results(newest):
        return f"housevoice evaluate voice {ws_arg} --version {newest}  (the newest version has no scores yet)"
    live = [v for v in registry.versions() if v["stage"] == "promoted"]
    if live and live[-1]["version_id"] == newest:
        return f"housevoice export {ws_arg} MODEL_FOLDER  ({newest}, the newest version, is promoted: take it out to serve it)"
    return f"housevoice dashboard {ws_arg}  (compare versions side by side, promote one)"
