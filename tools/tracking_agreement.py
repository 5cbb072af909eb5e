"""`python -m tools.tracking_agreement`: how closely scheduled detection follows full MTCNN.

Runs the single-user pipeline on each shared talking-head clip three ways: full detection
on every frame (the reference: `detect_every = 1`), the default mesh-guided tracking, and
the older refine schedule (mesh on, not guiding), then compares them with the reference
frame by frame: whether a face is found on the same frames, the IoU of the boxes, the
difference of the frame score, and the share of frames that ran full MTCNN. The numbers
go to docs/tracking.md. Needs BURNOUT_TUI_DATA.

`--multi-user` does the same for the multi-user pipeline on the shared group clips, with
mesh guidance (the default) and with refinement of every face: each frame's faces are
paired with the reference's by box overlap (an optimal one-to-one assignment, pairs below
`MATCH_IOU` left unpaired), and the table gives the share of the reference's faces found,
the share of faces the reference does not have, the IoU and frame-score difference of the
pairs, and how often a face kept its reference id but changed its own ("id changes").
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from burnout_tui.config import Config, load_config
from burnout_tui.runtime.face_policy import LargestFace
from burnout_tui.runtime.face_stages import default_stages
from burnout_tui.runtime.pipeline import DEFAULT_THREADS, Pipeline, make_detector, make_pipeline
from burnout_tui.runtime.results import FrameResult
from burnout_tui.sources import open_source, parse_source
from burnout_tui.vision.tracking import box_iou

CLIPS = tuple(f"videos/liveportrait_d{n}.mp4" for n in (0, 3, 6, 9, 10, 11, 12))
MULTI_CLIPS = ("videos/crowd_walking_video.mp4", "videos/short_hamilton_clip.mp4")
LOW_PERCENTILE = 5
MATCH_IOU = 0.3
"""Smallest overlap at which a scheduled face counts as the reference's face: the
tracker's own `tracking.min_iou`, at which a face may continue a track."""


@dataclass(frozen=True, slots=True)
class Agreement:
    frames: int
    presence: float
    mean_iou: float
    p05_iou: float
    mean_score_diff: float
    max_score_diff: float
    full_share: float


def run(pipeline: Pipeline, video: Path) -> list[FrameResult]:
    source = open_source(parse_source(str(video)))
    results = []
    while (frame := source.read()) is not None:
        results.append(pipeline.process(frame))
    source.close()
    return results


def reference_pipeline(config: Config) -> Pipeline:
    every_frame = replace(config, detection=replace(config.detection, detect_every=1))
    return make_pipeline(every_frame, multi_user=False)


def refine_pipeline(config: Config) -> Pipeline:
    """Today's schedule before mesh guidance: the mesh runs but does not guide."""
    policy = LargestFace(make_detector(config, DEFAULT_THREADS), config.detection, None)
    return Pipeline(
        policy, default_stages(config, DEFAULT_THREADS, forecaster=None, calibration=None)
    )


def agreement(reference: list[FrameResult], scheduled: list[FrameResult]) -> Agreement:
    ious, score_diffs = [], []
    agree = 0
    for a, b in zip(reference, scheduled, strict=True):
        agree += bool(a.faces) == bool(b.faces)
        if a.primary and b.primary:
            ious.append(box_iou(a.primary.face.box, b.primary.face.box))
            score_diffs.append(abs(a.primary.frame_score - b.primary.frame_score))
    return Agreement(
        frames=len(reference),
        presence=agree / len(reference),
        mean_iou=float(np.mean(ious)),
        p05_iou=float(np.percentile(ious, LOW_PERCENTILE)),
        mean_score_diff=float(np.mean(score_diffs)),
        max_score_diff=float(np.max(score_diffs)),
        full_share=sum(r.full_detection for r in scheduled) / len(scheduled),
    )


SCHEDULES: dict[str, Callable[[Config], Pipeline]] = {
    "mesh-guided (default)": lambda config: make_pipeline(config, multi_user=False),
    "refine every frame, full every detect_every": refine_pipeline,
}


