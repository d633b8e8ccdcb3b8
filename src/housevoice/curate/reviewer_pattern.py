"""Flag new records that look like ones reviewers rejected before (off until enough decisions exist)."""

from __future__ import annotations

import numpy as np
import polars as pl
from pydantic import Field

from housevoice.curate.base import Flagger, FlaggerSettings, FlagResult


_CHUNK = 8192


class ReviewerPatternSettings(FlaggerSettings):
    min_decisions: int = Field(30, ge=2, description="people's decisions needed before the classifier is trained")
    min_per_class: int = Field(5, ge=1, description="approvals and rejections each needed")
    threshold: float = Field(0.7, gt=0, lt=1, description="flag when the predicted chance of rejection is at least this")


def latest_human_decisions(decisions: pl.DataFrame) -> pl.DataFrame:
    """The last decision a person made on each record (rule decisions are not people's judgement)."""
    people = decisions.filter(~pl.col("origin").str.starts_with("rule:"))
    return people.sort("decided_at").group_by("record_id").last()


class ReviewerPatternFlagger(Flagger):
    """A light text classifier (TF-IDF + logistic regression) trained on approve/reject decisions."""

    name = "reviewer_pattern"
    flag_names = ("reviewer_pattern",)
    Settings = ReviewerPatternSettings

    def __init__(self, settings=None):
        super().__init__(settings)
        self.decisions = pl.DataFrame()

    def attach_workspace(self, workspace) -> None:
        self.decisions = latest_human_decisions(workspace.read_table("decisions"))

    def flag(self, frame: pl.DataFrame) -> FlagResult:
        s = self.settings
        if self.decisions.is_empty() or len(self.decisions) < s.min_decisions:
            return FlagResult.empty()
        labelled = frame.select("record_id", "clean_text").join(
            self.decisions.select("record_id", "decision"), on="record_id", how="inner"
        )
        counts = labelled["decision"].value_counts()
        per_class = dict(counts.iter_rows())
        if min(per_class.get("approve", 0), per_class.get("reject", 0)) < s.min_per_class:
            return FlagResult.empty()
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=50_000, sublinear_tf=True)
        x = vectorizer.fit_transform(labelled["clean_text"].fill_null("").to_list())
        y = (labelled["decision"] == "reject").to_numpy()
        model = LogisticRegression(max_iter=1000, class_weight="balanced").fit(x, y)
        undecided = frame.select("record_id", "clean_text").filter(~pl.col("record_id").is_in(labelled["record_id"].implode()))
        if undecided.is_empty():
            return FlagResult.empty()
        # A few thousand texts at a time: a corpus as Python strings costs more memory than the corpus.
        texts = undecided["clean_text"].fill_null("")
        p_reject = np.concatenate([
            model.predict_proba(vectorizer.transform(texts.slice(start, _CHUNK).to_list()))[:, 1]
            for start in range(0, len(texts), _CHUNK)
        ])
        n_rej, n_app = per_class.get("reject", 0), per_class.get("approve", 0)
        rows = [
            (rid, self.name, float(p),
             f"looks like records reviewers rejected before ({p:.0%} likely to be rejected; "
             f"learned from {n_rej} rejections and {n_app} approvals)")
            for rid, p in zip(undecided["record_id"].to_list(), p_reject)
            if p >= s.threshold
        ]
        return FlagResult.from_rows(rows)
