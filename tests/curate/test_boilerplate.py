"""Site boilerplate: lines a site adds to many unrelated posts leave the clean text, with a flag naming them."""

from __future__ import annotations

import json
import random

import polars as pl
import pytest

from housevoice.curate.clean import CleanSettings, clean_frame
from housevoice.curate.duplicates import DuplicateFlagger, DuplicateSettings
from housevoice.curate.pipeline import curate, explain_record
from housevoice.ingest import ingest_sources

PLUG = "Thanks for reading! If you enjoyed this post, subscribe to our newsletter for more stories from the team."
FOLLOW = "Follow us on Mastodon and Bluesky for updates, and join the conversation on our community forum."
FOOTER = f"\n\n{PLUG}\n\n{FOLLOW}"
TOPICS = ["Postgres", "hiring", "our office move", "the new API", "accessibility", "pricing", "on-call", "design reviews",
          "the mobile app", "search", "open source", "customer support"]
SERIES_LINE = "Here is everything that happened across the team this week, in one place."


def _body(rng: random.Random, words: list[str], n: int) -> str:
    return " ".join(rng.choice(words) for _ in range(n)).capitalize() + "."


@pytest.fixture
def vocabulary() -> list[str]:
    rng = random.Random(3)
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(400)]


def _posts(vocabulary, words=60) -> list[dict]:
    rng = random.Random(5)
    posts = [
        {"record_id": f"p{i}", "title": f"What we learned about {topic}", "kind": "post",
         "text": _body(rng, vocabulary, words) + "\n\n" + _body(rng, vocabulary, words) + FOOTER}
        for i, topic in enumerate(TOPICS)
    ]
    # A weekly series: its own line recurs under one title shape, so it is the template's, not the site's.
    posts += [
        {"record_id": f"w{n}", "title": f"Weekly recap #{n}", "kind": "post",
         "text": f"{SERIES_LINE}\n\n{_body(rng, vocabulary, words)}"}
        for n in range(1, 7)
    ]
    # The follow line inside code is code; a podcast turn saying the plug is a turn, not a post.
    posts.append({"record_id": "code", "title": "Our bot's replies", "kind": "post",
                  "text": f"{_body(rng, vocabulary, words)}\n\n```text\n{FOLLOW}\n```"})
    posts.append({"record_id": "turn", "title": "Episode 3", "kind": "transcript_turn", "text": PLUG})
    return posts


def test_site_footer_leaves_clean_text_and_is_named(vocabulary):
    frame = clean_frame(pl.DataFrame(_posts(vocabulary)))
    rows = {r["record_id"]: r for r in frame.iter_rows(named=True)}
    for i in range(len(TOPICS)):
        row = rows[f"p{i}"]
        assert PLUG not in row["clean_text"] and FOLLOW not in row["clean_text"]
        assert row["clean_text"] == row["text"][: -len(FOOTER)]  # the post itself, whole
        assert row["boilerplate"].startswith("2 lines taken out of the clean text, found in many posts under unrelated titles: ")
        assert f"'{PLUG[:59]}…' ({len(TOPICS)} posts)" in row["boilerplate"]
    for n in range(1, 7):
        assert rows[f"w{n}"]["clean_text"].startswith(SERIES_LINE) and rows[f"w{n}"]["boilerplate"] is None
    assert rows["code"]["clean_text"].endswith(f"```text\n{FOLLOW}\n```") and rows["code"]["boilerplate"] is None
    assert rows["turn"]["clean_text"] == PLUG and rows["turn"]["boilerplate"] is None


def test_boilerplate_needs_enough_posts_and_can_be_turned_off(vocabulary):
    posts = _posts(vocabulary)
    off = clean_frame(pl.DataFrame(posts), CleanSettings(remove_boilerplate=False))
    assert off["clean_text"].str.contains(PLUG, literal=True).sum() == len(TOPICS) + 1
    assert off["boilerplate"].null_count() == len(posts)
    # Four posts with the footer are under boilerplate_min_posts (5): a coincidence, left alone.
    few = clean_frame(pl.DataFrame(posts[:4]))
    assert few["clean_text"].str.contains(PLUG, literal=True).all()
    assert few["boilerplate"].null_count() == 4
    # Above the corpus share it takes (here 60% of 19 texts), the footer stays too.
    strict = clean_frame(pl.DataFrame(posts), CleanSettings(boilerplate_min_share=0.7))
    assert strict["clean_text"].str.contains(PLUG, literal=True).sum() == len(TOPICS) + 1


