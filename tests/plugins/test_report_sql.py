"""`burnout-tui report sql` and the read-only database behind every report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.command_line import assert_one_line_error, run_cli


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


def test_locked_database_says_why(
    demo_db: Path, tmp_path: Path, hold_database: Callable[[Path], Path]
) -> None:
    locked_db = tmp_path / "locked.duckdb"
    locked_db.write_bytes(demo_db.read_bytes())
    hold_database(locked_db)
    done = run_cli("report", "sql", "SELECT 1", "--db", str(locked_db))
    assert_one_line_error(done, "")
    assert "open for writing by another process" in done.stderr
    assert "stop that process" in done.stderr


@pytest.fixture(scope="module")
def demo_export(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "parquet"
    done = run_cli("export", "--parquet", str(out), "--db", str(demo_db))
    assert done.returncode == 0, done.stderr
    return out


@pytest.mark.parametrize("source", ["--db", "--from"])
@pytest.mark.parametrize(
    "statement",
    [
        "EXPLAIN ANALYZE COPY (SELECT 1) TO 'other.duckdb'",
        "EXPLAIN COPY (SELECT 1) TO 'other.duckdb'",
        "explain (format json) copy (select 1) to 'other.duckdb'",
    ],
)
def test_copy_under_explain_is_refused(
    demo_db: Path, demo_export: Path, tmp_path: Path, source: str, statement: str
) -> None:
    """The first keyword (EXPLAIN) passed today's check, and the COPY overwrote the file."""
    other = tmp_path / "other.duckdb"
    other.write_bytes(b"someone else's file")
    where = str(demo_db) if source == "--db" else str(demo_export)
    done = run_cli("report", "sql", statement, source, where, cwd=tmp_path)
    assert_one_line_error(done, "refused COPY under EXPLAIN")
    assert other.read_bytes() == b"someone else's file"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["other.duckdb"]


@pytest.mark.parametrize(
    ("statement", "named"),
    [
        ("SELECT * FROM read_csv('leak.csv')", "read_csv()"),
        ("SELECT * FROM query('SELECT 1')", "query()"),
        ("FROM checkpoint()", "checkpoint()"),
        ("SELECT * FROM v_sessions WHERE 1 IN (SELECT 1 FROM glob('*'))", "glob()"),
    ],
)
def test_side_effecting_functions_are_refused(
    demo_db: Path, tmp_path: Path, statement: str, named: str
) -> None:
    done = run_cli("report", "sql", statement, "--db", str(demo_db), cwd=tmp_path)
    assert_one_line_error(done, named)


@pytest.mark.parametrize(
    "statement",
    [
        "PIVOT v_sessions ON status USING count(*)",
        "PIVOT v_sessions ON status IN ('complete') USING count(*)",
        "UNPIVOT (SELECT 1 AS a, 2 AS b) ON COLUMNS(*) INTO NAME k VALUE v",
        "SUMMARIZE v_sessions",
        "DESCRIBE v_frames",
        "WITH s AS (FROM v_sessions) SELECT count(*) FROM s",
        "EXPLAIN ANALYZE SELECT count(*) FROM v_frames",
    ],
)
@pytest.mark.parametrize("source", ["--db", "--from"])
def test_pure_reads_run(demo_db: Path, demo_export: Path, source: str, statement: str) -> None:
    where = str(demo_db) if source == "--db" else str(demo_export)
    payload = sql_json(statement, source, where)
    assert payload["rows"], statement


