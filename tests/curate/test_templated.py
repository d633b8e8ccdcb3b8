"""Templated series: release notes and recaps form families, transcript turns and one-offs do not."""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from housevoice.curate.templated import TemplateFlagger
from housevoice.schema import RECORDS


def frame_of(rows: list[dict]) -> pl.DataFrame:
    full = [
        {"record_id": row.get("record_id", f"r{n}"), "source_key": f"k{n}", "source": "test", "kind": row.get("kind", "post"),
         "author": None, "title": row.get("title"), "text": row.get("text", ""), "published_at": None, "url": None,
         "status": "publish", "meta": "{}"}
        for n, row in enumerate(rows)
    ]
    frame = pl.DataFrame(full, schema=RECORDS)
    return frame.with_columns(clean_text=pl.col("text"), n_tokens=pl.lit(0, dtype=pl.Int64))


def release_notes(version: str, change: str) -> str:
    return (
        f"The team is happy to announce a new version, {version}.\n"
        "If you have a previous version installed via the installer, you can update with one command.\n"
        f"What's in {version}: {change}\n"
        "Many people came together to create this release, thanks to all of you!"
    )


def test_release_notes_from_one_template_form_one_family():
    frame = frame_of([
        {"title": "Announcing Tool 1.70.0", "text": release_notes("1.70.0", "faster builds.")},
        {"title": "Garden news", "text": "Our garden opened this spring."},
        {"title": "Announcing Tool 1.71.0", "text": release_notes("1.71.0", "better error messages.")},
        {"title": "Repost: Announcing Tool 1.72.0", "text": release_notes("1.72.0", "a new lint.")},
        {"title": "Announcing Tool 1.73.0", "text": release_notes("1.73.0", "smaller binaries.")},
    ])
    result = TemplateFlagger().flag(frame)
    assert sorted(result.flags["record_id"]) == ["r0", "r2", "r3", "r4"]
    families = result.columns.filter(pl.col("template_family").is_not_null())["template_family"].unique().to_list()
    assert families == ["Announcing Tool N.N — 4 posts"]
    assert "pattern 'Announcing Tool N.N' shared by 4 posts" in result.flags["detail"][0]


def test_a_copy_of_a_series_post_joins_the_series_whatever_its_title():
    notes = release_notes("1.71.0", "better error messages.")
    frame = frame_of([
        {"title": "Announcing Tool 1.70.0", "text": release_notes("1.70.0", "faster builds.")},
        {"title": "Announcing Tool 1.71.0", "text": notes},
        {"title": "Announcing Tool 1.72.0", "text": release_notes("1.72.0", "a new lint.")},
        {"title": "From the archive", "text": notes.replace("\n", "\n\n ")},  # the same text, re-spaced
        {"title": "From the archive: our garden", "text": "Our garden opened this spring."},
        {"title": "Transcript", "text": notes, "kind": "transcript_turn"},  # a skipped kind stays out
    ])
    # Sentences shared with the series would join the copy too; without that pass only its text does.
    result = TemplateFlagger(TemplateFlagger.Settings(body_boilerplate=False)).flag(frame)
    assert sorted(result.flags["record_id"]) == ["r0", "r1", "r2", "r3"]
    assert set(result.columns["template_family"]) == {"Announcing Tool N.N — 4 posts"}
    detail = dict(zip(result.flags["record_id"], result.flags["detail"]))["r3"]
    assert detail.startswith("Same text as 'Announcing Tool 1.71.0' (r1), a post of the series 'Announcing Tool N.N'")


