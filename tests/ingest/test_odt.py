"""OpenDocument text: a post in markdown shape, or a transcript read as speaker turns."""

from __future__ import annotations

import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from housevoice.errors import SourceError
from housevoice.ingest import read_source

_HEAD = (
    '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:xlink="http://www.w3.org/1999/xlink" office:version="1.3"><office:body><office:text>'
)
_TAIL = "</office:text></office:body></office:document-content>"
_META = (
    '<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/" office:version="1.3">'
    "<office:meta><dc:title>Our spring appeal</dc:title><meta:initial-creator>Maya Chen</meta:initial-creator>"
    "<meta:creation-date>2021-03-14T09:00:00</meta:creation-date></office:meta></office:document-meta>"
)


def _odt(path: Path, body: str, meta: str | None = _META) -> Path:
    """An .odt file as LibreOffice writes one: the mimetype first and uncompressed, then content and meta."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        zf.writestr("content.xml", _HEAD + body + _TAIL, compress_type=zipfile.ZIP_DEFLATED)
        if meta:
            zf.writestr("meta.xml", meta, compress_type=zipfile.ZIP_DEFLATED)
    return path


POST = (
    '<text:h text:outline-level="2">Why we ask</text:h>'
    "<text:p>This spring we are raising money for the<text:s/>community garden"
    '<text:note><text:note-body><text:p>A footnote.</text:p></text:note-body></text:note>; see '
    '<text:a xlink:href="https://example.org/plan">the plan</text:a>.</text:p>'
    "<text:list><text:list-item><text:p>Seeds for the beds</text:p></text:list-item>"
    "<text:list-item><text:p>Tools for volunteers</text:p></text:list-item></text:list>"
    "<table:table><table:table-row><table:table-cell><text:p>Item</text:p></table:table-cell>"
    "<table:table-cell><text:p>Cost</text:p></table:table-cell></table:table-row>"
    "<table:table-row><table:table-cell><text:p>Seeds</text:p></table:table-cell>"
    "<table:table-cell><text:p>$40</text:p></table:table-cell></table:table-row></table:table>"
    "<text:p/><text:p>See you in the garden.</text:p>"
)


def test_an_odt_post_keeps_its_shape_and_takes_title_author_and_date_from_its_meta(tmp_path):
    summary, [(source, doc)] = read_source(_odt(tmp_path / "appeal.odt", POST))
    assert summary.format == "odt" and source == "odt:appeal.odt"
    assert doc.text == (
        "## Why we ask\n\nThis spring we are raising money for the community garden; see [the plan](https://example.org/plan).\n\n"
        "- Seeds for the beds\n- Tools for volunteers\n\n| Item | Cost |\n| Seeds | $40 |\n\nSee you in the garden."
    )
    assert (doc.title, doc.author, doc.published_at) == ("Our spring appeal", "Maya Chen", datetime(2021, 3, 14, 9, 0))
    assert doc.meta["format"] == "odt"


def test_an_odt_transcript_is_read_as_turns_and_a_broken_one_names_the_file(tmp_path):
    lines = ["Maya Chen: Welcome back.", "Luis Ortega: Thanks.", "Maya Chen: So, the garden.", "Luis Ortega: It grew."]
    body = "".join(f"<text:p>{line}</text:p>" for line in lines)
    docs = [doc for _, doc in read_source(_odt(tmp_path / "episode.odt", body, meta=None))[1]]
    assert [(d.author, d.text, d.kind) for d in docs][:2] == [
        ("Maya Chen", "Welcome back.", "transcript_turn"), ("Luis Ortega", "Thanks.", "transcript_turn")
    ]
    empty = read_source(_odt(tmp_path / "blank.odt", "<text:p/>"))[0]
    assert empty.skipped == {"no text": 1}
    broken = tmp_path / "broken.odt"
    with zipfile.ZipFile(broken, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        zf.writestr("content.xml", _HEAD + "<text:p>cut")
    with pytest.raises(SourceError, match=r"broken\.odt: not an OpenDocument text that can be read"):
        read_source(broken)
