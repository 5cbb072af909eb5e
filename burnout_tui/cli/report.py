"""`burnout-tui report`: one subcommand per plugin report, plus `sql`.

The group is built lazily. Top-level `--help` only asks for its one-line help, so no
plugin is imported; `report --help` imports them all to list their reports, and
`report NAME` imports the plugin whose entry-point name is NAME first and falls back to
all of them (a plugin's report names need not match its own name). Each report's
`Option`s become click options next to the common ones below. A plugin that fails to
import or to run is named in a one-line error; the other reports keep working.

This module is imported by `burnout_tui.cli`, so DuckDB and Rich are imported inside
the functions that use them.
"""

from __future__ import annotations

import csv
import datetime
import decimal
import json
import math
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from burnout_tui.cli.context import CliState
from burnout_tui.cli.options import database_option
from burnout_tui.errors import UserError
from burnout_tui.folders import make_private_dirs
from burnout_tui.plugin import Option, Report, ReportContext, ReportError, ReportResult
from burnout_tui.plugin_loader import (
    LoadedPlugin,
    PluginFailure,
    call_plugin,
    discover,
    is_builtin,
    load,
    load_all,
)

if TYPE_CHECKING:
    import duckdb

    from burnout_tui.cli.report_connection import LiveDatabase

FORMATS: tuple[str, ...] = ("table", "csv", "json")
DEFAULT_TABLE_LIMIT = 1000
"""Rows `report sql` shows in its terminal table unless --limit says otherwise: more is not
read on a screen, and a table is built in memory before it is drawn."""
FETCH_BATCH_ROWS = 10_000
"""Rows `report sql` fetches and writes at a time: the per-batch cost vanishes next to the
rows', and memory stays a few MB however many rows the query returns."""
COMMON_PARAMS: frozenset[str] = frozenset(
    {"db", "from", "format", "json", "out-dir", "out", "help"}
)
FLOAT_DIGITS = 6
"""Significant digits of floats in the terminal table; csv and json keep full precision."""


def _source_options(function: Callable[..., Any]) -> Callable[..., Any]:
    function = click.option(
        "--from",
        "from_glob",
        metavar="GLOB",
        default=None,
        help="Read a Parquet export (its folder, or a glob such as 'DIR/**/*.parquet') "
        "instead of a database.",
    )(function)
    return database_option("DuckDB file, opened read-only")(function)


def _format_options(function: Callable[..., Any]) -> Callable[..., Any]:
    function = click.option("--json", "as_json", is_flag=True, help="Shorthand for --format json.")(
        function
    )
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(FORMATS),
        default="table",
        show_default=True,
        help="Output format.",
    )(function)


def _common_params() -> list[click.Parameter]:
    """The common options as click parameters, for commands built at run time."""

    @_source_options
    @_format_options
    @click.option(
        "--out-dir",
        "--out",
        "out_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("."),
        show_default=True,
        help="Folder for files the report writes.",
    )
    def carrier() -> None:
        """Only collects the decorated parameters."""

    params: list[click.Parameter] = getattr(carrier, "__click_params__", [])
    return list(reversed(params))


def _chosen_format(ctx: click.Context, output_format: str, as_json: bool) -> str:
    if not as_json:
        return output_format
    explicit = ctx.get_parameter_source("output_format") is click.core.ParameterSource.COMMANDLINE
    if explicit and output_format != "json":
        raise click.UsageError(f"--json and --format {output_format} disagree; give one")
    return "json"


def open_source(
    ctx: click.Context, db_path: Path | None, from_glob: str | None
) -> duckdb.DuckDBPyConnection:
    """The read-only connection a report gets: a Parquet export, or the database file (a
    copy of it, fetched from the monitor that is writing it, while one is)."""
    from burnout_tui.cli.report_connection import LiveDatabase

    source = open_sql_source(ctx, db_path, from_glob)
    return source if not isinstance(source, LiveDatabase) else source.snapshot()


def open_sql_source(
    ctx: click.Context, db_path: Path | None, from_glob: str | None
) -> duckdb.DuckDBPyConnection | LiveDatabase:
    """As `open_source`, but a database a monitor is writing is left to that monitor."""
    from burnout_tui.cli.report_connection import open_database
    from burnout_tui.export import open_parquet

    if from_glob is not None:
        if db_path is not None and (
            ctx.get_parameter_source("db_path") is click.core.ParameterSource.COMMANDLINE
        ):
            raise click.UsageError("give --db or --from, not both")
        return open_parquet(from_glob)
    return open_database(_resolve_db(ctx, db_path))


