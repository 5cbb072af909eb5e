"""Write the demo portrait's face-mesh landmarks that the expression warp moves.

The built-in demo (`burnout_tui/sources/demo.py`) animates expressions by warping the
bundled portrait around its mouth, brows and eyes (`burnout_tui/sources/expressions.py`).
Sources may not import the vision stage, so the few landmarks it needs are measured once
here, with the product's own detector and face mesh, and shipped as a small JSON asset.
tests/integration/test_demo_expressions.py checks the asset still matches the mesh.

Run: python -m tools.demo_landmarks
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from burnout_tui.sources.demo import ASSET
from burnout_tui.sources.expressions import LANDMARK_GROUPS, LANDMARKS_ASSET
from burnout_tui.vision.detector import FaceDetector
from burnout_tui.vision.mesh import FaceMesh

DECIMALS = 2
"""Hundredths of a pixel: far below what the warp can show, and a stable file."""


def measure(image_path: Path = ASSET) -> dict[str, list[list[float]]]:
    """Each landmark group's points (x, y in asset pixels), from the one face in the image."""
    image = cv2.imread(str(image_path), cv2.IMREAD_COLOR)
    if image is None:
        raise SystemExit(f"cannot read {image_path}")
    frame: npt.NDArray[np.uint8] = np.asarray(image, dtype=np.uint8)
    (face,) = FaceDetector().detect(frame)
    (mesh,) = FaceMesh().predict(frame, [face])
    points = mesh.points[:, :2].astype(np.float64)
    return {
        name: [[round(float(x), DECIMALS), round(float(y), DECIMALS)] for x, y in points[list(ids)]]
        for name, ids in LANDMARK_GROUPS.items()
    }


def main() -> None:
    groups = measure()
    lines = [f"  {json.dumps(name)}: {json.dumps(points)}" for name, points in groups.items()]
    LANDMARKS_ASSET.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")
    print(f"wrote {LANDMARKS_ASSET}")


if __name__ == "__main__":
    main()
