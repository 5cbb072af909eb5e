"""Our emotion model (models/emotion_ours_v1.onnx): the contract and its PublicTest figures.

The contract is what `burnout_tui.vision.emotion` and the Grad-CAM plugin rely on: names,
shapes, a dynamic batch, calibrated probabilities, and a head that is exactly
features -> global average pool -> classifier Gemm -> / temperature -> softmax, with the
classifier and the temperature readable as initializers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from burnout_tui import EMOTIONS
from burnout_tui.models_dir import model_path
from tools.emotion_eval import (
    evaluate_session,
    flip_tta,
    initializers,
    open_session,
    ours_logits,
)
from tools.emotion_metrics import expected_calibration_error, softmax
from tools.emotion_onnx import (
    CLASSIFIER_BIAS,
    CLASSIFIER_WEIGHT,
    FEATURES_NAME,
    INPUT_NAME,
    INPUT_SIZE,
    PROBS_NAME,
    TEMPERATURE,
)

MODEL = "emotion_ours_v1.onnx"
MIN_ACCURACY = 0.62
"""The shipped file's floor (62.33 %): issue #13's CPU target, 0.63, is missed by 0.7 points
without test-time augmentation (models/README.md)."""
MAX_ECE = 0.04
"""The shipped file's ceiling (0.039); the issue's target, 0.03, is met only with flip TTA."""
TARGET_ACCURACY = 0.63
TARGET_ECE = 0.03
"""Issue #13's targets (CPU training; 15-bin top-label ECE), met with horizontal-flip TTA."""
HEAD_ATOL = 1e-5
ROW_SUM_ATOL = 1e-5


@pytest.fixture(scope="module")
def path() -> Path:
    return model_path(MODEL)


@pytest.fixture(scope="module")
def publictest(shared_data: Path) -> tuple[np.ndarray, np.ndarray]:
    with np.load(shared_data / "fer2013" / "publictest.npz") as data:
        assert tuple(str(name) for name in data["classes"]) == EMOTIONS
        return np.asarray(data["images"], np.uint8), np.asarray(data["labels"], np.int64)


def test_io_names_and_shapes(path: Path) -> None:
    model = onnx.load(str(path))
    (image,) = model.graph.input
    assert image.name == INPUT_NAME
    dims = image.type.tensor_type.shape.dim
    assert dims[0].dim_param and [d.dim_value for d in dims[1:]] == [1, INPUT_SIZE, INPUT_SIZE]
    assert [o.name for o in model.graph.output] == [PROBS_NAME, FEATURES_NAME]
    weights = initializers(path)
    channels = model.graph.output[1].type.tensor_type.shape.dim[1].dim_value
    assert weights[CLASSIFIER_WEIGHT].shape == (len(EMOTIONS), channels)
    assert weights[CLASSIFIER_BIAS].shape == (len(EMOTIONS),)
    assert weights[TEMPERATURE].shape == ()
    assert dict((p.key, p.value) for p in model.metadata_props)["classes"] == ",".join(EMOTIONS)


def test_batches_and_head_is_exact(path: Path) -> None:
    session = open_session(path)
    rng = np.random.default_rng(0)
    faces = rng.integers(0, 256, (8, INPUT_SIZE, INPUT_SIZE), dtype=np.uint8)
    probs, features = evaluate_session(session, faces)
    single, _ = evaluate_session(session, faces[:1])
    assert probs.shape == (8, len(EMOTIONS)) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=ROW_SUM_ATOL)
    np.testing.assert_allclose(single[0], probs[0], atol=HEAD_ATOL)
    temperature = float(initializers(path)[TEMPERATURE])
    rebuilt = softmax(ours_logits(path, features) / temperature)
    np.testing.assert_allclose(rebuilt, probs, atol=HEAD_ATOL)


@pytest.mark.shared_data
def test_publictest_accuracy_and_calibration(
    path: Path, publictest: tuple[np.ndarray, np.ndarray]
) -> None:
    images, labels = publictest
    session = open_session(path)
    probs, _ = evaluate_session(session, images)
    accuracy = float((probs.argmax(axis=1) == labels).mean())
    assert accuracy >= MIN_ACCURACY, accuracy
    assert expected_calibration_error(probs, labels) <= MAX_ECE
    flipped = flip_tta(session, images)
    assert float((flipped.argmax(axis=1) == labels).mean()) >= TARGET_ACCURACY
    assert expected_calibration_error(flipped, labels) <= TARGET_ECE
