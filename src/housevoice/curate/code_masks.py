"""Rewriting markdown prose with polars while its code blocks and spans stay as they are."""

from __future__ import annotations

import re

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
_WRAP_OPEN, _WRAP_CLOSE = "\ue003", "\ue004"
_MARK_BASE, _MARK_LIMIT = 0xE010, 0xF8FF
# Texts already holding our marks are rewritten the guarded way instead.
_MARK_CHARS = "[\ue003\ue004\ue010-\uf8ff]"
_LOW_MARK, _HIGH_MARK = chr(_MARK_BASE), chr(_MARK_LIMIT)


def _mask(wrapped: str) -> tuple[str, list[str]] | None:
    """Text whose code is wrapped in marks -> (text with numbered code marks, the codes)."""
    parts = wrapped.split(_WRAP_OPEN)
    if len(parts) == 1:
        return wrapped, []
    if len(parts) - 1 > _MARK_LIMIT - _MARK_BASE:
        return None
    out, codes = [parts[0]], []
    for n, part in enumerate(parts[1:]):
        code, _, rest = part.partition(_WRAP_CLOSE)
        codes.append(code)
        out.append(f"`{chr(_MARK_BASE + n)}{rest}")
    return "".join(out), codes


def _unmask(text: str, codes: list[str]) -> str:
    """The codes put back in place of their marks.

    No rewrite can split a mark: none starts or ends between a backtick and what follows it.
    """
    if not codes:
        return text
    pieces = text.split("`")
    out = [pieces[0]]
    for piece in pieces[1:]:
        if piece and _LOW_MARK <= piece[0] <= _HIGH_MARK:
            out.append(codes[ord(piece[0]) - _MARK_BASE])
            out.append(piece[1:])
        else:
            out.append("`")
            out.append(piece)
    return "".join(out)


_MARKS = re.compile(_MARK_CHARS).findall


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
    unsafe = chosen.str.contains(_MARK_CHARS).fill_null(False).to_list()
    wrapped = chosen.str.replace_all(CODE, f"{_WRAP_OPEN}${{0}}{_WRAP_CLOSE}").to_list()
    masked, codes = [], []
    for text, bad in zip(wrapped, unsafe):
        done = None if bad else _mask(text)
        masked.append(done[0] if done else "")
        codes.append(done[1] if done else None)
    redo: set[int] = {i for i, code in enumerate(codes) if code is None}
    for rows, change, python_step in steps:
        mine = [i for i in rows.gather(positions).fill_null(False).arg_true().to_list() if i not in redo]
        if not mine:
            continue
        done = pl.select(change(pl.lit(pl.Series([masked[i] for i in mine], dtype=pl.String)), False)).to_series().to_list()
        for i, text in zip(mine, done):
            if python_step is not None:
                stepped = python_step(text)
                # A numeric character reference may have written one of our marks: redo that row.
                if stepped != text and "&#" in text and len(_MARKS(stepped)) != len(_MARKS(text)):
                    redo.add(i)
                text = stepped
            masked[i] = text
    changed = [None if i in redo else _unmask(text, code) for i, (text, code) in enumerate(zip(masked, codes))]
    if redo:
        again = chosen.gather(sorted(redo))
        for rows, change, python_step in steps:
            again = _where_guarded(again, rows.gather(positions).gather(sorted(redo)), change, python_step)
        for i, text in zip(sorted(redo), again.to_list()):
            changed[i] = text
    return texts.scatter(positions, pl.Series(changed, dtype=pl.String))


def _where_guarded(texts: pl.Series, rows: pl.Series, change, python_step) -> pl.Series:
    """One step of `rewrite_outside_code` with every pattern guarded against code (slower, always safe)."""
    picked = rows.fill_null(False).arg_true()
    if len(picked) == 0:
        return texts
    done = pl.select(change(pl.lit(texts.gather(picked)), True)).to_series()
    if python_step is not None:
        done = pl.Series([outside_code(t, python_step) for t in done.to_list()], dtype=pl.String)
    return texts.scatter(picked, done)


def python_per_row(texts: pl.Series, mask: pl.Series, change) -> pl.Series:
    rows = mask.fill_null(False).arg_true()
    if len(rows) == 0:
        return texts
    return texts.scatter(rows, [change(t) for t in texts.gather(rows).to_list()])



def where(texts: pl.Series, pattern: str, change) -> pl.Series:
    """Run the expression `change` only on the rows where `pattern` occurs (most rows have none)."""
    rows = texts.str.contains(pattern).fill_null(False).arg_true()
    if len(rows) == 0:
        return texts
    changed = pl.select(change(pl.lit(texts.gather(rows)))).to_series()
    return texts.scatter(rows, changed)
