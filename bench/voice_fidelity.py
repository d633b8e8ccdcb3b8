"""Voice fidelity validated: ROC AUC of held-out target texts against other authors, next to a char TF-IDF baseline.

Usage: python bench/voice_fidelity.py CORPUS_DIR [--bootstrap N] [--seed S]

CORPUS_DIR holds records.jsonl (id, text, author, ...) and voice.json (train_ids,
heldout_ids, other_ids, other_ids_untemplated).

Protocol (honest: nothing that is scored is ever used for fitting):
- the profile is fitted on `train_ids` only;
- `other_ids` is split at random (seeded) into two halves A and B. Round 1 uses the texts of
  A as background (the workspace's "other writing") and scores `heldout_ids` against the
  negatives that lie in B; round 2 swaps the halves. A negative set (`other_ids`,
  `other_ids_untemplated`) is scored by its members inside the evaluated half, so no text is
  ever both background and negative. The reported AUC is the mean of the two rounds;
- records outside the listed id sets are not used (they include planted copies of listed
  texts, which would leak);
- `no background` fits the same profile with background=None (the graceful fallback);
- the baseline is a plain char 3-5-gram TF-IDF (idf from the training texts and the round's
  background) cosine to the training centroid, on the raw texts;
- 95% intervals: bootstrap that resamples positives and each round's negatives.
The last line is `voice AUC vs other_ids_untemplated: <ours> (baseline <char-tfidf>)`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import roc_auc_score

from housevoice.evaluate.voice import VoiceProfile

NEGATIVE_SETS = ("other_ids", "other_ids_untemplated")


def load_corpus(corpus_dir) -> tuple[dict[str, str], dict]:
    corpus_dir = Path(corpus_dir)
    texts = {}
    with open(corpus_dir / "records.jsonl", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                record = json.loads(line)
                texts[record["id"]] = record.get("text") or ""
    split = json.loads((corpus_dir / "voice.json").read_text(encoding="utf-8"))
    return texts, split


def halves(split: dict, seed: int) -> list[list[str]]:
    others = list(split["other_ids"])
    order = np.random.default_rng(seed).permutation(len(others))
    return [[others[i] for i in order[0::2]], [others[i] for i in order[1::2]]]


def char_tfidf_baseline(train: list[str], background: list[str]):
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(3, 5), sublinear_tf=True)
    vectorizer.fit(train + background)
    centroid = np.asarray(vectorizer.transform(train).mean(axis=0)).ravel()
    centroid /= np.linalg.norm(centroid)
    return lambda texts: np.asarray(vectorizer.transform(texts) @ centroid).ravel()


def run_rounds(texts: dict[str, str], split: dict, *, seed: int = 0, with_background: bool = True, detail: bool = True):
    """Score every round: yields (scores by method, positives, negatives by set) per round."""
    train = [texts[i] for i in split["train_ids"]]
    heldout = [texts[i] for i in split["heldout_ids"]]
    no_background = VoiceProfile.fit(train) if detail else None
    rounds = []
    for background_ids, evaluated_ids in (lambda h: [(h[0], h[1]), (h[1], h[0])])(halves(split, seed)):
        background = [texts[i] for i in background_ids]
        profile = VoiceProfile.fit(train, background=background) if with_background else no_background
        evaluated = [texts[i] for i in evaluated_ids]
        scored = heldout + evaluated
        methods = {"ours": profile.score(scored)}
        if detail:
            methods["ours, no background"] = no_background.score(scored)
            methods.update({f"component {k}": v for k, v in profile.components(scored).items()})
            methods["baseline char 3-5 TF-IDF"] = char_tfidf_baseline(train, background)(scored)
        n = len(heldout)
        inside = {i: n + k for k, i in enumerate(evaluated_ids)}
        negatives = {name: np.array([inside[i] for i in split.get(name, []) if i in inside], dtype=int) for name in NEGATIVE_SETS}
        rounds.append((methods, np.arange(n), negatives))
    return rounds


def mean_auc(rounds, method: str, negative_set: str, rng=None) -> float:
    values = []
    positives_pick = None
    for methods, positives, negatives in rounds:
        pos, neg = positives, negatives[negative_set]
        if rng is not None:
            positives_pick = rng.integers(0, len(pos), len(pos)) if positives_pick is None else positives_pick
            pos, neg = pos[positives_pick], neg[rng.integers(0, len(neg), len(neg))]
        scores = methods[method]
        labels = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
        values.append(roc_auc_score(labels, np.r_[scores[pos], scores[neg]]))
    return float(np.mean(values))


def interval(rounds, method: str, negative_set: str, n_boot: int, seed: int) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    draws = [mean_auc(rounds, method, negative_set, rng) for _ in range(n_boot)]
    return float(np.percentile(draws, 2.5)), float(np.percentile(draws, 97.5))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus_dir")
    parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap draws for the 95%% intervals")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    texts, split = load_corpus(args.corpus_dir)
    started = time.perf_counter()
    rounds = run_rounds(texts, split, seed=args.seed)
    print(
        f"corpus {args.corpus_dir}: train {len(split['train_ids'])}, heldout {len(split['heldout_ids'])}, "
        + ", ".join(f"{name} {len(split.get(name, []))}" for name in NEGATIVE_SETS)
        + f"; 2 rounds (background = one half of other_ids, negatives = the other half); {time.perf_counter() - started:.1f} s"
    )
    results = {}
    for negative_set in NEGATIVE_SETS:
        if not all(len(r[2][negative_set]) for r in rounds):
            continue
        print(f"\nROC AUC, heldout_ids vs {negative_set} (mean of 2 rounds, bootstrap 95% interval):")
        for method in rounds[0][0]:
            auc = mean_auc(rounds, method, negative_set)
            low, high = interval(rounds, method, negative_set, args.bootstrap, args.seed)
            results[(method, negative_set)] = auc
            print(f"  {method:32s} {auc:.3f}  [{low:.3f}, {high:.3f}]")
    ours = results[("ours", "other_ids_untemplated")]
    baseline = results[("baseline char 3-5 TF-IDF", "other_ids_untemplated")]
    print(f"voice AUC vs other_ids_untemplated: {ours:.3f} (baseline {baseline:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
