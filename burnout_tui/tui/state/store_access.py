"""How the UI reaches the database for its one-off reads and writes (history, a survey).

The UI never holds the monitor's database itself: in the real monitor the capture
process owns it and runs each query on a cursor of its own
(`runtime.capture_process.CaptureProcess.run`); with a capture in this process (the
tests' stand-ins) `CursorStore` does the same on this process's connection. Either way
a query is a module-level function of a cursor, called from a thread worker, and its
result comes back as a value.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from typing import TYPE_CHECKING, Concatenate, ParamSpec, Protocol, TypeVar

if TYPE_CHECKING:
    import duckdb

P = ParamSpec("P")
T = TypeVar("T")


class StoreAccess(Protocol):
    def run(
        self,
        query: Callable[Concatenate[duckdb.DuckDBPyConnection, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """`query(cursor, *args, **kwargs)` on a cursor of its own; blocks, so never on the
        UI thread. Raises what the query raises (`duckdb.Error` for the database's own
        failures), or `CaptureGone` once the process that owns the database has ended."""
        ...


class CursorStore:
    """Queries on `con`, the database of a capture running in this process.

    `cursor` is the UI's own connection to it; each query gets a cursor of that, so
    closing `cursor` cuts the UI off the file while the capture goes on writing.

    `store.connect` (and with it DuckDB) is imported here, not at the top: the real
    monitor's UI process never builds one and so never loads DuckDB."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        from burnout_tui.store.connect import store_cursor

        self.cursor = store_cursor(con)

    def run(
        self,
        query: Callable[Concatenate[duckdb.DuckDBPyConnection, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        from burnout_tui.store.connect import store_cursor

        with closing(store_cursor(self.cursor)) as cursor:
            return query(cursor, *args, **kwargs)

    def close(self) -> None:
        self.cursor.close()
