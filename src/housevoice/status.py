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
        st.next_step = f"review the {st.routes.get('review', 0)} records routed to review (see reports/curation.html)"
    return st
