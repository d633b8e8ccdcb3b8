"""Rewriting markdown prose with polars while its code blocks and spans stay as they are."""

from __future__ import annotations

import os
import re
from concurrent.futures import BrokenExecutor, Executor, ThreadPoolExecutor

import polars as pl

from housevoice.curate.markup import CODE

_CODE_RE = re.compile(CODE)


def outside_code(text: str, change) -> str:
    """Apply `change` to every stretch of markdown text that is not a code block or span."""
    parts, last = [], 0
    for found in _CODE_RE.finditer(text):
        parts.append(change(text[last : found.start()]))
        parts.append(found.group())
        last = found.end()
    parts.append(change(text[last:]))
    return "".join(parts)


# While prose is rewritten each code block or span is a backtick and one private-use character
# of its own (its number), so codes come back in place even where a pattern removed others.
# No rewrite starts or ends between a backtick and what follows it, so no mark is split.
_MARK_BASE, _MARK_LIMIT = 0xE010, 0xF8FF
_MARKS = pl.Series("mark", [chr(c) for c in range(_MARK_BASE, _MARK_LIMIT + 1)], dtype=pl.String)
# Texts already holding our marks are rewritten the guarded way instead.
_MARK_CHARS = "[\ue003\ue004\ue010-\uf8ff]"
_OPEN, _CLOSE = "\ue003", "\ue004"


def mask_code(texts: pl.Series) -> tuple[pl.Series, pl.DataFrame, pl.Series]:
    """(texts with each code block or span as a numbered mark, the codes as rows (row, n, code), rows masked).

    Rows that cannot be masked (they hold our mark characters, or too many codes) are left out.
    """
    # Code opens with a backtick or `~~~`: a text without either is its own masked text.
    coded = (texts.str.contains("`", literal=True) | texts.str.contains("~~~", literal=True)).fill_null(False)
    if coded.all():
        return _mask_code(texts)
    rows = coded.arg_true()
    masked, codes, safe = _mask_code(texts.gather(rows))
    texts = texts.fill_null("")
    # The others are safe unless they hold our marks (beyond ASCII: only such texts are scanned).
    beyond = (~coded & (texts.str.len_bytes() != texts.str.len_chars())).arg_true()
    safe = pl.Series([True] * len(texts), dtype=pl.Boolean).scatter(rows, safe)
    return (
        texts.clone().scatter(rows, masked),
        codes.with_columns(row=rows.gather(codes["row"]).cast(pl.Int64)),
        safe.scatter(beyond, ~texts.gather(beyond).str.contains(_MARK_CHARS)),
    )


def _mask_code(texts: pl.Series) -> tuple[pl.Series, pl.DataFrame, pl.Series]:
    frame = pl.DataFrame({"text": texts}).select(
        row=pl.int_range(pl.len()),
        # (Our marks are beyond ASCII: a text of ASCII alone holds none, and is not scanned for them.)
        safe=(pl.col("text").str.len_bytes() == pl.col("text").str.len_chars()) | ~pl.col("text").str.contains(_MARK_CHARS),
        pieces=pl.col("text").str.replace_all(CODE, f"{_OPEN}${{0}}{_CLOSE}").str.split(_OPEN),
    )
    frame = frame.with_columns(safe=pl.col("safe") & (pl.col("pieces").list.len() <= len(_MARKS)))
    # Piece 0 is prose (n = -1); every later piece is a code, its closing mark, then prose. The same
    # code twice in a text is one mark (a reference label holding code, "[`serde`]", then matches its
    # definition's). (Both branches of `when` are evaluated, so the prose rows' -1 is clipped before the gather.)
    long = (
        frame.filter("safe")
        .select("row", "pieces", n=pl.int_ranges(-1, pl.col("pieces").list.len() - 1))
        .explode(["pieces", "n"])
        .with_columns(split=pl.col("pieces").str.splitn(_CLOSE, 2))
        .with_columns(code=pl.when(pl.col("n") >= 0).then(pl.col("split").struct.field("field_0")))
        .with_columns(n=pl.when(pl.col("n") >= 0).then(pl.col("n").min().over("row", "code")).otherwise(pl.col("n")))
        .select(
            "row",
            "n",
            "code",
            text=pl.when(pl.col("n") >= 0)
            .then(pl.concat_str(pl.lit("`"), pl.lit(_MARKS).gather(pl.col("n").clip(0, len(_MARKS) - 1)), pl.col("split").struct.field("field_1")))
            .otherwise(pl.col("pieces")),
        )
    )
    joined = long.group_by("row", maintain_order=True).agg(pl.col("text").str.join(""))
    masked = pl.Series([""] * len(texts), dtype=pl.String).scatter(joined["row"], joined["text"])
    codes = long.filter(pl.col("n") >= 0).select("row", "n", "code").unique(["row", "n"], keep="first", maintain_order=True)
    return masked, codes, frame["safe"]


