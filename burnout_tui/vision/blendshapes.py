"""MediaPipe's face blendshapes on ONNX Runtime, fed from the 468-point face mesh.

The model (`tools/convert_face_blendshapes.py`, models/README.md) takes 146 of the Face
Landmarker's 478 landmarks as (x, y) pixels and gives 52 coefficients in [0, 1]
(`measures.BLENDSHAPE_NAMES`). Ten of the 146 are the iris points 468-477,
which the 468-point mesh does not have; `iris_points` puts them where the iris sits in an
open eye looking ahead: centre = the mean of the eye's 16 contour points, the four edge
points at `IRIS_RADIUS` of the eye's corner-to-corner width along and across the eye
line. docs/action-cues.md measures what that costs against the 478-point model's own iris
(only the gaze coefficients `eyeLook*` move noticeably), and why the second mesh model is
not worth its time per face.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from burnout_tui.measures import NUM_BLENDSHAPES
from burnout_tui.vision.runtime import DEFAULT_THREADS, load_session

MODEL_FILENAME = "face_blendshapes.onnx"
INPUT_NAME = "points"
OUTPUT_NAME = "blendshapes"

BLENDSHAPE_LANDMARKS: tuple[int, ...] = (
    0, 1, 4, 5, 6, 7, 8, 10, 13, 14, 17, 21, 33, 37, 39,
    40, 46, 52, 53, 54, 55, 58, 61, 63, 65, 66, 67, 70, 78, 80,
    81, 82, 84, 87, 88, 91, 93, 95, 103, 105, 107, 109, 127, 132, 133,
    136, 144, 145, 146, 148, 149, 150, 152, 153, 154, 155, 157, 158, 159, 160,
    161, 162, 163, 168, 172, 173, 176, 178, 181, 185, 191, 195, 197, 234, 246,
    249, 251, 263, 267, 269, 270, 276, 282, 283, 284, 285, 288, 291, 293, 295,
    296, 297, 300, 308, 310, 311, 312, 314, 317, 318, 321, 323, 324, 332, 334,
    336, 338, 356, 361, 362, 365, 373, 374, 375, 377, 378, 379, 380, 381, 382,
    384, 385, 386, 387, 388, 389, 390, 397, 398, 400, 402, 405, 409, 415, 454,
    466, 468, 469, 470, 471, 472, 473, 474, 475, 476, 477,
)  # fmt: skip
"""The model's 146 inputs, in its order: MediaPipe's `kLandmarksSubsetIdxs`
(`face_blendshapes_graph.cc`), indices into the 478-point Face Landmarker topology."""

MESH_POINTS = 468
IRIS_POINTS = 478

RIGHT_EYE_CONTOUR = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
LEFT_EYE_CONTOUR = (362, 382, 381, 380, 374, 373, 390, 249, 263, 466, 388, 387, 386, 385, 384, 398)
"""The 16 lid-contour points of each eye (MediaPipe's FACEMESH_RIGHT_EYE / LEFT_EYE); right
is the person's right eye, on the image's left. Each starts at its image-left corner and
has its image-right corner at `RIGHT_CORNER`."""
RIGHT_CORNER = 8
"""The Face Landmarker's points 468-472 are the person's right iris (centre, then four edge
points) and 473-477 the left: `iris_points` appends them in that order."""
MIN_EYE_WIDTH_PX = 1e-6
"""Guards the eye-line direction against a degenerate (zero-width) eye."""
IRIS_RADIUS = 0.22
"""Iris radius as a share of the eye's corner-to-corner width: 0.20-0.25 in the 478-point
model's own output on the shared photos (docs/action-cues.md); anatomically the iris is
about 11.7 mm across and the eye opening about 28-30 mm wide."""

Points = npt.NDArray[np.float32]

EYE_CONTOURS = np.array([RIGHT_EYE_CONTOUR, LEFT_EYE_CONTOUR])
IRIS_ORDER = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, -1.0], [-1.0, 0.0], [0.0, 1.0]], np.float32)
"""Each iris's five points as (along, across) multiples of its radius: the Face
Landmarker's order for both eyes is the centre, then towards the image's right along the
eye line, up, left, down (image y points down, `across` is the eye line turned by +90°)."""
MESH_INPUTS = np.array([index for index in BLENDSHAPE_LANDMARKS if index < MESH_POINTS])
"""The model's inputs the 468-point mesh has; the other ten, last in the model's order,
are the iris points 468-477 in order, which `irises` gives."""


def irises(mesh_points: Points) -> Points:
    """The Face Landmarker's ten iris points (468-477: right iris, then left) placed on a
    (468, 3) mesh's eyes, (10, 3); their z is the eye's mean depth."""
    if mesh_points.shape != (MESH_POINTS, 3):
        raise ValueError(f"expected ({MESH_POINTS}, 3) mesh points, found {mesh_points.shape}")
    eyes = mesh_points[EYE_CONTOURS]
    centres = eyes.mean(axis=1)
    along = eyes[:, RIGHT_CORNER] - eyes[:, 0]
    widths = np.maximum(np.hypot(along[:, 0], along[:, 1]), MIN_EYE_WIDTH_PX)
    direction = along / widths[:, None]
    across = np.zeros_like(direction)
    across[:, 0], across[:, 1] = -direction[:, 1], direction[:, 0]
    radii = IRIS_RADIUS * widths
    offsets = (
        IRIS_ORDER[None, :, :1] * direction[:, None] + IRIS_ORDER[None, :, 1:] * across[:, None]
    )
    points: Points = (centres[:, None] + radii[:, None, None] * offsets).astype(np.float32)
    return points.reshape(-1, 3)


def iris_points(mesh_points: Points) -> Points:
    """The 478-point topology from a (468, 3) mesh (x, y, z), with placed iris points."""
    return np.vstack([mesh_points, irises(mesh_points)]).astype(np.float32)


def model_input(points: Points) -> Points:
    """The model's (146, 2) input from 468 or 478 landmarks in pixels."""
    if points.shape[0] == MESH_POINTS:
        both = (points[MESH_INPUTS, :2], irises(points)[:, :2])
        return np.concatenate(both).astype(np.float32, copy=False)
    if points.shape[0] != IRIS_POINTS:
        raise ValueError(f"expected {MESH_POINTS} or {IRIS_POINTS} points, found {len(points)}")
    return np.ascontiguousarray(points[list(BLENDSHAPE_LANDMARKS), :2], dtype=np.float32)


class FaceBlendshapes:
    """The 52 coefficients of every face of a frame, in one batch."""

    def __init__(self, threads: int = DEFAULT_THREADS, model: str | Path = MODEL_FILENAME) -> None:
        """`model` is the shipped file by default; a path is another graph of the same model
        (the bench's unfused translation)."""
        self.session = load_session(model, threads)

    def run(self, inputs: Points) -> Points:
        """The model on a (N, 146, 2) batch: (N, 52) coefficients."""
        (coefficients,) = self.session.run([OUTPUT_NAME], {INPUT_NAME: inputs})
        result: Points = np.asarray(coefficients, dtype=np.float32)
        return result

    def predict(self, meshes: Sequence[Points]) -> Points:
        """(N, 52) for N faces' landmarks in frame pixels: each a (468, 3) mesh or (478, 2+)
        Face Landmarker points."""
        if not meshes:
            return np.zeros((0, NUM_BLENDSHAPES), dtype=np.float32)
        return self.run(np.stack([model_input(points) for points in meshes]))
