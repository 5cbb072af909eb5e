"""Values the vision stage measures and the scoring and storage layers consume.

They live here, below all three, so that `burnout_tui.scoring` and `burnout_tui.store` can
name a frame's measures without importing the vision stage (and with it OpenCV and ONNX
Runtime): the store reading a calibration back must not load a camera pipeline. The code
that computes them stays in `burnout_tui.vision`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MeshMeasures:
    """One face's eye, mouth and head measures from one mesh; NaN where not measurable.

    `ear_left` is the person's left eye (on the image's right), `ear_right` their right.
    Angles are in degrees with the signs given in `burnout_tui.vision.fatigue`'s docstring,
    which computes them.
    """

    ear_left: float
    ear_right: float
    mar: float
    head_yaw: float
    head_pitch: float
    head_roll: float


__all__ = ["MeshMeasures"]
