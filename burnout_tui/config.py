"""Settings: frozen dataclasses with validated defaults, read from one TOML file.

The defaults, and the reason for each, live in the dataclasses (`setting(default,
reason)`; each class's docstring introduces its section), so code and tests can build a
`Config()` without any file. `default_config.toml`, shipped in the package as the reference
for users, is generated from them (`python -m tools.write_default_config`), and a test
fails when the committed file differs from what they would generate. Exactly one file is
read (the first found in the lookup order), so what a session used is never a merge of
several places.
"""

from __future__ import annotations

import math
import sys
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin, get_type_hints

import platformdirs

from burnout_tui.emotion_models import DEFAULT_EMOTION_MODEL, EMOTION_MODEL_NAMES
from burnout_tui.errors import UserError

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

APP_NAME = "burnout-tui"
PROJECT_CONFIG_NAME = "burnout-tui.toml"
PYPROJECT_NAME = "pyproject.toml"
USER_CONFIG_NAME = "config.toml"
DEFAULT_CONFIG_RESOURCE = "default_config.toml"

T = TypeVar("T")

MTCNN_WINDOW_PX = 12
"""P-Net scans 12x12 windows, so no smaller face can be found at any pyramid level."""

MAX_FLUSH_INTERVAL_S = 1.0
"""Rows must reach other readers (history view, a second cursor) within a second."""

PERCENT_MAX = 100.0

MIN_CALIBRATION_S = 5.0
"""A baseline shorter than this holds too few rolling-score windows (one a second) for
its spread to mean anything."""


class ConfigError(UserError):
    """A config file is unreadable, unknown to us in some key, or holds a wrong value."""


REASON = "reason"
"""Field metadata key of a setting's reason: why its default is what it is, written once
here and rendered into `default_config.toml` (`burnout_tui.config_file`)."""


def setting(default: T, reason: str) -> T:
    """A dataclass field with its default and the reason for it (`REASON` metadata)."""
    return field(default=default, metadata={REASON: reason})


def _require(condition: bool, message: str) -> None:
    """Validation failures start with the key name so the loader can prefix its section."""
    if not condition:
        raise ValueError(message)


def _non_negative(name: str, value: float) -> None:
    _require(math.isfinite(value) and value >= 0.0, f"{name} must be a finite number >= 0")


@dataclass(frozen=True, slots=True)
class ScoringConfig:
    """Weights of the valence frame score and of the session's final score.

    Frame score S_t = alpha * p(angry + disgust + fear + sad) - beta * p(happy)
                    + gamma * p(neutral + surprise), computed from the 7-class emotion softmax.
    Session: S = mean of S_t, V = population variance of S_t. S_t lies in [lo, hi] with
    lo = -beta and hi = max(alpha, gamma), so V <= ((hi - lo) / 2)^2. The proxy shown is
      percent = 100 * (lam * (S - lo) / (hi - lo) + (1 - lam) * V / ((hi - lo) / 2)^2),
    both terms scaled to [0, 1] by those exact bounds, so it always lies in 0-100 %.
    """

    alpha: float = setting(
        1.0,
        "Weight of the four negative emotions. 1.0: negative affect counts in full; "
        "it is the signal the proxy is built around.",
    )
    beta: float = setting(
        1.0,
        "Weight by which happiness lowers the score. 1.0: a happy frame offsets a "
        'negative one exactly, so S_t = 0 means "as much positive as negative '
        'affect".',
    )
    gamma: float = setting(
        0.3,
        "Weight of neutral and surprise. 0.3: flat affect sustained over long periods "
        "is associated with exhaustion, so it raises the proxy mildly, but far less "
        "than overt negative emotion. Surprise is grouped with neutral because "
        "FER2013 classifiers confuse the two and surprise alone carries no clear "
        "valence. Must not exceed alpha, so that shifting probability from neutral to "
        "a negative emotion can never lower the score.",
    )
    lam: float = setting(
        0.8,
        "Share of the session mean in the final score; the rest is volatility "
        "(variance of S_t). 0.8: the level of affect matters most; swings between "
        "extremes add a smaller, separate signal of emotional instability.",
    )
    window: int = setting(
        30,
        "Frames in the live rolling score. 30: about one second at webcam rates, "
        "enough to smooth the classifier's frame-to-frame flicker while still "
        "reacting within a second.",
    )

    def __post_init__(self) -> None:
        _non_negative("alpha", self.alpha)
        _non_negative("beta", self.beta)
        _non_negative("gamma", self.gamma)
        _require(
            self.gamma <= self.alpha,
            "gamma must not exceed alpha: flat affect may not outweigh negative emotion",
        )
        _require(
            self.alpha + self.beta > 0.0,
            "alpha and beta cannot both be 0: the score would have no range",
        )
        _require(0.0 <= self.lam <= 1.0, "lam must be between 0 and 1")
        _require(self.window >= 1, "window must be at least 1 frame")


