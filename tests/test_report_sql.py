"""`burnout-tui report sql` and the read-only database behind every report."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_cli import assert_one_line_error, run_cli

LOCK_WAIT_S = 30.0
"""How long the lock-holding child may take to start before the test gives up."""


def build_demo_db(path: Path) -> Path:
    """One analysed demo session for `ana` with a check-in linked to it."""
    done = run_cli("analyze", "demo", "--db", str(path), "--user", "ana")
    assert done.returncode == 0, done.stderr
    answered = run_cli(
        "survey", "--instrument", "checkin", "--answers", "7,8,3", "--session", "1",
        "--user", "ana", "--db", str(path),
    )  # fmt: skip
    assert answered.returncode == 0, answered.stderr
    return path


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo_db(tmp_path_factory.mktemp("db") / "s.duckdb")


def sql_json(*args: str) -> dict[str, object]:
    done = run_cli("report", "sql", *args, "--json")
    assert done.returncode == 0, done.stderr
    payload: dict[str, object] = json.loads(done.stdout)
    return payload


def test_sql_json(demo_db: Path) -> None:
    payload = sql_json(
        'SELECT "user", count(*) AS n FROM v_frames GROUP BY ALL', "--db", str(demo_db)
    )
    assert payload["columns"] == ["user", "n"]
    rows: list[list[object]] = payload["rows"]  # type: ignore[assignment]
    [[user, frames]] = rows
    assert user == "ana"
    assert isinstance(frames, int) and frames > 0
    assert set(payload) == {"columns", "rows", "notes", "files", "data"}


def test_sql_table_and_csv(demo_db: Path) -> None:
    table = run_cli("report", "sql", "SELECT instrument FROM v_surveys", "--db", str(demo_db))
    assert table.returncode == 0, table.stderr
    assert "checkin" in table.stdout
    csv = run_cli(
        "report", "sql", "SELECT survey_id, instrument FROM v_surveys", "--format", "csv",
        "--db", str(demo_db),
    )  # fmt: skip
    assert csv.stdout.splitlines() == ["survey_id,instrument", "1,checkin"]


def test_every_documented_view_exists(demo_db: Path) -> None:
    from burnout_tui.plugin import VIEWS

    for view in VIEWS:
        payload = sql_json(f"SELECT count(*) FROM {view}", "--db", str(demo_db))
        assert payload["columns"] == ["count_star()"], view


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO users (name) VALUES ('mallory')",
        "DELETE FROM frames",
        "COPY (SELECT 1) TO 'leak.csv'",
        "CREATE TABLE t (x INTEGER)",
        "SELECT 1; DROP TABLE frames",
    ],
)
def test_writes_are_refused(demo_db: Path, statement: str, tmp_path: Path) -> None:
    done = run_cli("report", "sql", statement, "--db", str(demo_db), cwd=tmp_path)
    assert_one_line_error(done, "")
    assert not (tmp_path / "leak.csv").exists()
    assert sql_json("SELECT count(*) FROM users", "--db", str(demo_db))["rows"] == [[1]]


def test_bad_sql_is_one_line(demo_db: Path) -> None:
    assert_one_line_error(run_cli("report", "sql", "SELEC 1", "--db", str(demo_db)), "parse")
    assert_one_line_error(
        run_cli("report", "sql", "SELECT nope FROM v_sessions", "--db", str(demo_db)), "failed"
    )


def test_missing_database_is_one_line(tmp_path: Path) -> None:
    done = run_cli("report", "sql", "SELECT 1", "--db", str(tmp_path / "none.duckdb"))
    assert_one_line_error(done, "no database")
    assert not (tmp_path / "none.duckdb").exists()


@pytest.fixture
def locked_db(demo_db: Path, tmp_path: Path) -> Iterator[Path]:
    """A copy of the demo database held open read-write by another process, as a monitor would."""
    path = tmp_path / "locked.duckdb"
    path.write_bytes(demo_db.read_bytes())
    holder = subprocess.Popen(
        [sys.executable, "-c",
         f"import duckdb, time; con = duckdb.connect({str(path)!r}); print('ready', flush=True); "
         "time.sleep(600)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None
    deadline = time.monotonic() + LOCK_WAIT_S
    assert holder.stdout.readline().strip() == "ready" and time.monotonic() < deadline
    yield path
    holder.kill()
    holder.wait()


def test_locked_database_says_why(locked_db: Path) -> None:
    done = run_cli("report", "sql", "SELECT 1", "--db", str(locked_db))
    assert_one_line_error(done, "")
    assert "open for writing by another process" in done.stderr
    assert "stop that process" in done.stderr
