"""SRT subtitles -> one document per speaker turn (speaker from a `Name: ` or `[Name]` prefix)."""

from __future__ import annotations

import re
from pathlib import Path

import srt

from housevoice.errors import SourceError
from housevoice.ingest.base import ReadResult
from housevoice.ingest.text_decoding import head_text, read_text
from housevoice.ingest.transcript_turns import (
    Utterance,
    check_cue_timings,
    clock,
    cue_speakers,
    default_speaker,
    merge_turns,
    repeated_lines,
    require_speakers,
    split_cue_speaker,
    turn_documents,
)

FORMAT = "srt"
SUFFIXES = (".srt",)

_STAMP = r"\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}"
_TIMING = re.compile(rf"^{_STAMP}[ \t]*-->[ \t]*{_STAMP}(?:[ \t].*)?$")
_FIRST_CUE = re.compile(rf"\s*\d+[ \t]*\n[ \t]*{_STAMP}[ \t]*-->")


def sniff(path: Path, head: bytes) -> bool:
    return bool(_FIRST_CUE.match(head_text(head)))


def read(path: Path, *, key: str, mapping: dict[str, str] | None = None) -> ReadResult:
    text, notes = read_text(path)
    # the srt package reads `00:0008,000` as 8 minutes; a strict check first names the bad line
    check_cue_timings(text, path, _TIMING, "00:01:02,500 --> 00:01:05,000")
    try:
        subtitles = list(srt.parse(text))
    except srt.SRTParseError as exc:
        line = text.count("\n", 0, exc.expected_start) + 1
        raise SourceError(
            path,
            "not a subtitle block (expected a number, a 'start --> end' line, then the text)",
            line=line,
        ) from None
    if not subtitles:
        raise SourceError(path, "the file holds no subtitles")

    cue_lines = [n for n, line in enumerate(text.split("\n"), start=1) if _TIMING.match(line.strip())]
    speakers = cue_speakers(line for sub in subtitles for line in sub.content.split("\n") if line.strip())
    shown = [[line.strip() for line in sub.content.split("\n") if line.strip()] for sub in subtitles]
    drops = repeated_lines(shown)
    utterances: list[Utterance] = []
    for index, sub in enumerate(subtitles):
        start, end = clock(sub.start.total_seconds()), clock(sub.end.total_seconds())
        line = cue_lines[index] if index < len(cue_lines) else None
        for cue_line in shown[index][drops[index] :]:
            speaker, said = split_cue_speaker(cue_line, speakers)
            utterances.append(Utterance(speaker=speaker, text=said, line=line, start=start, end=end))
    if not subtitles[-1].content.strip():
        notes.append(f"{path}: the last subtitle has no text; the file may be cut short")

    first = default_speaker(mapping)
    require_speakers(utterances, path, first_speaker=first)
    turns = merge_turns(utterances, joiner=" ", first_speaker=first)
    documents = turn_documents(turns, key=key, episode=path.stem, title=path.stem)
    skipped = {"repeated caption line": sum(drops)} if sum(drops) else {}
    if skipped:
        notes.append(f"{path}: the subtitles roll up (each line shown again in the next one); {sum(drops)} repeated lines read once")
    return ReadResult(documents=documents, skipped=skipped, notes=notes)
