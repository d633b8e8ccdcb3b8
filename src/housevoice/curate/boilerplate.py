"""Site boilerplate: lines a site adds to many unrelated posts (newsletter plugs, sign-offs,
"originally published on" notes, copyright lines).

A model trained on them ends every text with "Subscribe to our newsletter", and they make
unrelated posts look alike to the duplicate and template finders. A line is boilerplate when
it recurs in a share of the corpus's texts whose titles have nothing in common: a template's
own lines recur under one title pattern ("Announcing Rust 1.N") and are left for `templated`.
Code lines never count, and a removed line is named in the record's `boilerplate` flag.
"""

from __future__ import annotations

import math

import polars as pl

from housevoice.curate.base import MONTH_ABBREVIATIONS, MONTHS
from housevoice.curate.code_masks import FENCE_LINE, in_slices, lines_with_code

# Lines with fewer words (numbers and markup aside) are too common to call boilerplate.
_MIN_WORDS = 3
_HEAD_LINES, _FOOT_LINES = 6, 12
_CHUNK = 8192
# Characters read at each end to find those lines (a line cut by the slice is not read).
_SLICE_CHARS = 2000
_FENCE = FENCE_LINE
_EXAMPLES = 2
_EXAMPLE_CHARS = 60


def _words(line: pl.Expr) -> pl.Expr:
    """Words only, lower case, numbers masked."""
    return (
        line.str.to_lowercase()
        .str.replace_all(r"\d+", "0")
        .str.replace_all(r"[^\p{L}0]+", " ")
        .str.strip_chars()
    )


def _candidate(line: pl.Expr, code: pl.Expr) -> pl.Expr:
    """Whether a line (at the head or foot of its text) may be boilerplate: outside code, not a heading."""
    return (
        ~code
        & (line.str.len_bytes() >= 2 * _MIN_WORDS)
        # Indented code, code spans and headings (a template's sections) are not a site's additions.
        & ~line.str.contains(r"^(?: {4}|\t)|`|^ {0,3}#{1,6}(?:\s|$)")
    )


def _keyed(frame: pl.DataFrame, own: pl.DataFrame) -> pl.DataFrame:
    """`frame` (row, line, candidate) with `key`: each candidate line of three words or more, with its
    record's own title and author masked ("If you liked <title>, share it"; "By <author>"), lower case,
    numbers masked ("Copyright 2024 Acme" is "Copyright 2025 Acme"), hashed.

    `own`: (row, and a column per name to mask, null where the record has none)."""
    names = [c for c in own.columns if c != "row"]
    if names:
        frame = frame.join(own, on="row", how="left", maintain_order="left")
        # A one-letter name is left alone (and splitting by "" would split every character).
        for name in names:
            frame = frame.with_columns(pl.when(pl.col(name).str.len_chars() >= 2).then(pl.col(name)).otherwise(pl.lit("\x02")))
        named = pl.any_horizontal(pl.col("line").str.contains(pl.col(name), literal=True) for name in names)
        # Only lines holding a name are split (most hold none); the lines keep their order.
        frame = frame.with_columns(masked=pl.col("line"), named=named, order=pl.int_range(pl.len()))
        masked = frame.filter("named")
        for name in names:
            masked = masked.with_columns(pl.col("masked").str.split(pl.col(name), literal=True).list.join("\x01"))
        frame = pl.concat([frame.filter(~pl.col("named")), masked]).sort("order").drop(*names, "named", "order")
    else:
        frame = frame.with_columns(masked=pl.col("line"))
    line = pl.col("masked").str.strip_chars()
    words = line.str.count_matches(" ") >= _MIN_WORDS - 1
    return frame.with_columns(
        key=pl.when(pl.col("candidate") & words & line.str.contains(r"\p{L}\p{L}"))
        .then(line.str.to_lowercase().str.replace_all(r"\d+", "0").hash(seed=5))
    ).drop("masked")