@dataclass(frozen=True, slots=True)
class LevelsConfig:
    """Where the 0-100 % proxy changes from "low" to "moderate" and to "high".

    Words shown for the 0-100 % proxy: below `moderate` is "low", below `high` is
    "moderate", otherwise "high". With the default weights and no volatility the percentage
    is 40 * (S + 1), so:
    """

    moderate: float = setting(
        40.0,
        "40: the mean frame score is above zero, i.e. negative (plus a little "
        "neutral) affect outweighs happiness on average.",
    )
    high: float = setting(
        65.0,
        "65: mean S >= 0.625, e.g. about half of the probability mass on negative "
        "emotions with the rest neutral, held for the whole session. A permanently "
        'neutral face scores 52 % and stays "moderate".',
    )

    def __post_init__(self) -> None:
        _require(0.0 <= self.moderate <= PERCENT_MAX, "moderate must be between 0 and 100")
        _require(0.0 <= self.high <= PERCENT_MAX, "high must be between 0 and 100")
        _require(self.moderate <= self.high, "high must not be below moderate")


@dataclass(frozen=True, slots=True)
class DetectionConfig:
    """MTCNN parameters and how often the full detector runs.

    MTCNN face detector settings.
    """

    min_face_size: int = setting(
        20,
        "Smallest face searched for, in pixels of the copy detection runs on (see "
        "max_side; the frame itself when it is no larger). 20: MTCNN's published default; "
        "smaller faces would have to be upscaled to the emotion model's 48x48 input, "
        "inventing detail.",
    )
    thresholds: tuple[float, float, float] = setting(
        (0.6, 0.7, 0.8),
        "Confidence thresholds of the P-Net, R-Net and O-Net stages. (0.6, 0.7, 0.8): "
        "MTCNN's published defaults; each stage is stricter because it sees fewer, "
        "better candidates.",
    )
    scale_factor: float = setting(
        0.709,
        "Image pyramid step. 0.709 (about 1/sqrt(2)): halves the image area per "
        "level, MTCNN's published default, balancing recall against the number of "
        "P-Net passes.",
    )
    detect_every: int = setting(
        5,
        "One person without the face mesh (or with mesh.every > 1): run the full "
        "detector every this many frames; in between only R-Net and O-Net refine the "
        "last face, which is several times cheaper. 5: a lost face is found again "
        "within a sixth of a second at 30 frames/s. With the mesh, a followed face's "
        "next box comes from its mesh and full detection runs only to find the face; "
        "with --multi-user, redetect_s sets the cadence. Set to 1 to detect on every "
        "frame, in either mode (the mesh then never guides).",
    )
    max_side: int = setting(
        640,
        "Long side, in pixels, of the downscaled copy the P-Net pyramid searches; "
        "R-Net and O-Net still read the full frame, so boxes and keypoints come back in "
        "source pixels. min_face_size counts pixels of this copy: on a 1920-px frame "
        "the smallest face found is min_face_size x 3 source pixels. 640: a 1080p or "
        "4K frame then costs about what a 640-px frame costs, and on the shared photos "
        "it finds 109 of the 111 faces a full-size search finds (docs/tracking.md).",
    )
    redetect_s: float = setting(
        1.0,
        "With --multi-user, seconds between full detections that look for people who "
        "just arrived, while the faces already followed are refined by R-Net and O-Net "
        "(or followed by their mesh, see mesh_guided_multi_user); a face refinement "
        "loses triggers a full detection on the next frame. 1.0: someone sitting down "
        "is scored within a second, and a full detection (the costliest step) runs on "
        "one frame in 30 at 30 frames/s (docs/tracking.md).",
    )

    mesh_guided_multi_user: bool = setting(
        True,
        "With --multi-user, follow each face by its last mesh, as in single-user mode, "
        "and refine by R-Net and O-Net only the faces whose mesh is ambiguous (new, "
        "moving fast, overlapping another, unsure or lost); full detection runs every "
        "redetect_s seconds. true: on the shared crowd and Hamilton clips it keeps every "
        "identity that refinement keeps (0 switches on both truth sets) and runs faster, "
        "since the mesh runs anyway. false: refine every face (docs/tracking.md).",
    )

    def __post_init__(self) -> None:
        _require(
            self.min_face_size >= MTCNN_WINDOW_PX,
            f"min_face_size must be at least {MTCNN_WINDOW_PX} (MTCNN's smallest window)",
        )
        _require(
            all(0.0 <= t <= 1.0 for t in self.thresholds), "thresholds must lie between 0 and 1"
        )
        _require(0.0 < self.scale_factor < 1.0, "scale_factor must lie strictly between 0 and 1")
        _require(self.detect_every >= 1, "detect_every must be at least 1")
        _require(
            self.max_side >= self.min_face_size,
            "max_side must be at least min_face_size (no face could be found otherwise)",
        )
        _require(
            math.isfinite(self.redetect_s) and self.redetect_s > 0.0,
            "redetect_s must be a finite number > 0",
        )


