"""Classification and calibration measures for 7-class emotion probabilities (numpy only).

Shared by tools/train_emotion.py (validation, temperature) and tools/emotion_eval.py
(PublicTest), so both report the same definitions.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from burnout_tui import EMOTIONS

ECE_BINS = 15
"""Equal-width confidence bins, the usual choice since Guo et al. 2017."""

FloatArray = npt.NDArray[np.float64]


def expected_calibration_error(
    probs: npt.ArrayLike, labels: npt.ArrayLike, bins: int = ECE_BINS
) -> float:
    """Top-label ECE: sum over equal-width bins of |accuracy - mean confidence| x bin share,
    over the bins of `reliability`."""
    rows = reliability(probs, labels, bins)
    total = sum(row["count"] for row in rows)
    return float(
        sum(
            row["count"] / total * abs(row["accuracy"] - row["confidence"])
            for row in rows
            if row["count"]
        )
    )


def reliability(
    probs: npt.ArrayLike, labels: npt.ArrayLike, bins: int = ECE_BINS
) -> list[dict[str, float]]:
    """Per-bin count, mean confidence and accuracy (the reliability diagram's points)."""
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    confidence = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, bins - 1)
    rows = []
    for b in range(bins):
        members = index == b
        count = int(members.sum())
        rows.append(
            {
                "low": float(edges[b]),
                "high": float(edges[b + 1]),
                "count": count,
                "confidence": float(confidence[members].mean()) if count else float("nan"),
                "accuracy": float(correct[members].mean()) if count else float("nan"),
            }
        )
    return rows


def confusion_matrix(
    predicted: npt.ArrayLike, labels: npt.ArrayLike, classes: int = len(EMOTIONS)
) -> npt.NDArray[np.int64]:
    """Rows: true class, columns: predicted class."""
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels, np.int64), np.asarray(predicted, np.int64)), 1)
    return matrix


def softmax(logits: npt.ArrayLike) -> FloatArray:
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True), dtype=np.float64)


def nll(probs: npt.ArrayLike, labels: npt.ArrayLike) -> float:
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None))))


def summary(probs: npt.ArrayLike, labels: npt.ArrayLike) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class recall/precision/F1, confusion matrix, ECE and NLL."""
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    matrix = confusion_matrix(p.argmax(axis=1), y)
    true_counts = matrix.sum(axis=1)
    predicted_counts = matrix.sum(axis=0)
    hits = np.diag(matrix).astype(np.float64)
    recall = np.divide(hits, true_counts, out=np.zeros_like(hits), where=true_counts > 0)
    precision = np.divide(
        hits, predicted_counts, out=np.zeros_like(hits), where=predicted_counts > 0
    )
    denominator = precision + recall
    f1 = np.divide(
        2 * precision * recall, denominator, out=np.zeros_like(hits), where=denominator > 0
    )
    return {
        "images": len(y),
        "accuracy": float(hits.sum() / len(y)),
        "macro_f1": float(f1.mean()),
        "recall": dict(zip(EMOTIONS, recall.round(4).tolist(), strict=True)),
        "precision": dict(zip(EMOTIONS, precision.round(4).tolist(), strict=True)),
        "f1": dict(zip(EMOTIONS, f1.round(4).tolist(), strict=True)),
        "confusion": matrix.tolist(),
        "ece": expected_calibration_error(p, y),
        "nll": nll(p, y),
    }
