"""Accuracy of the camera heart rate on the shared UBFC-rPPG subjects and LivePortrait clips.

`python -m tools.eval_heart [--json FILE] [--method pos|chrom]` runs the face detector,
the face mesh and the pulse stage (the product's own `LargestFace` policy, `MeshStage` and
`PulseStage`) over each clip, with UBFC's true frame timestamps (ground_truth.txt line 3,
its first value subtracted), and compares the per-second heart rate with:

- the PPG reference of issue #14: the finger PPG (line 1) band-passed to 0.7-3.5 Hz on
  the true timestamps; its rate at second s is the plain spectral peak of the 10 s window
  centred on s, for s = 5 ... end - 5. The product's estimate at time t reads the window
  [t - 10, t], centred on t - 5, so it is compared with the reference at s = t - 5 (the
  same 10 s of signal);
- the oximeter's own rate (line 2), averaged over the same window.

Only reported seconds count towards the errors; the share withheld is printed beside them.
On the LivePortrait clips (no ground truth) it prints the withheld share and the range of
the reported rates, which must lie within 40-180 bpm and not be constant.
UBFC is research-use only: it is read from BURNOUT_TUI_DATA, never copied.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from rich.console import Console
from rich.table import Table

from burnout_tui.config import Config
from burnout_tui.runtime.face_policy import LargestFace, mesh_guide
from burnout_tui.runtime.face_stages import FaceWork, MeshStage, PulseStage
from burnout_tui.runtime.pipeline import make_detector
from burnout_tui.signals import timebase
from burnout_tui.signals.heart import HeartEstimate
from burnout_tui.signals.heart_rate import peak_bpm
from burnout_tui.signals.pulse import band_pass
from burnout_tui.sources.frame import Frame

Array = npt.NDArray[np.float64]

SUBJECTS = (5, 8, 17)
UBFC = "rppg/ubfc/subject{}"
LIVEPORTRAIT = ("d0", "d3", "d6", "d9", "d10", "d11", "d12")
REFERENCE_WINDOW_S = 10.0
"""The issue's reference window, centred on each second."""
TARGET_MAE_BPM = 3.0
TARGET_WITHIN_5 = 0.85
WITHIN_BPM = 5.0
PLAUSIBLE_BPM = (40.0, 180.0)


@dataclass(frozen=True)
class Truth:
    ts: Array
    ppg: Array
    oximeter: Array


def read_truth(folder: Path) -> Truth:
    lines = np.loadtxt(folder / "ground_truth.txt")
    return Truth(ts=lines[2] - lines[2][0], ppg=lines[0], oximeter=lines[1])


def run_clip(
    video: Path, config: Config, timestamps: Array | None = None, threads: int = 2
) -> list[HeartEstimate]:
    """The per-second estimates of the product's detector, mesh and pulse stage on a clip,
    at `timestamps` (one per frame; frames beyond them are not read) or the container's
    frame rate."""
    capture = cv2.VideoCapture(str(video))
    fps = float(capture.get(cv2.CAP_PROP_FPS)) or 30.0
    policy = LargestFace(
        make_detector(config, threads), config.detection, mesh_guide(config.detection, config.mesh)
    )
    stages = (
        MeshStage(config.mesh, threads),
        PulseStage(config.heart, config.mesh.min_presence),
    )
    estimates = []
    index = 0
    try:
        while timestamps is None or index < timestamps.size:
            ok, decoded = capture.read()
            if not ok:
                break
            image = np.ascontiguousarray(decoded, dtype=np.uint8)
            ts = index / fps if timestamps is None else float(timestamps[index])
            frame = Frame(index, ts, image)
            located = policy.locate(image, ts)
            faces = tuple(FaceWork(t, f, guided=t in located.guided) for t, f in located.faces)
            for stage in stages:
                if faces:
                    faces = stage.run(frame, faces)
            height, width = image.shape[:2]
            policy.observe(
                (width, height), {w.track_id: w.mesh for w in faces if w.mesh is not None}
            )
            for work in faces:
                if work.pulse is not None and work.pulse.estimate is not None:
                    estimates.append(work.pulse.estimate)
            index += 1
    finally:
        capture.release()
    return estimates


