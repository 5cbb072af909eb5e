"""The permissions of everything the product creates, in one place.

Session data is biometric (faces' emotions, eye closures, survey answers), so every file
and folder the product creates is its owner's only: files 0600, folders 0700, and the
process umask 0077 so that files a library creates behind our back (DuckDB's `.wal`,
recreated at each checkpoint; Parquet exports; plots) get the same. Modules that create
files import these names rather than writing the numbers, so they cannot drift apart;
plugins get them through `burnout_tui.plugin`.
"""

from __future__ import annotations

PRIVATE_FILE_MODE = 0o600
"""Read and write for the owner, nothing for group or others."""

PRIVATE_DIR_MODE = 0o700
"""List, enter and create for the owner, nothing for group or others."""

PRIVATE_UMASK = 0o077
"""Clears every group and other bit of what the process creates, whoever creates it."""

__all__ = ["PRIVATE_DIR_MODE", "PRIVATE_FILE_MODE", "PRIVATE_UMASK"]
