"""The tuning settings (`[tune]` in housevoice.toml): prompt templates, sampling and trainer knobs."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from housevoice.config import table_error


class TuneSettings(BaseModel):
    """Every field is a `[tune]` key; a CLI flag of the same name overrides it for one run."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    # prompts: what each record is the answer to
    post_prompt: str = Field('Write a {kind_name} titled "{title}".', description="prompt for a titled record")
    untitled_prompt: str = Field("Write a {kind_name} in our voice.", description="prompt for a record without a title")
    turn_prompt: str = Field(
        "Continue the conversation as {speaker}.\n\n{context}",
        description="prompt for a transcript turn; {context} is the preceding turns of the same episode",
    )
    kind_names: dict[str, str] = Field(
        default_factory=lambda: {"post": "blog post", "page": "page", "newsletter": "newsletter"},
        description="how a record kind is named inside a prompt",
    )
    context_turns: int = Field(6, ge=0, description="preceding turns shown before a transcript turn")
    context_chars: int = Field(600, ge=50, description="each context turn is cut to its last N characters")
    prompts: list[str] = Field(default_factory=list, description="extra prompts for `tune sample` and RLHF")

    # training
    max_length: int = Field(2048, ge=32, description="longest training sequence in tokens (capped by the model)")
    epochs: float = Field(3.0, gt=0)
    learning_rate: float = Field(2e-4, gt=0, description="LoRA learning rate")
    full_learning_rate: float = Field(2e-5, gt=0, description="learning rate with --full")
    batch_size: int = Field(4, ge=1)
    gradient_accumulation_steps: int = Field(1, ge=1)
    lora_r: int = Field(16, ge=1)
    lora_alpha: int = Field(32, ge=1)
    lora_dropout: float = Field(0.05, ge=0, lt=1)
    save_steps: int = Field(200, ge=1, description="a checkpoint every N steps, for --resume")
    seed: int = 42
    load_in_4bit: bool = Field(False, description="load large bases in 4 bits (CUDA + bitsandbytes)")
    gradient_checkpointing: Literal[True, False, "auto"] = Field(
        "auto", description="trade compute for memory: true, false, or auto (on when a step would not fit in the "
                            "GPU's memory without it, by an estimate)")

    # sampling
    sample_n: int = Field(2, ge=1, description="responses per prompt per version")
    sample_prompts: int = Field(20, ge=1, description="at most this many held-out prompts per `tune sample`")
    temperature: float = Field(0.8, gt=0)
    top_p: float = Field(0.95, gt=0, le=1)
    max_new_tokens: int = Field(256, ge=1)

    # reward model, RLHF and DPO
    reward_eval_fraction: float = Field(0.2, ge=0, lt=1, description="share of pairs held out to measure the reward model")
    rl_algo: str = Field("grpo", pattern="^(grpo|rloo)$")
    rl_beta: float = Field(0.04, ge=0, description="KL penalty to the SFT policy")
    rl_generations: int = Field(4, ge=2, description="responses per prompt per RL step")
    rl_steps: int = Field(50, ge=1)
    rl_learning_rate: float = Field(1e-5, gt=0)
    dpo_beta: float = Field(0.1, gt=0)
    dpo_learning_rate: float = Field(5e-6, gt=0)


def tune_settings(ws, **overrides: Any) -> TuneSettings:
    """The workspace's `[tune]` table (when the config knows it) with CLI overrides on top."""
    raw = getattr(ws.config, "tune", None)
    if raw is None:
        raw = (getattr(ws.config, "model_extra", None) or {}).get("tune", {})
    if isinstance(raw, BaseModel):
        raw = raw.model_dump()
    data = {**dict(raw or {}), **{k: v for k, v in overrides.items() if v is not None}}
    try:
        return TuneSettings.model_validate(data)
    except ValidationError as exc:
        raise table_error("tune", exc) from None


def validate_table(data: dict[str, Any]) -> TuneSettings:
    """Validate a `[tune]` table on its own (config load calls this so a bad key fails early)."""
    class _Holder:
        config = type("C", (), {"tune": data})()

    return tune_settings(_Holder())
