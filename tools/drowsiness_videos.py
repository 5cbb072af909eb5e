"""Where the drowsiness model's errors on unseen people are: per video, not per window.

The shared folds keep the dataset's order: consecutive windows of one video overlap by
28 of their 30 blinks, so the videos can be told apart without any other information, and
each person's three videos (alert, low vigilant, drowsy) follow one another. For each fold
held out, the shipped method is trained on the other three (as in
`tools.train_drowsiness`'s leave-one-fold-out), and this prints, over all test videos, how
the share of a video's windows read right is spread, how many windows lie in videos read
almost wholly wrong, and the accuracy of a majority vote per video (the paper's "video
accuracy"). docs/drowsiness.md quotes the result.

    BURNOUT_TUI_DATA=../shared/data PYTHONPATH=$PWD:/tmp/torchlib python -m tools.drowsiness_videos
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

METHOD = "ours (summary network)"
OVERLAP = 28
"""Blinks two consecutive windows of one video share (the windows step by 2 blinks)."""
WRONG_BELOW, RIGHT_ABOVE = 0.1, 0.9
"""A video is read "wholly wrong" below 10 % of its windows right, "right" above 90 %."""
SHARE_BINS = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0)
LEVELS = ("alert", "low vigilant", "drowsy")


@dataclass(frozen=True, slots=True)
class Video:
    label: int
    windows: int
    right: float
    """Share of its windows whose most probable level is the label."""
    vote_right: bool
    """The level most of its windows get is the label."""


def video_ids(windows: npt.NDArray[np.float32]) -> npt.NDArray[np.int64]:
    """A video number per window: a new video wherever a window does not continue the last."""
    continues = np.all(np.isclose(windows[1:, :OVERLAP], windows[:-1, -OVERLAP:]), axis=(1, 2))
    return np.concatenate([[0], np.cumsum(~continues)]).astype(np.int64)


def videos() -> list[Video]:
    """Every held-out video's reading. The trainer (and with it PyTorch) is imported here,
    so `video_ids` can be used and tested without it."""
    from tools.train_drowsiness import FOLDS, METHODS, data_dir, load_folds, split

    folds = load_folds(data_dir())
    found = []
    for held_out in FOLDS:
        (train, labels), (test, truth) = split(folds, held_out)
        predicted = METHODS[METHOD](train, labels, test).argmax(axis=1)
        ids = video_ids(test)
        for video in range(int(ids.max()) + 1):
            mask = ids == video
            votes = np.bincount(predicted[mask], minlength=len(LEVELS))
            label = int(truth[mask][0])
            found.append(
                Video(
                    label,
                    int(mask.sum()),
                    float((predicted[mask] == label).mean()),
                    int(votes.argmax()) == label,
                )
            )
    return found


def main() -> None:
    found = videos()
    windows = np.array([video.windows for video in found])
    right = np.array([video.right for video in found])
    counts, _ = np.histogram(right, bins=SHARE_BINS)
    print(f"{len(found)} videos, {windows.sum()} windows ({METHOD}, leave-one-fold-out)")
    for low, high, count in zip(SHARE_BINS, SHARE_BINS[1:], counts, strict=False):
        print(f"  {low:.0%}-{high:.0%} of windows right: {count} videos")
    wrong, good = right < WRONG_BELOW, right > RIGHT_ABOVE
    print(f"windows in videos read wholly wrong: {windows[wrong].sum() / windows.sum():.1%}")
    print(f"windows in videos read right: {windows[good].sum() / windows.sum():.1%}")
    votes = np.array([video.vote_right for video in found])
    labels = np.array([video.label for video in found])
    print(f"majority vote per video: {votes.mean():.1%}")
    for level, name in enumerate(LEVELS):
        chosen = labels == level
        print(f"  {name}: {chosen.sum()} videos, vote right {votes[chosen].mean():.0%}")


if __name__ == "__main__":
    main()
