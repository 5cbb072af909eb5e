"""Evaluate the forecaster on held-back clips: its MAE against persistence and an EMA.

Shared by `tools/train_forecaster.py` (which writes the numbers into the model's metadata
and models/README.md) and `make bench`. `main()` needs no cached sequences: it runs the
real pipeline over the clips the model says it never trained on (its `held_back_clips`
property), so the table also catches a pipeline change the model was not trained for.

Windows overlap (stride 1), so neighbouring samples are far from independent; the 95 %
interval of the MAE difference therefore comes from a moving-block bootstrap with blocks of
`BLOCK` consecutive samples, which keeps that dependence inside each block.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from burnout_tui.forecast.dataset import WINDOW, Samples, concat_samples, make_samples
from burnout_tui.forecast.finetune import mae
from burnout_tui.forecast.inputs import input_from_columns
from burnout_tui.forecast.model import Forecaster

BLOCK = WINDOW
"""Bootstrap block length in samples: windows further apart than one window share no
input frame, so dependence beyond a block is weak."""

BOOTSTRAP_ROUNDS = 2000
BOOTSTRAP_SEED = 0
CONFIDENCE = 0.95
POOLED = "all held-back"
DATA_ENV = "BURNOUT_TUI_DATA"
DEFAULT_DATA = Path("../shared/data")
"""Where `.ci/run` and `make bench` find the shared data, from the repository root."""

Arrays = Mapping[str, npt.NDArray[np.generic]]


@dataclass(frozen=True, slots=True)
class EvalRow:
    """One clip's (or the pooled) MAEs; `diff_*` bound MAE(model) − MAE(persistence) and
    `ema_diff_*` MAE(model) − MAE(EMA), each a 95 % block-bootstrap interval."""

    clip: str
    samples: int
    mae_model: float
    mae_persistence: float
    mae_ema: float
    diff_low: float
    diff_high: float
    ema_diff_low: float
    ema_diff_high: float

    @property
    def beats_persistence(self) -> bool:
        """Lower MAE than persistence with the whole 95 % interval below zero."""
        return self.diff_high < 0.0

    @property
    def beats_ema(self) -> bool:
        """Lower MAE than the EMA baseline with the whole 95 % interval below zero."""
        return self.ema_diff_high < 0.0

    def as_dict(self) -> dict[str, float | int | str]:
        return {
            "clip": self.clip,
            "samples": self.samples,
            "mae_model": round(self.mae_model, 5),
            "mae_persistence": round(self.mae_persistence, 5),
            "mae_ema": round(self.mae_ema, 5),
            "diff_low": round(self.diff_low, 5),
            "diff_high": round(self.diff_high, 5),
            "ema_diff_low": round(self.ema_diff_low, 5),
            "ema_diff_high": round(self.ema_diff_high, 5),
        }


def frame_inputs(arrays: Arrays) -> npt.NDArray[np.float32]:
    """Per-frame input vectors of one sequence file (`tools/make_sequences.py`'s arrays,
    whose fatigue cues are stored as `fatigue_<field>`)."""
    columns = {
        key.removeprefix("fatigue_"): np.asarray(value)
        for key, value in arrays.items()
        if key.startswith("fatigue_")
    }
    return input_from_columns(np.asarray(arrays["probs"]), columns)


def samples_from_arrays(arrays: Arrays, horizon_s: float, window: int = WINDOW) -> Samples:
    """Samples of one sequence file (`tools/make_sequences.py`'s arrays) for one horizon."""
    return make_samples(
        np.asarray(arrays["ts"]),
        frame_inputs(arrays),
        np.asarray(arrays["rolling_score"]),
        np.asarray(arrays["frame_score"]),
        window=window,
        horizon_s=horizon_s,
    )


def block_bootstrap_ci(
    errors: npt.NDArray[np.float64],
    block: int = BLOCK,
    rounds: int = BOOTSTRAP_ROUNDS,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float]:
    """95 % interval of the mean of a dependent series by the moving-block bootstrap."""
    n = errors.size
    if n == 0:
        return float("nan"), float("nan")
    block = max(1, min(block, n))
    rng = np.random.default_rng(seed)
    blocks = -(-n // block)
    starts = rng.integers(0, n - block + 1, size=(rounds, blocks))
    index = (starts[:, :, None] + np.arange(block)).reshape(rounds, -1)[:, :n]
    means = errors[index].mean(axis=1)
    tail = (1.0 - CONFIDENCE) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(low), float(high)


def _row(clip: str, predicted: npt.NDArray[np.float64], samples: Samples) -> EvalRow:
    target = samples.targets
    error = np.abs(predicted - target)
    low, high = block_bootstrap_ci(error - np.abs(samples.persistence - target))
    ema_low, ema_high = block_bootstrap_ci(error - np.abs(samples.ema - target))
    return EvalRow(
        clip=clip,
        samples=len(samples),
        mae_model=mae(predicted, target),
        mae_persistence=mae(samples.persistence, target),
        mae_ema=mae(samples.ema, target),
        diff_low=low,
        diff_high=high,
        ema_diff_low=ema_low,
        ema_diff_high=ema_high,
    )


def evaluate(model_path: Path | None, data: Mapping[str, Samples]) -> list[EvalRow]:
    """One row per clip (in the given order) with samples, then the pooled row.

    The pooled bootstrap resamples blocks across the clips laid end to end; a block that
    straddles two clips is harmless at these lengths.
    """
    forecaster = Forecaster(model_path)
    rows: list[EvalRow] = []
    pooled: list[Samples] = []
    predictions: list[npt.NDArray[np.float64]] = []
    for clip, samples in data.items():
        if len(samples) == 0:
            continue
        predicted = forecaster.predict(samples.windows).astype(np.float64)
        rows.append(_row(clip, predicted, samples))
        pooled.append(samples)
        predictions.append(predicted)
    if pooled:
        rows.append(_row(POOLED, np.concatenate(predictions), concat_samples(pooled)))
    return rows


def format_table(rows: Sequence[EvalRow]) -> str:
    """The rows as a Markdown table, as models/README.md shows them."""
    lines = [
        "| clip | windows | MAE LSTM | MAE persistence | MAE EMA "
        "| LSTM − persistence (95 % CI) | LSTM − EMA (95 % CI) |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        name = f"**{row.clip}**" if row.clip == POOLED else row.clip
        lines.append(
            f"| {name} | {row.samples} | {row.mae_model:.4f} | {row.mae_persistence:.4f} | "
            f"{row.mae_ema:.4f} | {row.mae_model - row.mae_persistence:+.4f} "
            f"({row.diff_low:+.4f} to {row.diff_high:+.4f}) | "
            f"{row.mae_model - row.mae_ema:+.4f} "
            f"({row.ema_diff_low:+.4f} to {row.ema_diff_high:+.4f}) |"
        )
    return "\n".join(lines)


def live_samples(data_dir: Path, clips: Sequence[str], horizon_s: float) -> dict[str, Samples]:
    """Run the real pipeline over each clip (unaugmented) and cut its samples."""
    from tools.make_sequences import augmentation, run_clip

    return {
        clip: samples_from_arrays(
            run_clip(data_dir / "videos" / f"{clip}.mp4", augmentation(clip, "original"), None),
            horizon_s,
        )
        for clip in clips
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="default: the shipped model")
    parser.add_argument("--data", type=Path, default=None, help=f"shared data (else ${DATA_ENV})")
    parser.add_argument("--clips", nargs="*", default=None, help="default: the model's held-back")
    args = parser.parse_args(argv)
    forecaster = Forecaster(args.model)
    meta = forecaster.metadata
    clips = args.clips or json.loads(meta.properties.get("held_back_clips", "[]"))
    if not clips:
        print("the model names no held-back clips; pass --clips", file=sys.stderr)
        return 2
    data_dir = args.data or Path(os.environ.get(DATA_ENV, DEFAULT_DATA))
    rows = evaluate(args.model, live_samples(data_dir, clips, meta.horizon_s))
    print(
        f"forecaster: {meta.horizon_s:g} s ahead, {meta.window}-frame windows, clips not "
        f"trained on; experimental: {'yes' if forecaster.experimental else 'no'}"
    )
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