@dataclass(frozen=True, slots=True)
class TrackingConfig:
    """How faces are followed from frame to frame in multi-user mode.

    Multi-user mode (`--multi-user`) gives every face a track id that stays with the person
    from frame to frame; each track is scored separately and mapped to a user.
    """

    grace_s: float = setting(
        2.0,
        "Seconds a face may go undetected (turned away, hidden by a passer-by) and "
        "still get its old id back, in media time for files and wall-clock time for "
        "cameras. 2.0: covers a head turn or someone walking through the picture; "
        "much longer and a different person stepping into the same place would "
        "inherit the id.",
    )
    min_iou: float = setting(
        0.3,
        "Smallest box overlap (intersection over union) at which a face may continue "
        "a track. 0.3: between consecutive frames a face overlaps its last box far "
        "more than this, while neighbouring faces in a group rarely overlap each "
        "other this much.",
    )
    max_keypoint_distance: float = setting(
        0.6,
        "Largest mean distance of the five landmarks from the track's last ones, in "
        "face widths, at which a face may continue a track even without box overlap, "
        "e.g. after a short occlusion during which the person moved. 0.6: less than "
        "the gap between two people sitting side by side, more than a head moves in a "
        "fraction of a second.",
    )

    def __post_init__(self) -> None:
        _non_negative("grace_s", self.grace_s)
        _require(0.0 <= self.min_iou <= 1.0, "min_iou must be between 0 and 1")
        _require(
            math.isfinite(self.max_keypoint_distance) and self.max_keypoint_distance > 0.0,
            "max_keypoint_distance must be a finite number > 0",
        )


@dataclass(frozen=True, slots=True)
class MeshConfig:
    """Whether and how often the 468-point face mesh runs for the fatigue cues.

    MediaPipe's 468-point face mesh, fitted inside each MTCNN box; the fatigue cues (eye and
    mouth aspect ratios, blinks, PERCLOS, yawns, head pose) are read from it.
    """

    enabled: bool = setting(
        True,
        "false skips the mesh: no fatigue cues are stored and the forecaster, which "
        "needs them, is off too. For slow machines that only want the emotion proxy.",
    )
    every: int = setting(
        1,
        "Fit the mesh every this many frames. 1: a blink closes the eyes for 100-400 "
        "ms, only 3-12 frames at 30 frames/s, so skipping frames misses blinks and "
        "biases PERCLOS.",
    )
    min_presence: float = setting(
        0.5,
        "Smallest face-presence probability (the mesh model's own face flag) at which "
        "its landmarks are used. 0.5: the flag is a sigmoid; below even odds the crop "
        "is more likely a background patch or a profile the mesh cannot fit than a "
        "face.",
    )

    def __post_init__(self) -> None:
        _require(self.every >= 1, "every must be at least 1")
        _require(0.0 <= self.min_presence <= 1.0, "min_presence must be between 0 and 1")


