"""Heart rate in `report correlation` and `report longitudinal`: a second agreement line
and a column when `v_heart` has rates, nothing extra when it has none.

The heart rows are written as the monitor writes them: `HeartRow`s through the real
`FrameWriter`, withheld seconds as NULL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from burnout_tui_plugins import correlation, longitudinal
from burnout_tui_plugins._heart import MIN_REPORTED_SECONDS
from scipy import stats

from burnout_tui.store import repository
from burnout_tui.store.heart_rows import HeartRow
from burnout_tui.store.writer import FrameWriter
from tests.plugins.test_report_correlation import (
    HAPPY,
    NEUTRAL,
    SAD,
    T0,
    add_session,
    add_survey,
    default_config,
    make_db,
    read_only,
    run_report,
)

__all__ = ["default_config", "read_only"]  # fixtures shared with the correlation tests

FPS = 30
REPORTED_SNR = 1.0
WITHHELD_SNR = -6.0
SESSION_FRAMES = ([HAPPY, NEUTRAL], [NEUTRAL], [SAD, NEUTRAL], [SAD, SAD])
SURVEYS = (0.2, 0.4, 0.7, 0.8)
SESSION_BPM = (68.0, 75.0, 83.0, 80.0)
OTHER_PERSON_BPM = 140.0
"""A second person's track in alice's first session: never alice's rate."""


def add_heart(
    con: duckdb.DuckDBPyConnection,
    session_id: int,
    rates: Sequence[float | None],
    track_id: int = 0,
) -> None:
    with FrameWriter(con) as writer:
        for second, bpm in enumerate(rates):
            snr = WITHHELD_SNR if bpm is None else REPORTED_SNR
            writer.put(
                HeartRow(
                    session_id, track_id, second * FPS, float(second), bpm, snr, 1.0,
                    None, None, "pos",
                )
            )  # fmt: skip


def session_rates(mean: float) -> list[float | None]:
    """Reported seconds around `mean` (mean exactly `mean`) with withheld ones between."""
    reported = [mean - 2.0, mean + 2.0] * (MIN_REPORTED_SECONDS // 2 + 1)
    return [None, *reported[:6], None, None, *reported[6:]]


def build(path: Path, heart: bool) -> list[int]:
    """Alice's four sessions, each with a linked survey; with `heart`, the first three
    have a heart rate, the fourth too few reported seconds to count."""
    con = make_db(path)
    sessions = []
    for day, (frames, survey) in enumerate(zip(SESSION_FRAMES, SURVEYS, strict=True)):
        session_id = add_session(con, "alice", T0 + timedelta(days=day), frames)
        add_survey(con, "alice", T0 + timedelta(days=day, hours=1), survey, session_id)
        sessions.append(session_id)
    if heart:
        for session_id, bpm in zip(sessions[:3], SESSION_BPM, strict=False):
            add_heart(con, session_id, session_rates(bpm))
        add_heart(con, sessions[3], [SESSION_BPM[3]] * (MIN_REPORTED_SECONDS - 1) + [None])
        add_heart(con, sessions[0], [OTHER_PERSON_BPM] * 20, track_id=1)
        repository.assign_track_user(con, sessions[0], 1, "bob")
    con.close()
    return sessions


def test_correlation_adds_a_heart_rate_line(
    tmp_path: Path, read_only: list[duckdb.DuckDBPyConnection]
) -> None:
    db = tmp_path / "heart.duckdb"
    sessions = build(db, heart=True)
    result = run_report(correlation.run, db, tmp_path, read_only)
    heart = result.data["heart_rate"]
    assert [p["session_id"] for p in heart["pairs"]] == sessions[:3]
    assert [p["mean_bpm"] for p in heart["pairs"]] == pytest.approx(SESSION_BPM[:3])
    assert [p["survey"] for p in heart["pairs"]] == pytest.approx(SURVEYS[:3])
    assert all(p["reported_seconds"] >= MIN_REPORTED_SECONDS for p in heart["pairs"])
    expected = stats.pearsonr(SESSION_BPM[:3], SURVEYS[:3])
    assert heart["stats"]["n"] == 3
    assert heart["stats"]["pearson_r"] == pytest.approx(expected.statistic)
    assert heart["stats"]["pearson_p"] == pytest.approx(expected.pvalue)
    rows = dict(result.rows)
    assert rows["heart_n"] == 3
    assert rows["heart_pearson_r"] == pytest.approx(expected.statistic)
    assert rows["heart_spearman_rho"] == pytest.approx(
        stats.spearmanr(SESSION_BPM[:3], SURVEYS[:3]).statistic
    )
    assert "heart_mae" not in rows, "bpm and a 0-1 score share no scale"
    assert result.data["stats"]["n"] == len(SESSION_FRAMES), "the first line is unchanged"
    assert any(note.startswith("Heart rate vs survey: the mean") for note in result.notes)


def test_without_heart_rates_the_reports_say_nothing_of_them(
    tmp_path: Path, read_only: list[duckdb.DuckDBPyConnection]
) -> None:
    db = tmp_path / "plain.duckdb"
    build(db, heart=False)
    result = run_report(correlation.run, db, tmp_path, read_only)
    assert "heart_rate" not in result.data
    assert not [name for name, _ in result.rows if name.startswith("heart")]
    assert not [note for note in result.notes if "eart" in note]
    report = run_report(longitudinal.run, db, tmp_path, read_only)
    assert tuple(report.columns) == longitudinal.COLUMNS
    assert "HR" not in report.text
    assert all("mean_heart_bpm" not in s for s in report.data["users"][0]["sessions"])


def test_too_few_sessions_with_a_rate_is_a_note_not_a_line(
    tmp_path: Path, read_only: list[duckdb.DuckDBPyConnection]
) -> None:
    db = tmp_path / "few.duckdb"
    con = make_db(db)
    for day, (frames, survey) in enumerate(zip(SESSION_FRAMES, SURVEYS, strict=True)):
        session_id = add_session(con, "alice", T0 + timedelta(days=day), frames)
        add_survey(con, "alice", T0 + timedelta(days=day, hours=1), survey, session_id)
        if day == 0:
            add_heart(con, session_id, session_rates(70.0))
    con.close()
    result = run_report(correlation.run, db, tmp_path, read_only)
    assert result.data["heart_rate"]["stats"] is None
    assert not [name for name, _ in result.rows if name.startswith("heart")]
    assert any("1 paired session(s), no correlation" in note for note in result.notes)


def test_longitudinal_shows_each_sessions_mean_heart_rate(
    tmp_path: Path, read_only: list[duckdb.DuckDBPyConnection]
) -> None:
    db = tmp_path / "heart.duckdb"
    build(db, heart=True)
    report = run_report(longitudinal.run, db, tmp_path, read_only, user="alice")
    assert tuple(report.columns) == (*longitudinal.COLUMNS, longitudinal.HEART_COLUMN)
    column = report.columns.index(longitudinal.HEART_COLUMN)
    assert [row[column] for row in report.rows][:3] == pytest.approx(SESSION_BPM[:3])
    assert report.rows[3][column] is None, "too few reported seconds: no rate"
    sessions = report.data["users"][0]["sessions"]
    assert [s.get("mean_heart_bpm") for s in sessions][3] is None
    assert sessions[0]["mean_heart_bpm"] == pytest.approx(SESSION_BPM[0])
    session_lines = [line for line in report.text.splitlines() if "avg3" in line]
    assert [("HR " in line) for line in session_lines] == [True, True, True, False]
    assert f"HR {SESSION_BPM[0]:.0f}" in session_lines[0]
