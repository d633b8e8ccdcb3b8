"""The workspace config (housevoice.toml) as typed pydantic models, one per stage."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from housevoice.errors import ConfigError

WORKSPACE_VERSION = 1

Route = Literal["keep", "review", "drop"]

# Flaggers in the order they run by default; each has an optional [curate.<name>] table.
DEFAULT_FLAGGERS = [
    "html",
    "url",
    "duplicates",
    "templated",
    "stale",
    "length",
    "pii",
    "off_author",
    "not_published",
    "not_prose",
    "reviewer_pattern",
]

DEFAULT_ROUTES: dict[str, Route] = {
    "exact_duplicate": "drop",
    "not_published": "drop",
    "near_duplicate": "review",
    "templated": "review",
    "pii": "review",
    "off_author": "drop",
    "stale": "review",
    "too_long": "review",
    "too_short": "review",
    "not_prose": "review",
    "reviewer_pattern": "review",
    "html": "keep",
    "url": "keep",
    "boilerplate": "keep",
}

# Routes that differ for one kind of record. A transcript turn under the minimum length ("Yeah.",
# "Sure.", "Thanks for having me.") teaches no voice, and a conversation has hundreds of them:
# a rule drops them (still reviewable) instead of filling the review queue.
# The same holds for an account's short replies on social media ("Thanks!", "DM us").
DEFAULT_KIND_ROUTES: dict[str, dict[str, Route]] = {"transcript_turn": {"too_short": "drop"}, "reply": {"too_short": "drop"}}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class WorkspaceSection(_Strict):
    version: int = WORKSPACE_VERSION
    name: str = "housevoice"
    id: str = Field("", description="set by `housevoice init`; ties registry.sqlite to this workspace")


class IngestConfig(_Strict):
    max_record_mb: float = Field(20.0, gt=0, description="a record larger than this stops the ingest")


class CurateConfig(_Strict):
    """Which flaggers run (in order), how flags route, and each flagger's own table.

    Per-flagger settings (`[curate.html]`, `[curate.duplicates]`, ...) are validated by
    the flagger itself, so that an error names the flagger and the key.
    """

    model_config = ConfigDict(extra="allow", validate_assignment=True)

    flaggers: list[str] = Field(default_factory=lambda: list(DEFAULT_FLAGGERS))
    routes: dict[str, Route] = Field(default_factory=lambda: dict(DEFAULT_ROUTES))
    kind_routes: dict[str, dict[str, Route]] = Field(
        default_factory=lambda: {kind: dict(table) for kind, table in DEFAULT_KIND_ROUTES.items()},
        description="per record kind, routes that replace [curate.routes] for that kind",
    )

    def route_of(self, flag: str, kind: str | None = None) -> Route:
        """Where a flag sends a record of this kind: its kind's route, else the flag's, else review."""
        return self.route_rule(flag, kind)[0]

    def route_rule(self, flag: str, kind: str | None = None) -> tuple[Route, str]:
        """(route, the settings table that decided it: `curate.kind_routes.KIND` or `curate.routes`)."""
        by_kind = self.kind_routes.get(kind or "", {})
        if flag in by_kind:
            return by_kind[flag], f"curate.kind_routes.{kind}"
        # A flag the table does not name takes its default route (a table written before the flag existed).
        return self.routes.get(flag, DEFAULT_ROUTES.get(flag, "review")), "curate.routes"

    def flagger_settings(self, name: str) -> dict[str, Any]:
        extra = self.model_extra or {}
        value = extra.get(name, {})
        if not isinstance(value, dict):
            raise ConfigError(f"[curate.{name}] must be a table of settings, got {value!r}")
        return value


class LabelConfig(_Strict):
    url: str = ""
    token_env: str = "LABEL_STUDIO_API_KEY"
    min_agreement: float | None = Field(None, ge=-1, le=1, description="Krippendorff's alpha needed before a reward model trains")


class ModelConfig(_Strict):
    base: str = ""


class Config(_Strict):
    workspace: WorkspaceSection = Field(default_factory=WorkspaceSection)
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    curate: CurateConfig = Field(default_factory=CurateConfig)
    label: LabelConfig = Field(default_factory=LabelConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    # Stage tables validated by their stage's own settings model (see parse_config).
    tune: dict[str, Any] = Field(default_factory=dict)
    promote: dict[str, Any] = Field(default_factory=dict)
    evaluate: dict[str, Any] = Field(default_factory=dict)


def _message(error: dict) -> str:
    """pydantic's message, without the "Value error, " it puts before what a validator said."""
    return error["msg"].removeprefix("Value error, ")


