"""Front matter of posts and show notes: YAML between `---` lines or TOML between `+++` lines."""

from __future__ import annotations

import functools
import json
import re
import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt

from housevoice.errors import SourceError
from housevoice.ingest.base import parse_written_datetime

# Where static-site generators keep the author: Jekyll/Hugo/Zola `author(s)`, Go's blog `by`.
AUTHOR_KEYS = ("authors", "author", "by", "byline", "creator", "created_by")
DATE_KEYS = (
    "date", "published", "published_at", "publishDate", "publish_date", "pubDate", "pubdate", "pub_date", "datePublished",
    "date_published", "datetime", "created", "created_at",
)
URL_KEYS = ("url", "permalink", "link", "canonical_url")
KINDS = ("post", "page", "newsletter")
_FENCES = {"---": ("yaml", ("---", "...")), "+++": ("toml", ("+++",))}


@dataclass
class FrontMatter:
    """A file split into its front matter fields ({} when none) and its body."""

    fields: dict[str, Any]
    body: str
    body_line: int = 1


def split_front_matter(text: str, path: Path) -> FrontMatter:
    """Front matter between `---` (YAML) or `+++` (TOML) lines at the top; bad front matter is a SourceError."""
    lines = text.split("\n")
    fence = lines[0].rstrip()
    if fence not in _FENCES:
        return FrontMatter(fields={}, body=text)
    language, closers = _FENCES[fence]
    close = next((i for i in range(1, len(lines)) if lines[i].rstrip() in closers), None)
    if close is None:
        raise SourceError(
            path, f"the front matter opened with {fence!r} is never closed", line=1,
            hint=f"end it with a {closers[0]!r} line",
        )
    block = "\n".join(lines[1:close])
    fields = _parse_yaml(block, path) if language == "yaml" else _parse_toml(block, path)
    if fields is None:
        fields = {}
    if not isinstance(fields, dict):
        raise SourceError(
            path, f"the front matter is a {type(fields).__name__}, not `key: value` lines", line=2,
        )
    return FrontMatter(fields=fields, body="\n".join(lines[close + 1 :]), body_line=close + 2)


# Notion's markdown export: `Title <32-hex id>.md`, the page's title as its first heading, then a
# database page's properties as `Name: value` lines ("Created: January 5, 2024 3:04 PM", "Tags: a, b").
_NOTION_NAME = re.compile(r" [0-9a-f]{32}$")
_PROPERTY = re.compile(r"^([A-Z][\w ]{0,39}?): (\S.*)$")
_NOTION_KEYS = {
    "created", "created_time", "date", "publish_date", "published", "published_at", "author", "authors", "created_by",
    "tags", "status", "type", "url", "slug", "last_edited_time", "category", "categories",
}


def notion_properties(text: str, path: Path) -> FrontMatter | None:
    """A Notion page's title and properties as front matter (None for any other file): the title heading
    and the property lines are not the page's text."""
    if not _NOTION_NAME.search(path.stem):
        return None
    lines = text.split("\n")
    if not lines[0].startswith("# ") or len(lines) < 3 or lines[1].strip():
        return None
    fields: dict[str, Any] = {}
    end = 2
    while end < len(lines) and (found := _PROPERTY.match(lines[end].rstrip())):
        key, value = found.group(1).strip().lower().replace(" ", "_"), found.group(2).strip()
        # Checkboxes are written Yes / No; multi-selects and people as a list with ", ".
        fields[key] = {"yes": True, "no": False}.get(value.lower(), value)
        if key in ("tags", "categories", "authors") and isinstance(fields[key], str):
            fields[key] = [item.strip() for item in value.split(", ") if item.strip()]
        end += 1
    if not fields.keys() & _NOTION_KEYS or (end < len(lines) and lines[end].strip()):
        fields = {}
        end = 2
    body = "\n".join(lines[end:]).lstrip("\n")
    return FrontMatter(fields={"title": lines[0][2:].strip(), **fields}, body=body, body_line=end + 1)


def _parse_yaml(block: str, path: Path) -> Any:
    try:
        return yaml.safe_load(block)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).split("\n")[0]
        line = mark.line + 2 if mark is not None else 2  # +1 for the opening fence, +1 from 0-based
        raise SourceError(path, f"bad YAML front matter ({problem})", line=line) from None


def _parse_toml(block: str, path: Path) -> Any:
    try:
        return tomllib.loads(block)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        line = int(found.group(1)) + 1 if found else 2
        reason = re.sub(r"\s*\(at line .*\)$", "", str(exc))
        raise SourceError(path, f"bad TOML front matter ({reason})", line=line) from None


