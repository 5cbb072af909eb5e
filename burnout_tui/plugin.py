"""The public API for analysis plugins: everything a third-party report needs, nothing more.

A plugin is an installed package that names a module in the `burnout_tui.plugins`
entry-point group. That module defines `reports() -> list[Report]`. Each Report declares
its options once (they become click flags, `--help` text and JSON keys), and a `run`
function that receives a read-only DuckDB connection and returns a table plus any files
it wrote. The built-in reports (`plugins/` in the repository) use exactly this API, and an
import-linter contract (pyproject.toml) keeps them from importing anything else of
burnout_tui, so whatever they do a third party can do too. The API (docs/plugins.md):

- Declaring a report: `Report`, `Option`, `ReportContext`, `ReportResult`, `ReportError`,
  `VIEWS` (the stable views to query), `ENTRY_POINT_GROUP`.
- The scoring the monitor shows: `EMOTIONS` (the emotion models' classes, in their output
  order), `EMOTION_MODELS` (the models' names, as `v_sessions.emotion_model` stores them,
  and `ReportContext.emotion_model`, the one the user chose), `final_percent` (a
  session's stress proxy from its frame scores' mean and volatility),
  `ReportContext.scoring` (the scoring settings the user chose), and the
  types `Config` and `ScoringConfig`.
- Re-running the vision stage on images: `FaceAnalysis(model)` (face detection, the
  aligned crop the emotion model sees, the model's probabilities with its last feature
  map, and its forward pass from a model input), `Face` (one detected face) and
  `emotion_class_layer(model)` (the weights of the layer that turns that feature map into
  the class scores, `ClassLayer`), enough for Grad-CAM or saliency maps, for either model.

This module imports nothing heavy, so listing plugins and `--help` stay fast: OpenCV, ONNX
Runtime and the `onnx` package load only when a `FaceAnalysis` is made or the class layer
read, and `Config`, `ScoringConfig` and `Face` are looked up on first use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from burnout_tui import EMOTIONS
from burnout_tui.emotion_models import (
    DEFAULT_EMOTION_MODEL,
    EMOTION_MODEL_NAMES,
    EmotionModelSpec,
    emotion_model,
)
from burnout_tui.errors import UserError
from burnout_tui.folders import make_private_dirs

if TYPE_CHECKING:
    import duckdb
    import numpy as np
    import numpy.typing as npt

    from burnout_tui.config import Config as Config
    from burnout_tui.config import ScoringConfig as ScoringConfig
    from burnout_tui.vision.detector import FaceDetector
    from burnout_tui.vision.emotion import EmotionClassifier
    from burnout_tui.vision.face import Face as Face

    ImageArray = npt.NDArray[np.uint8]
    FloatArray = npt.NDArray[np.float32]

ENTRY_POINT_GROUP = "burnout_tui.plugins"

OptionType = Literal["str", "int", "float", "flag", "path", "choice"]

EMOTION_MODELS: tuple[str, ...] = EMOTION_MODEL_NAMES
"""The emotion models a report can name (`[emotion] model`, `v_sessions.emotion_model`)."""

VIEWS: tuple[str, ...] = (
    "v_sessions",
    "v_frames",
    "v_surveys",
    "v_session_metrics",
    "v_markers",
    "v_heart",
)
"""Documented, stable views a report should query instead of the raw tables. `v_heart`
(the camera heart rate per track per second, NULL `bpm` when withheld) is empty for
sessions recorded without the pulse stage."""


class ReportError(UserError):
    """A report could not run on this input; the message is one line for the user."""


@dataclass(frozen=True, slots=True)
class Option:
    """One report option, declared once and rendered as `--name` on the command line.

    `name` uses dashes (`min-n`); the run function sees it with underscores (`min_n`).
    """

    name: str
    help: str
    type: OptionType = "str"
    default: Any = None
    choices: tuple[str, ...] = ()
    required: bool = False

    @property
    def key(self) -> str:
        return self.name.replace("-", "_")


@dataclass(frozen=True, slots=True)
class ReportContext:
    """What a report's run function is given.

    `con` is read-only: a database file opened with `read_only=True`, or an in-memory
    database whose views read Parquet exports. Both are sealed: DuckDB reads no other file,
    URL or extension through it (write files with Python, under `out_dir`; name Python
    tables with `con.register`, as implicit scans of variables are off), and a thread
    of the report's own takes `burnout_tui.store.store_cursor(con)`, not `con.cursor()`.
    `out_dir` is where files may be written (the current directory unless the user chose
    one).
    """

    con: duckdb.DuckDBPyConnection
    options: Mapping[str, Any]
    out_dir: Path
    config: Config | None = None
    """The configuration the user chose (`--config`); None when run outside the CLI, in
    which case `scoring` falls back to the usual config lookup."""

    @property
    def scoring(self) -> ScoringConfig:
        """The scoring settings the user chose (`--config`), else the usual config lookup:
        what `final_percent` needs to give the figure the monitor showed."""
        from burnout_tui.config import load_config

        return (self.config or load_config()).scoring

    @property
    def emotion_model(self) -> str:
        """The emotion model the user chose (`[emotion] model` of `--config`, else the usual
        config lookup): what a report that runs the model should run."""
        from burnout_tui.config import load_config

        return (self.config or load_config()).emotion.model

    def output_path(self, value: str | Path) -> Path:
        """Where to write a file the user named in an option (e.g. `--plot`): relative to
        `out_dir` (an absolute path stays as given), its missing folders created 0700 like
        `--out`'s, so a report never fails on, or leaves world-readable, a new folder."""
        path = self.out_dir / Path(value).expanduser()
        try:
            make_private_dirs(path.parent)
        except OSError as error:
            raise ReportError(f"cannot create folder {path.parent}: {error.strerror}") from None
        return path


