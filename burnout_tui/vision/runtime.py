"""One place that creates ONNX Runtime sessions, so thread counts are set consistently.

Two intra-op threads match the 2-core machines the project targets; more threads than
cores only add contention between the detector and the classifier.
"""

from __future__ import annotations

import onnxruntime as ort

from burnout_tui.models_dir import model_path

DEFAULT_THREADS = 2


def load_session(filename: str, threads: int = DEFAULT_THREADS) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return ort.InferenceSession(
        str(model_path(filename)), sess_options=options, providers=["CPUExecutionProvider"]
    )
