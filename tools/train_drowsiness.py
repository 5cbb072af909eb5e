"""Train the drowsiness model (PyTorch, CPU) and export `models/drowsiness_blinks.onnx`.

Development time only: the app runs the exported file with ONNX Runtime
(`burnout_tui/runtime/drowsiness_model.py`). Data: the four UTA-RLDD blink folds under
$BURNOUT_TUI_DATA/drowsiness/uta_rldd_blinks/ (each fold a disjoint set of people). Run from
the repository root:

    PYTHONPATH=$PWD:/tmp/torchlib python -m tools.train_drowsiness [--select] [--no-export]

Model. Each blink's four normalised features are first mapped through the training
blinks' own quantiles (16 per feature, piecewise linear onto -1..1, flat outside): the
normalised frequency reaches the hundreds (a cumulative rate has a tiny spread in the
baseline) and its scale differs from fold to fold, which a rank-like transform, as in the
gradient-boosting baseline's binning, does not mind. The window is then summarised by
each feature's mean, spread and mean over the last 10 blinks and read by a 12-32-3
perceptron with a softmax. Recurrent and convolutional networks over the
30 blinks did no better on people they never saw (docs/drowsiness.md), and the summary
network has a tenth of their weights, so it is the one shipped.

Protocol. Choices (architecture, squash, epochs, class weights) were made on fold 4 as
the validation fold, training on folds 1-3 (`--select` reruns that comparison). Reported
are leave-one-fold-out results: for each fold, a network trained on the other three with
the chosen settings, scored on the held-out people; the baselines (majority, logistic
regression and gradient boosting on window means and spreads, `tools/drowsiness_baselines`)
get the same splits. The shipped network is the fold-4-out one, so
`python -m tools.eval_drowsiness .../blinks_fold4.npy .../labels_fold4.npy` scores it on
people its weights never saw (though fold 4 guided the choices).

Training: plain cross-entropy (weighting the classes by inverse frequency cost 1-3 points
of three-class accuracy on the validation fold for no gain elsewhere), AdamW, seeded and
single-threaded on the CPU, so a rerun gives the same weights and, through
tools/onnx_model.py, the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn

from burnout_tui.models_dir import models_dir
from burnout_tui.runtime.drowsiness_model import (
    EXPECTED_NAME,
    INPUT_NAME,
    MODEL_FILENAME,
    PROBABILITIES_NAME,
    DrowsinessModel,
)
from burnout_tui.signals.blinks import BLINK_FEATURES
from burnout_tui.signals.drowsiness import LEVEL_VALUES, LEVELS, WINDOW_BLINKS
from tools import drowsiness_baselines as baselines
from tools.eval_drowsiness import Scores, load_fold, scores
from tools.onnx_model import finish_model, write_model

FOLDS = (1, 2, 3, 4)
VALIDATION_FOLD = 4
DATA_SUBDIR = Path("drowsiness") / "uta_rldd_blinks"
SEED = 0
EPOCHS = 20
HIDDEN = 32
DROPOUT = 0.3
LEARNING_RATE = 3e-3
WEIGHT_DECAY = 1e-3
BATCH = 128
RECENT_BLINKS = 10
"""The last 10 blinks' mean joins the window's mean and spread: a change late in the
window (the person dozing off now) weighs more than the same change 30 blinks ago."""
QUANTILES = 16
"""Knots of each feature's input map; 16 and 32 did alike on the validation fold."""
PARITY_TOLERANCE = 1e-5
PRODUCER = "burnout-tui tools/train_drowsiness.py"

FloatArray = npt.NDArray[np.float64]
Fold = tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]


def data_dir() -> Path:
    root = os.environ.get("BURNOUT_TUI_DATA")
    if not root:
        raise SystemExit("set BURNOUT_TUI_DATA to the shared data folder")
    return Path(root) / DATA_SUBDIR


def load_folds(folder: Path) -> dict[int, Fold]:
    return {
        k: load_fold(folder / f"blinks_fold{k}.npy", folder / f"labels_fold{k}.npy") for k in FOLDS
    }


