"""Camera heart rate against the finger sensor on the three shared UBFC-rPPG subjects.

Runs the product's detector, mesh and pulse stage once per subject (tools.eval_heart, with
the true frame timestamps) and checks issue #14's targets on the pooled reported seconds:
MAE ≤ 3 bpm and ≥ 85 % within 5 bpm of the PPG reference. docs/heart-rate.md has the
per-subject table, the oximeter column and the share withheld.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from burnout_tui.config import Config
from tools.eval_heart import (
    SUBJECTS,
    TARGET_MAE_BPM,
    TARGET_WITHIN_5,
    UBFC,
    Agreement,
    agreement,
    read_truth,
    run_clip,
)

pytestmark = pytest.mark.slow

MAX_WITHHELD = 0.5
"""The targets count reported seconds only; a method that reported almost nothing would
meet them trivially, so at least half of the seconds must be reported."""


@pytest.fixture(scope="module")
def subjects(shared_data: Path) -> list[Agreement]:
    config = Config()
    results = []
    for subject in SUBJECTS:
        folder = shared_data / UBFC.format(subject)
        if not folder.is_dir():
            pytest.skip(f"no UBFC subject at {folder}")
        truth = read_truth(folder)
        estimates = run_clip(folder / "vid.mp4", config, truth.ts)
        results.append(agreement(f"subject{subject}", estimates, truth, config.heart.window_s))
    return results


def test_heart_rate_meets_the_targets_on_ubfc(subjects: list[Agreement]) -> None:
    weights = [s.reported for s in subjects]
    mae = float(np.average([s.mae_ppg for s in subjects], weights=weights))
    within = float(np.average([s.within_5_ppg for s in subjects], weights=weights))
    withheld = 1.0 - sum(weights) / sum(s.seconds for s in subjects)
    assert mae <= TARGET_MAE_BPM
    assert within >= TARGET_WITHIN_5
    assert withheld <= MAX_WITHHELD
    assert all(s.reported > 0 for s in subjects)
