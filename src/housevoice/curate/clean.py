"""The cleaners: raw text to clean_text (HTML to text, shortcodes, links, URLs, whitespace)."""

from __future__ import annotations

import functools
import html
import multiprocessing
import re
import signal
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import polars as pl
from pydantic import Field
from selectolax.lexbor import LexborHTMLParser, LexborNode

from housevoice.curate.base import FlaggerSettings
from housevoice.curate.boilerplate import remove_boilerplate, remove_mailing_footers
from housevoice.curate.text_cache import TextCache, chosen, fingerprint
from housevoice.curate.code_masks import in_slices, lines_with_code, outside_code, python_per_row, rewrite_outside_code, where, where_found
from housevoice.curate.markup import CODE, HTML_TAG, URL

# Private-use marks around a replacement, so that code kept by the same regex can be told
# apart from what was replaced (polars' regex has no lookaround to skip code directly).
_OPEN, _CLOSE = "\ue000", "\ue001"
_CODE_OR = f"({CODE})|"

TRACKING_PARAMS = ("utm_*", "fbclid", "gclid", "mc_cid", "mc_eid", "ref")
SHORTCODES_WITH_CONTENT = ("caption", "wp_caption", "embed", "gallery", "audio", "video", "playlist")
SHORTCODES = SHORTCODES_WITH_CONTENT + (
    "contact-form-7", "contact-form", "youtube", "vimeo", "tweet", "twitter", "soundcloud",
    "spotify", "instagram", "googlemaps", "slideshare", "wpvideo", "button", "column", "columns",
)
# URL without the sentence punctuation that so often ends it ("see https://x.org.").
_URL_IN_PROSE = URL[:-1] + r"*[^\s<>()\[\]\"'`.,;:!?]"
# An address written without its scheme ("visit www.acme.com"): a model learns it just the same.
_WWW = r"www\.[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?:[/?#][^\s<>()\[\]\"'`]*[^\s<>()\[\]\"'`.,;:!?])?"


class CleanSettings(FlaggerSettings):
    """The `[curate.clean]` table: how raw text becomes clean_text."""

    urls: Literal["link_text", "placeholder", "keep"] = Field(
        "link_text",
        description="link_text: a link keeps only its text and bare addresses are removed; "
        "placeholder: a link keeps its text and bare addresses become `placeholder`; keep: addresses stay",
    )
    placeholder: str = Field("<URL>", description="what a bare web address becomes when urls = 'placeholder'")
    drop_tracking_params: bool = Field(
        True, description="remove utm_*, fbclid, gclid, mc_cid, mc_eid and ref from addresses that are kept"
    )
    remove_shortcodes: bool = Field(
        True,
        description="remove WordPress shortcodes such as [caption]…[/caption], [gallery] and [embed]…[/embed], and any "
        "plugin's (a tag with attributes, or one the text closes: page builders' [et_pb_text …]…[/et_pb_text]), "
        "keeping what they wrap",
    )
    remove_template_tags: bool = Field(
        True,
        description="remove static-site template tags: Hugo shortcodes ({{< youtube id >}}, {{% notice %}}…{{% /notice %}} keeps "
        "its text), Jekyll/Liquid tags ({% include x.html %}, {{ site.baseurl }}), Zola shortcodes ({{ youtube(id=…) }}) and "
        "template actions alone on a line; {% highlight %} and {{< highlight >}} blocks become fenced code",
    )
    remove_mdx: bool = Field(
        True,
        description="remove what MDX (the markdown of Docusaurus, Astro, Next.js and Gatsby blogs) adds to markdown: "
        "import and export blocks, {/* comments */} and components — <Callout>…</Callout> keeps its text, "
        "<YouTube id=\"…\" /> and a line of tags alone (<Tabs>, </TabItem>) go",
    )
    remove_embeds: bool = Field(True, description="remove a web address alone on its line (WordPress shows it as an embed)")
    unescape_markdown: bool = Field(
        True, description="markdown backslash escapes become their character outside code (\\[x\\] -> [x], x86\\_64 -> x86_64)"
    )
    remove_transcript_marks: bool = Field(
        True,
        description="remove timestamps in brackets ([12:04], [01:02:03.5]) and stage directions such as [laughs], "
        "(laughter), [crosstalk], [inaudible 00:12:04], [music] and [applause]: they are not anybody's words",
    )
    html_to_text: bool = Field(True, description="turn HTML markup into plain text with paragraphs, lists and code blocks")
    unwrap_paragraphs: bool = Field(
        True,
        description="join the lines of a markdown paragraph or list item that the writer's editor wrapped (at 70 or 80 "
        "columns): markdown reads them as one line, and a model trained on them breaks its own lines mid-sentence; "
        "code, tables, headings, quotes, lines ending in a hard break (\\) and WordPress exports' posts (WordPress shows "
        "their single line breaks as breaks) keep their lines",
    )
    remove_boilerplate: bool = Field(
        True,
        description="remove lines a site adds to many unrelated posts (newsletter plugs, sign-offs, copyright lines): "
        "a line of three words or more near the head or foot of a text, outside code, found in `boilerplate_min_share` "
        "of the texts under three title "
        "shapes or more, none holding half of them (a template's own lines are left to `templated`); each record that "
        "loses one gets a `boilerplate` flag naming it",
    )
    boilerplate_min_share: float = Field(
        0.02, gt=0.0, le=1.0, description="share of the (distinct) texts a line must recur in to be boilerplate"
    )
    boilerplate_min_posts: int = Field(5, ge=2, description="fewest texts a line must recur in to be boilerplate")
    remove_mailing_footers: bool = Field(
        True,
        description="remove the lines a mailing tool writes under a newsletter (unsubscribe and preference links, "
        "'view in browser', 'you are receiving this email because…', the sender's mailing address under its lead, merge tags "
        "such as *|UNSUB|*) from the last lines of a text, outside code; each record that loses one gets a "
        "`boilerplate` flag naming it",
    )
    boilerplate_skip_kinds: list[str] = Field(
        ["transcript_turn"],
        description="record kinds neither counted nor changed (a turn said in every episode is a duplicate, not boilerplate)",
    )


# ---- HTML documents: rendered with selectolax into markdown-shaped text ----------------

_SKIPPED = {
    "script", "style", "iframe", "noscript", "template", "object", "embed", "svg", "head", "form",
    "button", "select", "input", "textarea", "canvas", "video", "audio", "img", "picture", "source",
    "track", "map", "meta", "link", "title", "-comment",
}
_BLOCKS = {
    "p", "div", "section", "article", "header", "footer", "main", "aside", "figure", "figcaption",
    "details", "summary", "address", "dl", "dt", "dd", "center", "body", "html", "hr", "nav",
}
# Parts of a post that a publishing tool writes, not its writer (by their class): a link preview
# card quotes another site's title and description (Ghost's bookmark card), buttons and sign-up
# boxes ask the reader to act (WordPress's file "Download" button), lists of other posts and
# sharing links are the site's, and an embedded social post (its blockquote fallback) is an embed.
_NOT_THE_WRITERS = re.compile(
    r"(?:^|\s)(?:kg-(?:bookmark|signup|button|cta)-card|wp-block-(?:file__button|buttons|latest-posts|social-links)"
    r"|sharedaddy|jp-relatedposts|twitter-tweet|instagram-media|tiktok-embed|reddit-card|bluesky-embed|mastodon-embed)(?:\s|$)"
)
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_SPACES_IN_LINE = re.compile(r"[ \t\r\f\v]+")
_AROUND_NEWLINE = re.compile(r"[ \t]*\n[ \t]*")
_MAX_DEPTH = 120  # levels (about three Python frames each): far below the interpreter's limit
_LANGUAGE = re.compile(r"(?:language-|lang-|brush:\s*)([\w+#-]+)")


