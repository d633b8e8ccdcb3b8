"""Build the bundled sample (a WordPress export, four transcript styles, truth, README) from the shared data."""

from __future__ import annotations

import argparse
import html
import json
import random
import re
import sys
import unicodedata
from collections import Counter
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import srt
import webvtt
from lxml import etree
from markdown_it import MarkdownIt
from mdit_py_plugins.footnote import footnote_plugin

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
SITE = "https://blog.example.org"
TARGET_AUTHOR = "Niko Matsakis"
GMT_OFFSET = timedelta(hours=4)  # the site's clock runs at UTC-4; WordPress stores both
WORDS_PER_SECOND = 2.5
# Picked by hand from labels.jsonl: copies whose source is also in the sample, across authors and edit kinds.
DUPLICATE_COPIES = [
    "a-2b18b5b662", "a-fb77844778", "a-39b88435cd", "a-d10941d2a1", "a-01dd81a39d",  # Niko Matsakis
    "a-27bed5d6d3", "a-71d3c615bb", "a-65d0e90c1e", "a-5afe06f34a", "a-04ccaec3e2",
    "a-b827afc500", "a-f5b41ca222", "a-5ee4a91c3a",  # the last is the corpus's one natural near-duplicate
]
SERIES = {"rust_release_announcement": 6, "team_meeting_minutes": 4, "cargo_development_cycle": 3}
TAG_WORDS = {"release": r"\brelease|Announcing Rust", "cargo": r"\bCargo\b", "compiler": r"\bcompiler\b",
             "security": r"\bsecurity\b", "survey": r"\bsurvey\b", "governance": r"\bgovernance|council\b",
             "async": r"\basync\b", "edition": r"\bedition\b", "rustup": r"\brustup\b"}
INVALID_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

PAGES = [  # (title, status, markdown): the site's own pages, written for this sample
    ("About", "publish", "This site is a sample blog built from posts of the [Rust Programming Language blog]"
     "(https://blog.rust-lang.org/). Each post keeps its original author and date.\n\nThe posts belong to "
     "their authors and the Rust Project Developers and are shared under the MIT and Apache-2.0 licenses."),
    ("Contact", "publish", "## Write to us\n\nThe editors read every message. Send corrections and guest-post "
     "ideas to Maria Jensen at maria.jensen@blog.example.org, or call +1 (555) 014-2367 on weekdays between "
     "9:00 and 17:00 UTC.\n\nPost: Editorial Desk, 42 Example Lane, Springfield, OR 97477, USA."),
    ("Links", "publish", "- [The Rust website](https://www.rust-lang.org/)\n- [The Rust book](https://doc.rust-"
     "lang.org/book/)\n- [Standard library docs](https://doc.rust-lang.org/std/)\n- [crates.io](https://crates.io/)"
     "\n- [docs.rs](https://docs.rs/)\n- [Users forum](https://users.rust-lang.org/)\n- [Internals forum]"
     "(https://internals.rust-lang.org/)\n- [This Week in Rust](https://this-week-in-rust.org/)"),
    ("Privacy Policy", "draft", "## Who we are\n\nThis blog lives at https://blog.example.org.\n\n## What we "
     "collect\n\nNothing beyond the server logs our host keeps for 30 days."),
]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=SHARED / "dev-corpus", help="folder with records.jsonl, labels.jsonl")
    parser.add_argument("--episodes", type=Path, default=SHARED / "dev-transcripts" / "episodes")
    parser.add_argument("--episode", default="practical-ai-249.md", help="episode file to excerpt")
    parser.add_argument("--turns", type=int, default=26, help="speaker turns in the excerpt")
    parser.add_argument("--posts", type=int, default=100, help="corpus posts in the export")
    parser.add_argument("--out", type=Path, default=REPO / "src" / "housevoice" / "sample")
    parser.add_argument("--seed", type=int, default=2024)
    return parser.parse_args(argv)


