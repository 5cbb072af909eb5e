"""A test clip of a yawn with a hand over the mouth, made from a shared talking-head clip.

No shared clip holds a real yawn, and none shows a hand over a mouth, so one is made (in
memory, never written into the project: the pixels are third parties'):

- **The yawn.** `liveportrait_d3.mp4` ends in its longest gape (frames 300-353, mouth wide
  open in surprise, 1.8 s). The clip is: frames 276-299 (mouth closed, eyes open), the gape
  opening and held, slowed `SLOW`× (each frame repeated), then the same frames backwards
  at normal speed (the mouth closing), then 299-276 again (closed). That is a gape of
  about 7 s, within the 4-10 s of real yawns (Provine 1986: mean ≈ 6 s), long enough
  for the default MAR rule (2 s) to call it a yawn when nothing covers it.
- **The hand.** A hand-shaped blob: an elliptical palm and four rounded fingers lying
  across the mouth (a hand raised to cover a yawn, seen from the front), textured with
  skin taken from a real photo (`HAND_TEXTURE`: the cheek of another person in the shared
  photos, found by the face mesh, tiled and colour-jittered), shaded darker towards its
  edges, with darker creases between the fingers and a feathered outline. It is placed on
  each frame's mouth (from the face mesh of the frame without the hand), covering the
  mouth from `HAND_FROM` to `HAND_UNTIL` of the gape's length (most of it, the open
  phases before and after visible), drifting a few pixels as a hand would.

`make_clip(data, hand=True)` gives the frames, the frame rate and where the gape and the
hand are; docs/action-cues.md shows what the pipeline measures on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from burnout_tui.vision.detector import FaceDetector
from burnout_tui.vision.mesh import FaceMesh

SOURCE_CLIP = Path("videos") / "liveportrait_d3.mp4"
LEAD_IN = (276, 299)
GAPE = (300, 353)
SLOW = 3
HAND_FROM = 0.2
HAND_UNTIL = 0.85
"""The hand covers the mouth for the middle 65 % of the gape."""
HAND_TEXTURE = Path("faces") / "obama-720p.jpg"
CHEEK_POINTS = (117, 118, 101, 36, 205, 187, 123)
"""Face-mesh points around the person's right cheek: the texture patch's outline."""
CHEEK_INSET = 0.2
"""Share of the cheek's bounding box cut from each side, so no nostril or lip edge enters."""
MOUTH_LEFT, MOUTH_RIGHT, UPPER_LIP, CHIN = 61, 291, 0, 152
SEED = 15
Image = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class OccludedYawn:
    frames: tuple[Image, ...]
    fps: float
    gape: tuple[int, int]
    """First and last frame of the mouth-open stretch, in this clip's numbering."""
    hand: tuple[int, int] | None
    """First and last frame with the hand over the mouth (None: no hand)."""


def _read(path: Path) -> tuple[list[Image], float]:
    capture = cv2.VideoCapture(str(path))
    fps = float(capture.get(cv2.CAP_PROP_FPS))
    frames = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        frames.append(np.asarray(image, dtype=np.uint8))
    return frames, fps


def skin_texture(data: Path, detector: FaceDetector, mesh: FaceMesh) -> Image:
    """A square patch of real cheek skin (the largest face of `HAND_TEXTURE`)."""
    image = np.asarray(cv2.imread(str(data / HAND_TEXTURE)), dtype=np.uint8)
    face = max(detector.detect(image), key=lambda f: f.box[2] * f.box[3])
    (fitted,) = mesh.predict(image, [face])
    cheek = fitted.points[list(CHEEK_POINTS), :2]
    x0, y0 = np.floor(cheek.min(axis=0)).astype(int)
    x1, y1 = np.ceil(cheek.max(axis=0)).astype(int)
    inset = int(CHEEK_INSET * min(x1 - x0, y1 - y0))
    side = min(x1 - x0, y1 - y0) - 2 * inset
    patch = image[y0 + inset : y0 + inset + side, x0 + inset : x0 + inset + side]
    # Mirror-tile so the texture has no seams when stretched over a hand.
    tile = np.vstack(
        [np.hstack([patch, patch[:, ::-1]]), np.hstack([patch[::-1], patch[::-1, ::-1]])]
    )
    return np.asarray(tile, dtype=np.uint8)


def hand_mask(size: tuple[int, int], rng: np.random.Generator) -> npt.NDArray[np.float32]:
    """Alpha (h, w) of a hand lying across the mouth: palm on the image's right, fingers
    pointing to its left, their tips uneven; feathered so its edge is not a cut-out."""
    height, width = size
    mask = np.zeros((height, width), dtype=np.uint8)
    palm_centre = (int(width * 0.78), int(height * 0.5))
    cv2.ellipse(mask, palm_centre, (int(width * 0.24), int(height * 0.46)), 0, 0, 360, 255, -1)
    finger_h = height / 4.4
    for k in range(4):
        y = int(height * 0.12 + k * finger_h * 1.02 + finger_h / 2)
        tip = int(width * (0.06 + 0.05 * abs(k - 1.3) + rng.uniform(0, 0.03)))
        thickness = int(finger_h * (0.95 - 0.08 * (k == 3)))
        cv2.line(mask, (tip, y), (palm_centre[0], y), 255, thickness, cv2.LINE_AA)
        cv2.circle(mask, (tip, y), thickness // 2, 255, -1, cv2.LINE_AA)
    alpha = cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (0, 0), max(width / 90.0, 1.0))
    return np.asarray(alpha, dtype=np.float32)


