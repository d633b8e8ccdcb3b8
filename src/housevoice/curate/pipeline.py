"""The curation pipeline: clean, count tokens, run the flaggers in config order, route."""

from __future__ import annotations

import importlib
import inspect
import json
import os
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import ValidationError

from housevoice.config import Config, CurateConfig, table_error
from housevoice.curate.base import FLAG_ROWS, Flagger, FlagResult
from housevoice.schema import CURATED, FLAG
from housevoice.store import Workspace

# Where each flagger lives; a module may hold several (found by their `name`).
FLAGGER_MODULES = {
    "html": "markup",
    "url": "markup",
    "duplicates": "duplicates",
    "templated": "templated",
    "stale": "record_checks",
    "length": "record_checks",
    "off_author": "record_checks",
    "not_published": "record_checks",
    "not_prose": "record_checks",
    "pii": "pii",
    "reviewer_pattern": "reviewer_pattern",
}
ROUTE_ORDER = {"keep": 0, "review": 1, "drop": 2}


def flagger_class(name: str) -> type[Flagger]:
    module = importlib.import_module(f"housevoice.curate.{FLAGGER_MODULES[name]}")
    for _, obj in inspect.getmembers(module, inspect.isclass):
        if issubclass(obj, Flagger) and obj is not Flagger and getattr(obj, "name", None) == name:
            return obj
    raise LookupError(f"no flagger named {name!r} in {module.__name__}")


def build_flaggers(config: Config, overrides: dict[str, dict[str, Any]] | None = None) -> list[Flagger]:
    """The configured flaggers, in config order, each with its validated settings."""
    overrides = overrides or {}
    flaggers = []
    for name in config.curate.flaggers:
        cls = flagger_class(name)
        raw = {**config.curate.flagger_settings(name), **overrides.get(name, {})}
        try:
            settings = cls.Settings.model_validate(raw)
        except ValidationError as exc:
            raise table_error(f"curate.{name}", exc) from None
        flaggers.append(cls(settings))
    return flaggers


def clean_settings(config: Config):
    from housevoice.curate.clean import CleanSettings

    try:
        return CleanSettings.model_validate(config.curate.flagger_settings("clean"))
    except ValidationError as exc:
        raise table_error("curate.clean", exc) from None


def prepare_frame(records: pl.DataFrame, config: Config, tokenizer_spec: str | None, notes: list[str] | None = None) -> pl.DataFrame:
    """records + clean_text + n_tokens: what every flagger reads."""
    from housevoice.curate.clean import clean_frame

    frame = clean_frame(records, clean_settings(config))
    counts, note = _frame_token_counts(frame, config, tokenizer_spec)
    if notes is not None and note:
        notes.append(note)
    return frame.with_columns(pl.Series("n_tokens", counts, dtype=pl.Int64))


def _frame_token_counts(
    frame: pl.DataFrame, config: Config, tokenizer_spec: str | None, cache_dir: Path | None = None
) -> tuple[list[int], str]:
    length = config.curate.flagger_settings("length")
    return token_counts(
        frame["clean_text"], tokenizer_spec,
        limits=(length.get("min_tokens", 20), length.get("max_tokens", 4096)),
        exact_all=length.get("exact_counts") == "all",
        cache_dir=cache_dir,
    )


CALIBRATION_SAMPLE = 256
# GPT-2's pre-tokenizer split in the regex dialect polars runs (no lookahead): a mark put before
# the last whitespace of every run of two or more before a word stands in for `\s+(?!\S)`
# (a single whitespace character splits the same way without it).
_BYTE_LEVEL_PIECE = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}\x00]+|\s+"
_PIECE_CHUNK = 2048


