"""The curation report: reports/curation.html with PNG plots, a page a content lead can read."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from housevoice.curate.record_checks import person_byline
from housevoice.errors import HousevoiceError
from housevoice.store import Workspace, write_atomic


@dataclass
class ReportSummary:
    html_path: Path
    plots: list[Path]


def _short(label: str, limit: int = 30) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def _bar(ax, labels, values, color="#4c72b0"):
    # Positions, not labels, place the bars: two long labels cut to the same text stay two bars.
    positions = list(range(len(labels)))
    ax.barh(positions, values[::-1], color=color)
    ax.set_yticks(positions, [_short(str(label)) for label in labels[::-1]])
    for i, v in enumerate(values[::-1]):
        ax.text(v, i, f" {v}", va="center", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)


def _save(fig, path: Path) -> Path:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    write_atomic(path, buf.getvalue())
    return path


def _authors(frame: pl.DataFrame) -> pl.DataFrame:
    """(author, len) most records first; "Russ Cox, for the Go team" counts as Russ Cox."""
    bylines = frame.group_by("author").len()
    people = [person_byline(b) or "(none)" for b in bylines["author"].to_list()]
    return (
        bylines.with_columns(author=pl.Series(people, dtype=pl.String))
        .group_by("author").agg(pl.col("len").sum())
        .sort(["len", "author"], descending=[True, False])
    )


def _plots(frame: pl.DataFrame, flag_counts: pl.DataFrame, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    _bar(axes[0], flag_counts["name"].to_list(), flag_counts["len"].to_list())
    axes[0].set_title("records per flag")
    routes = frame.group_by("route").len().sort("route")
    colors = {"keep": "#55a868", "review": "#dd8452", "drop": "#c44e52"}
    axes[1].bar(routes["route"].to_list(), routes["len"].to_list(), color=[colors.get(r, "#888") for r in routes["route"]])
    axes[1].set_title("records per route")
    axes[1].spines[["top", "right"]].set_visible(False)
    paths.append(_save(fig, out / "curation-flags.png"))
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(11, 3.5))
    tokens = frame["n_tokens"].drop_nulls()
    if len(tokens):
        ax.hist(tokens.clip(0, tokens.quantile(0.99) or 1).to_list(), bins=50, color="#4c72b0")
    ax.set_title("tokens per record (clean text; top 1% clipped)")
    ax.set_xlabel("tokens")
    ax.spines[["top", "right"]].set_visible(False)
    paths.append(_save(fig, out / "curation-tokens.png"))
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    years = frame.filter(pl.col("published_at").is_not_null()).group_by(pl.col("published_at").dt.year().alias("year")).len().sort("year")
    axes[0].bar([str(y) for y in years["year"]], years["len"].to_list(), color="#4c72b0")
    axes[0].set_title("records per year")
    axes[0].tick_params(axis="x", rotation=60)
    axes[0].spines[["top", "right"]].set_visible(False)
    authors = _authors(frame).head(15)
    _bar(axes[1], authors["author"].to_list(), authors["len"].to_list(), color="#8172b3")
    axes[1].set_title("records per author (top 15)")
    paths.append(_save(fig, out / "curation-years-authors.png"))
    plt.close(fig)
    return paths


def _table(headers: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _route_text(config, name: str) -> str:
    """A flag's route, and where kinds route it otherwise: `review (drop for transcript_turn, reply)`."""
    route = config.route_of(name)
    kinds: dict[str, list[str]] = {}
    for kind, table in config.kind_routes.items():
        if table.get(name, route) != route:
            kinds.setdefault(table[name], []).append(kind)
    other = [f"{their} for {', '.join(names)}" for their, names in kinds.items()]
    return f"{route} ({'; '.join(other)})" if other else route


