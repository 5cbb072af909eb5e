"""The reliability diagram of both emotion models and our training curve, as PNGs in docs/.

    R=docs/emotion-model
    python -m tools.emotion_eval models/emotion_ours_v1.onnx --out $R/ours-publictest.json
    python -m tools.emotion_eval models/emotion_minixception.onnx \
        --out $R/minixception-publictest.json
    python -m tools.emotion_plots

Reads those two JSON files and `docs/emotion-model/curve.json` (written by
tools/train_emotion.py); matplotlib is a development dependency only.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

REPORT_DIR = Path(__file__).resolve().parent.parent / "docs" / "emotion-model"
DPI = 110


def _load(path: Path) -> Any:
    if not path.exists():
        raise SystemExit(f"missing {path}: see this module's docstring for the commands")
    return json.loads(path.read_text())


def _reliability(axis: Any, rows: list[dict[str, float]], label: str, ece: float) -> None:
    points = [(row["confidence"], row["accuracy"]) for row in rows if row["count"]]
    axis.plot(*zip(*points, strict=True), marker="o", label=f"{label} (ECE {ece:.3f})")


def reliability_plot(folder: Path, out: Path) -> None:
    ours = _load(folder / "ours-publictest.json")
    mini = _load(folder / "minixception-publictest.json")
    figure, axis = plt.subplots(figsize=(5.5, 5.0))
    axis.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfect calibration")
    _reliability(axis, mini["plain"]["reliability"], "mini-Xception", mini["plain"]["ece"])
    before = ours["before_temperature"]
    _reliability(axis, before["reliability"], "ours, before T", before["ece"])
    plain = ours["plain"]
    _reliability(axis, plain["reliability"], f"ours, T = {ours['temperature']:.2f}", plain["ece"])
    axis.set_xlabel("confidence (top-label probability), 15 equal-width bins")
    axis.set_ylabel("accuracy in bin")
    axis.set_title("FER2013 PublicTest (3,589 images): reliability")
    axis.set_xlim(0, 1)
    axis.set_ylim(0, 1)
    axis.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    figure.savefig(out, dpi=DPI, metadata={"Software": None})
    plt.close(figure)


def curve_plot(folder: Path, out: Path) -> None:
    rows = _load(folder / "curve.json")
    epochs = [row["epoch"] for row in rows]
    figure, (loss_axis, acc_axis) = plt.subplots(1, 2, figsize=(9.0, 3.6))
    loss_axis.plot(epochs, [row["train_loss"] for row in rows], label="train (smoothed CE)")
    loss_axis.plot(epochs, [row["val_nll"] for row in rows], label="validation NLL")
    loss_axis.set_xlabel("epoch")
    loss_axis.set_ylabel("loss")
    loss_axis.legend(fontsize=8)
    acc_axis.plot(epochs, [row["train_acc"] for row in rows], label="train (augmented)")
    acc_axis.plot(epochs, [row["val_acc"] for row in rows], label="validation")
    acc_axis.set_xlabel("epoch")
    acc_axis.set_ylabel("accuracy")
    acc_axis.legend(fontsize=8)
    figure.suptitle("emotion_ours_v1: training curve (validation = 10 % of train)")
    figure.tight_layout()
    figure.savefig(out, dpi=DPI, metadata={"Software": None})
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=REPORT_DIR)
    args = parser.parse_args(argv)
    reliability_plot(args.folder, args.folder.parent / "emotion-calibration.png")
    curve_plot(args.folder, args.folder.parent / "emotion-training-curve.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
