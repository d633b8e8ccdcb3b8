"""The whole curation stage: routing by config, --explain, the report, bad records, bad config."""

from __future__ import annotations

import json
from datetime import datetime

import polars as pl
import pytest

from housevoice.config import CurateConfig
from housevoice.curate.pipeline import curate, explain_record, route_records
from housevoice.curate.report import write_report
from housevoice.errors import ConfigError, HousevoiceError
from housevoice.ingest import ingest_sources
from housevoice.label.decisions import record_rule_decisions

PROSE = (
    "We spent the spring rethinking how the compiler reports errors, and what we learned surprised us. "
    "Most people do not read the whole message; they read the first line and the code it points at. "
    "So we moved the most useful sentence to the top and cut everything that repeated the obvious.\n\n"
    "The second change was about tone. A message that blames the reader makes them stop reading, "
    "while one that explains what the compiler expected keeps them going until the problem is fixed."
)


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture
def small_corpus(tmp_path, workspace):
    rows = [
        {"id": "orig", "title": "Rethinking errors", "author": "Ana Ruiz", "date": "2021-05-01", "text": PROSE},
        {"id": "copy", "title": "Rethinking errors (repost)", "author": "Ana Ruiz", "date": "2022-05-01", "text": PROSE},
        {"id": "links", "title": "Links", "author": "Ana Ruiz", "date": "2021-06-01",
         "text": "<p>Read <a href='https://example.com/a?utm_source=x'>this</a> and https://example.org/b now.</p>\n\n" + PROSE.replace("compiler", "parser")},
        {"id": "old", "title": "From the archive", "author": "Ana Ruiz", "date": "2012-01-01", "text": PROSE.replace("spring", "winter").replace("surprised", "amused")},
        {"id": "other", "title": "Guest post", "author": "Bo Chen", "date": "2021-07-01", "text": PROSE.replace("We", "They")},
        {"id": "empty", "title": "Empty", "author": "Ana Ruiz", "date": "2021-08-01", "text": ""},
        {"id": "junk", "title": "Junk", "author": "Ana Ruiz", "date": "2021-08-02", "text": "\x00\x01\x02\ufffd\ufffd" * 200},
        {"id": "huge", "title": "Huge", "author": "Ana Ruiz", "date": "2021-08-03", "text": (PROSE + "\n\n") * 6000},
        {"id": "baddate", "title": "Bad date", "author": "Ana Ruiz", "date": "the day after", "text": "Short but fine words here."},
        {"id": "mixed", "title": "Mixed", "author": "Ana Ruiz", "date": "2021-08-05", "text": "Caf\u00e9 na\u00efve \u00c3\u00a9t\u00c3\u00a9 \u4e2d\u6587 " * 20},
    ]
    ingest_sources(workspace, [_jsonl(tmp_path / "posts.jsonl", rows)])
    return workspace


def _curated(ws) -> dict[str, dict]:
    records = ws.read_table("records").select("record_id", "source_key")
    cur = ws.read_table("curated").join(records, on="record_id")
    return {r["source_key"]: r for r in cur.iter_rows(named=True)}


def test_curate_flags_with_reasons_and_routes_by_config(small_corpus):
    summary = curate(small_corpus, stale_before="2015-01-01", target_author="Ana Ruiz")
    rows = _curated(small_corpus)
    assert summary.records == len(rows) == 10  # nothing is deleted
    names = {k: {f["name"] for f in r["flags"]} for k, r in rows.items()}
    assert "exact_duplicate" in names["copy"] and "exact_duplicate" not in names["orig"]
    assert rows["copy"]["dup_group"] == rows["orig"]["dup_group"] is not None
    assert rows["copy"]["route"] == "drop"
    assert {"html", "url"} <= names["links"]
    assert "https://" not in rows["links"]["clean_text"] and "<a" not in rows["links"]["clean_text"]
    assert "stale" in names["old"] and rows["old"]["route"] == "review"
    assert "off_author" in names["other"]
    assert "too_short" in names["empty"]
    assert "too_long" in names["huge"]
    assert all(f["detail"] for r in rows.values() for f in r["flags"])
    dup_flags = {"exact_duplicate", "near_duplicate"}
    cluster = [k for k, r in rows.items() if r["dup_group"] == rows["copy"]["dup_group"]]
    assert {"orig", "copy", "old"} <= set(cluster)  # "old" is a light edit of the same text
    unflagged = [k for k in cluster if not names[k] & dup_flags]
    assert unflagged == ["old"]  # exactly one keeper: the earliest published
    assert "not_prose" not in names["empty"]  # empty text is too_short, not "mostly code"


