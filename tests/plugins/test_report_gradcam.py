"""The gradcam report: its maths against finite differences and the model, and its files."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import cv2
import duckdb
import numpy as np
import pytest
from burnout_tui_plugins import gradcam as plugin

from burnout_tui import EMOTIONS
from burnout_tui.config import Config, EmotionConfig
from burnout_tui.emotion_models import EMOTION_MODEL_NAMES, emotion_model
from burnout_tui.plugin import ReportContext, ReportError
from burnout_tui.vision.align import aligned_crop
from burnout_tui.vision.detector import FaceDetector
from burnout_tui.vision.emotion import FEATURES_NAME, INPUT_NAME, EmotionClassifier

ASTRONAUT = (
    Path(plugin.__file__).parents[2] / "burnout_tui" / "sources" / "assets" / "astronaut.jpg"
)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JOINT_DIRECTIONS = 16
MIN_JOINT_CORRELATION = 0.99
"""Measured 0.997 (ours-v1) and 0.998 (mini-Xception) on the astronaut."""
FEATURE_STEP = 1e-3
"""The head is linear, so any step gives the exact slope up to float64 rounding."""


def _run(out_dir: Path, config: Config | None = None, **options: Any) -> Any:
    defaults: Mapping[str, Any] = {
        "image": None,
        "video": None,
        "every": 30,
        "class": None,
        "model": None,
    }
    ctx = ReportContext(
        con=duckdb.connect(), options={**defaults, **options}, out_dir=out_dir, config=config
    )
    return plugin.run(ctx)


def _conv_gap_logit(
    features: np.ndarray, weights: np.ndarray, bias: np.ndarray, c: int, pad: int
) -> float:
    """An independent, loop-by-loop conv + global average pool, the maths being checked."""
    padded = np.pad(features, ((0, 0), (pad, pad), (pad, pad)))
    kh, kw = weights.shape[2:]
    out_h = padded.shape[1] - kh + 1
    out_w = padded.shape[2] - kw + 1
    total = 0.0
    for i in range(out_h):
        for j in range(out_w):
            total += float(np.sum(padded[:, i : i + kh, j : j + kw] * weights[c]))
    return float(total / (out_h * out_w) + bias[c])


@pytest.fixture(scope="module", params=EMOTION_MODEL_NAMES)
def model(request: pytest.FixtureRequest) -> str:
    """Every check below runs for each emotion model."""
    name: str = request.param
    return name


@pytest.fixture(scope="module")
def head(model: str) -> plugin.ClassHead:
    return plugin.load_class_head(model)


@pytest.fixture(scope="module")
def astronaut_faces(model: str) -> dict[str, Any]:
    frame = np.asarray(cv2.imread(str(ASTRONAUT)), dtype=np.uint8)
    (face,) = FaceDetector().detect(frame)
    crop = aligned_crop(frame, face, gray=False)
    classifier = EmotionClassifier(model=model)
    probs, features = classifier.predict_with_features([crop])
    return {"classifier": classifier, "crop": crop, "probs": probs, "features": features}


def test_head_is_the_models_3x3_same_conv() -> None:
    head = plugin.load_class_head("minixception")
    assert head.weights.shape == (len(EMOTIONS), 128, 3, 3)
    assert head.bias.shape == (len(EMOTIONS),)
    assert head.padding == 1
    assert head.model == "minixception"


def test_ours_head_is_the_linear_layer_over_the_temperature() -> None:
    """GAP + Linear + /T is a 1x1 conv without padding, weights the rows divided by T."""
    pytest.importorskip("onnx")
    from burnout_tui.plugin import emotion_class_layer

    layer = emotion_class_layer("ours-v1")
    head = plugin.load_class_head("ours-v1")
    channels = EmotionClassifier(model="ours-v1").feature_shape[0]
    assert layer.pooled and layer.op_type == "Gemm" and layer.temperature > 0
    assert layer.weights.shape == (len(EMOTIONS), channels)
    assert head.weights.shape == (len(EMOTIONS), channels, 1, 1)
    assert head.padding == 0 and head.model == "ours-v1"
    np.testing.assert_allclose(head.weights[:, :, 0, 0], layer.weights / layer.temperature)
    np.testing.assert_allclose(head.bias, layer.bias / layer.temperature)


@pytest.mark.parametrize("pad", [0, 1])
def test_logit_gradient_matches_finite_differences(head: plugin.ClassHead, pad: int) -> None:
    rng = np.random.default_rng(7)
    channels = head.weights.shape[1]
    features = rng.normal(size=(channels, 4, 4))
    cells = [(0, 0, 0), (5, 0, 3), (channels // 2, 1, 2), (channels - 1, 3, 3), (33, 2, 0)]
    for c in (0, 3, 6):
        gradient = plugin.class_logit_gradient(head.weights, c, 4, 4, pad)
        for k, y, x in cells:
            up, down = features.copy(), features.copy()
            up[k, y, x] += FEATURE_STEP
            down[k, y, x] -= FEATURE_STEP
            slope = (
                _conv_gap_logit(up, head.weights, head.bias, c, pad)
                - _conv_gap_logit(down, head.weights, head.bias, c, pad)
            ) / (2 * FEATURE_STEP)
            assert gradient[k, y, x] == pytest.approx(slope, rel=1e-6, abs=1e-9)


def test_logits_from_features_are_the_models(
    head: plugin.ClassHead, astronaut_faces: dict[str, Any]
) -> None:
    """logits − logsumexp(logits) = log probs proves the weights and padding are the model's."""
    logits = head.logits(astronaut_faces["features"])
    for index in range(len(EMOTIONS)):
        direct = _conv_gap_logit(
            astronaut_faces["features"][0].astype(np.float64),
            head.weights,
            head.bias,
            index,
            head.padding,
        )
        assert logits[0, index] == pytest.approx(direct, abs=1e-6)
    log_softmax = logits - np.log(np.sum(np.exp(logits), axis=1, keepdims=True))
    np.testing.assert_allclose(log_softmax, np.log(astronaut_faces["probs"]), atol=1e-4)


