"""Convert MediaPipe's 468-point face mesh (`face_landmark.tflite`) to `models/face_mesh.onnx`.

The TFLite flatbuffer is read with the `tflite` package (generated flatbuffer accessors, no
TensorFlow) and every operator is translated to ONNX nodes with the `onnx` helper API. An
off-the-shelf converter is not used: tflite2onnx fails on this graph, and tf2onnx would pull
TensorFlow in. The mediapipe wheel is only unzipped, never installed.

The graph uses seven TFLite operators, each translated here:
- DEQUANTIZE of float16 weights: folded at conversion time into float32 initializers
  (float16 to float32 is exact, so this is what TFLite computes at load time).
- CONV_2D and DEPTHWISE_CONV_2D: `Conv` with the kernels transposed from TFLite's
  (O, H, W, I) and (1, H, W, C·multiplier) to ONNX's (O, I, H, W); TFLite SAME padding
  becomes explicit, asymmetric pads (the odd pixel at the end, as TensorFlow does).
- PRELU: relu(x) + slope · min(x, 0), the same values as ONNX `PRelu` but 2.2× faster
  on ONNX Runtime (see `_Converter.prelu`); the (1, 1, C) slopes become (C, 1, 1).
- ADD, MAX_POOL_2D, PAD (the zero channel padding of the residual shortcuts: its NHWC
  paddings are reordered to NCHW).
Fused activations (none in this model, but checked) become separate nodes.

The ONNX graph is NCHW throughout, so only the weights are transposed, never activations.
Input `image`: float32 (N, 3, 192, 192) RGB in [0, 1], MediaPipe's `ImageToTensorCalculator`
range for this model (`face_landmark_cpu.pbtxt`: `output_tensor_float_range {min: 0 max: 1}`).
Outputs:
- `landmarks` (N, 468, 3): x, y in pixels of the 192×192 input, z relative depth in the same
  scale (MediaPipe's `TensorsToFaceLandmarks` divides all three by 192).
- `presence` (N,): sigmoid of the face-flag logit, as MediaPipe's `TensorsToFloatsCalculator`
  (`activation: SIGMOID`); MediaPipe drops the landmarks below 0.5.

The output is byte-identical on every run: fixed producer, IR version, opset and node names
(taken from the TFLite tensor names), no timestamps, and the upstream file pinned by sha256.
"""

from __future__ import annotations

import argparse
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
import tflite
from onnx import TensorProto, helper, numpy_helper

from tools.onnx_model import finish_model, write_model
from tools.upstream_wheel import REPO_ROOT, UpstreamWheel

MODEL_FILENAME = "face_mesh.onnx"
MEDIAPIPE_VERSION = "0.10.21"
MEDIAPIPE_REQUIREMENT = f"mediapipe=={MEDIAPIPE_VERSION}"
WHEEL_PLATFORM = "manylinux_2_28_x86_64"
WHEEL_PYTHON = "3.11"
"""mediapipe ships only binary wheels; one fixed platform and Python is fetched on every
host so the cached file name (the Makefile's target) is the same everywhere. Only the
model inside is read, and it is pinned by sha256, so the host's own platform is irrelevant."""
TFLITE_SHA256 = "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814"
"""sha256 of `face_landmark.tflite` in mediapipe 0.10.21; another file is another model."""
MEDIAPIPE_WHEEL = UpstreamWheel(
    requirement=MEDIAPIPE_REQUIREMENT,
    glob=f"mediapipe-{MEDIAPIPE_VERSION}-*.whl",
    member="mediapipe/modules/face_landmark/face_landmark.tflite",
    sha256=TFLITE_SHA256,
    download_options=(
        "--only-binary=:all:",
        "--platform",
        WHEEL_PLATFORM,
        "--python-version",
        WHEEL_PYTHON,
    ),
)

INPUT_NAME = "image"
LANDMARKS_NAME = "landmarks"
PRESENCE_NAME = "presence"
INPUT_SIZE = 192
COLOR_CHANNELS = 3
NUM_LANDMARKS = 468
LANDMARK_DIMS = 3
"""x, y, z per landmark: the landmark output is 468 × 3 = 1404 numbers."""
PRODUCER = "burnout-tui tools.convert_face_mesh"

NHWC_TO_NCHW = (0, 3, 1, 2)
RANK_4 = 4
RELU6_MAX = 6.0
ZERO_NAME = "zero"

