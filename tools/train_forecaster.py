"""Train the burnout-score forecaster (PyTorch, CPU) and export `models/burnout_lstm.onnx`.

Development time only: the app runs the exported file with ONNX Runtime, and fine-tunes
its head with numpy (`burnout_tui/forecast/finetune.py`). Input: the per-frame arrays
`tools/make_sequences.py` saved from the real pipeline over the shared clips and their
augmented copies. Run from the repository root:

    python -m tools.make_sequences && python -m tools.train_forecaster

Data. The clips in HELD_BACK are never trained on, in any augmentation, and give the
evaluation. The number of epochs is chosen by leave-one-clip-out cross-validation over the
training clips (each fold leaves one person out, with all their augmented copies); the
shipped network is then trained on all training clips for that many epochs.

Model. One LSTM layer with 32 hidden units over the 30-frame window of standardised inputs,
and a linear head on its last hidden state giving a correction that is added to a fixed
baseline forecast, the EMA of the window's frame scores. 32 units (about 6,500 weights) is
as small as the task allows: the training set is about 14,000 heavily overlapping windows
from 6 people, so a larger or deeper network would mostly memorise the clips; the head also
has to stay small enough (33 parameters) for a user's few sessions to refit it.

Training. L1 loss, which is the MAE the model is judged by; Adam; the head starts at zero,
so training starts from the baseline exactly, and zero epochs (the baseline itself) is one
of the choices cross-validation can make. Seeded and single-threaded, so a rerun on the
same data gives the same weights and, through tools/onnx_model.py, the same bytes.

Outputs: the ONNX file, `models/burnout_lstm_check.npz` (fixed seeded windows and this
PyTorch model's outputs on them, for a torch-free parity test), and the evaluation table
on stdout, to be copied into models/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn

from burnout_tui import EMOTIONS
from burnout_tui.config import EmotionConfig, ScoringConfig
from burnout_tui.forecast.dataset import (
    EMA_ALPHA,
    HORIZON_S,
    WINDOW,
    Samples,
    concat_samples,
    make_samples,
    window_ema_weights,
)
from burnout_tui.forecast.finetune import fit_head, mae, read_head
from burnout_tui.forecast.inputs import FORECAST_FEATURES
from burnout_tui.forecast.model import (
    BASELINE_NAME,
    FORECAST_NAME,
    HEAD_BIAS,
    HEAD_WEIGHT,
    HIDDEN_NAME,
    INPUT_NAME,
    META_BEATS_PERSISTENCE,
    META_EMOTION_MODEL,
    META_FEATURES,
    META_HORIZON,
    META_SCORING,
    META_WINDOW,
    MODEL_FILENAME,
    Forecaster,
)
from burnout_tui.scoring.valence import frame_scores
from tools.forecast_eval import POOLED, evaluate, format_table, frame_inputs, samples_from_arrays
from tools.onnx_model import finish_model, write_model

HELD_BACK: tuple[str, ...] = ("liveportrait_d9", "liveportrait_d12")
"""Never trained on. d9 (587 frames, 30 frames/s) and d12 (183 frames, 25 frames/s): one clip
of each frame rate, together about a quarter of the frames, leaving d6, the longest and
most expressive clip, to training."""

HIDDEN = 32
SEED = 0
LEARNING_RATE = 1e-4
"""Small, because the useful signal is small and found within a few epochs: at 1e-3 the
left-out clips' error rose from the first epoch on, at 1e-4 it fell for 1-3 epochs (before
the fatigue cues existed, on emotion-only sequences, for 3)."""
BATCH = 256
MAX_EPOCHS = 30
"""Epochs tried in cross-validation; the left-out error has always turned up well before."""
MIN_STD = 1e-6
"""A feature with no spread in training (e.g. a cue the pipeline never set) is divided by 1:
it is constant, so any scale gives the same network, and 1 avoids dividing by ~0."""

EMA_GRID = (0.05, 0.1, 0.2, 0.3, 0.5)
RIDGE_GRID = (0.0, 0.001, 0.01, 0.1, 1.0, 10.0)
CHECK_WINDOWS = 8
CHECK_SEED = 1
PRODUCER = "burnout-tui tools.train_forecaster"
REPO_ROOT = Path(__file__).resolve().parent.parent
SEQUENCES_DIR = REPO_ROOT / ".cache" / "forecast_sequences"
"""Where `tools/make_sequences.py` writes (not imported from it: it loads the pipeline)."""
MODEL_OUT = REPO_ROOT / "models" / MODEL_FILENAME
CHECK_OUT = REPO_ROOT / "models" / "burnout_lstm_check.npz"
ORIGINAL = "original"

FloatArray = npt.NDArray[np.float32]
TORCH_GATES = ("i", "f", "g", "o")
ONNX_GATES = ("i", "o", "f", "g")
"""ONNX names the cell gate c; its order is input, output, forget, cell."""


@dataclass(frozen=True, slots=True)
class Track:
    clip: str
    augmentation: str
    arrays: dict[str, npt.NDArray[np.generic]]


def load_sequences(folder: Path, clips: Sequence[str] | None = None) -> list[Track]:
    found = []
    for path in sorted(folder.glob("*__*.npz")):
        clip, augmentation = path.stem.split("__", 1)
        if clips is not None and clip not in clips:
            continue
        with np.load(path) as data:
            arrays = {key: np.asarray(data[key]) for key in data.files if key != "meta"}
        found.append(Track(clip, augmentation, arrays))
    if not found:
        raise SystemExit(f"no sequences in {folder}: run `python -m tools.make_sequences` first")
    return found


def split_arrays(
    arrays: Mapping[str, npt.NDArray[np.generic]], fraction: float
) -> tuple[dict[str, npt.NDArray[np.generic]], dict[str, npt.NDArray[np.generic]]]:
    """The sequence cut in time: the first (1 − fraction) of its duration and the rest."""
    ts = np.asarray(arrays["ts"], np.float64)
    if ts.size == 0:
        return dict(arrays), dict(arrays)
    cut = ts[0] + (1.0 - fraction) * (ts[-1] - ts[0])
    early = ts < cut
    per_frame = {key for key, value in arrays.items() if value.shape[:1] == ts.shape}
    head = {k: (v[early] if k in per_frame else v) for k, v in arrays.items()}
    tail = {k: (v[~early] if k in per_frame else v) for k, v in arrays.items()}
    return head, tail


def standardisation(frames: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Per-feature mean and std over training frames, ignoring missing (NaN) cues.

    An all-NaN column (no fatigue cues at all) gets mean 0 and std 1; numpy's warning
    about it is silenced because that case is handled here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(frames.astype(np.float64), axis=0)
        std = np.nanstd(frames.astype(np.float64), axis=0)
    mean = np.where(np.isfinite(mean), mean, 0.0)
    std = np.where(np.isfinite(std) & (std > MIN_STD), std, 1.0)
    return mean.astype(np.float32), std.astype(np.float32)


def score_weights(scoring: ScoringConfig) -> FloatArray:
    """The S_t weight of each emotion: S_t of each one-hot probability vector."""
    return frame_scores(np.eye(len(EMOTIONS)), scoring).astype(np.float32)


class ForecastNet(nn.Module):
    """The network exactly as the ONNX graph computes it (see burnout_tui/forecast/model.py)."""

    mean: torch.Tensor
    std: torch.Tensor
    score_weights: torch.Tensor
    baseline_weights: torch.Tensor

    def __init__(
        self, mean: FloatArray, std: FloatArray, score_weights: FloatArray, hidden: int = HIDDEN
    ) -> None:
        super().__init__()
        self.lstm = nn.LSTM(len(FORECAST_FEATURES), hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)
        self.register_buffer("mean", torch.from_numpy(mean))
        self.register_buffer("std", torch.from_numpy(std))
        self.register_buffer("score_weights", torch.from_numpy(score_weights))
        ema_weights = window_ema_weights().astype(np.float32)
        self.register_buffer("baseline_weights", torch.from_numpy(ema_weights))

    def forward(self, window: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mean, std = self.mean, self.std
        filled = torch.where(torch.isnan(window), mean.expand_as(window), window)
        _, (h_n, _) = self.lstm((filled - mean) / std)
        hidden = h_n[-1]
        scores = window[..., : len(EMOTIONS)] @ self.score_weights
        baseline = scores @ self.baseline_weights
        return baseline + self.head(hidden).squeeze(-1), hidden, baseline


def _tensor(array: npt.ArrayLike) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))


def predict_torch(net: ForecastNet, windows: FloatArray) -> npt.NDArray[np.float64]:
    net.eval()
    with torch.no_grad():
        forecast: npt.NDArray[np.float64] = net(_tensor(windows))[0].double().numpy()
    return forecast


def new_net(frames: FloatArray, hidden: int) -> ForecastNet:
    """A fresh, seeded network standardising by `frames`' statistics."""
    torch.manual_seed(SEED)
    mean, std = standardisation(frames)
    return ForecastNet(mean, std, score_weights(ScoringConfig()), hidden=hidden)