def test_a_second_curation_takes_unchanged_texts_from_the_workspace_caches(tmp_path, small_corpus):
    curate(small_corpus)
    first = small_corpus.read_table("curated").sort("record_id")
    cache_dir = small_corpus.root / "cache"
    [cache_file] = cache_dir.glob("clean-*.parquet")
    [digests] = cache_dir.glob("minhash-*.parquet")  # the duplicate finder's, beside it
    [sentences] = cache_dir.glob("sentences-*.parquet")  # and the template finder's
    [tokens] = cache_dir.glob("tokens-*.parquet")  # and the exact token counts
    [prose] = cache_dir.glob("prose-*.parquet")  # and not_prose's measures
    [content] = cache_dir.glob("content-*.parquet")  # and the content keys of the clean texts
    written = cache_file.stat().st_mtime_ns
    again = curate(small_corpus)
    assert cache_file.stat().st_mtime_ns == written  # nothing new: the cache is not written again
    assert any("10 of 10 records unchanged since the last curation" in note for note in again.notes)
    assert small_corpus.read_table("curated").sort("record_id").equals(first)

    # A record edited at its source is cleaned again; the others come from the cache.
    source = tmp_path / "posts.jsonl"
    rows = [json.loads(line) for line in source.read_text().splitlines()]
    for row in rows:
        if row["id"] == "links":
            row["text"] = row["text"].replace("now.", "today, at <a href='https://example.net/c'>our site</a>.")
    _jsonl(source, rows)
    ingest_sources(small_corpus, [source])
    edited = curate(small_corpus)
    assert any("9 of 10 records unchanged" in note for note in edited.notes)
    # Only the edited text was written, in a file of its own beside the first.
    assert cache_file.stat().st_mtime_ns == written and len(list(cache_dir.glob("clean-*.parquet"))) == 2
    assert "today, at our site." in _curated(small_corpus)["links"]["clean_text"]

    # Other cleaner settings make every cached text stale: all are cleaned again, the old file goes.
    config = small_corpus.root / "housevoice.toml"
    config.write_text(config.read_text().replace('# urls = "link_text"', 'urls = "placeholder"', 1))
    ws = type(small_corpus).open(small_corpus.root)
    placeholder = curate(ws)
    assert not any("unchanged since the last curation" in note for note in placeholder.notes)
    assert "<URL>" in _curated(ws)["links"]["clean_text"]
    assert not cache_file.exists() and len(list(cache_dir.glob("clean-*.parquet"))) == 1

    # A damaged cache is a note and a slower run, never a failure or a different result.
    [current] = cache_dir.glob("clean-*.parquet")
    current.write_bytes(b"PAR1 not really")
    before = ws.read_table("curated").sort("record_id")
    damaged = curate(ws)
    assert any("not read" in note and "read again" in note for note in damaged.notes)
    assert ws.read_table("curated").sort("record_id").equals(before)
    assert any("10 of 10 records unchanged" in note for note in curate(ws).notes)  # rewritten whole

    # Without the cache every text is cleaned, to the same result, and no cache is kept.
    uncached = curate(ws, use_cache=False)
    assert not any("unchanged since the last curation" in note for note in uncached.notes)
    assert ws.read_table("curated").sort("record_id").equals(before) and not list(cache_dir.iterdir())

    # A cache that cannot be written (here its folder is a file) is a note; curation goes on.
    cache_dir.rmdir()
    cache_dir.write_text("not a folder")
    blocked = curate(ws)
    assert any(note.startswith("clean cache not written") for note in blocked.notes)
    assert ws.read_table("curated").sort("record_id").equals(before)


def test_routes_follow_the_config(small_corpus):
    config = small_corpus.root / "housevoice.toml"
    config.write_text(config.read_text().replace('exact_duplicate = "drop"', 'exact_duplicate = "review"'))
    ws = type(small_corpus).open(small_corpus.root)
    curate(ws)
    assert _curated(ws)["copy"]["route"] == "review"


