"""Markdown and plain-text posts: one record per file, front matter into the record's fields."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from housevoice.errors import SourceError
from housevoice.ingest import markdown, read_source

FIXTURES = Path(__file__).parent / "fixtures"


def read(path: Path):
    return markdown.read(path, key=path.name)


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_yaml_front_matter_fills_the_record():
    [doc] = read(FIXTURES / "spring-appeal.md").documents
    assert doc.source_key == "spring-appeal.md"
    assert doc.kind == "post"
    assert doc.title == "Our spring appeal"
    assert doc.author == "Maya Chen & Luis Ortega"
    assert doc.published_at == datetime(2021, 3, 14, 14, 30)  # stored in UTC
    assert doc.status == "publish"
    assert doc.meta["authors"] == ["Maya Chen", "Luis Ortega"]
    assert doc.meta["tags"] == ["fundraising", "community"]
    assert doc.meta["categories"] == ["Updates"]
    assert doc.meta["slug"] == "spring-appeal"
    assert doc.text == (
        "# Our spring appeal\n\nEvery spring we ask our readers for help, and every spring you answer.\n\n"
        "This year the money goes to the reading rooms.\n"
    )


def test_toml_front_matter_fills_the_record():
    [doc] = read(FIXTURES / "volunteer-day.md").documents
    assert doc.title == "Volunteer day recap"
    assert doc.author == "Noor Haddad"
    assert doc.published_at == datetime(2022, 9, 3, 14, 0)
    assert doc.status == "draft"
    assert doc.meta["categories"] == ["Events"]
    assert doc.text == "\nForty volunteers, two vans and a lot of paint.\n"


def test_without_front_matter_the_first_heading_is_the_title():
    [doc] = read(FIXTURES / "notes-from-the-road.md").documents
    assert doc.title == "Notes from the road"
    assert doc.author is None and doc.published_at is None
    assert doc.text == (FIXTURES / "notes-from-the-road.md").read_text()


def test_plain_text_without_heading_is_titled_by_its_file_name():
    [doc] = read(FIXTURES / "thank-you.txt").documents
    assert doc.title == "thank-you"
    assert doc.meta["format"] == "text"
    assert doc.text == (FIXTURES / "thank-you.txt").read_text()


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("2020-01-02", datetime(2020, 1, 2)),
        ("'2020-01-02'", datetime(2020, 1, 2)),
        ("2020-01-02T10:00:00Z", datetime(2020, 1, 2, 10)),
        ("2020-01-02 10:00:00 -0500", datetime(2020, 1, 2, 15)),
        ("January 2, 2020", datetime(2020, 1, 2)),
        ("Thu, 02 Jan 2020 10:00:00 +0000", datetime(2020, 1, 2, 10)),
    ],
)
def test_dates_in_many_forms(tmp_path, written, stored):
    path = write(tmp_path, "post.md", f"---\ntitle: A post\ndate: {written}\n---\nBody.\n")
    [doc] = read(path).documents
    assert doc.published_at == stored


@pytest.mark.parametrize("key", ["pubDate", "publishDate", "publish_date", "datePublished"])
def test_the_date_keys_of_astro_hugo_and_schema_org_are_read(tmp_path, key):
    path = write(tmp_path, "post.mdx", f"---\ntitle: A post\n{key}: 2023-04-05\n---\nBody.\n")
    [doc] = read(path).documents
    assert doc.published_at == datetime(2023, 4, 5)


def test_unreadable_date_leaves_a_note(tmp_path):
    path = write(tmp_path, "post.md", "---\ndate: sometime in spring\n---\nBody.\n")
    result = read(path)
    assert result.documents[0].published_at is None
    assert any("sometime in spring" in note for note in result.notes)


def test_bad_yaml_front_matter_names_file_and_line(tmp_path):
    path = write(tmp_path, "post.md", "---\ntitle: Fine\ntags: [a, b\nauthor: Ana\n---\nBody.\n")
    with pytest.raises(SourceError) as caught:
        read(path)
    assert caught.value.path == str(path)
    assert caught.value.line in (3, 4)
    assert "YAML" in str(caught.value)


def test_bad_toml_front_matter_names_file_and_line(tmp_path):
    path = write(tmp_path, "post.md", '+++\ntitle = "Fine"\ndate = not a date\n+++\nBody.\n')
    with pytest.raises(SourceError) as caught:
        read(path)
    assert caught.value.line == 3
    assert "TOML" in str(caught.value)


def test_front_matter_that_never_closes_is_refused(tmp_path):
    path = write(tmp_path, "post.md", "---\ntitle: Fine\n\nBody without a closing line.\n")
    with pytest.raises(SourceError, match="never closed") as caught:
        read(path)
    assert caught.value.line == 1


def test_front_matter_that_is_not_key_value_is_refused(tmp_path):
    path = write(tmp_path, "post.md", "---\n- just\n- a list\n---\nBody.\n")
    with pytest.raises(SourceError, match="not `key: value`"):
        read(path)


def test_front_matter_without_body_is_skipped_and_counted(tmp_path):
    path = write(tmp_path, "stub.md", "---\ntitle: Coming soon\n---\n\n")
    result = read(path)
    assert result.documents == []
    assert result.skipped == {"no text": 1}


def test_empty_and_binary_files_are_refused(tmp_path):
    with pytest.raises(SourceError, match="empty"):
        read(write(tmp_path, "empty.md", ""))
    with pytest.raises(SourceError, match="binary"):
        read(write(tmp_path, "photo.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))


def test_latin_1_post_is_read_with_a_note(tmp_path):
    path = write(tmp_path, "cafe.txt", "Le café du coin a rouvert.\nÀ bientôt !\n".encode("latin-1"))
    result = read(path)
    assert result.documents[0].text == "Le café du coin a rouvert.\nÀ bientôt !\n"
    assert "Windows-1252" in result.notes[0]


def test_folder_of_posts_is_keyed_by_relative_path(tmp_path):
    write(tmp_path, "blog/2021/spring-appeal.md", (FIXTURES / "spring-appeal.md").read_text())
    write(tmp_path, "blog/2022/volunteer-day.md", (FIXTURES / "volunteer-day.md").read_text())
    write(tmp_path, "blog/thanks.txt", (FIXTURES / "thank-you.txt").read_text())
    summary, pairs = read_source(tmp_path / "blog")
    keys = sorted(doc.source_key for _, doc in pairs)
    assert keys == ["2021/spring-appeal.md", "2022/volunteer-day.md", "thanks.txt"]
    assert summary.format == "markdown"


def test_transcripts_in_a_folder_of_posts_are_read_as_turns(tmp_path):
    write(tmp_path, "site/post.md", (FIXTURES / "spring-appeal.md").read_text())
    write(tmp_path, "site/episode-12.md", (FIXTURES / "episode-12.md").read_text())
    _, pairs = read_source(tmp_path / "site")
    kinds = sorted((doc.kind, doc.source_key) for _, doc in pairs)
    assert kinds[0] == ("post", "post.md")
    assert [k for k, _ in kinds[1:]] == ["transcript_turn"] * 4
    assert ("transcript_turn", "episode-12.md#turn-0") in kinds


def test_a_post_without_a_date_takes_the_one_in_its_path(tmp_path):
    write(tmp_path, "site/_posts/2019-07-04-summer-fair.md", "---\ntitle: Summer fair\n---\nStalls and music.\n")
    write(tmp_path, "site/2024/05/17/bundle/index.md", "# Page bundle\n\nText.\n")
    write(tmp_path, "site/_posts/2018-02-01-dated.md", "---\ndate: 2021-06-01\n---\nThe front matter wins.\n")
    write(tmp_path, "site/notes/2024-13-45-not-a-date.md", "Nothing to take.\n")
    write(tmp_path, "site/notes/2023-02-30-no-such-day.md", "Nor here.\n")
    _, pairs = read_source(tmp_path / "site")
    docs = {doc.source_key: doc for _, doc in pairs}
    assert docs["_posts/2019-07-04-summer-fair.md"].published_at == datetime(2019, 7, 4)
    assert docs["_posts/2019-07-04-summer-fair.md"].meta["date_from"] == "path"
    assert docs["2024/05/17/bundle/index.md"].published_at == datetime(2024, 5, 17)
    assert docs["_posts/2018-02-01-dated.md"].published_at == datetime(2021, 6, 1)
    assert "date_from" not in docs["_posts/2018-02-01-dated.md"].meta
    assert docs["notes/2024-13-45-not-a-date.md"].published_at is None
    assert docs["notes/2023-02-30-no-such-day.md"].published_at is None
    # Without a title or heading, a Jekyll file name gives its slug, not its date.
    write(tmp_path, "other/_posts/2020-01-05-hello-world.md", "Just text.\n")
    [(_, doc)] = read_source(tmp_path / "other")[1]
    assert doc.title == "hello-world"


def test_authors_under_by_or_creator_are_read(tmp_path):
    by = read(write(tmp_path, "go.md", "---\ntitle: Go 1.21 is released!\nby:\n- Eli Bendersky\n- Ana Lee\n---\nText.\n"))
    assert by.documents[0].author == "Eli Bendersky & Ana Lee"
    creator = read(write(tmp_path, "c.md", "---\ncreator: Noor Haddad\n---\nText.\n"))
    assert creator.documents[0].author == "Noor Haddad"


def test_a_site_folder_gives_its_posts_and_counts_the_files_that_are_not_writing(tmp_path):
    site = tmp_path / "site"
    write(site, "content/posts/trip/index.md", "---\ntitle: Trip\ndate: 2022-05-01\n---\nWe drove north for three days.\n")
    write(site, "content/posts/trip/cover.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4)
    write(site, "content/about.md", "Who we are and what we do.\n")
    write(site, "netlify.toml", '[build]\npublish = "public"\n')
    write(site, "static/site.css", "body { color: #333 }\n")
    write(site, "data/authors.json", '{"authors": ["Ana"]}\n')
    write(site, "package.json", '{\n  "name": "trips",\n  "private": true\n}\n')  # one JSON document, not JSON lines
    write(site, "static/blank.txt", "")
    write(site, "node_modules/left-pad/README.md", "# left-pad\n\nPads a string on the left.\n")
    seen = []
    summary, pairs = read_source(site, on_file=lambda done, total: seen.append((done, total)))
    assert seen == [(n, 8) for n in range(8)]  # (what a progress bar shows: every visible file, in turn)
    assert sorted(doc.source_key for _, doc in pairs) == ["content/about.md", "content/posts/trip/index.md"]
    assert summary.format == "markdown"
    assert summary.files == 2
    assert dict(summary.skipped) == {"binary file": 1, "unknown format": 3, "no text column": 1, "empty file": 1}
    said = "\n".join(summary.notes)
    for name in ("cover.jpg: not text", "netlify.toml: in no format", "site.css: in no format", "package.json: in no format",
                 "authors.json: a table with no text column", "blank.txt: empty"):
        assert name in said, said
    assert "left-pad" not in said  # a package folder is no part of the site's writing


def write_all(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        write(root, name, content)


def test_a_hugo_site_is_read_from_its_content_folder_not_its_built_pages_and_templates(tmp_path):
    site = tmp_path / "blog"
    write_all(site, {
        "hugo.toml": 'baseURL = "https://example.org"\n',
        "README.md": "# blog\n\nRun `hugo server` to preview.\n",
        "content/posts/trip.md": "---\ntitle: Trip\ndate: 2022-05-01\n---\nWe drove north for three days.\n",
        "content/posts/wip.md": "---\ntitle: Later\ndraft: true\n---\nNot yet.\n",
        "public/posts/trip/index.html": "<html><body><h1>Trip</h1><p>We drove north for three days.</p></body></html>",
        "public/index.html": "<html><body><ul><li><a href=/posts/trip/>Trip</a></li></ul></body></html>",
        "layouts/_default/single.html": "<article><h1>{{ .Title }}</h1>{{ .Content }}</article>\n",
        "archetypes/default.md": '---\ntitle: "{{ replace .Name "-" " " | title }}"\ndraft: true\n---\n',
        "themes/ananke/exampleSite/content/about.md": "An example page of the theme.\n",
        "content/posts/_index.md": "---\ntitle: Posts\n---\nEverything we wrote.\n",
        "content/posts/trip-map.pdf": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n",  # a post's download, not a post
    })
    summary, pairs = read_source(site)
    assert [doc.source_key for _, doc in pairs] == ["content/posts/_index.md", "content/posts/trip.md", "content/posts/wip.md"]
    assert [(doc.status, doc.kind) for _, doc in pairs] == [(None, "page"), (None, "post"), ("draft", "post")]
    assert summary.skipped == {"site files, not writing": 7, "site attachment": 1}
    assert "a Hugo site (hugo.toml): only content/ read; 7 other files are not writing" in summary.notes[0]
    assert any("trip-map.pdf: a document among a site's pages" in note for note in summary.notes)


def test_a_jekyll_site_leaves_out_its_built_site_templates_and_repository_files_and_reads_drafts_as_drafts(tmp_path):
    site = tmp_path / "jekyll"
    write_all(site, {
        "_config.yml": "title: Notes\n",
        "README.md": "# notes\n\nbundle exec jekyll serve\n",
        "LICENSE.txt": "MIT License\n\nPermission is hereby granted, free of charge...\n",
        "about.md": "---\nlayout: page\ntitle: About\n---\nI write about bread.\n",
        "_posts/2021-03-04-sourdough.md": "---\ntitle: Sourdough\n---\nFeed the starter twice a day.\n",
        "_drafts/rye.md": "---\ntitle: Rye\n---\nRye needs less water than you think.\n",
        "_site/2021/03/04/sourdough.html": "<html><body><p>Feed the starter twice a day.</p></body></html>",
        "_layouts/post.html": "<article>{{ content }}</article>\n",
        "_includes/footer.html": "<footer>© {{ site.time | date: '%Y' }}</footer>\n",
    })
    summary, pairs = read_source(site)
    docs = {doc.source_key: doc for _, doc in pairs}
    assert sorted(docs) == ["_drafts/rye.md", "_posts/2021-03-04-sourdough.md", "about.md"]
    assert docs["_drafts/rye.md"].status == "draft" and docs["about.md"].status is None
    assert summary.skipped == {"site files, not writing": 6}
    assert "a Jekyll site (_config.yml): _site/, _layouts/, _includes/ (its built pages and templates)" in summary.notes[0]
    # Named on its own, a built folder is read as the user asks.
    _, built = read_source(site / "_site")
    assert [doc.source_key for _, doc in built] == ["2021/03/04/sourdough.html"]


def test_a_linked_folder_is_read_once_and_a_link_back_up_does_not_loop(tmp_path):
    shared = tmp_path / "shared-posts"
    write(shared, "essay.md", "An essay kept outside the site.\n")
    site = tmp_path / "site"
    write(site, "about.md", "About us.\n")
    (site / "posts").symlink_to(shared, target_is_directory=True)
    (site / "again").symlink_to(shared, target_is_directory=True)
    (shared / "up").symlink_to(site, target_is_directory=True)
    _, pairs = read_source(site)
    keys = [doc.source_key for _, doc in pairs]
    assert keys in (["about.md", "again/essay.md"], ["about.md", "posts/essay.md"])


def test_a_docusaurus_blog_of_mdx_posts_is_read_without_its_build(tmp_path):
    site = tmp_path / "docs-site"
    write(site, "docusaurus.config.js", "module.exports = { title: 'Garden' };\n")
    write(site, "blog/2024-05-01-launch.mdx", "---\ntitle: Launch\n---\nimport X from './x';\n\nWe launched.\n")
    write(site, "build/blog/launch/index.html", "<html><body><p>We launched.</p></body></html>")
    summary, [(_, doc)] = read_source(site)
    assert (doc.source_key, doc.title, doc.meta["format"]) == ("blog/2024-05-01-launch.mdx", "Launch", "mdx")
    assert doc.published_at == datetime(2024, 5, 1)
    assert summary.skipped == {"site files, not writing": 2}


def test_author_keys_are_names_where_the_site_keeps_an_authors_file(tmp_path):
    site = tmp_path / "site"
    write(site, "docusaurus.config.js", "module.exports = {};\n")
    write(site, "blog/authors.yml", "slorber:\n  name: Sébastien Lorber\n  title: Maintainer\nana: Ana Lima\n")
    write(site, "blog/2024-01-02-hello.md", "---\nauthors: [slorber, ana]\n---\nHello.\n")
    write(site, "blog/2024-02-03-solo.md", "---\nauthors: guest\n---\nA guest post.\n")
    jekyll = tmp_path / "jekyll"
    write(jekyll, "_config.yml", "title: x\n")
    write(jekyll, "_data/authors.yml", "jdoe:\n  name: Jane Doe\n")
    write(jekyll, "_posts/2020-01-05-a.md", "---\nauthor: jdoe\n---\nA post.\n")
    docs = {doc.source_key: doc for _, doc in read_source(site)[1]}
    assert docs["blog/2024-01-02-hello.md"].author == "Sébastien Lorber & Ana Lima"
    assert docs["blog/2024-01-02-hello.md"].meta["authors"] == ["Sébastien Lorber", "Ana Lima"]
    assert docs["blog/2024-02-03-solo.md"].author == "guest"  # a key the file does not hold stays as written
    [(_, post)] = read_source(jekyll)[1]
    assert post.author == "Jane Doe"


def test_a_common_config_name_alone_makes_no_site_and_a_site_with_nothing_to_read_is_an_error(tmp_path):
    project = tmp_path / "notes"
    write(project, "config.toml", "[tool]\nname = 'x'\n")
    write(project, "public/essay.md", "An essay that lives in a folder named public.\n")
    _, pairs = read_source(project)  # no content/ folder beside config.toml: not a Hugo site
    assert [doc.source_key for _, doc in pairs] == ["public/essay.md"]
    empty = tmp_path / "empty-site"
    write(empty, "mkdocs.yml", "site_name: Docs\n")
    write(empty, "docs/.gitkeep", "")
    write(empty, "site/index.html", "<html><body><p>Built.</p></body></html>")
    with pytest.raises(SourceError, match=r"empty-site: the folder holds no files that may be writing"):
        read_source(empty)


def test_files_that_are_not_writing_are_refused_when_named_and_a_folder_of_only_them_is_an_error(tmp_path):
    site = tmp_path / "site"
    image = write(site, "images/logo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 8)
    config = write(site, "settings.yml", "title: My site\n")
    table = write(tmp_path / "tables", "authors.json", '{"authors": ["Ana"]}\n')
    with pytest.raises(SourceError, match=r"logo\.png: this is a binary file"):
        read_source(image)
    with pytest.raises(SourceError, match=r"logo\.png: this is a binary file"):
        read_source(image, fmt="markdown")  # a forced format does not make an image text
    with pytest.raises(SourceError, match=r"settings\.yml: cannot tell what format"):
        read_source(config)
    with pytest.raises(SourceError, match=r"authors\.json: no text column"):
        read_source(table)
    with pytest.raises(SourceError, match=r"site: no file in the folder holds writing .*1 binary file, 1 unknown format"):
        read_source(site)
    # A mapping says the tables are meant to be read: one that lacks the column is an error, not a skip.
    with pytest.raises(SourceError, match=r"--map text=body: there is no column 'body'"):
        read_source(table.parent, mapping={"text": "body"})
    # A forced format reads every text file of the folder as that format, and still passes over the image.
    summary, pairs = read_source(site, fmt="markdown")
    assert [doc.source_key for _, doc in pairs] == ["settings.yml"]
    assert dict(summary.skipped) == {"binary file": 1}


def test_a_zip_export_is_read_as_the_folder_it_holds_with_stable_keys(tmp_path, workspace):
    import zipfile

    from housevoice.ingest import ingest_sources

    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("blog/posts/trip.md", "---\ntitle: Trip\n---\nWe drove north.\n")
        zf.writestr("blog/posts/cover.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)))
        zf.writestr("blog/old.zip", b"PK\x03\x04" + bytes(40))
        zf.writestr("../escape.md", "A member that tries to leave the folder.\n")
    summary, pairs = read_source(archive)
    keys = sorted(doc.source_key for _, doc in pairs)
    assert keys == ["blog/posts/trip.md", "escape.md"]  # (zipfile writes `..` members inside the folder)
    assert summary.source == "export.zip" and {source for source, _ in pairs} == {"markdown:export.zip"}
    assert dict(summary.skipped) == {"binary file": 1, "archive": 1}
    assert any(note.startswith(f"{archive}/blog/old.zip: an archive") for note in summary.notes), summary.notes
    first = ingest_sources(workspace, [archive]).sources[0]
    again = ingest_sources(workspace, [archive]).sources[0]
    assert (first.new, again.new, again.unchanged) == (2, 0, 2)  # the same record_ids from a second unpacking


def test_a_broken_or_oversized_archive_is_refused_with_its_name(tmp_path, monkeypatch):
    import zipfile

    import housevoice.ingest as ingest

    empty = tmp_path / "empty.zip"
    zipfile.ZipFile(empty, "w").close()
    with pytest.raises(SourceError, match=r"empty\.zip: the archive holds no files"):
        read_source(empty)
    broken = tmp_path / "cut.zip"
    broken.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(SourceError, match=r"cut\.zip: not a zip archive that can be read"):
        read_source(broken)
    big = tmp_path / "big.zip"
    with zipfile.ZipFile(big, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.md", "words " * 2000)
    monkeypatch.setattr(ingest, "MAX_ARCHIVE_BYTES", 1000)
    with pytest.raises(SourceError, match=r"big\.zip: the archive unpacks to .* unpack it yourself"):
        read_source(big)
    inner = tmp_path / "bad.zip"
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("feed/broken.xml", '<?xml version="1.0"?>\n<rss version="2.0"><channel><item><title>x')
    with pytest.raises(SourceError) as caught:
        read_source(inner)
    assert str(caught.value).startswith(f"{inner}/feed/broken.xml") and "housevoice-archive-" not in str(caught.value)


def test_zip_exports_in_a_folder_are_read_each_under_its_own_name(tmp_path, workspace):
    import zipfile

    from housevoice.ingest import ingest_sources

    folder = tmp_path / "exports"
    folder.mkdir()
    write(folder, "notes.md", "A note kept beside the exports.\n")
    with zipfile.ZipFile(folder / "blog.zip", "w") as zf:
        zf.writestr("posts/a.md", "---\ntitle: A\n---\nThe first post.\n")
        zf.writestr("posts/b.md", "---\ntitle: B\n---\nThe second post.\n")
    with zipfile.ZipFile(folder / "photos.zip", "w") as zf:
        zf.writestr("beans.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)))
    (folder / "2024").mkdir()
    (folder / "2024" / "blog.zip").write_bytes((folder / "blog.zip").read_bytes())  # next year's export, same name
    summary, pairs = read_source(folder)
    assert sorted((source, doc.source_key) for source, doc in pairs) == [
        ("markdown:exports", "notes.md"),
        ("markdown:exports/2024/blog.zip", "posts/a.md"), ("markdown:exports/2024/blog.zip", "posts/b.md"),
        ("markdown:exports/blog.zip", "posts/a.md"), ("markdown:exports/blog.zip", "posts/b.md"),
    ]
    assert summary.files == 5 and summary.skipped["archive without writing"] == 1
    first = ingest_sources(workspace, [folder]).sources[0]
    again = ingest_sources(workspace, [folder]).sources[0]
    assert (first.new, again.new, again.unchanged) == (5, 0, 5)  # every unpacking gives the same record_ids
    (folder / "cut.zip").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(SourceError, match=r"cut\.zip: not a zip archive that can be read"):
        read_source(folder)
    summary, _ = read_source(folder, skip_broken=True)
    assert summary.skipped["broken file"] == 1 and "cut.zip" in summary.broken[0]


def test_a_folders_readme_and_license_are_not_posts_but_a_post_named_like_them_in_lower_case_is(tmp_path):
    folder = tmp_path / "exports"
    write_all(folder, {
        "README.md": "# Blog exports\n\nEach file is one post, exported from our old CMS in 2021.\n",
        "LICENSE": "Copyright 2021 Acme. All rights reserved. Permission is hereby granted to read.\n",
        "2021/CONTRIBUTING.md": "Send a pull request with your post.\n",
        "2021/SECURITY.md": "Report a vulnerability to security@acme.example.\n",
        "2021/security.md": "---\ntitle: How we think about security\n---\nWe patch on Tuesdays and tell you what changed.\n",
        "2021/readme-first.md": "---\ntitle: Read me first\n---\nA post whose name only opens with the word.\n",
    })
    summary, pairs = read_source(folder)
    assert sorted(doc.source_key for _, doc in pairs) == ["2021/readme-first.md", "2021/security.md"]
    assert dict(summary.skipped) == {"repository file": 4}
    assert any("README.md: a README, LICENSE or the like" in note for note in summary.notes)
    # Named on its own, a README is read: the user asked for it.
    _, pairs = read_source(folder / "README.md")
    assert [doc.source_key for _, doc in pairs] == ["README.md"]


NOTION_PAGE = """# Why we write in public

