"""Facial expressions for the demo portrait, made by warping its mouth, brows and eyes.

The bundled portrait smiles, so a demo of it alone reads "happy" for the whole run. Here
each expression is a handful of coefficients (mouth pressed shut, corners down, brows
raised, ...), each multiplying one smooth displacement field placed on the portrait's
face-mesh landmarks (`assets/astronaut_landmarks.json`, written by
`tools.demo_landmarks`). The fields are computed once at start on the face's region
only; a frame's warp is their weighted sum and one `cv2.remap` (about a millisecond while
an expression changes, nothing while one is held), so the demo stays cheap. No new image
is bundled, so no new licence is involved.

Every field is a backward map (where each output pixel samples the portrait) built from
profiles that cannot fold the image: the squeeze and stretch terms are t * exp(-t^2 /
2 s^2) bumps, whose slope stays positive for squeezes up to MAX_BUMP and stretches up to
MAX_STRETCH, and the shifts are Gaussians much wider than their displacement. The open
mouth's teeth would read "happy" whatever the lips do, so closing the mouth also paints its
inside with the lips' own colour, and opening it paints it dark, like an open mouth's
shadow.

Lengths are in eye distances (between the outer eye corners), so the coefficients keep
their meaning whatever the portrait's size.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

LANDMARKS_ASSET = Path(__file__).resolve().parent / "assets" / "astronaut_landmarks.json"

LANDMARK_GROUPS: dict[str, tuple[int, ...]] = {
    "inner_lips": (
        *(78, 191, 80, 81, 82, 13, 312, 311, 310, 415),
        *(308, 324, 318, 402, 317, 14, 87, 178, 88, 95),
    ),
    "outer_lips": (
        *(61, 185, 40, 39, 37, 0, 267, 269, 270, 409),
        *(291, 375, 321, 405, 314, 17, 84, 181, 91, 146),
    ),
    "brow_image_left": (70, 63, 105, 66, 107),
    "brow_image_right": (300, 293, 334, 296, 336),
    "eye_image_left": (33, 133),
    "eye_image_right": (263, 362),
}
"""MediaPipe face-mesh indices of the points the warp is placed on: the lips' inner and
outer contours (closed polygons, the mouth corners at outer positions 0 and 10), each
brow, and each eye's two corners. "image left" is the person's right."""

MOUTH_CORNERS = (0, 10)
"""Positions of the two mouth corners in `outer_lips`."""

MAX_BUMP = 2.0
"""Largest squeezing bump amplitude: t * exp(-t^2 / 2 s^2) has slopes from -2 e^-1.5 =
-0.446 to 1, so a backward map x + A * bump(x) stays monotonic (no fold) for
-1 < A < 2.24. Positive A squeezes (the output samples a wider source band); 2.0 keeps a
margin."""
MAX_STRETCH = 0.6
"""Largest stretching amplitude (-A above): the band's centre is stretched 1 / (1 - A)
times, 2.5 times at 0.6, short of the fold at 1."""

ROI_MARGIN = 1.2
"""Eye distances added around the landmarks for the warped region: every field has
decayed to below 1 % of its peak there, so the region's edge shows no seam."""

DARK_MOUTH_BGR = (25, 22, 50)
"""An open mouth's shadow: near black, a little red (BGR)."""

JAW_EDGE = 0.15
"""Width, in eye distances, over which the jaw drop fades in below the mouth line: its
slope jaw / (2 * JAW_EDGE) stays below 1 (no fold) for any jaw drop up to 0.3."""

FEATHER_PX = 2
"""Blur radius of the painted mouth's edge, in portrait pixels: no hard outline."""

