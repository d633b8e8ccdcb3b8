"""An EPUB book (an organization's guide, handbook or collected essays): one record per chapter.

An .epub file is a zip archive: META-INF/container.xml names the package document (OPF), whose
metadata gives the title, authors and date and whose spine gives the chapters in reading order, each
an XHTML file. Chapters are read as HTML (the cleaners make text of it); what is not the writer's
running text is passed over and counted: the table of contents, the cover, the title and copyright
pages (by their `epub:type`, or the older guide's references), and items kept out of the reading order.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from pathlib import Path
from urllib.parse import unquote

from lxml import etree, html as lxml_html

from housevoice.errors import SourceError
from housevoice.ingest.base import Document, ReadResult, parse_written_datetime

FORMAT = "epub"
SUFFIXES = (".epub",)
BINARY = True

_OPF = "{http://www.idpf.org/2007/opf}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"
# Pages of a book that are not its writing: by `epub:type` (EPUB 3) or guide reference type (EPUB 2).
NOT_WRITING_TYPES = {
    "cover", "toc", "titlepage", "title-page", "copyright-page", "copyright", "landmarks", "loi", "lot",
    "halftitlepage", "colophon", "index", "imprint", "imprimatur",
}
NOT_WRITING = "not writing (contents, cover, title or copyright page)"
NO_TEXT = "chapter with no text"
_SECURE = etree.XMLParser(resolve_entities=False, no_network=True, recover=False)


def sniff(path: Path, head: bytes) -> bool:
    # (The book's first member is its uncompressed mimetype.)
    return path.suffix.lower() in SUFFIXES and head.startswith(b"PK\x03\x04") and b"application/epub+zip" in head[:100]


def _xml(book: zipfile.ZipFile, name: str, path: Path):
    try:
        return etree.fromstring(book.read(name), _SECURE)
    except KeyError:
        raise SourceError(path, f"the book has no {name}") from None
    except etree.XMLSyntaxError as exc:
        raise SourceError(path, f"{name} is not well-formed XML ({exc.msg})", line=exc.lineno) from None


def _text(element) -> str:
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


def _date(metadata, path: Path):
    value = _text(metadata.find(f"{_DC}date"))
    if not value:
        return None
    if re.fullmatch(r"\d{4}", value):  # a year alone: the year's first day, not today's day of it
        value += "-01-01"
    try:
        return parse_written_datetime(value)
    except ValueError:
        raise SourceError(path, f"the book's date is unreadable: {value!r}") from None


def _skipped(result: ReadResult, why: str) -> None:
    result.skipped[why] = result.skipped.get(why, 0) + 1


def read(path: Path, *, key: str, mapping: dict[str, str] | None = None) -> ReadResult:
    """Each chapter of the book's reading order as a record (kind `chapter`, keyed `<key>#<chapter file>`),
    its HTML as text; title: the chapter's first heading; author, date and the book's title (meta) from
    the package document."""
    path = Path(path)
    try:
        book = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SourceError(path, f"not an EPUB book that can be read ({exc})") from None
    with book:
        names = set(book.namelist())
        if "META-INF/encryption.xml" in names:
            encrypted = _xml(book, "META-INF/encryption.xml", path)
            # (Fonts alone may be obfuscated in a book without DRM; encrypted chapters cannot be read.)
            refs = [ref.get("URI", "") for ref in encrypted.iter("{http://www.w3.org/2001/04/xmlenc#}CipherReference")]
            if any(ref.lower().endswith((".xhtml", ".html", ".htm")) for ref in refs):
                raise SourceError(path, "the book is protected by DRM (its chapters are encrypted)", hint="export a copy without DRM")
        container = _xml(book, "META-INF/container.xml", path)
        rootfile = next((e.get("full-path") for e in container.iter() if e.tag.endswith("rootfile") and e.get("full-path")), None)
        if not rootfile:
            raise SourceError(path, "META-INF/container.xml names no package document")
        package = _xml(book, rootfile, path)
        base = posixpath.dirname(rootfile)
        metadata = package.find(f"{_OPF}metadata")
        if metadata is None:
            metadata = etree.Element("metadata")
        book_title = _text(metadata.find(f"{_DC}title")) or path.stem
        authors = [name for name in (_text(e) for e in metadata.findall(f"{_DC}creator")) if name]
        published = _date(metadata, path)
        manifest = {
            item.get("id"): item for item in package.iterfind(f"{_OPF}manifest/{_OPF}item") if item.get("id") and item.get("href")
        }
        guide = {
            unquote(ref.get("href", "")).split("#")[0]
            for ref in package.iterfind(f"{_OPF}guide/{_OPF}reference")
            if ref.get("type", "").lower() in NOT_WRITING_TYPES
        }
        result = ReadResult(documents=[])
        chapters = 0
        for itemref in package.iterfind(f"{_OPF}spine/{_OPF}itemref"):
            item = manifest.get(itemref.get("idref"))
            if item is None or "html" not in (item.get("media-type") or ""):
                continue
            href = unquote(item.get("href"))
            member = posixpath.normpath(posixpath.join(base, href)) if base else href
            if (
                itemref.get("linear") == "no"
                or "nav" in (item.get("properties") or "").split()
                or href in guide
            ):
                _skipped(result, NOT_WRITING)
                continue
            try:
                page = lxml_html.document_fromstring(book.read(member))
            except KeyError:
                raise SourceError(path, f"the reading order names {member}, which the book does not hold") from None
            except (etree.ParserError, ValueError):
                _skipped(result, NO_TEXT)
                continue
            body = page.find("body")
            body = body if body is not None else page
            types = {t for e in (body, *body.iterchildren()) for t in (e.get("epub:type") or e.get(_EPUB_TYPE) or "").split()}
            if types & NOT_WRITING_TYPES:
                _skipped(result, NOT_WRITING)
                continue
            if not _text(body):
                _skipped(result, NO_TEXT)
                continue
            chapters += 1
            heading = next((_text(h) for h in body.iter("h1", "h2", "h3") if _text(h)), "")
            title = heading or _text(page.find(".//title")) or f"{book_title}, part {chapters}"
            text = (body.text or "") + "".join(lxml_html.tostring(child, encoding="unicode") for child in body)
            meta = {"format": "epub", "book": book_title, "chapter": chapters}
            language = _text(metadata.find(f"{_DC}language"))
            if language:
                meta["lang"] = language
            if len(authors) > 1:
                meta["authors"] = authors
            result.documents.append(
                Document(
                    source_key=f"{key}#{href}",
                    text=text,
                    kind="chapter",
                    author=" & ".join(authors) or None,
                    title=title,
                    published_at=published,
                    status="publish",
                    meta=meta,
                )
            )
    if not result.documents and not result.skipped:
        raise SourceError(path, "the book's reading order holds no chapters")
    return result
