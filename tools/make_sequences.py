"""Run the real pipeline over the shared clips and augmented copies; save per-frame arrays.

The forecaster must learn from what the live pipeline outputs (its emotion probabilities,
fatigue cues and rolling score, with all their flicker), not from idealised labels, so
every training sequence here is the pipeline's own output on a video. The shared clips
hold about 3,300 frames; augmentation multiplies them with the variations a webcam
session has and a clip lacks. Each augmentation is one clip-level transform with seeded
parameters, applied to every frame, because lighting, camera placement and frame rate are
properties of a session, not of a frame:

- `original`: the clip as is.
- `flip`: mirrored left-right (mirroring webcams; faces are not symmetric).
- `photometric`: brightness ±25, contrast ×0.75-1.25, gamma 0.7-1.4 (dim rooms, auto exposure).
- `small`: scaled to 0.5 (a laptop camera further away; faces stay well above the detector's
  20 px minimum).
- `rotate`: rolled by ±(4-10)° about the centre (a tilted camera or head).
- `noisy`: Gaussian blur (σ 1.0) plus pixel noise (σ 6 grey levels): cheap sensors.
- `half_rate`: every second frame, timestamps kept (a 12-15 frames/s camera; a window of 30
  frames then spans two seconds).
- `mixed`: flip + photometric + rotate + half rate together, with its own parameters.

Output: one `.npz` per (clip, augmentation) under `.cache/forecast_sequences/` (gitignored;
the clips' licences forbid redistributing anything derived frame by frame), with the face
frames' timestamps, probabilities, frame and rolling scores, and every `FatigueFrame`
field (NaN where the pipeline gave none). Existing files are kept unless `--force`, so an
interrupted run resumes. Run from the repository root:

    BURNOUT_TUI_DATA=../shared/data nohup python -m tools.make_sequences > seq.log 2>&1 &
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from burnout_tui.config import load_config
from burnout_tui.runtime.pipeline import make_pipeline
from burnout_tui.runtime.results import FaceResult
from burnout_tui.scoring.fatigue import FatigueFrame
from burnout_tui.sources import open_source, parse_source
from burnout_tui.sources.frame import Frame

DATA_ENV = "BURNOUT_TUI_DATA"
DEFAULT_DATA = Path("../shared/data")
"""Where `.ci/run` and `make bench` find the shared data, from the repository root."""
REPO_ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = REPO_ROOT / ".cache" / "forecast_sequences"

CLIPS: tuple[str, ...] = (
    "liveportrait_d0",
    "liveportrait_d3",
    "liveportrait_d6",
    "liveportrait_d9",
    "liveportrait_d10",
    "liveportrait_d11",
    "liveportrait_d12",
    "short_hamilton_clip",
)
"""Every clip of the shared data with one person talking to the camera (not
`crowd_walking_video`, a crowd seen from afar). Which are held back is the training
script's choice."""

AUGMENTATIONS: tuple[str, ...] = (
    "original",
    "flip",
    "photometric",
    "small",
    "rotate",
    "noisy",
    "half_rate",
    "mixed",
)

SEED = 20261125
BRIGHTNESS = 25.0
CONTRAST = (0.75, 1.25)
GAMMA = (0.7, 1.4)
SMALL_SCALE = 0.5
ROTATION_DEG = (4.0, 10.0)
BLUR_SIGMA = 1.0
NOISE_SIGMA = 6.0
GREY_LEVELS = 255.0

Image = npt.NDArray[np.uint8]
Transform = Callable[[Image], Image]


@dataclass(frozen=True, slots=True)
class Augmentation:
    """A clip-level transform: the same image function on every kept frame."""

    name: str
    transform: Transform
    frame_step: int
    params: dict[str, float]


def _rng(clip: str, name: str) -> np.random.Generator:
    """Per (clip, augmentation) stream, so adding a clip never changes another's parameters."""
    return np.random.default_rng([SEED, zlib.crc32(f"{clip}/{name}".encode())])


def _photometric(rng: np.random.Generator) -> tuple[Transform, dict[str, float]]:
    shift = float(rng.uniform(-BRIGHTNESS, BRIGHTNESS))
    gain = float(rng.uniform(*CONTRAST))
    gamma = float(rng.uniform(*GAMMA))
    levels = np.arange(256, dtype=np.float64)
    curve = GREY_LEVELS * (np.clip((levels - 128.0) * gain + 128.0 + shift, 0, 255) / 255) ** gamma
    table = np.clip(np.rint(curve), 0, 255).astype(np.uint8)

    def apply(image: Image) -> Image:
        return np.asarray(cv2.LUT(image, table), dtype=np.uint8)

    return apply, {"brightness": shift, "contrast": gain, "gamma": gamma}


def _rotation(rng: np.random.Generator) -> tuple[Transform, dict[str, float]]:
    angle = float(rng.uniform(*ROTATION_DEG) * rng.choice([-1.0, 1.0]))

    def apply(image: Image) -> Image:
        height, width = image.shape[:2]
        matrix = cv2.getRotationMatrix2D((width / 2.0, height / 2.0), angle, 1.0)
        rotated = cv2.warpAffine(image, matrix, (width, height), borderMode=cv2.BORDER_REFLECT)
        return np.asarray(rotated, dtype=np.uint8)

    return apply, {"angle_deg": angle}


def _flip(image: Image) -> Image:
    return np.ascontiguousarray(image[:, ::-1])


