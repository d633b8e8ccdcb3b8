"""Markdown or plain-text posts, one per file, with optional YAML (---) or TOML (+++) front matter."""

from __future__ import annotations

from pathlib import Path

from housevoice.ingest import plain_transcript, srt, webvtt
from housevoice.ingest.base import Document, ReadResult
from housevoice.ingest.front_matter import first_heading, post_fields, split_front_matter
from housevoice.ingest.text_decoding import head_text, read_text

FORMAT = "markdown"
SUFFIXES = (".md", ".markdown", ".mdown", ".mkd", ".txt", ".text")


def sniff(path: Path, head: bytes) -> bool:
    if path.suffix.lower() not in SUFFIXES or not head_text(head).strip():
        return False
    return not any(reader.sniff(path, head) for reader in (webvtt, srt, plain_transcript))


def read(path: Path, *, key: str, mapping: dict[str, str] | None = None) -> ReadResult:
    text, notes = read_text(path)
    matter = split_front_matter(text, path)
    if not matter.body.strip():
        notes.append(f"{path}: no text after the front matter; nothing read")
        return ReadResult(documents=[], skipped={"no text": 1}, notes=notes)
    post = post_fields(matter, path, notes)
    title = post.pop("title") or first_heading(matter.body) or path.stem
    kind = post.pop("kind") or "post"
    post["meta"]["format"] = "text" if path.suffix.lower() in (".txt", ".text") else "markdown"
    document = Document(source_key=key, text=matter.body, kind=kind, title=title, **post)
    return ReadResult(documents=[document], notes=notes)
