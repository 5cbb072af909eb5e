"""`report correlation`: statistics against scipy and numpy, the pairing rule, CSV input.

The database helpers here are shared with test_report_longitudinal: both reports read the
same views, and building sessions at chosen times is the same work for both.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
from burnout_tui_plugins import correlation
from burnout_tui_plugins._stats import Z_95, bland_altman, correlation_stats, fisher_ci
from scipy import stats

from burnout_tui.config import ScoringConfig
from burnout_tui.plugin import ReportContext, ReportError, ReportResult
from burnout_tui.scoring import final_percent, frame_scores
from burnout_tui.store import open_database, repository

T0 = datetime(2026, 3, 2, 9, 0)
"""A Monday, naive UTC like the store's timestamps."""

NEUTRAL = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]
HAPPY = [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]
SAD = [0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# The views the schema's migration 2 defines; created here only where it has not landed.
_FIXTURE_VIEWS = {
    "v_sessions": """
        SELECT s.session_id, u.name AS "user", s.source, s.status, s.started_at, s.ended_at,
            s.frames_total
        FROM sessions AS s JOIN users AS u USING (user_id)""",
    "v_frames": """
        SELECT f.session_id, u.name AS "user", f.frame_index, f.ts, f.track_id, f.p_angry,
            f.p_disgust, f.p_fear, f.p_happy, f.p_sad, f.p_surprise, f.p_neutral,
            f.roll_deg, f.yaw, f.mouth_width, f.eye_mouth, f.eye_open, f.mouth_open,
            f.frame_score, f.rolling_score, f.forecast,
            s.started_at + to_seconds(f.ts) AS frame_time
        FROM frames AS f JOIN sessions AS s USING (session_id) JOIN users AS u USING (user_id)""",
    "v_surveys": """
        SELECT v.survey_id, u.name AS "user", v.session_id, v.instrument, v.taken_at, v.total,
            v.burnout_01, v.subscales, v.answers
        FROM surveys AS v JOIN users AS u USING (user_id)""",
    "v_session_metrics": 'SELECT *, user_name AS "user" FROM session_metrics',
}


@pytest.fixture(autouse=True)
def default_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No project or user config file may change the scoring the expectations assume."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


def make_db(path: Path) -> duckdb.DuckDBPyConnection:
    con = open_database(path)
    existing = {row[0] for row in con.execute("SELECT view_name FROM duckdb_views()").fetchall()}
    for name, body in _FIXTURE_VIEWS.items():
        if name not in existing:
            con.execute(f"CREATE VIEW {name} AS {body}")
    return con


def add_session(
    con: duckdb.DuckDBPyConnection,
    user: str,
    started_at: datetime,
    probs: Sequence[Sequence[float]],
    status: repository.FinalStatus = "complete",
    emotion_model: str | None = "ours-v1",
) -> int:
    """A finished session at `started_at` with one face frame per probability vector."""
    user_id = repository.get_or_create_user(con, user)
    session_id = repository.start_session(con, user_id, "test", "{}", emotion_model=emotion_model)
    scores = frame_scores(np.asarray(probs, dtype=np.float64), ScoringConfig())
    for index, (p, score) in enumerate(zip(probs, scores, strict=True)):
        con.execute(
            "INSERT INTO frames (session_id, frame_index, ts, track_id, box_x, box_y, box_w,"
            " box_h, det_score, p_angry, p_disgust, p_fear, p_happy, p_sad, p_surprise,"
            " p_neutral, frame_score, rolling_score)"
            " VALUES (?, ?, ?, 0, 0, 0, 10, 10, 0.99, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [session_id, index, index / 10.0, *p, float(score), float(score)],
        )
    repository.finish_session(con, session_id, len(probs), status)
    con.execute(
        "UPDATE sessions SET started_at = ?, ended_at = ? WHERE session_id = ?",
        [started_at, started_at + timedelta(minutes=10), session_id],
    )
    return session_id


def add_survey(
    con: duckdb.DuckDBPyConnection,
    user: str,
    taken_at: datetime,
    burnout: float,
    session_id: int | None = None,
    instrument: str = "cbi",
) -> int:
    return repository.add_survey(
        con,
        repository.get_or_create_user(con, user),
        instrument,
        taken_at.replace(tzinfo=timezone.utc),
        {"q1": 1},
        burnout_01=burnout,
        session_id=session_id,
    )


def system_score(probs: Sequence[Sequence[float]]) -> float:
    """What the reports should compute for a session with these frames."""
    scores = frame_scores(np.asarray(probs, dtype=np.float64), ScoringConfig())
    return final_percent(float(np.mean(scores)), float(np.var(scores)), ScoringConfig()) / 100.0


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[list[duckdb.DuckDBPyConnection]]:
    """Connections opened by `context`, closed after the test."""
    opened: list[duckdb.DuckDBPyConnection] = []
    yield opened
    for con in opened:
        con.close()


def run_report(
    run: Any,
    db: Path | None,
    out_dir: Path,
    opened: list[duckdb.DuckDBPyConnection],
    **options: Any,
) -> ReportResult:
    con = duckdb.connect(":memory:") if db is None else duckdb.connect(str(db), read_only=True)
    opened.append(con)
    result: ReportResult = run(ReportContext(con=con, options=options, out_dir=out_dir))
    return result


def write_csv(path: Path, rows: Sequence[tuple[str, float, float]]) -> Path:
    lines = ["participant,system,survey"] + [f"{p},{s},{v}" for p, s, v in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


SYSTEM = [0.31, 0.45, 0.52, 0.28, 0.66, 0.71, 0.40, 0.58, 0.35, 0.62, 0.49, 0.80]
SURVEY = [0.25, 0.50, 0.47, 0.30, 0.70, 0.60, 0.45, 0.49, 0.41, 0.72, 0.38, 0.76]


@pytest.fixture
def fixed_csv(tmp_path: Path) -> Path:
    rows = [(f"p{i}", s, v) for i, (s, v) in enumerate(zip(SYSTEM, SURVEY, strict=True))]
    return write_csv(tmp_path / "pairs.csv", rows)


def test_csv_statistics_match_scipy_and_numpy(
    fixed_csv: Path, tmp_path: Path, read_only: list[duckdb.DuckDBPyConnection]
) -> None:
    result = run_report(correlation.run, None, tmp_path, read_only, csv=fixed_csv)
    metrics: dict[str, Any] = {str(row[0]): row[1] for row in result.rows}
    x, y = np.array(SYSTEM), np.array(SURVEY)
    pearson, spearman = stats.pearsonr(x, y), stats.spearmanr(x, y)
    assert metrics["n"] == len(SYSTEM)
    assert metrics["pearson_r"] == pytest.approx(pearson.statistic)
    assert metrics["pearson_p"] == pytest.approx(pearson.pvalue)
    assert metrics["spearman_rho"] == pytest.approx(spearman.statistic)
    assert metrics["spearman_p"] == pytest.approx(spearman.pvalue)
    assert metrics["mae"] == pytest.approx(np.mean(np.abs(x - y)))
    diff = x - y
    sd = math.sqrt(sum((d - diff.mean()) ** 2 for d in diff) / (len(diff) - 1))
    assert metrics["bland_altman_mean_diff"] == pytest.approx(diff.mean())
    assert metrics["bland_altman_sd_diff"] == pytest.approx(sd)
    assert metrics["bland_altman_loa_low"] == pytest.approx(diff.mean() - 1.96 * sd)
    assert metrics["bland_altman_loa_high"] == pytest.approx(diff.mean() + 1.96 * sd)
    z, se = math.atanh(pearson.statistic), 1.0 / math.sqrt(len(x) - 3)
    assert metrics["pearson_r_ci95_low"] == pytest.approx(math.tanh(z - 1.959964 * se))
    assert metrics["pearson_r_ci95_high"] == pytest.approx(math.tanh(z + 1.959964 * se))
    assert not any("fewer than 10" in note for note in result.notes)
    assert result.data["source"] == "csv"
    assert len(result.data["pairs"]) == len(SYSTEM)


def test_fisher_interval_formula() -> None:
    low, high = fisher_ci(0.5, 28)
    assert low == pytest.approx(math.tanh(math.atanh(0.5) - Z_95 / 5.0))
    assert high == pytest.approx(math.tanh(math.atanh(0.5) + Z_95 / 5.0))
    assert low < 0.5 < high
    assert fisher_ci(1.0, 10) == (1.0, 1.0)
    with pytest.raises(ValueError):
        fisher_ci(0.5, 3)


def test_bland_altman_by_hand() -> None:
    agreement = bland_altman([0.5, 0.7, 0.9], [0.4, 0.5, 0.6])
    # differences 0.1, 0.2, 0.3: mean 0.2, sample sd 0.1
    assert agreement.mean_diff == pytest.approx(0.2)
    assert agreement.sd_diff == pytest.approx(0.1)
    assert (agreement.loa_low, agreement.loa_high) == pytest.approx((0.2 - 0.196, 0.2 + 0.196))


def test_three_pairs_have_no_interval_and_constant_scores_are_refused() -> None:
    three = correlation_stats([0.1, 0.5, 0.4], [0.2, 0.6, 0.3])
    assert math.isnan(three.pearson_ci_low) and math.isnan(three.pearson_ci_high)
    with pytest.raises(ValueError, match="constant"):
        correlation_stats([0.5, 0.5, 0.5, 0.5], [0.1, 0.2, 0.3, 0.4])


def test_small_sample_warns_and_too_small_is_refused(
    tmp_path: Path, read_only: list[duckdb.DuckDBPyConnection]
) -> None:
    small = write_csv(tmp_path / "small.csv", list(zip("abcde", SYSTEM, SURVEY, strict=False)))
    result = run_report(correlation.run, None, tmp_path, read_only, csv=small)
    assert any("only 5 pairs (fewer than 10)" in note for note in result.notes)
    two = write_csv(tmp_path / "two.csv", [("a", 0.1, 0.2), ("b", 0.4, 0.3)])
    with pytest.raises(ReportError, match="only 2 pair"):
        run_report(correlation.run, None, tmp_path, read_only, csv=two)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        ("who,system,survey\na,0.1,0.2\n", "line 1: header must be participant,system,survey"),
        ("participant,system,survey\na,0.1,0.2\nb,high,0.3\n", "line 3: system 'high' is not"),
        ("participant,system,survey\na,0.1,1.2\n", "line 2: survey 1.2 is outside 0-1"),
        ("participant,system,survey\na,nan,0.2\n", "line 2: system nan is outside 0-1"),
        ("participant,system,survey\na,0.1\n", "line 2: expected 3 columns, got 2"),
        ("participant,system,survey\n,0.1,0.2\n", "line 2: participant is empty"),
    ],
)
def test_bad_csv_is_one_clear_line(
    tmp_path: Path, read_only: list[duckdb.DuckDBPyConnection], content: str, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ReportError, match=message) as caught:
        run_report(correlation.run, None, tmp_path, read_only, csv=path)
    assert "\n" not in str(caught.value)