def train(
    net: ForecastNet, train_set: Samples, epochs: int, val_set: Samples | None = None
) -> list[float]:
    """Train for `epochs` epochs; the validation MAE before training and after each epoch."""
    generator = torch.Generator().manual_seed(SEED)
    optimiser = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE)
    x, y = _tensor(train_set.windows), _tensor(train_set.targets)
    curve = []
    if val_set is not None:
        curve.append(mae(predict_torch(net, val_set.windows), val_set.targets))
    for _ in range(epochs):
        net.train()
        order = torch.randperm(len(y), generator=generator)
        for start in range(0, len(y), BATCH):
            batch = order[start : start + BATCH]
            optimiser.zero_grad()
            loss = torch.nn.functional.l1_loss(net(x[batch])[0], y[batch])
            loss.backward()  # type: ignore[no-untyped-call]
            optimiser.step()
        if val_set is not None:
            curve.append(mae(predict_torch(net, val_set.windows), val_set.targets))
    return curve


@dataclass(frozen=True, slots=True)
class Validation:
    """Leave-one-clip-out curves: pooled validation MAE after each epoch (index 0: untrained)."""

    curve: list[float]
    samples: int
    best_epoch: int

    @property
    def best_mae(self) -> float:
        return self.curve[self.best_epoch]


