"""CSV/TSV files with a header row, columns mapped to record fields."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from housevoice.errors import SourceError
from housevoice.ingest.base import ReadResult
from housevoice.ingest.htmlfile import is_substack_index
from housevoice.ingest.tabular import check_unique_keys, keys_without_an_id_column, resolve_columns, row_to_document

FORMAT = "csv"
SUFFIXES = (".csv", ".tsv")


def sniff(path: Path, head: bytes) -> bool:
    return path.suffix.lower() in SUFFIXES and not is_substack_index(path, head)


def read(path: Path, *, key: str, mapping: dict[str, str] | None = None) -> ReadResult:
    result = ReadResult(documents=[])
    csv.field_size_limit(sys.maxsize)  # one post can be megabytes long
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    lines: list[int] = []
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh, delimiter=delimiter)
            if not reader.fieldnames:
                raise SourceError(path, "the file is empty (no header row)")
            columns = resolve_columns(list(reader.fieldnames), mapping, path)
            for row in reader:
                line = reader.line_num
                if None in row:
                    raise SourceError(path, f"row has {len(reader.fieldnames) + len(row[None])} fields, the header {len(reader.fieldnames)}", line=line)
                result.documents.append(
                    row_to_document(row, columns, path=path, line=line, fallback_key=f"row-{line}", result=result)
                )
                lines.append(line)
    except UnicodeDecodeError as exc:
        raise SourceError(path, f"not UTF-8 ({exc.reason} at byte {exc.start})", hint="save it as UTF-8") from None
    except csv.Error as exc:
        raise SourceError(path, f"not valid CSV ({exc})") from None
    if not result.documents:
        raise SourceError(path, "the file holds no records")
    if columns["source_key"] is None:
        result.notes.append(keys_without_an_id_column(result.documents, path, "row"))
    check_unique_keys(result.documents, lines, path)
    return result
