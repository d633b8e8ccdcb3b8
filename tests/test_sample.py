"""The bundled sample holds what its README promises, and its build script reproduces it."""

from __future__ import annotations

import importlib.util
import json
import re
from collections import Counter
from pathlib import Path

import pytest
import srt
import webvtt
from lxml import etree

import housevoice

SAMPLE = Path(housevoice.__file__).parent / "sample"
REPO = Path(__file__).resolve().parents[1]
NS = {"wp": "http://wordpress.org/export/1.2/", "content": "http://purl.org/rss/1.0/modules/content/",
      "dc": "http://purl.org/dc/elements/1.1/"}
STYLES = ["episode.vtt", "episode.srt", "episode-otter.txt", "episode-shownotes.md"]


def load_build_script():
    spec = importlib.util.spec_from_file_location("build_sample", REPO / "scripts" / "build_sample.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def channel():
    tree = etree.parse(str(SAMPLE / "blog.wxr.xml"), etree.XMLParser(recover=False))
    return tree.getroot().find("channel")


@pytest.fixture(scope="module")
def truth():
    return json.loads((SAMPLE / "truth.json").read_text(encoding="utf-8"))


def items_by(channel, field: str) -> list[str]:
    return [item.findtext(f"wp:{field}", namespaces=NS) for item in channel.iter("item")]


def test_sample_export_is_strict_wxr_1_2(channel):
    assert channel.findtext("wp:wxr_version", namespaces=NS) == "1.2"
    assert channel.findtext("wp:base_site_url", namespaces=NS).startswith("https://")
    for item in channel.iter("item"):
        assert item.findtext("wp:post_id", namespaces=NS).isdigit()
        assert item.find("content:encoded", NS) is not None


def test_sample_export_counts_match_the_readme(channel):
    kinds = Counter(zip(items_by(channel, "post_type"), items_by(channel, "status")))
    assert kinds == {("post", "publish"): 97, ("post", "draft"): 2, ("post", "private"): 1,
                     ("page", "publish"): 3, ("page", "draft"): 1,
                     ("attachment", "inherit"): 6, ("nav_menu_item", "publish"): 3}
    readme = (SAMPLE / "README.md").read_text(encoding="utf-8")
    assert "| posts (post type `post`) | 100: publish: 97, draft: 2, private: 1 |" in readme
    assert "| pages | 4: publish: 3, draft: 1 (About, Contact, Links, Privacy Policy) |" in readme
    assert "| not writing (a reader skips them) | attachment: 6, nav_menu_item: 3 |" in readme
    assert "| post authors | 36 |" in readme


def test_every_post_creator_is_a_declared_author(channel):
    authors = {a.findtext("wp:author_login", namespaces=NS): a.findtext("wp:author_display_name", namespaces=NS)
               for a in channel.findall("wp:author", NS)}
    assert len(authors) == 37  # 36 post authors and the site admin
    creators = Counter(authors[item.findtext("dc:creator", namespaces=NS)] for item in channel.iter("item")
                       if item.findtext("wp:post_type", namespaces=NS) == "post")
    assert creators["Niko Matsakis"] == 30


def test_every_sample_post_traces_to_its_corpus_record(channel, truth):
    source_ids = {}
    for item in channel.iter("item"):
        meta = {m.findtext("wp:meta_key", namespaces=NS): m.findtext("wp:meta_value", namespaces=NS)
                for m in item.findall("wp:postmeta", NS)}
        if item.findtext("wp:post_type", namespaces=NS) == "post":
            source_ids[int(item.findtext("wp:post_id", namespaces=NS))] = meta["_housevoice_source_id"]
    rows = {row["post_id"]: row for row in truth["items"]}
    assert {pid: rows[pid]["source_id"] for pid in source_ids} == source_ids
    assert len(set(source_ids.values())) == 100


def test_sample_holds_target_author_series_and_both_sides_of_duplicates(truth):
    posts = [row for row in truth["items"] if row["post_type"] == "post"]
    ids = {row["source_id"] for row in posts}
    copies = [row for row in posts if row["exact_dup_of"] or row["near_dup_of"]]
    assert sum(bool(row["exact_dup_of"]) for row in copies) == 4
    assert sum(bool(row["near_dup_of"]) for row in copies) == 9
    assert all((row["exact_dup_of"] or row["near_dup_of"]) in ids for row in copies)
    families = Counter(row["template_family"] for row in posts)
    assert families["rust_release_announcement"] >= 6 and families["cargo_development_cycle"] >= 3
    originals_by_target = [row for row in posts if row["is_target_author"] and row not in copies]
    assert len(originals_by_target) >= 15
    assert any(row["published_at"] < "2020" for row in posts) and sum(row["has_html"] for row in posts) >= 3


def test_contact_page_holds_personal_data(channel):
    contact = next(item for item in channel.iter("item") if item.findtext("title") == "Contact")
    body = contact.findtext("content:encoded", namespaces=NS)
    assert re.search(r"[\w.]+@[\w.]+\.\w+", body) and re.search(r"\(555\) \d{3}-\d{4}", body)


def speakers_in(name: str) -> list[str]:
    """The speaker of each labelled unit in one transcript file, in order."""
    path = SAMPLE / "transcripts" / name
    text = path.read_text(encoding="utf-8")
    if name.endswith(".vtt"):
        return [caption.voice for caption in webvtt.read(str(path))]
    if name.endswith(".srt"):
        return [sub.content.split(":", 1)[0] for sub in srt.parse(text)]
    if name.endswith(".txt"):
        return re.findall(r"^(.+?)  \d+:\d\d$", text, re.M)
    assert text.startswith("# ")
    return re.findall(r"^\*\*(.+?):\*\* ", text, re.M)


@pytest.mark.parametrize("name", STYLES)
def test_transcript_style_merges_back_into_the_excerpt_turns(name, truth):
    speakers = speakers_in(name)
    merged = [s for n, s in enumerate(speakers) if n == 0 or speakers[n - 1] != s]
    turns = [turn["speaker"] for turn in truth["transcripts"]["turns"]]
    assert len(speakers) == truth["transcripts"]["units"][name]
    assert len(merged) < len(speakers), "no consecutive same-speaker units to merge"
    assert merged == turns and "Daniel Whitenack" in turns and 2 <= len(set(turns)) <= 4


def test_sample_folder_is_under_3_mb():
    assert sum(p.stat().st_size for p in SAMPLE.rglob("*") if p.is_file()) < 3_000_000


def test_cdata_end_inside_a_post_survives_the_export():
    cdata = load_build_script().cdata
    body = "<pre><code>let x = a[b[0]]>c;</code></pre> ]]> twice ]]>"
    root = etree.fromstring(f"<content>{cdata(body)}</content>".encode(), etree.XMLParser(recover=False))
    assert root.text == body


def test_build_script_names_a_missing_corpus(tmp_path):
    with pytest.raises(SystemExit, match=r"nowhere.*records\.jsonl: not found"):
        load_build_script().main(["--corpus", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")])


def test_build_script_reproduces_the_bundled_sample(tmp_path):
    script = load_build_script()
    if not (script.SHARED / "dev-corpus" / "records.jsonl").is_file():
        pytest.skip("the shared corpus is not next to this checkout")
    script.main(["--out", str(tmp_path)])
    for path in SAMPLE.rglob("*"):
        if path.is_file():
            assert (tmp_path / path.relative_to(SAMPLE)).read_bytes() == path.read_bytes(), path.name
