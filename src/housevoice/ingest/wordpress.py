"""Reads WordPress export (WXR) files into documents: posts, pages and other post types that hold writing."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path

from lxml import etree

from housevoice.curate.markup import plain_title
from housevoice.errors import SourceError
from housevoice.ingest.base import Document, ReadResult

FORMAT = "wordpress"
SUFFIXES = (".xml", ".wxr")

# WXR 1.0, 1.1 and 1.2 differ in the version inside this namespace (WordPress.com writes https);
# the excerpt namespace shares the prefix.
_WXR_NAMESPACE = re.compile(r"https?://wordpress\.org/export/")
_WXR_IN_HEAD = re.compile(rb"<rss[\s>].*?https?://wordpress\.org/export/\d+\.\d+/", re.DOTALL)
_WHERE = re.compile(r", line \d+, column \d+$")  # lxml repeats the position we already report
_ITEM_TAG = re.compile(rb"<item[\s>]")
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")
_PREFIXES = {"http://purl.org/rss/1.0/modules/content/": "content:", "http://purl.org/dc/elements/1.1/": "dc:"}

# Post types that are not writing: media, menus, theme and editor settings, form and field definitions.
NOT_WRITING = frozenset(
    {
        "attachment", "nav_menu_item", "revision", "custom_css", "customize_changeset",
        "oembed_cache", "user_request", "wp_block", "wp_template", "wp_template_part",
        "wp_global_styles", "wp_navigation", "wp_font_family", "wp_font_face",
        "acf-field", "acf-field-group", "wpcf7_contact_form", "shop_order", "shop_coupon",
    }
)  # fmt: skip
NO_POST_ID = "no post_id"
DUPLICATE_POST_ID = "duplicate post_id"
MALFORMED = "malformed"


def sniff(path: Path, head: bytes) -> bool:
    """True for an RSS document that declares the WordPress export namespace (any WXR version)."""
    return bool(_WXR_IN_HEAD.search(head))


def read(path: Path, *, key: str, mapping: dict[str, str] | None = None) -> ReadResult:
    """Posts, pages and other writing in a WXR file; attachments, menus and the like are counted as skipped.

    Items are keyed by their WordPress post id (`key` is not needed). A file a strict XML parser
    rejects is read again with recovery: intact items are kept and a note names the line and how
    many items were lost; if none survive intact, a `SourceError` names the file and line.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as error:
        raise SourceError(path, f"cannot read the file: {error.strerror}") from None
    if size == 0:
        raise SourceError(path, "the file is empty; expected a WordPress export (WXR)")
    try:
        scan = _scan(path, recover=False)
    except etree.XMLSyntaxError as error:
        strict_error = error  # recovered outside this block so a later SourceError carries no parser traceback
    else:
        _require_wxr(path, scan.root)
        return _result(path, scan, scan.items)
    return _read_recovered(path, strict_error)


@dataclass
class _Scan:
    """What one pass over the file found: the root, author display names, items by line, parser errors."""

    root: etree._Element | None
    authors: dict[str, str] = field(default_factory=dict)
    items: list[tuple[int, Document | str]] = field(default_factory=list)  # a document, or why it was skipped
    error_lines: list[int] = field(default_factory=list)


def _scan(path: Path, *, recover: bool) -> _Scan:
    # iterparse and clearing each item keeps memory flat on exports of hundreds of megabytes
    context = etree.iterparse(
        str(path), events=("end",), tag=("item", "{*}author"), recover=recover, huge_tree=True
    )
    scan = _Scan(root=None)
    for _, element in context:
        parent = element.getparent()
        if element.tag == "item":
            scan.items.append((element.sourceline or 0, _item(element)))
            element.clear()
            while parent is not None and element.getprevious() is not None:
                del parent[0]
        elif parent is not None and etree.QName(parent).localname == "channel":
            fields = _fields(element)[0]
            login = fields.get("wp:author_login", "").strip()
            if login:
                scan.authors[login] = fields.get("wp:author_display_name", "").strip() or login
    scan.root = context.root
    scan.error_lines = sorted({entry.line for entry in context.error_log})
    return scan


