"""`burnout-tui plugins`: which plugins are installed, from which package, adding which reports.

Listing imports every plugin (their reports are only known once imported). A plugin that
fails to import is listed with its error rather than hiding the others, since "why is my
report missing" is the question this command answers.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from burnout_tui.plugin_loader import LoadedPlugin, load_all


def plugin_record(plugin: LoadedPlugin) -> dict[str, Any]:
    return {
        "name": plugin.info.name,
        "version": plugin.info.version,
        "package": plugin.info.package,
        "module": plugin.info.module,
        "reports": [{"name": report.name, "help": report.help} for report in plugin.reports],
        "error": plugin.error,
        "warnings": list(plugin.warnings),
    }


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def plugins(as_json: bool) -> None:
    """List installed analysis plugins, their versions, packages and reports."""
    plugins_command(as_json)


def plugins_command(as_json: bool) -> None:
    plugins = load_all()
    for plugin in plugins:
        for warning in plugin.warnings:
            sys.stderr.write(f"warning: {warning}\n")
    if as_json:
        sys.stdout.write(json.dumps([plugin_record(plugin) for plugin in plugins]) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="analysis plugins")
    for column in ("name", "version", "package", "reports"):
        table.add_column(column)
    for plugin in plugins:
        reports = ", ".join(report.name for report in plugin.reports)
        if plugin.error is not None:
            reports = f"[red]failed: {plugin.error}[/red]"
        table.add_row(plugin.info.name, plugin.info.version, plugin.info.package, reports)
    console = Console()
    if plugins:
        console.print(table)
    else:
        console.print("no analysis plugins installed")
