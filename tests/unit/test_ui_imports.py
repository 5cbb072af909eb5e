"""The monitor's UI process loads no model runtime and no database: ONNX Runtime, OpenCV,
DuckDB and Arrow live in the capture process, and the results the UI unpickles, like the
query functions it names to that process, come from modules that load none of them."""

from __future__ import annotations

import subprocess
import sys

CAPTURE_ONLY = ("onnxruntime", "cv2", "duckdb", "pyarrow", "burnout_tui.runtime.pipeline")
"""Tens of megabytes each that the UI process would hold for nothing (issue #12's RSS target)."""

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
import burnout_tui.tui.screens.history_screen, burnout_tui.tui.screens.survey_screen
pickle.loads(payload)
print(" ".join(sorted(name for name in {mods} if name in sys.modules)))
"""


def test_the_ui_process_loads_no_model_runtime_or_database() -> None:
    probe = PROBE.replace("{mods}", repr(CAPTURE_ONLY))
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.split() == []


def test_the_store_package_exports_load_on_first_use() -> None:
    import importlib

    import burnout_tui.store as store

    for name, module in store.EXPORTS.items():
        value = getattr(store, name)
        defined = importlib.import_module(module)
        assert getattr(defined, name) is value, name
