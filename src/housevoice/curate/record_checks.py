"""Flaggers that read one record's own fields: age, length, author, status and shape."""

from __future__ import annotations

from typing import Literal

import re
import unicodedata
from datetime import date, datetime
from pathlib import Path

import polars as pl
from pydantic import Field, model_validator

from housevoice.curate.base import FlaggerSettings, FlagResult, Flagger
from housevoice.curate.code_masks import where
from housevoice.curate.markup import FENCED_CODE
from housevoice.curate.text_cache import TextCache, chosen, fingerprint


def _flags(frame: pl.DataFrame, name: str, score: pl.Expr, detail: pl.Expr) -> FlagResult:
    """The flag rows of every record in `frame` (already filtered to the flagged ones)."""
    flags = frame.select(
        pl.col("record_id"), name=pl.lit(name), score=score.cast(pl.Float64), detail=detail.cast(pl.String)
    )
    return FlagResult(flags)


def _thousands(expr: pl.Expr) -> pl.Expr:
    return expr.map_elements(lambda n: f"{n:,}", return_dtype=pl.String)


# ---- stale -----------------------------------------------------------------------------


class StaleSettings(FlaggerSettings):
    before: date | None = Field(None, description="records published before this date are stale")
    after_months: int | None = Field(None, gt=0, description="records older than this many months are stale")


class StaleFlagger(Flagger):
    """Raises `stale` for records published before the configured cutoff (no date: no flag)."""

    name = "stale"
    flag_names = ("stale",)
    Settings = StaleSettings
    reads_clean_text = False

    def __init__(self, settings: StaleSettings | None = None, now: datetime | None = None):
        super().__init__(settings)
        self.now = now or datetime.now()

    def cutoff(self) -> datetime | None:
        """The later of the two cutoffs: a record older than either one is stale."""
        cutoffs = []
        if self.settings.before is not None:
            cutoffs.append(datetime.combine(self.settings.before, datetime.min.time()))
        if self.settings.after_months is not None:
            cutoffs.append(pl.select(pl.lit(self.now).dt.offset_by(f"-{self.settings.after_months}mo")).item())
        return max(cutoffs) if cutoffs else None

    def flag(self, frame: pl.DataFrame) -> FlagResult:
        cutoff = self.cutoff()
        if cutoff is None:
            return FlagResult.empty()
        published = pl.col("published_at")
        stale = frame.filter(published.is_not_null() & (published < cutoff))
        years = (pl.lit(self.now) - published).dt.total_days() / 365.25
        detail = pl.format(
            "Published {} ({} years ago), before the cutoff of {}.",
            published.dt.strftime("%Y-%m-%d"),
            years.round(1),
            pl.lit(cutoff.strftime("%Y-%m-%d")),
        )
        return _flags(stale, "stale", years.round(2), detail)


# ---- length ----------------------------------------------------------------------------


class LengthSettings(FlaggerSettings):
    tokenizer: str = Field("", description="a tokenizer.json or a model folder; empty: the bundled tokenizer")
    min_tokens: int = Field(20, ge=0, description="fewer tokens than this raises too_short")
    max_tokens: int = Field(4096, gt=0, description="more tokens than this raises too_long")
    exact_counts: Literal["near_limits", "all"] = Field(
        "near_limits",
        description="near_limits: tokenize exactly the records whose estimate is near a limit, estimate the rest; all: tokenize every record",
    )

    @model_validator(mode="after")
    def _min_below_max(self) -> LengthSettings:
        if self.min_tokens > self.max_tokens:
            raise ValueError(f"min_tokens ({self.min_tokens}) is larger than max_tokens ({self.max_tokens})")
        return self


