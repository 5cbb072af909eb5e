"""Convert MediaPipe's face blendshapes model (`face_blendshapes.tflite`) to ONNX.

The model comes inside Google's Face Landmarker bundle (`face_landmarker.task`, a zip),
read from the shared data folder or a path given on the command line; the bundle is never
copied into the project, only the converted `models/face_blendshapes.onnx` is.

It is an MLP-Mixer ("GhumMarkerPoserMlpMixerGeneral") on 146 landmark (x, y) pairs:
centre and scale the points, embed them as 96 tokens of 64 channels with two 1×1
convolutions, add one learned token, four mixer blocks (layer norm, token-mixing MLP,
layer norm, channel-mixing MLP, residuals), and a 1×1 convolution with a sigmoid on the
added token gives the 52 coefficients.

The face-mesh converter's `_Converter` walks the graph; this subclass adds the operators
the mixer uses. Unlike the face mesh, the graph is translated **in TFLite's own layout**:
its tensors are (1, 1, tokens, channels) and its "convolutions" are 1×1 kernels over the
last axis, so every CONV_2D becomes a MatMul with the transposed kernel plus the bias,
and every other operator (element-wise, reductions, slices, transposes, reshapes) keeps
TFLite's axes and broadcasting unchanged. Operators:
- DEQUANTIZE (float16 weights, folded), CONV_2D (1×1, stride 1 only: MatMul + Add),
  ADD, SUB, MUL, DIV (either operand may be a constant; fused activations as for the mesh),
- MEAN → ReduceMean, SUM → ReduceSum (keep_dims as given), SQRT, NEG,
  RSQRT → Reciprocal(Sqrt), SQUARED_DIFFERENCE → (a − b)·(a − b), LOGISTIC → Sigmoid,
- STRIDED_SLICE → Slice (begin/end masks, shrink axes → Squeeze), CONCATENATION → Concat,
  RESHAPE, TRANSPOSE.
The TFLite graph takes one face (batch 1); the ONNX graph takes N: reshapes keep the batch
axis open, slices never cut it, and the final STRIDED_SLICE that drops the batch axis
(52,) is left out, so the output is (N, 52).

The translation is then rewritten by `tools.onnx_fusions` (layer norms fused, the token
MLPs' transposes folded into their weights, the last block cut to the one token the head
reads): 180 nodes become 83 with the same outputs; `build_model(..., fuse=False)` keeps
the plain translation, for the bench.

Input `points`: float32 (N, 146, 2), the landmarks `BLENDSHAPE_LANDMARKS` (in that order) in
pixels, as MediaPipe's `LandmarksToTensorCalculator` with the image size gives them (its
normalised landmarks times width and height). Output `blendshapes`: float32 (N, 52) in
[0, 1], in the order of `burnout_tui.measures.BLENDSHAPE_NAMES`.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import tflite
from onnx import TensorProto, helper

from burnout_tui.measures import BLENDSHAPE_NAMES
from burnout_tui.vision.blendshapes import BLENDSHAPE_LANDMARKS
from tools.convert_face_mesh import _OPERATOR_NAMES, Handler, _Activation, _Converter
from tools.onnx_fusions import (
    compute_read_tokens_only,
    drop_swap_transposes,
    fuse_layer_norms,
)
from tools.onnx_model import SLICE_TO_END, finish_model, write_model
from tools.upstream_wheel import REPO_ROOT

MODEL_FILENAME = "face_blendshapes.onnx"
BUNDLE_RELATIVE = Path("models_upstream") / "face_landmarker.task"
"""Where the bundle lies under `$BURNOUT_TUI_DATA`."""
BUNDLE_SHA256 = "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"
"""`face_landmarker/float16/1/face_landmarker.task` as Google serves it."""
MEMBER = "face_blendshapes.tflite"
TFLITE_SHA256 = "4f36dded049db18d76048567439b2a7f58f1daabc00d78bfe8f3ad396a2d2082"
"""sha256 of `face_blendshapes.tflite` in that bundle; another file is another model."""

INPUT_NAME = "points"
OUTPUT_NAME = "blendshapes"
NUM_POINTS = len(BLENDSHAPE_LANDMARKS)
POINT_DIMS = 2
NUM_BLENDSHAPES = len(BLENDSHAPE_NAMES)
PRODUCER = "burnout-tui tools.convert_face_blendshapes"
KEEP_BATCH = -1
"""Reshape's "whatever is left" size, put on the batch axis so N faces run at once."""
MIXER_RANK = 4
"""The mixer's tensors are (N, 1, tokens, channels), TFLite's layout."""
MIXER_BLOCKS = 4
LAYER_NORMS = 2 * MIXER_BLOCKS
SWAPPED_CHAINS = 1 + MIXER_BLOCKS
"""Transposed MLPs: the token embedding, and each block's token-mixing MLP."""
CUT_TOKEN_MIXINGS = 1
"""The head reads one token: the last block's second token-mixing layer computes only it."""
EXPECTED_REWRITES = (LAYER_NORMS, SWAPPED_CHAINS, CUT_TOKEN_MIXINGS)