def post_fields(matter: FrontMatter, path: Path, notes: list[str]) -> dict[str, Any]:
    """title, author, published_at, url, status, kind and meta from front matter fields."""
    fields = matter.fields
    meta: dict[str, Any] = {}
    if fields:
        meta["front_matter"] = fields
    authors = next((names for key in AUTHOR_KEYS if (names := _names(fields.get(key)))), [])
    if authors:
        index = author_index(path.parent)
        authors = [index.get(name, name) for name in authors]
    if len(authors) > 1:
        meta["authors"] = authors
    for name in ("tags", "categories"):
        values = _names(fields.get(name))
        if values:
            meta[name] = values
    if fields.get("slug"):
        meta["slug"] = str(fields["slug"])
    # (`published: true` is a status, not a date.)
    date_key = next((k for k in DATE_KEYS if fields.get(k) not in (None, "") and not isinstance(fields[k], bool)), None)
    published_at = _date(fields[date_key], path, date_key, notes) if date_key else None
    url = next((str(fields[k]) for k in URL_KEYS if fields.get(k)), None)
    kind = str(fields.get("type") or fields.get("layout") or "").lower()
    title = fields.get("title")
    return {
        "title": str(title).strip() if title not in (None, "") else None,
        "author": " & ".join(authors) if authors else None,
        "published_at": published_at,
        "url": url,
        "status": _status(fields),
        "kind": kind if kind in KINDS else None,
        "meta": meta,
    }


# Where a site keeps its authors' names under the keys its posts use (`authors: [slorber]`):
# Docusaurus's blog/authors.yml, Jekyll's _data/authors.yml.
AUTHOR_FILES = ("authors.yml", "authors.yaml", "authors.json", "_data/authors.yml", "_data/authors.yaml", "_data/authors.json")
_AUTHOR_FILE_LEVELS = 4


# Hugo keeps one file or page per author: data/authors/<key>.yaml, or the taxonomy's pages
# content/authors/<key>/_index.md (whose title or name is the author's name; found from the content folder).
AUTHOR_FOLDERS = ("authors", "data/authors")


def author_index(folder: Path) -> dict[str, str]:
    """Author key -> name, from the authors files (or Hugo's authors folders) in the folder and the folders
    above it, the nearest first where two name one key ({} when none)."""
    names: dict[str, str] = {}
    for here in [folder, *folder.parents][:_AUTHOR_FILE_LEVELS]:
        for name in AUTHOR_FILES:
            candidate = here / name
            if candidate.is_file():
                names = {**_read_author_file(candidate, candidate.stat().st_mtime_ns), **names}
        for name in AUTHOR_FOLDERS:
            candidate = here / name
            if candidate.is_dir():
                names = {**_read_author_folder(candidate, candidate.stat().st_mtime_ns), **names}
    return names


@functools.lru_cache(maxsize=16)
def _read_author_folder(folder: Path, _mtime: int) -> dict[str, str]:
    """Hugo's authors: `<key>.yaml|toml|json` data files, or `<key>/_index.md` pages with front matter."""
    names = {}
    for entry in sorted(folder.iterdir()):
        fields: Any = None
        try:
            if entry.is_dir() and (entry / "_index.md").is_file():
                page = entry / "_index.md"
                fields = split_front_matter(page.read_text(encoding="utf-8"), page).fields
            elif entry.suffix in (".yaml", ".yml"):
                fields = yaml.safe_load(entry.read_text(encoding="utf-8"))
            elif entry.suffix == ".toml":
                fields = tomllib.loads(entry.read_text(encoding="utf-8"))
            elif entry.suffix == ".json":
                fields = json.loads(entry.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError, SourceError):
            continue  # an unreadable author names nobody
        if isinstance(fields, dict):
            name = fields.get("name") or fields.get("title") or fields.get("display_name")
            if isinstance(name, dict):  # (Hugo Blox: name: {given: …, family: …, display: …})
                name = name.get("display") or " ".join(str(name[k]) for k in ("given", "family") if name.get(k))
            if name:
                names[entry.stem if entry.is_file() else entry.name] = str(name).strip()
    return names


@functools.lru_cache(maxsize=16)
def _read_author_file(path: Path, _mtime: int) -> dict[str, str]:
    """The file's key -> name pairs (`key: {name: …}` or `key: Name`); an unreadable file names nobody."""
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError):
        return {}
    if not isinstance(data, dict):
        return {}
    names = {}
    for key, value in data.items():
        found = _names(value) if isinstance(value, (dict, str)) else []
        if found and found[0]:
            names[str(key)] = found[0]
    return names


def _names(value: Any) -> list[str]:
    """Authors or tags as a list of strings: a string, a list, or `{name: ...}` entries."""
    if value in (None, ""):
        return []
    if isinstance(value, dict):
        value = value.get("name") or value.get("display_name") or ""
        return [str(value)] if value else []
    if isinstance(value, (list, tuple)):
        return [name for item in value for name in _names(item)]
    return [str(value).strip()]


def _date(value: Any, path: Path, key: str, notes: list[str]) -> datetime | None:
    try:
        return parse_written_datetime(value)
    except ValueError:
        pass
    notes.append(f"{path}: unreadable {key} {value!r} in the front matter; published_at left empty")
    return None


def _status(fields: dict[str, Any]) -> str | None:
    if fields.get("status"):
        return str(fields["status"])
    if fields.get("draft") is True or fields.get("published") is False:
        return "draft"
    if fields.get("draft") is False or fields.get("published") is True:
        return "publish"
    return None


def first_heading(body: str) -> str | None:
    """The text of the first level-1 heading (`# Title` or `Title` over `===`), if any."""
    tokens = MarkdownIt("commonmark").parse(body)
    for opening, inline in zip(tokens, tokens[1:]):
        if opening.type == "heading_open" and opening.tag == "h1" and inline.content.strip():
            return inline.content.strip()
    return None
