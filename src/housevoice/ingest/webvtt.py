"""WebVTT captions (Teams/Zoom meeting exports) -> one document per speaker turn."""

from __future__ import annotations

import re
from pathlib import Path

import webvtt
from webvtt.errors import MalformedCaptionError, MalformedFileError

from housevoice.errors import SourceError
from housevoice.ingest.base import ReadResult
from housevoice.ingest.text_decoding import head_text, read_text
from housevoice.ingest.transcript_turns import (
    Utterance,
    check_cue_timings,
    cue_speakers,
    default_speaker,
    merge_turns,
    repeated_lines,
    require_speakers,
    split_cue_speaker,
    turn_documents,
)

FORMAT = "webvtt"
SUFFIXES = (".vtt",)

_HEADER = re.compile(r"WEBVTT(?:[ \t]|\n|$)")
_STAMP = r"(?:\d{2,}:)?\d{2}:\d{2}\.\d{3}"
_TIMING = re.compile(rf"^{_STAMP}[ \t]+-->[ \t]+{_STAMP}(?:[ \t].*)?$")
_VOICE = webvtt.Caption.VOICE_SPAN_PATTERN


def sniff(path: Path, head: bytes) -> bool:
    return bool(_HEADER.match(head_text(head)))


def read(path: Path, *, key: str, mapping: dict[str, str] | None = None) -> ReadResult:
    text, notes = read_text(path)
    if not _HEADER.match(text):
        raise SourceError(path, "not a WebVTT file (the first line must be WEBVTT)", line=1)
    check_cue_timings(text, path, _TIMING, "00:01:02.500 --> 00:01:05.000")
    try:
        captions = webvtt.from_string(text, strict=True)
    except (MalformedCaptionError, MalformedFileError) as exc:
        raise SourceError(path, f"not valid WebVTT ({exc})", line=_line_of_block(text, str(exc))) from None
    if not len(captions):
        raise SourceError(path, "the file holds no cues")

    cue_lines = _cue_lines(text)
    unvoiced = [plain for caption in captions for voice, plain in _voiced_lines(caption) if not voice]
    speakers = cue_speakers(line for line in unvoiced if line.strip())
    shown = [[(voice, plain) for voice, plain in _voiced_lines(caption) if plain.strip()] for caption in captions]
    drops = repeated_lines([[plain.strip() for _, plain in lines] for lines in shown])
    utterances: list[Utterance] = []
    for index, caption in enumerate(captions):
        start, end = caption.start, caption.end
        line = cue_lines[index] if index < len(cue_lines) else None
        for voice, plain in shown[index][drops[index] :]:
            speaker, said = (voice, plain.strip()) if voice else split_cue_speaker(plain, speakers)
            utterances.append(Utterance(speaker=speaker, text=said, line=line, start=start, end=end))
    skipped = {"repeated caption line": sum(drops)} if sum(drops) else {}
    if skipped:
        notes.append(f"{path}: the captions roll up (each line shown again in the next cue); {sum(drops)} repeated lines read once")
    if captions[-1].text.strip() == "":
        notes.append(f"{path}: the last cue has no text; the file may be cut short")

    first = default_speaker(mapping)
    require_speakers(utterances, path, first_speaker=first)
    turns = merge_turns(utterances, joiner=" ", first_speaker=first)
    title = captions.header_text.strip().lstrip("-").strip() if captions.header_text else ""
    documents = turn_documents(turns, key=key, episode=path.stem, title=title or path.stem)
    return ReadResult(documents=documents, skipped=skipped, notes=notes)


def _voiced_lines(caption: webvtt.Caption) -> list[tuple[str | None, str]]:
    """(voice, text without tags) per line of a cue; a `<v Name>` tag may open any line."""
    raw_lines = caption.raw_text.split("\n")
    plain_lines = caption.text.split("\n")
    result = []
    for raw, plain in zip(raw_lines, plain_lines):
        match = _VOICE.match(raw.strip())
        result.append((match.group(1).strip() if match else None, plain))
    return result


def _cue_lines(text: str) -> list[int]:
    """The line number of each cue's timing line, in file order."""
    return [n for n, line in enumerate(text.split("\n"), start=1) if _TIMING.match(line.strip())]


def _line_of_block(text: str, message: str) -> int | None:
    """The line where the block quoted in a webvtt-py error starts, when it can be found."""
    match = re.search(r"\['(.*?)'", message)
    if not match:
        return None
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip() == match.group(1).strip():
            return number
    return None
