"""Blendshape names, the named action cues, their storage and view, and the model itself.

The model runs for real (the committed ONNX file) on the bundled astronaut photo's mesh;
parity with MediaPipe's original is in tests/integration/test_face_blendshapes.py.
"""

from __future__ import annotations

import re
from dataclasses import replace

import duckdb
import numpy as np
import pytest

from burnout_tui.config import MeshConfig
from burnout_tui.runtime.face_stages import BlendshapeStage, FaceWork
from burnout_tui.scoring.action_cues import (
    ACTION_CUE_NAMES,
    ACTION_CUES,
    BLENDSHAPE_NAMES,
    NUM_BLENDSHAPES,
    action_cues,
)
from burnout_tui.sources.frame import Frame
from burnout_tui.store import FrameWriter
from burnout_tui.store.schema import MIGRATIONS
from burnout_tui.vision.blendshapes import (
    BLENDSHAPE_LANDMARKS,
    IRIS_POINTS,
    MESH_POINTS,
    FaceBlendshapes,
    iris_points,
    model_input,
)
from burnout_tui.vision.detector import FaceDetector
from burnout_tui.vision.mesh import FaceMesh
from tests.images import ImageBGR
from tests.unit.test_store import make_row, new_session

VIEW_CUE = re.compile(
    r"^\s*\(?((?:f\.blendshapes\[\d+\]\s*\+?\s*)+)\)?(?:\s*/\s*(\d+))?\s+AS\s+(\w+),?$"
)
ATOL = 1e-6
BATCH_ATOL = 1e-5
MAX_NEUTRAL_JAW_OPEN = 0.2
"""The astronaut smiles with closed lips: jawOpen stays low (measured 0.02)."""


def view_sql() -> str:
    (sql,) = [m for m in MIGRATIONS if "CREATE VIEW v_action_cues" in m]
    return sql


def test_names_follow_mediapipe() -> None:
    assert NUM_BLENDSHAPES == 52 and len(set(BLENDSHAPE_NAMES)) == NUM_BLENDSHAPES
    assert BLENDSHAPE_NAMES[0] == "_neutral"
    assert (BLENDSHAPE_NAMES[1], BLENDSHAPE_NAMES[-1]) == ("browDownLeft", "noseSneerRight")
    assert BLENDSHAPE_NAMES[25] == "jawOpen"
    assert len(BLENDSHAPE_LANDMARKS) == 146 and len(set(BLENDSHAPE_LANDMARKS)) == 146
    assert [i for i in BLENDSHAPE_LANDMARKS if i >= MESH_POINTS] == list(range(468, 478))


def test_every_cue_names_known_coefficients_and_an_action_unit() -> None:
    assert len(set(ACTION_CUE_NAMES)) == len(ACTION_CUES)
    for cue in ACTION_CUES:
        assert cue.coefficients and all(name in BLENDSHAPE_NAMES for name in cue.coefficients)
        assert cue.action_unit.startswith("AU")


def test_cue_is_the_mean_of_its_coefficients() -> None:
    values = np.zeros(NUM_BLENDSHAPES)
    values[BLENDSHAPE_NAMES.index("browDownLeft")] = 0.6
    values[BLENDSHAPE_NAMES.index("browDownRight")] = 0.2
    values[BLENDSHAPE_NAMES.index("jawOpen")] = 0.9
    cues = action_cues(values.tolist())
    assert list(cues) == list(ACTION_CUE_NAMES)
    assert cues["brow_lowering"] == pytest.approx(0.4)
    assert cues["jaw_open"] == pytest.approx(0.9)
    assert cues["lip_press"] == 0.0
    with pytest.raises(ValueError, match="52"):
        action_cues([0.0] * 51)


def test_view_computes_each_cue_from_its_own_coefficients() -> None:
    """The migration's SQL is literal; it must say what ACTION_CUES says (1-based lists)."""
    found = {}
    for line in view_sql().splitlines():
        match = VIEW_CUE.match(line)
        if match:
            indices = tuple(int(i) - 1 for i in re.findall(r"\[(\d+)\]", match.group(1)))
            divisor = int(match.group(2) or 1)
            assert divisor == len(indices), line
            found[match.group(3)] = indices
    assert found == {cue.name: cue.indices for cue in ACTION_CUES}