@dataclass(frozen=True, slots=True)
class FatigueConfig:
    """Thresholds of the fatigue cues.

    Blinks, PERCLOS, yawns and looking away, read from the face mesh (docs/fatigue.md).
    Ratios and rises are relative to the person's baseline: their open-eye EAR, resting
    mouth (MAR) and neutral head pose, from `burnout-tui calibrate` when they have one,
    otherwise learned from the first `calibration_s` seconds of each track, with the
    population values below until then. Durations are seconds of frame time.
    Heuristics from the drowsiness literature, not validated fatigue measures.
    """

    calibration_s: float = setting(
        30.0,
        "Seconds at the start of a track that learn the person's baseline. 30: at "
        "15-20 blinks a minute that holds 7-10 blinks, so the medians see mostly open "
        "eyes, and the head settles into its usual position; much longer leaves a "
        "session on population defaults for a long time. `inf` (math.inf) never "
        "calibrates.",
    )

    closed_ratio: float = setting(
        0.70,
        "Both eyes read closed below this share of the person's open-eye EAR. 0.70: "
        "the mesh never lets the lids meet, so closed eyes read well above 0 but below "
        "this, while open eyes, squints included, almost never do "
        "(docs/measurements.md#config-fatigue).",
    )

    reopen_ratio: float = setting(
        0.80,
        "A closed eye counts as open again only above this share. 0.80: the gap to "
        "`closed_ratio` is hysteresis, so landmark jitter around one threshold cannot "
        "split one closure into two blinks, and open eyes nearly always read above it, "
        "so a normal reopening ends the closure (docs/measurements.md#config-fatigue).",
    )

    max_blink_s: float = setting(
        0.5,
        "A closure counts as a blink when its closed span (first to last closed "
        "frame) is no longer than this. 0.5: blinks last 100-400 ms; closures beyond "
        '500 ms are the "long closures" of drowsiness research and count towards '
        "PERCLOS only.",
    )

    yawn_mar_rise: float = setting(
        0.30,
        "The mouth counts as gaping when MAR exceeds the resting MAR by this much. "
        "0.30: above most speech, below a wide-open mouth "
        "(docs/measurements.md#config-fatigue).",
    )

    yawn_release_rise: float = setting(
        0.20,
        "A gape ends only when MAR falls below rest plus this. 0.20: hysteresis, so "
        "the mouth wavering during one yawn does not split it in two.",
    )

    min_yawn_s: float = setting(
        2.0,
        "A gape held this long is a yawn; the yawn event is on the frame it reaches "
        "this length. 2.0: longer than the gapes of speech, laughter and surprise "
        "(docs/measurements.md#config-fatigue), well inside a yawn, which lasts about "
        "6 s (Provine, 1986).",
    )

    yaw_away_deg: float = setting(
        25.0,
        "Looking away when the head turns more than this from its neutral yaw. 25: a "
        "laptop or monitor spans about ±15-20° at a normal viewing distance, and "
        "people reach its edges with the eyes and a small head turn; beyond 25° the "
        "face is turned off the screen.",
    )

    pitch_away_deg: float = setting(
        20.0,
        "Looking away when the head tilts more than this up or down from neutral. 20: "
        "less room than yaw because screens are wider than tall; looking down at a "
        "desk or phone takes 20° or more. Lowered lids while looking down would also "
        "read as closed eyes, which is one reason eyes are not judged while looking "
        "away.",
    )

    away_hysteresis_deg: float = setting(
        5.0,
        "Looking away ends only once both angles are this far back inside their "
        "limits. 5: more than the mesh's pose jitters from frame to frame "
        "(docs/measurements.md#config-fatigue), so a head held near a limit does not "
        "flicker between away and back.",
    )

    window_s: float = setting(
        60.0,
        "Sliding window of PERCLOS and the blink rate. 60: PERCLOS (Wierwille et al., "
        "1994) is usually reported per minute, and a minute holds enough blinks "
        "(15-20) for a rate.",
    )

    min_rate_s: float = setting(
        10.0,
        "The blink rate is NaN until the window holds this much observed time. 10: at "
        "15-20 blinks a minute that is about 3 blinks; a shorter span turns one blink "
        "more or less into a jump of 6+ blinks a minute.",
    )

    max_gap_s: float = setting(
        0.5,
        "Longest time one measured frame stands for. 0.5: covers frames the mesh "
        "skips on its schedule and short capture stalls, yet a face lost for seconds "
        "is not filled in with its last eye state, and a closure that spans a longer "
        "gap is dropped.",
    )

    population_ear_open: float = setting(
        0.28,
        "Open-eye EAR used until calibration. 0.28: the middle of the open-eye values "
        "the mesh gives from person to person (docs/measurements.md#config-fatigue), "
        "and of the size reported for open eyes on dlib's 68 points (about 0.3).",
    )

    population_mar_rest: float = setting(
        0.05,
        "Resting MAR used until calibration. 0.05: the top of what closed lips read on "
        "the mesh (docs/measurements.md#config-fatigue), so the gape threshold starts "
        "at 0.35, above most speech.",
    )

    covered_yawn_snap_s: float = setting(
        0.2,
        "A yawn may go on behind a hand: a wide gape whose mouth seems to shut within this "
        "long, stays shut, then reopens wide within this long again, is one gape hidden in "
        "the middle (docs/action-cues.md). 0.2: a face mesh under a hand draws a closed "
        "mouth from one frame to the next, while a real jaw takes 0.3 s or more to close "
        "from a wide gape.",
    )

    covered_yawn_min_open_s: float = setting(
        0.5,
        "A hidden gape needs the mouth seen wide open at least this long before the hand "
        "and again after it. 0.5: longer than the wide openings of speech.",
    )

    covered_yawn_min_cover_s: float = setting(
        0.5,
        "...and the mouth hidden (seemingly shut, or the face mesh doubted) at least this "
        "long. 0.5: longer than the lip closures of speech (b, p, m), which are shorter "
        "than 0.3 s.",
    )

    covered_yawn_max_cover_s: float = setting(
        8.0,
        "...and at most this long. 8: a yawn lasts 4-10 s (Provine, 1986). 0 turns the "
        "rule off: only gapes seen whole are yawns.",
    )

    def __post_init__(self) -> None:
        # calibration_s may be infinite: `math.inf` never calibrates.
        for name in ("calibration_s", "population_ear_open"):
            _require(getattr(self, name) > 0.0, f"{name} must be > 0")
        for name in ("max_blink_s", "yaw_away_deg", "pitch_away_deg", "window_s", "max_gap_s"):
            value = getattr(self, name)
            _require(math.isfinite(value) and value > 0.0, f"{name} must be a finite number > 0")
        for name in (
            "min_yawn_s",
            "min_rate_s",
            "yawn_release_rise",
            "away_hysteresis_deg",
            "population_mar_rest",
            "covered_yawn_snap_s",
            "covered_yawn_min_open_s",
            "covered_yawn_min_cover_s",
            "covered_yawn_max_cover_s",
        ):
            _non_negative(name, getattr(self, name))
        _require(
            0.0 < self.closed_ratio < self.reopen_ratio, "need 0 < closed_ratio < reopen_ratio"
        )
        _require(
            self.yawn_release_rise < self.yawn_mar_rise,
            "yawn_release_rise must be below yawn_mar_rise",
        )
        _require(
            self.away_hysteresis_deg < min(self.yaw_away_deg, self.pitch_away_deg),
            "away_hysteresis_deg must be below both away limits",
        )