def unmask_code(masked: pl.Series, codes: pl.DataFrame) -> pl.Series:
    """The codes (rows of `mask_code`) put back in place of their marks; a mark a rewrite removed takes its code with it.
    (A row without codes holds no marks: it is its own text.)"""
    rows = codes["row"].unique().sort()
    if len(rows) == 0:
        return masked
    if len(rows) < len(masked):
        inner = codes.join(pl.DataFrame({"row": rows, "at": pl.int_range(len(rows), eager=True)}), on="row").select(
            row="at", n="n", code="code"
        )
        return masked.clone().scatter(rows, _unmask_code(masked.gather(rows), inner))
    return _unmask_code(masked, codes)


def _unmask_code(masked: pl.Series, codes: pl.DataFrame) -> pl.Series:
    numbers = pl.DataFrame({"first": _MARKS, "n": pl.int_range(len(_MARKS), eager=True)})
    joined = (
        pl.DataFrame({"row": pl.int_range(len(masked), eager=True), "piece": masked.str.split("`")})
        .explode("piece")
        .with_columns(start=pl.col("row").is_first_distinct(), first=pl.col("piece").str.slice(0, 1))
        .join(numbers, on="first", how="left", maintain_order="left")
        .join(codes, on=["row", "n"], how="left", maintain_order="left")
        .select(
            "row",
            piece=pl.when(pl.col("start"))
            .then(pl.col("piece"))
            .when(pl.col("code").is_not_null())
            .then(pl.concat_str(pl.col("code"), pl.col("piece").str.slice(1)))
            .otherwise(pl.concat_str(pl.lit("`"), pl.col("piece"))),
        )
        .group_by("row", maintain_order=True)
        .agg(pl.col("piece").str.join(""))
    )
    return pl.Series([""] * len(masked), dtype=pl.String).scatter(joined["row"], joined["piece"])


def rewrite_outside_code(texts: pl.Series, steps: list[tuple[pl.Series, object, object]]) -> pl.Series:
    """Run each step `(rows, change, python_step)` on its rows, in order, with code masked.

    `change(expr, protect_code)` is a polars rewrite; `python_step` (or None) then runs on each
    text. Masking once and running plain patterns is several times faster than guarding every
    pattern with the code alternative; rows that cannot be masked safely are redone guarded.
    """
    selected = pl.Series([False] * len(texts), dtype=pl.Boolean)
    for rows, _, _ in steps:
        selected = selected | rows.fill_null(False)
    positions = selected.arg_true()
    if len(positions) == 0:
        return texts
    chosen = texts.gather(positions)
    masked, codes, safe = mask_code(chosen)
    for rows, change, python_step in steps:
        mine = (rows.gather(positions).fill_null(False) & safe).arg_true()
        if len(mine) == 0:
            continue
        done = pl.select(change(pl.lit(masked.gather(mine)), False)).to_series()
        if python_step is not None:
            stepped = pl.Series([python_step(t) for t in done.to_list()], dtype=pl.String)
            # A numeric character reference may have written one of our marks: redo that row.
            referenced = done.str.contains("&#", literal=True).arg_true()
            if len(referenced):
                before, after = done.gather(referenced), stepped.gather(referenced)
                wrote = referenced.filter(after.str.count_matches(_MARK_CHARS) != before.str.count_matches(_MARK_CHARS))
                safe = safe.scatter(mine.gather(wrote), False)
            done = stepped
        masked = masked.scatter(mine, done)
    out = unmask_code(masked, codes)
    redo = (~safe).arg_true()
    if len(redo):
        again = chosen.gather(redo)
        for rows, change, python_step in steps:
            again = _where_guarded(again, rows.gather(positions).gather(redo), change, python_step)
        out = out.scatter(redo, again)
    return texts.scatter(positions, out)


