"""People in the loop through Label Studio: expert review into `decisions`, rankings into `preferences`."""

from __future__ import annotations

from housevoice.label.agreement import agreement_report, require_agreement
from housevoice.label.decisions import latest_decisions, record_rule_decisions, training_records
from housevoice.label.ranking import import_rankings, preference_pairs, pull_rankings, push_rankings
from housevoice.label.review import pull_review, push_review
from housevoice.label.server import serve, stop

__all__ = [
    "agreement_report",
    "import_rankings",
    "latest_decisions",
    "preference_pairs",
    "pull_rankings",
    "pull_review",
    "push_rankings",
    "push_review",
    "record_rule_decisions",
    "require_agreement",
    "serve",
    "stop",
    "training_records",
]
