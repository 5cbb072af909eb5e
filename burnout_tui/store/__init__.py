"""The DuckDB store: opening the file, its schema, the frame writer and row functions.

The names below are loaded on first use (PEP 562), not when the package is: the
monitor's UI process imports store modules such as `store.surveys` only so that their
query functions can be named to the capture process, which runs them, and must not load
DuckDB and Arrow for that. Submodules (`store.repository`, …) import as usual.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from burnout_tui.lazy_exports import lazy_getattr

if TYPE_CHECKING:
    from burnout_tui.store.connect import store_cursor as store_cursor
    from burnout_tui.store.database import StoreError as StoreError
    from burnout_tui.store.database import migrate as migrate
    from burnout_tui.store.database import open_database as open_database
    from burnout_tui.store.database import schema_version as schema_version
    from burnout_tui.store.rows import FrameRow as FrameRow
    from burnout_tui.store.rows import stored_rows as stored_rows
    from burnout_tui.store.schema import FATIGUE_COLUMNS as FATIGUE_COLUMNS
    from burnout_tui.store.schema import FEATURE_COLUMNS as FEATURE_COLUMNS
    from burnout_tui.store.schema import MIGRATIONS as MIGRATIONS
    from burnout_tui.store.schema import PROBABILITY_COLUMNS as PROBABILITY_COLUMNS
    from burnout_tui.store.writer import FrameWriter as FrameWriter

EXPORTS: dict[str, str] = {
    "FATIGUE_COLUMNS": "burnout_tui.store.schema",
    "FEATURE_COLUMNS": "burnout_tui.store.schema",
    "MIGRATIONS": "burnout_tui.store.schema",
    "PROBABILITY_COLUMNS": "burnout_tui.store.schema",
    "FrameRow": "burnout_tui.store.rows",
    "FrameWriter": "burnout_tui.store.writer",
    "StoreError": "burnout_tui.store.database",
    "migrate": "burnout_tui.store.database",
    "open_database": "burnout_tui.store.database",
    "schema_version": "burnout_tui.store.database",
    "store_cursor": "burnout_tui.store.connect",
    "stored_rows": "burnout_tui.store.rows",
}
"""Each exported name and the module that defines it."""

__all__ = sorted(EXPORTS)


__getattr__ = lazy_getattr(__name__, EXPORTS, globals())