def _splits_like_gpt2(tokenizer) -> tuple[bool, list[str]]:
    """Whether tokens can be counted piece by piece (plain byte-level BPE), and its added tokens."""
    spec = json.loads(tokenizer.to_str())
    pre = spec.get("pre_tokenizer") or {}
    plain = (
        spec.get("normalizer") is None
        and pre.get("type") == "ByteLevel"
        and pre.get("use_regex", True)
        and not pre.get("add_prefix_space", False)
        and (spec.get("model") or {}).get("type") == "BPE"
    )
    return plain, [t["content"] for t in spec.get("added_tokens") or []]


def _count_by_pieces(values: pl.Series, tokenizer) -> list[int]:
    """Exact token counts of a byte-level BPE: each distinct word piece is encoded once, then summed.

    The tokenizers library's own pre-tokenizer runs well under 1 MB/s on long posts; splitting in
    polars and encoding only the distinct pieces gives the same counts many times faster.
    """
    from housevoice.curate.tokens import count_tokens

    known = pl.DataFrame(schema={"h": pl.UInt64, "n": pl.Int64})
    counts: list[int] = []
    for start in range(0, len(values), _PIECE_CHUNK):
        part = values.slice(start, _PIECE_CHUNK)
        pieces = (
            pl.DataFrame({"row": pl.int_range(len(part), eager=True), "p": part.str.replace_all(r"(\s)(\s\S)", "${1}\x00${2}").str.extract_all(_BYTE_LEVEL_PIECE)})
            .explode("p")
            .drop_nulls("p")
            .with_columns(h=pl.col("p").hash(seed=3))
        )
        new = pieces.select("h", "p").unique("h").join(known, on="h", how="anti")
        if new.height:
            fresh = pl.DataFrame({"h": new["h"], "n": count_tokens(new["p"].to_list(), tokenizer)}, schema=known.schema)
            known = pl.concat([known, fresh])
        per_row = pieces.select("row", "h").join(known, on="h", how="left").group_by("row").agg(pl.col("n").sum())
        out = pl.DataFrame({"row": pl.int_range(len(part), eager=True)}).join(per_row, on="row", how="left")
        counts.extend(out.sort("row")["n"].fill_null(0).to_list())
    return counts


def _exact_counts(values: pl.Series, tokenizer) -> list[int]:
    """Exact token counts of the texts (no nulls). They stay in polars: only what the tokenizer
    must read becomes Python strings (a corpus as Python strings costs more memory than the corpus)."""
    from housevoice.curate.tokens import count_tokens

    plain, added = _splits_like_gpt2(tokenizer)
    if not plain or len(values) == 0:
        return count_tokens(values.to_list(), tokenizer)
    counts = _count_by_pieces(values, tokenizer)
    # Added tokens are matched whole by the tokenizer, and NUL is our piece mark: count those texts its way.
    odd = values.str.contains_any([*added, "\x00"]).arg_true()
    for i, n in zip(odd.to_list(), count_tokens(values.gather(odd).to_list(), tokenizer)):
        counts[i] = n
    return counts


def token_counts(
    texts: pl.Series, tokenizer_spec: str | None, *, limits: tuple[int, int], exact_all: bool = False,
    cache_dir: Path | None = None,
) -> tuple[list[int], str]:
    """Tokens per text under the configured tokenizer.

    Tokenizing is the slowest step of curation by far, and only counts near a limit change a
    flag; so by default texts far from both limits get an estimate from the characters-per-token
    ratio measured on a sample, and the note says how many were estimated. `cache_dir`: exact
    counts of texts counted at an earlier run with this tokenizer are taken from there (`text_cache`).
    """
    from housevoice.curate.tokens import load_tokenizer

    tokenizer = load_tokenizer(tokenizer_spec)
    values = texts.cast(pl.String).fill_null("")
    exact = _ExactCounts(values, tokenizer, cache_dir)
    counts, note = _token_counts(values, exact, limits, exact_all)
    exact.save()
    return counts, "; ".join(n for n in (note, *exact.notes) if n)


