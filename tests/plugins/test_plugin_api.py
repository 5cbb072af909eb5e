"""The public plugin API gives a third party what the built-in reports use, and stays light."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pytest

import burnout_tui.plugin as api
from burnout_tui import EMOTIONS
from burnout_tui.config import Config, EmotionConfig, ScoringConfig, load_config
from burnout_tui.emotion_models import DEFAULT_EMOTION_MODEL, EMOTION_MODEL_NAMES, emotion_model
from burnout_tui.scoring import final_percent
from burnout_tui.vision.align import aligned_crop
from burnout_tui.vision.emotion import EmotionClassifier, preprocess
from burnout_tui.vision.face import Face
from tests.images import ImageBGR

HEAVY = ("numpy", "cv2", "onnxruntime", "onnx", "duckdb", "textual", "burnout_tui.vision")


def test_importing_the_api_loads_nothing_heavy() -> None:
    probe = (
        "import sys\nimport burnout_tui.plugin\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_every_public_name_resolves() -> None:
    for name in api.__all__:
        assert getattr(api, name) is not None, name
    assert api.EMOTIONS is EMOTIONS
    assert api.Config is Config
    assert api.ScoringConfig is ScoringConfig
    assert api.Face is Face
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = api.Nope  # type: ignore[attr-defined]


def test_final_percent_and_the_chosen_scoring(tmp_path: Path) -> None:
    chosen = ScoringConfig(alpha=0.7, gamma=0.2, lam=0.5)
    for mean, volatility in ((0.0, 0.0), (0.31, 0.02), (-0.4, 0.3)):
        expected = final_percent(mean, volatility, chosen)
        assert api.final_percent(mean, volatility, chosen) == expected
    con = duckdb.connect()
    given = api.ReportContext(con, {}, tmp_path, config=Config(scoring=chosen))
    assert given.scoring is chosen
    assert api.ReportContext(con, {}, tmp_path).scoring == load_config().scoring


def test_the_chosen_emotion_model(tmp_path: Path) -> None:
    assert api.EMOTION_MODELS == EMOTION_MODEL_NAMES
    con = duckdb.connect()
    chosen = Config(emotion=EmotionConfig(model="minixception"))
    assert api.ReportContext(con, {}, tmp_path, config=chosen).emotion_model == "minixception"
    assert api.ReportContext(con, {}, tmp_path).emotion_model == load_config().emotion.model
    with pytest.raises(api.ReportError, match="unknown emotion model 'x'"):
        api.FaceAnalysis("x")


@pytest.mark.parametrize("model", [None, *EMOTION_MODEL_NAMES])
def test_face_analysis_is_the_monitors_vision_stage(astronaut: ImageBGR, model: str | None) -> None:
    analysis = api.FaceAnalysis(model)
    spec = emotion_model(DEFAULT_EMOTION_MODEL if model is None else model)
    assert analysis.model == spec.name and analysis.gray_level == spec.spread / 255
    (face,) = analysis.detect(astronaut)
    crop = analysis.aligned_crop(astronaut, face)
    np.testing.assert_array_equal(crop, aligned_crop(astronaut, face, gray=False))
    model_input = analysis.model_input([crop])
    np.testing.assert_array_equal(model_input, preprocess([crop], spec))
    assert model_input.shape == (1, 1, spec.input_size, spec.input_size)
    probs, features = analysis.emotions([crop])
    reference_probs, reference_features = EmotionClassifier(model=spec.name).predict_with_features(
        [crop]
    )
    np.testing.assert_array_equal(probs, reference_probs)
    np.testing.assert_array_equal(features, reference_features)
    np.testing.assert_array_equal(analysis.features(model_input), features)
    assert probs.shape == (1, len(EMOTIONS))


def test_emotion_class_layer_reads_the_models_head() -> None:
    layer = api.emotion_class_layer("minixception")
    assert layer.model == "minixception" and not layer.pooled and layer.temperature == 1.0
    assert layer.op_type == "Conv"
    assert layer.followers == ("GlobalAveragePool",)
    assert layer.weights.shape == (len(EMOTIONS), 128, 3, 3)
    assert layer.bias.shape == (len(EMOTIONS),)
    assert list(layer.attributes["pads"]) == [1, 1, 1, 1]


def test_emotion_class_layer_of_our_model_is_pooled_then_linear() -> None:
    """The default model's head: GAP, Gemm (rows per class), a temperature, the softmax."""
    layer = api.emotion_class_layer()
    assert layer.model == DEFAULT_EMOTION_MODEL == "ours-v1"
    assert layer.pooled and layer.op_type == "Gemm"
    assert layer.followers in (("Div",), ("Softmax",))
    channels = EmotionClassifier(model="ours-v1").feature_shape[0]
    assert layer.weights.shape == (len(EMOTIONS), channels)
    assert layer.bias.shape == (len(EMOTIONS),)
    assert 0.0 < layer.temperature < 10.0
    with pytest.raises(api.ReportError, match="unknown emotion model"):
        api.emotion_class_layer("nope")
