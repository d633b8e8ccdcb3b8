"""Templated series: posts built from one template, found from title patterns and shared boilerplate."""

from __future__ import annotations

import functools
import itertools
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from pydantic import Field

from housevoice.curate.base import FLAG_ROWS, MONTH_ABBREVIATIONS, MONTHS, Clusters, Flagger, FlaggerSettings, FlagResult
from housevoice.curate.clean import text_key
from housevoice.curate.markup import plain_title
from housevoice.curate.text_cache import TextCache, fingerprint

_MONTHS = set(MONTHS)
# Short month names are months only in a title with a number ("Week in review — Jan 7"; "Meet Jan").
_MONTH_ABBREVIATIONS = set(MONTH_ABBREVIATIONS)
_NUMBER_WORDS = set("two three four five six seven eight nine ten eleven twelve".split())
_STOPWORDS = set("a an the and or of in on for to with at by from its our your this that is are as".split())
# Typed slots: a version and a year are different series shapes ("Rust 1.N" vs "Rust YYYY edition").
_SLOTS = (
    (re.compile(r"^\d{4}-\d{2}-\d{2}$"), "YYYY-MM-DD"),
    (re.compile(r"^v?\d+(?:\.\d+)+$"), "N.N"),
    (re.compile(r"^(?:19|20)\d\d$"), "YYYY"),
    (re.compile(r"\d"), "N"),
)
_TOKEN = re.compile(r"[\w.'’&+-]+|[^\w\s]")
_WORDS = re.compile(r"[^\W\d_]+")


class TemplateSettings(FlaggerSettings):
    min_members: int = Field(3, ge=2, description="Fewest distinct posts that make a series.")
    skip_kinds: list[str] = Field(
        ["transcript_turn"],
        description="Record kinds left out: every turn of an episode shares the episode's title, which is not a template.",
    )
    min_boilerplate_share: float = Field(
        0.02,
        ge=0.0,
        le=1.0,
        description="For titles that repeat without numbers or dates: the typical share of a post's lines that must also "
        "appear in `min_members` posts of the group; below it (nothing shared) the repeated title is a coincidence.",
    )
    leading_words: int = Field(
        0,
        ge=0,
        description="When above 0, titles outside any pattern that open with this many identical words (none a "
        "stopword) form a series too ('Please welcome …'); off by default as unrelated posts often share openings.",
    )
    min_line_words: int = Field(4, ge=1, description="Shortest line, in words, counted as boilerplate.")
    site_title_share: float = Field(
        0.5,
        gt=0.0,
        le=1.0,
        description="A title prefix or suffix set off by ': ', ' | ', ' - ', ' — ' ('Acme Blog: …', '… | Acme') that this share "
        "of the titles carries is the site's name, not a series: it is set aside before titles are compared.",
    )
    body_boilerplate: bool = Field(
        True,
        description="Also find series from the text: posts whose opening or closing sentence (names and numbers masked) "
        "recurs in `min_members` posts join the series most of them belong to, or form one.",
    )


def without_site_affixes(titles: list[str | None], share: float, least: int = 3) -> list[str | None]:
    """The titles without a prefix or suffix that `share` of them (and `least` at least) carry: a site's name
    ("Acme Blog: Why we moved", "Why we moved | Acme") would make every post look like one series. A title
    is cut where a series name ends (`_HEAD_END`: a colon, a dash, a bar)."""
    firsts: Counter[str] = Counter()
    lasts: Counter[str] = Counter()
    titled = 0
    for title in titles:
        if not title or not title.strip():
            continue
        titled += 1
        parts = _HEAD_END.split(title.strip())
        if len(parts) >= 2:
            firsts[parts[0].strip().casefold()] += 1
            lasts[parts[-1].strip().casefold()] += 1
    needed = max(least, share * titled)
    prefixes = {a for a, n in firsts.items() if n >= needed}
    suffixes = {a for a, n in lasts.items() if n >= needed}
    if not prefixes and not suffixes:
        return titles
    out: list[str | None] = []
    for title in titles:
        if title and title.strip():
            text = title.strip()
            cuts = list(_HEAD_END.finditer(text))
            if cuts and text[: cuts[0].start()].strip().casefold() in prefixes:
                text = text[cuts[0].end() :]
                cuts = list(_HEAD_END.finditer(text))
            if cuts and text[cuts[-1].end() :].strip().casefold() in suffixes:
                text = text[: cuts[-1].start()]
            if text != title.strip():
                title = text.strip() or title
        out.append(title)
    return out


_DIGIT = re.compile(r"\d")


@functools.lru_cache(maxsize=65536)
def _slot(token: str, dated: bool = False) -> str | None:
    if token in _MONTHS or (dated and token in _MONTH_ABBREVIATIONS):
        return "Month"
    if token in _NUMBER_WORDS:
        return "N"
    for pattern, name in _SLOTS:
        if pattern.search(token):
            return name
    return None