def _small(image: Image) -> Image:
    height, width = image.shape[:2]
    size = (round(width * SMALL_SCALE), round(height * SMALL_SCALE))
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def _noisy(rng: np.random.Generator) -> Transform:
    def apply(image: Image) -> Image:
        blurred = cv2.GaussianBlur(image, (0, 0), BLUR_SIGMA).astype(np.float32)
        noise = rng.normal(0.0, NOISE_SIGMA, size=image.shape).astype(np.float32)
        return np.asarray(np.clip(np.rint(blurred + noise), 0, 255), dtype=np.uint8)

    return apply


def _identity(image: Image) -> Image:
    return image


def augmentation(clip: str, name: str) -> Augmentation:
    rng = _rng(clip, name)
    if name == "original":
        return Augmentation(name, _identity, 1, {})
    if name == "flip":
        return Augmentation(name, _flip, 1, {})
    if name == "photometric":
        transform, params = _photometric(rng)
        return Augmentation(name, transform, 1, params)
    if name == "small":
        return Augmentation(name, _small, 1, {"scale": SMALL_SCALE})
    if name == "rotate":
        transform, params = _rotation(rng)
        return Augmentation(name, transform, 1, params)
    if name == "noisy":
        return Augmentation(name, _noisy(rng), 1, {"blur": BLUR_SIGMA, "noise": NOISE_SIGMA})
    if name == "half_rate":
        return Augmentation(name, _identity, 2, {})
    if name == "mixed":
        light, light_params = _photometric(rng)
        turn, turn_params = _rotation(rng)

        def mixed(image: Image) -> Image:
            return turn(light(_flip(image)))

        return Augmentation(name, mixed, 2, {**light_params, **turn_params})
    raise ValueError(f"unknown augmentation {name!r} (known: {', '.join(AUGMENTATIONS)})")


def augmented_frames(video: Path, aug: Augmentation) -> Iterator[Frame]:
    """The clip's frames after `aug`, renumbered, with their original media timestamps."""
    source = open_source(parse_source(str(video)))
    try:
        kept = 0
        while (frame := source.read()) is not None:
            if frame.index % aug.frame_step:
                continue
            yield Frame(kept, frame.ts, aug.transform(frame.image))
            kept += 1
    finally:
        source.close()


FATIGUE_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(FatigueFrame))


def _fatigue_row(face: FaceResult) -> list[float]:
    if face.fatigue is None:
        return [np.nan] * len(FATIGUE_FIELDS)
    return [float(getattr(face.fatigue, name)) for name in FATIGUE_FIELDS]


def run_clip(video: Path, aug: Augmentation, config_path: Path | None) -> dict[str, Any]:
    """The pipeline's per-face-frame output over one augmented clip, as arrays."""
    pipeline = make_pipeline(load_config(config_path), multi_user=False)
    ts: list[float] = []
    index: list[int] = []
    probs: list[npt.NDArray[np.float32]] = []
    frame_scores: list[float] = []
    rolling: list[float] = []
    fatigue: list[list[float]] = []
    frames = 0
    for frame in augmented_frames(video, aug):
        frames += 1
        face = pipeline.process(frame).primary
        if face is None:
            continue
        ts.append(frame.ts)
        index.append(frame.index)
        probs.append(np.asarray(face.probs, dtype=np.float32))
        frame_scores.append(face.frame_score)
        rolling.append(face.rolling_score)
        fatigue.append(_fatigue_row(face))
    columns = np.asarray(fatigue, dtype=np.float64).reshape(-1, len(FATIGUE_FIELDS))
    return {
        "ts": np.asarray(ts, dtype=np.float64),
        "frame_index": np.asarray(index, dtype=np.int64),
        "probs": np.asarray(probs, dtype=np.float32).reshape(-1, 7),
        "frame_score": np.asarray(frame_scores, dtype=np.float64),
        "rolling_score": np.asarray(rolling, dtype=np.float64),
        "frames": np.asarray(frames),
        **{f"fatigue_{name}": columns[:, i] for i, name in enumerate(FATIGUE_FIELDS)},
    }


def sequence_path(out_dir: Path, clip: str, aug: str) -> Path:
    return out_dir / f"{clip}__{aug}.npz"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help=f"shared data (else ${DATA_ENV})")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--clips", nargs="*", default=list(CLIPS))
    parser.add_argument("--augmentations", nargs="*", default=list(AUGMENTATIONS))
    parser.add_argument("--config", type=Path, default=None, help="config file for the pipeline")
    parser.add_argument("--force", action="store_true", help="redo files that already exist")
    args = parser.parse_args(argv)
    data = args.data or Path(os.environ.get(DATA_ENV, DEFAULT_DATA))
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    for aug_name in args.augmentations:
        for clip in args.clips:
            path = sequence_path(args.out, clip, aug_name)
            if path.exists() and not args.force:
                print(f"{path.name}: exists, kept", flush=True)
                continue
            aug = augmentation(clip, aug_name)
            begun = time.perf_counter()
            arrays = run_clip(data / "videos" / f"{clip}.mp4", aug, args.config)
            seconds = time.perf_counter() - begun
            meta = {
                "clip": clip,
                "augmentation": aug_name,
                "params": aug.params,
                "seed": SEED,
                "fatigue_fields": list(FATIGUE_FIELDS),
                "seconds": round(seconds, 2),
            }
            tmp = path.with_suffix(".tmp.npz")
            np.savez_compressed(tmp, meta=np.asarray(json.dumps(meta)), **arrays)
            tmp.replace(path)
            faces = arrays["ts"].size
            with_fatigue = int(np.isfinite(arrays["fatigue_ear_left"]).sum())
            print(
                f"{path.name}: {int(arrays['frames'])} frames, {faces} with a face, "
                f"{with_fatigue} with fatigue cues, {seconds:.1f} s "
                f"({int(arrays['frames']) / max(seconds, 1e-9):.0f} frames/s)",
                flush=True,
            )
    print(f"done in {time.perf_counter() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
