"""Read sources (files or folders) into the `records` table: sniff, read, merge, write once."""

from __future__ import annotations

import hashlib
import importlib
import json
import tempfile
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from housevoice.errors import HousevoiceError, SourceError
from housevoice.ingest.base import Document, ReadResult
from housevoice.ingest.folders import expand_source
from housevoice.ingest.sites import is_repository_file
from housevoice.ingest.tabular import NoTextColumn
from housevoice.schema import RECORDS
from housevoice.store import Workspace

# Sniffed in this order; the first whose sniff() says yes reads the file.
READER_MODULES = (
    "docx", "odt", "rtf", "pdf", "epub", "wordpress", "feed", "ghost", "email_messages", "webvtt", "srt", "plain_transcript", "x_archive", "jsonl", "csvfile",
    "htmlfile", "markdown",
)
# Readers of one kind share a source prefix (`transcript:ep07.vtt`).
SOURCE_PREFIX = {"webvtt": "transcript", "srt": "transcript", "transcript": "transcript"}
# Formats whose files carry their own ids (post ids, an id column): each file is its own
# source, so two exports in one folder never collide. Others name the folder the user gave.
OWN_IDS = {"wordpress", "feed", "ghost", "email", "jsonl", "csv", "x"}
HEAD_BYTES = 64 * 1024


def readers() -> dict[str, object]:
    """Format name -> reader module, for the readers installed."""
    found = {}
    for name in READER_MODULES:
        try:
            module = importlib.import_module(f"housevoice.ingest.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"housevoice.ingest.{name}":
                continue
            raise
        found[module.FORMAT] = module
    return found


@dataclass
class SourceSummary:
    """What one source (a file or folder the user named) gave."""

    source: str
    format: str
    files: int = 0
    read: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    skipped: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)  # files of a folder that could not be read (--skip-broken), why
    record_ids: list[str] = field(default_factory=list, repr=False)


@dataclass
class IngestSummary:
    sources: list[SourceSummary]
    total_records: int
    table_path: Path

    @property
    def new(self) -> int:
        return sum(s.new for s in self.sources)

    @property
    def changed(self) -> int:
        return sum(s.changed for s in self.sources)

    @property
    def unchanged(self) -> int:
        return sum(s.unchanged for s in self.sources)


def record_id(source: str, source_key: str) -> str:
    """Stable id: the same source and key give the same id on every ingest."""
    return "r_" + hashlib.sha1(f"{source}\x00{source_key}".encode()).hexdigest()[:16]


# Why a file in a folder was passed over (the ingest table's words), and the note's.
PASSED_OVER = {
    "empty file": "empty, skipped",
    "binary file": "not text (an image, a font, an archive …), skipped",
    "unknown format": "in no format housevoice reads (a site's config, styles, scripts …), skipped",
    "no text column": "a table with no text column, skipped (--map text=COLUMN reads it)",
    "archive": "an archive inside an archive or among a site's pages, skipped (name it on its own to read what it holds)",
    "archive without writing": "an archive holding no writing housevoice reads (images, a backup …), skipped",
    "site attachment": "a document among a site's pages (a post's attachment, not a post), skipped; name it on its own to read it",
    "repository file": "a README, LICENSE or the like: about the folder, not writing, skipped; name it on its own to read it",
}


def _is_binary(head: bytes) -> bool:
    """NUL bytes where text has none (UTF-16 with its byte-order mark aside)."""
    return b"\x00" in head[:8192] and not head.startswith((b"\xff\xfe", b"\xfe\xff"))


def _binary_format(path: Path, head: bytes, fmt: str | None, available: dict[str, object]):
    """The reader of a binary format (a Word document) that takes the file, or None."""
    candidates = [available[fmt]] if fmt else list(available.values())
    return next((m for m in candidates if getattr(m, "BINARY", False) and m.sniff(path, head)), None)


def choose_reader(path: Path, head: bytes, fmt: str | None, available: dict[str, object]):
    if fmt and fmt not in available:
        raise HousevoiceError(f"unknown format {fmt!r}; formats: {', '.join(available)}")
    if not head.strip() and not fmt:
        raise SourceError(path, "the file is empty")
    binary_reader = _binary_format(path, head, fmt, available)
    if binary_reader is not None:
        return binary_reader
    if _is_binary(head):
        raise SourceError(path, "this is a binary file, not text", hint=f"formats: {', '.join(available)}")
    if fmt:
        return available[fmt]
    for module in available.values():
        if module.sniff(path, head):
            return module
    raise SourceError(
        path, "cannot tell what format this is", hint=f"formats: {', '.join(available)}; name one with --format"
    )