def test_a_shared_footer_makes_no_near_duplicates(vocabulary):
    """Short posts with a long common footer: without removal the footer's phrases make them
    near duplicates of each other; with it, they are the distinct posts they are."""
    posts = [p for p in _posts(vocabulary, words=12) if p["record_id"].startswith("p")]
    flagger = DuplicateFlagger(DuplicateSettings())

    def near(settings: CleanSettings) -> int:
        frame = clean_frame(pl.DataFrame(posts), settings).with_columns(n_tokens=pl.lit(100))
        return flagger.flag(frame).flags.filter(pl.col("name") == "near_duplicate").height

    assert near(CleanSettings(remove_boilerplate=False)) > 0  # the footer alone links them
    assert near(CleanSettings()) == 0


def test_curate_flags_boilerplate_keeps_the_record_and_explains_it(tmp_path, workspace, vocabulary):
    rows = [
        {"id": p["record_id"], "title": p["title"], "author": "Ana Ruiz", "date": "2023-01-01", "text": p["text"]}
        for p in _posts(vocabulary) if p["record_id"].startswith("p")
    ]
    path = tmp_path / "posts.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ingest_sources(workspace, [path])
    summary = curate(workspace)
    assert summary.flags["boilerplate"] == len(TOPICS)
    said = explain_record(workspace, "p0")
    flag = next(f for f in said["flags"] if f["name"] == "boilerplate")
    assert flag["route"] == "keep" and flag["score"] == 2.0 and "subscribe to" in flag["detail"]
    assert PLUG not in said["curated"]["clean_text"]
    from housevoice.curate.report import write_report

    page = write_report(workspace).html_path.read_text()
    assert "Site boilerplate taken out of the clean text" in page and "Thanks for reading!" in page
    report = json.loads((workspace.reports_dir / "curation.json").read_text())
    assert report["boilerplate"][0]["records"] == len(TOPICS) and "(12 posts)" in report["boilerplate"][0]["lines"]
    # A workspace whose routes table predates the flag routes it by its default.
    toml = workspace.root / "housevoice.toml"
    toml.write_text(toml.read_text().replace('boilerplate = "keep"', ""))
    from housevoice.store import Workspace

    again = Workspace.open(workspace.root)
    assert "boilerplate" not in again.config.curate.routes
    assert again.config.curate.route_of("boilerplate") == "keep"


def test_lines_filled_in_with_the_post_title_or_author_are_boilerplate_too(vocabulary):
    """ "By <author> | <date>" above every post and "If you liked <title>…" below it: the record's own
    title and author are masked when lines are compared, never in the text that stays."""
    rng = random.Random(9)
    authors = ["Ana Ruiz", "Bo Chen", "Cy Okafor", "Di"]
    posts = []
    for i, topic in enumerate(TOPICS):
        title, author = f"What we learned about {topic}", authors[i % len(authors)]
        body = f"{_body(rng, vocabulary, 40)}\n\n{_body(rng, vocabulary, 5)} {title} {_body(rng, vocabulary, 5)}"
        posts.append({"record_id": f"p{i}", "title": title, "author": author, "kind": "post",
                      "text": f"By {author} | 2024-03-{i + 1:02d}\n\n{body}\n\nIf you liked “{title}”, share it with a friend today."})
    frame = clean_frame(pl.DataFrame(posts))
    for post, row in zip(posts, frame.iter_rows(named=True)):
        body = post["text"].split("\n\n", 1)[1].rsplit("\n\n", 1)[0]
        assert row["clean_text"] == body  # the byline and the share line went; the title in the body stays
        assert row["boilerplate"].startswith("2 lines")
        assert f"'By {post['author']} | 2024-03-" in row["boilerplate"]  # shown as the post has it


def test_posts_differing_only_in_site_lines_share_a_content_key(vocabulary):
    """The same post again, a year later, with a new byline: one writing (`content_key`, the key of
    the clean text, which series count once), not one text (`text_key`: an exact duplicate is the
    same raw text). It is a near duplicate with every phrase shared."""
    posts = _posts(vocabulary)
    rows = [{**p, "text": f"By Ana Ruiz | 2023-0{n % 9 + 1}-01\n\n{p['text']}"} for n, p in enumerate(posts) if p["record_id"].startswith("p")]
    rows.append({**rows[0], "record_id": "again", "text": rows[0]["text"].replace("2023-01-01", "2024-06-30")})
    frame = clean_frame(pl.DataFrame(rows)).with_columns(n_tokens=pl.lit(100))
    assert frame["content_key"][0] == frame["content_key"][-1] and frame["text_key"][0] != frame["text_key"][-1]
    assert frame["content_key"].n_unique() == len(rows) - 1 and frame["text_key"].n_unique() == len(rows)
    flags = DuplicateFlagger(DuplicateSettings()).flag(frame).flags
    assert flags.select("record_id", "name", "score").rows() == [("again", "near_duplicate", 1.0)]
    # Without the cleaner the bylines stay, and the two are two writings.
    plain = clean_frame(pl.DataFrame(rows), CleanSettings(remove_boilerplate=False))
    assert plain["content_key"][0] != plain["content_key"][-1]