Array = npt.NDArray[Any]
Handler = Callable[[str, list[int], int, Any], None]
"""An operator's translation: (operator name, input tensor indices, output index, options)."""

_OPERATOR_NAMES = {
    value: name for name, value in vars(tflite.BuiltinOperator).items() if name.isupper()
}
_NUMPY_TYPES: dict[int, np.dtype[Any]] = {
    tflite.TensorType.FLOAT32: np.dtype("<f4"),
    tflite.TensorType.FLOAT16: np.dtype("<f2"),
    tflite.TensorType.INT32: np.dtype("<i4"),
    tflite.TensorType.INT64: np.dtype("<i8"),
}


def same_pads(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TFLite SAME padding (before, after): output ceil(size / stride), the odd pixel at the end.

    ONNX's auto_pad=SAME_UPPER means the same, but the spec keeps auto_pad for legacy use
    and asks for explicit pads, which also make the asymmetry visible in the graph.
    """
    out = -(-size // stride)
    extent = (kernel - 1) * dilation + 1
    total = max((out - 1) * stride + extent - size, 0)
    return total // 2, total - total // 2


def _spatial_pads(
    size: tuple[int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    padding: int,
) -> list[int]:
    """ONNX pads [top, left, bottom, right] for TFLite's SAME or VALID padding."""
    if padding == tflite.Padding.VALID:
        return [0, 0, 0, 0]
    if padding != tflite.Padding.SAME:
        raise ValueError(f"unsupported TFLite padding {padding}")
    top, bottom = same_pads(size[0], kernel[0], stride[0], dilation[0])
    left, right = same_pads(size[1], kernel[1], stride[1], dilation[1])
    return [top, left, bottom, right]


@dataclass(frozen=True)
class _Activation:
    """A tensor computed by the ONNX graph: its ONNX name and TFLite (NHWC) shape."""

    name: str
    shape: tuple[int, ...]

    @property
    def spatial(self) -> tuple[int, int]:
        """(H, W) of an NHWC shape."""
        if len(self.shape) != RANK_4:
            raise ValueError(f"{self.name}: expected a 4-d NHWC tensor, found {self.shape}")
        return self.shape[1], self.shape[2]


class _Converter:
    """Walks one TFLite subgraph in operator order while emitting ONNX nodes."""

    def __init__(self, model: Any) -> None:
        if model.SubgraphsLength() != 1:
            raise ValueError(f"expected one subgraph, found {model.SubgraphsLength()}")
        self.model = model
        self.graph = model.Subgraphs(0)
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.activations: dict[int, _Activation] = {}
        self.constants: dict[int, Array] = {}
        self.shared: set[str] = set()

    # Tensors ---------------------------------------------------------------------------

    def tensor_name(self, index: int) -> str:
        return bytes(self.graph.Tensors(index).Name()).decode()

    def shape(self, index: int) -> tuple[int, ...]:
        tensor = self.graph.Tensors(index)
        return tuple(int(dim) for dim in tensor.ShapeAsNumpy()) if tensor.ShapeLength() else ()

    def constant(self, index: int) -> Array:
        """A weight: a folded DEQUANTIZE output or data stored in the flatbuffer."""
        if index in self.constants:
            return self.constants[index]
        tensor = self.graph.Tensors(index)
        buffer = self.model.Buffers(tensor.Buffer())
        if buffer is None or buffer.DataLength() == 0:
            raise ValueError(f"tensor {self.tensor_name(index)} is neither constant nor computed")
        dtype = _NUMPY_TYPES.get(int(tensor.Type()))
        if dtype is None:
            raise ValueError(
                f"tensor {self.tensor_name(index)} has unsupported type {tensor.Type()}"
            )
        raw: bytes = buffer.DataAsNumpy().tobytes()
        return np.frombuffer(raw, dtype=dtype).reshape(self.shape(index))

    def activation(self, index: int) -> _Activation:
        if index not in self.activations:
            raise ValueError(f"{self.tensor_name(index)} is used before it is computed")
        return self.activations[index]

    def initializer(self, name: str, value: Array) -> str:
        self.initializers.append(numpy_helper.from_array(value, name))
        return name

    def zero(self) -> str:
        """One float32 scalar 0 shared by every node that needs it."""
        if ZERO_NAME not in self.shared:
            self.shared.add(self.initializer(ZERO_NAME, np.array(0.0, dtype=np.float32)))
        return ZERO_NAME

    # Nodes -----------------------------------------------------------------------------

    def emit(self, op: str, inputs: list[str], output: str, name: str, **attrs: Any) -> str:
        self.nodes.append(helper.make_node(op, inputs, [output], name=name, **attrs))
        return output

    def finish(self, name: str, output: int, raw: str, fused: int) -> None:
        """Apply a TFLite fused activation to `raw` and register the result as `output`."""
        result = raw
        if fused == tflite.ActivationFunctionType.RELU:
            result = self.emit("Relu", [raw], name, f"{name}.relu")
        elif fused == tflite.ActivationFunctionType.RELU6:
            bounds = [
                self.initializer(f"{name}.min", np.array(0.0, dtype=np.float32)),
                self.initializer(f"{name}.max", np.array(RELU6_MAX, dtype=np.float32)),
            ]
            result = self.emit("Clip", [raw, *bounds], name, f"{name}.relu6")
        elif fused == tflite.ActivationFunctionType.TANH:
            result = self.emit("Tanh", [raw], name, f"{name}.tanh")
        elif fused != tflite.ActivationFunctionType.NONE:
            raise ValueError(f"{name}: unsupported fused activation {fused}")
        self.activations[output] = _Activation(result, self.shape(output))

    def raw_name(self, name: str, fused: int) -> str:
        """The op's own output: the final name, or a pre-activation one if one follows."""
        return name if fused == tflite.ActivationFunctionType.NONE else f"{name}.linear"

    # Operators -------------------------------------------------------------------------

    def convert_operator(self, op: Any) -> None:
        code = self.model.OperatorCodes(op.OpcodeIndex())
        # Schema 3 moved the operator code to a 32-bit field and kept the old 8-bit one
        # (capped at 127) for old readers; the larger of the two is the real code.
        kind = _OPERATOR_NAMES.get(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()))
        inputs = [int(i) for i in op.InputsAsNumpy()] if op.InputsLength() else []
        outputs = [int(i) for i in op.OutputsAsNumpy()]
        if len(outputs) != 1:
            raise ValueError(f"{kind}: expected one output, found {len(outputs)}")
        options = op.BuiltinOptions()
        handlers = self.handlers()
        if kind not in handlers:
            raise ValueError(f"unsupported TFLite operator {kind}")
        handlers[kind](kind, inputs, outputs[0], options)

    def handlers(self) -> dict[str, Handler]:
        """The translation of each TFLite operator this converter knows, by name."""
        return {
            "DEQUANTIZE": self.dequantize,
            "CONV_2D": self.conv,
            "DEPTHWISE_CONV_2D": self.conv,
            "PRELU": self.prelu,
            "ADD": self.add,
            "MAX_POOL_2D": self.max_pool,
            "PAD": self.pad,
        }

    def dequantize(self, kind: str, inputs: list[int], output: int, options: Any) -> None:
        """float16 weights become float32 initializers; TFLite does the same at load time."""
        source = self.graph.Tensors(inputs[0])
        if source.Type() != tflite.TensorType.FLOAT16:
            raise ValueError(f"{kind} {self.tensor_name(output)}: only float16 is supported")
        self.constants[output] = self.constant(inputs[0]).astype(np.float32)

    def conv(self, kind: str, inputs: list[int], output: int, options: Any) -> None:
        name = self.tensor_name(output)
        source = self.activation(inputs[0])
        kernel = self.constant(inputs[1])
        depthwise = kind == "DEPTHWISE_CONV_2D"
        parsed = tflite.DepthwiseConv2DOptions() if depthwise else tflite.Conv2DOptions()
        parsed.Init(options.Bytes, options.Pos)
        in_channels = source.shape[3]
        if depthwise:
            # (1, KH, KW, C·multiplier) -> (C·multiplier, 1, KH, KW), one group per channel.
            weight = kernel.transpose(3, 0, 1, 2)
            group = in_channels
        else:
            # (O, KH, KW, I) -> (O, I, KH, KW).
            weight = kernel.transpose(NHWC_TO_NCHW)
            group = 1
        ksize = (int(kernel.shape[1]), int(kernel.shape[2]))
        stride = (int(parsed.StrideH()), int(parsed.StrideW()))
        dilation = (int(parsed.DilationHFactor()), int(parsed.DilationWFactor()))
        pads = _spatial_pads(source.spatial, ksize, stride, dilation, parsed.Padding())
        onnx_inputs = [
            source.name,
            self.initializer(f"{name}.weight", np.ascontiguousarray(weight)),
        ]
        if len(inputs) > 2 and inputs[2] >= 0:
            onnx_inputs.append(self.initializer(f"{name}.bias", self.constant(inputs[2])))
        fused = int(parsed.FusedActivationFunction())
        raw = self.emit(
            "Conv",
            onnx_inputs,
            self.raw_name(name, fused),
            name,
            kernel_shape=list(ksize),
            strides=list(stride),
            dilations=list(dilation),
            pads=pads,
            group=group,
        )
        self.finish(name, output, raw, fused)

    def prelu(self, kind: str, inputs: list[int], output: int, options: Any) -> None:
        """relu(x) + slope · min(x, 0), with TFLite's (1, 1, C) slopes reshaped to (C, 1, 1).

        Not ONNX `PRelu`: ONNX Runtime's PRelu kernel took 1.6 ms of a 2.9 ms run (2 threads,
        batch 1), and ORT reorders the tensor out of and back into its blocked NCHWc layout
        around each of the 23. Relu, Min, Mul and Add all stay in that layout; the whole
        model ran 2.2× faster (3.1 → 1.4 ms). The values are exactly PReLU's: for x > 0
        the sum is x + 0, otherwise 0 + slope · x, each with one rounding, as TFLite's.
        """
        name = self.tensor_name(output)
        source = self.activation(inputs[0])
        alpha = self.constant(inputs[1])
        while alpha.ndim < RANK_4 - 1:
            alpha = alpha[None]
        channels_last = alpha.reshape(alpha.shape[-(RANK_4 - 1) :])
        slope = self.initializer(
            f"{name}.slope", np.ascontiguousarray(channels_last.transpose(2, 0, 1))
        )
        positive = self.emit("Relu", [source.name], f"{name}.positive", f"{name}.positive")
        negative = self.emit(
            "Min", [source.name, self.zero()], f"{name}.negative", f"{name}.negative"
        )
        scaled = self.emit("Mul", [negative, slope], f"{name}.scaled", f"{name}.scaled")
        raw = self.emit("Add", [positive, scaled], name, name)
        self.finish(name, output, raw, tflite.ActivationFunctionType.NONE)

    def add(self, kind: str, inputs: list[int], output: int, options: Any) -> None:
        name = self.tensor_name(output)
        if not all(index in self.activations for index in inputs):
            raise ValueError(f"{kind} {name}: only the sum of two computed tensors is supported")
        parsed = tflite.AddOptions()
        parsed.Init(options.Bytes, options.Pos)
        fused = int(parsed.FusedActivationFunction())
        operands = [self.activation(index).name for index in inputs]
        raw = self.emit("Add", operands, self.raw_name(name, fused), name)
        self.finish(name, output, raw, fused)

    def max_pool(self, kind: str, inputs: list[int], output: int, options: Any) -> None:
        """TFLite's SAME max pooling ignores padded cells, as ONNX MaxPool does."""
        name = self.tensor_name(output)
        source = self.activation(inputs[0])
        parsed = tflite.Pool2DOptions()
        parsed.Init(options.Bytes, options.Pos)
        pool = (int(parsed.FilterHeight()), int(parsed.FilterWidth()))
        stride = (int(parsed.StrideH()), int(parsed.StrideW()))
        pads = _spatial_pads(source.spatial, pool, stride, (1, 1), parsed.Padding())
        fused = int(parsed.FusedActivationFunction())
        raw = self.emit(
            "MaxPool",
            [source.name],
            self.raw_name(name, fused),
            name,
            kernel_shape=list(pool),
            strides=list(stride),
            pads=pads,
        )
        self.finish(name, output, raw, fused)

    def pad(self, kind: str, inputs: list[int], output: int, options: Any) -> None:
        """Zero padding; TFLite's (4, 2) NHWC [before, after] rows become ONNX's NCHW pads."""
        name = self.tensor_name(output)
        source = self.activation(inputs[0])
        paddings = self.constant(inputs[1]).astype(np.int64)
        if paddings.shape != (RANK_4, 2):
            raise ValueError(f"{kind} {name}: expected (4, 2) paddings, found {paddings.shape}")
        nchw = paddings[list(NHWC_TO_NCHW)]
        pads = np.concatenate([nchw[:, 0], nchw[:, 1]])
        pads_name = self.initializer(f"{name}.pads", pads)
        raw = self.emit("Pad", [source.name, pads_name], name, name, mode="constant")
        self.finish(name, output, raw, tflite.ActivationFunctionType.NONE)