def _collapsed(value: str) -> str:
    """Every whitespace run as one space (what `re.sub(r"\\s+", " ", value)` gives, several times
    faster: a document has a text node for every run of words between two tags)."""
    words = value.split()
    if not words:
        return " " if value else ""
    collapsed = " ".join(words)
    if value[0].isspace():
        collapsed = " " + collapsed
    return collapsed + " " if value[-1].isspace() else collapsed


def _language(node: LexborNode) -> str:
    for candidate in (node, node.css_first("code")):
        if candidate is not None:
            found = _LANGUAGE.search(candidate.attributes.get("class") or "")
            if found:
                return found.group(1)
    return ""


class _HtmlRenderer:
    """Walks the parsed tree once; returns text in markdown shape (paragraphs, `- item`, ```)."""

    def __init__(self, keep_links: bool, autop: bool, classic: bool = False):
        self.keep_links = keep_links
        # Without <p> tags a blank line is the paragraph break (WordPress's classic editor).
        self.autop = autop
        # A classic-editor post may hold a few <p> tags and still write its other paragraphs as
        # blank lines: WordPress breaks the text outside any paragraph-like element into lines.
        self.classic = classic

    def children(self, node: LexborNode, depth: int) -> str:
        # Text nodes (half of all nodes) are handled here, without a call to `render`.
        return "".join(
            [
                self.text(child.text_content or "", child) if child.tag == "-text" else self.render(child, depth + 1)
                for child in node.iter(include_text=True)
            ]
        )

    def text(self, value: str, node: LexborNode | None = None) -> str:
        if self.autop or (self.classic and "\n" in value and node is not None and _outside_paragraphs(node)):
            if not value.strip(" \t\n"):  # (most such nodes: the line breaks between two tags)
                return "\n" * value.count("\n") or (" " if value else "")
            return _AROUND_NEWLINE.sub("\n", _SPACES_IN_LINE.sub(" ", value))
        return _collapsed(value)

    def render(self, node: LexborNode, depth: int = 0) -> str:
        tag = node.tag
        if tag == "-text":
            return self.text(node.text_content or "", node)
        if tag in _SKIPPED or _NOT_THE_WRITERS.search(node.attributes.get("class") or ""):
            return ""
        if depth > _MAX_DEPTH:  # pathological nesting: plain text is better than a crash
            return " " + (node.text(deep=True) or "") + " "
        if tag == "br":
            return "\n"
        if tag == "pre":
            shown = _preformatted(node, depth).strip("\n")
            if _VERSE.search(node.attributes.get("class") or ""):
                # A poem (WordPress's verse block): its lines are prose, not code.
                lines = (" ".join(line.split()) for line in shown.split("\n"))
                return "\n\n" + "\n".join(lines).strip("\n") + "\n\n"
            return f"\n\n```{_language(node)}\n{shown}\n```\n\n"
        if tag == "code":
            code = node.text(deep=True) or ""
            return f"`{code}`" if code.strip() and "\n" not in code else code
        if tag in _HEADINGS:
            inner = " ".join(self.children(node, depth).split())
            return f"\n\n{'#' * _HEADINGS[tag]} {inner}\n\n" if inner else ""
        if tag in ("ul", "ol"):
            return self.list(node, depth, ordered=tag == "ol")
        if tag == "li":
            return "\n- " + self.children(node, depth).strip() + "\n"
        if tag == "blockquote":
            inner = re.sub(r"\n[ \t]*(?:\n[ \t]*)+", "\n\n", self.children(node, depth).strip())
            quoted = "\n".join(f"> {line}" if line.strip() else ">" for line in inner.splitlines())
            return f"\n\n{quoted}\n\n"
        if tag == "table":
            return self.table(node, depth)
        if tag == "a":
            inner = self.children(node, depth)
            href = node.attributes.get("href")
            if self.keep_links and href and inner.strip():
                return f"[{inner.strip()}]({href})"
            return inner
        inner = self.children(node, depth)
        return f"\n\n{inner}\n\n" if tag in _BLOCKS else inner

    def list(self, node: LexborNode, depth: int, ordered: bool) -> str:
        lines, number = [], 0
        for child in node.iter(include_text=False):
            body = self.render(child, depth + 1).strip() if child.tag != "li" else self.children(child, depth + 1).strip()
            if not body:
                continue
            number += 1
            marker = f"{number}." if ordered else "-"
            body = re.sub(r"\n{2,}", "\n", body).replace("\n", "\n  ")
            lines.append(f"{marker} {body}" if child.tag == "li" else body)
        return "\n\n" + "\n".join(lines) + "\n\n"

    def table(self, node: LexborNode, depth: int) -> str:
        rows = [
            [cell for cell in row.iter(include_text=False) if cell.tag in ("td", "th")] for row in _own_rows(node)
        ]
        if any(cell.css_first(_BLOCK_CONTENT) is not None for cells in rows for cell in cells):
            # A layout table (an email newsletter is built of them): its cells are the page's blocks.
            blocks = (self.children(cell, depth + 1).strip() for cells in rows for cell in cells)
            return "\n\n" + "\n\n".join(block for block in blocks if block) + "\n\n"
        lines = []
        for cells in rows:
            texts = [" ".join(self.children(cell, depth + 1).split()) for cell in cells]
            if any(texts):
                lines.append("| " + " | ".join(texts) + " |")
        return "\n\n" + "\n".join(lines) + "\n\n"


_BLOCK_CONTENT = "p, div, h1, h2, h3, h4, h5, h6, ul, ol, table, blockquote, pre"


# Elements whose own text is one flowing paragraph (or a list, a table, a block of code).
_PARAGRAPH_LIKE = {
    "p", "li", "td", "th", "dt", "dd", "pre", "caption", "figcaption", "summary", "address", "ul", "ol", "table",
    "tr", "div", "section", "article", "header", "footer", "main", "aside", "nav", "figure", "details", *_HEADINGS,
}


def _outside_paragraphs(node: LexborNode) -> bool:
    """True when the nearest block around a text node is the page itself or a quote."""
    parent = node.parent
    while parent is not None and parent.tag not in _PARAGRAPH_LIKE and parent.tag not in ("body", "blockquote"):
        parent = parent.parent
    return parent is None or parent.tag in ("body", "blockquote")


_VERSE = re.compile(r"(?:^|\s)(?:wp-block-)?verse(?:\s|$)")


def _preformatted(node: LexborNode, depth: int) -> str:
    """The text of a <pre> as a browser shows it: a <br> in it is a line break too (WordPress's
    preformatted and verse blocks write their lines with them)."""
    if depth > _MAX_DEPTH:
        return node.text(deep=True) or ""
    parts = []
    for child in node.iter(include_text=True):
        if child.tag == "-text":
            parts.append(child.text_content or "")
        elif child.tag == "br":
            parts.append("\n")
        elif child.tag not in _SKIPPED:
            parts.append(_preformatted(child, depth + 1))
    return "".join(parts)


def _own_rows(table: LexborNode):
    """The table's rows, not those of tables nested in its cells."""
    for child in table.iter(include_text=False):
        if child.tag == "tr":
            yield child
        elif child.tag in ("thead", "tbody", "tfoot"):
            yield from (row for row in child.iter(include_text=False) if row.tag == "tr")


def html_to_text(text: str, keep_links: bool = False, classic: bool = True) -> str:
    """An HTML document as markdown-shaped plain text (selectolax parses, we walk the tree).

    classic: False for a block-editor post (its text outside paragraphs is layout, not line breaks)."""
    tree = LexborHTMLParser(text)
    body = tree.body
    if body is None:
        return ""
    autop = re.search(r"<p[\s>]", text, re.IGNORECASE) is None
    # No line ends in spaces, none after a blank line is indented, no two blank lines meet (with str
    # methods: Python's regex engine would try a match at every space and line break).
    lines = [line.rstrip(" \t") for line in _HtmlRenderer(keep_links, autop, classic).children(body, 0).split("\n")]
    rendered = "\n".join([line.lstrip(" \t") if n and not lines[n - 1] else line for n, line in enumerate(lines)])
    while "\n\n\n" in rendered:
        rendered = rendered.replace("\n\n\n", "\n\n")
    return rendered.strip()