def read_jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        sys.exit(f"build_sample: {path}: not found (pass --corpus)")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def choose_posts(records: list[dict], labels: dict[str, dict], n_posts: int, rng: random.Random) -> list[dict]:
    """The corpus posts the sample holds: target author, duplicates with their sources, series, HTML, then a fill."""
    by_id = {r["id"]: r for r in records}
    chosen: dict[str, dict] = {}

    def original(r: dict, max_chars: int = 8000) -> bool:
        lab = labels[r["id"]]
        return (not lab["planted"] and not lab["exact_dup_of"] and not lab["near_dup_of"]
                and len(r["authors"]) == 1 and len(r["text"]) <= max_chars and r["id"] not in chosen)

    for copy_id in DUPLICATE_COPIES:
        lab = labels[copy_id]
        for rid in (lab["exact_dup_of"] or lab["near_dup_of"], copy_id):
            chosen[rid] = by_id[rid]
    # untemplated, so the voice the later stages learn is the author's and not a series'
    target = [r for r in records if labels[r["id"]]["is_target_author"] and original(r)
              and not labels[r["id"]]["template_family"]]
    for r in rng.sample(target, 16):
        chosen[r["id"]] = r
    for family, n in SERIES.items():
        members = [r for r in records if labels[r["id"]]["template_family"] == family and original(r, 24000)]
        for r in rng.sample(members, n):
            chosen[r["id"]] = r
    with_html = [r for r in records if labels[r["id"]]["has_html"] and original(r, 4000)]
    for r in rng.sample(with_html, 4):
        chosen[r["id"]] = r
    rest = [r for r in records if original(r, 6000) and not labels[r["id"]]["template_family"]]
    for r in rng.sample([r for r in rest if r["published_at"] < "2017"], 3):  # old enough for any stale cutoff
        chosen[r["id"]] = r
    rest = [r for r in rest if r["id"] not in chosen]
    for r in rng.sample(rest, n_posts - len(chosen)):
        chosen[r["id"]] = r
    return sorted(chosen.values(), key=lambda r: (r["published_at"], r["id"]))


def make_renderer() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).use(footnote_plugin)


def to_blocks(md: MarkdownIt, markdown: str) -> str:
    """Markdown to post_content as the block editor stores it: each top-level block inside its block comment."""
    env: dict = {}
    tokens = md.parse(markdown, env)
    out, i = [], 0
    while i < len(tokens):
        j = i
        if tokens[i].nesting == 1:  # walk to the matching close at the same level
            closing = tokens[i].type.removesuffix("_open") + "_close"
            while not (tokens[j].type == closing and tokens[j].level == tokens[i].level):
                j += 1
        out.append(wrap_block(tokens[i], md.renderer.render(tokens[i:j + 1], md.options, env).strip()))
        i = j + 1
    return "\n\n".join(block for block in out if block)


def wrap_block(token, rendered: str) -> str:
    kind = token.type.removesuffix("_open")
    if kind == "paragraph":
        return f"<!-- wp:paragraph -->\n{rendered.replace(chr(10), ' ')}\n<!-- /wp:paragraph -->"
    if kind == "heading":
        level = int(token.tag[1])
        attrs = "" if level == 2 else f' {{"level":{level}}}'
        body = rendered.replace(f"<{token.tag}>", f'<{token.tag} class="wp-block-heading">', 1)
        return f"<!-- wp:heading{attrs} -->\n{body}\n<!-- /wp:heading -->"
    if kind in ("bullet_list", "ordered_list"):
        attrs = ' {"ordered":true}' if kind == "ordered_list" else ""
        return f"<!-- wp:list{attrs} -->\n{rendered}\n<!-- /wp:list -->"
    if kind in ("fence", "code_block"):
        code = html.escape(token.content.rstrip("\n"), quote=False)
        return f'<!-- wp:code -->\n<pre class="wp-block-code"><code>{code}</code></pre>\n<!-- /wp:code -->'
    if kind == "blockquote":
        body = rendered.replace("<blockquote>", '<blockquote class="wp-block-quote">', 1)
        return f"<!-- wp:quote -->\n{body}\n<!-- /wp:quote -->"
    if kind == "table":
        return f'<!-- wp:table -->\n<figure class="wp-block-table">{rendered}</figure>\n<!-- /wp:table -->'
    if kind == "hr":
        return '<!-- wp:separator -->\n<hr class="wp-block-separator has-alpha-channel-opacity"/>\n<!-- /wp:separator -->'
    return f"<!-- wp:html -->\n{rendered}\n<!-- /wp:html -->"  # raw HTML the author wrote, footnotes