def _cli_state(ctx: click.Context) -> CliState | None:
    """The top-level CLI's state (config path), if this runs under `burnout-tui`."""
    return ctx.find_object(CliState)


def _resolve_db(ctx: click.Context, db_path: Path | None) -> Path:
    if db_path is not None:
        return db_path
    state = _cli_state(ctx)
    if state is None:
        raise UserError("pass --db (no configuration is loaded)")
    config = state.config()
    return state.db_path(config, None)


def _option_param(option: Option) -> click.Option:
    decls = [f"--{option.name}", f"opt_{option.key}"]
    if option.type == "flag":
        return click.Option(decls, is_flag=True, default=bool(option.default), help=option.help)
    types: dict[str, Any] = {
        "str": click.STRING,
        "int": click.INT,
        "float": click.FLOAT,
        "path": click.Path(path_type=Path),
        "choice": click.Choice(option.choices),
    }
    if option.type not in types:
        raise UserError(f"option --{option.name} has unknown type {option.type!r}")
    return click.Option(
        decls,
        type=types[option.type],
        default=option.default,
        required=option.required,
        show_default=option.default is not None,
        help=option.help,
    )


def report_command(plugin: LoadedPlugin, report: Report) -> click.Command:
    """A click command that runs `report` and renders what it returns."""
    clashes = [option.name for option in report.options if option.name in COMMON_PARAMS]
    if clashes:
        raise UserError(
            f"plugin {plugin.info.name} failed: report {report.name} redefines --{clashes[0]}"
        )
    params = [_option_param(option) for option in report.options]
    common = _common_params()
    if not report.needs_database:
        common = [param for param in common if param.name not in {"db_path", "from_glob"}]

    @click.pass_context
    def callback(ctx: click.Context, /, **values: Any) -> None:
        output_format = _chosen_format(ctx, values["output_format"], values["as_json"])
        options = {option.key: values[f"opt_{option.key}"] for option in report.options}
        out_dir: Path = values["out_dir"]
        try:
            make_private_dirs(out_dir)
        except OSError as error:
            raise UserError(f"cannot create {out_dir}: {error.strerror}") from None
        replaced = any(options.get(key) not in (None, False) for key in report.replaces_database)
        if report.needs_database and not replaced:
            con = open_source(ctx, values["db_path"], values["from_glob"])
        else:
            from burnout_tui.store.connect import connect_memory

            con = connect_memory()
        state = _cli_state(ctx)
        config = state.config() if state is not None else None
        try:
            result = _run(plugin, report, ReportContext(con, options, out_dir, config))
        finally:
            con.close()
        render(result, output_format)

    return click.Command(
        report.name,
        params=[*params, *common],
        callback=callback,
        help=f"{report.help}\n\n(plugin {plugin.info.name} {plugin.info.version})",
    )


def _run(plugin: LoadedPlugin, report: Report, context: ReportContext) -> ReportResult:
    """Run third-party code; its own ReportError is a user error, anything else its bug."""
    try:
        result = call_plugin(lambda: report.run(context), allowed=(ReportError,))
    except PluginFailure as failure:  # isolating third-party plugin code: one line
        raise UserError(f"plugin {plugin.info.name} failed: {failure}") from None
    if not isinstance(result, ReportResult):
        raise UserError(
            f"plugin {plugin.info.name} failed: {report.name} returned "
            f"{type(result).__name__}, not ReportResult"
        )
    return result


