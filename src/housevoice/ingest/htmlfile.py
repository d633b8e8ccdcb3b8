"""HTML pages, one post per file: a newsletter's or a blog's archive saved as files (Substack's and
Medium's exports, a mailing tool's campaign archive, pages saved from a browser)."""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser, LexborNode

from housevoice.curate.markup import plain_title
from housevoice.errors import SourceError
from housevoice.ingest.base import Document, ReadResult, parse_datetime
from housevoice.ingest.markdown import PATH_DATE, date_in_path
from housevoice.ingest.text_decoding import head_text, read_text

FORMAT = "html"
SUFFIXES = (".html", ".htm", ".xhtml")

# Where a page keeps its writing, most specific first: what lies around it (navigation, sidebars,
# footers, share buttons) is the site's, not the writer's. Medium's export marks its body
# `section[data-field=body]`; schema.org pages `itemprop=articleBody`.
_MEDIUM_BODY = 'section[data-field="body"]'
# Confluence's space export keeps a page's writing in `#main-content` (`.wiki-content`), beside its
# breadcrumbs, attachment lists and "Created by … on …" lines.
_CONTENT = (
    '[itemprop="articleBody"]', _MEDIUM_BODY, ".e-content", "#main-content", ".wiki-content", "article", "main",
    '[role="main"]',
)
_TITLE = ('meta[property="og:title"]', 'meta[name="twitter:title"]')
_DATE = (
    'meta[property="article:published_time"]', 'meta[itemprop="datePublished"]', 'meta[name="date"]',
    'meta[name="dc.date"]', 'meta[name="DC.date"]',
)
_AUTHOR = ('meta[name="author"]', 'meta[property="article:author"]')


def _substack_index(folder: Path) -> dict[str, dict[str, str]]:
    """Substack's export: `posts.csv` (post_id, post_date, is_published, title, subtitle, type, …) indexes
    the `posts/<post_id>.html` files beside it. Rows by post_id; empty when there is no such file."""
    index = folder / "posts.csv"
    return _read_index(index, index.stat().st_mtime_ns) if index.is_file() else {}


@lru_cache(maxsize=8)
def _read_index(index: Path, modified: int) -> dict[str, dict[str, str]]:
    try:
        with open(index, encoding="utf-8-sig", newline="") as fh:
            rows = csv.DictReader(fh)
            if "post_id" not in (rows.fieldnames or ()):
                return {}
            return {row["post_id"]: row for row in rows if row.get("post_id")}
    except (UnicodeDecodeError, csv.Error) as exc:
        raise SourceError(index, f"cannot read the export's index of posts: {exc}") from None


def _from_index(path: Path) -> dict[str, str] | None:
    for folder in (path.parent, path.parent.parent):
        row = _substack_index(folder).get(path.stem)
        if row is not None:
            return row
    return None


def is_substack_index(path: Path, head: bytes) -> bool:
    """Substack's `posts.csv` beside its `posts/` folder: the pages' index, read with them, not a table of texts."""
    return path.name == "posts.csv" and head.lstrip(b"\xef\xbb\xbf").startswith(b"post_id,") and (path.parent / "posts").is_dir()


def sniff(path: Path, head: bytes) -> bool:
    return (path.suffix.lower() in SUFFIXES and "<" in head_text(head)) or is_substack_index(path, head)


def _meta(tree: LexborHTMLParser, selectors: tuple[str, ...]) -> str | None:
    for selector in selectors:
        node = tree.css_first(selector)
        value = (node.attributes.get("content") or "").strip() if node is not None else ""
        if value:
            return value
    return None


def _text(node: LexborNode | None) -> str | None:
    text = " ".join((node.text(deep=True) or "").split()) if node is not None else ""
    return text or None


def _content(tree: LexborHTMLParser) -> tuple[LexborNode | None, str]:
    """The element holding the writing, and the selector that found it ("body" when none did)."""
    for selector in _CONTENT:
        node = tree.css_first(selector)
        if node is not None:
            return node, selector
    return tree.body, "body"


