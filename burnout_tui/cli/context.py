"""`CliState`: what the top-level `burnout-tui` group hands its commands through click's context.

It lives apart from `burnout_tui.cli.main` so that command bodies (`report` above all, which
`main` imports to register its group) can look it up without importing the group's module
back: the import graph has no cycle, and the import-linter contracts in pyproject.toml keep
it so.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from burnout_tui.cli.options import encrypt_requested

if TYPE_CHECKING:
    from burnout_tui.config import Config


@dataclass
class CliState:
    config_path: Path | None
    db: Path | None = None
    """The database this command resolved, named by a storage failure's error line."""

    def config(self) -> Config:
        """The config file's settings, with `store.encrypt` set when --encrypt was given."""
        from burnout_tui.config import load_config

        config = load_config(self.config_path)
        if encrypt_requested():
            config = replace(config, store=replace(config.store, encrypt=True))
        return config

    def db_path(self, config: Config, db_path: Path | None) -> Path:
        """--db or BURNOUT_TUI_DB win over the config file's store.path."""
        self.db = db_path if db_path is not None else Path(config.store.path)
        return self.db


__all__ = ["CliState"]
