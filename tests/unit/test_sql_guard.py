"""The read-only check of `report sql`, over a table of statements it must let through or refuse."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from burnout_tui.store.database import migrate
from burnout_tui.store.sql_guard import RefusedQuery, check_read_only

ACCEPTED: tuple[str, ...] = (
    "SELECT 1",
    "SELECT 1;",
    'SELECT "user", count(*) AS n FROM v_frames GROUP BY ALL',
    "FROM v_sessions",
    "FROM v_sessions SELECT session_id ORDER BY ALL LIMIT 3",
    "VALUES (1), (2)",
    "WITH a AS (SELECT 1 AS x) SELECT * FROM a",
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) FROM r",
    "SELECT 1 UNION SELECT 2 EXCEPT SELECT 3",
    "SELECT * FROM (SELECT session_id FROM v_sessions) AS s(id)",
    "SELECT (SELECT max(frame_index) FROM frames) AS last",
    "SELECT * FROM v_frames WHERE session_id IN (SELECT session_id FROM v_sessions)",
    "SELECT list_transform([1, 2], x -> x * 2), setseed(0.5), random()",
    "SELECT * FROM range(3) AS r, generate_series(1, 2), unnest([1, 2])",
    "FROM duckdb_tables()",
    "SELECT * FROM pragma_table_info('frames')",
    "DESCRIBE frames",
    "DESCRIBE SELECT 1",
    "SHOW TABLES",
    "SHOW frames",
    "SUMMARIZE v_frames",
    "SUMMARIZE SELECT 1",
    "PIVOT v_sessions ON status IN ('complete', 'running') USING count(*)",
    "FROM v_sessions PIVOT (count(*) FOR status IN ('complete'))",
    'PIVOT v_sessions ON status USING count(*) GROUP BY "user"',
    "PIVOT (SELECT * FROM v_sessions) ON status USING max(frames_total)",
    "UNPIVOT (SELECT 1 AS a, 2 AS b) ON COLUMNS(*) INTO NAME k VALUE v",
    "SELECT * FROM (PIVOT v_sessions ON status USING count(*))",
    "EXPLAIN SELECT 1",
    "EXPLAIN ANALYZE SELECT count(*) FROM v_frames",
    "EXPLAIN (FORMAT json) SELECT 1",
    "EXPLAIN (SELECT 1)",
    "/* why */ EXPLAIN -- note\n ANALYZE SELECT 1",
    "SELECT 'a.csv' AS name, 'x' || '/y' AS path",
)

REFUSED: tuple[tuple[str, str], ...] = (
    ("COPY (SELECT 1) TO 'leak.csv'", "COPY"),
    ("EXPLAIN COPY (SELECT 1) TO 'other.duckdb'", "COPY under EXPLAIN"),
    ("EXPLAIN ANALYZE COPY (SELECT 1) TO 'other.duckdb'", "COPY under EXPLAIN ANALYZE"),
    ("explain analyze copy (select 1) to 'x.csv'", "COPY under EXPLAIN ANALYZE"),
    ("EXPLAIN (FORMAT json) COPY (SELECT 1) TO 'x.csv'", "COPY under EXPLAIN"),
    ("EXPLAIN (ANALYZE) COPY (SELECT 1) TO 'x.csv'", "COPY under EXPLAIN"),
    ("EXPLAIN ANALYZE COPY (PIVOT v_sessions ON status USING count(*)) TO 'x'", "EXPLAIN"),
    ("EXPLAIN PIVOT v_sessions ON status USING count(*)", "PIVOT without IN"),
    ("EXPLAIN ANALYZE INSERT INTO users (name) VALUES ('m')", "INSERT under EXPLAIN"),
    ("EXPLAIN ANALYZE SELECT * FROM read_csv('x.csv')", "read_csv()"),
    ("INSERT INTO users (name) VALUES ('mallory')", "INSERT"),
    ("UPDATE users SET name = 'm'", "UPDATE"),
    ("DELETE FROM frames", "DELETE"),
    ("CREATE TABLE t (x INTEGER)", "CREATE"),
    ("CREATE TEMP TABLE t AS SELECT 1", "CREATE"),
    ("DROP VIEW v_frames", "DROP"),
    ("ATTACH 'other.duckdb' AS o", "ATTACH"),
    ("DETACH o", "DETACH"),
    ("EXPORT DATABASE 'dir'", "EXPORT"),
    ("IMPORT DATABASE 'no-such-dir'", "cannot parse"),
    ("CHECKPOINT", "CALL"),
    ("VACUUM", "VACUUM"),
    ("SET threads = 1", "SET"),
    ("RESET threads", "SET"),
    ("INSTALL httpfs", "LOAD"),
    ("LOAD httpfs", "LOAD"),
    ("CALL pragma_version()", "CALL"),
    ("PRAGMA enable_checkpoint_on_shutdown", "PRAGMA"),
    ("PRAGMA version", "cannot check"),
    ("PRAGMA threads = 2", "SET"),
    ("BEGIN", "TRANSACTION"),
    ("PREPARE p AS SELECT 1", "PREPARE"),
    ("SELECT 1; DROP TABLE frames", "exactly one statement (got 2)"),
    ("SELECT 1; SELECT 2", "exactly one statement (got 2)"),
    ("PIVOT v_sessions ON status USING count(*); SELECT 1", "exactly one statement"),
    ("SELECT 1; PIVOT v_sessions ON status USING count(*)", "exactly one statement"),
    ("", "exactly one statement (got 0)"),
    ("SELECT * FROM query('SELECT 1')", "query() (runs SQL given as text"),
    ("SELECT * FROM main.Query('SELECT 1')", "query()"),
    ("FROM query_table('frames')", "query_table()"),
    ("SELECT * FROM json_execute_serialized_sql('{}')", "json_execute_serialized_sql()"),
    ("SELECT nextval('s')", "nextval()"),
    ("SELECT session_id.write_log() FROM v_sessions", "write_log()"),
    ("SELECT list_transform([1], x -> write_log('x'))", "write_log()"),
    ("SELECT * FROM checkpoint()", "checkpoint()"),
    ("FROM force_checkpoint()", "checkpoint()"),
    ("FROM enable_logging()", "enable_logging()"),
    ("FROM truncate_duckdb_logs()", "truncate_duckdb_logs()"),
    ("FROM enable_profiling()", "enable_profiling()"),
    ("SELECT * FROM read_csv('/etc/passwd')", "read_csv() (reads files"),
    ("SELECT (SELECT count(*) FROM read_text('x')) AS n", "read_text()"),
    ("SELECT * FROM v_frames WHERE 1 IN (SELECT 1 FROM glob('*'))", "glob()"),
    ("WITH a AS (FROM read_parquet('x.parquet')) FROM a", "read_parquet()"),
    ("SELECT 1 UNION ALL SELECT * FROM read_json('x')", "read_json()"),
    ("FROM read_duckdb('other.duckdb')", "read_duckdb()"),
    ("FROM sqlite_scan('x.db', 't')", "sqlite_scan() (a table function not known"),
    ("FROM duckdb_secrets()", "duckdb_secrets()"),
    ("FROM histogram('x.csv', a)", "histogram()"),
    ("FROM arrow_scan(1, 2, 3)", "arrow_scan()"),
    ("SELECT * FROM 'leak.csv'", "'leak.csv'"),
    ('SELECT * FROM "https://example.com/x.parquet"', "DuckDB would read it as a file"),
    ("DESCRIBE 'x.csv'", "'x.csv'"),
    ("PIVOT read_csv('x.csv') ON a USING count(*)", "read_csv()"),
    ("PIVOT 'x.csv' ON a USING count(*)", "'x.csv'"),
    ("PIVOT (FROM query('SELECT 1 AS a')) ON a", "query()"),
    ("PIVOT (FROM checkpoint()) ON a", "checkpoint()"),
    ("PIVOT v_sessions ON status USING max(write_log('x'))", "write_log()"),
    ("PIVOT (FROM sqlite_scan('x.db', 't')) ON a", "sqlite_scan("),
)


@pytest.fixture(scope="module")
def database() -> Iterator[duckdb.DuckDBPyConnection]:
    """An empty store: its tables and views, as `report sql` sees them."""
    con = duckdb.connect(":memory:")
    migrate(con)
    yield con
    con.close()


@pytest.fixture
def guard_store(database: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor of its own per test: a statement that fails while DuckDB parses it (IMPORT
    DATABASE reads files then) aborts that connection's transaction, as in the one-shot CLI,
    where the refusal ends the run."""
    cursor = database.cursor()
    yield cursor
    cursor.close()


