"""Plain HTTP to Label Studio (local or a team's): projects, task import, annotated tasks in pages, with retries."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from housevoice.errors import HousevoiceError
from housevoice.label.server import LABEL_STUDIO_VERSION, data_dir
from housevoice.store import Workspace, write_atomic

IMPORT_BATCH = 2000
EXPORT_BATCH = 500  # stays under Django's 1000-parameter limit on one request
PULL_PAGE = 1000
# what a pull reads: nested names keep the rest of each annotation (and its N+1 queries) off the server
PULL_FIELDS = ",".join(["id", "data"] + [f"annotations.{f}" for f in (
    "id", "result", "completed_by", "created_at", "updated_at", "was_cancelled")])
PROJECT_TITLE_MAX = 50  # Label Studio refuses a longer project title (400)


def project_title(prefix: str, ws: Workspace) -> str:
    """`prefix` + the workspace's name and id, the name shortened so the whole fits Label Studio's limit."""
    tag = f" ({ws.config.workspace.id[:8]})"
    name, room = ws.config.workspace.name, PROJECT_TITLE_MAX - len(prefix) - len(tag)
    if len(name) > room:
        name = name[:room - 1] + "…"
    return f"{prefix}{name}{tag}"


@dataclass(frozen=True)
class Connection:
    """Where Label Studio is and how to authenticate; `local` names the workspace's own server."""

    url: str
    token: str
    local: bool
    how_to_start: str


def connection(ws: Workspace) -> Connection:
    """The configured team server ([label] url + token from the environment) or this workspace's own one."""
    cfg = ws.config.label
    if cfg.url:
        token = os.environ.get(cfg.token_env, "")
        if not token:
            raise HousevoiceError(
                f"[label] url is {cfg.url} but the environment variable {cfg.token_env} holding its API token is not set",
                hint=f"export {cfg.token_env}=<your Label Studio access token>",
            )
        return Connection(cfg.url.rstrip("/"), token, False, f"check [label] url in {ws.root / 'housevoice.toml'}")
    from housevoice.label.server import local_login, running_server

    state = running_server(ws)
    if not state:
        raise HousevoiceError(
            f"Label Studio is not running for {ws.root}",
            hint=f"start it with `housevoice label serve {ws.root}`, or set [label] url to a team server",
        )
    return Connection(state["url"], local_login(ws)["token"], True, f"restart it with `housevoice label serve {ws.root}`")


