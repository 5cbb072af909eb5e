"""What the pipeline produces per frame, in a module of its own that loads no model.

The monitor's UI process unpickles these values from its capture process; importing them
from here keeps ONNX Runtime and OpenCV out of the UI process (see
docs/capture-process.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from burnout_tui.scoring.fatigue_frame import FatigueFrame
from burnout_tui.signals.drowsiness import BlinkRecord, DrowsinessLevel, TrackBlinks
from burnout_tui.signals.heart import PulseFrame
from burnout_tui.vision.face import Face

PRIMARY_TRACK = 0
"""Single-user mode follows one person: the largest face, stored under this track id."""

STAGES = ("decode", "detect", "align", "classify", "mesh", "score", "store")
"""Stage names in pipeline order, as `make bench` and the summary report them."""


@dataclass(frozen=True, slots=True)
class FaceResult:
    track_id: int
    face: Face
    probs: npt.NDArray[np.float32]
    features: npt.NDArray[np.float32]
    frame_score: float
    rolling_score: float
    forecast: float | None = None
    fatigue: FatigueFrame | None = None
    normalized_score: float | None = None
    pulse: PulseFrame | None = None
    blinks: tuple[BlinkRecord, ...] = ()
    """Blinks completed on this frame (`DrowsinessStage`), usually none."""
    drowsiness: DrowsinessLevel | None = None
    """The track's latest drowsiness level, None until 30 normalised blinks exist."""
    blendshapes: tuple[float, ...] | None = None
    """The 52 coefficients in `scoring.action_cues.BLENDSHAPE_NAMES` order; None without a
    usable mesh this frame or with [blendshapes] off."""


@dataclass(frozen=True, slots=True)
class FrameResult:
    index: int
    ts: float
    faces: tuple[FaceResult, ...]
    full_detection: bool
    timings_ms: Mapping[str, float] = field(default_factory=dict)
    ended_blinks: tuple[TrackBlinks, ...] = ()
    """The blinks completed by tracks that ended on this frame (their face left): the
    blink each was still holding for its 0.4 s of context, stored rather than lost."""

    @property
    def primary(self) -> FaceResult | None:
        return self.faces[0] if self.faces else None


__all__ = ["PRIMARY_TRACK", "STAGES", "FaceResult", "FrameResult"]
