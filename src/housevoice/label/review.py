"""Expert review: push flagged records to a Label Studio project, pull reviewers' decisions into `decisions`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from housevoice.errors import HousevoiceError
from housevoice.label.client import PULL_MARGIN, PULL_PAGE, LabelStudio, PullMark, last_pull, project_title, save_pull
from housevoice.label.decisions import record_rule_decisions
from housevoice.schema import DECISIONS
from housevoice.store import Workspace

REVIEW_CONFIG = """<View>
  <Header value="$title"/>
  <Header value="Why this record needs a person" size="5"/>
  <Text name="reasons" value="$reasons"/>
  <Header value="Clean text (what the model would learn from)" size="5"/>
  <Text name="clean_text" value="$clean_text"/>
  <Choices name="decision" toName="clean_text" choice="single" showInline="true" required="true">
    <Choice value="approve"/>
    <Choice value="reject"/>
  </Choices>
  <Header value="Corrected text (optional: replaces the clean text when approved)" size="5"/>
  <TextArea name="edited_text" toName="clean_text" rows="6" maxSubmissions="1" editable="true"/>
  <Header value="Comment (optional)" size="5"/>
  <TextArea name="comment" toName="clean_text" rows="2" maxSubmissions="1" editable="true"/>
  <Header value="Raw text, exactly as in the source" size="5"/>
  <Text name="raw_text" value="$raw_text"/>
