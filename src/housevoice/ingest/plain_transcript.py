"""Plain-text transcripts -> one document per speaker turn.

Four styles: show notes with `**Name:** text` paragraphs (a time or a time range in brackets may
open them: `[00:00:15 → 00:01:02] **Name:** text`); auto-transcription exports (Otter and the
like) with a `Name  0:25` line above each block of text (also `Name (00:01:02)`, `Name [00:01:02]`,
`[Name] 00:01:02`, the time first: `[00:00:00.00] - Name`, or the time or time range on a line of
its own under the name); and plain `Name: text` lines, with a time before the name (`[00:01:02]
Name: text`, Descript; `00:01:02 Name: text`), after it (`Name (00:01:02): text`, Rev; the text
may start on the next line, after a time of its own) or on a line of its own above it (the label
may stand alone on its line); and cues of a timing line, the speaker's
name and the words (`0:0:5.330 --> 0:0:9.120`, as Teams' older Word download has them).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from housevoice.errors import SourceError
from housevoice.ingest.base import ReadResult
from housevoice.ingest.front_matter import first_heading, post_fields, split_front_matter
from housevoice.ingest.text_decoding import head_text, read_text
from housevoice.ingest.transcript_turns import (
    SPEAKER_FORMATS_HINT,
    Utterance,
    clock_from_text,
    merge_turns,
    turn_documents,
)

FORMAT = "transcript"
SUFFIXES = (".md", ".markdown", ".mdown", ".mkd", ".txt", ".text")

_TIME = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?"
# `**Daniel Whitenack:** Welcome to...`; the colon inside the bold is what marks a speaker. A time
# or time range in brackets may come first (`[00:00:15 → 00:01:02] **Name:**`).
_LABEL = re.compile(
    rf"^(?:\\?\[(?P<lead>{_TIME})(?:[ \t]*(?:→|-->|–|-)[ \t]*{_TIME})?\\?\][ \t]*)?"
    r"\*\*(?P<name>[^*\n]{1,80}?):\*\*[ \t]*"
)
# `\[12:34\]` or `[01:02:03]` opening a paragraph: when it was said.
_TIMESTAMP = re.compile(r"^\\?\[(?P<time>\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?)\\?\]")
# `Speaker Name  0:25` alone on a line, above the text it introduces; the time or the name may be
# in brackets (`Speaker Name (00:01:02)`, `[Speaker Name] 00:01:02`).
_HEADER = re.compile(
    r"^(?P<open>\[)?(?P<name>[^\W\d_][\w.'’-]*(?: [\w.'’-]+){0,4})(?(open)\])"
    r"[ \t]+(?P<bracket>[\[(])?(?P<time>\d{1,2}:\d{2}(?::\d{2})?)(?(bracket)[\])])[ \t]*$"
)
_TIME_LINE = re.compile(rf"^[ \t]*[\[(]?{_TIME}[\])]?[ \t]*$")
# The time before the name, alone on a line above the words (`[00:00:00.00] - Name`, Happy Scribe;
# `00:01:02 Name`).
_TIME_FIRST_HEADER = re.compile(
    rf"^(?P<bracket>[\[(])?(?P<time>{_TIME})(?(bracket)[\])])[ \t]*(?:[-–—|][ \t]*)?"
    r"(?P<name>[^\W\d_][\w.'’-]*(?: [\w.'’-]+){0,4})[ \t]*$"
)
# A time or a time range alone on the line under a name, the words below it (`Name` / `00:01:02 - 00:01:09`).
_TIME_UNDER = re.compile(rf"^[ \t]*[\[(]?(?P<time>{_TIME})[\])]?(?:[ \t]*(?:→|-->|–|-)[ \t]*[\[(]?{_TIME}[\])]?)?[ \t]*$")
# A time opening the text under a label (`Name: (00:01)` above the words).
_LEADING_TIME = re.compile(rf"^[\[(](?P<time>{_TIME})[\])][ \t]*\n?")
# `Name: text`, `NAME: text`, `[00:01:02] Name: text`, `Name (00:01:02):`: up to four words,
# each capitalized or a number (`Speaker 1`, `Dr. Jane Smith`).
_PLAIN_LABEL = re.compile(
    rf"^(?:[\[(](?P<time_before>{_TIME})[\])][ \t]*|(?P<bare_time>{_TIME})[ \t]+)?"
    r"(?P<name>[^\W\d_a-z][\w.'’-]*(?:[ \t](?:[^\W_a-z][\w.'’-]*|\d+)){0,3})"
    rf"(?:[ \t]*[\[(](?P<time_after>{_TIME})[\])])?[ \t]*:(?:[ \t]+|$)"
)
# How a label alone on its line names a speaker: in capitals, as two words or more, or "Speaker 2".
_SPEAKER_NAME = re.compile(r"^(?:[^\W\d_a-z][^\Wa-z]*(?:[ \t][^\Wa-z]+)*|\S+(?:[ \t]\S+)+)$")
# Labels that head a line of prose, not a speaker (a post with a few of them is not a transcript).
_NOT_SPEAKERS = {
    "note", "notes", "update", "updated", "edit", "example", "warning", "tip", "step", "source", "sources",
    "question", "answer", "q", "a", "tl;dr", "tldr", "ps", "p.s", "p.s.", "important", "summary",
    "caution", "disclaimer", "hint", "info", "todo", "fixme", "see also", "related", "credit", "credits",
    "photo", "image", "via", "date", "time", "location", "where", "when", "what", "who", "why", "how",
    "topics", "links", "sponsor", "sponsors", "resources", "timestamps", "show notes", "episode", "featuring",
    "transcript", "bonus", "fun fact", "pro tip", "reminder", "heads up", "deadline", "cost", "price",
}
# The line such services put under the last block; it is nobody's speech.
_SERVICE_FOOTER = re.compile(r"\n[ \t]*Transcribed by https?://\S+[ \t]*$", re.IGNORECASE)
_ATX_TITLE = re.compile(r"^#[ \t]+\S")
# A file is a transcript when this share of its paragraphs open with a speaker label.
MIN_LABEL_SHARE = 0.25


def sniff(path: Path, head: bytes) -> bool:
    # structured files (JSONL, CSV, XML) may quote transcripts; only text files are one
    if path.suffix.lower() not in SUFFIXES and path.suffix:
        return False
    return _head_style(head_text(head)) is not None


@functools.lru_cache(maxsize=16)
def _head_style(head: str) -> str | None:
    """`transcript_style` of a file's head, once for the readers that all sniff it (markdown asks too)."""
    return transcript_style(head)