def _ends(texts: pl.Series, rows: pl.Series, own: pl.DataFrame) -> pl.DataFrame:
    """(row, key): the candidate lines at the head and foot of each text, read from slices of it.

    A line is code when an odd number of fence lines comes before it: counted from the start for
    the head, and as (fences in the text) - (fences from the line on) for the foot.
    """
    picked = texts.gather(rows).fill_null("")
    fence = pl.element().str.contains(_FENCE).cast(pl.Int32)
    marks = pl.col("t").str.count_matches("```", literal=True) + pl.col("t").str.count_matches("~~~", literal=True)
    frame = pl.DataFrame({"row": rows, "t": picked}).with_columns(
        long=pl.col("t").str.len_chars() > _SLICE_CHARS,
        # Fence lines are counted where fence marks are odd in number (a mark inside a line, or an
        # unclosed block); elsewhere the marks' count has the same parity, and is a fast scan.
        fences=pl.when(marks % 2 == 1).then(pl.col("t").str.count_matches(rf"(?m){_FENCE}")).otherwise(marks),
        head=pl.col("t").str.slice(0, _SLICE_CHARS).str.split("\n"),
        foot=pl.col("t").str.slice(-_SLICE_CHARS).str.split("\n"),
    )
    # A slice of a longer text may cut its last (head) or first (foot) line: that piece is not read.
    keep = pl.when(pl.col("long")).then(pl.col("head").list.len() - 1).otherwise(pl.col("head").list.len())
    head = (
        frame.select(
            "row",
            line=pl.col("head").list.head(pl.min_horizontal(keep, _HEAD_LINES)),
            before=pl.col("head").list.eval(fence.cum_sum() - fence),
        )
        .with_columns(pl.col("before").list.head(pl.col("line").list.len()))
        .explode("line", "before")
        .with_columns(candidate=_candidate(pl.col("line"), (pl.col("before") % 2 == 1) | pl.col("line").str.contains(_FENCE)))
    )
    keep = pl.when(pl.col("long")).then(pl.col("foot").list.len() - 1).otherwise(pl.col("foot").list.len())
    foot = (
        frame.select(
            "row",
            "fences",
            line=pl.col("foot").list.tail(pl.min_horizontal(keep, _FOOT_LINES)),
            after=pl.col("foot").list.eval(fence.reverse().cum_sum().reverse()),
        )
        .with_columns(pl.col("after").list.tail(pl.col("line").list.len()))
        .explode("line", "after")
        .with_columns(candidate=_candidate(pl.col("line"), ((pl.col("fences") - pl.col("after")) % 2 == 1) | pl.col("line").str.contains(_FENCE)))
    )
    both = pl.concat([head.select("row", "line", "candidate"), foot.select("row", "line", "candidate")])
    return _keyed(both.filter("candidate"), own).select("row", "key").drop_nulls().unique()


def _lines(texts: pl.Series, rows: pl.Series, own: pl.DataFrame) -> pl.DataFrame:
    """(row, line, candidate, key): every line of the rows, in order, for rewriting them."""
    frame = lines_with_code(texts, rows)
    # A site adds its lines at the head or the foot of a post (blank lines count).
    ends = (pl.col("n") < _HEAD_LINES) | (pl.col("n") >= pl.col("total") - _FOOT_LINES)
    return _keyed(frame.with_columns(candidate=ends & _candidate(pl.col("line"), pl.col("code"))), own).select(
        "row", "line", "candidate", "key"
    )


_MONTHS = "|".join(MONTHS + MONTH_ABBREVIATIONS)


def _title_shape() -> pl.Expr:
    """A title's words with numbers (versions and dates whole) and months masked (a series' titles
    share one shape); an untitled record is a shape of its own."""
    # A version or a date is one number: "Rust 1.23" and "Rust 1.23.0" are one shape.
    title = pl.col("title").fill_null("").str.replace_all(r"\d+(?:[.,:/-]\d+)*", "0")
    shape = _words(title).str.replace_all(rf"\b(?:{_MONTHS})\b", "0")
    return pl.when(shape == "").then(pl.format("\x00{}", pl.col("row"))).otherwise(shape)


