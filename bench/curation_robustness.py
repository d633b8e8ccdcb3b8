"""Curation quality when a site adds its own lines to a labelled corpus: do the figures hold?

Usage: python bench/curation_robustness.py CORPUS_DIR [--stale-before 2020-01-01] [--only NAME …]

Another organization's blog differs from the one the flaggers were tuned on in what the site
puts around every post. Each variant below rewrites the texts of CORPUS_DIR (records.jsonl +
labels.jsonl) in one such way that leaves its labels true, then runs bench/curation_quality.py
on it. Printed: one row per variant with the figures the quality goals name. A robust pipeline
prints the as-published row again on every line (html excepted for the variants that store posts
as HTML, whose labels describe the markdown).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent

PLUG = "Thanks for reading! If you enjoyed this post, subscribe to our newsletter for more stories from the team."
FOLLOW = "Follow us on Mastodon and Bluesky for updates, and join the conversation on our community forum."
COPYRIGHT = "Copyright 2024 The Acme Project. All rights reserved."
HEADER = "*This post first appeared on the Acme engineering blog. Views are the author's own.*"


def _footer(record: dict) -> str:
    return f"{record['text'].rstrip()}\n\n{PLUG}\n\n{FOLLOW}\n\n{COPYRIGHT}"


def _share_line(record: dict) -> str:
    title = record.get("title") or "this post"
    return f"{record['text'].rstrip()}\n\nIf you enjoyed “{title}”, share it with a friend. Want more posts like “{title}”? Subscribe below."


def _byline(record: dict) -> str:
    return f"By {record.get('author') or 'the team'} | {record.get('published_at') or ''}\n\n{record['text']}"


def _smart(text: str) -> str:
    """Straight quotes made typographic outside code and tags, as a CMS does."""
    parts = re.split(r"(```.*?```|`[^`\n]*`|<[^<>\n]*>)", text, flags=re.S)
    for i in range(0, len(parts), 2):
        part = re.sub(r"(^|[\s(\[])\"", "\\1“", parts[i])
        part = re.sub(r"(^|[\s(\[])'", "\\1‘", part)
        parts[i] = part.replace('"', "”").replace("'", "’")
    return "".join(parts)


def _html(record: dict) -> str:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table").render(record["text"])


def _classic(record: dict) -> str:
    """As WordPress's classic editor stores a post: HTML whose paragraphs are blank-line separated text,
    not <p> elements (WordPress adds those when it shows the post); a quote keeps its own <p>."""
    parts = re.split(r"(<blockquote>.*?</blockquote>|<pre>.*?</pre>)", _html(record), flags=re.S)
    for i in range(0, len(parts), 2):
        parts[i] = re.sub(r"<p>(.*?)</p>\n?", lambda m: " ".join(m.group(1).split()) + "\n\n", parts[i], flags=re.S)
    return "".join(parts)


def _block_editor(record: dict) -> str:
    """As WordPress's block editor stores a post: HTML, each top-level paragraph, heading, list and code
    block between block comments."""
    from selectolax.lexbor import LexborHTMLParser

    names = {"p": "paragraph", "ul": "list", "ol": "list", "pre": "code", "blockquote": "quote", "table": "table", "hr": "separator"}
    out = []
    for node in LexborHTMLParser(_html(record)).body.iter(include_text=False):
        name = "heading" if node.tag in ("h1", "h2", "h3", "h4", "h5", "h6") else names.get(node.tag, "html")
        out.append(f"<!-- wp:{name} -->\n{node.html}\n<!-- /wp:{name} -->")
    return "\n\n".join(out)


def _page_builder(record: dict) -> str:
    """As a page builder (Divi) stores a post: its HTML inside the builder's section, row, column and text shortcodes."""
    return (
        '[et_pb_section fb_built="1" _builder_version="4.16"][et_pb_row _builder_version="4.16"][et_pb_column type="4_4"]'
        f'[et_pb_text admin_label="Text" _builder_version="4.16"]{_html(record)}[/et_pb_text]'
        "[/et_pb_column][/et_pb_row][/et_pb_section]"
    )


def _related(records: list[dict], rng: random.Random) -> dict[str, str]:
    """For each record, a 'Related posts' list of three links to other posts, drawn mostly from a few
    popular ones (as a plugin does)."""
    popular = rng.sample([r for r in records if r.get("title")], 20)
    weights = [1 / (k + 1) for k in range(len(popular))]
    out = {}
    for r in records:
        picks = {p["title"]: p["url"] or "https://acme.example/p" for p in rng.choices(popular, weights, k=6) if p["id"] != r["id"]}
        items = "\n".join(f"- [{t}]({u})" for t, u in list(picks.items())[:3])
        out[r["id"]] = f"{r['text'].rstrip()}\n\nRelated posts:\n\n{items}"
    return out


