"""Feed the blendshapes from the 468-point mesh, or from the bundle's 478-point model?

Development-time study (docs/action-cues.md has its output). On every MTCNN face of the
shared photos, and on every `STEP`-th frame of the shared talking-head clips, it computes
the 52 coefficients three ways, all with the converted ONNX blendshape model:
- `mesh468`: today's pipeline, the 468-point mesh with placed iris points
  (`vision.blendshapes.iris_points`);
- `lm478`: the bundle's `face_landmarks_detector.tflite` (478 points with the iris), run by
  LiteRT on MediaPipe's 256×256 crop of the same ROI, as MediaPipe's Face Landmarker does;
- `lm478_placed`: lm478's first 468 points with placed iris points (what placing costs).
It also checks the ONNX model against LiteRT's original on both feeds (parity), times the
two landmark models in LiteRT (their ratio estimates the 478 model's cost on ORT), and
counts `eye_blink` blinks on every frame of d6 and d9 against their hand-labelled blinks.

    BURNOUT_TUI_DATA=../shared/data python -m tools.blendshape_study [--step 3]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from ai_edge_litert.interpreter import Interpreter

from burnout_tui.scoring.action_cues import ACTION_CUES, BLENDSHAPE_NAMES
from burnout_tui.vision.blendshapes import FaceBlendshapes, iris_points, model_input
from burnout_tui.vision.detector import FaceDetector
from burnout_tui.vision.face import Face
from burnout_tui.vision.mesh import INPUT_SIZE, FaceMesh, roi_matrix, to_frame
from tools import convert_face_blendshapes, convert_face_mesh

LANDMARKER_MEMBER = "face_landmarks_detector.tflite"
LANDMARKER_SHA256 = "c7d54204ce0448474c7f3fa9af494787c0965cbdd6f20fc72867e43046bd43d5"
LANDMARKER_SIZE = 256
CLIPS = ("d0", "d3", "d6", "d9", "d10", "d11", "d12")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
TIMING_RUNS = 200
Array = npt.NDArray[np.float32]


class Landmarker478:
    """The bundle's 478-point model on LiteRT, fed MediaPipe's crop of our ROI."""

    def __init__(self, bundle: Path) -> None:
        data = convert_face_blendshapes.read_member(bundle, LANDMARKER_MEMBER, LANDMARKER_SHA256)
        self.interpreter = Interpreter(model_content=data, num_threads=2)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]["index"]
        outputs = self.interpreter.get_output_details()
        self.landmarks = next(o["index"] for o in outputs if o["shape"][-1] == 478 * 3)

    def crop(self, image: npt.NDArray[np.uint8], face: Face) -> tuple[Array, Any]:
        matrix = roi_matrix(face) * (LANDMARKER_SIZE / INPUT_SIZE)
        crop = cv2.warpAffine(
            image,
            matrix,
            (LANDMARKER_SIZE, LANDMARKER_SIZE),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        return (crop[:, :, ::-1].astype(np.float32) / 255.0)[None], matrix

    def predict(self, image: npt.NDArray[np.uint8], face: Face) -> Array:
        tensor, matrix = self.crop(image, face)
        self.interpreter.set_tensor(self.input, np.ascontiguousarray(tensor))
        self.interpreter.invoke()
        points = self.interpreter.get_tensor(self.landmarks).reshape(478, 3)
        return to_frame(points, matrix)

    def time_ms(self, image: npt.NDArray[np.uint8], face: Face) -> float:
        tensor, _ = self.crop(image, face)
        self.interpreter.set_tensor(self.input, np.ascontiguousarray(tensor))
        start = time.perf_counter()
        for _ in range(TIMING_RUNS):
            self.interpreter.invoke()
        return 1000 * (time.perf_counter() - start) / TIMING_RUNS


class LiteBlendshapes:
    def __init__(self, bundle: Path) -> None:
        self.interpreter = Interpreter(
            model_content=convert_face_blendshapes.reference_model(bundle), num_threads=2
        )
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]["index"]
        self.output = self.interpreter.get_output_details()[0]["index"]

    def run(self, inputs: Array) -> Array:
        out = []
        for one in inputs:
            self.interpreter.set_tensor(self.input, one[None])
            self.interpreter.invoke()
            out.append(self.interpreter.get_tensor(self.output).copy())
        return np.array(out)


def faces_of_photos(data: Path, detector: FaceDetector) -> list[tuple[Any, Face]]:
    photos = sorted(p for p in (data / "faces").iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    found = []
    for photo in photos:
        image = cv2.imread(str(photo), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
        pixels = np.asarray(image, dtype=np.uint8)
        found += [(pixels, face) for face in detector.detect(pixels)]
    return found


def frames_of_clip(path: Path, step: int, detector: FaceDetector) -> list[tuple[Any, Face]]:
    capture = cv2.VideoCapture(str(path))
    found, index = [], 0
    while True:
        ok, image = capture.read()
        if not ok:
            break
        if index % step == 0:
            pixels = np.asarray(image, dtype=np.uint8)
            faces = detector.detect(pixels)
            if faces:
                largest = max(faces, key=lambda f: f.box[2] * f.box[3])
                found.append((pixels, largest))
        index += 1
    return found


def feeds(
    samples: list[tuple[Any, Face]], mesh: FaceMesh, landmarker: Landmarker478
) -> dict[str, Array]:
    ours, theirs, placed, presence = [], [], [], []
    for image, face in samples:
        (fitted,) = mesh.predict(image, [face])
        ours.append(model_input(fitted.points))
        presence.append(fitted.presence)
        full = landmarker.predict(image, face)
        theirs.append(model_input(full))
        placed.append(model_input(iris_points(full[:468])))
    return {
        "mesh468": np.array(ours),
        "lm478": np.array(theirs),
        "lm478_placed": np.array(placed),
        "presence": np.array(presence),
    }


def compare(a: Array, b: Array) -> dict[str, Any]:
    diff = np.abs(a - b)
    per = diff.mean(axis=0)
    worst = np.argsort(per)[::-1][:5]
    cues = {
        cue.name: round(
            float(np.abs(a[:, cue.indices].mean(1) - b[:, cue.indices].mean(1)).mean()), 4
        )
        for cue in ACTION_CUES
    }
    return {
        "mean_abs": round(float(diff.mean()), 4),
        "worst": {BLENDSHAPE_NAMES[i]: round(float(per[i]), 4) for i in worst},
        "cue_mean_abs": cues,
    }


BLINK_CLIPS = ("d6", "d9")
BLINK_THRESHOLDS = (0.5, 0.35)
BLINK_RELEASE = 0.7
"""A blink ends when `eye_blink` falls below this share of the threshold it rose above."""
MATCH_BEFORE, MATCH_AFTER = 3, 8


def blink_events(series: Array, threshold: float) -> list[int]:
    closed, starts = False, []
    for i, value in enumerate(series):
        if not closed and value >= threshold:
            closed = True
            starts.append(i)
        elif closed and value < BLINK_RELEASE * threshold:
            closed = False
    return starts


def blink_table(
    data: Path,
    detector: FaceDetector,
    mesh: FaceMesh,
    landmarker: Landmarker478,
    blend: FaceBlendshapes,
) -> dict[str, Any]:
    """`eye_blink` blinks on every frame of the clips with hand-labelled blinks, both feeds."""
    from tests.integration.test_fatigue_video import D6_BLINKS, D9_BLINKS

    truth = {"d6": D6_BLINKS, "d9": D9_BLINKS}
    (cue,) = [c for c in ACTION_CUES if c.name == "eye_blink"]
    result: dict[str, Any] = {}
    for clip in BLINK_CLIPS:
        samples = frames_of_clip(data / "videos" / f"liveportrait_{clip}.mp4", 1, detector)
        clip_feeds = feeds(samples, mesh, landmarker)
        closed = np.zeros(len(samples), dtype=bool)
        for first, last in truth[clip]:
            closed[first : last + 1] = True
        for feed in ("mesh468", "lm478"):
            series = blend.run(clip_feeds[feed])[:, list(cue.indices)].mean(axis=1)
            counts = {}
            for threshold in BLINK_THRESHOLDS:
                events = blink_events(series, threshold)
                matched = sum(
                    any(first - MATCH_BEFORE <= e <= last + MATCH_AFTER for e in events)
                    for first, last in truth[clip]
                )
                counts[str(threshold)] = {"events": len(events), "matched": matched}
            result[f"{clip}/{feed}"] = {
                "closed_median": round(float(np.median(series[closed])), 3),
                "open_median": round(float(np.median(series[~closed])), 3),
                "open_p99": round(float(np.percentile(series[~closed], 99)), 3),
                "truth": len(truth[clip]),
                **counts,
            }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--step", type=int, default=3)
    parser.add_argument("--bundle", type=Path, default=None)
    args = parser.parse_args()
    data = Path(os.environ["BURNOUT_TUI_DATA"])
    bundle = convert_face_blendshapes.bundle_path(args.bundle)
    detector, mesh = FaceDetector(), FaceMesh()
    landmarker, blend, lite = Landmarker478(bundle), FaceBlendshapes(), LiteBlendshapes(bundle)
    report: dict[str, Any] = {}

    photos = faces_of_photos(data, detector)
    photo_feeds = feeds(photos, mesh, landmarker)
    real = photo_feeds["presence"] >= 0.5
    parity = {}
    for name in ("mesh468", "lm478"):
        inputs = photo_feeds[name]
        parity[name] = float(np.abs(blend.run(inputs) - lite.run(inputs)).max())
    report["photos"] = {"faces": len(photos), "real_faces": int(real.sum()), "parity_max": parity}
    coeffs = {k: blend.run(photo_feeds[k][real]) for k in ("mesh468", "lm478", "lm478_placed")}
    report["photos"]["mesh468_vs_lm478"] = compare(coeffs["mesh468"], coeffs["lm478"])
    report["photos"]["lm478_placed_vs_lm478"] = compare(coeffs["lm478_placed"], coeffs["lm478"])

    image, face = photos[0]
    mesh_wheel = convert_face_mesh.MEDIAPIPE_WHEEL
    mesh_lite = Interpreter(
        model_content=mesh_wheel.read_member(mesh_wheel.find(None)), num_threads=2
    )
    mesh_lite.allocate_tensors()
    start = time.perf_counter()
    for _ in range(TIMING_RUNS):
        mesh_lite.invoke()
    report["litert_ms"] = {
        "mesh468": round(1000 * (time.perf_counter() - start) / TIMING_RUNS, 3),
        "lm478": round(landmarker.time_ms(image, face), 3),
    }

    report["clips"] = {}
    for clip in CLIPS:
        samples = frames_of_clip(data / "videos" / f"liveportrait_{clip}.mp4", args.step, detector)
        clip_feeds = feeds(samples, mesh, landmarker)
        ours = blend.run(clip_feeds["mesh468"])
        theirs = blend.run(clip_feeds["lm478"])
        result = compare(ours, theirs)
        result["frames"] = len(samples)
        result["cue_correlation"] = {
            cue.name: round(
                float(
                    np.corrcoef(ours[:, cue.indices].mean(1), theirs[:, cue.indices].mean(1))[0, 1]
                ),
                3,
            )
            for cue in ACTION_CUES
        }
        report["clips"][clip] = result
        print(clip, json.dumps(result), flush=True)
    report["blinks"] = blink_table(data, detector, mesh, landmarker, blend)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
