"""OpenDocument text (.odt: LibreOffice, and Google Docs' "Download as ODT"): a post, or a transcript.

An .odt file is a zip archive whose content.xml holds the text; read with lxml, as docx is read with
python-docx: paragraphs in markdown shape (headings as `#`, list items as `- `, tables as `| a | b |`
rows, links as `[text](address)`), title, author and creation date from meta.xml where the text gives
none; a document whose lines carry speaker labels is read as transcript turns.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from lxml import etree

from housevoice.errors import SourceError
from housevoice.ingest import markdown
from housevoice.ingest.base import ReadResult, parse_datetime

FORMAT = "odt"
SUFFIXES = (".odt",)
BINARY = True

_NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "xlink": "http://www.w3.org/1999/xlink",
    "dc": "http://purl.org/dc/elements/1.1/",
    "meta": "urn:oasis:names:tc:opendocument:xmlns:meta:1.0",
}
_TEXT = "{%s}" % _NS["text"]
_TABLE = "{%s}" % _NS["table"]
# Inside a paragraph: what is not the writer's running text (a footnote's body, an annotation, a
# tracked deletion) is left out.
_LEFT_OUT = {f"{_TEXT}note", f"{_TEXT}tracked-changes", "{%s}annotation" % _NS["office"]}


def sniff(path: Path, head: bytes) -> bool:
    # (The file's first member is its uncompressed mimetype, so the type is in the first bytes.)
    return path.suffix.lower() in SUFFIXES and head.startswith(b"PK\x03\x04") and b"application/vnd.oasis.opendocument.text" in head[:200]


def _inline(element) -> str:
    """A paragraph's or heading's text: spans, links as markdown, spaces, tabs and line breaks."""
    parts = [element.text or ""]
    for child in element:
        tag = child.tag
        if tag in _LEFT_OUT:
            pass
        elif tag == f"{_TEXT}s":
            parts.append(" " * int(child.get(f"{_TEXT}c", "1")))
        elif tag == f"{_TEXT}tab":
            parts.append("\t")
        elif tag == f"{_TEXT}line-break":
            parts.append("\n")
        elif tag == f"{_TEXT}a":
            shown = _inline(child)
            href = child.get("{%s}href" % _NS["xlink"])
            parts.append(f"[{shown.strip()}]({href})" if href and shown.strip() else shown)
        else:
            parts.append(_inline(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _blocks(body) -> list[str]:
    """The text's headings, paragraphs, lists and tables in order, as markdown-shaped blocks."""
    blocks: list[str] = []
    for element in body:
        tag = element.tag
        if tag == f"{_TEXT}h":
            text = " ".join(_inline(element).split())
            level = min(max(int(element.get(f"{_TEXT}outline-level", "1")), 1), 6)
            if text:
                blocks.append("#" * level + " " + text)
        elif tag == f"{_TEXT}p":
            text = _inline(element).strip()
            if text:
                blocks.append(text)
        elif tag == f"{_TEXT}list":
            items = [" ".join(_inline(p).split()) for p in element.iter(f"{_TEXT}p", f"{_TEXT}h")]
            if any(items):
                blocks.append("\n".join(f"- {item}" for item in items if item))
        elif tag == f"{_TABLE}table":
            rows = [
                "| " + " | ".join(" ".join(" ".join(_inline(p).split()) for p in cell.iter(f"{_TEXT}p")).strip()
                                  for cell in row.iter(f"{_TABLE}table-cell")) + " |"
                for row in element.iter(f"{_TABLE}table-row")
            ]
            if any(row.strip("| ") for row in rows):
                blocks.append("\n".join(row for row in rows if row.strip("| ")))
        elif tag == f"{_TEXT}section":
            blocks.extend(_blocks(element))
    return blocks


def read(path: Path, *, key: str, mapping: dict[str, str] | None = None) -> ReadResult:
    """A post (title, author and creation date from meta.xml where its text gives none), or one record
    per speaker turn when the document is a transcript."""
    try:
        with zipfile.ZipFile(path) as zf:
            content = etree.fromstring(zf.read("content.xml"), parser=etree.XMLParser(resolve_entities=False, no_network=True))
            meta = etree.fromstring(zf.read("meta.xml")) if "meta.xml" in zf.namelist() else None
    except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError, EOFError) as exc:
        raise SourceError(path, f"not an OpenDocument text that can be read ({type(exc).__name__}: {exc})") from None
    except OSError as exc:
        raise SourceError(path, f"cannot read the file ({exc.strerror})") from None
    body = content.find("office:body/office:text", _NS)
    blocks = _blocks(body) if body is not None else []
    if not blocks:
        return ReadResult(documents=[], skipped={"no text": 1}, notes=[f"{path}: the document holds no text; nothing read"])

    def field(xpath: str) -> str | None:
        found = meta.findtext(xpath, namespaces=_NS) if meta is not None else None
        return found.strip() if found and found.strip() else None

    try:
        created = parse_datetime(field("office:meta/meta:creation-date"))
    except ValueError:
        created = None
    return markdown.read_document(
        "\n".join(blocks),  # (speaker lines, or show notes' paragraphs)
        "\n\n".join(blocks),
        path,
        key=key,
        notes=[],
        shape="odt",
        title=field("office:meta/dc:title"),
        author=field("office:meta/meta:initial-creator") or field("office:meta/dc:creator"),
        created=created,
    )
