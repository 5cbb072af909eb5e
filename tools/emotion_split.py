"""The validation split of FER2013's training set, decided by image id alone (no torch).

Each image's place is the sha256 of the seed, its class and its id (FER2013's file names
repeat across class folders: two names occur twice in train.npz, as different images with
different labels, so the pair is the identity), so the split does not depend on
the order of the arrays, on numpy's random generator or on which other images are present;
within each class the lowest-ranked `fraction` (rounded, at least one) go to validation,
which keeps every class, disgust included, in the same proportion on both sides.
Used by tools/train_emotion.py for epoch choice and for fitting the temperature, and by its
tests; PublicTest is never part of it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

SPLIT_SEED = 13
"""Seed of the shipped model's split (issue #13)."""
VALIDATION_FRACTION = 0.1
"""10 % of train (about 2,870 images): enough for a temperature and an epoch choice while
keeping 90 % for training."""


def _rank_key(seed: int, label: int, image_id: str) -> str:
    return hashlib.sha256(f"{seed}:{label}:{image_id}".encode()).hexdigest()


def validation_mask(
    ids: Sequence[str] | npt.NDArray[np.str_],
    labels: Sequence[int] | npt.NDArray[np.integer],
    fraction: float = VALIDATION_FRACTION,
    seed: int = SPLIT_SEED,
) -> npt.NDArray[np.bool_]:
    """True for the images that go to validation, stratified by label."""
    id_list = [str(image_id) for image_id in ids]
    label_array = np.asarray(labels, dtype=np.int64)
    if len(id_list) != len(label_array):
        raise ValueError(f"{len(id_list)} ids but {len(label_array)} labels")
    if len(set(zip(label_array.tolist(), id_list, strict=True))) != len(id_list):
        raise ValueError("(label, image id) pairs are not unique")
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must be in (0, 1), got {fraction}")
    mask = np.zeros(len(id_list), dtype=bool)
    for label in np.unique(label_array):
        members = np.flatnonzero(label_array == label)
        ranked = sorted(members, key=lambda index: _rank_key(seed, int(label), id_list[index]))
        count = max(1, round(fraction * len(members)))
        mask[ranked[:count]] = True
    return mask
