"""How `report` reaches a database: the file itself, or the monitor that is writing it.

A running monitor holds its database for writing, and DuckDB then lets no other process
open it, even to read. The monitor serves read-only queries on a socket beside the file
(`store.live_server`), so when opening fails on that lock, the report asks the monitor
instead: a plugin report gets an in-memory copy of every table with the store's views
(`live_client.snapshot_connection`), so it runs unchanged; `report sql` sends its query
to the monitor and prints the rows as they arrive. Either way stderr says so, once.

An encrypted file is asked about first: opening it would need its key, which the
monitor, holding the key already, does not need from the report.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import duckdb

from burnout_tui.export import open_read_only
from burnout_tui.store import live_client
from burnout_tui.store.connect import connect_memory
from burnout_tui.store.errors import StoreLockedError
from burnout_tui.store.file_kind import inspect_store_file
from burnout_tui.store.live_protocol import socket_path

_BATCH_NAME = "live_rows"

_announced: set[Path] = set()
"""Databases the one-line note was printed for: once per database and process."""


@dataclass(frozen=True, slots=True)
class LiveDatabase:
    """A database that a running monitor is writing; queries go to that monitor."""

    path: Path

    def snapshot(self) -> duckdb.DuckDBPyConnection:
        """Every table as of now, in a sealed in-memory store shaped like the file."""
        return live_client.snapshot_connection(self.path)

    @contextmanager
    def rows(self, query: str) -> Iterator[tuple[list[str], Iterator[list[tuple[Any, ...]]]]]:
        """The query's column names and its rows in batches, run by the monitor. Values
        are read back through DuckDB, so they are the Python types a local query gives."""
        with live_client.stream(self.path, query) as reader:
            yield list(reader.schema.names), _as_rows(reader)


def open_database(path: Path) -> duckdb.DuckDBPyConnection | LiveDatabase:
    """The file opened read-only (sealed), or the monitor that holds it for writing."""
    path = path.expanduser()
    existing = inspect_store_file(path)
    if existing is not None and existing.encrypted and live_client.available(path):
        return _live(path)
    try:
        return open_read_only(path)
    except StoreLockedError as locked:
        if not live_client.available(path):
            raise StoreLockedError(
                f"{locked}; no monitor serves live queries at {socket_path(path)}"
            ) from None
        return _live(path)


def _live(path: Path) -> LiveDatabase:
    if path not in _announced:
        _announced.add(path)
        click.echo(
            f"note: {path} is being recorded by a running monitor; reading it live through "
            f"that monitor ({socket_path(path).name})",
            err=True,
        )
    return LiveDatabase(path)


def _as_rows(batches: Iterator[Any]) -> Iterator[list[tuple[Any, ...]]]:
    memory = connect_memory()
    try:
        for batch in batches:
            memory.register(_BATCH_NAME, batch)
            try:
                yield memory.execute(f"SELECT * FROM {_BATCH_NAME}").fetchall()
            finally:
                memory.unregister(_BATCH_NAME)
    finally:
        memory.close()
