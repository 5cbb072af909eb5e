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


BLENDSHAPE_NAMES: tuple[str, ...] = (
    "_neutral",
    "browDownLeft",
    "browDownRight",
    "browInnerUp",
    "browOuterUpLeft",
    "browOuterUpRight",
    "cheekPuff",
    "cheekSquintLeft",
    "cheekSquintRight",
    "eyeBlinkLeft",
    "eyeBlinkRight",
    "eyeLookDownLeft",
    "eyeLookDownRight",
    "eyeLookInLeft",
    "eyeLookInRight",
    "eyeLookOutLeft",
    "eyeLookOutRight",
    "eyeLookUpLeft",
    "eyeLookUpRight",
    "eyeSquintLeft",
    "eyeSquintRight",
    "eyeWideLeft",
    "eyeWideRight",
    "jawForward",
    "jawLeft",
    "jawOpen",
    "jawRight",
    "mouthClose",
    "mouthDimpleLeft",
    "mouthDimpleRight",
    "mouthFrownLeft",
    "mouthFrownRight",
    "mouthFunnel",
    "mouthLeft",
    "mouthLowerDownLeft",
    "mouthLowerDownRight",
    "mouthPressLeft",
    "mouthPressRight",
    "mouthPucker",
    "mouthRight",
    "mouthRollLower",
    "mouthRollUpper",
    "mouthShrugLower",
    "mouthShrugUpper",
    "mouthSmileLeft",
    "mouthSmileRight",
    "mouthStretchLeft",
    "mouthStretchRight",
    "mouthUpperUpLeft",
    "mouthUpperUpRight",
    "noseSneerLeft",
    "noseSneerRight",
)
"""MediaPipe's order (`face_blendshapes_graph.cc`, `kBlendshapeNames`): `_neutral` first,
then ARKit's names. `Left`/`Right` are the person's own sides, as in ARKit."""

NUM_BLENDSHAPES = len(BLENDSHAPE_NAMES)


__all__ = ["BLENDSHAPE_NAMES", "NUM_BLENDSHAPES", "MeshMeasures"]
