"""FrameWriter: rows go into a queue, one background thread inserts them in batches.

Why a thread: an insert must never stall the frame loop. Why batches through Arrow: one
Arrow table inserted with one `INSERT ... SELECT` is orders of magnitude faster than a
row-by-row `executemany` (docs/measurements.md#store-writer).

Sharing the connection: a DuckDBPyConnection must not be used by two threads at once,
but its cursors (`store_cursor(con)`) are independent connections to the same database and
may run concurrently. The writer takes its own cursor at construction and is the only
user of it; the caller keeps using `con` (or cursors of its own) for sessions and
markers. Each batch is one transaction (one INSERT per table it holds rows of): other
cursors see all of a batch or none of it, so a frame's side-table rows (`SIDE_ROWS`)
never appear without its `frames` rows.

Rows are any row class of `store/table_rows.py`: `FrameRow` for `frames`, and the side
tables' rows; each table's Arrow schema comes from its row class.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections import Counter
from collections.abc import Iterable
from types import TracebackType

import duckdb
import pyarrow as pa

from burnout_tui.config import StoreConfig
from burnout_tui.file_modes import PRIVATE_FILE_MODE
from burnout_tui.store.connect import store_cursor
from burnout_tui.store.database import StoreError, first_line
from burnout_tui.store.rows import FrameRow
from burnout_tui.store.table_rows import TableRow, arrow_schema, rows_to_table

DEFAULT_FLUSH_INTERVAL_S = StoreConfig().flush_interval_s

DEFAULT_BATCH_ROWS = 8192
"""Large enough that a bulk analysis pays the per-statement cost rarely, small enough
that one Arrow batch stays a few megabytes."""

FLUSH_POLL_S = 0.1
"""How often a waiting `flush()` checks that the writer thread is still alive."""

FLUSH_LOG_ENV = "BURNOUT_TUI_FLUSH_LOG"
"""For tests only: a file to which the writer appends, after each committed batch, the rows
it has committed so far, one number a line. A test that kills the process with SIGKILL
cannot read the database while the process holds it (DuckDB's lock), so this is how it
learns which rows the writer had acknowledged: each line is written only after its
INSERT returned, i.e. committed, so every row it counts must survive the kill."""

_BATCH_NAME = "row_batch"


def _checked(row: TableRow) -> TableRow:
    """Reject a wrong value in the caller's thread, where the traceback points at the bug."""
    try:
        arrow_schema(type(row))
    except TypeError as error:
        raise TypeError(f"expected a table row such as FrameRow: {error}") from None
    return row


class _Stop:
    """Queue sentinel: write what is pending, then end the thread."""


class FrameWriter:
    """Writes rows in the background; `close()` (or leaving `with`) writes the rest.

    A row waits at most `flush_interval_s` (plus the insert itself) before other cursors
    can read it. An error in the writer thread is raised as a StoreError by the first of
    `put`, `put_many`, `flush` or `close` called after it; rows after the error are lost,
    which is why callers mark such a session failed or delete it.
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        *,
        flush_interval_s: float = DEFAULT_FLUSH_INTERVAL_S,
        batch_rows: int = DEFAULT_BATCH_ROWS,
    ) -> None:
        if flush_interval_s <= 0 or batch_rows < 1:
            raise ValueError("flush_interval_s must be > 0 and batch_rows >= 1")
        self._cursor = store_cursor(con)
        self._interval = flush_interval_s
        self._batch_rows = batch_rows
        self._queue: queue.Queue[TableRow | threading.Event | _Stop] = queue.Queue()
        self._error: BaseException | None = None
        self._error_reported = False
        self._lock = threading.Lock()
        self._closed = False
        self.rows_written = 0
        """`frames` rows committed so far (what a session's frame count is checked against)."""
        self.rows_by_table: Counter[str] = Counter()
        """Rows committed so far per table, side tables included."""
        log = os.environ.get(FLUSH_LOG_ENV)
        self._flush_log = (
            None
            if not log
            else os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE_MODE)
        )
        self._thread = threading.Thread(target=self._run, name="frame-writer", daemon=True)
        self._thread.start()

    def put(self, row: TableRow) -> None:
        self._check_open()
        self._queue.put(_checked(row))

    def put_many(self, rows: Iterable[TableRow]) -> None:
        self._check_open()
        for row in rows:
            self._queue.put(_checked(row))

    def flush(self) -> None:
        """Block until every row put so far is committed. A no-op after close()."""
        if self._closed or not self._thread.is_alive():
            self._raise_error()
            return
        done = threading.Event()
        self._queue.put(done)
        while not done.wait(FLUSH_POLL_S):
            if not self._thread.is_alive():
                break
        self._raise_error()

    def close(self) -> None:
        """Write every queued row, stop the thread. Safe to call more than once."""
        if not self._closed:
            self._closed = True
            self._queue.put(_Stop())
            self._thread.join()
        self._raise_error()

    def __enter__(self) -> FrameWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("FrameWriter is closed")
        if not self._thread.is_alive():
            self._raise_error()
            raise StoreError("the frame writer has stopped; no more rows can be written")

    def _raise_error(self) -> None:
        with self._lock:
            error, report = self._error, not self._error_reported
            self._error_reported = self._error_reported or error is not None
        if error is not None and report:
            raise StoreError(f"writing frames failed: {first_line(error)}") from error

    def _run(self) -> None:
        batch: list[TableRow] = []
        deadline = 0.0
        finished = False
        try:
            while True:
                timeout = max(0.0, deadline - time.monotonic()) if batch else None
                try:
                    item = self._queue.get(timeout=timeout)
                except queue.Empty:
                    batch = self._insert(batch)
                    continue
                if not isinstance(item, threading.Event | _Stop):
                    if not batch:
                        deadline = time.monotonic() + self._interval
                    batch.append(item)
                    if len(batch) >= self._batch_rows:
                        batch = self._insert(batch)
                elif isinstance(item, threading.Event):
                    batch = self._insert(batch)
                    item.set()
                else:
                    self._insert(batch)
                    finished = True
                    return
        except (duckdb.Error, pa.ArrowException) as error:
            with self._lock:
                self._error = error
        finally:
            self._cursor.close()
            if self._flush_log is not None:
                os.close(self._flush_log)
            with self._lock:
                if not finished and self._error is None:
                    self._error = RuntimeError("the writer thread crashed (traceback above)")

    def _insert(self, batch: list[TableRow]) -> list[TableRow]:
        """Insert the batch in one transaction; returns the new, empty batch."""
        if not batch:
            return []
        by_table: dict[str, list[TableRow]] = {}
        for row in batch:
            by_table.setdefault(row.TABLE, []).append(row)
        self._cursor.begin()
        try:
            for table, rows in by_table.items():
                self._cursor.register(_BATCH_NAME, rows_to_table(rows))
                try:
                    self._cursor.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {_BATCH_NAME}")
                finally:
                    self._cursor.unregister(_BATCH_NAME)
            self._cursor.commit()
        except BaseException:
            self._cursor.rollback()
            raise
        self.rows_by_table.update({table: len(rows) for table, rows in by_table.items()})
        self.rows_written += len(by_table.get(FrameRow.TABLE, ()))
        if self._flush_log is not None:
            os.write(self._flush_log, f"{self.rows_written}\n".encode())
        return []
