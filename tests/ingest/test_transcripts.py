"""Transcript readers: WebVTT, SRT and plain-text transcripts become one record per speaker turn."""

from __future__ import annotations

from pathlib import Path

import pytest

from housevoice.errors import SourceError
from housevoice.ingest import markdown, plain_transcript, read_source, srt, webvtt

FIXTURES = Path(__file__).parent / "fixtures"
PODCAST_EPISODES = Path("/work/shared/data/dev-transcripts/episodes")


def read(module, path: Path, **kwargs):
    return module.read(path, key=path.name, **kwargs)


def head(path: Path) -> bytes:
    return path.read_bytes()[: 64 * 1024]


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


# --- WebVTT -----------------------------------------------------------------------------


def test_teams_voice_tags_give_one_turn_per_speaker_change():
    result = read(webvtt, FIXTURES / "team-standup.vtt")
    docs = result.documents
    assert [d.author for d in docs] == ["Priya Raman", "Tomás Ibarra", "Priya Raman", "Tomás Ibarra"]
    assert docs[0].text == "Morning all. Let's keep this one short, we have the release review at ten."
    assert docs[1].text == (
        "Sure. I finished the migration script yesterday and the dry run on staging came back clean."
    )
    assert docs[3].text == "Only the index rebuild, which needs a maintenance window."
    assert [d.source_key for d in docs] == [f"team-standup.vtt#turn-{i}" for i in range(4)]
    assert {d.kind for d in docs} == {"transcript_turn"}
    assert docs[0].title == "Platform team standup, 12 March"
    assert docs[0].meta["start"] == "00:00:02.140"
    assert docs[0].meta["end"] == "00:00:07.900"
    assert docs[0].meta["episode"] == "team-standup"
    assert [d.meta["turn_index"] for d in docs] == [0, 1, 2, 3]


def test_vtt_cue_without_speaker_continues_the_previous_speaker():
    docs = read(webvtt, FIXTURES / "client-call.vtt").documents
    assert [d.author for d in docs] == ["Dana Whitfield", "Marcus Lee", "Dana Whitfield", "Marcus Lee"]
    assert docs[0].text == "Thanks for making time today. I wanted to walk through the draft proposal first."
    # "Note:" said once inside a turn is speech, not a speaker
    assert docs[1].text == "Happy to. Note: we only got it this morning."
    assert docs[0].title == "client-call"


def test_vtt_cues_before_the_first_speaker_have_no_author(tmp_path):
    path = write(
        tmp_path, "intro.vtt",
        "WEBVTT\n\n00:00.000 --> 00:03.000\n[music]\n\n"
        "00:03.000 --> 00:06.000\n<v Ana Ruiz>Welcome to the show.\n\n"
        "00:06.000 --> 00:09.000\n<v Ben Okafor>Glad to be here.\n",
    )
    docs = read(webvtt, path).documents
    assert [(d.author, d.text) for d in docs] == [
        (None, "[music]"), ("Ana Ruiz", "Welcome to the show."), ("Ben Okafor", "Glad to be here."),
    ]


def test_truncated_vtt_names_the_broken_line(tmp_path):
    path = write(
        tmp_path, "cut.vtt",
        "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v Ana>Hello.\n\n00:00:04.000 --> 00:00",
    )
    with pytest.raises(SourceError) as caught:
        read(webvtt, path)
    assert caught.value.line == 6
    assert "cut short" in str(caught.value)


def test_vtt_cut_after_a_timing_line_is_read_with_a_note(tmp_path):
    path = write(
        tmp_path, "cut.vtt",
        "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v Ana>Hello.\n\n00:00:04.000 --> 00:00:05.000\n",
    )
    result = read(webvtt, path)
    assert [d.text for d in result.documents] == ["Hello."]
    assert any("cut short" in note for note in result.notes)


def test_vtt_without_any_speaker_is_refused_with_a_hint(tmp_path):
    path = write(tmp_path, "movie.vtt", "WEBVTT\n\n00:01.000 --> 00:02.000\nHello there.\n")
    with pytest.raises(SourceError, match="no speaker labels found") as caught:
        read(webvtt, path)
    assert "--map author=" in str(caught.value)