class LabelStudio:
    """A thin client over Label Studio's REST API; every failure becomes one readable HousevoiceError."""

    def __init__(self, conn: Connection, *, timeout: float = 120):
        self.conn = conn
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {conn.token}"
        # connect errors are retried for every method (nothing was sent); reads only for GET
        retry = Retry(total=4, connect=3, read=2, status=3, backoff_factor=0.3,
                      status_forcelist=(502, 503, 504), allowed_methods=frozenset({"GET"}), raise_on_status=False)
        self.session.mount("http://", HTTPAdapter(max_retries=retry))
        self.session.mount("https://", HTTPAdapter(max_retries=retry))

    @classmethod
    def for_workspace(cls, ws: Workspace) -> LabelStudio:
        client = cls(connection(ws))
        client.check()
        return client

    # -- plumbing -------------------------------------------------------------------------
    def request(self, method: str, path: str, *, ok: tuple[int, ...] = (), **kwargs) -> requests.Response:
        url = f"{self.conn.url}{path}"
        try:
            resp = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            reason = type(exc).__name__
            if isinstance(exc, requests.ConnectionError):
                reason = "connection refused or lost"
            raise HousevoiceError(f"cannot reach Label Studio at {self.conn.url} ({reason})",
                                  hint=self.conn.how_to_start) from None
        if resp.status_code == 401:
            raise HousevoiceError(f"Label Studio at {self.conn.url} refused the API token (401 Unauthorized)",
                                  hint="check the token" + ("" if self.conn.local else " in the environment variable named by [label] token_env"))
        if resp.status_code == 404 and path.startswith("/api/current-user"):
            raise HousevoiceError(f"{self.conn.url} does not look like a Label Studio server (404 on its API)",
                                  hint=self.conn.how_to_start)
        if resp.status_code >= 400 and resp.status_code not in ok:
            detail = resp.text[:200].replace("\n", " ")
            raise HousevoiceError(f"Label Studio at {self.conn.url} answered {resp.status_code} to {method} {path}: {detail}")
        return resp

    def json(self, method: str, path: str, **kwargs):
        resp = self.request(method, path, **kwargs)
        try:
            return resp.json()
        except ValueError:
            raise HousevoiceError(f"{self.conn.url} answered {method} {path} with something that is not JSON",
                                  hint="is this URL a Label Studio server?") from None

    # -- API ------------------------------------------------------------------------------
    def check(self) -> dict:
        """Who we are: proves the URL is Label Studio and the token is accepted."""
        return self.json("GET", "/api/current-user/whoami")

    def users(self) -> dict[int, str]:
        """user id -> email (how reviewers are named in `decisions`)."""
        out = self.json("GET", "/api/users", params={"page_size": 10000})
        users = out["results"] if isinstance(out, dict) else out
        return {u["id"]: u.get("email") or u.get("username") or str(u["id"]) for u in users}

    def project(self, title: str, label_config: str, description: str = "") -> dict:
        """The project with this exact title, created (or its labeling config updated) as needed."""
        found = self.json("GET", "/api/projects", params={"title": title, "page_size": 1000})
        for proj in found.get("results", []) if isinstance(found, dict) else found:
            if proj["title"] == title:
                if proj.get("label_config") != label_config:
                    self.json("PATCH", f"/api/projects/{proj['id']}", json={"label_config": label_config})
                return proj
        return self.json("POST", "/api/projects",
                         json={"title": title, "label_config": label_config, "description": description})

    def tasks(self, project_id: int, include: str = "id,total_annotations,cancelled_annotations",
              page_size: int = 5000) -> list[dict]:
        """Light rows for every task of the project (only the `include` fields), in pages."""
        out, page = [], 1
        while True:
            resp = self.request("GET", "/api/tasks", ok=(404,), params={
                "project": project_id, "page": page, "page_size": page_size, "fields": "task_only", "include": include})
            tasks = resp.json().get("tasks", []) if resp.status_code == 200 else []
            out.extend(tasks)
            if len(tasks) < page_size:
                return out
            page += 1

    def annotated_task_ids(self, project_id: int) -> list[int]:
        return [t["id"] for t in self.tasks(project_id) if t.get("total_annotations", 0) + t.get("cancelled_annotations", 0)]

    def task_data(self, project_id: int, key: str) -> set[str]:
        """Values of one data field over all tasks of the project (what was pushed already)."""
        return {str(t.get("data", {}).get(key)) for t in self.tasks(project_id, include="id,data")}

    def server_time(self) -> datetime:
        """The server's clock now (its Date header), so a pull never compares our clock with its timestamps."""
        resp = self.request("GET", "/api/current-user/whoami")
        try:
            return parsedate_to_datetime(resp.headers["Date"]).astimezone(UTC)
        except (KeyError, TypeError, ValueError):
            return datetime.now(UTC)

    def annotated_tasks(self, project_id: int, *, changed_since: datetime | None = None,
                        page_size: int = PULL_PAGE) -> Iterator[tuple[list[dict], int]]:
        """Tasks with annotations (only what a pull reads), in pages by ascending id; yields (page, pages in all).

        Pages follow the last id seen rather than a page number, so tasks added or removed meanwhile shift nothing.
        `changed_since` keeps only tasks Label Studio touched after that moment (any annotation saved or deleted).
        """
        last, done, pages = 0, 0, 1
        while True:
            items = [_filter("id", "greater", "Number", last), _filter("total_annotations", "greater", "Number", 0)]
            if changed_since is not None:
                stamp = changed_since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
                items.append(_filter("updated_at", "greater", "Datetime", stamp))
            query = {"filters": {"conjunction": "and", "items": items}, "ordering": ["tasks:id"]}
            resp = self.request("GET", "/api/tasks", ok=(404,), params={
                "project": project_id, "page": 1, "page_size": page_size, "fields": "all", "expand": "annotations",
                "include": PULL_FIELDS, "resolve_uri": "false", "query": json.dumps(query)})
            try:
                out = resp.json() if resp.status_code == 200 else {}
            except ValueError:
                raise HousevoiceError(f"{self.conn.url} answered GET /api/tasks with something that is not JSON",
                                      hint="is this URL a Label Studio server?") from None
            tasks = out.get("tasks", []) if isinstance(out, dict) else []
            ids = [t["id"] for t in tasks]
            if any(i <= prev for prev, i in zip([last, *ids], ids)):
                raise HousevoiceError(f"Label Studio at {self.conn.url} ignored the task filter of a pull (ids out of order)",
                                      hint=f"housevoice pulls from Label Studio {LABEL_STUDIO_VERSION}; compare {self.conn.url}/version")
            if done == 0:
                pages = max(1, math.ceil(int(out.get("total", len(tasks))) / page_size))
            done += 1
            yield self._with_results(project_id, tasks), max(pages, done)
            if len(tasks) < page_size:
                return
            last = ids[-1]

    def annotation_count(self, project_id: int) -> int:
        """Submitted (not skipped) annotations in the project, counted by the server."""
        resp = self.request("GET", "/api/tasks", ok=(404,), params={
            "project": project_id, "page": 1, "page_size": 1, "fields": "task_only", "include": "id"})
        return int(resp.json().get("total_annotations", 0)) if resp.status_code == 200 else 0

    def _with_results(self, project_id: int, tasks: list[dict]) -> list[dict]:
        """The page itself, or, where a server left annotations' results out of the page, its full export."""
        short = [t["id"] for t in tasks if any("result" not in a for a in t.get("annotations", []))]
        if not short:
            return tasks
        full = {t["id"]: t for part in self.export(project_id, short) for t in part}
        return [full.get(t["id"], t) for t in tasks]

    def import_tasks(self, project_id: int, tasks: list[dict], batch: int = IMPORT_BATCH) -> int:
        """Import tasks in batches; returns how many the server took."""
        done = 0
        for start in range(0, len(tasks), batch):
            part = tasks[start:start + batch]
            out = self.json("POST", f"/api/projects/{project_id}/import", json=part)
            done += int(out.get("task_count", len(part)))
        return done

    def export(self, project_id: int, task_ids: list[int], batch: int = EXPORT_BATCH) -> Iterator[list[dict]]:
        """Tasks with their annotations through the export API, `batch` tasks per request (slower: ~3 ms a task)."""
        for start in range(0, len(task_ids), batch):
            ids = task_ids[start:start + batch]
            yield self.json("GET", f"/api/projects/{project_id}/export",
                            params={"exportType": "JSON", "download_all_tasks": "true", "ids[]": ids})

    def create_annotation(self, task_id: int, result: list[dict]) -> dict:
        return self.json("POST", f"/api/tasks/{task_id}/annotations", json={"result": result})

    def update_annotation(self, annotation_id: int, result: list[dict]) -> dict:
        return self.json("PATCH", f"/api/annotations/{annotation_id}", json={"result": result})


