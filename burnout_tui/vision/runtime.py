"""One place that creates ONNX Runtime sessions, so thread settings are consistent.

Two intra-op threads match the 2-core machines the project targets; more threads than
cores only add contention between the detector and the classifier. Spinning is off:
ORT's threads otherwise busy-wait after each run and take the CPU from the next stage
(decode, the other network, the UI). The CPU memory arena is off: it keeps the largest
batch's buffers for the session's life (a crowd's R-Net proposals, a crowd's meshes), which
raised peak memory with several people in view and bought no speed measurably
(docs/performance.md, "ONNX Runtime threads and spinning").
"""

from __future__ import annotations

from pathlib import Path

import onnxruntime as ort

from burnout_tui.models_dir import model_path

DEFAULT_THREADS = 2


def load_session(model: str | Path, threads: int = DEFAULT_THREADS) -> ort.InferenceSession:
    """A model by file name in the models folder, or by explicit path (a per-user model)."""
    path = model if isinstance(model, Path) else model_path(model)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    options.enable_cpu_mem_arena = False
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
