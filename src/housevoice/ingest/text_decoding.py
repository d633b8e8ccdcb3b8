"""Turn a text file's bytes into str: UTF-8, or a noted Windows-1252 fallback, or a clear error."""

from __future__ import annotations

import codecs
import functools
from pathlib import Path

from housevoice.errors import SourceError

# C0 control characters that never occur in prose (tab, newlines and form feed are allowed).
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13)) + b"\x7f"
# Above this share of non-ASCII bytes, a file that is not UTF-8 is more likely binary or
# another script's encoding than Western text in Windows-1252.
_MAX_NON_ASCII_SHARE = 0.2


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def looks_binary(head: bytes) -> bool:
    """True for bytes that are not text in any encoding we read (NUL bytes, many control bytes)."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    if b"\x00" in head:
        return True
    controls = len(head) - len(head.translate(None, _CONTROL))
    return bool(head) and controls / len(head) > 0.01


@functools.lru_cache(maxsize=16)
def head_text(head: bytes) -> str:
    """The first bytes of a file as text for sniffing; '' when they are not text. (Every reader sniffs
    the same head: it is decoded once.)"""
    if looks_binary(head):
        return ""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return head.decode("utf-16", errors="replace")
    return head.decode("utf-8", errors="replace").lstrip("\ufeff").replace("\r\n", "\n")


def read_text(path: Path) -> tuple[str, list[str]]:
    """The file's text with newlines as `\\n`, and notes for the user (e.g. an encoding fallback).

    Raises SourceError for an empty file, a binary file, or bytes that are neither UTF-8 nor
    plainly Western text in Windows-1252 / Latin-1.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(path, f"cannot read the file ({exc.strerror})") from None
    if not data.strip():
        raise SourceError(path, "the file is empty")
    notes: list[str] = []
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise SourceError(path, f"broken UTF-16 text at byte {exc.start}") from None
    elif looks_binary(data[: 64 * 1024]):
        nul = data.find(b"\x00")
        where = f" (a NUL byte at offset {nul})" if nul >= 0 else ""
        raise SourceError(path, f"this is a binary file, not text{where}")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            text = _windows_1252_or_fail(path, data, exc)
            notes.append(
                f"{path}:{_line_of(data, exc.start)}: not UTF-8 (byte 0x{data[exc.start]:02X} at offset "
                f"{exc.start}); read as Windows-1252 (Western European) text"
            )
    return text.replace("\r\n", "\n").replace("\r", "\n"), notes


def _windows_1252_or_fail(path: Path, data: bytes, exc: UnicodeDecodeError) -> str:
    """Decode as cp1252 only when that is clearly right; otherwise a SourceError with the byte and line."""
    non_ascii = sum(1 for b in data if b > 0x7F)
    if non_ascii / len(data) <= _MAX_NON_ASCII_SHARE:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            pass
    raise SourceError(
        path,
        f"not UTF-8 text: byte 0x{data[exc.start]:02X} at offset {exc.start}",
        line=_line_of(data, exc.start),
        hint="save the file as UTF-8 and ingest it again",
    )
