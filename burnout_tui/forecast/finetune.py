"""Fit the forecaster to one person without PyTorch: refit its output layer by ridge regression.

There is no PyTorch at run time, so `burnout-tui train --user NAME` cannot backpropagate
through the LSTM. It does not need to: the model's last step is a linear head on the LSTM's
hidden state (the `hidden` output), so refitting that head to a user's sessions is a
linear least-squares problem, solved exactly here with numpy in milliseconds. The LSTM
keeps the general-purpose dynamics it learned from many faces; the head learns how this
person's state moves from them to their score a few seconds later.

The head's output is a correction added to the model's built-in baseline (the EMA of the
window's frame scores; the `baseline` output), so the regression target is the target minus
that baseline. The ridge penalty pulls the head toward the shipped one, not toward zero, so
a user with little data gets a model close to the shipped model rather than one that
forgets it. The tuned model is kept only if it beats the shipped one on the user's
held-back sessions.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnx
from onnx import numpy_helper

from burnout_tui.file_modes import PRIVATE_DIR_MODE
from burnout_tui.forecast.dataset import Samples
from burnout_tui.forecast.model import HEAD_BIAS, HEAD_WEIGHT, MODEL_FILENAME, Forecaster
from burnout_tui.models_dir import model_path

RIDGE_ALPHA = 1.0
"""Penalty per training sample on the head's distance from the shipped head.

