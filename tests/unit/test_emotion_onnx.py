"""tools/emotion_onnx.py: the written graph computes the network it was given (no torch).

A small random network with batch-norm statistics is written, run by ONNX Runtime and
compared with a direct numpy forward pass of the unfolded layers, so folding, padding,
pooling, the head and the temperature are all checked.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from burnout_tui import EMOTIONS
from tools.emotion_onnx import (
    CLASSIFIER_WEIGHT,
    FEATURES_NAME,
    INPUT_NAME,
    INPUT_SIZE,
    PROBS_NAME,
    TEMPERATURE,
    ConvBN,
    EmotionWeights,
    build_model,
)
from tools.onnx_model import write_model

ATOL = 1e-4
WIDTHS = (3, 4, 5, 6)


def _weights(seed: int = 0) -> EmotionWeights:
    rng = np.random.default_rng(seed)
    layers = []
    channels = 1
    for block, out in enumerate(WIDTHS):
        for repeat in range(2):
            layers.append(
                ConvBN(
                    weight=rng.normal(0, 0.5, (out, channels, 3, 3)),
                    gamma=rng.uniform(0.5, 1.5, out),
                    beta=rng.normal(0, 0.1, out),
                    mean=rng.normal(0, 0.1, out),
                    var=rng.uniform(0.5, 2.0, out),
                    eps=1e-5,
                    pool_after=repeat == 1 and block < len(WIDTHS) - 1,
                )
            )
            channels = out
    return EmotionWeights(
        pixel_mean=0.5,
        pixel_std=0.25,
        layers=layers,
        classifier_weight=rng.normal(0, 1, (len(EMOTIONS), channels)),
        classifier_bias=rng.normal(0, 1, len(EMOTIONS)),
        temperature=1.7,
    )


def _conv3x3(x: np.ndarray, weight: np.ndarray) -> np.ndarray:
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    height, width = x.shape[2:]
    out = np.zeros((x.shape[0], weight.shape[0], height, width))
    for dy in range(3):
        for dx in range(3):
            patch = padded[:, :, dy : dy + height, dx : dx + width]
            out += np.einsum("nchw,oc->nohw", patch, weight[:, :, dy, dx])
    return out


def _reference(weights: EmotionWeights, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    h = (x.astype(np.float64) - weights.pixel_mean) / weights.pixel_std
    for layer in weights.layers:
        h = _conv3x3(h, layer.weight)
        scale = layer.gamma / np.sqrt(layer.var + layer.eps)
        h = (h - layer.mean[:, None, None]) * scale[:, None, None] + layer.beta[:, None, None]
        h = np.maximum(h, 0)
        if layer.pool_after:
            n, c, height, width = h.shape
            h = h.reshape(n, c, height // 2, 2, width // 2, 2).max(axis=(3, 5))
    logits = h.mean(axis=(2, 3)) @ weights.classifier_weight.T + weights.classifier_bias
    z = logits / weights.temperature
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True), h


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[EmotionWeights, Path]:
    weights = _weights()
    path = write_model(build_model(weights, "test", {}), tmp_path_factory.mktemp("m") / "e.onnx")
    return weights, path


def test_graph_matches_numpy_forward_pass(written: tuple[EmotionWeights, Path]) -> None:
    weights, path = written
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(1).uniform(0, 1, (3, 1, INPUT_SIZE, INPUT_SIZE)).astype(np.float32)
    probs, features = session.run([PROBS_NAME, FEATURES_NAME], {INPUT_NAME: x})
    want_probs, want_features = _reference(weights, x)
    assert features.shape == (3, WIDTHS[-1], INPUT_SIZE // 8, INPUT_SIZE // 8)
    np.testing.assert_allclose(features, want_features, atol=ATOL, rtol=1e-4)
    np.testing.assert_allclose(probs, want_probs, atol=ATOL)


def test_names_and_dynamic_batch(written: tuple[EmotionWeights, Path]) -> None:
    _, path = written
    model = onnx.load(str(path))
    names = {init.name for init in model.graph.initializer}
    assert {CLASSIFIER_WEIGHT, TEMPERATURE} <= names
    assert [i.name for i in model.graph.input] == [INPUT_NAME]
    assert [o.name for o in model.graph.output] == [PROBS_NAME, FEATURES_NAME]
    batch = model.graph.input[0].type.tensor_type.shape.dim[0]
    assert batch.dim_param and not batch.dim_value


def test_same_weights_same_bytes(written: tuple[EmotionWeights, Path], tmp_path: Path) -> None:
    _, path = written
    again = write_model(build_model(_weights(), "test", {}), tmp_path / "again.onnx")
    assert again.read_bytes() == path.read_bytes()


def test_pool_after_last_layer_is_refused() -> None:
    weights = _weights()
    last = weights.layers[-1]
    broken = EmotionWeights(
        weights.pixel_mean,
        weights.pixel_std,
        [
            *weights.layers[:-1],
            ConvBN(last.weight, last.gamma, last.beta, last.mean, last.var, last.eps, True),
        ],
        weights.classifier_weight,
        weights.classifier_bias,
        weights.temperature,
    )
    with pytest.raises(ValueError, match="last layer"):
        build_model(broken, "test", {})
