"""Newsletters as email: one `.eml` message per file, or a mailbox (`.mbox`, or a mail client's
mbox file without a suffix, such as Thunderbird's "Sent") of many. Read with the standard library.

A message becomes a `newsletter` record: its subject is the title, the sender's name the author,
its Date the publication date, and its HTML part the text (the cleaners turn it into text; a
newsletter's plain-text part is often generated from the HTML, with every link spelled out), else
its plain-text part. Recipients are never stored; a mailing list's id is kept in `meta`.
"""

from __future__ import annotations

import email
import email.policy
import mailbox
import re
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path

from housevoice.errors import SourceError
from housevoice.ingest.base import Document, ReadResult, parse_datetime

FORMAT = "email"
SUFFIXES = (".eml", ".mbox")
# Headers a message opens with (RFC 5322), one of which every message has.
_HEADER_LINE = re.compile(rb"^[A-Za-z][A-Za-z0-9-]*:[ \t]")
_KEY_HEADERS = re.compile(rb"(?im)^(?:from|subject|date|message-id):[ \t]")
# An mbox separator line: "From sender date".
_MBOX_FROM = re.compile(rb"^From \S+")
_QUOTED_FROM = re.compile(r"(?m)^>(>*From )")


def sniff(path: Path, head: bytes) -> bool:
    suffix = path.suffix.lower()
    head = head.lstrip(b"\r\n")
    headers = head.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    if suffix == ".eml":
        return bool(_HEADER_LINE.match(head)) and bool(_KEY_HEADERS.search(headers))
    # A mailbox: its first line separates the first message; without the suffix, headers must follow.
    if suffix in (".mbox", "") and _MBOX_FROM.match(head):
        return suffix == ".mbox" or len(_KEY_HEADERS.findall(headers)) >= 2
    return False


def _parse(fh) -> EmailMessage:
    return email.message_from_binary_file(fh, policy=email.policy.default)


def _messages(path: Path) -> list[EmailMessage]:
    if path.suffix.lower() == ".eml":
        with open(path, "rb") as fh:
            return [_parse(fh)]
    box = mailbox.mbox(path, factory=_parse, create=False)
    try:
        return list(box)
    finally:
        box.close()


def _body(message: EmailMessage, notes: list[str], where: str) -> tuple[str | None, str | None]:
    """(text, "html" or "plain") of the message's HTML part, else its plain-text part; attachments aside."""
    part = message.get_body(preferencelist=("html", "plain"))
    if part is None:
        return None, None
    try:
        text = part.get_content()
    except (LookupError, UnicodeDecodeError):  # an unknown or wrong charset: the bytes as Windows-1252
        text = (part.get_payload(decode=True) or b"").decode("cp1252", errors="replace")
        notes.append(f"{where}: its charset {part.get_content_charset()!r} could not be read; decoded as Windows-1252")
    if not isinstance(text, str):
        return None, None
    kind = part.get_content_subtype()
    if kind == "plain":
        # A signature after the "-- " line (the mail convention) is the sender's card, not the letter.
        cut = _SIGNATURE.search(text.replace("\r\n", "\n"))
        if cut is not None and text.replace("\r\n", "\n")[: cut.start()].strip():
            text = text.replace("\r\n", "\n")[: cut.start()].rstrip() + "\n"
            notes.append(f"{where}: the signature under its '-- ' line left out")
    return text, kind


_SIGNATURE = re.compile(r"\n-- ?\n(?![\s\S]*\n-- ?\n)")


def _sender(message: EmailMessage) -> str | None:
    found = getaddresses([str(message.get("From") or "")])
    if not found:
        return None
    name, address = found[0]
    return (name or address).strip() or None


def read(path: Path, *, key: str, mapping: dict[str, str] | None = None) -> ReadResult:
    try:
        messages = _messages(path)
    except OSError as exc:
        raise SourceError(path, f"cannot read the file ({exc.strerror})") from None
    if not messages:
        raise SourceError(path, "the mailbox holds no messages")
    result = ReadResult(documents=[])
    seen: set[str] = set()
    single = path.suffix.lower() == ".eml"
    for n, message in enumerate(messages, start=1):
        where = f"{path}" if single else f"{path}: message {n}"
        if not any(message.get(h) for h in ("From", "Subject", "Date")):
            raise SourceError(path, f"{'the file' if single else f'message {n}'} has no From, Subject or Date header: not an email")
        text, subtype = _body(message, result.notes, where)
        if text and not single:  # a mailbox quotes a line opening with "From " as ">From " (one level undone)
            text = _QUOTED_FROM.sub(r"\1", text)
        if not text or not text.strip():
            result.skipped["no text"] = result.skipped.get("no text", 0) + 1
            continue
        message_id = str(message.get("Message-ID") or "").strip().strip("<>")
        source_key = message_id or (key if single else f"{key}#{n}")
        if source_key in seen:
            result.skipped["the same message again"] = result.skipped.get("the same message again", 0) + 1
            continue
        seen.add(source_key)
        try:
            published_at = parse_datetime(str(message.get("Date") or ""))
        except ValueError:
            published_at = None
            result.notes.append(f"{where}: unreadable date {str(message['Date'])!r}; left empty")
        meta = {"format": "email", "body": subtype}
        if message.get("List-Id"):
            meta["list_id"] = str(message["List-Id"]).strip()
        result.documents.append(
            Document(
                source_key=source_key,
                text=text,
                kind="newsletter",
                author=_sender(message),
                title=" ".join(str(message.get("Subject") or "").split()) or None,
                published_at=published_at,
                status="publish",
                meta=meta,
            )
        )
    return result
