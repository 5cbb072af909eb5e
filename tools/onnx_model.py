"""What every converter does the same way, so that `make models` is byte-reproducible.

The bytes of an ONNX file depend on more than the graph: the producer fields, the opset,
the IR version (onnx defaults it to the newest its release knows, so upgrading onnx would
change every file) and protobuf's map ordering. All of them are fixed here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import helper

OPSET = 17
IR_VERSION = 8
"""The IR version that goes with opset 17, readable by ONNX Runtime releases back to 1.13."""

SLICE_TO_END = np.iinfo(np.int64).max
"""ONNX Slice's end for "to the end of the axis" (what TFLite's end mask means)."""

PRODUCER_VERSION = "1"
"""Bump when a converter's output changes on purpose."""


def finish_model(
    graph: onnx.GraphProto, producer: str, doc: str, props: dict[str, str]
) -> onnx.ModelProto:
    """Wrap a graph with the fixed header fields and metadata, and check it fully."""
    model = helper.make_model(
        graph,
        producer_name=producer,
        producer_version=PRODUCER_VERSION,
        opset_imports=[helper.make_opsetid("", OPSET)],
        doc_string=doc,
    )
    model.ir_version = IR_VERSION
    helper.set_model_props(model, props)
    onnx.checker.check_model(model, full_check=True)
    return model


def write_model(model: onnx.ModelProto, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(model.SerializeToString(deterministic=True))
    return path
