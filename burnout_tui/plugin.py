"""The public API for analysis plugins: everything a third-party report needs, nothing more.

A plugin is an installed package that names a module in the `burnout_tui.plugins`
entry-point group. That module defines `reports() -> list[Report]`. Each Report declares
its options once (they become click flags, `--help` text and JSON keys), and a `run`
function that receives a read-only DuckDB connection and returns a table plus any files
it wrote. The built-in reports (`plugins/` in the repository) use exactly this API.

This module imports nothing heavy, so listing plugins and `--help` stay fast.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from burnout_tui.errors import UserError
from burnout_tui.folders import make_private_dirs

if TYPE_CHECKING:
    import duckdb

    from burnout_tui.config import Config

ENTRY_POINT_GROUP = "burnout_tui.plugins"

OptionType = Literal["str", "int", "float", "flag", "path", "choice"]

VIEWS: tuple[str, ...] = ("v_sessions", "v_frames", "v_surveys", "v_session_metrics", "v_markers")
"""Documented, stable views a report should query instead of the raw tables."""


class ReportError(UserError):
    """A report could not run on this input; the message is one line for the user."""


@dataclass(frozen=True, slots=True)
class Option:
    """One report option, declared once and rendered as `--name` on the command line.

    `name` uses dashes (`min-n`); the run function sees it with underscores (`min_n`).
    """

    name: str
    help: str
    type: OptionType = "str"
    default: Any = None
    choices: tuple[str, ...] = ()
    required: bool = False

    @property
    def key(self) -> str:
        return self.name.replace("-", "_")


@dataclass(frozen=True, slots=True)
class ReportContext:
    """What a report's run function is given.

    `con` is read-only: a database file opened with `read_only=True`, or an in-memory
    database whose views read Parquet exports. Both are sealed: DuckDB reads no other file,
    URL or extension through it (write files with Python, under `out_dir`; name Python
    tables with `con.register`, as implicit scans of variables are off), and a thread
    of the report's own takes `burnout_tui.store.store_cursor(con)`, not `con.cursor()`.
    `out_dir` is where files may be written (the current directory unless the user chose
    one).
    """

    con: duckdb.DuckDBPyConnection
    options: Mapping[str, Any]
    out_dir: Path
    config: Config | None = None
    """The configuration the user chose (`--config`); None when run outside the CLI, in
    which case a report should fall back to `burnout_tui.config.load_config()`."""

    def output_path(self, value: str | Path) -> Path:
        """Where to write a file the user named in an option (e.g. `--plot`): relative to
        `out_dir` (an absolute path stays as given), its missing folders created 0700 like
        `--out`'s, so a report never fails on, or leaves world-readable, a new folder."""
        path = self.out_dir / Path(value).expanduser()
        try:
            make_private_dirs(path.parent)
        except OSError as error:
            raise ReportError(f"cannot create folder {path.parent}: {error.strerror}") from None
        return path


@dataclass(frozen=True, slots=True)
class ReportResult:
    """A table (column names and rows), any files written, and notes such as warnings."""

    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]
    files: Sequence[Path] = ()
    notes: Sequence[str] = ()
    text: str = ""
    """Optional preformatted text (e.g. a terminal chart) shown above the table."""
    data: Mapping[str, Any] = field(default_factory=dict)
    """Extra machine-readable results included in `--json` output."""


@dataclass(frozen=True, slots=True)
class Report:
    name: str
    help: str
    run: Callable[[ReportContext], ReportResult]
    options: tuple[Option, ...] = ()
    needs_database: bool = True
    """False for reports that read files only (Grad-CAM on an image): no database is opened."""
    replaces_database: tuple[str, ...] = ()
    """Option keys that, when given, stand in for the database (correlation's `csv`): the
    report then gets an empty in-memory database and works where no database exists."""


__all__ = [
    "ENTRY_POINT_GROUP",
    "VIEWS",
    "Option",
    "Report",
    "ReportContext",
    "ReportError",
    "ReportResult",
]