@click.command("sql")
@click.argument("query")
@_source_options
@_format_options
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=None,
    metavar="N",
    help=f"Show at most N rows; 0 shows all. Default: {DEFAULT_TABLE_LIMIT} in the table, "
    "every row in csv and json. Rows left out are counted and the count is reported.",
)
@click.pass_context
def sql_command(
    ctx: click.Context,
    query: str,
    db_path: Path | None,
    from_glob: str | None,
    output_format: str,
    as_json: bool,
    limit: int | None,
) -> None:
    """Run one read-only SQL query and print its rows as they come.

    A SELECT (DESCRIBE, SHOW, SUMMARIZE, PIVOT and UNPIVOT are SELECTs too) or EXPLAIN
    [ANALYZE] of one. Anything that writes is refused, under EXPLAIN too, and so are
    functions that write, run SQL given as text or read files (read_csv, query, ...).

    Query the documented views (v_sessions, v_frames, v_surveys, v_markers,
    v_session_metrics; see docs/views.md) rather than the tables.
    """
    import duckdb

    from burnout_tui.cli.report_connection import LiveDatabase
    from burnout_tui.store.database import first_line
    from burnout_tui.store.sql_guard import check_read_only

    chosen = _chosen_format(ctx, output_format, as_json)
    if limit is None:
        limit = DEFAULT_TABLE_LIMIT if chosen == "table" else 0
    source = open_sql_source(ctx, db_path, from_glob)
    if isinstance(source, LiveDatabase):
        try:
            with source.rows(query) as (columns, batches):
                write_rows(ReportResult(columns=columns, rows=()), batches, chosen, limit)
        except BrokenPipeError:
            _quiet_broken_pipe()
        return
    con = source
    try:
        check_read_only(query, con)
        try:
            cursor = con.execute(query)
        except duckdb.Error as error:
            raise UserError(f"query failed: {first_line(error)}") from None
        columns = [column[0] for column in cursor.description or ()]
        write_rows(ReportResult(columns=columns, rows=()), _fetched(cursor), chosen, limit)
    except BrokenPipeError:
        _quiet_broken_pipe()
    finally:
        con.close()


def _fetched(cursor: duckdb.DuckDBPyConnection) -> Iterator[list[tuple[Any, ...]]]:
    """A result's rows in batches, fetched as they are asked for (DuckDB streams them)."""
    import duckdb

    from burnout_tui.store.database import first_line

    while True:
        try:
            rows = cursor.fetchmany(FETCH_BATCH_ROWS)
        except duckdb.Error as error:
            raise UserError(f"query failed: {first_line(error)}") from None
        if not rows:
            return
        yield rows


def _quiet_broken_pipe() -> None:
    """The reader of stdout went away (`| head`): stop without a traceback, as Python's
    documentation advises, pointing stdout at /dev/null so the exit flush cannot fail."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    raise SystemExit(1)


class ReportGroup(click.Group):
    """Subcommands come from plugins, which are imported only when asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = {report.name for plugin in _loaded() for report in plugin.reports}
        return ["sql", *sorted(names - {"sql"})]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name == "sql":
            return sql_command
        # A third-party plugin may reuse a built-in plugin's name: the built-in goes first.
        named = sorted(
            (info for info in discover() if info.name == cmd_name),
            key=lambda info: not is_builtin(info),
        )
        if named:
            plugin = load(named[0])
            if plugin.error is not None:
                raise UserError(f"plugin {plugin.info.name} failed: {plugin.error}")
            found = _find(cmd_name, [plugin])
            if found is not None:
                return found
        plugins = _loaded()
        found = _find(cmd_name, plugins)
        if found is not None:
            return found
        broken = [plugin for plugin in plugins if plugin.error is not None]
        if broken and ctx.resilient_parsing is False:
            failures = "; ".join(f"plugin {p.info.name} failed: {p.error}" for p in broken)
            raise UserError(f"no report named {cmd_name!r} ({failures})")
        return None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_commands(ctx, formatter)
        broken = [plugin for plugin in _loaded() if plugin.error is not None]
        if broken:
            with formatter.section("Plugins that failed to load"):
                formatter.write_dl([(p.info.name, p.error or "") for p in broken])

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except UserError as error:
            raise click.ClickException(str(error)) from None


_warned: set[str] = set()
"""Warnings already printed: `report --help` loads the plugins several times."""


def _loaded() -> list[LoadedPlugin]:
    """Every plugin, loaded; a report dropped for reusing another's name is warned about
    once on stderr."""
    plugins = load_all()
    for plugin in plugins:
        for warning in plugin.warnings:
            if warning not in _warned:
                _warned.add(warning)
                click.echo(f"warning: {warning}", err=True)
    return plugins


def _find(name: str, plugins: Sequence[LoadedPlugin]) -> click.Command | None:
    for plugin in plugins:
        for report in plugin.reports:
            if report.name == name:
                return report_command(plugin, report)
    return None


report_group = ReportGroup(
    "report",
    help="Run an analysis report from a plugin, or read-only SQL, on the sessions.\n\n"
    "Reports open the database read-only (or a Parquet export with --from) and print a "
    "table, csv or json. `burnout-tui plugins` lists where each report comes from.",
    short_help="Run analysis reports (plugins) or read-only SQL.",
)


