"""Real PDF files for the tests, written by hand: pages of lines in Helvetica (one of the fonts every
PDF reader has), with the document's information dictionary."""

from __future__ import annotations

import re


def _text(value: str) -> bytes:
    raw = value.encode("cp1252")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _shown(line: str) -> bytes:
    """A line's text operators: a `^N` in it is a footnote mark, set smaller on a rise as a superscript."""
    parts = re.split(r"\^(\d+)", line)
    ops = [_text(parts[0]) + b" Tj"]
    for mark, rest in zip(parts[1::2], parts[2::2]):
        ops.append(b"/F1 7 Tf 4 Ts " + _text(mark) + b" Tj /F1 11 Tf 0 Ts " + _text(rest) + b" Tj")
    return b" ".join(ops) + b" T*"


def pdf_bytes(
    pages: list[list[str] | tuple[list[str], list[str]]],
    *,
    title: str | None = None,
    author: str | None = None,
    created: str | None = None,
    footnotes: list[list[str]] | None = None,
    numbered: bool = False,
) -> bytes:
    """A PDF of `pages`, each a list of lines set from the top of a letter-size page down in 11 points (an
    empty line leaves a line's space; `^N` in a line is a superscript footnote mark), or a pair of such lists: two columns. `footnotes`: per page, lines
    set in 8 points at its foot; `numbered`: each page's number under them, in 11 points."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in once the page tree's number is known
    tree = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    kids = []
    for number, lines in enumerate(pages, start=1):
        ops = []
        # A page of two columns (a pair of line lists) is written as such a page's text is: the left
        # column from top to bottom, then the right one.
        for x, column in ((72, lines[0]), (320, lines[1])) if isinstance(lines, tuple) else ((72, lines),):
            ops.append(b"BT /F1 11 Tf 14 TL %d 740 Td" % x)
            ops.extend(_shown(line) if line else b"T*" for line in column)
            ops.append(b"ET")
        if footnotes and footnotes[number - 1]:
            ops.append(b"BT /F1 8 Tf 10 TL 72 100 Td")
            ops.extend(_text(line) + b" Tj T*" for line in footnotes[number - 1])
            ops.append(b"ET")
        if numbered:
            ops.append(b"BT /F1 11 Tf 300 40 Td %s Tj ET" % _text(str(number)))
        stream = b"\n".join(ops)
        content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        kids.append(add(
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>"
            % (tree, font, content)
        ))
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % tree
    objects[tree - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    fields = {b"Title": title, b"Author": author, b"CreationDate": created}
    info = add(b"<< " + b" ".join(b"/" + k + b" " + _text(v) for k, v in fields.items() if v) + b" >>")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, catalog, info, xref)
    return bytes(out)
