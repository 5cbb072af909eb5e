"""Grad-CAM and pixel saliency for the emotion model, per detected face, as PNG files.

Why these two maps. Grad-CAM shows *where on the feature grid* (4×4 for the mini-Xception,
6×6 for ours-v1) the evidence for a class lies; the saliency map shows *which input pixels*
the class score is most sensitive to. Together they let a researcher check that a
prediction rests on the face (mouth, brows) rather than on background, glasses or lighting.

Both explain the class **logit** (the pre-softmax score), as standard Grad-CAM does: the
softmax couples the classes, so the gradient of a probability also reflects how the *other*
classes move, which is not what "evidence for this class" means.

How they are computed without autodiff. After the `features` output the mini-Xception
applies only a 3×3 convolution (`conv2d_7`, padding 1), global average pooling and
softmax; ours-v1 applies global average pooling, one linear layer, a division by its
temperature and softmax (models/README.md, "Grad-CAM"). The second is the first with a
1×1 convolution without padding whose weights are the linear layer's rows divided by the
temperature, so one piece of maths serves both (`load_class_head`). A logit is therefore
linear in the features, so its gradient with respect to them is a constant read off the
head's weights (`class_logit_gradient`), and the logit itself is that gradient's dot
product with the features plus the bias. For ours-v1 the "logit" is the calibrated one
(divided by the temperature), whose softmax is the model's probabilities. The weights come
from the ONNX file's initializers through the `onnx` package; ONNX Runtime does not expose
them. The pixel gradient has no such shortcut (the network before `features` is
non-linear), so it is taken by central differences through ONNX Runtime, batched
(`pixel_saliency`).

Face images are written only into the report's output folder; nothing goes to a temporary
directory.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from burnout_tui.plugin import (
    EMOTION_MODELS,
    EMOTIONS,
    Option,
    Report,
    ReportContext,
    ReportError,
    ReportResult,
    emotion_class_layer,
)

if TYPE_CHECKING:
    from burnout_tui.plugin import Face, FaceAnalysis

FloatArray = npt.NDArray[np.float64]
ImageArray = npt.NDArray[np.uint8]

DEFAULT_EVERY = 30
"""Video frames between analysed frames: about one per second at 25-30 fps, enough to see
how the maps change without thousands of files."""

DISPLAY_SIZE = 192
"""Side of every written image: the model input (64 or 48 pixels) upscaled ×3 or ×4, large
enough to see."""

SALIENCY_GRAY_LEVELS = 1.0
"""Central-difference half-step, in gray levels (`FaceAnalysis.gray_level` turns it into the
model's input units: 2/255 for the mini-Xception's [-1, 1], 1/255 for ours-v1's [0, 1]):
one gray level either side of each pixel. The network is piecewise linear (ReLU, max-pool,
batch norm), so the difference is exact unless the step crosses a kink; a much smaller step
would drown the float32 logit's rounding error (~1e-6) in a 1/step amplification."""

SALIENCY_BATCH = 512
"""Perturbed images per ONNX Runtime run: 2 × 4096 images per face (2 × 2304 at 48×48),
16 runs (9), a few seconds on 2 cores; larger batches gain nothing and cost memory."""

OVERLAY_WEIGHT = 0.45
"""Share of the heatmap in the overlay: the face stays readable under the colours."""

SHEET_COLUMNS = 4
SHEET_MARGIN = 8
TEXT_LINE = 18
TEXT_SCALE = 0.45
TEXT_COLOUR = (255, 255, 255)
SHEET_BACKGROUND = 32

EXPECTED_HEAD = "Conv"
"""The class layer's operator reading the features: the gradient below is a convolution's."""
EXPECTED_POOL = "GlobalAveragePool"
"""The only node allowed to follow the class convolution: the maths here depends on it."""
EXPECTED_LINEAR = "Gemm"
"""The class layer's operator after pooling the features: a 1×1 convolution in disguise."""
LINEAR_FOLLOWERS = (("Div",), ("Softmax",))
"""What may follow the linear layer: the temperature division (then the softmax), or the
softmax itself; anything else would make the logit non-linear in the features."""


@dataclass(frozen=True, slots=True)
class ClassHead:
    """The model's class head as a stride-1 convolution followed by global average pooling:
    (classes, channels, kh, kw) weights, bias, padding, and the model it was read from."""

    weights: FloatArray
    bias: FloatArray
    padding: int
    model: str = ""

    def gradient(self, height: int, width: int) -> FloatArray:
        """(classes, channels, height, width): d logit_c / d features, for every class."""
        return np.stack(
            [
                class_logit_gradient(self.weights, index, height, width, self.padding)
                for index in range(self.weights.shape[0])
            ]
        )

    def logits(self, features: npt.NDArray[np.floating[Any]]) -> FloatArray:
        """(N, classes) logits from (N, channels, h, w) features: exact, the head is linear."""
        gradient = self.gradient(features.shape[2], features.shape[3])
        dot = np.einsum("nkhw,ckhw->nc", features.astype(np.float64), gradient)
        return np.asarray(dot + self.bias, dtype=np.float64)


def class_logit_gradient(
    weights: FloatArray, class_index: int, height: int, width: int, padding: int = 1
) -> FloatArray:
    """d logit / d features (channels, height, width) for a stride-1 conv, then a global mean.

    The logit is the mean over the conv's output positions of its class map plus the bias,
    so each feature cell's gradient is the sum of the kernel taps that cover it from every
    output position, divided by the number of output positions. With 'same' padding the
    border cells are covered by fewer taps than the centre ones. It does not depend on the
    features: the head is linear.
    """
    kernel = weights[class_index]
    kernel_h, kernel_w = kernel.shape[1:]
    out_h = height + 2 * padding - kernel_h + 1
    out_w = width + 2 * padding - kernel_w + 1
    if out_h < 1 or out_w < 1:
        raise ValueError(f"a {kernel_h}×{kernel_w} kernel does not fit a {height}×{width} map")
    padded = np.zeros((kernel.shape[0], height + 2 * padding, width + 2 * padding))
    for row in range(kernel_h):
        for col in range(kernel_w):
            padded[:, row : row + out_h, col : col + out_w] += kernel[:, row, col, None, None]
    inner = padded[:, padding : padding + height, padding : padding + width]
    return np.asarray(inner / (out_h * out_w), dtype=np.float64)


def gradcam(
    features: npt.NDArray[np.floating[Any]],
    class_index: int,
    weights: FloatArray,
    padding: int = 1,
) -> FloatArray:
    """Grad-CAM (h, w) of one face's (channels, h, w) features for a class logit.

    alpha_k is the mean over cells of d logit / d A_k, and the map is ReLU(Σ_k alpha_k A_k):
    only evidence *for* the class is kept. Not normalised; the bias is a constant and has
    no gradient, so it takes no part.
    """
    height, width = features.shape[1:]
    alpha = class_logit_gradient(weights, class_index, height, width, padding).mean(axis=(1, 2))
    cam = np.tensordot(alpha, features.astype(np.float64), axes=1)
    return np.asarray(np.maximum(cam, 0.0), dtype=np.float64)


def normalise(values: FloatArray) -> FloatArray:
    """Scale to 0-1 by the maximum, so 0 keeps meaning "no evidence"; an all-zero map stays 0."""
    peak = float(values.max()) if values.size else 0.0
    if peak <= 0.0:
        return np.zeros_like(values)
    return np.asarray(values / peak, dtype=np.float64)


def upsample_cam(cam: FloatArray, size: int) -> FloatArray:
    """Bilinear upsampling of the coarse map to `size`², normalised to 0-1.

    OpenCV's resize aligns pixel centres, so each feature cell lands on the block of the
    crop it was pooled from (16×16 of the mini-Xception's 64 pixels, 8×8 of ours-v1's 48).
    """
    import cv2

    resized = cv2.resize(cam.astype(np.float32), (size, size), interpolation=cv2.INTER_LINEAR)
    return normalise(np.asarray(resized, dtype=np.float64))


def pixel_saliency(
    image: npt.NDArray[np.float32],
    score: Callable[[npt.NDArray[np.float32]], FloatArray],
    step: float,
    batch: int = SALIENCY_BATCH,
) -> FloatArray:
    """d score / d pixel (H, W) of one preprocessed (1, H, W) image, by central differences.

    `score` maps a (N, 1, H, W) batch to N scores. Every pixel is moved by ±`step` (model
    input units) alone, so a face costs 2·H·W model runs, batched; see
    SALIENCY_GRAY_LEVELS for the choice of step.
    """
    pixels = image.shape[1] * image.shape[2]
    gradient = np.empty(pixels, dtype=np.float64)
    flat = image.reshape(-1)
    for start in range(0, pixels, batch):
        indices = np.arange(start, min(start + batch, pixels))
        perturbed = np.repeat(flat[None, :], 2 * len(indices), axis=0)
        rows = np.arange(len(indices))
        perturbed[rows, indices] += np.float32(step)
        perturbed[rows + len(indices), indices] -= np.float32(step)
        scores = score(perturbed.reshape(-1, *image.shape))
        gradient[indices] = (scores[: len(indices)] - scores[len(indices) :]) / (2.0 * step)
    return gradient.reshape(image.shape[1:])


def load_class_head(model: str | None = None) -> ClassHead:
    """Read the class head of an emotion model (None: the default one) from its ONNX file,
    as a convolution + GAP, refusing a graph the maths does not fit."""
    layer = emotion_class_layer(model)
    if layer.pooled:
        if layer.op_type != EXPECTED_LINEAR or layer.followers not in LINEAR_FOLLOWERS:
            raise ReportError(
                f"{layer.model_file}: the class head is not GAP + one linear layer + softmax"
            )
        scale = 1.0 / layer.temperature
        weights = layer.weights[:, :, None, None] * scale
        return ClassHead(weights, layer.bias * scale, 0, layer.model)
    if layer.op_type != EXPECTED_HEAD:
        raise ReportError(f"{layer.model_file}: expected a {EXPECTED_HEAD} after the features")
    pads = list(layer.attributes.get("pads", [0, 0, 0, 0]))
    strides = list(layer.attributes.get("strides", [1, 1]))
    if list(layer.followers) != [EXPECTED_POOL] or strides != [1, 1] or len(set(pads)) != 1:
        raise ReportError(f"{layer.model_file}: the class head is not a stride-1 conv + GAP")
    return ClassHead(layer.weights, layer.bias, int(pads[0]), layer.model)


@dataclass(frozen=True, slots=True)
class FaceMaps:
    """Everything written and reported for one face."""

    frame: int
    face: Face
    crop_bgr: ImageArray
    probs: npt.NDArray[np.float32]
    cam: FloatArray
    saliency: FloatArray


def explain_faces(
    frame_bgr: ImageArray,
    frame_index: int,
    faces: Sequence[Face],
    analysis: FaceAnalysis,
    head: ClassHead,
    class_index: int | None,
) -> list[FaceMaps]:
    """Maps for every face of one frame; `class_index` None explains each face's prediction."""
    crops = [analysis.aligned_crop(frame_bgr, face) for face in faces]
    probs, features = analysis.emotions(crops)
    inputs = analysis.model_input(crops)
    gradient = head.gradient(features.shape[2], features.shape[3])
    results = []
    for index, face in enumerate(faces):
        target = int(np.argmax(probs[index])) if class_index is None else class_index

        def logit(batch: npt.NDArray[np.float32], target: int = target) -> FloatArray:
            flat = np.asarray(analysis.features(batch), dtype=np.float64).reshape(len(batch), -1)
            return np.asarray(flat @ gradient[target].reshape(-1), dtype=np.float64)

        results.append(
            FaceMaps(
                frame=frame_index,
                face=face,
                crop_bgr=crops[index],
                probs=probs[index],
                cam=gradcam(features[index], target, head.weights, head.padding),
                saliency=pixel_saliency(
                    inputs[index], logit, analysis.gray_level * SALIENCY_GRAY_LEVELS
                ),
            )
        )
    return results


def _colour(values: FloatArray, colormap: int) -> ImageArray:
    import cv2

    scaled = np.clip(np.rint(values * 255.0), 0, 255).astype(np.uint8)
    return np.asarray(cv2.applyColorMap(scaled, colormap), dtype=np.uint8)


def render(maps: FaceMaps) -> dict[str, ImageArray]:
    """The four images of a face, each DISPLAY_SIZE²: crop, Grad-CAM, overlay, saliency.

    The crop and saliency are upscaled with nearest neighbour, so each model pixel shows as
    a 3×3 (4×4) block and nothing is invented; the Grad-CAM is bilinear from its grid (JET
    colours); the saliency is |d logit / d pixel| scaled by its maximum (INFERNO colours).
    """
    import cv2

    def enlarge(image: npt.NDArray[Any]) -> npt.NDArray[Any]:
        size = (DISPLAY_SIZE, DISPLAY_SIZE)
        return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_NEAREST))

    crop = enlarge(maps.crop_bgr).astype(np.uint8)
    heat = _colour(upsample_cam(maps.cam, DISPLAY_SIZE), cv2.COLORMAP_JET)
    overlay = cv2.addWeighted(crop, 1.0 - OVERLAY_WEIGHT, heat, OVERLAY_WEIGHT, 0.0)
    saliency = _colour(normalise(np.abs(enlarge(maps.saliency))), cv2.COLORMAP_INFERNO)
    return {
        "crop": crop,
        "gradcam": heat,
        "overlay": np.asarray(overlay, dtype=np.uint8),
        "saliency": saliency,
    }