def cross_validate(tracks: Sequence[Track], hidden: int) -> Validation:
    """Train once per training clip with that clip (every augmentation) left out, and pool
    the left-out clips' errors per epoch.

    The forecaster is for people it has never seen, so the epoch count is chosen on people
    the network has not seen either: a split in time within the same clips rewards
    learning each person's usual level, which does not carry over to anyone else.
    """
    clips = sorted({t.clip for t in tracks})
    totals = np.zeros(MAX_EPOCHS + 1)
    count = 0
    for clip in clips:
        left_out = [_samples(t.arrays) for t in tracks if t.clip == clip]
        val_set = concat_samples(left_out)
        if len(val_set) == 0:
            continue
        rest = [t for t in tracks if t.clip != clip]
        train_set = concat_samples([_samples(t.arrays) for t in rest])
        net = new_net(np.concatenate([frame_inputs(t.arrays) for t in rest]), hidden)
        curve = train(net, train_set, MAX_EPOCHS, val_set)
        totals += np.asarray(curve) * len(val_set)
        count += len(val_set)
        print(f"  fold without {clip}: " + " ".join(f"{v:.4f}" for v in curve), flush=True)
    pooled = totals / count
    return Validation(
        curve=[float(v) for v in pooled], samples=count, best_epoch=int(pooled.argmin())
    )


def _gate_blocks(matrix: npt.NDArray[np.float32], hidden: int) -> dict[str, FloatArray]:
    return {gate: matrix[i * hidden : (i + 1) * hidden] for i, gate in enumerate(TORCH_GATES)}


def onnx_gate_order(matrix: npt.NDArray[np.float32], hidden: int) -> FloatArray:
    """Rows of a torch LSTM parameter (gates i, f, g, o) reordered to ONNX's i, o, f, c."""
    blocks = _gate_blocks(matrix, hidden)
    return np.concatenate([blocks[gate] for gate in ONNX_GATES]).astype(np.float32)


def _const(name: str, array: npt.ArrayLike, dtype: type = np.float32) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(array, dtype=dtype), name)