def _passed_over(path: Path, head: bytes, fmt: str | None, available: dict[str, object]) -> str | None:
    """Why a file inside a folder is no source of writing (a site's images, its config, an empty file), or None.

    A folder is what a site keeps beside its posts; a file the user names is read or refused."""
    if not head.strip():
        return "empty file"
    if is_repository_file(path.name):
        return "repository file"
    if _binary_format(path, head, fmt, available) is not None:
        return None
    if path.suffix.lower() in ARCHIVE_SUFFIXES and head.startswith(b"PK"):
        return "archive"
    if _is_binary(head):
        return "binary file"
    if not fmt and not any(module.sniff(path, head) for module in available.values()):
        return "unknown format"
    return None


def _read_file(
    file: Path, key: str, head: bytes, fmt: str | None, available: dict[str, object], mapping: dict[str, str] | None,
    max_record_mb: float,
) -> tuple[object, ReadResult]:
    """(reader, what it read) of one file; SourceError when it cannot be read or holds a record over the limit."""
    module = choose_reader(file, head, fmt, available)
    result: ReadResult = module.read(file, key=key, mapping=mapping)
    for doc in result.documents:
        size = len(doc.text.encode("utf-8", "surrogatepass"))
        if size > max_record_mb * 2**20:
            raise SourceError(
                file,
                f"record {doc.source_key!r} is {size / 2**20:.1f} MB, over the {max_record_mb:g} MB limit",
                hint="split it, or raise [ingest] max_record_mb in housevoice.toml",
            )
    return module, result


# Exports often come zipped (Substack, Medium, Confluence, Google Takeout, a mailing tool's archive).
ARCHIVE_SUFFIXES = (".zip",)
# What an archive may unpack to: beyond it, a "zip bomb" or a backup of far more than writing.
MAX_ARCHIVE_BYTES = 4 * 2**30


def read_source(
    path: Path, *, fmt: str | None = None, mapping: dict[str, str] | None = None, max_record_mb: float = 20.0,
    skip_broken: bool = False,
    on_file=None,
) -> tuple[SourceSummary, list[tuple[str, Document]]]:
    """Read one file, folder or zip archive into (source, document) pairs, without touching any workspace.

    A zip archive is read as the folder it unpacks to, under the archive's name (its files' keys are
    their paths inside it, so re-ingesting the same export keeps every record_id); one found in a folder
    under its path there (one inside a site's pages or inside another archive is passed over).
    skip_broken: a file in a folder that cannot be read (a malformed export, a record over the size
    limit) is counted and named in a note instead of stopping the whole folder.
    on_file: called with (files done, files in all) as each file of a folder is read."""
    options = {"fmt": fmt, "mapping": mapping, "max_record_mb": max_record_mb, "skip_broken": skip_broken, "on_file": on_file}
    if path.is_file() and path.suffix.lower() in ARCHIVE_SUFFIXES:
        return _read_archive(path, options)
    return _read_folder_or_file(path, path.name, options)


def _read_archive(archive: Path, options: dict, name: str | None = None) -> tuple[SourceSummary, list[tuple[str, Document]]]:
    """The archive unpacked into a temporary folder and read as a folder named `name` (default: the
    archive's file name); file names in notes and errors are given as `archive.zip/inside/path`."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.infolist() if not m.is_dir()]
            if not members:
                raise SourceError(archive, "the archive holds no files")
            size = sum(m.file_size for m in members)
            if size > MAX_ARCHIVE_BYTES:
                raise SourceError(
                    archive, f"the archive unpacks to {size / 2**30:.1f} GB, over the {MAX_ARCHIVE_BYTES / 2**30:.0f} GB housevoice reads",
                    hint="unpack it yourself and ingest the folder that holds the writing",
                )
            with tempfile.TemporaryDirectory(prefix="housevoice-archive-") as tmp:
                zf.extractall(tmp)  # (zipfile drops absolute paths and `..` from member names)
                try:
                    summary, docs = _read_folder_or_file(Path(tmp), name or archive.name, options, archives=False)
                except SourceError as exc:  # (of its own kind: a folder of no writing stays one)
                    raise type(exc)(
                        _in_archive(exc.path, tmp, archive), _in_archive(exc.reason, tmp, archive), line=exc.line, hint=exc.hint
                    ) from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
        raise SourceError(archive, f"not a zip archive that can be read ({exc})") from None
    except OSError as exc:
        raise SourceError(archive, f"cannot unpack the archive ({exc.strerror or exc})") from None
    summary.notes = [_in_archive(note, tmp, archive) for note in summary.notes]
    summary.broken = [_in_archive(why, tmp, archive) for why in summary.broken]
    return summary, docs


class NoWriting(SourceError):
    """A folder (or archive) none of whose files holds writing housevoice reads."""


def _merge(summary: SourceSummary, inner: SourceSummary, docs: list, found: list) -> None:
    """An archive's summary and documents into those of the folder that holds it."""
    docs.extend(found)
    summary.record_ids.extend(inner.record_ids)
    summary.files += inner.files
    summary.read += inner.read
    summary.skipped.update(inner.skipped)
    summary.notes.extend(inner.notes)
    summary.broken.extend(inner.broken)