def test_unlabelled_captions_can_be_credited_to_one_speaker(tmp_path):
    path = write(
        tmp_path, "keynote.vtt",
        "WEBVTT\n\n00:01.000 --> 00:02.000\nThank you all.\n\n00:02.000 --> 00:04.000\nLet's begin.\n",
    )
    docs = read(webvtt, path, mapping={"author": "Grace Kim"}).documents
    assert [(d.author, d.text) for d in docs] == [("Grace Kim", "Thank you all. Let's begin.")]


def _rolling_vtt() -> str:
    """Automatic captions as YouTube writes them: each cue repeats the line before, a 10 ms cue holds it alone."""
    said = ["welcome back to the show", "today we talk about soil", "and why it matters", "so let us begin"]
    cues = [f"00:00:00.000 --> 00:00:02.000\n \n{said[0].split()[0]}<00:00:00.500><c> {' '.join(said[0].split()[1:])}</c>"]
    for n in range(1, len(said)):
        cues.append(f"00:00:{n * 2:02d}.000 --> 00:00:{n * 2:02d}.010\n{said[n - 1]}\n ")
        cues.append(f"00:00:{n * 2:02d}.010 --> 00:00:{n * 2 + 2:02d}.000\n{said[n - 1]}\n{said[n]}")
    return "WEBVTT\nKind: captions\nLanguage: en\n\n" + "\n\n".join(cues) + "\n"


def test_captions_that_roll_up_are_read_once_and_captions_that_do_not_keep_their_repeats(tmp_path):
    path = write(tmp_path, "talk.vtt", _rolling_vtt())
    result = read(webvtt, path, mapping={"author": "Grace Kim"})
    assert [d.text for d in result.documents] == ["welcome back to the show today we talk about soil and why it matters so let us begin"]
    assert result.skipped == {"repeated caption line": 6} and "roll up" in result.notes[0]
    # The same roll in SRT.
    blocks, shown = [], ["one line here", "two lines here", "three lines here", "four lines here"]
    for n in range(1, len(shown)):
        blocks.append(f"{n}\n00:00:0{n},000 --> 00:00:0{n + 1},000\n{shown[n - 1]}\n{shown[n]}")
    rolled = read(srt, write(tmp_path, "talk.srt", "\n\n".join(blocks) + "\n"), mapping={"author": "Grace Kim"})
    assert [d.text for d in rolled.documents] == [" ".join(shown)]
    # A line said twice in a row, in captions that do not roll, is said twice.
    plain = "WEBVTT\n\n" + "\n\n".join(
        f"00:00:0{n}.000 --> 00:00:0{n + 1}.000\n<v {who}>{line}"
        for n, (who, line) in enumerate([("Ana", "Is it done?"), ("Ben", "No."), ("Ben", "No."), ("Ana", "Why not?"), ("Ben", "Soon.")])
    )
    docs = read(webvtt, write(tmp_path, "chat.vtt", plain + "\n")).documents
    assert [(d.author, d.text) for d in docs] == [("Ana", "Is it done?"), ("Ben", "No. No."), ("Ana", "Why not?"), ("Ben", "Soon.")]


# --- SRT --------------------------------------------------------------------------------


def test_srt_speaker_prefixes_in_brackets_or_with_a_colon():
    docs = read(srt, FIXTURES / "founder-interview.srt").documents
    assert [d.author for d in docs] == ["Interviewer", "Rosa Delgado", "Interviewer", "Rosa Delgado"]
    assert docs[1].text == (
        "Honestly, by accident. My grandmother's recipes and a borrowed oven. We sold out the first Saturday."
    )
    assert docs[1].meta["start"] == "00:00:03.400"
    assert docs[1].meta["end"] == "00:00:10.000"
    assert docs[3].text == "Three shops, forty people, and the same oven."
    assert docs[3].source_key == "founder-interview.srt#turn-3"