@dataclass(frozen=True, slots=True)
class QuantileMap:
    """Per feature: knots t_0 < … < t_m and the map onto -1..1 through them,
    u(x) = -1 + Σ_k slope_k · clip(x − t_k, 0, t_{k+1} − t_k), padded to QUANTILES − 1
    segments of slope 0 when a feature has repeated quantiles."""

    starts: npt.NDArray[np.float32]
    """(4, QUANTILES - 1) segment starts."""
    widths: npt.NDArray[np.float32]
    slopes: npt.NDArray[np.float32]


def quantile_map(windows: npt.NDArray[np.float32]) -> QuantileMap:
    blinks = windows.reshape(-1, len(BLINK_FEATURES)).astype(np.float64)
    segments = QUANTILES - 1
    starts = np.zeros((len(BLINK_FEATURES), segments))
    widths = np.zeros_like(starts)
    slopes = np.zeros_like(starts)
    for j in range(len(BLINK_FEATURES)):
        knots = np.unique(np.quantile(blinks[:, j], np.linspace(0.0, 1.0, QUANTILES)))
        step = 2.0 / max(len(knots) - 1, 1)
        count = len(knots) - 1
        starts[j, :count] = knots[:-1]
        starts[j, count:] = knots[-1]
        widths[j, :count] = np.diff(knots)
        slopes[j, :count] = step / np.diff(knots)
    return QuantileMap(
        starts.astype(np.float32), widths.astype(np.float32), slopes.astype(np.float32)
    )


class SummaryNet(nn.Module):
    """Quantile map → per-feature mean, spread, recent mean → 12-32-3 perceptron (logits)."""

    starts: torch.Tensor
    widths: torch.Tensor
    slopes: torch.Tensor

    def __init__(self, inputs: QuantileMap, hidden: int = HIDDEN, dropout: float = DROPOUT) -> None:
        super().__init__()
        features = len(BLINK_FEATURES)
        self.register_buffer("starts", torch.from_numpy(inputs.starts))
        self.register_buffer("widths", torch.from_numpy(inputs.widths))
        self.register_buffer("slopes", torch.from_numpy(inputs.slopes))
        self.hidden = nn.Linear(3 * features, hidden)
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, len(LEVELS))

    def squash(self, windows: torch.Tensor) -> torch.Tensor:
        shifted = windows.unsqueeze(-1) - self.starts
        inside = torch.minimum(torch.relu(shifted), self.widths)
        return torch.as_tensor((inside * self.slopes).sum(dim=-1) - 1.0)

    def summary(self, windows: torch.Tensor) -> torch.Tensor:
        squashed = self.squash(windows)
        return torch.cat(
            [
                squashed.mean(dim=1),
                squashed.std(dim=1),
                squashed[:, -RECENT_BLINKS:].mean(dim=1),
            ],
            dim=1,
        )

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        hidden = torch.relu(self.hidden(self.summary(windows)))
        return torch.as_tensor(self.out(self.dropout(hidden)))


