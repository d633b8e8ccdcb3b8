"""stale, length, off_author, not_published and not_prose on small record sets."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest
from pydantic import ValidationError

from housevoice.curate.record_checks import (
    LengthFlagger, LengthSettings, NotProseFlagger, NotPublishedFlagger, OffAuthorFlagger,
    OffAuthorSettings, StaleFlagger, StaleSettings, person_byline,
)


def records(**columns) -> pl.DataFrame:
    n = len(next(iter(columns.values())))
    base = {"record_id": [f"r{i}" for i in range(n)], "kind": ["post"] * n}
    return pl.DataFrame({**base, **columns})


def ids(result) -> list[str]:
    return sorted(result.flags["record_id"].to_list())


def test_stale_flags_exactly_the_records_before_the_cutoff():
    dates = [datetime(2019, 12, 31, 23), datetime(2020, 1, 1), None, datetime(2010, 5, 1)]
    result = StaleFlagger(StaleSettings(before=date(2020, 1, 1)), now=datetime(2026, 1, 1)).flag(records(published_at=dates))
    assert ids(result) == ["r0", "r3"]
    assert "2010-05-01" in result.flags.filter(pl.col("record_id") == "r3")["detail"][0]
    assert result.flags.filter(pl.col("record_id") == "r3")["score"][0] == pytest.approx(15.67, abs=0.01)


def test_stale_by_age_in_months_uses_the_later_cutoff():
    dates = [datetime(2023, 6, 1), datetime(2022, 12, 1)]
    flagger = StaleFlagger(StaleSettings(after_months=36, before=date(2000, 1, 1)), now=datetime(2026, 1, 15))
    assert ids(flagger.flag(records(published_at=dates))) == ["r1"]


def test_stale_without_a_cutoff_flags_nothing():
    assert ids(StaleFlagger().flag(records(published_at=[datetime(1999, 1, 1)]))) == []


def test_length_flags_too_long_and_too_short():
    result = LengthFlagger(LengthSettings(min_tokens=20, max_tokens=100)).flag(records(n_tokens=[5, 50, 500]))
    assert sorted(result.flags.select("record_id", "name").iter_rows()) == [("r0", "too_short"), ("r2", "too_long")]
    assert "500 tokens" in result.flags.filter(pl.col("name") == "too_long")["detail"][0]


def test_length_settings_reject_min_above_max():
    with pytest.raises(ValidationError):
        LengthSettings(min_tokens=500, max_tokens=100)


def test_off_author_needs_the_target_as_sole_author():
    authors = ["Jane Doe", "  jane  DOE ", "Jane Doé", "Jane Doe & Bob Roe", "Bob Roe", None]
    result = OffAuthorFlagger(OffAuthorSettings(target="Jane Doe")).flag(records(author=authors))
    assert ids(result) == ["r3", "r4", "r5"]
    details = dict(result.flags.select("record_id", "detail").iter_rows())
    assert "Bob Roe" in details["r4"] and "one of 2 authors" in details["r3"]


def test_a_byline_naming_whom_the_author_wrote_for_is_still_the_author():
    authors = ["Jane Doe, for the Go team", "Jane Doe on behalf of the Core Team", "Bob Roe, for Jane Doe",
               "Jane Doe & Bob Roe, for the team"]
    result = OffAuthorFlagger(OffAuthorSettings(target="Jane Doe")).flag(records(author=authors))
    assert ids(result) == ["r2", "r3"]
    details = dict(result.flags.select("record_id", "detail").iter_rows())
    assert "one of 2 authors" in details["r3"] and "Bob Roe, for Jane Doe" in details["r2"]
    # The report counts such bylines under the person.
    assert person_byline("Russ Cox, for the Go team") == "Russ Cox" and person_byline(None) is None


def test_off_author_accepts_aliases_and_is_off_without_target():
    frame = records(author=["Nicholas Matsakis", "Niko Matsakis"])
    settings = OffAuthorSettings(target="Niko Matsakis", aliases=["Nicholas Matsakis"])
    assert ids(OffAuthorFlagger(settings).flag(frame)) == []
    assert ids(OffAuthorFlagger().flag(frame)) == []


def test_not_published_names_the_status():
    statuses = ["publish", None, "draft", "Private", "future", "pending", "trash"]
    result = NotPublishedFlagger().flag(records(status=statuses))
    assert ids(result) == ["r2", "r3", "r4", "r5", "r6"]
    assert "'draft'" in result.flags.filter(pl.col("record_id") == "r2")["detail"][0]


def prose_frame(*clean: str, kind: str = "post") -> pl.DataFrame:
    return records(text=list(clean), clean_text=list(clean), kind=[kind] * len(clean))


def test_not_prose_finds_link_lists_code_dumps_and_tables():
    prose = "We spent the summer rewriting the parser so that errors read like sentences.\n" * 5
    links = "\n".join(f"- [Page {i}](https://x.org/{i})" for i in range(8))
    code = "Intro line.\n\n```rust\n" + "fn main() { println!(\"hi\"); }\n" * 30 + "```"
    table = "\n".join(f"| {i} | value | other |" for i in range(10))
    result = NotProseFlagger().flag(prose_frame(prose, links, code, table))
    details = dict(result.flags.select("record_id", "detail").iter_rows())
    assert sorted(details) == ["r1", "r2", "r3"]
    assert "links" in details["r1"] and "code" in details["r2"] and "table" in details["r3"]


def test_a_prose_page_is_not_flagged_for_being_a_page():
    page = "This page tells the story of how our small team started and what we care about.\n" * 4
    assert ids(NotProseFlagger().flag(prose_frame(page, kind="page"))) == []


def test_not_prose_judges_a_paragraph_the_same_wrapped_or_not():
    paragraph = (
        "This release brings faster builds, clearer error messages and a new way to share settings across "
        "projects, which many of you asked for in last year's survey and which took most of the spring."
    )
    wrapped = "\n".join(paragraph[i : i + 60] for i in range(0, len(paragraph), 60))
    items = "\n".join(f"- fix {n}" for n in range(14))  # more lines than the wrapped paragraphs, less text
    changelog = "Changes:\n\n" + "\n".join(f"- fixed crash {n} in parser" for n in range(30))
    result = NotProseFlagger().flag(prose_frame(
        f"{paragraph}\n\n{paragraph}\n\n{items}", f"{wrapped}\n\n{wrapped}\n\n{items}", changelog,
    ))
    assert ids(result) == ["r2"]
    assert "of it is table rows or items of a few words" in result.flags["detail"][0]


def test_not_prose_takes_the_measures_of_a_text_and_clean_text_met_before_from_its_cache(tmp_path):
    prose = "We spent the summer rewriting the parser so that errors read like sentences.\n" * 5
    links = "\n".join(f"- [Page {i}](https://x.org/{i})" for i in range(8))
    flagger = NotProseFlagger()
    flagger.cache_dir = tmp_path
    frame = prose_frame(prose, links)
    first = flagger.flag(frame)
    assert ids(first) == ["r1"] and len(list(tmp_path.glob("prose-*.parquet"))) == 1
    again = flagger.flag(frame)
    assert again.flags.equals(first.flags)
    # The same raw text with another clean text (the site's boilerplate went, say) is measured again.
    code = "Intro line.\n\n```rust\n" + "fn main() { println!(\"hi\"); }\n" * 30 + "```"
    changed = frame.with_columns(clean_text=pl.Series([code, links]))
    result = flagger.flag(changed)
    assert ids(result) == ["r0", "r1"] and "mostly code" in result.flags["detail"][0]
    flagger.cache_dir = None
    assert flagger.flag(changed).flags.equals(result.flags)
