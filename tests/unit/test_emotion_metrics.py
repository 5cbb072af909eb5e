"""tools/emotion_metrics.py: ECE and the per-class figures on cases with known answers."""

from __future__ import annotations

import numpy as np

from burnout_tui import EMOTIONS
from tools.emotion_metrics import expected_calibration_error, reliability, summary


def _probs(top: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Rows whose top class is `predicted` with probability `top`, the rest spread evenly."""
    rest = (1 - top) / (len(EMOTIONS) - 1)
    probs = np.repeat(rest[:, None], len(EMOTIONS), axis=1)
    probs[np.arange(len(top)), predicted] = top
    return probs


def test_ece_is_zero_when_confidence_equals_accuracy() -> None:
    predicted = np.zeros(10, dtype=np.int64)
    labels = np.array([0] * 7 + [1] * 3)
    assert expected_calibration_error(_probs(np.full(10, 0.7), predicted), labels) < 1e-12


def test_ece_of_an_overconfident_model() -> None:
    predicted = np.zeros(10, dtype=np.int64)
    labels = np.array([0] * 6 + [1] * 4)
    ece = expected_calibration_error(_probs(np.full(10, 0.95), predicted), labels)
    assert abs(ece - 0.35) < 1e-12


def test_bins_split_by_confidence() -> None:
    top = np.array([0.99, 0.99, 0.30, 0.30])
    predicted = np.array([0, 0, 0, 0])
    labels = np.array([0, 0, 1, 1])
    ece = expected_calibration_error(_probs(top, predicted), labels)
    assert abs(ece - (0.5 * 0.01 + 0.5 * 0.30)) < 1e-12
    counts = [row["count"] for row in reliability(_probs(top, predicted), labels)]
    assert sum(counts) == 4 and counts[-1] == 2


def test_summary_recall_f1_and_confusion() -> None:
    labels = np.array([0, 0, 1, 1, 3])
    predicted = np.array([0, 1, 1, 1, 3])
    result = summary(_probs(np.full(5, 0.9), predicted), labels)
    assert result["accuracy"] == 0.8
    assert result["recall"]["angry"] == 0.5 and result["recall"]["disgust"] == 1.0
    assert result["confusion"][0][:2] == [1, 1]
    assert abs(result["f1"]["disgust"] - 0.8) < 1e-4
