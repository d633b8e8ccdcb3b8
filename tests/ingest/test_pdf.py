"""PDF documents: a post with its paragraphs put back together, or a transcript read as turns."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from pypdf import PdfReader, PdfWriter

from housevoice.errors import SourceError
from housevoice.ingest import ingest_sources, read_source
from tests.ingest.pdf_files import pdf_bytes

LETTER = [
    [
        "Spring letter",
        "",
        "This spring we are raising money for the community garden, which has",
        "grown every year since we planted the first beds in the old car park.",
        "",
        "What we need",
        "Seeds, tools and a new shed for the volunteers who come on Saturdays",
        "to dig, water and weed. Every gift, however small, goes into the beds and",
        "the tools.",
        "• Seeds for the beds",
        "• Tools for volunteers",
        "",
        "Garden news 2021",
        "1",
    ],
    [
        "Garden news 2021",
        "The shed will be built in May by the same crew that built the fence two",
        "years ago, with wood from the old bakery, and it will hold every tool we",
        "own. Its roof will catch rain for the water butts and the seed trays.",
        "",
        "2",
    ],
    [
        "Garden news 2021",
        "See you in the garden.",
        "",
        "3",
    ],
]


def test_a_pdf_post_gets_its_paragraphs_back_without_running_titles_and_page_numbers(tmp_path):
    path = tmp_path / "letter.pdf"
    path.write_bytes(pdf_bytes(LETTER, title="Our spring letter", author="Maya Chen", created="D:20210314090000Z"))
    summary, [(source, doc)] = read_source(path)
    assert summary.format == "pdf" and source == "pdf:letter.pdf"
    assert doc.text == (
        "Spring letter\n\nThis spring we are raising money for the community garden, which has grown every year since "
        "we planted the first beds in the old car park.\n\nWhat we need\n\nSeeds, tools and a new shed for the volunteers "
        "who come on Saturdays to dig, water and weed. Every gift, however small, goes into the beds and the tools.\n\n"
        "- Seeds for the beds\n\n- Tools for volunteers\n\nThe shed will be built in May by the same crew that built the "
        "fence two years ago, with wood from the old bakery, and it will hold every tool we own. Its roof will catch rain "
        "for the water butts and the seed trays.\n\nSee you in the garden."
    )
    assert (doc.title, doc.author, doc.published_at) == ("Our spring letter", "Maya Chen", datetime(2021, 3, 14, 9, 0))
    assert doc.meta == {"format": "pdf", "date_from": "document properties (created)"}
    assert "6 running titles and page numbers left out" in summary.notes[0]


def test_a_page_set_in_two_columns_is_read_column_by_column(tmp_path):
    left = ["The garden opened in", "spring with forty beds.", "", "Volunteers came every", "Saturday to dig."]
    right = ["The shed went up in", "May, built of wood from", "the old bakery.", "", "Come and see it."]
    path = tmp_path / "columns.pdf"
    path.write_bytes(pdf_bytes([(left, right)]))
    [(_, doc)] = read_source(path)[1]
    text = " ".join(doc.text.split())
    assert text.index("forty beds") < text.index("every Saturday") < text.index("The shed") < text.index("Come and see it")


def test_a_transcript_saved_as_pdf_is_read_as_turns(tmp_path):
    turns = [("Maya Chen", "Welcome back to the show."), ("Luis Ortega", "Thanks for having me."),
             ("Maya Chen", "So, the garden."), ("Luis Ortega", "It has grown a lot, and the shed is")]
    lines = ["Garden show, episode 4", ""] + [f"{who}: {said}" for who, said in turns] + ["nearly done."]
    path = tmp_path / "episode-4.pdf"
    path.write_bytes(pdf_bytes([lines]))
    docs = [doc for _, doc in read_source(path)[1]]
    assert [(d.author, d.kind) for d in docs] == [(who, "transcript_turn") for who, _ in turns]
    assert docs[3].text == "It has grown a lot, and the shed is\nnearly done."
    assert {d.title for d in docs} == {"Garden show, episode 4"}


def test_pdfs_that_cannot_be_read_name_the_file_and_one_without_text_is_counted(tmp_path, workspace, digest):
    folder = tmp_path / "letters"
    folder.mkdir()
    (folder / "letter.pdf").write_bytes(pdf_bytes(LETTER))
    (folder / "scan.pdf").write_bytes(pdf_bytes([[""]]))  # a page with no text on it, as a scan has
    summary, pairs = read_source(folder)
    assert [doc.source_key for _, doc in pairs] == ["letter.pdf"]
    assert summary.skipped == {"no text": 1} and any("scan.pdf: no text in the PDF" in n for n in summary.notes)
    ingest_sources(workspace, [folder])
    before = digest(workspace.root)

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes(LETTER))))
    writer.encrypt(user_password="secret", algorithm="RC4-128")
    locked = io.BytesIO()
    writer.write(locked)
    (folder / "locked.pdf").write_bytes(locked.getvalue())
    with pytest.raises(SourceError, match=r"locked\.pdf: the PDF is protected by a password"):
        ingest_sources(workspace, [folder])
    (folder / "locked.pdf").unlink()
    (folder / "cut.pdf").write_bytes(pdf_bytes(LETTER)[:300])
    with pytest.raises(SourceError, match=r"cut\.pdf: not a PDF that can be read"):
        ingest_sources(workspace, [folder])
    assert digest(workspace.root) == before


@pytest.mark.parametrize(
    ("given", "title"),
    [
        ("Our spring letter", "Our spring letter"),
        ("Microsoft Word - spring_letter_v3.docx", "Spring letter"),
        ("Untitled", "Spring letter"),
        ("This file was generated by a tool. Do not edit!", "Spring letter"),
        (None, "Spring letter"),
    ],
)
def test_a_pdfs_title_is_its_properties_title_where_that_is_one_else_its_first_line(tmp_path, given, title):
    path = tmp_path / "letter.pdf"
    path.write_bytes(pdf_bytes(LETTER, title=given))
    [(_, doc)] = read_source(path)[1]
    assert doc.title == title


def test_ligatures_hyphenated_words_and_headings_are_put_right():
    from housevoice.ingest.pdf import _paragraphs

    lines = [
        "Our ﬁrst ﬂower show",
        "The show opened on a bright morning and the oﬃce staﬀ came early to set",
        "up the tables. Every grower brought three pots, and the judges took their",
        "time with each before they wrote a word on their well-",
        "known cards. A (well-known) grower won; the judges were friendly but care-",
        "ful, and their cards were carefully kept.",
    ]
    assert _paragraphs(lines) == (
        "Our first flower show\n\nThe show opened on a bright morning and the office staff came early to set up the "
        "tables. Every grower brought three pots, and the judges took their time with each before they wrote a word on "
        "their well-known cards. A (well-known) grower won; the judges were friendly but careful, and their cards were "
        "carefully kept."
    )


def test_a_speaker_label_opening_many_pages_is_not_taken_for_a_running_title(tmp_path):
    said = ["Welcome back to the show, everyone.", "Thanks, it is good to be here again.",
            "So tell us about the beans this year.", "They came up early and grew fast."]
    pages = []
    for n, words in enumerate(said):
        who = "MAYA CHEN:" if n % 2 == 0 else "LUIS ORTEGA:"
        pages.append([who, words, "", "Garden show", str(n + 1)])
    path = tmp_path / "talk.pdf"
    path.write_bytes(pdf_bytes(pages))
    docs = [doc for _, doc in read_source(path)[1]]
    assert [d.author for d in docs] == ["MAYA CHEN", "LUIS ORTEGA", "MAYA CHEN", "LUIS ORTEGA"]
    assert all("Garden show" not in d.text for d in docs)


def test_a_table_of_contents_is_left_out(tmp_path):
    contents = ["Contents", "Why we grow .................... 2", "What we need . . . . . . . . . . 3", "",
                "Why we grow", "We grow food because it matters to the people who eat it, and to us.", "",
                "What we need", "Seeds, tools and a shed for the volunteers who come to dig."]
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf_bytes([contents]))
    [(_, doc)] = read_source(path)[1]
    assert "...." not in doc.text and ". . . ." not in doc.text
    assert doc.text.startswith("Why we grow\n\nWe grow food")


def test_footnotes_and_their_marks_are_left_out_and_a_paragraph_goes_on_over_the_break(tmp_path):
    pages = [
        [
            "Why we moved",
            "",
            "We began the project in the spring of that year, when the old parser finally",
            "gave out under the load of the new users.^1 It was not the first time the",
        ],
        [
            "parser had failed us, but it was the worst, and the team agreed to start",
            "again from the grammar up rather than patch it one more time.",
        ],
    ]
    footnotes = [
        ["1 The load tripled in a week after the launch post went around", "the forums, which nobody had planned for.",
         "2 Figures from the status page."],
        [],
    ]
    path = tmp_path / "essay.pdf"
    path.write_bytes(pdf_bytes(pages, footnotes=footnotes, numbered=True))
    summary, [(_, doc)] = read_source(path)
    assert doc.text == (
        "Why we moved\n\nWe began the project in the spring of that year, when the old parser finally gave out under the "
        "load of the new users. It was not the first time the parser had failed us, but it was the worst, and the team "
        "agreed to start again from the grammar up rather than patch it one more time."
    )
    assert any("3 lines of footnotes left out" in note for note in summary.notes)


def test_small_print_that_opens_with_no_mark_or_sits_above_the_text_is_kept(tmp_path):
    # A smaller line at the foot without a footnote's mark (a caption, a sign-off) is the writer's text.
    # A small raised figure that is no footnote's mark (an exponent) stays too.
    pages = [["A short note to our readers about the garden and the spring fair this year.", "The beds cover 40 m^2 now."]]
    path = tmp_path / "note.pdf"
    path.write_bytes(pdf_bytes(pages, footnotes=[["Photo: the new shed, built by the Saturday volunteers."]]))
    summary, [(_, doc)] = read_source(path)
    assert "Photo: the new shed" in doc.text and "40 m2 now." in doc.text
    assert not any("footnotes" in note for note in summary.notes)
