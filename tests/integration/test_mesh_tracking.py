"""Mesh-guided tracking on a shared clip: hand-over mesh → detector → mesh, and the
multi-user re-detection cadence in seconds of frame time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from burnout_tui.config import Config, load_config
from burnout_tui.runtime.face_policy import FacePolicy, Located
from burnout_tui.runtime.pipeline import make_pipeline
from burnout_tui.runtime.results import PRIMARY_TRACK, FrameResult
from burnout_tui.sources import open_source, parse_source
from burnout_tui.sources.frame import Frame
from burnout_tui.vision.mesh import Mesh

CLIP = "videos/liveportrait_d3.mp4"
FRAMES = 60
BLANK = range(25, 35)
"""Ten black frames in the middle: an occlusion the mesh cannot follow through."""
REDETECT_S = 1.0


class Recording:
    """Delegates to a face policy and keeps each frame's `Located` (no model is mocked)."""

    def __init__(self, policy: FacePolicy) -> None:
        self.policy = policy
        self.located: list[Located] = []

    def reset(self) -> None:
        self.policy.reset()

    def locate(self, image: npt.NDArray[np.uint8], ts: float) -> Located:
        located = self.policy.locate(image, ts)
        self.located.append(located)
        return located

    def observe(self, frame_size: tuple[int, int], meshes: Mapping[int, Mesh]) -> None:
        self.policy.observe(frame_size, meshes)


def clip_frames(shared_data: Path) -> list[Frame]:
    source = open_source(parse_source(str(shared_data / CLIP)))
    frames = []
    while len(frames) < FRAMES and (frame := source.read()) is not None:
        frames.append(frame)
    source.close()
    return frames


def run(
    config: Config, frames: list[Frame], multi_user: bool
) -> tuple[list[FrameResult], Recording]:
    pipeline = make_pipeline(config, multi_user=multi_user)
    recording = Recording(pipeline.policy)
    pipeline.policy = recording
    return [pipeline.process(frame) for frame in frames], recording


@pytest.mark.slow
def test_hand_over_mesh_detector_mesh_across_an_occlusion(shared_data: Path) -> None:
    frames = clip_frames(shared_data)
    blanked = [replace(f, image=np.zeros_like(f.image)) if f.index in BLANK else f for f in frames]
    results, recording = run(load_config(), blanked, multi_user=False)
    guided = [PRIMARY_TRACK in located.guided for located in recording.located]
    before, after = range(BLANK.start), range(BLANK.stop, FRAMES)
    assert results[0].full_detection and results[0].faces
    assert all(guided[i] and not results[i].full_detection for i in before[1:])
    assert all(results[i].faces for i in before)
    # The first blank frame is followed by the mesh, which loses the face there.
    assert guided[BLANK.start] and not results[BLANK.start].faces
    assert all(not results[i].faces for i in BLANK)
    assert all(results[i].full_detection for i in BLANK[1:])
    first = BLANK.stop
    assert results[first].full_detection and results[first].faces and not guided[first]
    assert all(guided[i] and not results[i].full_detection for i in after[1:])
    assert all(results[i].faces for i in after)
    assert {face.track_id for r in results for face in r.faces} == {PRIMARY_TRACK}


@pytest.mark.slow
@pytest.mark.parametrize("mesh_guided", [True, False], ids=["mesh-guided", "refined"])
def test_multi_user_redetects_on_a_cadence_in_seconds(shared_data: Path, mesh_guided: bool) -> None:
    """The same frames stamped at 30 and at 10 frames/s: full detection follows the
    timestamps (every REDETECT_S seconds), not a count of frames, whether the faces in
    between are followed by their mesh (the default) or refined by R-Net and O-Net."""
    config = load_config()
    detection = replace(config.detection, redetect_s=REDETECT_S, mesh_guided_multi_user=mesh_guided)
    config = replace(config, detection=detection)
    frames = clip_frames(shared_data)
    for fps in (30.0, 10.0):
        stamped = [replace(f, ts=i / fps) for i, f in enumerate(frames)]
        results, _ = run(config, stamped, multi_user=True)
        full = [r.index for r in results if r.full_detection]
        assert all(r.faces for r in results)
        assert full == list(range(0, FRAMES, round(REDETECT_S * fps))), (fps, full)