# ---- markdown with a few inline tags: only the known HTML vocabulary is touched -----------

# Hand-written because a markdown post is not an HTML document: a parser would eat generics like
# Vec<T> and re-wrap paragraphs. Only known element names are touched. In polars' dialect (no
# backreferences, no lookaround) `\b` after a tag name is "a non-word character, or the tag's end".
_NOT_NAME = r"(?:[^\w<>][^<>]*)?>"
_DROPPED = "|".join(
    rf"{name}(?:[^\w].*?)?</{name}" for name in ("script", "style", "iframe", "noscript", "object", "svg", "video", "audio")
)
# An embedded social post pasted into markdown: its blockquote fallback is someone else's post.
_EMBEDDED_POST = (
    r"(?is)<blockquote\s[^<>]*class\s*=\s*[\"'][^\"']*(?:twitter-tweet|instagram-media|tiktok-embed|reddit-card)"
    r"[^<>]*>.*?</blockquote\s*>"
)
_LINK = r"(?is)<a\s[^<>]*?href\s*=\s*[\"']([^\"']*)[\"'][^<>]*>(.*?)</a\s*>"
_LIST_ITEM = rf"(?im)^[ \t]*<li{_NOT_NAME}[ \t]*"
# Items and cells that share a line with others must not run their words together ("onetwo").
_INNER_LIST_ITEM = rf"(?i)[ \t]*<li{_NOT_NAME}[ \t]*"
_LINE_FIRST_CELL = rf"(?im)^([ \t]*)<t[dh]{_NOT_NAME}"
_TABLE_CELL = rf"(?i)<t[dh]{_NOT_NAME}"
_LINE_BREAK = rf"(?i)<br\s*/?>|</?(?:p|div|h[1-6]|ul|ol|table|tr|blockquote|details|summary|figure){_NOT_NAME}"


_LIST_TAG = re.compile(rf"(?i)<(/?)(ol|ul|li)({_NOT_NAME})")
_START = re.compile(r"""(?i)\sstart\s*=\s*["']?(-?\d+)""")


def numbered_items(text: str) -> str:
    """An HTML ordered list's items in markdown text numbered as a reader sees them ("1. ", "2. ";
    from its `start`): the item tags that are left become "- " items."""
    if "<ol" not in text.lower():
        return text
    out, last, lists = [], 0, []
    for tag in _LIST_TAG.finditer(text):
        closing, name, rest = tag.group(1), tag.group(2).lower(), tag.group(3)
        if name in ("ol", "ul"):
            if closing:
                if lists:
                    lists.pop()
            else:
                start = _START.search(rest) if name == "ol" else None
                lists.append([name, int(start.group(1)) if start else 1])
            continue
        if closing or not lists or lists[-1][0] != "ol":
            continue
        line_start = text.rfind("\n", 0, tag.start()) + 1
        before = text[line_start : tag.start()]
        # An item opening its line starts it (as "- " items do); one after other words starts a new line.
        inline = bool(before.strip())
        out.append(text[last : tag.start()].rstrip(" \t") if inline else text[last:line_start])
        out.append(("\n" if inline else "") + f"{lists[-1][1]}. ")
        lists[-1][1] += 1
        last = tag.end()
        while last < len(text) and text[last] in " \t":
            last += 1
    out.append(text[last:])
    return "".join(out)


def _inline_html(text: pl.Expr, keep_links: bool, protect_code: bool = True) -> pl.Expr:
    """Inline tags to text (links keep their text, list items become `- `, breaks newlines); no unescaping."""
    text = _sub(text, rf"(?is)<(?:{_DROPPED})\s*>", "", protect_code)
    text = _sub(text, _EMBEDDED_POST, "", protect_code)
    text = _sub(text, _LINK, "[${2}](${1})" if keep_links else "${2}", protect_code)
    text = _sub(text, _LIST_ITEM, "- ", protect_code)
    text = _sub(text, _INNER_LIST_ITEM, "\n- ", protect_code)
    text = _sub(text, _LINE_FIRST_CELL, "${1}", protect_code)
    text = _sub(text, _TABLE_CELL, " ", protect_code)
    text = _sub(text, _LINE_BREAK, "\n", protect_code)
    # An escaped `\<` is text, not a tag.
    text = text.str.replace_all("\\<", "\x00", literal=True)
    return _sub(text, HTML_TAG, "", protect_code).str.replace_all("\x00", "\\<", literal=True)


def _sub(expr: pl.Expr, pattern: str, template: str, protect_code: bool) -> pl.Expr:
    """Replace `pattern` (outside code when protect_code) by `template`, whose `${n}` name the pattern's groups."""
    if not protect_code:
        return expr.str.replace_all(pattern, template)
    shift = _code_groups()
    shifted = re.sub(r"\$\{(\d+)\}", lambda m: f"${{{int(m.group(1)) + shift}}}", template)
    # Code matches come out as OPEN code CLOSE + the template with empty groups, real matches as
    # OPEN CLOSE + the template: marks tell the two apart, and the code's extra text goes.
    empty = re.sub(r"\$\{\d+\}", "", template)
    marked = expr.str.replace_all(_CODE_OR + pattern, f"{_OPEN}${{1}}{_CLOSE}{shifted}")
    return (
        marked.str.replace_all(_OPEN + _CLOSE, "", literal=True)
        .str.replace_all(_CLOSE + empty, "", literal=True)
        .str.replace_all(_OPEN, "", literal=True)
    )


# ---- markdown escapes and transcript marks ----------------------------------------------

# CommonMark: a backslash before any ASCII punctuation character is that character.
_ESCAPE = r"\\([!-/:-@\[-`{-~])"
# Brackets may still be escaped when unescaping is off. A time may carry fractions or frames (.5, .16).
_HMS = r"(?:\d{1,2}:){2}\d{2}(?:[.,]\d{1,3})?"
_TIME = r"(?:\d{1,2}:){1,2}\d{2}(?:[.,]\d{1,3})?"
_TIMESTAMP = rf"\\?\[{_TIME}\\?\]"
# Stage directions; in parentheses only the asides prose does not use ("(static)" may be someone's words).
_SPOKEN_ASIDES = ("laughs?", "laughing", "laughter", "chuckles?", "chuckling", "inaudible", "unintelligible", "crosstalk")
_STAGE_DIRECTIONS = (
    *_SPOKEN_ASIDES, "giggles?", "sighs?", "coughs?", "applause", "music", "intro music", "outro music", "theme music",
    "music playing", "cross-talk", "indiscernible", "silence", "pause", "long pause", "background noise", "static",
    "break", "ad break", "commercial break", "music break", "sponsor break",
)
# Transcription services put the time inside: [inaudible 00:12:04], [crosstalk 01:02:03.16].
# Show notes set a break apart as a line of its own in bold or italics: "**Break**:", "*[Music]*".
_STAGE_DIRECTION = (
    rf"(?i:\\?\[(?:{'|'.join(_STAGE_DIRECTIONS)})(?:[ ,]+{_TIME})?\\?\]"
    rf"|\((?:{'|'.join(_SPOKEN_ASIDES)})(?:[ ,]+{_TIME})?\)"
    rf"|(?m:^[ \t]*(?:\*\*|__|\*|_)\[?(?:{'|'.join(_STAGE_DIRECTIONS)})\]?(?:\*\*|__|\*|_):?[ \t]*(?:{_TIMESTAMP})?[ \t]*$))"
)
# Any short note ending in an hours:minutes:seconds time is a transcriber's: [HighNote 01:37:35.25].
_TIMECODED_NOTE = rf"\\?\[[^\[\]\n]{{1,40}}?[ ,]+{_HMS}\\?\]"
_TRANSCRIPT_MARK = rf"(?:{_TIMESTAMP}|{_STAGE_DIRECTION}|{_TIMECODED_NOTE})"
# What every mark holds, found several times faster: a time, or a bracket opening on a stage direction.
# (Two scans: each alone finds its first character fast, together they read every character; `:\d\d`
# holds every `\d:\d\d`.)
_MAY_HOLD_MARK = (r":\d\d", rf"[\[(*_](?i:{'|'.join(_STAGE_DIRECTIONS)})")