def _require_wxr(path: Path, root: etree._Element | None) -> None:
    namespaces = root.nsmap.values() if root is not None else ()
    if root is None or etree.QName(root).localname != "rss" or not any(
        _WXR_NAMESPACE.match(ns or "") for ns in namespaces
    ):
        raise SourceError(
            path,
            "not a WordPress export: no <rss> with the http://wordpress.org/export/ namespace",
            hint="export from WordPress with Tools → Export, or pass another --format",
        )


def _name(tag: str) -> str:
    """A child's tag as the short `wp:post_id` / `content:encoded` spelling, whatever the WXR version."""
    qname = etree.QName(tag)
    namespace = qname.namespace or ""
    if _WXR_NAMESPACE.match(namespace):
        return ("excerpt:" if namespace.endswith("/excerpt/") else "wp:") + qname.localname
    return _PREFIXES.get(namespace, "") + qname.localname


def _fields(element: etree._Element) -> tuple[dict[str, str], list[tuple[str, str]], int]:
    """First text of each child by name, the item's terms as (taxonomy, name), and its comment count."""
    fields: dict[str, str] = {}
    terms: list[tuple[str, str]] = []
    comments = 0
    for child in element:
        if not isinstance(child.tag, str):  # XML comments and processing instructions
            continue
        name = _name(child.tag)
        if name == "category":
            terms.append((child.get("domain") or "category", (child.text or "").strip()))
        elif name == "wp:comment":
            comments += 1
        else:
            fields.setdefault(name, child.text or "")
    return fields, terms, comments


def _item(element: etree._Element) -> Document | str:
    fields, terms, comments = _fields(element)
    post_type = fields.get("wp:post_type", "").strip() or "post"
    if post_type in NOT_WRITING:
        return post_type
    post_id = fields.get("wp:post_id", "").strip()
    if not post_id:
        return NO_POST_ID
    login = (fields.get("dc:creator") or fields.get("wp:author") or "").strip() or None
    modified = _wp_date(fields.get("wp:post_modified_gmt")) or _wp_date(fields.get("wp:post_modified"))
    categories, tags, other_terms = _split_terms(terms)
    meta = {
        "post_type": post_type,
        "slug": fields.get("wp:post_name", "").strip() or None,
        "categories": categories,
        "tags": tags,
        "excerpt": fields.get("excerpt:encoded") or None,
        "login": login,
        "guid": fields.get("guid", "").strip() or None,
        "modified": modified.isoformat() if modified else None,
        "comment_count": comments,
    }
    if other_terms:
        meta["terms"] = other_terms
    # WordPress keeps a title as typed: markup (<em>) and character references (&amp;) are shown as text.
    typed = fields.get("title", "").strip() or None
    title = plain_title(typed)
    if title != typed:
        meta["title_markup"] = typed
    return Document(
        source_key=post_id,
        text=fields.get("content:encoded", ""),
        kind=post_type,
        author=login,  # replaced by the display name once every wp:author entry has been read
        title=title,
        # post_date is the site's local time: the best left when WordPress never set the GMT one (drafts)
        published_at=_wp_date(fields.get("wp:post_date_gmt"))
        or _wp_date(fields.get("wp:post_date"))
        or _rss_date(fields.get("pubDate")),
        url=fields.get("link", "").strip() or None,
        status=fields.get("wp:status", "").strip() or None,
        meta=meta,
    )


def _split_terms(terms: list[tuple[str, str]]) -> tuple[list[str], list[str], dict[str, list[str]]]:
    """Categories, tags and any other taxonomy, each without repeats (WXR 1.0 lists every term twice)."""
    by_taxonomy: dict[str, list[str]] = {}
    for taxonomy, name in terms:
        # WXR 1.0 spells tags domain="tag"; a bare <category> is a category
        taxonomy = {"tag": "post_tag"}.get(taxonomy, taxonomy)
        names = by_taxonomy.setdefault(taxonomy, [])
        if name and name not in names:
            names.append(name)
    return by_taxonomy.pop("category", []), by_taxonomy.pop("post_tag", []), by_taxonomy


def _wp_date(value: str | None) -> datetime | None:
    """A WXR `YYYY-MM-DD HH:MM:SS`; WordPress writes zeros for a date that was never set."""
    value = (value or "").strip()
    if not value or value.startswith("0000-00-00"):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None


def _rss_date(value: str | None) -> datetime | None:
    try:
        moment = parsedate_to_datetime((value or "").strip())
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    # unpublished items carry the Unix epoch (or year -1) here rather than no date
    return moment if moment.year > 1970 else None


