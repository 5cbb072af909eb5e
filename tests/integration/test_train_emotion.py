"""tools/train_emotion.py end to end on a tiny subset, where PyTorch is installed.

CI has no PyTorch (the app never needs it), so this skips there; where it runs it checks
that the trainer writes a file meeting the contract's names, and that a rerun with the same
seed writes the same bytes.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import onnx
import pytest

from tools.emotion_onnx import FEATURES_NAME, PROBS_NAME

SMOKE = ["--limit", "256", "--epochs", "1"]


@pytest.mark.slow
@pytest.mark.shared_data
@pytest.mark.skipif(
    importlib.util.find_spec("torch") is None, reason="PyTorch is not installed (training only)"
)
def test_tiny_run_writes_the_same_model_twice(shared_data: Path, tmp_path: Path) -> None:
    from tools import train_emotion

    outputs = []
    for run in ("a", "b"):
        out = tmp_path / run / "model.onnx"
        args = [*SMOKE, "--out", str(out), "--report", str(tmp_path / run / "report")]
        assert train_emotion.main([*args, "--workdir", str(tmp_path / run / "work")]) == 0
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    model = onnx.load_from_string(outputs[0])
    assert [o.name for o in model.graph.output] == [PROBS_NAME, FEATURES_NAME]
    assert (tmp_path / "a" / "report" / "curve.csv").exists()