def test_numbered_names_with_subtitles_of_their_own_are_a_series_but_chapters_are_not():
    prose = [
        "We talked with a designer about the first year of a small studio and what she would do again.",
        "Pricing is a conversation, not a number: three founders on the experiments that failed.",
        "Remote onboarding works when the first week has a plan and a person who owns it.",
        "Our guest writes release notes people read, and explains how the habit started.",
    ]
    rows = [{"title": f"Episode {12 + n}: {t}", "text": p} for n, (t, p) in enumerate(
        zip(["Hiring our first designer", "Pricing experiments", "Remote onboarding", "Release notes people read"], prose))]
    shed = ["Pine is cheap and forgiving for a first build.", "The roof sheds rain if the slope is steep enough.",
            "Hang the door last, once the frame has settled."]
    rows += [{"title": f"Building a shed, part {n}: {t}", "text": p} for n, (t, p) in enumerate(zip(["wood", "roof", "door"], shed), 1)]
    notes = ["Tone is what readers remember after the facts fade.", "A short post gets read to the end.", "Long posts need signposts."]
    rows += [{"title": f"#{n}: {t}", "text": p} for n, (t, p) in enumerate(zip(["Notes on tone", "Short posts"], notes), 1)]
    result = TemplateFlagger().flag(frame_of(rows))
    assert sorted(result.flags["record_id"]) == ["r0", "r1", "r2", "r3"]
    assert set(result.columns["template_family"]) == {"Episode N: … — 4 posts"}
    # A third numbered post makes "#N: …" a series too.
    rows.append({"title": "#3: Long posts", "text": notes[2]})
    families = set(TemplateFlagger().flag(frame_of(rows)).columns["template_family"])
    assert families == {"Episode N: … — 4 posts", "#N: … — 3 posts"}


def test_a_named_column_is_a_series_when_its_posts_share_their_sections():
    stories = [
        ("Acme Corp", "support tickets piled up every Monday", "one shared inbox with clear owners", "replies within a day"),
        ("Globex", "nobody knew which plan customers were on", "a single billing page", "fewer refund requests"),
        ("Initech", "reports took a week to assemble", "dashboards the team trusts", "decisions in hours"),
    ]
    spotlights = [
        {"title": f"Customer spotlight: {name}",
         "text": f"{name} came to us last spring.\n\n## The challenge\n\nAt {name}, {problem}.\n\n"
                 f"## The solution\n\nThey moved to {fix}.\n\n## The results\n\nNow they see {result}."}
        for name, problem, fix, result in stories
    ]
    essays = [
        {"title": "Interview: our new designer", "text": "She joined in May and rewrote our onboarding guide."},
        {"title": "Interview: the support lead", "text": "He answers the hardest tickets himself, every Friday."},
        {"title": "Interview: a founder on pricing", "text": "Pricing is a conversation, not a number, she says."},
        {"title": "Repost: Why we write", "text": "Writing is how a small team thinks out loud."},
        {"title": "Repost: On tone", "text": "Tone is what readers remember after the facts fade."},
        {"title": "Repost: Short posts", "text": "A short post gets read to the end."},
    ]
    result = TemplateFlagger().flag(frame_of(spotlights + essays))
    assert sorted(result.flags["record_id"]) == ["r0", "r1", "r2"]
    assert set(result.columns["template_family"]) == {"Customer spotlight: … — 3 posts"}


def test_markup_in_titles_is_not_a_numbered_slot():
    """WordPress titles may hold tags (`<em>`) and character references: a tag's "<" is no slot such
    as a number, so titles naming a plain head need shared lines like any others, and names show no tags."""
    essays = [
        {"title": "Markup: Title <em>With</em> <b>Mark<sup>up</sup></b>", "text": "Emphasis inside a title, shown by the theme."},
        {"title": "Markup: Text &amp; Alignment", "text": "Paragraphs aligned left, right and centred."},
        {"title": "Markup: Image Alignment", "text": "Images float beside the words of a paragraph."},
        {"title": "Markup: HTML Tags", "text": "Every tag a post may use, one after another."},
    ]
    others = [{"title": f"On {topic}", "text": f"A few words on {topic}."} for topic in ("tone", "length", "links", "lists", "dates")]
    assert TemplateFlagger().flag(frame_of(essays + others)).flags.is_empty()
    notes = [
        {"title": f"<em>Release</em> notes {v}", "text": release_notes(v, change)}
        for v, change in (("1.2.0", "faster start"), ("1.3.0", "a new theme"), ("1.4.0", "fewer crashes"))
    ]
    assert set(TemplateFlagger().flag(frame_of(notes)).columns["template_family"]) == {"Release notes N.N — 3 posts"}