def _describe(error: dict) -> str:
    key = ".".join(str(p) for p in error["loc"])
    value = error.get("input")
    msg = _message(error)
    if error["type"] == "extra_forbidden":
        return f"unknown key '{key}'"
    return f"'{key}' = {value!r}: {msg}"


def table_error(table: str, exc: ValidationError, keys: Any = None) -> ConfigError:
    """A settings table's first validation error as one line: `[table] unknown key 'k'` or `[table] k = value: why`.

    `keys`: the table's known keys, listed after an unknown one.
    """
    e = exc.errors()[0]
    key = ".".join(str(p) for p in e["loc"])
    if e["type"] == "extra_forbidden":
        known = f"; keys: {', '.join(keys)}" if keys else ""
        return ConfigError(f"[{table}] unknown key '{key}'{known}")
    return ConfigError(f"[{table}] {key} = {e.get('input')!r}: {_message(e)}")


def parse_config(data: dict[str, Any], path: Path | str = "housevoice.toml") -> Config:
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise ConfigError(f"{path}: {_describe(first)}{more}") from None
    if config.workspace.version != WORKSPACE_VERSION:
        raise ConfigError(
            f"{path}: workspace version {config.workspace.version} is not supported "
            f"(this housevoice reads version {WORKSPACE_VERSION})",
            hint="create a new workspace with `housevoice init` and ingest again",
        )
    _validate_stage_tables(config, path)
    for name in config.curate.flaggers:
        if name not in DEFAULT_FLAGGERS:
            raise ConfigError(
                f"{path}: 'curate.flaggers' names unknown flagger {name!r}; "
                f"known: {', '.join(DEFAULT_FLAGGERS)}"
            )
    for name in config.curate.model_extra or {}:
        if name not in DEFAULT_FLAGGERS and name != "clean":
            raise ConfigError(
                f"{path}: unknown key 'curate.{name}'; the tables under [curate] are: clean, "
                f"{', '.join(DEFAULT_FLAGGERS)}"
            )
    return config


def _validate_stage_tables(config: Config, path: Path | str) -> None:
    """[tune], [promote], [evaluate]: each stage's settings model names a bad key itself."""
    import importlib

    for table, (module_name, function) in {
        "tune": ("housevoice.tune.settings", "validate_table"),
        "promote": ("housevoice.dashboard.promotion", "validate_table"),
        "evaluate": ("housevoice.evaluate.settings", "validate_table"),
    }.items():
        data = getattr(config, table)
        if not data:
            continue
        try:
            validate = getattr(importlib.import_module(module_name), function)
        except (ModuleNotFoundError, AttributeError):
            continue  # that stage is not installed in this build
        try:
            validate(data)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc.message}", hint=exc.hint) from None


def load_config(path: Path) -> Config:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no config file", hint="run `housevoice init` first") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_config(data, path)


