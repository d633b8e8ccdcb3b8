"""Preference ranking: tasks from `samples`, annotators' rankings (or a file's) expanded into `preferences` pairs."""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from housevoice.errors import HousevoiceError, SourceError
from housevoice.label.client import LabelStudio, project_title
from housevoice.schema import PREFERENCES
from housevoice.store import Workspace

PAIR_CONFIG = """<View>
  <Header value="Which response is better for this prompt?"/>
  <Text name="prompt" value="$prompt"/>
  <Text name="answer_a" value="$answer_a"/>
  <Text name="answer_b" value="$answer_b"/>
  <Pairwise name="pref" toName="answer_a,answer_b"/>
  <Choices name="tie" toName="prompt" showInline="true">
    <Choice value="equally good"/>
  </Choices>
</View>"""

LIST_CONFIG = """<View>
  <Header value="Rank the responses to this prompt, best first"/>
  <Text name="prompt" value="$prompt"/>
  <List name="responses" value="$responses" title="Responses"/>
  <Ranker name="rank" toName="responses"/>
</View>"""


def _open(workspace: Workspace | Path | str) -> Workspace:
    return workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)


def project_titles(ws: Workspace) -> dict[str, str]:
    return {"pairs": project_title("housevoice rank pairs · ", ws), "lists": project_title("housevoice rank lists · ", ws)}


def ranked_pairs(groups: list[list[str]]) -> list[tuple[str, str]]:
    """(chosen, rejected) for every two items in different groups, best group first; items in one group tie."""
    return [(a, b) for i, better in enumerate(groups) for worse in groups[i + 1:] for a in better for b in worse]


def _pair_id(*parts: object) -> str:
    return "p_" + hashlib.sha1("\x1f".join(map(str, parts)).encode()).hexdigest()[:16]


# -- push -----------------------------------------------------------------------------------
@dataclass
class RankPushSummary:
    pair_tasks: int
    list_tasks: int
    already_pushed: int
    skipped_prompts: int  # fewer than two responses among the chosen versions
    project_urls: list[str] = field(default_factory=list)


def rank_tasks(samples: pl.DataFrame, versions: list[str]) -> tuple[list[dict], list[dict], int]:
    """Pairwise tasks for prompts with 2 responses, list tasks for 3+; order shuffled, versions left out."""
    chosen = samples.filter(pl.col("version_id").is_in(versions)).sort("prompt_id", "sample_id")
    pairs, lists, skipped = [], [], 0
    for (prompt_id,), group in chosen.group_by("prompt_id", maintain_order=True):
        rows = group.to_dicts()
        if len(rows) < 2:
            skipped += 1
            continue
        random.Random(prompt_id).shuffle(rows)  # seeded by the prompt: the same order on every push
        key = f"{prompt_id}:" + ",".join(sorted(r["sample_id"] for r in rows))
        base = {"prompt_id": prompt_id, "prompt": rows[0]["prompt"], "rank_key": key}
        if len(rows) == 2:
            pairs.append({"data": {**base, "answer_a": rows[0]["response"], "answer_b": rows[1]["response"],
                                   "samples": [rows[0]["sample_id"], rows[1]["sample_id"]]}})
        else:
            items = [{"id": f"r{i + 1}", "title": f"Response {i + 1}", "body": r["response"]} for i, r in enumerate(rows)]
            lists.append({"data": {**base, "responses": items,
                                   "samples": {f"r{i + 1}": r["sample_id"] for i, r in enumerate(rows)}}})
    return pairs, lists, skipped