@dataclass(frozen=True, slots=True)
class ReportResult:
    """A table (column names and rows), any files written, and notes such as warnings."""

    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]
    files: Sequence[Path] = ()
    notes: Sequence[str] = ()
    text: str = ""
    """Optional preformatted text (e.g. a terminal chart) shown above the table."""
    data: Mapping[str, Any] = field(default_factory=dict)
    """Extra machine-readable results included in `--json` output."""


@dataclass(frozen=True, slots=True)
class Report:
    name: str
    help: str
    run: Callable[[ReportContext], ReportResult]
    options: tuple[Option, ...] = ()
    needs_database: bool = True
    """False for reports that read files only (Grad-CAM on an image): no database is opened."""
    replaces_database: tuple[str, ...] = ()
    """Option keys that, when given, stand in for the database (correlation's `csv`): the
    report then gets an empty in-memory database and works where no database exists."""


def final_percent(mean_score: float, volatility: float, scoring: ScoringConfig) -> float:
    """A session's stress proxy in percent, as the monitor and `analyze` report it, from the
    mean and the population variance of its frames' `frame_score` (`mean_score` and
    `volatility` in `v_session_metrics`) and the scoring settings (`ReportContext.scoring`)."""
    from burnout_tui.scoring import final_percent as scoring_final_percent

    return scoring_final_percent(mean_score, volatility, scoring)


@dataclass(frozen=True, slots=True)
class ClassLayer:
    """The emotion model's class layer: the one node with weights after its last feature map.

    Two heads are linear in the feature map, so either keeps Grad-CAM exact:

    - `op_type` "Conv" (the mini-Xception): the layer reads the feature map itself;
      `weights` (classes, channels, kh, kw), `attributes` its ONNX attributes (`pads`,
      `strides`, ...), `followers` the operator types reading its output (a global average
      pooling for a linear head), `pooled` False.
    - `op_type` "Gemm" (ours-v1): the feature map is averaged over its cells first
      (`pooled` True) and the layer maps those channel means to the logits; `weights`
      (classes, channels) as the logits' coefficients (a transposed weight already undone,
      Gemm's alpha and beta applied), `followers` the operator types after it.

    `bias` is (classes,). Both as float64, classes in EMOTIONS order. `temperature` is the
    divisor between the layer and the softmax (1.0 for none): probabilities are the
    softmax of layer output / temperature. `model` names the `[emotion] model`.
    """

    model_file: str
    op_type: str
    weights: npt.NDArray[np.float64]
    bias: npt.NDArray[np.float64]
    attributes: Mapping[str, Any]
    followers: tuple[str, ...]
    model: str = DEFAULT_EMOTION_MODEL
    pooled: bool = False
    temperature: float = 1.0


