"""`make bench`: speed and memory of the main job, printed as tables.

Targets (from the issues) are printed beside the measurements, never asserted: timings
on shared 2-core machines are too noisy for pass/fail, but ratios from one run are fair.
Run from the repository root with BURNOUT_TUI_DATA pointing at the shared data.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from burnout_tui.config import Config, load_config
from burnout_tui.pipeline import STAGES, FramePipeline, FrameResult
from burnout_tui.sources import open_source, parse_source

CLIP = "videos/liveportrait_d3.mp4"
TARGET_FPS = 30.0
TARGET_RSS_MB = 400.0
BASELINE_TF_FPS = 2.6
"""TensorFlow MTCNN + Keras stack of the original thesis code on the same clip (issue 2)."""


def run_analyze_subprocess(
    video: Path, config_path: Path | None
) -> tuple[dict[str, object], float]:
    """Run the real CLI in a child so its peak RSS is measured alone, without this script's."""
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "burnout_tui.cli"]
        if config_path is not None:
            command += ["--config", str(config_path)]
        command += ["analyze", str(video), "--db", str(Path(tmp) / "bench.duckdb"), "--json"]
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    del before
    return json.loads(output), peak_kb / 1024.0


def per_frame(config: Config, video: Path) -> list[FrameResult]:
    source = open_source(parse_source(str(video)))
    pipeline = FramePipeline(config)
    results = []
    while (frame := source.read()) is not None:
        results.append(pipeline.process(frame))
    source.close()
    return results


def iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    w = max(0, min(ax2, bx2) - max(a[0], b[0]))
    h = max(0, min(ay2, by2) - max(a[1], b[1]))
    inter = w * h
    return inter / float(a[2] * a[3] + b[2] * b[3] - inter)


def scheduling_fidelity(config: Config, video: Path) -> dict[str, float]:
    """How close scheduled detection stays to full MTCNN on every frame, frame by frame."""
    full = per_frame(replace(config, detection=replace(config.detection, detect_every=1)), video)
    scheduled = per_frame(config, video)
    ious, prob_diffs, score_diffs = [], [], []
    both = agree = 0
    for a, b in zip(full, scheduled, strict=True):
        agree += bool(a.faces) == bool(b.faces)
        if a.primary and b.primary:
            both += 1
            ious.append(iou(a.primary.face.box, b.primary.face.box))
            prob_diffs.append(float(np.abs(a.primary.probs - b.primary.probs).max()))
            score_diffs.append(abs(a.primary.frame_score - b.primary.frame_score))
    return {
        "frames": float(len(full)),
        "face_presence_agreement": agree / len(full),
        "mean_box_iou": float(np.mean(ious)),
        "p05_box_iou": float(np.percentile(ious, 5)),
        "mean_abs_frame_score_diff": float(np.mean(score_diffs)),
        "max_prob_diff_p95": float(np.percentile(prob_diffs, 95)),
    }


def main() -> None:
    data = os.environ.get("BURNOUT_TUI_DATA")
    if not data or not (Path(data) / CLIP).is_file():
        sys.exit(f"bench needs BURNOUT_TUI_DATA with {CLIP} (set it to ../shared/data)")
    video = Path(data) / CLIP
    config = load_config()
    console = Console()

    with tempfile.TemporaryDirectory() as tmp:
        every_frame = Path(tmp) / "every-frame.toml"
        every_frame.write_text("[detection]\ndetect_every = 1\n")
        runs = [
            (f"scheduled (full MTCNN every {config.detection.detect_every} frames)", None),
            ("full MTCNN on every frame", every_frame),
        ]
        table = Table(
            title=f"analyze {CLIP} (target ≥ {TARGET_FPS:g} frames/s, < {TARGET_RSS_MB:g} MB)"
        )
        for column in (
            "mode",
            "frames/s",
            *[f"{s} ms" for s in STAGES],
            "peak RSS MB",
            "vs TF stack",
        ):
            table.add_column(column, justify="right")
        for label, config_path in runs:
            report, rss = run_analyze_subprocess(video, config_path)
            stage_ms = report["stage_ms_per_frame"]
            assert isinstance(stage_ms, dict)
            fps = float(report["fps"])  # type: ignore[arg-type]
            table.add_row(
                label,
                f"{fps:.1f}",
                *[f"{float(stage_ms.get(s, 0.0)):.2f}" for s in STAGES],
                f"{rss:.0f}",
                f"{fps / BASELINE_TF_FPS:.1f}×",
            )
        console.print(table)

    fidelity = scheduling_fidelity(config, video)
    table = Table(title="scheduled vs full detection, per frame, same clip")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in fidelity.items():
        table.add_row(key.replace("_", " "), f"{value:.4f}" if value < 100 else f"{value:.0f}")
    console.print(table)


if __name__ == "__main__":
    main()
