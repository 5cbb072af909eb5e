"""Folders the product creates for the user's files: every level its owner's only.

`Path.mkdir(mode=..., parents=True)` applies the mode to the last folder only; the parents
get the umask's default, which under a test runner or an embedding program is usually
world-readable. Creating each missing level here gives all of them 0700, whatever the umask.
"""

from __future__ import annotations

import os
from pathlib import Path

from burnout_tui.file_modes import PRIVATE_DIR_MODE


def make_private_dirs(folder: Path) -> list[Path]:
    """Create `folder` and any missing parents as 0700; return the folders created,
    outermost first, so a caller that fails afterwards can remove exactly those.

    Raises OSError (with its `strerror`) when a level cannot be created, e.g. because a
    file stands where a folder should be.
    """
    missing: list[Path] = []
    current = folder
    while not current.is_dir():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    created: list[Path] = []
    for path in reversed(missing):
        path.mkdir(mode=PRIVATE_DIR_MODE)
        os.chmod(path, PRIVATE_DIR_MODE)
        created.append(path)
    return created


def remove_created(created: list[Path]) -> None:
    """Undo `make_private_dirs` for folders that are still empty, innermost first."""
    for path in reversed(created):
        try:
            path.rmdir()
        except OSError:
            return


__all__ = ["PRIVATE_DIR_MODE", "make_private_dirs", "remove_created"]
