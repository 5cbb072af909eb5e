"""Read-only queries served from the process that writes the database (a running monitor).

DuckDB lets one process open a file for writing and then no other process open it at all,
not even to read. The writer can still read it on more cursors of its own connection, so
it answers other processes' queries on a Unix-domain socket next to the file
(`live_protocol.socket_path`), and `report` asks it when the file is locked
(`live_client`). The protocol is in `live_protocol` and docs/live-queries.md.

What keeps the socket the owner's:

- it is bound inside a fresh 0700 folder beside the database, made 0600 there and only
  then renamed into place, so no other user can connect to it even for a moment, and the
  process umask is never touched (other threads keep creating files meanwhile);
- each connection's peer must run as this process's user (`SO_PEERCRED`, where the
  platform has it);
- a socket already at the path is replaced only when it is a socket of this user that no
  one answers on: one left by a killed monitor. Only one process can hold the database
  for writing, so no other live server for it can appear between that check and the
  rename;
- it is removed on `stop`, if it is still the one this server bound.

Each query runs on its own cursor, in a read-only transaction (DuckDB then refuses any
write itself), after the same parse-tree check as `report sql` (`sql_guard`). The monitor's
connection is not sealed (it must keep writing), so that check is what refuses reading
other files. A server that cannot start (a path too long for a Unix socket, a folder it
cannot write) leaves the monitor running without it; `failure` says why.
"""

from __future__ import annotations

import os
import selectors
import socket
import stat
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO

import duckdb
import pyarrow as pa

from burnout_tui.errors import UserError
from burnout_tui.file_modes import PRIVATE_FILE_MODE
from burnout_tui.store.connect import STORE_CATALOG, store_cursor
from burnout_tui.store.database import first_line
from burnout_tui.store.live_protocol import (
    LiveProtocolError,
    LiveQuery,
    peer_is_other_user,
    read_request,
    socket_path,
    status_line,
)
from burnout_tui.store.sql_guard import check_read_only

BATCH_ROWS = 10_000
"""Rows per Arrow record batch sent: as `report sql` fetches, a few MB at a time."""
MAX_CLIENTS = 4
"""Queries served at once; more are answered `ERROR` at once. Each one takes CPU from the
capture it runs beside, and a person runs one report at a time."""
BACKLOG = MAX_CLIENTS
REQUEST_TIMEOUT_S = 10.0
"""How long a client may take to send its request before the connection is dropped."""
STALE_PROBE_TIMEOUT_S = 1.0
"""How long a socket found at the path has to answer before it counts as left behind."""
JOIN_TIMEOUT_S = 5.0
"""How long `stop` waits for each thread once its query is interrupted."""
MAX_SOCKET_PATH_BYTES = 107 if sys.platform.startswith("linux") else 103
"""The longest path a Unix socket can be reached at (`sun_path` less its NUL byte)."""
OTHER_USER = "live queries are served to the monitor's own user only"


