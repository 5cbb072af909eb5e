"""`report longitudinal`: trend against scipy, rolling mean, negative share, user filter."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise
from pathlib import Path

import duckdb
import numpy as np
import pytest
from burnout_tui_plugins import longitudinal
from burnout_tui_plugins._stats import linear_trend, rolling_mean
from scipy import stats

from burnout_tui.plugin import ReportError
from burnout_tui.store import open_database
from tests.plugins.test_report_correlation import (
    HAPPY,
    NEUTRAL,
    PNG_MAGIC,
    SAD,
    T0,
    add_session,
    add_survey,
    default_config,
    make_db,
    read_only,
    run_report,
    system_score,
)

__all__ = ["default_config", "read_only"]  # fixtures shared with the correlation tests

ANGRY_LEADS = [0.4, 0.0, 0.0, 0.0, 0.0, 0.25, 0.35]
SPREAD_NEGATIVE = [0.2, 0.2, 0.2, 0.0, 0.0, 0.0, 0.4]
"""Negative mass 0.6 but neutral is the most probable: not a negative frame by arg-max."""

ALICE_DAYS = (0.0, 2.0, 9.0, 15.5, 21.0)
ALICE_FRAMES = (
    [HAPPY, NEUTRAL],
    [NEUTRAL],
    [SAD, HAPPY, ANGRY_LEADS, SPREAD_NEGATIVE],
    [SAD, NEUTRAL],
    [SAD, SAD, SAD],
)


@pytest.fixture
def history_db(tmp_path: Path) -> Path:
    path = tmp_path / "sessions.duckdb"
    con = make_db(path)
    for day, frames in zip(ALICE_DAYS, ALICE_FRAMES, strict=True):
        add_session(con, "alice", T0 + timedelta(days=day), frames)
    add_session(con, "alice", T0 + timedelta(days=30), [SAD], status="failed")
    add_survey(con, "alice", T0 + timedelta(days=9, hours=1), 0.6)
    add_session(con, "bob", T0, [HAPPY])
    add_session(con, "bob", T0 + timedelta(days=1), [SAD])
    add_survey(con, "bob", T0 + timedelta(hours=2), 0.3, instrument="pss10")
    con.close()
    return path


def _alice_systems() -> list[float]:
    return [system_score(frames) for frames in ALICE_FRAMES]


def test_trend_matches_linregress_with_t_interval(
    history_db: Path, tmp_path: Path, read_only: list[duckdb.DuckDBPyConnection]
) -> None:
    report = run_report(longitudinal.run, history_db, tmp_path, read_only, user="alice")
    (alice,) = report.data["users"]
    weeks = np.array(ALICE_DAYS) / 7.0
    fit = stats.linregress(weeks, _alice_systems())
    half = stats.t.ppf(0.975, len(weeks) - 2) * fit.stderr
    trend = alice["trend"]
    assert trend["n"] == len(ALICE_DAYS)
    assert trend["slope_per_week"] == pytest.approx(fit.slope)
    assert trend["ci_low"] == pytest.approx(fit.slope - half)
    assert trend["ci_high"] == pytest.approx(fit.slope + half)
    assert trend["intercept"] == pytest.approx(fit.intercept)
    assert [s["system"] for s in alice["sessions"]] == pytest.approx(_alice_systems())


def test_session_statistics_rolling_mean_and_negative_share(
    history_db: Path, tmp_path: Path, read_only: list[duckdb.DuckDBPyConnection]
) -> None:
    report = run_report(longitudinal.run, history_db, tmp_path, read_only, user="alice", window=2)
    sessions = report.data["users"][0]["sessions"]
    systems = _alice_systems()
    expected_rolling = [systems[0]] + [(a + b) / 2 for a, b in pairwise(systems)]
    assert [s["rolling_system"] for s in sessions] == pytest.approx(expected_rolling)
    # SAD and ANGRY_LEADS are negative, HAPPY and SPREAD_NEGATIVE are not.
    assert [s["negative_share"] for s in sessions] == pytest.approx([0.0, 0.0, 0.5, 0.5, 1.0])
    third = sessions[2]
    assert third["valid_frames"] == 4
    assert third["min_score"] == pytest.approx(-1.0)  # HAPPY with beta = 1
    assert third["max_score"] == pytest.approx(1.0)  # SAD with alpha = 1
    assert [row[0] for row in report.rows] == ["alice"] * len(ALICE_DAYS)
    assert report.columns[0] == "user" and len(report.rows[0]) == len(report.columns)


def test_user_filter_and_short_series_note(
    history_db: Path, tmp_path: Path, read_only: list[duckdb.DuckDBPyConnection]
) -> None:
    everyone = run_report(longitudinal.run, history_db, tmp_path, read_only)
    assert [u["user"] for u in everyone.data["users"]] == ["alice", "bob"]
    bob = run_report(longitudinal.run, history_db, tmp_path, read_only, user="bob")
    (series,) = bob.data["users"]
    assert series["trend"] is None
    assert any("bob: 2 session(s); a trend needs at least 3" in note for note in bob.notes)
    assert [s["instrument"] for s in series["surveys"]] == ["pss10"]
    assert {row[0] for row in bob.rows} == {"bob"}
    with pytest.raises(ReportError, match="no complete sessions"):
        run_report(longitudinal.run, history_db, tmp_path, read_only, user="carol")


def test_text_chart_and_plot(
    history_db: Path, tmp_path: Path, read_only: list[duckdb.DuckDBPyConnection]
) -> None:
    report = run_report(longitudinal.run, history_db, tmp_path, read_only, plot="trend.png")
    assert (tmp_path / "trend.png").read_bytes().startswith(PNG_MAGIC)
    assert list(report.files) == [tmp_path / "trend.png"]
    lines = report.text.splitlines()
    assert lines[0].startswith("alice: 5 session(s), 1 survey(s); trend ")
    survey_line = next(line for line in lines if "survey cbi" in line)
    assert "◆" in survey_line and "0.60" in survey_line
    assert sum("█" in line for line in lines) >= 1
    with pytest.raises(ReportError, match="--window"):
        run_report(longitudinal.run, history_db, tmp_path, read_only, window=0)


def test_bar_and_pure_helpers() -> None:
    assert longitudinal.bar(1.0, 4) == "████"
    assert longitudinal.bar(0.0, 4) == "    "
    assert longitudinal.bar(0.5625, 4) == "██▎ "
    assert rolling_mean([1.0, 2.0, 3.0, 4.0], 3) == pytest.approx([1.0, 1.5, 2.0, 3.0])
    with pytest.raises(ValueError, match="at least 3"):
        linear_trend([0.0, 1.0], [0.1, 0.2])
    with pytest.raises(ValueError, match="different times"):
        linear_trend([1.0, 1.0, 1.0], [0.1, 0.2, 0.3])


def test_sessions_of_different_emotion_models_are_a_warning(
    history_db: Path, tmp_path: Path, read_only: list[duckdb.DuckDBPyConnection]
) -> None:
    same = run_report(longitudinal.run, history_db, tmp_path, read_only)
    assert same.data["emotion_models"] == {"ours-v1": 7}
    assert not any("emotion models" in note for note in same.notes)
    for opened in read_only:
        opened.close()
    con = open_database(history_db)
    con.execute(
        "UPDATE sessions SET emotion_model = 'minixception' WHERE session_id IN "
        "(SELECT min(session_id) FROM sessions)"
    )
    con.execute(
        "UPDATE sessions SET emotion_model = NULL WHERE session_id IN "
        "(SELECT max(session_id) FROM sessions)"
    )
    con.close()
    mixed = run_report(longitudinal.run, history_db, tmp_path, read_only)
    assert mixed.data["emotion_models"] == {"ours-v1": 5, "minixception": 1, "unrecorded": 1}
    (warning,) = [note for note in mixed.notes if "emotion models" in note]
    assert "ours-v1: 5, minixception: 1, unrecorded: 1" in warning
    alice = run_report(longitudinal.run, history_db, tmp_path, read_only, user="bob")
    assert alice.data["emotion_models"] == {"ours-v1": 1, "unrecorded": 1}