def test_two_posts_are_not_a_series():
    frame = frame_of([
        {"title": "Announcing Tool 1.70.0", "text": release_notes("1.70.0", "x")},
        {"title": "Announcing Tool 1.71.0", "text": release_notes("1.71.0", "y")},
    ])
    assert TemplateFlagger().flag(frame).flags.is_empty()
    assert not TemplateFlagger(TemplateFlagger.Settings(min_members=2)).flag(frame).flags.is_empty()


def test_transcript_turns_sharing_an_episode_title_are_not_a_family():
    turns = [{"title": "Practical AI #240", "kind": "transcript_turn", "text": f"Turn {n} of a talk."} for n in range(30)]
    turns += [{"title": "Practical AI #241", "kind": "transcript_turn", "text": f"Turn {n} of another."} for n in range(30)]
    assert TemplateFlagger().flag(frame_of(turns)).flags.is_empty()


def test_repeated_title_without_shared_lines_is_not_a_series():
    frame = frame_of([
        {"title": "Changes in the team", "text": "Alice steps down after five years of leading the team."},
        {"title": "Changes in the team", "text": "We welcome Bob, who joins from the documentation group."},
        {"title": "Changes in the team", "text": "Carol moves to an advisory role and keeps reviewing."},
    ])
    assert TemplateFlagger().flag(frame).flags.is_empty()


def test_missing_titles_empty_texts_and_huge_text_do_not_crash():
    frame = frame_of([{"title": None, "text": ""}, {"title": "", "text": "x"}, {"title": "Big", "text": "line of words\n" * 400_000}])
    assert TemplateFlagger().flag(frame).flags.is_empty()
    assert TemplateFlagger().flag(frame_of([])).flags.is_empty()


@pytest.fixture(scope="module")
def dev_corpus():
    folder = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "dev-corpus"
    if not folder.is_dir():
        pytest.skip(f"labelled dev corpus {folder} is not beside the repository")
    rows = [json.loads(line) for line in (folder / "records.jsonl").open(encoding="utf-8")]
    labels = [json.loads(line) for line in (folder / "labels.jsonl").open(encoding="utf-8")]
    frame = pl.DataFrame(
        [{"record_id": r["id"], "source_key": r["id"], "source": r["source"], "kind": r["kind"], "author": r.get("author"),
          "title": r.get("title"), "text": r["text"], "published_at": datetime.fromisoformat(r["published_at"]),
          "url": r.get("url"), "status": None, "meta": "{}"} for r in rows],
        schema=RECORDS,
    )
    # Raw text stands in for clean_text: boilerplate lines survive cleaning unchanged.
    return frame.with_columns(clean_text=pl.col("text"), n_tokens=pl.lit(0, dtype=pl.Int64)), labels


def prf(pred: set, truth: set) -> tuple[float, float, float]:
    tp = len(pred & truth)
    p, r = tp / max(len(pred), 1), tp / max(len(truth), 1)
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


def test_dev_corpus_templated_flags_and_family_pairs(dev_corpus):
    frame, labels = dev_corpus
    result = TemplateFlagger().flag(frame)
    truth = {lab["id"] for lab in labels if lab.get("template_family")}
    _, _, flag_f1 = prf(set(result.flags["record_id"]), truth)

    def pairs(families: dict[str, str]) -> set:
        groups = defaultdict(set)
        for rid, fam in families.items():
            groups[fam].add(rid)
        return {p for m in groups.values() for p in itertools.combinations(sorted(m), 2)}

    predicted = {rid: fam for rid, fam in result.columns.iter_rows() if fam}
    _, _, pair_f1 = prf(pairs(predicted), pairs({lab["id"]: lab["template_family"] for lab in labels if lab.get("template_family")}))
    # Measured 0.966 flag F1 and 0.964 pair F1 (on the raw text: clean text gives 0.964 and 0.963).
    assert flag_f1 >= 0.95
    assert pair_f1 >= 0.90


