"""Convert the `mtcnn` 1.0.0 package's P-Net, R-Net and O-Net to `models/mtcnn_*.onnx`.

mtcnn 1.0 keeps each network's Keras weights as a joblib/lz4 list in the order its layers
are declared (`mtcnn/network/*.py`). The package is located with `importlib.util.find_spec`
and never imported, because importing it imports TensorFlow; its weight files are pinned
by sha256, so a different upstream file fails loudly instead of becoming a different model.
The graphs are written with the `onnx` helper API, so no converter pulls TensorFlow in.

Every model takes NCHW float32 RGB, normalised as mtcnn does: (pixel - 127.5) / 128.
- `mtcnn_pnet.onnx`: `image` (N, 3, H, W), any H, W >= 12 -> `bbox_reg` (N, 4, H', W')
  and `bbox_class` (N, 2, H', W'), a softmax over axis 1 (index 1 = face), one cell per
  12-pixel window at stride 2: H' = ceil(H / 2) - 5.
- `mtcnn_rnet.onnx`: `image` (N, 3, 24, 24) -> `bbox_reg` (N, 4), `bbox_class` (N, 2).
- `mtcnn_onet.onnx`: `image` (N, 3, 48, 48) -> `bbox_reg` (N, 4), `landmarks` (N, 10:
  five x then five y, as fractions of the box) and `bbox_class` (N, 2).

Keras flattens R-Net's and O-Net's last feature map after a Permute to (W, H, C); the rows
of the first dense kernel are reordered here to ONNX's (C, H, W) flatten order instead of
adding transposes to the graph.

The output is byte-identical on every run: fixed producer, IR version, opset and node
names, no timestamps.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

from tools.onnx_model import finish_model, write_model

Array = npt.NDArray[Any]

MTCNN_VERSION = "1.0.0"
WEIGHTS_SHA256 = {
    "pnet": "ea6b0c3e685ebee3165326ad6484acc95f2ef78f1c94fbf40a55704fa989f7b5",
    "rnet": "cb00e6460f3c98b0bfafaba3c0a0ded4bdf6e62cee7174d969e8670d7e757fee",
    "onet": "94f6ea2f4cf985275ee958cdd762d17b6009348a4fb9d8c6be39ba73ffd22ca3",
}
"""sha256 of `mtcnn/assets/weights/<net>.lz4` in mtcnn 1.0.0."""

MODEL_FILENAMES = {net: f"mtcnn_{net}.onnx" for net in WEIGHTS_SHA256}
INPUT_NAME = "image"
COLOR_CHANNELS = 3
RNET_SIZE = 24
ONET_SIZE = 48
PRODUCER = "burnout-tui tools.convert_mtcnn"
PROVENANCE = (
    f"MTCNN (Zhang, Zhang, Li, Qiao 2016; original weights MIT, Kaipeng Zhang) as shipped "
    f"in mtcnn=={MTCNN_VERSION} (MIT, Ivan de Paz Centeno). Input: NCHW float32 RGB, "
    "(x - 127.5) / 128."
)
REPO_ROOT = Path(__file__).resolve().parent.parent


def weights_dir() -> Path:
    """The installed package's weight folder, found without importing the package."""
    installed = importlib.metadata.version("mtcnn")
    if installed != MTCNN_VERSION:
        raise RuntimeError(f"mtcnn {installed} is installed, the converter needs {MTCNN_VERSION}")
    spec = importlib.util.find_spec("mtcnn")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the mtcnn package is not installed: pip install 'burnout-tui[convert]'")
    return Path(next(iter(spec.submodule_search_locations))) / "assets" / "weights"


def load_weights(net: str, folder: Path | None = None) -> list[Array]:
    path = (folder or weights_dir()) / f"{net}.lz4"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != WEIGHTS_SHA256[net]:
        raise ValueError(f"{path} has sha256 {digest}, expected {WEIGHTS_SHA256[net]}")
    return [np.asarray(w, dtype=np.float32) for w in joblib.load(path)]


class _Graph:
    """Consumes one network's Keras weight list in layer order while emitting ONNX nodes."""

    def __init__(self, weights: list[Array]) -> None:
        self._weights: Iterator[Array] = iter(weights)
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []

    def _take(self, shape: tuple[int, ...]) -> Array:
        weight = next(self._weights)
        if weight.shape != shape:
            raise ValueError(f"expected a weight of shape {shape}, found {weight.shape}")
        return weight

    def _constant(self, name: str, value: Array) -> str:
        self.initializers.append(numpy_helper.from_array(value.astype(np.float32), name))
        return name

    def _node(self, op: str, inputs: list[str], name: str, output: str | None, **attrs: Any) -> str:
        out = output or name
        self.nodes.append(helper.make_node(op, inputs, [out], name=name, **attrs))
        return out

    def conv(
        self, name: str, x: str, c_in: int, c_out: int, k: int, output: str | None = None
    ) -> str:
        kernel = self._take((k, k, c_in, c_out)).transpose(3, 2, 0, 1)
        bias = self._take((c_out,))
        inputs = [x, self._constant(f"{name}.weight", kernel), self._constant(f"{name}.bias", bias)]
        return self._node("Conv", inputs, name, output, kernel_shape=[k, k])

    def prelu(self, name: str, x: str, channels: int, spatial: bool = True) -> str:
        """Keras shares conv PReLU slopes over H and W; ONNX needs them shaped (C, 1, 1)."""
        alpha = self._take((1, 1, channels) if spatial else (channels,))
        slope = alpha.reshape((channels, 1, 1) if spatial else (channels,))
        return self._node("PRelu", [x, self._constant(f"{name}.slope", slope)], name, None)

    def max_pool(self, name: str, x: str, k: int, same: bool) -> str:
        """Keras 'same' pads the odd pixel at the end, which is ONNX's SAME_UPPER."""
        pad = "SAME_UPPER" if same else "VALID"
        return self._node(
            "MaxPool", [x], name, None, kernel_shape=[k, k], strides=[2, 2], auto_pad=pad
        )

    def flatten(self, name: str, x: str) -> str:
        return self._node("Flatten", [x], name, None, axis=1)

    def dense(
        self,
        name: str,
        x: str,
        n_in: int,
        n_out: int,
        keras_map: tuple[int, int, int] | None = None,
        output: str | None = None,
    ) -> str:
        """`keras_map` (C, H, W) marks the dense layer fed by Keras' permuted (W, H, C) flatten."""
        kernel = self._take((n_in, n_out))
        if keras_map is not None:
            channels, height, width = keras_map
            kernel = kernel.reshape(width, height, channels, n_out).transpose(2, 1, 0, 3)
            kernel = kernel.reshape(n_in, n_out)
        bias = self._take((n_out,))
        inputs = [x, self._constant(f"{name}.weight", kernel), self._constant(f"{name}.bias", bias)]
        return self._node("Gemm", inputs, name, output)

    def softmax(self, name: str, x: str, axis: int, output: str) -> str:
        return self._node("Softmax", [x], name, output, axis=axis)

    def finish(self) -> None:
        if next(self._weights, None) is not None:
            raise ValueError("weights left over: the layer list does not match the weight file")