def render(result: ReportResult, output_format: str) -> None:
    """Print a result on stdout; notes and file lists go to stderr except in json."""
    write_rows(result, [result.rows], output_format, limit=0)


def write_rows(
    result: ReportResult,
    batches: Iterable[Sequence[Sequence[Any]]],
    output_format: str,
    limit: int,
) -> None:
    """Print `result` with its rows taken from `batches`, each written as it comes.

    csv and json hold one batch at a time, so a result of any size prints in constant
    memory; the json is today's one object (`columns`, `rows`, `notes`, `files`, `data`),
    written in pieces. With `limit` > 0 at most that many rows are printed and the rest
    are counted, not kept; a note says how many were left out (stderr, or `notes` in json).
    `result.rows` is ignored: the rows are the batches'.
    """
    tally = _Tally()
    shown = _limited(batches, limit, tally)
    if output_format == "json":
        _write_json(result, shown, tally, limit)
        return
    for note in result.notes:
        click.echo(f"warning: {note}", err=True)
    if output_format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(result.columns)
        for rows in shown:
            writer.writerows([[_csv_cell(value) for value in row] for row in rows])
    else:
        _print_table(result, [row for rows in shown for row in rows])
    left_out = tally.note(limit)
    if left_out:
        click.echo(f"warning: {left_out}", err=True)
    for path in result.files:
        click.echo(f"wrote {path}", err=output_format == "csv")


class _Tally:
    """Rows met and rows printed so far, for the note on what --limit left out."""

    __slots__ = ("seen", "shown")

    def __init__(self) -> None:
        self.seen = 0
        self.shown = 0

    def note(self, limit: int) -> str | None:
        left_out = self.seen - self.shown
        if left_out == 0:
            return None
        return (
            f"{left_out:,} of {self.seen:,} rows left out by --limit {limit} (--limit 0 shows all)"
        )


def _limited(
    batches: Iterable[Sequence[Sequence[Any]]], limit: int, tally: _Tally
) -> Iterator[Sequence[Sequence[Any]]]:
    """The rows to print, batch by batch; past `limit` (> 0) rows are only counted."""
    for rows in batches:
        tally.seen += len(rows)
        room = len(rows) if limit == 0 else min(len(rows), limit - tally.shown)
        if room > 0:
            tally.shown += room
            yield rows if room == len(rows) else rows[:room]


def _write_json(
    result: ReportResult, shown: Iterable[Sequence[Sequence[Any]]], tally: _Tally, limit: int
) -> None:
    """One JSON object, the same bytes `json.dumps` gives for the whole payload, written
    a batch of rows at a time."""
    out = sys.stdout
    out.write('{"columns": ' + json.dumps(list(result.columns)) + ', "rows": [')
    separator = ""
    for rows in shown:
        out.write(separator + json.dumps([[_plain(value) for value in row] for row in rows])[1:-1])
        separator = ", "
    left_out = tally.note(limit)
    tail = {
        "notes": [*result.notes, *([left_out] if left_out else [])],
        "files": [str(path) for path in result.files],
        "data": _plain(result.data),
    }
    out.write("], " + json.dumps(tail)[1:] + "\n")


def _print_table(result: ReportResult, rows: Sequence[Sequence[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if result.text:
        console.print(result.text, markup=False, highlight=False)
    if not result.columns:
        return
    table = Table()
    for column in result.columns:
        table.add_column(str(column))
    for row in rows:
        table.add_row(*(_table_cell(value) for value in row))
    console.print(table)


def _table_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.{FLOAT_DIGITS}g}"
    return str(value)


_JSON_NATIVE: frozenset[type] = frozenset({str, int, bool})
"""Types `_plain` returns as they are, tested first: most cells of a large result are these."""


def _csv_cell(value: Any) -> Any:
    plain = _plain(value)
    return json.dumps(plain) if isinstance(plain, dict | list) else plain


def _plain(value: Any) -> Any:
    """JSON-safe values: NaN and infinities become null, dates ISO strings."""
    if value is None or type(value) in _JSON_NATIVE:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, str | int | bool):
        return value
    return _numpy_plain(value)


def _numpy_plain(value: Any) -> Any:
    """numpy scalars and arrays (common in reports) without importing numpy here."""
    if hasattr(value, "tolist"):
        return _plain(value.tolist())
    return str(value)
