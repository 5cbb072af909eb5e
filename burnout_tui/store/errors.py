"""The store's error type, apart from the modules that raise it so they can share it."""

from __future__ import annotations

from burnout_tui.errors import UserError


class StoreError(UserError):
    """The database cannot be opened or written; the message names the file and a fix."""


class StoreLockedError(StoreError):
    """Another process (a running monitor) has the file open for writing, so DuckDB lets
    this one not even read it; `report` then asks that process instead (`live_client`)."""
