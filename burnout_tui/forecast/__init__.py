"""The burnout-score forecaster: a small LSTM over the last 30 face frames, run by ONNX Runtime.

`inputs` turns a frame's emotion probabilities and fatigue cues into the model's input
vector, `dataset` cuts tracks into training windows and targets (pure numpy, shared by the
training script and `burnout-tui train`), `model` runs the ONNX file, and `finetune` refits
its output layer for one user without PyTorch. Nothing here imports torch.
"""

from __future__ import annotations