@dataclass(frozen=True, slots=True)
class ForecastConfig:
    """The LSTM forecast of the rolling score.

    An LSTM over the last 30 frames of emotion probabilities and fatigue cues forecasts the
    rolling score a few seconds ahead (models/README.md: horizon, training, accuracy).
    `burnout-tui train --user NAME` makes a personal copy that replaces the shipped model
    for that user when it forecasts their held-back sessions better.
    """

    enabled: bool = setting(
        True,
        "false: no forecast is computed or stored.",
    )


@dataclass(frozen=True, slots=True)
class CalibrationConfig:
    """The baseline session recorded by `burnout-tui calibrate`.

    `burnout-tui calibrate --user NAME` records a baseline session; later scores of that
    user are shown beside the raw score as z-scores against it, and its eye, mouth and head
    statistics seed the fatigue thresholds from the first frame.
    """

    seconds: float = setting(
        60.0,
        "Length of a calibration session, in seconds (at least 5). 60: enough "
        "rolling-score windows (one a second) for a stable mean and spread, and the "
        "60 s PERCLOS window fills.",
    )
    min_score_std: float = setting(
        0.05,
        "Floor for the baseline's spread of the rolling score when normalising. 0.05 "
        "(on the frame-score scale, about 2 % of the 0-100 % proxy): a very steady "
        "baseline would otherwise turn tiny changes into huge z-scores.",
    )

    def __post_init__(self) -> None:
        _require(
            math.isfinite(self.seconds) and self.seconds >= MIN_CALIBRATION_S,
            f"seconds must be at least {MIN_CALIBRATION_S:g}",
        )
        _require(
            math.isfinite(self.min_score_std) and self.min_score_std > 0.0,
            "min_score_std must be a finite number > 0",
        )


@dataclass(frozen=True, slots=True)
class DrowsinessConfig:
    """Blink features and the drowsiness level learned from real drowsy people.

    Each blink's frequency, amplitude, duration and eye-opening velocity are measured from
    the eye aspect ratio as the UTA-RLDD dataset defines them, normalised by the person's
    own baseline, and every 30 blinks form a window the drowsiness model reads as alert,
    low vigilant or drowsy (docs/drowsiness.md, models/README.md). The labels the model
    learned from are self-reports of drivers-at-a-desk videos: a level, not a diagnosis.
    """

    enabled: bool = setting(
        True,
        "false: no blink features, no drowsiness level, nothing stored in `blinks`.",
    )
    blink_ratio: float = setting(
        0.70,
        "A blink candidate starts where the mean EAR of both eyes falls below this share "
        "of the person's recent open-eye EAR. 0.70, as the fatigue cues' `closed_ratio`: "
        "on the shared clips 0.80 also took squints and half-lowered lids for blinks "
        "(15 found for d6's 9), 0.70 found 8 of its 9 with one false, 0.65 began to miss "
        "real ones (docs/drowsiness.md).",
    )
    min_amplitude_ratio: float = setting(
        0.12,
        "A blink's amplitude must reach this share of the open-eye EAR. 0.12: the "
        "dataset's noise floor, 0.04 EAR on dlib's landmarks whose open eyes read about "
        "0.3, as a share, so it holds on the mesh's different EAR scale.",
    )
    reference_s: float = setting(
        10.0,
        "The open-eye EAR a candidate is judged against is taken over this many seconds "
        "before it. 10: several blinks' worth, so one blink or a short squint does not "
        "move it, short enough to follow a head that turns or a light that changes.",
    )
    frequency_window_s: float = setting(
        600.0,
        "The frequency feature counts blinks over at most this many seconds of observed "
        "time. 600: the dataset's frequency is cumulative over one video of about 10 "
        "minutes; over a whole day a cumulative count would no longer move at all.",
    )
    baseline_s: float = setting(
        180.0,
        "Without a calibration that holds blinks, the first this many seconds of a track "
        "are the person's blink baseline (mean and spread of each feature). 180: the "
        "dataset's baselines are the last third of a 10-minute alert video, about 3 "
        "minutes of blinks.",
    )
    min_baseline_blinks: int = setting(
        15,
        "Fewest blinks a baseline's means and spreads are computed from; with fewer the "
        "baseline stretch goes on. 15: a calibration minute holds 15-20 blinks, and a "
        "spread from fewer swings by more than a third from one sample to the next.",
    )

    def __post_init__(self) -> None:
        _require(0.0 < self.blink_ratio < 1.0, "blink_ratio must be between 0 and 1")
        _require(
            0.0 < self.min_amplitude_ratio < 1.0, "min_amplitude_ratio must be between 0 and 1"
        )
        for name in ("reference_s", "frequency_window_s", "baseline_s"):
            value = getattr(self, name)
            _require(math.isfinite(value) and value > 0.0, f"{name} must be a finite number > 0")
        _require(self.min_baseline_blinks >= 2, "min_baseline_blinks must be at least 2")


