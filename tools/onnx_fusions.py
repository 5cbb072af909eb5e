"""Graph rewrites that keep a converted model's arithmetic and cut its node count.

A translator that maps each TFLite operator to ONNX ones leaves small graphs of many tiny
nodes, and on a model the size of the face blendshapes one, ONNX Runtime's cost per node
(a kernel launch, an output allocation) is a large share of a call. ONNX Runtime's own
optimiser does not recognise either pattern below, so the converter rewrites them:

- `fuse_layer_norms`: TensorFlow's layer norm as TFLite stores it (mean, squared
  difference, variance, + ε, rsqrt, × γ, then x·g + (−mean)·g: twelve nodes) becomes one
  `LayerNormalization` (opset 17) with scale γ and a zero bias.
- `drop_swap_transposes`: a transpose of the last two axes, a chain of MatMul / Add /
  Relu with constant right-hand sides, and the transpose back become the same chain on
  the untransposed tensor with the constants transposed: (xᵀ·W + b)ᵀ = Wᵀ·x + bᵀ.

Both work on the `GraphProto` in place and return how many patterns they rewrote, so a
converter can check it found what it expected. Node names and order are kept otherwise,
so the output stays byte-reproducible.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import onnx
from onnx import helper, numpy_helper

SWAP_LAST_TWO = [0, 1, 3, 2]
"""The permutation TFLite's mixer uses around every token-mixing MLP."""
LAST_AXIS = -1
CHAIN_OPS = ("MatMul", "Add", "Relu")


class _Graph:
    """Who produces and who consumes each tensor, and the constant initializers."""

    def __init__(self, graph: onnx.GraphProto) -> None:
        self.graph = graph
        self.constants = {tensor.name: tensor for tensor in graph.initializer}
        self.consumers: dict[str, list[onnx.NodeProto]] = {}
        for node in graph.node:
            for name in dict.fromkeys(node.input):
                self.consumers.setdefault(name, []).append(node)

    def only_consumer(self, tensor: str, op_type: str) -> onnx.NodeProto | None:
        users = self.consumers.get(tensor, [])
        if len(users) == 1 and users[0].op_type == op_type:
            return users[0]
        return None

    def follow(
        self, node: onnx.NodeProto, op_types: tuple[str, ...]
    ) -> list[onnx.NodeProto] | None:
        """The nodes after `node` with these op types, each the only reader of the one before."""
        found: list[onnx.NodeProto] = []
        for op_type in op_types:
            follower = self.only_consumer(node.output[0], op_type)
            if follower is None:
                return None
            found.append(follower)
            node = follower
        return found

    def constant_input(self, node: onnx.NodeProto) -> str | None:
        names = [name for name in node.input if name in self.constants]
        return names[0] if len(names) == 1 else None

    def array(self, name: str) -> np.ndarray:
        return numpy_helper.to_array(self.constants[name])

    def add_constant(self, name: str, value: np.ndarray) -> str:
        self.graph.initializer.append(numpy_helper.from_array(value.astype(np.float32), name))
        return name

    def rewrite(
        self, removed: Iterable[onnx.NodeProto], replaced: dict[int, onnx.NodeProto]
    ) -> None:
        """Drop `removed`, put `replaced[id(node)]` where `node` was, and drop
        initializers nothing reads any more."""
        gone = {id(node) for node in removed}
        nodes = [
            replaced.get(id(node), node)
            for node in self.graph.node
            if id(node) not in gone or id(node) in replaced
        ]
        del self.graph.node[:]
        self.graph.node.extend(nodes)
        read = {name for node in nodes for name in node.input}
        kept = [tensor for tensor in self.graph.initializer if tensor.name in read]
        del self.graph.initializer[:]
        self.graph.initializer.extend(kept)


def _ints(node: onnx.NodeProto, attribute_name: str) -> list[int] | None:
    """A node's integer-list attribute (`perm`, `axes`), or None if it has none."""
    for attribute in node.attribute:
        if attribute.name == attribute_name:
            return list(attribute.ints)
    return None


