"""Exact and near duplicates: the keeper, re-posts, template siblings, and the dev corpus figures."""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from housevoice.curate.clean import clean_frame
from housevoice.curate.duplicates import DuplicateFlagger
from housevoice.schema import RECORDS

PARAGRAPHS = [
    "Our community garden opened its gates this spring after two years of planning with the city council.",
    "Volunteers built twelve raised beds from reclaimed timber, and local schools adopted four of them for lessons.",
    "Water comes from a rain barrel system designed by a retired engineer who lives across the street from the plot.",
    "Every Saturday morning we hold an open workshop on composting, seed saving and keeping slugs away without poison.",
    "If you would like a bed next season, write to the coordinator before the end of autumn so we can plan the layout.",
]


def frame_of(rows: list[dict]) -> pl.DataFrame:
    """Records with the columns a flagger reads; `text`, `title`, `published_at` given per row."""
    full = []
    for n, row in enumerate(rows):
        full.append({
            "record_id": row.get("record_id", f"r{n}"), "source_key": f"k{n}", "source": "test", "kind": row.get("kind", "post"),
            "author": None, "title": row.get("title"), "text": row.get("text", ""), "published_at": row.get("published_at"),
            "url": None, "status": "publish", "meta": "{}",
        })
    frame = pl.DataFrame(full, schema=RECORDS)
    return clean_frame(frame).with_columns(n_tokens=pl.col("clean_text").str.len_chars() // 4)


def flags_of(result) -> dict[str, str]:
    return dict(zip(result.flags["record_id"], result.flags["name"]))


def test_repost_with_new_intro_is_a_near_duplicate_of_the_earlier_post():
    original = "\n\n".join(PARAGRAPHS)
    repost = "Editor's note: we are sharing this again because many new members asked.\n\n" + "\n\n".join(PARAGRAPHS[1:])
    frame = frame_of([
        {"text": original, "title": "Garden news", "published_at": datetime(2020, 5, 1)},
        {"text": repost, "title": "Repost: Garden news", "published_at": datetime(2022, 5, 1)},
    ])
    result = DuplicateFlagger().flag(frame)
    assert flags_of(result) == {"r1": "near_duplicate"}
    assert result.columns["dup_group"].n_unique() == 1
    detail = result.flags["detail"][0]
    assert "'Garden news' (r0)" in detail and "2 years earlier" in detail


def test_markdown_restyling_and_tracking_links_are_invisible():
    original = "Intro\n=====\n\n* " + "\n* ".join(PARAGRAPHS) + "\n\nSee [the plan](https://example.org/plan)."
    restyled = ("# Intro\r\n\r\n- " + "\r\n- ".join(PARAGRAPHS) + "\r\n\r\nSee [the plan](https://example.org/plan?utm_source=news&fbclid=abc).")
    frame = frame_of([{"text": original}, {"text": restyled}])
    assert flags_of(DuplicateFlagger().flag(frame)) == {"r1": "near_duplicate"}


def test_bold_restyled_with_underscores_keeps_the_numbers_a_copy_agrees_on():
    """`**on May 12**` restyled as `__on May 12__` read as the specific "12__" (and no month): the copy
    disagreed with its source on its dates and was taken for a sibling of a series."""
    text = "\n\n".join(PARAGRAPHS).replace("this spring", "**on May 12**").replace("four of them", "**4 of them**")
    frame = frame_of([{"text": text}, {"text": text.replace("**", "__")}])
    assert flags_of(DuplicateFlagger().flag(frame)) == {"r1": "near_duplicate"}


def test_keeper_is_the_earliest_published_not_the_first_ingested():
    text = "\n\n".join(PARAGRAPHS)
    frame = frame_of([
        {"text": text, "published_at": datetime(2023, 1, 1)},
        {"text": text, "published_at": datetime(2021, 1, 1)},
        {"text": text, "published_at": None},
    ])
    result = DuplicateFlagger().flag(frame)
    assert flags_of(result) == {"r0": "exact_duplicate", "r2": "exact_duplicate"}
    assert result.columns.height == 3


@pytest.mark.parametrize("cleaned", [True, False], ids=["key from the cleaners", "raw frame"])
def test_exact_copies_differing_in_unicode_form_and_whitespace_are_exact_duplicates(cleaned):
    text = "\n\n".join(PARAGRAPHS) + "\n\nCafé au lait."
    copy = text.replace("é", "e\u0301").replace("\n\n", "  \r\n\r\n ")
    frame = frame_of([{"text": text}, {"text": copy}, {"text": text.replace("lait", "miel")}])
    if not cleaned:
        frame = frame.drop("text_key")
    assert flags_of(DuplicateFlagger().flag(frame)) == {"r1": "exact_duplicate", "r2": "near_duplicate"}


def test_two_release_notes_from_one_template_are_not_duplicates():
    def notes(version: str, date: str, change: str) -> str:
        return (
            f"The team is happy to announce a new version, {version}. This release was published on {date}.\n\n"
            "If you have a previous version installed via the installer, you can update with one command. "
            "If you don't have it already, you can get it from the download page on our website.\n\n"
            f"What's in {version}: {change}\n\n"
            "Many people came together to create this release. We couldn't have done it without all of you. Thanks!"
        )

    frame = frame_of([
        {"text": notes("1.70.0", "June 1", "faster builds and a new lint."), "title": "Announcing Tool 1.70.0"},
        {"text": notes("1.71.0", "July 13", "better error messages."), "title": "Announcing Tool 1.71.0"},
    ])
    assert DuplicateFlagger().flag(frame).flags.is_empty()


def test_a_second_call_is_not_a_copy_of_the_first_but_a_repost_of_it_is():
    text = "\n\n".join(PARAGRAPHS)
    second = text.replace("this spring", "this spring, and the second round is open")
    frame = frame_of([
        {"text": text, "title": "Call for gardeners", "published_at": datetime(2020, 5, 1)},
        {"text": second, "title": "Second call for gardeners", "published_at": datetime(2020, 6, 1)},
        {"text": second, "title": "Repost: Second call for gardeners", "published_at": datetime(2021, 6, 1)},
        {"text": text + "\n\nUpdated.", "title": "Call for gardeners (updated)", "published_at": datetime(2020, 7, 1)},
    ])
    # Title ordinals name another document; the reposts keep theirs and are still copies.
    assert flags_of(DuplicateFlagger().flag(frame)) == {"r2": "exact_duplicate", "r3": "near_duplicate"}


def test_empty_texts_missing_titles_and_huge_text_do_not_crash():
    huge = ("word " * 1_000_000)[:5_000_000]
    frame = frame_of([{"text": ""}, {"text": "", "title": None}, {"text": "   "}, {"text": huge}, {"text": "Yes."}])
    result = DuplicateFlagger().flag(frame)
    assert result.flags.is_empty()  # empty texts are no writing to copy
    assert result.columns.is_empty()
    assert DuplicateFlagger().flag(frame_of([])).flags.is_empty()


@pytest.fixture(scope="module")
def dev_corpus():
    folder = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "dev-corpus"
    if not folder.is_dir():
        pytest.skip(f"labelled dev corpus {folder} is not beside the repository")
    rows = [json.loads(line) for line in (folder / "records.jsonl").open(encoding="utf-8")]
    labels = [json.loads(line) for line in (folder / "labels.jsonl").open(encoding="utf-8")]
    records = pl.DataFrame(
        [{"record_id": r["id"], "source_key": r["id"], "source": r["source"], "kind": r["kind"], "author": r.get("author"),
          "title": r.get("title"), "text": r["text"], "published_at": datetime.fromisoformat(r["published_at"]) if r.get("published_at") else None,
          "url": r.get("url"), "status": None, "meta": "{}"} for r in rows],
        schema=RECORDS,
    )
    return clean_frame(records).with_columns(n_tokens=pl.lit(0, dtype=pl.Int64)), labels


def f1(pred: set, truth: set) -> float:
    tp = len(pred & truth)
    return 2 * tp / (len(pred) + len(truth)) if pred or truth else 1.0


def cluster_pairs(groups) -> set:
    return {p for members in groups for p in itertools.combinations(sorted(members), 2)}


def test_dev_corpus_duplicate_pairs_f1_and_one_keeper_per_cluster(dev_corpus):
    frame, labels = dev_corpus
    result = DuplicateFlagger().flag(frame)
    flagged = defaultdict(set)
    for rid, name in zip(result.flags["record_id"], result.flags["name"]):
        flagged[rid].add(name)
    predicted = defaultdict(set)
    for rid, group in result.columns.iter_rows():
        predicted[group].add(rid)
    truth = {lab["id"]: lab.get("exact_dup_of") or lab.get("near_dup_of") for lab in labels}
    root = {}
    for rid in truth:  # follow `*_dup_of` links to each cluster's source
        src = rid
        while truth.get(src):
            src = truth[src]
        root[rid] = src
    true_groups = defaultdict(set)
    for rid, src in root.items():
        true_groups[src].add(rid)
    true_groups = [m for m in true_groups.values() if len(m) > 1]
    assert f1(cluster_pairs(predicted.values()), cluster_pairs(true_groups)) >= 0.97
    assert all(sum(1 for m in members if not flagged[m]) == 1 for members in true_groups)
    near_truth = {lab["id"] for lab in labels if lab.get("near_dup_of")}
    near_flagged = {rid for rid, names in flagged.items() if "near_duplicate" in names}
    assert len(near_flagged & near_truth) / len(near_truth) >= 0.95


def test_short_lines_said_again_are_exact_copies_but_never_near_duplicates():
    # Podcast turns repeat ("Yeah."): the same text again is an exact copy at any length, but a
    # short line is too short to tell an edit from another text, so it is never a near duplicate.
    long = "\n\n".join(PARAGRAPHS)
    frame = frame_of([
        {"text": "Yeah.", "kind": "transcript_turn"},
        {"text": "Yeah.", "kind": "transcript_turn"},
        {"text": "Thanks so much for having us, it was great.", "kind": "transcript_turn"},
        {"text": "Thanks so much for having us, it was great fun.", "kind": "transcript_turn"},
        {"text": long},
        {"text": long},
        {"text": "  Yeah. ", "kind": "transcript_turn"},
        {"text": "Yeah!", "kind": "transcript_turn"},
    ])
    result = DuplicateFlagger().flag(frame)
    assert flags_of(result) == {"r1": "exact_duplicate", "r5": "exact_duplicate", "r6": "exact_duplicate"}
    groups = dict(zip(result.columns["record_id"], result.columns["dup_group"]))
    assert groups["r0"] == groups["r1"] == groups["r6"] != groups["r4"] and "r7" not in groups
    short = DuplicateFlagger(DuplicateFlagger.Settings(min_words=1)).flag(frame)
    assert flags_of(short) == {
        "r1": "exact_duplicate", "r3": "near_duplicate", "r5": "exact_duplicate", "r6": "exact_duplicate", "r7": "near_duplicate",
    }


def test_words_are_letters_and_digits_of_any_script_without_addresses():
    from housevoice.curate.duplicates import _tokens

    texts = pl.Series(["snake_case and x86_64 ", "Café naïve 中文字 ‿tie⁀x", "a\n\nb\tc  d", "see https://x.org/a_b?q=1 now",
                       "Ünïcödé—dash…ellipsis", "1,000.5 v2.0-rc1", "", " _ ", None])
    assert [t or [] for t in _tokens(texts).to_list()] == [
        ["snake", "case", "and", "x86", "64"], ["café", "naïve", "中文字", "‿tie⁀x"], ["a", "b", "c", "d"], ["see", "now"],
        ["ünïcödé", "dash", "ellipsis"], ["1", "000", "5", "v2", "0", "rc1"], [], [], [],
    ]
