"""The record-level flaggers give the same flags under datatrove's local executor as in polars."""

from __future__ import annotations

import polars as pl
import pytest

from housevoice.curate.executors import CORPUS_WIDE, flag_with_datatrove
from housevoice.curate.pipeline import build_flaggers, prepare_frame, run_flaggers
from housevoice.ingest import ingest_sources


@pytest.mark.slow
def test_datatrove_local_executor_matches_the_polars_engine(workspace, shared_data, tmp_path):
    src = tmp_path / "some.jsonl"
    lines = (shared_data / "dev-corpus" / "records.jsonl").read_text().splitlines()[:120]
    src.write_text("\n".join(lines) + "\n")
    ingest_sources(workspace, [src])
    overrides = {"stale": {"before": "2020-01-01"}}
    by_datatrove = flag_with_datatrove(workspace, tmp_path / "dt", tasks=1, workers=1, overrides=overrides)

    config = workspace.config.model_copy(deep=True)
    config.curate.flaggers = [n for n in config.curate.flaggers if n not in CORPUS_WIDE]
    frame = prepare_frame(workspace.read_table("records"), config, None)
    by_polars, _, _ = run_flaggers(frame, build_flaggers(config, overrides))

    key = ["record_id", "name"]
    assert len(by_datatrove) == len(by_polars) > 100
    assert by_datatrove.sort(key).select(key).equals(by_polars.sort(key).select(key))
    assert set(by_datatrove["name"]) >= {"url", "stale"}
