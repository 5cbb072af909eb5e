"""MediaPipe's 468-point face mesh on ONNX Runtime, fed the crop MediaPipe would feed it.

MediaPipe turns a face detection into the model's input in three steps, copied here:
- `DetectionsToRectsCalculator`: a rectangle centred on the detection box, rotated so the
  line from the first eye to the second is horizontal;
- `RectTransformationCalculator`: made square on its long side and scaled (1.5 for
  MediaPipe's own detector, `ROI_SCALE` here for MTCNN's box);
- `ImageToTensorCalculator`: the rotated square warped onto 192×192 with bilinear sampling
  and a replicated border, RGB scaled to [0, 1]. The square's edges land on the tensor's
  edges (0 and 192), which is also how `LandmarkProjectionCalculator` maps the landmarks
  back: the inverse of the same affine map, with z scaled like x and y.

A face without usable keypoints gets the same square, unrotated.
The model is built by `tools/convert_face_mesh.py` (models/README.md: provenance, parity).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from burnout_tui.vision.align import MIN_EYE_DISTANCE_PX
from burnout_tui.vision.face import Face
from burnout_tui.vision.runtime import DEFAULT_THREADS, load_session

MODEL_FILENAME = "face_mesh.onnx"
INPUT_NAME = "image"
LANDMARKS_NAME = "landmarks"
PRESENCE_NAME = "presence"
INPUT_SIZE = 192
"""Side of the square RGB crop the model takes."""
PIXEL_MAX = 255.0
"""ImageToTensorCalculator's `output_tensor_float_range {min: 0 max: 1}`: x / 255."""

ROI_SCALE = 1.4
"""Side of the square crop as a multiple of the long side of MTCNN's box.

MediaPipe's 1.5 is for its own detector's box. MTCNN's is taller (it reaches up the
forehead), so 1.5 frames the face a little loosely; 1.4 comes closest to the crop MediaPipe
itself feeds the model while it tracks a face, and gives the landmarks closest to that
crop's and to dlib's hand-labelled ones, while keeping presence high on every real face
(docs/detection.md has the comparison; models/README.md the parity)."""

PRESENCE_THRESHOLD = 0.5
"""MediaPipe's `ThresholdingCalculator` drops the landmarks of a face below this."""

Matrix = npt.NDArray[np.float64]
"""A 2x3 affine map between frame pixels and the model's 192-pixel crop."""
ImageBGR = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class Mesh:
    """One face's landmarks in frame pixels.

    `points` is (468, 3) float32: x, y in frame pixels, z the model's relative depth in the
    same pixel scale (smaller is nearer the camera; MediaPipe's topology, e.g. 33/133 and
    362/263 the eye corners, 61/291 the mouth corners, 1 the nose tip).
    """

    points: npt.NDArray[np.float32]
    presence: float


def _eye_angle(face: Face) -> float:
    """The eye line's angle in radians, or 0 when the keypoints cannot give one."""
    left, right = face.keypoints.get("left_eye"), face.keypoints.get("right_eye")
    if left is None or right is None:
        return 0.0
    dx, dy = right[0] - left[0], right[1] - left[1]
    if math.hypot(dx, dy) < MIN_EYE_DISTANCE_PX or not math.isfinite(dx + dy):
        return 0.0
    return math.atan2(dy, dx)


def roi_matrix(face: Face, scale: float = ROI_SCALE) -> Matrix:
    """The 2x3 affine taking frame pixels into the 192×192 crop of `face`.

    The crop is a square of side `scale` × the box's long side, centred on the box and
    rotated by the eye line's angle, so the eyes come out level.
    """
    x, y, w, h = face.box
    side = max(w, h) * scale
    if side <= 0:
        raise ValueError(f"face box {face.box} has no area")
    angle = _eye_angle(face)
    zoom = INPUT_SIZE / side
    cos, sin = math.cos(angle) * zoom, math.sin(angle) * zoom
    linear = np.array([[cos, sin], [-sin, cos]])  # rotation by -angle, then zoom
    center = np.array([x + w / 2.0, y + h / 2.0])
    half = INPUT_SIZE / 2.0
    return np.hstack([linear, (half - linear @ center)[:, None]])


def crop_tensor(
    image: ImageBGR, face: Face, scale: float = ROI_SCALE
) -> tuple[npt.NDArray[np.float32], Matrix]:
    """The model's input for one face, (3, 192, 192) RGB float32 in [0, 1], and its matrix.

    Warping before the colour conversion and scaling touches only 192² pixels; the
    uint8 warp then float scaling is also ImageToTensorCalculator's own order.
    """
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected a uint8 (H, W, 3) BGR image, got {image.dtype} {image.shape}")
    matrix = roi_matrix(face, scale)
    crop = cv2.warpAffine(
        image,
        matrix,
        (INPUT_SIZE, INPUT_SIZE),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    rgb = np.ascontiguousarray(crop[:, :, ::-1].transpose(2, 0, 1))
    return rgb.astype(np.float32) / np.float32(PIXEL_MAX), matrix


def to_frame(points: npt.NDArray[np.float32], matrix: Matrix) -> npt.NDArray[np.float32]:
    """Landmarks from crop pixels (x, y, z) back to frame pixels through the inverse affine.

    z has no frame axis of its own; it is scaled by the crop's pixel size in the frame,
    as MediaPipe's LandmarkProjectionCalculator scales it by the ROI's width.
    """
    inverse = cv2.invertAffineTransform(matrix)
    xy = points[:, :2].astype(np.float64) @ inverse[:, :2].T + inverse[:, 2]
    pixel = math.sqrt(abs(float(np.linalg.det(inverse[:, :2]))))
    z = points[:, 2:].astype(np.float64) * pixel
    return np.hstack([xy, z]).astype(np.float32)


class FaceMesh:
    """Every face of a call goes through one ONNX Runtime run, as a batch."""

    def __init__(self, threads: int = DEFAULT_THREADS) -> None:
        self.session = load_session(MODEL_FILENAME, threads=threads)

    def run(
        self, crops: npt.NDArray[np.float32]
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """Raw model output for (N, 3, 192, 192) crops: (N, 468, 3) crop-pixel landmarks
        and (N,) presence probabilities."""
        landmarks, presence = self.session.run([LANDMARKS_NAME, PRESENCE_NAME], {INPUT_NAME: crops})
        return np.asarray(landmarks, dtype=np.float32), np.asarray(presence, dtype=np.float32)

    def predict(self, image: ImageBGR, faces: Sequence[Face]) -> list[Mesh]:
        """One mesh per face, in order, with landmarks in `image`'s pixels.

        Every face gets a mesh; `presence` says whether the model saw a face in its crop
        (MediaPipe discards meshes below PRESENCE_THRESHOLD).
        """
        if not faces:
            return []
        crops, matrices = zip(*(crop_tensor(image, face) for face in faces), strict=True)
        landmarks, presence = self.run(np.stack(crops))
        return [
            Mesh(points=to_frame(points, matrix), presence=float(probability))
            for points, matrix, probability in zip(landmarks, matrices, presence, strict=True)
        ]
