"""A few vertices of MediaPipe's canonical face model, the 3D reference for head pose.

Copied from `mediapipe/modules/face_geometry/data/canonical_face_model.obj` (MediaPipe,
Copyright Google LLC, Apache License 2.0), whose vertex i is face-mesh landmark i. The
model is in centimetres, y up and z towards the viewer; the values below are rewritten in
OpenCV's camera axes (x right, y down, z away from the viewer, i.e. (x, -y, -z)), so a face
looking straight into the camera has the identity rotation.

Only rigid landmarks are kept: the nose ridge and wings, the forehead and the eye
corners. Lips, jaw, lids and brows move with expression (a yawn drops the chin by
centimetres), and the contour points slide along the visible edge of a turned face, so
either would bend the pose towards whatever the face is doing.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

NUM_LANDMARKS = 468
"""Vertices of the canonical face, one per face-mesh landmark: the mesh's topology."""

_OBJ_VERTICES: dict[int, tuple[float, float, float]] = {
    1: (0.000000, -1.126865, 7.475604),  # nose tip
    4: (0.000000, -0.463170, 7.586580),
    5: (0.000000, 0.365669, 7.242870),
    195: (0.000000, 1.059413, 6.774605),
    197: (0.000000, 1.728369, 6.316750),
    6: (0.000000, 2.473255, 5.788627),
    168: (0.000000, 3.271027, 5.236015),  # between the eyes
    9: (0.000000, 4.885979, 5.385258),
    151: (0.000000, 6.545390, 5.027311),
    10: (0.000000, 8.261778, 4.481535),  # top of the forehead
    108: (-1.619500, 6.599217, 4.921106),
    337: (1.619500, 6.599217, 4.921106),
    67: (-3.523964, 8.005976, 3.729163),
    297: (3.523964, 8.005976, 3.729163),
    33: (-4.445859, 2.663991, 3.173422),  # outer corner, the person's right eye
    133: (-1.856432, 2.585245, 3.757904),  # inner corner, the person's right eye
    263: (4.445859, 2.663991, 3.173422),  # outer corner, the person's left eye
    362: (1.856432, 2.585245, 3.757904),  # inner corner, the person's left eye
    98: (-1.405627, -1.714196, 5.241087),  # nose wings
    327: (1.405627, -1.714196, 5.241087),
    129: (-1.785794, -0.978284, 4.850470),
    358: (1.785794, -0.978284, 4.850470),
}

POSE_LANDMARKS: tuple[int, ...] = tuple(_OBJ_VERTICES)
"""Face-mesh landmark indices used for head pose, in the row order of POSE_MODEL."""

POSE_MODEL: npt.NDArray[np.float64] = np.array(
    [(x, -y, -z) for x, y, z in _OBJ_VERTICES.values()], dtype=np.float64
)
"""(N, 3) canonical positions of POSE_LANDMARKS in centimetres, OpenCV camera axes."""
