"""Pure statistics for the built-in reports: arrays in, numbers out, no SQL and no I/O.

Kept apart from the queries so each formula can be checked against scipy or by hand on
fixed numbers, and so a reader can audit what a report claims without reading SQL.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats

Z_95 = 1.959964
"""Two-sided 95 % standard-normal quantile, for the Fisher-z confidence interval of r."""

LOA_Z = 1.96
"""Bland and Altman's conventional multiplier for the 95 % limits of agreement."""

CONFIDENCE = 0.95
MIN_CORRELATION_N = 3
"""Below 3 pairs r is ±1 or undefined and the Fisher-z standard error 1/sqrt(n-3) is not."""

MIN_TREND_N = 3
"""A line through 2 points has no residual degrees of freedom, hence no interval."""

FloatArray = npt.NDArray[np.float64]


def _as_array(values: Sequence[float] | FloatArray) -> FloatArray:
    return np.asarray(values, dtype=np.float64)


def fisher_ci(r: float, n: int, z: float = Z_95) -> tuple[float, float]:
    """Confidence interval of Pearson's r via Fisher's z = atanh(r), se = 1/sqrt(n-3).

    The sampling distribution of r is skewed near ±1; atanh makes it roughly normal, so
    the interval is built there and mapped back with tanh. |r| = 1 gives a degenerate
    interval at r (atanh is infinite), which is what the data support.
    """
    if n <= MIN_CORRELATION_N:
        raise ValueError(f"a Fisher-z interval needs more than {MIN_CORRELATION_N} pairs, got {n}")
    if abs(r) >= 1.0:
        return r, r
    centre = math.atanh(r)
    half = z / math.sqrt(n - 3)
    return math.tanh(centre - half), math.tanh(centre + half)


@dataclass(frozen=True, slots=True)
class Agreement:
    """Bland-Altman agreement of method A against method B (differences are A - B)."""

    mean_diff: float
    sd_diff: float
    loa_low: float
    loa_high: float


def bland_altman(a: Sequence[float] | FloatArray, b: Sequence[float] | FloatArray) -> Agreement:
    """Mean difference and 95 % limits of agreement, mean ± 1.96·sd (sd with ddof=1).

    Correlation says whether two measures move together; this says whether one can stand
    in for the other on the same scale, which is the question for a burnout proxy.
    """
    diff = _as_array(a) - _as_array(b)
    if diff.size < 2:
        raise ValueError("Bland-Altman limits need at least 2 pairs")
    mean = float(np.mean(diff))
    sd = float(np.std(diff, ddof=1))
    return Agreement(mean, sd, mean - LOA_Z * sd, mean + LOA_Z * sd)


@dataclass(frozen=True, slots=True)
class Association:
    """Whether two measures move together, on whatever scales they have."""

    n: int
    pearson_r: float
    pearson_p: float
    pearson_ci_low: float
    pearson_ci_high: float
    spearman_rho: float
    spearman_p: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def association_stats(
    x_values: Sequence[float] | FloatArray, y_values: Sequence[float] | FloatArray
) -> Association:
    """Pearson r with its p-value and Fisher-z interval, and Spearman rho with its p-value.

    Raises ValueError when r is undefined: fewer than 3 pairs, or a constant column.
    With exactly 3 pairs the Fisher interval is undefined (se = 1/0) and is reported as
    NaN rather than refused, since r and its p-value still are defined.
    """
    x, y = _as_array(x_values), _as_array(y_values)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError("both measures must be equally long sequences")
    n = int(x.size)
    if n < MIN_CORRELATION_N:
        raise ValueError(f"need at least {MIN_CORRELATION_N} pairs for a correlation, got {n}")
    if np.ptp(x) == 0.0 or np.ptp(y) == 0.0:
        raise ValueError("a correlation is undefined when one of the scores is constant")
    pearson = stats.pearsonr(x, y)
    spearman = stats.spearmanr(x, y)
    r = float(pearson.statistic)
    low, high = fisher_ci(r, n) if n > MIN_CORRELATION_N else (math.nan, math.nan)
    return Association(
        n=n,
        pearson_r=r,
        pearson_p=float(pearson.pvalue),
        pearson_ci_low=low,
        pearson_ci_high=high,
        spearman_rho=float(spearman.statistic),
        spearman_p=float(spearman.pvalue),
    )