def pulse_stage_ms(video: Path, config: Config, threads: int = 2) -> tuple[float, int]:
    """Mean wall time of `PulseStage.run` per face per frame over a clip, and the faces
    timed: frames and meshes are prepared first, so only the pulse stage is on the clock."""
    capture = cv2.VideoCapture(str(video))
    fps = float(capture.get(cv2.CAP_PROP_FPS)) or 30.0
    policy = LargestFace(
        make_detector(config, threads), config.detection, mesh_guide(config.detection, config.mesh)
    )
    mesh = MeshStage(config.mesh, threads)
    prepared: list[tuple[Frame, tuple[FaceWork, ...]]] = []
    try:
        while True:
            ok, decoded = capture.read()
            if not ok:
                break
            image = np.ascontiguousarray(decoded, dtype=np.uint8)
            frame = Frame(len(prepared), len(prepared) / fps, image)
            located = policy.locate(image, frame.ts)
            faces = tuple(FaceWork(t, f, guided=t in located.guided) for t, f in located.faces)
            faces = mesh.run(frame, faces) if faces else faces
            height, width = image.shape[:2]
            policy.observe(
                (width, height), {w.track_id: w.mesh for w in faces if w.mesh is not None}
            )
            prepared.append((frame, faces))
    finally:
        capture.release()
    stage = PulseStage(config.heart, config.mesh.min_presence)
    count = sum(len(faces) for _, faces in prepared)
    start = time.perf_counter()
    for frame, faces in prepared:
        if faces:
            stage.run(frame, faces)
    elapsed_ms = (time.perf_counter() - start) * 1000.0
    return (elapsed_ms / count if count else float("nan")), count


def reference_rate(truth: Truth, centre: float) -> tuple[float, float]:
    """PPG reference and mean oximeter rate of the 10 s window centred on `centre`."""
    keep = timebase.increasing(truth.ts)
    ts, ppg = truth.ts[keep], truth.ppg[keep]
    half = REFERENCE_WINDOW_S / 2.0
    inside = (ts >= centre - half) & (ts <= centre + half)
    _, even = timebase.resample(ts[inside], ppg[inside])
    reference = peak_bpm(band_pass(even, timebase.RATE_HZ), timebase.RATE_HZ)
    oximeter = float(
        truth.oximeter[(truth.ts >= centre - half) & (truth.ts <= centre + half)].mean()
    )
    return reference, oximeter


@dataclass(frozen=True)
class Coverage:
    """How many of a clip's seconds had a rate reported."""

    name: str
    seconds: int
    reported: int

    @property
    def withheld(self) -> float:
        return 1.0 - self.reported / self.seconds if self.seconds else 1.0


@dataclass(frozen=True)
class Agreement(Coverage):
    mae_ppg: float
    within_5_ppg: float
    mae_oximeter: float
    within_5_oximeter: float


def agreement(
    name: str, estimates: list[HeartEstimate], truth: Truth, window_s: float
) -> Agreement:
    """Errors over the seconds the reference defines (5 ... end - 5) that were reported."""
    end = float(truth.ts[-1])
    half = REFERENCE_WINDOW_S / 2.0
    by_centre = {round(e.ts - window_s / 2.0): e for e in estimates}
    centres = range(math.ceil(half), math.floor(end - half) + 1)
    ppg_errors, oximeter_errors = [], []
    for centre in centres:
        found = by_centre.get(centre)
        if found is None or found.bpm is None:
            continue
        reference, oximeter = reference_rate(truth, float(centre))
        ppg_errors.append(abs(found.bpm - reference))
        oximeter_errors.append(abs(found.bpm - oximeter))
    ppg, oxi = np.asarray(ppg_errors), np.asarray(oximeter_errors)
    nan = float("nan")
    return Agreement(
        name=name,
        seconds=len(centres),
        reported=int(ppg.size),
        mae_ppg=float(ppg.mean()) if ppg.size else nan,
        within_5_ppg=float((ppg <= WITHIN_BPM).mean()) if ppg.size else nan,
        mae_oximeter=float(oxi.mean()) if oxi.size else nan,
        within_5_oximeter=float((oxi <= WITHIN_BPM).mean()) if oxi.size else nan,
    )