class LengthFlagger(Flagger):
    """Raises `too_long` / `too_short` by the record's tokens after cleaning (`n_tokens`)."""

    name = "length"
    flag_names = ("too_long", "too_short")
    Settings = LengthSettings
    reads_tokens = True

    def flag(self, frame: pl.DataFrame) -> FlagResult:
        s = self.settings
        n = pl.col("n_tokens")
        long = _flags(
            frame.filter(n > s.max_tokens),
            "too_long",
            n / s.max_tokens,
            pl.format(
                "Has {} tokens after cleaning, more than the limit of {}; training would cut it off.",
                _thousands(n),
                pl.lit(f"{s.max_tokens:,}"),
            ),
        )
        short = _flags(
            frame.filter(n < s.min_tokens),
            "too_short",
            n / max(s.min_tokens, 1),
            pl.format(
                "Has only {} tokens after cleaning, fewer than the minimum of {}: too little text to learn a voice from.",
                _thousands(n),
                pl.lit(f"{s.min_tokens:,}"),
            ),
        )
        return FlagResult(pl.concat([long.flags, short.flags]))


# ---- off_author ------------------------------------------------------------------------

# How a byline joins several people: "A & B", "A, B and C", "A with B".
_AUTHOR_SEPARATORS = re.compile(r"\s*(?:&|,|;|\+|\band\b|\bwith\b|\bund\b|\bet\b)\s*", re.IGNORECASE)


def author_key(name: str) -> str:
    """A name compared without case, accents or extra spaces ("Tomáš  Šedovič" ~ "tomas sedovic")."""
    plain = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


# What follows the people of a byline without naming another author: "Russ Cox, for the Go team",
# "Ana Lee on behalf of the Core Team".
_ON_BEHALF = re.compile(r"(?:\s*,\s*|\s+)(?:on behalf of|for|representing)\s+\S.*$", re.IGNORECASE)


def person_byline(byline: str | None) -> str | None:
    """The byline without what it says the people wrote for ("…, for the Go team")."""
    if byline is None:
        return None
    return _ON_BEHALF.sub("", byline).strip() or byline.strip()


def byline_authors(byline: str) -> list[str]:
    return [part.strip() for part in _AUTHOR_SEPARATORS.split(person_byline(byline) or "") if part and part.strip()]


class OffAuthorSettings(FlaggerSettings):
    target: str | None = Field(None, description="the author whose voice is learned; unset: nothing is flagged")
    aliases: list[str] = Field(default_factory=list, description="other spellings of the target's name")


class OffAuthorFlagger(Flagger):
    """Raises `off_author` unless the record's sole author is the target (alias, case and accents aside)."""

    name = "off_author"
    flag_names = ("off_author",)
    Settings = OffAuthorSettings
    reads_clean_text = False

    def _verdict(self, byline: str | None) -> tuple[float, str] | None:
        target = self.settings.target
        names = {author_key(n) for n in [target, *self.settings.aliases]}
        if byline is None or not byline.strip():
            return 1.0, f"Has no author, so it cannot be shown to be written by {target}."
        if author_key(byline) in names or author_key(person_byline(byline) or "") in names:
            return None
        authors = byline_authors(byline)
        if len(authors) > 1 and any(author_key(a) in names for a in authors):
            return 0.5, f"Written by {byline.strip()}: {target} is one of {len(authors)} authors, not the only one."
        return 1.0, f"Written by {byline.strip()}, not by {target}."

    def flag(self, frame: pl.DataFrame) -> FlagResult:
        if not (self.settings.target or "").strip():
            return FlagResult.empty()
        bylines = frame["author"].unique().to_list()
        verdicts = {b: self._verdict(b) for b in bylines}
        off = {b: v for b, v in verdicts.items() if v is not None}
        rows = [
            (record_id, "off_author", off[author][0], off[author][1])
            for record_id, author in frame.select("record_id", "author").iter_rows()
            if author in off
        ]
        return FlagResult.from_rows(rows)


# ---- not_published ---------------------------------------------------------------------

PUBLISHED = ("publish", "published", "public", "live")
_STATUS_MEANING = {
    "draft": "a draft that was never published",
    "auto-draft": "an automatic draft that was never published",
    "pending": "waiting for review and not yet published",
    "private": "private, visible only to its authors",
    "future": "scheduled for later and not yet published",
    "trash": "in the trash",
    "inherit": "an attachment or revision, not a published piece",
}


class NotPublishedSettings(FlaggerSettings):
    published: list[str] = Field(default_factory=lambda: list(PUBLISHED), description="statuses that mean published")


