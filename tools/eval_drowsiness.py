"""Score the drowsiness model on any fold in the UTA-RLDD blink dataset's format.

    python -m tools.eval_drowsiness BLINKS.npy LABELS.npy [--model PATH] [--json]

BLINKS.npy holds (N, 30, 4) windows of 30 consecutive blinks × [frequency, amplitude,
duration, eye-opening velocity], each normalised by the person's alert-state mean and
spread; LABELS.npy (N, 1) or (N,) the levels 0 (alert), 5 (low vigilant), 10 (drowsy). The
model runs on ONNX Runtime only (no PyTorch), exactly as in the app. Printed:

- three-class accuracy: the most probable level is the label;
- alert-vs-drowsy accuracy: of the alert and drowsy windows (low vigilant ones left out),
  the share whose expected level (Σ p · {0, 5, 10}) falls on the label's side of low
  vigilant's 5: below 5 for alert, above for drowsy.

Bad input (a missing file, a wrong shape, labels other than 0/5/10) is one line on stderr
and exit status 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from burnout_tui.errors import UserError
from burnout_tui.signals.blinks import BLINK_FEATURES
from burnout_tui.signals.drowsiness import LEVEL_VALUES, LEVELS, MIDDLE_LEVEL, WINDOW_BLINKS

ALERT, LOW_VIGILANT, DROWSY = range(3)


class FoldError(UserError):
    """A fold's files cannot be read as blink windows and their labels."""


@dataclass(frozen=True, slots=True)
class Scores:
    windows: int
    three_class: float
    alert_vs_drowsy: float
    """NaN when the fold holds no alert or drowsy window."""
    per_level: dict[str, int]


def _load(path: Path, what: str) -> npt.NDArray[np.float64]:
    if not path.is_file():
        raise FoldError(f"{what} file {path} does not exist")
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise FoldError(f"{what} file {path} is not a NumPy .npy array: {error}") from None
    if not np.issubdtype(array.dtype, np.number):
        raise FoldError(f"{what} file {path} holds {array.dtype}, not numbers")
    return np.asarray(array, dtype=np.float64)


def load_fold(
    blinks_path: Path, labels_path: Path
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    """(N, 30, 4) windows and (N,) class indices 0/1/2, or a FoldError saying what is wrong."""
    windows = _load(blinks_path, "blinks")
    labels = _load(labels_path, "labels")
    expected = (WINDOW_BLINKS, len(BLINK_FEATURES))
    if windows.ndim != 3 or windows.shape[1:] != expected or windows.shape[0] == 0:
        raise FoldError(
            f"blinks file {blinks_path} has shape {windows.shape}; expected (N, "
            f"{WINDOW_BLINKS}, {len(BLINK_FEATURES)}) windows of {WINDOW_BLINKS} blinks × "
            f"{', '.join(BLINK_FEATURES)}"
        )
    if not np.isfinite(windows).all():
        raise FoldError(f"blinks file {blinks_path} holds NaN or infinite values")
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1 or len(labels) != len(windows):
        raise FoldError(
            f"labels file {labels_path} has shape {labels.shape}; expected ({len(windows)}, 1) "
            "or "
            f"({len(windows)},), one label per window"
        )
    index = {value: i for i, value in enumerate(LEVEL_VALUES)}
    unknown = sorted({float(v) for v in labels} - set(index))
    if unknown:
        raise FoldError(
            f"labels file {labels_path} holds {unknown[:5]}; labels are 0 (alert), "
            "5 (low vigilant) or 10 (drowsy)"
        )
    classes = np.array([index[float(v)] for v in labels], dtype=np.int64)
    return windows.astype(np.float32), classes


def scores(probabilities: npt.ArrayLike, classes: npt.ArrayLike) -> Scores:
    """Three-class and alert-vs-drowsy accuracy of (N, 3) probabilities against classes."""
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(classes, dtype=np.int64)
    expected = p @ np.asarray(LEVEL_VALUES)
    ends = y != LOW_VIGILANT
    right_side = np.where(
        y[ends] == ALERT, expected[ends] < MIDDLE_LEVEL, expected[ends] > MIDDLE_LEVEL
    )
    counts = np.bincount(y, minlength=len(LEVEL_VALUES))
    return Scores(
        windows=len(y),
        three_class=float((p.argmax(axis=1) == y).mean()),
        alert_vs_drowsy=float(right_side.mean()) if ends.any() else float("nan"),
        per_level={name: int(n) for name, n in zip(LEVELS, counts, strict=True)},
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("blinks", type=Path, help="(N, 30, 4) blink windows, .npy")
    parser.add_argument("labels", type=Path, help="(N, 1) levels 0 / 5 / 10, .npy")
    parser.add_argument("--model", type=Path, default=None, help="ONNX file [default: shipped]")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    from burnout_tui.runtime.drowsiness_model import MODEL_FILENAME, DrowsinessModel

    try:
        windows, classes = load_fold(args.blinks, args.labels)
        model = DrowsinessModel(args.model or MODEL_FILENAME)
    except UserError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    result = scores(model.predict(windows), classes)
    if args.json:
        print(json.dumps(asdict(result)))
    else:
        print(f"windows          {result.windows} ({result.per_level})")
        print(f"three-class      {result.three_class:.1%}")
        print(f"alert-vs-drowsy  {result.alert_vs_drowsy:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
