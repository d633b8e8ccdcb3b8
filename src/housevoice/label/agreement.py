"""Inter-annotator agreement on rankings: pairwise agreement and Krippendorff's alpha, per project and annotator."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import krippendorff
import numpy as np
import polars as pl

from housevoice.errors import HousevoiceError
from housevoice.label.ranking import preference_pairs
from housevoice.store import Workspace


@dataclass
class Agreement:
    """Agreement within one group of rankings (a project, or the items one annotator ranked)."""

    name: str
    annotators: int
    shared_items: int  # response pairs ranked by two or more annotators
    pairwise: float | None  # share of annotator pairs that ordered a response pair the same way
    alpha: float | None  # Krippendorff's alpha, ordinal, over each response's place in each ranking


@dataclass
class AgreementReport:
    overall: Agreement
    projects: list[Agreement] = field(default_factory=list)
    annotators: list[Agreement] = field(default_factory=list)


def _scores(pairs: pl.DataFrame) -> pl.DataFrame:
    """(annotator, prompt, response) -> how many responses it beat in that annotator's ranking.

    A place in a ranking rebuilt from its pairs: tied responses get the same score.
    """
    won = pairs.select("annotator", "prompt", pl.col("chosen").alias("response"), pl.lit(1).alias("win"))
    lost = pairs.select("annotator", "prompt", pl.col("rejected").alias("response"), pl.lit(0).alias("win"))
    return pl.concat([won, lost]).group_by("annotator", "prompt", "response").agg(pl.col("win").sum().alias("score"))


def _agreement(name: str, scores: pl.DataFrame) -> Agreement:
    annotators = sorted(scores["annotator"].unique().to_list())
    by_prompt: dict[str, dict[str, dict[str, int]]] = {}
    for ann, prompt, resp, score in scores.iter_rows():
        by_prompt.setdefault(prompt, {}).setdefault(ann, {})[resp] = score
    same = total = shared = 0
    for rankers in by_prompt.values():
        responses = sorted({r for ranks in rankers.values() for r in ranks})
        for a, b in combinations(responses, 2):
            votes = [np.sign(ranks[a] - ranks[b]) for ranks in rankers.values() if a in ranks and b in ranks]
            if len(votes) < 2:
                continue
            shared += 1
            for x, y in combinations(votes, 2):
                total += 1
                same += x == y
    units = scores.select("prompt", "response").unique().sort("prompt", "response")
    alpha = None
    if len(annotators) >= 2 and shared:
        wide = scores.pivot(on="annotator", index=["prompt", "response"], values="score")
        wide = units.join(wide, on=["prompt", "response"], how="left")
        matrix = wide.select(annotators).to_numpy().astype(float).T  # annotators x units, NaN = not ranked
        if len(np.unique(matrix[~np.isnan(matrix)])) > 1:
            alpha = float(krippendorff.alpha(reliability_data=matrix, level_of_measurement="ordinal"))
    return Agreement(name, len(annotators), shared, same / total if total else None, alpha)


def agreement_report(workspace: Workspace | Path | str) -> AgreementReport:
    """Agreement over `preferences`: overall, per project (origin), and on the items each annotator ranked."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)
    pairs = preference_pairs(ws).with_columns(pl.col("origin").str.replace(r"/[^/]*$", "").alias("project"))
    scores = _scores(pairs)
    report = AgreementReport(_agreement("all rankings", scores))
    for (project,), group in pairs.group_by("project", maintain_order=True):
        report.projects.append(_agreement(project, _scores(group)))
    for annotator in sorted(pairs["annotator"].unique().to_list()):
        mine = scores.filter(pl.col("annotator") == annotator).select("prompt", "response")
        report.annotators.append(_agreement(annotator, scores.join(mine, on=["prompt", "response"], how="semi")))
    return report


def require_agreement(workspace: Workspace | Path | str, minimum: float | None) -> AgreementReport:
    """Stop reward-model training when annotators agree less than `minimum` (Krippendorff's alpha)."""
    report = agreement_report(workspace)
    if minimum is None:
        return report
    alpha = report.overall.alpha
    if alpha is None:
        raise HousevoiceError(
            f"annotator agreement cannot be measured yet (no response pair ranked by two annotators); "
            f"the minimum is alpha {minimum:.2f}",
            hint="have two annotators rank the same tasks, or lower the minimum agreement",
        )
    if alpha < minimum:
        raise HousevoiceError(
            f"annotators agree too little to train a reward model: Krippendorff's alpha {alpha:.2f} < {minimum:.2f}",
            hint="see `housevoice label agreement WS` for who disagrees, and settle the guidelines first",
        )
    return report