@dataclass(frozen=True, slots=True)
class StoreConfig:
    """Where sessions are stored, how long rows may wait before being written, and
    whether a new database is encrypted.
    """

    path: str = setting(
        "sessions.duckdb",
        "DuckDB file holding users, sessions, frames, markers and surveys, relative "
        "to the working directory. Overridden by --db and BURNOUT_TUI_DB. Created "
        "with mode 0600: it holds health-related data.",
    )
    flush_interval_s: float = setting(
        0.5,
        "Longest time, in seconds, a frame row waits in memory before it is written. "
        "0.5: rows show up in history views and other readers within half a second, "
        "and one insert per half second costs nothing next to the frame pipeline. At "
        "most 1.0.",
    )
    encrypt: bool = setting(
        False,
        "true: a database created from now on is encrypted (AES-256, DuckDB's own "
        "encryption), as with --encrypt, so a copied or stolen file reveals nothing "
        "without its key. The key comes from BURNOUT_TUI_KEY, else the system keyring "
        '(the optional `keyring` package; service "burnout-tui", username the '
        "database's absolute path), else a prompt on a terminal. An existing "
        "encrypted database is always recognised from its header; with true, an "
        "existing unencrypted one is refused for writing rather than filled with more "
        "data in the clear. false by default: a lost key loses the data, so it is a "
        "choice.",
    )

    def __post_init__(self) -> None:
        _require(bool(self.path), "path must not be empty")
        _require(
            0.0 < self.flush_interval_s <= MAX_FLUSH_INTERVAL_S,
            f"flush_interval_s must be > 0 and <= {MAX_FLUSH_INTERVAL_S:g}",
        )


@dataclass(frozen=True, slots=True)
class CaptureConfig:
    """How many frames the monitor analyses, for long sessions that need not see all."""

    max_fps: float = setting(
        0.0,
        "Most frames a second the monitor analyses from a camera, stream or file; "
        "the others are skipped without being decoded where the source allows, and are "
        "not counted as dropped. 0: every frame the source delivers. A long day needs "
        "far less: the rolling score and PERCLOS span seconds, so 5-10 cuts CPU and "
        "rows in proportion (docs/performance.md); below about 10 a short blink "
        "(100-400 ms) can fall between two frames. `monitor --rate` overrides it; "
        "`analyze` always reads every frame of its file.",
    )

    def __post_init__(self) -> None:
        _non_negative("max_fps", self.max_fps)


HEART_METHODS = ("pos", "chrom")
"""The pulse methods `[heart] method` selects (`signals.pulse.METHODS`)."""
MIN_HRV_WINDOW_S = 60.0
"""The shortest window RMSSD and SDNN are computed over (`signals.variability`)."""


