"""Every report on a database made the way a researcher makes one: `analyze` on real clips
(the shared development videos), surveys linked to the sessions, then reports and export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.command_line import run_cli

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]

CLIPS = ("liveportrait_d11.mp4", "liveportrait_d12.mp4", "liveportrait_d0.mp4")
CHECKINS = ("3,4,8", "6,7,4", "8,9,2")
"""Stress, fatigue, motivation per session: increasingly burnt out."""


@pytest.fixture(scope="module")
def research_db(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("research") / "study.duckdb"
    for clip, answers in zip(CLIPS, CHECKINS, strict=True):
        done = run_cli("analyze", str(shared_data / "videos" / clip), "--user", "ana",
                       "--db", str(db), "--json")  # fmt: skip
        assert done.returncode == 0, done.stderr
        session = json.loads(done.stdout)["session_id"]
        done = run_cli("survey", "--instrument", "checkin", "--user", "ana", "--answers", answers,
                       "--session", str(session), "--db", str(db))  # fmt: skip
        assert done.returncode == 0, done.stderr
    return db


def report_json(*args: str) -> dict[str, object]:
    done = run_cli("report", *args, "--json")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert isinstance(payload, dict)
    return payload


def test_correlation_pairs_every_session_and_warns_on_small_n(research_db: Path) -> None:
    done = run_cli("report", "correlation", "--db", str(research_db), "--json")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    stats = dict(zip(payload["columns"], zip(*payload["rows"], strict=True), strict=True))
    assert "metric" in stats
    assert dict(zip(stats["metric"], stats["value"], strict=True))["n"] == len(CLIPS)
    assert any("10" in note for note in payload["notes"]), payload["notes"]


def test_longitudinal_and_sql_agree_on_sessions(research_db: Path, tmp_path: Path) -> None:
    payload = report_json("longitudinal", "--db", str(research_db), "--user", "ana",
                          "--plot", "trend.png", "--out-dir", str(tmp_path))  # fmt: skip
    assert len(payload["rows"]) == len(CLIPS)  # type: ignore[arg-type]
    assert (tmp_path / "trend.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    complete = "SELECT count(*) AS n FROM v_session_metrics WHERE status = 'complete'"
    sql = report_json("sql", complete, "--db", str(research_db))
    assert sql["rows"] == [[len(CLIPS)]]


def test_export_then_reports_from_parquet_match(research_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "export"
    done = run_cli("export", "--parquet", str(out), "--db", str(research_db))
    assert done.returncode == 0, done.stderr
    assert list((out / "frames").glob("user=ana/date=*/*.parquet"))
    query = (
        "SELECT session_id, count(*), round(avg(frame_score), 9) FROM v_frames"
        " GROUP BY ALL ORDER BY 1"
    )
    from_db = report_json("sql", query, "--db", str(research_db))
    from_parquet = report_json("sql", query, "--from", f"{out}/**/*.parquet")
    assert from_db["rows"] == from_parquet["rows"]
    longitudinal_db = report_json("longitudinal", "--db", str(research_db))
    longitudinal_parquet = report_json("longitudinal", "--from", str(out))
    assert longitudinal_db["rows"] == longitudinal_parquet["rows"]
