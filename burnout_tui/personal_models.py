"""Where a person's fine-tuned forecaster lives, and which forecaster a session uses.

A personal model is kept beside the database it was trained from (`sessions.duckdb` →
`sessions.forecasters/NAME.onnx`): it is derived from that database's biometric rows, so
it travels, is backed up and is deleted with them, and two databases never share one by
accident. The folder is private to the user, like the database file.
"""

from __future__ import annotations

import re
from pathlib import Path

from burnout_tui.config import Config
from burnout_tui.forecast.model import Forecaster

FOLDER_SUFFIX = ".forecasters"

_UNSAFE = re.compile(r"[^A-Za-z0-9.-]")


def personal_model_path(db_path: Path, user: str) -> Path:
    """`NAME.onnx` in the database's forecaster folder; characters that are not safe in
    a file name are replaced by their code point, so different names never collide."""
    safe = _UNSAFE.sub(lambda match: f"_{ord(match.group()):x}_", user)
    return db_path.with_name(db_path.stem + FOLDER_SUFFIX) / f"{safe}.onnx"


def load_forecaster(config: Config, db_path: Path | None, user: str | None) -> Forecaster | None:
    """The person's own model when `train` kept one, else the shipped model; None when
    forecasting is off, the face mesh that feeds it is, or the scoring weights differ from
    those it was trained with (its forecasts would be on another scale)."""
    if not (config.forecast.enabled and config.mesh.enabled):
        return None
    forecaster = Forecaster()
    if db_path is not None and user is not None:
        personal = personal_model_path(db_path, user)
        if personal.is_file():
            forecaster = Forecaster(personal)
    return forecaster if forecaster.matches_scoring(config.scoring) else None


def forecaster_label(forecaster: Forecaster) -> str:
    """How results and the monitor name the forecaster behind the forecast column."""
    label = f"LSTM, {forecaster.horizon_s:g} s ahead"
    return f"{label}, experimental" if forecaster.experimental else label