@dataclass(frozen=True, slots=True)
class HeartConfig:
    """Heart rate from the camera (remote photoplethysmography).

    The face's mean skin colour per frame (from the face mesh) becomes a pulse by POS or
    CHROM; every second of frame time the heart rate is read from the last `window_s`
    seconds, with a quality index (the spectral SNR) below which it is withheld (stored
    as NULL, shown as "—"). HRV is experimental (docs/heart-rate.md). Needs the mesh.
    """

    enabled: bool = setting(
        True,
        "false: no pulse is extracted and no heart rate stored. Costs well under 1 ms "
        "per face per frame (make bench).",
    )
    method: str = setting(
        "pos",
        'The pulse method: "pos" (Wang et al. 2017) or "chrom" (de Haan & Jeanne '
        "2013). pos: lower errors on the shared UBFC clips (docs/heart-rate.md).",
    )
    window_s: float = setting(
        10.0,
        "Seconds of pulse each heart rate is read from (5-30). 10: a 10 s window "
        "resolves the spectral peak to about 6 bpm before interpolation and holds "
        "10-20 beats, while following a rate that changes within half a minute.",
    )
    min_snr_db: float = setting(
        -3.0,
        "Quality threshold: a second whose spectral SNR (power at the peak and its "
        "harmonic over the rest of the 0.7-3.5 Hz band, in dB) is below it is withheld. "
        "-3 dB: on the shared UBFC clips the seconds at or above it were within 5 bpm "
        "of the finger sensor 99 % of the time while a quarter was withheld; the "
        "seconds below it held nearly all the large errors (docs/heart-rate.md).",
    )
    min_coverage: float = setting(
        0.8,
        "Smallest share of the window that must hold pulse samples (no face, a skipped "
        "or doubted mesh, and large motion are gaps): below it the second is withheld "
        "rather than read from a few seconds.",
    )
    max_gap_s: float = setting(
        0.25,
        "Longest stretch without samples that is bridged by interpolation; a longer gap "
        "cuts the window into pieces analysed apart. 0.25: shorter than the shortest "
        "beat of the band (3.5 Hz, 0.29 s), so interpolation never invents a whole beat.",
    )
    max_motion: float = setting(
        1.5,
        "Fastest face movement, in eye-corner distances per second, at which a frame's "
        "colour is used; faster movement is a gap. Mesh jitter on a still face is "
        "0.03-0.07; 1.5 is a deliberate head turn, which shades the skin anew.",
    )
    hrv_window_s: float = setting(
        60.0,
        "Seconds of beats RMSSD and SDNN are computed over (at least 60), only when "
        "every second of it was reported: 60 s is the shortest window the HRV "
        "literature accepts for RMSSD.",
    )

    def __post_init__(self) -> None:
        _require(
            self.method in HEART_METHODS,
            f"method must be one of {', '.join(HEART_METHODS)}",
        )
        _require(5.0 <= self.window_s <= 30.0, "window_s must be between 5 and 30")
        _require(math.isfinite(self.min_snr_db), "min_snr_db must be a finite number")
        _require(0.0 < self.min_coverage <= 1.0, "min_coverage must be > 0 and <= 1")
        _require(0.0 < self.max_gap_s <= 2.0, "max_gap_s must be > 0 and <= 2")
        _require(
            math.isfinite(self.max_motion) and self.max_motion > 0.0,
            "max_motion must be a finite number > 0",
        )
        _require(
            math.isfinite(self.hrv_window_s) and self.hrv_window_s >= MIN_HRV_WINDOW_S,
            f"hrv_window_s must be at least {MIN_HRV_WINDOW_S:g}",
        )


@dataclass(frozen=True, slots=True)
class EmotionConfig:
    """Which emotion model classifies each face crop, and how.

    Both models give the same seven probabilities (models/README.md: accuracy,
    calibration, speed); each session records the one it ran (`v_sessions.emotion_model`),
    and the correlation and longitudinal reports warn when one analysis mixes them.
    """

    model: str = setting(
        DEFAULT_EMOTION_MODEL,
        '"ours-v1" or "minixception". "ours-v1": trained in this project on FER2013, '
        "more accurate on its PublicTest split than the 2017 mini-Xception and "
        "calibrated (its probabilities mean what they say), still well under the frame "
        'budget. "minixception" keeps the model of the original thesis and of older '
        "sessions, for comparisons with them.",
    )
    flip: bool = setting(
        True,
        "true: classify each crop and its mirror image in one batch and average the "
        "two probability vectors (test-time augmentation). On by default: with it "
        "ours-v1 is both more accurate and better calibrated on FER2013 PublicTest "
        "(models/README.md), for twice the model's cost, which stays well under a "
        "millisecond per face. false halves the emotion model's cost.",
    )

    def __post_init__(self) -> None:
        choices = ", ".join(f'"{name}"' for name in EMOTION_MODEL_NAMES)
        _require(
            self.model in EMOTION_MODEL_NAMES,
            f"model must be one of {choices}, got {self.model!r}",
        )


@dataclass(frozen=True, slots=True)
class BlendshapesConfig:
    """MediaPipe's 52 face blendshapes and the action cues named from them.

    Computed from each fitted face mesh (docs/action-cues.md), stored per face and frame in
    `frames.blendshapes` and shown as brow lowering, lip press, lip-corner depression, eye
    squint, jaw open and eye blink. Shapes of the face's geometry, not muscle activity.
    """

    enabled: bool = setting(
        True,
        "false skips the blendshapes: no coefficients or action cues are stored or shown. "
        "They need the face mesh, so they are off whenever [mesh] is; they cost about "
        "a millisecond a face (docs/action-cues.md).",
    )