def test_lines_read_a_few_posts_at_a_time_give_the_same_families(dev_corpus, monkeypatch):
    """Line hashes are read in chunks of posts (a corpus's lines are as large as the corpus)."""
    import housevoice.curate.templated as templated

    frame, _ = dev_corpus
    whole = TemplateFlagger().flag(frame)
    monkeypatch.setattr(templated, "_LINE_CHUNK", 7)
    chunked = TemplateFlagger().flag(frame)
    assert not whole.flags.is_empty()
    assert chunked.flags.sort("record_id").equals(whole.flags.sort("record_id"))
    assert chunked.columns.sort("record_id").equals(whole.columns.sort("record_id"))


def test_dev_transcripts_form_no_family(shared_data):
    rows = [json.loads(line) for line in (shared_data / "dev-transcripts" / "records.jsonl").open(encoding="utf-8")]
    frame = frame_of([{"title": r["title"], "kind": r["kind"], "text": r["text"]} for r in rows])
    assert TemplateFlagger().flag(frame).flags.is_empty()


def test_posts_sharing_opening_and_closing_sentences_form_a_series_without_a_title_pattern():
    welcome = "Please welcome {} to the {} group!\n\n{} has been fixing bugs all year.\n\nCongratulations {}, and thanks for everything you do!"
    people = [("Ada Lovelace", "Compiler Contributors"), ("Alan Turing", "Library Contributors"), ("Grace Hopper", "Docs Contributors")]
    frame = frame_of(
        [{"title": f"Please welcome {name.split()[0]} to {team}", "text": welcome.format(name, team, name, name)} for name, team in people]
        + [{"title": "Garden news", "text": "Our garden opened this spring. Congratulations to all, and thanks for everything you do!"}]
    )
    result = TemplateFlagger().flag(frame)
    assert sorted(result.flags["record_id"]) == ["r0", "r1", "r2"]
    assert "recurs in 3 posts" in result.flags["detail"][0]


def test_one_shared_repost_note_does_not_make_a_series():
    note = "Sharing this again for anyone who missed it the first time around.\n\n"
    frame = frame_of([
        {"title": "Garden news", "text": note + "Our garden opened this spring and the roses are early."},
        {"title": "Office move", "text": note + "We moved to a bigger office near the station last week."},
        {"title": "New logo", "text": note + "Our designers drew a new logo with a friendly blue fox."},
    ])
    assert TemplateFlagger().flag(frame).flags.is_empty()


def recap(body: str) -> str:
    return (
        "Happy Friday! Here's what happened this week at the food bank.\n\n" + body + "\n\n"
        "That's all for this week. See you next Friday, and don't forget to tell a neighbour about us!"
    )


def test_one_recap_template_under_several_title_shapes_is_one_series():
    titles = [
        "Weekly recap: March 3", "Weekly recap: March 10", "Weekly recap: March 17",
        "Friday recap (03/24)", "Friday recap (03/31)", "Friday recap (04/07)",
        "Week in review — Apr 14, 2023", "Week in review — Apr 21, 2023", "Week in review — May 5, 2023",
        "Week in review — Jun 2, 2023",
    ]
    bodies = [f"We packed {n * 37} boxes with {n + 4} volunteers; the {w} shift ran late." for n, w in
              zip(range(10), "early late night morning noon evening weekend first second third".split())]
    others = [{"title": "Meet Jan, our new driver", "text": "Jan drives the van on Tuesdays and loves old maps."},
              {"title": "Garden news", "text": "Our garden opened this spring and the roses are early."}]
    frame = frame_of([{"title": t, "text": recap(b)} for t, b in zip(titles, bodies)] + others)
    result = TemplateFlagger().flag(frame)
    assert sorted(result.flags["record_id"], key=lambda r: int(r[1:])) == [f"r{n}" for n in range(10)]
    assert result.columns["template_family"].drop_nulls().n_unique() == 1
    # "Jun 2" is a date in a dated title; "Jan" alone is a name.
    from housevoice.curate.templated import title_pattern
    assert "<Month>" in title_pattern("Week in review — Jun 2, 2023")
    assert "<Month>" not in title_pattern("Meet Jan, our new driver")


