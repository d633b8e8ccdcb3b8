"""The html and url flaggers: small cases, and their F1 against the labelled dev corpus."""

from __future__ import annotations

import json

import polars as pl
import pytest

from housevoice.curate.markup import HtmlFlagger, UrlFlagger


def frame(*texts: str) -> pl.DataFrame:
    return pl.DataFrame({"record_id": [f"r{i}" for i in range(len(texts))], "text": list(texts)})


def flagged(flagger, *texts: str) -> list[str]:
    return sorted(flagger.flag(frame(*texts)).flags["record_id"].to_list())


def f1(predicted: set[str], truth: set[str]) -> float:
    tp = len(predicted & truth)
    return 2 * tp / (2 * tp + len(predicted - truth) + len(truth - predicted))


@pytest.fixture
def dev_corpus(shared_data):
    folder = shared_data / "dev-corpus"
    records = [json.loads(line) for line in (folder / "records.jsonl").open(encoding="utf-8")]
    labels = {r["id"]: r for r in map(json.loads, (folder / "labels.jsonl").open(encoding="utf-8"))}
    return pl.DataFrame({"record_id": [r["id"] for r in records], "text": [r["text"] for r in records]}), labels


def test_html_flag_matches_dev_corpus_labels(dev_corpus):
    records, labels = dev_corpus
    predicted = set(HtmlFlagger().flag(records).flags["record_id"])
    assert f1(predicted, {i for i, lab in labels.items() if lab["has_html"]}) >= 0.98


def test_url_flag_matches_dev_corpus_labels(dev_corpus):
    records, labels = dev_corpus
    predicted = set(UrlFlagger().flag(records).flags["record_id"])
    assert f1(predicted, {i for i, lab in labels.items() if lab["has_urls"]}) >= 0.99


def test_html_tags_in_prose_are_flagged_and_named():
    result = HtmlFlagger().flag(frame('Some <b>bold</b> and <a href="/x">a link</a>.')).flags
    assert result["name"].to_list() == ["html"]
    assert "<b>" in result["detail"][0] and "<a>" in result["detail"][0]


def test_the_reason_counts_tags_and_names_the_most_used_first():
    page = "<p>One <EM>a</EM> <b>b</b></p><p>Two <em>c</em> <i>d</i></p><br><hr><ul><li>x</li></ul><table><tr><td>y</td></tr></table>"
    result = HtmlFlagger().flag(frame(page, "No markup.", "<b>bold</b>")).flags
    assert result["record_id"].to_list() == ["r0", "r2"]
    assert result["score"].to_list() == [24.0, 2.0]
    # <p> and <em> four uses each (in the order they first occur), <b>, <i> … two; six kinds are named.
    assert result["detail"][0] == (
        "Contains HTML markup outside code: 24 tags (<p>, <em>, <b>, <i>, <ul>, <li> and 5 more kinds); "
        "the clean text has it turned into plain text."
    )
    assert result["detail"][1].startswith("Contains HTML markup outside code: 2 tags (<b>);")


@pytest.mark.parametrize(
    "text",
    [
        "A `Vec<T>` and Box<A> and Option<String> are generics.",
        "```html\n<div>in a code block</div>\n```",
        "Inline `<td>` code span.",
        "An autolink <https://example.org> and a mail <user@example.org>.",
        "<!-- a comment --> then text",
        "An MDX component <AlertBox> here </AlertBox>.",
        "An escaped \\<td> tag.",
        "A placeholder like <source> or <input> in prose.",
    ],
)
def test_things_that_only_look_like_html_are_not_flagged(text):
    assert flagged(HtmlFlagger(), text) == []


def test_wordpress_markup_is_flagged():
    assert flagged(HtmlFlagger(), "<!-- wp:paragraph -->\n<p>Hello</p>\n<!-- /wp:paragraph -->") == ["r0"]


def test_urls_anywhere_are_counted_with_examples():
    text = "[docs](https://a.org/x) <https://b.org> bare https://c.org/y\n\n[ref]: https://d.org\n\n```\ncurl https://e.org\n```"
    result = UrlFlagger().flag(frame(text, "relative [link](/2015/05/15/post) only")).flags
    assert result["record_id"].to_list() == ["r0"]
    assert result["score"][0] == 5
    assert "https://a.org/x" in result["detail"][0] and "https://e.org" not in result["detail"][0]


def test_empty_and_null_texts_raise_nothing():
    records = pl.DataFrame({"record_id": ["a", "b"], "text": ["", None]}, schema={"record_id": pl.String, "text": pl.String})
    assert HtmlFlagger().flag(records).flags.height == 0
    assert UrlFlagger().flag(records).flags.height == 0


@pytest.mark.parametrize("flagger_class", [HtmlFlagger, UrlFlagger])
def test_flags_of_texts_met_before_come_from_the_cache_under_the_records_of_this_run(tmp_path, flagger_class):
    texts = ["Plain words only.", "See <b>this</b> at https://example.org/a", "Also <i>here</i>: https://example.net/b", ""]
    uncached = flagger_class().flag(frame(*texts)).flags
    cached_flagger = flagger_class()
    cached_flagger.cache_dir = tmp_path
    first = cached_flagger.flag(frame(*texts)).flags
    assert first.equals(uncached) and uncached.height == 2
    assert len(list(tmp_path.glob(f"{flagger_class.name}-*.parquet"))) == 1
    # The same texts under other records, in another order, with one new: the flags follow the records.
    moved = pl.DataFrame({"record_id": ["x", "y", "z", "w"], "text": [texts[2], texts[0], texts[1], "New <em>one</em> https://e.com"]})
    again = cached_flagger.flag(moved).flags.sort("record_id")
    assert again.equals(flagger_class().flag(moved).flags.sort("record_id"))
    assert again["record_id"].to_list() == ["w", "x", "z"]
