"""Markdown or plain-text posts, one per file, with optional YAML (---) or TOML (+++) front matter."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from housevoice.ingest import plain_transcript, srt, webvtt
from housevoice.ingest.base import Document, ReadResult
from housevoice.ingest.front_matter import first_heading, notion_properties, post_fields, split_front_matter
from housevoice.ingest.text_decoding import head_text, read_text

FORMAT = "markdown"
# A date in the file's path, as static-site generators write it: Jekyll's `_posts/2020-01-05-slug.md`,
# `2024/05/17/slug/index.md` (Hugo page bundles, Zola, Eleventy).
PATH_DATE = re.compile(r"(?:^|[/_-])((?:19|20)\d{2})[-/](0[1-9]|1[0-2])[-/](0[1-9]|[12]\d|3[01])(?=[/_.-]|$)")
SUFFIXES = (".md", ".mdx", ".markdown", ".mdown", ".mkd", ".txt", ".text")


def sniff(path: Path, head: bytes) -> bool:
    if path.suffix.lower() not in SUFFIXES or not head_text(head).strip():
        return False
    return not any(reader.sniff(path, head) for reader in (webvtt, srt, plain_transcript))


def read(path: Path, *, key: str, mapping: dict[str, str] | None = None) -> ReadResult:
    text, notes = read_text(path)
    return read_string(text, path, key=key, notes=notes)


def read_document(
    lines: str, text: str, path: Path, *, key: str, notes: list[str], shape: str, title: str | None = None,
    author: str | None = None, created: datetime | None = None,
) -> ReadResult:
    """A word processor's document or a PDF: speaker turns when its `lines` (or paragraphs, `text`) carry
    speaker labels, else one post of `text`, the document's properties standing in for what it does not say."""
    for candidate in (lines, text):
        if plain_transcript.transcript_style(candidate) is not None:
            return plain_transcript.read_string(candidate, path, key=key, notes=notes)
    return read_string(text, path, key=key, notes=notes, title=title, shape=shape, author=author, created=created)


def read_string(
    text: str, path: Path, *, key: str, notes: list[str], title: str | None = None, shape: str | None = None,
    created: datetime | None = None, **fields,
) -> ReadResult:
    """One post from a file's text. `title`, `shape` (the record's meta `format`) and other record
    fields (`author`, `published_at`) stand in where the text's front matter gives none; `created`
    (a document's creation date) where neither it nor the path gives a date."""
    matter = split_front_matter(text, path)
    if not matter.fields and (notion := notion_properties(text, path)) is not None:
        matter, shape = notion, shape or "notion"
    if not matter.body.strip():
        notes.append(f"{path}: no text after the front matter; nothing read")
        return ReadResult(documents=[], skipped={"no text": 1}, notes=notes)
    post = post_fields(matter, path, notes)
    for name, value in fields.items():
        if post.get(name) is None and value is not None:
            post[name] = value
    if post["published_at"] is None:
        post["published_at"] = date_in_path(key)
        if post["published_at"] is not None:
            post["meta"]["date_from"] = "path"
    if post["published_at"] is None and created is not None:
        post["published_at"] = created
        post["meta"]["date_from"] = "document properties (created)"
    title = (
        post.pop("title") or title or first_heading(matter.body) or PATH_DATE.sub("", path.stem).strip("-_ ") or path.stem
    )
    # Hugo's and Zola's `_index.md` is a section's landing page, not a post.
    kind = post.pop("kind") or ("page" if path.name.lower() in ("_index.md", "_index.markdown") else "post")
    if post.get("status") is None and "_drafts" in Path(key.replace("\\", "/")).parts:
        post["status"] = "draft"  # Jekyll keeps unpublished posts in _drafts/
    suffix = path.suffix.lower()
    post["meta"]["format"] = shape or ("text" if suffix in (".txt", ".text") else "mdx" if suffix == ".mdx" else "markdown")
    document = Document(source_key=key, text=matter.body, kind=kind, title=title, **post)
    return ReadResult(documents=[document], notes=notes)


def date_in_path(key: str) -> datetime | None:
    """The last date a file's path holds (`_posts/2020-01-05-slug.md`, `2024/05/17/slug/`), or None."""
    for year, month, day in reversed(PATH_DATE.findall(key.replace("\\", "/"))):
        try:
            return datetime(int(year), int(month), int(day))
        except ValueError:  # 2023-02-30
            continue
    return None