Image = npt.NDArray[np.uint8]
Field = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Expression:
    """Coefficients of the warp; 0 everywhere is the portrait as it is (a broad smile)."""

    name: str
    close: float = 0.0
    """0-1: paint the inside of the mouth with the lips' colour (hides the teeth)."""
    dark: float = 0.0
    """0-1: paint the inside of the mouth dark (an open mouth)."""
    squeeze: float = 0.0
    """Lips pressed together (squeeze amplitude about the mouth line, up to MAX_BUMP)."""
    jaw: float = 0.0
    """Jaw drop, in eye distances (the mouth opens downwards)."""
    narrow: float = 0.0
    """Mouth narrowed (squeeze amplitude about the mouth's centre, up to MAX_BUMP)."""
    bend: float = 0.0
    """Mouth corners down (positive) or up (negative), in eye distances."""
    brow_up: float = 0.0
    """Both brows raised, in eye distances (negative: lowered)."""
    brow_inner_up: float = 0.0
    """Inner brow ends raised and outer ends lowered (sadness; negative: a frown)."""
    brow_in: float = 0.0
    """Brows drawn together, in eye distances."""
    eye_open: float = 0.0
    """Eyes widened (positive, a stretch up to MAX_STRETCH) or narrowed (negative, a
    squeeze up to MAX_BUMP)."""

    def blend(self, other: Expression, weight: float) -> Expression:
        """The coefficients `weight` of the way from this expression to `other`."""
        values = {
            name: (1.0 - weight) * getattr(self, name) + weight * getattr(other, name)
            for name in WARP_TERMS + PAINT_TERMS
        }
        return Expression(other.name if weight >= 0.5 else self.name, **values)


PAINT_TERMS: tuple[str, ...] = ("close", "dark")
WARP_TERMS: tuple[str, ...] = tuple(
    f.name for f in fields(Expression) if f.name != "name" and f.name not in PAINT_TERMS
)

SMILE = Expression("smile")
NEUTRAL = Expression(
    "neutral",
    close=1.0,
    squeeze=1.21,
    jaw=0.11,
    narrow=1.2,
    bend=0.12,
    brow_up=-0.08,
    brow_inner_up=0.15,
    eye_open=-0.82,
)
SAD = Expression(
    "sad",
    close=1.0,
    squeeze=1.0,
    jaw=0.05,
    narrow=0.14,
    bend=0.18,
    brow_up=-0.08,
    brow_inner_up=0.08,
    brow_in=0.03,
    eye_open=-0.12,
)
SURPRISE = Expression(
    "surprise",
    dark=1.0,
    jaw=0.12,
    narrow=0.97,
    bend=0.19,
    brow_up=0.05,
    brow_inner_up=0.01,
    brow_in=0.025,
    eye_open=0.4,
)
ANGRY = Expression(
    "angry",
    close=1.0,
    squeeze=1.47,
    jaw=0.11,
    narrow=0.08,
    bend=0.25,
    brow_up=0.05,
    brow_inner_up=-0.035,
    brow_in=0.08,
    eye_open=-0.78,
)
CYCLE: tuple[Expression, ...] = (SMILE, SAD, NEUTRAL, SURPRISE, ANGRY)
"""The demo's expressions in order, then back to the first. Started by eye, then tuned by
a small random search (docs/emotion-model-frames.md, "The demo") for the emotion models'
reading of each while the face mesh's head pitch stays within 5° of the portrait's own:
closing the mouth or lowering the brows otherwise tilts the mesh's pose estimate by 10-25°,
and the demo would read as "looking away"."""


def smoothstep(x: float) -> float:
    """0 → 1 with zero slope at both ends, so a change of expression starts and stops gently."""
    x = min(1.0, max(0.0, x))
    return x * x * (3.0 - 2.0 * x)


def expression_at(t: float, period_s: float, hold_share: float) -> Expression:
    """The expression at time `t` of a cycle of `period_s` seconds through CYCLE: each is
    held for `hold_share` of its slot, then blends into the next."""
    slot = period_s / len(CYCLE)
    phase = (t % period_s) / slot
    index = int(phase) % len(CYCLE)
    within = phase - math.floor(phase)
    weight = smoothstep((within - hold_share) / (1.0 - hold_share))
    return CYCLE[index].blend(CYCLE[(index + 1) % len(CYCLE)], weight)


