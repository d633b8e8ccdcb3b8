"""Seconds to push 10,000 review tasks to Label Studio and to pull 10,000 reviewers' annotations back.

Pull times are split into waiting on the server and housevoice's own work; a second pull (nothing changed) follows.

Usage: python bench/label_sync.py [--n 10000] [--workspace DIR]   (starts and stops its own local server)
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from housevoice.label.client import LabelStudio
from housevoice.label.review import REVIEW_CONFIG, pull_review, push_review, review_project_title, review_tasks
from housevoice.label.server import serve, stop
from housevoice.schema import CURATED, RECORDS
from housevoice.store import Workspace


class TimedLabelStudio(LabelStudio):
    """The client, adding up the seconds spent waiting on Label Studio (request sent until body received)."""

    waited = 0.0

    def request(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return super().request(*args, **kwargs)
        finally:
            self.waited += time.perf_counter() - start


def timed_pull(ws: Workspace, **kwargs) -> tuple[float, float, object]:
    """(seconds in all, seconds waiting on the server, summary) of one review pull."""
    client = TimedLabelStudio.for_workspace(ws)
    start = time.perf_counter()
    summary = pull_review(ws, client=client, **kwargs)
    return time.perf_counter() - start, client.waited, summary


def build(root: Path, n: int) -> Workspace:
    ws = Workspace.create(root / "ws", name="bench")
    now = datetime.now(UTC).replace(tzinfo=None)
    body = "A paragraph of house writing about projects, pricing and the people who do the work. " * 8
    ws.write_table("records", pl.DataFrame([{
        "record_id": f"r_{i:08d}", "source_key": str(i), "source": "jsonl:bench.jsonl", "kind": "post", "author": "Ana",
        "title": f"Post {i}", "text": f"<p>{body} ({i})</p>", "published_at": now, "url": None, "status": "publish", "meta": "{}",
    } for i in range(n)], schema=RECORDS))
    flag = {"name": "near_duplicate", "score": 0.91, "detail": "91% of its 5-word phrases also appear in 'Post 0'"}
    ws.write_table("curated", pl.DataFrame([{
        "record_id": f"r_{i:08d}", "clean_text": f"{body} ({i})", "flags": [flag], "dup_group": "d0",
        "template_family": None, "n_tokens": 140, "route": "review",
    } for i in range(n)], schema=CURATED))
    return ws


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--workspace", type=Path, default=None)
    args = parser.parse_args()
    root = args.workspace or Path(tempfile.mkdtemp(prefix="label-bench-"))
    ws = build(root, args.n)
    server = serve(ws)
    try:
        start = time.perf_counter()
        pushed = push_review(ws)
        push_s = time.perf_counter() - start
        print(f"push: {pushed.pushed} review tasks in {push_s:.1f} s (goal < 10 s)", flush=True)

        # a scripted reviewer through the bulk path: the same tasks again, each with an inline annotation
        client = LabelStudio.for_workspace(ws)
        client.request("DELETE", f"/api/projects/{pushed.project_id}")
        project = client.project(review_project_title(ws), REVIEW_CONFIG)
        me = client.check()["id"]
        tasks = review_tasks(ws)
        for i, task in enumerate(tasks):
            choice = "approve" if i % 3 else "reject"
            task["annotations"] = [{"completed_by": me, "result": [
                {"from_name": "decision", "to_name": "clean_text", "type": "choices", "value": {"choices": [choice]}}]}]
        client.import_tasks(project["id"], tasks)

        load = "load average %.2f %.2f %.2f" % os.getloadavg()
        pull_s, server_s, pulled = timed_pull(ws)
        print(f"pull: {pulled.appended} annotations into decisions in {pull_s:.1f} s (goal < 20 s): "
              f"server {server_s:.1f} s, housevoice {pull_s - server_s:.1f} s; {load}", flush=True)
        again_s, again_server_s, again = timed_pull(ws)
        print(f"pull again at once, nothing changed (re-reads tasks touched within PULL_MARGIN): {again.appended} new of {again.annotations} in {again_s:.1f} s "
              f"(server {again_server_s:.1f} s)", flush=True)
        full_s, full_server_s, full = timed_pull(ws, full=True)
        print(f"pull again, every task re-read (full=True): {full.appended} new of {full.annotations} in {full_s:.1f} s "
              f"(server {full_server_s:.1f} s)", flush=True)
    finally:
        stop(ws)
    print(f"workspace: {ws.root}  (server {server.url} stopped)")


if __name__ == "__main__":
    main()
