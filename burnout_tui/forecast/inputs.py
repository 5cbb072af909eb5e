"""The forecaster's per-frame input vector: 7 emotion probabilities, then fatigue cues.

One function builds it from a live `FatigueFrame`, another from the columns the store
keeps per frame, so a model sees the same numbers in the capture worker, in `analyze` and
when `burnout-tui train` rebuilds sequences from the database.

Values are raw (probabilities, eye/mouth ratios, degrees, blinks per minute): the model
standardises them itself, inside the ONNX graph, with the training set's means and
standard deviations. A cue that is missing (no face mesh this frame, a NULL column) is NaN,
which the graph replaces by the training mean, i.e. "nothing unusual".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from burnout_tui import EMOTIONS

if TYPE_CHECKING:
    from burnout_tui.scoring.fatigue import FatigueFrame

FATIGUE_INPUTS: tuple[str, ...] = (
    "ear_left",
    "ear_right",
    "mar",
    "head_yaw",
    "head_pitch",
    "head_roll",
    "perclos",
    "blink_rate",
    "looking_away",
)
"""The `FatigueFrame` fields the model reads, by their field (and store column) names.

Written out rather than computed from the fields because the order is part of every
trained model file (its recorded feature list must match, `forecast.model`), as a
migration is part of every database; a test checks that each name is a stored field.

The continuous per-frame cues (eye and mouth openness, head pose) carry the moment-to-moment
state; `perclos` and `blink_rate` carry the slow trend over the last minute; `looking_away`
marks frames whose expression the emotion model sees poorly. Left out: `eyes_closed`,
`blink` and `yawn`, which are thresholds of `ear_*` and `mar` already given, and
`calibrated`, which describes the tracker rather than the person."""

FORECAST_FEATURES: tuple[str, ...] = (*EMOTIONS, *FATIGUE_INPUTS)
"""Input feature names in vector order; a model file records the list it was trained on."""

Vector = npt.NDArray[np.float32]


def input_vector(probs: npt.ArrayLike, fatigue: FatigueFrame | None) -> Vector:
    """One frame's input, shape (len(FORECAST_FEATURES),), float32.

    `fatigue` None (no mesh fitted) gives NaN cues, which the model reads as average ones.
    """
    p = np.asarray(probs, dtype=np.float32).ravel()
    if p.size != len(EMOTIONS):
        raise ValueError(f"expected {len(EMOTIONS)} probabilities, got {p.size}")
    if fatigue is None:
        cues = np.full(len(FATIGUE_INPUTS), np.nan, dtype=np.float32)
    else:
        cues = np.array([float(getattr(fatigue, name)) for name in FATIGUE_INPUTS], np.float32)
    return np.concatenate([p, cues])


def input_from_columns(
    probs: npt.ArrayLike, columns: Mapping[str, Sequence[Any] | npt.ArrayLike]
) -> npt.NDArray[np.float32]:
    """Inputs of T stored frames, shape (T, len(FORECAST_FEATURES)), float32.

    `probs` is (T, 7) in EMOTIONS order; `columns` maps each name of FATIGUE_INPUTS to T
    stored values (floats or bools; None or NaN where no mesh was fitted, as a NULL
    column reads back). A column missing from `columns` altogether is all NaN, so rows
    stored before the fatigue tracker existed still make (emotion-only) sequences.
    """
    p = np.asarray(probs, dtype=np.float32)
    if p.ndim != 2 or p.shape[1] != len(EMOTIONS):
        raise ValueError(f"expected probabilities of shape (T, {len(EMOTIONS)}), got {p.shape}")
    frames = p.shape[0]
    cues = np.full((frames, len(FATIGUE_INPUTS)), np.nan, dtype=np.float32)
    for index, name in enumerate(FATIGUE_INPUTS):
        if name not in columns:
            continue
        values = _as_floats(columns[name])
        if values.shape != (frames,):
            raise ValueError(f"column {name} has {values.shape} values, expected ({frames},)")
        cues[:, index] = values
    return np.concatenate([p, cues], axis=1)


def _as_floats(values: Sequence[Any] | npt.ArrayLike) -> npt.NDArray[np.float32]:
    """A column as float32 with None (SQL NULL) as NaN; bools become 0/1."""
    array = np.asarray(values)
    if array.dtype != object:
        return np.asarray(array, dtype=np.float32).ravel()
    return np.array([np.nan if v is None else float(v) for v in array.ravel()], np.float32)