def _without_transcript_marks(text: pl.Expr, protect_code: bool) -> pl.Expr:
    """Timestamps and stage directions out with the spaces after them, or before them when
    punctuation follows ("more [inaudible]." is "more."). NUL marks each (control characters are gone by now)."""
    text = _replace_outside(text, _TRANSCRIPT_MARK, "\x00", protect_code)
    return text.str.replace_all(r"[ \t]*\x00[ \t]*([.,;:!?)])", "${1}").str.replace_all(r"\x00[ \t]*", "")


# ---- tracking parameters on kept addresses ---------------------------------------------

_TRACKING = r"(?i)[?&](?:utm_\w+|fbclid|gclid|mc_cid|mc_eid|ref)="
_URL_RE = re.compile(_URL_IN_PROSE)


def _is_tracking(key: str) -> bool:
    key = key.lower()
    return key.startswith("utm_") or key in TRACKING_PARAMS


def drop_tracking_params(url: str) -> str:
    """The address without its tracking parameters (utm_*, fbclid, gclid, mc_cid, mc_eid, ref)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.query:
        return url
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)]
    return urlunsplit(parts._replace(query=urlencode(query, doseq=True)))


# ---- the vectorised passes ---------------------------------------------------------------


def _outside(expr: pl.Expr, pattern: str, keep_group: int | None = None, protect_code: bool = True) -> pl.Expr:
    """Remove `pattern` outside code, or keep only its group `keep_group` (groups count after the code group).

    protect_code=False: the text has its code already masked, so the pattern runs alone (faster).
    """
    if not protect_code:
        return expr.str.replace_all(pattern, "" if keep_group is None else f"${{{keep_group}}}")
    keep = "" if keep_group is None else f"${{{keep_group + _code_groups()}}}"
    return expr.str.replace_all(_CODE_OR + pattern, f"${{1}}{keep}")


def _code_groups() -> int:
    return 1 + re.compile(CODE).groups


def _replace_outside(expr: pl.Expr, pattern: str, replacement: str, protect_code: bool = True) -> pl.Expr:
    """Replace `pattern` outside code with a fixed text (marks tell code and replacements apart)."""
    if not protect_code:
        return expr.str.replace_all(pattern, replacement.replace("$", "$$"))
    marked = expr.str.replace_all(_CODE_OR + pattern, f"{_OPEN}${{1}}{_CLOSE}")
    return marked.str.replace_all(_OPEN + _CLOSE, replacement, literal=True).str.replace_all(f"[{_OPEN}{_CLOSE}]", "")


def _fence_blocks(text: pl.Expr, pattern: str, code_groups: tuple[int, ...], lang_groups: tuple[int, ...] = ()) -> pl.Expr:
    """Blocks matched by `pattern` outside code as fenced code: the `code_groups` of the pattern
    (one per alternative; `lang_groups` name the language) between ``` lines."""
    shift = _code_groups()
    langs = "".join(f"${{{shift + g}}}" for g in lang_groups)
    codes = "".join(f"${{{shift + g}}}" for g in code_groups)
    # A block becomes OPEN lang "\n" code CLOSE; a code match keeps its code (group 1) and leaves
    # OPEN "\n" CLOSE, which goes, as does an empty block.
    text = text.str.replace_all(_CODE_OR + pattern, f"${{1}}{_OPEN}{langs}\n{codes}{_CLOSE}")
    text = text.str.replace_all(f"{_OPEN}\n{_CLOSE}", "", literal=True)
    return text.str.replace_all(_OPEN, "\n```", literal=True).str.replace_all(_CLOSE, "\n```\n", literal=True)


def _without_shortcodes(texts: pl.Series) -> pl.Series:
    """Shortcodes with content removed, [code] blocks fenced, the other shortcodes removed; each pass
    only on the rows where its shortcode occurs (each pass guards against code, which is slow)."""
    names = "|".join(SHORTCODES_WITH_CONTENT)
    texts = where(texts, rf"\[/(?:{names})\]", lambda t: _outside(t, rf"(?s:\[(?:{names})(?-u:\b)[^\]]*\].*?\[/(?:{names})\])"))

    code = r"(?s:\[(?:code|sourcecode)(?-u:\b)[^\]\n]*\]\n?(.*?)\n?\[/(?:code|sourcecode)\])"
    texts = where(texts, r"\[/(?:code|sourcecode)\]", lambda t: _fence_blocks(t, code, code_groups=(1,)))
    names = "|".join(re.escape(n) for n in sorted(SHORTCODES, key=len, reverse=True))
    texts = where(texts, rf"\[/?(?:{names})(?-u:\b)", lambda t: _outside(t, rf"\[/?(?:{names})(?-u:\b)[^\]\n]*\]"))
    # Any plugin's shortcodes (page builders wrap every paragraph in them): Python, on the few rows with a
    # closing tag or a tag with attributes.
    return python_per_row(texts, texts.str.contains(_SHORTCODE_HINT), lambda t: outside_code(t, without_plugin_shortcodes))


# A shortcode tag: `[name attr="value" …]`, `[name]`, `[name /]` or `[/name]`.
_SHORTCODE_HINT = r"\[/[A-Za-z][\w-]*\]|\[[A-Za-z][\w-]*[ \t]+[\w-]+=[\"']"
_SHORTCODE_TAG = re.compile(r"\[(/?)([A-Za-z][\w-]*)((?:[ \t]+[^\]\n]*?)?)[ \t]*(/?)\]")
_ATTRIBUTE = re.compile(r"""[ \t][\w-]+=(?:"[^"\n]*"|'[^'\n]*'|[^\s\]]+)""")
# Shortcodes whose content is not the writer's prose: markup or script for the page (WPBakery's raw
# blocks), or a customer's words (page builders' testimonial modules).
_RAW_SHORTCODES = re.compile(
    r"(?s)\[(vc_raw_html|vc_raw_js|et_pb_code|fusion_code|et_pb_testimonial|fusion_testimonial)(?:[ \t][^\]\n]*)?\].*?\[/\1\]"
)


def without_plugin_shortcodes(text: str) -> str:
    """WordPress shortcodes of any plugin taken out, what they wrap kept: a tag is a shortcode when it
    carries attributes (`[et_pb_text admin_label="Intro"]`), when the text closes it (`[vc_column]…[/vc_column]`),
    or when it opens with the prefix of one that is (`[et_pb_divider]` beside `[et_pb_section …]`).
    Markdown's own brackets (`[a link][1]`, `[sic]`) are none of these."""
    text = _RAW_SHORTCODES.sub("", text)
    tags = list(_SHORTCODE_TAG.finditer(text))
    closed = {m.group(2) for m in tags if m.group(1)}
    opened = {m.group(2) for m in tags if not m.group(1)}
    sure = {m.group(2) for m in tags if not m.group(1) and _ATTRIBUTE.search(m.group(3) or "")} | (closed & opened)
    prefixes = {name.split("_")[0] + "_" for name in sure if "_" in name}

    def tag(m: re.Match) -> str:
        name = m.group(2)
        if name in sure or name.startswith(tuple(prefixes)):
            return ""
        return m.group(0)

    return _SHORTCODE_TAG.sub(tag, text) if sure else text


# Static-site generators' template tags. A tag may run over a few lines, never over a blank one
# (a stray `{%` in prose must not swallow the paragraphs after it).
_TAG_BODY = r"(?:[^\n]|\n[^\n])*?\n?"
_HIGHLIGHT = (
    rf"\{{%-?\s*highlight\s+([\w+#.-]*){_TAG_BODY}-?%\}}\n?((?s:.*?))\n?\{{%-?\s*endhighlight\s*-?%\}}"
    rf"|\{{\{{<\s*highlight\s+([\w+#.-]*){_TAG_BODY}>\}}\}}\n?((?s:.*?))\n?\{{\{{<\s*/highlight\s*>\}}\}}"
)
_TEMPLATE_TAGS = "|".join(
    (
        rf"\{{%-?\s*comment\s*-?%\}}(?s:.*?)\{{%-?\s*endcomment\s*-?%\}}",  # Liquid comments go with their text
        rf"\{{\{{[<%]{_TAG_BODY}[>%]\}}\}}",  # Hugo shortcodes; paired ones keep what they wrap
        rf"\{{%{_TAG_BODY}%\}}",  # Liquid, Jekyll and Zola block tags
        r"[ \t]?\{\{-?\s*(?:site|page|post|layout|include|paginator|jekyll|content)(?:\.[\w.-]*)?(?:\s*\|[^}\n]*)?\s*-?\}\}",
        r"\{\{\s*[A-Za-z_][\w-]*\([^)\n]*\)\s*\}\}",  # Zola shortcode calls
        r"(?m:^[ \t]*\{\{[^\n]*\}\}[ \t]*$)",  # a template action alone on its line
    )
)


def _without_template_tags(texts: pl.Series) -> pl.Series:
    """Hugo, Jekyll/Liquid, Zola and Go template tags removed outside code; highlight blocks fenced."""

    def fence_then_remove(text: pl.Expr) -> pl.Expr:
        # Groups of _HIGHLIGHT: language and code of {% highlight %}, then of {{< highlight >}}.
        return _outside(_fence_blocks(text, _HIGHLIGHT, code_groups=(2, 4), lang_groups=(1, 3)), _TEMPLATE_TAGS)

    # One scan finds the few rows with a tag; the highlight blocks are fenced before the tags go.
    return where(texts, r"\{[{%]", fence_then_remove)


# ---- MDX: ECMAScript blocks, comments and JSX components in markdown ------------------------

# A component's attributes may hold expressions in braces, with braces inside (`style={{color: "red"}}`).
_JSX_ATTRIBUTES = r"(?:\s(?:[^<>{}]|\{(?:[^{}]|\{[^{}]*\})*\})*)?"
_COMPONENT = rf"</?[A-Z][\w.]*{_JSX_ATTRIBUTES}/?>|</?>"
_COMPONENT_LINE = re.compile(rf"^[ \t]*(?:{_COMPONENT}[ \t]*)+$")
_COMPONENT_PAIR = re.compile(rf"<([A-Z][\w.]*){_JSX_ATTRIBUTES}>(.*?)</\1\s*>", re.S)
_SELF_CLOSING = re.compile(rf"[ \t]?<[A-Z][\w.]*{_JSX_ATTRIBUTES}/>")
_MDX_COMMENT = re.compile(r"\{/\*.*?\*/\}", re.S)
# An import or export opening a paragraph (MDX ends such a block at a blank line).
_ESM = re.compile(
    r"^(?:import\s+(?:[\w*{}\s,]+?\s+from\s+)?[\"'][^\"'\n]+[\"'];?[ \t]*$"
    r"|export\s+(?:const|let|var|function|default|async|class)\b)",
    re.M,
)
# Rows that may hold any of it: a component's tag or a comment; a paragraph opening with import or export.
# (Two scans: each opens with a literal the regex engine finds fast; as one pattern it reads every character.)
_MDX_HINTS = (
    r"</[A-Z]|<[A-Z][\w.]*(?:\s[^<>]*)?/>|\{/\*",
    r"(?m:^(?:import\s+(?:[\w*{][^\n]*\sfrom\s+)?[\"']|export\s+(?:const|let|var|function|default|async|class)\s))",
)


def without_mdx(text: str) -> str:
    """A markdown text (outside code) without MDX's import/export blocks, comments and components:
    a component's text stays (`<Callout>Read this</Callout>` is "Read this"), a self-closing one goes,
    as does a line of nothing but tags. `Vec<T>` is no component: it has no closing tag."""
    text = _MDX_COMMENT.sub("", text)
    if "import" in text or "export" in text:
        paragraphs = re.split(r"(\n[ \t]*\n)", text)
        text = "".join(
            "" if n % 2 == 0 and _ESM.match(part.lstrip("\n")) else part for n, part in enumerate(paragraphs)
        )
    lines = [line for line in text.split("\n") if not _COMPONENT_LINE.match(line)]
    text = "\n".join(lines)
    while True:
        unwrapped = _COMPONENT_PAIR.sub(r"\2", text)
        if unwrapped == text:
            break
        text = unwrapped
    return _SELF_CLOSING.sub("", text)


def _without_mdx(texts: pl.Series) -> pl.Series:
    rows = (texts.str.contains(_MDX_HINTS[0]) | texts.str.contains(_MDX_HINTS[1])).fill_null(False)
    return python_per_row(texts, rows, lambda t: outside_code(t, without_mdx))


_BLOCK_TAG = (
    r"</?(?:p|div|ul|ol|li|h[1-6]|table|thead|tbody|tr|td|th|blockquote|pre|figure|"
    r"figcaption|section|article|header|footer|aside|hr|br|img|iframe|dl|dt|dd|center)(?-u:\b)"
)


def _looks_like_html(text: pl.Expr, prose: pl.Expr | None = None) -> pl.Expr:
    """Mostly HTML block markup, as opposed to markdown with a few tags (a block-editor post, marked
    by its `<!-- wp:` comments, is told apart before comments are removed).

    `prose`: the text without its code, when the caller has it already.
    """
    prose = text.str.replace_all(CODE, "") if prose is None else prose
    block_lines = prose.str.count_matches(rf"(?m)^[ \t]*{_BLOCK_TAG}")
    lines = prose.str.count_matches(r"(?m)^[ \t]*\S")
    markdown = prose.str.count_matches(r"(?m)^(?:#{1,6}\s|[ \t]*(?:[-*+]|\d+\.)\s)|\]\(|\]\[|^[ \t]*(?:```|~~~)")
    # WordPress HTML has next to no markdown structure; a markdown post with many tags has plenty.
    # A newsletter's or another CMS's HTML may come on one line: block tags twice as many as
    # lines, and no markdown at all (a parser would eat the generics in a markdown code span).
    dense = (prose.str.count_matches(_BLOCK_TAG) >= pl.max_horizontal(4, 2 * lines)) & (markdown == 0) & ~text.str.contains("`", literal=True)
    # WordPress's classic editor writes paragraphs as blank-line separated text between its block tags: no
    # markdown at all beside two lines opening with a list, heading, quote or table tag is HTML too (an
    # image or a line break alone is what a plain markdown post may carry).
    containers = prose.str.count_matches(r"(?m)^[ \t]*</?(?:ul|ol|li|h[1-6]|blockquote|table|tr|dl|pre)(?-u:\b)")
    classic = (containers >= 2) & (markdown == 0)
    return (((block_lines >= 2) & (block_lines >= 0.3 * lines)) & (markdown < 3)) | dense | classic