def test_srt_broken_timestamp_names_the_line(tmp_path):
    path = write(
        tmp_path, "bad.srt",
        "1\n00:00:01,000 --> 00:00:02,000\nAna: Hi.\n\n2\n00:00:03,000 --> 00:0004,000\nBen: Hello.\n",
    )
    with pytest.raises(SourceError) as caught:
        read(srt, path)
    assert caught.value.line == 6
    assert "00:0004,000" in str(caught.value)


def test_srt_block_that_is_not_a_subtitle_names_the_line(tmp_path):
    path = write(
        tmp_path, "bad.srt",
        "Subtitles by the volunteers\n\n1\n00:00:01,000 --> 00:00:02,000\nAna: Hi.\n",
    )
    with pytest.raises(SourceError, match="not a subtitle block") as caught:
        read(srt, path)
    assert caught.value.line == 1


# --- plain text -------------------------------------------------------------------------


def test_show_notes_paragraphs_become_turns_and_same_speaker_paragraphs_merge():
    result = read(plain_transcript, FIXTURES / "episode-12.md")
    docs = result.documents
    assert [d.author for d in docs] == ["Lena Hartmann", "Sam Cole", "Lena Hartmann", "Sam Cole"]
    assert docs[1].text == "Thanks for having me, Lena. \\[laughs\\] I've listened to every episode."
    assert docs[2].text == (
        "\\[01:15\\] So let's start with the obvious question. Why do so many organizations sound the same?"
        "\n\nI mean it. Read five annual reports in a row and tell me which one is yours."
        "\n\nSorry, that was a rant."
    )
    assert docs[2].meta["start"] == "00:01:15.000"
    assert docs[0].meta["start"] is None
    assert {d.title for d in docs} == {"Episode 12: Writing for people, not for search engines"}
    assert docs[0].url == "https://example.org/podcast/12"
    assert docs[0].published_at.isoformat() == "2023-05-17T00:00:00"


def test_otter_export_turns_with_start_times_and_title():
    result = read(plain_transcript, FIXTURES / "weekly-sync.txt")
    docs = result.documents
    assert [d.author for d in docs] == ["Jordan Blake", "Amara Okafor", "Jordan Blake"]
    assert docs[1].text == (
        "Open rate was up to 41 percent, which is the best since January.\n"
        "Most of it came from the subject line test.\n\nThe click rate stayed flat though."
    )
    assert [d.meta["start"] for d in docs] == ["00:00:04.000", "00:00:11.000", "00:01:02.000"]
    assert docs[2].text == "Good. Then let's talk about the spring issue."  # the service footer is not speech
    assert docs[0].title == "Weekly sync"
    assert result.skipped == {"transcription service footer": 1, "text before the first speaker": 1}


def test_plain_name_colon_lines_become_turns_and_a_title_line_is_not_a_speaker(tmp_path):
    path = write(
        tmp_path, "ep7.txt",
        "Episode 7: Planting season\n\nMaya Chen: Welcome back to the show.\nLuis Ortega: Thanks for having me.\n"
        "Maya Chen: Let's start with the garden.\nIt has grown a lot.\n\nLuis Ortega: It has.\n",
    )
    assert plain_transcript.sniff(path, head(path)) and not markdown.sniff(path, head(path))
    result = read(plain_transcript, path)
    docs = result.documents
    assert [d.author for d in docs] == ["Maya Chen", "Luis Ortega", "Maya Chen", "Luis Ortega"]
    assert docs[2].text == "Let's start with the garden.\nIt has grown a lot."
    assert {d.title for d in docs} == {"Episode 7: Planting season"}
    assert result.skipped == {"text before the first speaker": 1}


def test_times_before_or_after_the_name_are_start_times(tmp_path):
    rev = write(
        tmp_path, "rev.txt",
        "Maya Chen (00:00:01):\nWelcome back.\n\nLuis Ortega (00:00:05):\nThanks.\n\n"
        "Maya Chen (00:01:10):\nSo, the garden.\n\nLuis Ortega (00:02:00):\nYes.\n",
    )
    descript = write(
        tmp_path, "descript.txt",
        "[00:00:01] Speaker 1: Hi there.\n[00:00:04] Speaker 2: Hello.\n[00:00:09] Speaker 1: How are you?\n"
        "[00:00:12] Speaker 2: Fine.\n",
    )
    rev_docs = read(plain_transcript, rev).documents
    assert [(d.author, d.text, d.meta["start"]) for d in rev_docs][:2] == [
        ("Maya Chen", "Welcome back.", "00:00:01.000"), ("Luis Ortega", "Thanks.", "00:00:05.000")
    ]
    descript_docs = read(plain_transcript, descript).documents
    assert [d.author for d in descript_docs] == ["Speaker 1", "Speaker 2", "Speaker 1", "Speaker 2"]
    assert descript_docs[3].meta["start"] == "00:00:12.000" and descript_docs[3].text == "Fine."


