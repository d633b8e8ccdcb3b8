"""Newsletters as email: `.eml` files and mailboxes become `newsletter` records."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from housevoice.errors import SourceError
from housevoice.ingest import email_messages, ingest_sources, markdown, read_source

HTML = "<h1>Spring at the garden</h1><p>Dear friends, the beds are <em>finally</em> planted.</p>"


def _message(subject: str, sender: str, date: str, *, html: str | None = None, plain: str | None = None,
             message_id: str | None = None, charset: str = "utf-8") -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "reader@example.org, other@example.org"
    message["Subject"] = subject
    message["Date"] = date
    message["List-Id"] = "Garden news <news.garden.example.org>"
    if message_id:
        message["Message-ID"] = message_id
    if plain is not None:
        message.set_content(plain, charset=charset)
    if html is not None:
        if plain is None:
            message.set_content(html, subtype="html")
        else:
            message.add_alternative(html, subtype="html")
    return message


def _mbox(path: Path, messages: list[EmailMessage]) -> Path:
    with open(path, "wb") as fh:
        for message in messages:
            fh.write(b"From news@garden.example.org Mon Mar 14 09:00:00 2022\n")
            fh.write(message.as_bytes().replace(b"\nFrom ", b"\n>From ") + b"\n")
    return path


def test_a_newsletter_email_is_one_record_read_from_its_html_part(tmp_path):
    path = tmp_path / "spring.eml"
    path.write_bytes(
        _message(
            "=?utf-8?q?Spring_at_the_garden_=E2=80=94_issue_12?=", "Maya Chen <maya@garden.example.org>",
            "Mon, 14 Mar 2022 10:30:00 +0100", html=HTML, plain="Dear friends, the beds are planted. https://x.example.org",
            message_id="<issue-12@garden.example.org>",
        ).as_bytes()
    )
    assert email_messages.sniff(path, path.read_bytes()) and not markdown.sniff(path, path.read_bytes())
    summary, [(source, doc)] = read_source(path)
    assert summary.format == "email" and source == "email:spring.eml"
    assert doc.source_key == "issue-12@garden.example.org"
    assert (doc.kind, doc.title, doc.author) == ("newsletter", "Spring at the garden — issue 12", "Maya Chen")
    assert doc.published_at == datetime(2022, 3, 14, 9, 30)  # stored in UTC
    assert doc.text.strip() == HTML
    assert doc.meta == {"format": "email", "body": "html", "list_id": "Garden news <news.garden.example.org>"}
    assert "reader@example.org" not in repr(doc)  # recipients are nobody's writing, and personal data


def test_a_mailbox_gives_one_record_per_message_and_counts_the_ones_without_text(tmp_path):
    path = _mbox(tmp_path / "Sent", [
        _message("Issue 1", "news@garden.example.org", "Tue, 01 Feb 2022 08:00:00 +0000", plain="From the beds: all planted.\n",
                 message_id="<i1@garden>"),
        _message("Issue 2", "Luis Ortega <luis@garden.example.org>", "Tue, 01 Mar 2022 08:00:00 +0000",
                 plain="Caf\u00e9 talk this month.\n", charset="latin-1"),
        _message("Empty", "news@garden.example.org", "Fri, 01 Apr 2022 08:00:00 +0000"),
        _message("Issue 1", "news@garden.example.org", "Tue, 01 Feb 2022 08:00:00 +0000", plain="From the beds: all planted.\n",
                 message_id="<i1@garden>"),
    ])
    assert email_messages.sniff(path, path.read_bytes())
    summary, pairs = read_source(path)
    docs = [doc for _, doc in pairs]
    assert [(d.source_key, d.title, d.author) for d in docs] == [
        ("i1@garden", "Issue 1", "news@garden.example.org"), ("Sent#2", "Issue 2", "Luis Ortega")
    ]
    assert docs[0].text == "From the beds: all planted.\n"  # the mbox's ">From" escape undone
    assert docs[1].text == "Caf\u00e9 talk this month.\n" and docs[1].meta["body"] == "plain"
    assert dict(summary.skipped) == {"no text": 1, "the same message again": 1}


def test_broken_mail_names_the_file_and_leaves_the_workspace_as_it_was(workspace, tmp_path, digest):
    good = tmp_path / "good.eml"
    good.write_bytes(_message("Issue 3", "news@garden.example.org", "Tue, 01 Mar 2022 08:00:00 +0000", plain="Hello.\n").as_bytes())
    ingest_sources(workspace, [good])
    before = digest(workspace.root)
    empty_box = tmp_path / "empty.mbox"
    empty_box.write_bytes(b"From nobody Mon Jan  1 00:00:00 2024\nX-Note: nothing here\n")
    with pytest.raises(SourceError, match=r"empty\.mbox: message 1 has no From, Subject or Date header"):
        ingest_sources(workspace, [good, empty_box])
    bad_date = tmp_path / "bad-date.eml"
    bad_date.write_bytes(b"From: news@garden.example.org\nSubject: Issue 4\nDate: next Tuesday\n\nHello again.\n")
    summary, [(_, doc)] = read_source(bad_date)
    assert doc.published_at is None and "unreadable date 'next Tuesday'" in summary.notes[0]
    assert digest(workspace.root) == before


def test_a_post_that_opens_with_a_from_line_stays_a_post(tmp_path):
    post = tmp_path / "letter.md"
    post.write_text("From: the editor\nSubject: our plans\n\nDear readers, here is the plan.\n")
    mbox_like = tmp_path / "notes.txt"
    mbox_like.write_text("From here we go on.\nDate: tomorrow\nSubject: plans\n")
    for path in (post, mbox_like):
        assert not email_messages.sniff(path, path.read_bytes())
    assert read_source(post)[0].format == "markdown"


def test_a_plain_text_letters_signature_under_its_dash_line_is_left_out(tmp_path):
    plain = "Dear friends,\n\nThe beds are planted.\n\n-- not a signature, a dash in prose\n\nThanks, Maya\n-- \nMaya Chen\nGarden Club\n+44 20 7946 0000\n"
    path = tmp_path / "letter.eml"
    path.write_bytes(_message("Spring", "Maya Chen <maya@garden.example.org>", "Mon, 14 Mar 2022 09:00:00 +0000", plain=plain).as_bytes())
    result = email_messages.read(path, key="letter.eml")
    [doc] = result.documents
    assert doc.text == "Dear friends,\n\nThe beds are planted.\n\n-- not a signature, a dash in prose\n\nThanks, Maya\n"
    assert any("signature under its '-- ' line left out" in note for note in result.notes)
    # A message that is nothing but a signature keeps its words.
    only = tmp_path / "only.eml"
    only.write_bytes(_message("Card", "Maya Chen <maya@garden.example.org>", "Mon, 14 Mar 2022 09:00:00 +0000",
                              plain="\n-- \nMaya Chen\n").as_bytes())
    assert "Maya Chen" in email_messages.read(only, key="only.eml").documents[0].text