class BundleError(ValueError):
    """The Face Landmarker bundle is missing, or is not the pinned one."""


def bundle_path(explicit: Path | None = None) -> Path:
    """The bundle given on the command line, or the one in the shared data folder."""
    if explicit is not None:
        return explicit
    data = os.environ.get("BURNOUT_TUI_DATA")
    if not data:
        raise BundleError("set BURNOUT_TUI_DATA or pass --bundle face_landmarker.task")
    return Path(data) / BUNDLE_RELATIVE


def read_member(bundle: Path, member: str, sha256: str) -> bytes:
    """One pinned model file from the bundle; anything else fails instead of converting."""
    if not bundle.is_file():
        raise BundleError(f"no Face Landmarker bundle at {bundle}")
    with zipfile.ZipFile(bundle) as archive:
        data = archive.read(member)
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise BundleError(f"{member} in {bundle} has sha256 {digest}, expected {sha256}")
    return data


def _options(options: Any, kind: type[Any]) -> Any:
    parsed = kind()
    parsed.Init(options.Bytes, options.Pos)
    return parsed


def _bits(mask: int, rank: int) -> list[bool]:
    return [bool(mask >> axis & 1) for axis in range(rank)]


class _MixerConverter(_Converter):
    """The face-mesh converter, translating in TFLite's layout, with the mixer's operators."""

    def handlers(self) -> dict[str, Handler]:
        return {
            "DEQUANTIZE": self.dequantize,
            "CONV_2D": self.dense,
            "ADD": self.binary,
            "SUB": self.binary,
            "MUL": self.binary,
            "DIV": self.binary,
            "SQUARED_DIFFERENCE": self.squared_difference,
            "MEAN": self.reduce,
            "SUM": self.reduce,
            "SQRT": self.unary,
            "NEG": self.unary,
            "LOGISTIC": self.unary,
            "RSQRT": self.rsqrt,
            "STRIDED_SLICE": self.strided_slice,
            "CONCATENATION": self.concatenation,
            "RESHAPE": self.reshape,
            "TRANSPOSE": self.transpose,
        }

    def operand(self, index: int, name: str) -> str:
        """A computed tensor's name, or a constant's, added as an initializer named `name`."""
        if index in self.activations:
            return self.activation(index).name
        return self.initializer(name, np.ascontiguousarray(self.constant(index)))

    def dense(self, kind: str, inputs: list[int], output: int, options: Any) -> None:
        """A 1×1, stride-1 CONV_2D over NHWC is x @ Wᵀ + b on the channel (last) axis."""
        name = self.tensor_name(output)
        source = self.activation(inputs[0])
        kernel = self.constant(inputs[1])
        parsed = _options(options, tflite.Conv2DOptions)
        if kernel.shape[1:3] != (1, 1) or (parsed.StrideH(), parsed.StrideW()) != (1, 1):
            raise ValueError(f"{kind} {name}: only 1x1 kernels with stride 1 are supported")
        weight = self.initializer(
            f"{name}.weight", np.ascontiguousarray(kernel.reshape(kernel.shape[0], -1).T)
        )
        fused = int(parsed.FusedActivationFunction())
        raw = self.raw_name(name, fused)
        if len(inputs) > 2 and inputs[2] >= 0:
            product = self.emit("MatMul", [source.name, weight], f"{name}.matmul", name)
            bias = self.initializer(f"{name}.bias", self.constant(inputs[2]))
            self.emit("Add", [product, bias], raw, f"{name}.bias_add")
        else:
            self.emit("MatMul", [source.name, weight], raw, name)
        self.finish(name, output, raw, fused)

    def binary(self, kind: str, inputs: list[int], output: int, options: Any) -> None:
        name = self.tensor_name(output)
        option_kinds = {
            "ADD": (tflite.AddOptions, "Add"),
            "SUB": (tflite.SubOptions, "Sub"),
            "MUL": (tflite.MulOptions, "Mul"),
            "DIV": (tflite.DivOptions, "Div"),
        }
        option_kind, op = option_kinds[kind]
        fused = int(_options(options, option_kind).FusedActivationFunction())
        operands = [self.operand(index, f"{name}.operand{i}") for i, index in enumerate(inputs)]
        raw = self.emit(op, operands, self.raw_name(name, fused), name)
        self.finish(name, output, raw, fused)

    def squared_difference(self, kind: str, inputs: list[int], output: int, options: Any) -> None:
        name = self.tensor_name(output)
        operands = [self.operand(index, f"{name}.operand{i}") for i, index in enumerate(inputs)]
        difference = self.emit("Sub", operands, f"{name}.difference", f"{name}.difference")
        raw = self.emit("Mul", [difference, difference], name, name)
        self.finish(name, output, raw, tflite.ActivationFunctionType.NONE)

    def unary(self, kind: str, inputs: list[int], output: int, options: Any) -> None:
        name = self.tensor_name(output)
        op = {"SQRT": "Sqrt", "NEG": "Neg", "LOGISTIC": "Sigmoid"}[kind]
        raw = self.emit(op, [self.activation(inputs[0]).name], name, name)
        self.finish(name, output, raw, tflite.ActivationFunctionType.NONE)

    def rsqrt(self, kind: str, inputs: list[int], output: int, options: Any) -> None:
        name = self.tensor_name(output)
        root = self.emit("Sqrt", [self.activation(inputs[0]).name], f"{name}.sqrt", f"{name}.sqrt")
        raw = self.emit("Reciprocal", [root], name, name)
        self.finish(name, output, raw, tflite.ActivationFunctionType.NONE)

    def reduce(self, kind: str, inputs: list[int], output: int, options: Any) -> None:
        """MEAN and SUM over constant axes; opset 17 takes ReduceMean's axes as an attribute,
        ReduceSum's as an input."""
        name = self.tensor_name(output)
        source = self.activation(inputs[0])
        rank = len(source.shape)
        axes = [int(axis) % rank for axis in np.atleast_1d(self.constant(inputs[1]))]
        if 0 in axes:
            raise ValueError(f"{kind} {name}: reducing over the batch axis is not supported")
        keep = int(bool(_options(options, tflite.ReducerOptions).KeepDims()))
        if kind == "MEAN":
            raw = self.emit("ReduceMean", [source.name], name, name, axes=axes, keepdims=keep)
        else:
            axes_name = self.initializer(f"{name}.axes", np.array(axes, dtype=np.int64))
            raw = self.emit("ReduceSum", [source.name, axes_name], name, name, keepdims=keep)
        self.finish(name, output, raw, tflite.ActivationFunctionType.NONE)

    def strided_slice(self, kind: str, inputs: list[int], output: int, options: Any) -> None:
        """Slice with TFLite's begin/end masks; shrunk axes are squeezed; axis 0 stays whole."""
        name = self.tensor_name(output)
        source = self.activation(inputs[0])
        rank = len(source.shape)
        begin, end, strides = ([int(v) for v in self.constant(index)] for index in inputs[1:4])
        parsed = _options(options, tflite.StridedSliceOptions)
        if parsed.EllipsisMask() or parsed.NewAxisMask() or parsed.Offset():
            raise ValueError(f"{kind} {name}: ellipsis, new-axis and offset are not supported")
        begin_mask = _bits(parsed.BeginMask(), rank)
        end_mask = _bits(parsed.EndMask(), rank)
        shrink = _bits(parsed.ShrinkAxisMask(), rank)
        if shrink[0]:
            raise ValueError(f"{kind} {name}: dropping the batch axis is not supported")
        starts, ends = [], []
        for axis in range(rank):
            start = 0 if begin_mask[axis] else begin[axis]
            stop = SLICE_TO_END if end_mask[axis] else end[axis]
            if shrink[axis]:
                stop = start + 1
            if axis == 0:
                if (start, strides[0]) != (0, 1) or stop not in (source.shape[0], SLICE_TO_END):
                    raise ValueError(f"{kind} {name}: slicing the batch axis is not supported")
                stop = SLICE_TO_END
            starts.append(start)
            ends.append(stop)
        arguments = [
            source.name,
            self.initializer(f"{name}.starts", np.array(starts, dtype=np.int64)),
            self.initializer(f"{name}.ends", np.array(ends, dtype=np.int64)),
            self.initializer(f"{name}.axes", np.arange(rank, dtype=np.int64)),
            self.initializer(f"{name}.steps", np.array(strides, dtype=np.int64)),
        ]
        squeezed = [axis for axis in range(rank) if shrink[axis]]
        if squeezed:
            sliced = self.emit("Slice", arguments, f"{name}.slice", name)
            squeeze_axes = self.initializer(f"{name}.squeeze", np.array(squeezed, dtype=np.int64))
            raw = self.emit("Squeeze", [sliced, squeeze_axes], name, f"{name}.squeeze")
        else:
            raw = self.emit("Slice", arguments, name, name)
        self.finish(name, output, raw, tflite.ActivationFunctionType.NONE)

    def concatenation(self, kind: str, inputs: list[int], output: int, options: Any) -> None:
        """Concat; a constant operand (the mixer's extra token) is tiled to the batch."""
        name = self.tensor_name(output)
        parsed = _options(options, tflite.ConcatenationOptions)
        rank = len(self.shape(output))
        axis = int(parsed.Axis()) % rank
        if axis == 0:
            raise ValueError(f"{kind} {name}: concatenating along the batch axis is unsupported")
        computed = next((index for index in inputs if index in self.activations), None)
        if computed is None:
            raise ValueError(f"{kind} {name}: no computed operand")
        operands = []
        for i, index in enumerate(inputs):
            if index in self.activations:
                operands.append(self.activation(index).name)
                continue
            operands.append(self._batched_constant(f"{name}.operand{i}", index, computed, axis))
        fused = int(parsed.FusedActivationFunction())
        raw = self.emit("Concat", operands, self.raw_name(name, fused), name, axis=axis)
        self.finish(name, output, raw, fused)

    def _batched_constant(self, name: str, index: int, like: int, axis: int) -> str:
        """A batch-1 constant expanded to the batch size of the computed tensor `like`.

        Expand broadcasts the constant to `like`'s shape with the concatenation axis kept
        at the constant's own size: Shape(like) with that entry replaced.
        """
        value = np.ascontiguousarray(self.constant(index))
        constant = self.initializer(name, value)
        shape = self.emit("Shape", [self.activation(like).name], f"{name}.like", f"{name}.like")
        rank = value.ndim
        mask = np.ones(rank, dtype=np.int64)
        mask[axis] = 0
        ones = np.zeros(rank, dtype=np.int64)
        ones[axis] = value.shape[axis]
        masked = self.emit(
            "Mul",
            [shape, self.initializer(f"{name}.mask", mask)],
            f"{name}.masked",
            f"{name}.masked",
        )
        target = self.emit(
            "Add", [masked, self.initializer(f"{name}.own", ones)], f"{name}.shape", f"{name}.shape"
        )
        return self.emit("Expand", [constant, target], f"{name}.expanded", f"{name}.expanded")

    def reshape(self, kind: str, inputs: list[int], output: int, options: Any) -> None:
        """To the output tensor's shape, with the batch axis left to Reshape (-1)."""
        name = self.tensor_name(output)
        shape = list(self.shape(output))
        if not shape or shape[0] != 1:
            raise ValueError(f"{kind} {name}: expected a batch-1 output shape, found {shape}")
        shape[0] = KEEP_BATCH
        target = self.initializer(f"{name}.shape", np.array(shape, dtype=np.int64))
        raw = self.emit("Reshape", [self.activation(inputs[0]).name, target], name, name)
        self.finish(name, output, raw, tflite.ActivationFunctionType.NONE)

    def transpose(self, kind: str, inputs: list[int], output: int, options: Any) -> None:
        name = self.tensor_name(output)
        perm = [int(axis) for axis in self.constant(inputs[1])]
        if perm[0] != 0:
            raise ValueError(f"{kind} {name}: moving the batch axis is not supported")
        raw = self.emit("Transpose", [self.activation(inputs[0]).name], name, name, perm=perm)
        self.finish(name, output, raw, tflite.ActivationFunctionType.NONE)


