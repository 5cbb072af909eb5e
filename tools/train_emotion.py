"""Train our 7-class FER2013 emotion network (PyTorch, CPU) and export `emotion_ours_v1.onnx`.

Development time only: the app runs the exported file with ONNX Runtime and never imports
torch. Run from the repository root (PyTorch on the path, FER2013 under BURNOUT_TUI_DATA):

    PYTHONPATH=$PWD:/tmp/torchlib python -m tools.train_emotion

Data. `fer2013/train.npz`; 10 % of it, stratified and chosen by image id
(tools/emotion_split.py), is the validation split: it picks the epoch and fits the
temperature. PublicTest is evaluated once, on the exported ONNX file, at the very end.

Model. A VGG-style network of four blocks of two 3x3 convolutions with batch normalisation
and ReLU, widths w, 2w, 4w, 8w, 2x2 max-pool between blocks (48 -> 24 -> 12 -> 6); the last
block's output is the `features` map, followed only by global average pooling, one linear
layer, the temperature and a softmax, so class activation maps are exact. Dropout before the
linear layer acts in training only. Width 16 is what the shared CPU could train within the
session and keeps ONNX Runtime well under the speed budget (docs/emotion-model.md).

Training. SGD with Nesterov momentum, one-cycle learning rate, label smoothing, batch 128,
bfloat16 autocast (the CPU's AMX units, about twice fp32's speed), one thread; every batch
is augmented by one random affine warp per image (rotation, zoom, shift, horizontal flip)
and a brightness/contrast jitter, drawn from a seeded generator. A checkpoint is written after
every epoch; `--resume` continues from it. Seeded and deterministic on a given machine and
thread count, so a rerun gives the same weights and, through tools/emotion_onnx.py, the
same bytes (docs/emotion-model.md says what was checked).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F
from torch import nn

from burnout_tui import EMOTIONS
from tools.emotion_eval import evaluate_session, flip_tta, open_session, ours_logits
from tools.emotion_metrics import nll, softmax, summary
from tools.emotion_onnx import INPUT_SIZE, ConvBN, EmotionWeights, build_model
from tools.emotion_split import SPLIT_SEED, VALIDATION_FRACTION, validation_mask
from tools.onnx_model import write_model

REPO_ROOT = Path(__file__).resolve().parent.parent
MODEL_OUT = REPO_ROOT / "models" / "emotion_ours_v1.onnx"
REPORT_DIR = REPO_ROOT / "docs" / "emotion-model"
WORK_DIR = REPO_ROOT / ".cache" / "emotion_train"
CHECKPOINT = "last.pt"

SEED = 13
WIDTH = 16
EPOCHS = 20
BATCH = 128
MAX_LR = 0.1
WEIGHT_DECAY = 5e-4
MOMENTUM = 0.9
LABEL_SMOOTHING = 0.1
DROPOUT = 0.3
THREADS = 1
"""On the shared 2-core machine one thread trained 8x more images per CPU-second than two
(docs/emotion-model.md); the thread count is part of what makes a rerun byte-identical."""
RUN_FLAGS = ("resume", "export_now", "out", "report")
"""Arguments that may differ between a checkpoint's run and the run that continues it."""
EVAL_BATCH = 512

ROTATION_DEG = 10.0
ZOOM = 0.1
"""Scale drawn in [1 - ZOOM, 1 + ZOOM]."""
SHIFT = 0.125
"""Translation in normalised coordinates (+-3 px of 48)."""
CONTRAST = 0.2
BRIGHTNESS = 0.1

FloatArray = npt.NDArray[np.float32]


def load_fer(path: Path) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64], list[str]]:
    with np.load(path) as data:
        classes = [str(name) for name in data["classes"]]
        if tuple(classes) != EMOTIONS:
            raise SystemExit(f"{path}: classes {classes} are not EMOTIONS {EMOTIONS}")
        return (
            np.asarray(data["images"], np.uint8),
            np.asarray(data["labels"], np.int64),
            [str(image_id) for image_id in data["ids"]],
        )


def data_dir() -> Path:
    root = os.environ.get("BURNOUT_TUI_DATA")
    if not root:
        raise SystemExit("set BURNOUT_TUI_DATA to the shared data folder (fer2013/ inside)")
    return Path(root) / "fer2013"


