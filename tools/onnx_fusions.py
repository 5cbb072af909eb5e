"""Graph rewrites that keep a converted model's arithmetic and cut its nodes and work.

A translator that maps each TFLite operator to ONNX ones leaves small graphs of many tiny
nodes, and on a model the size of the face blendshapes one, ONNX Runtime's cost per node
(a kernel launch, an output allocation) is a large share of a call. ONNX Runtime's own
optimiser does none of the rewrites below, so the converter does them:

- `fuse_layer_norms`: TensorFlow's layer norm as TFLite stores it (mean, squared
  difference, variance, + ε, rsqrt, × γ, then x·g + (−mean)·g: twelve nodes) becomes one
  `LayerNormalization` (opset 17) with scale γ and a zero bias.
- `drop_swap_transposes`: a transpose of the last two axes, a chain of MatMul / Add /
  Relu with constant right-hand sides, and the transpose back become the same chain on
  the untransposed tensor with the constants transposed: (xᵀ·W + b)ᵀ = Wᵀ·x + bᵀ.
- `compute_read_tokens_only`: what follows the last token-mixing layer is computed only
  for the tokens the output reads (the blendshape head reads one of 97).

All three work on the `GraphProto` in place and return how many patterns they rewrote, so a
converter can check it found what it expected. Node names and order are kept otherwise,
so the output stays byte-reproducible.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
from onnx import helper, numpy_helper

from tools.onnx_model import SLICE_TO_END

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

    def add_constant(self, name: str, value: npt.ArrayLike, dtype: type = np.float32) -> str:
        self.graph.initializer.append(numpy_helper.from_array(np.asarray(value, dtype), name))
        self.constants[name] = self.graph.initializer[-1]
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
        self.drop_unread_constants()

    def drop_unread_constants(self) -> None:
        read = {name for node in self.graph.node for name in node.input}
        kept = [tensor for tensor in self.graph.initializer if tensor.name in read]
        del self.graph.initializer[:]
        self.graph.initializer.extend(kept)


def _attribute(node: onnx.NodeProto, attribute_name: str) -> Any:
    """A node's attribute value (`axis`, `perm`, `axes`: an int or a list of ints), or None
    if it has none."""
    for attribute in node.attribute:
        if attribute.name == attribute_name:
            return helper.get_attribute_value(attribute)
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
    if _attribute(mean, "axes") not in last or _attribute(variance, "axes") not in last:
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
        if node.op_type == "Transpose" and _attribute(node, "perm") == SWAP_LAST_TWO:
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
        if start.op_type != "Transpose" or _attribute(start, "perm") != SWAP_LAST_TWO:
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


TOKEN_AXIS = 2
"""The token axis of the mixer's (N, 1, tokens, channels) tensors."""


def _first_tokens(graph: _Graph, node: onnx.NodeProto) -> int | None:
    """e if `node` is a Slice that keeps the first e tokens and all of every other axis."""
    if node.op_type != "Slice" or not all(name in graph.constants for name in node.input[1:]):
        return None
    starts, ends, axes = (graph.array(name).tolist() for name in node.input[1:4])
    steps = graph.array(node.input[4]).tolist() if len(node.input) > 4 else [1] * len(axes)
    if any(starts) or any(step != 1 for step in steps) or TOKEN_AXIS not in axes:
        return None
    others = [end for axis, end in zip(axes, ends, strict=True) if axis != TOKEN_AXIS]
    if any(end != SLICE_TO_END for end in others):
        return None
    return int(ends[axes.index(TOKEN_AXIS)])


def _row_inputs(graph: _Graph, node: onnx.NodeProto) -> list[str] | None:
    """The inputs whose first e tokens alone give the first e tokens of `node`'s output
    (none for a token-mixing MatMul, whose output tokens are rows of its constant); None
    if `node` cannot be computed on fewer tokens."""
    activations = [name for name in node.input if name not in graph.constants]
    if node.op_type == "Add":
        return activations
    if node.op_type in ("Relu", "Identity") or _first_tokens(graph, node) is not None:
        return [node.input[0]]
    if node.op_type == "LayerNormalization" and _attribute(node, "axis") == LAST_AXIS:
        return [node.input[0]]
    if node.op_type == "MatMul" and len(activations) == 1:
        return [] if node.input[0] in graph.constants else activations
    return None