def _filter(column: str, operator: str, kind: str, value) -> dict:
    """One Data Manager filter on a task column."""
    return {"filter": f"filter:tasks:{column}", "operator": operator, "type": kind, "value": value}


# -- where the last complete pull of a project stood ------------------------------------------
# changes stamped before the mark may commit after it (a 10k-task import is one ~15 s transaction); clocks drift too
PULL_MARGIN = timedelta(minutes=10)


@dataclass
class PullMark:
    """Changes a project's tasks saw before `since` are in the log; `rows` of the log came from that project."""

    since: datetime
    rows: int
    invalid: dict[str, str]  # annotation id -> why it was left out, told again while it stays unchanged


def _marks_path(ws: Workspace) -> Path:
    return data_dir(ws) / "pulls.json"


def _mark_key(conn: Connection, project: dict) -> str:
    # the creation time tells a project apart from a later one that got the same id on a fresh server
    return f"{conn.url} project {project['id']} created {project.get('created_at', '')}"


def last_pull(ws: Workspace, conn: Connection, project: dict, rows_now: int) -> PullMark | None:
    """The mark of the last complete pull, or None when everything must be read again.

    None as well when the log holds fewer rows from the project than that pull left (the log was replaced).
    """
    try:
        raw = json.loads(_marks_path(ws).read_text())[_mark_key(conn, project)]
        mark = PullMark(datetime.fromisoformat(raw["since"]), int(raw["rows"]), dict(raw.get("invalid", {})))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return mark if rows_now >= mark.rows else None


def save_pull(ws: Workspace, conn: Connection, project: dict, mark: PullMark) -> None:
    """Record a complete pull; written after the log, so a crash in between only means reading more next time."""
    path = _marks_path(ws)
    try:
        marks = json.loads(path.read_text())
        marks = marks if isinstance(marks, dict) else {}
    except (OSError, ValueError):
        marks = {}
    marks[_mark_key(conn, project)] = {"since": mark.since.isoformat(), "rows": mark.rows, "invalid": mark.invalid}
    write_atomic(path, json.dumps(marks, indent=1).encode())
