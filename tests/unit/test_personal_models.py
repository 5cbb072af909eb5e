"""An unusable personal forecaster stops `analyze` and `monitor` with one line, storing nothing.

The file beside the database is input like any other: it may be garbage, cut short by a
full disk, or another model entirely. The command refuses it by name rather than falling
back to the shipped model (see `burnout_tui.runtime.personal_models`), and refuses it before a
database is created.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import onnx
import pytest

from burnout_tui.forecast.finetune import write_model
from burnout_tui.forecast.model import MODEL_FILENAME
from burnout_tui.models_dir import model_path
from burnout_tui.runtime.personal_models import personal_model_path
from tests.command_line import run_cli

USER = "ana"
EMOTION_MODEL = "emotion_minixception.onnx"
TRUNCATED_BYTES = 5000
"""Well inside the shipped forecaster's first initializer: the protobuf ends mid-field."""


def garbage(path: Path) -> None:
    path.write_bytes(b"not an onnx model\n")


def truncated(path: Path) -> None:
    path.write_bytes(model_path(MODEL_FILENAME).read_bytes()[:TRUNCATED_BYTES])


def other_model(path: Path) -> None:
    """The emotion CNN wearing the forecaster's metadata: loads, and fits nothing."""
    shipped = onnx.load(str(model_path(MODEL_FILENAME)))
    emotion = onnx.load(str(model_path(EMOTION_MODEL)))
    del emotion.metadata_props[:]
    emotion.metadata_props.extend(shipped.metadata_props)
    write_model(emotion, path)


BROKEN = {"garbage": garbage, "truncated": truncated, "other model": other_model}
EXPECTED = {
    "garbage": "not a readable ONNX model",
    "truncated": "not a readable ONNX model",
    "other model": "is not a forecaster",
}


def assert_refused(done: subprocess.CompletedProcess[str], model: Path, reason: str) -> None:
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Error: ") and str(model) in lines[0] and reason in lines[0]
    assert "Delete it" in lines[0]


@pytest.mark.parametrize("kind", list(BROKEN))
def test_analyze_refuses_an_unusable_personal_forecaster(tmp_path: Path, kind: str) -> None:
    db = tmp_path / "s.duckdb"
    model = personal_model_path(db, USER)
    model.parent.mkdir()
    BROKEN[kind](model)
    done = run_cli("analyze", "demo", "--user", USER, "--db", str(db))
    assert_refused(done, model, EXPECTED[kind])
    assert sorted(p.name for p in tmp_path.iterdir()) == [model.parent.name], "no database"


def test_monitor_refuses_it_before_the_screen_or_the_database(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    model = personal_model_path(db, USER)
    model.parent.mkdir()
    truncated(model)
    done = run_cli("monitor", "--source", "demo", "--user", USER, "--db", str(db))
    assert_refused(done, model, EXPECTED["truncated"])
    assert not db.exists()