def test_gradcam_is_relu_of_gradient_weighted_features(
    head: plugin.ClassHead, astronaut_faces: dict[str, Any]
) -> None:
    features = astronaut_faces["features"][0].astype(np.float64)
    happy = EMOTIONS.index("happy")
    height, width = features.shape[1:]
    cam = plugin.gradcam(features, happy, head.weights, head.padding)
    alpha = plugin.class_logit_gradient(head.weights, happy, height, width, head.padding).mean(
        axis=(1, 2)
    )
    expected = np.maximum(np.einsum("k,khw->hw", alpha, features), 0.0)
    np.testing.assert_allclose(cam, expected, rtol=1e-12)
    assert cam.shape == (height, width) and cam.max() > 0
    upsampled = plugin.upsample_cam(cam, 64)
    assert upsampled.shape == (64, 64)
    assert upsampled.min() >= 0.0 and upsampled.max() == pytest.approx(1.0)


def test_pixel_saliency_matches_the_onnx_model(
    head: plugin.ClassHead, astronaut_faces: dict[str, Any]
) -> None:
    """Each checked pixel, and a random direction, through ORT independently of the batching."""
    classifier: EmotionClassifier = astronaut_faces["classifier"]
    happy = EMOTIONS.index("happy")
    image = classifier.preprocess([astronaut_faces["crop"]])[0]
    side = classifier.spec.input_size

    def logit(batch: np.ndarray) -> np.ndarray:
        (features,) = classifier.session.run([FEATURES_NAME], {INPUT_NAME: batch})
        logits: np.ndarray = head.logits(np.asarray(features))[:, happy]
        return logits

    step = classifier.spec.gray_level * plugin.SALIENCY_GRAY_LEVELS
    saliency = plugin.pixel_saliency(image, logit, step)
    assert saliency.shape == (side, side)
    strongest = np.argsort(np.abs(saliency).ravel())[-5:]
    for flat in strongest:
        y, x = divmod(int(flat), side)
        up, down = image.copy(), image.copy()
        up[0, y, x] += np.float32(step)
        down[0, y, x] -= np.float32(step)
        slope = (logit(up[None])[0] - logit(down[None])[0]) / (2 * step)
        assert saliency[y, x] == pytest.approx(slope, rel=1e-3, abs=1e-3)

    if classifier.spec.name == "minixception":
        direction = np.random.default_rng(3).normal(size=image.shape).astype(np.float32)
        direction *= np.float32(step / np.abs(direction).max())
        change = (logit((image + direction)[None])[0] - logit((image - direction)[None])[0]) / 2
        predicted = float(np.sum(saliency * direction[0]))
        assert predicted == pytest.approx(change, rel=0.1)

    # Every pixel moved at once, along many random directions: each pixel's slope is a
    # secant over one gray level, so one direction can cross ReLU kinks the per-pixel moves
    # did not (measured: 0.85-1.26 of the change, either model); over 16 the saliency
    # predicts the change with a slope within 10 % of 1.
    directions = np.random.default_rng(3).normal(size=(JOINT_DIRECTIONS, *image.shape))
    scale = step / np.abs(directions).reshape(JOINT_DIRECTIONS, -1).max(axis=1)
    directions = (directions * scale[:, None, None, None]).astype(np.float32)
    changes = (logit(image[None] + directions) - logit(image[None] - directions)) / 2
    predictions = np.sum(saliency[None, None] * directions, axis=(1, 2, 3))
    slope = float(np.dot(predictions, changes) / np.dot(predictions, predictions))
    assert slope == pytest.approx(1.0, abs=0.1)
    assert float(np.corrcoef(predictions, changes)[0, 1]) > MIN_JOINT_CORRELATION