def remove_boilerplate(
    texts: pl.Series,
    text_keys: pl.Series,
    titles: pl.Series | None,
    eligible: pl.Series,
    authors: pl.Series | None = None,
    *,
    min_share: float,
    min_posts: int,
) -> tuple[pl.Series, pl.Series]:
    """(texts without their boilerplate lines, per text a sentence naming what went or null).

    `text_keys`: equal for exact copies, which count once. `eligible`: the texts that are read
    (others, such as transcript turns, are neither counted nor changed). A line is compared with
    its record's own title and author masked: a site fills them into its lines ("By <author>").
    """
    n = len(texts)
    none = pl.Series("boilerplate", [None] * n, dtype=pl.String)
    rows = eligible.fill_null(False).arg_true().cast(pl.Int64)
    distinct = text_keys.gather(rows).n_unique() if len(rows) else 0
    needed = max(min_posts, math.ceil(min_share * distinct))
    if distinct < needed:
        return texts, none
    own = pl.DataFrame(
        {"row": rows, **{name: col.cast(pl.String).gather(rows) for name, col in (("title", titles), ("author", authors)) if col is not None}}
    )
    # The ends of a corpus's texts are read a chunk at a time: their pieces are as large as a tenth of it.
    held = pl.concat(in_slices(rows, _CHUNK, lambda part: _ends(texts, part, own)))
    info = pl.DataFrame(
        {"row": rows, "text_key": text_keys.gather(rows), "title": titles.gather(rows) if titles is not None else None},
        schema={"row": pl.Int64, "text_key": pl.UInt64, "title": pl.String},
    ).select("row", "text_key", shape=_title_shape())
    texts, listed = _without_closing_lists(texts, rows, info, needed)
    none = none.scatter(listed["row"], listed["detail"]) if listed.height else none
    spread = _widespread(held, info, needed)
    if spread.is_empty():
        return texts, none
    touched = held.join(spread, on="key").select("row").unique().sort("row")["row"]
    marked = _lines(texts, touched, own).join(spread, on="key", how="left").with_columns(drop=pl.col("posts").is_not_null())
    kept = (
        marked.filter(~pl.col("drop"))
        .group_by("row", maintain_order=True)
        .agg(pl.col("line").str.join("\n"))
    )
    # A row whose every line went has no kept line: it becomes empty.
    rewritten = pl.DataFrame({"row": touched}).join(kept, on="row", how="left").with_columns(
        pl.col("line").fill_null("").str.replace_all(r"\n{3,}", "\n\n").str.strip_chars("\n")
    )
    out = texts.scatter(rewritten["row"], rewritten["line"])
    said = (
        marked.filter("drop")
        .group_by("row", maintain_order=True)
        .agg(
            pl.len().alias("lines"),
            *(pl.col(c).filter(pl.col("key").is_first_distinct()).head(_EXAMPLES).alias(f"shown_{c}") for c in ("line", "posts")),
        )
    )
    details = [_detail(*row) for row in said.select("lines", "shown_line", "shown_posts").iter_rows()]
    before = none.gather(said["row"])
    details = [f"{d} {b}" if b else d for d, b in zip(details, before.to_list())]
    return out, none.scatter(said["row"], details)


def _widespread(keyed: pl.DataFrame, info: pl.DataFrame, needed: int) -> pl.DataFrame:
    """(key, posts): the keys of `keyed` (row, key) found in `needed` distinct texts or more, spread over
    unrelated titles: three title shapes or more, none holding half of the posts."""
    counts = keyed.join(info, on="row").group_by("key").agg(posts=pl.col("text_key").n_unique()).filter(pl.col("posts") >= needed)
    if counts.is_empty():
        return counts
    return (
        keyed.join(counts.select("key"), on="key")
        .join(info, on="row")
        .group_by("key", "shape")
        .agg(posts=pl.col("text_key").n_unique())
        .group_by("key")
        .agg(shapes=pl.len(), largest=pl.col("posts").max(), posts=pl.col("posts").sum())
        .filter((pl.col("shapes") >= 3) & (2 * pl.col("largest") <= pl.col("posts")))
        .select("key")
        .join(counts, on="key")
    )


# A text's closing list and the short line that leads it ("Related posts:", "## Read next"): the
# list's items differ from post to post, the lead recurs.
_CLOSING_LIST = r"(?:^|\n\n)((?:#{1,6}[ \t]+)?[^\n#>|`\-*+ \t][^\n]{0,79})\n\n?((?:[ \t]*(?:[-*+]|\d{1,3}[.)])[ \t][^\n]*(?:\n|$))+)\s*$"
_LEAD_WORDS = 8