def cdata(text: str | None) -> str:
    """WordPress's wxr_cdata: a CDATA section, with any `]]>` inside split across two sections."""
    text = INVALID_XML.sub("", text or "")
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:80] or "post"


def login_for(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", slugify(name)) or "author"


def rfc822(moment: datetime) -> str:
    return format_datetime(moment).replace("-0000", "+0000")


def sql(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def item_xml(it: dict) -> str:
    """One <item>, in the order WordPress's exporter writes its fields."""
    gmt = it["date"] + GMT_OFFSET
    never_published = it["status"] == "draft" and it.get("never_dated")
    lines = [
        f"\t\t<title>{cdata(it['title'])}</title>",
        f"\t\t<link>{html.escape(it['link'])}</link>",
        f"\t\t<pubDate>{'Mon, 30 Nov -0001 00:00:00 +0000' if never_published else rfc822(gmt)}</pubDate>",
        f"\t\t<dc:creator>{cdata(it['login'])}</dc:creator>",
        f'\t\t<guid isPermaLink="false">{SITE}/?{"page_id" if it["type"] == "page" else "p"}={it["id"]}</guid>',
        "\t\t<description></description>",
        f"\t\t<content:encoded>{cdata(it.get('content', ''))}</content:encoded>",
        f"\t\t<excerpt:encoded>{cdata('')}</excerpt:encoded>",
        f"\t\t<wp:post_id>{it['id']}</wp:post_id>",
        f"\t\t<wp:post_date>{cdata(sql(it['date']))}</wp:post_date>",
        f"\t\t<wp:post_date_gmt>{cdata('0000-00-00 00:00:00' if never_published else sql(gmt))}</wp:post_date_gmt>",
        f"\t\t<wp:post_modified>{cdata(sql(it['modified']))}</wp:post_modified>",
        f"\t\t<wp:post_modified_gmt>{cdata(sql(it['modified'] + GMT_OFFSET))}</wp:post_modified_gmt>",
        f"\t\t<wp:comment_status>{cdata('open' if it['type'] == 'post' else 'closed')}</wp:comment_status>",
        f"\t\t<wp:ping_status>{cdata('open' if it['type'] == 'post' else 'closed')}</wp:ping_status>",
        f"\t\t<wp:post_name>{cdata('' if it['status'] == 'draft' else it['slug'])}</wp:post_name>",
        f"\t\t<wp:status>{cdata(it['status'])}</wp:status>",
        f"\t\t<wp:post_parent>{it.get('parent', 0)}</wp:post_parent>",
        f"\t\t<wp:menu_order>{it.get('menu_order', 0)}</wp:menu_order>",
        f"\t\t<wp:post_type>{cdata(it['type'])}</wp:post_type>",
        f"\t\t<wp:post_password>{cdata('')}</wp:post_password>",
        f"\t\t<wp:is_sticky>{int(it.get('sticky', False))}</wp:is_sticky>",
    ]
    if "attachment_url" in it:
        lines.append(f"\t\t<wp:attachment_url>{cdata(it['attachment_url'])}</wp:attachment_url>")
    for domain, nicename, name in it.get("terms", []):
        lines.append(f'\t\t<category domain="{domain}" nicename="{nicename}">{cdata(name)}</category>')
    for key, value in it.get("meta", []):
        lines.append(f"\t\t<wp:postmeta>\n\t\t\t<wp:meta_key>{cdata(key)}</wp:meta_key>\n"
                     f"\t\t\t<wp:meta_value>{cdata(str(value))}</wp:meta_value>\n\t\t</wp:postmeta>")
    return "\t<item>\n" + "\n".join(lines) + "\n\t</item>\n"


def build_items(posts: list[dict], labels: dict[str, dict], rng: random.Random) -> list[dict]:
    """Every item of the export: pages, corpus posts (a few unpublished), attachments, menu items."""
    md, items, next_id = make_renderer(), [], 10
    first = datetime.fromisoformat(posts[0]["published_at"][:10])
    for n, (title, status, body) in enumerate(PAGES, start=2):
        items.append({"id": n, "type": "page", "status": status, "title": title, "slug": slugify(title),
                      "login": "admin", "date": first + timedelta(hours=9, minutes=n), "content": to_blocks(md, body),
                      "menu_order": n, "source_id": None})
    unpublished = [p["id"] for p in posts if p["author"] != TARGET_AUTHOR and not labels[p["id"]]["template_family"]
                   and not labels[p["id"]]["exact_dup_of"] and not labels[p["id"]]["near_dup_of"]
                   and p["id"] not in {labels[c]["exact_dup_of"] or labels[c]["near_dup_of"] for c in DUPLICATE_COPIES}]
    statuses = dict(zip(rng.sample(unpublished, 3), ["draft", "draft", "private"]))
    used_slugs: Counter[str] = Counter()
    sticky = rng.choice([p["id"] for p in posts if p["author"] == TARGET_AUTHOR])
    for post in posts:
        day = datetime.fromisoformat(post["published_at"][:10])
        moment = day + timedelta(hours=rng.randint(8, 17), minutes=rng.randint(0, 59), seconds=rng.randint(0, 59))
        source = "Inside Rust" if post["source"].endswith("inside-rust") else "Rust Blog"
        terms = [("category", slugify(source), source)]
        terms += [("post_tag", tag, tag) for tag, pattern in TAG_WORDS.items() if re.search(pattern, post["title"], re.I)]
        status = statuses.get(post["id"], "publish")
        base = slugify(post["title"])
        used_slugs[base] += 1
        slug = base if used_slugs[base] == 1 else f"{base}-{used_slugs[base]}"  # WordPress keeps slugs unique
        items.append({"id": next_id, "type": "post", "status": status, "title": post["title"], "slug": slug,
                      "login": login_for(post["author"]), "author": post["author"], "date": moment,
                      "modified": moment + timedelta(days=rng.choice([0, 0, 0, 1, 3, 12])),
                      "link": f"{SITE}/?p={next_id}" if status == "draft" else f"{SITE}/{day:%Y/%m/%d}/{slug}/",
                      "content": to_blocks(md, post["text"]), "terms": terms, "sticky": post["id"] == sticky,
                      "meta": [("_edit_last", "1"), ("_housevoice_source_id", post["id"])], "source_id": post["id"]})
        next_id += rng.randint(1, 4)  # gaps where revisions and autosaves took ids
    drafts = [it for it in items if it["status"] == "draft" and it["type"] == "post"]
    drafts[0]["never_dated"] = True  # never saved with a date: WordPress writes a zero GMT date for it
    hosts = rng.sample([it for it in items if it["type"] == "post" and it["status"] == "publish"], 6)
    for n, host in enumerate(sorted(hosts, key=lambda it: it["id"])):
        name = f"{host['slug'][:40]}-figure-{n + 1}"
        url = f"{SITE}/wp-content/uploads/{host['date']:%Y/%m}/{name}.png"
        items.append({"id": next_id + n, "type": "attachment", "status": "inherit", "title": name, "slug": name,
                      "login": host["login"], "date": host["date"], "parent": host["id"], "attachment_url": url,
                      "meta": [("_wp_attached_file", url.split("/uploads/")[1]), ("_wp_attachment_image_alt", "")]})
    menu_id = next_id + 20
    for order, page in enumerate([it for it in items if it["type"] == "page" and it["status"] == "publish"], start=1):
        items.append({"id": menu_id + order, "type": "nav_menu_item", "status": "publish", "title": "",
                      "slug": str(menu_id + order), "login": "admin", "date": page["date"], "menu_order": order,
                      "terms": [("nav_menu", "main-menu", "Main menu")],
                      "meta": [("_menu_item_type", "post_type"), ("_menu_item_menu_item_parent", "0"),
                               ("_menu_item_object_id", page["id"]), ("_menu_item_object", "page"),
                               ("_menu_item_url", "")]})
    for it in items:
        it.setdefault("modified", it["date"])
        it.setdefault("link", f"{SITE}/?page_id={it['id']}" if it["status"] == "draft" else f"{SITE}/{it['slug']}/")
    return sorted(items, key=lambda it: it["id"])


def write_wxr(items: list[dict], posts: list[dict], labels: dict[str, dict], path: Path) -> None:
    authors = {"admin": ("Site Admin", True)}
    for post in posts:
        authors[login_for(post["author"])] = (post["author"], labels[post["id"]]["author_is_person"])
    newest = max(it["date"] for it in items) + timedelta(days=1)
    head = [
        '<?xml version="1.0" encoding="UTF-8" ?>',
        "<!-- This is a WordPress eXtended RSS file generated by WordPress as an export of your site. -->",
        "<!-- It contains information about your site's posts, pages, comments, categories, and other content. -->",
        "<!-- You may use this file to transfer that content from one site to another. -->",
        f'<!-- generator="WordPress/6.4.3" created="{sql(newest)[:16]}" -->',
        '<rss version="2.0"\n\txmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"\n'
        '\txmlns:content="http://purl.org/rss/1.0/modules/content/"\n\txmlns:wfw="http://wellformedweb.org/CommentAPI/"\n'
        '\txmlns:dc="http://purl.org/dc/elements/1.1/"\n\txmlns:wp="http://wordpress.org/export/1.2/"\n>',
        "<channel>",
        "\t<title>Rust Writing (sample)</title>", f"\t<link>{SITE}</link>",
        "\t<description>Posts from the Rust blog, as a WordPress site would export them</description>",
        f"\t<pubDate>{rfc822(newest)}</pubDate>", "\t<language>en-US</language>",
        "\t<wp:wxr_version>1.2</wp:wxr_version>", f"\t<wp:base_site_url>{SITE}</wp:base_site_url>",
        f"\t<wp:base_blog_url>{SITE}</wp:base_blog_url>", "",
    ]
    for n, (login, (name, is_person)) in enumerate(authors.items(), start=1):
        first, _, last = name.partition(" ") if is_person else ("", "", "")
        head.append(f"\t<wp:author><wp:author_id>{n}</wp:author_id><wp:author_login>{cdata(login)}</wp:author_login>"
                    f"<wp:author_email>{cdata(login + '@blog.example.org')}</wp:author_email><wp:author_display_name>"
                    f"{cdata(name)}</wp:author_display_name><wp:author_first_name>{cdata(first)}</wp:author_first_name>"
                    f"<wp:author_last_name>{cdata(last)}</wp:author_last_name></wp:author>")
    terms = sorted({t for it in items for t in it.get("terms", [])})
    for n, (domain, nicename, name) in enumerate(terms, start=2):
        if domain == "category":
            head.append(f"\t<wp:category><wp:term_id>{n}</wp:term_id><wp:category_nicename>{cdata(nicename)}"
                        f"</wp:category_nicename><wp:category_parent>{cdata('')}</wp:category_parent>"
                        f"<wp:cat_name>{cdata(name)}</wp:cat_name></wp:category>")
        elif domain == "post_tag":
            head.append(f"\t<wp:tag><wp:term_id>{n}</wp:term_id><wp:tag_slug>{cdata(nicename)}</wp:tag_slug>"
                        f"<wp:tag_name>{cdata(name)}</wp:tag_name></wp:tag>")
        else:
            head.append(f"\t<wp:term><wp:term_id>{n}</wp:term_id><wp:term_taxonomy>{cdata(domain)}</wp:term_taxonomy>"
                        f"<wp:term_slug>{cdata(nicename)}</wp:term_slug><wp:term_name>{cdata(name)}</wp:term_name></wp:term>")
    head += ["", "\t<generator>https://wordpress.org/?v=6.4.3</generator>", ""]
    text = "\n".join(head) + "\n" + "".join(item_xml(it) for it in items) + "</channel>\n</rss>\n"
    etree.fromstring(text.encode("utf-8"), etree.XMLParser(recover=False, huge_tree=False))  # strict: fails loudly
    path.write_text(text, encoding="utf-8")


def read_turns(path: Path, n_turns: int) -> list[tuple[str, list[str]]]:
    """The episode's first speaker turns as (speaker, paragraphs); inline timestamps and breaks left out."""
    if not path.is_file():
        sys.exit(f"build_sample: {path}: not found (pass --episodes / --episode)")
    turns: list[tuple[str, list[str]]] = []
    for raw in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
        para = re.sub(r"\\\[\d+:\d+(:\d+)?\\\]\s*", "", raw).replace("\\[", "[").replace("\\]", "]")
        para = " ".join(para.split())
        turn = re.match(r"\*\*([^*]+?):\*\*\s*(.*)", para)
        if turn:
            turns.append((turn[1], [turn[2]]))
        elif para and turns and not para.startswith("**"):
            turns[-1][1].append(para)
    return turns[:n_turns]


def caption_cues(turns: list[tuple[str, list[str]]]) -> list[dict]:
    """Caption-sized cues (sentences grouped up to ~40 words), timed from word counts."""
    cues, clock, last = [], 3.0, None
    for n, (speaker, paragraphs) in enumerate(turns):
        for p, para in enumerate(paragraphs):
            chunk: list[str] = []
            sentences = re.split(r"(?<=[.?!])\s+", para)
            for k, sentence in enumerate(sentences):
                chunk.append(sentence)
                if k == len(sentences) - 1 or len(" ".join(chunk + [sentences[k + 1]]).split()) > 40:
                    words = len(" ".join(chunk).split())
                    clock += 0.4 if speaker == last else 1.0
                    end = clock + max(1.5, words / WORDS_PER_SECOND)
                    cues.append({"turn": n, "paragraph": p, "speaker": speaker, "text": " ".join(chunk),
                                 "start": clock, "end": end})
                    clock, last, chunk = end, speaker, []
    return cues


def clock_text(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def write_transcripts(turns: list[tuple[str, list[str]]], title: str, folder: Path) -> dict[str, int]:
    """The same excerpt in four styles; returns how many speaker-labelled units each file holds."""
    folder.mkdir(parents=True, exist_ok=True)
    cues = caption_cues(turns)
    vtt = ["WEBVTT", ""]
    for n, cue in enumerate(cues, start=1):
        start, end = (srt.timedelta_to_srt_timestamp(timedelta(seconds=cue[k])).replace(",", ".") for k in ("start", "end"))
        vtt += [str(n), f"{start} --> {end}", f"<v {cue['speaker']}>{cue['text']}</v>", ""]
    (folder / "episode.vtt").write_text("\n".join(vtt), encoding="utf-8")
    subtitles = [srt.Subtitle(n, timedelta(seconds=c["start"]), timedelta(seconds=c["end"]), f"{c['speaker']}: {c['text']}")
                 for n, c in enumerate(cues, start=1)]
    (folder / "episode.srt").write_text(srt.compose(subtitles), encoding="utf-8")
    otter = []  # Otter starts a new block at each pause: here, each paragraph
    for (turn, para), _ in Counter((c["turn"], c["paragraph"]) for c in cues).items():
        first = next(c for c in cues if c["turn"] == turn and c["paragraph"] == para)
        otter += [f"{first['speaker']}  {clock_text(first['start'])}", turns[turn][1][para], ""]
    otter.append("Transcribed by https://otter.ai")
    (folder / "episode-otter.txt").write_text("\n".join(otter) + "\n", encoding="utf-8")
    notes, labelled, multi = [f"# {title}", ""], 0, 0
    for speaker, paragraphs in turns:
        repeat = len(paragraphs) > 1 and multi % 2 == 0  # half the long turns repeat the label, half continue unlabelled
        multi += len(paragraphs) > 1
        for p, para in enumerate(paragraphs):
            labelled += p == 0 or repeat
            notes += [f"**{speaker}:** {para}" if p == 0 or repeat else para, ""]
    (folder / "episode-shownotes.md").write_text("\n".join(notes), encoding="utf-8")
    read_back = webvtt.read(str(folder / "episode.vtt"))
    assert [c.voice for c in read_back] == [c["speaker"] for c in cues], "voice tags did not round-trip"
    assert len(list(srt.parse((folder / "episode.srt").read_text(encoding="utf-8")))) == len(cues)
    return {"episode.vtt": len(cues), "episode.srt": len(cues), "episode-otter.txt": len(otter) // 3,
            "episode-shownotes.md": labelled}


def build_truth(items: list[dict], labels: dict[str, dict], turns, units: dict[str, int], args) -> dict:
    """What the sample holds, item by item, so tests can check ingest and curation against it."""
    keys = ("template_family", "exact_dup_of", "near_dup_of", "dup_origin", "has_html", "has_urls",
            "is_target_author", "published_at")
    rows = []
    for it in items:
        if it["type"] not in ("post", "page"):
            continue
        row = {"post_id": it["id"], "post_type": it["type"], "status": it["status"], "title": it["title"],
               "author": it.get("author", "Site Admin"), "source_id": it["source_id"]}
        if it["source_id"]:
            row.update({k: labels[it["source_id"]][k] for k in keys})
        else:
            row["note"] = {"Contact": "holds an email address, a phone number and a postal address",
                           "Links": "a list of links, not prose"}.get(it["title"], "a site page")
        rows.append(row)
    return {"built_by": "scripts/build_sample.py", "seed": args.seed, "target_author": TARGET_AUTHOR,
            "items": rows, "skipped": dict(Counter(it["type"] for it in items if it["type"] not in ("post", "page"))),
            "transcripts": {"source": f"thechangelog/transcripts practicalai/{args.episode}", "units": units,
                            "turns": [{"speaker": s, "n_words": len(" ".join(p).split()), "text": "\n\n".join(p)}
                                      for s, p in turns]}}


def readme(truth: dict, title: str) -> str:
    posts = [r for r in truth["items"] if r["post_type"] == "post"]
    pages = [r for r in truth["items"] if r["post_type"] == "page"]
    count = lambda rows, key: ", ".join(f"{k}: {v}" for k, v in Counter(r[key] for r in rows).most_common())  # noqa: E731
    authors = Counter(r["author"] for r in posts)
    families = Counter(r["template_family"] for r in posts if r["template_family"])
    exact = sum(bool(r["exact_dup_of"]) for r in posts)
    near = sum(bool(r["near_dup_of"]) for r in posts)
    years = Counter(r["published_at"][:4] for r in posts)
    turns = truth["transcripts"]["turns"]
    return f"""# The bundled sample

Real writing that nobody on this project wrote, shaped the way people will bring their own:
a WordPress export of a blog and one podcast excerpt in four transcript styles. `housevoice demo`
and the tests run on it. Built by `scripts/build_sample.py` (seed {truth['seed']}); do not edit by hand.

## `blog.wxr.xml`: a WordPress export (WXR 1.2)

Laid out as WordPress's Tools → Export writes it: `wp:author` entries, categories and tags, then one
`<item>` per post, page, attachment and menu item, ordered by post id. Post bodies are Rust blog posts
rendered from their markdown into block-editor HTML (`<!-- wp:paragraph -->`, `wp:heading`, `wp:list`,
`wp:code`, `wp:quote`, `wp:table`; hand-written HTML from the original markdown stays as written, inside
`wp:html` blocks or inline). Each corpus post carries `_housevoice_source_id` (a `wp:postmeta`) naming its
record in the Rust blog corpus. Dates: the site clock runs at UTC-4, so `wp:post_date` is local time
and `wp:post_date_gmt` four hours later; the first draft was never dated and has the zero GMT date and
`pubDate` (`Mon, 30 Nov -0001`) that WordPress writes for such drafts.

| what | count |
|---|---|
| items | {len(truth['items']) + sum(truth['skipped'].values())} |
| posts (post type `post`) | {len(posts)}: {count(posts, 'status')} |
| pages | {len(pages)}: {count(pages, 'status')} ({', '.join(r['title'] for r in pages)}) |
| not writing (a reader skips them) | {', '.join(f'{k}: {v}' for k, v in truth['skipped'].items())} |
| post authors | {len(authors)} |
| posts by the target author, {truth['target_author']} | {authors[truth['target_author']]} ({sum(r['is_target_author'] and not (r['exact_dup_of'] or r['near_dup_of']) for r in posts)} of them not copies) |
| posts of a templated series | {sum(families.values())}: {', '.join(f'{k} {v}' for k, v in families.most_common())} |
| planted duplicates (copy and its source both here) | {exact} exact copies, {near} near copies (one of them a natural re-post) |
| posts with hand-written HTML in their markdown (`has_html`) | {sum(r['has_html'] for r in posts)} |
| posts with URLs | {sum(r['has_urls'] for r in posts)} |
| posts published before 2020 | {sum(v for y, v in years.items() if y < '2020')} (years {min(years)}–{max(years)}) |

Authors with the most posts: {', '.join(f'{a} ({n})' for a, n in authors.most_common(8))}.
The Contact page holds an email address, a phone number and a postal address (made up, for the
personal-data flag); the Links page is a list of links.

## `transcripts/`: one excerpt, four styles

The first {len(turns)} speaker turns of {title.removesuffix(' (excerpt)')} ({len({t['speaker'] for t in turns})} speakers:
{', '.join(sorted({t['speaker'] for t in turns}))}; the host is Daniel Whitenack). Timings are made up
from word counts (about {WORDS_PER_SECOND} words a second); inline `[mm:ss]` marks were removed.

| file | style | speaker-labelled units |
|---|---|---|
| `episode.vtt` | WebVTT, `<v Speaker>` voice tags | {truth['transcripts']['units']['episode.vtt']} cues |
| `episode.srt` | SubRip, `Speaker: text` | {truth['transcripts']['units']['episode.srt']} cues |
| `episode-otter.txt` | Otter.ai export: `Speaker Name  0:25`, then the text; ends with Otter's `Transcribed by` line | {truth['transcripts']['units']['episode-otter.txt']} blocks |
| `episode-shownotes.md` | `# Title`, then `**Speaker:** text` paragraphs; some turns go on in unlabelled paragraphs | {truth['transcripts']['units']['episode-shownotes.md']} labelled paragraphs |

Long turns are split over several cues or blocks by the same speaker, so a reader has to merge them
back into {len(turns)} turns.

## `truth.json`

For every post and page: its post id, type, status, author, the corpus record id, and the corpus labels
(`template_family`, `exact_dup_of`, `near_dup_of`, `dup_origin`, `has_html`, `has_urls`,
`is_target_author`, `published_at`); the skipped item counts; and the excerpt's turns after merging.

## Sources, attribution, licenses

* Blog posts: the Rust blog, `rust-lang/blog.rust-lang.org` (commit `0243724c2e50`), licensed
  MIT / Apache-2.0; © the Rust Project Developers and each post's listed authors. Near and exact copies
  are edits of those posts made for testing; page texts were written for this sample.
* Transcript: Practical AI, `thechangelog/transcripts` (`practicalai/`, commit `44a0e16c5919`),
  licensed CC BY-SA 4.0; © Changelog Media LLC. The four transcript files are an adapted excerpt
  (timestamps added, turns split into cues) and are shared under the same license.

## Regenerate

```
.venv/bin/python scripts/build_sample.py   # options: --corpus, --episodes, --episode, --seed, --out
```
"""


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    records = read_jsonl(args.corpus / "records.jsonl")
    labels = {row["id"]: row for row in read_jsonl(args.corpus / "labels.jsonl")}
    rng = random.Random(args.seed)
    posts = choose_posts(records, labels, args.posts, rng)
    items = build_items(posts, labels, rng)
    args.out.mkdir(parents=True, exist_ok=True)
    write_wxr(items, posts, labels, args.out / "blog.wxr.xml")
    turns = read_turns(args.episodes / args.episode, args.turns)
    episode_number = re.sub(r"\D", "", args.episode)
    title = f"Practical AI #{episode_number} (excerpt)"
    units = write_transcripts(turns, title, args.out / "transcripts")
    truth = build_truth(items, labels, turns, units, args)
    (args.out / "truth.json").write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    (args.out / "README.md").write_text(readme(truth, title), encoding="utf-8")
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(f"wrote {args.out}: {len(items)} items, {len(posts)} corpus posts, {len(turns)} turns, {size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
