"""Reading test photos the way the reference detector saw them."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

ImageBGR = npt.NDArray[np.uint8]


def read_image(path: Path) -> ImageBGR:
    """As TensorFlow's decoder sees it: EXIF orientation ignored, alpha dropped."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    assert image is not None, f"unreadable image {path}"
    return np.asarray(image, dtype=np.uint8)