_POOLS = ("GlobalAveragePool", "ReduceMean")
"""Operators that average the feature map over its cells (ReduceMean over axes 2, 3)."""
_RESHAPES = ("Flatten", "Reshape", "Squeeze")
"""Operators between the pooling and the linear layer that only drop the 1x1 axes."""
_SCALES = ("Div", "Mul")
"""A scalar temperature between the linear layer and the softmax."""


def emotion_class_layer(model: str | None = None) -> ClassLayer:
    """Read the class layer from an emotion model's ONNX file (ONNX Runtime does not expose
    weights); `model` is an `[emotion] model` name, None for the default model. Raises
    ReportError without the `onnx` package, for an unknown model, or when the graph after
    the feature map is neither a convolution nor pooling then one linear layer."""
    try:
        import numpy as np
        import onnx
        from onnx import numpy_helper
    except ImportError as error:
        raise ReportError(
            "reading the emotion model needs the onnx package: pip install onnx"
        ) from error
    from burnout_tui.models_dir import model_path

    spec = _spec(model)
    graph = onnx.load(str(model_path(spec.filename))).graph
    tensors = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    tensors.update(_constants(graph))

    def readers(name: str) -> list[Any]:
        return [n for n in graph.node if name in n.input]

    def refuse() -> ReportError:
        return ReportError(
            f"{spec.filename}: expected one layer with weights reading "
            f"{spec.features_name!r}, directly or after global average pooling"
        )

    first = readers(spec.features_name)
    if len(first) != 1:
        raise refuse()
    (node,) = first
    pooled = node.op_type in _POOLS
    if node.op_type == "ReduceMean" and not _averages_cells(node, tensors):
        raise refuse()
    if pooled:
        node = _after_reshapes(node, readers)
        if node is None or node.op_type != "Gemm":
            raise refuse()
    if not _has_weight_and_bias(node.input[1:], tensors):
        raise refuse()
    attributes = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    weights = np.asarray(tensors[node.input[1]], dtype=np.float64)
    bias = np.asarray(tensors[node.input[2]], dtype=np.float64)
    if node.op_type == "Gemm":
        if attributes.get("transA", 0):
            raise refuse()
        weights = weights if attributes.get("transB", 0) else weights.T
        weights = weights * float(attributes.get("alpha", 1.0))
        bias = bias * float(attributes.get("beta", 1.0))
    followers = tuple(n.op_type for n in readers(node.output[0]))
    return ClassLayer(
        model_file=spec.filename,
        op_type=node.op_type,
        weights=weights,
        bias=bias,
        attributes=attributes,
        followers=followers,
        model=spec.name,
        pooled=pooled,
        temperature=_temperature(node.output[0], readers, tensors),
    )


def _spec(model: str | None) -> EmotionModelSpec:
    try:
        return emotion_model(DEFAULT_EMOTION_MODEL if model is None else model)
    except ValueError as error:
        raise ReportError(str(error)) from None


def _constants(graph: Any) -> dict[str, Any]:
    """Outputs of Constant nodes, which a scalar such as a temperature may be instead of an
    initializer."""
    from onnx import numpy_helper

    found = {}
    for node in graph.node:
        if node.op_type == "Constant":
            for attribute in node.attribute:
                if attribute.name == "value":
                    found[node.output[0]] = numpy_helper.to_array(attribute.t)
    return found


def _after_reshapes(pool: Any, readers: Callable[[str], list[Any]]) -> Any:
    """The one node reading the pooled map once any flatten or squeeze is passed, or None."""
    node = pool
    while True:
        following = readers(node.output[0])
        if len(following) != 1:
            return None
        node = following[0]
        if node.op_type not in _RESHAPES:
            return node


def _temperature(
    logits: str, readers: Callable[[str], list[Any]], tensors: Mapping[str, Any]
) -> float:
    """The scalar the logits are divided by (or 1 / the one they are multiplied by) before
    the softmax; 1.0 when the softmax reads the layer directly."""
    following = readers(logits)
    if len(following) != 1 or following[0].op_type not in _SCALES:
        return 1.0
    (node,) = following
    other = node.input[1]
    if node.input[0] != logits or other not in tensors or tensors[other].size != 1:
        return 1.0
    value = float(tensors[other].reshape(()))
    return value if node.op_type == "Div" else 1.0 / value