# A link's text: may wrap onto the next lines (not over a blank one) and hold one level of
# brackets (`[Pointer[T]](…)`).
_LINK_TEXT = r"(?:[^\[\]\n]|\n[^\[\]\n]|\[[^\[\]\n]*\])*"
# A link's address, with one level of parentheses inside it (`…/ms680657(v=vs.85).aspx`).
_LINK_DESTINATION = r"[^()\s>]*(?:\([^()\s]*\)[^()\s>]*)*"
# A reference definition (`[label]: https://…`) and a shortcut reference link (`[label]`, a link
# only where the text defines its label), in Python's dialect.
# (Both open with a literal, which Python's engine finds fast: the definition's line start is a
# newline put before the text, the lookbehind comes after the bracket. A label wraps once at most.)
_DEFINITION_RE = re.compile(r"\n[ \t]{0,3}\[([^\]\^\n][^\]\n]*)\]:[ \t]*\S")
_SHORTCUT_RE = re.compile(r"\[(?<![\]!\\]\[)([^\[\]\n]+(?:\n[^\[\]\n]+)?)\](?![\[(])")


def shortcut_references(text: str) -> str:
    """`[label]` as its words where the text defines `[label]: address` (markdown shows a link)."""
    labels = {" ".join(m.group(1).split()).casefold() for m in _DEFINITION_RE.finditer("\n" + text)}
    if not labels:
        return text

    def words(m: re.Match) -> str:
        label = m.group(1)
        if (label.casefold() if "\n" not in label and "  " not in label else " ".join(label.split()).casefold()) not in labels:
            return m.group(0)
        line_start = text.rfind("\n", 0, m.start()) + 1
        if text.startswith(":", m.end()) and len(text[line_start : m.start()]) <= 3 and not text[line_start : m.start()].strip():
            return m.group(0)  # the definition itself
        return label

    return _SHORTCUT_RE.sub(words, text)


