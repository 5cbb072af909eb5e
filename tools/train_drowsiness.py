"""Train the drowsiness model (PyTorch, CPU) and export `models/drowsiness_blinks.onnx`.

Development time only: the app runs the exported file with ONNX Runtime
(`burnout_tui/runtime/drowsiness_model.py`). Data: the four UTA-RLDD blink folds under
$BURNOUT_TUI_DATA/drowsiness/uta_rldd_blinks/ (each fold a disjoint set of people). Run from
the repository root:

    PYTHONPATH=$PWD:/tmp/torchlib python -m tools.train_drowsiness [--no-export] [--json F]

Model. Each blink's four normalised features are first mapped through the training
blinks' own quantiles (16 per feature, piecewise linear onto -1..1, flat outside): the
normalised frequency reaches the hundreds (a cumulative rate has a tiny spread in the
baseline) and its scale differs from fold to fold, which a rank-like transform, as in the
gradient-boosting baseline's binning, does not mind. The window is then summarised per
feature by seven statistics: the mean, the means of the last and of the first 10 blinks,
the trend (covariance with the blink's position), the median, the interquartile range and
the spread (optionally also the shares of blinks beyond the training quartiles), and read
by a perceptron with one hidden layer and a softmax. Recurrent and convolutional networks
over the 30 blinks did no better on people they never saw (docs/drowsiness.md).

Protocol: nested leave-one-fold-out. For each of the four folds, the `GRID` variant is
chosen by an inner leave-one-fold-out over the three training folds only (`choose`: train
on two, score on the third, pooled; the mean of the two accuracies decides), then trained
on all three and scored on the held-out people; the reported figures are of this whole
recipe, choice included. The baselines (majority, logistic regression and gradient boosting
on window means and spreads, `tools/drowsiness_baselines`) get the same outer splits. The
shipped network is the fold-4-out one (its variant chosen on folds 1-3), so
`python -m tools.eval_drowsiness .../blinks_fold4.npy .../labels_fold4.npy` scores it on
people that neither its weights nor its choice saw.

Training: plain cross-entropy (weighting the classes by inverse frequency did not help),
AdamW, seeded and single-threaded on the CPU, so a rerun gives the same weights and,
through tools/onnx_model.py, the same bytes.
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
SHARE_EDGE = 0.5
"""The shares variant counts, per feature, the window's blinks mapped above +0.5 or below
-0.5 (beyond the training blinks' upper or lower quartile: long blinks, slow reopenings)."""
RECENT_BLINKS = 10
"""The last 10 blinks' mean joins the window's mean and spread: a change late in the
window (the person dozing off now) weighs more than the same change 30 blinks ago."""
EARLY_BLINKS = 10
"""And the first 10 blinks' mean, so the network sees the window's change both ways."""
QUARTILES = (0.25, 0.75)
"""The interquartile range: a spread that a few odd blinks (a squint read as a blink)
move less than the standard deviation."""
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


def _time_rows() -> npt.NDArray[np.float32]:
    """(4, 30) weights over the window's blinks, oldest first: the window mean, the mean
    of its last `RECENT_BLINKS` and of its first `EARLY_BLINKS`, and the trend (the blinks'
    covariance with their standardised position)."""
    rows = np.zeros((4, WINDOW_BLINKS))
    rows[0] = 1.0 / WINDOW_BLINKS
    rows[1, -RECENT_BLINKS:] = 1.0 / RECENT_BLINKS
    rows[2, :EARLY_BLINKS] = 1.0 / EARLY_BLINKS
    position = np.arange(WINDOW_BLINKS, dtype=np.float64)
    rows[3] = (position - position.mean()) / position.std(ddof=1) / WINDOW_BLINKS
    return rows.astype(np.float32)


def _order_rows() -> npt.NDArray[np.float32]:
    """(2, 30) weights over the window's blinks sorted by value: the median and the
    interquartile range, each quantile linearly interpolated (as numpy's default)."""

    def quantile(q: float) -> npt.NDArray[np.float64]:
        at = q * (WINDOW_BLINKS - 1)
        low = int(np.floor(at))
        row = np.zeros(WINDOW_BLINKS)
        row[low] += 1.0 - (at - low)
        if low + 1 < WINDOW_BLINKS:
            row[low + 1] += at - low
        return row

    lower, upper = QUARTILES
    return np.stack([quantile(0.5), quantile(upper) - quantile(lower)]).astype(np.float32)


SUMMARY_STATISTICS = 7
"""Per feature: four linear statistics over time, two over the sorted blinks, the spread."""
SHARE_STATISTICS = 2


@dataclass(frozen=True, slots=True)
class Variant:
    """One configuration of the selection grid (`GRID`)."""

    name: str
    shares: bool = False
    """Add the shares of blinks beyond ±`SHARE_EDGE` per feature."""
    hidden: int = HIDDEN
    noise: float = 0.0
    """Training-time multiplicative jitter of the normalised features; 0: none."""


GRID: tuple[Variant, ...] = (
    Variant("summary"),
    Variant("summary, jitter 0.1", noise=0.1),
    Variant("summary + shares", shares=True),
    Variant("summary, 64 hidden", hidden=64),
)
"""The configurations one split's inner validation chooses among (`choose`)."""


class SummaryNet(nn.Module):
    """Quantile map → per-feature summary (mean, recent and early mean, trend, median,
    interquartile range, spread; optionally the shares beyond ±`SHARE_EDGE`) → a perceptron
    with one hidden layer (logits)."""

    starts: torch.Tensor
    widths: torch.Tensor
    slopes: torch.Tensor
    time_rows: torch.Tensor
    order_rows: torch.Tensor

    def __init__(self, inputs: QuantileMap, variant: Variant = GRID[0]) -> None:
        super().__init__()
        features = len(BLINK_FEATURES)
        self.shares = variant.shares
        statistics = SUMMARY_STATISTICS + (SHARE_STATISTICS if variant.shares else 0)
        self.register_buffer("starts", torch.from_numpy(inputs.starts))
        self.register_buffer("widths", torch.from_numpy(inputs.widths))
        self.register_buffer("slopes", torch.from_numpy(inputs.slopes))
        self.register_buffer("time_rows", torch.from_numpy(_time_rows()))
        self.register_buffer("order_rows", torch.from_numpy(_order_rows()))
        self.hidden = nn.Linear(statistics * features, variant.hidden)
        self.dropout = nn.Dropout(DROPOUT)
        self.out = nn.Linear(variant.hidden, len(LEVELS))

    def squash(self, windows: torch.Tensor) -> torch.Tensor:
        shifted = windows.unsqueeze(-1) - self.starts
        inside = torch.minimum(torch.relu(shifted), self.widths)
        return torch.as_tensor((inside * self.slopes).sum(dim=-1) - 1.0)

    def summary(self, windows: torch.Tensor) -> torch.Tensor:
        squashed = self.squash(windows)
        over_time = torch.matmul(self.time_rows, squashed)
        over_order = torch.matmul(self.order_rows, torch.sort(squashed, dim=1).values)
        parts = [over_time.flatten(1), over_order.flatten(1), squashed.std(dim=1)]
        if self.shares:
            parts += [
                (squashed > SHARE_EDGE).float().mean(dim=1),
                (squashed < -SHARE_EDGE).float().mean(dim=1),
            ]
        return torch.cat(parts, dim=1)

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        hidden = torch.relu(self.hidden(self.summary(windows)))
        return torch.as_tensor(self.out(self.dropout(hidden)))


def train_net(
    windows: npt.NDArray[np.float32], classes: npt.NDArray[np.int64], variant: Variant
) -> SummaryNet:
    torch.manual_seed(SEED)
    net = SummaryNet(quantile_map(windows), variant)
    loss_fn = nn.CrossEntropyLoss()
    optimiser = torch.optim.AdamW(net.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    x, y = torch.from_numpy(windows), torch.from_numpy(classes)
    for _ in range(EPOCHS):
        net.train()
        order = torch.randperm(len(y))
        for start in range(0, len(y), BATCH):
            batch = order[start : start + BATCH]
            inputs = x[batch]
            if variant.noise > 0.0:
                # Multiplicative jitter: each normalised feature moves by `noise` of its own
                # size (of at most 3 spreads), as a person's baseline might.
                jitter = torch.randn_like(inputs) * inputs.abs().clamp_max(3.0)
                inputs = inputs + variant.noise * jitter
            optimiser.zero_grad()
            loss = loss_fn(net(inputs), y[batch])
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


METHODS: dict[str, Method] = {
    "majority class": lambda train, labels, test: baselines.majority(labels, len(test)),
    "logistic regression (means, spreads)": baselines.logistic_regression,
    "gradient boosting (means, spreads)": baselines.gradient_boosting,
}
OURS = "ours (summary network, variant chosen per split)"


def criterion(result: Scores) -> float:
    """What the inner validation maximises: the mean of the two accuracies."""
    return 0.5 * (result.three_class + result.alert_vs_drowsy)


def choose(folds: Mapping[int, Fold], training: Sequence[int]) -> tuple[Variant, dict[str, Scores]]:
    """The `GRID` variant with the best inner leave-one-fold-out score over the `training`
    folds only (train on all but one of them, score on that one, pooled): the held-out
    fold of the outer split plays no part."""
    inner: dict[str, Scores] = {}
    for variant in GRID:
        probabilities, truth = [], []
        for validation in training:
            rest = [folds[k] for k in training if k != validation]
            windows = np.concatenate([w for w, _ in rest])
            classes = np.concatenate([c for _, c in rest])
            net = train_net(windows, classes, variant)
            probabilities.append(predict_torch(net, folds[validation][0]))
            truth.append(folds[validation][1])
        inner[variant.name] = scores(np.concatenate(probabilities), np.concatenate(truth))
        print(
            f"    inner {training}, {variant.name}: {inner[variant.name].three_class:.3f} / "
            f"{inner[variant.name].alert_vs_drowsy:.3f}",
            flush=True,
        )
    best = max(GRID, key=lambda variant: criterion(inner[variant.name]))
    return best, inner


def nested(folds: Mapping[int, Fold]) -> tuple[Row, dict[int, Variant], dict[int, SummaryNet]]:
    """Leave-one-fold-out of the whole recipe, the variant choice included."""
    per_fold, probabilities, truth = {}, [], []
    chosen: dict[int, Variant] = {}
    nets: dict[int, SummaryNet] = {}
    for k in FOLDS:
        (train, labels), (test, test_labels) = split(folds, k)
        chosen[k], _ = choose(folds, [j for j in FOLDS if j != k])
        nets[k] = train_net(train, labels, chosen[k])
        p = predict_torch(nets[k], test)
        per_fold[k] = scores(p, test_labels)
        probabilities.append(p)
        truth.append(test_labels)
        print(
            f"  {OURS}, fold {k} held out ({chosen[k].name}): {per_fold[k].three_class:.3f} / "
            f"{per_fold[k].alert_vs_drowsy:.3f}",
            flush=True,
        )
    pooled = scores(np.concatenate(probabilities), np.concatenate(truth))
    return Row(OURS, pooled, per_fold), chosen, nets


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
        _const("time.rows", state["time_rows"]),
        _const("order.rows", state["order_rows"]),
        _const("window.blinks", [WINDOW_BLINKS], np.int64),
        _const("flat", [0, -1], np.int64),
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
        node("MatMul", ["time.rows", "squashed"], ["over.time"], name="over_time"),
        node("Reshape", ["over.time", "flat"], ["time.stats"], name="time_stats"),
        node(
            "TopK",
            ["squashed", "window.blinks"],
            ["sorted", "sorted.at"],
            axis=1,
            largest=0,
            sorted=1,
            name="sort",
        ),
        node("MatMul", ["order.rows", "sorted"], ["over.order"], name="over_order"),
        node("Reshape", ["over.order", "flat"], ["order.stats"], name="order_stats"),
        node("ReduceMean", ["squashed"], ["mean.kept"], axes=[1], keepdims=1, name="mean_kept"),
        node("Sub", ["squashed", "mean.kept"], ["centred"], name="centre"),
        node("Mul", ["centred", "centred"], ["squares"], name="square"),
        node("ReduceSum", ["squares", "axis.time"], ["sum.squares"], keepdims=0, name="sum_sq"),
        node("Mul", ["sum.squares", "bessel"], ["variance"], name="variance"),
        node("Sqrt", ["variance"], ["spread"], name="spread"),
    ]
    parts = ["time.stats", "order.stats", "spread"]
    if net.shares:
        initializers += [_const("edge.high", SHARE_EDGE), _const("edge.low", -SHARE_EDGE)]
        nodes += [
            node("Greater", ["squashed", "edge.high"], ["is.high"], name="is_high"),
            node("Cast", ["is.high"], ["high.flags"], to=TensorProto.FLOAT, name="high_flags"),
            node("ReduceMean", ["high.flags"], ["high"], axes=[1], keepdims=0, name="high"),
            node("Less", ["squashed", "edge.low"], ["is.low"], name="is_low"),
            node("Cast", ["is.low"], ["low.flags"], to=TensorProto.FLOAT, name="low_flags"),
            node("ReduceMean", ["low.flags"], ["low"], axes=[1], keepdims=0, name="low"),
        ]
        parts += ["high", "low"]
    nodes += [
        node("Concat", parts, ["summary"], axis=1, name="summary"),
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-export", action="store_true", help="evaluate, write no model")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    folds = load_folds(data_dir())
    ours, chosen, nets = nested(folds)
    rows = [*leave_one_fold_out(folds, list(METHODS)), ours]
    print(table(rows))
    print("chosen per split: " + ", ".join(f"fold {k} out: {v.name}" for k, v in chosen.items()))
    if args.json is not None:
        results = {
            "rows": [asdict(row) for row in rows],
            "chosen": {k: asdict(v) for k, v in chosen.items()},
        }
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    if args.no_export:
        return 0
    (_, _), (test, test_labels) = split(folds, VALIDATION_FOLD)
    net = nets[VALIDATION_FOLD]
    properties = {
        "levels": json.dumps(list(LEVELS)),
        "features": json.dumps(list(BLINK_FEATURES)),
        "window_blinks": str(WINDOW_BLINKS),
        "trained_on": "UTA-RLDD blink folds 1, 2, 3 (fold 4 held out)",
        "variant": chosen[VALIDATION_FOLD].name,
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
