"""Reads RSS and Atom files into documents: a blog's or newsletter's feed, and Blogger's export
(Takeout's `feed.atom`, or the older "Back up content" file), read with feedparser."""

from __future__ import annotations

import io
import re
from datetime import datetime
from pathlib import Path

from housevoice.errors import SourceError
from housevoice.ingest.base import Document, ReadResult

FORMAT = "feed"
SUFFIXES = (".xml", ".atom", ".rss")

_FEED_IN_HEAD = re.compile(rb"<(?:feed[^>]*http://www\.w3\.org/2005/Atom|rss[\s>]|rdf:RDF[\s>])")
# Blogger's older export marks each entry's kind with a category of this scheme ("…/kind#post").
_KIND_SCHEME = "http://schemas.google.com/g/2005#kind"
_BLOGGER_STATUS = {"live": "publish", "draft": "draft", "soft_trashed": "trash", "trashed": "trash"}


def sniff(path: Path, head: bytes) -> bool:
    return path.suffix.lower() in SUFFIXES and bool(_FEED_IN_HEAD.search(head))


def _kind(entry) -> str:
    """post, page, or what else the entry is (a Blogger comment, setting or template)."""
    declared = (entry.get("blogger_type") or "").strip().lower()
    if declared:
        return declared
    for tag in entry.get("tags") or []:
        if tag.get("scheme") == _KIND_SCHEME:
            return (tag.get("term") or "").rsplit("#", 1)[-1].lower() or "post"
    return "post"


def _when(entry) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    return datetime(*parsed[:6]) if parsed else None  # feedparser gives UTC


def read(path: Path, *, key: str, mapping: dict[str, str] | None = None) -> ReadResult:
    """Each entry that is a post or page, keyed by its id (else its link). Comments, settings and
    templates (in a Blogger export) are counted as skipped. The text is the entry's full content,
    as HTML; an entry with a summary only is read from it, and a note says how many (a feed often
    carries excerpts, not whole posts)."""
    import feedparser

    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(path, f"cannot read the file: {exc.strerror}") from None
    # A stream, so that nothing in the file is taken for an address to fetch; markup kept as written.
    feed = feedparser.parse(io.BytesIO(data), sanitize_html=False, resolve_relative_uris=False)
    if not feed.get("version") and not feed.entries:
        error = feed.get("bozo_exception")
        line = error.getLineNumber() if hasattr(error, "getLineNumber") else None
        raise SourceError(path, f"not a readable RSS or Atom feed ({error or 'no feed element'})", line=line)
    result = ReadResult(documents=[])
    error = feed.get("bozo_exception")
    if hasattr(error, "getLineNumber"):
        result.notes.append(
            f"{path}:{error.getLineNumber()}: not well-formed XML ({error.getMessage()}); read with a forgiving "
            "parser: check the entries from that line on"
        )
    seen: dict[str, int] = {}
    summaries = 0
    for n, entry in enumerate(feed.entries, start=1):
        kind = _kind(entry)
        if kind not in ("post", "page"):
            result.skipped[kind] = result.skipped.get(kind, 0) + 1
            continue
        contents = [c for c in entry.get("content") or [] if (c.get("value") or "").strip()]
        text = contents[0]["value"] if contents else entry.get("summary") or ""
        if not text.strip():
            result.skipped["no text"] = result.skipped.get("no text", 0) + 1
            continue
        summaries += not contents
        link = next((x.get("href") for x in entry.get("links") or [] if x.get("rel") == "alternate" and x.get("href")), None)
        source_key = entry.get("id") or link or f"entry-{n}"
        if source_key in seen:
            raise SourceError(path, f"entries {seen[source_key]} and {n} share the id {source_key!r}")
        seen[source_key] = n
        status = (entry.get("blogger_status") or "").strip().lower()
        if entry.get("app_draft") == "yes":
            status = "draft"
        meta: dict = {"format": feed.get("version") or "feed"}
        tags = [t.get("term") for t in entry.get("tags") or [] if t.get("scheme") != _KIND_SCHEME and t.get("term")]
        if tags:
            meta["tags"] = tags
        if entry.get("blogger_filename"):
            meta["filename"] = entry["blogger_filename"]
        author = (entry.get("author_detail") or {}).get("name") or entry.get("author")
        result.documents.append(
            Document(
                source_key=source_key,
                text=text,
                kind=kind,
                author=(author or "").strip() or None,
                title=(entry.get("title") or "").strip() or None,
                published_at=_when(entry),
                url=link,
                status=_BLOGGER_STATUS.get(status, status or None),
                meta=meta,
            )
        )
    if summaries:
        result.notes.append(
            f"{path}: {summaries} of {len(result.documents)} entries hold a summary only — a feed often carries "
            "excerpts, not whole posts; the site's full export gives the whole text"
        )
    if not result.documents and hasattr(error, "getLineNumber"):
        raise SourceError(path, f"not well-formed XML ({error.getMessage()}), and no entry could be read", line=error.getLineNumber())
    if not result.documents and not result.skipped:
        raise SourceError(path, "the feed holds no entries")
    return result
