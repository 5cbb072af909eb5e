"""MTCNN face detection on ONNX Runtime, reproducing the `mtcnn` 1.0 package step by step.

Parity with mtcnn 1.0 on TensorFlow is the contract (tests/integration/test_detector.py checks it
against that package's recorded output), so its quirks are kept on purpose: 11-pixel cell
spans in the P-Net boxes, an NMS in which a suppressed box still suppresses the boxes after
it, boxes normalised by W (not W - 1) before TensorFlow's `crop_and_resize` sampling, and
the `+ 1` box sizes in the regressions. Two steps run in a cheaper order with the same
arithmetic: the pyramid is resized before it is normalised, and patches are sampled from
the uint8 frame and normalised afterwards (both linear, so only float rounding differs).

The models are built by `tools/convert_mtcnn.py`; their input is NCHW float32 RGB.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from burnout_tui.vision.face import KEYPOINT_NAMES, Face
from burnout_tui.vision.runtime import DEFAULT_THREADS, load_session

PNET_FILE = "mtcnn_pnet.onnx"
RNET_FILE = "mtcnn_rnet.onnx"
ONET_FILE = "mtcnn_onet.onnx"
INPUT_NAME = "image"

PIXEL_MEAN = 127.5
PIXEL_SCALE = 1.0 / 128.0
"""mtcnn's normalisation, (pixel - 127.5) / 128; 1/128 is exact in floating point."""

PNET_WINDOW = 12
"""P-Net's receptive field: the face size at scale 1 and the smallest input it accepts."""
PNET_STRIDE = 2
PNET_CELL_SPAN = PNET_WINDOW - 1
"""mtcnn 1.0 places a cell's corners at stride*i + 1 and stride*i + 12, so its boxes and
offsets span 11 pixels, not 12."""
PNET_STRIP_PIXELS = 256 * 256
"""Most input pixels P-Net sees in one run. Its memory is mostly the im2col workspace of
its 3×3 convolutions, growing with the level's area; larger levels run as horizontal
strips of about this many pixels, whose outputs are exactly the whole level's rows (see
`_run_pnet`). Smaller strips need less memory and run no slower, as they stay in cache
(docs/detection.md)."""
PNET_MIN_STRIP_ROWS = 4 * PNET_WINDOW
"""Strips share 10 rows with the next, so a strip much thinner than this mostly repeats work."""
RNET_SIZE = 24
RNET_BATCH = 64
"""Proposals R-Net scores per run. A crowded or large frame yields hundreds to thousands
of proposals, and ONNX Runtime's workspace grows with the batch, while one large batch is
no faster than batches of this size (docs/detection.md)."""
ONET_SIZE = 48

PNET_SCALE_NMS = 0.5
PNET_PYRAMID_NMS = 0.7
RNET_NMS = 0.7
ONET_NMS = 0.7
"""mtcnn 1.0's IoU thresholds: union overlap except after O-Net, where it is overlap over
the smaller box."""

REFINE_MARGIN = 0.05
"""How far `refine` widens a previous box on every side, as a fraction of its side.

Small on purpose: squaring the box already widens it, and R-Net scores crops that fit the
face (it was trained on crops overlapping it by IoU > 0.65), so wider margins lose faces
(docs/detection.md)."""

Boxes = npt.NDArray[np.float64]
"""(N, 5) rows [x1, y1, x2, y2, score] in frame pixels; after O-Net ten more columns hold
the keypoints, five x then five y, in KEYPOINT_NAMES order."""
Frame = npt.NDArray[np.uint8]
Patches = npt.NDArray[np.float32]

_EMPTY: Boxes = np.empty((0, 5), dtype=np.float64)


def scale_pyramid(
    width: int, height: int, min_face_size: int, scale_factor: float
) -> npt.NDArray[np.float64]:
    """mtcnn's `build_scale_pyramid`, including its rounded (not floored) level count."""
    min_dim = min(width, height)
    count = round(-(np.log(min_dim / PNET_WINDOW) / np.log(scale_factor) + 1))
    levels = np.arange(max(count, 0))
    return (PNET_WINDOW / min_face_size) * np.power(scale_factor, levels, dtype=np.float64)


