"""Evaluation speed: seconds to score 1,000 texts for voice fidelity (goal < 5 s on CPU), and lm-eval wall time.

Usage: python bench/eval_speed.py [CORPUS_DIR] [--texts N] [--chars C]

Voice fidelity: a profile is fitted on the corpus's `train_ids` with half of `other_ids` as
background, then N texts (default 1,000) drawn from the corpus records, each cut to at most
C characters (default 1,200, about the 256 new tokens a sampled response has), are scored.
Fitting is timed separately; scoring is timed on a warm profile (best of 3 runs).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from voice_fidelity import halves, load_corpus  # noqa: E402  (the sibling benchmark's corpus reader)

from housevoice.evaluate.voice import VoiceProfile  # noqa: E402

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "data" / "dev-transcripts"


def voice_speed(corpus_dir, n_texts: int, max_chars: int) -> None:
    texts, split = load_corpus(corpus_dir)
    started = time.perf_counter()
    profile = VoiceProfile.fit([texts[i] for i in split["train_ids"]], background=[texts[i] for i in halves(split, 0)[0]])
    fit_s = time.perf_counter() - started

    pool = list(texts.values())
    picks = np.random.default_rng(0).integers(0, len(pool), n_texts)
    sample = [pool[i][:max_chars] for i in picks]
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        profile.score(sample)
        runs.append(time.perf_counter() - started)
    chars = sum(len(t) for t in sample)
    print(f"voice profile fit ({len(split['train_ids'])} texts + background): {fit_s:.2f} s")
    print(f"voice fidelity: {len(sample)} texts ({chars / len(sample):.0f} chars on average) scored in {min(runs):.2f} s")


def lm_eval_speed() -> None:
    # --- lm-eval half: wall time of the offline suite on the tiny model goes here ---
    print("lm-eval offline suite on the tiny model: not measured by this script yet")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus_dir", nargs="?", default=str(DEFAULT_CORPUS))
    parser.add_argument("--texts", type=int, default=1000)
    parser.add_argument("--chars", type=int, default=1200, help="each scored text is cut to this many characters")
    args = parser.parse_args(argv)
    voice_speed(args.corpus_dir, args.texts, args.chars)
    lm_eval_speed()
    return 0


if __name__ == "__main__":
    sys.exit(main())