def contact_sheet(tiles: Sequence[tuple[str, ImageArray, ImageArray, npt.NDArray[Any]]]) -> Any:
    """One image: per face its title, crop and overlay side by side, and its 7 probabilities."""
    import cv2

    text_h = TEXT_LINE * (len(EMOTIONS) + 1)
    tile_w, tile_h = 2 * DISPLAY_SIZE, DISPLAY_SIZE + text_h
    columns = min(SHEET_COLUMNS, len(tiles))
    rows = math.ceil(len(tiles) / columns)
    sheet = np.full(
        (
            SHEET_MARGIN + rows * (tile_h + SHEET_MARGIN),
            SHEET_MARGIN + columns * (tile_w + SHEET_MARGIN),
            3,
        ),
        SHEET_BACKGROUND,
        dtype=np.uint8,
    )
    font = cv2.FONT_HERSHEY_SIMPLEX
    for number, (title, crop, overlay, probs) in enumerate(tiles):
        top = SHEET_MARGIN + (number // columns) * (tile_h + SHEET_MARGIN)
        left = SHEET_MARGIN + (number % columns) * (tile_w + SHEET_MARGIN)
        sheet[top : top + DISPLAY_SIZE, left : left + DISPLAY_SIZE] = crop
        sheet[top : top + DISPLAY_SIZE, left + DISPLAY_SIZE : left + tile_w] = overlay
        lines = [title] + [f"{name:<9} {p:.3f}" for name, p in zip(EMOTIONS, probs, strict=True)]
        for line_number, line in enumerate(lines):
            baseline = top + DISPLAY_SIZE + TEXT_LINE * (line_number + 1) - 4
            cv2.putText(sheet, line, (left + 4, baseline), font, TEXT_SCALE, TEXT_COLOUR, 1)
    return sheet


def _write(path: Path, image: npt.NDArray[Any]) -> Path:
    import cv2

    if not cv2.imwrite(str(path), image):
        raise ReportError(f"could not write {path}")
    return path


def _image_frames(path: Path) -> list[tuple[int, ImageArray]]:
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise ReportError(f"cannot read {path} as an image")
    return [(0, np.asarray(image, dtype=np.uint8))]


def _video_frames(path: Path, every: int) -> list[tuple[int, ImageArray]]:
    """Every `every`-th frame from the first; the others are grabbed, not decoded to BGR."""
    import cv2

    capture = cv2.VideoCapture(str(path))
    frames = []
    try:
        if not capture.isOpened():
            raise ReportError(f"cannot read {path} as a video")
        index = 0
        while capture.grab():
            if index % every == 0:
                ok, frame = capture.retrieve()
                if ok:
                    frames.append((index, np.asarray(frame, dtype=np.uint8)))
            index += 1
    finally:
        capture.release()
    if not frames:
        raise ReportError(f"cannot read {path} as a video: no frames decoded")
    return frames


def _input_frames(options: dict[str, Any]) -> list[tuple[int, ImageArray]]:
    image, video = options.get("image"), options.get("video")
    given = [value for value in (image, video) if value is not None]
    if len(given) != 1:
        raise ReportError("give exactly one of --image FILE or --video FILE")
    path = Path(given[0])
    if not path.is_file():
        raise ReportError(f"no such file: {path}")
    if image is not None:
        return _image_frames(path)
    every = options.get("every")
    every = DEFAULT_EVERY if every is None else int(every)
    if every < 1:
        raise ReportError(f"--every must be at least 1, got {every}")
    return _video_frames(path, every)


def _class_index(name: str | None) -> int | None:
    if name is None:
        return None
    if name not in EMOTIONS:
        raise ReportError(f"unknown class {name!r}; choose one of {', '.join(EMOTIONS)}")
    return EMOTIONS.index(name)


def run(ctx: ReportContext) -> ReportResult:
    """Detect faces, explain each, write its PNGs and a contact sheet into ctx.out_dir."""
    from burnout_tui.plugin import FaceAnalysis

    options = dict(ctx.options)
    class_index = _class_index(options.get("class"))
    frames = _input_frames(options)
    model = options.get("model") or ctx.emotion_model
    head = load_class_head(model)
    analysis = FaceAnalysis(model)
    explained = []
    for frame_index, frame in frames:
        faces = analysis.detect(frame)
        explained.extend(explain_faces(frame, frame_index, faces, analysis, head, class_index))
    if not explained:
        raise ReportError("no face found in the input")

    out_dir = ctx.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    rows: list[list[Any]] = []
    tiles = []
    notes = []
    for number, maps in enumerate(explained):
        predicted = int(np.argmax(maps.probs))
        target = predicted if class_index is None else class_index
        names = []
        images = render(maps)
        for kind, image in images.items():
            path = _write(out_dir / f"face_{number:03d}_{kind}.png", image)
            written.append(path)
            names.append(path.name)
        if not maps.cam.any():
            notes.append(f"face {number}: no positive Grad-CAM evidence for {EMOTIONS[target]}")
        rows.append(
            [
                number,
                maps.frame,
                list(maps.face.box),
                EMOTIONS[predicted],
                round(float(maps.probs[predicted]), 4),
                EMOTIONS[target],
                " ".join(names),
            ]
        )
        title = f"#{number} frame {maps.frame}: {EMOTIONS[target]} ({analysis.model})"
        tiles.append((title, images["crop"], images["overlay"], maps.probs))
    written.append(_write(out_dir / "contact_sheet.png", contact_sheet(tiles)))
    return ReportResult(
        columns=("face", "frame", "box", "predicted", "probability", "explained", "files"),
        rows=rows,
        files=written,
        notes=notes,
        text=f"Emotion model: {analysis.model}",
        data={
            "model": analysis.model,
            "score": "logit",
            "probabilities": [
                dict(zip(EMOTIONS, map(float, maps.probs), strict=True)) for maps in explained
            ],
        },
    )


def reports() -> list[Report]:
    return [
        Report(
            name="gradcam",
            help="Grad-CAM and pixel saliency PNGs of the emotion model for each detected face.",
            run=run,
            needs_database=False,
            options=(
                Option("image", "Photo to analyse (every face in it).", type="path"),
                Option("video", "Video to analyse (every face of every --every-th frame).", "path"),
                Option(
                    "every",
                    f"With --video, analyse one frame in this many (default {DEFAULT_EVERY}).",
                    type="int",
                    default=DEFAULT_EVERY,
                ),
                Option(
                    "class",
                    "Class to explain (default: each face's predicted class).",
                    type="choice",
                    choices=EMOTIONS,
                ),
                Option(
                    "model",
                    "Emotion model to explain (default: [emotion] model of the config).",
                    type="choice",
                    choices=EMOTION_MODELS,
                ),
            ),
        )
    ]
