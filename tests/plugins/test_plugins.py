"""Plugins: discovery, isolation of broken ones, the `plugins` listing and a real install."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from click.testing import CliRunner

from burnout_tui import plugin_loader
from burnout_tui.cli import cli
from burnout_tui.plugin import ENTRY_POINT_GROUP
from tests.command_line import HEAVY_MODULES, assert_one_line_error, help_imports, run_cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "burnout-tui-example-plugin"
EXAMPLE_DIST = "burnout-tui-example-plugin"
PIP_TIMEOUT_S = 300

GOOD_PLUGIN = """
from burnout_tui.plugin import Option, Report, ReportResult

def run(context):
    n = context.con.execute("SELECT count(*) FROM v_sessions").fetchone()[0]
    return ReportResult(columns=("sessions", "times"), rows=[(n, context.options["times"])],
                        notes=("a note",))

def crash(context):
    raise RuntimeError("boom in run")

def reports():
    return [Report("good-count", "Count sessions.", run, (Option("times", "x", "int", 2),)),
            Report("good-crash", "Always fails.", crash)]
"""
BROKEN_PLUGIN = "raise ImportError('broken on purpose')\n"


@pytest.fixture
def fake_site(tmp_path: Path) -> Path:
    """A folder with two installed-looking distributions: one good plugin, one broken."""
    site = tmp_path / "site"
    plugins = (("good", "good_plugin", GOOD_PLUGIN), ("broken", "broken_plugin", BROKEN_PLUGIN))
    for name, module, source in plugins:
        (site / f"{module}.py").parent.mkdir(parents=True, exist_ok=True)
        (site / f"{module}.py").write_text(source)
        info = site / f"{name}_dist-1.2.3.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name}-dist\nVersion: 1.2.3\n"
        )
        (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{name} = {module}\n")
    return site


def run_with(site: Path | None, *args: str) -> subprocess.CompletedProcess[str]:
    """`run_cli` 200 columns wide, with `site` (a folder of installed-looking plugins) first
    on the import path."""
    env = {"COLUMNS": "200"}
    if site is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])
    return run_cli(*args, env=env)


def test_plugins_json_lists_versions_packages_and_errors(fake_site: Path) -> None:
    done = run_with(fake_site, "plugins", "--json")
    assert done.returncode == 0, done.stderr
    listed = {entry["name"]: entry for entry in json.loads(done.stdout)}
    assert listed["good"]["version"] == "1.2.3"
    assert listed["good"]["package"] == "good-dist"
    assert [r["name"] for r in listed["good"]["reports"]] == ["good-count", "good-crash"]
    assert listed["good"]["error"] is None
    assert "broken on purpose" in listed["broken"]["error"]


def test_plugins_table(fake_site: Path) -> None:
    done = run_with(fake_site, "plugins")
    assert done.returncode == 0, done.stderr
    for text in ("good", "1.2.3", "good-dist", "good-count", "broken on purpose"):
        assert text in done.stdout


def test_good_report_runs_beside_a_broken_plugin(fake_site: Path, demo_db: Path) -> None:
    done = run_with(
        fake_site, "report", "good-count", "--times", "5", "--db", str(demo_db), "--json"
    )
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["rows"] == [[1, 5]]
    assert payload["notes"] == ["a note"]
    table = run_with(fake_site, "report", "good-count", "--db", str(demo_db))
    assert "warning: a note" in table.stderr


def test_broken_plugin_is_one_line(fake_site: Path, demo_db: Path) -> None:
    done = run_with(fake_site, "report", "broken", "--db", str(demo_db))
    assert_one_line_error(done, "plugin broken failed: ImportError: broken on purpose")


def test_report_that_raises_is_one_line(fake_site: Path, demo_db: Path) -> None:
    done = run_with(fake_site, "report", "good-crash", "--db", str(demo_db))
    assert_one_line_error(done, "plugin good failed: RuntimeError: boom in run")


def test_report_help_lists_reports_and_failures(fake_site: Path) -> None:
    done = run_with(fake_site, "report", "--help")
    assert done.returncode == 0, done.stderr
    assert "good-count" in done.stdout
    assert "sql" in done.stdout
    assert "broken on purpose" in done.stdout


def test_top_level_help_imports_no_plugin(fake_site: Path) -> None:
    watched = (*HEAVY_MODULES, "good_plugin", "burnout_tui_plugins")
    text, loaded = help_imports((), watched, env={"PYTHONPATH": str(fake_site)})
    assert "report" in text
    assert loaded == []


def test_in_process_isolation(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Entry points monkeypatched: a plugin whose reports() raises is shown, not fatal."""
    (tmp_path / "raising_plugin.py").write_text("def reports():\n    raise ValueError('nope')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    points = [EntryPoint("raising", "raising_plugin", ENTRY_POINT_GROUP)]
    monkeypatch.setattr(plugin_loader, "entry_points", lambda group: points)
    monkeypatch.delenv(plugin_loader.ONLY_ENV, raising=False)
    result = CliRunner().invoke(cli, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    [entry] = json.loads(result.output)
    assert entry["error"] == "ValueError: nope"
    assert entry["package"] == "?"
    failed = CliRunner().invoke(cli, ["report", "raising"])
    assert failed.exit_code != 0
    assert "plugin raising failed: ValueError: nope" in failed.output
    assert failed.exception is None or isinstance(failed.exception, SystemExit)


@pytest.fixture(scope="module")
def example_installed() -> Iterator[None]:
    """pip-installs the example plugin into this environment, and removes it afterwards."""
    install = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", str(EXAMPLE)]
    done = subprocess.run(install, capture_output=True, text=True, timeout=PIP_TIMEOUT_S)
    if done.returncode != 0:
        pytest.skip(f"cannot build the example plugin (hatchling from PyPI?): {done.stderr[-300:]}")
    yield
    subprocess.run(
        [sys.executable, "-m", "pip", "uninstall", "--quiet", "--yes", EXAMPLE_DIST],
        capture_output=True, timeout=PIP_TIMEOUT_S,
    )  # fmt: skip


@pytest.mark.slow
def test_example_plugin_installs_and_runs(example_installed: None, demo_db: Path) -> None:
    listed = run_with(None, "plugins", "--json")
    assert listed.returncode == 0, listed.stderr
    example = {entry["name"]: entry for entry in json.loads(listed.stdout)}["example"]
    assert example["package"] == EXAMPLE_DIST
    assert example["version"] == "0.1.0"
    assert [r["name"] for r in example["reports"]] == ["session-count"]
    done = run_with(None, "report", "session-count", "--db", str(demo_db), "--json")
    assert done.returncode == 0, done.stderr
    [[user, sessions, frames]] = json.loads(done.stdout)["rows"]
    assert (user, sessions) == ("ana", 1)
    assert frames > 0


HELLO_REPORT = """
from burnout_tui.plugin import Report, ReportResult

def reports():
    return [Report("hello", "Says hello.", lambda ctx: ReportResult(("hi",), [(1,)]),
                   needs_database=False)]
"""


def fake_plugins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, modules: dict[str, str]
) -> list[EntryPoint]:
    """Entry points named like the modules written from `modules` (name → source)."""
    for module, source in modules.items():
        (tmp_path / f"{module}.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    points = [EntryPoint(module, module, ENTRY_POINT_GROUP) for module in modules]
    monkeypatch.setattr(plugin_loader, "entry_points", lambda group: points)
    monkeypatch.delenv(plugin_loader.ONLY_ENV, raising=False)
    return points


def test_plugins_exiting_or_interrupting_at_import_are_ordinary_failures(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """sys.exit() or a KeyboardInterrupt raised by a plugin's own code is its failure."""
    fake_plugins(
        monkeypatch,
        tmp_path,
        {
            "exiting": "import sys\nsys.exit(3)\n",
            "exiting_ok": "raise SystemExit(0)\n",
            "interrupting": "raise KeyboardInterrupt('plugin')\n",
            "hello": HELLO_REPORT,
        },
    )
    listed = CliRunner().invoke(cli, ["plugins", "--json"])
    assert listed.exit_code == 0, listed.output
    errors = {entry["name"]: entry["error"] for entry in json.loads(listed.stdout)}
    assert errors == {
        "exiting": "SystemExit: 3",
        "exiting_ok": "SystemExit: 0",
        "interrupting": "KeyboardInterrupt: plugin",
        "hello": None,
    }
    for name, error in errors.items():
        if error is None:
            continue
        failed = CliRunner().invoke(cli, ["report", name])
        assert failed.exit_code == 1, failed.output
        assert failed.output.strip() == f"Error: plugin {name} failed: {error}"
    hello = CliRunner().invoke(cli, ["report", "hello", "--json"])
    assert hello.exit_code == 0, hello.output
    assert json.loads(hello.stdout)["rows"] == [[1]]


def test_a_report_that_exits_while_running_is_a_failure(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    source = HELLO_REPORT.replace('lambda ctx: ReportResult(("hi",), [(1,)])', "quit")
    source = "import sys\ndef quit(ctx):\n    sys.exit(0)\n" + source
    fake_plugins(monkeypatch, tmp_path, {"quitter": source})
    failed = CliRunner().invoke(cli, ["report", "hello"])
    assert failed.exit_code == 1, failed.output
    assert failed.output.strip() == "Error: plugin quitter failed: SystemExit: 0"


REAL_CTRL_C = """
import os, signal, time
os.kill(os.getpid(), signal.SIGINT)
time.sleep(5)
"""
SWALLOWED_CTRL_C = """
import os, signal, time
try:
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(5)
except KeyboardInterrupt:
    pass
def reports():
    return []
"""


@pytest.mark.parametrize("source", [REAL_CTRL_C, SWALLOWED_CTRL_C], ids=["raised", "swallowed"])
def test_a_real_ctrl_c_during_import_still_stops(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, source: str
) -> None:
    """SIGINT delivered while a plugin imports is the user's, even if the plugin eats it."""
    before = signal.getsignal(signal.SIGINT)
    fake_plugins(monkeypatch, tmp_path, {"slow_import": source})
    [info] = plugin_loader.discover()
    with pytest.raises(KeyboardInterrupt):
        plugin_loader.load(info)
    assert signal.getsignal(signal.SIGINT) is before


SHADOWING = """
from burnout_tui.plugin import Report, ReportResult

def run(ctx):
    return ReportResult(("shadow",), [("shadow ran",)])

def reports():
    return [Report("correlation", "Not the real one.", run, needs_database=False),
            Report("sql", "Not the real one.", run, needs_database=False),
            Report("shadow-own", "Its own report.", run, needs_database=False)]
"""


def test_a_plugin_reusing_a_builtin_report_name_is_warned_and_loses(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, demo_db: Path
) -> None:
    fake_plugins(monkeypatch, tmp_path, {"shadow": SHADOWING})
    builtin = EntryPoint("correlation", "burnout_tui_plugins.correlation", ENTRY_POINT_GROUP)
    points = [*plugin_loader.entry_points(group=ENTRY_POINT_GROUP), builtin]
    monkeypatch.setattr(plugin_loader, "entry_points", lambda group: points)
    listed = CliRunner().invoke(cli, ["plugins", "--json"])
    assert listed.exit_code == 0, listed.output
    entries = {entry["name"]: entry for entry in json.loads(listed.stdout)}
    assert [report["name"] for report in entries["shadow"]["reports"]] == ["shadow-own"]
    assert [report["name"] for report in entries["correlation"]["reports"]] == ["correlation"]
    warnings = entries["shadow"]["warnings"]
    assert len(warnings) == 2
    assert "report 'correlation' is ignored" in warnings[0]
    assert "built-in report of plugin correlation" in warnings[0]
    assert "report 'sql' is ignored" in warnings[1]
    assert listed.stderr.splitlines() == [f"warning: {warning}" for warning in warnings]
    helped = CliRunner().invoke(cli, ["report", "--help"])
    assert helped.exit_code == 0, helped.output
    assert helped.stderr.count("report 'correlation' is ignored") == 1
    for name in ("correlation", "sql"):
        ran = CliRunner().invoke(cli, ["report", name, "--help"])
        assert ran.exit_code == 0, ran.output
        assert "Not the real one" not in ran.stdout
    own = CliRunner().invoke(cli, ["report", "shadow-own", "--json"])
    assert json.loads(own.stdout)["rows"] == [["shadow ran"]]
    real = CliRunner().invoke(cli, ["report", "sql", "SELECT 42", "--db", str(demo_db), "--json"])
    assert json.loads(real.stdout)["rows"] == [[42]]
