"""The same flaggers under datatrove's executors (local multiprocess now; Slurm or Ray at scale).

Record-level flaggers run per batch of documents inside a datatrove pipeline step; the
flaggers that compare records with each other (duplicates, templated series) and the
boilerplate cleaner need the whole corpus at once and run in the polars engine (at scale:
datatrove's multi-stage MinHash).
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from datatrove.data import Document
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.readers import ParquetReader
from datatrove.pipeline.writers import JsonlWriter

from housevoice.config import Config
from housevoice.schema import RECORDS

CORPUS_WIDE = {"duplicates", "templated", "reviewer_pattern"}


class FlagRecords(PipelineStep):
    """A datatrove step: run record-level flaggers on batches of documents; flags go to metadata."""

    name = "housevoice flaggers"
    type = "🏷 - TAGGER"

    def __init__(self, config_data: dict, overrides: dict | None = None, batch_size: int = 1000):
        super().__init__()
        self.config_data = config_data  # plain data, so the step pickles to worker processes
        self.overrides = overrides or {}
        self.batch_size = batch_size

    def _flag_batch(self, docs: list[Document], flaggers, config: Config) -> list[Document]:
        from housevoice.curate.pipeline import prepare_frame, run_flaggers

        rows = {name: [] for name in RECORDS.names()}
        for doc in docs:
            for name in RECORDS.names():
                if name == "record_id":
                    rows[name].append(doc.id)
                elif name == "text":
                    rows[name].append(doc.text)
                else:
                    rows[name].append(doc.metadata.get(name))
        frame = pl.DataFrame(rows, schema=RECORDS)
        tokenizer = config.curate.flagger_settings("length").get("tokenizer")
        frame = prepare_frame(frame, config, tokenizer)
        flags, _, _ = run_flaggers(frame, flaggers)
        by_id: dict[str, list] = {}
        for rid, name, score, detail in flags.iter_rows():
            by_id.setdefault(rid, []).append({"name": name, "score": score, "detail": detail})
        for doc, n_tokens in zip(docs, frame["n_tokens"].to_list()):
            doc.metadata["flags"] = by_id.get(doc.id, [])
            doc.metadata["n_tokens"] = n_tokens
            doc.metadata.pop("published_at", None)  # datetimes are not JSON; the record keeps it
        return docs

    def run(self, data, rank: int = 0, world_size: int = 1):
        from housevoice.config import parse_config
        from housevoice.curate.pipeline import build_flaggers

        config = parse_config(self.config_data)
        names = [n for n in config.curate.flaggers if n not in CORPUS_WIDE]
        config.curate.flaggers = names
        # Boilerplate is found across the corpus too: a batch would see a share of it.
        config.curate.clean = {**config.curate.flagger_settings("clean"), "remove_boilerplate": False}
        flaggers = build_flaggers(config, self.overrides)
        batch: list[Document] = []
        for doc in data:
            batch.append(doc)
            if len(batch) >= self.batch_size:
                yield from self._flag_batch(batch, flaggers, config)
                batch = []
        if batch:
            yield from self._flag_batch(batch, flaggers, config)


def flag_with_datatrove(
    workspace, out_dir: Path, *, tasks: int = 2, workers: int = 2, overrides: dict | None = None
) -> pl.DataFrame:
    """Run the record-level flaggers over `records` with datatrove's local executor.

    Returns the flag rows (record_id, name, score, detail), as the polars engine does.
    """
    from housevoice.store import Workspace

    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)
    config_data = ws.config.model_dump(mode="json")
    out_dir = Path(out_dir)
    pipeline = [
        ParquetReader(
            str(ws.tables_dir), glob_pattern="records.parquet", text_key="text", id_key="record_id",
            default_metadata={},
        ),
        FlagRecords(config_data, overrides),
        JsonlWriter(str(out_dir / "flagged"), output_filename="${rank}.jsonl.gz", expand_metadata=False),
    ]
    LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=workers, logging_dir=str(out_dir / "logs"),
                          skip_completed=False, start_method="spawn").run()
    rows = []
    import gzip

    for path in sorted((out_dir / "flagged").glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                doc = json.loads(line)
                for f in doc["metadata"]["flags"]:
                    rows.append((doc["id"], f["name"], f["score"], f["detail"]))
    return pl.DataFrame(rows, schema={"record_id": pl.String, "name": pl.String, "score": pl.Float64, "detail": pl.String}, orient="row")
