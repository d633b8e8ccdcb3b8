"""JSONL and CSV sources: mapping, stable ids, re-ingest, and every kind of bad file."""

from __future__ import annotations

import json
from datetime import datetime

import polars as pl
import pytest

from housevoice.errors import HousevoiceError, SourceError
from housevoice.ingest import ingest_sources


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_dev_corpus_ingests_with_no_mapping(workspace, shared_data):
    summary = ingest_sources(workspace, [shared_data / "dev-corpus" / "records.jsonl"])
    records = workspace.read_table("records")
    assert summary.new == len(records) == 826
    first = records.row(0, named=True)
    assert first["source_key"] == "a-9b60c9e347"
    assert first["author"] == "Niko Matsakis"
    assert first["title"] == "Road to Rust 1.0"
    assert str(first["published_at"]).startswith("2014-09-15")
    assert json.loads(first["meta"])["source"] == "blog.rust-lang.org"


def test_reingest_keeps_record_ids_and_adds_no_rows(workspace, tmp_path):
    src = _write_jsonl(tmp_path / "posts.jsonl", [{"id": str(i), "text": f"post {i}"} for i in range(5)])
    ingest_sources(workspace, [src])
    ids = workspace.read_table("records")["record_id"].to_list()
    again = ingest_sources(workspace, [src])
    assert workspace.read_table("records")["record_id"].to_list() == ids
    assert (again.new, again.changed, again.unchanged) == (0, 0, 5)


def test_changed_source_updates_only_changed_records_in_place(workspace, tmp_path):
    src = tmp_path / "posts.jsonl"
    _write_jsonl(src, [{"id": str(i), "text": f"post {i}"} for i in range(4)])
    ingest_sources(workspace, [src])
    _write_jsonl(src, [{"id": "0", "text": "post 0"}, {"id": "1", "text": "post one, edited"},
                       {"id": "2", "text": "post 2"}, {"id": "9", "text": "brand new"}])
    summary = ingest_sources(workspace, [src])
    assert (summary.new, summary.changed, summary.unchanged) == (1, 1, 2)
    records = workspace.read_table("records")
    # record 3 left the source but nothing is silently deleted; order of first ingest is kept
    assert records["source_key"].to_list() == ["0", "1", "2", "3", "9"]
    assert records.filter(pl.col("source_key") == "1")["text"].item() == "post one, edited"


def test_kinds_are_normalised_and_turn_synonyms_are_transcript_turns(workspace, tmp_path):
    src = _write_jsonl(tmp_path / "k.jsonl", [
        {"id": "1", "text": "Yeah.", "kind": "Transcript"}, {"id": "2", "text": "Sure.", "kind": "utterance"},
        {"id": "3", "text": "A post.", "kind": "post"}, {"id": "4", "text": "A letter.", "kind": "News Letter"},
        {"id": "5", "text": "No kind."},
    ])
    ingest_sources(workspace, [src])
    records = workspace.read_table("records").sort("source_key")
    assert records["kind"].to_list() == ["transcript_turn", "transcript_turn", "post", "news_letter", "post"]
    metas = [json.loads(m) for m in records["meta"]]
    assert metas[0]["kind_as_given"] == "Transcript" and "kind_as_given" not in metas[2]


def test_mapping_names_the_columns(workspace, tmp_path):
    src = _write_jsonl(tmp_path / "n.jsonl", [{"uid": "a", "body": "Hello there", "headline": "Hi", "writer": "Ana"}])
    ingest_sources(workspace, [src], mapping={"text": "body", "title": "headline", "id": "uid", "author": "writer"})
    row = workspace.read_table("records").row(0, named=True)
    assert (row["source_key"], row["text"], row["title"], row["author"]) == ("a", "Hello there", "Hi", "Ana")