def pyramid_base(frame: Frame, max_side: int | None) -> tuple[npt.NDArray[Any], float]:
    """The image the P-Net pyramid is resized from, and its scale relative to `frame`.

    Without a cap (or within it) that is the frame as float32, as in mtcnn. A larger frame
    is shrunk (INTER_AREA) so its long side is `max_side`, and stays uint8: the pyramid's
    levels and P-Net's first one, which dominate the detector's memory, then cost what a
    frame of that size costs. Only proposals come from the copy; R-Net and O-Net sample
    the full frame, so boxes and keypoints stay in its pixels. `min_face_size` then counts
    pixels of the copy: a face must be min_face_size / scale source pixels to be found.
    """
    height, width = frame.shape[:2]
    long_side = max(height, width)
    if max_side is None or long_side <= max_side:
        return frame.astype(np.float32), 1.0
    scale = max_side / long_side
    size = (max(round(width * scale), 1), max(round(height * scale), 1))
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA), scale


def _sort_by_score(boxes: Boxes) -> Boxes:
    """Descending score, reversing the same default argsort mtcnn uses so ties fall alike."""
    return boxes[np.argsort(boxes[:, 4])[::-1]]


def nms(boxes: Boxes, threshold: float, use_min: bool = False, presorted: bool = False) -> Boxes:
    """mtcnn's all-pairs NMS: a box goes if any higher-scored box, kept or not, overlaps it."""
    if not presorted:
        boxes = _sort_by_score(boxes)
    if len(boxes) < 2:
        return boxes
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    area = (x2 - x1) * (y2 - y1)
    inter_w = np.maximum(0.0, np.minimum(x2[:, None], x2) - np.maximum(x1[:, None], x1))
    inter_h = np.maximum(0.0, np.minimum(y2[:, None], y2) - np.maximum(y1[:, None], y1))
    inter = inter_w * inter_h
    denominator = np.minimum(area[:, None], area) if use_min else area[:, None] + area - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        overlapping = inter / denominator > threshold
    suppressed: npt.NDArray[np.bool_] = np.triu(overlapping, k=1).any(axis=0)
    return boxes[~suppressed]


def square(boxes: Boxes) -> Boxes:
    """mtcnn's `resize_to_square`: grow the short side about the centre."""
    out = boxes.copy()
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    side = np.maximum(w, h)
    out[:, 0] = boxes[:, 0] + w * 0.5 - side * 0.5
    out[:, 1] = boxes[:, 1] + h * 0.5 - side * 0.5
    out[:, 2] = out[:, 0] + side
    out[:, 3] = out[:, 1] + side
    return out


def _pnet_input(scaled: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
    """BGR HWC pixels to normalised RGB NCHW in one pass."""
    rgb_chw = scaled.transpose(2, 0, 1)[::-1]
    out: npt.NDArray[np.float32] = np.subtract(rgb_chw, PIXEL_MEAN, dtype=np.float32, order="C")
    out *= np.float32(PIXEL_SCALE)
    return out[None]


def _pnet_boxes(
    reg: npt.NDArray[np.float32], prob: npt.NDArray[np.float32], threshold: float, scale: float
) -> Boxes:
    """mtcnn's `generate_bounding_box` + `upscale_bboxes` for one (4|H|W) P-Net output."""
    ys, xs = np.nonzero(prob > threshold)
    offsets = reg[:, ys, xs].astype(np.float64) * PNET_CELL_SPAN
    left, top = xs * PNET_STRIDE + 1, ys * PNET_STRIDE + 1
    right, bottom = xs * PNET_STRIDE + PNET_WINDOW, ys * PNET_STRIDE + PNET_WINDOW
    corners = np.stack([left, top, right, bottom], axis=1) + offsets.T
    boxes = np.column_stack([corners / scale, prob[ys, xs].astype(np.float64)])
    return _sort_by_score(boxes)


def _sample_axis(
    start: npt.NDArray[np.float32], stop: npt.NDArray[np.float32], extent: int, size: int
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.float32], Any]:
    """One axis of TensorFlow's `crop_and_resize`, in its float32 arithmetic.

    Returns the lower and upper source index, the interpolation weight of the upper one and
    which samples fall inside the image (the others take the extrapolation value, 0).
    """
    last = np.float32(extent - 1)
    step = (stop - start) * last / np.float32(size - 1)
    pos = start[:, None] * last + np.arange(size, dtype=np.float32) * step[:, None]
    inside = (pos >= 0) & (pos <= last)
    low = np.floor(pos)
    frac = pos - low
    low_index = np.clip(low, 0, last).astype(np.intp)
    high_index = np.clip(np.ceil(pos), 0, last).astype(np.intp)
    return low_index, high_index, frac, inside


