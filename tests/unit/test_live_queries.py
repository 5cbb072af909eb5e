"""Live queries: the writer's process answers read-only queries on a private socket.

The store is a real file held open for writing by this process (a `FrameWriter` or a
`CaptureWorker` writing into it), so a `report` run in a child process meets DuckDB's lock
exactly as it would beside a running monitor.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from burnout_tui.config import Config
from burnout_tui.runtime.capture import CaptureWorker
from burnout_tui.sources import parse_source
from burnout_tui.store import FrameWriter, live_client, open_database
from burnout_tui.store.keys import KEY_ENV
from burnout_tui.store.live_client import LiveQueryError, LiveUnavailable
from burnout_tui.store.live_protocol import LENGTH, LiveProtocolError, socket_path
from burnout_tui.store.live_server import LiveServer
from tests.command_line import assert_one_line_error, run_cli
from tests.unit.test_store import make_row, new_session
from tests.waiting import wait_until

LIVE_NOTE = "is being recorded by a running monitor"
LATE_FAILURE_ROW = 1_000_000
"""A query failing at this row sends rows before it fails: DuckDB's stream runs ahead by
some 260,000 rows here, well short of this."""


@pytest.fixture
def server(con: duckdb.DuckDBPyConnection) -> Iterator[LiveServer]:
    live = LiveServer(con)
    live.start()
    assert live.failure is None
    yield live
    live.stop()


@pytest.fixture
def writing(con: duckdb.DuckDBPyConnection) -> Iterator[tuple[FrameWriter, int]]:
    """A writer holding the store, with one session of 10 committed frame rows."""
    session = new_session(con)
    with FrameWriter(con, flush_interval_s=0.05) as writer:
        writer.put_many(make_row(session, index) for index in range(10))
        writer.flush()
        yield writer, session


def frame_count(db: Path) -> int:
    table = live_client.query(db, "SELECT count(*) AS n FROM frames")
    return int(table.column("n")[0].as_py())


def test_socket_is_private_beside_the_database_and_removed_on_stop(
    db: Path, con: duckdb.DuckDBPyConnection
) -> None:
    live = LiveServer(con)
    live.start()
    path = socket_path(db)
    assert live.path == path and path.parent == db.parent.resolve()
    found = os.lstat(path)
    assert stat.S_ISSOCK(found.st_mode)
    assert stat.S_IMODE(found.st_mode) == 0o600
    assert found.st_uid == os.getuid()
    assert [entry.name for entry in db.parent.iterdir() if entry.name.startswith(".live-")] == []
    live.stop()
    assert not path.exists()
    live.stop()


def test_queries_see_rows_as_the_writer_commits_them(
    db: Path, server: LiveServer, writing: tuple[FrameWriter, int]
) -> None:
    writer, session = writing
    assert frame_count(db) == 10
    writer.put_many(make_row(session, index) for index in range(10, 25))
    writer.flush()
    assert frame_count(db) == 25
    named = live_client.query(db, "SELECT count(*) AS n FROM v_frames WHERE user = ?", ["ana"])
    assert named.column("n").to_pylist() == [25]
    with live_client.stream(db, "SELECT frame_index FROM frames ORDER BY 1") as reader:
        assert [row for batch in reader for row in batch.column(0).to_pylist()] == list(range(25))


@pytest.mark.parametrize(
    ("sql", "refusal"),
    [
        ("DELETE FROM frames", "refused DELETE"),
        ("COPY frames TO 'out.csv'", "refused COPY"),
        ("SELECT * FROM read_csv('/etc/passwd')", "reads files"),
        ("EXPLAIN ANALYZE UPDATE frames SET frame_score = 0", "under EXPLAIN ANALYZE"),
        ("SELECT 1; DROP TABLE frames", "exactly one statement"),
        ("SELECT nextval('session_id_seq')", "advances a sequence"),
    ],
)
def test_writes_are_refused_with_report_sqls_checks(
    db: Path, server: LiveServer, writing: tuple[FrameWriter, int], sql: str, refusal: str
) -> None:
    with pytest.raises(LiveQueryError, match="report sql is read-only") as refused:
        live_client.query(db, sql)
    assert refusal in str(refused.value)
    assert frame_count(db) == 10
    assert not (db.parent / "out.csv").exists()


def test_failures_are_one_error_line(
    db: Path, server: LiveServer, writing: tuple[FrameWriter, int]
) -> None:
    with pytest.raises(LiveQueryError, match=r"^cannot parse the query: Parser Error"):
        live_client.query(db, "SELEC 1")
    with pytest.raises(LiveQueryError, match=r"^query failed: Catalog Error"):
        live_client.query(db, "SELECT * FROM no_such_table")
    # A failure once rows are flowing ends the stream early and is raised after them
    # (DuckDB produces a few hundred thousand rows ahead of the one that fails).
    late = f"SELECT CAST(CASE WHEN i < {LATE_FAILURE_ROW} THEN '1' ELSE 'x' END AS INT) AS v "
    late += f"FROM range({LATE_FAILURE_ROW + 1}) t(i)"
    received = 0
    with (
        pytest.raises(LiveQueryError, match=r"^query failed: Conversion Error"),
        live_client.stream(db, late) as reader,
    ):
        for batch in reader:
            received += batch.num_rows
    assert 0 < received < LATE_FAILURE_ROW
    assert frame_count(db) == 10, "the server keeps serving after a failure"


def test_malformed_requests_get_an_error_line(db: Path, server: LiveServer) -> None:
    for request in (LENGTH.pack(5) + b"hello", LENGTH.pack(2) + b"{}", LENGTH.pack(1 << 30)):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(str(socket_path(db)))
            client.sendall(request)
            answer = client.makefile("rb").readline()
        assert answer.startswith(b"ERROR ") and answer.endswith(b"\n"), answer
        assert answer.count(b"\n") == 1


def test_a_stale_socket_is_replaced(db: Path, con: duckdb.DuckDBPyConnection) -> None:
    path = socket_path(db)
    left = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    left.bind(str(path))
    left.close()  # what a killed monitor leaves: the file, with no one listening
    assert not live_client.available(db)
    live = LiveServer(con)
    live.start()
    try:
        assert live.failure is None
        assert frame_count(db) == 0
    finally:
        live.stop()
    assert not path.exists()


def test_a_socket_someone_answers_on_is_left_alone(
    db: Path, con: duckdb.DuckDBPyConnection, server: LiveServer
) -> None:
    second = LiveServer(con)
    second.start()
    assert second.failure is not None and "another process already serves it" in second.failure
    second.stop()
    assert frame_count(db) == 0, "the first server's socket is still in place"


def test_a_file_at_the_socket_path_is_not_touched(db: Path, con: duckdb.DuckDBPyConnection) -> None:
    path = socket_path(db)
    path.write_text("mine")
    live = LiveServer(con)
    live.start()
    live.stop()
    assert live.failure is not None and "is not a socket" in live.failure
    assert path.read_text() == "mine"
    with pytest.raises(LiveUnavailable, match="is not a socket"):
        live_client.query(db, "SELECT 1")


def test_the_client_refuses_a_socket_others_can_open(db: Path, server: LiveServer) -> None:
    path = socket_path(db)
    os.chmod(path, 0o666)
    with pytest.raises(LiveUnavailable, match="can be opened by other users"):
        live_client.query(db, "SELECT 1")
    os.chmod(path, 0o600)
    assert live_client.query(db, "SELECT 1 AS one").column("one").to_pylist() == [1]


def test_an_in_memory_store_serves_nothing() -> None:
    memory = open_database(":memory:")
    live = LiveServer(memory)
    live.start()
    assert live.path is None and not live.serving
    live.stop()
    memory.close()


def test_snapshot_has_every_table_and_view_of_the_store(
    db: Path, con: duckdb.DuckDBPyConnection, server: LiveServer, writing: tuple[FrameWriter, int]
) -> None:
    copy = live_client.snapshot_connection(db)
    try:
        listing = (
            "SELECT table_name, table_type FROM information_schema.tables "
            "WHERE table_catalog = 'store' ORDER BY ALL"
        )
        assert copy.execute(listing).fetchall() == con.execute(listing).fetchall()
        for (name,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'store'"
        ).fetchall():
            query = f"SELECT * FROM {name} ORDER BY ALL"
            assert copy.execute(query).fetchall() == con.execute(query).fetchall(), name
        with pytest.raises(duckdb.PermissionException):
            copy.execute(f"SELECT * FROM read_text({str(db)!r})")
    finally:
        copy.close()


def test_report_reads_a_locked_database_through_its_writer(
    db: Path, server: LiveServer, writing: tuple[FrameWriter, int]
) -> None:
    writer, session = writing
    counted = run_cli(
        "report", "sql", "SELECT count(*) AS n FROM frames", "--db", str(db), "--json"
    )
    assert counted.returncode == 0, counted.stderr
    assert '"rows": [[10]]' in counted.stdout
    assert counted.stderr.count(LIVE_NOTE) == 1
    writer.put_many(make_row(session, index) for index in range(10, 15))
    writer.flush()
    table = run_cli("report", "sql", "SELECT user, count(*) AS n FROM v_frames GROUP BY ALL",
                    "--db", str(db), "--format", "csv")  # fmt: skip
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines() == ["user,n", "ana,15"]
    refused = run_cli("report", "sql", "DELETE FROM frames", "--db", str(db))
    assert "report sql is read-only: refused DELETE" in refused.stderr
    assert refused.returncode != 0 and "Traceback" not in refused.stderr


def test_a_locked_database_without_a_server_says_so(
    db: Path, writing: tuple[FrameWriter, int]
) -> None:
    done = run_cli("report", "sql", "SELECT 1", "--db", str(db))
    assert_one_line_error(done, "open for writing by another process")
    assert "no monitor serves live queries" in done.stderr


def test_the_capture_worker_serves_while_it_records(
    loaded_config: Config, db: Path, con: duckdb.DuckDBPyConnection
) -> None:
    worker = CaptureWorker(parse_source("demo"), loaded_config, con, "ana", fast=True)
    worker.start()
    try:
        wait_until(lambda: worker.status().face_frames >= 5, "frames with a face")
        wait_until(lambda: frame_count(db) > 0, "committed rows, read live")
        first = frame_count(db)
        wait_until(lambda: frame_count(db) > first, "more rows, read live")
        statuses = live_client.query(db, "SELECT status FROM v_sessions").column("status")
        assert statuses.to_pylist() == ["running"]
    finally:
        worker.stop()
    assert not socket_path(db).exists()
    assert con.execute("SELECT status FROM sessions").fetchall() == [("complete",)]


def test_an_encrypted_store_is_read_live_without_its_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "secret.duckdb"
    monkeypatch.setenv(KEY_ENV, "only the monitor knows")
    con = open_database(db, encrypt=True)
    monkeypatch.delenv(KEY_ENV)
    live = LiveServer(con)
    live.start()
    try:
        new_session(con, "eve")
        done = run_cli("report", "sql", "SELECT user FROM v_sessions", "--db", str(db), "--json")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["rows"] == [["eve"]]
        assert LIVE_NOTE in done.stderr
    finally:
        live.stop()
        con.close()


def test_a_snapshot_needs_the_same_schema_version(
    db: Path, server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_client, "MIGRATIONS", (*live_client.MIGRATIONS, "SELECT 1"))
    with pytest.raises(LiveQueryError, match="run the same version of both"):
        live_client.snapshot_connection(db)


def test_a_path_too_long_for_a_socket_leaves_the_store_usable(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    con = open_database(deep / "sessions.duckdb")
    live = LiveServer(con)
    live.start()
    try:
        assert live.failure is not None and "longer than a Unix socket allows" in live.failure
        assert not live.serving and not socket_path(deep / "sessions.duckdb").exists()
    finally:
        live.stop()
        con.close()


def test_stop_interrupts_a_query_in_flight(
    db: Path, con: duckdb.DuckDBPyConnection, recwarn: pytest.WarningsRecorder
) -> None:
    live = LiveServer(con)
    live.start()
    outcome: list[BaseException] = []

    def endless() -> None:
        try:
            live_client.query(db, "SELECT count(*) FROM range(1000000000000)")
        except (LiveQueryError, LiveProtocolError) as error:
            outcome.append(error)

    asking = threading.Thread(target=endless)
    asking.start()
    wait_until(lambda: bool(live._clients), "the query to arrive")
    live.stop()
    asking.join()
    assert not socket_path(db).exists()
    [error] = outcome
    assert "nterrupt" in str(error) or "closed the connection" in str(error)
    assert not [warning for warning in recwarn if "thread" in str(warning.message).lower()]
    assert con.execute("SELECT count(*) FROM frames").fetchone() == (0,)