def test_strictest_route_wins_and_unknown_flags_go_to_review():
    flags = pl.DataFrame({"record_id": ["a", "a", "b", "c"], "name": ["url", "exact_duplicate", "mystery", "url"],
                          "score": [1.0] * 4, "detail": ["x"] * 4})
    config = CurateConfig(routes={"url": "keep", "exact_duplicate": "drop"})
    routes = route_records(pl.Series(["a", "b", "c", "d"]), flags, config)
    assert routes["route"].to_list() == ["drop", "review", "keep", "keep"]
    assert routes["rule"][0] == "exact_duplicate → drop"


def test_a_kind_can_route_a_flag_its_own_way():
    flags = pl.DataFrame({"record_id": ["turn", "post", "post"], "name": ["too_short", "too_short", "url"],
                          "score": [1.0] * 3, "detail": ["x"] * 3})
    config = CurateConfig(routes={"too_short": "review", "url": "keep"}, kind_routes={"transcript_turn": {"too_short": "drop"}})
    routes = route_records(pl.Series(["turn", "post"]), flags, config, pl.Series(["transcript_turn", "post"]))
    assert routes["route"].to_list() == ["drop", "review"]
    assert routes["rule"].to_list() == ["too_short → drop (transcript_turn)", "too_short → review"]


def test_short_transcript_turns_are_dropped_by_rule_and_long_ones_kept(tmp_path, workspace):
    turns = tmp_path / "episode.md"
    turns.write_text(
        "**Ana Ruiz:** " + PROSE + "\n\n**Bo Chen:** Yeah.\n\n**Ana Ruiz:** Sure.\n\n**Bo Chen:** "
        + "I came to the project from support, so I read error messages all day long before I wrote any. "
        "What I remember is how people felt when a message talked down to them: they gave up, they filed "
        "a ticket, and they waited for someone to explain what the tool could have said in the first place.\n"
    )
    ingest_sources(workspace, [turns], fmt="transcript")
    curate(workspace)
    rows = _curated(workspace)
    routes = {k.rsplit("#", 1)[-1]: r["route"] for k, r in rows.items()}
    assert routes == {"turn-0": "keep", "turn-1": "drop", "turn-2": "drop", "turn-3": "keep"}
    info = explain_record(workspace, next(k for k in rows if k.endswith("turn-1")))
    assert info["rule"] == 'too_short → drop ([curate.kind_routes.transcript_turn] too_short = "drop")'
    # The rule's decision is logged under the flag that decided it.
    record_rule_decisions(workspace)
    origins = dict(workspace.read_table("decisions").select("record_id", "origin").iter_rows())
    assert origins[info["record"]["record_id"]] == "rule:too_short"
    # The report counts routes per kind and says where the kind's own route differs.
    page = write_report(workspace).html_path
    kinds = json.loads((page.parent / "curation.json").read_text())["kinds"]
    assert kinds == {"transcript_turn": {"records": 4, "keep": 2, "review": 0, "drop": 2}}
    assert "Routes per kind of record" in page.read_text() and "review (drop for transcript_turn, reply)" in page.read_text()
    # A workspace that routes them to review again gets them back in the queue.
    config = workspace.root / "housevoice.toml"
    config.write_text(config.read_text().replace('too_short = "drop"', 'too_short = "review"'))
    ws = type(workspace).open(workspace.root)
    curate(ws)
    assert _curated(ws)[next(k for k in rows if k.endswith("turn-2"))]["route"] == "review"


def test_explain_prints_every_flag_and_the_rule(small_corpus, cli):
    curate(small_corpus, target_author="Ana Ruiz")
    info = explain_record(small_corpus, "copy")
    assert info["curated"]["route"] == "drop"
    assert info["rule"].startswith("exact_duplicate → drop")
    out = cli("curate", small_corpus.root, "--explain", "copy", check=True).stdout
    assert "exact_duplicate" in out and "route: drop" in out and "Rethinking errors" in out
    bad = cli("curate", small_corpus.root, "--explain", "nope", check=False)
    assert "no record 'nope'" in bad.stderr
    # What training will read, after the cleaners: the link's words, no markup, no address.
    links = cli("curate", small_corpus.root, "--explain", "links", check=True).stdout
    preview = links[links.index("clean text, what training reads"):].splitlines()
    assert preview[1] == "  | Read this and now."
    assert "<" not in "".join(preview) and "https://" not in "".join(preview)
    assert preview[1:] == ["  | " + line for line in explain_record(small_corpus, "links")["curated"]["clean_text"].splitlines()]
    huge = cli("curate", small_corpus.root, "--explain", "huge", check=True).stdout.splitlines()
    lines = len(explain_record(small_corpus, "huge")["curated"]["clean_text"].splitlines())
    assert sum(line.startswith("  | ") for line in huge) == 12 and huge[-1] == f"  … {lines - 12:,} more lines"