def crop_and_resize(frame: Frame, boxes: Boxes, size: int) -> Patches:
    """mtcnn's `extract_patches`: (N, 3, size, size) normalised RGB patches of the boxes."""
    height, width = frame.shape[:2]
    extent = np.array([width, height, width, height], dtype=np.float64)
    norm = (boxes[:, :4] / extent).astype(np.float32)
    y_lo, y_hi, y_frac, y_in = _sample_axis(norm[:, 1], norm[:, 3], height, size)
    x_lo, x_hi, x_frac, x_in = _sample_axis(norm[:, 0], norm[:, 2], width, size)
    rows_lo, rows_hi = y_lo[:, :, None], y_hi[:, :, None]
    cols_lo, cols_hi = x_lo[:, None, :], x_hi[:, None, :]
    top_left = frame[rows_lo, cols_lo].astype(np.float32)
    bottom_left = frame[rows_hi, cols_lo].astype(np.float32)
    wx = x_frac[:, None, :, None]
    top = top_left + (frame[rows_lo, cols_hi] - top_left) * wx
    bottom = bottom_left + (frame[rows_hi, cols_hi] - bottom_left) * wx
    patches = top + (bottom - top) * y_frac[:, :, None, None]
    patches -= np.float32(PIXEL_MEAN)
    patches *= np.float32(PIXEL_SCALE)
    patches[~(y_in[:, :, None] & x_in[:, None, :])] = 0.0
    return np.ascontiguousarray(patches.transpose(0, 3, 1, 2)[:, ::-1])


def _regress(boxes: Boxes, reg: npt.NDArray[np.float32], score: npt.NDArray[np.float32]) -> Boxes:
    """mtcnn's `adjust_bboxes` (offsets times the +1 sizes, in float32) and new scores."""
    out = boxes.copy()
    w = boxes[:, 2] - boxes[:, 0] + 1
    h = boxes[:, 3] - boxes[:, 1] + 1
    out[:, :4] += reg * np.stack([w, h, w, h], axis=1).astype(np.float32)
    out[:, 4] = score
    return out


