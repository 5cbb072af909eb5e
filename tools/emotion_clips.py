"""Mean emotion probabilities per shared clip, with each emotion model: are they plausible?

Each clip of `$BURNOUT_TUI_DATA/videos` is analysed by the real CLI (`burnout-tui analyze`,
one person, the largest face) once per emotion model, into a throw-away database; the
table gives each clip's mean probability per class over its face frames and the mean
frame score. This is what
the monitor's sparklines draw, so it shows whether a model's readings of real footage
(LivePortrait's actors smile, grimace, look surprised) make sense before and after a
model change. No labels exist for these clips: it is a plausibility check, not accuracy.

Run: BURNOUT_TUI_DATA=/path/to/shared/data python -m tools.emotion_clips [--clip NAME]
     [--model NAME]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from burnout_tui import EMOTIONS
from burnout_tui.emotion_models import EMOTION_MODEL_NAMES
from burnout_tui.store import open_database

PROBABILITY_COLUMNS = tuple(f"p_{name}" for name in EMOTIONS)


def analyse(video: Path, model: str, folder: Path) -> tuple[int, list[float], float]:
    """(face frames, mean probability per class, mean frame score) of `video` with `model`."""
    config = folder / f"{model}.toml"
    config.write_text(f'[emotion]\nmodel = "{model}"\n', encoding="utf-8")
    db = folder / f"{video.stem}-{model}.duckdb"
    command = [sys.executable, "-m", "burnout_tui.cli", "--config", str(config)]
    command += ["analyze", str(video), "--db", str(db), "--user", "clips"]
    subprocess.run(command, check=True, capture_output=True)
    con = open_database(db)
    try:
        means = ", ".join(f"avg({column})" for column in PROBABILITY_COLUMNS)
        row = con.execute(f"SELECT count(*), {means}, avg(frame_score) FROM v_frames").fetchone()
        stored = con.execute("SELECT DISTINCT emotion_model FROM v_sessions").fetchall()
    finally:
        con.close()
    assert row is not None and stored == [(model,)], stored
    return int(row[0]), [float(value) for value in row[1:-1]], float(row[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clip", action="append", help="clip file name (repeatable)")
    parser.add_argument("--model", action="append", choices=EMOTION_MODEL_NAMES)
    args = parser.parse_args()
    data = os.environ.get("BURNOUT_TUI_DATA")
    if not data:
        sys.exit("set BURNOUT_TUI_DATA to the shared data folder")
    videos = sorted((Path(data) / "videos").glob("*.mp4"))
    if args.clip:
        videos = [video for video in videos if video.name in args.clip]
    models = args.model or list(EMOTION_MODEL_NAMES)
    header = "| clip | model | face frames | " + " | ".join(EMOTIONS) + " | mean frame score |"
    print(header)
    print("|---" * (header.count("|") - 1) + "|")
    with tempfile.TemporaryDirectory() as tmp:
        for video in videos:
            for model in models:
                frames, means, score = analyse(video, model, Path(tmp))
                cells = " | ".join(f"{value:.2f}" for value in means)
                print(f"| {video.stem} | {model} | {frames} | {cells} | {score:+.2f} |")


if __name__ == "__main__":
    main()
