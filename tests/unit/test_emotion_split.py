"""The FER2013 validation split (tools/emotion_split.py): decided by id, disjoint, stratified."""

from __future__ import annotations

import numpy as np
import pytest

from tools.emotion_split import validation_mask

FRACTION = 0.1


def _fake_fer(per_class: tuple[int, ...]) -> tuple[list[str], np.ndarray]:
    ids = [
        f"Training_{label}{index:05d}.jpg"
        for label, n in enumerate(per_class)
        for index in range(n)
    ]
    labels = np.repeat(np.arange(len(per_class)), per_class)
    return ids, labels


def test_stratified_share_per_class() -> None:
    per_class = (400, 44, 410, 720, 480, 320, 500)
    ids, labels = _fake_fer(per_class)
    mask = validation_mask(ids, labels, FRACTION, seed=1)
    for label, count in enumerate(per_class):
        assert mask[labels == label].sum() == round(FRACTION * count)


def test_same_split_whatever_the_order() -> None:
    ids, labels = _fake_fer((50, 5, 60, 70, 40, 30, 80))
    mask = validation_mask(ids, labels, FRACTION, seed=3)
    order = np.random.default_rng(0).permutation(len(ids))
    shuffled = validation_mask([ids[i] for i in order], labels[order], FRACTION, seed=3)
    chosen = {ids[i] for i in np.flatnonzero(mask)}
    assert {ids[i] for i in order[shuffled]} == chosen


def test_adding_images_keeps_earlier_choices_within_a_class() -> None:
    """Ranks are per image (a hash of seed, class and id), not positions in an array."""
    ids, labels = _fake_fer((100, 100, 100, 100, 100, 100, 100))
    mask = validation_mask(ids, labels, FRACTION, seed=5)
    more_ids, more_labels = _fake_fer((100, 100, 100, 100, 100, 100, 300))
    more = validation_mask(more_ids, more_labels, FRACTION, seed=5)
    kept = {ids[i] for i in np.flatnonzero(mask) if labels[i] < 6}
    assert kept == {more_ids[i] for i in np.flatnonzero(more) if more_labels[i] < 6}


def test_seed_changes_the_split_and_sides_are_disjoint() -> None:
    ids, labels = _fake_fer((200, 20, 200, 200, 200, 200, 200))
    first = validation_mask(ids, labels, FRACTION, seed=1)
    second = validation_mask(ids, labels, FRACTION, seed=2)
    assert not np.array_equal(first, second)
    train = set(np.flatnonzero(~first))
    validation = set(np.flatnonzero(first))
    assert not train & validation
    assert len(train) + len(validation) == len(ids)


def test_a_tiny_class_still_gets_one_validation_image() -> None:
    ids, labels = _fake_fer((30, 3, 30, 30, 30, 30, 30))
    assert validation_mask(ids, labels, FRACTION)[labels == 1].sum() == 1


def test_same_name_in_two_classes_is_two_images() -> None:
    """FER2013's train.npz has two file names that occur in two class folders."""
    ids = ["a.jpg", "a.jpg", "b.jpg", "c.jpg"]
    mask = validation_mask(ids, [0, 5, 0, 5], 0.5)
    assert mask.sum() == 2


def test_duplicate_pair_is_refused() -> None:
    with pytest.raises(ValueError, match="not unique"):
        validation_mask(["a.jpg", "a.jpg"], [0, 0], FRACTION)
