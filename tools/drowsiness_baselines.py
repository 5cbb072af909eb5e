"""Baselines the drowsiness model is judged against, in NumPy (scikit-learn is not installed).

Each takes windows of 30 normalised blinks (the dataset's `blinks_foldK.npy` rows) and
gives level probabilities (alert, low vigilant, drowsy), so every baseline is scored by
the same `tools.eval_drowsiness.scores` as the model:

- majority: the training folds' most common level, always;
- logistic regression on the window's summary (each feature's mean and spread over the
  30 blinks, standardised on the training folds), multinomial, L2, fitted by gradient
  descent to convergence;
- gradient boosting on the same summary: softmax boosting of depth-3 regression trees on
  quantile-binned features (the LightGBM / scikit-learn HistGradientBoosting recipe:
  Newton leaf values, 32 bins, shrinkage 0.1, 100 rounds).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

CLASSES = 3

LR_L2 = 1e-3
LR_STEP = 0.5
LR_STEPS = 3000

GB_ROUNDS = 100
GB_DEPTH = 3
GB_SHRINKAGE = 0.1
GB_BINS = 32
GB_MIN_LEAF = 20
GB_L2 = 1.0


def summary(windows: npt.ArrayLike) -> FloatArray:
    """(N, 8): each feature's mean over the window, then each one's spread."""
    array = np.asarray(windows, dtype=np.float64)
    return np.concatenate([array.mean(axis=1), array.std(axis=1)], axis=1)


def softmax(logits: FloatArray) -> FloatArray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return np.asarray(shifted / shifted.sum(axis=1, keepdims=True), dtype=np.float64)


def one_hot(labels: IntArray) -> FloatArray:
    return np.eye(CLASSES)[labels]


def majority(train_labels: IntArray, test_count: int) -> FloatArray:
    """Probability 1 on the training folds' most common level."""
    probabilities = np.zeros((test_count, CLASSES))
    probabilities[:, int(np.bincount(train_labels, minlength=CLASSES).argmax())] = 1.0
    return probabilities


def logistic_regression(
    train: npt.ArrayLike, train_labels: IntArray, test: npt.ArrayLike
) -> FloatArray:
    x, x_test = summary(train), summary(test)
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-12
    x, x_test = (x - mean) / std, (x_test - mean) / std
    x = np.concatenate([x, np.ones((len(x), 1))], axis=1)
    x_test = np.concatenate([x_test, np.ones((len(x_test), 1))], axis=1)
    target = one_hot(train_labels)
    weights = np.zeros((x.shape[1], CLASSES))
    for _ in range(LR_STEPS):
        gradient = x.T @ (softmax(x @ weights) - target) / len(x) + LR_L2 * weights
        weights -= LR_STEP * gradient
    return softmax(x_test @ weights)


@dataclass(frozen=True, slots=True)
class _Tree:
    feature: IntArray
    threshold: IntArray
    """Rows with bin ≤ threshold go left."""
    left: IntArray
    right: IntArray
    value: FloatArray

    def predict(self, binned: IntArray) -> FloatArray:
        node = np.zeros(len(binned), dtype=np.int64)
        for _ in range(GB_DEPTH):
            inner = self.left[node] >= 0
            goes_left = binned[np.arange(len(binned)), self.feature[node]] <= self.threshold[node]
            node = np.where(inner, np.where(goes_left, self.left[node], self.right[node]), node)
        return self.value[node]


def _leaf(gradient: FloatArray, hessian: FloatArray) -> float:
    return float(-gradient.sum() / (hessian.sum() + GB_L2))


def _grow(binned: IntArray, gradient: FloatArray, hessian: FloatArray) -> _Tree:
    feature, threshold, left, right, value = [0], [0], [-1], [-1], [_leaf(gradient, hessian)]
    frontier = [(0, np.arange(len(binned)), 0)]
    while frontier:
        node, rows, depth = frontier.pop()
        if depth >= GB_DEPTH or len(rows) < 2 * GB_MIN_LEAF:
            continue
        g, h = gradient[rows], hessian[rows]
        total = g.sum() ** 2 / (h.sum() + GB_L2)
        best = (0.0, -1, -1)
        for column in range(binned.shape[1]):
            bins = binned[rows, column]
            g_left = np.cumsum(np.bincount(bins, g, GB_BINS))
            h_left = np.cumsum(np.bincount(bins, h, GB_BINS))
            n_left = np.cumsum(np.bincount(bins, minlength=GB_BINS))
            g_right, h_right = g.sum() - g_left, h.sum() - h_left
            gain = g_left**2 / (h_left + GB_L2) + g_right**2 / (h_right + GB_L2) - total
            allowed = (n_left >= GB_MIN_LEAF) & (len(rows) - n_left >= GB_MIN_LEAF)
            gain = np.where(allowed, gain, -np.inf)
            cut = int(gain.argmax())
            if gain[cut] > best[0]:
                best = (float(gain[cut]), column, cut)
        if best[1] < 0:
            continue
        _, column, cut = best
        goes_left = binned[rows, column] <= cut
        feature[node], threshold[node] = column, cut
        for side, subset in ((left, rows[goes_left]), (right, rows[~goes_left])):
            side[node] = len(value)
            feature.append(0)
            threshold.append(0)
            left.append(-1)
            right.append(-1)
            value.append(_leaf(gradient[subset], hessian[subset]))
            frontier.append((side[node], subset, depth + 1))
    return _Tree(
        np.array(feature), np.array(threshold), np.array(left), np.array(right), np.array(value)
    )


def gradient_boosting(
    train: npt.ArrayLike, train_labels: IntArray, test: npt.ArrayLike
) -> FloatArray:
    x, x_test = summary(train), summary(test)
    edges = [np.unique(np.quantile(column, np.linspace(0, 1, GB_BINS + 1)[1:-1])) for column in x.T]

    def binned(values: FloatArray) -> IntArray:
        return np.stack(
            [
                np.searchsorted(edge, column, side="right")
                for edge, column in zip(edges, values.T, strict=True)
            ],
            axis=1,
        ).astype(np.int64)

    train_bins, test_bins = binned(x), binned(x_test)
    prior = np.log(np.bincount(train_labels, minlength=CLASSES) / len(train_labels))
    logits = np.tile(prior, (len(x), 1))
    logits_test = np.tile(prior, (len(x_test), 1))
    target = one_hot(train_labels)
    for _ in range(GB_ROUNDS):
        probabilities = softmax(logits)
        for level in range(CLASSES):
            gradient = probabilities[:, level] - target[:, level]
            hessian = probabilities[:, level] * (1.0 - probabilities[:, level])
            tree = _grow(train_bins, gradient, hessian)
            logits[:, level] += GB_SHRINKAGE * tree.predict(train_bins)
            logits_test[:, level] += GB_SHRINKAGE * tree.predict(test_bins)
    return softmax(logits_test)