def test_missing_csv(tmp_path: Path, read_only: list[duckdb.DuckDBPyConnection]) -> None:
    with pytest.raises(ReportError, match="cannot read"):
        run_report(correlation.run, None, tmp_path, read_only, csv=tmp_path / "absent.csv")


def test_pairing_rule_on_a_database(
    tmp_path: Path, read_only: list[duckdb.DuckDBPyConnection]
) -> None:
    db = tmp_path / "sessions.duckdb"
    con = make_db(db)
    happy, sad = [HAPPY, NEUTRAL], [SAD, SAD, NEUTRAL]
    linked_session = add_session(con, "alice", T0, happy)
    linked = add_survey(con, "alice", T0 + timedelta(hours=20), 0.9, session_id=linked_session)
    add_survey(con, "alice", T0 + timedelta(hours=1), 0.1)  # nearer, but unlinked
    near_session = add_session(con, "alice", T0 + timedelta(days=3), sad)
    near = add_survey(con, "alice", T0 + timedelta(days=3, hours=-2), 0.7)
    add_survey(con, "alice", T0 + timedelta(days=3, hours=5), 0.2)  # further away
    add_survey(con, "bob", T0 + timedelta(days=3), 0.5)  # nearest, but another user
    bob_session = add_session(con, "bob", T0 + timedelta(days=3, hours=1), [HAPPY])
    far_session = add_session(con, "alice", T0 + timedelta(days=6), sad)
    far = add_survey(con, "alice", T0 + timedelta(days=7, hours=6), 0.8)  # 30 h after
    add_session(con, "alice", T0 + timedelta(days=6, hours=1), sad, status="failed")
    con.close()

    result = run_report(correlation.run, db, tmp_path, read_only)
    by_session = {pair["session_id"]: pair for pair in result.data["pairs"]}
    assert set(by_session) == {linked_session, near_session, bob_session}
    assert by_session[linked_session]["survey_id"] == linked
    assert by_session[linked_session]["linked"] is True
    assert by_session[linked_session]["system"] == pytest.approx(system_score(happy))
    assert by_session[near_session]["survey_id"] == near
    assert by_session[near_session]["gap_hours"] == pytest.approx(2.0)
    assert by_session[near_session]["system"] == pytest.approx(system_score(sad))
    assert any("1 of 4 complete sessions" in note for note in result.notes)

    wider = run_report(correlation.run, db, tmp_path, read_only, max_gap_hours=48.0)
    wider_pairs = {pair["session_id"]: pair["survey_id"] for pair in wider.data["pairs"]}
    assert wider_pairs[far_session] == far
    assert wider.data["stats"]["n"] == 4

    with pytest.raises(ReportError, match="only 0 pair"):
        run_report(correlation.run, db, tmp_path, read_only, instrument="pss10")