def test_one_writing_exported_as_html_and_as_markdown_shares_a_content_key():
    markdown = "We moved our [docs](https://a.org/docs?utm_source=x) to a new home.\n\n- faster search\n- fewer broken links"
    html = "<p>We moved our <a href='https://a.org/docs'>docs</a> to a new home.</p><ul><li>faster search</li><li>fewer broken links</li></ul>"
    frame = clean_frame(pl.DataFrame({"text": [markdown, html]}))
    assert frame["clean_text"][0] == frame["clean_text"][1]
    assert frame["content_key"][0] == frame["content_key"][1] and frame["text_key"][0] != frame["text_key"][1]

    # Markdown may number every item of an ordered list "1."; HTML counts them. One writing still.
    lazy = "Steps:\n\n1. back up\n1. upgrade\n1. check the logs"
    counted = "<p>Steps:</p><ol><li>back up</li><li>upgrade</li><li>check the logs</li></ol>"
    other = "Steps:\n\n1. back up\n1. upgrade\n1. check the disks"
    keys = clean_frame(pl.DataFrame({"text": [lazy, counted, other]}))["content_key"]
    assert keys[0] == keys[1] != keys[2]


def test_ends_read_a_few_texts_at_a_time_find_the_same_lines(vocabulary, monkeypatch):
    from housevoice.curate import boilerplate

    frame = pl.DataFrame(_posts(vocabulary))
    whole = clean_frame(frame)
    monkeypatch.setattr(boilerplate, "_CHUNK", 3)
    chunked = clean_frame(frame)
    assert chunked.select("clean_text", "boilerplate").equals(whole.select("clean_text", "boilerplate"))
    assert chunked["boilerplate"].is_not_null().sum() == len(TOPICS)


def test_a_closing_list_under_a_recurring_lead_goes_whole_and_other_closing_lists_stay(vocabulary):
    """A related-posts list: its lead recurs under unrelated titles, its items (other posts' titles)
    differ from post to post, so no single item is common enough to be a boilerplate line."""
    rng = random.Random(8)
    posts = []
    for i, topic in enumerate(TOPICS):
        others = rng.sample([t for t in TOPICS if t != topic], 3)
        related = "\n".join(f"- [What we learned about {t}](https://acme.example/{i}-{n})" for n, t in enumerate(others))
        posts.append({"record_id": f"p{i}", "title": f"What we learned about {topic}", "kind": "post",
                      "text": f"{_body(rng, vocabulary, 60)}\n\n{_body(rng, vocabulary, 6)}\n\n- {_body(rng, vocabulary, 5)}\n- {_body(rng, vocabulary, 5)}"
                              f"\n\n## Related posts\n\n{related}"})
    # A series' own closing list (one title shape) is the template's, and a list after a lead of its own stays.
    posts += [{"record_id": f"w{n}", "title": f"Weekly recap #{n}", "kind": "post",
               "text": f"{_body(rng, vocabulary, 40)}\n\nLinks of the week:\n\n- {_body(rng, vocabulary, 4)}\n- {_body(rng, vocabulary, 4)}"}
              for n in range(1, 7)]
    frame = clean_frame(pl.DataFrame(posts))
    rows = {r["record_id"]: r for r in frame.iter_rows(named=True)}
    for i in range(len(TOPICS)):
        row = rows[f"p{i}"]
        assert row["clean_text"] == row["text"][: row["text"].index("\n\n## Related posts")]  # the post's own list stays
        assert row["boilerplate"] == f"A closing list of 3 items under 'Related posts' ({len(TOPICS)} posts end so) taken out of the clean text."
    for n in range(1, 7):
        assert rows[f"w{n}"]["clean_text"] == rows[f"w{n}"]["text"] and rows[f"w{n}"]["boilerplate"] is None


MAILING_FOOTER = [
    "You are receiving this email because you signed up on our website.",
    "Unsubscribe | Update your preferences | View in browser",
    "Our mailing address is: *|LIST:ADDRESSLINE|*",
]


