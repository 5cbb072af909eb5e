"""Write our emotion network as ONNX from plain numpy weights (no torch, no exporter).

Built with the `onnx` helper API through tools/onnx_model.py rather than torch.onnx, so the
file's bytes depend only on the weights (a rerun gives the same file), every name is ours,
and batch normalisation is folded into the convolutions here, in float64, before the cast
to float32. The graph is the contract `burnout_tui` and the Grad-CAM plugin rely on:

    image (N,1,48,48) in [0,1] -> (x - mean) / std -> [Conv3x3 + ReLU] x2 + MaxPool ... ->
    features (N,C,h,w) -> GlobalAveragePool -> Gemm(classifier.weight, classifier.bias)
    -> / temperature -> Softmax -> probs (N,7)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

from burnout_tui import EMOTIONS
from tools.onnx_model import finish_model

INPUT_NAME = "image"
PROBS_NAME = "probs"
FEATURES_NAME = "features"
CLASSIFIER_WEIGHT = "classifier.weight"
"""(7, C): row k is class k's weight on each pooled feature channel (Grad-CAM's weights)."""
CLASSIFIER_BIAS = "classifier.bias"
TEMPERATURE = "temperature"
"""A scalar initializer: logits are divided by it before the softmax."""
INPUT_SIZE = 48

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ConvBN:
    """One 3x3 convolution (no bias) followed by batch normalisation and ReLU."""

    weight: FloatArray
    gamma: FloatArray
    beta: FloatArray
    mean: FloatArray
    var: FloatArray
    eps: float
    pool_after: bool
    """A 2x2 max-pool follows this layer's ReLU."""

    def folded(self) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        scale = np.asarray(self.gamma, np.float64) / np.sqrt(np.asarray(self.var) + self.eps)
        weight = np.asarray(self.weight, np.float64) * scale[:, None, None, None]
        bias = np.asarray(self.beta, np.float64) - np.asarray(self.mean, np.float64) * scale
        return weight.astype(np.float32), bias.astype(np.float32)


@dataclass(frozen=True, slots=True)
class EmotionWeights:
    pixel_mean: float
    pixel_std: float
    layers: Sequence[ConvBN]
    classifier_weight: FloatArray
    classifier_bias: FloatArray
    temperature: float


def _scalar(name: str, value: float) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(value, dtype=np.float32), name)


def build_graph(weights: EmotionWeights) -> onnx.GraphProto:
    initializers = [
        _scalar("pixel_mean", weights.pixel_mean),
        _scalar("pixel_inv_std", 1.0 / weights.pixel_std),
    ]
    nodes = [
        helper.make_node("Sub", [INPUT_NAME, "pixel_mean"], ["centred"], name="centre"),
        helper.make_node("Mul", ["centred", "pixel_inv_std"], ["x0"], name="scale"),
    ]
    current = "x0"
    last = len(weights.layers) - 1
    for index, layer in enumerate(weights.layers):
        weight, bias = layer.folded()
        w_name, b_name = f"conv{index}.weight", f"conv{index}.bias"
        initializers += [numpy_helper.from_array(weight, w_name)]
        initializers += [numpy_helper.from_array(bias, b_name)]
        conv_out = f"conv{index}"
        nodes.append(
            helper.make_node(
                "Conv",
                [current, w_name, b_name],
                [conv_out],
                name=f"conv{index}",
                kernel_shape=[3, 3],
                pads=[1, 1, 1, 1],
            )
        )
        relu_out = FEATURES_NAME if index == last else f"relu{index}"
        nodes.append(helper.make_node("Relu", [conv_out], [relu_out], name=f"relu{index}"))
        current = relu_out
        if layer.pool_after:
            if index == last:
                raise ValueError("the last layer gives the features: no pool after it")
            pooled = f"pool{index}"
            nodes.append(
                helper.make_node(
                    "MaxPool", [current], [pooled], name=pooled, kernel_shape=[2, 2], strides=[2, 2]
                )
            )
            current = pooled
    classes = np.asarray(weights.classifier_weight, np.float32)
    if classes.shape[0] != len(EMOTIONS):
        raise ValueError(f"classifier has {classes.shape[0]} rows, expected {len(EMOTIONS)}")
    initializers += [
        numpy_helper.from_array(classes, CLASSIFIER_WEIGHT),
        numpy_helper.from_array(np.asarray(weights.classifier_bias, np.float32), CLASSIFIER_BIAS),
        _scalar(TEMPERATURE, weights.temperature),
    ]
    nodes += [
        helper.make_node("GlobalAveragePool", [FEATURES_NAME], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["pooled"], name="flatten", axis=1),
        helper.make_node(
            "Gemm",
            ["pooled", CLASSIFIER_WEIGHT, CLASSIFIER_BIAS],
            ["logits"],
            name="classifier",
            transB=1,
        ),
        helper.make_node("Div", ["logits", TEMPERATURE], ["scaled_logits"], name="temperature"),
        helper.make_node("Softmax", ["scaled_logits"], [PROBS_NAME], name="softmax", axis=1),
    ]
    channels = int(np.asarray(weights.layers[-1].weight).shape[0])
    pools = sum(layer.pool_after for layer in weights.layers)
    side = INPUT_SIZE // 2**pools
    return helper.make_graph(
        nodes,
        "emotion_ours",
        [
            helper.make_tensor_value_info(
                INPUT_NAME, TensorProto.FLOAT, ["N", 1, INPUT_SIZE, INPUT_SIZE]
            )
        ],
        [
            helper.make_tensor_value_info(PROBS_NAME, TensorProto.FLOAT, ["N", len(EMOTIONS)]),
            helper.make_tensor_value_info(
                FEATURES_NAME, TensorProto.FLOAT, ["N", channels, side, side]
            ),
        ],
        initializer=initializers,
    )


def build_model(weights: EmotionWeights, doc: str, props: dict[str, str]) -> onnx.ModelProto:
    return finish_model(build_graph(weights), "burnout-tui tools.train_emotion", doc, props)
