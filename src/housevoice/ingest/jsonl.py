"""JSON Lines files: one object per line, fields mapped to record fields."""

from __future__ import annotations

import json
from pathlib import Path

from housevoice.errors import SourceError
from housevoice.ingest.base import ReadResult
from housevoice.ingest.tabular import check_unique_keys, keys_without_an_id_column, resolve_columns, row_to_document

FORMAT = "jsonl"
SUFFIXES = (".jsonl", ".ndjson", ".json")


def sniff(path: Path, head: bytes) -> bool:
    body = head.lstrip()
    if body[:1] != b"{":
        return False
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        return True
    if path.suffix.lower() != ".json" and b"\n{" not in head:
        return False
    # A `.json` file may be one document over many lines (a site's data file, package.json): JSON
    # Lines hold a whole object on their first line (or a first line longer than the head).
    line, newline, _ = body.partition(b"\n")
    if not newline:
        return True
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def read(path: Path, *, key: str, mapping: dict[str, str] | None = None) -> ReadResult:
    result = ReadResult(documents=[])
    columns = None
    lines: list[int] = []
    with open(path, "rb") as fh:
        for line_no, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw)
            except UnicodeDecodeError as exc:
                raise SourceError(path, f"not UTF-8 ({exc.reason} at byte {exc.start} of the line)", line=line_no) from None
            except json.JSONDecodeError as exc:
                raise SourceError(path, f"not valid JSON ({exc.msg}, column {exc.colno})", line=line_no) from None
            if not isinstance(row, dict):
                raise SourceError(path, f"each line must be a JSON object, got {type(row).__name__}", line=line_no)
            if columns is None:
                columns = resolve_columns(list(row), mapping, path)
            result.documents.append(
                row_to_document(row, columns, path=path, line=line_no, fallback_key=f"line-{line_no}", result=result)
            )
            lines.append(line_no)
    if not result.documents:
        raise SourceError(path, "the file holds no records")
    if columns["source_key"] is None:
        result.notes.append(keys_without_an_id_column(result.documents, path, "line"))
    check_unique_keys(result.documents, lines, path)
    return result
