"""The cleaners: raw text to clean_text (HTML to text, shortcodes, links, URLs, whitespace)."""

from __future__ import annotations

import html
import os
import re
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import polars as pl
from pydantic import Field
from selectolax.lexbor import LexborHTMLParser, LexborNode

from housevoice.curate.base import FlaggerSettings
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
        True, description="remove WordPress shortcodes such as [caption]…[/caption], [gallery] and [embed]…[/embed]"
    )
    remove_embeds: bool = Field(True, description="remove a web address alone on its line (WordPress shows it as an embed)")
    html_to_text: bool = Field(True, description="turn HTML markup into plain text with paragraphs, lists and code blocks")


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
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_MAX_DEPTH = 300
_LANGUAGE = re.compile(r"(?:language-|lang-|brush:\s*)([\w+#-]+)")


def _language(node: LexborNode) -> str:
    for candidate in (node, node.css_first("code")):
        if candidate is not None:
            found = _LANGUAGE.search(candidate.attributes.get("class") or "")
            if found:
                return found.group(1)
    return ""


class _HtmlRenderer:
    """Walks the parsed tree once; returns text in markdown shape (paragraphs, `- item`, ```)."""

    def __init__(self, keep_links: bool, autop: bool):
        self.keep_links = keep_links
        # Without <p> tags a blank line is the paragraph break (WordPress's classic editor).
        self.autop = autop

    def children(self, node: LexborNode, depth: int) -> str:
        return "".join(self.render(child, depth + 1) for child in node.iter(include_text=True))

    def text(self, value: str) -> str:
        if self.autop:
            return re.sub(r"[ \t]*\n[ \t]*", "\n", re.sub(r"[ \t\r\f\v]+", " ", value))
        return re.sub(r"\s+", " ", value)

    def render(self, node: LexborNode, depth: int = 0) -> str:
        tag = node.tag
        if tag == "-text":
            return self.text(node.text_content or "")
        if tag in _SKIPPED:
            return ""
        if depth > _MAX_DEPTH:  # pathological nesting: plain text is better than a crash
            return " " + (node.text(deep=True) or "") + " "
        if tag == "br":
            return "\n"
        if tag == "pre":
            code = (node.text(deep=True) or "").strip("\n")
            return f"\n\n```{_language(node)}\n{code}\n```\n\n"
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
            inner = self.children(node, depth).strip()
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
        rows = []
        for row in node.css("tr"):
            cells = [
                " ".join(self.children(cell, depth + 1).split())
                for cell in row.iter(include_text=False)
                if cell.tag in ("td", "th")
            ]
            if any(cells):
                rows.append("| " + " | ".join(cells) + " |")
        return "\n\n" + "\n".join(rows) + "\n\n"


def html_to_text(text: str, keep_links: bool = False) -> str:
    """An HTML document as markdown-shaped plain text (selectolax parses, we walk the tree)."""
    tree = LexborHTMLParser(text)
    body = tree.body
    if body is None:
        return ""
    autop = re.search(r"<p[\s>]", text, re.IGNORECASE) is None
    rendered = _HtmlRenderer(keep_links, autop).children(body, 0)
    rendered = re.sub(r"[ \t]+\n", "\n", rendered)
    rendered = re.sub(r"\n[ \t]*\n[ \t]+", "\n\n", rendered)
    return re.sub(r"\n{3,}", "\n\n", rendered).strip()


# ---- markdown with a few inline tags: only the known HTML vocabulary is touched -----------

_CODE_RE = re.compile(CODE)
_DROPPED_ELEMENTS = re.compile(r"<(script|style|iframe|noscript|object|svg|video|audio)\b.*?</\1\s*>", re.I | re.S)
_LINK = re.compile(r"<a\s[^<>]*?href\s*=\s*[\"']([^\"']*)[\"'][^<>]*>(.*?)</a\s*>", re.I | re.S)
_LIST_ITEM = re.compile(r"^[ \t]*<li\b[^<>]*>[ \t]*", re.I | re.M)
_LINE_BREAK = re.compile(r"<br\s*/?>|</?(?:p|div|h[1-6]|ul|ol|table|tr|blockquote|details|summary|figure)\b[^<>]*>", re.I)
_ANY_TAG = re.compile(HTML_TAG)


def _inline_html_to_text(segment: str, keep_links: bool) -> str:
    # Hand-written because a markdown post is not an HTML document: a parser would eat
    # generics like Vec<T> and re-wrap paragraphs. Only known element names are touched.
    segment = _DROPPED_ELEMENTS.sub("", segment)
    segment = _LINK.sub((lambda m: f"[{m.group(2)}]({m.group(1)})") if keep_links else (lambda m: m.group(2)), segment)
    segment = _LIST_ITEM.sub("- ", segment)
    segment = _LINE_BREAK.sub("\n", segment)
    segment = _ANY_TAG.sub("", segment.replace("\\<", "\x00")).replace("\x00", "\\<")
    return html.unescape(segment)