def build_onnx(net: ForecastNet, properties: Mapping[str, str]) -> onnx.ModelProto:
    """The ONNX graph of `net`, built node by node (no torch.onnx exporter, so the file
    depends only on the weights and this function)."""
    state = {k: v.detach().numpy().astype(np.float32) for k, v in net.state_dict().items()}
    hidden = net.lstm.hidden_size
    features = len(FORECAST_FEATURES)
    weight_ih = onnx_gate_order(state["lstm.weight_ih_l0"], hidden)[None]
    weight_hh = onnx_gate_order(state["lstm.weight_hh_l0"], hidden)[None]
    bias = np.concatenate(
        [
            onnx_gate_order(state["lstm.bias_ih_l0"], hidden),
            onnx_gate_order(state["lstm.bias_hh_l0"], hidden),
        ]
    )[None]
    initializers = [
        _const("input.mean", state["mean"]),
        _const("input.std", state["std"]),
        _const("score.weights", state["score_weights"]),
        _const("baseline.weights", state["baseline_weights"]),
        _const("lstm.W", weight_ih),
        _const("lstm.R", weight_hh),
        _const("lstm.B", bias),
        _const(HEAD_WEIGHT, state["head.weight"]),
        _const(HEAD_BIAS, state["head.bias"]),
        _const("axes.0", [0], np.int64),
        _const("shape.flat", [-1], np.int64),
        _const("probs.start", [0], np.int64),
        _const("probs.end", [len(EMOTIONS)], np.int64),
        _const("probs.axis", [2], np.int64),
    ]
    nodes = [
        helper.make_node("IsNaN", [INPUT_NAME], ["missing"], name="missing"),
        helper.make_node("Where", ["missing", "input.mean", INPUT_NAME], ["filled"], name="fill"),
        helper.make_node("Sub", ["filled", "input.mean"], ["centred"], name="centre"),
        helper.make_node("Div", ["centred", "input.std"], ["standardised"], name="scale"),
        helper.make_node("Transpose", ["standardised"], ["time_major"], perm=[1, 0, 2]),
        helper.make_node(
            "LSTM",
            ["time_major", "lstm.W", "lstm.R", "lstm.B"],
            ["", "lstm.h"],
            name="lstm",
            hidden_size=hidden,
        ),
        helper.make_node("Squeeze", ["lstm.h", "axes.0"], [HIDDEN_NAME], name="last_hidden"),
        helper.make_node(
            "Gemm", [HIDDEN_NAME, HEAD_WEIGHT, HEAD_BIAS], ["change.col"], name="head", transB=1
        ),
        helper.make_node("Reshape", ["change.col", "shape.flat"], ["change"], name="change"),
        helper.make_node(
            "Slice",
            [INPUT_NAME, "probs.start", "probs.end", "probs.axis"],
            ["probs"],
            name="probs",
        ),
        helper.make_node("MatMul", ["probs", "score.weights"], ["frame_scores"], name="s_t"),
        helper.make_node(
            "MatMul", ["frame_scores", "baseline.weights"], [BASELINE_NAME], name="window_ema"
        ),
        helper.make_node("Add", [BASELINE_NAME, "change"], [FORECAST_NAME], name="forecast"),
    ]
    graph = helper.make_graph(
        nodes,
        "burnout_lstm",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["N", WINDOW, features])],
        [
            helper.make_tensor_value_info(FORECAST_NAME, TensorProto.FLOAT, ["N"]),
            helper.make_tensor_value_info(HIDDEN_NAME, TensorProto.FLOAT, ["N", hidden]),
            helper.make_tensor_value_info(BASELINE_NAME, TensorProto.FLOAT, ["N"]),
        ],
        initializer=initializers,
    )
    doc = (
        f"Forecast of the 30-frame rolling burnout score {properties[META_HORIZON]} s ahead: "
        "an EMA of the window's frame scores plus an LSTM's learned correction. Input: raw "
        "per-frame vectors (emotion probabilities, fatigue cues; NaN = missing), "
        "standardised inside the graph."
    )
    return finish_model(graph, PRODUCER, doc, dict(sorted(properties.items())))


def check_windows(reference: Samples) -> FloatArray:
    """Fixed seeded windows for the parity file: real training windows (picked at seeded
    positions) with some fatigue cues blanked to NaN, so the fill step is covered too."""
    rng = np.random.default_rng(CHECK_SEED)
    picks = np.sort(rng.choice(len(reference), size=CHECK_WINDOWS, replace=False))
    windows = reference.windows[picks].copy()
    blank = rng.random(windows[..., len(EMOTIONS) :].shape) < 0.1
    windows[..., len(EMOTIONS) :][blank] = np.nan
    return windows


