"""Run the drowsiness model (`models/drowsiness_blinks.onnx`) with ONNX Runtime.

The model reads windows of 30 consecutive blinks, each blink's four features normalised by
the person's own baseline (`signals.blinks`, `signals.blink_baseline`), and gives the
probabilities of the dataset's three levels, alert, low vigilant and drowsy
(`signals.drowsiness.LEVELS`). Its session comes from `vision.runtime` like every model's;
the wrapper sits in the runtime because it joins the two (the vision and signals packages
are independent of each other). How it was trained, and how well it does on people it
never saw, is in models/README.md and docs/drowsiness.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
from onnxruntime.capi.onnxruntime_pybind11_state import (
    Fail,
    InvalidArgument,
    InvalidGraph,
    InvalidProtobuf,
    NoSuchFile,
)

from burnout_tui.errors import UserError
from burnout_tui.signals.blinks import BLINK_FEATURES
from burnout_tui.signals.drowsiness import LEVELS, WINDOW_BLINKS
from burnout_tui.vision.runtime import load_session

MODEL_FILENAME = "drowsiness_blinks.onnx"
INPUT_NAME = "blinks"
"""(N, 30, 4) float32: 30 consecutive normalised blinks × `BLINK_FEATURES`."""
PROBABILITIES_NAME = "probabilities"
"""(N, 3) float32: a probability per level, `LEVELS` order."""
EXPECTED_NAME = "expected_level"
"""(N,) float32: the probabilities' expected value on the dataset's 0-10 scale."""


class DrowsinessModelError(UserError):
    """The model file cannot be used: unreadable, or not the inputs and outputs expected."""


class DrowsinessModel:
    """The ONNX model with its interface checked once, at load."""

    def __init__(self, model: str | Path = MODEL_FILENAME, threads: int = 1) -> None:
        try:
            self.session = load_session(model, threads)
        except (Fail, InvalidArgument, InvalidGraph, InvalidProtobuf, NoSuchFile) as error:
            raise DrowsinessModelError(
                f"cannot load the drowsiness model {model}: {error}"
            ) from None
        inputs = {item.name: item.shape for item in self.session.get_inputs()}
        outputs = {item.name: item.shape for item in self.session.get_outputs()}
        expected_input = [WINDOW_BLINKS, len(BLINK_FEATURES)]
        if INPUT_NAME not in inputs or list(inputs[INPUT_NAME][1:]) != expected_input:
            raise DrowsinessModelError(
                f"{model}: expected an input {INPUT_NAME!r} of shape (N, {WINDOW_BLINKS}, "
                f"{len(BLINK_FEATURES)}), got {inputs}"
            )
        if PROBABILITIES_NAME not in outputs or outputs[PROBABILITIES_NAME][1:] != [len(LEVELS)]:
            raise DrowsinessModelError(
                f"{model}: expected an output {PROBABILITIES_NAME!r} of shape "
                f"(N, {len(LEVELS)}), got {outputs}"
            )

    def predict(self, windows: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """(N, 3) level probabilities of (N, 30, 4) windows."""
        batch = np.ascontiguousarray(windows, dtype=np.float32)
        if batch.ndim != 3 or batch.shape[1:] != (WINDOW_BLINKS, len(BLINK_FEATURES)):
            raise ValueError(
                f"expected windows of shape (N, {WINDOW_BLINKS}, {len(BLINK_FEATURES)}), "
                f"got {batch.shape}"
            )
        if batch.shape[0] == 0:
            return np.zeros((0, len(LEVELS)), dtype=np.float32)
        (probabilities,) = self.session.run([PROBABILITIES_NAME], {INPUT_NAME: batch})
        return np.asarray(probabilities, dtype=np.float32)
