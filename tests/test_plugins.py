"""Plugins: discovery, isolation of broken ones, the `plugins` listing and a real install."""

from __future__ import annotations

import json
import os
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
from tests.test_cli import HEAVY_MODULES, assert_one_line_error
from tests.test_report_sql import build_demo_db

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "burnout-tui-example-plugin"
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


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo_db(tmp_path_factory.mktemp("db") / "s.duckdb")


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
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("BURNOUT_TUI_DB", None)
    if site is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "burnout_tui.cli", *args],
        capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=PIP_TIMEOUT_S,
    )  # fmt: skip


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
    probe = (
        "import sys\n"
        "from burnout_tui.cli import cli\n"
        "try:\n"
        "    cli(['--help'], prog_name='burnout-tui')\n"
        "except SystemExit:\n"
        "    pass\n"
        f"heavy = [m for m in {(*HEAVY_MODULES, 'good_plugin', 'burnout_tui_plugins')!r}"
        " if m in sys.modules]\n"
        "print('loaded:' + ','.join(heavy))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(fake_site)}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    assert "report" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "loaded:"


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
