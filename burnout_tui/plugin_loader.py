"""Finding plugins through entry points, importing only the one that is used.

Listing reads package metadata only. A plugin that fails to import, or whose `reports()`
raises, is reported by name with its error and skipped; the CLI and the other plugins
keep working. That includes a plugin that calls `sys.exit()` or raises
KeyboardInterrupt itself; a real Ctrl-C during the import still stops the program
(`PluginCall` tells the two apart).

Report names are one namespace: `sql` and the reports of the built-in plugins (this
package's `burnout_tui_plugins`) keep their names, and a third-party report that reuses
one is dropped with a warning naming both, so `report correlation` always means the
documented report. Between third-party plugins the first by plugin name wins, also with
a warning.
"""

from __future__ import annotations

import importlib
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib.metadata import EntryPoint, entry_points
from types import FrameType, TracebackType
from typing import Any, TypeVar

from burnout_tui.plugin import ENTRY_POINT_GROUP, Report

ONLY_ENV = "BURNOUT_TUI_PLUGINS"
"""Comma-separated plugin names to load (all when unset); tests use it to isolate plugins."""

BUILTIN_MODULE_PREFIX = "burnout_tui_plugins."
"""Modules of the plugins shipped with burnout-tui (entry points in its own pyproject)."""

RESERVED_REPORTS: frozenset[str] = frozenset({"sql"})
"""Reports of the `report` group itself, not of any plugin."""

T = TypeVar("T")
SignalHandler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


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
    warnings: tuple[str, ...] = ()
    """One line per report of this plugin dropped because another owns its name."""


def is_builtin(info: PluginInfo) -> bool:
    return info.module.startswith(BUILTIN_MODULE_PREFIX)


class PluginCall:
    """Runs plugin code so that everything it raises is its failure, except a real Ctrl-C.

    A plugin that raises SystemExit or KeyboardInterrupt itself must not end the program
    (or, for SystemExit(0), end it looking successful). A real Ctrl-C raises the same
    KeyboardInterrupt, so for the length of the call SIGINT goes through a handler that
    records that the signal arrived and then does what the previous handler does. A
    KeyboardInterrupt with no recorded signal came from the plugin; after a recorded one
    KeyboardInterrupt is raised again, even if the plugin swallowed it. Outside the main
    thread no SIGINT is delivered, so there every KeyboardInterrupt is the plugin's.
    """

    def __init__(self) -> None:
        self.interrupted = False
        self._previous: SignalHandler = None
        self._installed = False

    def __enter__(self) -> PluginCall:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.getsignal(signal.SIGINT)
            signal.signal(signal.SIGINT, self._on_sigint)
            self._installed = True
        return self

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        self.interrupted = True
        previous = self._previous
        if callable(previous):
            previous(signum, frame)
        elif previous != signal.SIG_IGN:
            raise KeyboardInterrupt

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._installed:
            previous = signal.SIG_DFL if self._previous is None else self._previous
            signal.signal(signal.SIGINT, previous)
        if self.interrupted and not isinstance(error, KeyboardInterrupt):
            raise KeyboardInterrupt

    def run(self, function: Callable[[], T], allowed: tuple[type[Exception], ...] = ()) -> T:
        """`function()`; anything it raises becomes PluginFailure, except a real Ctrl-C
        and the `allowed` exceptions (a report's own ReportError), which pass unchanged."""
        with self:
            try:
                return function()
            except allowed:
                raise
            except BaseException as error:
                if self.interrupted and isinstance(error, KeyboardInterrupt):
                    raise
                raise PluginFailure(describe(error)) from error


class PluginFailure(Exception):
    """Plugin code raised; the message is `Type: message` of what it raised."""


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def call_plugin(function: Callable[[], T], allowed: tuple[type[Exception], ...] = ()) -> T:
    """Run third-party code under a fresh `PluginCall` (see `PluginCall.run`)."""
    return PluginCall().run(function, allowed)


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
    module_name = _entry_point(info).module
    try:
        reports = call_plugin(lambda: tuple(importlib.import_module(module_name).reports()))
    except PluginFailure as failure:
        return LoadedPlugin(info, error=str(failure))
    bad = [report for report in reports if not isinstance(report, Report)]
    if bad:
        return LoadedPlugin(info, error=f"reports() returned {type(bad[0]).__name__}, not Report")
    return LoadedPlugin(info, reports)


def load_all() -> list[LoadedPlugin]:
    """Every plugin, loaded, with report names made unique (see the module docstring)."""
    return unique_reports([load(info) for info in discover()])


def unique_reports(plugins: list[LoadedPlugin]) -> list[LoadedPlugin]:
    """Built-in plugins claim their report names first, then the others by plugin name;
    a report whose name is taken is dropped from its plugin with a warning naming both."""
    owners: dict[str, str] = {name: "burnout-tui's built-in report" for name in RESERVED_REPORTS}
    order = sorted(
        range(len(plugins)),
        key=lambda i: (not is_builtin(plugins[i].info), plugins[i].info.name),
    )
    resolved = list(plugins)
    for index in order:
        plugin = plugins[index]
        kept: list[Report] = []
        warnings: list[str] = []
        for report in plugin.reports:
            owner = owners.get(report.name)
            if owner is None:
                kind = "built-in report" if is_builtin(plugin.info) else "report"
                owners[report.name] = f"the {kind} of plugin {plugin.info.name}"
                kept.append(report)
                continue
            warnings.append(
                f"plugin {plugin.info.name}'s report {report.name!r} is ignored:"
                f" {owner} has that name and is the one that runs"
            )
        resolved[index] = replace(plugin, reports=tuple(kept), warnings=tuple(warnings))
    return resolved