def hand_image(
    texture: Image,
    alpha: npt.NDArray[np.float32],
    tone: npt.NDArray[np.float32],
    rng: np.random.Generator,
) -> npt.NDArray[np.float32]:
    """The hand's colours: the skin texture stretched over it, brought to `tone` (the
    mean BGR of the person's own face, as a hand under the same light), shaded, creased."""
    height, width = alpha.shape
    skin = cv2.resize(texture, (width, height), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    skin *= tone / skin.reshape(-1, 3).mean(axis=0)
    skin *= rng.uniform(0.92, 1.0, size=3)  # a hand is a little darker and redder
    # Rounded shading: darker where the alpha falls off (the hand's sides).
    depth = cv2.GaussianBlur(alpha, (0, 0), max(width / 25.0, 1.0))
    shade = 0.7 + 0.3 * np.clip(depth / max(float(depth.max()), 1e-6), 0, 1)
    skin *= shade[:, :, None]
    # Creases between the fingers: thin dark lines where neighbouring fingers meet.
    finger_h = height / 4.4
    for k in range(1, 4):
        y = int(height * 0.12 + k * finger_h * 1.02)
        crease = skin.copy()
        cv2.line(crease, (int(width * 0.1), y), (int(width * 0.58), y), (0.0, 0.0, 0.0), 1)
        skin = 0.65 * skin + 0.35 * cv2.GaussianBlur(crease, (0, 0), 1.0)
    return np.asarray(skin, dtype=np.float32)


def paste(
    frame: Image, hand: npt.NDArray[np.float32], alpha: npt.NDArray[np.float32], at: tuple[int, int]
) -> Image:
    """`hand` blended onto `frame` with its top-left corner at `at` (clipped to the frame)."""
    out = frame.astype(np.float32)
    x, y = at
    h, w = alpha.shape
    fy0, fx0 = max(y, 0), max(x, 0)
    fy1, fx1 = min(y + h, frame.shape[0]), min(x + w, frame.shape[1])
    if fy1 <= fy0 or fx1 <= fx0:
        return frame
    region = alpha[fy0 - y : fy1 - y, fx0 - x : fx1 - x, None]
    colour = hand[fy0 - y : fy1 - y, fx0 - x : fx1 - x]
    out[fy0:fy1, fx0:fx1] = region * colour + (1 - region) * out[fy0:fy1, fx0:fx1]
    return np.asarray(np.clip(out, 0, 255), dtype=np.uint8)


def make_clip(data: Path, hand: bool = True, slide: int = 0) -> OccludedYawn:
    """The clip; with `slide` > 0 the hand rises from below the chin into place over that
    many frames, and leaves the same way, instead of appearing at once."""
    source, fps = _read(data / SOURCE_CLIP)
    lead = list(range(LEAD_IN[0], LEAD_IN[1] + 1))
    opening = [i for i in range(GAPE[0], GAPE[1] + 1) for _ in range(SLOW)]
    closing = list(range(GAPE[1], GAPE[0] - 1, -1))
    order = lead + opening + closing + lead[::-1]
    gape = (len(lead), len(lead) + len(opening) + len(closing) - 1)
    frames = [source[i] for i in order]
    if not hand:
        return OccludedYawn(tuple(frames), fps, gape, None)

    detector, mesh = FaceDetector(), FaceMesh()
    rng = np.random.default_rng(SEED)
    texture = skin_texture(data, detector, mesh)
    length = gape[1] - gape[0] + 1
    first = gape[0] + int(HAND_FROM * length)
    last = gape[0] + int(HAND_UNTIL * length)
    covered = list(frames)
    shape: tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]] | None = None
    for index in range(first, last + 1):
        image = frames[index]
        face = max(detector.detect(image), key=lambda f: f.box[2] * f.box[3])
        (fitted,) = mesh.predict(image, [face])
        points = fitted.points[:, :2]
        mouth_w = float(np.linalg.norm(points[MOUTH_RIGHT] - points[MOUTH_LEFT]))
        centre = (points[MOUTH_LEFT] + points[MOUTH_RIGHT] + points[UPPER_LIP]) / 3
        centre[1] = (points[UPPER_LIP, 1] + points[CHIN, 1]) / 2
        if shape is None:
            size = (int(mouth_w * 1.5), int(mouth_w * 2.4))
            alpha = hand_mask(size, rng)
            x, y, w, h = face.box
            tone = image[y + h // 4 : y + h // 2, x + w // 4 : x + 3 * w // 4].reshape(-1, 3)
            shape = (hand_image(texture, alpha, tone.mean(axis=0).astype(np.float32), rng), alpha)
        colour, alpha = shape
        drift = 3.0 * math.sin(2 * math.pi * (index - first) / (1.5 * fps))
        away = max(0, slide - min(index - first, last - index)) / max(slide, 1)
        lowered = away * alpha.shape[0] * 1.2
        at = (
            int(centre[0] - alpha.shape[1] * 0.45 + drift),
            int(centre[1] - alpha.shape[0] / 2 + lowered),
        )
        covered[index] = paste(image, colour, alpha, at)
    return OccludedYawn(tuple(covered), fps, gape, (first, last))