_TURNS = [("Maya Chen", "Welcome back to the show."), ("Luis Ortega", "Thanks for having me."),
          ("Maya Chen", "So, the garden."), ("Luis Ortega", "It has grown a lot.")]


def _at(n: int) -> str:
    return f"00:00:{n * 7:02d}"


@pytest.mark.parametrize(
    ("name", "text"),
    [
        # a time range before the bold label (Transcribo's markdown)
        ("ranges.md", "\n\n".join(f"[{_at(i)} → 00:00:{i * 7 + 6:02d}] **{who}:** {said}" for i, (who, said) in enumerate(_TURNS))),
        # a bare time and a tab before the label (a meeting tool's text export)
        ("tabbed.txt", "\n".join(f"{_at(i)}\t{who}: {said}" for i, (who, said) in enumerate(_TURNS))),
        # the time in parentheses or brackets beside the name, the words below
        ("riverside.txt", "\n\n".join(f"{who} ({_at(i)})\n{said}" for i, (who, said) in enumerate(_TURNS))),
        ("bracketed.txt", "\n".join(f"[{who}] {_at(i)}\n{said}" for i, (who, said) in enumerate(_TURNS))),
        # the time on the label's line, after the colon, the words below
        ("timed-label.txt", "\n\n".join(f"{who}: ({_at(i)[3:]})\n{said}" for i, (who, said) in enumerate(_TURNS))),
        # a timing line, the name below it, then the words (Teams' older download)
        ("cues.txt", "\n\n".join(f"0:0:{i * 7}.0 --> 0:0:{i * 7 + 6}.500\n{who}\n{said}" for i, (who, said) in enumerate(_TURNS))),
        # the time first, then the name, the words below (Happy Scribe's text export; a meeting tool's)
        ("time-first.txt", "\n\n".join(f"[{_at(i)}.00] - {who}\n{said}" for i, (who, said) in enumerate(_TURNS))),
        ("bare-time-first.txt", "\n".join(f"{_at(i)} {who}\n{said}" for i, (who, said) in enumerate(_TURNS))),
        # the name alone on a line, a time or a time range on the next, then the words
        ("two-lines.txt", "\n\n".join(f"{who}\n{_at(i)[3:]}\n{said}" for i, (who, said) in enumerate(_TURNS))),
        ("range-under.txt", "\n\n".join(f"{who}\n{_at(i)} - 00:00:{i * 7 + 6:02d}\n{said}" for i, (who, said) in enumerate(_TURNS))),
        # a time on a line of its own above a label, the label alone on its line or before the words
        ("time-above.txt", "\n".join(f"[{_at(i)}]\n{who.upper()}:\n{said}" if i % 2 else f"{_at(i)}\n{who.upper()}: {said}"
                                     for i, (who, said) in enumerate(_TURNS))),
    ],
)
def test_more_transcript_exports_give_turns_with_their_start_times(tmp_path, name, text):
    path = write(tmp_path, name, text + "\n")
    assert plain_transcript.sniff(path, head(path)) and not markdown.sniff(path, head(path))
    docs = read(plain_transcript, path).documents
    upper = name == "time-above.txt"
    assert [(d.author, d.text) for d in docs] == [(who.upper() if upper else who, said) for who, said in _TURNS]
    assert [d.meta["start"] for d in docs] == [f"{_at(i)}.000" for i in range(4)]