def _token_rows(value: np.ndarray, tokens: int) -> np.ndarray | None:
    """The first `tokens` rows of a constant that varies along the token axis (a token
    MatMul's weights, a bias column), or None for one that broadcasts over it."""
    if value.ndim < 2 or value.shape[-2] == 1:
        return None
    return value[..., :tokens, :]


def compute_read_tokens_only(graph: onnx.GraphProto) -> int:
    """Compute only the tokens the output reads.

    The blendshape head reads one token of the last mixer block (the learned one), yet the
    translation computes that block's last token-mixing layer, layer norm and channel MLP
    for all 97. From each Slice that keeps the first e tokens, this walks back through
    nodes that work token by token (Add, Relu, last-axis LayerNormalization, x·W) whose
    every reader needs only those e tokens, up to the token-mixing MatMuls (W·x), whose
    output tokens are rows of W: those keep their first e rows (and bias rows), inputs
    also needed in full elsewhere get a Slice, and the Slices themselves become Identity.
    Returns the number of token-mixing MatMuls cut down."""
    view = _Graph(graph)
    nodes = list(graph.node)
    producers = {name: node for node in nodes for name in node.output}
    outputs = {value.name for value in graph.output}
    cut = 0
    for position, head in enumerate(nodes):
        tokens = _first_tokens(view, head)
        readers = view.consumers.get(head.output[0], [])
        if tokens is None or any(_first_tokens(view, reader) is not None for reader in readers):
            continue
        region = {id(head)}
        for node in reversed(nodes[:position]):
            if len(node.output) != 1:
                continue
            (output,) = node.output
            users = view.consumers.get(output, [])
            if output in outputs or not users or _row_inputs(view, node) is None:
                continue
            if all(
                id(user) in region and output in (_row_inputs(view, user) or []) for user in users
            ):
                region.add(id(node))
        for node in [node for node in nodes if id(node) in region]:
            cut += _narrow(view, node, tokens, region, producers)
    view.drop_unread_constants()
    return cut


def _narrow(
    graph: _Graph,
    node: onnx.NodeProto,
    tokens: int,
    region: set[int],
    producers: dict[str, onnx.NodeProto],
) -> int:
    """Make `node` compute only the first `tokens` tokens (see `compute_read_tokens_only`);
    1 if it is a token-mixing MatMul, else 0."""
    if _first_tokens(graph, node) is not None:
        identity = helper.make_node("Identity", [node.input[0]], list(node.output), name=node.name)
        nodes = graph.graph.node
        nodes.insert(list(nodes).index(node), identity)
        nodes.remove(node)
        return 0
    rows_in = _row_inputs(graph, node) or []
    mixing = node.op_type == "MatMul" and node.input[0] in graph.constants
    for index, name in enumerate(node.input):
        if name in graph.constants:
            rows = _token_rows(graph.array(name), tokens)
            if rows is not None and (node.op_type == "Add" or (mixing and index == 0)):
                node.input[index] = graph.add_constant(f"{name}.tokens{tokens}", rows)
        elif name in rows_in and id(producers.get(name)) not in region:
            node.input[index] = _insert_token_slice(graph, node, name, tokens)
    return int(mixing)


def _insert_token_slice(graph: _Graph, reader: onnx.NodeProto, name: str, tokens: int) -> str:
    """A Slice of `name`'s first `tokens` tokens, placed just before `reader`."""
    sliced = f"{name}.tokens{tokens}"
    if sliced not in {output for node in graph.graph.node for output in node.output}:
        bounds = [
            graph.add_constant(f"{sliced}.{what}", value, np.int64)
            for what, value in (("starts", [0]), ("ends", [tokens]), ("axes", [TOKEN_AXIS]))
        ]
        node = helper.make_node("Slice", [name, *bounds], [sliced], name=sliced)
        graph.graph.node.insert(list(graph.graph.node).index(reader), node)
    return sliced