def test_json_is_written_in_batches_and_stays_one_object(demo_db: Path) -> None:
    """More rows than one fetch batch: the pieces still make the old single JSON object."""
    from burnout_tui.cli.report import FETCH_BATCH_ROWS

    count = FETCH_BATCH_ROWS * 2 + 7
    done = run_cli(
        "report", "sql", f"SELECT range AS i, 'x' || range AS s FROM range({count})",
        "--json", "--db", str(demo_db),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload == {
        "columns": ["i", "s"],
        "rows": [[i, f"x{i}"] for i in range(count)],
        "notes": [],
        "files": [],
        "data": {},
    }
    assert done.stdout == json.dumps(payload) + "\n"


def test_table_shows_the_first_rows_and_counts_the_rest(demo_db: Path) -> None:
    query = "SELECT range AS i FROM range(1500)"
    table = run_cli("report", "sql", query, "--db", str(demo_db))
    assert table.returncode == 0, table.stderr
    assert "│ 999 │" in table.stdout and "│ 1000 │" not in table.stdout
    assert table.stderr.strip() == (
        "warning: 500 of 1,500 rows left out by --limit 1000 (--limit 0 shows all)"
    )
    every = run_cli("report", "sql", query, "--limit", "0", "--db", str(demo_db))
    assert "│ 1499 │" in every.stdout and every.stderr == ""
    csv = run_cli("report", "sql", query, "--format", "csv", "--limit", "3", "--db", str(demo_db))
    assert csv.stdout.splitlines() == ["i", "0", "1", "2"]
    assert "1,497 of 1,500 rows left out by --limit 3" in csv.stderr
    limited = sql_json(query, "--limit", "2", "--db", str(demo_db))
    assert limited["rows"] == [[0], [1]]
    assert limited["notes"] == ["1,498 of 1,500 rows left out by --limit 2 (--limit 0 shows all)"]
    assert len(sql_json(query, "--db", str(demo_db))["rows"]) == 1500


STREAMED_ROWS = 4_000_000
MATERIALISED_BYTES = STREAMED_ROWS * 2 * 8
"""The result's two BIGINT columns alone, as DuckDB would hold them if it materialised the
result; Python tuples of them take several times more."""
STREAMING_HEADROOM_BYTES = MATERIALISED_BYTES // 4
"""What streaming may add over a one-row query: a few fetch batches, never the result."""


def _peak_rss_bytes(args: list[str], stdout: Path) -> int:
    """Peak resident memory of one CLI run, from the kernel's accounting of that child."""
    env = {**os.environ, "COLUMNS": "120"}
    env.pop("BURNOUT_TUI_DB", None)
    with stdout.open("wb") as out:
        child = subprocess.Popen(
            [sys.executable, "-m", "burnout_tui.cli", *args],
            stdout=out, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env,
        )  # fmt: skip
        assert child.stderr is not None
        errors = child.stderr.read()
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    assert child.returncode == 0, errors
    return usage.ru_maxrss * KIB  # Linux reports kilobytes


KIB = 1024


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "wait4"), reason="needs os.wait4 for a child's peak memory")
@pytest.mark.parametrize("output_format", ["csv", "json"])
def test_large_results_stream_in_constant_memory(
    demo_db: Path, tmp_path: Path, output_format: str
) -> None:
    base = ["report", "sql", "--format", output_format, "--db", str(demo_db)]
    baseline = _peak_rss_bytes([*base, "SELECT 0 AS i, 0 AS j"], tmp_path / "one")
    query = f"SELECT range AS i, range * 2 AS j FROM range({STREAMED_ROWS})"
    streamed = _peak_rss_bytes([*base, query], tmp_path / "all")
    assert streamed - baseline < STREAMING_HEADROOM_BYTES, (baseline, streamed)
    last = STREAMED_ROWS - 1
    with (tmp_path / "all").open("rb") as out:
        if output_format == "csv":
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: out.read(1 << 20), b""))
            assert lines == STREAMED_ROWS + 1
        else:
            assert out.read(60).startswith(b'{"columns": ["i", "j"], "rows": [[0, 0], [1, 2]')
            out.seek(-80, os.SEEK_END)
            tail = out.read()
            assert tail.endswith(
                f'[{last}, {2 * last}]], "notes": [], "files": [], "data": {{}}}}\n'.encode()
            )
