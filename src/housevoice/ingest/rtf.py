"""Rich Text Format documents (.rtf: WordPad, TextEdit, older Word): a post, or a meeting transcript.

The text is read with striprtf (headers, footers, footnotes, comments, pictures and field codes left
out; a link keeps its text); title, author and creation time come from the document's `\\info` group.
Paragraphs become markdown-shaped text (a bulleted paragraph as `- `); a document whose lines carry
speaker labels is read as transcript turns, as a text file of that shape is.
"""

from __future__ import annotations

import codecs
import re
from datetime import datetime
from pathlib import Path

from striprtf.striprtf import rtf_to_text

from housevoice.errors import SourceError
from housevoice.ingest import markdown
from housevoice.ingest.base import ReadResult

FORMAT = "rtf"
SUFFIXES = (".rtf",)
# RTF is 7-bit text, but what its escapes stand for depends on its code page: read as bytes.
BINARY = True

_CODE_PAGE = re.compile(rb"\\ansicpg(\d+)")
_ESCAPED = re.compile(r"\\[\\{}]")  # a backslash, brace written as text
_INFO_TEXT = r"\{{\\{name}[ ]?((?:[^{{}}\\]|\\[^{{}}])*)\}}"
# A field's instruction (`{\*\fldinst HYPERLINK "…"}`): the field's result, its text, is what a reader sees.
_FIELD_INSTRUCTION = re.compile(r"\{\\\*\\fldinst(?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*\}")
_CREATED = re.compile(r"\{\\creatim((?:\\[a-z]+-?\d+[ ]?)+)\}")
_TIME_PART = re.compile(r"\\(yr|mo|dy|hr|min)(-?\d+)")
# A list item's marker as Word and WordPad write it (`{\listtext\f1\'b7\tab}`, `{\pntext 2.\tab}`): a
# group the text reader leaves out, so it becomes markdown's own marker first.
_LIST_MARKER = re.compile(r"\{\\(?:pntext|listtext)\b([^{}]*)\}")
_NUMBER = re.compile(r"(?<![\\'\w])(\d{1,3})[.)]")


def sniff(path: Path, head: bytes) -> bool:
    return path.suffix.lower() in SUFFIXES and head.lstrip(b"\xef\xbb\xbf \r\n\t").startswith(b"{\\rtf")


def _encoding(raw: bytes) -> str:
    """The code page the document's `\\'xx` escapes are in (`\\ansicpg1252`), as Python names it."""
    found = _CODE_PAGE.search(raw[:4096])
    if found:
        try:
            return codecs.lookup(f"cp{int(found.group(1))}").name
        except LookupError:
            pass
    return "cp1252"


def _info(rtf: str, name: str, encoding: str) -> str | None:
    found = re.search(_INFO_TEXT.format(name=name), rtf)
    if not found:
        return None
    value = " ".join(rtf_to_text(found.group(1), encoding=encoding, errors="replace").split())
    return value or None


def _created(rtf: str) -> datetime | None:
    found = _CREATED.search(rtf)
    if not found:
        return None
    parts = {k: int(v) for k, v in _TIME_PART.findall(found.group(1))}
    try:
        return datetime(parts["yr"], parts.get("mo", 1), parts.get("dy", 1), parts.get("hr", 0), parts.get("min", 0))
    except (KeyError, ValueError):
        return None


def _marker(found: re.Match) -> str:
    number = _NUMBER.search(found.group(1))
    return f"{number.group(1)}. " if number else "- "


def read(path: Path, *, key: str, mapping: dict[str, str] | None = None) -> ReadResult:
    """A post (title, author and creation date from the `\\info` group where its text gives none), or one
    record per speaker turn when the document is a transcript."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise SourceError(path, f"cannot read the file ({exc.strerror})") from None
    if b"\x00" in raw:
        raise SourceError(path, "not a Rich Text document: it holds binary data")
    encoding = _encoding(raw)
    rtf = raw.decode("latin-1")  # (7-bit text; anything else is kept byte for byte for the escapes' decoder)
    if not rtf.lstrip("\ufeff \r\n\t").startswith("{\\rtf"):
        raise SourceError(path, "not a Rich Text document that can be read (no `{\\rtf` group)")
    groups = _ESCAPED.sub("", rtf)
    if groups.count("{") != groups.count("}"):
        # (A file cut short leaves groups open: what was read of it would pass for the whole.)
        raise SourceError(path, "not a Rich Text document that can be read (its braces do not pair up: is the file cut short?)")
    try:
        text = rtf_to_text(_LIST_MARKER.sub(_marker, _FIELD_INSTRUCTION.sub("", rtf)), encoding=encoding, errors="replace")
    except (IndexError, ValueError, RecursionError) as exc:
        raise SourceError(path, f"not a Rich Text document that can be read ({type(exc).__name__}: {exc})") from None
    blocks = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = line.strip()
        if line:
            blocks.append(line)
    if not blocks:
        return ReadResult(documents=[], skipped={"no text": 1}, notes=[f"{path}: the document holds no text; nothing read"])
    return markdown.read_document(
        "\n".join(blocks),  # (speaker lines, or paragraphs)
        "\n\n".join(blocks),
        path,
        key=key,
        notes=[],
        shape="rtf",
        title=_info(rtf, "title", encoding),
        author=_info(rtf, "author", encoding),
        created=_created(rtf),
    )