</View>"""


def review_project_title(ws: Workspace) -> str:
    return project_title("housevoice review · ", ws)


def _open(workspace: Workspace | Path | str) -> Workspace:
    return workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)


def _parse_where(where: str | None) -> pl.Expr:
    """`--where route=drop` or `--where flag=pii`: which curated records to send instead of route=review."""
    if not where:
        return pl.col("route") == "review"
    key, sep, value = where.partition("=")
    key, value = key.strip(), value.strip()
    if not sep or not value:
        raise HousevoiceError(f"--where {where!r}: expected KEY=VALUE, e.g. --where route=drop or --where flag=pii")
    if key == "route":
        return pl.col("route") == value
    if key == "flag":
        return pl.col("flags").list.eval(pl.element().struct.field("name") == value).list.any()
    if key == "record_id":
        return pl.col("record_id").is_in(value.split(","))
    raise HousevoiceError(f"--where {where!r}: unknown key {key!r}; use route, flag or record_id")


def review_tasks(ws: Workspace, where: str | None = None) -> list[dict]:
    """Task payloads for the records to review: title, raw and clean text, every flag with its reason."""
    curated = ws.read_table("curated").filter(_parse_where(where))
    records = ws.read_table("records").select("record_id", "title", "text", "source")
    rows = curated.join(records, on="record_id", how="left")
    tasks = []
    for row in rows.iter_rows(named=True):
        reasons = "\n".join(f"• {f['name']} ({f['score']:.2f}): {f['detail']}" for f in row["flags"] or []) or "no flags"
        tasks.append({"data": {
            "record_id": row["record_id"], "title": row["title"] or "(untitled)", "source": row["source"] or "",
            "route": row["route"], "reasons": reasons, "clean_text": row["clean_text"] or "", "raw_text": row["text"] or "",
        }})
    return tasks


@dataclass
class PushSummary:
    project_id: int
    project_url: str
    pushed: int
    already_pushed: int
    already_decided: int
    rule_decisions: int


def push_review(workspace: Workspace | Path | str, *, where: str | None = None,
                client: LabelStudio | None = None) -> PushSummary:
    """Create/update the review project and send records routed to review that are neither pushed nor decided."""
    ws = _open(workspace)
    if not ws.has_table("curated"):
        raise HousevoiceError(f"{ws.root} has no curated records yet", hint=f"run `housevoice curate {ws.root}` first")
    tasks = review_tasks(ws, where)  # a damaged table is told before any server is contacted
    client = client or LabelStudio.for_workspace(ws)
    rules = record_rule_decisions(ws)
    decided = set(
        ws.read_table("decisions").filter(~pl.col("origin").str.starts_with("rule:"))["record_id"].to_list()
    )
    project = client.project(review_project_title(ws), REVIEW_CONFIG, f"Expert review of {ws.root.resolve()}")
    pushed_before = client.task_data(project["id"], "record_id")
    fresh = [t for t in tasks if t["data"]["record_id"] not in pushed_before and t["data"]["record_id"] not in decided]
    client.import_tasks(project["id"], fresh)
    return PushSummary(
        project_id=project["id"], project_url=f"{client.conn.url}/projects/{project['id']}",
        pushed=len(fresh), already_pushed=sum(t["data"]["record_id"] in pushed_before for t in tasks),
        already_decided=sum(t["data"]["record_id"] in decided and t["data"]["record_id"] not in pushed_before for t in tasks),
        rule_decisions=rules,
    )


def _value(result: list[dict], name: str, kind: str) -> list[str]:
    for item in result:
        if item.get("from_name") == name:
            value = (item.get("value") or {}).get(kind)
            return [str(v) for v in value] if isinstance(value, list) else []
    return []


def annotation_decision(result: list[dict]) -> tuple[str, str | None, str] | None:
    """(decision, edited text or None, comment) from one annotation; None when it has no valid decision.

    Label Studio stores any result without checking it against the config, so we validate here.
    """
    choices = _value(result, "decision", "choices")
    if len(choices) != 1 or choices[0] not in ("approve", "reject"):
        return None
    edited = "\n".join(_value(result, "edited_text", "text")).strip() or None
    comment = "\n".join(_value(result, "comment", "text")).strip()
    return choices[0], edited, comment


@dataclass
class PullSummary:
    project_id: int
    annotations: int
    appended: int
    unchanged: int
    invalid: list[str] = field(default_factory=list)
    rule_decisions: int = 0
    table_path: Path | None = None


def pull_review(workspace: Workspace | Path | str, *, client: LabelStudio | None = None, batch: int = PULL_PAGE,
                full: bool = False, progress: Callable[[int, int], None] | None = None) -> PullSummary:
    """Append new and changed review annotations to `decisions`, all at once after every page arrived.

    After a complete pull the next one reads only tasks changed since then; `full=True` reads every task again.
    A server that fails mid-pull leaves `decisions` as it was; pulling again reads from the last complete pull.
    """
    ws = _open(workspace)
    client = client or LabelStudio.for_workspace(ws)
    project = client.project(review_project_title(ws), REVIEW_CONFIG)
    pid = project["id"]
    ours = pl.col("origin").str.starts_with(f"label-studio:{pid}/")
    mark = None if full else last_pull(ws, client.conn, project, ws.read_table("decisions").filter(ours).height)
    started = client.server_time()
    users = client.users()
    rows, invalid, fetched, seen = [], {}, set(), 0
    for done, (tasks, pages) in enumerate(client.annotated_tasks(pid, changed_since=mark and mark.since, page_size=batch),
                                          start=1):
        for task in tasks:
            for ann in task.get("annotations", []):
                fetched.add(str(ann["id"]))
                if ann.get("was_cancelled"):
                    continue
                seen += 1
                parsed = annotation_decision(ann.get("result") or [])
                if parsed is None:
                    invalid[str(ann["id"])] = (f"annotation {ann['id']} on record {task['data'].get('record_id')}: "
                                               "no approve/reject choice")
                    continue
                by = ann.get("completed_by")
                by = by.get("email") if isinstance(by, dict) else users.get(by, str(by))
                rows.append({"record_id": task["data"].get("record_id"), "decision": parsed[0], "edited_text": parsed[1],
                             "comment": parsed[2], "reviewer": by, "decided_at": ann.get("updated_at") or ann.get("created_at"),
                             "origin": f"label-studio:{pid}/{ann['id']}"})
        if progress:
            progress(done, pages)
    # invalid annotations that were not read again are still invalid: keep telling them
    invalid = {**{k: v for k, v in (mark.invalid if mark else {}).items() if k not in fetched}, **invalid}
    incoming = pl.DataFrame(rows, schema={**dict(DECISIONS), "decided_at": pl.String})
    incoming = incoming.with_columns(
        pl.col("decided_at").str.to_datetime(time_zone="UTC", time_unit="us")
    ).sort("decided_at")
    with ws.lock():
        log = ws.read_table("decisions")
        new = incoming.join(log.select("origin", "decided_at"), on=["origin", "decided_at"], how="anti")
        path = ws.append_table("decisions", new) if len(new) else ws.table_path("decisions")
        save_pull(ws, client.conn, project, PullMark(started - PULL_MARGIN, log.filter(ours).height + len(new), invalid))
    rules = record_rule_decisions(ws)
    if mark is not None:  # only changed tasks were read: count the project's annotations on the server
        seen = client.annotation_count(pid)
    unchanged = max(0, seen - len(invalid) - len(new))
    return PullSummary(pid, seen, len(new), unchanged, sorted(invalid.values()), rules, path)