def test_time_lines_between_the_turns_of_a_meeting_are_not_anybodys_words(tmp_path):
    lines = "\n".join(f"{who}: {said}" for who, said in _TURNS)
    path = write(tmp_path, "sync.txt", f"Team sync - Transcript\n\n00:00:00\n\n{lines}\n\n00:05:00\n\n{lines}\n")
    result = read(plain_transcript, path)
    assert [(d.author, d.text) for d in result.documents] == _TURNS * 2
    assert {d.title for d in result.documents} == {"Team sync - Transcript"}


@pytest.mark.parametrize(
    "text",
    [
        # labels of prose, not speakers
        "# Release notes\n\nNote: a draft.\n\nWe shipped.\n\nUpdate: fixed.\n\nStep 1: install.\n\nStep 2: run.\n",
        "Q: What is it?\nA: A tool.\nQ: Why?\nA: Because.\n",
        # a dialogue quoted in a long post
        "Intro.\n\n" + "Prose paragraph.\n\n" * 8 + "Jane Smith: one.\nJohn Doe: two.\nJane Smith: three.\nJohn Doe: four.\n",
        # each name once
        "Alice: a.\nBob: b.\nCarol: c.\nDave: d.\n",
        # an agenda: times in parentheses beside names that never come back
        "# Our meetup\n\nKeynote (09:00)\nJane opens the day.\n\nLunch (12:30)\nSandwiches.\n\nWorkshops (14:00)\nPick one.\n",
        # the same agenda with the time first, and a race report with the time under each heading
        "# Our meetup\n\n09:00 Keynote\nJane opens the day.\n\n12:30 Lunch\nSandwiches.\n\n14:00 Workshops\nPick one.\n",
        "# Race day\n\nMile one\n8:05\nFelt good.\n\nMile two\n8:10\nStill fine.\n\nMile three\n8:30\nThe hill.\n",
        # a session that comes back in a schedule, among paragraphs of prose
        "# Schedule\n\n" + "A paragraph about the day.\n\n" * 4 + "Workshop\n10:00 - 11:00\nBring a laptop.\n\n"
        "Workshop\n14:00 - 15:00\nBring a laptop again.\n",
        # an agenda whose break comes back
        "# Meetup\n\n09:00 Coffee\nDoors open.\n\n10:00 Talks\nThree of them.\n\n11:00 Coffee\nMore coffee.\n\n"
        "12:00 Lunch\nSandwiches.\n",
        # show notes' chapter list, the same two chapters in two parts
        "# Episode 12\n\nChapters:\n\n00:00 Intro\n05:32 Beans\n12:10 Intro\n20:00 Beans\n31:45 Outro\n\nThanks for listening.\n",
        # recipes: a label alone on its line heads a list
        "# Two soups\n\nBoth are quick.\n\nIngredients:\n- leeks\n- stock\n\nMethod:\nSimmer.\n\n"
        "Ingredients:\n- beans\n- stock\n\nMethod:\nSimmer longer.\n",
    ],
)
def test_posts_with_a_few_name_colon_lines_stay_posts(tmp_path, text):
    path = write(tmp_path, "post.md", text)
    assert not plain_transcript.sniff(path, head(path))
    assert markdown.sniff(path, head(path))


def test_markdown_heading_above_the_first_speaker_is_the_title(tmp_path):
    path = write(
        tmp_path, "ep3.md",
        "# Ep. 3: Volunteers\n\nShow notes: links below.\n\n**Ana:** Hi.\n\n**Ben:** Hello.\n",
    )
    result = read(plain_transcript, path)
    assert {d.title for d in result.documents} == {"Ep. 3: Volunteers"}
    assert [d.author for d in result.documents] == ["Ana", "Ben"]
    assert result.skipped == {"text before the first speaker": 1}


def test_text_without_speaker_labels_is_refused_with_a_hint(tmp_path):
    path = write(tmp_path, "notes.txt", "We talked about the budget.\n\nThen we went home.\n")
    with pytest.raises(SourceError, match="no speaker labels found") as caught:
        read(plain_transcript, path)
    assert "**Name:**" in str(caught.value)


