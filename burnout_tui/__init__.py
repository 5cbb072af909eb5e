"""burnout-tui: a camera-based burnout / prolonged-stress proxy, checked against surveys.

This module stays import-light on purpose: `burnout-tui --help` and plugins import it,
and neither should pay for ONNX Runtime, OpenCV or Textual.
"""

from __future__ import annotations

__version__ = "0.1.0"

EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
"""Emotion classes in the order of FER2013's labels and of the emotion model's output."""

__all__ = ["EMOTIONS", "__version__"]