def test_csv_with_mapping_and_dates(workspace, tmp_path):
    src = tmp_path / "posts.csv"
    src.write_text('id,headline,body,date\n1,First,"Line one\nline two",2021-03-04T10:00:00+02:00\n2,Second,Two,not a date\n')
    summary = ingest_sources(workspace, [src], mapping={"text": "body"})
    records = workspace.read_table("records")
    assert records["title"].to_list() == ["First", "Second"]
    assert str(records["published_at"][0]) == "2021-03-04 08:00:00"
    assert records["published_at"][1] is None
    assert any("unreadable date 'not a date'" in n for n in summary.sources[0].notes), summary.sources[0].notes


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.jsonl", b'{"id": "1", "text": "ok"}\n{"id": "2", "text": \n', r"bad\.jsonl:2: not valid JSON"),
        ("trunc.jsonl", b'{"id": "1", "text": "ok"}\n{"id": "2", "te', r"trunc\.jsonl:2: not valid JSON"),
        ("notext.jsonl", b'{"id": "1", "words": "x"}\n', r"notext\.jsonl: no text column .*--map text=COLUMN"),
        ("missing.jsonl", b'{"id": "1", "text": "x"}\n{"id": "2"}\n', r"missing\.jsonl:2: record has no 'text' value"),
        ("twice.jsonl", b'{"id": "1", "text": "x"}\n{"id": "1", "text": "y"}\n', r"twice\.jsonl:2: id '1' appears twice"),
        ("latin1.jsonl", '{"id": "1", "text": "caf\u00e9"}\n'.encode("latin-1"), r"latin1\.jsonl:1: not UTF-8"),
        ("list.jsonl", b'[1, 2]\n', r"list\.jsonl"),
        ("empty.jsonl", b"", r"empty\.jsonl: the file is empty"),
        ("blob.bin", bytes(range(256)) * 40, r"blob\.bin: this is a binary file"),
        ("bad.csv", b"id,text\n1,ok\n2,ok,extra\n", r"bad\.csv:3: row has 3 fields"),
        ("latin1.csv", "id,text\n1,caf\u00e9\n".encode("latin-1"), r"latin1\.csv: not UTF-8"),
    ],
)
def test_bad_file_gives_a_clear_error_and_leaves_the_workspace_as_it_was(workspace, tmp_path, digest, name, content, message):
    good = _write_jsonl(tmp_path / "good.jsonl", [{"id": "1", "text": "kept"}])
    ingest_sources(workspace, [good])
    before = digest(workspace.root)
    bad = tmp_path / name
    bad.write_bytes(content)
    with pytest.raises(HousevoiceError, match=message):
        ingest_sources(workspace, [good, bad])
    assert digest(workspace.root) == before


def test_oversized_record_is_refused_with_its_key(workspace, tmp_path, digest):
    (workspace.root / "housevoice.toml").write_text((workspace.root / "housevoice.toml").read_text().replace(
        "max_record_mb = 20", "max_record_mb = 1"))
    ws = type(workspace).open(workspace.root)
    src = _write_jsonl(tmp_path / "big.jsonl", [{"id": "small", "text": "x"}, {"id": "huge", "text": "word " * 600_000}])
    before = digest(ws.root)
    with pytest.raises(SourceError, match=r"big\.jsonl: record 'huge' is 2\.9 MB, over the 1 MB limit"):
        ingest_sources(ws, [src])
    assert digest(ws.root) == before


def test_fifty_megabyte_record_gets_a_clear_error(workspace, tmp_path, digest):
    src = tmp_path / "fifty.jsonl"
    with open(src, "w") as fh:
        fh.write(json.dumps({"id": "big", "text": "a" * (50 * 2**20)}) + "\n")
    before = digest(workspace.root)
    with pytest.raises(SourceError, match=r"fifty\.jsonl: record 'big' is 50\.0 MB, over the 20 MB limit"):
        ingest_sources(workspace, [src])
    assert digest(workspace.root) == before


def test_unknown_source_path_and_unknown_format(workspace, tmp_path):
    with pytest.raises(SourceError, match="no such file or folder"):
        ingest_sources(workspace, [tmp_path / "nope.xml"])
    src = _write_jsonl(tmp_path / "a.jsonl", [{"id": "1", "text": "x"}])
    with pytest.raises(HousevoiceError, match="unknown format 'pptx'"):
        ingest_sources(workspace, [src], fmt="pptx")
    with pytest.raises(HousevoiceError, match="unknown format 'pptx'"):  # a folder too, before any file is sniffed
        ingest_sources(workspace, [tmp_path], fmt="pptx")