def _broken(summary: SourceSummary, exc: SourceError, skip_broken: bool) -> None:
    """A file of a folder that cannot be read: counted and named with --skip-broken, else the ingest stops."""
    if not skip_broken:
        if exc.hint and "--skip-broken" in exc.hint:  # (said already, by an archive's own folder)
            raise exc
        hint = (exc.hint + "; " if exc.hint else "") + "--skip-broken reads the rest of the folder and names this file"
        raise type(exc)(exc.path, exc.reason, line=exc.line, hint=hint) from None
    summary.skipped["broken file"] += 1
    summary.broken.append(str(exc))


def _in_archive(text: str, folder: str, archive: Path) -> str:
    return text.replace(folder, str(archive))


def _read_folder_or_file(
    path: Path, name: str, options: dict, archives: bool = True
) -> tuple[SourceSummary, list[tuple[str, Document]]]:
    """`read_source` of a file or folder (`options`: its keyword arguments); `name` names the source (the
    folder's, or the archive's); archives: open the zip archives the folder holds (each a source of its own)."""
    fmt, mapping, skip_broken, on_file = options["fmt"], options["mapping"], options["skip_broken"], options["on_file"]
    available = readers()
    if fmt and fmt not in available:
        raise HousevoiceError(f"unknown format {fmt!r}; formats: {', '.join(available)}")
    expanded = expand_source(path)
    summary = SourceSummary(source=name, format=fmt or "", notes=list(expanded.notes))
    if expanded.not_writing:
        summary.skipped["site files, not writing"] = expanded.not_writing
    docs: list[tuple[str, Document]] = []
    formats = set()
    for done, (file, key) in enumerate(expanded.files):
        if on_file is not None:
            on_file(done, len(expanded.files))
        with open(file, "rb") as fh:
            head = fh.read(HEAD_BYTES)
        why = _passed_over(file, head, fmt, available) if path.is_dir() else None
        if why is None and path.is_dir() and expanded.in_site(file) and _binary_format(file, head, fmt, available):
            why = "site attachment"  # a site's pages are its text files; a PDF beside them is a download
        if why == "archive" and archives and not expanded.in_site(file):
            try:
                # Named by its path in the folder, as a WordPress export there is: two monthly `export.zip`
                # in dated folders are two sources.
                inner, found = _read_archive(file, {**options, "on_file": None}, name=f"{name}/{key}")
            except NoWriting:
                why = "archive without writing"
            except SourceError as exc:
                _broken(summary, exc, skip_broken)
                continue
            else:
                _merge(summary, inner, docs, found)
                formats.update(f for f in inner.format.split(", ") if f)
                continue
        if why:  # one such file in a folder should not stop the rest
            summary.skipped[why] += 1
            summary.notes.append(f"{file}: {PASSED_OVER[why]}")
            continue
        try:
            module, result = _read_file(file, key, head, fmt, available, mapping, options["max_record_mb"])
        except NoTextColumn:
            if not path.is_dir() or mapping:
                raise
            summary.skipped["no text column"] += 1
            summary.notes.append(f"{file}: {PASSED_OVER['no text column']}")
            continue
        except SourceError as exc:
            if not path.is_dir():
                raise
            _broken(summary, exc, skip_broken)
            continue
        formats.add(module.FORMAT)
        prefix = SOURCE_PREFIX.get(module.FORMAT, module.FORMAT)
        per_file = module.FORMAT in OWN_IDS and path.is_dir()
        source = f"{prefix}:{name}/{key}" if per_file else f"{prefix}:{name}"
        for doc in result.documents:
            docs.append((source, doc))
            summary.record_ids.append(record_id(source, doc.source_key))
        summary.files += 1
        summary.read += len(result.documents)
        summary.skipped.update(result.skipped)
        summary.notes.extend(result.notes)
    if path.is_dir() and not formats:
        passed = ", ".join(f"{n} {why}" for why, n in sorted(summary.skipped.items()))
        raise NoWriting(
            path,
            f"no file in the folder holds writing housevoice reads ({passed})",
            hint=f"formats: {', '.join(available)}; name one with --format, or give the folder that holds the posts",
        )
    summary.format = ", ".join(sorted(formats))
    return summary, docs


