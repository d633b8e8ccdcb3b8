"""HTML pages, one post per file: the page's writing, not its navigation, with what its head says."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from housevoice.curate.clean import clean_text
from housevoice.errors import SourceError
from housevoice.ingest import htmlfile, read_source

SAVED_PAGE = """<!DOCTYPE html><html><head><title>Why we moved | Acme Blog</title>
<meta property="og:title" content="Why we moved &amp; what we kept">
<meta name="author" content="Ana Lima">
<meta property="article:published_time" content="2024-02-01T09:30:00+01:00">
<link rel="canonical" href="https://acme.example/why-we-moved"></head>
<body><nav><a href="/">Home</a> <a href="/about">About us</a></nav>
<article><h1>Why we moved</h1><p>We moved our office to the old bakery in March.</p><p>It smells of bread.</p></article>
<aside>Popular posts: <a href="/a">Ten tips</a></aside><footer>Copyright Acme. <a href="/privacy">Privacy</a></footer></body></html>
"""

MEDIUM_EXPORT = """<html><head><title>Notes on tone</title></head><body><article class="h-entry">
<header><h1 class="p-name">Notes on tone</h1></header><section data-field="subtitle">A subtitle</section>
<section data-field="body" class="e-content"><p>Tone is what readers remember.</p></section>
<footer><p>By <a class="p-author h-card" href="https://medium.com/@ana">Ana Lima</a> on
<time class="dt-published" datetime="2019-06-03T10:00:00.000Z">June 3, 2019</time>.</p></footer></article></body></html>
"""


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def test_a_saved_page_gives_its_article_and_what_its_head_says(tmp_path):
    path = write(tmp_path, "why.html", SAVED_PAGE)
    [doc] = htmlfile.read(path, key="why.html").documents
    assert (doc.title, doc.author, doc.url) == ("Why we moved & what we kept", "Ana Lima", "https://acme.example/why-we-moved")
    assert doc.published_at == datetime(2024, 2, 1, 8, 30)  # stored in UTC
    assert doc.meta == {"format": "html", "content_from": "article"}
    for site in ("Home", "Popular posts", "Copyright", "Privacy"):
        assert site not in doc.text
    assert clean_text(doc.text) == "# Why we moved\n\nWe moved our office to the old bakery in March.\n\nIt smells of bread."


def test_a_medium_export_gives_its_body_author_and_date(tmp_path):
    [doc] = htmlfile.read(write(tmp_path, "notes.html", MEDIUM_EXPORT), key="notes.html").documents
    assert (doc.title, doc.author, doc.published_at) == ("Notes on tone", "Ana Lima", datetime(2019, 6, 3, 10, 0))
    assert clean_text(doc.text) == "Tone is what readers remember." and doc.status is None
    draft = MEDIUM_EXPORT.replace('<time class="dt-published" datetime="2019-06-03T10:00:00.000Z">June 3, 2019</time>', "")
    [unpublished] = htmlfile.read(write(tmp_path, "draft_Notes-on-tone-1a2b3c.html", draft), key="draft_Notes-on-tone-1a2b3c.html").documents
    assert unpublished.status == "draft" and unpublished.published_at is None
    # Only Medium's export names drafts so: another site's page of that name is a page.
    [page] = htmlfile.read(write(tmp_path, "draft_ideas.html", SAVED_PAGE), key="draft_ideas.html").documents
    assert page.status is None


def test_a_folder_of_fragments_is_dated_by_its_paths_and_an_empty_page_is_counted(tmp_path):
    folder = tmp_path / "letters"
    write(folder, "2024/03/05/issue-12.html", "<p>Hello readers,</p><p>This week we <em>finally</em> shipped.</p>")
    write(folder, "empty.htm", "<html><body> <nav>Home</nav> </body></html>".replace("<nav>Home</nav>", ""))
    write(folder, "odd-date.html", '<meta name="date" content="next Tuesday"><p>Undated words.</p>')
    write(folder, "latin1.html", "<p>Caf\xe9 notes.</p>".encode("latin-1"))
    summary, pairs = read_source(folder)
    docs = {doc.source_key: doc for _, doc in pairs}
    assert summary.format == "html" and sorted(docs) == ["2024/03/05/issue-12.html", "latin1.html", "odd-date.html"]
    issue = docs["2024/03/05/issue-12.html"]
    assert (issue.title, issue.published_at, issue.meta["date_from"]) == ("issue-12", datetime(2024, 3, 5), "path")
    assert issue.text.startswith("<p>Hello readers,</p>") and "<body" not in issue.text
    assert docs["odd-date.html"].published_at is None
    assert "Café" in docs["latin1.html"].text
    assert summary.skipped == {"no text": 1}
    assert any("empty.htm" in note and "no text" in note for note in summary.notes)
    assert any("odd-date.html" in note and "next Tuesday" in note for note in summary.notes)


def test_a_substack_export_takes_titles_dates_and_status_from_its_index(tmp_path):
    export = tmp_path / "substack"
    write(export, "posts.csv", (
        "post_id,post_date,is_published,email_sent_at,type,audience,title,subtitle\n"
        "1001.why-we-moved,2024-02-01T09:30:00.000Z,true,,newsletter,everyone,Why we moved &amp; stayed,A new home\n"
        "1002.draft-notes,,false,,newsletter,only_paid,Draft notes,\n"
    ))
    write(export, "posts/1001.why-we-moved.html", "<p>We moved to the old bakery.</p>")
    write(export, "posts/1002.draft-notes.html", "<p>Not sent yet.</p>")
    _, pairs = read_source(export / "posts")
    docs = {doc.source_key: doc for _, doc in pairs}
    sent, draft = docs["1001.why-we-moved.html"], docs["1002.draft-notes.html"]
    assert (sent.title, sent.published_at, sent.status) == ("Why we moved & stayed", datetime(2024, 2, 1, 9, 30), "publish")
    assert sent.meta["subtitle"] == "A new home" and sent.meta["index"] == "posts.csv"
    assert (draft.title, draft.published_at, draft.status, draft.meta["audience"]) == ("Draft notes", None, "draft", "only_paid")
    # The whole export folder reads the same: its index fills in the pages, it is no table of texts.
    summary, pairs = read_source(export)
    assert {doc.source_key: doc.title for _, doc in pairs} == {
        "posts/1001.why-we-moved.html": "Why we moved & stayed", "posts/1002.draft-notes.html": "Draft notes"}
    assert summary.skipped == {"index of the posts (read with them)": 1}
    # A broken index names itself.
    write(export, "posts.csv", b"post_id,title\n1001.why-we-moved,Caf\xe9\n")
    with pytest.raises(SourceError, match="posts.csv"):
        read_source(export / "posts")


def test_only_html_files_are_sniffed_as_html(tmp_path):
    assert htmlfile.sniff(tmp_path / "a.html", b"<p>x</p>")
    assert not htmlfile.sniff(tmp_path / "a.md", b"<p>x</p>")
    assert not htmlfile.sniff(tmp_path / "a.html", b"plain words, no markup")


CONFLUENCE_PAGE = """<html><head><title>Garden : Why we compost</title></head><body><div id="page"><div id="main">
<div id="main-header"><div id="breadcrumb-section"><ol id="breadcrumbs"><li><a href="index.html">Garden</a></li></ol></div>
<h1 id="title-heading" class="pagetitle"><span id="title-text">Garden : Why we compost</span></h1></div>
<div id="content" class="view"><div class="page-metadata">Created by <span class='author'> Maya Chen</span>, last modified on Mar 02, 2021</div>
<div id="main-content" class="wiki-content group"><p>Compost feeds the beds all year.</p><p>We turn it every week.</p></div>
<div class="pageSection group"><div class="pageSectionHeader"><h2 id="attachments" class="pageSectionTitle">Attachments:</h2></div>
<div class="greybox" align="left"><img src="images/icons/bullet_blue.gif" /><a href="attachments/1/plan.pdf">plan.pdf</a></div></div>
</div></div><div id="footer"><p>Document generated by Confluence on Mar 03, 2021 10:00</p></div></div></body></html>
"""


def test_a_confluence_export_page_gives_its_writing_and_author_not_its_furniture(tmp_path):
    [doc] = htmlfile.read(write(tmp_path, "Why-we-compost_98305.html", CONFLUENCE_PAGE), key="Why-we-compost_98305.html").documents
    assert clean_text(doc.text) == "Compost feeds the beds all year.\n\nWe turn it every week."
    assert doc.author == "Maya Chen" and doc.meta["content_from"] == "#main-content"
    assert doc.title == "Why we compost"


MEDIUM_STORY = """<html><head><title>Notes on tone</title></head><body><article class="h-entry">
<header><h1 class="p-name">Notes on tone</h1></header>
<section data-field="body" class="e-content"><section><div class="section-content"><div class="section-inner">
<h3 class="graf graf--h3 graf--leading graf--title">Notes on tone</h3>
<p class="graf graf--p">Notes on tone are what I keep beside the desk.</p></div></div></section></section>
<footer><p>By <a class="p-author h-card" href="https://medium.com/@ana">Ana Lima</a></p></footer></article></body></html>
"""
MEDIUM_RESPONSE = """<html><head><title>Thanks, this is the clearest account of the migration I have…</title></head><body>
<article class="h-entry"><header><h1 class="p-name">Thanks, this is the clearest account of the migration I have…</h1></header>
<section data-field="body" class="e-content"><section><div class="section-content"><div class="section-inner">
<p class="graf graf--p graf--leading graf--trailing">Thanks, this is the clearest account of the migration I have read.
We did the same last year.</p></div></div></section></section>
<footer><p>By <a class="p-author h-card" href="https://medium.com/@ana">Ana Lima</a></p></footer></article></body></html>
"""


def test_a_medium_response_is_read_as_a_reply_and_a_story_as_a_post(tmp_path):
    [response] = htmlfile.read(write(tmp_path, "r.html", MEDIUM_RESPONSE), key="r.html").documents
    assert response.kind == "reply" and clean_text(response.text).startswith("Thanks, this is the clearest account")
    # A story has a title of its own at its head, or a subtitle; one whose opening sentence repeats its title is still a story.
    for page in (MEDIUM_STORY, MEDIUM_EXPORT):
        [story] = htmlfile.read(write(tmp_path, "s.html", page), key="s.html").documents
        assert story.kind == "post"
    # Another site's page whose title opens its text is a post: only Medium's export has responses.
    page = "<html><head><title>We moved</title></head><body><article><p>We moved in March.</p></article></body></html>"
    [other] = htmlfile.read(write(tmp_path, "o.html", page), key="o.html").documents
    assert other.kind == "post"


def test_a_medium_account_export_is_read_from_its_posts_only(tmp_path):
    from housevoice.ingest import read_source

    export = tmp_path / "medium-export"
    pages = {
        "README.html": "This is your Medium export.",
        "profile/profile.html": "Ana Lima, @ana",
        "claps/claps-0001.html": "<a href=x>Someone else's post</a>",
        "highlights/highlights-0001.html": "A sentence someone else wrote.",
    }
    for name, said in pages.items():
        write(export, name, f"<html><body><p>{said}</p></body></html>")
    write(export, "posts/2019-06-03_Notes-on-tone-1a2b.html", MEDIUM_EXPORT)
    summary, pairs = read_source(export)
    assert [doc.source_key for _, doc in pairs] == ["posts/2019-06-03_Notes-on-tone-1a2b.html"]
    assert summary.skipped == {"site files, not writing": 4}
    assert "a Medium account export (profile/profile.html): only posts/ read" in summary.notes[0]