def train_net(windows: npt.NDArray[np.float32], classes: npt.NDArray[np.int64]) -> SummaryNet:
    torch.manual_seed(SEED)
    net = SummaryNet(quantile_map(windows))
    loss_fn = nn.CrossEntropyLoss()
    optimiser = torch.optim.AdamW(net.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    x, y = torch.from_numpy(windows), torch.from_numpy(classes)
    for _ in range(EPOCHS):
        net.train()
        order = torch.randperm(len(y))
        for start in range(0, len(y), BATCH):
            batch = order[start : start + BATCH]
            optimiser.zero_grad()
            loss = loss_fn(net(x[batch]), y[batch])
            loss.backward()
            optimiser.step()
    net.eval()
    return net


def predict_torch(net: SummaryNet, windows: npt.NDArray[np.float32]) -> FloatArray:
    with torch.no_grad():
        return np.asarray(torch.softmax(net(torch.from_numpy(windows)), dim=1).numpy(), np.float64)


Method = Callable[
    [npt.NDArray[np.float32], npt.NDArray[np.int64], npt.NDArray[np.float32]], FloatArray
]


def _network(
    train: npt.NDArray[np.float32], labels: npt.NDArray[np.int64], test: npt.NDArray[np.float32]
) -> FloatArray:
    return predict_torch(train_net(train, labels), test)


METHODS: dict[str, Method] = {
    "majority class": lambda train, labels, test: baselines.majority(labels, len(test)),
    "logistic regression (means, spreads)": baselines.logistic_regression,
    "gradient boosting (means, spreads)": baselines.gradient_boosting,
    "ours (summary network)": _network,
}


@dataclass(frozen=True, slots=True)
class Row:
    method: str
    pooled: Scores
    folds: dict[int, Scores]


def split(folds: Mapping[int, Fold], held_out: int) -> tuple[Fold, Fold]:
    train = [folds[k] for k in FOLDS if k != held_out]
    windows = np.concatenate([w for w, _ in train])
    classes = np.concatenate([c for _, c in train])
    return (windows, classes), folds[held_out]


def leave_one_fold_out(folds: Mapping[int, Fold], names: Sequence[str]) -> list[Row]:
    rows = []
    for name in names:
        method = METHODS[name]
        per_fold, probabilities, truth = {}, [], []
        for k in FOLDS:
            (train, labels), (test, test_labels) = split(folds, k)
            p = method(train, labels, test)
            per_fold[k] = scores(p, test_labels)
            probabilities.append(p)
            truth.append(test_labels)
            print(
                f"  {name}, fold {k} held out: {per_fold[k].three_class:.3f} / "
                f"{per_fold[k].alert_vs_drowsy:.3f}",
                flush=True,
            )
        rows.append(
            Row(name, scores(np.concatenate(probabilities), np.concatenate(truth)), per_fold)
        )
    return rows


def table(rows: Sequence[Row]) -> str:
    head = (
        "| method | pooled 3-class | pooled alert-vs-drowsy | "
        + " | ".join(f"fold {k}" for k in FOLDS)
        + " |"
    )
    lines = [head, "|---" * (3 + len(FOLDS)) + "|"]
    for row in rows:
        cells = [
            f"{row.folds[k].three_class:.1%} / {row.folds[k].alert_vs_drowsy:.1%}" for k in FOLDS
        ]
        lines.append(
            f"| {row.method} | {row.pooled.three_class:.1%} | {row.pooled.alert_vs_drowsy:.1%} | "
            + " | ".join(cells)
            + " |"
        )
    return "\n".join(lines)


def _const(name: str, array: npt.ArrayLike, dtype: type = np.float32) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(array, dtype=dtype), name)


def build_onnx(net: SummaryNet, properties: Mapping[str, str]) -> onnx.ModelProto:
    """The graph of `net` in eval mode, node by node (no exporter: the file depends only on
    the weights and this function)."""
    state = {k: v.detach().numpy().astype(np.float32) for k, v in net.state_dict().items()}
    initializers = [
        _const("squash.starts", state["starts"]),
        _const("squash.widths", state["widths"]),
        _const("squash.slopes", state["slopes"]),
        _const("zero", 0.0),
        _const("one", 1.0),
        _const("axis.last", [-1], np.int64),
        _const("hidden.weight", state["hidden.weight"]),
        _const("hidden.bias", state["hidden.bias"]),
        _const("out.weight", state["out.weight"]),
        _const("out.bias", state["out.bias"]),
        _const("levels", LEVEL_VALUES),
        _const("bessel", 1.0 / (WINDOW_BLINKS - 1)),
        _const("axis.time", [1], np.int64),
        _const("recent.start", [WINDOW_BLINKS - RECENT_BLINKS], np.int64),
        _const("recent.end", [WINDOW_BLINKS], np.int64),
    ]
    node = helper.make_node
    nodes = [
        node("Unsqueeze", [INPUT_NAME, "axis.last"], ["blinks.col"], name="per_knot"),
        node("Sub", ["blinks.col", "squash.starts"], ["shifted"], name="shift"),
        node("Max", ["shifted", "zero"], ["above"], name="above"),
        node("Min", ["above", "squash.widths"], ["inside"], name="inside"),
        node("Mul", ["inside", "squash.slopes"], ["rises"], name="rises"),
        node("ReduceSum", ["rises", "axis.last"], ["rise"], keepdims=0, name="rise"),
        node("Sub", ["rise", "one"], ["squashed"], name="squash"),
        node("ReduceMean", ["squashed"], ["mean"], axes=[1], keepdims=0, name="mean"),
        node("ReduceMean", ["squashed"], ["mean.kept"], axes=[1], keepdims=1, name="mean_kept"),
        node("Sub", ["squashed", "mean.kept"], ["centred"], name="centre"),
        node("Mul", ["centred", "centred"], ["squares"], name="square"),
        node("ReduceSum", ["squares", "axis.time"], ["sum.squares"], keepdims=0, name="sum_sq"),
        node("Mul", ["sum.squares", "bessel"], ["variance"], name="variance"),
        node("Sqrt", ["variance"], ["spread"], name="spread"),
        node(
            "Slice",
            ["squashed", "recent.start", "recent.end", "axis.time"],
            ["recent.blinks"],
            name="recent",
        ),
        node("ReduceMean", ["recent.blinks"], ["recent"], axes=[1], keepdims=0, name="recent_mean"),
        node("Concat", ["mean", "spread", "recent"], ["summary"], axis=1, name="summary"),
        node("Gemm", ["summary", "hidden.weight", "hidden.bias"], ["pre"], transB=1, name="hidden"),
        node("Relu", ["pre"], ["hidden"], name="relu"),
        node("Gemm", ["hidden", "out.weight", "out.bias"], ["logits"], transB=1, name="out"),
        node("Softmax", ["logits"], [PROBABILITIES_NAME], axis=1, name="softmax"),
        node("MatMul", [PROBABILITIES_NAME, "levels"], [EXPECTED_NAME], name="expected"),
    ]
    graph = helper.make_graph(
        nodes,
        "drowsiness_blinks",
        [
            helper.make_tensor_value_info(
                INPUT_NAME, TensorProto.FLOAT, ["N", WINDOW_BLINKS, len(BLINK_FEATURES)]
            )
        ],
        [
            helper.make_tensor_value_info(
                PROBABILITIES_NAME, TensorProto.FLOAT, ["N", len(LEVELS)]
            ),
            helper.make_tensor_value_info(EXPECTED_NAME, TensorProto.FLOAT, ["N"]),
        ],
        initializer=initializers,
    )
    doc = (
        "Drowsiness level (alert, low vigilant, drowsy) of 30 consecutive blinks, each "
        "blink's frequency, amplitude, duration and eye-opening velocity normalised by the "
        "person's own baseline (UTA-RLDD features). Trained on UTA-RLDD folds 1-3."
    )
    return finish_model(graph, PRODUCER, doc, dict(sorted(properties.items())))


