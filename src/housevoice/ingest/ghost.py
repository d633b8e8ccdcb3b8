"""Reads a Ghost export (Settings → Labs → Export: one JSON file) into documents: posts and pages,
newsletters sent by email included, with their authors, tags and status."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from housevoice.errors import SourceError
from housevoice.ingest.base import Document, ReadResult, parse_datetime

FORMAT = "ghost"
SUFFIXES = (".json",)

# Every Ghost export opens with its meta block: {"db": [{"meta": {"exported_on": …, "version": …}, "data": …}]}
# (Ghost 0.x and 1.x leave out the "db" list).
_GHOST_HEAD = re.compile(rb'^\s*\{\s*(?:"db"\s*:\s*\[\s*\{\s*)?"meta"\s*:\s*\{[^{}]*"exported_on"')
# Ghost's own words for a post's state, as the `not_published` flagger reads them.
_STATUS = {"published": "publish", "sent": "publish", "scheduled": "future", "draft": "draft"}
NO_TEXT = "no text"
NOT_WRITING = "not a post or page"


def sniff(path: Path, head: bytes) -> bool:
    return path.suffix.lower() in SUFFIXES and bool(_GHOST_HEAD.search(head))


def _data(export: Any, path: Path) -> dict[str, Any]:
    """The export's tables (`posts`, `users`, `tags`, `posts_authors`, `posts_tags`)."""
    block = export.get("db", [export]) if isinstance(export, dict) else None
    block = block[0] if isinstance(block, list) and block else block
    data = block.get("data") if isinstance(block, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("posts"), list):
        raise SourceError(path, "not a Ghost export: no list of posts under db[0].data.posts")
    return data


def _rows(data: dict[str, Any], table: str) -> list[dict[str, Any]]:
    return [row for row in data.get(table) or [] if isinstance(row, dict)]


def read(path: Path, *, key: str, mapping: dict[str, str] | None = None) -> ReadResult:
    """Posts and pages keyed by their Ghost id (`key` is not needed); other post types and posts with
    no text are counted as skipped. The text is the post's HTML as Ghost renders it (its plain text
    where a post has no HTML); co-authors are joined with " & ", the first one Ghost lists first."""
    path = Path(path)
    try:
        export = json.loads(path.read_bytes())
    except UnicodeDecodeError as exc:
        raise SourceError(path, f"not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise SourceError(path, f"not valid JSON ({exc.msg}, column {exc.colno})", line=exc.lineno) from None
    except OSError as exc:
        raise SourceError(path, f"cannot read the file: {exc.strerror}") from None
    data = _data(export, path)
    users = {row.get("id"): (row.get("name") or row.get("slug") or "").strip() for row in _rows(data, "users")}
    tags = {row.get("id"): (row.get("name") or "").strip() for row in _rows(data, "tags")}
    authors: dict[Any, list[tuple[int, str]]] = {}
    for link in _rows(data, "posts_authors"):
        if users.get(link.get("author_id")):
            authors.setdefault(link.get("post_id"), []).append((link.get("sort_order") or 0, users[link["author_id"]]))
    tagged: dict[Any, list[tuple[int, str]]] = {}
    for link in _rows(data, "posts_tags"):
        if tags.get(link.get("tag_id")):
            tagged.setdefault(link.get("post_id"), []).append((link.get("sort_order") or 0, tags[link["tag_id"]]))
    result = ReadResult(documents=[])
    seen: set[str] = set()
    for n, post in enumerate(data["posts"]):
        if not isinstance(post, dict):
            raise SourceError(path, f"post {n + 1} of db[0].data.posts is not an object")
        post_id = str(post.get("id") or post.get("uuid") or "").strip()
        if not post_id:
            raise SourceError(path, f"post {n + 1} ({post.get('title')!r}) has no id")
        if post_id in seen:
            raise SourceError(path, f"post id {post_id} appears twice")
        seen.add(post_id)
        kind = (post.get("type") or "post").strip().lower()
        if kind not in ("post", "page"):
            result.skipped[NOT_WRITING] = result.skipped.get(NOT_WRITING, 0) + 1
            continue
        text = post.get("html") or post.get("plaintext") or ""
        if not text.strip():
            result.skipped[NO_TEXT] = result.skipped.get(NO_TEXT, 0) + 1
            continue
        names = [name for _, name in sorted(authors.get(post.get("id"), []))]
        if not names and users.get(post.get("author_id")):  # Ghost before 1.22: one author per post
            names = [users[post["author_id"]]]
        status = (post.get("status") or "").strip().lower()
        when = post.get("published_at") if status in ("published", "sent", "scheduled") else None
        try:
            published_at = parse_datetime(when or None)
        except ValueError as exc:
            raise SourceError(path, f"post {post_id}: {exc}") from None
        meta: dict[str, Any] = {"format": "ghost", "slug": post.get("slug")}
        if len(names) > 1:
            meta["authors"] = names
        if tagged.get(post.get("id")):
            meta["tags"] = [name for _, name in sorted(tagged[post["id"]])]
        for field in ("visibility", "custom_excerpt", "email_recipient_filter"):
            if post.get(field) not in (None, "", "none"):
                meta[field] = post[field]
        if status == "sent":
            meta["email_only"] = True  # a newsletter sent by email and never published on the site
        result.documents.append(
            Document(
                source_key=post_id,
                text=text,
                kind=kind,
                author=" & ".join(names) or None,
                title=(post.get("title") or "").strip() or None,
                published_at=published_at,
                url=post.get("canonical_url") or None,
                status=_STATUS.get(status, status or None),
                meta={k: v for k, v in meta.items() if v is not None},
            )
        )
    if not result.documents and not result.skipped:
        raise SourceError(path, "the export holds no posts")
    return result