def test_linked_survey_wins_regardless_of_gap() -> None:
    session = correlation.SessionScore(1, "alice", T0, 0.4)
    linked = correlation.SurveyScore(1, "alice", 1, "cbi", T0 + timedelta(days=10), 0.9)
    nearby = correlation.SurveyScore(2, "alice", None, "cbi", T0, 0.1)
    pairs, unpaired = correlation.pair_sessions([session], [nearby, linked], 24.0)
    assert [pair.survey_id for pair in pairs] == [1] and unpaired == []
    pairs, unpaired = correlation.pair_sessions([session], [], 24.0)
    assert pairs == [] and unpaired == [session]


def test_plot_is_a_png(
    fixed_csv: Path, tmp_path: Path, read_only: list[duckdb.DuckDBPyConnection]
) -> None:
    result = run_report(correlation.run, None, tmp_path, read_only, csv=fixed_csv, plot="c.png")
    assert list(result.files) == [tmp_path / "c.png"]
    assert (tmp_path / "c.png").read_bytes().startswith(PNG_MAGIC)
    with pytest.raises(ReportError, match="png"):
        run_report(correlation.run, None, tmp_path, read_only, csv=fixed_csv, plot="c.pdf")


def test_declared_options() -> None:
    (report,) = correlation.reports()
    assert report.name == "correlation"
    assert {option.key for option in report.options} == {
        "max_gap_hours",
        "instrument",
        "csv",
        "plot",
    }
    assert "linked" in report.help and "--max-gap-hours" in report.help