def _where_guarded(texts: pl.Series, rows: pl.Series, change, python_step) -> pl.Series:
    """One step of `rewrite_outside_code` with every pattern guarded against code (slower, always safe)."""
    picked = rows.fill_null(False).arg_true()
    if len(picked) == 0:
        return texts
    done = pl.select(change(pl.lit(texts.gather(picked)), True)).to_series()
    if python_step is not None:
        done = pl.Series([outside_code(t, python_step) for t in done.to_list()], dtype=pl.String)
    return texts.scatter(picked, done)


FENCE_LINE = r"^[ \t]*(?:```|~~~)"


def lines_with_code(texts: pl.Series, rows: pl.Series) -> pl.DataFrame:
    """(row, line, n, total, code): every line of the texts at `rows`, in order, its number and its
    text's line count; `code` where it is a fence line or lies between fence lines."""
    return (
        pl.DataFrame({"row": rows, "line": texts.gather(rows).fill_null("").str.split("\n")})
        .with_columns(n=pl.int_ranges(0, pl.col("line").list.len()), total=pl.col("line").list.len().cast(pl.Int64))
        .explode(["line", "n"])
        .with_columns(fence=pl.col("line").str.contains(FENCE_LINE))
        # A fence line opens or closes a block: lines after an odd number of them are code.
        .with_columns(code=(pl.col("fence").cast(pl.Int32).cum_sum().over("row") % 2 == 1) | pl.col("fence"))
        .drop("fence")
    )


# Fewest texts sent to other processes at once: below it, sending costs more than it saves.
_POOL_MIN_TEXTS = 64


def python_per_row(texts: pl.Series, mask: pl.Series, change, pool: Executor | None = None) -> pl.Series:
    """`change` (a Python function of one text) on the rows of `mask`; in `pool`'s processes when given
    (Python holds its lock while it runs: threads cannot share the work). `change` must then pickle:
    a module's function, or a `functools.partial` of one."""
    rows = mask.fill_null(False).arg_true()
    if len(rows) == 0:
        return texts
    values = texts.gather(rows).to_list()
    if pool is not None and len(values) >= _POOL_MIN_TEXTS:
        try:
            return texts.scatter(rows, list(pool.map(change, values, chunksize=16)))
        except (BrokenExecutor, OSError):  # processes that died (killed, out of memory) or could not start: done here
            pass
    return texts.scatter(rows, [change(t) for t in values])



def where_found(texts: pl.Series, hint: str | tuple[str, ...], pattern: str) -> pl.Series:
    """Rows where `pattern` occurs, read only on the rows where `hint` (found in every match, and faster) does;
    several hints: where any of them does."""
    hints = (hint,) if isinstance(hint, str) else hint
    found_any = texts.str.contains(hints[0])
    for other in hints[1:]:
        found_any = found_any | texts.str.contains(other)
    rows = found_any.fill_null(False).arg_true()
    found = pl.Series([False] * len(texts), dtype=pl.Boolean)
    return found.scatter(rows, texts.gather(rows).str.contains(pattern).fill_null(False)) if len(rows) else found


def non_ascii(texts: pl.Series) -> pl.Series:
    """Rows holding a character beyond ASCII (more bytes than characters): counted at memory speed, where a
    regex scan for a class of rare characters reads every character at a fraction of it."""
    return (texts.str.len_bytes() != texts.str.len_chars()).fill_null(False)


def where(texts: pl.Series, pattern: str, change, beyond_ascii: bool = False) -> pl.Series:
    """Run the expression `change` only on the rows where `pattern` occurs (most rows have none).

    beyond_ascii: every match of `pattern` is a character beyond ASCII: only such rows are scanned."""
    if beyond_ascii:
        candidates = non_ascii(texts).arg_true()
        rows = candidates.filter(texts.gather(candidates).str.contains(pattern).fill_null(False))
    else:
        rows = texts.str.contains(pattern).fill_null(False).arg_true()
    if len(rows) == 0:
        return texts
    changed = pl.select(change(pl.lit(texts.gather(rows)))).to_series()
    return texts.scatter(rows, changed)


def in_slices(items, size: int, work, workers: int | None = None) -> list:
    """`work` on each slice of `size` of `items` (a Series or a frame), `workers` at once (default:
    the CPUs this process may use), results in order. A polars pass over a whole column runs on one
    core; slices of it run side by side, as polars lets go of Python's lock."""
    parts = [items.slice(start, size) for start in range(0, len(items), size)] or [items]
    if len(parts) == 1:
        return [work(parts[0])]
    with ThreadPoolExecutor(max(1, workers or len(os.sched_getaffinity(0)))) as pool:
        return list(pool.map(work, parts))
