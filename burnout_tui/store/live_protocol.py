"""The wire format of live queries, shared by `live_server` and `live_client`.

One connection carries one request and its answer (docs/live-queries.md):

- request: a 4-byte big-endian length, then that many bytes of UTF-8 JSON,
  `{"version": 1, "queries": [{"sql": "...", "params": [...]}, ...]}`;
- answer, per query in order: a status line, `OK` or `ERROR <one line>`; after `OK` an
  Arrow IPC stream (schema, record batches, end-of-stream marker) and a trailer line,
  `OK`, or `ERROR <one line>` when the query failed while its rows were being sent (the
  stream is then ended early, so the client always finds the trailer).

The queries of one request run in one read-only transaction, so they see the database as
it was at one moment: `live_client.snapshot` copies every table that way.
"""

from __future__ import annotations

import json
import os
import socket
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from burnout_tui.store.errors import StoreError

VERSION = 1
SOCKET_SUFFIX = ".live.sock"
"""Appended to the database's file name: the socket lies next to the file it serves."""

LENGTH = struct.Struct(">I")
MAX_REQUEST_BYTES = 1 << 20
"""A request is SQL text and a few parameters; anything larger is refused unread."""
MAX_LINE_BYTES = 1 << 16
"""Status and trailer lines are one error message at most."""

_PEERCRED = struct.Struct("3i")
"""`struct ucred` (pid, uid, gid), what Linux's SO_PEERCRED returns."""

OK = "OK"
ERROR = "ERROR"

Param = str | int | float | bool | None


class LiveProtocolError(StoreError):
    """The other end sent something that is not this protocol, or hung up mid-answer."""


@dataclass(frozen=True, slots=True)
class LiveQuery:
    """One statement of a request and its positional parameters (`?` in the SQL)."""

    sql: str
    params: tuple[Param, ...] = ()


def socket_path(db_path: Path) -> Path:
    """Where the monitor that writes `db_path` serves live queries."""
    db_path = db_path.expanduser().resolve()
    return db_path.with_name(db_path.name + SOCKET_SUFFIX)


def encode_request(queries: Sequence[LiveQuery]) -> bytes:
    body = json.dumps(
        {
            "version": VERSION,
            "queries": [{"sql": query.sql, "params": list(query.params)} for query in queries],
        }
    ).encode()
    if len(body) > MAX_REQUEST_BYTES:
        raise LiveProtocolError(f"the query is too long to send ({len(body)} bytes)")
    return LENGTH.pack(len(body)) + body


def read_request(stream: IO[bytes]) -> list[LiveQuery]:
    """The queries of one request; LiveProtocolError for anything malformed."""
    prefix = stream.read(LENGTH.size)
    if len(prefix) != LENGTH.size:
        raise LiveProtocolError("the request ended before its length")
    (size,) = LENGTH.unpack(prefix)
    if size > MAX_REQUEST_BYTES:
        raise LiveProtocolError(f"the request is too long ({size} bytes)")
    body = stream.read(size)
    if len(body) != size:
        raise LiveProtocolError("the request ended early")
    try:
        header: Any = json.loads(body)
    except ValueError as error:
        raise LiveProtocolError(f"the request is not JSON: {error}") from None
    if not isinstance(header, dict) or header.get("version") != VERSION:
        raise LiveProtocolError(f"the request is not version {VERSION} of the protocol")
    queries = header.get("queries")
    if not isinstance(queries, list) or not queries:
        raise LiveProtocolError("the request has no queries")
    return [_query(item) for item in queries]


def _query(item: Any) -> LiveQuery:
    if not isinstance(item, dict) or not isinstance(item.get("sql"), str):
        raise LiveProtocolError("each query needs its SQL as a string")
    params = item.get("params", [])
    if not isinstance(params, list) or not all(
        param is None or isinstance(param, str | int | float | bool) for param in params
    ):
        raise LiveProtocolError("parameters must be a list of strings, numbers, booleans or null")
    return LiveQuery(item["sql"], tuple(params))


def status_line(error: str | None = None) -> bytes:
    """`OK`, or `ERROR` and the message on one line."""
    if error is None:
        return f"{OK}\n".encode()
    flat = " ".join(error.split())
    return f"{ERROR} {flat}"[: MAX_LINE_BYTES - 1].encode(errors="replace") + b"\n"


def read_status(stream: IO[bytes]) -> str | None:
    """None for `OK`, the message for `ERROR`; LiveProtocolError otherwise."""
    line = stream.readline(MAX_LINE_BYTES)
    if not line.endswith(b"\n"):
        raise LiveProtocolError(
            "the monitor closed the connection before it answered (it may have stopped)"
        )
    text = line[:-1].decode(errors="replace")
    if text == OK:
        return None
    if text.startswith(f"{ERROR} "):
        return text[len(ERROR) + 1 :]
    raise LiveProtocolError(f"unexpected answer from the monitor: {text[:80]!r}")


def peer_is_other_user(connection: socket.socket) -> bool:
    """Whether the process at the other end runs as another user; False where the platform
    cannot say (no SO_PEERCRED), as the 0600 socket already keeps other users out."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return False
    _, uid, _ = _PEERCRED.unpack(connection.getsockopt(socket.SOL_SOCKET, option, _PEERCRED.size))
    return int(uid) != os.getuid()