def test_csv_needs_no_database_through_the_cli(tmp_path: Path) -> None:
    from tests.command_line import run_cli

    pairs = tmp_path / "pairs.csv"
    rows = [(f"p{i}", i / 20, (i + (i % 3)) / 25) for i in range(12)]
    pairs.write_text(
        "participant,system,survey\n" + "".join(f"{p},{a:.3f},{b:.3f}\n" for p, a, b in rows)
    )
    missing = tmp_path / "none.duckdb"
    done = run_cli("report", "correlation", "--csv", str(pairs), "--db", str(missing), "--json")
    assert done.returncode == 0, done.stderr
    assert '"n"' in done.stdout
    assert not missing.exists()


def test_sessions_of_different_emotion_models_are_a_warning(
    tmp_path: Path, read_only: list[duckdb.DuckDBPyConnection]
) -> None:
    db = tmp_path / "sessions.duckdb"
    con = make_db(db)
    for day, (frames, burnout) in enumerate([([HAPPY], 0.2), ([SAD], 0.8), ([NEUTRAL], 0.5)]):
        session = add_session(con, "alice", T0 + timedelta(days=day), frames)
        add_survey(con, "alice", T0 + timedelta(days=day, hours=1), burnout, session_id=session)
    con.close()
    same = run_report(correlation.run, db, tmp_path, read_only)
    assert same.data["emotion_models"] == {"ours-v1": 3}
    assert not any("emotion models" in note for note in same.notes)

    for opened in read_only:
        opened.close()
    con = open_database(db)
    session = add_session(con, "alice", T0 + timedelta(days=5), [SAD], emotion_model="minixception")
    add_survey(con, "alice", T0 + timedelta(days=5, hours=1), 0.9, session_id=session)
    con.close()
    mixed = run_report(correlation.run, db, tmp_path, read_only)
    assert mixed.data["emotion_models"] == {"ours-v1": 3, "minixception": 1}
    (warning,) = [note for note in mixed.notes if "emotion models" in note]
    assert warning.startswith("Warning:") and "ours-v1: 3, minixception: 1" in warning
    assert "\n" not in warning