The objective is Σ (h·w + b − d)² + RIDGE_ALPHA · n · |(w, b) − (w, b)_shipped|²: scaled
by n, so its strength does not depend on how long the user's sessions are. The bias is
pulled too: a user's sessions drift, and an unpenalised bias fitted to one stretch of them
follows the drift. 1.0 is strong next to per-sample squared errors: it lets the head move
only along hidden-state directions that explain a lot of a user's data. In the only study
possible without users (the head refit on the first half of each held-back clip, judged
on the second; `tools/train_forecaster.py` prints it) every penalty from 0 to 1 made the
forecasts worse than the shipped head's, less so the stronger it was
(docs/measurements.md#forecast-finetune). So a tuned head is only ever a small step from
the shipped one, and it is kept only if it wins on the user's held-back sessions."""

MIN_TRAIN_SAMPLES = 100
"""Fewer windows than about three times the head's 33 parameters is too little to fit."""

FloatArray = npt.NDArray[np.float64]


class NotEnoughDataError(ValueError):
    """Too few samples to fit or to judge a tuned head; the message says how many there were."""


@dataclass(frozen=True, slots=True)
class Head:
    """The output layer: Δ = hidden · weight + bias."""

    weight: FloatArray
    bias: float

    def apply(self, hidden: npt.ArrayLike) -> FloatArray:
        return np.asarray(np.asarray(hidden, np.float64) @ self.weight + self.bias)


@dataclass(frozen=True, slots=True)
class FinetuneResult:
    """MAEs on the user's held-back sessions; `kept` when the tuned head wins."""

    mae_shipped: float
    mae_tuned: float
    mae_persistence: float
    n_train: int
    n_test: int
    kept: bool


def mae(predicted: npt.ArrayLike, target: npt.ArrayLike) -> float:
    p = np.asarray(predicted, np.float64).ravel()
    t = np.asarray(target, np.float64).ravel()
    if p.shape != t.shape or p.size == 0:
        raise ValueError(f"need two equal, non-empty sets of values, got {p.shape} and {t.shape}")
    return float(np.mean(np.abs(p - t)))


def fit_head(
    hidden: npt.ArrayLike,
    deltas: npt.ArrayLike,
    prior: Head | None = None,
    alpha: float = RIDGE_ALPHA,
) -> Head:
    """Ridge regression of `deltas` (N,) on `hidden` (N, H), pulled toward `prior`.

    Minimises Σ (h·w + b − d)² + alpha · N · |(w, b) − (w, b)_prior|²; `prior` None pulls
    toward zero. Solved as one least-squares system (lstsq), which stays exact with
    alpha = 0 and rank-deficient hidden states.
    """
    h = np.asarray(hidden, np.float64)
    d = np.asarray(deltas, np.float64).ravel()
    if h.ndim != 2 or h.shape[0] != d.size or d.size == 0:
        raise ValueError(f"expected hidden (N, H) and deltas (N,), got {h.shape} and {d.shape}")
    if alpha < 0:
        raise ValueError(f"alpha must be >= 0, got {alpha}")
    design = np.hstack([h, np.ones((d.size, 1))])
    size = design.shape[1]
    start = (
        np.zeros(size)
        if prior is None
        else np.append(np.asarray(prior.weight, np.float64).ravel(), prior.bias)
    )
    penalty = np.sqrt(alpha * d.size)
    system = np.vstack([design, penalty * np.eye(size)])
    values = np.concatenate([d, penalty * start])
    solution, *_ = np.linalg.lstsq(system, values, rcond=None)
    return Head(weight=solution[:-1], bias=float(solution[-1]))


def _initializer(model: onnx.ModelProto, name: str) -> onnx.TensorProto:
    tensor: onnx.TensorProto
    for tensor in model.graph.initializer:
        if tensor.name == name:
            return tensor
    raise ValueError(f"the model has no initializer {name!r}: not a burnout-tui forecaster")


def read_head(model: onnx.ModelProto) -> Head:
    weight = numpy_helper.to_array(_initializer(model, HEAD_WEIGHT)).astype(np.float64)
    bias = numpy_helper.to_array(_initializer(model, HEAD_BIAS)).astype(np.float64)
    return Head(weight=weight.ravel(), bias=float(bias.ravel()[0]))


def with_head(
    model: onnx.ModelProto, head: Head, properties: Mapping[str, str] | None = None
) -> onnx.ModelProto:
    """A copy of `model` whose head is `head`, with `properties` added to its metadata."""
    tuned = onnx.ModelProto()
    tuned.CopyFrom(model)
    old_weight = _initializer(tuned, HEAD_WEIGHT)
    shape = tuple(old_weight.dims)
    weight = np.asarray(head.weight, np.float32).reshape(shape)
    old_weight.CopyFrom(numpy_helper.from_array(weight, HEAD_WEIGHT))
    old_bias = _initializer(tuned, HEAD_BIAS)
    bias = np.full(tuple(old_bias.dims), head.bias, dtype=np.float32)
    old_bias.CopyFrom(numpy_helper.from_array(bias, HEAD_BIAS))
    if properties:
        merged = {p.key: p.value for p in tuned.metadata_props} | dict(properties)
        del tuned.metadata_props[:]
        onnx.helper.set_model_props(tuned, dict(sorted(merged.items())))
    return tuned


def write_model(model: onnx.ModelProto, path: Path) -> Path:
    """Write deterministically (same head, same bytes), creating a private folder.

    The bytes go to a temporary file renamed over `path`, so an interrupted `train` never
    leaves a half-written model for the next session to load."""
    path.parent.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    try:
        partial.write_bytes(model.SerializeToString(deterministic=True))
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def finetune(
    train: Samples,
    test: Samples,
    out_path: Path,
    base_path: Path | None = None,
    alpha: float = RIDGE_ALPHA,
) -> FinetuneResult:
    """Refit the head of `base_path` (default: the shipped model) on `train`; judge on `test`.

    Writes `out_path` only when the tuned head has the lower MAE on `test`, which should
    be whole sessions the fit never saw (windows of one session overlap and share frames).
    """
    if len(train) < MIN_TRAIN_SAMPLES:
        raise NotEnoughDataError(
            f"{len(train)} training windows; fine-tuning needs at least {MIN_TRAIN_SAMPLES}"
        )
    if len(test) == 0:
        raise NotEnoughDataError("no held-back windows to compare the tuned model on")
    source = model_path(MODEL_FILENAME) if base_path is None else base_path
    forecaster = Forecaster(source)
    base = onnx.load(str(source))
    _, hidden, baseline = forecaster.outputs(train.windows)
    head = fit_head(hidden, train.targets - baseline, prior=read_head(base), alpha=alpha)
    shipped, test_hidden, test_baseline = forecaster.outputs(test.windows)
    tuned = test_baseline + head.apply(test_hidden)
    result = FinetuneResult(
        mae_shipped=mae(shipped, test.targets),
        mae_tuned=mae(tuned, test.targets),
        mae_persistence=mae(test.persistence, test.targets),
        n_train=len(train),
        n_test=len(test),
        kept=False,
    )
    if result.mae_tuned >= result.mae_shipped:
        return result
    properties = {
        "finetuned_from": source.name,
        "finetune": json.dumps(
            {
                "alpha": alpha,
                "n_train": result.n_train,
                "n_test": result.n_test,
                "mae_shipped": round(result.mae_shipped, 6),
                "mae_tuned": round(result.mae_tuned, 6),
                "mae_persistence": round(result.mae_persistence, 6),
            },
            sort_keys=True,
        ),
        # Judged again on this user's held-back sessions: the UI's "experimental" label
        # then says whether the tuned model beats persistence for this person.
        "beats_persistence": "true" if result.mae_tuned < result.mae_persistence else "false",
    }
    write_model(with_head(base, head, properties), out_path)
    return replace(result, kept=True)