def title_pattern(title: str) -> tuple[str, ...]:
    """The title as tokens, numbers, versions, dates and months replaced by typed slots (`<N.N>`)."""
    out = []
    dated = _DIGIT.search(title) is not None
    for raw in _TOKEN.findall(title.lower()):
        token = raw.rstrip(".") or raw
        slot = _slot(token, dated)
        out.append(f"<{slot}>" if slot else token)
    return tuple(out)


# (A title's key and slots are asked for by every step of the search: each is worked out once.)
@functools.lru_cache(maxsize=1 << 17)
def _key(pattern: tuple[str, ...]) -> frozenset[str]:
    words = (w for t in pattern if not t.startswith("<") for w in _WORDS.findall(t))
    return frozenset(w for w in words if w not in _STOPWORDS)


@functools.lru_cache(maxsize=1 << 17)
def _slots(pattern: tuple[str, ...]) -> frozenset[str]:
    # A slot is `<name>`; a title's own "<" (a tag, "a < b") is punctuation.
    return frozenset(t for t in pattern if len(t) > 2 and t[0] == "<" and t[-1] == ">")


# What ends a numbered series name in a title: a colon, a dash, a bar.
_HEAD_SEPARATORS = {":", "—", "–", "|", "-"}
_HEAD_END = re.compile(r"\s*(?::|\s[—–|-]|[—–|])\s")
# Numbered names that are chapters of one piece of writing, not posts built from a template.
_PARTS = {"part", "chapter", "step", "lesson", "section"}
# Words naming a recurring report: three posts titled "Infra update", or "Infra update: …", are one column
# even when each is written afresh (other repeated titles need shared lines to be a series).
_PERIODIC = {
    "update", "updates", "recap", "roundup", "digest", "minutes", "newsletter", "report", "summary",
    "agenda", "highlights", "bulletin", "briefing", "retrospective",
}
# Names that only say a post is a copy: its copies are found from its text.
_DECORATIONS = {"repost", "reposted", "cross", "crosspost", "post", "updated", "archive", "from", "the"}


# The longest series name read before a subtitle, in tokens ('Open source program office monthly update: …').
_HEAD_TOKENS = 6


def _title_head(pattern: tuple[str, ...]) -> tuple[str, ...] | None:
    """The series name before a title's own subtitle, if it has one: at most _HEAD_TOKENS tokens, then a
    separator and words. A numbered name ('episode <N>' of 'Episode 12: …') is a series by itself;
    a plain one ('customer spotlight' of 'Customer spotlight: Acme') needs its posts to share lines."""
    for k, token in enumerate(pattern):
        if token not in _HEAD_SEPARATORS:
            continue
        head, rest = pattern[:k], pattern[k + 1 :]
        words = [w for t in head if not t.startswith("<") for w in _WORDS.findall(t)]
        numbered = any(t.startswith("<") for t in head) and (bool(words) or "#" in head)
        named = bool(set(words) - _STOPWORDS - _DECORATIONS)
        chapter = bool(set(words) & _PARTS)
        if len(head) <= _HEAD_TOKENS and (numbered or named) and not chapter and _key(rest):
            return head
        return None
    return None


