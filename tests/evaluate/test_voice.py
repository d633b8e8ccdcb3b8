"""Voice fidelity: it separates the target's held-out writing from others', survives odd input, and round-trips."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from housevoice.errors import HousevoiceError
from housevoice.evaluate.voice import COMPONENTS, VoiceProfile, VoiceSettings

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"


def _bench():
    spec = importlib.util.spec_from_file_location("voice_fidelity_bench", ROOT / "bench" / "voice_fidelity.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def transcripts():
    if not (DATA / "dev-transcripts" / "voice.json").exists():
        pytest.skip("the shared dev-transcripts corpus is not in this checkout")
    return _bench().load_corpus(DATA / "dev-transcripts")


@pytest.fixture(scope="module")
def host_profile(transcripts):
    texts, split = transcripts
    others = [texts[i] for i in split["other_ids"][:200]]
    return VoiceProfile.fit([texts[i] for i in split["train_ids"][:120]], background=others)


@pytest.mark.parametrize(("corpus", "goal"), [("dev-corpus", 0.95), ("dev-transcripts", 0.90)])
def test_heldout_target_writing_scores_above_other_authors(corpus, goal):
    bench = _bench()
    if not (DATA / corpus / "voice.json").exists():
        pytest.skip(f"the shared {corpus} corpus is not in this checkout")
    texts, split = bench.load_corpus(DATA / corpus)
    rounds = bench.run_rounds(texts, split, detail=False)
    assert bench.mean_auc(rounds, "ours", "other_ids_untemplated") >= goal


def test_scores_are_probabilities_and_target_scores_higher(host_profile, transcripts):
    texts, split = transcripts
    heldout = host_profile.score([texts[i] for i in split["heldout_ids"]])
    others = host_profile.score([texts[i] for i in split["other_ids"][-200:]])
    assert ((heldout >= 0) & (heldout <= 1)).all() and ((others >= 0) & (others <= 1)).all()
    assert heldout.mean() > others.mean() + 0.2


def test_saved_profile_loads_with_identical_scores(host_profile, transcripts, tmp_path):
    texts, split = transcripts
    sample = [texts[i] for i in split["heldout_ids"][:30]]
    path = host_profile.save(tmp_path / "voice.npz")
    loaded = VoiceProfile.load(path)
    np.testing.assert_array_equal(loaded.score(sample), host_profile.score(sample))
    for name, values in host_profile.components(sample).items():
        np.testing.assert_array_equal(loaded.components(sample)[name], values)


def test_profile_without_background_still_scores_in_unit_range(transcripts, tmp_path):
    texts, split = transcripts
    profile = VoiceProfile.fit([texts[i] for i in split["train_ids"][:60]])
    scores = profile.score([texts[i] for i in split["heldout_ids"][:10]] + [texts[i] for i in split["other_ids"][:10]])
    assert ((scores >= 0) & (scores <= 1)).all()
    assert set(profile.components(["Well, I think so."])) == set(COMPONENTS)
    reloaded = VoiceProfile.load(profile.save(tmp_path / "alone.npz"))
    np.testing.assert_array_equal(reloaded.score(["Well, I think so."]), profile.score(["Well, I think so."]))


def test_empty_one_word_and_non_english_texts_do_not_crash(host_profile):
    odd = ["", "   ", "Hello", "42", "?!", "```\ncode only\n```", "Всем привет, это наш подкаст.", "これは日本語の文章です。", "🙂🙂"]
    scores = host_profile.score(odd)
    assert scores.shape == (len(odd),) and np.isfinite(scores).all()
    assert all(np.isfinite(values).all() for values in host_profile.components(odd).values())
    assert host_profile.score([]).shape == (0,)


def test_fit_on_too_few_texts_names_the_problem():
    with pytest.raises(HousevoiceError, match="at least 5 texts"):
        VoiceProfile.fit(["One short text.", "Another one.", ""])
    with pytest.raises(HousevoiceError, match="at least 8 texts"):
        VoiceProfile.fit(["A sentence with words."] * 6, settings=VoiceSettings(min_texts=8))


def test_loading_something_that_is_not_a_profile_is_a_clear_error(tmp_path):
    broken = tmp_path / "voice.npz"
    broken.write_text("not a profile")
    with pytest.raises(HousevoiceError, match="not a readable voice profile"):
        VoiceProfile.load(broken)