@pytest.mark.skipif(not PODCAST_EPISODES.is_dir(), reason="the podcast transcripts are not on this machine")
def test_real_podcast_folder_gives_1855_turns():
    summary, pairs = read_source(PODCAST_EPISODES)
    docs = [doc for _, doc in pairs]
    # 1,868 `**Name:**` paragraphs, 13 of which continue the speaker before
    assert len(docs) == 1855
    assert summary.format == "transcript"
    assert len({d.source_key for d in docs}) == 1855
    for before, after in zip(docs, docs[1:]):
        if before.meta["episode"] == after.meta["episode"]:
            assert before.author != after.author
    assert sum(d.author == "Daniel Whitenack" for d in docs) > 500
    assert docs[0].source_key == "practical-ai-240.md#turn-0"


# --- telling formats apart, and files that are not text --------------------------------


def test_formats_are_sniffed_on_content_not_suffix(tmp_path):
    vtt_as_txt = write(tmp_path, "call.txt", (FIXTURES / "client-call.vtt").read_text())
    srt_as_txt = write(tmp_path, "talk.txt", (FIXTURES / "founder-interview.srt").read_text())
    assert webvtt.sniff(vtt_as_txt, head(vtt_as_txt))
    assert srt.sniff(srt_as_txt, head(srt_as_txt))
    for path in (vtt_as_txt, srt_as_txt):
        assert not markdown.sniff(path, head(path))
    for name in ("episode-12.md", "weekly-sync.txt"):
        path = FIXTURES / name
        assert plain_transcript.sniff(path, head(path))
        assert not markdown.sniff(path, head(path))


def test_a_post_of_bold_who_where_why_paragraphs_is_not_a_transcript(tmp_path):
    path = write(
        tmp_path, "survey.md",
        "**Who:** everyone who uses the tool.\n\n**Where:** the form below.\n\n**Why:** we read every answer.\n\n"
        "**Who:** companies too.\n\n**Where:** the second form.\n\n**Why:** to plan.\n",
    )
    assert not plain_transcript.sniff(path, head(path))
    assert markdown.sniff(path, head(path))


def test_a_post_with_one_bold_label_is_not_a_transcript(tmp_path):
    path = write(
        tmp_path, "update.md",
        "# Spring update\n\n**Update:** the fair moved to May.\n\nWe hope to see you there.\n\nMore soon.\n",
    )
    assert not plain_transcript.sniff(path, head(path))
    assert markdown.sniff(path, head(path))


@pytest.mark.parametrize("module", [webvtt, srt, plain_transcript])
def test_empty_transcript_file_is_refused(tmp_path, module):
    path = write(tmp_path, "empty" + module.SUFFIXES[0], "  \n")
    with pytest.raises(SourceError, match="empty"):
        read(module, path)


@pytest.mark.parametrize("module", [webvtt, srt, plain_transcript])
def test_binary_file_is_refused(tmp_path, module):
    path = write(tmp_path, "audio" + module.SUFFIXES[0], b"ID3\x04\x00\x00\x00\x00\x00#TSSE\x00\x00\x00\x0f")
    assert not module.sniff(path, head(path))
    with pytest.raises(SourceError, match="binary"):
        read(module, path)


def test_windows_1252_transcript_is_read_with_a_note(tmp_path):
    content = "**Zoë Martín:** Bienvenue à l'émission.\n\n**Ben:** Merci, Zoë.\n"
    path = write(tmp_path, "ep.md", content.encode("cp1252"))
    result = read(plain_transcript, path)
    assert [d.author for d in result.documents] == ["Zoë Martín", "Ben"]
    assert result.documents[0].text == "Bienvenue à l'émission."
    assert len(result.notes) == 1 and "Windows-1252" in result.notes[0] and ":1:" in result.notes[0]


def test_text_in_an_unknown_encoding_names_the_byte_and_line(tmp_path):
    cyrillic = "**Ана:** Привет всем.\n\n**Борис:** Здравствуйте.\n"
    path = write(tmp_path, "ep.md", b"**Host:** Hi.\n\n" + cyrillic.encode("cp1251"))
    with pytest.raises(SourceError) as caught:
        read(plain_transcript, path)
    assert caught.value.line == 3
    assert "offset 17" in str(caught.value) and "UTF-8" in str(caught.value)