def select(folds: Mapping[int, Fold]) -> None:
    """The validation comparison the settings were chosen by: fold 4 held out."""
    (train, labels), (test, test_labels) = split(folds, VALIDATION_FOLD)
    for name, method in METHODS.items():
        result = scores(method(train, labels, test), test_labels)
        print(f"{name}: {result.three_class:.3f} / {result.alert_vs_drowsy:.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--select", action="store_true", help="validation comparison only")
    parser.add_argument("--no-export", action="store_true", help="evaluate, write no model")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    folds = load_folds(data_dir())
    if args.select:
        select(folds)
        return 0
    rows = leave_one_fold_out(folds, list(METHODS))
    print(table(rows))
    if args.json is not None:
        args.json.write_text(json.dumps([asdict(row) for row in rows], indent=1) + "\n")
    if args.no_export:
        return 0
    (train, labels), (test, test_labels) = split(folds, VALIDATION_FOLD)
    net = train_net(train, labels)
    ours = next(row for row in rows if row.method == "ours (summary network)")
    properties = {
        "levels": json.dumps(list(LEVELS)),
        "features": json.dumps(list(BLINK_FEATURES)),
        "window_blinks": str(WINDOW_BLINKS),
        "trained_on": "UTA-RLDD blink folds 1, 2, 3 (fold 4 held out)",
        "lofo_three_class": f"{ours.pooled.three_class:.4f}",
        "lofo_alert_vs_drowsy": f"{ours.pooled.alert_vs_drowsy:.4f}",
    }
    path = write_model(build_onnx(net, properties), models_dir() / MODEL_FILENAME)
    reference = predict_torch(net, test)
    onnx_probabilities = DrowsinessModel(path).predict(test)
    gap = float(np.abs(onnx_probabilities - reference).max())
    if gap > PARITY_TOLERANCE:
        print(f"ONNX and PyTorch differ by {gap:.2e}", file=sys.stderr)
        return 1
    held = scores(onnx_probabilities, test_labels)
    data = path.read_bytes()
    print(f"wrote {path}: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}")
    print(
        f"ONNX vs PyTorch max |Δp| {gap:.1e}; on fold 4: {held.three_class:.3f} / "
        f"{held.alert_vs_drowsy:.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