Created: January 5, 2024 3:04 PM
Created by: Maya Chen
Last edited time: February 1, 2024 9:00 AM
Published: Yes
Status: Published
Tags: Culture, Writing

We started the blog to think out loud.

Status: it works. Readers write back.
"""


def test_a_notion_export_page_gives_its_title_and_properties_not_as_text(tmp_path):
    path = write(tmp_path, "Blog/Why we write in public 1a2b3c4d5e6f78901a2b3c4d5e6f7890.md", NOTION_PAGE)
    [doc] = read(path).documents
    assert doc.title == "Why we write in public"
    assert doc.text == "We started the blog to think out loud.\n\nStatus: it works. Readers write back.\n"
    assert doc.author == "Maya Chen" and doc.published_at == datetime(2024, 1, 5, 15, 4) and doc.status == "Published"
    assert doc.meta["tags"] == ["Culture", "Writing"] and doc.meta["format"] == "notion"
    # A page outside a database has no properties: its first lines after the title are its text.
    plain = write(tmp_path, "Notes 00112233445566778899aabbccddeeff.md", "# Notes\n\nNote: bring the ladder.\nThen paint.\n")
    [doc] = read(plain).documents
    assert doc.title == "Notes" and doc.text == "Note: bring the ladder.\nThen paint.\n"
    # The same lines in a file Notion did not name are the post's own.
    other = write(tmp_path, "why.md", NOTION_PAGE)
    [doc] = read(other).documents
    assert doc.text.startswith("# Why we write in public\n\nCreated: January 5, 2024")


def test_published_true_is_a_status_not_an_unreadable_date(tmp_path):
    result = read(write(tmp_path, "p.md", "---\ntitle: P\npublished: true\n---\nWords.\n"))
    assert result.documents[0].status == "publish" and result.documents[0].published_at is None
    assert not result.notes


def test_a_hugo_sites_authors_are_named_by_its_author_pages_and_data_files(tmp_path):
    site = tmp_path / "hugo"
    write_all(site, {
        "hugo.toml": 'baseURL = "https://example.org"\n',
        "content/authors/jane-doe/_index.md": "---\ntitle: Jane Doe\nrole: Editor\n---\nJane edits the blog.\n",
        "content/authors/kim/_index.md": "---\nname:\n  given: Kim\n  family: Park\n---\nKim writes about tools.\n",
        "data/authors/bo.yaml": "name: Bo Chen\n",
        "content/post/spring/index.md": "---\ntitle: Spring\nauthors: [jane-doe, bo]\n---\nThe beds are ready.\n",
        "content/post/tools.md": "---\ntitle: Tools\nauthors: [kim, someone-else]\n---\nWe use boring tools.\n",
    })
    _, pairs = read_source(site)
    by_key = {doc.source_key: doc for _, doc in pairs}
    assert by_key["content/post/spring/index.md"].author == "Jane Doe & Bo Chen"
    assert by_key["content/post/tools.md"].author == "Kim Park & someone-else"  # a key no page names stays as written