def _result(path: Path, scan: _Scan, items: list[tuple[int, Document | str]]) -> ReadResult:
    result = ReadResult(documents=[])
    first_line_of: dict[str, int] = {}
    unkeyed: dict[str, list[int]] = {}
    for line, item in items:
        if isinstance(item, Document) and item.source_key in first_line_of:
            item = DUPLICATE_POST_ID
        if isinstance(item, str):
            result.skipped[item] = result.skipped.get(item, 0) + 1
            if item in (NO_POST_ID, DUPLICATE_POST_ID):
                unkeyed.setdefault(item, []).append(line)
            continue
        first_line_of[item.source_key] = line
        if item.author:
            item.author = scan.authors.get(item.author, item.author)
        result.documents.append(item)
    for reason, lines in unkeyed.items():
        why = "with no wp:post_id to key them" if reason == NO_POST_ID else "repeating an earlier wp:post_id"
        result.notes.append(f"{path}:{lines[0]}: skipped {len(lines)} item(s) {why}, at lines {_lines(lines)}")
    return result


def _read_recovered(path: Path, strict: etree.XMLSyntaxError) -> ReadResult:
    """Reads a file a strict parser rejected, keeping only items untouched by any parse error."""
    line = strict.lineno or None
    message = _WHERE.sub("", strict.msg or "unknown parser error")
    raw = path.read_bytes()
    encoding_error = "encoding" in message
    if encoding_error:
        what = f"the file is not valid UTF-8 ({message})"
    elif line and line > raw.count(b"\n"):  # the error sits on the last line: the file was cut short
        what = f"the file ends in the middle of the XML, cut short? ({message})"
    else:
        what = f"the XML is malformed ({message})"
    try:
        scan = _scan(path, recover=True)
    except etree.XMLSyntaxError:
        scan = _Scan(root=None)
    if scan.root is None:
        raise SourceError(path, f"not readable as XML: {message}", line=line)
    _require_wxr(path, scan.root)
    bad_lines = set(scan.error_lines) | {line or 1}
    if encoding_error:  # the parser reports only the first bad byte and quietly replaces the rest
        bad_lines |= _invalid_utf8_lines(raw)
    bad = sorted(bad_lines)
    intact, damaged = [], []
    for index, (start, item) in enumerate(scan.items):
        end = scan.items[index + 1][0] - 1 if index + 1 < len(scan.items) else _closing_line(raw, start)
        at = bisect.bisect_left(bad, start)
        (damaged if at < len(bad) and bad[at] <= end else intact).append((start, item))
    found = max(len(_ITEM_TAG.findall(raw)), len(scan.items))
    if not intact:
        raise SourceError(path, f"{what}; no item could be recovered intact (~{found} in the file)", line=line)
    result = _result(path, scan, intact)
    lost = found - len(intact)
    if lost:
        result.skipped[MALFORMED] = lost
    where = f", damaged items at lines {_lines([start for start, _ in damaged])}" if damaged else ""
    hint = "; re-save the export as UTF-8 to keep them" if encoding_error else ""
    recovered = f"recovered {len(intact)} of ~{found} items, skipped {lost}"
    result.notes.insert(0, f"{path}:{line}: {what}; {recovered}{where}{hint}")
    return result


def _closing_line(raw: bytes, start_line: int) -> float:
    """Line of the first `</item>` from `start_line` on; infinite when the file ends inside the item."""
    offset = 0
    for _ in range(start_line - 1):
        offset = raw.find(b"\n", offset) + 1
    closing = raw.find(b"</item>", offset)
    return float("inf") if closing < 0 else raw.count(b"\n", 0, closing) + 1


def _invalid_utf8_lines(raw: bytes) -> set[int]:
    """Every line holding a byte that is not UTF-8."""
    # surrogateescape turns each bad byte into one lone surrogate we can find and place
    text = raw.decode("utf-8", errors="surrogateescape")
    lines, line, previous = set(), 1, 0
    for bad in _ESCAPED_BYTE.finditer(text):
        line += text.count("\n", previous, bad.start())
        lines.add(line)
        previous = bad.start()
    return lines


def _lines(lines: list[int]) -> str:
    shown = ", ".join(str(line) for line in lines[:5])
    return shown + (f" and {len(lines) - 5} more" if len(lines) > 5 else "")
