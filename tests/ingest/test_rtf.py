"""Rich Text Format: a post in markdown shape with its \\info properties, or a transcript read as turns."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from housevoice.curate.clean import clean_text
from housevoice.errors import SourceError
from housevoice.ingest import read_source

# As Word writes one: font and colour tables, an \info group, a header and a footnote (not the
# writer's words), a link as a field, a bulleted list, escapes for accents and for characters beyond
# the code page (\uN with its fallback).
POST = (
    r"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0\froman Times New Roman;}{\f1\fsymbol Symbol;}}"
    r"{\colortbl;\red0\green0\blue0;}"
    r"{\info{\title Our spring appeal}{\author Maya Ch\'e9n}{\creatim\yr2021\mo3\dy14\hr9\min5}{\company Acme}}"
    r"{\header\pard\plain Acme Garden Trust \emdash  confidential\par}"
    "\n"
    r"\pard\plain\f0\fs24 This spring we are raising money for the caf\'e9 garden"
    r"{\super\chftn{\footnote\pard\plain\chftn A footnote nobody reads aloud.}}; see "
    r'{\field{\*\fldinst{HYPERLINK "https://example.org/plan"}}{\fldrslt{the plan}}}.\par'
    r'{\field{\*\fldinst HYPERLINK "https://example.org/b"}{\fldrslt  Read more}}\par'
    "\n"
    r"{\pntext\f1\'b7\tab}Seeds for the beds\par"
    "\n"
    r"{\listtext\f1\'b7\tab}Tools for volunteers \u8212\'97 and gloves\par"
    "\n"
    r"{\listtext\pard\plain 2.\tab}Plant in May\par"
    "\n"
    r"\par See you in the garden.\par}"
)


def test_an_rtf_post_keeps_its_words_and_takes_title_author_and_date_from_its_info(tmp_path):
    path = tmp_path / "appeal.rtf"
    path.write_bytes(POST.encode("ascii"))
    summary, [(source, doc)] = read_source(path)
    assert summary.format == "rtf" and source == "rtf:appeal.rtf"
    assert doc.text == (
        "This spring we are raising money for the café garden; see the plan.\n\nRead more\n\n"
        "- Seeds for the beds\n\n- Tools for volunteers — and gloves\n\n2. Plant in May\n\nSee you in the garden."
    )
    assert (doc.title, doc.author, doc.published_at) == ("Our spring appeal", "Maya Chén", datetime(2021, 3, 14, 9, 5))
    assert "confidential" not in doc.text and "footnote" not in doc.text and doc.meta["format"] == "rtf"
    assert clean_text(doc.text).startswith("This spring")


def test_an_rtf_transcript_is_read_as_turns_and_broken_ones_name_the_file(tmp_path):
    lines = ["Maya Chen: Welcome back.", "Luis Ortega: Thanks.", "Maya Chen: So, the garden.", "Luis Ortega: It grew."]
    path = tmp_path / "episode.rtf"
    path.write_text(r"{\rtf1\ansi " + "".join(line + r"\par " for line in lines) + "}", encoding="ascii")
    docs = [doc for _, doc in read_source(path)[1]]
    assert [(d.author, d.text, d.kind) for d in docs][:2] == [
        ("Maya Chen", "Welcome back.", "transcript_turn"), ("Luis Ortega", "Thanks.", "transcript_turn")
    ]
    braces = tmp_path / "braces.rtf"
    braces.write_text(r"{\rtf1\ansi Write \{name\} in braces, and a backslash as \\.\par}", encoding="ascii")
    assert read_source(braces)[1][0][1].text == "Write {name} in braces, and a backslash as \\."
    blank = tmp_path / "blank.rtf"
    blank.write_text(r"{\rtf1\ansi{\fonttbl{\f0 Arial;}}\pard\par}", encoding="ascii")
    assert read_source(blank)[0].skipped == {"no text": 1}
    for name, content, message in [
        ("cut.rtf", rb"{\rtf1\ansi{\fonttbl{\f0 Arial;}}\pard Half a sentence and", "its braces do not pair up: is the file cut short?"),
        ("extra.rtf", rb"{\rtf1\ansi{\fonttbl{\f0 Arial;}}\pard A sentence.}}", "its braces do not pair up"),
        ("plain.rtf", b"Just text saved with the wrong name.", "cannot tell what format this is"),
        ("junk.rtf", b"{\\rtf1 \x00\x01\x02 binary", "not a Rich Text document: it holds binary data"),
    ]:
        (tmp_path / name).write_bytes(content)
        with pytest.raises(SourceError, match=re.escape(f"{name}: ") + ".*" + re.escape(message)):
            read_source(tmp_path / name)