def test_report_writes_html_and_plots(small_corpus):
    curate(small_corpus, target_author="Ana Ruiz")
    rep = write_report(small_corpus)
    page = rep.html_path.read_text()
    assert "Curation report" in page and "exact_duplicate" in page
    # A duplicate cluster shows how its text begins, not only its titles.
    clusters = page.split("Largest duplicate clusters", 1)[1].split("<h2>", 1)[0]
    assert "text begins" in clusters and "Rethinking errors (repost)" in clusters
    assert "We spent the spring rethinking how the compiler reports errors" in clusters
    assert len(rep.plots) == 3 and all(p.stat().st_size > 5000 for p in rep.plots)
    assert "<script" not in page.replace("&lt;script", "")
    summary = json.loads((rep.html_path.parent / "curation.json").read_text())
    records = small_corpus.read_table("records")
    assert sum(summary["authors"].values()) == records.height
    assert summary["authors"]["Ana Ruiz"] == records.filter(pl.col("author") == "Ana Ruiz").height


def test_report_ranks_duplicate_clusters_by_the_text_they_hold(tmp_path, workspace):
    # A podcast says "Yeah." many times; a blog post posted twice holds far more text and comes first.
    rows = [{"id": f"t{n}", "title": f"Episode {n}", "text": "Yeah.", "kind": "transcript_turn"} for n in range(4)]
    rows += [{"id": "p1", "title": "Rethinking errors", "text": PROSE}, {"id": "p2", "title": "Repost: Rethinking errors", "text": PROSE}]
    ingest_sources(workspace, [_jsonl(tmp_path / "mixed.jsonl", rows)])
    curate(workspace)
    flagged = {k: {f["name"] for f in r["flags"]} for k, r in _curated(workspace).items()}
    assert [k for k, names in sorted(flagged.items()) if "exact_duplicate" in names] == ["p2", "t1", "t2", "t3"]
    page = write_report(workspace).html_path.read_text()
    clusters = page.split("Largest duplicate clusters", 1)[1].split("<h2>", 1)[0]
    assert clusters.index("We spent the spring") < clusters.index("Yeah.")


def test_report_before_curate_is_a_clear_error(workspace):
    with pytest.raises(HousevoiceError, match="nothing is curated yet"):
        write_report(workspace)


def test_curate_an_empty_workspace_says_what_to_do(workspace, cli):
    proc = cli("curate", workspace.root, check=False)
    assert "has no records yet" in proc.stderr and "housevoice ingest" in proc.stderr


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("max_tokens = 4096", 'max_tokens = "lots"', r"\[curate.length\] max_tokens = 'lots'"),
        ("min_tokens = 20", "min_tokens = 9000", r"\[curate.length\].*min_tokens \(9000\) is larger than max_tokens"),
        ("[curate.stale]\n", "[curate.stale]\nbefore = \"last tuesday\"\n", r"\[curate.stale\] before = 'last tuesday'"),
        ("[curate.off_author]\n", "[curate.off_author]\nfuzzyness = 3\n", r"\[curate.off_author\] unknown key 'fuzzyness'"),
        ("[curate.pii]\n", '[curate.pii]\nkinds = ["card"]\n', r"\[curate.pii\] kinds = \['card'\].*unknown kind 'card'; the kinds are: email"),
    ],
)
def test_broken_flagger_config_names_the_flagger_and_key(small_corpus, digest, old, new, message):
    config = small_corpus.root / "housevoice.toml"
    text = config.read_text()
    assert old in text
    config.write_text(text.replace(old, new, 1))
    before = digest(small_corpus.root)
    ws = type(small_corpus).open(small_corpus.root)
    with pytest.raises(ConfigError, match=message):
        curate(ws)
    assert digest(small_corpus.root) == before


SITE_HEADER = "*This post first appeared on the Acme engineering blog. Views are the author's own.*\n\n"
SITE_FOOTER = (
    "\n\nThanks for reading! If you enjoyed this post, subscribe to our newsletter for more stories from the team.\n\n"
    "Copyright 2024 The Acme Project. All rights reserved."
)