class _ExactCounts:
    """Exact token counts of chosen texts, from the workspace's cache where a text was counted before."""

    def __init__(self, values: pl.Series, tokenizer, cache_dir: Path | None):
        from housevoice.curate.text_cache import TextCache, fingerprint

        self.values, self.tokenizer, self.cache = values, tokenizer, None
        if cache_dir is not None:
            import hashlib

            spec = hashlib.sha256(tokenizer.to_str().encode()).hexdigest()
            self.cache = TextCache(cache_dir, "tokens", fingerprint(spec, ("pipeline.py", "tokens.py"), ("tokenizers", "polars")), {"tokens": pl.Int64})
            self.keys = self.cache.keys(values)
            known, _ = self.cache.lookup(self.keys)
            self.counts = known["tokens"]
            self.counted: list[pl.Series] = []

    def __call__(self, idx: list[int]) -> list[int]:
        if self.cache is None:
            return _exact_counts(self.values.gather(idx), self.tokenizer)
        wanted = pl.Series(idx, dtype=pl.UInt32)
        missing = wanted.filter(self.counts.gather(wanted).is_null())
        if len(missing):
            self.counts = self.counts.scatter(missing, _exact_counts(self.values.gather(missing), self.tokenizer))
            self.counted.append(missing)
        return self.counts.gather(wanted).to_list()

    def save(self) -> None:
        """The counts of this corpus's texts back to the cache (see `TextCache.keep`)."""
        if self.cache is None:
            return
        self.cache.keep(self.keys, self.counts, pl.concat(self.counted) if self.counted else pl.Series(dtype=pl.UInt32))

    @property
    def notes(self) -> list[str]:
        return self.cache.notes if self.cache is not None else []