class NotPublishedFlagger(Flagger):
    """Raises `not_published` for a status such as draft, private, future, pending or trash."""

    name = "not_published"
    flag_names = ("not_published",)
    Settings = NotPublishedSettings
    reads_clean_text = False

    def flag(self, frame: pl.DataFrame) -> FlagResult:
        status = pl.col("status").str.strip_chars().str.to_lowercase()
        published = [s.lower() for s in self.settings.published]
        unpublished = frame.filter(status.is_not_null() & (status != "") & ~status.is_in(published))
        meaning = status.replace_strict(_STATUS_MEANING, default=pl.lit("not marked as published"), return_dtype=pl.String)
        detail = pl.format("Its status in the source is '{}': {}.", pl.col("status").str.strip_chars(), meaning)
        return _flags(unpublished, "not_published", pl.lit(1.0), detail)


# ---- not_prose -------------------------------------------------------------------------

_LINE = r"(?m)^[ \t]*\S"
_LINK_LINE = (
    r"(?m)^[ \t]*(?:[-*+]|\d+[.)])?[ \t]*(?:<li[^>\n]*>)?[ \t]*"
    r"(?:\[[^\]\n]*\]\([^)\n]*\)|\[[^\]\n]*\]\[[^\]\n]*\]|<a\s[^>\n]*>[^<\n]*</a>|<?https?://\S+)"
    r"[ \t]*(?:</li>)?[ \t]*[.,;:]?[ \t]*$"
)
_REFERENCE_DEFINITION = r"(?m)^[ \t]{0,3}\[[^\]\n]+\]:[ \t]*\S"
_TABLE_ROW = r"(?m)^[ \t]*\|.*\|[ \t]*$"
_SHORT_ITEM = r"(?m)^[ \t]*(?:[-*+]|\d+[.)])[ \t]+\S+(?:[ \t]+\S+){0,5}[ \t]*$"
# A sentence-like line: six words or more of letters (a wrapped paragraph line counts).
_SENTENCE_LINE = r"(?m)^[ \t]*(?:[-*+>][ \t]+)?[\p{L}\"'(][^\n|]*?(?:\p{L}+[^\p{L}\n]+){5}"


def _lines(pattern: str) -> str:
    """A `(?m)^…` line pattern as one that opens with the newline before the line: the regex engine
    scans for a literal far faster. Texts are read with a newline put before them."""
    assert pattern.startswith("(?m)^")
    return "(?m)\n" + pattern[len("(?m)^") :]


def _chars_of(text: pl.Expr, pattern: str) -> pl.Expr:
    """Characters in the lines `pattern` matches (the text less what is left without them; each
    match's newline stays)."""
    return text.str.len_chars() - text.str.replace_all(_lines(pattern), "\n").str.len_chars()


class NotProseSettings(FlaggerSettings):
    min_lines: int = Field(3, ge=1, description="texts with fewer lines are left to too_short")
    link_share: float = Field(0.5, gt=0, le=1, description="share of lines that are only a link to call it a link list")
    code_share: float = Field(0.6, gt=0, le=1, description="share of the text in code blocks to call it a code dump")
    list_share: float = Field(0.6, gt=0, le=1, description="share of the text in table rows and items of a few words")
    min_sentence_share: float = Field(0.2, ge=0, le=1, description="below this share of the text in sentence-like lines it is not prose")


_SHARES_CHUNK = 8192


_SHARES = {"lines": pl.Int64, "links": pl.Float64, "code": pl.Float64, "listed": pl.Float64, "sentences": pl.Float64}


