"""The demo's expression warp: fold-free fields, the cycle's timing, the untouched portrait."""

from __future__ import annotations

import numpy as np
import pytest

from burnout_tui.sources.demo import (
    DEMO_SECONDS,
    EXPRESSION_HOLD_SHARE,
    EXPRESSION_PERIOD_S,
    DemoSource,
    _load_asset,
)
from burnout_tui.sources.expressions import (
    CYCLE,
    MAX_BUMP,
    MAX_STRETCH,
    SMILE,
    WARP_TERMS,
    Expression,
    FaceWarp,
    expression_at,
    load_landmarks,
    smoothstep,
)

MAX_FRAME_STEP = 0.15
"""Largest change of a coefficient between demo frames: the largest coefficient (1.5) at
smoothstep's steepest (1.5 / transition) over a 1.1 s, 27-frame transition is 0.08; twice
that bounds any jump."""


@pytest.fixture(scope="module")
def warp() -> FaceWarp:
    return FaceWarp(_load_asset(), load_landmarks())


def _source_map(warp: FaceWarp, expression: Expression) -> np.ndarray:
    source = warp._grid.astype(np.float64).copy()
    for name in WARP_TERMS:
        source += getattr(expression, name) * warp._basis[name]
    return source


@pytest.mark.parametrize("expression", CYCLE, ids=[e.name for e in CYCLE])
def test_every_expression_warps_without_folding(warp: FaceWarp, expression: Expression) -> None:
    """The backward map's Jacobian determinant stays positive: no pixel is sampled twice
    in reverse order, so the face is stretched and squeezed but never turned inside out."""
    source = _source_map(warp, expression)
    dxdx = np.gradient(source[..., 0], axis=1)
    dydy = np.gradient(source[..., 1], axis=0)
    dxdy = np.gradient(source[..., 0], axis=0)
    dydx = np.gradient(source[..., 1], axis=1)
    assert float((dxdx * dydy - dxdy * dydx).min()) > 0.0
    for squeeze in (expression.squeeze, expression.narrow, -expression.eye_open):
        assert -MAX_STRETCH <= squeeze <= MAX_BUMP


def test_the_smile_is_the_portrait_and_others_change_only_the_face(warp: FaceWarp) -> None:
    np.testing.assert_array_equal(warp.render(SMILE), warp.face)
    for expression in CYCLE[1:]:
        image = warp.render(expression)
        changed = np.argwhere(np.any(image != warp.face, axis=2))
        assert len(changed), expression.name
        assert changed[:, 0].min() >= warp.y0 and changed[:, 0].max() < warp.y1
        assert changed[:, 1].min() >= warp.x0 and changed[:, 1].max() < warp.x1
    assert warp.render(CYCLE[2]) is warp.render(CYCLE[2]), "a held expression is reused"


def test_the_cycle_holds_then_blends_and_repeats() -> None:
    slot = EXPRESSION_PERIOD_S / len(CYCLE)
    assert EXPRESSION_PERIOD_S == DEMO_SECONDS
    for index, expression in enumerate(CYCLE):
        start = index * slot
        assert expression_at(start, EXPRESSION_PERIOD_S, EXPRESSION_HOLD_SHARE) == expression
        held = start + 0.9 * EXPRESSION_HOLD_SHARE * slot
        assert expression_at(held, EXPRESSION_PERIOD_S, EXPRESSION_HOLD_SHARE) == expression
    assert expression_at(EXPRESSION_PERIOD_S, EXPRESSION_PERIOD_S, 0.5) == CYCLE[0]
    halfway = expression_at(
        slot * (1 + EXPRESSION_HOLD_SHARE) / 2, EXPRESSION_PERIOD_S, EXPRESSION_HOLD_SHARE
    )
    assert halfway.close == pytest.approx(0.5 * CYCLE[1].close)
    assert (smoothstep(-1.0), smoothstep(0.5), smoothstep(2.0)) == (0.0, 0.5, 1.0)


def test_blending_is_continuous() -> None:
    """Consecutive demo frames differ by a small step of every coefficient."""
    steps = np.arange(0.0, EXPRESSION_PERIOD_S, 1 / 25)
    values = np.array(
        [
            [
                getattr(expression_at(t, EXPRESSION_PERIOD_S, EXPRESSION_HOLD_SHARE), n)
                for n in WARP_TERMS
            ]
            for t in steps
        ]
    )
    assert float(np.abs(np.diff(values, axis=0)).max()) < MAX_FRAME_STEP


def test_the_demo_renders_the_expressions() -> None:
    source = DemoSource(seconds=DEMO_SECONDS)
    first = source.read()
    assert first is not None
    slot = round(EXPRESSION_PERIOD_S / len(CYCLE) * source.fps)
    for _ in range(2 * slot - 1):
        source.read()
    sad = source.read()
    assert sad is not None
    mouth = load_landmarks()["inner_lips"]
    assert not np.array_equal(first.image, sad.image)
    assert mouth.shape == (20, 2)