def _layer_norm(
    graph: _Graph, mean: onnx.NodeProto, rank: int
) -> tuple[list[onnx.NodeProto], onnx.NodeProto] | None:
    """The twelve nodes of one TFLite layer norm starting at its first ReduceMean, and the
    `LayerNormalization` that replaces them (it takes the last node's place and name);
    None if `mean` does not start one."""
    x, mean_out = mean.input[0], mean.output[0]
    users = graph.consumers.get(mean_out, [])
    negs = [node for node in users if node.op_type == "Neg"]
    subs = [node for node in users if node.op_type == "Sub" and list(node.input) == [x, mean_out]]
    if len(users) != 2 or len(negs) != 1 or len(subs) != 1:
        return None
    neg, sub = negs[0], subs[0]
    square = graph.only_consumer(sub.output[0], "Mul")
    if square is None or list(square.input) != [sub.output[0]] * 2:
        return None
    steps = graph.follow(square, ("ReduceMean", "Add", "Sqrt", "Reciprocal", "Mul"))
    if steps is None:
        return None
    variance, epsilon, sqrt, reciprocal, gain = steps
    epsilon_name, gamma_name = graph.constant_input(epsilon), graph.constant_input(gain)
    scaled = graph.consumers.get(gain.output[0], [])
    scaled_x = [node for node in scaled if node.op_type == "Mul" and x in node.input]
    scaled_mean = [node for node in scaled if node.op_type == "Mul" and neg.output[0] in node.input]
    if epsilon_name is None or gamma_name is None or len(scaled) != 2:
        return None
    if len(scaled_x) != 1 or len(scaled_mean) != 1:
        return None
    total = graph.only_consumer(scaled_x[0].output[0], "Add")
    if total is None or set(total.input) != {scaled_x[0].output[0], scaled_mean[0].output[0]}:
        return None
    last = [[LAST_AXIS], [rank - 1]]
    if _ints(mean, "axes") not in last or _ints(variance, "axes") not in last:
        return None
    gamma = graph.array(gamma_name).reshape(-1)
    scale = graph.add_constant(f"{gamma_name}.layer_norm_scale", gamma)
    bias = graph.add_constant(f"{gamma_name}.layer_norm_bias", np.zeros_like(gamma))
    fused = helper.make_node(
        "LayerNormalization",
        [x, scale, bias],
        [total.output[0]],
        name=total.name,
        axis=LAST_AXIS,
        epsilon=float(graph.array(epsilon_name).reshape(-1)[0]),
    )
    pattern = [mean, neg, sub, square, variance, epsilon, sqrt, reciprocal, gain]
    return [*pattern, scaled_x[0], scaled_mean[0], total], fused


def fuse_layer_norms(graph: onnx.GraphProto, rank: int) -> int:
    """Replace every TFLite layer norm over the last axis of a `rank`-dimensional tensor
    (ONNX graphs from the converters carry no shapes to read it from) by a
    `LayerNormalization`."""
    view = _Graph(graph)
    removed: list[onnx.NodeProto] = []
    replaced: dict[int, onnx.NodeProto] = {}
    for node in list(graph.node):
        if node.op_type != "ReduceMean":
            continue
        found = _layer_norm(view, node, rank)
        if found is not None:
            nodes, fused = found
            removed.extend(nodes)
            replaced[id(nodes[-1])] = fused
    view.rewrite(removed, replaced)
    return len(replaced)


def _swap_chain(
    graph: _Graph, start: onnx.NodeProto
) -> tuple[list[onnx.NodeProto], onnx.NodeProto] | None:
    """The MatMul / Add / Relu chain between `start` (a last-two-axes transpose) and the
    transpose that undoes it, and that transpose; None if `start` opens no such chain."""
    chain: list[onnx.NodeProto] = []
    tensor = start.output[0]
    while True:
        users = graph.consumers.get(tensor, [])
        if len(users) != 1:
            return None
        node = users[0]
        if node.op_type == "Transpose" and _ints(node, "perm") == SWAP_LAST_TWO:
            return (chain, node) if chain else None
        if node.op_type not in CHAIN_OPS or node.input[0] != tensor:
            return None
        if node.op_type != "Relu" and (
            len(node.input) != 2 or node.input[1] not in graph.constants
        ):
            return None
        chain.append(node)
        tensor = node.output[0]


def drop_swap_transposes(graph: onnx.GraphProto) -> int:
    """Rewrite every transpose-chain-transpose (see the module docstring) without the
    transposes: x·W becomes Wᵀ·x, + b becomes + b as a column."""
    view = _Graph(graph)
    removed: list[onnx.NodeProto] = []
    rewritten = 0
    for start in list(graph.node):
        if start.op_type != "Transpose" or _ints(start, "perm") != SWAP_LAST_TWO:
            continue
        found = _swap_chain(view, start)
        if found is None:
            continue
        chain, end = found
        tensor = start.input[0]
        for node in chain:
            if node.op_type == "MatMul":
                weight = view.array(node.input[1])
                transposed = view.add_constant(f"{node.input[1]}.transposed", weight.T)
                node.input[:] = [transposed, tensor]
            elif node.op_type == "Add":
                bias = view.array(node.input[1])
                column = view.add_constant(f"{node.input[1]}.column", bias.reshape(-1, 1))
                node.input[:] = [tensor, column]
            else:
                node.input[:] = [tensor]
            tensor = node.output[0]
        chain[-1].output[:] = [end.output[0]]
        removed.extend((start, end))
        rewritten += 1
    view.rewrite(removed, {})
    return rewritten
