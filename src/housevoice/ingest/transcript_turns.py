"""What every transcript reader shares: utterances merged into speaker turns, turned into documents."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

from housevoice.errors import SourceError
from housevoice.ingest.base import Document

SPEAKER_FORMATS_HINT = (
    "label speakers as `**Name:** text` paragraphs, `Name: text` lines, `Name  0:25` lines above the text, "
    "`<v Name>` voice tags or `Name: ` at the start of cues; "
    "or credit every turn to one speaker with --map author=NAME"
)

# `Name: text` at the start of a cue line: up to four words, the first capitalized.
_NAME_PREFIX = re.compile(r"^(?P<name>[^\W\d_][\w.'’-]*(?: [\w.'’-]+){0,3}):[ \t]+(?P<rest>\S.*)$", re.S)
# `[Name] text` at the start of a cue line (SRT style); `[laughs]` alone is not a speaker.
_BRACKET_PREFIX = re.compile(r"^\[(?P<name>[^\W\d_][^\]\n]{0,40})\][ \t]*(?P<rest>\S.*)$", re.S)


@dataclass
class Utterance:
    """A piece of a transcript as the file cut it: a cue line, a paragraph, a text block."""

    speaker: str | None
    text: str
    line: int
    start: str | None = None
    end: str | None = None


@dataclass
class Turn:
    """What one speaker said before another spoke."""

    speaker: str | None
    text: str
    line: int
    start: str | None
    end: str | None


# Captions that roll up (YouTube's automatic ones) open most cues with the line the cue before ended
# on, and hold it alone in a short cue between: read as they are, every line is said two or three times.
ROLLING_SHARE = 0.3


def repeated_lines(cues: list[list[str]]) -> list[int]:
    """How many of each cue's first lines the cue before already showed, when the captions roll up
    (0 for every cue of captions that do not: a line said twice in a row is then said twice).

    `cues`: each cue's lines of text, blank ones left out."""
    pairs = list(zip(cues, cues[1:]))
    rolling = sum(1 for before, cue in pairs if before and cue and cue[0] == before[-1])
    if rolling < 2 or rolling < ROLLING_SHARE * len(pairs):
        return [0] * len(cues)
    drops = [0]
    for before, cue in pairs:
        longest = min(len(before), len(cue))
        drops.append(next((k for k in range(longest, 0, -1) if cue[:k] == before[-k:]), 0))
    return drops


def default_speaker(mapping: dict[str, str] | None) -> str | None:
    """The speaker the user named for unlabeled text (`--map author=NAME`), if any."""
    mapping = mapping or {}
    return mapping.get("author") or mapping.get("speaker")


def merge_turns(utterances: Iterable[Utterance], *, joiner: str, first_speaker: str | None = None) -> list[Turn]:
    """Consecutive utterances by one speaker become one turn; unlabeled ones continue the turn before.

    Unlabeled utterances before any label go to `first_speaker` (None when the user named none).
    """
    turns: list[Turn] = []
    for u in utterances:
        text = u.text.strip()
        if turns and (u.speaker is None or u.speaker == turns[-1].speaker):
            turn = turns[-1]
            if text:
                turn.text = f"{turn.text}{joiner}{text}" if turn.text else text
            turn.end = u.end or turn.end
            continue
        speaker = u.speaker if u.speaker is not None else first_speaker
        turns.append(Turn(speaker=speaker, text=text, line=u.line, start=u.start, end=u.end))
    return turns


def require_speakers(utterances: list[Utterance], path: Path, *, first_speaker: str | None) -> None:
    """A transcript whose speakers cannot be told apart is not read (its turns would mean nothing)."""
    if first_speaker is None and not any(u.speaker for u in utterances):
        raise SourceError(path, "no speaker labels found", hint=SPEAKER_FORMATS_HINT)


def turn_documents(
    turns: list[Turn],
    *,
    key: str,
    episode: str,
    title: str,
    published_at: datetime | None = None,
    url: str | None = None,
    extra_meta: dict[str, Any] | None = None,
) -> list[Document]:
    """One `transcript_turn` document per turn, keyed `<key>#turn-<index>` (index from 0)."""
    documents = []
    for index, turn in enumerate(t for t in turns if t.text):
        meta: dict[str, Any] = {
            "episode": episode,
            "turn_index": index,
            "start": turn.start,
            "end": turn.end,
            "line": turn.line,
        }
        meta.update(extra_meta or {})
        documents.append(
            Document(
                source_key=f"{key}#turn-{index}",
                text=turn.text,
                kind="transcript_turn",
                author=turn.speaker,
                title=title,
                published_at=published_at,
                url=url,
                meta=meta,
            )
        )
    return documents


def clock(seconds: float) -> str:
    """Seconds as the `HH:MM:SS.mmm` string every transcript reader stores."""
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def clock_from_text(value: str) -> str:
    """`0:25`, `1:02:03` or `01:02:03.5` as `HH:MM:SS.mmm`."""
    parts = value.replace(",", ".").split(":")
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + float(part)
    return clock(seconds)


def check_cue_timings(text: str, path: Path, timing: re.Pattern[str], example: str) -> None:
    """Every line with `-->` must be a whole timing line; the first broken one is named with its line.

    Subtitle parsers skip or misread such lines silently (a cut-off file, a typo in a time).
    """
    for number, line in enumerate(text.split("\n"), start=1):
        if "-->" in line and not timing.match(line.strip()):
            raise SourceError(
                path,
                f"broken cue timing {line.strip()!r} (expected like {example!r}; the file may be cut short)",
                line=number,
            )


def cue_speakers(lines: Iterable[str]) -> set[str]:
    """Names that `Name: ` / `[Name] ` prefixes of cue lines use as speaker labels.

    A prefix counts when its name starts two or more lines, or when most lines carry a prefix;
    that keeps a one-off `Note: ...` or `[Music] ...` in the text rather than making it a speaker.
    """
    counts: Counter[str] = Counter()
    total = 0
    for line in lines:
        total += 1
        name = _prefix_name(line)
        if name:
            counts[name] += 1
    if total and sum(counts.values()) / total >= 0.5:
        return set(counts)
    return {name for name, n in counts.items() if n >= 2}


def _prefix_name(line: str) -> str | None:
    for pattern in (_NAME_PREFIX, _BRACKET_PREFIX):
        match = pattern.match(line.strip())
        if match and match["name"][0].isupper():
            return match["name"].strip()
    return None


def split_cue_speaker(line: str, speakers: set[str]) -> tuple[str | None, str]:
    """(speaker, text) of a cue line whose prefix names a known speaker; (None, line) otherwise."""
    name = _prefix_name(line)
    if name and name in speakers:
        for pattern in (_NAME_PREFIX, _BRACKET_PREFIX):
            match = pattern.match(line.strip())
            if match and match["name"].strip() == name:
                return name, match["rest"].strip()
    return None, line.strip()
