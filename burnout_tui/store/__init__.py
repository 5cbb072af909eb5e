"""The DuckDB store: opening the file, its schema, the frame writer and row functions."""

from __future__ import annotations

from burnout_tui.store import repository
from burnout_tui.store.connect import store_cursor
from burnout_tui.store.database import StoreError, migrate, open_database, schema_version
from burnout_tui.store.rows import FrameRow, stored_rows
from burnout_tui.store.schema import (
    FATIGUE_COLUMNS,
    FEATURE_COLUMNS,
    MIGRATIONS,
    PROBABILITY_COLUMNS,
)
from burnout_tui.store.writer import FrameWriter

__all__ = [
    "FATIGUE_COLUMNS",
    "FEATURE_COLUMNS",
    "MIGRATIONS",
    "PROBABILITY_COLUMNS",
    "FrameRow",
    "FrameWriter",
    "StoreError",
    "migrate",
    "open_database",
    "repository",
    "schema_version",
    "store_cursor",
    "stored_rows",
]