def _pnet(g: _Graph) -> None:
    x = g.prelu("prelu1", g.conv("conv1", INPUT_NAME, COLOR_CHANNELS, 10, 3), 10)
    x = g.max_pool("maxpool1", x, 2, same=True)
    x = g.prelu("prelu2", g.conv("conv2", x, 10, 16, 3), 16)
    x = g.prelu("prelu3", g.conv("conv3", x, 16, 32, 3), 32)
    g.conv("conv4_1", x, 32, 4, 1, output="bbox_reg")
    g.softmax("softmax", g.conv("conv4_2", x, 32, 2, 1), axis=1, output="bbox_class")


def _rnet(g: _Graph) -> None:
    x = g.prelu("prelu1", g.conv("conv1", INPUT_NAME, COLOR_CHANNELS, 28, 3), 28)
    x = g.max_pool("maxpool1", x, 3, same=True)
    x = g.prelu("prelu2", g.conv("conv2", x, 28, 48, 3), 48)
    x = g.max_pool("maxpool2", x, 3, same=False)
    x = g.prelu("prelu3", g.conv("conv3", x, 48, 64, 2), 64)
    x = g.dense("fc4", g.flatten("flatten", x), 576, 128, keras_map=(64, 3, 3))
    x = g.prelu("prelu4", x, 128, spatial=False)
    g.dense("fc5_1", x, 128, 4, output="bbox_reg")
    g.softmax("softmax", g.dense("fc5_2", x, 128, 2), axis=1, output="bbox_class")


def _onet(g: _Graph) -> None:
    x = g.prelu("prelu1", g.conv("conv1", INPUT_NAME, COLOR_CHANNELS, 32, 3), 32)
    x = g.max_pool("maxpool1", x, 3, same=True)
    x = g.prelu("prelu2", g.conv("conv2", x, 32, 64, 3), 64)
    x = g.max_pool("maxpool2", x, 3, same=False)
    x = g.prelu("prelu3", g.conv("conv3", x, 64, 64, 3), 64)
    x = g.max_pool("maxpool3", x, 2, same=True)
    x = g.prelu("prelu4", g.conv("conv4", x, 64, 128, 2), 128)
    x = g.dense("fc5", g.flatten("flatten", x), 1152, 256, keras_map=(128, 3, 3))
    x = g.prelu("prelu5", x, 256, spatial=False)
    g.dense("fc6_1", x, 256, 4, output="bbox_reg")
    g.dense("fc6_2", x, 256, 10, output="landmarks")
    g.softmax("softmax", g.dense("fc6_3", x, 256, 2), axis=1, output="bbox_class")


Shape = list[str | int]
_NETWORKS: dict[str, tuple[Callable[[_Graph], None], Shape, dict[str, Shape]]] = {
    "pnet": (
        _pnet,
        ["N", COLOR_CHANNELS, "H", "W"],
        {"bbox_reg": ["N", 4, "H_out", "W_out"], "bbox_class": ["N", 2, "H_out", "W_out"]},
    ),
    "rnet": (
        _rnet,
        ["N", COLOR_CHANNELS, RNET_SIZE, RNET_SIZE],
        {"bbox_reg": ["N", 4], "bbox_class": ["N", 2]},
    ),
    "onet": (
        _onet,
        ["N", COLOR_CHANNELS, ONET_SIZE, ONET_SIZE],
        {"bbox_reg": ["N", 4], "landmarks": ["N", 10], "bbox_class": ["N", 2]},
    ),
}


def build_model(net: str, weights: list[Array]) -> onnx.ModelProto:
    layers, input_shape, outputs = _NETWORKS[net]
    g = _Graph(weights)
    layers(g)
    g.finish()
    graph = helper.make_graph(
        g.nodes,
        f"mtcnn_{net}",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, input_shape)],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in outputs.items()],
        g.initializers,
    )
    return finish_model(
        graph, PRODUCER, f"{net.upper()} of {PROVENANCE}", {"source_sha256": WEIGHTS_SHA256[net]}
    )


def convert(out_dir: Path) -> list[Path]:
    folder = weights_dir()
    return [
        write_model(build_model(net, load_weights(net, folder)), out_dir / filename)
        for net, filename in MODEL_FILENAMES.items()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "models")
    args = parser.parse_args()
    for path in convert(args.out):
        print(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path}")


if __name__ == "__main__":
    main()