def outside_code(text: str, change) -> str:
    """Apply `change` to every stretch of markdown text that is not a code block or span."""
    parts, last = [], 0
    for found in _CODE_RE.finditer(text):
        parts.append(change(text[last : found.start()]))
        parts.append(found.group())
        last = found.end()
    parts.append(change(text[last:]))
    return "".join(parts)


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


def _without_shortcodes(text: pl.Expr) -> pl.Expr:
    names = "|".join(SHORTCODES_WITH_CONTENT)
    text = _outside(text, rf"(?s:\[(?:{names})(?-u:\b)[^\]]*\].*?\[/(?:{names})\])")
    code = r"(?s:\[(?:code|sourcecode)(?-u:\b)[^\]\n]*\]\n?(.*?)\n?\[/(?:code|sourcecode)\])"
    text = text.str.replace_all(_CODE_OR + code, f"${{1}}{_OPEN}${{{_code_groups() + 1}}}{_CLOSE}")
    text = text.str.replace_all(f"{_OPEN}{_CLOSE}", "", literal=True)
    text = text.str.replace_all(_OPEN, "\n```\n", literal=True).str.replace_all(_CLOSE, "\n```\n", literal=True)
    names = "|".join(re.escape(n) for n in sorted(SHORTCODES, key=len, reverse=True))
    return _outside(text, rf"\[/?(?:{names})(?-u:\b)[^\]\n]*\]")


def _looks_like_html(text: pl.Expr, prose: pl.Expr | None = None) -> pl.Expr:
    """Mostly HTML block markup (or WordPress blocks), as opposed to markdown with a few tags.

    `prose`: the text without its code, when the caller has it already.
    """
    prose = text.str.replace_all(CODE, "") if prose is None else prose
    block_lines = prose.str.count_matches(
        r"(?m)^[ \t]*</?(?:p|div|ul|ol|li|h[1-6]|table|thead|tbody|tr|td|th|blockquote|pre|figure|"
        r"figcaption|section|article|header|footer|aside|hr|br|img|iframe|dl|dt|dd|center)(?-u:\b)",
        literal=False,
    )
    lines = prose.str.count_matches(r"(?m)^[ \t]*\S")
    markdown = prose.str.count_matches(r"(?m)^(?:#{1,6}\s|[ \t]*(?:[-*+]|\d+\.)\s)|\]\(|\]\[|^[ \t]*(?:```|~~~)")
    # WordPress HTML has next to no markdown structure; a markdown post with many tags has plenty.
    mostly_tags = (block_lines >= 2) & (block_lines >= 0.3 * lines) & (markdown < 3)
    return text.str.contains("<!-- wp:", literal=True) | mostly_tags


def _without_links(text: pl.Expr, settings: CleanSettings, protect_code: bool = True) -> pl.Expr:
    def outside(t: pl.Expr, pattern: str, keep_group: int | None = None) -> pl.Expr:
        return _outside(t, pattern, keep_group, protect_code)

    text = outside(text, r"!\[[^\]\n]*\]\([^)\n]*\)")  # images carry no prose
    text = outside(text, r"\[([^\]\n]*)\]\(\s*<?[^)\s>]*>?(?:\s+[\"'(][^)\n]*)?\)", keep_group=1)
    text = outside(text, r"\[([^\]\n]+)\]\[[^\]\n]*\]", keep_group=1)
    text = outside(text, r"(?m:^[ \t]{0,3}\[[^\]\^\n][^\]\n]*\]:[ \t]*\S+[^\n]*(?:\n|$))")
    bare = r"<(?:https?|ftp|mailto):[^>\s]*>|" + _URL_IN_PROSE
    if settings.urls == "placeholder":
        text = _replace_outside(text, bare, settings.placeholder, protect_code)
    else:
        text = outside(text, rf"[ \t]?(?:{bare})")
    return outside(text, r" ?\(\)")


# Stands in for each code block or span while prose is rewritten; the backtick keeps address
# and word patterns stopping where they stopped at the code itself.
_CODE_MARK = "`\ue002"


def _where_code_masked(texts: pl.Series, pattern: str, change) -> pl.Series:
    """Run `change(expr, protect_code)` on the rows where `pattern` occurs, with their code masked.

    Masking once and running plain patterns is several times faster than guarding every pattern
    with the code alternative; a row whose masks do not all survive is redone the guarded way.
    """
    rows = texts.str.contains(pattern).fill_null(False).arg_true()
    if len(rows) == 0:
        return texts
    chosen = texts.gather(rows)
    codes = chosen.str.extract_all(CODE).to_list()
    masked = chosen.str.replace_all(_CODE_MARK, "", literal=True).str.replace_all(CODE, _CODE_MARK)
    changed = pl.select(change(pl.lit(masked), False)).to_series().to_list()
    redo = []
    for i, (text, code) in enumerate(zip(changed, codes)):
        parts = text.split(_CODE_MARK)
        if len(parts) != len(code) + 1:
            redo.append(i)
            continue
        changed[i] = "".join(piece for pair in zip(parts, [*code, ""]) for piece in pair)
    if redo:
        again = pl.select(change(pl.lit(chosen.gather(redo)), True)).to_series().to_list()
        for i, text in zip(redo, again):
            changed[i] = text
    return texts.scatter(rows, pl.Series(changed, dtype=pl.String))