def _token_counts(values: pl.Series, exact: _ExactCounts, limits: tuple[int, int], exact_all: bool) -> tuple[list[int], str]:
    if exact_all or len(values) <= CALIBRATION_SAMPLE:
        return exact(list(range(len(values)))), ""
    chars = values.str.len_chars()
    step = max(1, len(values) // CALIBRATION_SAMPLE)
    sample_idx = list(range(0, len(values), step))[:CALIBRATION_SAMPLE]
    low, high = limits
    sample_counts = exact(sample_idx)
    sample_chars = int(chars.gather(sample_idx).sum())
    per_token = max(sample_chars / max(sum(sample_counts), 1), 0.5)
    estimate = (chars / per_token).round(0).cast(pl.Int64)
    near = ((estimate >= low * 0.5) & (estimate <= low * 2 + 10)) | ((estimate >= high * 0.7) & (estimate <= high * 1.5))
    exact_idx = sorted(set(near.arg_true().to_list()) - set(sample_idx))
    counts = estimate.to_list()
    for i, n in zip(exact_idx, exact(exact_idx)):
        counts[i] = n
    for i, n in zip(sample_idx, sample_counts):
        counts[i] = n
    n_estimated = len(values) - len(exact_idx) - len(sample_idx)
    note = (
        f"n_tokens: counted exactly for {len(values) - n_estimated:,} records (near a length limit, or in the "
        f"calibration sample); estimated for {n_estimated:,} others at {per_token:.2f} characters per token "
        "([curate.length] exact_counts = \"all\" counts every record)"
    )
    return counts, note


@dataclass
class StepTiming:
    name: str
    seconds: float
    flags: int


def _run_one(
    flagger: Flagger, frame: pl.DataFrame, progress: Callable[[str], None] | None = None
) -> tuple[pl.DataFrame, pl.DataFrame | None, StepTiming]:
    if progress:
        progress(flagger.name)
    start = time.perf_counter()
    result: FlagResult = flagger.flag(frame)
    flags = result.flags.select(FLAG_ROWS.names()).cast(dict(FLAG_ROWS))
    return flags, result.columns, StepTiming(flagger.name, time.perf_counter() - start, len(flags))


def clean_flags(frame: pl.DataFrame) -> pl.DataFrame:
    """Flag rows for what the cleaners took out of a record beyond markup (its `boilerplate` lines)."""
    if "boilerplate" not in frame.columns:
        return pl.DataFrame(schema=FLAG_ROWS)
    return frame.filter(pl.col("boilerplate").is_not_null()).select(
        "record_id",
        name=pl.lit("boilerplate"),
        score=pl.col("boilerplate").str.extract(r"^(\d+)").cast(pl.Float64),
        detail=pl.col("boilerplate"),
    )


def _gather(frame: pl.DataFrame, done: list[tuple[pl.DataFrame, pl.DataFrame | None, StepTiming]]):
    """The flaggers' outputs (in config order) as one flag table, one column table, the timings."""
    columns = frame.select("record_id")
    for _, extra, _ in done:
        if extra is not None and extra.width > 1:
            columns = columns.join(extra.unique("record_id", keep="first"), on="record_id", how="left")
    all_flags = pl.concat([clean_flags(frame), *(flags for flags, _, _ in done)])
    return all_flags, columns, [timing for _, _, timing in done]


def _workers(workers: int | None) -> int:
    return max(1, workers or len(os.sched_getaffinity(0)))


def run_flaggers(
    frame: pl.DataFrame,
    flaggers: list[Flagger],
    progress: Callable[[str], None] | None = None,
    workers: int | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, list[StepTiming]]:
    """Run every flagger over the frame: (flag rows, extra columns keyed by record_id, timings).

    Flaggers run side by side, `workers` at once (default: the CPUs this process may use):
    most of their work is polars, which lets go of Python's lock. Output is in config order;
    each timing is that flagger's own wall time, so timings overlap.
    """
    with ThreadPoolExecutor(_workers(workers)) as pool:
        jobs = [pool.submit(_run_one, flagger, frame, progress) for flagger in flaggers]
        return _gather(frame, [job.result() for job in jobs])


def curate_frame(
    records: pl.DataFrame,
    config: Config,
    flaggers: list[Flagger],
    tokenizer_spec: str | None = None,
    progress: Callable[[str], None] | None = None,
    workers: int | None = None,
    processes: int = 0,
    cache_dir: Path | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, list[StepTiming], list[str]]:
    """Clean the records, count tokens and run the flaggers, side by side where they can be.

    Flaggers that read only the records run while the text is cleaned; the others start once it
    is, beside the token count (those reading `n_tokens` wait for it). Returns (frame with
    clean_text and n_tokens, flag rows in config order, extra columns, timings, notes); the timings
    start with "clean" and "tokens" and overlap. `processes`: see `clean_frame`. `cache_dir`: where
    what curation computes from each text is kept for the next (see `text_cache`); none by default.
    """
    from housevoice.curate.clean import clean_cache, clean_frame

    settings = clean_settings(config)
    cache = clean_cache(cache_dir, settings) if cache_dir is not None else None
    for flagger in flaggers:
        if hasattr(flagger, "cache_dir"):
            flagger.cache_dir = cache_dir  # flaggers that keep what they compute per text

    def count() -> tuple[list[int], str, StepTiming]:
        begin = time.perf_counter()
        counts, note = _frame_token_counts(frame, config, tokenizer_spec, cache_dir)
        return counts, note, StepTiming("tokens", time.perf_counter() - begin, 0)

    def with_tokens(flagger: Flagger):
        counts, _, _ = tokens.result()
        return _run_one(flagger, frame.with_columns(pl.Series("n_tokens", counts, dtype=pl.Int64)), progress)

    jobs: dict[int, Future] = {}
    with ThreadPoolExecutor(_workers(workers)) as pool:
        # Flaggers of the raw records start at once; cleaning runs beside them on its own threads.
        for n, flagger in enumerate(flaggers):
            if not flagger.reads_clean_text and not flagger.reads_tokens:
                jobs[n] = pool.submit(_run_one, flagger, records, progress)
        if progress:
            progress("cleaning text")
        start = time.perf_counter()
        frame = clean_frame(records, settings, workers, processes, cache)
        cleaned = StepTiming("clean", time.perf_counter() - start, 0)
        # Submitted before any flagger that waits on it, so a worker holds it first.
        tokens = pool.submit(count)
        for n, flagger in enumerate(flaggers):
            if n not in jobs:
                jobs[n] = pool.submit(with_tokens, flagger) if flagger.reads_tokens else pool.submit(_run_one, flagger, frame, progress)
        done = [jobs[n].result() for n in range(len(flaggers))]
        counts, note, counted = tokens.result()
    flags, columns, timings = _gather(frame, done)
    frame = frame.with_columns(pl.Series("n_tokens", counts, dtype=pl.Int64))
    notes = [note] if note else []
    for flagger in flaggers:
        notes += getattr(flagger, "cache_notes", [])
    if cache is not None:
        notes += cache.notes
        if cache.hits:
            notes.append(
                f"clean text: {cache.hits:,} of {frame.height:,} records unchanged since the last curation, taken from "
                f"{cache.path.parent}/ (--no-cache cleans every text again)"
            )
    return frame, flags, columns, [cleaned, counted, *timings], notes


def route_records(
    record_ids: pl.Series, flags: pl.DataFrame, config: CurateConfig, kinds: pl.Series | None = None
) -> pl.DataFrame:
    """record_id -> route (the strictest route among its flags, by `config.route_of`) and the rule.

    `kinds`: the records' kinds, aligned with record_ids; a rule from a kind's own table names the kind.
    """
    kind_of = pl.DataFrame(
        {"record_id": record_ids, "kind": kinds.cast(pl.String) if kinds is not None else None},
        schema={"record_id": pl.String, "kind": pl.String},
    )
    ranked = flags.join(kind_of, on="record_id", how="left", maintain_order="left")
    # Few distinct (flag, kind) pairs: each is routed once, by the config's own rule.
    pairs = ranked.select("name", "kind").unique().rows()
    decided = [(name, kind, *config.route_rule(name, kind)) for name, kind in pairs]
    rules = pl.DataFrame(
        [(name, kind, route, f" ({kind})" if table != "curate.routes" else "") for name, kind, route, table in decided],
        schema={"name": pl.String, "kind": pl.String, "route": pl.String, "for_kind": pl.String},
        orient="row",
    )
    ranked = ranked.join(rules, on=["name", "kind"], how="left", nulls_equal=True, maintain_order="left").with_columns(
        pl.col("route").replace_strict(ROUTE_ORDER, return_dtype=pl.Int8).alias("rank")
    )
    worst = (
        ranked.sort(["record_id", "rank"], descending=[False, True])
        .group_by("record_id", maintain_order=True)
        .first()
        .select("record_id", "route", pl.format("{} → {}{}", "name", "route", "for_kind").alias("rule"))
    )
    out = pl.DataFrame({"record_id": record_ids}).join(worst, on="record_id", how="left")
    return out.with_columns(pl.col("route").fill_null("keep"), pl.col("rule").fill_null("no flags → keep"))


@dataclass
class CurateSummary:
    records: int
    routes: dict[str, int]
    flags: dict[str, int]
    timings: list[StepTiming]
    table_path: Any
    seconds: float
    notes: list[str] = field(default_factory=list)


def curate(
    workspace: Workspace | str,
    *,
    stale_before: str | None = None,
    target_author: str | None = None,
    progress: Callable[[str], None] | None = None,
    processes: int = 0,
    use_cache: bool = True,
) -> CurateSummary:
    """Flag every record, clean its text, route it; write `curated` in one atomic write.

    processes: render HTML documents in this many processes (see `clean_frame`; the command line uses
    every CPU this process may). use_cache: take what was computed from unchanged texts from the workspace's
    caches (see `text_cache`) and keep this run's there; False reads every text again and removes them."""
    from housevoice.curate.text_cache import remove_caches
    from housevoice.errors import HousevoiceError

    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)
    overrides: dict[str, dict[str, Any]] = {}
    if stale_before:
        overrides["stale"] = {"before": stale_before}
    if target_author:
        overrides["off_author"] = {"target": target_author}
    start = time.perf_counter()
    flaggers = build_flaggers(ws.config, overrides)
    records = ws.read_table("records")
    if records.is_empty():
        raise HousevoiceError(f"{ws.root} has no records yet", hint=f"run `housevoice ingest {ws.root} SOURCE…` first")
    for flagger in flaggers:
        if hasattr(flagger, "attach_workspace"):
            flagger.attach_workspace(ws)  # flaggers that learn from earlier decisions
    tokenizer = ws.config.curate.flagger_settings("length").get("tokenizer") if "length" in ws.config.curate.flaggers else None
    if not use_cache:
        remove_caches(ws.cache_dir)
    frame, flags, columns, timings, notes = curate_frame(
        records, ws.config, flaggers, tokenizer, progress, processes=processes, cache_dir=ws.cache_dir if use_cache else None
    )
    kinds = frame["kind"] if "kind" in frame.columns else None
    routes = route_records(frame["record_id"], flags, ws.config.curate, kinds)
    flag_lists = (
        flags.group_by("record_id", maintain_order=True)
        .agg(pl.struct("name", "score", "detail").alias("flags"))
    )
    curated = (
        frame.select("record_id", "clean_text", "n_tokens")
        .join(flag_lists, on="record_id", how="left")
        .join(columns, on="record_id", how="left")
        .join(routes.select("record_id", "route"), on="record_id", how="left")
        .with_columns(pl.col("flags").fill_null(pl.lit([], dtype=pl.List(FLAG))))
    )
    for col in ("dup_group", "template_family"):
        if col not in curated.columns:
            curated = curated.with_columns(pl.lit(None, dtype=pl.String).alias(col))
    curated = curated.select(CURATED.names())
    with ws.lock():
        path = ws.write_table("curated", curated)
    return CurateSummary(
        records=len(curated),
        routes=dict(curated.group_by("route").len().iter_rows()),
        flags=dict(flags.group_by("name").len().sort("len", descending=True).iter_rows()),
        timings=timings,
        table_path=path,
        seconds=time.perf_counter() - start,
        notes=notes,
    )