def ema_study(tracks: Sequence[Track]) -> dict[str, tuple[float, dict[float, float]]]:
    """Per clip: persistence's MAE, and the EMA baseline's for each smoothing constant."""
    results = {}
    for track in tracks:
        arrays = track.arrays
        by_alpha = {}
        persistence = float("nan")
        for alpha in EMA_GRID:
            s = make_samples(
                arrays["ts"],
                frame_inputs(arrays),
                arrays["rolling_score"],
                arrays["frame_score"],
                ema_alpha=alpha,
            )
            if len(s) == 0:
                break
            persistence = mae(s.persistence, s.targets)
            by_alpha[alpha] = mae(s.ema, s.targets)
        if by_alpha:
            results[track.clip] = (persistence, by_alpha)
    return results


def ridge_study(model: Path, held: Sequence[Track]) -> dict[float, tuple[float, float]]:
    """Fine-tuning as `burnout-tui train` would, on each held-back clip: the head refit on
    the first half of its duration, judged on the second. MAE (shipped, tuned) per alpha."""
    forecaster = Forecaster(model)
    prior = read_head(onnx.load(str(model)))
    halves = [split_arrays(track.arrays, 0.5) for track in held]
    fits = [(_samples(first), _samples(second)) for first, second in halves]
    out: dict[float, tuple[float, float]] = {}
    for alpha in RIDGE_GRID:
        shipped_errors, tuned_errors = [], []
        for fit, test in fits:
            _, hidden, baseline = forecaster.outputs(fit.windows)
            head = fit_head(hidden, fit.targets - baseline, prior=prior, alpha=alpha)
            forecast, test_hidden, test_baseline = forecaster.outputs(test.windows)
            tuned = test_baseline + head.apply(test_hidden)
            shipped_errors.append(np.abs(forecast - test.targets))
            tuned_errors.append(np.abs(tuned - test.targets))
        out[alpha] = (
            float(np.mean(np.concatenate(shipped_errors))),
            float(np.mean(np.concatenate(tuned_errors))),
        )
    return out


def _samples(arrays: Mapping[str, npt.NDArray[np.generic]]) -> Samples:
    return samples_from_arrays(arrays, HORIZON_S)


def _fatigue_seen(tracks: Sequence[Track]) -> bool:
    cues = np.concatenate([frame_inputs(t.arrays)[:, len(EMOTIONS) :] for t in tracks])
    return bool(np.isfinite(cues).any())