def _without_closing_lists(texts: pl.Series, rows: pl.Series, info: pl.DataFrame, needed: int) -> tuple[pl.Series, pl.DataFrame]:
    """The texts without a closing list whose lead recurs as widely as a boilerplate line (a related-posts
    or read-next list: other posts' titles, not the writer's words), and (row, detail) for those."""
    found = (
        pl.DataFrame({"row": rows, "t": texts.gather(rows).fill_null("")})
        .with_columns(pl.col("t").str.extract_groups(_CLOSING_LIST).alias("g"))
        .select("row", lead=pl.col("g").struct.field("1"), items=pl.col("g").struct.field("2"))
        .filter(pl.col("items").is_not_null())
        .with_columns(said=pl.col("lead").str.replace(r"^#{1,6}[ \t]+", "").str.strip_chars())
        .filter(pl.col("said").str.count_matches(r"\S+") <= _LEAD_WORDS)
        .with_columns(key=_words(pl.col("said")).hash(seed=9))
    )
    empty = pl.DataFrame(schema={"row": pl.Int64, "detail": pl.String})
    if found.is_empty():
        return texts, empty
    spread = _widespread(found.select("row", "key"), info, needed)
    if spread.is_empty():
        return texts, empty
    hit = found.join(spread, on="key").sort("row")
    cut = texts.gather(hit["row"]).str.replace(_CLOSING_LIST, "").str.strip_chars_end()
    details = []
    for said, items, posts in hit.select("said", "items", "posts").iter_rows():
        n = len(items.strip().splitlines())
        details.append(
            f"A closing list of {n} item{'s' if n != 1 else ''} under '{_short(said)}' ({posts:,} posts end so) taken out of the clean text."
        )
    return texts.scatter(hit["row"], cut), pl.DataFrame({"row": hit["row"], "detail": details}, schema=empty.schema)


def _detail(count: int, examples: list[str], posts: list[int]) -> str:
    shown = "; ".join(f"'{_short(line)}' ({p:,} posts)" for line, p in zip(examples, posts))
    what = "line" if count == 1 else "lines"
    return f"{count} {what} taken out of the clean text, found in many posts under unrelated titles: {shown}."


def _short(line: str) -> str:
    line = " ".join(line.split())
    return line if len(line) <= _EXAMPLE_CHARS else line[: _EXAMPLE_CHARS - 1] + "…"


# What a mailing tool writes under every newsletter it sends: a series' messages share it under one
# title shape, so the widespread-line rule above leaves it to `templated`, which flags but does not
# clean. Phrases, not words: a post about why readers unsubscribe keeps its sentences.
_MAILING_PHRASES = (
    r"^\W*unsubscribe\W*$",
    r"(?:click|tap) here to unsubscribe",
    r"unsubscribe (?:here|now|instantly|from (?:this|our|these|the|all) (?:list|emails?|newsletters?|mailing list|mailings))",
    r"(?:^|\|)[ \t]*unsubscribe[ \t]*(?:\||$)",
    r"update (?:your )?(?:subscription |email )?preferences",
    r"manage (?:your )?(?:subscription|email preferences|preferences|email settings)",
    r"(?:view|read|open) (?:this (?:email|newsletter|message) |it )?(?:in (?:your|a|the) (?:web )?browser|online)",
    r"view (?:the )?web version",
    r"forward (?:this (?:email|newsletter|message) )?to a friend",
    r"you (?:are receiving|received|got|receive) this (?:email|message|newsletter)",
    r"this (?:email|message|newsletter) was sent to",
    r"our mailing address is",
    r"want to change how you receive these emails",
    r"add (?:us|[\w.@-]+) to your (?:address book|contacts|safe senders)",
    r"no longer (?:want|wish) to receive (?:these |our )?(?:emails|messages|newsletters)",
    r"all rights reserved",
    # The same lines in German, French, Spanish, Dutch, Italian and Portuguese: a verb of leaving a list
    # alone on its line or beside the word for the list (a writer may leave a course in a sentence).
    # (Word boundaries are ASCII ones: Unicode's make the scan of every text some thirty times slower.)
    r"^\W*(?:abmelden|abbestellen|se d[ée]sabonner|se d[ée]sinscrire|d[ée]sinscription|d[ée]sabonnement|darse de baja"
    r"|darte de baja|uitschrijven|afmelden|disiscriviti|annulla (?:l'|la )?iscrizione|descadastrar"
    r"|cancelar (?:la |a )?(?:suscripci[oó]n|inscri[cç][aã]o))\W*$",
    r"(?:newsletter|e-?mails?|mailing|liste|lista|nieuwsbrief)(?-u:\b)[^\n]{0,40}?(?:abmelden|abbestellen|d[ée]sabonner"
    r"|d[ée]sinscrire|darse de baja|darte de baja|uitschrijven|afmelden|disiscriviti|descadastrar)",
    r"(?:abmelden|abbestellen|d[ée]sabonner|d[ée]sinscrire|darse de baja|darte de baja|uitschrijven|afmelden"
    r"|disiscriviti|descadastrar)[^\n]{0,40}?(?-u:\b)(?:newsletter|e-?mails?|mailing|liste|lista|nieuwsbrief)",
    r"im browser (?:ansehen|anzeigen|[öo]ffnen|lesen)|(?:voir|afficher|lire) (?:cet e-?mail |ce message |la version )?"
    r"(?:en ligne|dans (?:votre|le|un) navigateur)|ver (?:este (?:correo|e-?mail) )?en (?:el|tu|su) navegador"
    r"|bekijk (?:deze (?:e-?mail|nieuwsbrief) )?in (?:je|uw|de) browser|visualizza (?:questa e-?mail )?nel (?:tuo )?browser"
    r"|(?:ver|visualizar) no navegador",
    r"sie erhalten diese (?:e-?mail|nachricht)|vous recevez (?:cet e-?mail|ce message)|(?:recibes|recibe|has recibido) este correo"
    r"|u ontvangt deze|je ontvangt deze|ricevi questa e-?mail|voc[eê] (?:est[aá] )?receb(?:e|endo) este e-?mail",
    r"alle rechte vorbehalten|tous droits r[ée]serv[ée]s|todos los derechos reservados|alle rechten voorbehouden"
    r"|tutti i diritti riservati|todos os direitos reservados",
)
MAILING_LINE = r"(?im)" + "|".join(f"(?:{p})" for p in _MAILING_PHRASES) + r"|\*\|[A-Z_:]+\|\*"
_ADDRESS_LEAD = r"(?i)(?:our|my) (?:mailing|postal) address is|unsere (?:post)?anschrift|notre adresse (?:postale )?est"
_ADDRESS_LINES = 6
# Lines of more words are the writer's sentences, whatever they mention.
_MAILING_MAX_WORDS = 30


