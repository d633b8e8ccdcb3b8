"""Finding and loading models: a base by hub name or local path (offline), and a registered version."""

from __future__ import annotations

import os
import re
from pathlib import Path

from housevoice.errors import HousevoiceError
from housevoice.tune import varlen

WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                "pytorch_model.bin.index.json", "adapter_model.safetensors")
# Attention implementations that keep examples packed into one row apart (training packs only with these).
PACKED_ATTENTION = ("flash_attention_2", varlen.NAME)
_HUB_NAME = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")

# Used when a base model has no chat template of its own (most base, non-instruct models).
FALLBACK_CHAT_TEMPLATE = (
    "{% for message in messages %}{{ message['role'] | capitalize }}: {{ message['content'] }}{{ eos_token }}\n"
    "{% endfor %}{% if add_generation_prompt %}Assistant: {% endif %}"
)


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes", "on")


def _check_weights(path: Path, spec: str) -> Path:
    if not (path / "config.json").is_file() and not (path / "adapter_config.json").is_file():
        raise HousevoiceError(f"{spec}: not a model folder (no config.json)",
                              hint="give the folder that `save_pretrained` wrote, or build one with `housevoice model tiny`")
    if not any((path / name).is_file() for name in WEIGHT_FILES):
        raise HousevoiceError(f"{spec}: the model folder has no weights ({', '.join(WEIGHT_FILES[:3])}, …)",
                              hint="copy the weights in, or download the model again")
    return path


def resolve_base(spec: str) -> Path:
    """The folder holding a base model given as a local path or a hub name already on this machine."""
    path = Path(spec).expanduser()
    if path.exists():
        if not path.is_dir():
            raise HousevoiceError(f"{spec}: a model is a folder, not a file")
        return _check_weights(path.resolve(), spec)
    if not _HUB_NAME.match(spec) or spec.startswith((".", "/", "~")):
        raise HousevoiceError(f"{spec}: no such model folder")
    from huggingface_hub import snapshot_download

    try:
        folder = snapshot_download(spec, local_files_only=_offline())
    except Exception:  # the hub client raises several types for "not cached" and "offline"
        if _offline():
            raise HousevoiceError(
                f"{spec} is not on this machine and housevoice is offline: download it first "
                f"(huggingface-cli download {spec}) or give a local path"
            ) from None
        raise HousevoiceError(f"{spec}: cannot download it (no such model, or no network)",
                              hint=f"check the name, or download it yourself: huggingface-cli download {spec}") from None
    return _check_weights(Path(folder), spec)


def device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def model_dtype():
    import torch

    if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def _load_error(path: Path, what: str, exc: Exception) -> HousevoiceError:
    first = (str(exc).strip().splitlines() or [""])[0][:300]
    return HousevoiceError(f"{path}: cannot load the {what} ({type(exc).__name__}: {first})",
                           hint="the weights may be damaged or incomplete; download or train it again")


def load_tokenizer(path: Path | str, *, padding_side: str = "right"):
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path))
    except Exception as exc:
        raise _load_error(Path(path), "tokenizer", exc) from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if not tokenizer.chat_template:
        tokenizer.chat_template = FALLBACK_CHAT_TEMPLATE
    tokenizer.padding_side = padding_side
    return tokenizer


def flash_attention() -> bool:
    """Whether the flash-attn package can serve attention here (CUDA and the package installed)."""
    import importlib.util

    return device() == "cuda" and importlib.util.find_spec("flash_attn") is not None


def packed_attention() -> str | None:
    """The attention implementation that lets training pack examples without padding, or None (a CPU, fp32).

    flash-attn where it is installed, else PyTorch's own variable-length FlashAttention kernel (torch >= 2.9).
    """
    import torch

    if device() != "cuda" or model_dtype() == torch.float32:
        return None
    if flash_attention():
        return "flash_attention_2"
    return varlen.register() if varlen.available() else None


def load_causal_lm(path: Path | str, *, load_in_4bit: bool = False, packed: bool = False):
    """A causal LM in the dtype this machine trains in; `packed` asks for attention that keeps packed examples
    apart (see `packed_attention`), for training; generation keeps the default attention."""
    from transformers import AutoModelForCausalLM

    kwargs: dict = {"dtype": model_dtype()}
    attention = packed_attention() if packed else ("flash_attention_2" if flash_attention() else None)
    if attention:
        kwargs["attn_implementation"] = attention
    if load_in_4bit and device() == "cuda":
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_compute_dtype=model_dtype(),
                                                           bnb_4bit_quant_type="nf4")
    try:
        return AutoModelForCausalLM.from_pretrained(str(path), **kwargs)
    except Exception as exc:
        raise _load_error(Path(path), "model", exc) from None


def load_reward_model(path: Path | str, tokenizer):
    """A sequence-classification model with one output (the reward) on top of a causal LM's weights."""
    from transformers import AutoModelForSequenceClassification

    try:
        model = AutoModelForSequenceClassification.from_pretrained(str(path), num_labels=1, dtype=model_dtype())
    except Exception as exc:
        raise _load_error(Path(path), "model", exc) from None
    model.config.pad_token_id = tokenizer.pad_token_id
    return model


# -- registered versions ------------------------------------------------------------------
def artifact_dir(ws, version: dict) -> Path:
    path = Path(version["artifact_path"] or "")
    return path if path.is_absolute() else ws.root / path


def ready_version(registry, version_id: str, kinds: tuple[str, ...]) -> dict:
    version = registry.get(version_id)
    if version["kind"] not in kinds:
        raise HousevoiceError(f"{version_id} is a {version['kind']} version; this needs one of: {', '.join(kinds)}")
    if version["status"] != "ready":
        raise HousevoiceError(f"{version_id} is {version['status']}, not ready",
                              hint="use a version whose training finished (`housevoice versions`)")
    return version


def load_policy(ws, registry, version_id: str):
    """A policy version as one plain causal LM: adapters are merged onto their parent, recursively."""
    version = ready_version(registry, version_id, ("sft", "rlhf", "dpo"))
    folder = artifact_dir(ws, version)
    if not folder.is_dir():
        raise HousevoiceError(f"{version_id}: its files are missing ({folder})")
    tokenizer = load_tokenizer(folder)
    if (folder / "adapter_config.json").is_file():
        from peft import PeftModel

        if version["parent_version"]:
            base, _ = load_policy(ws, registry, version["parent_version"])
        else:
            base = load_causal_lm(resolve_base(version["base_model"]))
        try:
            model = PeftModel.from_pretrained(base, str(folder)).merge_and_unload()
        except Exception as exc:
            raise _load_error(folder, "adapter", exc) from None
    else:
        model = load_causal_lm(folder)
    return model, tokenizer


def base_of(registry, version_id: str) -> str:
    """The base model a version was tuned from, following parents."""
    version = registry.get(version_id)
    while version["parent_version"]:
        version = registry.get(version["parent_version"])
    return version["base_model"]
