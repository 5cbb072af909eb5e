"""Run the forecaster (`models/burnout_lstm.onnx`, or a user's fine-tuned copy) with ONNX Runtime.

The graph does all the arithmetic, so this module only checks that the file fits the
inputs it will be given and feeds it windows:

    window (N, 30, F) raw inputs ─ NaN → training mean ─ (x − mean) / std ─ LSTM ─ hidden (N, 32)
         │                                                                  └─ head (Linear) ─ Δ
         └─ probabilities · scoring weights = S_t per frame, EMA over the window = baseline (N,)
    forecast (N,) = baseline + Δ

The network learns only a correction to a baseline forecast that is already good: the EMA
of the window's frame scores (`dataset.window_ema_weights`), which on the training clips
forecast the rolling score better than persistence did (docs/measurements.md#forecast-model).
A model with a zero head forecasts that EMA. The baseline is computed from the
probabilities with the scoring weights, which is why the file records the weights it was
trained with: with other weights the baseline (and the learned change) would be on a
different scale, which `matches_scoring` detects.

The metadata (`onnx` model properties) says how far ahead the model looks, over how many
frames and which features, and whether it beat persistence on the held-back clips; a
model that did not is `experimental`, and the UI says so.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
from onnxruntime.capi.onnxruntime_pybind11_state import (
    Fail,
    InvalidArgument,
    InvalidGraph,
    InvalidProtobuf,
    NoSuchFile,
)

from burnout_tui.errors import UserError
from burnout_tui.forecast.inputs import FORECAST_FEATURES
from burnout_tui.vision.runtime import load_session

if TYPE_CHECKING:
    from burnout_tui.config import EmotionConfig, ScoringConfig

MODEL_FILENAME = "burnout_lstm.onnx"

INPUT_NAME = "window"
FORECAST_NAME = "forecast"
HIDDEN_NAME = "hidden"
BASELINE_NAME = "baseline"
HEAD_WEIGHT = "head.weight"
"""Initializer of the output layer's weight, shape (1, hidden), torch's `Linear` layout."""
HEAD_BIAS = "head.bias"
"""Initializer of the output layer's bias, shape (1,)."""

FORECAST_THREADS = 1
"""One intra-op thread: an LSTM step over 30 frames of 16 values is microseconds of work,
and a second thread would only contend with the detector and the emotion CNN."""

WEIGHT_TOLERANCE = 1e-9
"""Weights read back from TOML and JSON are the same decimals; this only absorbs rounding."""

META_HORIZON = "horizon_s"
META_WINDOW = "window"
META_FEATURES = "features"
META_SCORING = "scoring"
META_BEATS_PERSISTENCE = "beats_persistence"
META_EMOTION_MODEL = "emotion_model"
"""The `[emotion] model` whose probabilities the forecaster was trained on: its inputs are
those probabilities, so another model's are another input distribution."""
UNRECORDED_EMOTION_MODEL = "minixception"
"""Files written before the property existed were all trained on the mini-Xception, the
only model then."""

UNREADABLE_MODEL: tuple[type[Exception], ...] = (
    Fail,
    InvalidArgument,
    InvalidGraph,
    InvalidProtobuf,
    NoSuchFile,
)
"""What ONNX Runtime raises for a file it cannot load (garbage, truncated, empty, a graph
it refuses); its own classes, which derive from nothing more specific than Exception."""

OUTPUT_NAMES = (FORECAST_NAME, HIDDEN_NAME, BASELINE_NAME)


class IncompatibleModelError(UserError, ValueError):
    """A forecaster file that cannot be loaded or does not fit this version's inputs; the
    message says why. A UserError, so the CLI shows it as one line: the file is input."""


@dataclass(frozen=True, slots=True)
class ForecastMetadata:
    """What a forecaster file says about itself (its ONNX model properties)."""

    horizon_s: float
    window: int
    features: tuple[str, ...]
    alpha: float
    beta: float
    gamma: float
    beats_persistence: bool
    emotion_model: str
    properties: Mapping[str, str]
    """Every property, e.g. the training clips and the evaluation's MAEs, for reports."""