def load_landmarks(path: Path = LANDMARKS_ASSET) -> dict[str, npt.NDArray[np.float64]]:
    groups = json.loads(path.read_text(encoding="utf-8"))
    return {name: np.asarray(groups[name], dtype=np.float64) for name in LANDMARK_GROUPS}


def _gauss(t: npt.NDArray[np.float64], spread: float) -> npt.NDArray[np.float64]:
    return np.asarray(np.exp(-0.5 * (t / spread) ** 2), dtype=np.float64)


def _bump(t: npt.NDArray[np.float64], spread: float) -> npt.NDArray[np.float64]:
    return np.asarray(t * _gauss(t, spread), dtype=np.float64)


class FaceWarp:
    """The portrait's expression fields, computed once; `render` applies one expression."""

    def __init__(self, face: Image, landmarks: Mapping[str, npt.NDArray[np.float64]]) -> None:
        self.face = face
        left_eye = landmarks["eye_image_left"][0]
        right_eye = landmarks["eye_image_right"][0]
        unit = float(np.linalg.norm(right_eye - left_eye))
        every = np.concatenate(list(landmarks.values()))
        height, width = face.shape[:2]
        low = np.maximum(np.floor(every.min(axis=0) - ROI_MARGIN * unit), 0).astype(int)
        high = np.minimum(np.ceil(every.max(axis=0) + ROI_MARGIN * unit), (width, height))
        self.x0, self.y0 = int(low[0]), int(low[1])
        self.x1, self.y1 = int(high[0]), int(high[1])
        ys, xs = np.mgrid[self.y0 : self.y1, self.x0 : self.x1].astype(np.float64)
        self._basis = _basis_fields(xs, ys, landmarks, unit)
        self._grid = np.stack([xs - self.x0, ys - self.y0], axis=-1).astype(np.float32)
        """Each region pixel's own position, in region coordinates."""
        inner = landmarks["inner_lips"]
        mx0, my0 = np.floor(inner.min(axis=0)).astype(int) - 2 * FEATHER_PX
        mx1, my1 = np.ceil(inner.max(axis=0)).astype(int) + 2 * FEATHER_PX + 1
        self._mouth_box = (
            slice(int(my0) - self.y0, int(my1) - self.y0),
            slice(int(mx0) - self.x0, int(mx1) - self.x0),
        )
        self._mouth = _mouth_mask(face.shape[:2], inner)[my0:my1, mx0:mx1, None]
        self._lips = _lip_colour(face, landmarks)
        self._dark: Field = np.asarray(DARK_MOUTH_BGR, dtype=np.float32)
        self._last: tuple[Expression, Image] | None = None

    def render(self, expression: Expression) -> Image:
        """The portrait with `expression`; pixels outside the face region are untouched.
        An expression held from one frame to the next is not rendered again."""
        if self._last is not None and self._last[0] == expression:
            return self._last[1]
        out = self._render(expression)
        self._last = (expression, out)
        return out

    def _render(self, expression: Expression) -> Image:
        warps = [(name, getattr(expression, name)) for name in WARP_TERMS]
        paint = min(1.0, expression.close + expression.dark)
        if paint <= 0.0 and not any(coefficient for _, coefficient in warps):
            return self.face
        region = self.face[self.y0 : self.y1, self.x0 : self.x1].copy()
        if paint > 0.0:
            colour = (expression.close * self._lips + expression.dark * self._dark) / np.float32(
                expression.close + expression.dark
            )
            weight = self._mouth * np.float32(paint)
            mouth = region[self._mouth_box].astype(np.float32)
            region[self._mouth_box] = np.clip(
                mouth * (1.0 - weight) + weight * colour, 0, 255
            ).astype(np.uint8)
        source = self._grid.copy()
        for name, coefficient in warps:
            if coefficient:
                source += np.float32(coefficient) * self._basis[name]
        warped = cv2.remap(
            region,
            source[..., 0],
            source[..., 1],
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        out = self.face.copy()
        out[self.y0 : self.y1, self.x0 : self.x1] = warped
        return out


def _basis_fields(
    xs: npt.NDArray[np.float64],
    ys: npt.NDArray[np.float64],
    landmarks: Mapping[str, npt.NDArray[np.float64]],
    unit: float,
) -> dict[str, Field]:
    """Each warp term's backward offset (H, W, 2) for a coefficient of 1."""
    inner = landmarks["inner_lips"]
    corners = landmarks["outer_lips"][list(MOUTH_CORNERS)]
    mouth = inner.mean(axis=0)
    half_width = float(np.linalg.norm(corners[1] - corners[0])) / 2.0
    dx, dy = xs - mouth[0], ys - mouth[1]
    zero = np.zeros_like(xs)

    def field(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> Field:
        return np.stack([x, y], axis=-1).astype(np.float32)

    across = _gauss(dx, 1.2 * half_width)
    bend_x = np.clip(dx / half_width, -1.4, 1.4) ** 2
    below = 0.5 * (1.0 + np.tanh(dy / (JAW_EDGE * unit)))
    basis = {
        "squeeze": field(zero, across * _bump(dy, 0.12 * unit)),
        "jaw": field(zero, -unit * below * _gauss(dx, 1.6 * half_width) * _gauss(dy, 1.0 * unit)),
        "narrow": field(_gauss(dy, 0.3 * unit) * _bump(dx, 0.9 * half_width), zero),
        "bend": field(
            zero, -unit * bend_x * _gauss(dy, 0.35 * unit) * _gauss(dx, 1.4 * half_width)
        ),
    }
    brow_up, brow_inner, brow_in, eye_open = zero.copy(), zero.copy(), zero.copy(), zero.copy()
    for side, sign in (("image_left", -1.0), ("image_right", 1.0)):
        centre = landmarks[f"brow_{side}"].mean(axis=0)
        weight = _gauss(xs - centre[0], 0.4 * unit) * _gauss(ys - centre[1], 0.22 * unit)
        towards_nose = np.clip(-sign * (xs - centre[0]) / (0.3 * unit), -1.5, 1.5)
        brow_up += weight * unit
        brow_inner += weight * unit * towards_nose
        brow_in += weight * unit * sign
        eye = landmarks[f"eye_{side}"].mean(axis=0)
        eye_open -= _gauss(xs - eye[0], 0.3 * unit) * _bump(ys - eye[1], 0.1 * unit)
    basis["brow_up"] = field(zero, brow_up)
    basis["brow_inner_up"] = field(zero, brow_inner)
    basis["brow_in"] = field(brow_in, zero)
    basis["eye_open"] = field(zero, eye_open)
    return {name: basis[name] for name in WARP_TERMS}


def _mouth_mask(shape: tuple[int, ...], inner_lips: npt.NDArray[np.float64]) -> Field:
    mask = np.zeros(shape[:2], dtype=np.float32)
    cv2.fillPoly(mask, [np.round(inner_lips).astype(np.int32)], 1.0)
    side = 2 * FEATHER_PX + 1
    return np.asarray(cv2.GaussianBlur(mask, (side, side), 0), dtype=np.float32)


def _lip_colour(face: Image, landmarks: Mapping[str, npt.NDArray[np.float64]]) -> Field:
    """Mean BGR of the lips (between the outer and the inner contour)."""
    mask = np.zeros(face.shape[:2], dtype=np.uint8)
    cv2.fillPoly(mask, [np.round(landmarks["outer_lips"]).astype(np.int32)], 1)
    cv2.fillPoly(mask, [np.round(landmarks["inner_lips"]).astype(np.int32)], 0)
    return np.asarray(cv2.mean(face, mask=mask)[:3], dtype=np.float32)