def test_stored_blendshapes_come_back_with_their_cues(con: duckdb.DuckDBPyConnection) -> None:
    session_id = new_session(con)
    values = tuple(float(v) for v in np.linspace(0.0, 1.0, NUM_BLENDSHAPES, dtype=np.float32))
    with FrameWriter(con) as writer:
        writer.put(replace(make_row(session_id, 0), blendshapes=values))
        writer.put(make_row(session_id, 1))
        writer.flush()
    rows = con.execute(
        f"SELECT frame_index, {', '.join(ACTION_CUE_NAMES)}, blendshapes FROM v_action_cues"
    ).fetchall()
    assert len(rows) == 1, "a frame without blendshapes has no row in v_action_cues"
    frame_index, *cues, stored = rows[0]
    assert frame_index == 0
    np.testing.assert_allclose(stored, values, atol=ATOL)
    np.testing.assert_allclose(cues, list(action_cues(values).values()), atol=ATOL)
    (column_type,) = con.execute(
        "SELECT data_type FROM duckdb_columns() WHERE table_name = 'frames' "
        "AND column_name = 'blendshapes' AND database_name = current_database()"
    ).fetchone() or (None,)
    assert column_type == "FLOAT[]"


@pytest.fixture(scope="module")
def astronaut_points(detector: FaceDetector, astronaut: ImageBGR) -> np.ndarray:
    (face,) = detector.detect(astronaut)
    (mesh,) = FaceMesh().predict(astronaut, [face])
    return mesh.points


@pytest.fixture(scope="module")
def model() -> FaceBlendshapes:
    return FaceBlendshapes()


def test_iris_points_sit_inside_each_eye(astronaut_points: np.ndarray) -> None:
    full = iris_points(astronaut_points)
    assert full.shape == (IRIS_POINTS, 3)
    np.testing.assert_array_equal(full[:MESH_POINTS], astronaut_points)
    for centre, corners in ((468, (33, 133)), (473, (362, 263))):
        xs = sorted(float(full[i, 0]) for i in corners)
        assert xs[0] < full[centre, 0] < xs[1]
        assert np.all(np.abs(full[centre + 1 : centre + 5, :2] - full[centre, :2]).max(1) > 0)
    assert model_input(astronaut_points).shape == (146, 2)
    with pytest.raises(ValueError, match="468"):
        model_input(astronaut_points[:100])


def test_astronaut_coefficients_are_plausible(
    model: FaceBlendshapes, astronaut_points: np.ndarray
) -> None:
    (coefficients,) = model.predict([astronaut_points])
    assert coefficients.shape == (NUM_BLENDSHAPES,)
    assert coefficients.min() >= 0.0 and coefficients.max() <= 1.0
    assert coefficients[BLENDSHAPE_NAMES.index("jawOpen")] < MAX_NEUTRAL_JAW_OPEN
    smile = coefficients[[BLENDSHAPE_NAMES.index(n) for n in ("mouthSmileLeft", "mouthSmileRight")]]
    assert smile.min() > coefficients[BLENDSHAPE_NAMES.index("mouthFrownLeft")]


def test_batch_equals_singles(model: FaceBlendshapes, astronaut_points: np.ndarray) -> None:
    moved = astronaut_points.copy()
    moved[:, :2] = moved[:, :2] * 0.5 + 20.0  # same face, smaller and shifted: same shape
    moved[13:15, 1] += 15.0  # ... with the inner lips apart
    batch = model.predict([astronaut_points, moved])
    singles = np.vstack([model.predict([points]) for points in (astronaut_points, moved)])
    np.testing.assert_allclose(batch, singles, atol=BATCH_ATOL)
    assert model.predict([]).shape == (0, NUM_BLENDSHAPES)


def test_stage_fills_only_faces_with_a_usable_mesh(
    detector: FaceDetector, astronaut: ImageBGR
) -> None:
    (face,) = detector.detect(astronaut)
    (mesh,) = FaceMesh().predict(astronaut, [face])
    stage = BlendshapeStage(MeshConfig(), threads=1)
    doubted = replace(mesh, presence=0.1)
    faces = (
        FaceWork(track_id=0, face=face, mesh=mesh),
        FaceWork(track_id=1, face=face),
        FaceWork(track_id=2, face=face, mesh=doubted),
    )
    done = stage.run(Frame(image=astronaut, ts=0.0, index=0), faces)
    assert done[0].blendshapes is not None and len(done[0].blendshapes) == NUM_BLENDSHAPES
    assert done[1].blendshapes is None and done[2].blendshapes is None
    assert stage.run(Frame(image=astronaut, ts=0.0, index=0), faces[1:]) == faces[1:]