def parse_metadata(properties: Mapping[str, str], label: str = "forecaster") -> ForecastMetadata:
    """Read and check the model properties; IncompatibleModelError on anything unusable."""
    try:
        features = tuple(json.loads(properties[META_FEATURES]))
        scoring = json.loads(properties[META_SCORING])
        metadata = ForecastMetadata(
            horizon_s=float(properties[META_HORIZON]),
            window=int(properties[META_WINDOW]),
            features=features,
            alpha=float(scoring["alpha"]),
            beta=float(scoring["beta"]),
            gamma=float(scoring["gamma"]),
            beats_persistence=_boolean(properties[META_BEATS_PERSISTENCE]),
            emotion_model=properties.get(META_EMOTION_MODEL, UNRECORDED_EMOTION_MODEL),
            properties=dict(properties),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise IncompatibleModelError(f"{label}: missing or malformed metadata ({error})") from None
    if metadata.features != FORECAST_FEATURES:
        raise IncompatibleModelError(
            f"{label} was trained on features {list(metadata.features)}, but this version "
            f"builds {list(FORECAST_FEATURES)}; retrain it (python -m tools.train_forecaster)"
        )
    return metadata


def check_signature(session: ort.InferenceSession, metadata: ForecastMetadata, label: str) -> None:
    """The graph must take the windows its metadata describes and give the three outputs
    this module reads: a file with a forecaster's properties on another graph (another
    model, another window length) would otherwise fail at the first frame, mid-session."""
    inputs = {node.name: node.shape for node in session.get_inputs()}
    expected = [metadata.window, len(metadata.features)]
    shape = inputs.get(INPUT_NAME)
    if len(inputs) != 1 or shape is None or len(shape) != len(expected) + 1:
        raise IncompatibleModelError(
            f"{label} is not a forecaster: it takes {_describe(inputs)}, not one "
            f"{INPUT_NAME!r} of shape (N, {expected[0]}, {expected[1]})"
        )
    if list(shape[1:]) != expected:
        raise IncompatibleModelError(
            f"{label} takes windows of shape (N, {shape[1]}, {shape[2]}) but its metadata "
            f"says (N, {expected[0]}, {expected[1]}); retrain it (python -m tools.train_forecaster)"
        )
    missing = set(OUTPUT_NAMES) - {node.name for node in session.get_outputs()}
    if missing:
        raise IncompatibleModelError(
            f"{label} is not a forecaster: it has no output {', '.join(sorted(missing))}"
        )


def _describe(shapes: Mapping[str, object]) -> str:
    return ", ".join(f"{name!r} {shape}" for name, shape in shapes.items()) or "no input"


def _boolean(text: str) -> bool:
    if text not in ("true", "false"):
        raise ValueError(f"{META_BEATS_PERSISTENCE} must be 'true' or 'false', got {text!r}")
    return text == "true"


class Forecaster:
    """The ONNX forecaster: windows of raw input vectors in, rolling scores H seconds ahead out.

    `path` None loads the shipped model (`models/burnout_lstm.onnx`, found like every model
    file); a path loads that file, e.g. a user's fine-tuned copy.
    """

    def __init__(self, path: Path | None = None, threads: int = FORECAST_THREADS) -> None:
        source: str | Path = MODEL_FILENAME if path is None else Path(path)
        label = MODEL_FILENAME if path is None else str(path)
        try:
            self.session: ort.InferenceSession = load_session(source, threads=threads)
        except UNREADABLE_MODEL as error:
            detail = str(error).rpartition("failed:")[2].strip().rstrip(".") or type(error).__name__
            raise IncompatibleModelError(
                f"{label} is not a readable ONNX model ({detail})"
            ) from None
        self.metadata = parse_metadata(self.session.get_modelmeta().custom_metadata_map, label)
        check_signature(self.session, self.metadata, label)

    @property
    def horizon_s(self) -> float:
        return self.metadata.horizon_s

    @property
    def window(self) -> int:
        return self.metadata.window

    @property
    def experimental(self) -> bool:
        """True when the model did not beat persistence on its held-back evaluation."""
        return not self.metadata.beats_persistence

    def matches_scoring(self, scoring: ScoringConfig) -> bool:
        """Whether forecasts are on `scoring`'s scale: the same S_t weights, and a rolling
        window as long as the model's (whose rolling score it was trained to forecast)."""
        meta = self.metadata
        weights = (
            (meta.alpha, scoring.alpha),
            (meta.beta, scoring.beta),
            (meta.gamma, scoring.gamma),
        )
        same = all(math.isclose(a, b, abs_tol=WEIGHT_TOLERANCE) for a, b in weights)
        return same and meta.window == scoring.window

    def matches_emotion(self, emotion: EmotionConfig) -> bool:
        """Whether the forecaster was trained on the probabilities of `emotion`'s model
        (the mirror-image setting changes them too little to matter)."""
        return self.metadata.emotion_model == emotion.model

    def _run(self, windows: npt.ArrayLike, outputs: list[str]) -> list[npt.NDArray[np.float32]]:
        x = np.asarray(windows, dtype=np.float32)
        expected = (self.window, len(FORECAST_FEATURES))
        if x.ndim != 3 or x.shape[1:] != expected:
            raise ValueError(
                f"expected windows of shape (N, {expected[0]}, {expected[1]}), got {x.shape}"
            )
        if x.shape[0] == 0:
            shapes = {o.name: o.shape for o in self.session.get_outputs()}
            return [np.empty((0, *shapes[name][1:]), np.float32) for name in outputs]
        results = self.session.run(outputs, {INPUT_NAME: np.ascontiguousarray(x)})
        return [np.asarray(r, dtype=np.float32) for r in results]

    def predict(self, windows: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """(N, window, F) → (N,) forecasts of the rolling score `horizon_s` ahead."""
        (forecast,) = self._run(windows, [FORECAST_NAME])
        return forecast

    def hidden(self, windows: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """(N, window, F) → (N, hidden): the LSTM's last hidden state, the head's input."""
        (hidden,) = self._run(windows, [HIDDEN_NAME])
        return hidden

    def outputs(
        self, windows: npt.ArrayLike
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """Forecast (N,), hidden state (N, hidden) and baseline term (N,) in one run."""
        forecast, hidden, baseline = self._run(windows, [FORECAST_NAME, HIDDEN_NAME, BASELINE_NAME])
        return forecast, hidden, baseline


class TrackForecast:
    """One track's last `window` input vectors; each push gives a fresh forecast.

    None until the window is full: the model was only ever shown full windows, and the
    rolling score it forecasts is itself a mean over fewer frames until then.
    """

    def __init__(self, forecaster: Forecaster) -> None:
        self.forecaster = forecaster
        self._buffer = np.zeros((1, forecaster.window, len(FORECAST_FEATURES)), np.float32)
        self._seen = 0

    def push(self, vector: npt.ArrayLike) -> float | None:
        v = np.asarray(vector, dtype=np.float32).ravel()
        if v.size != self._buffer.shape[2]:
            raise ValueError(f"expected {self._buffer.shape[2]} input values, got {v.size}")
        self._buffer[0, :-1] = self._buffer[0, 1:]
        self._buffer[0, -1] = v
        self._seen += 1
        if self._seen < self.forecaster.window:
            return None
        return float(self.forecaster.predict(self._buffer)[0])

    def __len__(self) -> int:
        """Frames pushed so far."""
        return self._seen
