"""What each trainer learns from: SFT examples from approved records, prompts to sample, preference pairs."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from housevoice.errors import HousevoiceError
from housevoice.tune.settings import TuneSettings

TRAINING_RECORDS = pl.Schema({"record_id": pl.String, "text": pl.String, "origin": pl.String})


def training_records(ws) -> pl.DataFrame:
    """record_id, text, origin: records routed `keep` plus approved ones (edited text), minus rejected ones."""
    try:
        from housevoice.label.decisions import training_records as from_review
    except ImportError:
        return _training_records(ws)
    return from_review(ws)


def _training_records(ws) -> pl.DataFrame:
    curated = ws.read_table("curated")
    decisions = ws.read_table("decisions")
    latest = (decisions.sort("decided_at", maintain_order=True).group_by("record_id", maintain_order=True).last()
              .filter(~pl.col("origin").str.starts_with("rule:")))  # a rule decision only echoes a route
    joined = curated.join(latest.select("record_id", "decision", "edited_text", "origin"), on="record_id", how="left")
    chosen = joined.filter(pl.when(pl.col("decision").is_not_null()).then(pl.col("decision") == "approve")
                           .otherwise(pl.col("route") == "keep"))
    frame = chosen.select(
        "record_id",
        pl.when(pl.col("edited_text").str.strip_chars().str.len_chars() > 0)
        .then(pl.col("edited_text")).otherwise(pl.col("clean_text")).alias("text"),
        pl.col("origin").fill_null(pl.lit("curation:keep")),
    )
    return frame.cast(dict(TRAINING_RECORDS))


@dataclass
class SftData:
    rows: list[dict]  # {"prompt": [...], "completion": [...]} conversational prompt-completion rows
    record_ids: list[str]  # every record used, once
    dataset_hash: str
    split_records: int = 0  # records longer than the context, split at paragraph boundaries
    notes: list[str] = field(default_factory=list)


def dataset_hash(rows: list) -> str:
    blob = "\n".join(json.dumps(r, sort_keys=True, ensure_ascii=False, default=str) for r in rows)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def _meta(value: str | None) -> dict:
    try:
        meta = json.loads(value or "{}")
    except json.JSONDecodeError:
        return {}
    return meta if isinstance(meta, dict) else {}


def record_prompt(record: dict, settings: TuneSettings, context: str = "") -> str:
    """The instruction a record answers, from its kind, title and (for a turn) the conversation so far."""
    kind = record.get("kind") or "post"
    if kind == "transcript_turn":
        return settings.turn_prompt.format(speaker=record.get("author") or "the speaker", context=context,
                                           title=record.get("title") or "").strip()
    kind_name = settings.kind_names.get(kind, kind.replace("_", " "))
    title = (record.get("title") or "").strip()
    template = settings.post_prompt if title else settings.untitled_prompt
    return template.format(kind_name=kind_name, title=title, author=record.get("author") or "")


def turn_contexts(ws, settings: TuneSettings) -> dict[str, str]:
    """For each transcript turn: the preceding turns of its episode as `Speaker: text` lines."""
    records = ws.read_table("records").filter(pl.col("kind") == "transcript_turn")
    if records.is_empty() or settings.context_turns == 0:
        return {}
    texts = dict(ws.read_table("curated").select("record_id", "clean_text").iter_rows())
    episodes: dict[str, list[tuple[int, str, str]]] = {}
    for rec in records.iter_rows(named=True):
        meta = _meta(rec["meta"])
        episode = str(meta.get("episode", rec["source"]))
        text = texts.get(rec["record_id"]) or rec["text"]
        line = f"{rec['author'] or 'Someone'}: {text[-settings.context_chars:]}"
        episodes.setdefault(episode, []).append((int(meta.get("turn_index", 0)), rec["record_id"], line))
    contexts = {}
    for turns in episodes.values():
        turns.sort()
        for i, (_, record_id, _) in enumerate(turns):
            before = turns[max(0, i - settings.context_turns):i]
            contexts[record_id] = "\n".join(line for _, _, line in before)
    return contexts


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def split_to_fit(text: str, budget: int, count: Callable[[str], int]) -> list[str]:
    """Split at paragraph boundaries so each part fits `budget` tokens; sentences, then words, only when
    one paragraph alone is too long. Never drops text."""
    if count(text) <= budget:
        return [text]
    pieces: list[str] = []
    for para in (p for p in re.split(r"\n\s*\n", text) if p.strip()):
        if count(para) <= budget:
            pieces.append(para)
            continue
        for sentence in _SENTENCE_END.split(para):
            if count(sentence) <= budget:
                pieces.append(sentence)
                continue
            words, current = sentence.split(" "), []
            for word in words:
                if current and count(" ".join([*current, word])) > budget:
                    pieces.append(" ".join(current))
                    current = []
                current.append(word)
            if current:
                pieces.append(" ".join(current))
    parts, current = [], ""
    for piece in pieces:
        joined = f"{current}\n\n{piece}" if current else piece
        if current and count(joined) > budget:
            parts.append(current)
            joined = piece
        current = joined
    if current:
        parts.append(current)
    return parts


def trainable_records(ws) -> pl.DataFrame:
    """The training records that have text; one clear error when there is none."""
    chosen = training_records(ws).filter(pl.col("text").str.strip_chars() != "")
    if chosen.is_empty():
        raise HousevoiceError(
            f"{ws.root}: nothing to train on: no record is routed keep or approved in review (rejected ones are left out)",
            hint="run `housevoice curate`, or approve records in review (`housevoice label review push/pull`)",
        )
    return chosen


def sft_data(ws, chosen: pl.DataFrame, settings: TuneSettings, tokenizer, max_length: int) -> SftData:
    """One chat example per record of `chosen` (`trainable_records(ws)`), or per part of a record longer
    than the context."""
    records = ws.read_table("records").select("record_id", "kind", "author", "title", "meta")
    joined = chosen.join(records, on="record_id", how="left")
    contexts = turn_contexts(ws, settings)

    def count(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    rows, used, split = [], [], 0
    for rec in joined.sort("record_id").iter_rows(named=True):
        prompt = record_prompt(rec, settings, contexts.get(rec["record_id"], ""))
        overhead = count(prompt) + 16  # the chat template's own tokens
        budget = max_length - overhead
        if budget < 16:
            prompt = prompt[-(max_length * 2):]
            budget = max(16, max_length - count(prompt) - 16)
        parts = split_to_fit(rec["text"], budget, count)
        split += len(parts) > 1
        for i, part in enumerate(parts):
            shown = prompt if len(parts) == 1 else f"{prompt} (part {i + 1} of {len(parts)})"
            rows.append({"prompt": [{"role": "user", "content": shown}],
                         "completion": [{"role": "assistant", "content": part}]})
        used.append(rec["record_id"])
    notes = [f"{split} record(s) longer than {max_length} tokens were split at paragraph boundaries"] if split else []
    return SftData(rows=rows, record_ids=used, dataset_hash=dataset_hash(rows), split_records=split, notes=notes)


def prompt_id(prompt: str) -> str:
    return "p_" + hashlib.sha256(prompt.encode("utf-8")).hexdigest()[:12]


def held_out_prompts(ws, settings: TuneSettings, trained_on: set[str], limit: int) -> list[str]:
    """Titles of records no given version learned from (as prompts), then the configured prompts."""
    records = ws.read_table("records").filter((pl.col("kind") != "transcript_turn") & pl.col("title").is_not_null())
    records = records.sort("record_id")
    trained = records.filter(pl.col("record_id").is_in(list(trained_on)))
    seen = {record_prompt(rec, settings) for rec in trained.iter_rows(named=True)}  # a duplicate's title was seen
    prompts: list[str] = []
    for rec in records.filter(~pl.col("record_id").is_in(list(trained_on))).iter_rows(named=True):
        prompt = record_prompt(rec, settings)
        if prompt not in prompts and prompt not in seen:
            prompts.append(prompt)
    prompts = prompts[:limit]
    prompts += [p for p in settings.prompts if p not in prompts]
    return prompts


@dataclass
class PreferenceData:
    train: list[dict]
    held_out: list[dict]
    train_pair_ids: list[str]
    held_out_pair_ids: list[str]
    dataset_hash: str


def preference_data(ws, held_out_fraction: float = 0.0) -> PreferenceData:
    """Preference pairs as conversational prompt/chosen/rejected rows; held-out pairs picked by pair id hash."""
    prefs = ws.read_table("preferences").unique("pair_id", keep="last", maintain_order=True).sort("pair_id")
    prefs = prefs.filter(pl.col("chosen") != pl.col("rejected"))
    if prefs.is_empty():
        raise HousevoiceError(
            f"{ws.root}: no preference pairs yet",
            hint="rank samples first: `housevoice tune sample`, then `housevoice label rank push/pull` or `label rank import`",
        )
    train, held, train_ids, held_ids = [], [], [], []
    for p in prefs.iter_rows(named=True):
        row = {"prompt": [{"role": "user", "content": p["prompt"]}],
               "chosen": [{"role": "assistant", "content": p["chosen"]}],
               "rejected": [{"role": "assistant", "content": p["rejected"]}]}
        bucket = int(hashlib.sha256(p["pair_id"].encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        if held_out_fraction and bucket < held_out_fraction and len(prefs) >= 4:
            held.append(row)
            held_ids.append(p["pair_id"])
        else:
            train.append(row)
            train_ids.append(p["pair_id"])
    if not train:  # a tiny set that hashed entirely into the held-out share
        train, train_ids, held, held_ids = held, held_ids, [], []
    return PreferenceData(train, held, train_ids, held_ids, dataset_hash(train))
