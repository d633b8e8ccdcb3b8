"""Ghost exports: posts, pages and email newsletters with their authors, tags and status."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from housevoice.curate.clean import clean_text
from housevoice.errors import SourceError
from housevoice.ingest import ghost, read_source

BOOKMARK = (
    '<figure class="kg-card kg-bookmark-card"><a class="kg-bookmark-container" href="https://other.example/post">'
    '<div class="kg-bookmark-content"><div class="kg-bookmark-title">Their headline</div>'
    '<div class="kg-bookmark-description">Words another site wrote about itself.</div>'
    '<div class="kg-bookmark-metadata"><span class="kg-bookmark-publisher">Other Site</span></div></div></a></figure>'
)


def export(posts: list[dict], *, wrapped: bool = True, **tables) -> dict:
    data = {
        "posts": posts,
        "users": [{"id": "u1", "name": "Ana Lima", "slug": "ana"}, {"id": "u2", "name": "Bo Chen", "slug": "bo"}],
        "tags": [{"id": "t1", "name": "Hiring"}, {"id": "t2", "name": "Culture"}],
        "posts_authors": [
            {"id": "pa1", "post_id": "p1", "author_id": "u2", "sort_order": 1},
            {"id": "pa2", "post_id": "p1", "author_id": "u1", "sort_order": 0},
            {"id": "pa3", "post_id": "p2", "author_id": "u1", "sort_order": 0},
        ],
        "posts_tags": [{"id": "x1", "post_id": "p1", "tag_id": "t2", "sort_order": 1}, {"id": "x2", "post_id": "p1", "tag_id": "t1", "sort_order": 0}],
        **tables,
    }
    block = {"meta": {"exported_on": 1717000000000, "version": "5.82.0"}, "data": data}
    return {"db": [block]} if wrapped else block


POSTS = [
    {"id": "p1", "title": "How we hire", "slug": "how-we-hire", "type": "post", "status": "published",
     "published_at": "2024-05-01T09:00:00.000Z", "visibility": "public",
     "html": f"<p>We hire <strong>slowly</strong>.</p>{BOOKMARK}<h2>Why</h2><p>Teams last.</p>"
             '<div class="kg-card kg-button-card"><a href="https://x.example/jobs" class="kg-btn">See open roles</a></div>'},
    {"id": "p2", "title": "March letter", "slug": "march", "type": "post", "status": "sent",
     "published_at": "2024-03-02T07:00:00.000Z", "visibility": "paid", "html": "<p>Dear members, spring is here.</p>"},
    {"id": "p3", "title": "Unfinished", "slug": "unfinished", "type": "post", "status": "draft",
     "published_at": None, "html": None, "plaintext": "Notes for a later post."},
    {"id": "p4", "title": "About", "slug": "about", "type": "page", "status": "published",
     "published_at": "2023-01-01T00:00:00.000Z", "html": "<p>We are a small studio.</p>"},
    {"id": "p5", "title": "Empty", "slug": "empty", "type": "post", "status": "draft", "html": "", "plaintext": ""},
]


def write(tmp_path: Path, content, name: str = "acme.ghost.2024-06-01.json") -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def test_a_ghost_export_gives_posts_pages_and_newsletters_with_authors_tags_and_status(tmp_path):
    path = write(tmp_path, export(POSTS))
    summary, pairs = read_source(path)
    assert summary.format == "ghost"
    assert summary.skipped == {"no text": 1}
    docs = {doc.source_key: doc for _, doc in pairs}
    assert set(docs) == {"p1", "p2", "p3", "p4"}
    hire = docs["p1"]
    # Co-authors in Ghost's order (sort_order), not the file's; tags likewise.
    assert (hire.author, hire.meta["authors"], hire.meta["tags"]) == ("Ana Lima & Bo Chen", ["Ana Lima", "Bo Chen"], ["Hiring", "Culture"])
    assert (hire.kind, hire.status, hire.published_at) == ("post", "publish", datetime(2024, 5, 1, 9, 0))
    # A newsletter sent by email only is published writing; a draft is not, and has no date yet.
    assert (docs["p2"].status, docs["p2"].meta["email_only"], docs["p2"].meta["visibility"]) == ("publish", True, "paid")
    assert (docs["p3"].status, docs["p3"].published_at, docs["p3"].text) == ("draft", None, "Notes for a later post.")
    assert docs["p4"].kind == "page"
    # The link preview quotes another site, the button is the site's: neither reaches clean text.
    assert clean_text(hire.text) == "We hire slowly.\n\n## Why\n\nTeams last."


def test_an_old_ghost_export_without_the_db_list_and_with_one_author_per_post(tmp_path):
    old = export([{"id": 7, "title": "Hello", "status": "published", "published_at": 1388534400000,
                   "author_id": "u2", "html": "<p>First post.</p>"}], wrapped=False, posts_authors=[])
    [doc] = ghost.read(write(tmp_path, old), key="x").documents
    assert (doc.source_key, doc.author, doc.published_at) == ("7", "Bo Chen", datetime(2014, 1, 1))


def test_a_plain_json_file_is_not_taken_for_a_ghost_export(tmp_path):
    rows = write(tmp_path, '{"id": "a", "text": "One post.", "title": "A"}\n{"id": "b", "text": "Two.", "title": "B"}\n', "rows.json")
    assert read_source(rows)[0].format == "jsonl"


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ('{"db": [{"meta": {"exported_on": 1, "version": "5"}, "data": {"posts": [{"id": "p1", "html": "<p>x</p>"},,]}}]}',
         "not valid JSON"),
        ({"db": [{"meta": {"exported_on": 1, "version": "5"}, "data": {"tags": []}}]}, "no list of posts"),
        (export([{"id": "p1", "html": "<p>a</p>"}, {"id": "p1", "html": "<p>b</p>"}]), "post id p1 appears twice"),
        (export([{"id": "p1", "status": "published", "published_at": "soon", "html": "<p>a</p>"}]), "post p1: unreadable date"),
    ],
    ids=["broken-json", "no-posts", "duplicate-id", "bad-date"],
)
def test_a_broken_export_names_the_file_and_what_is_wrong(tmp_path, content, said):
    path = write(tmp_path, content)
    with pytest.raises(SourceError) as caught:
        ghost.read(path, key=path.name)
    assert said in str(caught.value) and path.name in str(caught.value)
