"""What every reader returns: documents plus an account of what it skipped."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol


@dataclass
class Document:
    """One unit of writing as a reader found it (a record without its record_id yet)."""

    source_key: str
    text: str
    kind: str = "post"
    author: str | None = None
    title: str | None = None
    published_at: datetime | None = None
    url: str | None = None
    status: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class ReadResult:
    """A reader's output for one file.

    `skipped` counts what was deliberately left out, by reason (e.g. {"attachment": 37}).
    `notes` are lines the user should read (e.g. a recovered parse: file, line, what was lost).
    """

    documents: list[Document]
    skipped: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class Reader(Protocol):
    """A reader module: `FORMAT`, `SUFFIXES`, `sniff(path, head)` and `read(path, key=..., mapping=...)`.

    `key` is the file's path relative to the folder the user named (or its file name):
    one-document-per-file readers use it as `source_key`, transcript readers as the prefix
    of `<key>#turn-<n>`; readers with their own ids (WordPress post id, a JSONL `id`
    column) ignore it. `head` is the file's first 64 KiB. `read` raises
    `housevoice.errors.SourceError(path, reason, line=...)` for a file it cannot read.
    """

    FORMAT: str
    SUFFIXES: tuple[str, ...]

    def sniff(self, path: Path, head: bytes) -> bool: ...

    def read(self, path: Path, *, key: str, mapping: dict[str, str] | None = None) -> ReadResult: ...


def parse_datetime(value: Any) -> datetime | None:
    """A date from a source, as a naive UTC datetime; None for empty. Raises ValueError if unreadable."""
    from datetime import date, timezone

    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime(value.year, value.month, value.day)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        dt = datetime.fromtimestamp(value / 1000 if value > 1e11 else value, tz=timezone.utc)
    elif isinstance(value, str):
        text = value.strip()
        if text.startswith("0000-00-00"):
            return None
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            import re
            from email.utils import parsedate_to_datetime

            # (The mail parser reads "3:04 PM" as 3:04 in a zone it does not know: a clock of twelve hours is not its.)
            if re.search(r"\d\s*[AaPp]\.?[Mm]\b", text):
                raise ValueError(f"unreadable date {value!r}")
            try:
                dt = parsedate_to_datetime(text)  # RSS style: "Mon, 15 Sep 2014 00:00:00 +0000"
            except (TypeError, ValueError):
                raise ValueError(f"unreadable date {value!r}") from None
    else:
        raise ValueError(f"unreadable date {value!r}")
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc).replace(tzinfo=None)
    return dt


def parse_written_datetime(value: Any) -> datetime | None:
    """`parse_datetime`, or a date as people and programs write it ("2 Jan 2020", "2020-01-02 10:00 -0500",
    "Thu Mar 02 2023 09:00:00 GMT+0000 (Coordinated Universal Time)" as a browser writes one). Raises
    ValueError if unreadable."""
    try:
        return parse_datetime(value)
    except ValueError:
        if not isinstance(value, str):
            raise
    import re

    from dateutil import parser as date_parser

    try:
        return parse_datetime(date_parser.parse(re.sub(r"\s*\([^()]*\)\s*$", "", value)))
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"unreadable date {value!r}") from exc
