"""Word documents (.docx): a post, or a meeting transcript (Teams' and Google Meet's download).

Read with python-docx. Paragraphs become markdown-shaped text (headings as `#`, list items as
`- `, tables as `| a | b |` rows, bold and italic runs as `**` and `*`, links as `[text](address)`); a document whose lines carry speaker labels (`Name  0:03`
above the words, `Name: text` lines) is read as transcript turns, as a text file of that shape is.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from lxml import etree

from housevoice.errors import SourceError
from housevoice.ingest import markdown
from housevoice.ingest.base import ReadResult, parse_datetime

FORMAT = "docx"
SUFFIXES = (".docx",)
# A zip archive; python-docx tells a Word document from other archives.
BINARY = True


def sniff(path: Path, head: bytes) -> bool:
    return path.suffix.lower() in SUFFIXES and head.startswith(b"PK\x03\x04")


def _marked(text: str, mark: str) -> str:
    """`text` between emphasis marks, its outer spaces outside them (`** word**` is no emphasis)."""
    core = text.strip()
    if not core:
        return text
    return text[: len(text) - len(text.lstrip())] + f"{mark}{core}{mark}" + text[len(text.rstrip()) :]


# Elements around runs whose text a reader sees: a tracked insertion not yet accepted, a content
# control, a field, a smart tag. (A tracked deletion's text is w:delText: not read.)
_WRAPPERS = {"ins", "sdt", "sdtContent", "fldSimple", "smartTag", "customXml", "moveTo"}


def _inner(element, paragraph):
    """The paragraph's runs and hyperlinks in order, those inside wrappers (`_WRAPPERS`) too."""
    from docx.text.hyperlink import Hyperlink
    from docx.text.run import Run

    for child in element.iterchildren():
        name = etree.QName(child).localname if isinstance(child.tag, str) else ""
        if name == "r":
            yield Run(child, paragraph)
        elif name == "hyperlink":
            yield Hyperlink(child, paragraph)
        elif name in _WRAPPERS:
            yield from _inner(child, paragraph)


def _inline(paragraph, marks: bool = True) -> str:
    """The paragraph's text with its bold and italic runs as markdown emphasis and its links as
    `[text](address)` (marks=False: the words alone). Word splits a sentence into runs at will, so
    runs of one format are joined first."""
    pieces: list[tuple[str, bool, bool]] = []  # (text, bold, italic), or a link's markdown with no format
    for item in _inner(paragraph._p, paragraph):
        if hasattr(item, "address"):  # a hyperlink
            shown = item.text
            linked = marks and item.url and shown.strip()
            pieces.append((f"[{shown.strip()}]({item.url})" if linked else shown, False, False))
        else:
            pieces.append((item.text, marks and bool(item.bold), marks and bool(item.italic)))
    joined: list[list] = []
    for text, bold, italic in pieces:
        if joined and joined[-1][1:] == [bold, italic]:
            joined[-1][0] += text
        else:
            joined.append([text, bold, italic])
    return "".join(_marked(text, "**" if bold and not italic else "***" if bold else "*") if bold or italic else text
                   for text, bold, italic in joined)


def _paragraph(paragraph) -> str:
    style = (paragraph.style.name if paragraph.style is not None else "") or ""
    if style == "Title" or style.startswith("Heading"):  # (a heading's own emphasis is its style's)
        text = " ".join(_inline(paragraph, marks=False).split())
        level = 1 if style == "Title" else style.removeprefix("Heading").strip()
        return "#" * (int(level) if str(level).isdigit() and 1 <= int(level) <= 6 else 2) + f" {text}" if text else ""
    text = _inline(paragraph).strip()
    if text and style.startswith("List"):
        return f"1. {text}" if "Number" in style else f"- {text}"
    return text


def _blocks(document) -> list[str]:
    """The body's paragraphs and tables in order, as markdown-shaped blocks (empty ones left out)."""
    blocks: list[str] = []
    listing = False  # the items of one list are lines of one block
    for item in document.iter_inner_content():
        if hasattr(item, "rows"):
            rows = ["| " + " | ".join(" ".join(cell.text.split()) for cell in row.cells) + " |" for row in item.rows]
            block, item_of_list = "\n".join(row for row in rows if row.strip("| ")), False
        else:
            block = _paragraph(item)
            item_of_list = block.startswith(("- ", "1. "))
        if not block:
            continue
        if item_of_list and listing:
            blocks[-1] += "\n" + block
        else:
            blocks.append(block)
        listing = item_of_list
    return blocks


def read(path: Path, *, key: str, mapping: dict[str, str] | None = None) -> ReadResult:
    """A post (its title, author and creation date from the document's properties where its text
    gives none), or one record per speaker turn when the document is a transcript."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, etree.XMLSyntaxError) as exc:
        raise SourceError(path, f"not a Word document that can be read ({type(exc).__name__}: {exc})") from None
    except OSError as exc:
        raise SourceError(path, f"cannot read the file ({exc.strerror})") from None
    blocks = _blocks(document)
    if not blocks:
        return ReadResult(documents=[], skipped={"no text": 1}, notes=[f"{path}: the document holds no text; nothing read"])
    # A transcript's speaker line and its words are two paragraphs: read them as lines of one text;
    # show notes' `**Name:** text` turns are paragraphs.
    properties = document.core_properties
    return markdown.read_document(
        "\n".join(blocks),
        "\n\n".join(blocks),
        path,
        key=key,
        notes=[],
        shape="docx",
        title=(properties.title or "").strip() or None,
        author=(properties.author or "").strip() or None,
        created=parse_datetime(properties.created),
    )