def ubfc(data: Path, config: Config) -> list[Agreement]:
    results = []
    for subject in SUBJECTS:
        folder = data / UBFC.format(subject)
        truth = read_truth(folder)
        estimates = run_clip(folder / "vid.mp4", config, truth.ts)
        results.append(agreement(f"subject{subject}", estimates, truth, config.heart.window_s))
    return results


@dataclass(frozen=True)
class Plausibility(Coverage):
    low: float
    high: float
    distinct: int

    @property
    def plausible(self) -> bool:
        inside = self.reported == 0 or (
            PLAUSIBLE_BPM[0] <= self.low and self.high <= PLAUSIBLE_BPM[1]
        )
        return inside and (self.reported < 2 or self.distinct > 1)


def liveportrait(data: Path, config: Config) -> list[Plausibility]:
    results = []
    for clip in LIVEPORTRAIT:
        estimates = run_clip(data / f"videos/liveportrait_{clip}.mp4", config)
        rates = [e.bpm for e in estimates if e.bpm is not None]
        results.append(
            Plausibility(
                clip,
                len(estimates),
                len(rates),
                min(rates, default=float("nan")),
                max(rates, default=float("nan")),
                len({round(r, 1) for r in rates}),
            )
        )
    return results


def ubfc_table(rows: list[Agreement], method: str) -> Table:
    table = Table(title=f"Heart rate on UBFC-rPPG ({method}; reported seconds only)")
    for column in (
        "clip",
        "seconds",
        "withheld",
        "MAE vs PPG",
        "≤5 bpm",
        "MAE vs oximeter",
        "≤5 bpm ",
    ):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            row.name,
            str(row.seconds),
            f"{row.withheld:.0%}",
            f"{row.mae_ppg:.2f}",
            f"{row.within_5_ppg:.0%}",
            f"{row.mae_oximeter:.2f}",
            f"{row.within_5_oximeter:.0%}",
        )
    table.caption = f"targets: MAE ≤ {TARGET_MAE_BPM:g} bpm, ≥ {TARGET_WITHIN_5:.0%} within 5 bpm"
    return table


def plausibility_table(rows: list[Plausibility]) -> Table:
    table = Table(title="Heart rate on LivePortrait clips (no ground truth)")
    for column in ("clip", "seconds", "withheld", "lowest", "highest", "plausible"):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            row.name,
            str(row.seconds),
            f"{row.withheld:.0%}",
            f"{row.low:.0f}",
            f"{row.high:.0f}",
            "yes" if row.plausible else "NO",
        )
    return table


def evaluate(data: Path, config: Config) -> tuple[list[Agreement], list[Plausibility]]:
    subjects = ubfc(data, config)
    weights = [s.reported for s in subjects]
    total = Agreement(
        "all",
        sum(s.seconds for s in subjects),
        sum(weights),
        *(
            float(np.average([getattr(s, f) for s in subjects], weights=weights))
            for f in ("mae_ppg", "within_5_ppg", "mae_oximeter", "within_5_oximeter")
        ),
    )
    return [*subjects, total], liveportrait(data, config)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.eval_heart", description=__doc__)
    parser.add_argument("--json", type=Path, help="Also write the numbers to this file.")
    parser.add_argument("--method", choices=("pos", "chrom"), default=None)
    args = parser.parse_args(argv)
    data = os.environ.get("BURNOUT_TUI_DATA")
    if not data or not (Path(data) / UBFC.format(SUBJECTS[0])).is_dir():
        sys.exit("eval_heart needs BURNOUT_TUI_DATA with rppg/ubfc (set it to ../shared/data)")
    config = Config()
    if args.method:
        config = replace(config, heart=replace(config.heart, method=args.method))
    subjects, clips = evaluate(Path(data), config)
    console = Console(width=120)
    console.print(ubfc_table(subjects, config.heart.method))
    console.print(plausibility_table(clips))
    if args.json:
        payload = {
            "method": config.heart.method,
            "ubfc": [{**vars(s), "withheld": s.withheld} for s in subjects],
            "liveportrait": [
                {**vars(c), "withheld": c.withheld, "plausible": c.plausible} for c in clips
            ],
        }
        args.json.write_text(json.dumps(payload, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
