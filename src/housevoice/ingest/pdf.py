"""PDF documents: a post (a newsletter, a white paper, a saved article) or a transcript saved as PDF.

Read with pypdf. A PDF holds lines placed on pages, not paragraphs: what a page repeats at its top or
bottom (running titles, page numbers) is left out, a word split over two lines by a hyphen is joined
(unless the text writes it with a hyphen elsewhere), and the lines are gathered into paragraphs again (a line ending a sentence well short of the page's
measure ends one; a short line without a full stop over longer ones is a heading). Footnotes (lines
at a page's foot set smaller than the running text, the first opening with its mark) are left out, so
a paragraph that goes on over a page break is not cut by them, and so are their marks in the text (pieces
set smaller than the text that read as one of the page's footnote marks). A document whose
lines carry speaker labels is read as transcript turns, as a text file of that shape is.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from housevoice.errors import SourceError
from housevoice.ingest import markdown
from housevoice.ingest.base import ReadResult, parse_datetime

FORMAT = "pdf"
SUFFIXES = (".pdf",)
BINARY = True

# Lines at a page's top or bottom that this share of pages repeat (numbers aside) are the page's furniture.
FURNITURE_SHARE = 0.5
_EDGE_LINES = 2
_PAGE_NUMBER = re.compile(r"^(?:page\s+)?\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?$|^[-–—]\s*\d{1,4}\s*[-–—]$", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?:;…][\"'”’)\]]*$")
_CONTENTS_LINE = re.compile(r"^\s*\S.*?(?:\s?[.·…_]){4,}\s*\d{1,4}\s*$")
_CONTENTS_HEADINGS = {
    "contents", "table of contents", "inhalt", "inhaltsverzeichnis", "sommaire", "table des matières", "índice", "inhoud",
    "indice",
}
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"})
_BULLET = re.compile(r"^[•◦▪●○■□►‣⁃]\s*")
_LIST_ITEM = re.compile(r"^(?:[-•*–◦▪]\s|\d{1,3}[.)]\s)")
_PUNCTUATION = ".,;:!?\"'()[]“”‘’«»…"
_SPLIT_WORD = re.compile(r"(?<=[^\W\d_])-$")


def sniff(path: Path, head: bytes) -> bool:
    return head.startswith(b"%PDF-") or (path.suffix.lower() in SUFFIXES and b"%PDF-" in head[:1024])


# A line of a page set in columns, as the layout reading shows it: words, a wide gap, words.
_COLUMN_GAP = re.compile(r"\S {4,}\S")
COLUMN_SHARE = 0.3


# A text rise (the `Ts` operator: a superscript's footnote mark, as some writers set it), not zero.
_TEXT_RISE = re.compile(rb"(?<![\w.])-?(?:\d*\.)?\d+\s+Ts(?!\w)")


def _raises_text(page) -> bool:
    try:
        contents = page.get_contents()
        data = contents.get_data() if contents is not None else b""
    except Exception:  # (what cannot be read here, the text extraction reports)
        return False
    return any(float(m.group().split()[0]) != 0 for m in _TEXT_RISE.finditer(data))


def _page_lines(page) -> list[str]:
    """The page's lines as laid out (a blank line where the page leaves a gap: paragraphs show); a
    page set in columns, or with text set on a rise (superscripts: the layout would put what follows
    a mark on a line of its own), is read in the order its text was written instead (the layout would
    put the columns' lines side by side)."""
    if _raises_text(page):
        return (page.extract_text() or "").split("\n")
    laid_out = (page.extract_text(extraction_mode="layout") or "").split("\n")
    filled = [line for line in laid_out if line.strip()]
    if filled and sum(1 for line in filled if _COLUMN_GAP.search(line.strip())) >= COLUMN_SHARE * len(filled):
        return (page.extract_text() or "").split("\n")
    return laid_out


# A footnote: lines at a page's foot, below its last line of running text, set smaller than that text (at
# most this share of its size), the first opening with its mark ("1 See …", "[2] …", "* …", "† …").
FOOTNOTE_SIZE = 0.85
_FOOTNOTE_MARK = re.compile(r"^\s*(?:\[?(\d{1,3})(?!\d)\]?[.):]?|([*†‡§¶]+))\s*\S")


@dataclass
class _Line:
    """A line of a page's text as written: its height on the page and its pieces (font size, text)."""

    height: float
    pieces: list[tuple[float, str]]

    @property
    def text(self) -> str:
        return " ".join(t.strip() for _, t in self.pieces)

    @property
    def size(self) -> float:  # the size most of the line is set in
        return max(self.pieces, key=lambda piece: len(piece[1].strip()))[0]


def _written_lines(page) -> list[_Line]:
    """The lines of the page's text, in the order written, with the size each piece is shown at."""
    lines: dict[int, _Line] = {}

    def visit(text, cm, tm, font_dict, font_size) -> None:
        if text.strip():
            # Its font size scaled by the text and page matrices, and its height on the page.
            size = abs(font_size * tm[3] * cm[3]) or abs(font_size)
            height = round(cm[1] * tm[4] + cm[3] * tm[5] + cm[5])
            lines.setdefault(height, _Line(height, [])).pieces.append((size, text))

    page.extract_text(visitor_text=visit)
    return list(lines.values())


@dataclass
class _Footnotes:
    """A page's footnotes: their lines (text without spaces), and its lines that carry their marks (text without
    spaces → which of those characters are marks)."""

    lines: set[str] = field(default_factory=set)
    marked: dict[str, list[bool]] = field(default_factory=dict)

    def without_marks(self, line: str) -> str:
        """`line` (as extracted) without the footnote marks it carries."""
        flags = self.marked.get("".join(line.split()))
        if flags is None:
            return line
        out, n = [], 0
        for char in line:
            if char.isspace():
                out.append(char)
                continue
            if not flags[n]:
                out.append(char)
            n += 1
        return "".join(out)


def _footnotes(pages: list[list[_Line]]) -> list[_Footnotes]:
    """Per page, its footnotes (see FOOTNOTE_SIZE) and the marks of them in its running text: pieces set
    smaller than the text, reading as one of the footnotes' marks."""
    weight = Counter()
    for page in pages:
        for line in page:
            for size, text in line.pieces:
                weight[round(size, 1)] += len(text.strip())
    if len(weight) < 2:
        return [_Footnotes() for _ in pages]
    body = weight.most_common(1)[0][0]
    small = FOOTNOTE_SIZE * body
    out = []
    for page in pages:
        running = [line for line in page if line.size > small and not _PAGE_NUMBER.match(line.text.strip())]
        lowest = min((line.height for line in running), default=None)
        foot = sorted((line for line in page if lowest is not None and line.height < lowest and line.size <= small), key=lambda line: -line.height)
        if not foot or not _FOOTNOTE_MARK.match(foot[0].text):
            out.append(_Footnotes())
            continue
        marks = {m.group(1) or m.group(2) for m in map(_FOOTNOTE_MARK.match, (line.text for line in foot)) if m}
        notes = _Footnotes({"".join(line.text.split()) for line in foot})
        for line in running:
            flags = [size <= small and text.strip() in marks for size, text in line.pieces]
            if any(flags):
                chars = [(c, flag) for (_, text), flag in zip(line.pieces, flags) for c in text if not c.isspace()]
                notes.marked["".join(c for c, _ in chars)] = [flag for _, flag in chars]
        out.append(notes)
    return out


def _pages(path: Path) -> tuple[list[list[str]], dict, int]:
    """Each page's lines of text (footnotes left out), the document's information (title, author,
    created), and how many footnote lines were left out."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PyPdfError

    # pypdf logs each repair it makes to a damaged file; unread, Python would print them under the command's output.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise SourceError(path, "the PDF is protected by a password", hint="save an unprotected copy and ingest that")
        pages = [_page_lines(page) for page in reader.pages]
        footnotes = _footnotes([_written_lines(page) for page in reader.pages])
        info = reader.metadata or {}
        fields = {"title": info.get("/Title"), "author": info.get("/Author"), "created": None}
        try:
            fields["created"] = info.creation_date if info else None
        except (ValueError, TypeError):
            pass
    except SourceError:
        raise
    except (FileNotDecryptedError, DependencyError) as exc:
        raise SourceError(path, f"the PDF is encrypted and cannot be read ({exc})", hint="save an unprotected copy") from None
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise SourceError(path, f"not a PDF that can be read ({type(exc).__name__}: {exc})") from None
    except OSError as exc:
        raise SourceError(path, f"cannot read the file ({exc.strerror})") from None
    kept = [
        [notes.without_marks(line.rstrip()) for line in lines if "".join(line.split()) not in notes.lines]
        for lines, notes in zip(pages, footnotes)
    ]
    return kept, fields, sum(len(lines) for lines in pages) - sum(len(lines) for lines in kept)


def _without_furniture(pages: list[list[str]]) -> tuple[list[list[str]], int]:
    """The pages without the lines repeated at their tops and bottoms, and how many lines that was."""
    def edges(lines: list[str]) -> list[int]:
        filled = [n for n, line in enumerate(lines) if line.strip()]
        return sorted(set(filled[:_EDGE_LINES] + filled[-_EDGE_LINES:]))

    def shape(line: str) -> str:
        return re.sub(r"\d+", "#", " ".join(line.split()).lower())

    seen = Counter(shape(lines[n]) for lines in pages for n in set(edges(lines)))
    # (A label ending in a colon is no running title: a transcript's `MAYA CHEN:` may open many pages.)
    repeated = {
        s for s, count in seen.items() if len(pages) >= 3 and count >= FURNITURE_SHARE * len(pages) and not s.endswith(":")
    }
    out, dropped = [], 0
    for lines in pages:
        gone = {n for n in edges(lines) if shape(lines[n]) in repeated or _PAGE_NUMBER.match(lines[n].strip())}
        dropped += len(gone)
        out.append([line for n, line in enumerate(lines) if n not in gone])
    return out, dropped


def _trimmed(lines: list[str]) -> list[str]:
    """The lines without the blank lines that open or close them."""
    filled = [n for n, line in enumerate(lines) if line.strip()]
    return lines[filled[0] : filled[-1] + 1] if filled else []


def _paragraphs(lines: list[str]) -> str:
    """Lines placed on a page as paragraphs separated by blank lines (see the module's docstring)."""
    # (A bullet becomes markdown's list mark: every other reader writes lists in that shape.)
    # Typesetting's ligatures (ﬁ, ﬂ …) are the letters they join, as a reader reads them.
    lines = [_BULLET.sub("- ", " ".join(line.translate(_LIGATURES).split())) for line in lines]
    lengths = sorted(len(line) for line in lines if line)
    if not lengths:
        return ""
    measure = lengths[int(0.8 * (len(lengths) - 1))]  # a full line's length
    words = {w.strip(_PUNCTUATION) for line in lines for w in line.lower().split()}
    hyphenated = {w for w in words if "-" in w.strip("-")}
    paragraphs: list[str] = []
    current = ""
    for n, line in enumerate(lines):
        if not line:
            if current:
                paragraphs.append(current)
                current = ""
            continue
        if current and _LIST_ITEM.match(line):
            paragraphs.append(current)
            current = ""
        if current.endswith("-") and _SPLIT_WORD.search(current) and line[:1].islower():
            # A word broken at the line's end is joined, unless the text writes it with a hyphen elsewhere.
            head, tail = current.rsplit(" ", 1)[-1].lower().lstrip(_PUNCTUATION), line.split(" ", 1)[0].lower().strip(_PUNCTUATION)
            kept = head + tail in hyphenated and head[:-1] + tail not in words
            current = (current if kept else current[:-1]) + line
        else:
            current = f"{current} {line}" if current else line
        following = lines[n + 1] if n + 1 < len(lines) else ""
        short = len(line) < 0.85 * measure
        heading = len(line) < 0.6 * measure and not _SENTENCE_END.search(line) and following[:1].isupper() and current == line
        if (short and _SENTENCE_END.search(line)) or heading:
            paragraphs.append(current)
            current = ""
    if current:
        paragraphs.append(current)
    return "\n\n".join(paragraphs)


# Titles a PDF's properties often carry that name no writing: the program's own, a file name, several sentences.
_NOT_A_TITLE = re.compile(r"^(?:microsoft \w+ - |untitled\b|document\d*$)|\.\w{2,5}$|[.!?] \S", re.IGNORECASE)


def _title(given: str | None, text: str) -> str | None:
    """The properties' title where it looks like one, else the text's first paragraph where that is a
    short line, not a sentence (a PDF has no markup to say which line is its title)."""
    given = " ".join((given or "").split())
    if given and len(given) <= 120 and not _NOT_A_TITLE.search(given):
        return given
    first = text.split("\n\n", 1)[0].strip()
    return first if first and len(first) <= 100 and not _SENTENCE_END.search(first) else None


def read(path: Path, *, key: str, mapping: dict[str, str] | None = None) -> ReadResult:
    """A post, or one record per speaker turn when the document is a transcript."""
    pages, info, footnotes = _pages(path)
    pages, furniture = _without_furniture(pages)
    notes = [f"{path}: {furniture} running titles and page numbers left out"] if furniture else []
    if footnotes:
        notes.append(f"{path}: {footnotes} lines of footnotes left out (what the writer put aside from the running text)")
    # A table of contents' lines ("Why we grow ........ 3") point at pages that are no longer there;
    # its heading goes with them.
    # A page break ends a paragraph, unless the page stops mid-sentence: then the paragraph goes on
    # (the gap a page leaves above its footnotes or number is no paragraph break).
    lines: list[str] = []
    for page in pages:
        page = _trimmed(page)
        if lines and page and _SENTENCE_END.search(lines[-1]):
            lines.append("")
        lines += page
    if any(_CONTENTS_LINE.match(line) for line in lines):
        lines = [line for line in lines if not _CONTENTS_LINE.match(line) and line.strip().lower() not in _CONTENTS_HEADINGS]
    if not any(line.strip() for line in lines):
        notes.append(f"{path}: no text in the PDF (a scan holds only images of pages); nothing read")
        return ReadResult(documents=[], skipped={"no text": 1}, notes=notes)
    try:
        created = parse_datetime(info["created"])
    except ValueError:
        created = None
    text = _paragraphs(lines)
    return markdown.read_document(
        "\n".join(lines),
        text,
        path,
        key=key,
        notes=notes,
        shape="pdf",
        title=_title(info["title"], text),
        author=(info["author"] or "").strip() or None,
        created=created,
    )
