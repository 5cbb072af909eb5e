"""The shipped drowsiness model on the UTA-RLDD fold its weights never saw, through the
evaluation entry point exactly as a user runs it (`python -m tools.eval_drowsiness`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.shared_data

HELD_OUT_FOLD = 4
"""The shipped model was trained on folds 1-3 (tools/train_drowsiness.py)."""
THREE_CLASS = 0.633
ALERT_VS_DROWSY = 0.902
"""models/README.md's figures for fold 4; ONNX Runtime versions may differ in the last
digits of a probability, not in these."""


def test_eval_tool_on_the_held_out_fold(shared_data: Path) -> None:
    folder = shared_data / "drowsiness" / "uta_rldd_blinks"
    blinks = folder / f"blinks_fold{HELD_OUT_FOLD}.npy"
    labels = folder / f"labels_fold{HELD_OUT_FOLD}.npy"
    if not blinks.is_file():
        pytest.skip(f"no UTA-RLDD blink folds at {folder}")
    done = subprocess.run(
        [sys.executable, "-m", "tools.eval_drowsiness", str(blinks), str(labels), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["windows"] == 1462
    assert result["three_class"] == pytest.approx(THREE_CLASS, abs=1e-3)
    assert result["alert_vs_drowsy"] == pytest.approx(ALERT_VS_DROWSY, abs=1e-3)