# A character reference (`&ndash;`, `&#8217;`, `&#x2019;`): markdown renders it as its character.
_ENTITY = r"&(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});"


def _without_links(text: pl.Expr, settings: CleanSettings, protect_code: bool = True) -> pl.Expr:
    def outside(t: pl.Expr, pattern: str, keep_group: int | None = None) -> pl.Expr:
        return _outside(t, pattern, keep_group, protect_code)

    text = outside(text, rf"[ \t]?!\[{_LINK_TEXT}\]\((?:[^()\n]|\([^()\n]*\))*\)")  # images carry no prose
    text = outside(text, rf"[ \t]?!\[{_LINK_TEXT}\]\[[^\]\n]*\]")  # (also by reference)
    # Footnotes: a definition's words are the writer's, as a paragraph of their own; the markers go.
    text = _sub(text, r"(?m:^)[ \t]{0,3}\[\^[^\]\n]+\]:[ \t]*", "\n", protect_code)
    text = outside(text, r"\[\^[^\]\s]+\]")
    text = outside(text, rf"\[({_LINK_TEXT})\]\(\s*<?{_LINK_DESTINATION}>?(?:\s+[\"'(][^)\n]*)?\)", keep_group=1)
    text = outside(text, rf"\[({_LINK_TEXT})\]\[[^\]\n]*(?:\n[^\]\n]*)?\]", keep_group=1)  # (a label may wrap)
    text = outside(text, r"(?m:^[ \t]{0,3}\[[^\]\^\n][^\]\n]*\]:[ \t]*\S+[^\n]*(?:\n|$))")
    bare = r"<(?:https?|ftp|mailto):[^>\s]*>|" + _URL_IN_PROSE
    # An address without its scheme counts after a line start, a space or "(" only (not in
    # "org/www.site.org", a repository's name, nor in "[www.site.org]", a link's own text).
    if settings.urls == "placeholder":
        return _replace_outside(text, bare, settings.placeholder, protect_code)
    # An address in parentheses goes with them ("the spec (https://…) says"); other
    # parentheses stay as written, empty ones too ("call init() first").
    text = outside(text, rf"[ \t]?\([ \t]*(?:{bare}|{_WWW})[ \t]*\)")
    return outside(text, rf"[ \t]?(?:{bare})")


def _without_bare_www(text: pl.Expr, settings: CleanSettings, protect_code: bool = True) -> pl.Expr:
    """Addresses without their scheme (`www.site.org`), after the links step: a step of its own, for the rows
    that hold `www.` (its pattern cannot open with a literal, so a scan of every text is slow)."""
    if settings.urls == "placeholder":
        return _sub(text, rf"((?m:^)|[ \t(]){_WWW}", "${1}" + settings.placeholder.replace("$", "$$"), protect_code)
    return _outside(text, rf"(?m:^)[ \t]*{_WWW}|[ \t]{_WWW}", None, protect_code)


# A line that starts a block of its own (list item, heading, quote, table row, tag, fence, link
# definition, indented code, setext underline): it is never joined to the line above.
_BLOCK_START = (
    r"^[ \t]*(?:[-*+][ \t]|\d+[.)][ \t]|#|>|\||<|```|~~~|\[[^\]\n]+\]:)|^(?: {4}|\t)|^[ \t]*(?:=+|-+)[ \t]*$"
)
# A line after which a new line starts anyway: heading, table row, tag, quote, fence, indented code,
# setext underline, hard break (two spaces or a backslash at its end).
_BLOCK_END = r"^[ \t]*(?:#|\||<|>|```|~~~)|^(?: {4}|\t)|^[ \t]*(?:=+|-+)[ \t]*$|\\$|  $"
# A text with a line that goes on mid-sentence (a lower-case word or an opening bracket or quote).
_WRAPPED = r"[^\n]\n[ \t]{0,3}[\p{Ll}(\"'“‘]"


def _above(column: str) -> pl.Expr:
    """The column's value on the line above."""
    return pl.col(column).shift(1)


def unwrap_paragraphs(texts: pl.Series) -> pl.Series:
    """Each paragraph and list item on one line, as markdown reads it; code blocks keep their lines."""
    rows = texts.str.contains(_WRAPPED).fill_null(False).arg_true()
    if len(rows) == 0:
        return texts
    joined = (
        lines_with_code(texts, rows)
        .with_columns(
            blank=pl.col("line").str.contains(r"^[ \t]*$"),
            starts=pl.col("line").str.contains(_BLOCK_START),
            ends=pl.col("line").str.contains(_BLOCK_END),
        )
        .with_columns(
            join=(_above("row") == pl.col("row"))
            & ~pl.col("blank") & ~pl.col("code") & ~pl.col("starts")
            & ~_above("blank") & ~_above("code") & ~_above("ends")
        )
        .select(
            "row",
            # \x01 (control characters are gone by now) marks a join: the spaces around it become one.
            piece=pl.when("join")
            .then(pl.concat_str(pl.lit("\x01"), pl.col("line")))
            .otherwise(pl.concat_str(pl.lit("\n"), pl.col("line"))),
        )
        .group_by("row", maintain_order=True)
        .agg(pl.col("piece").str.join(""))
    )
    # Each text's first piece opens with "\n".
    return texts.scatter(joined["row"], joined["piece"].str.slice(1).str.replace_all(r"[ \t]*\x01[ \t]*", " "))


def _single_spaces(text: pl.Expr) -> pl.Expr:
    """Runs of spaces inside a line as one space, and no single space before a line's first word
    (what opened the line went); indentation and a line break's two spaces stay."""
    return (
        text.str.replace_all(r" {2,}\n", "\x02\n")
        .str.replace_all(r"([^ \n]) {2,}", "${1} ")
        .str.replace_all(r"\n ([^ \n])", "\n${1}")  # (a text's own first line is stripped later)
        .str.replace_all("\x02", "  ", literal=True)
    )


def _tidy_whitespace(texts: pl.Series) -> pl.Series:
    """No spaces at a line's end, at most one blank line in a row, none around the text."""
    # (Spaces at a line's end are found by two literal scans: the pattern itself reads every text slowly.)
    ends = (texts.str.contains(" \n", literal=True) | texts.str.contains("\t\n", literal=True)).fill_null(False).arg_true()
    if len(ends):
        texts = texts.scatter(ends, texts.gather(ends).str.replace_all(r"(?m)[ \t]+$", ""))
    return texts.str.replace_all(r"\n{3,}", "\n\n").str.strip_chars()


# Characters that NFC may change or combine with what precedes them: marks, and the
# non-mark characters with NFC_Quick_Check No or Maybe (Hangul vowel and final jamo, singletons
# such as the Ohm and Kelvin signs, CJK compatibility ideographs). A text without them is NFC.
_NFC_CANDIDATES = (
    "0374 037E 0387 0958-095F 09DC-09DD 09DF 0A33 0A36 0A59-0A5B 0A5E 0B5C-0B5D 0F43 0F4D 0F52 0F57 0F5C 0F69 "
    "1161-1175 11A8-11C2 1F71 1F73 1F75 1F77 1F79 1F7B 1F7D 1FBB 1FBE 1FC9 1FCB 1FD3 1FDB 1FE3 1FEB 1FEE-1FEF "
    "1FF9 1FFB 1FFD 2000-2001 2126 212A-212B 2329-232A 2ADC F900-FAD9 FB1D FB1F FB2A-FB4E 1D15E-1D164 "
    "1D1BB-1D1C0 2F800-2FA1D"
)


