"""A second net under the crisis rules: a character n-gram model trained on the corpus.

The rules (``_crisis.py``) name concepts a counsellor can read and edit, and they say *what*
fired and whether it is urgent. Measured on sentences written by people the rules never
saw, they still missed about one cue in ten in Japanese: the long tail of how people say
these things is longer than any list. This model learns from every labelled sentence in
``docs/crisis-corpus/train/`` which short runs of characters (in the folded text, so
カタカナ, ひらがな and widths look alike) make a message read as a cue, and catches much of
that tail. It only ever *adds* a crisis screen the rules did not open; it never silences one.

It is small, plain data (``crisis_model.json`` beside this module, made by
``python -m benchmarks.crisis --fit``), pure Python to run, and linear in the message:
long messages are read in overlapping windows and the highest window counts. Its
threshold is chosen on held-back writers, so that on writers it was not fitted to it
raises at most about one false alarm in a hundred ordinary messages.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["MODEL_FILE", "NgramModel", "corpus_digest", "fit"]

MODEL_FILE = Path(__file__).with_name("crisis_model.json")
SIZES = (1, 2, 3, 4)
WINDOW, STEP = 160, 80  # a long message is read in windows of 160 characters, every 80


def grams(text: str) -> list[str]:
    """The n-grams of a text (with edge marks, so a whole short word is a feature)."""
    return grams_of(f"\x02{text}\x03")


def grams_of(padded: str) -> list[str]:
    return [padded[i:i + n] for i in range(len(padded)) for n in SIZES if i + n <= len(padded)]


def is_japanese(folded: str) -> bool:
    """Which threshold applies: the script most of the text is in. A Japanese character
    carries about as much as three Latin letters, so "ずっと前 / a while ago maybe" reads
    as English and "LINEで写真を送った" as Japanese."""
    japanese = sum(1 for c in folded if c >= "\u3040")
    latin = sum(1 for c in folded if c.isascii() and c.isalpha())
    return japanese > 0 and japanese * 3 >= latin


@dataclass
class NgramModel:
    """Logistic regression over character n-grams; weights keyed by the n-gram itself.

    Two thresholds, one for text with Japanese in it and one for plain ASCII text,
    because the two languages' ordinary messages score differently.
    """

    weights: dict[str, float]
    bias: float
    threshold: dict[str, float]
    meta: dict[str, Any] = field(default_factory=dict)

    def score(self, folded: str) -> float:
        """Log-odds that the most cue-like window of an already folded text is a cue.

        Each distinct n-gram of a window counts once, as in training on short messages, so
        a run of one harmless pattern ("あああ…", "ありがとう" × 100) cannot add up to a cue.
        Long texts are cut into blocks of ``STEP`` characters; a window is two neighbouring
        blocks, and its n-grams are the union of theirs (plus those across the seam).
        """
        get = self.weights.get
        padded = f"\x02{folded}\x03"
        if len(padded) <= WINDOW:
            return self.bias + sum(get(g, 0.0) for g in set(grams_of(padded)))
        blocks = [set(grams_of(padded[i:i + STEP + max(SIZES) - 1]))
                  for i in range(0, len(padded), STEP)]
        best = -math.inf
        # One block alone is its own window; otherwise each block with the next one.
        for a, b in zip(blocks, blocks[1:] or [set()], strict=False):
            best = max(best, sum(get(g, 0.0) for g in a | b))
        return self.bias + best  # the logit: unlike a probability it does not saturate

    def fires(self, folded: str) -> bool:
        key = "ja" if is_japanese(folded) else "en"
        return self.score(folded) >= self.threshold[key]

    def to_json(self) -> str:
        weights = {k: round(v, 3) for k, v in sorted(self.weights.items()) if abs(v) >= 0.01}
        return json.dumps({"bias": round(self.bias, 4), "threshold": self.threshold,
                           "meta": self.meta, "weights": weights},
                          ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> NgramModel:
        data = json.loads(text)
        return cls({str(k): float(v) for k, v in data["weights"].items()}, float(data["bias"]),
                   {str(k): float(v) for k, v in data["threshold"].items()},
                   dict(data.get("meta") or {}))

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> NgramModel | None:
        """The shipped model, or None when there is none (the rules then work alone)."""
        try:
            return cls.from_json(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None


def _train(samples: Sequence[tuple[list[str], int]], *, epochs: int = 12, rate: float = 0.3,
           l2: float = 1e-5, seed: int = 7) -> tuple[dict[str, float], float]:
    """Logistic regression by AdaGrad over sparse binary features (deterministic)."""
    weights: dict[str, float] = {}
    sq: dict[str, float] = {}
    bias, bias_sq = 0.0, 0.0
    order = list(range(len(samples)))
    rng = random.Random(seed)
    positives = sum(y for _, y in samples)
    # Cues and ordinary messages weigh the same in total, whatever their counts.
    w_pos = len(samples) / (2 * max(positives, 1))
    w_neg = len(samples) / (2 * max(len(samples) - positives, 1))
    for _ in range(epochs):
        rng.shuffle(order)
        for i in order:
            feats, y = samples[i]
            z = bias + sum(weights.get(g, 0.0) for g in feats)
            p = 1.0 / (1.0 + math.exp(-max(min(z, 30.0), -30.0)))
            g_all = (p - y) * (w_pos if y else w_neg)
            bias_sq += g_all * g_all
            bias -= rate * g_all / math.sqrt(bias_sq + 1e-8)
            for f in feats:
                w = weights.get(f, 0.0)
                grad = g_all + l2 * w
                s = sq.get(f, 0.0) + grad * grad
                sq[f] = s
                weights[f] = w - rate * grad / math.sqrt(s + 1e-8)
    return weights, bias


def corpus_digest(files: Iterable[Path]) -> str:
    """A short digest of the training files, so a test can tell a stale model."""
    h = hashlib.sha256()
    for path in sorted(files):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _samples(items: Iterable[Mapping[str, Any]], fold: Any) -> list[tuple[list[str], int]]:
    return [(grams(fold(item["text"])), int(bool(item["trigger"]))) for item in items]


def fit(groups: Mapping[str, Sequence[Mapping[str, Any]]], fold: Any, *,
        max_false_alarms: float | Mapping[str, float] = 0.01,
        floor: float = 0.0) -> tuple[NgramModel, dict[str, Any]]:
    """Fit on every group (a writer's file), after choosing thresholds on held-back writers.

    For each writer, a model fitted on all the *other* writers scores that writer's
    sentences. Per language (Japanese text, plain ASCII text), the threshold is the
    lowest at which at most ``max_false_alarms`` of the held-back ordinary messages
    score above it. The report gives the recall reached there on the held-back writers.
    """
    names = sorted(groups)
    scores: dict[str, dict[str, list[float]]] = {"ja": {"cue": [], "ordinary": []},
                                                  "en": {"cue": [], "ordinary": []}}
    for name in names:
        rest = [s for other in names if other != name for s in _samples(groups[other], fold)]
        weights, bias = _train(rest)
        held = NgramModel(weights, bias, {"ja": 0.0, "en": 0.0})
        for item in groups[name]:
            folded = fold(item["text"])
            lang = "ja" if is_japanese(folded) else "en"
            scores[lang]["cue" if item["trigger"] else "ordinary"].append(held.score(folded))
    thresholds: dict[str, float] = {}
    budget = (dict(max_false_alarms) if isinstance(max_false_alarms, Mapping)
              else {"ja": max_false_alarms, "en": max_false_alarms})
    report: dict[str, Any] = {"writers": len(names), "max_false_alarms": budget}
    for lang, s in scores.items():
        ordinary = sorted(s["ordinary"], reverse=True)
        allowed = int(len(ordinary) * budget[lang])
        threshold = ordinary[allowed] + 1e-3 if allowed < len(ordinary) else floor
        threshold = round(max(threshold, floor), 3)
        thresholds[lang] = threshold
        cues = s["cue"]
        report[lang] = {
            "threshold": threshold,
            "held_back_recall": round(sum(x >= threshold for x in cues) / max(len(cues), 1), 4),
            "held_back_false_alarms": round(sum(x >= threshold for x in ordinary)
                                            / max(len(ordinary), 1), 4),
            "cues": len(cues), "ordinary": len(ordinary)}
    weights, bias = _train([s for name in names for s in _samples(groups[name], fold)])
    return NgramModel(weights, bias, thresholds, dict(report)), report