def documents_frame(docs: list[tuple[str, Document]]) -> pl.DataFrame:
    rows = {name: [] for name in RECORDS.names()}
    for source, d in docs:
        rows["record_id"].append(record_id(source, d.source_key))
        rows["source_key"].append(d.source_key)
        rows["source"].append(source)
        rows["kind"].append(d.kind or "post")
        rows["author"].append(d.author)
        rows["title"].append(d.title)
        rows["text"].append(d.text)
        rows["published_at"].append(d.published_at)
        rows["url"].append(d.url)
        rows["status"].append(d.status)
        rows["meta"].append(json.dumps(d.meta, ensure_ascii=False, default=str, sort_keys=True))
    return pl.DataFrame(rows, schema=RECORDS)


def _row_hashes(frame: pl.DataFrame) -> pl.DataFrame:
    cols = [c for c in RECORDS.names() if c != "record_id"]
    return frame.select("record_id", pl.struct(cols).hash(seed=7).alias("h"))


def merge_records(existing: pl.DataFrame, incoming: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The new records table (old order kept, changed rows updated in place, new rows appended)
    and a frame of record_id -> status (new / changed / unchanged)."""
    old = _row_hashes(existing).rename({"h": "old"})
    new = _row_hashes(incoming).rename({"h": "new"})
    status = new.join(old, on="record_id", how="left").select(
        "record_id",
        pl.when(pl.col("old").is_null()).then(pl.lit("new"))
        .when(pl.col("old") != pl.col("new")).then(pl.lit("changed"))
        .otherwise(pl.lit("unchanged")).alias("status"),
    )
    changed_ids = status.filter(pl.col("status") == "changed")["record_id"]
    new_ids = status.filter(pl.col("status") == "new")["record_id"]
    merged = existing
    if len(changed_ids):
        merged = merged.update(incoming.filter(pl.col("record_id").is_in(changed_ids.implode())), on="record_id", include_nulls=True)
    merged = pl.concat([merged, incoming.filter(pl.col("record_id").is_in(new_ids.implode()))], how="vertical")
    return merged, status


def ingest_sources(
    workspace: Workspace | Path | str,
    sources: list[Path | str],
    *,
    fmt: str | None = None,
    mapping: dict[str, str] | None = None,
    progress=None,
    skip_broken: bool = False,
    on_file=None,
    dry_run: bool = False,
) -> IngestSummary:
    """Read every source, then merge into `records` in one atomic write (all or nothing).

    dry_run: read and count (new, changed, unchanged against the table) but write nothing."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)
    if not sources:
        raise HousevoiceError("no sources given", hint="e.g. `housevoice ingest WS export.xml transcripts/`")
    summaries: list[SourceSummary] = []
    docs: list[tuple[str, Document]] = []
    for src in sources:
        summary, found = read_source(
            Path(src), fmt=fmt, mapping=mapping, max_record_mb=ws.config.ingest.max_record_mb, skip_broken=skip_broken,
            on_file=(lambda done, total, src=src: on_file(Path(src), done, total)) if on_file else None,
        )
        summaries.append(summary)
        docs.extend(found)
        if progress:
            progress(summary)
    incoming = documents_frame(docs)
    dup = incoming.filter(pl.col("record_id").is_duplicated())
    if len(dup):
        first = dup.row(0, named=True)
        raise SourceError(first["source"], f"the key {first['source_key']!r} appears more than once")
    with ws.lock():
        existing = ws.read_table("records")
        merged, status = merge_records(existing, incoming)
        status_of = dict(status.iter_rows())
        for s in summaries:
            c = Counter(status_of[rid] for rid in s.record_ids)
            s.new, s.changed, s.unchanged = c["new"], c["changed"], c["unchanged"]
        path = ws.table_path("records") if dry_run else ws.write_table("records", merged)
    return IngestSummary(sources=summaries, total_records=len(merged), table_path=path)
