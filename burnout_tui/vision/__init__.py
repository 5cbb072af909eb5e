"""The vision stage: face detection, alignment, the emotion model, the face mesh.

`from burnout_tui.vision import FaceDetector, EmotionClassifier` is the public way in. The
classes are looked up on first use (PEP 562 module `__getattr__`), not imported here:
importing any module of this package runs this file first, and the value modules
(`face`, `canonical_face`) must stay importable without OpenCV or ONNX Runtime.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from burnout_tui.lazy_exports import lazy_getattr

if TYPE_CHECKING:
    from burnout_tui.vision.detector import FaceDetector as FaceDetector
    from burnout_tui.vision.emotion import EmotionClassifier as EmotionClassifier
    from burnout_tui.vision.face import Face as Face
    from burnout_tui.vision.mesh import FaceMesh as FaceMesh

_HOMES: dict[str, str] = {
    "EmotionClassifier": "burnout_tui.vision.emotion",
    "Face": "burnout_tui.vision.face",
    "FaceDetector": "burnout_tui.vision.detector",
    "FaceMesh": "burnout_tui.vision.mesh",
}
"""Public name -> the module that defines it."""

__all__ = ["EmotionClassifier", "Face", "FaceDetector", "FaceMesh"]


__getattr__ = lazy_getattr(__name__, _HOMES, globals())


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