def test_a_mailing_tools_footer_leaves_a_newsletter_series_and_the_writers_words_stay(vocabulary):
    rng = random.Random(7)
    issues = [
        {"record_id": f"n{n}", "title": f"Garden news #{n}", "kind": "newsletter",
         "text": f"{_body(rng, vocabulary, 50)}\n\nThanks, Maya\n\n" + "\n\n".join(MAILING_FOOTER)}
        for n in range(1, 7)
    ]
    others = [
        # a writer's own sentence about unsubscribing, a long line that names the phrase, and code
        {"record_id": "prose", "title": "Why readers leave", "kind": "post",
         "text": f"{_body(rng, vocabulary, 40)}\n\nMost people who unsubscribe never tell us why."},
        {"record_id": "long", "title": "Our list", "kind": "post",
         "text": f"{_body(rng, vocabulary, 40)}\n\n" + _body(rng, vocabulary, 35) + " you can update your preferences anytime."},
        {"record_id": "code", "title": "Our template", "kind": "post",
         "text": f"{_body(rng, vocabulary, 40)}\n\n```html\n<a href=\"*|UNSUB|*\">Unsubscribe</a>\n```"},
        {"record_id": "turn", "title": "Episode 4", "kind": "transcript_turn", "text": "Unsubscribe | View in browser"},
    ]
    frame = clean_frame(pl.DataFrame(issues + others))
    rows = {r["record_id"]: r for r in frame.iter_rows(named=True)}
    for n in range(1, 7):
        row = rows[f"n{n}"]
        assert row["clean_text"].endswith("Thanks, Maya") and "nsubscribe" not in row["clean_text"]
        assert row["boilerplate"] == (
            "3 lines a mailing tool adds under its messages taken out of the clean text: "
            f"'{MAILING_FOOTER[0][:59]}…'; '{MAILING_FOOTER[1]}'."
        )
    for record_id in ("prose", "long", "code", "turn"):
        assert rows[record_id]["clean_text"] == rows[record_id]["text"].strip() and rows[record_id]["boilerplate"] is None
    kept = clean_frame(pl.DataFrame(issues), CleanSettings(remove_mailing_footers=False))
    assert all(text.endswith(MAILING_FOOTER[2]) for text in kept["clean_text"])


@pytest.mark.parametrize(
    ("footer", "sentence"),
    [
        (["Diese E-Mail im Browser ansehen", "Newsletter abbestellen | Einstellungen ändern", "© 2024 Gartenfreunde. Alle Rechte vorbehalten."],
         "Leider musste ich mich vom Kurs abmelden, weil die Zeit fehlte."),
        (["Voir cet e-mail dans votre navigateur", "Se désinscrire", "Vous recevez cet e-mail car vous êtes inscrit à notre liste."],
         "Je me suis désinscrit du club de tennis l'an dernier."),
        (["Ver este correo en tu navegador", "Darse de baja de esta lista", "Todos los derechos reservados."],
         "Nadie quiere darse de baja de un huerto que da tomates."),
    ],
    ids=["de", "fr", "es"],
)
def test_mailing_footers_in_other_languages_go_and_a_sentence_about_leaving_stays(footer, sentence):
    rows = [{"record_id": "issue", "title": "Nouvelles", "kind": "newsletter", "text": "Les tomates sont mûres.\n\n" + "\n\n".join(footer)},
            {"record_id": "post", "title": "Notes", "kind": "post", "text": "Les tomates sont mûres.\n\n" + sentence}]
    frame = {r["record_id"]: r for r in clean_frame(pl.DataFrame(rows)).iter_rows(named=True)}
    assert frame["issue"]["clean_text"] == "Les tomates sont mûres."
    assert frame["issue"]["boilerplate"].startswith("3 lines a mailing tool adds")
    assert frame["post"]["clean_text"].endswith(sentence) and frame["post"]["boilerplate"] is None


def test_the_senders_postal_address_under_its_lead_goes_with_the_footer():
    footer = (
        "Thanks for reading, Maya\n\nCopyright © 2024 Garden Club, All rights reserved.\n\nOur mailing address is:\n"
        "Garden Club\n12 High Street\nSpringfield, IL 62701\n\nWant to change how you receive these emails?\n"
        "You can update your preferences or unsubscribe from this list."
    )
    rows = [{"record_id": "n1", "title": "News", "kind": "newsletter", "text": "The beans are up.\n\n" + footer},
            {"record_id": "p1", "title": "Visit", "kind": "post",
             "text": "Come and see us.\n\nGarden Club\n12 High Street\nSpringfield, IL 62701"}]
    frame = {r["record_id"]: r for r in clean_frame(pl.DataFrame(rows)).iter_rows(named=True)}
    assert frame["n1"]["clean_text"] == "The beans are up.\n\nThanks for reading, Maya"
    # An address a post gives its readers, with no mailing tool's lead above it, is the writer's.
    assert frame["p1"]["clean_text"] == rows[1]["text"]
