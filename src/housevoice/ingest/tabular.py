"""Rows of a JSONL or CSV file -> documents, through a column mapping."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from housevoice.errors import SourceError
from housevoice.ingest.base import Document, ReadResult, parse_written_datetime

# Record field -> column names tried in order when the user gives no --map for it, compared without
# case, spaces, underscores and hyphens ("Post Body" is postbody): besides plain names, what CMS exports
# call them (Webflow's Name / Post Body / Published On, HubSpot's Post Title / Publish Date / Blog Post URL,
# LinkedIn's Shares.csv: Date / ShareLink / ShareCommentary).
DEFAULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "source_key": ("id", "record_id", "post_id", "key", "item_id", "uuid", "guid"),
    "text": (
        "text", "body", "content", "content_text", "post_body", "post_content", "article_body", "body_html",
        "content_html", "html", "message", "share_commentary", "commentary", "full_text", "post_text", "caption",
    ),
    "title": ("title", "headline", "subject", "post_title", "article_title", "name"),
    "author": ("author", "authors", "speaker", "byline", "author_name", "post_author", "writer"),
    "published_at": (
        "published_at", "date", "published", "pub_date", "publish_date", "published_on", "post_date",
        "date_published", "publication_date", "created_at", "created_on",
    ),
    "url": ("url", "link", "permalink", "canonical_url", "post_url", "blog_post_url", "article_url", "share_link"),
    "status": ("status", "post_status", "state"),
    "kind": ("kind", "type", "post_type"),
}
MAP_FIELDS = ("id", *DEFAULT_COLUMNS)
# Yes/no columns that say a row is not published, where no status column does (Webflow's Draft, Archived).
_NOT_PUBLISHED_FLAGS = {"draft": "draft", "isdraft": "draft", "archived": "archived"}  # (names as `_normal` gives them)
_TRUE = {"true", "yes", "1", "y"}


def _normal(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name.strip().lower())


class NoTextColumn(SourceError):
    """A table none of whose columns is a text (in a folder: a site's data file, not its writing)."""


def resolve_columns(columns: list[str], mapping: dict[str, str] | None, path: Path) -> dict[str, str | None]:
    """Which column feeds each record field. A --map entry naming a missing column is an error."""
    mapping = dict(mapping or {})
    if "id" in mapping:
        mapping["source_key"] = mapping.pop("id")
    resolved: dict[str, str | None] = {}
    by_name = {_normal(c): c for c in reversed(columns)}  # (the first of two spellings wins)
    for field, candidates in DEFAULT_COLUMNS.items():
        if field in mapping:
            if mapping[field] not in columns:
                raise SourceError(
                    path,
                    f"--map {field}={mapping[field]}: there is no column {mapping[field]!r} "
                    f"(columns: {', '.join(columns[:20])})",
                )
            resolved[field] = mapping[field]
        else:
            resolved[field] = next((by_name[_normal(c)] for c in candidates if _normal(c) in by_name), None)
    if resolved["text"] is None:
        raise NoTextColumn(
            path,
            f"no text column (looked for {', '.join(DEFAULT_COLUMNS['text'][:4])} and the like; columns: {', '.join(columns[:20])})",
            hint="name it with --map text=COLUMN",
        )
    return resolved


def _as_text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, list):
        return " & ".join(str(v) for v in value if v not in (None, ""))
    return str(value)


def row_to_document(
    row: dict[str, Any], columns: dict[str, str | None], *, path: Path, line: int, fallback_key: str,
    result: ReadResult,
) -> Document:
    text_col = columns["text"]
    text = row.get(text_col)
    if text is None:
        raise SourceError(path, f"record has no {text_col!r} value (the text is required)", line=line)
    if not isinstance(text, str):
        raise SourceError(path, f"{text_col!r} is a {type(text).__name__}, not text", line=line)
    key_col = columns["source_key"]
    key = _as_text(row.get(key_col)) if key_col else None
    if key is None:
        key = fallback_key
    date_col = columns["published_at"]
    published_at = None
    meta: dict[str, Any] = {}
    if date_col and row.get(date_col) not in (None, ""):
        try:
            published_at = parse_written_datetime(row[date_col])
        except (ValueError, OverflowError, OSError):
            meta["published_at_raw"] = str(row[date_col])
            result.notes.append(f"{path}:{line}: unreadable date {row[date_col]!r}; published_at left empty")
    used = {c for c in columns.values() if c}
    meta.update({k: v for k, v in row.items() if k not in used})
    status = _as_text(row.get(columns["status"])) if columns["status"] else None
    if status is None:
        said = {_normal(k): str(v).strip().lower() for k, v in row.items() if _normal(k) in _NOT_PUBLISHED_FLAGS}
        status = next((_NOT_PUBLISHED_FLAGS[name] for name, value in said.items() if value in _TRUE), None)
    return Document(
        source_key=key,
        text=text,
        kind=_kind(_as_text(row.get(columns["kind"])) if columns["kind"] else None, meta),
        author=_as_text(row.get(columns["author"])) if columns["author"] else None,
        title=_as_text(row.get(columns["title"])) if columns["title"] else None,
        published_at=published_at,
        url=_as_text(row.get(columns["url"])) if columns["url"] else None,
        status=status,
        meta=meta,
    )


# Other names for a speaker turn: curation's defaults (templated's skip, the too_short route) key on
# `transcript_turn`, so a file that says "transcript" or "utterance" means the same thing.
TURN_KINDS = {"transcript", "turn", "speaker_turn", "utterance", "podcast_turn", "transcript_segment"}


def _kind(value: str | None, meta: dict[str, Any]) -> str:
    """The record kind, lower case with `_` for spaces and hyphens; turn synonyms as `transcript_turn`
    (the value as given stays in meta.kind_as_given)."""
    if not value or not value.strip():
        return "post"
    kind = re.sub(r"[\s-]+", "_", value.strip().lower())
    if kind in TURN_KINDS:
        kind = "transcript_turn"
    if kind != value:
        meta["kind_as_given"] = value
    return kind


def keys_without_an_id_column(documents: list[Document], path: Path, unit: str) -> str:
    """Keys for rows of a table with no id column: each row's address where every row has its own
    (a re-export in another order keeps every record_id), else its row or line number. Returns the note."""
    urls = [d.url for d in documents]
    if all(urls) and len(set(urls)) == len(urls):
        for doc in documents:
            doc.source_key = doc.url
        return f"{path}: no id column; each row's address is its key"
    return f"{path}: no id column; {unit} numbers are used as keys"


def check_unique_keys(documents: list[Document], lines: list[int], path: Path) -> None:
    seen: dict[str, int] = {}
    for doc, line in zip(documents, lines):
        if doc.source_key in seen:
            raise SourceError(
                path, f"id {doc.source_key!r} appears twice (first on line {seen[doc.source_key]})", line=line
            )
        seen[doc.source_key] = line