def _class_item(item: str) -> str:
    low, _, high = item.partition("-")
    return rf"\x{{{low}}}" + (rf"-\x{{{high}}}" if high else "")


_NOT_SURELY_NFC = r"[\p{M}" + "".join(_class_item(item) for item in _NFC_CANDIDATES.split()) + "]"


_NO_BREAK_SPACES = "\u00a0\u2007\u202f"
_INVISIBLE = "\u200b\u2060\ufeff\u00ad"

# Records cleaned at once: bounds the memory of the intermediate copies every pass makes.
CLEAN_CHUNK = 2048


def text_key(texts: pl.Series, *, normalized: bool = False) -> pl.Series:
    """The text after Unicode NFC and collapsing whitespace, hashed: equal keys are exact duplicates.

    normalized: the texts are NFC already (the cleaners normalise them first and keep this key).
    """
    texts = texts.fill_null("")
    if not normalized:
        # NFC only where a character NFC could change is (normalising every text costs seconds per 100 MB).
        texts = where(texts, _NOT_SURELY_NFC, lambda t: t.str.normalize("NFC"), beyond_ascii=True)
    # Only whitespace runs that are not already one space are rewritten: far fewer replacements.
    return texts.str.replace_all(r"[^\S ]\s*| \s+", " ").str.strip_chars().hash(seed=7).alias("text_key")


# What two exports of one text write differently: markdown's marks (emphasis, list items, headings,
# quotes and tables written two ways, kept in markdown and made by the HTML renderer), typographic
# quotes, and an ordered list's numbers (markdown may number every item "1.", HTML counts them).
_MARKS_AND_QUOTES = "(?m)^[ \\t]*[0-9]{1,9}[.)][ \\t]|[*_#>=+|\\-\"'‘’“”]"


# HTML documents a corpus needs before they are rendered in processes of their own (each process
# starts a Python and imports housevoice: about a second and 100 MB), and the most processes.
PROCESS_MIN_DOCUMENTS = 1000
MAX_DOCUMENT_PROCESSES = 8


def _document_processes(texts: pl.Series, processes: int) -> Executor | None:
    """Processes to render HTML documents in, when there are two or more to use and documents enough.

    Python renders a document holding its lock, so threads cannot share that work. (A daemonic process,
    such as a worker of datatrove's local executor, may not start processes.)"""
    if processes < 2 or multiprocessing.current_process().daemon:
        return None
    # A closing tag is a cheap sign of a document (a markdown post with a tag or two is let through too:
    # the processes start only once documents are sent to them).
    if int(texts.str.contains("</", literal=True).fill_null(False).sum()) < PROCESS_MIN_DOCUMENTS:
        return None
    return ProcessPoolExecutor(
        min(processes, MAX_DOCUMENT_PROCESSES),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_leave_interrupts_to_the_parent,
    )