def push_rankings(workspace: Workspace | Path | str, versions: list[str], *,
                  client: LabelStudio | None = None) -> RankPushSummary:
    """Send the responses of `versions` to the same prompts as ranking tasks (each prompt once)."""
    ws = _open(workspace)
    samples = ws.read_table("samples")
    if samples.is_empty():
        raise HousevoiceError(f"{ws.root} has no samples to rank", hint=f"generate some with `housevoice tune sample {ws.root} --versions V…`")
    unknown = sorted(set(versions) - set(samples["version_id"].unique().to_list()))
    if unknown:
        raise HousevoiceError(f"no samples of version {', '.join(unknown)} in {ws.table_path('samples')}",
                              hint="versions with samples: " + ", ".join(sorted(samples["version_id"].unique().to_list())))
    pairs, lists, skipped = rank_tasks(samples, versions)
    client = client or LabelStudio.for_workspace(ws)
    titles = project_titles(ws)
    summary = RankPushSummary(0, 0, 0, skipped)
    for kind, tasks, config in (("pairs", pairs, PAIR_CONFIG), ("lists", lists, LIST_CONFIG)):
        if not tasks:
            continue
        project = client.project(titles[kind], config, f"Preference ranking for {ws.root.resolve()}")
        before = client.task_data(project["id"], "rank_key")
        fresh = [t for t in tasks if t["data"]["rank_key"] not in before]
        client.import_tasks(project["id"], fresh)
        summary.already_pushed += len(tasks) - len(fresh)
        setattr(summary, f"{kind[:-1]}_tasks", len(fresh))
        summary.project_urls.append(f"{client.conn.url}/projects/{project['id']}")
    return summary


# -- pull -----------------------------------------------------------------------------------
def annotation_groups(task: dict, result: list[dict]) -> list[list[str]] | None:
    """The ranking in one annotation as ordered groups of sample ids ([] for a tie); None when unusable."""
    data = task["data"]
    for item in result:
        value = item.get("value") or {}
        if item.get("type") == "pairwise" and value.get("selected") in ("left", "right"):
            a, b = data["samples"]
            return [[a], [b]] if value["selected"] == "left" else [[b], [a]]
        if item.get("type") == "ranker" and isinstance(value.get("ranker"), dict):
            buckets = [v for v in value["ranker"].values() if isinstance(v, list)]
            ids = data["samples"]
            # one list is a strict order; several are buckets, and the items inside a bucket tie
            groups = [[ids[x]] for x in buckets[0]] if len(buckets) == 1 else [[ids[x] for x in b] for b in buckets if b]
            flat = [s for g in groups for s in g]
            if any(x not in ids for b in buckets for x in b) or len(flat) != len(set(flat)):
                return None
            return groups
    if any(item.get("from_name") == "tie" for item in result):
        return []
    return None


@dataclass
class RankPullSummary:
    rankings: int
    ties: int
    appended_pairs: int
    unchanged: int
    invalid: list[str] = field(default_factory=list)
    table_path: Path | None = None


def pull_rankings(workspace: Workspace | Path | str, *, client: LabelStudio | None = None) -> RankPullSummary:
    """Expand every new or changed ranking into its (chosen, rejected) pairs in `preferences`, in one write.

    Every annotated task is read each time (ranking projects are small), so the counts cover all rankings.
    """
    ws = _open(workspace)
    client = client or LabelStudio.for_workspace(ws)
    samples = {r["sample_id"]: r for r in ws.read_table("samples").iter_rows(named=True)}
    users = client.users()
    log = ws.read_table("preferences")
    known = set(zip(log["origin"].to_list(), log["created_at"].to_list(), strict=True))
    rows, invalid = [], []
    summary = RankPullSummary(0, 0, 0, 0, invalid)
    titles = project_titles(ws)
    for kind, config in (("pairs", PAIR_CONFIG), ("lists", LIST_CONFIG)):
        project = client.project(titles[kind], config)
        pid = project["id"]
        for tasks, _pages in client.annotated_tasks(pid):
            for task in tasks:
                for ann in task.get("annotations", []):
                    if ann.get("was_cancelled"):
                        continue
                    groups = annotation_groups(task, ann.get("result") or [])
                    if groups is None or any(s not in samples for g in groups for s in g):
                        invalid.append(f"annotation {ann['id']} in project {pid}: not a ranking of this task's responses")
                        continue
                    summary.rankings += 1
                    summary.ties += not groups
                    origin = f"label-studio:{pid}/{ann['id']}"
                    at = datetime.fromisoformat((ann.get("updated_at") or ann["created_at"]).replace("Z", "+00:00"))
                    if (origin, at) in known:
                        summary.unchanged += 1
                        continue
                    by = ann.get("completed_by")
                    by = by.get("email") if isinstance(by, dict) else users.get(by, str(by))
                    for chosen, rejected in ranked_pairs(groups):
                        c, r = samples[chosen], samples[rejected]
                        rows.append({"pair_id": _pair_id(origin, at.isoformat(), chosen, rejected), "prompt": c["prompt"],
                                     "chosen": c["response"], "rejected": r["response"], "chosen_version": c["version_id"],
                                     "rejected_version": r["version_id"], "annotator": by, "created_at": at, "origin": origin})
    with ws.lock():
        frame = pl.DataFrame(rows, schema=PREFERENCES)
        summary.appended_pairs = len(frame)
        summary.table_path = ws.append_table("preferences", frame) if len(frame) else ws.table_path("preferences")
    return summary


