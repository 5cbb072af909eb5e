"""`burnout-tui export`: every table to hive-partitioned Parquet. DuckDB is imported inside
the command, so `--help` never loads it."""

from __future__ import annotations

from pathlib import Path

import click

from burnout_tui.cli.context import CliState
from burnout_tui.cli.options import db_option


@click.command()
@click.option(
    "--parquet",
    "parquet_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to create: DIR/<table>/user=<name>/date=<YYYY-MM-DD>/*.parquet.",
)
@db_option
@click.pass_obj
def export(state: CliState, parquet_dir: Path, db_path: Path | None) -> None:
    """Copy every table to hive-partitioned Parquet, for Spark, pandas or `report --from`.

    The database is opened read-only; the folder appears complete or not at all.
    """
    from burnout_tui.export import export_parquet, open_for_export

    config = state.config()
    con = open_for_export(state.db_path(config, db_path), encrypt=config.store.encrypt)
    try:
        counts = export_parquet(con, parquet_dir)
    finally:
        con.close()
    summary = ", ".join(f"{count} {table}" for table, count in counts.items())
    click.echo(f"exported {summary} to {parquet_dir}")
