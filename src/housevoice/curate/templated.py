"""Templated series: posts built from one template, found from title patterns and shared boilerplate."""

from __future__ import annotations

import re
from collections import Counter, defaultdict

import polars as pl
from pydantic import Field

from housevoice.curate.base import FLAG_ROWS, Flagger, FlaggerSettings, FlagResult

_MONTHS = set("january february march april may june july august september october november december".split())
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


def _slot(token: str) -> str | None:
    if token in _MONTHS:
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
    for raw in _TOKEN.findall(title.lower()):
        token = raw.rstrip(".") or raw
        slot = _slot(token)
        out.append(f"<{slot}>" if slot else token)
    return tuple(out)


def _key(pattern: tuple[str, ...]) -> frozenset[str]:
    words = (w for t in pattern if not t.startswith("<") for w in _WORDS.findall(t))
    return frozenset(w for w in words if w not in _STOPWORDS)


def _slots(pattern: tuple[str, ...]) -> frozenset[str]:
    return frozenset(t for t in pattern if t.startswith("<"))


def readable_pattern(title: str) -> str:
    """A member's title with its slots shown as placeholders: 'Announcing Rust N.N'."""
    words = []
    for raw in re.findall(r"\S+", title):
        core = raw.strip(".,:;!?()[]'\"")
        slot = _slot(core.lower().rstrip(".")) if core else None
        words.append(raw.replace(core, slot) if slot else raw)
    return " ".join(words)


def boilerplate_shares(texts: pl.Series, rows: list[int], family: list[int], min_words: int, min_members: int) -> dict[int, float]:
    """Per row: share of its lines (digits masked) that also occur in `min_members` rows of its family."""
    if not rows:
        return {}
    lines = (
        pl.DataFrame({"row": rows, "family": family, "text": texts.gather(rows).fill_null("")})
        .with_columns(pl.col("text").str.split("\n"))
        .explode("text")
        .filter(pl.col("text").str.len_bytes() >= 2 * min_words)
        # Letters only, so lines differing in numbers or markup alone count as one line.
        .with_columns(pl.col("text").str.replace_all(r"[^\p{L}]+", " ").str.strip_chars().str.to_lowercase())
        .filter(pl.col("text").str.count_matches(" ") >= min_words - 1)
        .with_columns(pl.col("text").hash())
        .unique(["row", "text"])
    )
    shared = lines.group_by("family", "text").agg(pl.len().alias("n"))
    per_row = (
        lines.join(shared, on=["family", "text"])
        .group_by("row")
        .agg((pl.col("n") >= min_members).mean().alias("share"))
    )
    out = dict.fromkeys(rows, 0.0)
    out.update(dict(per_row.iter_rows()))
    return out


class TemplateFlagger(Flagger):
    """Flags members of series built from one template (release notes, recaps, minutes, updates)."""

    name = "templated"
    flag_names = ("templated",)
    Settings = TemplateSettings

    def flag(self, frame: pl.DataFrame) -> FlagResult:
        s: TemplateSettings = self.settings  # type: ignore[assignment]
        empty_columns = pl.DataFrame(schema={"record_id": pl.String, "template_family": pl.String})
        if frame.height == 0 or "title" not in frame.columns:
            return FlagResult(pl.DataFrame(schema=FLAG_ROWS), empty_columns)
        kinds = frame["kind"].to_list() if "kind" in frame.columns else [None] * frame.height
        titles = frame["title"].to_list()
        text_col = "clean_text" if "clean_text" in frame.columns else "text"
        text_ids = frame.select(pl.col("text").fill_null("").hash()).to_series().to_list()
        rows = [i for i in range(frame.height) if titles[i] and titles[i].strip() and kinds[i] not in s.skip_kinds]
        patterns = {i: title_pattern(titles[i]) for i in rows}
        families = self._title_families(rows, patterns, text_ids, s)
        families = self._attach(rows, patterns, families)
        if s.leading_words:
            families += self._leading_word_families(rows, patterns, families, text_ids, s)
        ids = frame["record_id"].to_list()
        flags, columns = [], []
        member_rows = [i for members in families for i in members]
        family_of = [f for f, members in enumerate(families) for _ in members]
        share = boilerplate_shares(frame[text_col], member_rows, family_of, s.min_line_words, s.min_members)
        for members in families:
            typical = sorted(share[i] for i in members)[len(members) // 2]
            dominant = Counter(patterns[i] for i in members).most_common(1)[0][0]
            if not _slots(dominant) and typical < s.min_boilerplate_share:
                continue  # the same words as a title, with nothing shared inside: not a series
            example = next(i for i in members if patterns[i] == dominant)
            name = readable_pattern(titles[example])
            family = f"{name} — {len(members)} posts"
            for i in members:
                detail = (
                    f"Title follows the pattern '{name}' shared by {len(members)} posts; "
                    f"{round(share[i] * 100)}% of its lines are boilerplate shared with the series."
                )
                flags.append((ids[i], "templated", round(max(share[i], 0.5), 4), detail))
                columns.append((ids[i], family))
        return FlagResult(
            pl.DataFrame(flags, schema=FLAG_ROWS, orient="row"),
            pl.DataFrame(columns, schema=empty_columns.schema, orient="row") if columns else empty_columns,
        )

    def _title_families(self, rows, patterns, text_ids, s: TemplateSettings) -> list[list[int]]:
        """Titles with the same words once slots are masked (word order and punctuation aside)."""
        by_key: dict[frozenset[str], list[int]] = defaultdict(list)
        for i in rows:
            key = _key(patterns[i])
            if len(key) >= 2 or (key and _slots(patterns[i])):
                by_key[key].append(i)
        # Copies of one text count once: a re-posted article is not a series.
        return [m for m in by_key.values() if len({text_ids[i] for i in m}) >= s.min_members]

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
        for i in rows:
            if i in placed:
                continue
            key, slots = _key(patterns[i]), _slots(patterns[i])
            best = None
            for f, (fkey, fslots) in enumerate(keys):
                decorates = key > fkey and (not fslots or bool(fslots & slots)) and len(fkey) >= 2
                shortens = key < fkey and len(key) >= 3
                if decorates or shortens:
                    rank = (len(fkey), len(grown[f]))
                    if best is None or rank > best[0]:
                        best = (rank, f)
            if best is not None:
                grown[best[1]].append(i)
        return [sorted(m) for m in grown]
