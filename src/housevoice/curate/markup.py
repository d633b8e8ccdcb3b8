"""Flaggers for markup left in the raw text: HTML tags (`html`) and web addresses (`url`)."""

from __future__ import annotations

import html
import re

import polars as pl
from pydantic import Field

from housevoice.curate.base import FlaggerSettings, FlagResult, TextFlagger

# Code regions in markdown, in the regex dialect polars runs (no backreferences, no
# lookaround): fenced blocks (```` before ```, so a longer fence can hold a shorter one;
# or ~~~) first, then inline code spans.
FENCED_CODE = (
    r"(?ms:^[ \t]*(?:````[^`\n]*\n.*?^[ \t]*````[`~]*|```[^`\n]*\n.*?^[ \t]*```[`~]*"
    r"|~~~[^\n]*\n.*?^[ \t]*~~~[`~]*)[ \t]*$)"
)
INLINE_CODE = r"``[^\n]+?``|`[^`\n]+`"
CODE = f"(?:{FENCED_CODE})|(?:{INLINE_CODE})"

# The web address grammar every stage shares: a scheme, then anything up to whitespace,
# brackets, quotes or backticks (which end a URL in markdown and HTML alike).
URL = r"https?://[^\s<>()\[\]\"'`]+"

# HTML elements that mean markup wherever they appear as a tag.
HTML_ELEMENTS = (
    "a abbr aside audio b bdi bdo blockquote br caption center cite code col colgroup dd del "
    "details dfn div dl dt em embed figcaption figure font h1 h2 h3 h4 h5 h6 hr i iframe img "
    "ins kbd li math mfrac mi mn mo mrow mspace msub msup mtable mtd mtext mtr noscript ol p "
    "picture pre progress q rp rt ruby s samp script small span strong style sub summary sup "
    "svg table tbody td tfoot th thead tr tt u ul video"
).split()
# Elements whose names are also words people write as placeholders (`<source>`, `<input>`,
# `<time>`): they count only as a closing tag or with an attribute.
PLACEHOLDER_ELEMENTS = (
    "address area article base big body button canvas data dialog fieldset footer form head "
    "header html label legend link main map mark marquee meta meter nav object option output "
    "param section select slot source strike template textarea time title track var wbr"
).split()


def _alternation(names: list[str]) -> str:
    return "|".join(sorted(names, key=len, reverse=True))


_LOWER = _alternation(HTML_ELEMENTS)
# Upper-case tags are HTML only with two letters or more: `<T>`/`<A>` are generics in prose.
_UPPER = _alternation([n.upper() for n in HTML_ELEMENTS if len(n) > 1])
_SINGLE_UPPER = _alternation([n.upper() for n in HTML_ELEMENTS if len(n) == 1])
_PLACEHOLDER = _alternation(PLACEHOLDER_ELEMENTS)
_ATTRIBUTE = r"[A-Za-z:-]+\s*=\s*[\"'][^<>]*>"

HTML_TAG = (
    rf"</?(?:{_LOWER}|{_UPPER})(?:\s+[^<>]*)?/?>"
    rf"|<(?:{_SINGLE_UPPER})\s+{_ATTRIBUTE}"
    rf"|</(?:{_PLACEHOLDER})\s*>|<(?:{_PLACEHOLDER})\s+{_ATTRIBUTE}"
)
_TAG_NAME = re.compile(r"</?([A-Za-z][A-Za-z0-9]*)")


_TITLE_TAG = re.compile(r"</?[A-Za-z][^<>]*>")


def plain_title(title: str | None) -> str | None:
    """A title as a reader sees it: WordPress titles may hold markup (`<em>`) and character references."""
    if not title or ("<" not in title and "&" not in title):
        return title
    return " ".join(html.unescape(_TITLE_TAG.sub("", title)).split()) or title


def without_code(text: pl.Expr) -> pl.Expr:
    """The text with fenced code blocks and inline code spans taken out."""
    return text.str.replace_all(CODE, "")