def variants(seed: int = 7):
    """(name, what it does, what picks the records it changes or None, the record's new text or the new record)."""
    picked: dict[str, set] = {}

    def rng_of(name: str) -> random.Random:
        # One generator per variant: a variant draws the same records whether or not others run.
        return random.Random(f"{seed}-{name}")

    def some(share: float, name: str):
        def pick(records: list[dict]) -> None:
            picked[name] = {r["id"] for r in rng_of(name).sample(records, max(1, round(share * len(records))))}

        return pick

    wrapped = textwrap.wrap(f"{PLUG} {FOLLOW}", 70)
    return [
        ("as_published", "the corpus as it is", None, lambda r: r["text"]),
        ("site_footer", "plug, follow line and copyright under every post", None, _footer),
        ("header_half", "an 'originally appeared on' line above half of the posts", some(0.5, "header_half"),
         lambda r: f"{HEADER}\n\n{r['text']}" if r["id"] in picked["header_half"] else r["text"]),
        ("plug_3pct", "the footer under 3% of the posts", some(0.03, "plug_3pct"),
         lambda r: _footer(r) if r["id"] in picked["plug_3pct"] else r["text"]),
        ("wrapped_10pct", "plug and follow line hard-wrapped at 70 columns under 10% of the posts", some(0.10, "wrapped_10pct"),
         lambda r: r["text"].rstrip() + "\n\n" + "\n".join(wrapped) if r["id"] in picked["wrapped_10pct"] else r["text"]),
        ("byline", "'By <author> | <date>' above every post", None, _byline),
        ("share_title", "a share line naming the post's title under every post", None, _share_line),
        ("html_export", "every post rendered to HTML, as a CMS stores it", None, _html),
        ("related_posts", "a 'Related posts' list of three links (to a few popular posts) under every post",
         lambda records: picked.update(related=_related(records, rng_of("related_posts"))), lambda r: picked["related"][r["id"]]),
        ("title_suffix", "' | Acme Engineering Blog' after every title", None,
         lambda r: {**r, "title": f"{r['title']} | Acme Engineering Blog" if r.get("title") else r.get("title")}),
        ("title_prefix", "'Acme Blog: ' before every title", None,
         lambda r: {**r, "title": f"Acme Blog: {r['title']}" if r.get("title") else r.get("title")}),
        ("crlf_smart_quotes", "Windows line ends and typographic quotes in half of the posts (a CMS's export)", some(0.5, "crlf_smart_quotes"),
         lambda r: _smart(r["text"]).replace("\n", "\r\n") if r["id"] in picked["crlf_smart_quotes"] else r["text"]),
        ("html_half", "half of the posts rendered to HTML (copies in two formats)", some(0.5, "html_half"),
         lambda r: _html(r) if r["id"] in picked["html_half"] else r["text"]),
        ("classic_editor", "every post as WordPress's classic editor stores it (paragraphs as blank lines, a few <p>)", None, _classic),
        ("block_editor", "every post as WordPress's block editor stores it (HTML between <!-- wp: --> block comments)", None, _block_editor),
        ("page_builder", "every post inside a page builder's shortcodes (Divi), as a marketing site stores it", None, _page_builder),
    ]


_FIGURES = re.compile(r"(\w+_f1)=([0-9.]+)")


def run_variant(folder: Path, name: str, prepare, change, tmp: Path, stale_before: str) -> dict[str, str]:
    records = [json.loads(line) for line in (folder / "records.jsonl").open(encoding="utf-8") if line.strip()]
    if prepare:
        prepare(records)
    out = tmp / name
    out.mkdir()
    with (out / "records.jsonl").open("w", encoding="utf-8") as f:
        for record in records:
            changed = change(record)
            # A change may return the whole record (to touch its title), or its text.
            f.write(json.dumps(changed if isinstance(changed, dict) else {**record, "text": changed}) + "\n")
    (out / "labels.jsonl").write_bytes((folder / "labels.jsonl").read_bytes())
    if (folder / "voice.json").is_file():
        (out / "voice.json").write_bytes((folder / "voice.json").read_bytes())
    proc = subprocess.run(
        [sys.executable, str(HERE / "curation_quality.py"), str(out), "--stale-before", stale_before],
        capture_output=True, text=True,
    )
    if proc.returncode != 0:
        sys.exit(f"{name}: curation_quality.py failed\n{proc.stdout}{proc.stderr}")
    figures = dict(_FIGURES.findall(proc.stdout))
    kept = re.search(r"keeping exactly one member unflagged: (\d+/\d+)", proc.stdout)
    recall = re.search(r"^near_duplicate_flag\s+\S+\s+(\S+)", proc.stdout, re.M)
    figures["clusters_one_kept"] = kept.group(1) if kept else "?"
    figures["near_dup_recall"] = recall.group(1) if recall else "?"
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--stale-before", default="2020-01-01")
    ap.add_argument("--only", nargs="*", help="run these variants only")
    args = ap.parse_args()
    for path in (args.corpus / "records.jsonl", args.corpus / "labels.jsonl"):
        if not path.is_file():
            sys.exit(f"missing {path}")
    columns = ["html_f1", "url_f1", "dup_pairs_f1", "near_dup_recall", "clusters_one_kept", "templated_flag_f1", "template_pairs_f1"]
    print(f"{'variant':15s} " + " ".join(f"{c:>17s}" for c in columns) + "   what the site added")
    with tempfile.TemporaryDirectory() as tmp:
        for name, what, prepare, change in variants():
            if args.only and name not in args.only:
                continue
            figures = run_variant(args.corpus, name, prepare, change, Path(tmp), args.stale_before)
            print(f"{name:15s} " + " ".join(f"{figures.get(c, '?'):>17s}" for c in columns) + f"   {what}", flush=True)


if __name__ == "__main__":
    main()
