"""The drowsiness model's ONNX contract, its stage, the `blinks` table and the eval tool."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path

import duckdb
import numpy as np
import onnx
import pytest

from burnout_tui.config import Config, DrowsinessConfig, FatigueConfig
from burnout_tui.measures import MeshMeasures
from burnout_tui.runtime.drowsiness_model import (
    EXPECTED_NAME,
    INPUT_NAME,
    MODEL_FILENAME,
    PROBABILITIES_NAME,
    DrowsinessModel,
    DrowsinessModelError,
)
from burnout_tui.runtime.face_policy import LargestFace, Located
from burnout_tui.runtime.face_stages import DrowsinessStage, FaceWork, calibrated_blinks
from burnout_tui.runtime.pipeline import Pipeline, make_detector
from burnout_tui.runtime.results import FaceResult, FrameResult
from burnout_tui.runtime.runner import SessionRunner
from burnout_tui.signals.blink_baseline import BlinkBaseline
from burnout_tui.signals.blinks import Blink
from burnout_tui.signals.drowsiness import (
    LEVEL_VALUES,
    LEVELS,
    WINDOW_BLINKS,
    BlinkRecord,
    DrowsinessLevel,
)
from burnout_tui.sources.frame import Frame
from burnout_tui.store import FrameWriter, repository
from burnout_tui.store.blink_rows import BlinkRow, blink_rows
from burnout_tui.store.calibrations import latest_calibration, save_calibration
from burnout_tui.store.drowsiness_summary import session_drowsiness
from burnout_tui.store.rows import stored_rows
from burnout_tui.store.schema import FEATURE_COLUMNS, PROBABILITY_COLUMNS
from burnout_tui.vision.face import Face
from burnout_tui.vision.mesh import Mesh
from tests.unit.test_blinks import BOTTOM_S, FALL_S, OPEN, RISE_S, blink_profile
from tests.unit.test_store import make_row, new_session
from tools import eval_drowsiness

RNG = np.random.default_rng(7)


@pytest.fixture(scope="module")
def model() -> DrowsinessModel:
    return DrowsinessModel()


def windows(count: int) -> np.ndarray:
    return RNG.normal(0.0, 2.0, (count, WINDOW_BLINKS, 4)).astype(np.float32)


def test_onnx_contract(model: DrowsinessModel) -> None:
    inputs = model.session.get_inputs()
    assert [(i.name, i.shape[1:]) for i in inputs] == [(INPUT_NAME, [WINDOW_BLINKS, 4])]
    batch = windows(17)
    probabilities, expected = model.session.run(
        [PROBABILITIES_NAME, EXPECTED_NAME], {INPUT_NAME: batch}
    )
    assert probabilities.shape == (17, len(LEVELS))
    assert probabilities.sum(axis=1) == pytest.approx(np.ones(17), abs=1e-5)
    assert (probabilities >= 0.0).all()
    assert expected == pytest.approx(probabilities @ np.asarray(LEVEL_VALUES), abs=1e-4)
    assert model.predict(batch) == pytest.approx(probabilities)
    assert model.predict(np.zeros((0, WINDOW_BLINKS, 4))).shape == (0, len(LEVELS))
    # One window alone gives what it gives in a batch: nothing mixes windows.
    assert model.predict(batch[3:4]) == pytest.approx(probabilities[3:4], abs=1e-6)


def test_onnx_metadata_says_what_it_was_trained_on(model: DrowsinessModel) -> None:
    from burnout_tui.models_dir import model_path

    properties = {p.key: p.value for p in onnx.load(str(model_path(MODEL_FILENAME))).metadata_props}
    assert json.loads(properties["levels"]) == list(LEVELS)
    assert json.loads(properties["features"]) == [
        "frequency",
        "amplitude",
        "duration",
        "velocity",
    ]
    assert "fold 4 held out" in properties["trained_on"]
    assert 0.0 < float(properties["lofo_three_class"]) < 1.0


def test_wrong_window_shape_is_refused(model: DrowsinessModel) -> None:
    with pytest.raises(ValueError, match=r"\(N, 30, 4\)"):
        model.predict(np.zeros((2, 29, 4)))


def test_a_model_file_that_is_not_one_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(DrowsinessModelError, match="cannot load the drowsiness model"):
        DrowsinessModel(bad)


def eyes_open_and_blinking(seconds: float, every_s: float, fps: float = 30.0) -> list:
    t = np.arange(0.0, seconds, 1.0 / fps)
    ear = np.full_like(t, OPEN)
    start = 1.5
    while start < seconds - 1.0:
        depth = RNG.uniform(0.12, 0.2)
        ear = np.minimum(ear, blink_profile(t, start, depth))
        start += every_s + RNG.uniform(-0.5, 0.5)
    return [
        (float(ts), MeshMeasures(e, e, 0.05, 0.0, 0.0, 0.0)) for ts, e in zip(t, ear, strict=True)
    ]


def face_work(track_id: int, measures: MeshMeasures | None) -> FaceWork:
    return FaceWork(track_id=track_id, face=Face(box=(0, 0, 10, 10), score=0.9), measures=measures)


def test_stage_levels_each_window_once_thirty_blinks_exist(model: DrowsinessModel) -> None:
    settings = DrowsinessConfig(baseline_s=20.0, min_baseline_blinks=5)
    stage = DrowsinessStage(settings, FatigueConfig().max_gap_s, None, model)
    image = np.zeros((4, 4, 3), dtype=np.uint8)
    records: list[BlinkRecord] = []
    levels: list[DrowsinessLevel | None] = []
    for index, (ts, measures) in enumerate(eyes_open_and_blinking(150.0, 2.5)):
        (work,) = stage.run(Frame(index, ts, image), (face_work(0, measures),))
        records += work.blinks
        levels.append(work.drowsiness)
    assert len(records) >= 50
    assert any(record.normalised is None for record in records[:3])
    levelled = [record for record in records if record.level is not None]
    normalised = [record for record in records if record.normalised is not None]
    assert len(levelled) == len(normalised) - WINDOW_BLINKS + 1
    assert levels[0] is None and levels[-1] == levelled[-1].level
    stage.forget([0])
    (work,) = stage.run(Frame(99_999, 151.0, image), (face_work(0, None),))
    assert work.drowsiness is None and work.blinks == ()


def test_the_blink_pending_at_the_end_is_flushed_once(model: DrowsinessModel) -> None:
    stage = DrowsinessStage(DrowsinessConfig(), FatigueConfig().max_gap_s, None, model)
    image = np.zeros((4, 4, 3), dtype=np.uint8)
    t = np.arange(0.0, 8.0 + FALL_S + BOTTOM_S + RISE_S + 0.2, 1.0 / 30.0)
    ear = np.full_like(t, OPEN)
    for start in (2.0, 4.0, 6.0, 8.0):
        ear = np.minimum(ear, blink_profile(t, start, 0.15))
    seen = []
    for index, (ts, e) in enumerate(zip(t, ear, strict=True)):
        measures = MeshMeasures(float(e), float(e), 0.05, 0.0, 0.0, 0.0)
        (work,) = stage.run(Frame(index, float(ts), image), (face_work(3, measures),))
        seen += work.blinks
    assert len(seen) == 3, "the last blink waits for its context"
    ((track_id, (last,)),) = stage.flush()
    assert track_id == 3 and last.blink.start_ts > 7.5 and last.level is None
    assert stage.flush() == []


class ScriptedPipeline(Pipeline):
    """The real drowsiness stage (and model) fed one face's EAR per frame, without the
    detector and the stages before it; it returns no face, so nothing but the flushed blink
    reaches the store."""

    def __init__(self, config: Config, stage: DrowsinessStage, ear: dict[int, float]) -> None:
        super().__init__(LargestFace(make_detector(config, 1), config.detection), [stage])
        self.stage, self.ear = stage, ear

    def process(self, frame: Frame) -> FrameResult:
        e = self.ear[frame.index]
        self.stage.run(frame, (face_work(0, MeshMeasures(e, e, 0.05, 0.0, 0.0, 0.0)),))
        return FrameResult(frame.index, frame.ts, (), False)


def test_finishing_a_session_stores_its_pending_blink(
    loaded_config: Config, con: duckdb.DuckDBPyConnection, model: DrowsinessModel
) -> None:
    stage = DrowsinessStage(DrowsinessConfig(), FatigueConfig().max_gap_s, None, model)
    t = np.arange(0.0, 4.0 + FALL_S + BOTTOM_S + RISE_S + 0.2, 1.0 / 30.0)
    ear = np.minimum(blink_profile(t, 2.0, 0.15), blink_profile(t, 4.0, 0.15))
    pipeline = ScriptedPipeline(loaded_config, stage, dict(enumerate(ear.tolist())))
    image = np.zeros((4, 4, 3), dtype=np.uint8)
    with SessionRunner(con, loaded_config, "ana", "scripted", pipeline) as runner:
        session_id = runner.begin()
        for index, ts in enumerate(t):
            runner.process(Frame(index, float(ts), image))
        runner.finish()
    stored = con.execute(
        "SELECT track_id, frame_index, ts, start_ts FROM blinks WHERE session_id = ?",
        [session_id],
    ).fetchall()
    ((track_id, frame_index, ts, start_ts),) = stored
    assert (track_id, frame_index) == (0, len(t) - 1)
    assert ts == pytest.approx(t[-1]) and start_ts > 3.5


def test_calibrated_blinks_come_from_the_calibration() -> None:
    assert calibrated_blinks(None) is None


def blink_record(level: DrowsinessLevel | None, normalised: bool = True) -> BlinkRecord:
    blink = Blink(1.0, 1.1, 1.3, 15.0, 0.12, 0.33, 0.6)
    return BlinkRecord(blink, (0.5, -0.2, 1.0, 0.1) if normalised else None, level)


def test_blink_rows_through_the_writer_and_the_view(con: duckdb.DuckDBPyConnection) -> None:
    session_id = new_session(con)
    face = make_row(session_id, 0)
    result = FaceResult(
        track_id=0,
        face=Face(box=(0, 0, 10, 10), score=0.9),
        probs=np.full(7, 1 / 7, dtype=np.float32),
        features=np.zeros(6, dtype=np.float32),
        frame_score=0.0,
        rolling_score=0.0,
        blinks=(blink_record(None, normalised=False), blink_record(DrowsinessLevel(0.1, 0.3, 0.6))),
    )
    rows = stored_rows(session_id, 42, 1.7, [result])
    assert [type(row) for row in rows][1:] == [BlinkRow, BlinkRow]
    assert list(blink_rows(session_id, 42, 1.7, replace(result, blinks=()))) == []
    with FrameWriter(con) as writer:
        writer.put(face)
        writer.put_many(rows[1:])
    stored = con.execute(
        'SELECT "user", frame_index, ts, frequency, z_frequency, level, p_drowsy, '
        "expected_level FROM v_blinks ORDER BY z_frequency NULLS FIRST"
    ).fetchall()
    assert stored[0] == ("ana", 42, 1.7, 15.0, None, None, None, None)
    assert stored[1][:6] == ("ana", 42, 1.7, 15.0, 0.5, "drowsy")
    assert stored[1][6:] == pytest.approx((0.6, 0.3 * 5 + 0.6 * 10))
    repository.delete_session(con, session_id)
    assert con.execute("SELECT count(*) FROM blinks").fetchone() == (0,)


def test_session_summary_has_the_last_level_and_the_share_per_level(
    con: duckdb.DuckDBPyConnection,
) -> None:
    session_id = new_session(con)
    levels = [None, DrowsinessLevel(0.7, 0.2, 0.1), DrowsinessLevel(0.1, 0.3, 0.6)]
    levels += [DrowsinessLevel(0.2, 0.5, 0.3), DrowsinessLevel(0.1, 0.2, 0.7)]
    with FrameWriter(con) as writer:
        writer.put(make_row(session_id, 0))
        for i, level in enumerate(levels):
            blink = Blink(i, i + 0.1, i + 0.3, 15.0, 0.12, 0.33, 0.6)
            record = BlinkRecord(blink, (0.0, 0.0, 0.0, 0.0), level)
            writer.put(BlinkRow.from_record(session_id, i, i + 0.7, 0, record))
        writer.put(BlinkRow.from_record(session_id, 9, 9.7, 1, blink_record(None, False)))
    first, second = session_drowsiness(con, session_id)
    assert (first.track_id, first.blinks, first.windows) == (0, 5, 4)
    assert (first.last_level, first.last_probability) == ("drowsy", pytest.approx(0.7))
    assert first.level_share == pytest.approx({"alert": 0.25, "low vigilant": 0.25, "drowsy": 0.5})
    assert (second.windows, second.last_level, second.level_share) == (0, None, {})
    assert session_drowsiness(con, session_id + 1) == []


def _calibration_session(con: duckdb.DuckDBPyConnection, durations: list[float]) -> int:
    session_id = new_session(con)
    with FrameWriter(con) as writer:
        writer.put_many(make_row(session_id, i, score=0.1 * (i % 3)) for i in range(40))
        for i, duration in enumerate(durations):
            blink = Blink(i, i + 0.1, i + 0.3, 10.0 + i, 0.1 + 0.005 * i, duration, 0.5 + 0.01 * i)
            writer.put(BlinkRow.from_record(session_id, i, i + 0.7, 0, BlinkRecord(blink)))
    return session_id


def test_calibration_keeps_the_blink_baseline(con: duckdb.DuckDBPyConnection) -> None:
    session_id = _calibration_session(con, [0.3 + 0.01 * (i % 5) for i in range(20)])
    user_id = repository.get_or_create_user(con, "ana")
    calibration = save_calibration(con, user_id, session_id, 0, 1, FatigueConfig(), 15)
    assert calibration is not None
    assert calibration == latest_calibration(con, "ana")
    assert calibration.blink_count == 20
    baseline = calibrated_blinks(calibration)
    assert isinstance(baseline, BlinkBaseline)
    assert baseline.means[0] == pytest.approx(19.5)
    assert baseline.stds[0] == pytest.approx(np.std(np.arange(20.0)))
    few = save_calibration(con, user_id, session_id, 0, 1, FatigueConfig(), 25)
    assert few is not None and few.blink_count == 20 and few.blink_means is None
    assert calibrated_blinks(few) is None
    columns = [row[0] for row in con.execute("DESCRIBE v_calibrations").fetchall()]
    assert columns[-9] == "blink_count"


def test_a_feature_that_never_varied_gives_no_blink_baseline(
    con: duckdb.DuckDBPyConnection,
) -> None:
    session_id = _calibration_session(con, [0.3] * 20)
    user_id = repository.get_or_create_user(con, "ana")
    calibration = save_calibration(con, user_id, session_id, 0, 1, FatigueConfig(), 15)
    assert calibration is not None and calibration.blink_count == 20
    assert calibration.blink_stds is None


def write_fold(folder: Path, blinks: np.ndarray, labels: np.ndarray) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = folder / "blinks.npy", folder / "labels.npy"
    np.save(paths[0], blinks)
    np.save(paths[1], labels)
    return paths


def test_eval_tool_scores_a_fold(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    labels = np.repeat([0.0, 5.0, 10.0], 4)[:, None]
    blinks, label_path = write_fold(tmp_path, windows(12), labels)
    assert eval_drowsiness.main([str(blinks), str(label_path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["windows"] == 12
    assert result["per_level"] == {"alert": 4, "low vigilant": 4, "drowsy": 4}
    assert 0.0 <= result["three_class"] <= 1.0 and 0.0 <= result["alert_vs_drowsy"] <= 1.0


def test_scores_define_alert_vs_drowsy_by_the_expected_level() -> None:
    p = np.array([[0.6, 0.0, 0.4], [0.0, 1.0, 0.0], [0.3, 0.0, 0.7], [0.45, 0.1, 0.45]])
    result = eval_drowsiness.scores(p, np.array([0, 1, 0, 2]))
    assert result.three_class == pytest.approx(2 / 4)
    # Alert at E=4 (right side), alert at E=7 (wrong), drowsy at E=5 exactly (not above 5).
    assert result.alert_vs_drowsy == pytest.approx(1 / 3)


@pytest.mark.parametrize(
    ("blinks", "labels", "message"),
    [
        (None, np.zeros((3, 1)), "does not exist"),
        (np.zeros((3, 30, 5)), np.zeros((3, 1)), r"has shape \(3, 30, 5\)"),
        (np.zeros((3, 30, 4)), np.zeros((4, 1)), "one label per window"),
        (np.zeros((3, 30, 4)), np.array([[0.0], [3.0], [10.0]]), r"holds \[3\.0\]"),
        (np.full((1, 30, 4), np.nan), np.zeros((1, 1)), "NaN"),
    ],
)
def test_eval_tool_bad_input_is_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    blinks: np.ndarray | None,
    labels: np.ndarray,
    message: str,
) -> None:
    label_path = tmp_path / "labels.npy"
    np.save(label_path, labels)
    blink_path = tmp_path / "blinks.npy"
    if blinks is not None:
        np.save(blink_path, blinks)
    assert eval_drowsiness.main([str(blink_path), str(label_path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    assert re.search(message, lines[0])


def test_eval_tool_refuses_a_file_that_is_not_npy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "blinks.npy"
    text.write_text("hello")
    labels = tmp_path / "labels.npy"
    np.save(labels, np.zeros((1, 1)))
    assert eval_drowsiness.main([str(text), str(labels)]) == 1
    assert "not a NumPy .npy array" in capsys.readouterr().err


def test_config_section_exists() -> None:
    assert Config().drowsiness == DrowsinessConfig()
    with pytest.raises(ValueError, match="blink_ratio"):
        DrowsinessConfig(blink_ratio=1.5)


class LeavingFace:
    """A face policy for one person who is in view until `leaves_at` (a frame index) and
    then gone: the policy forgets their track on that frame, as a real one does."""

    def __init__(self, leaves_at: int) -> None:
        self.leaves_at = leaves_at
        self.frame = 0

    def reset(self) -> None:
        self.frame = 0

    def locate(self, image: np.ndarray, ts: float) -> Located:
        self.frame += 1
        if self.frame - 1 < self.leaves_at:
            return Located(((0, Face(box=(0, 0, 10, 10), score=0.9)),), False)
        forgotten = frozenset({0}) if self.frame - 1 == self.leaves_at else frozenset()
        return Located((), False, forgotten=forgotten)

    def observe(self, frame_size: tuple[int, int], meshes: Mapping[int, Mesh]) -> None:
        pass


class ScriptedEyes:
    """Stands in for the stages before the drowsiness one: each frame's EAR from a script,
    and neutral values for the fields every stored face needs."""

    clock = "score"

    def __init__(self, ear: dict[int, float]) -> None:
        self.ear = ear

    def reset(self) -> None:
        pass

    def forget(self, track_ids: Iterable[int]) -> None:
        pass

    def run(self, frame: Frame, faces: tuple[FaceWork, ...]) -> tuple[FaceWork, ...]:
        e = self.ear[frame.index]
        return tuple(
            replace(
                work,
                measures=MeshMeasures(e, e, 0.05, 0.0, 0.0, 0.0),
                probs=np.full(len(PROBABILITY_COLUMNS), 1 / len(PROBABILITY_COLUMNS), np.float32),
                features=np.zeros(len(FEATURE_COLUMNS), np.float32),
                frame_score=0.0,
                rolling_score=0.0,
            )
            for work in faces
        )


def test_a_face_that_leaves_keeps_its_last_blink(
    loaded_config: Config, con: duckdb.DuckDBPyConnection, model: DrowsinessModel
) -> None:
    """The blink still waiting for its context when the face leaves view is stored on the
    frame its track ends, not dropped with the track."""
    stage = DrowsinessStage(DrowsinessConfig(), FatigueConfig().max_gap_s, None, model)
    t = np.arange(0.0, 4.0 + FALL_S + BOTTOM_S + RISE_S + 0.2, 1.0 / 30.0)
    ear = np.minimum(blink_profile(t, 2.0, 0.15), blink_profile(t, 4.0, 0.15))
    leaves_at = len(t)
    pipeline = Pipeline(LeavingFace(leaves_at), [ScriptedEyes(dict(enumerate(ear))), stage])
    image = np.zeros((4, 4, 3), dtype=np.uint8)
    ended = []
    with SessionRunner(con, loaded_config, "ana", "scripted", pipeline) as runner:
        session_id = runner.begin()
        for index in range(leaves_at + 30):
            ts = index / 30.0
            ended += runner.process(Frame(index, ts, image)).ended_blinks
        runner.finish()
    ((track_id, (record,)),) = ended
    assert track_id == 0 and record.blink.start_ts > 3.5
    stored = con.execute(
        "SELECT track_id, frame_index, start_ts FROM blinks WHERE session_id = ? ORDER BY ts",
        [session_id],
    ).fetchall()
    assert [(row[0], row[1]) for row in stored] == [(0, stored[0][1]), (0, leaves_at)]
    assert stored[-1][2] == pytest.approx(record.blink.start_ts)


def test_videos_are_told_apart_by_their_overlapping_windows() -> None:
    from tools.drowsiness_videos import OVERLAP, video_ids

    step = WINDOW_BLINKS - OVERLAP
    blinks = np.random.default_rng(0).normal(size=(3, 60, 4)).astype(np.float32)
    windows = np.array(
        [
            blinks[video, start : start + WINDOW_BLINKS]
            for video in range(3)
            for start in range(0, 60 - WINDOW_BLINKS + 1, step)
        ]
    )
    per_video = len(range(0, 60 - WINDOW_BLINKS + 1, step))
    assert video_ids(windows).tolist() == [v for v in range(3) for _ in range(per_video)]
