"""`make bench`'s CPU and memory of a process tree: a grandchild's work counts."""

from __future__ import annotations

import sys

import pytest

from tools import bench_proc

HELD_MB = 64
"""What the grandchild holds in memory; the polled peak must see at least this."""

BUSY_S = 0.3
"""CPU seconds the grandchild burns, then it sleeps as long so a poll sees its memory."""

CHILD = "import subprocess, sys; subprocess.run([sys.executable, '-c', sys.argv[1]], check=True)"
GRANDCHILD = (
    f"import time; held = b'x' * ({HELD_MB} << 20); end = time.process_time() + {BUSY_S}\n"
    f"while time.process_time() < end: pass\ntime.sleep({BUSY_S})"
)


@pytest.mark.skipif(not bench_proc.available(), reason="needs /proc (Linux)")
def test_cpu_and_peak_memory_include_grandchildren() -> None:
    output, usage = bench_proc.run_measured([sys.executable, "-c", CHILD, GRANDCHILD])
    assert output == ""
    assert usage.cpu_s >= BUSY_S
    assert usage.cores > 0
    assert usage.peak_rss_mb >= HELD_MB
