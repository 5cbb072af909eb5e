"""Where a person's fine-tuned forecaster lives, and which forecaster a session uses.

A personal model is kept beside the database it was trained from (`sessions.duckdb` →
`sessions.forecasters/NAME.onnx`): it is derived from that database's biometric rows, so
it travels, is backed up and is deleted with them, and two databases never share one by
accident. The folder is private to the user, like the database file.

A personal model that cannot be used (garbage, truncated, another model, another
version's inputs) stops the command with one line naming the file, rather than falling
back to the shipped model: the forecasts a session stores do not say which model made
them, so a silent fallback would store the shipped model's numbers where the researcher
expects the person's own, and the monitor's full-screen UI would hide any warning.
"""

from __future__ import annotations

import re
from pathlib import Path

from burnout_tui.config import Config
from burnout_tui.errors import UserError
from burnout_tui.forecast.model import Forecaster, IncompatibleModelError

FOLDER_SUFFIX = ".forecasters"

_UNSAFE = re.compile(r"[^A-Za-z0-9.-]")


class PersonalModelError(UserError):
    """The person's forecaster file exists but cannot be used; the message says what to do."""


def personal_model_path(db_path: Path, user: str) -> Path:
    """`NAME.onnx` in the database's forecaster folder; characters that are not safe in
    a file name are replaced by their code point, so different names never collide."""
    safe = _UNSAFE.sub(lambda match: f"_{ord(match.group()):x}_", user)
    return db_path.with_name(db_path.stem + FOLDER_SUFFIX) / f"{safe}.onnx"


def load_forecaster(config: Config, db_path: Path | None, user: str | None) -> Forecaster | None:
    """The person's own model when `train` kept one, else the shipped model; None when
    forecasting is off, the face mesh that feeds it is, the scoring weights differ from
    those it was trained with (its forecasts would be on another scale), or it was trained
    on another emotion model's probabilities (another input distribution).

    Raises PersonalModelError for a personal file that cannot be used, and the shipped
    model's IncompatibleModelError (a UserError too) for a damaged installation; both are
    raised before anything is stored, so callers load the forecaster before they write."""
    if not (config.forecast.enabled and config.mesh.enabled):
        return None
    forecaster = Forecaster()
    if db_path is not None and user is not None:
        personal = personal_model_path(db_path, user)
        if personal.is_file():
            try:
                forecaster = Forecaster(personal)
            except IncompatibleModelError as error:
                raise PersonalModelError(
                    f"{user}'s personal forecaster cannot be used: {error}. Delete it to use "
                    f"the shipped forecaster (`burnout-tui train --user {user} --db {db_path}` may "
                    "fit a new one)"
                ) from None
    usable = forecaster.matches_scoring(config.scoring) and forecaster.matches_emotion(
        config.emotion
    )
    return forecaster if usable else None


def forecaster_label(forecaster: Forecaster) -> str:
    """How results and the monitor name the forecaster behind the forecast column."""
    label = f"LSTM, {forecaster.horizon_s:g} s ahead"
    return f"{label}, experimental" if forecaster.experimental else label