def _one_word_apart(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Two title patterns of four tokens or more, with the same slots in the same places, that differ
    in one word only and share another."""
    if len(a) != len(b) or len(a) < 4:
        return False
    apart = [(x, y) for x, y in zip(a, b) if x != y]
    words = [x for x, y in zip(a, b) if x == y and _WORDS.fullmatch(x) and x not in _STOPWORDS]
    return len(apart) == 1 and bool(words) and all(_WORDS.fullmatch(t) and t not in _STOPWORDS for t in apart[0])


def readable_pattern(title: str) -> str:
    """A member's title with its slots shown as placeholders: 'Announcing Rust N.N'."""
    words = []
    dated = _DIGIT.search(title) is not None
    for raw in re.findall(r"\S+", title):
        core = raw.strip(".,:;!?()[]'\"#")
        slot = _slot(core.lower().rstrip("."), dated) if core else None
        words.append(raw.replace(core, slot) if slot else raw)
    return " ".join(words)


# Runs of what is not a letter, less a space alone: each becomes one space, as every run would (the
# space between two words, the most common run, stays as it is: half the replacements, twice as fast).
_NOT_LETTERS = r"[^\p{L} ][^\p{L}]*| [^\p{L}]+"


# Rows whose lines are read at once: the lines of a whole corpus are as large as the corpus.
_LINE_CHUNK = 8192


def line_hashes(texts: pl.Series, rows: list[int], min_words: int) -> pl.DataFrame:
    """(row, text): the distinct lines of each row with `min_words` words or more, digits and markup
    aside, hashed; a template's section headings ('## The challenge') count from two words."""
    parts = [
        pl.DataFrame({"row": part, "text": texts.gather(part).fill_null("")}, schema={"row": pl.Int64, "text": pl.String})
        .with_columns(pl.col("text").str.split("\n"))
        .explode("text")
        .filter(pl.col("text").str.len_bytes() >= 4)
        .with_columns(heading=pl.col("text").str.contains(r"^[ \t]*#{1,6}[ \t]"))
        .filter(pl.col("heading") | (pl.col("text").str.len_bytes() >= 2 * min_words))
        # Letters only, so lines differing in numbers or markup alone count as one line.
        .with_columns(pl.col("text").str.replace_all(_NOT_LETTERS, " ").str.strip_chars().str.to_lowercase())
        .filter(pl.col("text").str.count_matches(" ") >= pl.when(pl.col("heading")).then(1).otherwise(min_words - 1))
        .select("row", pl.col("text").hash())
        .unique(["row", "text"])
        for part in (rows[start : start + _LINE_CHUNK] for start in range(0, len(rows), _LINE_CHUNK))
    ]
    return pl.concat(parts) if parts else pl.DataFrame(schema={"row": pl.Int64, "text": pl.UInt64})


class LineStore:
    """`line_hashes` of the rows asked for, each text read once a run; from the workspace's cache where a
    text was read at an earlier run (see `text_cache`), and kept there by `save()`."""

    def __init__(self, texts: pl.Series, min_words: int, cache_dir: Path | None = None):
        self.texts, self.min_words = texts, min_words
        self.read = pl.DataFrame(schema={"row": pl.Int64, "text": pl.UInt64})  # the lines of the rows read so far
        self.done: set[int] = set()
        self.fresh: list[int] = []  # rows whose lines were computed at this run
        self.cache: TextCache | None = None
        if cache_dir is not None:
            settings = f"min_words={min_words}"
            self.cache = TextCache(cache_dir, "lines", fingerprint(settings, ("templated.py",), ("polars",)), {"lines": pl.List(pl.UInt64)})
            self.keys = self.cache.keys(texts)
            self.cached = self.cache.lookup(self.keys)[0]["lines"]

    def lines(self, rows: list[int]) -> pl.DataFrame:
        """(row, text): the lines of every row read so far, `rows` among them."""
        new = pl.Series(sorted(set(rows) - self.done), dtype=pl.Int64)
        if len(new) == 0:
            return self.read
        self.done.update(new.to_list())
        missing = new
        if self.cache is not None:
            known = self.cached.gather(new).is_not_null()
            hit, missing = new.filter(known), new.filter(~known)
            cached = pl.DataFrame({"row": hit, "text": self.cached.gather(hit)}).explode("text").drop_nulls("text")
            self.read = pl.concat([self.read, cached])
        self.fresh += missing.to_list()
        self.read = pl.concat([self.read, line_hashes(self.texts, missing.to_list(), self.min_words)])
        return self.read

    def save(self) -> None:
        """The lines of this run's texts back to the cache (see `TextCache.keep`)."""
        if self.cache is None:
            return
        fresh = pl.Series(self.fresh, dtype=pl.Int64)
        lines = self.read.filter(pl.col("row").is_in(fresh.implode())).group_by("row").agg(computed="text")
        values = (
            pl.DataFrame({"at": pl.int_range(len(self.cached), eager=True, dtype=pl.Int64), "lines": self.cached})
            .join(lines, left_on="at", right_on="row", how="left", maintain_order="left")
            # (A text read now without a line long enough has none: an empty list, not an unknown.)
            .select(pl.when(pl.col("at").is_in(fresh.implode())).then(pl.col("computed").fill_null(pl.lit([], dtype=pl.List(pl.UInt64)))).otherwise("lines"))
            .to_series()
        )
        self.cache.keep(self.keys, values, fresh)


def boilerplate_shares(lines: pl.DataFrame, rows: list[int], family: list[int], min_members: int) -> dict[int, float]:
    """Per row: share of its lines (`line_hashes` rows) that also occur in `min_members` rows of its family."""
    if not rows:
        return {}
    lines = lines.join(pl.DataFrame({"row": rows, "family": family}, schema={"row": pl.Int64, "family": pl.Int64}), on="row")
    # (How many of its family's rows hold each line, as a window: three times faster than joining the counts back.)
    per_row = (
        lines.with_columns(n=pl.len().over("family", "text"))
        .group_by("row")
        .agg((pl.col("n") >= min_members).mean().alias("share"))
    )
    out = dict.fromkeys(rows, 0.0)
    out.update(dict(per_row.iter_rows()))
    return out


_MONTH_NAMES = "|".join(m.capitalize() for m in sorted(_MONTHS))
SLOT = "…"
_NOT_LETTERS_OR_SLOTS = rf"[^\p{{L}}{SLOT} ][^\p{{L}}{SLOT}]*| [^\p{{L}}{SLOT}]+"  # (as _NOT_LETTERS)


def _mask_slots(text: pl.Expr) -> pl.Expr:
    """Code, links, handles, months and numbers become a slot: they change from one issue to the next."""
    return (
        text.str.replace_all(r"`[^`]*`", f" {SLOT} ")
        .str.replace_all(r"https?://\S+", f" {SLOT} ")
        .str.replace_all(r"@[\w-]+", f" {SLOT} ")
        .str.replace_all(rf"(^|\W)(?:{_MONTH_NAMES})(\W|$)", f"${{1}} {SLOT} ${{2}}")
        .str.replace_all(r"(^|\W)\d[\w.,:/-]*", f"${{1}} {SLOT} ")
    )


def sentence_skeletons(texts: pl.Series, rows: list[int]) -> pl.DataFrame:
    """Per row, its sentences in order (`pos`) as skeletons: names, numbers, code and links masked, letters only."""
    first = pl.col("s").str.extract(r"^(\S+)").fill_null("")
    # Capitalised words inside a sentence are names (people, teams, products); the first word is just capitalised.
    rest = _mask_slots(pl.col("s").str.replace(r"^\S+", "")).str.replace_all(r"(^|\W)\p{Lu}[\w'’.-]*", f"${{1}}{SLOT}")
    return (
        pl.DataFrame({"row": rows, "s": texts.gather(rows).fill_null("")})
        .with_columns(pl.col("s").str.replace_all("\r", "").str.split("\n\n"))
        .explode("s")
        .with_columns(pl.col("s").str.replace_all(r"\s*\n\s*", " ").str.replace(r"^[#>*\s-]+", "").str.strip_chars())
        .with_columns(pl.col("s").str.replace_all(r"([.!?:])\s+", "$1\n").str.split("\n"))
        .explode("s")
        .with_columns(
            sk=pl.concat_str(_mask_slots(first), pl.lit(" "), rest)
            .str.replace_all(_NOT_LETTERS_OR_SLOTS, " ")
            .str.to_lowercase()
            # A list of names is one slot: "… and …", "…, … and …".
            .str.replace_all(rf"{SLOT}(?:\s+(?:{SLOT}|and|or|of|the|de|van|von))*\s+{SLOT}", SLOT)
            .str.strip_chars()
        )
        .filter(pl.col("sk").str.count_matches(r"[\p{L}]+") >= _MIN_SKELETON_WORDS)
        .select("row", pos=pl.int_range(pl.len()).over("row"), n=pl.len().over("row"), sk="sk")
    )


_MIN_SKELETON_WORDS = 5
# An end is read from the text's first (or last) characters: most are found in the shortest slice, and
# only the rows where a slice is not conclusive read the next. A slice can cut only its outer piece: with
# two sentences in it an opening is whole, as a longer slice would give it. (A closing's cut first piece
# may read as a sentence where the whole one would not; from 500 characters that is rare enough.)
_OPENING_SLICES = (250, 500, 1500)
_CLOSING_SLICES = (500, 1500)


def _end_sentences(texts: pl.Series, rows: list[int], closing: bool) -> pl.DataFrame:
    """(row, sk) per row: its first sentence skeleton (its last, `closing`) within the longest slice,
    where it has one; a last sentence only where another precedes it."""
    last = (pl.col("pos") == pl.col("n") - 1) & (pl.col("n") > 1)
    slices = _CLOSING_SLICES if closing else _OPENING_SLICES
    found, rest = [], rows
    for n, chars in enumerate(slices):
        ends = sentence_skeletons(texts.str.slice(-chars) if closing else texts.str.slice(0, chars), rest)
        final = n == len(slices) - 1
        sure = ends.filter(last if closing else (pl.col("pos") == 0) & ((pl.col("n") > 1) | final))
        found.append(sure)
        rest = sorted(set(rest) - set(sure["row"].to_list()))
        if final or not rest:
            break
    return pl.concat(found).select("row", "sk")


def _openings(texts: pl.Series, rows: list[int]) -> pl.DataFrame:
    """Each row's first sentence skeleton within its first _OPENING_SLICES[-1] characters."""
    return _end_sentences(texts, rows, closing=False).with_columns(where=pl.lit("opening"))


def _closings(texts: pl.Series, rows: list[int]) -> pl.DataFrame:
    """Each row's last sentence skeleton within its last _CLOSING_SLICES[-1] characters, when it has two or more."""
    return _end_sentences(texts, rows, closing=True).with_columns(where=pl.lit("closing"))


def _ends(texts: pl.Series, rows: list[int], cache: TextCache | None = None) -> pl.DataFrame:
    """(row, sk, where): the opening and closing sentence skeletons of the rows; from `cache` for texts
    read at an earlier run (see `text_cache`)."""
    if cache is None:
        return pl.concat([_openings(texts, rows), _closings(texts, rows)])

    def compute(todo: pl.Series) -> pl.DataFrame:
        fresh_rows = [rows[i] for i in todo.to_list()]
        fresh = pl.DataFrame({"row": fresh_rows}, schema={"row": pl.Int64})
        for where, found in (("opening", _openings(texts, fresh_rows)), ("closing", _closings(texts, fresh_rows))):
            fresh = fresh.join(found.select("row", pl.col("sk").alias(where)), on="row", how="left", maintain_order="left")
        return fresh.with_columns(seen=True)

    table = cache.rows(texts.gather(rows), compute).with_columns(row=pl.Series(rows, dtype=pl.Int64))
    return pl.concat(
        [table.select("row", sk=w, where=pl.lit(w)).drop_nulls("sk") for w in ("opening", "closing")]
    )


def shared_openings_and_closings(
    texts: pl.Series, rows: list[int], text_ids: list[int], min_members: int, cache: TextCache | None = None
) -> list[tuple[str, str, list[int]]]:
    """Opening and closing sentences (as skeletons) that recur in `min_members` distinct texts: (where, skeleton, rows)."""
    if not rows:
        return []
    # Only the ends of each text are read, so long posts cost no more than short ones.
    ends = _ends(texts, rows, cache)
    ids = pl.DataFrame({"row": rows, "text_id": [text_ids[i] for i in rows]})
    groups = (
        ends.join(ids, on="row")
        .group_by("where", "sk")
        .agg(pl.col("row").unique().sort(), pl.col("text_id").n_unique().alias("texts"))
        .filter(pl.col("texts") >= min_members)
        .sort("texts", "sk", descending=[True, False])
    )
    return [(w, sk, members) for w, sk, members, _ in groups.iter_rows()]


def rows_sharing_sentences(texts: pl.Series, families: list[list[int]], min_members: int, least: int) -> set[int]:
    """Rows with at least `least` distinct sentences that recur in `min_members` rows of their family."""
    if not families:
        return set()
    family = pl.DataFrame({"row": [i for m in families for i in m], "family": [f for f, m in enumerate(families) for _ in m]})
    sentences = sentence_skeletons(texts, family["row"].to_list()).join(family, on="row").select("row", "family", "sk").unique()
    return set(
        sentences.with_columns(n=pl.len().over("family", "sk"))
        .filter(pl.col("n") >= min_members)
        .group_by("row")
        .agg(pl.len().alias("shared"))
        .filter(pl.col("shared") >= least)["row"]
        .to_list()
    )


@dataclass
class Series:
    """A family being built: its members (row numbers), its readable name, and per-member reasons."""

    members: list[int]
    name: str
    why: dict[int, str] = field(default_factory=dict)


def _merge_by_sentences(series: list[Series], groups) -> list[Series]:
    """One template under several title patterns ("Weekly recap: March 3", "Friday recap (03/10)"):
    series that share two or more template sentences (opening and closing) become one series,
    named after the largest. A sentence is shared by the series most of whose members have it,
    when together they hold most of the posts with it; one shared sentence (a common sign-off)
    is not enough."""
    placed = {i: f for f, x in enumerate(series) for i in x.members}
    shared: dict[tuple[int, int], list[str]] = defaultdict(list)
    for _, sk, members in groups:
        counts = Counter(placed[i] for i in members if i in placed)
        covered = sorted(f for f, n in counts.items() if 2 * n >= len(series[f].members))
        if len(covered) >= 2 and 3 * sum(counts[f] for f in covered) >= 2 * len(members):
            for a, b in itertools.combinations(covered, 2):
                shared[(a, b)].append(sk)
    clusters = Clusters(len(series))
    for (a, b), sentences in shared.items():
        if len(set(sentences)) >= 2:
            clusters.union(a, b)
    merged: dict[int, list[int]] = defaultdict(list)
    for f in range(len(series)):
        merged[clusters.find(f)].append(f)
    out = []
    for fs in merged.values():
        keep = max(fs, key=lambda f: (len(series[f].members), -f))
        x = series[keep]
        for f in fs:
            if f == keep:
                continue
            x.members.extend(series[f].members)
            for i in series[f].members:
                x.why[i] = series[f].why.get(i) or (
                    f"Title follows the pattern '{series[f].name}', a series that shares its opening and closing "
                    f"sentences with '{x.name}'"
                )
        x.members.sort()
        out.append((min(fs), x))
    return [x for _, x in sorted(out, key=lambda pair: pair[0])]


def join_by_boilerplate(
    series, texts, eligible, rows, patterns, titles, text_ids, min_members: int, cache: TextCache | None = None
) -> list[Series]:
    """Grow title series with posts that share their opening/closing sentences; let shared sentences alone form a series.

    A post whose opening or closing sentence recurs mostly inside one series joins it (an advisory with an odd title).
    Posts in no series that share such a sentence form a new series, and titles that open with the same two words as
    several of its members join it too: the title alone is weak, the shared body confirms it.
    """
    groups = shared_openings_and_closings(texts, eligible, text_ids, min_members, cache)
    series = _merge_by_sentences(series, groups)
    placed = {i: f for f, x in enumerate(series) for i in x.members}
    joined: dict[int, tuple[int, str]] = {}
    for where, sk, members in groups:
        counts = Counter(placed[i] for i in members if i in placed)
        if counts:
            f, n = counts.most_common(1)[0]
            if 2 * n >= len(members):  # most of the posts with this sentence are one series already
                for i in members:
                    if i not in placed and i not in joined:
                        joined[i] = (f, f"Its {where} sentence '{sk}' recurs in {n} posts of the series")
    for i, (f, why) in joined.items():
        series[f].members.append(i)
        series[f].why[i] = why
        placed[i] = f
    # Union-find over posts in no series, linked by a shared opening or closing sentence.
    parent: dict[int, int] = {}

    def root(i: int) -> int:
        while parent.setdefault(i, i) != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    reason: dict[int, str] = {}
    for where, sk, members in groups:
        loose = [i for i in members if i not in placed]
        if len({text_ids[i] for i in loose}) < min_members:
            continue
        for i in loose:
            reason.setdefault(i, f"Its {where} sentence '{sk}' recurs in {len(members)} posts")
            parent[root(i)] = root(loose[0])
    components: dict[int, list[int]] = defaultdict(list)
    for i in parent:
        components[root(i)].append(i)
    fresh = [sorted(m) for m in components.values() if len({text_ids[i] for i in m}) >= min_members]
    # One shared sentence may be a re-post note; a template repeats several (opening and closing, headings, ...).
    templated = rows_sharing_sentences(texts, fresh, min_members, least=2)
    fresh = [[i for i in m if i in templated] for m in fresh]
    fresh = [m for m in fresh if len({text_ids[i] for i in m}) >= min_members]
    family_of = {i: k for k, m in enumerate(fresh) for i in m}
    names = [None] * len(fresh)
    # Titles opening with the same two words as members of a new series join it ("Please welcome …").
    by_opening: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for i in rows:
        if i not in placed:
            words = [w for t in patterns[i] if not t.startswith("<") for w in _WORDS.findall(t)]
            if len(words) >= 2 and not set(words[:2]) & _STOPWORDS:
                by_opening[tuple(words[:2])].append(i)
    for opening, members in by_opening.items():
        counts = Counter(family_of[i] for i in members if i in family_of)
        if not counts or counts.most_common(1)[0][1] < min_members:
            continue
        k = counts.most_common(1)[0][0]
        example = next(i for i in members if i in family_of)
        names[k] = names[k] or " ".join(titles[example].split()[:2]) + " …"
        for i in members:
            if i not in family_of:
                family_of[i] = k
                fresh[k].append(i)
                reason[i] = f"Its title opens like {len(members)} posts of the series ('{names[k]}')"
    for k, members in enumerate(fresh):
        sk = Counter(reason[i].split("'")[1] for i in members if "sentence '" in reason[i]).most_common(1)[0][0]
        name = names[k] or f"Posts sharing the sentence '{sk}'"
        series.append(Series(sorted(members), name, {i: reason[i] for i in members}))
    return series


class TemplateFlagger(Flagger):
    """Flags members of series built from one template (release notes, recaps, minutes, updates)."""

    name = "templated"
    flag_names = ("templated",)
    Settings = TemplateSettings
    # Set by the pipeline: where the opening and closing sentences and the lines of this run are kept for the next (`text_cache`).
    cache_dir: Path | None = None

    def flag(self, frame: pl.DataFrame) -> FlagResult:
        s: TemplateSettings = self.settings  # type: ignore[assignment]
        self.cache_notes: list[str] = []
        empty_columns = pl.DataFrame(schema={"record_id": pl.String, "template_family": pl.String})
        if frame.height == 0 or "title" not in frame.columns:
            return FlagResult(pl.DataFrame(schema=FLAG_ROWS), empty_columns)
        kinds = frame["kind"].to_list() if "kind" in frame.columns else [None] * frame.height
        titles = without_site_affixes([plain_title(t) for t in frame["title"].to_list()], s.site_title_share)
        text_col = "clean_text" if "clean_text" in frame.columns else "text"
        # One key per writing (its clean text, markdown's marks aside): copies count once in a series, and join it.
        key = next((c for c in ("content_key", "text_key") if c in frame.columns), None)
        text_ids = (frame[key] if key else text_key(frame["text"])).to_list()
        eligible = [i for i in range(frame.height) if kinds[i] not in s.skip_kinds]
        rows = [i for i in eligible if titles[i] and titles[i].strip()]
        patterns = {i: title_pattern(titles[i]) for i in rows}
        families = self._title_families(rows, patterns, text_ids, s)
        families = self._attach(rows, patterns, families)
        named, within = self._head_families(rows, patterns, families, titles, text_ids, s)
        families += [list(m) for m in named]
        if s.leading_words:
            families += self._leading_word_families(rows, patterns, families, text_ids, s)
        dominants = [Counter(patterns[i] for i in members).most_common(1)[0][0] for members in families]
        # Only titles without numbers or dates need the body to back them up.
        store = LineStore(frame[text_col], s.min_line_words, self.cache_dir)
        share = self._shares(store, [m for m, d in zip(families, dominants) if not _slots(d)], s)
        inner = [list(sub) for subs in within.values() for sub, _ in subs]
        inner_share = self._shares(store, inner, s) if inner else {}

        def backed(members: list[int], dominant: tuple[str, ...], shares: dict[int, float]) -> bool:
            """Numbered titles, and names of a recurring report, are a series by themselves; other
            repeated titles need their posts to share lines."""
            if _slots(dominant) or _PERIODIC & set(dominant):
                return True
            return sorted(shares[i] for i in members)[len(members) // 2] >= s.min_boilerplate_share

        series: list[Series] = []
        for members, dominant in zip(families, dominants):
            # A smaller series inside a section's posts ('Registry: Malicious packages …' among other
            # 'Registry: …' posts) is the template, not the section.
            inside = [
                Series(list(sub), name) for sub, name in within.get(tuple(members), ())
                if backed(list(sub), Counter(patterns[i] for i in sub).most_common(1)[0][0], inner_share)
            ]
            series += inside
            if inside or not backed(members, dominant, share):
                continue  # (the same words as a title, with nothing shared inside, are not a series)
            example = next(i for i in members if patterns[i] == dominant)
            series.append(Series(members, named.get(tuple(members)) or readable_pattern(titles[example])))
        if s.body_boilerplate:
            texts = frame[text_col].fill_null("")
            cache = (
                TextCache(self.cache_dir, "sentences", fingerprint("", ("templated.py", "base.py"), ("polars",)),
                          {"seen": pl.Boolean, "opening": pl.String, "closing": pl.String})
                if self.cache_dir is not None else None
            )
            series = join_by_boilerplate(series, texts, eligible, rows, patterns, titles, text_ids, s.min_members, cache)
            self.cache_notes += cache.notes if cache is not None else []
        ids = frame["record_id"].to_list()
        series = self._with_copies(series, text_ids, eligible, titles, ids)
        share = self._shares(store, [x.members for x in series], s)
        store.save()
        self.cache_notes += store.cache.notes if store.cache is not None else []
        flags, columns = [], []
        for x in series:
            family = f"{x.name} — {len(x.members)} posts"
            for i in x.members:
                why = x.why.get(i) or f"Title follows the pattern '{x.name}' shared by {len(x.members)} posts"
                detail = f"{why}; {round(share[i] * 100)}% of its lines are boilerplate shared with the series."
                flags.append((ids[i], "templated", round(max(share[i], 0.5), 4), detail))
                columns.append((ids[i], family))
        return FlagResult(
            pl.DataFrame(flags, schema=FLAG_ROWS, orient="row"),
            pl.DataFrame(columns, schema=empty_columns.schema, orient="row") if columns else empty_columns,
        )

    @staticmethod
    def _with_copies(series: list[Series], keys: list[int], eligible: list[int], titles, ids) -> list[Series]:
        """A copy of a series member is a member too, whatever its title ('Repost: …', '[Cross-post] …')."""
        placed = {i for x in series for i in x.members}
        source: dict[int, tuple[Series, int]] = {}
        for x in series:
            for i in sorted(x.members):
                source.setdefault(keys[i], (x, i))
        for i in eligible:
            if i in placed or keys[i] not in source:
                continue
            x, original = source[keys[i]]
            x.members.append(i)
            title = f"'{titles[original]}' ({ids[original]})" if titles[original] else ids[original]
            x.why[i] = f"Same text as {title}, a post of the series '{x.name}'"
        return series

    @staticmethod
    def _shares(store: LineStore, families: list[list[int]], s: TemplateSettings) -> dict[int, float]:
        """Boilerplate share per member."""
        member_rows = [i for members in families for i in members]
        family_of = [f for f, members in enumerate(families) for _ in members]
        return boilerplate_shares(store.lines(member_rows), member_rows, family_of, s.min_members)

    def _title_families(self, rows, patterns, text_ids, s: TemplateSettings) -> list[list[int]]:
        """Titles with the same words once slots are masked (word order and punctuation aside)."""
        by_key: dict[frozenset[str], list[int]] = defaultdict(list)
        for i in rows:
            key = _key(patterns[i])
            if len(key) >= 2 or (key and _slots(patterns[i])):
                by_key[key].append(i)
        # Copies of one text count once: a re-posted article is not a series.
        return [m for m in by_key.values() if len({text_ids[i] for i in m}) >= s.min_members]

    def _head_families(self, rows, patterns, families, titles, text_ids, s: TemplateSettings):
        """Titles left over that open with the same name, then a subtitle of their own ('Episode 12:
        Hiring our first designer', 'Customer spotlight: Acme'): a series named 'Episode N: …'.
        Returns ({members: name}, {members: [(members, name) of a smaller series inside it, tried first]})."""
        placed = {i for m in families for i in m}
        by_head: dict[tuple[str, ...], list[int]] = defaultdict(list)
        bare = []
        for i in rows:
            if i in placed:
                continue
            head = _title_head(patterns[i])
            if head:
                by_head[head].append(i)
            else:
                bare.append(i)
        # A post titled with the series name alone ('Team update' beside 'Team update: March') is one of it.
        for i in bare:
            if patterns[i] in by_head:
                by_head[patterns[i]].append(i)
        named: dict[tuple[int, ...], str] = {}
        within: dict[tuple[int, ...], list[tuple[tuple[int, ...], str]]] = {}
        for head, members in by_head.items():
            if len({text_ids[i] for i in members}) < s.min_members:
                continue
            named[tuple(members)] = self._head_name(titles[members[0]], 0)
            # A section's name ('Acme Blog: …') may head several columns: its posts whose subtitles open
            # alike ('Acme Blog: Malicious packages …') are the series when the section as a whole is not one.
            by_opening: dict[tuple[str, ...], list[int]] = defaultdict(list)
            for i in members:
                rest = [w for t in patterns[i][len(head) + 1 :] if not t.startswith("<") for w in _WORDS.findall(t)]
                if len(rest) >= 2 and not set(rest[:2]) & _STOPWORDS:
                    by_opening[tuple(rest[:2])].append(i)
            subs = [tuple(m) for m in by_opening.values() if len(m) < len(members) and len({text_ids[i] for i in m}) >= s.min_members]
            if subs:
                within[tuple(members)] = [(sub, self._head_name(titles[sub[0]], 2)) for sub in subs]
        return named, within

    @staticmethod
    def _head_name(title: str, subtitle_words: int) -> str:
        """'Episode N: …' from 'Episode 12: Hiring', with the subtitle's first words kept when asked."""
        cut = _HEAD_END.search(title)
        if not cut:
            return readable_pattern(title)
        kept = " ".join(title[cut.end() :].split()[:subtitle_words])
        return f"{readable_pattern(title[: cut.start()])}{cut.group().rstrip()} {kept + ' ' if kept else ''}…"

    def _leading_word_families(self, rows, patterns, families, text_ids, s: TemplateSettings) -> list[list[int]]:
        """Titles left over that open with the same words ('Please welcome …', 'Security advisory: …')."""
        placed = {i for m in families for i in m}
        by_opening: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for i in rows:
            if i in placed:
                continue
            words = [w for t in patterns[i] if not t.startswith("<") for w in _WORDS.findall(t)]
            opening = tuple(words[: s.leading_words])
            if len(opening) == s.leading_words and not set(opening) & _STOPWORDS:
                by_opening[opening].append(i)
        return [m for m in by_opening.values() if len({text_ids[i] for i in m}) >= s.min_members]

    def _attach(self, rows, patterns, families: list[list[int]]) -> list[list[int]]:
        """Titles that decorate a series title ('Repost: …', '… (updated)') or shorten it join that series."""
        placed = {i for m in families for i in m}
        dominant = [Counter(patterns[i] for i in m).most_common(1)[0][0] for m in families]
        keys = [(_key(p), _slots(p)) for p in dominant]
        grown = [list(m) for m in families]
        # A title decorates a family whose words it all has, so that family is found through its two
        # rarest words (both in the title); a title shortens a family that has all its words, so through
        # the title's two words with the fewest families (the family is in both lists). Only those are
        # compared, in family order, as the ranking expects.
        by_word: dict[str, list[int]] = defaultdict(list)
        for f, (fkey, _) in enumerate(keys):
            for word in fkey:
                by_word[word].append(f)
        by_rarest: dict[frozenset[str], list[int]] = defaultdict(list)
        for f, (fkey, _) in enumerate(keys):
            if len(fkey) >= 2:
                by_rarest[frozenset(sorted(fkey, key=lambda w: (len(by_word[w]), w))[:2])].append(f)
        # A family's numbered title with one word left out, by the place of that word.
        by_gap: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for f, p in enumerate(dominant):
            if len(p) >= 4 and _slots(p):
                for j in range(len(p)):
                    by_gap[(*p[:j], "\x00", *p[j + 1 :])].append(f)
        for i in rows:
            if i in placed:
                continue
            key, slots = _key(patterns[i]), _slots(patterns[i])
            candidates = {f for pair in itertools.combinations(sorted(key), 2) for f in by_rarest.get(frozenset(pair), ())}
            if len(key) >= 3:
                fewest = sorted((by_word.get(word, ()) for word in key), key=len)[:2]
                candidates.update(set(fewest[0]).intersection(fewest[1]))
            best = None
            for f in sorted(candidates):
                fkey, fslots = keys[f]
                decorates = key > fkey and (not fslots or bool(fslots & slots)) and len(fkey) >= 2
                shortens = key < fkey and len(key) >= 3
                if decorates or shortens:
                    rank = (len(fkey), len(grown[f]))
                    if best is None or rank > best[0]:
                        best = (rank, f)
            if best is None and slots:
                # A numbered title one word off a series' own ('Weekly roundup #15' beside 'Weekly
                # recap #N') is that series under a renamed word.
                p = patterns[i]
                near = {f for j in range(len(p)) for f in by_gap.get((*p[:j], "\x00", *p[j + 1 :]), ())}
                for f in sorted(near):
                    if _one_word_apart(p, dominant[f]) and (best is None or len(grown[f]) > best[0][1]):
                        best = ((0, len(grown[f])), f)
            if best is not None:
                grown[best[1]].append(i)
        return [sorted(m) for m in grown]
