"""The monitor's UI process loads no model runtime: ONNX Runtime and OpenCV live in the
capture process, and the results the UI unpickles come from modules that load neither."""

from __future__ import annotations

import subprocess
import sys

MODEL_MODULES = ("onnxruntime", "cv2", "burnout_tui.runtime.pipeline")

PROBE = """
import pickle, sys
import numpy as np
from burnout_tui.runtime.results import FaceResult, FrameResult
from burnout_tui.runtime.worker_status import WorkerState, WorkerStatus
from burnout_tui.vision.face import Face
face = FaceResult(0, Face((1, 2, 3, 4), 0.9, {}), np.zeros(7, np.float32),
                  np.zeros(3, np.float32), 0.1, 0.2)
payload = pickle.dumps((FrameResult(0, 0.0, (face,), True),
                        WorkerStatus(WorkerState.RUNNING, "", 1, 1, 1, 0, 30.0, "demo", None)))
import burnout_tui.tui.app, burnout_tui.tui.run, burnout_tui.runtime.capture_process
pickle.loads(payload)
print(" ".join(sorted(name for name in {mods} if name in sys.modules)))
"""


def test_the_ui_process_loads_no_model_runtime() -> None:
    probe = PROBE.replace("{mods}", repr(MODEL_MODULES))
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.split() == []