def write_report(workspace: Workspace | str) -> ReportSummary:
    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)
    if not ws.has_table("curated"):
        raise HousevoiceError("nothing is curated yet", hint=f"run `housevoice curate {ws.root}` first")
    records = ws.read_table("records")
    curated = ws.read_table("curated")
    frame = curated.join(records.select("record_id", "title", "author", "published_at", "source", "kind"), on="record_id", how="left")
    flags = curated.select("record_id", "flags").explode("flags").drop_nulls("flags").unnest("flags")
    flag_counts = flags.group_by("name").len().sort("len", descending=True)
    out = ws.reports_dir
    plots = _plots(frame, flag_counts, out)

    routes = dict(frame.group_by("route").len().iter_rows())
    examples = (
        flags.join(frame.select("record_id", "title"), on="record_id")
        .group_by("name", maintain_order=True).head(2)
    )
    flag_rows = []
    for name, n in flag_counts.iter_rows():
        ex = examples.filter(pl.col("name") == name)
        sample = "; ".join(f"{t or '(untitled)'}: {d}" for t, d in zip(ex["title"], ex["detail"]))
        flag_rows.append([name, n, _route_text(ws.config.curate, name), sample[:400]])

    def clusters(column: str, limit: int = 10) -> list[list]:
        """The largest groups: template families by records; duplicate clusters by the tokens they
        hold, so a blog post posted twice comes before a podcast's fourteen "Yeah."s."""
        groups = frame.filter(pl.col(column).is_not_null()).group_by(column).agg(
            pl.len().alias("n"), pl.col("n_tokens").sum().alias("tokens"),
            pl.col("title").head(3).alias("titles"), pl.col("clean_text").first().alias("text"),
        )
        by = ["tokens", "n"] if column == "dup_group" else ["n", "tokens"]
        groups = groups.sort([*by, column], descending=[True, True, False]).head(limit)
        rows = []
        for g, n, tokens, titles, text in groups.iter_rows():
            row = [g, n, " · ".join(t or "(untitled)" for t in titles)]
            if column == "dup_group":
                # Titles alone do not say what a podcast's repeated turns are.
                words = " ".join((text or "").split()) or "(nothing left after cleaning)"
                row += [f"{tokens or 0:,}", words if len(words) <= 90 else words[:89] + "…"]
            rows.append(row)
        return rows

    # What the boilerplate cleaner took out, one row per distinct set of lines (a site footer is one row).
    boilerplate = (
        flags.filter(pl.col("name") == "boilerplate")
        .group_by(pl.col("detail").str.split_exact(": ", 1).struct.field("field_1").alias("lines"))
        .len()
        .sort(["len", "lines"], descending=[True, False])
    )
    kept = frame.filter(pl.col("route") == "keep")
    per_kind = (
        frame.group_by(pl.col("kind").fill_null("(none)"))
        .agg(pl.len().alias("records"), *[(pl.col("route") == r).sum().alias(r) for r in ("keep", "review", "drop")])
        .sort("records", descending=True)
    )
    sections = [
        f"<h1>Curation report — {html.escape(ws.config.workspace.name)}</h1>",
        f"<p class='lead'>{len(frame)} records: <b>{routes.get('keep', 0)}</b> keep, "
        f"<b>{routes.get('review', 0)}</b> for people to review, <b>{routes.get('drop', 0)}</b> dropped by a rule "
        f"(still reviewable). Records kept hold {int(kept['n_tokens'].sum() or 0):,} tokens. Nothing was deleted.</p>",
        "<h2>Routes per kind of record</h2>",
        _table(["kind", "records", "keep", "review", "drop"], [list(row) for row in per_kind.iter_rows()]),
        "<h2>What curation found</h2>",
        _table(["flag", "records", "route", "examples"], flag_rows),
        *[f"<img src='{p.name}' alt='{p.stem}'>" for p in plots],
        "<h2>Largest duplicate clusters</h2>",
        _table(["cluster", "records", "titles", "tokens", "text begins"], clusters("dup_group")) if frame["dup_group"].drop_nulls().len() else "<p>No duplicates found.</p>",
        "<h2>Site boilerplate taken out of the clean text</h2>",
        _table(["lines (posts carrying each)", "records"], [list(row) for row in boilerplate.head(10).iter_rows()])
        if boilerplate.height else "<p>No line recurs across unrelated posts.</p>",
        "<h2>Template families (series built from one template)</h2>",
        _table(["family", "records", "example titles"], clusters("template_family")) if frame["template_family"].drop_nulls().len() else "<p>No templated series found.</p>",
        "<h2>Next step</h2>",
        f"<p>People decide the {routes.get('review', 0)} records routed to review: "
        f"<code>housevoice label review push {html.escape(str(ws.root))}</code>. "
        f"One record's reasons: <code>housevoice curate {html.escape(str(ws.root))} --explain RECORD_ID</code>.</p>",
    ]
    style = (
        "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222;padding:0 1em}"
        "table{border-collapse:collapse;width:100%;margin:1em 0;font-size:14px}"
        "td,th{border-bottom:1px solid #ddd;padding:6px;text-align:left;vertical-align:top}"
        "img{max-width:100%;margin:1em 0}.lead{font-size:17px}"
    )
    page = f"<!doctype html><html><head><meta charset='utf-8'><title>housevoice curation report</title><style>{style}</style></head><body>{''.join(sections)}</body></html>"
    html_path = out / "curation.html"
    write_atomic(html_path, page.encode("utf-8"))
    write_atomic(out / "curation.json", json.dumps({
        "routes": routes,
        "flags": dict(flag_counts.iter_rows()),
        "authors": dict(_authors(frame).head(50).iter_rows()),
        "boilerplate": [{"lines": lines, "records": n} for lines, n in boilerplate.head(50).iter_rows()],
        "kinds": {row["kind"]: {k: v for k, v in row.items() if k != "kind"} for row in per_kind.iter_rows(named=True)},
    }, indent=2).encode())
    return ReportSummary(html_path=html_path, plots=plots)
