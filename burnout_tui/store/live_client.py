"""Asking the monitor that holds a database for rows (`live_server`), from another process.

`query` returns one result as an Arrow table; `stream` yields it batch by batch;
`snapshot_connection` copies every table, as of one moment, into a sealed in-memory
store with the same tables and views, which is what every report (plugins included)
gets as its connection while a monitor records.

Before it connects, the client checks that the socket is one this user made: a socket, owned
by this user, with no group or other permission bits. After connecting it checks, where the
platform says (`SO_PEERCRED`), that the process answering runs as this user too, so a socket
swapped in between cannot impersonate the monitor.
"""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import duckdb
import pyarrow as pa

from burnout_tui.errors import UserError
from burnout_tui.file_modes import PRIVATE_UMASK
from burnout_tui.store.connect import IN_MEMORY, attach_store, seal
from burnout_tui.store.database import migrate
from burnout_tui.store.errors import StoreError
from burnout_tui.store.live_protocol import (
    LiveProtocolError,
    LiveQuery,
    Param,
    encode_request,
    peer_is_other_user,
    read_status,
    socket_path,
)
from burnout_tui.store.schema import MIGRATIONS

CONNECT_TIMEOUT_S = 5.0
"""How long connecting may take; the server answers at once or not at all."""
_BATCH_NAME = "live_batch"


class LiveUnavailable(StoreError):
    """No monitor answers on the socket (none there, a stale one, or not this user's)."""


class LiveQueryError(UserError):
    """The monitor refused or failed the query; the message is its one line."""


def query(db_path: Path, sql: str, params: Sequence[Param] = ()) -> pa.Table:
    """The whole result of one read-only query, run by the monitor that writes `db_path`."""
    with stream(db_path, sql, params) as reader:
        return reader.read_all()


@contextmanager
def stream(db_path: Path, sql: str, params: Sequence[Param] = ()) -> Iterator[pa.RecordBatchReader]:
    """The result of one query as it arrives; a failure the monitor reports after the
    first rows is raised by the iteration, after the rows sent before it."""
    with _connected(db_path, [LiveQuery(sql, tuple(params))]) as incoming:
        yield _result(incoming)


def available(db_path: Path) -> bool:
    """Whether a monitor serves `db_path` now (a connection is made and closed at once)."""
    try:
        client = _connect(socket_path(db_path))
    except LiveUnavailable:
        return False
    client.close()
    return True


def snapshot_connection(db_path: Path) -> duckdb.DuckDBPyConnection:
    """A sealed in-memory store holding every table of `db_path` as of one moment.

    The tables and views are created by the store's own migrations, so they are exactly
    the current schema's (no list of them is kept here); each table is filled from the
    monitor, all in one read-only transaction there. Tables referenced by foreign keys are
    filled first. The schema versions must agree, or the views could not be trusted.
    """
    con = attach_store(IN_MEMORY)
    try:
        migrate(con)
        tables = _tables_in_fill_order(con)
        columns = {table: _columns(con, table) for table in tables}
        queries = [LiveQuery("SELECT coalesce(max(version), 0) AS version FROM schema_migrations")]
        queries += [
            LiveQuery(f"SELECT {', '.join(_quoted(c) for c in columns[table])} FROM {table}")
            for table in tables
        ]
        with _connected(db_path, queries) as incoming:
            versions = _result(incoming).read_all().column("version").to_pylist()
            if versions != [len(MIGRATIONS)]:
                raise LiveQueryError(
                    f"the monitor's database has schema version {versions[0]} and this "
                    f"burnout-tui expects {len(MIGRATIONS)}; run the same version of both"
                )
            con.execute("DELETE FROM schema_migrations")  # the monitor's log, not this copy's
            for table in tables:
                _fill(con, table, columns[table], incoming)
        seal(con)
    except BaseException:
        con.close()
        raise
    return con


