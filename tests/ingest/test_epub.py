"""EPUB books: a record per chapter in reading order, without contents, cover and copyright pages."""

from __future__ import annotations

import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from housevoice.curate.clean import clean_text
from housevoice.errors import SourceError
from housevoice.ingest import epub, read_source

CONTAINER = """<?xml version="1.0"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles>
</container>"""

PACKAGE = """<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="uid">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
    <dc:identifier id="uid">urn:uuid:1</dc:identifier>
    <dc:title>The Field Guide to Compost</dc:title>
    <dc:creator>Maya Chen</dc:creator>
    <dc:creator>Tom Berg</dc:creator>
    <dc:date>{date}</dc:date>
    <dc:language>en</dc:language>
  </metadata>
  <manifest>
    <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
    <item id="cover" href="cover.xhtml" media-type="application/xhtml+xml"/>
    <item id="rights" href="text/rights.xhtml" media-type="application/xhtml+xml"/>
    <item id="c1" href="text/chapter%201.xhtml" media-type="application/xhtml+xml"/>
    <item id="c2" href="text/chapter2.xhtml" media-type="application/xhtml+xml"/>
    <item id="notes" href="text/notes.xhtml" media-type="application/xhtml+xml"/>
    <item id="css" href="style.css" media-type="text/css"/>
  </manifest>
  <spine>
    <itemref idref="cover"/><itemref idref="nav"/><itemref idref="rights"/>
    <itemref idref="c1"/><itemref idref="c2"/><itemref idref="notes" linear="no"/><itemref idref="css"/>
  </spine>
  <guide><reference type="cover" href="cover.xhtml" title="Cover"/></guide>
</package>"""


def page(body: str, title: str = "Chapter") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops">'
        f"<head><title>{title}</title></head><body>{body}</body></html>"
    )


CHAPTERS = {
    "OEBPS/nav.xhtml": page('<nav epub:type="toc"><ol><li><a href="text/chapter%201.xhtml">Why compost</a></li></ol></nav>'),
    "OEBPS/cover.xhtml": page('<div><img src="cover.jpg" alt="Cover"/></div>'),
    "OEBPS/text/rights.xhtml": page('<section epub:type="copyright-page"><p>© 2023 Compost Co. All rights reserved.</p></section>'),
    "OEBPS/text/chapter 1.xhtml": page(
        '<section epub:type="chapter"><h1>Why compost</h1><p>Compost feeds the beds all year.</p>'
        '<p>We turn it <em>every</em> week, and we <a href="https://compost.example/turning">write down</a> why.</p></section>'
    ),
    "OEBPS/text/chapter2.xhtml": page("<h2>Turning the heap</h2><ul><li>Fork it over.</li><li>Water it.</li></ul>", "Two"),
    "OEBPS/text/notes.xhtml": page("<p>Notes kept out of the reading order.</p>"),
    "OEBPS/style.css": "p { margin: 0 }",
}


def book(path: Path, files: dict[str, str] = CHAPTERS, *, date: str = "2023-04-02", extra: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")  # first and stored, as the format asks
        zf.writestr("META-INF/container.xml", CONTAINER)
        zf.writestr("OEBPS/content.opf", PACKAGE.format(date=date))
        for name, content in {**files, **(extra or {})}.items():
            zf.writestr(name, content, compress_type=zipfile.ZIP_DEFLATED)
    return path


def test_a_book_gives_its_chapters_in_reading_order(tmp_path):
    summary, pairs = read_source(book(tmp_path / "field-guide.epub"))
    docs = [doc for _, doc in pairs]
    assert [d.source_key for d in docs] == ["field-guide.epub#text/chapter 1.xhtml", "field-guide.epub#text/chapter2.xhtml"]
    first, second = docs
    assert first.kind == "chapter" and first.title == "Why compost" and second.title == "Turning the heap"
    assert first.author == "Maya Chen & Tom Berg" and first.published_at == datetime(2023, 4, 2)
    assert first.meta == {"format": "epub", "book": "The Field Guide to Compost", "chapter": 1, "lang": "en",
                          "authors": ["Maya Chen", "Tom Berg"]}
    assert clean_text(first.text) == "# Why compost\n\nCompost feeds the beds all year.\n\nWe turn it every week, and we write down why."
    assert clean_text(second.text) == "## Turning the heap\n\n- Fork it over.\n- Water it."
    # The contents, cover, copyright page and the notes kept out of the reading order are counted, not read.
    assert summary.skipped == {epub.NOT_WRITING: 4}
    assert summary.format == "epub"


def test_a_year_alone_is_the_years_first_day(tmp_path):
    _, pairs = read_source(book(tmp_path / "b.epub", date="2019"))
    assert pairs[0][1].published_at == datetime(2019, 1, 1)


def test_broken_books_are_refused_with_the_reason(tmp_path):
    cut = tmp_path / "cut.epub"
    cut.write_bytes(book(tmp_path / "whole.epub").read_bytes()[:300])
    with pytest.raises(SourceError, match="cut.epub: not an EPUB book that can be read"):
        read_source(cut)
    missing = {k: v for k, v in CHAPTERS.items() if "chapter2" not in k}
    with pytest.raises(SourceError, match="the reading order names OEBPS/text/chapter2.xhtml, which the book does not hold"):
        read_source(book(tmp_path / "missing.epub", missing))
    with pytest.raises(SourceError, match="the book's date is unreadable: 'soon'"):
        read_source(book(tmp_path / "date.epub", date="soon"))
    drm = book(tmp_path / "drm.epub", extra={"META-INF/encryption.xml": (
        '<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" xmlns:enc="http://www.w3.org/2001/04/xmlenc#">'
        '<enc:EncryptedData><enc:CipherData><enc:CipherReference URI="OEBPS/text/chapter2.xhtml"/></enc:CipherData>'
        "</enc:EncryptedData></encryption>")})
    with pytest.raises(SourceError, match="protected by DRM"):
        read_source(drm)


def test_a_book_in_a_folder_of_posts_is_read_beside_them(tmp_path):
    folder = tmp_path / "writing"
    folder.mkdir()
    book(folder / "guide.epub")
    (folder / "post.md").write_text("---\ntitle: Spring\n---\nThe beds are ready.\n", encoding="utf-8")
    summary, pairs = read_source(folder)
    assert sorted(doc.kind for _, doc in pairs) == ["chapter", "chapter", "post"]
    assert summary.format == "epub, markdown"