@dataclass(frozen=True, slots=True)
class Config:
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    levels: LevelsConfig = field(default_factory=LevelsConfig)
    detection: DetectionConfig = field(default_factory=DetectionConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    mesh: MeshConfig = field(default_factory=MeshConfig)
    fatigue: FatigueConfig = field(default_factory=FatigueConfig)
    forecast: ForecastConfig = field(default_factory=ForecastConfig)
    calibration: CalibrationConfig = field(default_factory=CalibrationConfig)
    capture: CaptureConfig = field(default_factory=CaptureConfig)
    heart: HeartConfig = field(default_factory=HeartConfig)
    emotion: EmotionConfig = field(default_factory=EmotionConfig)
    drowsiness: DrowsinessConfig = field(default_factory=DrowsinessConfig)
    blendshapes: BlendshapesConfig = field(default_factory=BlendshapesConfig)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; stored with each session so its score can be recomputed later."""
        return asdict(self)


def default_config_text() -> str:
    return resources.files("burnout_tui").joinpath(DEFAULT_CONFIG_RESOURCE).read_text("utf-8")


def user_config_file() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / USER_CONFIG_NAME


def load_config(path: Path | None = None) -> Config:
    """Read the first config found; with none, the defaults.

    Lookup order: `path` (from --config), ./burnout-tui.toml, [tool.burnout-tui] in
    ./pyproject.toml, then config.toml in the user config directory.
    """
    found = _locate(path)
    if found is None:
        return Config()
    label, table = found
    return config_from_table(table, label)


def config_from_table(table: dict[str, Any], label: str) -> Config:
    """Build a Config from parsed TOML; `label` names the file in error messages."""
    sections = get_type_hints(Config)
    built: dict[str, Any] = {}
    for name, values in table.items():
        if name not in sections:
            known = ", ".join(f"[{s}]" for s in sections)
            raise ConfigError(f"{label}: unknown section [{name}] (known: {known})")
        if not isinstance(values, dict):
            raise ConfigError(f"{label}: {name} must be a [{name}] table")
        built[name] = _section(sections[name], values, name, label)
    return Config(**built)


def _section(cls: Any, values: dict[str, Any], section: str, label: str) -> Any:
    hints = get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key not in hints:
            raise ConfigError(f"{label}: unknown key {section}.{key}")
        try:
            kwargs[key] = _coerce(value, hints[key])
        except TypeError as error:
            raise ConfigError(f"{label}: {section}.{key} must be {error}, got {value!r}") from None
    try:
        return cls(**kwargs)
    except ValueError as error:
        raise ConfigError(f"{label}: {section}.{error}") from None


def _coerce(value: Any, hint: Any) -> Any:
    """TOML already has the right scalar types; only int -> float and list -> tuple remain."""
    if get_origin(hint) is tuple:
        items = get_args(hint)
        if not isinstance(value, list | tuple) or len(value) != len(items):
            raise TypeError(f"a list of {len(items)} numbers")
        try:
            return tuple(_coerce(item, kind) for item, kind in zip(value, items, strict=True))
        except TypeError:
            raise TypeError(f"a list of {len(items)} numbers") from None
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise TypeError("true or false")
    if isinstance(value, bool):
        raise TypeError(_describe(hint))
    if hint is float and isinstance(value, int | float):
        return float(value)
    if isinstance(value, hint):
        return value
    raise TypeError(_describe(hint))


def _describe(hint: Any) -> str:
    return {float: "a number", int: "a whole number", str: "a string"}.get(hint, str(hint))


def _locate(explicit: Path | None) -> tuple[str, dict[str, Any]] | None:
    if explicit is not None:
        return str(explicit), _read(explicit)
    local = Path(PROJECT_CONFIG_NAME)
    if local.is_file():
        return str(local), _read(local)
    pyproject = Path(PYPROJECT_NAME)
    if pyproject.is_file():
        tool = _read(pyproject).get("tool", {})
        table = tool.get(APP_NAME) if isinstance(tool, dict) else None
        if table is not None:
            label = f"{pyproject} [tool.{APP_NAME}]"
            if not isinstance(table, dict):
                raise ConfigError(f"{label}: must be a table")
            return label, table
    user = user_config_file()
    if user.is_file():
        return str(user), _read(user)
    return None


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except FileNotFoundError:
        raise ConfigError(f"no such config file: {path}") from None
    except OSError as error:
        raise ConfigError(f"cannot read config file {path}: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None


__all__ = [
    "BlendshapesConfig",
    "CalibrationConfig",
    "Config",
    "ConfigError",
    "DetectionConfig",
    "EmotionConfig",
    "ForecastConfig",
    "HeartConfig",
    "LevelsConfig",
    "MeshConfig",
    "ScoringConfig",
    "StoreConfig",
    "TrackingConfig",
    "config_from_table",
    "default_config_text",
    "load_config",
    "user_config_file",
]
