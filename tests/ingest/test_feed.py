"""RSS and Atom files: a site's feed, and Blogger's two export shapes."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from housevoice.curate.clean import clean_text
from housevoice.errors import SourceError
from housevoice.ingest import feed, read_source

FIXTURES = Path(__file__).parent / "fixtures"

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Acme Letters</title><link>https://acme.example</link>
<item><title>Our March letter</title><link>https://acme.example/march</link><guid>https://acme.example/?p=12</guid>
<dc:creator><![CDATA[Ana Lima]]></dc:creator><pubDate>Tue, 05 Mar 2024 09:00:00 +0100</pubDate>
<category><![CDATA[Letters]]></category><description><![CDATA[Dear friends, spring…]]></description>
<content:encoded><![CDATA[<p>Dear friends, spring is here.</p><p>We planted <a href="https://trees.example">forty trees</a>.</p>]]></content:encoded></item>
<item><title>Short note</title><link>https://acme.example/note</link><guid>https://acme.example/?p=13</guid>
<pubDate>Wed, 06 Mar 2024 09:00:00 +0000</pubDate><description><![CDATA[<p>Only the first lines of the post…</p>]]></description></item>
</channel></rss>
"""


def test_an_rss_feed_gives_its_items_with_full_content_and_says_which_are_excerpts(tmp_path):
    path = tmp_path / "letters.rss"
    path.write_text(RSS, encoding="utf-8")
    result = feed.read(path, key=path.name)
    march, note = result.documents
    assert (march.source_key, march.title, march.author, march.url) == (
        "https://acme.example/?p=12", "Our March letter", "Ana Lima", "https://acme.example/march")
    assert march.published_at == datetime(2024, 3, 5, 8, 0)  # UTC
    assert march.meta == {"format": "rss20", "tags": ["Letters"]}
    assert clean_text(march.text) == "Dear friends, spring is here.\n\nWe planted forty trees."
    assert note.text == "<p>Only the first lines of the post…</p>"
    assert result.notes == [f"{path}: 1 of 2 entries hold a summary only — a feed often carries excerpts, not whole posts; "
                            "the site's full export gives the whole text"]


def test_a_blogger_backup_keeps_posts_and_drafts_and_skips_comments_and_settings():
    summary, pairs = read_source(FIXTURES / "blogger-backup.xml")
    assert summary.format == "feed"
    assert summary.skipped == {"settings": 1, "comment": 1}
    hire, draft = (doc for _, doc in pairs)
    assert (hire.title, hire.author, hire.status, hire.meta["tags"]) == ("How we hire", "Ana Lima", None, ["Hiring"])
    assert hire.published_at == datetime(2019, 5, 1, 17, 0)
    assert hire.url == "https://acme.blogspot.com/2019/05/how-we-hire.html"
    assert clean_text(hire.text) == "We hire slowly."  # the script is the page's, not the writer's
    assert (draft.title, draft.status) == ("Draft", "draft")


def test_a_blogger_takeout_export_reads_its_types_and_statuses():
    summary, pairs = read_source(FIXTURES / "blogger-takeout.atom")
    assert summary.skipped == {"comment": 1}
    docs = {doc.title: doc for _, doc in pairs}
    assert {t: (d.kind, d.status) for t, d in docs.items()} == {
        "Spring": ("post", "publish"), "Later": ("post", "draft"), "About": ("page", "publish")}
    assert docs["Spring"].meta == {"format": "atom10", "tags": ["Seasons"], "filename": "/2021/03/spring.html"}


def test_a_wordpress_export_is_still_read_as_wordpress():
    wxr = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "wxr" / "small-export.xml"
    if not wxr.exists():
        pytest.skip("the shared WordPress samples are not here")
    assert read_source(wxr)[0].format == "wordpress"


def test_a_broken_feed_is_read_forgivingly_with_a_note_naming_the_line_and_an_unreadable_one_fails(tmp_path):
    path = tmp_path / "broken.xml"
    path.write_text(
        '<?xml version="1.0"?>\n<rss version="2.0"><channel>\n<item><title>A & B</title><description>Words.</description></item>\n',
        encoding="utf-8",
    )
    result = feed.read(path, key=path.name)
    assert [d.title for d in result.documents] == ["A & B"]
    assert result.notes[0].startswith(f"{path}:3: not well-formed XML (not well-formed (invalid token))")
    cut = tmp_path / "cut.rss"
    cut.write_text('<rss version="2.0"><channel><item><title>x</title></item>', encoding="utf-8")
    with pytest.raises(SourceError, match="no entry could be read") as caught:
        feed.read(cut, key=cut.name)
    assert caught.value.line is not None and str(caught.value).startswith(f"{cut}:{caught.value.line}: not well-formed XML")
    junk = tmp_path / "junk.rss"
    junk.write_bytes(b"\x89PNG not a feed at all")
    with pytest.raises(SourceError, match="not a readable RSS or Atom feed"):
        feed.read(junk, key=junk.name)
    empty = tmp_path / "empty.atom"
    empty.write_text('<feed xmlns="http://www.w3.org/2005/Atom"><title>Nothing yet</title></feed>', encoding="utf-8")
    with pytest.raises(SourceError, match="holds no entries"):
        feed.read(empty, key=empty.name)