def _averages_cells(node: Any, tensors: Mapping[str, Any]) -> bool:
    """A ReduceMean over exactly the two spatial axes (attribute up to opset 17, input
    from 18)."""
    import onnx

    axes: list[int] = []
    for attribute in node.attribute:
        if attribute.name == "axes":
            axes = list(onnx.helper.get_attribute_value(attribute))
    if len(node.input) > 1 and node.input[1] in tensors:
        axes = [int(axis) for axis in tensors[node.input[1]].reshape(-1)]
    return sorted(axes) in ([2, 3], [-2, -1])


def _has_weight_and_bias(inputs: Sequence[str], tensors: Mapping[str, Any]) -> bool:
    return len(inputs) >= 2 and inputs[0] in tensors and inputs[1] in tensors


class FaceAnalysis:
    """The monitor's face detector and emotion model, for reports that work on images.

    Making one loads OpenCV, ONNX Runtime and four networks; make one per run, not per frame.
    Every step is the one the monitor runs, so a report sees what the monitor saw. `model`
    is an `[emotion] model` name (None: the default model; `ReportContext.emotion_model`
    is the one the user chose). It never mirrors (`[emotion] flip`): what it returns is one
    forward pass, so the probabilities are exactly the class layer on the features.
    """

    def __init__(self, model: str | None = None) -> None:
        from burnout_tui.vision.detector import FaceDetector
        from burnout_tui.vision.emotion import EmotionClassifier

        spec = _spec(model)
        self.model: str = spec.name
        """The emotion model's name."""
        self.gray_level: float = spec.gray_level
        """One gray level of a pixel in model-input units (e.g. a finite-difference step)."""
        self._detector: FaceDetector = FaceDetector()
        self._classifier: EmotionClassifier = EmotionClassifier(model=spec.name)

    def detect(self, frame_bgr: ImageArray) -> list[Face]:
        """Every face in a BGR uint8 frame, as the monitor's detector finds them."""
        return self._detector.detect(frame_bgr)

    def aligned_crop(self, frame_bgr: ImageArray, face: Face) -> ImageArray:
        """The face as the emotion model sees it: eyes levelled, framed like its training
        faces, a BGR square (gray-converted by `model_input`)."""
        from burnout_tui.vision.align import aligned_crop

        return aligned_crop(frame_bgr, face, gray=False)

    def model_input(self, crops: Sequence[ImageArray]) -> FloatArray:
        """(N, 1, H, W) float32: the crops preprocessed exactly as the model's input."""
        return self._classifier.preprocess(crops)

    def emotions(self, crops: Sequence[ImageArray]) -> tuple[FloatArray, FloatArray]:
        """(N, classes) probabilities in EMOTIONS order and the (N, channels, h, w) last
        feature map (the class layer's input), from one model run."""
        return self._classifier.predict_with_features(crops)

    def features(self, model_input: FloatArray) -> FloatArray:
        """The last feature map of a (N, 1, H, W) model input (e.g. perturbed copies of
        `model_input`'s), one model run for the whole batch."""
        import numpy as np

        spec = self._classifier.spec
        (out,) = self._classifier.session.run([spec.features_name], {spec.input_name: model_input})
        return np.asarray(out, dtype=np.float32)


_LAZY: dict[str, tuple[str, str]] = {
    "Config": ("burnout_tui.config", "Config"),
    "Face": ("burnout_tui.vision.face", "Face"),
    "ScoringConfig": ("burnout_tui.config", "ScoringConfig"),
}
"""Public types defined elsewhere, imported on first use so this module stays light."""


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    home, attribute = _LAZY[name]
    value = getattr(import_module(home), attribute)
    globals()[name] = value
    return value


__all__ = [
    "EMOTIONS",
    "EMOTION_MODELS",
    "ENTRY_POINT_GROUP",
    "VIEWS",
    "ClassLayer",
    "Config",
    "Face",
    "FaceAnalysis",
    "Option",
    "Report",
    "ReportContext",
    "ReportError",
    "ReportResult",
    "ScoringConfig",
    "emotion_class_layer",
    "final_percent",
]
