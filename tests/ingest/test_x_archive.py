"""X (Twitter) account archives: the account's posts as threads and replies, nothing else of the archive."""

from __future__ import annotations

import json
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from housevoice.curate.clean import clean_text
from housevoice.errors import SourceError
from housevoice.ingest import read_source, x_archive


def post(pid: str, text: str, when: str = "Wed Oct 10 20:19:24 +0000 2018", *, reply_to: str | None = None,
         reply_to_name: str | None = None, urls=(), media=(), shown_from: int = 0) -> dict:
    return {
        "tweet": {
            "id_str": pid, "id": pid, "full_text": text, "created_at": when, "lang": "en",
            "display_text_range": [str(shown_from), str(len(text))],
            "in_reply_to_status_id_str": reply_to, "in_reply_to_screen_name": reply_to_name,
            "entities": {"urls": [{"url": u, "expanded_url": e} for u, e in urls], "media": [{"url": m} for m in media]},
        }
    }


POSTS = [
    post("100", "We rebuilt our build farm this year. A thread on what we learned &amp; what we would do again:",
         "Mon Jan 08 09:00:00 +0000 2024"),
    post("101", "First: measure before you buy. Our slowest step was not the one we guessed.",
         "Mon Jan 08 09:01:00 +0000 2024", reply_to="100", reply_to_name="acmebuilds"),
    post("102", "Second: cache what you can, and write down why. Details: https://t.co/abc",
         "Mon Jan 08 09:02:00 +0000 2024", reply_to="101", reply_to_name="acmebuilds",
         urls=[("https://t.co/abc", "https://acme.example/blog/build-farm?utm_source=x")]),
    post("200", "@someone @other Thanks for asking! The slides are on our site.", "Tue Feb 06 10:00:00 +0000 2024",
         reply_to="999", reply_to_name="someone", shown_from=17),
    post("300", "RT @friend: Look at this great post about builds", "Wed Mar 06 10:00:00 +0000 2024"),
    post("400", "https://t.co/pic", "Thu Apr 04 10:00:00 +0000 2024", media=["https://t.co/pic"]),
    post("500", "Our new office opens today. Come say hello! https://t.co/pic2", "Fri May 03 10:00:00 +0000 2024",
         media=["https://t.co/pic2"]),
]
ACCOUNT = [{"account": {"username": "acmebuilds", "accountDisplayName": "Acme Builds", "accountId": "42"}}]


def table(name: str, rows: list) -> str:
    return f"window.YTD.{name}.part0 = " + json.dumps(rows, indent=2)