def _leave_interrupts_to_the_parent() -> None:
    """Ctrl-C reaches every process of the terminal's group: the parent stops the work and says so,
    its rendering processes go quietly when it shuts them down (no traceback from each)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def clean_frame(
    frame: pl.DataFrame,
    settings: CleanSettings | None = None,
    workers: int | None = None,
    processes: int = 0,
    cache: TextCache | None = None,
) -> pl.DataFrame:
    """`frame` (with a `text` column) plus `clean_text`, after the configured cleaners, `text_key`
    (the duplicate finder's exact key, taken from the NFC text the cleaners make on the way),
    `content_key` (the same key of the clean text, emphasis marks and quotes aside: two exports of one
    writing share it) and
    `boilerplate` (what the boilerplate cleaner took out, or null).

    The texts are cleaned in chunks, `workers` at once (default: the CPUs this process may use):
    polars lets go of Python's lock, so the vectorised passes of the chunks run side by side.
    `processes` (2 or more): HTML documents are rendered in that many processes (at most
    `MAX_DOCUMENT_PROCESSES`), when there are `PROCESS_MIN_DOCUMENTS` of them. They are started the
    "spawn" way, which imports the program's main module again: a script that asks for them must
    guard its work with `if __name__ == "__main__":`.
    `cache` (`clean_cache`): texts cleaned at an earlier run are taken from it, and this run's new
    texts are kept in it (so are the content keys, in a cache beside it).
    """
    settings = settings or CleanSettings()
    texts = frame["text"]
    # WordPress shows a line break where a classic-editor post has one (wpautop): its lines are not
    # an editor's wrapping.
    own_lines = (
        frame["source"].cast(pl.String).str.starts_with("wordpress:").fill_null(False)
        if "source" in frame.columns
        else pl.Series([False] * frame.height, dtype=pl.Boolean)
    )
    pieces = pl.DataFrame({"text": texts, "own_lines": own_lines})
    if cache is None:
        cleaned, keys = _clean_pieces(pieces, settings, workers, processes)
    else:
        def compute(todo: pl.Series) -> pl.DataFrame:
            clean, key = _clean_pieces(chosen(pieces, todo), settings, workers, processes)
            return pl.DataFrame({"clean": clean, "text_key": key})

        known = cache.rows(texts, compute, own_lines)
        cleaned, keys = known["clean"], known["text_key"]
    cleaned, keys = cleaned.alias("clean_text"), keys.alias("text_key")
    said = pl.Series("boilerplate", [None] * frame.height, dtype=pl.String)
    kinds = frame["kind"].cast(pl.String) if "kind" in frame.columns else pl.Series([None] * frame.height, dtype=pl.String)
    eligible = ~kinds.is_in(settings.boilerplate_skip_kinds).fill_null(False)
    if settings.remove_mailing_footers:
        cleaned, said = remove_mailing_footers(cleaned, eligible)
    if settings.remove_boilerplate:
        cleaned, site = remove_boilerplate(
            cleaned,
            keys,
            frame["title"].cast(pl.String) if "title" in frame.columns else None,
            eligible,
            frame["author"].cast(pl.String) if "author" in frame.columns else None,
            min_share=settings.boilerplate_min_share,
            min_posts=settings.boilerplate_min_posts,
        )
        # One sentence per record: what the mailing tool wrote, then what the site did.
        both = pl.concat_str([pl.lit(said), pl.lit(site)], separator=" ", ignore_nulls=True)
        said = pl.select(pl.when(both != "").then(both)).to_series().alias("boilerplate")
    # One writing in two exports (HTML and markdown, other tracking links, another byline, typographic
    # quotes) has one clean text, emphasis marks and quotes aside: series count such copies once.
    # An exact duplicate stays the same raw text.
    def content_keys(texts: pl.Series) -> pl.Series:
        return pl.concat(
            in_slices(texts, CLEAN_CHUNK, lambda part: text_key(part.str.replace_all(_MARKS_AND_QUOTES, ""), normalized=True), workers)
        )

    if cache is None:
        content = content_keys(cleaned)
    else:  # (a hash of each clean text finds its key faster than the key is made)
        keys_cache = TextCache(cache.folder, "content", fingerprint("", ("clean.py",), ("polars",)), {"content_key": pl.UInt64})
        content = keys_cache.rows(cleaned, lambda todo: pl.DataFrame({"content_key": content_keys(chosen(cleaned, todo))}))["content_key"]
        cache.notes.extend(keys_cache.notes)
    content = content.alias("content_key")
    return frame.with_columns(cleaned.alias("clean_text"), keys, content, said)


# The modules whose code makes a clean text, and what they run on: a change makes every cached text stale.
_CLEANER_MODULES = ("clean.py", "code_masks.py", "markup.py")


def clean_cache(folder: Path, settings: CleanSettings) -> TextCache:
    """The cache of clean texts in a workspace's cache folder, for these settings (see `text_cache`)."""
    return TextCache(
        folder, "clean", fingerprint(settings.model_dump_json(), _CLEANER_MODULES, ("polars", "selectolax")),
        {"clean": pl.String, "text_key": pl.UInt64},
    )


def _clean_pieces(pieces: pl.DataFrame, settings: CleanSettings, workers: int | None, processes: int) -> tuple[pl.Series, pl.Series]:
    """(clean_text, text_key) of the pieces' texts (`text`, `own_lines`), in slices side by side."""
    pool = _document_processes(pieces["text"], processes) if settings.html_to_text else None
    try:
        done = in_slices(pieces, CLEAN_CHUNK, lambda part: _clean(part["text"], settings, part["own_lines"], pool), workers)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return pl.concat([c for c, _ in done]), pl.concat([k for _, k in done])


def clean_texts(texts: pl.Series, settings: CleanSettings) -> pl.Series:
    """The texts after the configured cleaners, in order."""
    return _clean(texts, settings)[0]


def _clean(
    texts: pl.Series, settings: CleanSettings, own_lines: pl.Series | None = None, pool: Executor | None = None
) -> tuple[pl.Series, pl.Series]:
    """(clean_text, text_key) of the texts: what `clean_frame` runs per worker.

    own_lines: rows whose line breaks are the writer's (never unwrapped as markdown); pool: processes
    that render HTML documents."""
    keep_links = settings.urls == "keep"
    # Line ends, control characters and no-break spaces: one scan finds the few rows that have any.
    texts = where(
        texts.fill_null(""),
        r"[\r\x00-\x08\x0B\x0C\x0E-\x1F\x7F\u00a0\uFFFD\ue000\ue001]",
        lambda t: t.str.replace_all(r"\r\n?", "\n")
        .str.replace_all(r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F\uFFFD\ue000\ue001]", "")
        .str.replace_all("\u00a0", " ", literal=True),
    )
    texts = where(texts, _NOT_SURELY_NFC, lambda t: t.str.normalize("NFC"), beyond_ascii=True)
    keys = text_key(texts, normalized=True)
    if settings.remove_shortcodes:
        texts = _without_shortcodes(texts)
    if settings.remove_template_tags:
        texts = _without_template_tags(texts)
    if settings.remove_mdx:
        texts = _without_mdx(texts)
    if settings.remove_embeds:
        embed = r"(?m:^[ \t]*https?://\S+[ \t]*$)"
        texts = where(texts, embed, lambda t: _outside(t, embed))
    # The block editor marks each block with a comment: such a post is an HTML document (read before comments go).
    blocks = texts.str.contains("<!-- wp:", literal=True).fill_null(False)
    texts = where(texts, "<!--", lambda t: _outside(t, r"(?s:<!--.*?-->)"))
    if settings.html_to_text:
        # Python only where it is needed: HTML documents, and markdown with tags in it.
        # Without a `<` there is no tag: most markdown posts skip the scan.
        angled = texts.str.contains("<", literal=True).fill_null(False)
        with_angle = texts.filter(angled)
        prose = with_angle.str.replace_all(CODE, "")
        # A document has block tags: only those rows are measured.
        blocky = prose.str.contains(_BLOCK_TAG).fill_null(False)
        document = pl.select(_looks_like_html(pl.lit(with_angle.filter(blocky)), pl.lit(prose.filter(blocky)))).to_series()
        rows = angled.arg_true()
        marked = {
            "is_html": pl.Series([False] * len(texts), dtype=pl.Boolean).scatter(rows.filter(blocky), document.fill_null(False)),
            "has_tags": pl.Series([False] * len(texts), dtype=pl.Boolean).scatter(rows, prose.str.contains(HTML_TAG).fill_null(False)),
        }
        is_html = marked["is_html"] | blocks
        texts = python_per_row(texts, marked["is_html"] & ~blocks, functools.partial(html_to_text, keep_links=keep_links), pool)
        texts = python_per_row(texts, blocks, functools.partial(html_to_text, keep_links=keep_links, classic=False), pool)
        # Markdown with tags, or with character references (unescaped by the same step).
        entities = texts.str.contains(_ENTITY).fill_null(False)
        inline = ((marked["has_tags"] | entities) & ~is_html).fill_null(False)
    else:
        inline = is_html = pl.Series([False] * len(texts), dtype=pl.Boolean)
    # Inline tags, then links: both outside code, with the code masked once for the two.
    # An ordered list's numbers first (a Python step): the inline step makes other items "- ".
    ordered = texts.str.contains("(?i)<ol").fill_null(False) & inline
    steps = [
        (ordered, lambda t, guard: t, numbered_items),
        (inline, lambda t, guard: _inline_html(t, keep_links, guard), html.unescape),
    ]
    if not keep_links:
        # Tagged rows too: unescaping may have written a bracket or an address.
        links = texts.str.contains(r"\[|https?://|ftp:|mailto:|www\.").fill_null(False) | inline
        # Shortcut references first: the links step removes the definitions that make them links.
        defined = texts.str.contains(r"(?m)^[ \t]{0,3}\[[^\]\^\n][^\]\n]*\]:[ \t]*\S").fill_null(False)
        steps.append((defined, lambda t, guard: t, shortcut_references))
        steps.append((links, lambda t, guard: _without_links(t, settings, guard), None))
        www = texts.str.contains("www.", literal=True).fill_null(False) | inline
        steps.append((www, lambda t, guard: _without_bare_www(t, settings, guard), None))
    # (An HTML document's text nodes meeting at a tag leave spaces too: "inserted </ins> text".)
    touched = (inline if keep_links else links) | is_html
    if settings.unescape_markdown:
        escaped = texts.str.contains(_ESCAPE).fill_null(False)
        steps.append((escaped, lambda t, guard: _outside(t, _ESCAPE, keep_group=1, protect_code=guard), None))
    if settings.remove_transcript_marks:
        marks = where_found(texts, _MAY_HOLD_MARK, _TRANSCRIPT_MARK)
        steps.append((marks, _without_transcript_marks, None))
        touched = touched | marks
    # What went from mid-line (an image, a tag, an address, a timestamp) leaves two spaces: one is enough
    # (spaces that end a line are a markdown line break). Masked rows only: there code is a mark, so its
    # own spacing stays as it is.
    steps.append((touched, lambda t, guard: t if guard else _single_spaces(t), None))
    texts = rewrite_outside_code(texts, steps)
    if keep_links and settings.drop_tracking_params:
        texts = python_per_row(
            texts, texts.str.contains(_TRACKING), lambda t: _URL_RE.sub(lambda m: drop_tracking_params(m.group()), t)
        )
    # Character references and the HTML parser write no-break spaces; invisible characters
    # (zero-width space, word joiner, byte-order mark, soft hyphen) are no one's words either.
    # (Zero-width joiners stay: emoji sequences and some scripts need them.)
    texts = where(
        texts,
        f"[{_NO_BREAK_SPACES}{_INVISIBLE}]",
        lambda t: t.str.replace_all(f" *[{_NO_BREAK_SPACES}][{_NO_BREAK_SPACES} ]*", " ").str.replace_all(f"[{_INVISIBLE}]", ""),
        beyond_ascii=True,
    )
    if settings.unwrap_paragraphs:
        # Markdown only: the lines of an HTML document's text are its own line breaks (<br>).
        markdown = (~is_html if own_lines is None else ~is_html & ~own_lines).arg_true()
        texts = texts.scatter(markdown, unwrap_paragraphs(texts.gather(markdown)))
    return _tidy_whitespace(texts).alias("clean_text"), keys


def clean_text(text: str, settings: CleanSettings | None = None) -> str:
    """One text through the same cleaners as `clean_frame`."""
    return clean_frame(pl.DataFrame({"text": [text]}, schema={"text": pl.String}), settings)["clean_text"][0]