def test_two_series_closing_alike_but_each_with_its_own_sentence_stay_two():
    # Both close with the same thanks, but each also opens its own way and has its own title shape.
    thanks = "Many people came together to create this release, thanks to all of you!"
    frame = frame_of(
        [{"title": f"Announcing Tool 1.{n}.0", "text": release_notes(f"1.{n}.0", "faster builds.")} for n in range(70, 74)]
        + [{"title": f"Tool 1.{n}.0 pre-release testing", "text": f"The pre-release of 1.{n}.0 is ready for testing.\n\n{thanks}"}
           for n in range(70, 74)]
    )
    result = TemplateFlagger().flag(frame)
    assert result.columns["template_family"].drop_nulls().n_unique() == 2


def test_a_numbered_title_one_word_off_joins_the_series_and_two_words_off_does_not():
    rows = [{"title": f"Weekly recap #{n}", "text": f"Notes of week {n}: {topic}."}
            for n, topic in ((12, "hiring"), (13, "pricing"), (14, "the new office"))]
    rows += [
        {"title": "Weekly roundup #15", "text": "Notes of week 15: the offsite."},
        {"title": "Monthly roundup #4", "text": "Four weeks of shipping, in one page."},
        {"title": "Weekly roundup", "text": "No number: a title like any other."},
    ]
    result = TemplateFlagger().flag(frame_of(rows))
    assert sorted(result.flags["record_id"]) == ["r0", "r1", "r2", "r3"]
    assert "Weekly recap #N — 4 posts" in set(result.columns["template_family"])


def test_a_recurring_report_needs_no_shared_lines_but_other_repeated_names_do():
    rows = [
        {"title": "Build infrastructure update", "text": "We moved the runners to a bigger pool this spring."},
        {"title": "Build infrastructure update: faster caches", "text": "Caches now live next to the runners."},
        {"title": "Build infrastructure update: flaky tests", "text": "A third of the failures came from two suites."},
        {"title": "Team story: the night shift", "text": "Three people keep the lights on while we sleep."},
        {"title": "Team story: our first hire", "text": "She answered a post on a forum and stayed eight years."},
        {"title": "Team story: leaving well", "text": "Goodbyes are part of the work, and can be done kindly."},
    ]
    result = TemplateFlagger().flag(frame_of(rows))
    assert sorted(result.flags["record_id"]) == ["r0", "r1", "r2"]
    assert set(result.columns["template_family"]) == {"Build infrastructure update: … — 3 posts"}


def test_posts_of_a_section_whose_subtitles_open_alike_are_a_series_when_the_section_is_not():
    notice = (
        "## Summary\n\nOn {day}, the security team was told of two malicious packages that stole keys.\n\n"
        "## Actions taken\n\nThe packages were removed and the accounts that published them were disabled.\n\n"
        "We thank everyone who reported them and ask you to report anything suspicious to the security team."
    )
    rows = [{"title": f"Acme Registry: Malicious packages {a} and {b}", "text": notice.format(day=day)}
            for a, b, day in (("foo", "bar", "May 2"), ("baz", "qux", "June 9"), ("fizz", "buzz", "July 30"))]
    rows += [{"title": f"Acme Registry: {t}", "text": p} for t, p in (
        ("API status codes change", "Clients get a 404 where they got a 200 with an error."),
        ("Download counts by version", "The page now shows downloads per version, not per day."),
        ("Help test the new frontend", "Try the beta and tell us what breaks before it ships."),
    )]
    # Other posts, so that the section's name is not the site's (set aside on half the titles).
    rows += [{"title": t, "text": f"A post on {t.lower()}."} for t in (
        "Why we write", "On tone", "Short posts", "Pricing is a conversation", "Remote onboarding", "Sheds", "Roofs")]
    result = TemplateFlagger().flag(frame_of(rows))
    assert sorted(result.flags["record_id"]) == ["r0", "r1", "r2"]
    assert set(result.columns["template_family"]) == {"Acme Registry: Malicious packages … — 3 posts"}