SITE_LINES = {
    "as-published": lambda r: r["text"],
    "with-site-header-and-footer": lambda r: SITE_HEADER + r["text"].rstrip() + SITE_FOOTER,
    "with-byline": lambda r: f"By {r['author']} | {r['published_at']}\n\n{r['text']}",
}


@pytest.mark.parametrize("site_lines", SITE_LINES)
def test_dev_corpus_meets_the_quality_bar(workspace, shared_data, tmp_path, site_lines):
    """The figures bench/curation_quality.py reports, as a regression guard. With a header and a
    footer added to every post (a site's plug and copyright line; the labels still hold), the
    figures must not move. Without the boilerplate cleaner this variant misses the bar (duplicate
    pairs F1 0.93: short posts become near duplicates through the footer); a three-paragraph
    footer made every post one template series too (templated F1 0.74, duplicate pairs 0.47). A
    byline's date made re-posts other documents (near-duplicate recall 0.59)."""
    import sys
    import subprocess

    source = shared_data / "dev-corpus" / "records.jsonl"
    if site_lines != "as-published":
        rows = [json.loads(line) for line in source.open(encoding="utf-8")]
        source = _jsonl(tmp_path / "records.jsonl", [{**r, "text": SITE_LINES[site_lines](r)} for r in rows])
    ingest_sources(workspace, [source])
    curate(workspace, stale_before="2020-01-01", target_author="Niko Matsakis")
    scorer = shared_data.parent / "tools" / "score_curation.py"
    proc = subprocess.run([sys.executable, str(scorer), str(workspace.root), str(shared_data / "dev-corpus" / "labels.jsonl"),
                           "--stale-before", "2020-01-01", "--json"], capture_output=True, text=True, check=True)
    res = json.loads(proc.stdout)
    assert res["dup_pairs"]["f1"] >= 0.97
    kept, total = map(int, res["dup_clusters_keeping_exactly_one"].split("/"))
    assert kept == total
    assert res["near_duplicate_flag"]["recall"] >= 0.95
    assert res["templated_flag"]["f1"] >= 0.95
    assert res["template_pairs"]["f1"] >= 0.90
    assert res["html"]["f1"] >= 0.98
    assert res["url"]["f1"] >= 0.99
    assert res["stale_flag"]["f1"] == 1.0


def test_blog_with_its_podcast_keeps_the_duplicate_and_template_figures(workspace, shared_data, tmp_path):
    """The dev corpus with the podcast turns of dev-transcripts curated as one corpus. The turns
    carry no curation labels; their exact copies are labelled by the corpus README's rule (the
    same text as an earlier record after NFC and whitespace collapse: "Yeah." said again). Every
    such copy is flagged, no turn is a near duplicate, and turns sharing an episode title are no series."""
    import subprocess
    import sys
    import unicodedata

    folders = [shared_data / "dev-corpus", shared_data / "dev-transcripts"]
    ingest_sources(workspace, [f / "records.jsonl" for f in folders])
    curate(workspace, stale_before="2020-01-01")
    rows = [json.loads(line) for f in folders for line in (f / "labels.jsonl").open(encoding="utf-8")]
    keys = list(dict.fromkeys(k for row in rows for k in row))
    turns_text = {
        r["id"]: r["text"] for r in map(json.loads, (folders[1] / "records.jsonl").open(encoding="utf-8"))
    }
    first_of: dict[str, str] = {}
    copies = {}
    for rid, text in turns_text.items():
        first = first_of.setdefault(" ".join(unicodedata.normalize("NFC", text).split()), rid)
        if first != rid:
            copies[rid] = first
    assert len(copies) > 20  # the podcast really repeats itself
    merged = [{k: row.get(k) for k in keys} for row in rows]
    for row in merged:
        if row["id"] in turns_text:
            row["exact_dup_of"] = copies.get(row["id"])
    labels = _jsonl(tmp_path / "labels.jsonl", merged)
    scorer = shared_data.parent / "tools" / "score_curation.py"
    proc = subprocess.run([sys.executable, str(scorer), str(workspace.root), str(labels), "--stale-before", "2020-01-01", "--json"],
                          capture_output=True, text=True, check=True)
    res = json.loads(proc.stdout)
    assert res["dup_pairs"]["f1"] >= 0.97
    assert res["exact_duplicate_flag"]["recall"] == 1.0
    kept, total = map(int, res["dup_clusters_keeping_exactly_one"].split("/"))
    assert kept == total
    assert res["templated_flag"]["f1"] >= 0.95 and res["template_pairs"]["f1"] >= 0.90
    turns = workspace.read_table("records").filter(pl.col("kind") == "transcript_turn").select("record_id", "source_key")
    flagged = workspace.read_table("curated").join(turns, on="record_id").explode("flags").unnest("flags")
    assert not set(flagged["name"].drop_nulls()) & {"near_duplicate", "templated"}
    assert set(flagged.filter(pl.col("name") == "exact_duplicate")["source_key"]) == set(copies)