class LiveServer:
    """Serves read-only queries on the database `con` has attached, from `start` to `stop`.

    `con` must be a file-backed store connection (`store.open_database`); for an
    in-memory one there is nothing another process could be locked out of, and `start`
    does nothing. The server uses cursors of its own, made from one it takes here, so it
    shares no cursor (and no thread) with its caller.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._root = store_cursor(con)
        row = self._root.execute(
            "SELECT path FROM duckdb_databases() WHERE database_name = ?", [STORE_CATALOG]
        ).fetchone()
        database = row[0] if row is not None else None
        self.path: Path | None = socket_path(Path(database)) if database else None
        """Where the socket is (or would be); None for an in-memory store."""
        self.failure: str | None = None
        """Why the server is not serving, once `start` has failed; None otherwise."""
        self._listener: socket.socket | None = None
        self._identity: tuple[int, int] | None = None
        self._wake_read, self._wake_write = socket.socketpair()
        self._lock = threading.Lock()
        self._clients: dict[socket.socket, duckdb.DuckDBPyConnection | None] = {}
        self._threads: list[threading.Thread] = []
        self._accepting: threading.Thread | None = None
        self._stopped = False

    @property
    def serving(self) -> bool:
        return self._accepting is not None and self._accepting.is_alive()

    def start(self) -> None:
        """Bind the socket and serve on a thread of its own; a failure sets `failure`."""
        if self.path is None or self._accepting is not None:
            return
        try:
            self._listener = self._bind(self.path)
        except (OSError, _Occupied) as error:
            self.failure = f"cannot serve live queries on {self.path}: {_reason(error)}"
            return
        self._accepting = threading.Thread(target=self._accept, name="live-server", daemon=True)
        self._accepting.start()

    def stop(self) -> None:
        """Stop accepting, interrupt queries in flight, remove the socket. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        self._wake_write.send(b"x")
        if self._accepting is not None:
            self._accepting.join(JOIN_TIMEOUT_S)
        with self._lock:
            clients = list(self._clients.items())
            threads = list(self._threads)
        for client, cursor in clients:
            if cursor is not None:
                cursor.interrupt()
            _shutdown(client)
        for thread in threads:
            thread.join(JOIN_TIMEOUT_S)
        if self._listener is not None:
            self._listener.close()
            self._remove_socket()
        self._wake_read.close()
        self._wake_write.close()
        self._root.close()

    def _bind(self, path: Path) -> socket.socket:
        _check_replaceable(path)
        staging = Path(tempfile.mkdtemp(prefix=".live-", dir=path.parent))
        bound = staging / "s"
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(str(bound))
            os.chmod(bound, PRIVATE_FILE_MODE)
            listener.listen(BACKLOG)
            found = os.stat(bound)
            os.rename(bound, path)
        except BaseException:
            listener.close()
            raise
        finally:
            bound.unlink(missing_ok=True)
            staging.rmdir()
        self._identity = (found.st_dev, found.st_ino)
        return listener

    def _remove_socket(self) -> None:
        assert self.path is not None, "only a server that bound a socket removes one"
        try:
            found = os.lstat(self.path)
        except FileNotFoundError:
            return
        if (found.st_dev, found.st_ino) == self._identity:
            self.path.unlink(missing_ok=True)

    def _accept(self) -> None:
        assert self._listener is not None, "the accept thread starts after the bind"
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ)
            selector.register(self._wake_read, selectors.EVENT_READ)
            while True:
                ready = {key.fileobj for key, _ in selector.select()}
                if self._wake_read in ready:
                    return
                client, _ = self._listener.accept()
                self._admit(client)

    def _admit(self, client: socket.socket) -> None:
        with self._lock:
            self._threads = [thread for thread in self._threads if thread.is_alive()]
            busy = len(self._clients) >= MAX_CLIENTS
            if not busy:
                self._clients[client] = None
                thread = threading.Thread(
                    target=self._serve, args=(client,), name="live-query", daemon=True
                )
                self._threads.append(thread)
        if busy:
            _refuse(client, f"the monitor is already answering {MAX_CLIENTS} queries; retry")
            return
        thread.start()

    def _serve(self, client: socket.socket) -> None:
        try:
            with client, client.makefile("rb") as incoming, client.makefile("wb") as outgoing:
                if peer_is_other_user(client):
                    outgoing.write(status_line(OTHER_USER))
                    return
                client.settimeout(REQUEST_TIMEOUT_S)
                try:
                    queries = read_request(incoming)
                except (LiveProtocolError, OSError) as error:
                    outgoing.write(status_line(_reason(error)))
                    return
                client.settimeout(None)
                with self._lock:
                    if self._stopped:
                        return
                    cursor = store_cursor(self._root)
                    self._clients[client] = cursor
                try:
                    _answer(cursor, queries, outgoing)
                finally:
                    with self._lock:
                        self._clients[client] = None
                    cursor.close()
        except OSError:
            return  # the client went away (or `stop` shut it out): no one is left to tell
        finally:
            with self._lock:
                self._clients.pop(client, None)


class _Occupied(Exception):
    """Something at the socket's path that this server must not replace."""


def _check_replaceable(path: Path) -> None:
    if len(os.fsencode(path)) > MAX_SOCKET_PATH_BYTES:
        raise _Occupied(f"the path is longer than a Unix socket allows ({MAX_SOCKET_PATH_BYTES})")
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(found.st_mode):
        raise _Occupied(f"{path} exists and is not a socket")
    if found.st_uid != os.getuid():
        raise _Occupied(f"{path} belongs to another user")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(STALE_PROBE_TIMEOUT_S)
    try:
        probe.connect(str(path))
    except (ConnectionRefusedError, FileNotFoundError):
        return  # left behind by a process that died: replace it
    finally:
        probe.close()
    raise _Occupied("another process already serves it")


def _answer(
    cursor: duckdb.DuckDBPyConnection, queries: list[LiveQuery], outgoing: IO[bytes]
) -> None:
    """Run the queries in one read-only transaction, writing each one's answer."""
    cursor.execute("BEGIN TRANSACTION READ ONLY")
    try:
        for query in queries:
            if not _answer_one(cursor, query, outgoing):
                return
    finally:
        cursor.execute("ROLLBACK")
        outgoing.flush()


def _answer_one(cursor: duckdb.DuckDBPyConnection, query: LiveQuery, outgoing: IO[bytes]) -> bool:
    """Write one query's status, rows and trailer; False when it failed."""
    try:
        check_read_only(query.sql, cursor)
        reader = cursor.execute(query.sql, list(query.params)).to_arrow_reader(BATCH_ROWS)
    except UserError as error:
        outgoing.write(status_line(str(error)))
        return False
    except duckdb.Error as error:
        outgoing.write(status_line(f"query failed: {first_line(error)}"))
        return False
    outgoing.write(status_line())
    failure: str | None = None
    with pa.ipc.new_stream(outgoing, reader.schema) as stream:
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            except (duckdb.Error, pa.ArrowException, OSError) as error:
                # DuckDB's failure while producing rows comes through Arrow as an OSError;
                # failures to send are raised by `write_batch`, outside this `try`.
                failure = f"query failed: {first_line(error)}"
                break
            stream.write_batch(batch)
    outgoing.write(status_line(failure))
    return failure is None


def _refuse(client: socket.socket, reason: str) -> None:
    with client:
        try:
            client.sendall(status_line(reason))
        except OSError:
            return


def _shutdown(client: socket.socket) -> None:
    try:
        client.shutdown(socket.SHUT_RDWR)
    except OSError:
        return  # already closed by its own thread


def _reason(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__