def transcript_style(text: str) -> str | None:
    """`speaker_paragraphs`, `speaker_headers`, `speaker_lines`, `speaker_cues`, or None when the text
    is not a transcript."""
    paragraphs = [p for p in re.split(r"\n[ \t]*\n", text) if p.strip()]
    labels = sum(1 for p in paragraphs if (m := _LABEL.match(p.lstrip())) and not _is_prose_label(m["name"]))
    if labels >= 2 and labels / len(paragraphs) >= MIN_LABEL_SHARE:
        return "speaker_paragraphs"
    if _looks_like_headers(text.split("\n")):
        return "speaker_headers"
    if _looks_like_plain_labels(text, paragraphs):
        return "speaker_lines"
    cues = _cue_lines(text.split("\n"))
    if len(cues) >= 2 and len({name for _, name in cues}) < len(cues):
        return "speaker_cues"
    return None


def _looks_like_headers(lines: list[str]) -> bool:
    """Two `Name  0:25` lines or more. Other header shapes (brackets, the time first, the time on a line
    of its own) are ones prose takes too (`Keynote (09:00)` heading an agenda): there four headers or
    more must be shared by two speakers or more whose names come back (half as many names as headers at
    most), and the headed blocks make up half the text."""
    headers = _headers(lines)
    if len(headers) < 2:
        return False
    if not any(h.loose for h in headers):
        return True
    names = [h.name for h in headers]
    paragraphs = sum(1 for n, line in enumerate(lines) if line.strip() and (n == 0 or not lines[n - 1].strip()))
    # Speakers take turns, so their names come back again and again; an agenda's items mostly do not.
    distinct = len(set(names))
    return len(names) >= 4 and 2 <= distinct <= max(2, len(names) // 2) and len(headers) >= 0.5 * paragraphs


def _is_prose_label(name: str) -> bool:
    return name.strip().lower().rstrip(".") in _NOT_SPEAKERS


def _plain_labels(lines: list[str]) -> list[tuple[int, re.Match]]:
    """(index, match) of each line that opens with a plain `Name:` label of a speaker, from the
    first label whose name comes back (`Episode 7: Title` above the talk is its title)."""
    found = []
    for i, line in enumerate(lines):
        match = _PLAIN_LABEL.match(line.strip())
        if match and not _is_prose_label(match["name"]):
            # A label with nothing after it but a time needs text on the next line (Rev's style); so does
            # one alone on its line, when it names a speaker the way transcripts do (`SPEAKER 2:`, `Maya
            # Chen:`): a post's "Ingredients:" heads a list.
            rest = line.strip()[match.end():].strip()
            timed = match["time_before"] or match["bare_time"] or match["time_after"] or _LEADING_TIME.fullmatch(rest)
            named = timed or _SPEAKER_NAME.match(match["name"])
            if (rest and not _LEADING_TIME.fullmatch(rest)) or (named and i + 1 < len(lines) and lines[i + 1].strip()):
                found.append((i, match))
    names = [m["name"] for _, m in found]
    recurring = next((n for n, name in enumerate(names) if names.count(name) > 1), len(found))
    return found[recurring:]


def _looks_like_plain_labels(text: str, paragraphs: list[str]) -> bool:
    """Half the lines or paragraphs open with a label, at least two speakers, one of them twice."""
    lines = text.split("\n")
    labels = _plain_labels(lines)
    if len(labels) < 4:
        return False
    names = [m["name"] for _, m in labels]
    if len(set(names)) < 2 or max(names.count(n) for n in set(names)) < 2:
        return False
    nonblank = sum(1 for line in lines if line.strip())
    return len(labels) >= 0.5 * min(nonblank, len(paragraphs))


def read(path: Path, *, key: str, mapping: dict[str, str] | None = None) -> ReadResult:
    text, notes = read_text(path)
    return read_string(text, path, key=key, notes=notes)


def read_string(text: str, path: Path, *, key: str, notes: list[str]) -> ReadResult:
    """The turns of a transcript's text (read from `path`, which names it in errors)."""
    matter = split_front_matter(text, path)
    style = transcript_style(matter.body)
    if style is None:
        raise SourceError(path, "no speaker labels found", hint=SPEAKER_FORMATS_HINT)
    lines = matter.body.split("\n")
    offset = matter.body_line - 1
    skipped: dict[str, int] = {}
    if style == "speaker_paragraphs":
        heading, utterances, before = _labelled_paragraphs(lines, offset)
    elif style == "speaker_lines":
        heading, utterances, before = _labelled_lines(lines, offset)
    elif style == "speaker_cues":
        heading, utterances, before = _cue_blocks(lines, offset)
    else:
        heading, utterances, before = _headed_blocks(lines, offset)
        if utterances and _SERVICE_FOOTER.search(utterances[-1].text):
            utterances[-1].text = _SERVICE_FOOTER.sub("", utterances[-1].text)
            skipped["transcription service footer"] = 1
    if before:
        # a title block or show-notes intro is not anyone's turn; counted so the user sees it
        skipped["text before the first speaker"] = before
    turns = merge_turns(utterances, joiner="\n\n")
    post = post_fields(matter, path, notes)
    documents = turn_documents(
        turns,
        key=key,
        episode=path.stem,
        title=post["title"] or heading or path.stem,
        published_at=post["published_at"],
        url=post["url"],
    )
    return ReadResult(documents=documents, skipped=skipped, notes=notes)


def _paragraphs(lines: list[str], offset: int) -> list[tuple[int, str]]:
    """(first line number, text) of each blank-line-separated paragraph, text exactly as in the file."""
    found: list[tuple[int, str]] = []
    current: list[str] = []
    start = 0
    for number, line in enumerate(lines, start=offset + 1):
        if line.strip():
            if not current:
                start = number
            current.append(line)
        elif current:
            found.append((start, "\n".join(current)))
            current = []
    if current:
        found.append((start, "\n".join(current)))
    return found


def _labelled_paragraphs(lines: list[str], offset: int) -> tuple[str | None, list[Utterance], int]:
    """The `# Title` above the first label, one utterance per paragraph from the first label on
    (unlabelled ones continue the turn), and how many paragraphs came before the first label."""
    heading = None
    before = 0
    utterances: list[Utterance] = []
    for number, paragraph in _paragraphs(lines, offset):
        match = _LABEL.match(paragraph.lstrip())
        if match is None:
            if utterances:
                utterances.append(Utterance(speaker=None, text=paragraph, line=number))
            elif heading is None and _ATX_TITLE.match(paragraph) and "\n" not in paragraph:
                heading = first_heading(paragraph)
            else:
                before += 1
            continue
        said = paragraph.lstrip()[match.end():]
        stamp = _TIMESTAMP.match(said)
        time = match["lead"] or (stamp["time"] if stamp else None)
        utterances.append(
            Utterance(speaker=match["name"].strip(), text=said, line=number, start=clock_from_text(time) if time else None)
        )
    return heading, utterances, before


# `0:0:5.330 --> 0:0:9.120` alone on a line, the speaker's name on the next (Teams' older Word download).
_CUE_TIMING = re.compile(r"^[ \t]*(?P<start>\d{1,2}:\d{1,2}:\d{1,2}(?:[.,]\d+)?)[ \t]*-->[ \t]*\d{1,2}:\d{1,2}:\d{1,2}(?:[.,]\d+)?[ \t]*$")
_CUE_NAME = re.compile(r"^[^\W\d_][\w.'’-]*(?: [\w.'’-]+){0,4}$")


def _cue_lines(lines: list[str]) -> list[tuple[int, str]]:
    """(index, speaker) of each timing line with a name below it and words below that."""
    return [
        (i, lines[i + 1].strip()) for i, line in enumerate(lines[:-2])
        if _CUE_TIMING.match(line) and _CUE_NAME.match(lines[i + 1].strip()) and lines[i + 2].strip()
        and not _CUE_TIMING.match(lines[i + 2])
    ]


def _cue_blocks(lines: list[str], offset: int) -> tuple[str | None, list[Utterance], int]:
    """One utterance per timing line, its speaker the line below, its words the lines up to the next."""
    cues = _cue_lines(lines)
    heading, before = _title_above(lines[: cues[0][0]], offset)
    utterances = []
    for position, (index, name) in enumerate(cues):
        end = cues[position + 1][0] if position + 1 < len(cues) else len(lines)
        utterances.append(
            Utterance(
                speaker=name,
                text="\n".join(lines[index + 2 : end]).strip(),
                line=offset + index + 1,
                start=clock_from_text(_CUE_TIMING.match(lines[index])["start"]),
            )
        )
    return heading, utterances, before


@dataclass
class _Header:
    """A speaker's header: its line, the first line of the words under it, the name, the time."""

    index: int
    body: int
    name: str
    time: str
    loose: bool  # a shape prose may take too (see `_looks_like_headers`)


def _headers(lines: list[str]) -> list[_Header]:
    """Every header with words under it: `Name  0:25` (or with the time or name in brackets), the time
    first (`[00:00:00.00] - Name`), or the name alone on a line after a paragraph break with a time or
    time range on the next."""
    found: list[_Header] = []

    def words_at(n: int) -> bool:
        text = lines[n].strip() if n < len(lines) else ""
        return bool(text) and not _HEADER.match(text) and not _TIME_FIRST_HEADER.match(text) and not _TIME_UNDER.match(text)

    for i, line in enumerate(lines):
        text = line.strip()
        if not text:
            continue
        if (match := _HEADER.match(text)) and words_at(i + 1):
            found.append(_Header(i, i + 1, match["name"].strip(), match["time"], bool(match["open"] or match["bracket"])))
        elif (match := _TIME_FIRST_HEADER.match(text)) and words_at(i + 1):
            found.append(_Header(i, i + 1, match["name"].strip(), match["time"], True))
        elif (
            (i == 0 or not lines[i - 1].strip()) and _CUE_NAME.match(text) and i + 1 < len(lines)
            and (under := _TIME_UNDER.match(lines[i + 1])) and words_at(i + 2)
        ):
            found.append(_Header(i, i + 2, text, under["time"], True))
    return found


def _headed_blocks(lines: list[str], offset: int) -> tuple[str | None, list[Utterance], int]:
    """The export's title (first line above the first header), one utterance per header and the
    lines under it, and how many paragraphs came before the first header."""
    headers = _headers(lines)
    heading, before = _title_above(lines[: headers[0].index], offset)
    utterances: list[Utterance] = []
    for position, header in enumerate(headers):
        end = headers[position + 1].index if position + 1 < len(headers) else len(lines)
        utterances.append(
            Utterance(
                speaker=header.name,
                text="\n".join(lines[header.body : end]).strip(),
                line=offset + header.index + 1,
                start=clock_from_text(header.time),
            )
        )
    return heading, utterances, before


def _labelled_lines(lines: list[str], offset: int) -> tuple[str | None, list[Utterance], int]:
    """One utterance per `Name:` line and the lines under it (a blank line keeps the paragraph
    break); the title (first line above the first label) and how many paragraphs came before."""
    labels = _plain_labels(lines)
    heading, before = _title_above(lines[: labels[0][0]], offset)
    utterances: list[Utterance] = []
    for position, (index, match) in enumerate(labels):
        end = labels[position + 1][0] if position + 1 < len(labels) else len(lines)
        # A line holding only a time marks a stretch of the meeting (Google Meet's), not anybody's words.
        under = [line for line in lines[index + 1 : end] if not _TIME_LINE.match(line)]
        body = "\n".join([lines[index].strip()[match.end():], *under]).strip()
        time = match["time_before"] or match["bare_time"] or match["time_after"] or _time_above(lines, index)
        own = _LEADING_TIME.match(body)
        if own:  # `Name: (00:01)` above the words: the time is when, not what was said
            body, time = body[own.end():].strip(), time or own["time"]
        utterances.append(
            Utterance(
                speaker=match["name"].strip(),
                text=re.sub(r"\n[ \t]*\n\s*", "\n\n", body),
                line=offset + index + 1,
                start=clock_from_text(time) if time else None,
            )
        )
    return heading, utterances, before


def _time_above(lines: list[str], index: int) -> str | None:
    """The time on a line of its own just above a label (`00:00:17` over `SPEAKER 2:`), if any."""
    above = index - 1
    while above >= 0 and not lines[above].strip():
        above -= 1
    found = _TIME_UNDER.match(lines[above]) if above >= 0 else None
    return found["time"] if found else None


def _title_above(lines: list[str], offset: int) -> tuple[str | None, int]:
    """The title (first line of what comes before the first speaker) and how many paragraphs that is."""
    preamble = [p for _, p in _paragraphs(lines, offset)]
    if not preamble:
        return None, 0
    first_line = preamble[0].split("\n")[0]
    return (first_heading(first_line) if _ATX_TITLE.match(first_line) else first_line.strip()), len(preamble)