def _check_io(converter: _Converter) -> tuple[int, int, int]:
    """The graph input and the landmark and face-flag outputs, in MediaPipe's order."""
    graph = converter.graph
    if graph.InputsLength() != 1 or graph.OutputsLength() != 2:
        raise ValueError("expected one input and two outputs (landmarks, face flag)")
    image, landmarks, flag = graph.Inputs(0), graph.Outputs(0), graph.Outputs(1)
    expected = {
        image: (1, INPUT_SIZE, INPUT_SIZE, COLOR_CHANNELS),
        landmarks: (1, 1, 1, NUM_LANDMARKS * LANDMARK_DIMS),
        flag: (1, 1, 1, 1),
    }
    for index, shape in expected.items():
        if converter.shape(index) != shape:
            found = converter.shape(index)
            raise ValueError(f"{converter.tensor_name(index)} has shape {found}, not {shape}")
    return image, landmarks, flag


def build_model(data: bytes) -> onnx.ModelProto:
    model = tflite.Model.GetRootAsModel(data, 0)
    converter = _Converter(model)
    image, landmarks, flag = _check_io(converter)
    converter.activations[image] = _Activation(INPUT_NAME, converter.shape(image))
    for position in range(converter.graph.OperatorsLength()):
        converter.convert_operator(converter.graph.Operators(position))

    # Both heads end at 1×1 spatial size, where NCHW and NHWC flatten to the same order.
    landmark_map = converter.activation(landmarks).name
    shape = converter.initializer(
        f"{LANDMARKS_NAME}.shape", np.array([-1, NUM_LANDMARKS, LANDMARK_DIMS], dtype=np.int64)
    )
    converter.emit("Reshape", [landmark_map, shape], LANDMARKS_NAME, LANDMARKS_NAME)
    logit = converter.activation(flag).name
    probability = converter.emit("Sigmoid", [logit], f"{logit}.sigmoid", f"{logit}.sigmoid")
    flat = converter.initializer(f"{PRESENCE_NAME}.shape", np.array([-1], dtype=np.int64))
    converter.emit("Reshape", [probability, flat], PRESENCE_NAME, PRESENCE_NAME)

    input_shape: list[str | int] = ["N", COLOR_CHANNELS, INPUT_SIZE, INPUT_SIZE]
    graph = helper.make_graph(
        converter.nodes,
        "face_mesh",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, input_shape)],
        [
            helper.make_tensor_value_info(
                LANDMARKS_NAME, TensorProto.FLOAT, ["N", NUM_LANDMARKS, LANDMARK_DIMS]
            ),
            helper.make_tensor_value_info(PRESENCE_NAME, TensorProto.FLOAT, ["N"]),
        ],
        converter.initializers,
    )
    return finish_model(
        graph,
        PRODUCER,
        (
            "MediaPipe face mesh, 468 landmarks (Apache-2.0, Google), "
            f"{MEDIAPIPE_WHEEL.member} from "
            f"{MEDIAPIPE_REQUIREMENT}, sha256 {TFLITE_SHA256}. Input: NCHW float32 RGB in "
            "[0, 1], a 192x192 crop. Outputs: landmarks x, y, z in 192-px crop pixels; "
            "presence = sigmoid(face flag)."
        ),
        {
            "source_sha256": TFLITE_SHA256,
            "landmarks": "(N, 468, 3): x, y in input pixels, z relative depth in the same scale",
            "presence": "(N,): face-presence probability, sigmoid of the face-flag logit",
        },
    )


def convert(out_dir: Path, wheel: Path | None = None) -> Path:
    model = build_model(MEDIAPIPE_WHEEL.read_member(MEDIAPIPE_WHEEL.find(wheel)))
    return write_model(model, out_dir / MODEL_FILENAME)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "models")
    parser.add_argument(
        "--wheel", type=Path, default=None, help=f"{MEDIAPIPE_REQUIREMENT} wheel to read"
    )
    args = parser.parse_args()
    path = convert(args.out, args.wheel)
    print(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path}")


if __name__ == "__main__":
    main()