def _listing(root: Path) -> set[Path]:
    return {path for path in root.rglob("*")}


def test_astronaut_report_writes_only_into_out(tmp_path: Path) -> None:
    before = _listing(tmp_path)
    out_dir = tmp_path / "out"
    result = _run(out_dir, image=str(ASTRONAUT), model="minixception")
    (row,) = result.rows
    assert row[3] == "happy" and row[5] == "happy"
    assert row[4] > 0.9
    assert result.data["model"] == "minixception"
    assert "minixception" in result.text
    names = {f"face_000_{kind}.png" for kind in ("crop", "gradcam", "overlay", "saliency")}
    assert {path.name for path in result.files} == names | {"contact_sheet.png"}
    assert _listing(tmp_path) - before == {out_dir} | {out_dir / name for name in names} | {
        out_dir / "contact_sheet.png"
    }
    for name in names:
        path = out_dir / name
        assert path.read_bytes()[:8] == PNG_MAGIC
        image = cv2.imread(str(path))
        assert image is not None
        assert image.shape == (plugin.DISPLAY_SIZE, plugin.DISPLAY_SIZE, 3)
    sheet = cv2.imread(str(out_dir / "contact_sheet.png"))
    assert sheet is not None
    assert sheet.shape[1] == 2 * plugin.DISPLAY_SIZE + 2 * plugin.SHEET_MARGIN
    assert sheet.shape[0] > plugin.DISPLAY_SIZE


def test_explained_class_can_be_chosen(tmp_path: Path) -> None:
    result = _run(tmp_path, image=str(ASTRONAUT), model="minixception", **{"class": "sad"})
    (row,) = result.rows
    assert row[3] == "happy" and row[5] == "sad"


@pytest.mark.parametrize("name", EMOTION_MODEL_NAMES)
def test_report_runs_and_names_the_configured_model(tmp_path: Path, name: str) -> None:
    """Without --model the report explains the model of the config, and says which; its
    probabilities are that model's own on the same crop."""
    result = _run(tmp_path, config=Config(emotion=EmotionConfig(model=name)), image=str(ASTRONAUT))
    assert result.data["model"] == name and result.text == f"Emotion model: {name}"
    (row,) = result.rows
    frame = np.asarray(cv2.imread(str(ASTRONAUT)), dtype=np.uint8)
    (face,) = FaceDetector().detect(frame)
    probs = EmotionClassifier(model=name).predict([aligned_crop(frame, face, gray=False)])[0]
    assert row[3] == EMOTIONS[int(probs.argmax())]
    assert row[4] == pytest.approx(float(probs.max()), abs=1e-4)
    assert emotion_model(name).filename


@pytest.mark.shared_data
@pytest.mark.slow
def test_video_every_30th_frame(shared_data: Path, tmp_path: Path) -> None:
    video = shared_data / "videos" / "liveportrait_d0.mp4"
    if not video.is_file():
        pytest.skip(f"{video} is missing")
    result = _run(tmp_path, video=str(video), every=30)
    assert [row[1] for row in result.rows] == [0, 30, 60]
    assert [row[0] for row in result.rows] == [0, 1, 2]
    assert len(result.files) == 3 * 4 + 1
    assert all(path.parent == tmp_path and path.is_file() for path in result.files)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"image": str(ASTRONAUT), "class": "bored"}, "unknown class"),
        ({"image": "/nonexistent/face.jpg"}, "no such file"),
        ({}, "exactly one"),
        ({"image": str(ASTRONAUT), "video": str(ASTRONAUT)}, "exactly one"),
        ({"video": str(ASTRONAUT), "every": 0}, "at least 1"),
        ({"image": str(ASTRONAUT), "model": "resnet"}, "unknown emotion model"),
    ],
)
def test_bad_input_is_a_one_line_error(
    tmp_path: Path, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ReportError, match=message) as error:
        _run(tmp_path / "out", **options)
    assert "\n" not in str(error.value)
    assert not (tmp_path / "out").exists()


def test_unreadable_image_and_no_face(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.jpg"
    garbage.write_bytes(b"not an image")
    with pytest.raises(ReportError, match="cannot read"):
        _run(tmp_path / "out", image=str(garbage))
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((120, 160, 3), 128, dtype=np.uint8))
    with pytest.raises(ReportError, match="no face"):
        _run(tmp_path / "out", image=str(blank))
    assert not (tmp_path / "out").exists()


def test_registered_without_database() -> None:
    (report,) = plugin.reports()
    assert report.name == "gradcam" and not report.needs_database
    assert [option.key for option in report.options] == [
        "image",
        "video",
        "every",
        "class",
        "model",
    ]
    assert report.options[-1].choices == EMOTION_MODEL_NAMES