def _properties(
    training: Sequence[Track], validation: Validation, train_windows: int, hidden: int
) -> dict[str, str]:
    scoring = ScoringConfig()
    fatigue = _fatigue_seen(training)
    return {
        META_HORIZON: f"{HORIZON_S:g}",
        META_WINDOW: str(WINDOW),
        META_FEATURES: json.dumps(list(FORECAST_FEATURES)),
        META_SCORING: json.dumps(
            {"alpha": scoring.alpha, "beta": scoring.beta, "gamma": scoring.gamma}, sort_keys=True
        ),
        META_BEATS_PERSISTENCE: "false",
        META_EMOTION_MODEL: EmotionConfig().model,
        "baseline": f"EMA of the window's frame scores, alpha {EMA_ALPHA:g}",
        "hidden_size": str(hidden),
        "training_clips": json.dumps(sorted({t.clip for t in training})),
        "held_back_clips": json.dumps(sorted(HELD_BACK)),
        "augmentations": json.dumps(sorted({t.augmentation for t in training})),
        "fatigue_inputs": "true" if fatigue else "false: all missing, provisional model",
        "training": json.dumps(
            {
                "seed": SEED,
                "epochs": validation.best_epoch,
                "learning_rate": LEARNING_RATE,
                "train_windows": train_windows,
                "cv_mae_untrained": round(validation.curve[0], 5),
                "cv_mae_best": round(validation.best_mae, 5),
            },
            sort_keys=True,
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequences", type=Path, default=SEQUENCES_DIR)
    parser.add_argument("--out", type=Path, default=MODEL_OUT)
    parser.add_argument("--check", type=Path, default=CHECK_OUT)
    parser.add_argument("--hidden", type=int, default=HIDDEN)
    parser.add_argument("--augmentations", nargs="*", default=None, help="default: all found")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    started = time.perf_counter()

    sequences = [
        t
        for t in load_sequences(args.sequences)
        if args.augmentations is None or t.augmentation in args.augmentations
    ]
    training = [t for t in sequences if t.clip not in HELD_BACK]
    held_tracks = [t for t in sequences if t.clip in HELD_BACK and t.augmentation == ORIGINAL]
    held = {t.clip: _samples(t.arrays) for t in held_tracks}
    held_augmented = {
        f"{t.clip}/{t.augmentation}": _samples(t.arrays)
        for t in sequences
        if t.clip in HELD_BACK and t.augmentation != ORIGINAL
    }
    train_set = concat_samples([_samples(t.arrays) for t in training])
    print(f"training clips {sorted({t.clip for t in training})}")
    print(f"augmentations {sorted({t.augmentation for t in training})}")
    print(
        f"windows: train {len(train_set)}, held-back {sum(len(v) for v in held.values())}; "
        f"fatigue cues present: {_fatigue_seen(training)}"
    )
    print("EMA baseline vs persistence on the training clips (originals), MAE:")
    for clip, (persistence, by_alpha) in ema_study(
        [t for t in training if t.augmentation == ORIGINAL]
    ).items():
        grid = "  ".join(f"a={alpha:g}: {value:.4f}" for alpha, value in by_alpha.items())
        print(f"  {clip:22s} persistence {persistence:.4f}  EMA {grid}")

    print("leave-one-clip-out validation MAE per epoch (epoch 0: the untrained baseline):")
    validation = cross_validate(training, args.hidden)
    print(
        f"  pooled over {validation.samples} windows: "
        + " ".join(f"{v:.4f}" for v in validation.curve)
    )
    print(f"  best: {validation.best_epoch} epochs, MAE {validation.best_mae:.4f}")

    net = new_net(np.concatenate([frame_inputs(t.arrays) for t in training]), args.hidden)
    train(net, train_set, validation.best_epoch)
    properties = _properties(training, validation, len(train_set), args.hidden)
    # Evaluate through the ONNX file itself, then write it again with the verdict.
    write_model(build_onnx(net, properties), args.out)
    rows = evaluate(args.out, held)
    pooled = next(row for row in rows if row.clip == POOLED)
    properties[META_BEATS_PERSISTENCE] = "true" if pooled.beats_persistence else "false"
    properties["beats_ema"] = "true" if pooled.beats_ema else "false"
    properties["evaluation"] = json.dumps([row.as_dict() for row in rows], sort_keys=True)
    write_model(build_onnx(net, properties), args.out)
    seconds = time.perf_counter() - started

    windows = check_windows(train_set)
    with torch.no_grad():
        forecast_t, hidden_t, _ = (t.numpy() for t in net.eval()(_tensor(windows)))
    np.savez(args.check, windows=windows, forecast=forecast_t, hidden=hidden_t)
    forecaster = Forecaster(args.out)
    onnx_forecast, onnx_hidden, _ = forecaster.outputs(windows)
    held_all = concat_samples(list(held.values()))
    torch_held = predict_torch(net, held_all.windows)
    onnx_held = forecaster.predict(held_all.windows)

    print(f"\nheld-back clips {list(HELD_BACK)} (originals), H = {HORIZON_S:g} s:")
    print(format_table(rows))
    if held_augmented:
        print("\nheld-back clips, augmented copies (robustness):")
        print(format_table(evaluate(args.out, held_augmented)))
    print(
        f"\nbeats persistence: {properties[META_BEATS_PERSISTENCE]}; "
        f"beats EMA: {properties['beats_ema']}"
    )
    print(
        f"parity ONNX vs PyTorch, max |difference|: check windows forecast "
        f"{np.abs(onnx_forecast - forecast_t).max():.2e}, hidden "
        f"{np.abs(onnx_hidden - hidden_t).max():.2e}; held-back windows forecast "
        f"{np.abs(onnx_held - torch_held).max():.2e}"
    )
    print(
        "\nfine-tune study (head refit on the first half of each held-back clip, "
        "judged on the second): MAE shipped / tuned"
    )
    for alpha, (shipped, tuned) in ridge_study(args.out, held_tracks).items():
        print(f"  ridge alpha {alpha:g}: {shipped:.4f} / {tuned:.4f}")
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    print(f"\n{args.out.name}: sha256 {digest}, {args.out.stat().st_size:,} bytes")
    print(f"training and evaluation took {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