def _tidy_whitespace(text: pl.Expr) -> pl.Expr:
    return (
        text.str.replace_all(r"(?m)[ \t]+$", "")
        .str.replace_all(r"\n{3,}", "\n\n")
        .str.strip_chars()
    )


def _python_per_row(texts: pl.Series, mask: pl.Series, change) -> pl.Series:
    rows = mask.fill_null(False).arg_true()
    if len(rows) == 0:
        return texts
    return texts.scatter(rows, [change(t) for t in texts.gather(rows).to_list()])


def _nfc(text: str) -> str:
    # The quick check is several times cheaper than normalising, and most texts already are NFC.
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def _where(texts: pl.Series, pattern: str, change) -> pl.Series:
    """Run the expression `change` only on the rows where `pattern` occurs (most rows have none)."""
    rows = texts.str.contains(pattern).fill_null(False).arg_true()
    if len(rows) == 0:
        return texts
    changed = pl.select(change(pl.lit(texts.gather(rows)))).to_series()
    return texts.scatter(rows, changed)


# Records cleaned at once: bounds the memory of the intermediate copies every pass makes.
CLEAN_CHUNK = 2048


def clean_frame(frame: pl.DataFrame, settings: CleanSettings | None = None, workers: int | None = None) -> pl.DataFrame:
    """`frame` (with a `text` column) plus `clean_text`, after the configured cleaners.

    The texts are cleaned in chunks, `workers` at once (default: the CPUs this process may use):
    polars lets go of Python's lock, so the vectorised passes of the chunks run side by side.
    """
    settings = settings or CleanSettings()
    workers = workers or len(os.sched_getaffinity(0))
    texts = frame["text"]
    if frame.height <= CLEAN_CHUNK:
        return frame.with_columns(clean_text=clean_texts(texts, settings))
    parts = [texts.slice(start, CLEAN_CHUNK) for start in range(0, frame.height, CLEAN_CHUNK)]
    with ThreadPoolExecutor(max(1, workers)) as pool:
        cleaned = list(pool.map(clean_texts, parts, [settings] * len(parts)))
    return frame.with_columns(clean_text=pl.concat(cleaned))


def clean_texts(texts: pl.Series, settings: CleanSettings) -> pl.Series:
    """The texts after the configured cleaners, in order (what `clean_frame` runs per worker)."""
    keep_links = settings.urls == "keep"
    texts = pl.select(
        texts.fill_null("")
        .str.replace_all(r"\r\n?", "\n")
        .str.replace_all(r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F\uFFFD\ue000\ue001]", "")
        .str.replace_all("\u00a0", " ", literal=True)
    ).to_series()
    texts = _python_per_row(texts, texts.str.contains(r"[^\x00-\x7F]"), _nfc)
    if settings.remove_shortcodes:
        names = "|".join(re.escape(n) for n in SHORTCODES + ("code", "sourcecode"))
        texts = _where(texts, rf"\[/?(?:{names})(?-u:\b)", _without_shortcodes)
    if settings.remove_embeds:
        embed = r"(?m:^[ \t]*https?://\S+[ \t]*$)"
        texts = _where(texts, embed, lambda t: _outside(t, embed))
    texts = _where(texts, "<!--", lambda t: _outside(t, r"(?s:<!--.*?-->)"))
    if settings.html_to_text:
        # Python only where it is needed: HTML documents, and markdown with tags in it.
        # Without a `<` there is no tag: most markdown posts skip the scan.
        angled = texts.str.contains("<", literal=True).fill_null(False)
        with_angle = texts.filter(angled)
        prose = with_angle.str.replace_all(CODE, "")
        tagged = pl.select(is_html=_looks_like_html(pl.lit(with_angle), pl.lit(prose)), has_tags=pl.lit(prose).str.contains(HTML_TAG))
        rows = angled.arg_true()
        marked = {
            name: pl.Series([False] * len(texts), dtype=pl.Boolean).scatter(rows, tagged[name].cast(pl.Boolean).fill_null(False))
            for name in ("is_html", "has_tags")
        }
        texts = _python_per_row(texts, marked["is_html"], lambda t: html_to_text(t, keep_links))
        texts = _python_per_row(
            texts,
            marked["has_tags"] & ~marked["is_html"],
            lambda t: outside_code(t, lambda s: _inline_html_to_text(s, keep_links)),
        )
    if keep_links and settings.drop_tracking_params:
        texts = _python_per_row(
            texts, texts.str.contains(_TRACKING), lambda t: _URL_RE.sub(lambda m: drop_tracking_params(m.group()), t)
        )
    elif not keep_links:
        texts = _where_code_masked(texts, r"\[|https?://|ftp:|mailto:", lambda t, guard: _without_links(t, settings, guard))
    return pl.select(_tidy_whitespace(pl.lit(texts))).to_series().alias("clean_text")


def clean_text(text: str, settings: CleanSettings | None = None) -> str:
    """One text through the same cleaners as `clean_frame`."""
    return clean_frame(pl.DataFrame({"text": [text]}, schema={"text": pl.String}), settings)["clean_text"][0]
