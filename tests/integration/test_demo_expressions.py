"""The demo's expressions move both emotion models, through the monitor's own path.

Over one pass of the demo, frames are taken through the detector, `aligned_crop` and each
emotion model, exactly as the monitor does: the predicted class must change and the frame
score must swing, or the sparklines of a fresh machine's demo would lie flat again.
"""

from __future__ import annotations

import numpy as np
import pytest

from burnout_tui import EMOTIONS
from burnout_tui.config import ScoringConfig
from burnout_tui.emotion_models import EMOTION_MODEL_NAMES
from burnout_tui.scoring import frame_scores
from burnout_tui.sources.demo import ASSET, DEMO_SECONDS, DemoSource
from burnout_tui.sources.expressions import LANDMARK_GROUPS, load_landmarks
from burnout_tui.vision.align import aligned_crop
from burnout_tui.vision.detector import FaceDetector
from burnout_tui.vision.emotion import EmotionClassifier
from burnout_tui.vision.mesh import FaceMesh
from tests.images import read_image

SAMPLE_EVERY = 10
"""Frames between sampled frames: 0.4 s at 25 frames/s, 30 samples in a pass, at least
five within each expression."""

MIN_CLASSES = 3
"""Predicted classes a pass must show at least (of the 5 expressions played)."""

MIN_SCORE_SPAN = 1.0
"""Smallest range of the frame score over a pass: half its scale ([-1, 1] by default), so
the rolling score and the sparklines visibly travel between positive and negative affect."""

LANDMARK_TOLERANCE_PX = 1.0
"""The shipped landmarks against the mesh today: the asset is regenerated, not edited."""


@pytest.fixture(scope="module")
def demo_crops() -> list[np.ndarray]:
    detector = FaceDetector()
    source = DemoSource(seconds=DEMO_SECONDS)
    crops = []
    index = 0
    while source.grab() is not None:
        if index % SAMPLE_EVERY == 0:
            frame = source.retrieve()
            assert frame is not None
            faces = detector.detect(frame.image)
            assert len(faces) == 1, f"frame {frame.index}: {len(faces)} faces"
            crops.append(aligned_crop(frame.image, faces[0]))
        index += 1
    return crops


@pytest.mark.parametrize("model", EMOTION_MODEL_NAMES)
def test_a_pass_moves_the_emotions_and_the_score(demo_crops: list[np.ndarray], model: str) -> None:
    probs = EmotionClassifier(model=model).predict(demo_crops)
    classes = {EMOTIONS[int(index)] for index in probs.argmax(axis=1)}
    scores = frame_scores(probs.astype(np.float64), ScoringConfig())
    assert len(classes) >= MIN_CLASSES, classes
    assert "happy" in classes
    assert float(scores.max() - scores.min()) >= MIN_SCORE_SPAN


def test_shipped_landmarks_are_the_meshs() -> None:
    image = read_image(ASSET)
    (face,) = FaceDetector().detect(image)
    (mesh,) = FaceMesh().predict(image, [face])
    shipped = load_landmarks()
    for name, indices in LANDMARK_GROUPS.items():
        measured = mesh.points[list(indices), :2]
        np.testing.assert_allclose(shipped[name], measured, atol=LANDMARK_TOLERANCE_PX)