def test_a_site_name_around_every_title_is_set_aside():
    from housevoice.curate.templated import without_site_affixes

    titles = ["Acme Blog: Why we moved", "Acme blog: On tone", "Acme Blog: Hiring in 2024", "Customer spotlight: Globex", None,
              "Release notes | Acme", "Acme Blog: Acme Blog: twice", "Acme Blog: "]
    assert without_site_affixes(titles, share=0.5) == [
        "Why we moved", "On tone", "Hiring in 2024", "Customer spotlight: Globex", None, "Release notes | Acme", "Acme Blog: twice",
        "Acme Blog: ",
    ]
    # Under the share, a shared name is a column of the blog, and stays.
    assert without_site_affixes(titles[:4] + ["Customer spotlight: Initech", "Customer spotlight: Acme"], share=0.6)[3:] == [
        "Customer spotlight: Globex", "Customer spotlight: Initech", "Customer spotlight: Acme"]
    suffixed = [f"{t} | Acme Engineering" for t in ("Why we moved", "On tone", "Hiring")] + ["Plain"]
    assert without_site_affixes(suffixed, share=0.5) == ["Why we moved", "On tone", "Hiring", "Plain"]


@pytest.mark.parametrize("decorate", [lambda t: f"Acme Blog: {t}", lambda t: f"{t} | Acme Engineering Blog"], ids=["prefix", "suffix"])
def test_dev_corpus_families_hold_with_a_site_name_in_every_title(dev_corpus, decorate):
    """A prefix on every title made all posts one series (templated F1 0.74 on the dev corpus);
    a suffix cost 0.005 of F1. Set aside, they change nothing."""
    frame, _ = dev_corpus
    plain = TemplateFlagger().flag(frame).columns.sort("record_id")
    decorated = frame.with_columns(pl.col("title").map_elements(decorate, return_dtype=pl.String))
    assert TemplateFlagger().flag(decorated).columns.sort("record_id").equals(plain)


def test_line_store_reads_each_text_once_and_takes_texts_read_before_from_the_cache(tmp_path):
    from housevoice.curate.templated import LineStore, line_hashes

    shared = "Thanks for reading, and see you at the next meetup in town"
    texts = pl.Series([f"Post {i} opens with its own words here today\n{shared}\nshort" for i in range(6)] + ["", "no lines long enough"])
    expected = line_hashes(texts, list(range(8)), 4).sort("row", "text")
    store = LineStore(texts, 4, tmp_path)
    assert store.lines([0, 1, 2]).sort("row", "text").equals(expected.filter(pl.col("row") <= 2))
    assert store.lines([2, 3, 6, 7]).sort("row", "text").equals(expected.filter(pl.col("row").is_in([0, 1, 2, 3, 6, 7])))
    assert sorted(store.fresh) == [0, 1, 2, 3, 6, 7]
    store.save()
    # The next run: the texts read are taken from the cache (the two without lines too), the others read.
    again = LineStore(texts, 4, tmp_path)
    assert again.lines(list(range(8))).sort("row", "text").equals(expected)
    assert sorted(again.fresh) == [4, 5]
    # Another minimum of words is another cache: nothing is taken from this one.
    other = LineStore(texts, 3, tmp_path)
    other.lines([0])
    assert other.fresh == [0]