def _last_operator(converter: _MixerConverter) -> tuple[str, int, int]:
    """The final operator's kind, input and output tensor indices."""
    graph = converter.graph
    op = graph.Operators(graph.OperatorsLength() - 1)
    code = converter.model.OperatorCodes(op.OpcodeIndex())
    kind = _OPERATOR_NAMES[max(code.BuiltinCode(), code.DeprecatedBuiltinCode())]
    return kind, int(op.InputsAsNumpy()[0]), int(op.OutputsAsNumpy()[0])


def build_model(data: bytes, *, fuse: bool = True) -> onnx.ModelProto:
    """The ONNX model; `fuse=False` keeps the operator-by-operator translation, for
    `make bench` to show what the fusions save."""
    model = tflite.Model.GetRootAsModel(data, 0)
    converter = _MixerConverter(model)
    graph = converter.graph
    if graph.InputsLength() != 1 or graph.OutputsLength() != 1:
        raise ValueError("expected one input (points) and one output (blendshapes)")
    points, coefficients = graph.Inputs(0), graph.Outputs(0)
    if converter.shape(points) != (1, NUM_POINTS, POINT_DIMS):
        raise ValueError(f"input has shape {converter.shape(points)}, not (1, 146, 2)")
    if converter.shape(coefficients) != (NUM_BLENDSHAPES,):
        raise ValueError(f"output has shape {converter.shape(coefficients)}, not (52,)")
    kind, batched, last = _last_operator(converter)
    if kind != "STRIDED_SLICE" or last != coefficients:
        raise ValueError("expected the graph to end in the slice that drops the batch axis")
    if converter.shape(batched) != (1, NUM_BLENDSHAPES):
        raise ValueError(f"the last slice's input has shape {converter.shape(batched)}")

    input_shape = [KEEP_BATCH, NUM_POINTS, POINT_DIMS]
    converter.activations[points] = _Activation(INPUT_NAME, tuple(input_shape))
    for position in range(graph.OperatorsLength() - 1):
        converter.convert_operator(graph.Operators(position))
    converter.emit("Identity", [converter.activation(batched).name], OUTPUT_NAME, OUTPUT_NAME)

    onnx_graph = helper.make_graph(
        converter.nodes,
        "face_blendshapes",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["N", NUM_POINTS, 2])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["N", NUM_BLENDSHAPES])],
        converter.initializers,
    )
    if fuse:
        rewrites = (
            fuse_layer_norms(onnx_graph, MIXER_RANK),
            drop_swap_transposes(onnx_graph),
            compute_read_tokens_only(onnx_graph),
        )
        if rewrites != EXPECTED_REWRITES:
            raise ValueError(
                "expected (layer norms, transposed MLPs, cut token mixings) ="
                f" {EXPECTED_REWRITES}, rewrote {rewrites}"
            )
    return finish_model(
        onnx_graph,
        PRODUCER,
        (
            "MediaPipe face blendshapes (Apache-2.0, Google), "
            f"{MEMBER} from face_landmarker.task (float16 v1, sha256 {BUNDLE_SHA256}), "
            f"sha256 {TFLITE_SHA256}. Input: (N, 146, 2) landmark x, y in pixels. "
            "Output: (N, 52) ARKit-style blendshape coefficients in [0, 1]."
        ),
        {
            "source_sha256": TFLITE_SHA256,
            "landmarks": " ".join(str(index) for index in BLENDSHAPE_LANDMARKS),
            "blendshapes": " ".join(BLENDSHAPE_NAMES),
        },
    )


def reference_model(bundle: Path | None = None) -> bytes:
    """The original TFLite model (for parity tests and studies)."""
    return read_member(bundle_path(bundle), MEMBER, TFLITE_SHA256)


def convert(out_dir: Path, bundle: Path | None = None) -> Path:
    model = build_model(reference_model(bundle))
    return write_model(model, out_dir / MODEL_FILENAME)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "models")
    parser.add_argument(
        "--bundle",
        type=Path,
        default=None,
        help="face_landmarker.task (default: $BURNOUT_TUI_DATA/models_upstream/)",
    )
    args = parser.parse_args()
    path = convert(args.out, args.bundle)
    print(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path}")


if __name__ == "__main__":
    main()