class EmotionNet(nn.Module):
    def __init__(self, width: int = WIDTH, pixel_mean: float = 0.5, pixel_std: float = 0.25):
        super().__init__()
        self.pixel_mean = pixel_mean
        self.pixel_std = pixel_std
        layers: list[nn.Module] = []
        channels = 1
        widths = (width, 2 * width, 4 * width, 8 * width)
        for block, out in enumerate(widths):
            for _ in range(2):
                layers += [
                    nn.Conv2d(channels, out, 3, padding=1, bias=False),
                    nn.BatchNorm2d(out),
                    nn.ReLU(inplace=True),
                ]
                channels = out
            if block < len(widths) - 1:
                layers.append(nn.MaxPool2d(2))
        self.body = nn.Sequential(*layers)
        self.dropout = nn.Dropout(DROPOUT)
        self.classifier = nn.Linear(channels, len(EMOTIONS))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.body((x - self.pixel_mean) / self.pixel_std)
        return self.classifier(self.dropout(features.mean(dim=(2, 3))))


def augment(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One random affine warp and brightness/contrast change per image of (N,1,48,48)."""
    n = batch.shape[0]

    def uniform(low: float, high: float) -> torch.Tensor:
        return low + (high - low) * torch.rand(n, generator=generator)

    angle = torch.deg2rad(uniform(-ROTATION_DEG, ROTATION_DEG))
    scale = uniform(1 - ZOOM, 1 + ZOOM)
    flip = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0)
    shift_x, shift_y = uniform(-SHIFT, SHIFT), uniform(-SHIFT, SHIFT)
    cos, sin = torch.cos(angle) * scale, torch.sin(angle) * scale
    theta = torch.stack(
        [
            torch.stack([cos * flip, -sin, shift_x], dim=1),
            torch.stack([sin * flip, cos, shift_y], dim=1),
        ],
        dim=1,
    )
    grid = F.affine_grid(theta, list(batch.shape), align_corners=False)
    warped = F.grid_sample(batch, grid, padding_mode="border", align_corners=False)
    contrast = uniform(1 - CONTRAST, 1 + CONTRAST).view(n, 1, 1, 1)
    brightness = uniform(-BRIGHTNESS, BRIGHTNESS).view(n, 1, 1, 1)
    mean = warped.mean(dim=(1, 2, 3), keepdim=True)
    return ((warped - mean) * contrast + mean + brightness).clamp(0.0, 1.0)


def to_input(images: npt.NDArray[np.uint8]) -> torch.Tensor:
    return torch.from_numpy(images.astype(np.float32)[:, None] / np.float32(255.0))


def predict_logits(net: EmotionNet, images: torch.Tensor, fast: bool = False) -> FloatArray:
    """fp32 logits; `fast` runs under bfloat16 autocast (per-epoch validation only)."""
    net.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(images), EVAL_BATCH):
            x = images[i : i + EVAL_BATCH].contiguous(memory_format=torch.channels_last)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=fast):
                out.append(net(x).float())
    return np.asarray(torch.cat(out).numpy(), dtype=np.float32)


def fit_temperature(logits: FloatArray, labels: npt.NDArray[np.int64]) -> float:
    """Minimise validation NLL over log T with LBFGS (Guo et al. 2017)."""
    z = torch.from_numpy(logits.astype(np.float64))
    y = torch.from_numpy(labels)
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_t], lr=0.1, max_iter=200, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = F.cross_entropy(z / log_t.exp(), y)
        loss.backward()
        return loss

    optimizer.step(closure)
    return float(log_t.exp().item())


def export_weights(net: EmotionNet, temperature: float) -> EmotionWeights:
    modules = list(net.body)
    layers = []
    for index, module in enumerate(modules):
        if not isinstance(module, nn.Conv2d):
            continue
        bn = modules[index + 1]
        assert isinstance(bn, nn.BatchNorm2d)
        pool_after = index + 3 < len(modules) and isinstance(modules[index + 3], nn.MaxPool2d)
        layers.append(
            ConvBN(
                weight=arr(module.weight),
                gamma=arr(bn.weight),
                beta=arr(bn.bias),
                mean=arr(bn.running_mean),
                var=arr(bn.running_var),
                eps=float(bn.eps),
                pool_after=pool_after,
            )
        )
    return EmotionWeights(
        pixel_mean=net.pixel_mean,
        pixel_std=net.pixel_std,
        layers=layers,
        classifier_weight=arr(net.classifier.weight),
        classifier_bias=arr(net.classifier.bias),
        temperature=temperature,
    )


def arr(t: torch.Tensor) -> npt.NDArray[np.float64]:
    return np.asarray(t.detach().double().numpy(), dtype=np.float64)


def _save(state: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    torch.save(state, partial)
    partial.replace(path)


def write_curve(history: Sequence[dict[str, float]], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "curve.json").write_text(json.dumps(list(history), indent=1) + "\n")
    with (folder / "curve.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(history[0]))
        writer.writeheader()
        writer.writerows(history)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=MODEL_OUT)
    parser.add_argument("--report", type=Path, default=REPORT_DIR, help="curve and metrics")
    parser.add_argument("--workdir", type=Path, default=WORK_DIR, help="checkpoints")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--width", type=int, default=WIDTH)
    parser.add_argument("--max-lr", type=float, default=MAX_LR)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--limit", type=int, default=0, help="train on the first N (smoke)")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument(
        "--export-now",
        action="store_true",
        help="export the checkpoint's latest epoch as it is (an interim model), no training",
    )
    parser.add_argument("--threads", type=int, default=THREADS)
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)

    folder = data_dir()
    images, labels, ids = load_fer(folder / "train.npz")
    held = validation_mask(ids, labels, VALIDATION_FRACTION, SPLIT_SEED)
    train_index = np.flatnonzero(~held)
    if args.limit:
        spread = np.linspace(0, len(train_index) - 1, min(args.limit, len(train_index)))
        train_index = train_index[spread.astype(np.int64)]
    train_x = to_input(images[train_index])
    train_y = torch.from_numpy(labels[train_index])
    val_x = to_input(images[held])
    val_y = labels[held]
    pixel_mean = float(train_x.mean())
    pixel_std = float(train_x.std())

    net = EmotionNet(args.width, round(pixel_mean, 4), round(pixel_std, 4))
    net = net.to(memory_format=torch.channels_last)
    steps = math.ceil(len(train_index) / BATCH)
    optimizer = torch.optim.SGD(
        net.parameters(),
        lr=args.max_lr,
        momentum=MOMENTUM,
        nesterov=True,
        weight_decay=WEIGHT_DECAY,
    )
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=args.max_lr, epochs=args.epochs, steps_per_epoch=steps
    )
    criterion = nn.CrossEntropyLoss(label_smoothing=LABEL_SMOOTHING)
    history: list[dict[str, float]] = []
    best: dict[str, Any] = {"val_acc": -1.0, "epoch": 0, "state": None}
    start = 0
    checkpoint = args.workdir / CHECKPOINT
    if args.export_now and not checkpoint.exists():
        raise SystemExit(f"--export-now: no checkpoint at {checkpoint}")
    if (args.resume or args.export_now) and checkpoint.exists():
        state = torch.load(checkpoint, weights_only=False)
        own = {key: value for key, value in vars(args).items() if key not in RUN_FLAGS}
        theirs = {key: value for key, value in state["args"].items() if key not in RUN_FLAGS}
        if own != theirs:
            raise SystemExit(f"{checkpoint} was written with other arguments: {state['args']}")
        net.load_state_dict(state["net"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        history, best, start = state["history"], state["best"], state["epoch"]
        print(f"resumed after epoch {start}", flush=True)

    print(
        f"train {len(train_index)} val {int(held.sum())} width {args.width} "
        f"params {sum(p.numel() for p in net.parameters())} steps/epoch {steps}",
        flush=True,
    )
    if args.export_now:
        best = {"val_acc": history[-1]["val_acc"], "epoch": start, "state": state["net"]}
    for epoch in range(start, start if args.export_now else args.epochs):
        began = time.perf_counter()
        net.train()
        order = torch.randperm(len(train_index), generator=generator)
        loss_sum, hits, seen = 0.0, 0, 0
        for step in range(steps):
            idx = order[step * BATCH : (step + 1) * BATCH]
            x = augment(train_x[idx], generator).contiguous(memory_format=torch.channels_last)
            y = train_y[idx]
            with torch.autocast("cpu", dtype=torch.bfloat16):
                logits = net(x)
            loss = criterion(logits.float(), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            loss_sum += float(loss.detach()) * len(idx)
            hits += int((logits.argmax(dim=1) == y).sum())
            seen += len(idx)
        val_logits = predict_logits(net, val_x, fast=True)
        val_probs = softmax(val_logits)
        row = {
            "epoch": epoch + 1,
            "lr_end": float(scheduler.get_last_lr()[0]),
            "train_loss": loss_sum / seen,
            "train_acc": hits / seen,
            "val_acc": float((val_probs.argmax(axis=1) == val_y).mean()),
            "val_nll": nll(val_probs, val_y),
            "seconds": time.perf_counter() - began,
        }
        history.append(row)
        if row["val_acc"] > best["val_acc"]:
            best = {
                "val_acc": row["val_acc"],
                "epoch": epoch + 1,
                "state": {k: v.clone() for k, v in net.state_dict().items()},
            }
        print(json.dumps(row), flush=True)
        _save(
            {
                "args": vars(args),
                "net": net.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "generator": generator.get_state(),
                "torch_rng": torch.get_rng_state(),
                "history": history,
                "best": best,
                "epoch": epoch + 1,
            },
            checkpoint,
        )

    net.load_state_dict(best["state"])
    val_logits = predict_logits(net, val_x)
    temperature = fit_temperature(val_logits, val_y)
    print(f"best epoch {best['epoch']} val acc {best['val_acc']:.4f} T {temperature:.4f}")
    props = {
        "classes": ",".join(EMOTIONS),
        "input": f"gray {INPUT_SIZE}x{INPUT_SIZE}, x/255",
        "temperature": f"{temperature:.6f}",
        "trained_by": "tools/train_emotion.py",
        "seed": str(args.seed),
        "width": str(args.width),
        "epochs": f"{best['epoch']} of {args.epochs}",
        "data": "FER2013 train.npz minus a 10% validation split (tools/emotion_split.py)",
    }
    doc = "7-class FER2013 emotion network trained by burnout-tui (see models/README.md)"
    write_model(build_model(export_weights(net, temperature), doc, props), args.out)
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()

    session = open_session(args.out)
    torch_val = softmax(val_logits / temperature)
    onnx_val, _ = evaluate_session(session, images[held])
    parity = float(np.abs(onnx_val - torch_val).max())
    test_images, test_labels, _ = load_fer(folder / "publictest.npz")
    test_probs, test_features = evaluate_session(session, test_images)
    test_raw = softmax(ours_logits(args.out, test_features))
    metrics = {
        "model": args.out.name,
        "sha256": digest,
        "bytes": args.out.stat().st_size,
        "params": sum(p.numel() for p in net.parameters()),
        "seed": args.seed,
        "width": args.width,
        "epochs": args.epochs,
        "best_epoch": best["epoch"],
        "train_images": len(train_index),
        "val_images": int(held.sum()),
        "temperature": temperature,
        "torch_onnx_max_prob_diff_val": parity,
        "val": {
            "before_temperature": summary(softmax(val_logits), val_y),
            "after_temperature": summary(onnx_val, val_y),
        },
        "publictest": {
            "before_temperature": summary(test_raw, test_labels),
            "after_temperature": summary(test_probs, test_labels),
            "flip_tta": summary(flip_tta(session, test_images), test_labels),
        },
        "train_seconds": sum(row["seconds"] for row in history),
        "torch": torch.__version__,
        "threads": args.threads,
    }
    args.report.mkdir(parents=True, exist_ok=True)
    write_curve(history, args.report)
    (args.report / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    test = metrics["publictest"]["after_temperature"]
    print(
        f"{args.out} sha256 {digest}\nPublicTest acc {test['accuracy']:.4f} "
        f"macro-F1 {test['macro_f1']:.4f} ECE {test['ece']:.4f} "
        f"(before T {metrics['publictest']['before_temperature']['ece']:.4f})",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
