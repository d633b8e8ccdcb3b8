"""Dashboard first-render time on a workspace with 50 versions and 20,000 samples (goal: under 2 s per page)."""

from __future__ import annotations

import os
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import polars as pl

from housevoice.registry import Registry
from housevoice.schema import SAMPLES
from housevoice.store import Workspace

APP = Path(__file__).resolve().parents[1] / "src" / "housevoice" / "dashboard" / "app.py"
VERSIONS, SAMPLE_ROWS = 50, 20_000


def build(root: Path) -> None:
    """A registry and samples table of the size a busy team reaches (no training: only the reading is measured)."""
    ws = Workspace.create(root)
    registry = Registry(ws)
    base = registry.create_version("base", base_model="bench-base")
    ids = [base]
    for i in range(VERSIONS - 1):
        version = registry.create_version("sft", base_model="bench-base", parent=None)
        registry.finish_version(version, f"models/{version}")
        registry.add_lineage(version, "record", (f"r_{j}" for j in range(i * 10, i * 10 + 400)))
        ids.append(version)
    for i, version in enumerate(ids):
        registry.add_eval_results(version, "voice", [{"metric": "mean", "value": 0.4 + i / 200},
                                                     {"metric": "std", "value": 0.1}, {"metric": "n", "value": 40}])
        registry.add_eval_results(version, "lm-eval", [{"metric": f"task{t}/acc", "value": 0.5 - i / 1000, "stderr": 0.01,
                                                        "n": 500} for t in range(5)])
    now = datetime.now(timezone.utc)
    per_version = SAMPLE_ROWS // VERSIONS
    ws.write_table("samples", pl.DataFrame({
        "sample_id": [f"s_{i}" for i in range(SAMPLE_ROWS)],
        "prompt_id": [f"p_{i % per_version}" for i in range(SAMPLE_ROWS)],
        "prompt": [f"Write a blog post about topic {i % per_version}." for i in range(SAMPLE_ROWS)],
        "version_id": [ids[i // per_version] for i in range(SAMPLE_ROWS)],
        "response": [f"A response of some length, number {i}. " * 8 for i in range(SAMPLE_ROWS)],
        "params": ['{"temperature": 0.8, "voice_score": 0.5}'] * SAMPLE_ROWS,
        "created_at": [now] * SAMPLE_ROWS,
    }, schema=SAMPLES))


def main() -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws"
        build(root)
        os.environ["HOUSEVOICE_WORKSPACE"] = str(root)
        print(f"workspace: {VERSIONS} versions, {SAMPLE_ROWS} samples")
        for page in ("versions", "compare", "training_data", "promote"):
            app = AppTest.from_file(str(APP), default_timeout=120)
            app.run()  # lands on Versions; the timed run below is each page's first render
            if page != "versions":
                app.switch_page(f"views/{page}.py")
            st.cache_data.clear()  # cold: nothing read yet
            start = time.perf_counter()
            app.run()
            cold = time.perf_counter() - start
            start = time.perf_counter()
            app.run()
            warm = time.perf_counter() - start
            assert not app.exception, app.exception
            print(f"{page:14s} first render {cold:.2f} s, cached rerun {warm:.2f} s")


if __name__ == "__main__":
    main()