@dataclass(frozen=True, slots=True)
class MultiAgreement:
    frames: int
    found: float
    extra: float
    mean_iou: float
    p05_iou: float
    mean_score_diff: float
    max_score_diff: float
    id_changes: int
    full_share: float


def multi_pipeline(config: Config, mesh_guided: bool) -> Pipeline:
    detection = replace(config.detection, mesh_guided_multi_user=mesh_guided)
    return make_pipeline(replace(config, detection=detection), multi_user=True)


def multi_reference(config: Config) -> Pipeline:
    every_frame = replace(config, detection=replace(config.detection, detect_every=1))
    return make_pipeline(every_frame, multi_user=True)


def multi_agreement(reference: list[FrameResult], scheduled: list[FrameResult]) -> MultiAgreement:
    from scipy.optimize import linear_sum_assignment

    ious: list[float] = []
    score_diffs: list[float] = []
    found = extra = total = 0
    id_changes = 0
    last_id: dict[int, int] = {}
    for a, b in zip(reference, scheduled, strict=True):
        total += len(a.faces)
        overlap = np.array([[box_iou(r.face.box, s.face.box) for s in b.faces] for r in a.faces])
        pairs: list[tuple[int, int]] = []
        if overlap.size:
            rows, cols = linear_sum_assignment(-overlap)
            pairs = [(r, c) for r, c in zip(rows, cols, strict=True) if overlap[r, c] >= MATCH_IOU]
        found += len(pairs)
        extra += len(b.faces) - len(pairs)
        for row, col in pairs:
            ref, ours = a.faces[row], b.faces[col]
            ious.append(float(overlap[row, col]))
            score_diffs.append(abs(ref.frame_score - ours.frame_score))
            before = last_id.get(ref.track_id)
            id_changes += before is not None and before != ours.track_id
            last_id[ref.track_id] = ours.track_id
    shown = sum(len(r.faces) for r in scheduled)
    return MultiAgreement(
        frames=len(reference),
        found=found / total,
        extra=extra / shown,
        mean_iou=float(np.mean(ious)),
        p05_iou=float(np.percentile(ious, LOW_PERCENTILE)),
        mean_score_diff=float(np.mean(score_diffs)),
        max_score_diff=float(np.max(score_diffs)),
        id_changes=id_changes,
        full_share=sum(r.full_detection for r in scheduled) / len(scheduled),
    )


MULTI_SCHEDULES = {"mesh-guided (default)": True, "refine every face": False}


def multi_main(data: Path, config: Config, clips: list[str]) -> int:
    print(
        "| clip | schedule | frames | faces found | extra | IoU mean | IoU p5"
        " | score diff mean | max | id changes | full MTCNN |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for clip in clips:
        video = data / clip
        reference = run(multi_reference(config), video)
        for name, mesh_guided in MULTI_SCHEDULES.items():
            a = multi_agreement(reference, run(multi_pipeline(config, mesh_guided), video))
            print(
                f"| {Path(clip).stem} | {name} | {a.frames} | {a.found:.1%} | {a.extra:.1%}"
                f" | {a.mean_iou:.3f} | {a.p05_iou:.3f} | {a.mean_score_diff:.3f}"
                f" | {a.max_score_diff:.3f} | {a.id_changes} | {a.full_share:.1%} |",
                flush=True,
            )
    return 0


def main(argv: list[str]) -> int:
    data = Path(os.environ["BURNOUT_TUI_DATA"])
    config = load_config()
    if argv[:1] == ["--multi-user"]:
        return multi_main(data, config, argv[1:] or list(MULTI_CLIPS))
    clips = argv or list(CLIPS)
    print(
        "| clip | schedule | frames | presence | IoU mean | IoU p5 | score diff mean | max"
        " | full MTCNN |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for clip in clips:
        video = data / clip
        reference = run(reference_pipeline(config), video)
        for name, build in SCHEDULES.items():
            a = agreement(reference, run(build(config), video))
            print(
                f"| {Path(clip).stem} | {name} | {a.frames} | {a.presence:.1%} | {a.mean_iou:.3f}"
                f" | {a.p05_iou:.3f} | {a.mean_score_diff:.3f} | {a.max_score_diff:.3f}"
                f" | {a.full_share:.1%} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