WEBFLOW = (
    "Name,Slug,Collection ID,Item ID,Archived,Draft,Created On,Published On,Post Body,Author\n"
    '"Spring planting",spring-planting,c1,i1,false,false,"Wed Mar 01 2023 10:00:00 GMT+0000 (Coordinated Universal Time)",'
    '"Thu Mar 02 2023 09:00:00 GMT+0000 (Coordinated Universal Time)","<p>We planted the first beds.</p>",maya-chen\n'
    '"Summer notes",summer-notes,c1,i2,false,true,"Wed Jun 01 2023 10:00:00 GMT+0000 (Coordinated Universal Time)",,'
    '"<p>Long evenings in the garden.</p>",luis\n'
)
HUBSPOT = (
    "Post Title,Post Body,Publish Date,Author,Blog Post URL\n"
    '"Why we grow","<p>Because food matters.</p>","2022-05-01 10:00","Maya Chen",https://blog.example/why\n'
    '"What we grow","<p>Beans, mostly.</p>","2022-06-01 10:00","Maya Chen",https://blog.example/what\n'
)


def test_cms_exports_are_read_by_their_own_column_names(workspace, tmp_path):
    from datetime import datetime

    from housevoice.ingest import read_source

    (tmp_path / "webflow.csv").write_text(WEBFLOW)
    (tmp_path / "hubspot.csv").write_text(HUBSPOT)
    _, pairs = read_source(tmp_path / "webflow.csv")
    spring, summer = (doc for _, doc in pairs)
    assert (spring.source_key, spring.title, spring.author) == ("i1", "Spring planting", "maya-chen")
    assert spring.text == "<p>We planted the first beds.</p>" and spring.status is None
    assert spring.published_at == datetime(2023, 3, 2, 9, 0)
    assert (summer.status, summer.published_at) == ("draft", None)
    summary, pairs = read_source(tmp_path / "hubspot.csv")
    docs = [doc for _, doc in pairs]
    assert [(d.source_key, d.title, d.url) for d in docs] == [
        ("https://blog.example/why", "Why we grow", "https://blog.example/why"),
        ("https://blog.example/what", "What we grow", "https://blog.example/what"),
    ]
    assert "each row's address is its key" in summary.notes[0]
    # Addresses that repeat are no keys: rows are numbered as before.
    (tmp_path / "twice.csv").write_text(HUBSPOT.replace("/what", "/why"))
    summary, pairs = read_source(tmp_path / "twice.csv")
    assert [doc.source_key for _, doc in pairs] == ["row-2", "row-3"] and "row numbers are used" in summary.notes[0]


def test_linkedin_shares_are_posts_keyed_by_their_links(tmp_path):
    from datetime import datetime

    from housevoice.ingest import read_source

    (tmp_path / "Shares.csv").write_text(
        "Date,ShareLink,ShareCommentary,SharedUrl,MediaUrl,Visibility\n"
        '2024-03-01 09:30:00,https://www.linkedin.com/feed/update/urn:li:share:1,"We planted forty beds.\nMore soon.",,,MEMBER_NETWORK\n'
        '2024-03-08 10:00:00,https://www.linkedin.com/feed/update/urn:li:share:2,"The beans are up.",,,MEMBER_NETWORK\n'
    )
    summary, pairs = read_source(tmp_path / "Shares.csv")
    docs = [doc for _, doc in pairs]
    assert [d.text for d in docs] == ["We planted forty beds.\nMore soon.", "The beans are up."]
    assert docs[0].source_key == "https://www.linkedin.com/feed/update/urn:li:share:1"
    assert docs[0].published_at == datetime(2024, 3, 1, 9, 30)


@pytest.mark.parametrize(
    "written, meant",
    [
        ("January 5, 2024 3:04 PM", datetime(2024, 1, 5, 15, 4)),
        ("5 Jan 2024 3:04 pm", datetime(2024, 1, 5, 15, 4)),
        ("Jan 5, 2024 12:30 AM", datetime(2024, 1, 5, 0, 30)),
        ("Mon, 15 Sep 2014 08:00:00 +0200", datetime(2014, 9, 15, 6, 0)),
    ],
)
def test_dates_on_a_twelve_hour_clock_keep_their_afternoon(written, meant):
    from housevoice.ingest.base import parse_datetime, parse_written_datetime

    assert parse_written_datetime(written) == meant
    if "M" in written.upper()[-3:]:
        with pytest.raises(ValueError, match="unreadable date"):
            parse_datetime(written)  # the strict parser refuses what it would misread
