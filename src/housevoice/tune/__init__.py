"""Tuning: SFT on approved records, samples to rank, a reward model, RLHF and DPO, each registered with lineage."""

from __future__ import annotations

import os

# housevoice never reaches the hub on its own: a missing model fails at once instead of retrying.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
