"""burnout-tui: a camera-based burnout / prolonged-stress proxy, checked against surveys.

This module stays import-light on purpose: `burnout-tui --help` and plugins import it,
and neither should pay for ONNX Runtime, OpenCV or Textual.
"""

from __future__ import annotations

from burnout_tui.offline import keep_offline

keep_offline()

__version__ = "0.1.0"

EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
"""Emotion classes in the order of FER2013's labels and of the emotion model's output."""

FEATURE_NAMES: tuple[str, ...] = (
    "roll_deg",
    "yaw",
    "mouth_width",
    "eye_mouth",
    "eye_open",
    "mouth_open",
)
"""Per-face geometry features in the order of the feature vector (`vision.features`), which
is also the order of their columns in the store; defined here so the store need not import
the vision stage to know them."""

__all__ = ["EMOTIONS", "FEATURE_NAMES", "__version__"]