class FaceDetector:
    """The three MTCNN networks, each one ONNX Runtime session; every call is one frame."""

    def __init__(
        self,
        min_face_size: int = 20,
        thresholds: tuple[float, float, float] = (0.6, 0.7, 0.8),
        scale_factor: float = 0.709,
        threads: int = DEFAULT_THREADS,
        max_side: int | None = None,
    ) -> None:
        """`max_side`, if given, caps the long side of the image the P-Net pyramid is built
        from (see `pyramid_base`); None searches the frame itself, as mtcnn does."""
        self.min_face_size = min_face_size
        self.thresholds = thresholds
        self.scale_factor = scale_factor
        self.max_side = max_side
        self._pnet = load_session(PNET_FILE, threads)
        self._rnet = load_session(RNET_FILE, threads)
        self._onet = load_session(ONET_FILE, threads)

    def detect(self, frame_bgr: Frame) -> list[Face]:
        """All faces in the frame, highest score first, as mtcnn 1.0 reports them."""
        boxes = self._proposals(frame_bgr)
        return self._finish(frame_bgr, boxes)

    def refine(self, frame_bgr: Frame, previous: list[Face]) -> list[Face]:
        """Follow `previous` faces with R-Net and O-Net only, skipping the P-Net pyramid.

        P-Net is most of a full detection's cost; a face that moved a little since the last
        frame is still inside a slightly widened box, where R-Net re-centres it as it would
        a P-Net proposal. Faces that left their box, or the frame, are not returned.
        """
        if not previous:
            return []
        xywh = np.array([face.box for face in previous], dtype=np.float64)
        grow = xywh[:, 2:] * REFINE_MARGIN
        corners = np.hstack([xywh[:, :2] - grow, xywh[:, :2] + xywh[:, 2:] + grow])
        boxes = np.column_stack([corners, np.ones(len(previous))])
        return self._finish(frame_bgr, square(boxes))

    def _finish(self, frame: Frame, proposals: Boxes) -> list[Face]:
        boxes = self._rnet_stage(frame, proposals)
        return self._faces(self._onet_stage(frame, boxes), frame.shape[1], frame.shape[0])

    def _proposals(self, frame: Frame) -> Boxes:
        image, base_scale = pyramid_base(frame, self.max_side)
        height, width = image.shape[:2]
        found = []
        for scale in scale_pyramid(width, height, self.min_face_size, self.scale_factor):
            # mtcnn truncates the scaled size (TensorFlow casts it to int32).
            size = (int(width * scale), int(height * scale))
            if min(size) < PNET_WINDOW:
                # Too small for a single window. mtcnn's level count ignores min_face_size,
                # so above about 20 the last levels get this small; P-Net then fails inside
                # mtcnn, which returns no face at all, where skipping them changes nothing.
                continue
            scaled = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
            reg, prob = self._run_pnet(scaled)
            boxes = _pnet_boxes(reg, prob, self.thresholds[0], float(scale) * base_scale)
            found.append(nms(boxes, PNET_SCALE_NMS, presorted=True))
        if not found:
            return _EMPTY
        return square(nms(np.concatenate(found), PNET_PYRAMID_NMS))

    def _run_pnet(
        self, scaled: npt.NDArray[Any]
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """P-Net's (4|H|W) regression and (H|W) face probability for one pyramid level.

        A large level runs as horizontal strips. P-Net is valid convolutions around one
        2×2 stride-2 pool (SAME_UPPER), so output row j depends on input rows 2j to 2j + 11
        only: a strip starting on an even row, with an even number of rows (the last ends
        where the level does), yields exactly the whole level's rows from its start / 2,
        and the next strip starts two rows per output row further down (10 rows overlap).
        """
        height, width = scaled.shape[:2]
        rows = max(PNET_MIN_STRIP_ROWS, PNET_STRIP_PIXELS // width) // 2 * 2
        regs: list[npt.NDArray[np.float32]] = []
        probs: list[npt.NDArray[np.float32]] = []
        start = 0
        while True:
            stop = height if height - start <= rows else start + rows
            reg, prob = self._pnet.run(None, {INPUT_NAME: _pnet_input(scaled[start:stop])})
            regs.append(reg[0])
            probs.append(prob[0, 1])
            if stop == height:
                break
            start += PNET_STRIDE * reg.shape[2]
        if len(regs) == 1:
            return regs[0], probs[0]
        return np.concatenate(regs, axis=1), np.concatenate(probs, axis=0)

    def _rnet_stage(self, frame: Frame, boxes: Boxes) -> Boxes:
        if not len(boxes):
            return boxes
        reg, prob = self._run_rnet(frame, boxes)
        boxes = _regress(boxes, reg, prob[:, 1])
        return square(nms(boxes[boxes[:, 4] > self.thresholds[1]], RNET_NMS))

    def _run_rnet(
        self, frame: Frame, boxes: Boxes
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """R-Net on every proposal, RNET_BATCH at a time: each patch is scored on its own,
        so batching changes no number, only how much memory a busy frame needs at once."""
        regs, probs = [], []
        for start in range(0, len(boxes), RNET_BATCH):
            patches = crop_and_resize(frame, boxes[start : start + RNET_BATCH], RNET_SIZE)
            reg, prob = self._rnet.run(None, {INPUT_NAME: patches})
            regs.append(reg)
            probs.append(prob)
        if len(regs) == 1:
            return regs[0], probs[0]
        return np.concatenate(regs), np.concatenate(probs)

    def _onet_stage(self, frame: Frame, boxes: Boxes) -> Boxes:
        if not len(boxes):
            return boxes
        patches = crop_and_resize(frame, boxes, ONET_SIZE)
        reg, landmarks, prob = self._onet.run(None, {INPUT_NAME: patches})
        # Landmarks are relative to the box O-Net saw; mtcnn keeps them as float32.
        w = boxes[:, 2:3] - boxes[:, 0:1] + 1
        h = boxes[:, 3:4] - boxes[:, 1:2] + 1
        xs = (w * landmarks[:, :5] + boxes[:, 0:1] - 1).astype(np.float32)
        ys = (h * landmarks[:, 5:] + boxes[:, 1:2] - 1).astype(np.float32)
        boxes = np.hstack([_regress(boxes, reg, prob[:, 1]), xs, ys])
        return nms(boxes[boxes[:, 4] > self.thresholds[2]], ONET_NMS, use_min=True)

    @staticmethod
    def _faces(boxes: Boxes, width: int, height: int) -> list[Face]:
        """mtcnn's `limit_bboxes` and `to_json`: clip to the frame, round x, y, w, h.

        Keypoints stay unclipped like mtcnn's, but keep their sub-pixel precision, which
        alignment uses, where mtcnn rounds them.
        """
        x1, x2 = np.clip(boxes[:, 0], 0, width - 1), np.clip(boxes[:, 2], 0, width - 1)
        y1, y2 = np.clip(boxes[:, 1], 0, height - 1), np.clip(boxes[:, 3], 0, height - 1)
        xywh = np.round(np.stack([x1, y1, x2 - x1, y2 - y1], axis=1)).astype(int).tolist()
        scores = boxes[:, 4].tolist()
        points = boxes[:, 5:].tolist()
        n = len(KEYPOINT_NAMES)
        return [
            Face(
                box=(b[0], b[1], b[2], b[3]),
                score=s,
                keypoints={name: (p[i], p[i + n]) for i, name in enumerate(KEYPOINT_NAMES)},
            )
            for b, s, p in zip(xywh, scores, points, strict=True)
        ]
