"""Voice fidelity: how much a text sounds like the approved writing of the target author, from style rather than topic."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from housevoice.errors import HousevoiceError
from housevoice.evaluate.voice_features import (
    char_ngram_counts,
    compressed_bits,
    function_word_rates,
    masked,
    prose,
    surface_stats,
    words,
)

COMPONENTS = ("function_words", "char_style", "char_ngrams", "rhythm", "compression")
_FORMAT = "housevoice-voice-profile/1"


class VoiceSettings(BaseModel):
    """How a voice profile is built; the defaults are generic, not tuned to any one corpus."""

    model_config = ConfigDict(extra="forbid")

    min_texts: int = Field(5, ge=2, description="fewest training texts (with words) a profile accepts")
    max_chars: int = Field(6000, ge=200, description="only the first N characters of prose in each text are read")
    char_ngrams: tuple[int, int] = Field((2, 4), description="byte n-gram lengths of the plain character profile (≤ 4)")
    style_ngrams: tuple[int, int] = Field((1, 4), description="byte n-gram lengths of the masked (topic-free) profile (≤ 4)")
    min_df: int = Field(2, ge=1, description="an n-gram counts only if this many training texts contain it")
    dense_weight: float = Field(0.05, gt=0, description="weight of function-word and rhythm z-scores next to n-grams")
    regularization: float = Field(10.0, gt=0, description="inverse L2 strength (C) of the discriminative model")
    calibration_folds: int = Field(3, ge=2, description="cross-validation folds inside the training data for calibration")
    dictionary_bytes: int = Field(32000, ge=1000, le=32768, description="profile text kept as the compression dictionary")
    seed: int = 0


def _clean(texts: list[str], settings: VoiceSettings) -> list[str]:
    return [prose(t if isinstance(t, str) else "")[: settings.max_chars] for t in texts]


def _zscore(values: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    return np.clip((values - mean) / std, -5.0, 5.0)


def _cosine(rows, centroid: np.ndarray) -> np.ndarray:
    """Cosine of each row (dense or sparse) to one centroid; an empty row scores 0."""
    dots = np.asarray(rows @ centroid).ravel()
    norms = np.sqrt(np.asarray(rows.multiply(rows).sum(axis=1)).ravel()) if sparse.issparse(rows) else np.linalg.norm(rows, axis=1)
    return dots / np.maximum(norms * max(np.linalg.norm(centroid), 1e-12), 1e-12)


class _NgramTable:
    """Sublinear TF-IDF over hashed byte n-grams, restricted to n-grams the fitting texts share."""

    def __init__(self, lo: int, hi: int, columns: np.ndarray, idf: np.ndarray):
        self.lo, self.hi, self.columns, self.idf = lo, hi, columns, idf
        self.keep = np.full(1 << 20, -1, dtype=np.int64)
        self.keep[columns] = np.arange(len(columns))

    @classmethod
    def fit(cls, texts: list[str], lo: int, hi: int, min_df: int) -> _NgramTable:
        counts = char_ngram_counts(texts, lo, hi).tocsc()
        df = np.diff(counts.indptr)
        columns = np.flatnonzero(df >= min(min_df, len(texts)))
        idf = np.log((1 + len(texts)) / (1 + df[columns])) + 1.0
        return cls(lo, hi, columns.astype(np.int64), idf.astype(np.float32))

    def transform(self, texts: list[str]) -> sparse.csr_matrix:
        counts = char_ngram_counts(texts, self.lo, self.hi, keep=self.keep)
        counts.resize((len(texts), len(self.columns)))
        counts.sum_duplicates()
        counts.data = (1.0 + np.log(counts.data)) * self.idf[counts.indices]
        squares = sparse.csr_matrix((counts.data**2, counts.indices, counts.indptr), shape=counts.shape)
        norms = np.sqrt(np.asarray(squares.sum(axis=1)).ravel())
        counts.data /= np.repeat(np.maximum(norms, 1e-12), np.diff(counts.indptr)).astype(np.float32)
        return counts


class VoiceProfile:
    """A voice profile built from the approved texts of one author or organization.

    `score` gives each text a number in [0, 1]: with background writing, the calibrated
    probability (equal priors) that the text comes from the profile rather than from the
    background; without it, the mean percentile of the text's component scores among the
    profile's own texts (held out in turn). `components` gives the raw component scores.
    """

    def __init__(self, settings: VoiceSettings, arrays: dict[str, np.ndarray]):
        self.settings = settings
        self.arrays = arrays
        self.char_table = _NgramTable(*settings.char_ngrams, arrays["char_columns"], arrays["char_idf"])
        self.style_table = _NgramTable(*settings.style_ngrams, arrays["style_columns"], arrays["style_idf"])

    @property
    def has_background(self) -> bool:
        return "model_coef" in self.arrays

    # ---- fitting ---------------------------------------------------------------------

    @classmethod
    def fit(
        cls, texts: list[str], *, background: list[str] | None = None, settings: VoiceSettings | None = None
    ) -> VoiceProfile:
        settings = settings or VoiceSettings()
        profile_texts = [t for t in _clean(list(texts), settings) if words(t)]
        if len(profile_texts) < settings.min_texts:
            raise HousevoiceError(
                f"A voice profile needs at least {settings.min_texts} texts with words in them; got {len(profile_texts)}",
                hint="approve more records of the target author, or lower min_texts",
            )
        other_texts = [t for t in _clean(list(background or []), settings) if words(t)]
        if len(other_texts) < settings.min_texts:
            other_texts = []  # too little background to learn from: fall back to the profile alone
        fitting = profile_texts + other_texts
        n = len(profile_texts)

        arrays: dict[str, np.ndarray] = {}
        char_table = _NgramTable.fit(fitting, *settings.char_ngrams, settings.min_df)
        style_table = _NgramTable.fit([masked(t) for t in fitting], *settings.style_ngrams, settings.min_df)
        arrays.update(char_columns=char_table.columns, char_idf=char_table.idf)
        arrays.update(style_columns=style_table.columns, style_idf=style_table.idf)

        rates, stats = function_word_rates(fitting), surface_stats(fitting)
        reference = slice(n, None) if other_texts else slice(0, n)  # z-scores against the background when there is one
        arrays["fw_mean"], arrays["fw_std"] = rates[reference].mean(0), rates[reference].std(0) + 1e-4
        arrays["rhythm_mean"], arrays["rhythm_std"] = stats[reference].mean(0), stats[reference].std(0) + 1e-6

        profile_bytes = "\n\n".join(profile_texts).encode("utf-8")
        arrays["profile_dictionary"] = np.frombuffer(profile_bytes[-settings.dictionary_bytes :], dtype=np.uint8).copy()
        other_bytes = "\n\n".join(other_texts).encode("utf-8")
        arrays["background_dictionary"] = np.frombuffer(other_bytes[-settings.dictionary_bytes :], dtype=np.uint8).copy()

        self = cls(settings, arrays)
        features = self._features(fitting)
        self._set_centroids(features, np.arange(n))
        if other_texts:
            self._fit_discriminative(features, n, len(other_texts))
        else:
            self._fit_percentiles(features, n)
        return self

    def _set_centroids(self, features: dict, rows: np.ndarray) -> None:
        for name in ("fw", "rhythm", "char", "style"):
            block = features[name][rows]
            self.arrays[f"{name}_centroid"] = np.asarray(block.mean(axis=0)).ravel().astype(np.float64)

    def _fit_discriminative(self, features: dict, n_profile: int, n_other: int) -> None:
        labels = np.r_[np.ones(n_profile), np.zeros(n_other)]
        design = self._design(features)
        model = self._classifier().fit(design, labels)
        self.arrays["model_coef"], self.arrays["model_intercept"] = model.coef_.ravel(), model.intercept_
        # Platt scaling on decisions made for texts the model did not see (folds inside the fitting texts)
        rng = np.random.default_rng(self.settings.seed)
        folds = np.empty(len(labels), dtype=int)
        for label in (0, 1):
            members = rng.permutation(np.flatnonzero(labels == label))
            folds[members] = np.arange(len(members)) % self.settings.calibration_folds
        held_out = np.empty(len(labels))
        for fold in range(self.settings.calibration_folds):
            inside = folds != fold
            held_out[~inside] = self._classifier().fit(design[inside], labels[inside]).decision_function(design[~inside])
        platt = LogisticRegression(class_weight="balanced").fit(held_out[:, None], labels)
        self.arrays["platt"] = np.array([platt.coef_[0, 0], platt.intercept_[0]])

    def _fit_percentiles(self, features: dict, n_profile: int) -> None:
        """Each component's scores for profile texts left out in turn: the yardstick for percentiles."""
        rng = np.random.default_rng(self.settings.seed)
        folds = rng.permutation(n_profile) % self.settings.calibration_folds
        held_out = {name: np.empty(n_profile) for name in COMPONENTS}
        full_centroids = {k: v for k, v in self.arrays.items() if k.endswith("_centroid")}
        for fold in range(self.settings.calibration_folds):
            self._set_centroids(features, np.flatnonzero(folds != fold))
            part = {k: (v[folds == fold] if k != "texts" else [t for t, f in zip(v, folds) if f == fold]) for k, v in features.items()}
            for name, values in self._component_scores(part).items():
                held_out[name][folds == fold] = values
        self.arrays.update(full_centroids)
        for name in COMPONENTS:
            self.arrays[f"yardstick_{name}"] = np.sort(held_out[name])

    def _classifier(self) -> LogisticRegression:
        return LogisticRegression(C=self.settings.regularization, class_weight="balanced", solver="liblinear", dual=True)

    # ---- scoring ---------------------------------------------------------------------

    def _features(self, cleaned: list[str]) -> dict:
        return {
            "texts": cleaned,
            "fw": _zscore(function_word_rates(cleaned), self.arrays["fw_mean"], self.arrays["fw_std"]),
            "rhythm": _zscore(surface_stats(cleaned), self.arrays["rhythm_mean"], self.arrays["rhythm_std"]),
            "char": self.char_table.transform(cleaned),
            "style": self.style_table.transform([masked(t) for t in cleaned]),
        }

    def _design(self, features: dict) -> sparse.csr_matrix:
        weight = self.settings.dense_weight
        dense = np.hstack([features["fw"], features["rhythm"]]) * weight
        return sparse.hstack([features["style"], features["char"], sparse.csr_matrix(dense)]).tocsr()

    def _component_scores(self, features: dict) -> dict[str, np.ndarray]:
        texts = features["texts"]
        profile_bits = compressed_bits(texts, self.arrays["profile_dictionary"].tobytes())
        other_bits = compressed_bits(texts, self.arrays["background_dictionary"].tobytes())
        return {
            "function_words": _cosine(features["fw"], self.arrays["fw_centroid"]),  # Cosine Delta
            "char_style": _cosine(features["style"], self.arrays["style_centroid"]),
            "char_ngrams": _cosine(features["char"], self.arrays["char_centroid"]),
            "rhythm": -np.abs(features["rhythm"] - self.arrays["rhythm_centroid"]).mean(axis=1),
            "compression": other_bits - profile_bits,  # bits per character the profile saves
        }

    def components(self, texts: list[str]) -> dict[str, np.ndarray]:
        """Each component's raw score per text (higher = closer to the profile), for reports."""
        features = self._features(_clean(list(texts), self.settings))
        scores = self._component_scores(features)
        if self.has_background:
            scores["discriminative"] = self._decision(features)
        return scores

    def _decision(self, features: dict) -> np.ndarray:
        return np.asarray(self._design(features) @ self.arrays["model_coef"]).ravel() + self.arrays["model_intercept"][0]

    def score(self, texts: list[str]) -> np.ndarray:
        """Voice fidelity per text in [0, 1]: higher sounds more like the profile."""
        if not len(texts):
            return np.zeros(0)
        features = self._features(_clean(list(texts), self.settings))
        if self.has_background:
            slope, intercept = self.arrays["platt"]
            return 1.0 / (1.0 + np.exp(-(slope * self._decision(features) + intercept)))
        percentiles = []
        for name, values in self._component_scores(features).items():
            yardstick = self.arrays[f"yardstick_{name}"]
            percentiles.append(np.searchsorted(yardstick, values, side="right") / len(yardstick))
        return np.mean(percentiles, axis=0)

    # ---- storage ---------------------------------------------------------------------

    def save(self, path) -> Path:
        """Write the profile as one .npz of plain arrays (settings as JSON inside); no code is pickled."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = json.dumps({"format": _FORMAT, "settings": self.settings.model_dump(mode="json")})
        temporary = path.with_name(path.name + ".tmp")
        with open(temporary, "wb") as handle:
            np.savez_compressed(handle, _meta=np.array(meta), **self.arrays)
        temporary.replace(path)
        return path

    @classmethod
    def load(cls, path) -> VoiceProfile:
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as stored:
                arrays = {k: stored[k] for k in stored.files}
            meta = json.loads(str(arrays.pop("_meta")))
        except (OSError, ValueError, KeyError) as error:
            raise HousevoiceError(f"{path}: not a readable voice profile ({error})", hint="fit the profile again") from None
        if meta.get("format") != _FORMAT:
            raise HousevoiceError(f"{path}: unknown voice profile format {meta.get('format')!r}", hint="fit the profile again")
        return cls(VoiceSettings(**meta["settings"]), arrays)