CONFIG_TEMPLATE = """\
# housevoice.toml: the settings of this workspace. Every key is optional; the values
# shown are the defaults. A command-line flag overrides the key of the same name.

[workspace]
version = 1            # the workspace layout this file belongs to; do not edit
name = "{name}"
id = "{workspace_id}"   # ties registry.sqlite to this workspace; do not edit

[ingest]
max_record_mb = 20     # a single record larger than this stops the ingest with a clear error

[curate]
# Flaggers run in this order. Each one only adds flags with reasons: nothing is deleted.
flaggers = ["html", "url", "duplicates", "templated", "stale", "length", "pii",
            "off_author", "not_published", "not_prose", "reviewer_pattern"]

[curate.routes]
# What a flag does to a record's route: keep (clean), review (a person decides) or
# drop (a rule decides; still reviewable). The strictest route of all its flags wins.
exact_duplicate = "drop"
not_published = "drop"
off_author = "drop"
near_duplicate = "review"
templated = "review"
pii = "review"
stale = "review"
too_long = "review"
too_short = "review"
not_prose = "review"
reviewer_pattern = "review"
html = "keep"          # HTML is cleaned out of clean_text; the flag says it was there
url = "keep"           # URLs are replaced in clean_text; the flag says they were there
boilerplate = "keep"   # lines repeated across unrelated posts are taken out of clean_text; the flag names them

[curate.kind_routes.transcript_turn]
# Routes for one kind of record (post, page, newsletter, transcript_turn, social, reply, chapter) that replace the ones above.
too_short = "drop"     # "Yeah." and "Sure." teach no voice; a conversation has hundreds of them

[curate.kind_routes.reply]
too_short = "drop"     # a social account's "Thanks!" and "DM us": hundreds of them, no voice

[curate.clean]
# urls = "link_text"         # link_text: keep a link's words, drop its address; placeholder; keep
# remove_template_tags = true  # Hugo shortcodes, Jekyll/Liquid and Zola tags out of the text
# remove_mdx = true          # MDX import/export blocks and JSX components (<Callout> keeps its words)
# unescape_markdown = true   # markdown backslash escapes become their characters, outside code
# remove_transcript_marks = true  # [12:04] timestamps and [laughs], [crosstalk]: nobody said them
# remove_boilerplate = true  # lines found in 2% of posts under unrelated titles ("Subscribe to our newsletter")
# boilerplate_min_share = 0.02
# remove_mailing_footers = true  # "Unsubscribe | View in browser" and the like under a newsletter
# unwrap_paragraphs = true   # join the lines of a markdown paragraph wrapped at 70 or 80 columns

[curate.stale]
# before = "2020-01-01"      # records published before this date are stale
# after_months = 36          # ... or older than this many months

[curate.off_author]
# target = "Jane Doe"        # records not written by this author get `off_author`

[curate.duplicates]
# min_words = 20             # shorter texts are never near duplicates (exact copies are flagged at any length)
# min_containment = 0.45     # share of the shorter text's 5-word phrases found in the other

[curate.pii]
# kinds = ["email address", "phone number", "street address", "named contact", "card number", "social security number", "IBAN"]

[curate.length]
# tokenizer = "path/to/tokenizer.json or a model folder"   # default: the bundled tokenizer
min_tokens = 20
max_tokens = 4096

[label]
url = ""               # a team's own Label Studio; empty: `housevoice label serve` runs one here
token_env = "LABEL_STUDIO_API_KEY"   # the environment variable holding its API token
# min_agreement = 0.4  # Krippendorff's alpha the rankings must reach before a reward model trains

[model]
base = ""              # a Hugging Face model name or a local path

[tune]
# Every key is optional; `housevoice tune … --help` shows the flags that override them.
# post_prompt = 'Write a {{kind_name}} titled "{{title}}".'
# untitled_prompt = "Write a {{kind_name}} in our voice."
# turn_prompt = "Continue the conversation as {{speaker}}.\\n\\n{{context}}"
# context_turns = 6      # preceding turns shown before a transcript turn
# prompts = []           # extra prompts for `tune sample` and RLHF
# max_length = 2048      # tokens; longer records are split at paragraphs, never cut
# epochs = 3
# learning_rate = 2e-4   # LoRA (full fine-tuning: full_learning_rate = 2e-5)
# batch_size = 4
# lora_r = 16
# save_steps = 200       # checkpoint interval, for --resume
# load_in_4bit = false   # CUDA + bitsandbytes, for large bases
# gradient_checkpointing = "auto"  # on only when a step would not fit in the GPU's memory; true / false
# sample_n = 2           # responses per prompt per version for ranking
# temperature = 0.8
# max_new_tokens = 256
# rl_algo = "grpo"       # or "rloo"
# rl_beta = 0.04         # KL penalty to the SFT policy
# dpo_beta = 0.1

[promote]
# Gates a candidate must pass before `housevoice promote` (or the dashboard) makes it live.
# min_voice_gain = 0.02       # voice fidelity must be at least the base model's + this
# max_benchmark_drop = 0.01   # no lm-eval metric may fall more than this below the base model's
"""
