"""Physiological signals from per-frame measurements: pure NumPy, no model, no OpenCV.

Time series the vision stage measures (a face's mean skin colour, its eye aspect ratio)
become the signals a person's state is read from (a pulse, blinks). Functions here take
arrays with their true frame timestamps, so dropped frames and variable frame rates are
handled where the signal is computed, not guessed at by the caller.
"""
