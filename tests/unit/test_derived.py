"""Values written once and derived everywhere else (issue #11, item 3): each test fails
when a copy drifts from its definition."""

from __future__ import annotations

import io
import tokenize
from dataclasses import fields
from pathlib import Path
from typing import get_type_hints

import pytest

from burnout_tui import file_modes
from burnout_tui.config import FatigueConfig
from burnout_tui.forecast.inputs import FATIGUE_INPUTS
from burnout_tui.scoring.fatigue import Baseline, FatigueTracker
from burnout_tui.scoring.fatigue_frame import FATIGUE_COLUMNS, FatigueFrame
from burnout_tui.store import FrameRow, open_database, repository
from burnout_tui.store.calibrations import save_calibration
from burnout_tui.store.connect import IN_MEMORY
from burnout_tui.store.fatigue import session_fatigue
from burnout_tui.store.schema import FATIGUE_COLUMNS as SCHEMA_FATIGUE_COLUMNS
from burnout_tui.tui.state.live_series import FatigueTally
from burnout_tui.vision.fatigue import MeshMeasures
from tests.fatigue_view import stored_session

ROOT = Path(__file__).resolve().parents[2]
DUCKDB_TYPES = {bool: "BOOLEAN", float: "DOUBLE"}
"""How a FatigueFrame field's type is stored (migration 4)."""
DT = 1.0 / 30.0
BASELINE = Baseline(ear_open=0.30, mar_rest=0.05, yaw0=0.0, pitch0=0.0, roll0=0.0)


def test_fatigue_columns_are_the_stored_fatigue_frame_fields() -> None:
    names = [item.name for item in fields(FatigueFrame)]
    assert SCHEMA_FATIGUE_COLUMNS == FATIGUE_COLUMNS == tuple(n for n in names if n != "calibrated")


def test_frames_table_has_every_fatigue_column_with_its_type() -> None:
    """The migrations' SQL is literal history; the schema it builds must still hold every
    stored FatigueFrame field, with the field's type, in `frames` and in `v_frames`."""
    con = open_database(IN_MEMORY)
    try:
        table = dict(
            con.execute("SELECT column_name, column_type FROM (DESCRIBE frames)").fetchall()
        )
        view = {row[0] for row in con.execute("DESCRIBE v_frames").fetchall()}
    finally:
        con.close()
    hints = get_type_hints(FatigueFrame)
    assert {name: table.get(name) for name in FATIGUE_COLUMNS} == {
        name: DUCKDB_TYPES[hints[name]] for name in FATIGUE_COLUMNS
    }
    assert set(FATIGUE_COLUMNS) <= view


def test_frame_row_has_every_fatigue_field_as_optional() -> None:
    """FrameRow spells its fields out (the writer and mypy read them); they must be the
    FatigueFrame fields, each of the same type or None (no mesh fitted)."""
    row_hints, frame_hints = get_type_hints(FrameRow), get_type_hints(FatigueFrame)
    assert {name: row_hints.get(name) for name in FATIGUE_COLUMNS} == {
        name: frame_hints[name] | None for name in FATIGUE_COLUMNS
    }


def test_forecast_inputs_are_stored_fatigue_fields() -> None:
    assert set(FATIGUE_INPUTS) <= set(FATIGUE_COLUMNS)
    assert len(set(FATIGUE_INPUTS)) == len(FATIGUE_INPUTS)


def _stream() -> list[tuple[float, FatigueFrame | None]]:
    """A session with a yawn, a blink, looking away and rows without cues, some of them
    last (where a rate over the cued rows' span and one over the track's differ)."""
    tracker = FatigueTracker(FatigueConfig(min_yawn_s=0.5), BASELINE)
    measures: list[MeshMeasures | None] = (
        [MeshMeasures(0.3, 0.3, 0.05, 0.0, 0.0, 0.0)] * 20
        + [MeshMeasures(0.3, 0.3, 0.6, 0.0, 0.0, 0.0)] * 20
        + [None] * 5
        + [MeshMeasures(0.3, 0.3, 0.05, 45.0, 0.0, 0.0)] * 7
        + [MeshMeasures(0.09, 0.09, 0.05, 0.0, 0.0, 0.0)] * 3
        + [MeshMeasures(0.3, 0.3, 0.05, 0.0, 0.0, 0.0)] * 5
        + [None] * 4
    )
    return [(i * DT, tracker.push(i * DT, m)) for i, m in enumerate(measures)]


def test_monitor_tally_is_the_view_summary() -> None:
    stream = _stream()
    tally = FatigueTally()
    for _, fatigue in stream:
        tally.add(fatigue)
    con, session_id = stored_session(stream)
    try:
        (summary,) = session_fatigue(con, session_id)
    finally:
        con.close()
    assert tally.yawns == summary.yawns == 1
    assert tally.looking_away_share == pytest.approx(summary.looking_away_share)
    assert summary.looking_away_share == pytest.approx(7 / 55)
    assert FatigueTally().looking_away_share is None


def test_calibration_reads_blink_rate_and_perclos_from_the_view() -> None:
    con, session_id = stored_session(_stream())
    try:
        user_id = repository.get_or_create_user(con, "ana")
        calibration = save_calibration(con, user_id, session_id, 0, 1, FatigueConfig())
        (summary,) = session_fatigue(con, session_id)
    finally:
        con.close()
    assert calibration is not None
    assert (calibration.blink_rate, calibration.perclos) == (
        summary.blinks_per_min,
        summary.perclos,
    )
    assert summary.blinks == 1 and summary.perclos == pytest.approx(3 / 55)


MODE_LITERALS = {0o600, 0o700, 0o077}


def _mode_literals(path: Path) -> list[str]:
    """Integer literals in code (not in strings or comments) that are one of the modes."""
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text("utf-8")).readline)
    return [
        f"{path.relative_to(ROOT)}:{token.start[0]}"
        for token in tokens
        if token.type == tokenize.NUMBER and _is_mode(token.string)
    ]


def _is_mode(literal: str) -> bool:
    try:
        return int(literal, 0) in MODE_LITERALS and literal.lower().startswith("0o")
    except ValueError:
        return False


def test_file_modes_are_written_once() -> None:
    defined = Path(file_modes.__file__).resolve()
    sources = [*(ROOT / "burnout_tui").rglob("*.py"), *(ROOT / "plugins").rglob("*.py")]
    found = [hit for path in sources if path.resolve() != defined for hit in _mode_literals(path)]
    assert found == []
    assert (file_modes.PRIVATE_FILE_MODE, file_modes.PRIVATE_DIR_MODE) == (0o600, 0o700)
    assert file_modes.PRIVATE_UMASK == 0o077