def remove_mailing_footers(texts: pl.Series, eligible: pl.Series) -> tuple[pl.Series, pl.Series]:
    """(texts without the mailing tool's lines among their last lines, per text a sentence naming them
    or null): unsubscribe and preference links, "view in browser", "you are receiving this email
    because…", the sender's mailing address line, merge tags such as *|UNSUB|*; outside code."""
    n = len(texts)
    none = pl.Series("boilerplate", [None] * n, dtype=pl.String)
    rows = eligible.fill_null(False) & texts.str.slice(-_SLICE_CHARS).str.contains(MAILING_LINE).fill_null(False)
    touched = rows.arg_true().cast(pl.Int64)
    if len(touched) == 0:
        return texts, none
    marked = (
        lines_with_code(texts, touched)
        .with_columns(
            drop=(pl.col("n") >= pl.col("total") - _FOOT_LINES)
            & ~pl.col("code")
            & pl.col("line").str.contains(MAILING_LINE)
            & (pl.col("line").str.count_matches(r"\S+") <= _MAILING_MAX_WORDS),
            # The sender's postal address goes too: the lines under "Our mailing address is:" up to a blank line.
            block=(pl.col("line").str.strip_chars() == "").cast(pl.Int32).cum_sum().over("row"),
        )
        .with_columns(
            address=pl.col("line").str.contains(_ADDRESS_LEAD).fill_null(False).cum_max().over("row", "block"),
            lines_in_block=pl.len().over("row", "block"),
        )
        .with_columns(
            drop=pl.col("drop")
            | (pl.col("address") & (pl.col("lines_in_block") <= _ADDRESS_LINES + 2) & ~pl.col("code")
               & (pl.col("n") >= pl.col("total") - _FOOT_LINES))
        )
        .drop("block", "address", "lines_in_block")
    )
    kept = marked.filter(~pl.col("drop")).group_by("row", maintain_order=True).agg(pl.col("line").str.join("\n"))
    rewritten = pl.DataFrame({"row": touched}).join(kept, on="row", how="left").with_columns(
        pl.col("line").fill_null("").str.replace_all(r"\n{3,}", "\n\n").str.strip_chars("\n")
    )
    said = (
        marked.filter("drop")
        .group_by("row", maintain_order=True)
        .agg(pl.len().alias("lines"), pl.col("line").head(_EXAMPLES).alias("shown"))
    )
    if said.is_empty():
        return texts, none
    changed = rewritten.join(said.select("row"), on="row")
    details = [
        f"{count} {'line' if count == 1 else 'lines'} a mailing tool adds under its messages taken out of the clean text: "
        + "; ".join(f"'{_short(line)}'" for line in shown)
        + "."
        for count, shown in said.select("lines", "shown").iter_rows()
    ]
    return texts.scatter(changed["row"], changed["line"]), none.scatter(said["row"], details)