def _prose_shares(frame: pl.DataFrame) -> pl.DataFrame:
    """(lines, links, code, listed, sentences) per row of `frame` (`text`, `clean_text`): what not_prose
    decides on."""
    # The text outside fenced code; only texts with a fence are rewritten.
    clean = frame["clean_text"].fill_null("")
    prose = where(clean.clone(), "```|~~~", lambda t: t.str.replace_all(FENCED_CODE, ""))  # (where writes into its input)
    # A newline before each text: every line then opens with one (see `_lines`).
    return (
        pl.DataFrame({"text": frame["text"].fill_null(""), "clean": clean, "prose": prose})
        .lazy()
        .select(
            raw=pl.concat_str(pl.lit("\n"), "text"),
            clean_chars=pl.col("clean").str.len_chars(),
            empty=pl.col("clean").str.strip_chars().str.len_chars() == 0,
            prose=pl.concat_str(pl.lit("\n"), "prose"),
        )
        .with_columns(
            raw_lines=(
                pl.col("raw").str.count_matches(_lines(_LINE)) - pl.col("raw").str.count_matches(_lines(_REFERENCE_DEFINITION))
            ).clip(lower_bound=1),
            link_lines=pl.col("raw").str.count_matches(_lines(_LINK_LINE)),
            lines=pl.col("prose").str.count_matches(_lines(_LINE)),
            # Shares of the text, not of its lines: a paragraph is one line or ten, as its editor wrapped it.
            listed_chars=_chars_of(pl.col("prose"), _TABLE_ROW) + _chars_of(pl.col("prose"), _SHORT_ITEM),
            sentence_chars=_chars_of(pl.col("prose"), _SENTENCE_LINE + "[^\n]*"),
            text_chars=(pl.col("prose").str.len_chars() - pl.col("prose").str.count_matches("\n", literal=True)).clip(lower_bound=1),
            prose_chars=pl.col("prose").str.len_chars() - 1,
        )
        .select(
            "lines",
            links=pl.col("link_lines") / pl.col("raw_lines"),
            code=pl.when(pl.col("empty")).then(0.0)  # empty: too_short says it
            .otherwise(1 - pl.col("prose_chars") / pl.col("clean_chars").clip(lower_bound=1)),
            listed=(pl.col("listed_chars") / pl.col("text_chars")).clip(upper_bound=1.0),
            sentences=(pl.col("sentence_chars") / pl.col("text_chars")).clip(upper_bound=1.0),
        )
        .collect()
        .cast(_SHARES)
    )


def _computed_shares(frame: pl.DataFrame) -> pl.DataFrame:
    # A few thousand texts at a time: the measures read copies of the texts.
    return pl.concat(
        [_prose_shares(frame.slice(start, _SHARES_CHUNK)) for start in range(0, frame.height, _SHARES_CHUNK)]
        or [_prose_shares(frame)]
    )


class NotProseFlagger(Flagger):
    """Raises `not_prose` for link lists, code dumps, tables/changelogs and other non-sentence text."""

    name = "not_prose"
    flag_names = ("not_prose",)
    Settings = NotProseSettings
    # Set by the pipeline: where the measures of this run are kept for the next (see `text_cache`).
    cache_dir: Path | None = None

    def flag(self, frame: pl.DataFrame) -> FlagResult:
        s = self.settings
        self.cache_notes: list[str] = []
        if self.cache_dir is None:
            shares = _computed_shares(frame)
        else:
            # The measures depend on the text and its clean text alone, not on the settings.
            cache = TextCache(self.cache_dir, "prose", fingerprint("", ("record_checks.py", "markup.py", "code_masks.py"), ("polars",)), _SHARES)
            shares = cache.rows(frame["text"], lambda todo: _computed_shares(chosen(frame.select("text", "clean_text"), todo)), also=frame["clean_text"])
            self.cache_notes = cache.notes
        rows = []
        for record_id, kind, (n_lines, links, code, listed, sentences) in zip(
            frame["record_id"].to_list(), frame["kind"].to_list(), shares.iter_rows()
        ):
            what = "This page" if kind == "page" else "This text"
            if code >= s.code_share:
                rows.append((record_id, code, f"{what} is mostly code: {code:.0%} of it is in code blocks."))
            elif n_lines < s.min_lines:
                continue
            elif links >= s.link_share:
                rows.append((record_id, links, f"{what} is mostly a list of links: {links:.0%} of its lines are only a link."))
            elif listed >= s.list_share:
                rows.append(
                    (record_id, listed, f"{what} reads like a table or changelog: {listed:.0%} of it is table rows or items of a few words.")
                )
            elif sentences < s.min_sentence_share:
                rows.append(
                    (record_id, 1 - sentences, f"{what} has few sentences: only {sentences:.0%} of it reads like prose.")
                )
        return FlagResult.from_rows([(r, "not_prose", float(score), d) for r, score, d in rows])
