"""WordPress export (WXR) reader: the importer's real fixtures, every WXR version, and every kind of bad file."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from housevoice.errors import SourceError
from housevoice.ingest import wordpress
from housevoice.ingest.base import Document, ReadResult


@pytest.fixture
def wxr(shared_data) -> Path:
    return shared_data / "wxr"


def _read(path: Path) -> ReadResult:
    return wordpress.read(path, key=path.name)


def _by_id(result: ReadResult) -> dict[str, Document]:
    return {doc.source_key: doc for doc in result.documents}


def _export(*items: str, version: str = "1.2") -> bytes:
    """A small WXR file with one item per line from line 8 on, and one author whose display name differs."""
    lines = "\n".join(items)
    return f"""<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/{version}/excerpt/"
  xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/{version}/">
<channel>
<wp:wxr_version>{version}</wp:wxr_version>
<wp:author><wp:author_login>ana</wp:author_login><wp:author_display_name><![CDATA[Ana Lima]]></wp:author_display_name></wp:author>
{lines}
</channel>
</rss>
""".encode()


def _item(post_id: str | None, post_type: str = "post", **fields: str) -> str:
    post_id_tag = f"<wp:post_id>{post_id}</wp:post_id>" if post_id is not None else ""
    extra = "".join(f"<{name}>{value}</{name}>" for name, value in fields.items())
    return (
        f"<item><title>Item {post_id}</title><dc:creator>ana</dc:creator>{post_id_tag}"
        f"<wp:post_type>{post_type}</wp:post_type><wp:status>publish</wp:status>"
        f"<content:encoded><![CDATA[<p>Body of {post_id}</p>]]></content:encoded>{extra}</item>"
    )


EXPECTED_COUNTS = {
    "theme-unit-test-data.xml": (
        {("post", "publish"): 56, ("page", "publish"): 21, ("post", "future"): 1, ("post", "draft"): 1},
        {"attachment": 37, "nav_menu_item": 70},
    ),
    "small-export.xml": (
        {("post", "publish"): 5, ("page", "publish"): 4, ("page", "draft"): 1, ("post", "private"): 1},
        {},
    ),
    "valid-wxr-1.0.xml": ({("post", "publish"): 3, ("page", "publish"): 3}, {}),
    "valid-wxr-1.1.xml": ({("post", "publish"): 1, ("page", "publish"): 1}, {}),
    "wxr-utf-8-challenges.xml": ({("post", "publish"): 1}, {}),
    "cdata-edge.xml": ({("post", "publish"): 1}, {}),
    "post-content-blank-lines.xml": ({("post", "publish"): 1}, {}),
    "authors-multiline.xml": ({("post", "publish"): 1}, {}),
    "missing-tags.xml": ({("post", "publish"): 1}, {}),
}


@pytest.mark.parametrize("name", sorted(EXPECTED_COUNTS))
def test_importer_fixture_yields_expected_items_by_type_and_status(wxr, name):
    kept, skipped = EXPECTED_COUNTS[name]
    result = _read(wxr / name)
    assert Counter((doc.kind, doc.status) for doc in result.documents) == kept
    assert result.skipped == skipped
    assert result.notes == []
    assert wordpress.sniff(wxr / name, (wxr / name).read_bytes()[:65536])


def test_theme_unit_test_keeps_display_names_gmt_dates_and_terms(wxr):
    docs = _by_id(_read(wxr / "theme-unit-test-data.xml"))
    draft = docs["1164"]
    assert (draft.author, draft.title, draft.status, draft.kind) == ("Theme Buster", "Draft", "draft", "post")
    assert draft.published_at == datetime(2013, 4, 9, 18, 20, 39)  # post_date_gmt, not the site's 11:20
    assert draft.meta["categories"] == ["Classic", "Unpublished"]
    assert draft.meta["tags"] == ["content περιεχόμενο"]
    assert draft.meta["login"] == "themedemos"
    assert draft.url == "https://wpthemetestdata.wordpress.com/?p=1164"
    assert draft.text == "This post is drafted and not published yet.\n\nIt should not be displayed by the theme."
    scheduled = docs["1153"]
    assert (scheduled.status, scheduled.published_at) == ("future", datetime(2030, 1, 1, 19, 0, 18))
    assert {doc.author for doc in docs.values() if doc.kind == "page"} >= {"Theme Reviewer"}
    assert all(isinstance(key, str) and key.isdigit() for key in docs)
    # A title is read as WordPress shows it; the title as typed, markup and all, stays in meta.
    marked = docs["1173"]
    assert marked.title == "Markup: Title With Markup"
    assert marked.meta["title_markup"] == "Markup: Title <em>With</em> <b>Mark<sup>up</sup></b>"
    special = next(doc for doc in docs.values() if doc.title and "Special Characters" in doc.title)
    assert special.title.endswith("~`!@#$%^&*()-_=+{}[]/\\;:'\"?,.>") and "title_markup" not in draft.meta


def test_wxr_1_0_reads_old_tag_domain_without_repeats(wxr):
    docs = _by_id(_read(wxr / "valid-wxr-1.0.xml"))
    tagged = docs["4"]
    assert tagged.meta["categories"] == ["alpha"]
    assert tagged.meta["tags"] == ["news", "roar"]
    assert docs["1"].meta["comment_count"] == 1
    assert docs["1"].author == "admin"  # no wp:author entries in 1.0: the login stands in
    assert docs["2"].kind == "page" and docs["2"].meta["slug"] == "about"


def test_wxr_1_1_maps_login_to_display_name_and_keeps_other_taxonomies(wxr):
    post = _by_id(_read(wxr / "valid-wxr-1.1.xml"))["1"]
    assert post.author == "John Doe"
    assert post.meta["login"] == "john"
    assert post.meta["tags"] == ["Clippable"]
    assert post.meta["terms"] == {"post_tax": ["bieup"]}
    assert post.meta["guid"] == "http://localhost/?p=1"
    assert post.published_at == datetime(2010, 10, 16, 20, 53, 18)


def test_body_is_kept_exactly_as_written(wxr):
    blank_lines = _read(wxr / "post-content-blank-lines.xml").documents[0]
    assert blank_lines.text == (
        "This is an example of a WordPress post.\n\t\tIt has lines with text (and one blank line).\n\n"
        "And more lines with text."
    )
    assert _read(wxr / "cdata-edge.xml").documents[0].text == "ends with sequence ]] >"


def test_multibyte_and_invisible_characters_survive(wxr):
    post = _read(wxr / "wxr-utf-8-challenges.xml").documents[0]
    assert post.source_key == "10"
    assert post.title == '"The Road \u202eNot\u202c Taken" by Rob\u202dert \u202eFrost \u202a🌲\u202c'
    assert post.author.startswith("A̸̰̅d̴̰͝m̵͎̽i̵̱̋n̷̰̎")
    assert "𝓣𝓮𝓼𝓽 𝓜𝓾𝓵𝓽𝓲-𝓑𝔂𝓽𝓮: 🚀🌟💫⭐️🔥💯🎉🎊🌈🦄" in post.text
    assert post.meta["modified"] == "2024-06-10T12:28:55"
    (category,) = post.meta["categories"]
    assert category.startswith("U\u0337") and category.endswith(" 🎭")


def test_author_login_on_its_own_lines_and_missing_optional_tags(wxr):
    assert _read(wxr / "authors-multiline.xml").documents[0].author == "alice"
    bare = _read(wxr / "missing-tags.xml").documents[0]
    assert (bare.author, bare.published_at, bare.url, bare.status) == (None, None, None, "publish")
    assert bare.text == "text"


def test_crazy_cdata_stops_with_file_and_line(wxr):
    # the only item's body is what the broken CDATA damaged, so nothing intact is left to keep
    with pytest.raises(SourceError) as caught:
        _read(wxr / "crazy-cdata.xml")
    assert caught.value.line == 18
    assert "crazy-cdata.xml:18:" in str(caught.value)
    assert "malformed" in str(caught.value)


def test_truncated_single_item_stops_with_file_and_line(wxr):
    with pytest.raises(SourceError) as caught:
        _read(wxr / "malformed-simple.xml")
    assert caught.value.line == 14
    assert "malformed-simple.xml:14: the file ends in the middle of the XML" in str(caught.value)


def test_export_cut_mid_item_keeps_intact_items_and_says_what_it_lost(wxr, tmp_path):
    whole = (wxr / "theme-unit-test-data.xml").read_bytes()
    cut = tmp_path / "cut.xml"
    cut.write_bytes(whole[: len(whole) // 2])
    result = _read(cut)
    full = _by_id(_read(wxr / "theme-unit-test-data.xml"))
    assert 0 < len(result.documents) < len(full)
    assert all(doc.text == full[doc.source_key].text for doc in result.documents)
    assert result.skipped["malformed"] == 1
    (note,) = result.notes
    last_line = cut.read_bytes().count(b"\n") + 1
    assert note.startswith(f"{cut}:{last_line}: the file ends in the middle of the XML")
    assert "recovered" in note and "skipped 1" in note


def test_wrong_encoding_skips_every_damaged_item_and_names_the_line(tmp_path):
    body = _export(_item("1"), _item("2"), _item("3"))
    latin = tmp_path / "latin.xml"
    # declared UTF-8, but two items hold Latin-1 bytes: the parser itself only reports the first
    body = body.replace(b"Body of 1", "Café".encode("latin-1")).replace(b"Body of 3", "Olá".encode("latin-1"))
    latin.write_bytes(body)
    result = _read(latin)
    assert [doc.source_key for doc in result.documents] == ["2"]
    assert result.skipped == {"malformed": 2}
    assert f"{latin}:8: the file is not valid UTF-8" in result.notes[0]
    assert "recovered 1 of ~3 items, skipped 2" in result.notes[0]


def test_empty_file_is_a_clear_error(tmp_path):
    empty = tmp_path / "empty.xml"
    empty.write_bytes(b"")
    assert not wordpress.sniff(empty, b"")
    with pytest.raises(SourceError, match=r"empty\.xml: the file is empty"):
        _read(empty)


def test_binary_file_is_a_clear_error_with_line(tmp_path):
    binary = tmp_path / "photo.xml"
    binary.write_bytes(bytes(range(256)) * 8)
    assert not wordpress.sniff(binary, binary.read_bytes())
    with pytest.raises(SourceError, match=r"photo\.xml:1: not readable as XML"):
        _read(binary)


@pytest.mark.parametrize(
    "content",
    [
        "<!DOCTYPE html><html><head><title>Blog</title></head><body><p>Hello<br>world</body></html>",
        '<?xml version="1.0"?><rss version="2.0"><channel><item><title>Feed</title></item></channel></rss>',
    ],
    ids=["html-page", "plain-rss-feed"],
)
def test_file_that_is_not_a_wordpress_export_is_refused(tmp_path, content):
    other = tmp_path / "other.xml"
    other.write_text(content, encoding="utf-8")
    assert not wordpress.sniff(other, content.encode())
    with pytest.raises(SourceError, match="not a WordPress export"):
        _read(other)


def test_item_without_post_id_is_skipped_with_a_note_naming_its_line(tmp_path):
    export = tmp_path / "export.xml"
    export.write_bytes(_export(_item("1"), _item(None)))
    result = _read(export)
    assert [doc.source_key for doc in result.documents] == ["1"]
    assert result.skipped == {"no post_id": 1}
    assert result.notes == [f"{export}:9: skipped 1 item(s) with no wp:post_id to key them, at lines 9"]


def test_repeated_post_id_keeps_the_first(tmp_path):
    export = tmp_path / "export.xml"
    export.write_bytes(_export(_item("7"), _item("7", post_type="page")))
    result = _read(export)
    assert [(doc.source_key, doc.kind) for doc in result.documents] == [("7", "post")]
    assert result.skipped == {"duplicate post_id": 1}
    assert result.notes == [f"{export}:9: skipped 1 item(s) repeating an earlier wp:post_id, at lines 9"]


def test_custom_writing_types_are_kept_and_site_machinery_is_counted(tmp_path):
    items = [_item("1", "recipe"), _item("2", "wp_block"), _item("3", "revision"), _item("4", "wp_navigation")]
    export = tmp_path / "export.xml"
    export.write_bytes(_export(*items))
    result = _read(export)
    assert [(doc.kind, doc.author) for doc in result.documents] == [("recipe", "Ana Lima")]
    assert result.skipped == {"wp_block": 1, "revision": 1, "wp_navigation": 1}


def test_publication_date_falls_back_from_gmt_to_site_time_to_pubdate(tmp_path):
    zero = "0000-00-00 00:00:00"
    items = [
        _item("1", **{"wp:post_date_gmt": zero, "wp:post_date": "2020-05-01 09:30:00"}),
        _item("2", **{"wp:post_date_gmt": zero, "pubDate": "Fri, 01 May 2020 09:30:00 +0200"}),
        _item("3", **{"wp:post_date_gmt": zero, "wp:post_date": zero, "pubDate": "Thu, 01 Jan 1970 00:00:00 +0000"}),
    ]
    export = tmp_path / "export.wxr"
    export.write_bytes(_export(*items, version="1.1"))
    dates = {doc.source_key: doc.published_at for doc in _read(export).documents}
    assert dates == {"1": datetime(2020, 5, 1, 9, 30), "2": datetime(2020, 5, 1, 7, 30), "3": None}


def test_theme_unit_test_ingests_into_records(workspace, wxr):
    from housevoice.ingest import ingest_sources

    summary = ingest_sources(workspace, [wxr / "theme-unit-test-data.xml"])
    (source,) = summary.sources
    assert (source.format, source.new) == ("wordpress", 79)
    assert source.skipped == {"attachment": 37, "nav_menu_item": 70}
    records = workspace.read_table("records")
    draft = records.filter(records["source_key"] == "1164").row(0, named=True)
    assert (draft["author"], draft["status"]) == ("Theme Buster", "draft")
    assert draft["source"] == "wordpress:theme-unit-test-data.xml"
    assert json.loads(draft["meta"])["categories"] == ["Classic", "Unpublished"]