@pytest.mark.parametrize("statement", ACCEPTED)
def test_pure_reads_pass(guard_store: duckdb.DuckDBPyConnection, statement: str) -> None:
    check_read_only(statement, guard_store)


@pytest.mark.parametrize(("statement", "named"), REFUSED)
def test_refused_statements_say_what(
    guard_store: duckdb.DuckDBPyConnection, statement: str, named: str
) -> None:
    with pytest.raises(RefusedQuery) as refused:
        check_read_only(statement, guard_store)
    message = str(refused.value)
    assert named in message
    assert "\n" not in message


def test_accepted_statements_run(guard_store: duckdb.DuckDBPyConnection) -> None:
    """What passes is real SQL DuckDB runs (on the store's empty views)."""
    for statement in ACCEPTED:
        guard_store.execute(statement).fetchall()


def test_parse_errors_are_refused(guard_store: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(RefusedQuery, match="cannot parse"):
        check_read_only("SELEC 1", guard_store)


def test_checking_runs_nothing(guard_store: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    """The check parses; it does not run the statement it refuses."""
    target = tmp_path / "x.csv"
    with pytest.raises(RefusedQuery):
        check_read_only(f"EXPLAIN ANALYZE COPY (SELECT 1) TO '{target}'", guard_store)
    assert not target.exists()