def markup_outside_code(text: pl.Expr) -> pl.Expr:
    """Text where a tag can only be real markup: no code, no backslash-escaped `\\<`."""
    return without_code(text).str.replace_all("\\<", "", literal=True)


def _tag_names(found: pl.DataFrame) -> pl.DataFrame:
    """(record_id, count, names) of `found` (record_id, tags), in its order: the tags' element names,
    most used first (ties in the order they first occur). In polars: an HTML page has hundreds of tags."""
    names = (
        found.select(pos=pl.int_range(pl.len(), dtype=pl.UInt32), name=pl.col("tags"))
        .explode("name")
        .select("pos", pl.col("name").str.extract(_TAG_NAME.pattern, 1).str.to_lowercase())
        .group_by("pos", "name", maintain_order=True)
        .agg(uses=pl.len())
        .sort("pos", "uses", descending=[False, True], maintain_order=True)
        .group_by("pos", maintain_order=True)
        .agg(pl.col("name").drop_nulls().alias("names"))
    )
    return found.select("record_id", count=pl.col("tags").list.len(), names=names["names"])


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {plural or word + 's'}"


class HtmlSettings(FlaggerSettings):
    max_tags_named: int = Field(6, ge=1, description="how many different tags a flag's reason names")


class HtmlFlagger(TextFlagger):
    """Raises `html` when the text carries HTML tags outside code (clean_text removes them)."""

    name = "html"
    flag_names = ("html",)
    Settings = HtmlSettings
    reads_clean_text = False
    modules = ("markup.py",)

    def flag_texts(self, frame: pl.DataFrame) -> FlagResult:
        found = (
            frame.lazy()
            # A tag outside code is a tag anywhere first: that cheap scan spares most rows the code pass.
            .filter(pl.col("text").str.contains(HTML_TAG))
            .select("record_id", tags=markup_outside_code(pl.col("text")).str.extract_all(HTML_TAG))
            .filter(pl.col("tags").list.len() > 0)
            .collect()
        )
        rows = []
        for record_id, count, names in _tag_names(found).iter_rows():
            shown = ", ".join(f"<{n}>" for n in names[: self.settings.max_tags_named])
            more = f" and {len(names) - self.settings.max_tags_named} more kinds" if len(names) > self.settings.max_tags_named else ""
            detail = (
                f"Contains HTML markup outside code: {_plural(count, 'tag')} ({shown}{more}); "
                "the clean text has it turned into plain text."
            )
            rows.append((record_id, "html", float(count), detail))
        return FlagResult.from_rows(rows)


class UrlSettings(FlaggerSettings):
    max_examples: int = Field(3, ge=0, description="how many of the web addresses a flag's reason shows")


def _shorten(url: str, limit: int = 70) -> str:
    return url if len(url) <= limit else url[: limit - 1] + "…"


class UrlFlagger(TextFlagger):
    """Raises `url` when the text has web addresses anywhere (links, bare addresses, code)."""

    name = "url"
    flag_names = ("url",)
    Settings = UrlSettings
    reads_clean_text = False
    modules = ("markup.py",)

    def flag_texts(self, frame: pl.DataFrame) -> FlagResult:
        n = self.settings.max_examples
        found = (
            frame.lazy()
            .select("record_id", urls=pl.col("text").str.extract_all(URL))
            .filter(pl.col("urls").list.len() > 0)
            .select(
                "record_id",
                count=pl.col("urls").list.len(),
                examples=pl.col("urls").list.unique(maintain_order=True).list.head(n),
            )
            .collect()
        )
        rows = []
        for record_id, count, examples in found.iter_rows():
            shown = ", ".join(_shorten(u) for u in examples)
            detail = f"Contains {_plural(count, 'web address', 'web addresses')}" + (f", e.g. {shown}" if shown else "")
            rows.append((record_id, "url", float(count), detail + "; the clean text has them replaced as configured."))
        return FlagResult.from_rows(rows)