def test_flaggers_side_by_side_find_what_they_find_one_at_a_time(small_corpus):
    # curate runs flaggers beside the cleaners and each other; the result must not depend on it.
    from housevoice.curate.pipeline import build_flaggers, curate_frame, prepare_frame

    config, records = small_corpus.config, small_corpus.read_table("records")
    flaggers = build_flaggers(config, {"stale": {"before": "2020-01-01"}})
    frame = prepare_frame(records, config, None)
    one_by_one = pl.concat([flagger.flag(frame).flags for flagger in flaggers]).sort("record_id", "name", "detail")
    side_frame, side_flags, _, timings, _ = curate_frame(records, config, flaggers, workers=2)
    assert side_flags.sort("record_id", "name", "detail").equals(one_by_one.cast(dict(side_flags.schema)))
    assert side_frame.select("record_id", "clean_text", "n_tokens").equals(frame.select("record_id", "clean_text", "n_tokens"))
    assert [t.name for t in timings] == ["clean", "tokens", *[f.name for f in flaggers]]
    assert {"html", "url", "stale", "too_long", "exact_duplicate"} <= set(side_flags["name"])


def test_status_walks_the_loop_after_curation(small_corpus):
    from datetime import UTC

    from housevoice.registry import Registry
    from housevoice.schema import DECISIONS
    from housevoice.status import workspace_status

    curate(small_corpus, target_author="Ana Ruiz", stale_before="2015-01-01")
    assert workspace_status(small_corpus).next_step.startswith("housevoice report")
    write_report(small_corpus)
    review = small_corpus.read_table("curated").filter(pl.col("route") == "review")["record_id"].to_list()
    assert review
    step = workspace_status(small_corpus).next_step
    assert step.startswith("housevoice label review push") and f"({len(review)} records routed to review await" in step
    assert len(review) > 1
    # A person decides all but one: that one still waits.
    rows = pl.DataFrame({"record_id": review, "decision": "approve", "edited_text": None, "comment": "",
                         "reviewer": "ana", "decided_at": datetime(2026, 1, 2, tzinfo=UTC),
                         "origin": [f"label-studio:1/{i}" for i in range(len(review))]}, schema=DECISIONS)
    small_corpus.append_table("decisions", rows.head(len(review) - 1))
    assert "(1 record routed to review awaits a person's decision)" in workspace_status(small_corpus).next_step
    small_corpus.append_table("decisions", rows.tail(1))
    assert workspace_status(small_corpus).next_step.startswith("housevoice tune sft")
    registry = Registry(small_corpus)
    version = registry.create_version("sft", base_model="tiny")
    registry.finish_version(version, "models/x")
    assert workspace_status(small_corpus).next_step.startswith(f"housevoice evaluate voice {small_corpus.root} --version {version}")
    registry.add_eval_results(version, "voice", [{"metric": "mean", "value": 0.5}])
    assert workspace_status(small_corpus).next_step.startswith("housevoice dashboard")
    # Once the newest version is live, the step is to take it out; a newer candidate sends leads back to compare.
    registry.record_promotion(version, "promote", "Dana", "best voice")
    assert workspace_status(small_corpus).next_step.startswith(f"housevoice export {small_corpus.root} MODEL_FOLDER  ({version}")
    newer = registry.create_version("dpo", base_model="tiny", parent=version)
    registry.finish_version(newer, "models/y")
    registry.add_eval_results(newer, "voice", [{"metric": "mean", "value": 0.6}])
    assert workspace_status(small_corpus).next_step.startswith("housevoice dashboard")