def _medium_response(tree: LexborHTMLParser, content: LexborNode) -> bool:
    """A response (a comment under someone's story) in Medium's export: Medium titles it with its own
    opening words, and it has neither a subtitle nor a title of its own at the head of its body, as a
    story has."""
    if tree.css_first('section[data-field="subtitle"]') is not None or content.css_first(".graf--title") is not None:
        return False
    title, body = _text(tree.css_first(".p-name")), _text(content)
    if not title or not body:
        return False
    opening = title.rstrip("…").rstrip(".").strip()
    return bool(opening) and body.casefold().startswith(opening.casefold())


def read(path: Path, *, key: str, mapping: dict[str, str] | None = None) -> ReadResult:
    if path.suffix.lower() == ".csv":  # Substack's index: its rows fill in the pages' fields
        return ReadResult(documents=[], skipped={"index of the posts (read with them)": 1})
    text, notes = read_text(path)
    tree = LexborHTMLParser(text)
    content, found = _content(tree)
    if not _text(content):
        notes.append(f"{path}: no text in the page; nothing read")
        return ReadResult(documents=[], skipped={"no text": 1}, notes=notes)
    # The element itself, or what the body holds (a fragment, such as Substack's post files, has no <body> of its own).
    html = content.html if found != "body" else "".join(child.html or "" for child in content.iter(include_text=True))
    title = _meta(tree, _TITLE) or _text(tree.css_first("title")) or _text(content.css_first("h1"))
    if found == "#main-content" and title and " : " in title:
        title = title.split(" : ", 1)[1]  # Confluence titles a page "Space : Page"
    title = plain_title(title) or PATH_DATE.sub("", path.stem).strip("-_ ") or path.stem
    meta: dict[str, object] = {"format": "html", "content_from": found}
    stamp = tree.css_first("time[datetime]")
    date_text = _meta(tree, _DATE) or (stamp.attributes.get("datetime") if stamp is not None else None)
    published_at = None
    if date_text:
        try:
            published_at = parse_datetime(date_text)
        except ValueError:
            notes.append(f"{path}: the page's date {date_text!r} is not a date; left empty")
    if published_at is None:
        published_at = date_in_path(key)
        if published_at is not None:
            meta["date_from"] = "path"
    status = None
    row = _from_index(path)
    if row is not None:  # what the export's index says wins over the page
        title = plain_title(row.get("title") or "") or title
        try:
            published_at = parse_datetime(row.get("post_date")) or published_at
        except ValueError:
            notes.append(f"{path}: posts.csv's post_date {row.get('post_date')!r} is not a date; left as the page says")
        status = {"true": "publish", "false": "draft"}.get((row.get("is_published") or "").strip().lower())
        meta.update({k: row[k] for k in ("subtitle", "type", "audience") if row.get(k)})
        meta["index"] = "posts.csv"
    if status is None and found == _MEDIUM_BODY and path.name.startswith("draft_"):
        status = "draft"  # Medium's export names unpublished posts draft_<title>-<id>.html
    kind = "reply" if found == _MEDIUM_BODY and _medium_response(tree, content) else "post"
    author = (
        _meta(tree, _AUTHOR) or _text(tree.css_first('[rel="author"]')) or _text(tree.css_first(".p-author"))
        or _text(tree.css_first(".page-metadata .author"))  # Confluence: "Created by <span class=author>…"
    )
    canonical = tree.css_first('link[rel="canonical"]')
    url = _meta(tree, ('meta[property="og:url"]',)) or (canonical.attributes.get("href") if canonical is not None else None)
    document = Document(
        source_key=key, text=html.strip(), kind=kind, title=title, author=author, published_at=published_at, url=url, status=status,
        meta=meta,
    )
    return ReadResult(documents=[document], notes=notes)