@dataclass(frozen=True, slots=True)
class CorrelationStats(Association):
    """An `Association` of two scores on the same 0-1 scale, plus how well one stands in
    for the other there."""

    mae: float
    ba_mean_diff: float
    ba_sd_diff: float
    ba_loa_low: float
    ba_loa_high: float


def correlation_stats(
    system: Sequence[float] | FloatArray, survey: Sequence[float] | FloatArray
) -> CorrelationStats:
    """Everything the correlation report states about paired (system, survey) scores:
    `association_stats` (and its ValueErrors), then, as both are on 0-1, mean absolute
    error and Bland-Altman agreement."""
    x, y = _as_array(system), _as_array(survey)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError("system and survey must be equally long sequences")
    association = association_stats(x, y)
    agreement = bland_altman(x, y)
    return CorrelationStats(
        **asdict(association),
        mae=float(np.mean(np.abs(x - y))),
        ba_mean_diff=agreement.mean_diff,
        ba_sd_diff=agreement.sd_diff,
        ba_loa_low=agreement.loa_low,
        ba_loa_high=agreement.loa_high,
    )


def least_squares_line(
    x: Sequence[float] | FloatArray, y: Sequence[float] | FloatArray
) -> tuple[float, float]:
    """(slope, intercept) of the ordinary least-squares fit of y on x, for plotting."""
    slope, intercept = np.polyfit(_as_array(x), _as_array(y), 1)
    return float(slope), float(intercept)


@dataclass(frozen=True, slots=True)
class Trend:
    """Linear trend of a score over time, in score units per week."""

    n: int
    slope_per_week: float
    ci_low: float
    ci_high: float
    intercept: float
    """The fitted score at week 0, i.e. at the first observation."""
    p_value: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def linear_trend(
    weeks: Sequence[float] | FloatArray,
    scores: Sequence[float] | FloatArray,
    confidence: float = CONFIDENCE,
) -> Trend:
    """Least-squares slope with a t-based interval: slope ± t(1-α/2, n-2)·stderr.

    The t quantile rather than 1.96 because a user has a handful of sessions and the
    residual variance is estimated from them. Raises ValueError with fewer than 3 points
    or when all points share one time (no slope exists).
    """
    x, y = _as_array(weeks), _as_array(scores)
    n = int(x.size)
    if n < MIN_TREND_N:
        raise ValueError(f"a trend needs at least {MIN_TREND_N} sessions, got {n}")
    if np.ptp(x) == 0.0:
        raise ValueError("a trend needs sessions at different times")
    fit = stats.linregress(x, y)
    t = float(stats.t.ppf(0.5 + confidence / 2.0, n - 2))
    slope, stderr = float(fit.slope), float(fit.stderr)
    return Trend(
        n=n,
        slope_per_week=slope,
        ci_low=slope - t * stderr,
        ci_high=slope + t * stderr,
        intercept=float(fit.intercept),
        p_value=float(fit.pvalue),
    )


def rolling_mean(values: Sequence[float] | FloatArray, window: int) -> list[float]:
    """Mean of each value and the up to `window - 1` values before it.

    The first entries average fewer values rather than being left empty, so every session
    has a rolling figure; a user with fewer sessions than the window still gets one.
    """
    if window < 1:
        raise ValueError("window must be at least 1")
    data = _as_array(values)
    return [float(np.mean(data[max(0, i - window + 1) : i + 1])) for i in range(data.size)]
