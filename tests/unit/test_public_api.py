"""The package's public names, and what importing the light parts must not load."""

from __future__ import annotations

import subprocess
import sys

import pytest

import burnout_tui.vision
from burnout_tui.vision import EmotionClassifier, Face, FaceDetector, FaceMesh
from burnout_tui.vision.detector import FaceDetector as DetectorClass
from burnout_tui.vision.emotion import EmotionClassifier as ClassifierClass

VISION_RUNTIME = ("cv2", "onnxruntime")


def _loaded_after(statement: str, modules: tuple[str, ...]) -> list[str]:
    """The `modules` a fresh interpreter has loaded after running `statement`."""
    probe = f"import sys\n{statement}\nprint(','.join(m for m in {modules!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    return [name for name in last.split(",") if name]


def test_vision_exports_the_named_classes() -> None:
    assert FaceDetector is DetectorClass
    assert EmotionClassifier is ClassifierClass
    assert Face.__module__ == "burnout_tui.vision.face"
    assert FaceMesh.__module__ == "burnout_tui.vision.mesh"
    assert {"FaceDetector", "EmotionClassifier"} <= set(dir(burnout_tui.vision))
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = burnout_tui.vision.Nope  # type: ignore[attr-defined]


def test_vision_package_and_its_value_modules_stay_light() -> None:
    """The classes are found on first use: naming a Face must not load the models' runtime."""
    assert _loaded_after("import burnout_tui.vision.face", VISION_RUNTIME) == []
    assert _loaded_after("from burnout_tui.vision import Face", VISION_RUNTIME) == []
    loaded = _loaded_after("from burnout_tui.vision import FaceDetector", VISION_RUNTIME)
    assert loaded == list(VISION_RUNTIME)


def test_the_store_never_loads_the_vision_stage() -> None:
    """Reading calibrations back needs the mesh measures' type, not OpenCV (issue #11)."""
    modules = (*VISION_RUNTIME, "burnout_tui.vision")
    assert _loaded_after("import burnout_tui.store.calibrations", modules) == []
    assert _loaded_after("import burnout_tui.scoring.fatigue", modules) == []