def explain_record(workspace: Workspace | str, record: str) -> dict[str, Any]:
    """Everything curation said about one record (by record_id or source_key), and the rule that routed it."""
    from housevoice.errors import HousevoiceError

    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)
    if not ws.has_table("curated"):
        raise HousevoiceError("nothing is curated yet", hint=f"run `housevoice curate {ws.root}` first")
    records = ws.read_table("records")
    match = records.filter((pl.col("record_id") == record) | (pl.col("source_key") == record))
    if match.is_empty():
        match = records.filter(pl.col("record_id").str.starts_with(record)) if len(record) >= 6 else match
    if match.is_empty():
        raise HousevoiceError(f"no record {record!r} in {ws.root}", hint="give a record_id or the record's own key (source_key)")
    if len(match) > 1:
        raise HousevoiceError(f"{record!r} matches {len(match)} records; give the full record_id")
    rec = match.row(0, named=True)
    cur = ws.read_table("curated").filter(pl.col("record_id") == rec["record_id"])
    if cur.is_empty():
        raise HousevoiceError(f"record {rec['record_id']} was ingested after the last curation", hint="run `housevoice curate` again")
    row = cur.row(0, named=True)
    cfg = ws.config.curate
    kind = rec.get("kind")
    flags = [{**f, "route": cfg.route_of(f["name"], kind)} for f in row["flags"]]
    rule = max(flags, key=lambda f: ROUTE_ORDER[f["route"]]) if flags else None
    if rule is None:
        said = "no flags → keep"
    else:
        table = cfg.route_rule(rule["name"], kind)[1]
        said = f"{rule['name']} → {rule['route']} ([{table}] {rule['name']} = \"{rule['route']}\")"
    return {"record": rec, "curated": row, "flags": flags, "rule": said}
