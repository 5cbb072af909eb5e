"""Finding plugins through entry points, importing only the one that is used.

Listing reads package metadata only. A plugin that fails to import, or whose `reports()`
raises, is reported by name with its error and skipped; the CLI and the other plugins
keep working.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from burnout_tui.plugin import ENTRY_POINT_GROUP, Report

ONLY_ENV = "BURNOUT_TUI_PLUGINS"
"""Comma-separated plugin names to load (all when unset); tests use it to isolate plugins."""


@dataclass(frozen=True, slots=True)
class PluginInfo:
    name: str
    module: str
    package: str
    version: str


@dataclass(frozen=True, slots=True)
class LoadedPlugin:
    info: PluginInfo
    reports: tuple[Report, ...] = ()
    error: str | None = None


def _allowed(name: str) -> bool:
    only = os.environ.get(ONLY_ENV)
    return only is None or name in {part.strip() for part in only.split(",")}


def discover() -> list[PluginInfo]:
    """Every plugin installed, from metadata alone: nothing is imported."""
    found = []
    for point in entry_points(group=ENTRY_POINT_GROUP):
        if not _allowed(point.name):
            continue
        dist = point.dist
        found.append(
            PluginInfo(
                name=point.name,
                module=point.value,
                package=dist.name if dist is not None else "?",
                version=dist.version if dist is not None else "?",
            )
        )
    return sorted(found, key=lambda info: info.name)


def _entry_point(info: PluginInfo) -> EntryPoint:
    return EntryPoint(name=info.name, value=info.module, group=ENTRY_POINT_GROUP)


def load(info: PluginInfo) -> LoadedPlugin:
    """Import one plugin and ask it for its reports; errors are captured, not raised.

    A plugin is third-party code: any exception from importing it or from its
    `reports()` is its failure, not ours, so it is caught broadly and shown by name.
    """
    try:
        module = importlib.import_module(_entry_point(info).module)
        reports = tuple(module.reports())
    except Exception as error:  # isolating third-party code is the point
        return LoadedPlugin(info, error=f"{type(error).__name__}: {error}")
    bad = [report for report in reports if not isinstance(report, Report)]
    if bad:
        return LoadedPlugin(info, error=f"reports() returned {type(bad[0]).__name__}, not Report")
    return LoadedPlugin(info, reports)


def load_all() -> list[LoadedPlugin]:
    return [load(info) for info in discover()]