def archive(root: Path, posts: list = POSTS) -> Path:
    data = root / "data"
    (data / "tweets_media").mkdir(parents=True)
    (data / "tweets.js").write_text(table("tweets", posts), encoding="utf-8")
    (data / "account.js").write_text(table("account", ACCOUNT), encoding="utf-8")
    (data / "manifest.js").write_text('window.__THAR_CONFIG = {"userInfo": {"userName": "acmebuilds"}}', encoding="utf-8")
    (data / "direct-messages.js").write_text(
        table("direct_messages", [{"dmConversation": {"messages": [{"messageCreate": {"text": "my private address is 1 Main St"}}]}}]),
        encoding="utf-8",
    )
    (data / "like.js").write_text(table("like", [{"like": {"tweetId": "7", "fullText": "someone else's words"}}]), encoding="utf-8")
    (data / "deleted-tweets.js").write_text(table("deleted_tweets", [post("900", "a post the account deleted")]), encoding="utf-8")
    (data / "tweets_media" / "500-photo.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(200))
    (root / "Your archive.html").write_text("<html><body><h1>Your archive</h1><p>Browse your data.</p></body></html>", encoding="utf-8")
    return root


def test_an_archive_folder_gives_threads_and_replies_and_nothing_private(tmp_path):
    summary, docs = read_source(archive(tmp_path / "twitter-2024-06-01"))
    by_key = {d.source_key: d for _, d in docs}
    assert sorted(by_key) == ["100", "200", "500"]
    thread = by_key["100"]
    assert thread.kind == "social" and thread.author == "Acme Builds" and thread.meta["thread_posts"] == 3
    assert thread.text.split("\n\n") == [
        "We rebuilt our build farm this year. A thread on what we learned & what we would do again:",
        "First: measure before you buy. Our slowest step was not the one we guessed.",
        "Second: cache what you can, and write down why. Details: https://acme.example/blog/build-farm?utm_source=x",
    ]
    assert thread.published_at == datetime(2024, 1, 8, 9, 0) and thread.url == "https://x.com/acmebuilds/status/100"
    reply = by_key["200"]
    assert reply.kind == "reply" and reply.meta["reply_to"] == "@someone"
    assert reply.text == "Thanks for asking! The slides are on our site."
    assert by_key["500"].text == "Our new office opens today. Come say hello!"
    assert summary.format == "x"
    assert summary.skipped[x_archive.REPOST] == 1 and summary.skipped[x_archive.NO_TEXT] == 1
    # Messages, likes, deleted posts, media and the archive's own page are never read, only counted.
    assert summary.skipped["site files, not writing"] == 7
    assert not any("private" in d.text or "someone else's" in d.text or "deleted" in d.text for _, d in docs)
    assert any("an X (Twitter) account archive" in note and "tweets.js" in note for note in summary.notes)


def test_the_archive_as_downloaded_zip_keeps_record_ids(tmp_path):
    folder = archive(tmp_path / "unpacked")
    zipped = tmp_path / "twitter-2024-06-01-abc.zip"
    with zipfile.ZipFile(zipped, "w") as zf:
        for file in folder.rglob("*"):
            if file.is_file():
                zf.write(file, file.relative_to(folder).as_posix())
    first, docs = read_source(zipped)
    again, docs_again = read_source(zipped)
    assert sorted(d.source_key for _, d in docs) == ["100", "200", "500"]
    assert first.record_ids == again.record_ids


def test_a_posts_file_named_alone_is_read_and_cleans_to_prose(tmp_path):
    folder = archive(tmp_path / "a")
    summary, docs = read_source(folder / "data" / "tweets.js")
    thread = next(d for _, d in docs if d.source_key == "100")
    assert "acme.example" not in clean_text(thread.text) and "& what" in clean_text(thread.text)
    # Without account.js beside it the posts have no author, and links name no account.
    alone = tmp_path / "tweets.js"
    alone.write_text(table("tweets", POSTS[:1]), encoding="utf-8")
    _, docs = read_source(alone)
    assert docs[0][1].author is None and docs[0][1].url == "https://x.com/i/web/status/100"


def test_older_archives_hold_posts_unwrapped_in_tweet_js(tmp_path):
    path = tmp_path / "tweet.js"
    path.write_text(table("tweet", [p["tweet"] for p in POSTS[:2]]), encoding="utf-8")
    _, docs = read_source(path)
    assert [d.source_key for _, d in docs] == ["100"] and docs[0][1].meta["thread_posts"] == 2


def test_broken_archive_tables_name_the_file_and_line(tmp_path):
    broken = tmp_path / "tweets.js"
    broken.write_text('window.YTD.tweets.part0 = [\n  {"tweet": {"id_str": "1", "full_text": "hi"}},\n  {oops}\n]', encoding="utf-8")
    with pytest.raises(SourceError, match=r"tweets\.js:3: not valid JSON"):
        read_source(broken)
    (tmp_path / "b").mkdir()
    (tmp_path / "c").mkdir()
    no_id = tmp_path / "b" / "tweets-part1.js"
    no_id.write_text(table("tweets", [{"tweet": {"full_text": "no id"}}]), encoding="utf-8")
    with pytest.raises(SourceError, match="entry 1 is not a post with an id"):
        read_source(no_id)
    bad_date = tmp_path / "c" / "tweet-part2.js"
    bad_date.write_text(table("tweet", [post("5", "words", "yesterday")]), encoding="utf-8")
    with pytest.raises(SourceError, match="post 5: unreadable date 'yesterday'"):
        read_source(bad_date)


def test_a_thread_split_over_two_post_files_is_one_record(tmp_path):
    folder = archive(tmp_path / "big")
    data = folder / "data"
    data.joinpath("tweets.js").write_text(table("tweets", POSTS[:2]), encoding="utf-8")
    data.joinpath("tweets-part1.js").write_text(table("tweets", POSTS[2:]).replace("part0", "part1"), encoding="utf-8")
    summary, docs = read_source(folder)
    by_key = {d.source_key: d for _, d in docs}
    assert sorted(by_key) == ["100", "200", "500"] and by_key["100"].meta["thread_posts"] == 3
    assert summary.skipped["post file read with tweets.js"] == 1
    assert any("read with tweets-part1.js" in note for note in summary.notes)


LONG = (
    "We moved every build to one shared cache last spring, and the numbers surprised us. Cold builds fell from "
    "forty minutes to nine; warm ones to under two. What mattered most was not the cache itself but writing down "
    "which steps may share it, and why. Here is what we wrote down, rule by rule, so you can copy it: "
    "https://t.co/rules and the three mistakes we made first."
)


def note(when: str, text: str, urls=()) -> dict:
    return {"noteTweet": {"noteTweetId": "77" + when[-6:-5], "createdAt": when, "updatedAt": when, "lifecycle": {},
                          "core": {"text": text, "styletags": [], "mentions": [], "hashtags": [], "cashtags": [],
                                   "urls": [{"shortUrl": s, "expandedUrl": e, "displayUrl": e} for s, e in urls]}}}


def test_long_posts_are_read_whole_from_their_notes(tmp_path):
    cut = LONG[:275] + "…"
    posts = [
        post("600", cut, "Mon Jun 03 14:05:09 +0000 2024"),
        post("700", "A short post written the same second as another note.", "Tue Jun 04 08:00:00 +0000 2024"),
    ]
    folder = archive(tmp_path / "long", posts)
    data = folder / "data"
    data.joinpath("note-tweet.js").write_text(table("note_tweet", [
        note("2024-06-03T14:05:09.000Z", "Someone else's words entirely, written that second."),
        note("2024-06-03T14:05:09.000Z", LONG, urls=[("https://t.co/rules", "https://acme.example/cache-rules")]),
        note("2024-06-04T08:00:00.000Z", "An unrelated long note that this post does not open."),
    ]), encoding="utf-8")
    data.joinpath("deleted-note-tweet.js").write_text(table("deleted_note_tweet", [note("2024-06-05T08:00:00.000Z", "gone")]), encoding="utf-8")
    summary, docs = read_source(folder)
    by_key = {d.source_key: d for _, d in docs}
    assert by_key["600"].text == LONG.replace("https://t.co/rules", "https://acme.example/cache-rules")
    assert by_key["700"].text == "A short post written the same second as another note."
    assert any("1 long post(s) read whole from note-tweet.js" in n for n in summary.notes)
    # A damaged notes table leaves the posts as the posts file has them.
    data.joinpath("note-tweet.js").write_text("window.YTD.note_tweet.part0 = [{", encoding="utf-8")
    summary, docs = read_source(folder)
    assert {d.source_key: d for _, d in docs}["600"].text == cut
    assert any("note-tweet.js: not read" in n and "cut-short" in n for n in summary.notes)


def test_other_tables_of_an_archive_are_not_taken_for_posts(tmp_path):
    assert not x_archive.sniff(Path("direct-messages.js"), table("direct_messages", []).encode())
    assert not x_archive.sniff(Path("tweet-headers.js"), table("tweet_headers", []).encode())
    assert not x_archive.sniff(Path("deleted-tweets.js"), table("deleted_tweets", []).encode())
    assert x_archive.sniff(Path("tweets-part3.js"), "\ufeffwindow.YTD.tweets.part3 = [".encode())


def test_short_replies_are_dropped_by_rule_and_threads_kept(tmp_path, workspace):
    import polars as pl

    from housevoice.curate.pipeline import curate, explain_record
    from housevoice.ingest import ingest_sources

    ingest_sources(workspace, [archive(tmp_path / "twitter")])
    curate(workspace)
    records = workspace.read_table("records").select("record_id", "source_key")
    routes = dict(workspace.read_table("curated").join(records, on="record_id").select("source_key", "route").iter_rows())
    assert routes == {"100": "keep", "200": "drop", "500": "review"}
    reply = records.filter(pl.col("source_key") == "200")["record_id"][0]
    assert explain_record(workspace, reply)["rule"] == 'too_short → drop ([curate.kind_routes.reply] too_short = "drop")'
