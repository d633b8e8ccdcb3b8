"""Word documents: a post in markdown shape, or a meeting transcript read as speaker turns."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import docx
import pytest

from housevoice.errors import SourceError
from housevoice.ingest import ingest_sources, read_source


def _post(path: Path) -> Path:
    document = docx.Document()
    document.core_properties.title = "Our spring appeal"
    document.core_properties.author = "Maya Chen"
    document.core_properties.created = datetime(2021, 3, 14, 9, 0)
    document.add_heading("Why we ask", 2)
    document.add_paragraph("This spring we are raising money for the community garden.")
    document.add_paragraph("Seeds for the beds", style="List Bullet")
    document.add_paragraph("Tools for volunteers", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    for (row, col), text in {(0, 0): "Item", (0, 1): "Cost", (1, 0): "Seeds", (1, 1): "$40"}.items():
        table.cell(row, col).text = text
    document.add_paragraph("")
    document.add_paragraph("See you in the garden.")
    document.save(path)
    return path


def _transcript(path: Path, lines: list[str]) -> Path:
    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    document.save(path)
    return path


def test_a_word_post_keeps_its_shape_and_takes_title_author_and_date_from_its_properties(tmp_path):
    summary, [(source, doc)] = read_source(_post(tmp_path / "appeal.docx"))
    assert summary.format == "docx" and source == "docx:appeal.docx"
    assert doc.text == (
        "## Why we ask\n\nThis spring we are raising money for the community garden.\n\n"
        "- Seeds for the beds\n- Tools for volunteers\n\n| Item | Cost |\n| Seeds | $40 |\n\nSee you in the garden."
    )
    assert (doc.title, doc.author, doc.kind) == ("Our spring appeal", "Maya Chen", "post")
    assert doc.published_at == datetime(2021, 3, 14, 9, 0)
    assert doc.meta["format"] == "docx" and doc.meta["date_from"] == "document properties (created)"


def test_a_date_in_the_path_beats_the_documents_creation_date(tmp_path):
    (tmp_path / "site" / "2019" / "05" / "02").mkdir(parents=True)
    _post(tmp_path / "site" / "2019" / "05" / "02" / "appeal.docx")
    [(_, doc)] = read_source(tmp_path / "site")[1]
    assert doc.published_at == datetime(2019, 5, 2) and doc.meta["date_from"] == "path"


@pytest.mark.parametrize(
    "lines",
    [
        # Teams: the speaker and the time above the words
        ["Weekly sync", "Jordan Blake   0:03", "Let's start with the numbers.", "Amara Okafor   0:10",
         "Open rate was up to 41 percent.", "Jordan Blake   1:02", "Good. Then the spring issue.",
         "Amara Okafor   1:09", "It goes out in May."],
        # Google Meet: a time line, then `Name: text` lines
        ["Weekly sync", "00:00:00", "Jordan Blake: Let's start with the numbers.",
         "Amara Okafor: Open rate was up to 41 percent.", "Jordan Blake: Good. Then the spring issue.",
         "00:05:00", "Amara Okafor: It goes out in May."],
        # Teams' older download: a timing line, the name, the words
        ["Weekly sync", "0:0:3.0 --> 0:0:9.500", "Jordan Blake", "Let's start with the numbers.",
         "0:0:10.0 --> 0:0:15.0", "Amara Okafor", "Open rate was up to 41 percent.",
         "0:1:2.0 --> 0:1:8.0", "Jordan Blake", "Good. Then the spring issue.",
         "0:1:9.0 --> 0:1:12.0", "Amara Okafor", "It goes out in May."],
    ],
)
def test_a_meeting_transcript_in_word_gives_one_record_per_turn(tmp_path, lines):
    _, pairs = read_source(_transcript(tmp_path / "sync.docx", lines))
    docs = [doc for _, doc in pairs]
    assert [(d.author, d.text, d.kind) for d in docs] == [
        ("Jordan Blake", "Let's start with the numbers.", "transcript_turn"),
        ("Amara Okafor", "Open rate was up to 41 percent.", "transcript_turn"),
        ("Jordan Blake", "Good. Then the spring issue.", "transcript_turn"),
        ("Amara Okafor", "It goes out in May.", "transcript_turn"),
    ]
    assert {d.title for d in docs} == {"Weekly sync"}
    assert [d.source_key for d in docs] == [f"sync.docx#turn-{n}" for n in range(4)]


def test_an_empty_document_is_counted_and_a_broken_one_names_the_file_and_leaves_the_workspace(workspace, tmp_path, digest):
    folder = tmp_path / "docs"
    folder.mkdir()
    _post(folder / "appeal.docx")
    docx.Document().save(folder / "blank.docx")
    (folder / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 8)
    summary, pairs = read_source(folder)
    assert [doc.source_key for _, doc in pairs] == ["appeal.docx"]
    assert dict(summary.skipped) == {"no text": 1, "binary file": 1}
    ingest_sources(workspace, [folder])
    before = digest(workspace.root)
    (folder / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip archive")
    with pytest.raises(SourceError, match=r"broken\.docx: not a Word document that can be read"):
        ingest_sources(workspace, [folder])
    assert digest(workspace.root) == before


def _link(paragraph, text: str, url: str) -> None:
    """A hyperlink run, as Word writes one (python-docx reads them but has no call to add one)."""
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    rel = paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), rel)
    run = OxmlElement("w:r")
    shown = OxmlElement("w:t")
    shown.text = text
    run.append(shown)
    link.append(run)
    paragraph._p.append(link)


def test_bold_italic_and_links_are_kept_in_markdown_and_bold_speaker_labels_make_a_transcript(tmp_path):
    document = docx.Document()
    document.add_heading("Tomatoes", 1)
    para = document.add_paragraph("We ")
    para.add_run("gr").bold = True
    para.add_run("ew ").bold = True  # Word splits one bold word over runs, a space inside the last
    para.add_run("forty ")
    para.add_run("kinds").italic = True
    para.add_run(" this year; see ")
    _link(para, "the seed list", "https://example.org/seeds")
    para.add_run(".")
    document.save(tmp_path / "post.docx")
    [(_, post)] = read_source(tmp_path / "post.docx")[1]
    assert post.text == "# Tomatoes\n\nWe **grew** forty *kinds* this year; see [the seed list](https://example.org/seeds)."

    notes = docx.Document()
    notes.add_paragraph("Episode 12 of our garden show, with Luis Ortega.")
    for who, said in [("Maya Chen", "Welcome back."), ("Luis Ortega", "Thanks."), ("Maya Chen", "So, tomatoes."),
                      ("Luis Ortega", "Forty kinds.")]:
        turn = notes.add_paragraph()
        turn.add_run(f"{who}:").bold = True
        turn.add_run(f" {said}")
    notes.save(tmp_path / "episode.docx")
    docs = [doc for _, doc in read_source(tmp_path / "episode.docx")[1]]
    assert [(d.author, d.text, d.kind) for d in docs][:2] == [
        ("Maya Chen", "Welcome back.", "transcript_turn"), ("Luis Ortega", "Thanks.", "transcript_turn")
    ]
    assert len(docs) == 4


def test_tracked_insertions_are_read_deletions_are_not_and_a_headings_words_have_no_marks(tmp_path):
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    document = docx.Document()
    heading = document.add_heading("", 1)
    heading.add_run("Spring ")
    heading.add_run("appeal").bold = True
    para = document.add_paragraph("We raised ")
    # What a reviewer typed with Track Changes on, and what they struck out, as Word writes them.
    para._p.append(parse_xml(f'<w:ins {nsdecls("w")} w:id="1" w:author="Ana"><w:r><w:t xml:space="preserve">four </w:t></w:r></w:ins>'))
    para._p.append(parse_xml(f'<w:del {nsdecls("w")} w:id="2" w:author="Ana"><w:r><w:delText>three </w:delText></w:r></w:del>'))
    para.add_run("hundred pounds.")
    document.save(tmp_path / "appeal.docx")
    [(_, doc)] = read_source(tmp_path / "appeal.docx")[1]
    assert doc.text == "# Spring appeal\n\nWe raised four hundred pounds."