# -- import ---------------------------------------------------------------------------------
def _read_ranking_line(path: Path, n: int, line: str) -> tuple[str, list[tuple[str, str | None]], list[list[int]], str]:
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        raise SourceError(path, f"not valid JSON ({exc.msg})", line=n) from None
    if not isinstance(item, dict):
        raise SourceError(path, "expected an object with prompt, responses, ranking, annotator", line=n)
    missing = [k for k in ("prompt", "responses", "ranking", "annotator") if k not in item]
    if missing:
        raise SourceError(path, f"missing {', '.join(missing)}", line=n)
    prompt, responses, ranking, annotator = item["prompt"], item["responses"], item["ranking"], item["annotator"]
    if not isinstance(prompt, str) or not prompt.strip():
        raise SourceError(path, "prompt must be non-empty text", line=n)
    if not isinstance(annotator, str) or not annotator.strip():
        raise SourceError(path, "annotator must be non-empty text", line=n)
    if not isinstance(responses, list) or len(responses) < 2:
        raise SourceError(path, "responses must be a list of at least 2", line=n)
    parsed = []
    for r in responses:
        if isinstance(r, str):
            parsed.append((r, None))
        elif isinstance(r, dict) and isinstance(r.get("text"), str):
            parsed.append((r["text"], r.get("version")))
        else:
            raise SourceError(path, "each response must be text or {\"text\": …, \"version\": …}", line=n)
    if not isinstance(ranking, list):
        raise SourceError(path, "ranking must be a list of response indexes, best first", line=n)
    groups = [g if isinstance(g, list) else [g] for g in ranking]  # a nested list is a tie
    flat = [i for g in groups for i in g]
    if any(not isinstance(i, int) or isinstance(i, bool) for i in flat) or sorted(flat) != list(range(len(parsed))):
        raise SourceError(path, f"ranking {ranking} is not a permutation of the response indexes 0…{len(parsed) - 1}", line=n)
    return prompt, parsed, groups, annotator


def import_rankings(workspace: Workspace | Path | str, file: Path | str) -> RankPullSummary:
    """Rankings made elsewhere into `preferences` (origin `file:<name>`); one bad line writes nothing."""
    ws = _open(workspace)
    path = Path(file)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise SourceError(path, "no such file") from None
    except UnicodeDecodeError as exc:
        raise SourceError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    origin = f"file:{path.name}"
    now = datetime.now(UTC)
    rows, summary = [], RankPullSummary(0, 0, 0, 0)
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        prompt, responses, groups, annotator = _read_ranking_line(path, n, line)
        summary.rankings += 1
        summary.ties += len(groups) == 1
        for a, b in ranked_pairs(groups):
            (chosen, cv), (rejected, rv) = responses[a], responses[b]
            rows.append({"pair_id": _pair_id(origin, prompt, chosen, rejected, annotator), "prompt": prompt,
                         "chosen": chosen, "rejected": rejected, "chosen_version": cv, "rejected_version": rv,
                         "annotator": annotator, "created_at": now, "origin": origin})
    frame = pl.DataFrame(rows, schema=PREFERENCES).unique("pair_id", keep="first", maintain_order=True)
    with ws.lock():
        new = frame.join(ws.read_table("preferences").select("pair_id"), on="pair_id", how="anti")
        summary.appended_pairs, summary.unchanged = len(new), len(frame) - len(new)
        summary.table_path = ws.append_table("preferences", new) if len(new) else ws.table_path("preferences")
    return summary


def preference_pairs(workspace: Workspace | Path | str) -> pl.DataFrame:
    """The pairs to learn from: for each ranking (origin), only the pairs of its latest version."""
    log = _open(workspace).read_table("preferences")
    latest = log.group_by("origin").agg(pl.col("created_at").max().alias("_latest"))
    file_rows = pl.col("origin").str.starts_with("file:")
    return (log.join(latest, on="origin").filter(file_rows | (pl.col("created_at") == pl.col("_latest")))
            .drop("_latest"))