def _tables_in_fill_order(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every table of the migrated schema, parents first."""
    tables = [
        str(name)
        for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
            "ORDER BY table_name"
        ).fetchall()
    ]
    parents = {
        str(name)
        for (name,) in con.execute(
            "SELECT DISTINCT referenced_table FROM duckdb_constraints() "
            "WHERE database_name = current_database() AND constraint_type = 'FOREIGN KEY'"
        ).fetchall()
    }
    return sorted(tables, key=lambda table: table not in parents)


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [
        str(name)
        for (name,) in con.execute(
            "SELECT column_name FROM duckdb_columns() "
            "WHERE table_name = ? AND database_name = current_database() ORDER BY column_index",
            [table],
        ).fetchall()
    ]


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _fill(
    con: duckdb.DuckDBPyConnection, table: str, columns: list[str], incoming: IO[bytes]
) -> None:
    """Insert one query's rows in one statement, DuckDB reading them off the socket as
    they come: an INSERT per record batch costs some 70 ms each on an in-memory table
    (measured: 1 M frame rows in 7 s batch by batch, 0.7 s in one statement)."""
    failures: list[StoreError | UserError] = []
    con.register(_BATCH_NAME, _result(incoming, failures))
    names = ", ".join(_quoted(column) for column in columns)
    try:
        con.execute(f"INSERT INTO {table} ({names}) SELECT * FROM {_BATCH_NAME}")
    except duckdb.Error:
        if failures:  # the monitor's own message, not DuckDB's rewording of it
            raise failures[0] from None
        raise
    finally:
        con.unregister(_BATCH_NAME)


@contextmanager
def _connected(db_path: Path, queries: Sequence[LiveQuery]) -> Iterator[IO[bytes]]:
    path = socket_path(db_path)
    client = _connect(path)
    with client, client.makefile("rb") as incoming:
        try:
            client.sendall(encode_request(queries))
        except OSError as error:
            raise LiveUnavailable(f"cannot send the query to {path}: {error.strerror}") from None
        yield incoming


def _result(
    incoming: IO[bytes], failures: list[StoreError | UserError] | None = None
) -> pa.RecordBatchReader:
    """The next query's rows; its status line is read now, its trailer after the rows.
    A failure met while the rows are read is also appended to `failures`."""
    error = read_status(incoming)
    if error is not None:
        raise LiveQueryError(error)
    try:
        rows = pa.ipc.open_stream(incoming)
    except (pa.ArrowException, OSError) as failure:
        raise LiveProtocolError(f"the monitor's rows could not be read: {failure}") from None
    kept = failures if failures is not None else []
    return pa.RecordBatchReader.from_batches(rows.schema, _batches(rows, incoming, kept))


def _batches(
    rows: pa.RecordBatchStreamReader, incoming: IO[bytes], failures: list[StoreError | UserError]
) -> Iterator[pa.RecordBatch]:
    try:
        try:
            yield from rows
        except (pa.ArrowException, OSError) as failure:
            raise LiveProtocolError(f"the monitor's rows were cut short: {failure}") from None
        error = read_status(incoming)
        if error is not None:
            raise LiveQueryError(error)
    except (LiveProtocolError, LiveQueryError) as failure:
        failures.append(failure)
        raise


def _connect(path: Path) -> socket.socket:
    """A connection to the monitor's socket, once both ends are known to be this user's."""
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        raise LiveUnavailable(f"no monitor serves live queries at {path}") from None
    except OSError as error:
        raise LiveUnavailable(f"cannot look at {path}: {error.strerror}") from None
    if not stat.S_ISSOCK(found.st_mode):
        raise LiveUnavailable(f"{path} is not a socket; not using it")
    if found.st_uid != os.getuid():
        raise LiveUnavailable(f"{path} belongs to another user; not using it")
    if found.st_mode & PRIVATE_UMASK:
        raise LiveUnavailable(
            f"{path} can be opened by other users (mode {stat.S_IMODE(found.st_mode):o}); "
            "not using it"
        )
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.settimeout(CONNECT_TIMEOUT_S)
    try:
        client.connect(str(path))
        if peer_is_other_user(client):
            raise LiveUnavailable(f"the process answering at {path} runs as another user")
    except OSError as error:
        client.close()
        raise LiveUnavailable(
            f"no monitor answers at {path} ({error.strerror or error}); it may have stopped"
        ) from None
    except LiveUnavailable:
        client.close()
        raise
    client.settimeout(None)
    return client
