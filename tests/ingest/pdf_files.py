"""Real PDF files for the tests, written by hand: pages of lines in Helvetica (one of the fonts every
PDF reader has), with the document's information dictionary."""

from __future__ import annotations


def _text(value: str) -> bytes:
    raw = value.encode("cp1252")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def pdf_bytes(pages: list[list[str] | tuple[list[str], list[str]]], *, title: str | None = None, author: str | None = None, created: str | None = None) -> bytes:
    """A PDF of `pages`, each a list of lines set from the top of a letter-size page down (an empty
    line leaves a line's space), or a pair of such lists: two columns."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in once the page tree's number is known
    tree = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    kids = []
    for lines in pages:
        ops = []
        # A page of two columns (a pair of line lists) is written as such a page's text is: the left
        # column from top to bottom, then the right one.
        for x, column in ((72, lines[0]), (320, lines[1])) if isinstance(lines, tuple) else ((72, lines),):
            ops.append(b"BT /F1 11 Tf 14 TL %d 740 Td" % x)
            ops.extend(_text(line) + b" Tj T*" if line else b"T*" for line in column)
            ops.append(b"ET")
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
