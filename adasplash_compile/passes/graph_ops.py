"""What a node of a Dynamo graph *is*, independent of how the user spelled it.

Dynamo graphs are torch-level: one operation shows up as ``operator.matmul`` (``a @ b``),
``torch.matmul``, or ``call_method[matmul]`` (``a.matmul(b)``); softmax as ``F.softmax``,
``torch.softmax`` or ``x.softmax(-1)``. The matchers never look at targets directly: they ask
:func:`op_name`, which maps every spelling to one canonical name, and :func:`arg`, which reads an
argument whether it was passed by position or by keyword.

Shapes and dtypes come from the fake tensors Dynamo records in ``node.meta["example_value"]``;
symbolic sizes are compared with :func:`same_size`, which asks the ShapeEnv for a proof and never
adds a guard.
"""

from __future__ import annotations

import math
import operator
from typing import Any, Optional, Sequence

import torch
import torch.nn.functional as F
from torch.fx import Node
from torch.fx.experimental.symbolic_shapes import statically_known_true

__all__ = ["op_name", "arg", "fake", "shape", "same_size", "same_shape", "const_number", "users"]

# call_function targets, by canonical name.
_FUNCTIONS: dict[Any, str] = {
    operator.matmul: "matmul",
    torch.matmul: "matmul",
    torch.bmm: "bmm",
    torch.baddbmm: "baddbmm",
    torch.einsum: "einsum",
    operator.mul: "mul",
    torch.mul: "mul",
    operator.truediv: "div",
    torch.div: "div",
    torch.true_divide: "div",
    operator.add: "add",
    torch.add: "add",
    operator.sub: "sub",
    torch.sub: "sub",
    operator.neg: "neg",
    operator.eq: "eq",
    torch.eq: "eq",
    operator.ne: "ne",
    torch.ne: "ne",
    operator.lt: "lt",
    torch.lt: "lt",
    operator.le: "le",
    torch.le: "le",
    operator.gt: "gt",
    torch.gt: "gt",
    operator.ge: "ge",
    torch.ge: "ge",
    operator.invert: "logical_not",
    torch.logical_not: "logical_not",
    operator.and_: "logical_and",
    torch.logical_and: "logical_and",
    operator.getitem: "getitem",
    torch.where: "where",
    torch.masked_fill: "masked_fill",
    torch.transpose: "transpose",
    torch.permute: "permute",
    torch.reshape: "reshape",
    torch.unsqueeze: "unsqueeze",
    torch.tril: "tril",
    torch.triu: "triu",
    torch.ones: "ones",
    torch.ones_like: "ones_like",
    torch.zeros: "zeros",
    torch.zeros_like: "zeros_like",
    torch.full: "full",
    torch.tensor: "tensor",
    torch.scalar_tensor: "tensor",
    torch.arange: "arange",
    torch.sqrt: "sqrt",
    torch.rsqrt: "rsqrt",
    math.sqrt: "sqrt",
    operator.pow: "pow",
    torch.pow: "pow",
    torch.clone: "clone",
    F.softmax: "softmax",
    torch.softmax: "softmax",
    F.dropout: "dropout",
    torch.dropout: "dropout_aten",
    F.scaled_dot_product_attention: "sdpa",
    F.multi_head_attention_forward: "mha",
}
# PyTorch's native fused fast paths (eval mode under no_grad): one opaque kernel each.
for _name in ("_transformer_encoder_layer_fwd", "_native_multi_head_attention"):
    if hasattr(torch, _name):
        _FUNCTIONS[getattr(torch, _name)] = "native_fused"

# call_method names that are the same operation under another name.
_METHOD_ALIASES = {
    "__matmul__": "matmul",
    "__mul__": "mul",
    "__rmul__": "mul",
    "__truediv__": "div",
    "__add__": "add",
    "__radd__": "add",
    "__sub__": "sub",
    "__invert__": "logical_not",
    "bitwise_not": "logical_not",
    "__and__": "logical_and",
    "bitwise_and": "logical_and",
    "__getitem__": "getitem",
    "masked_fill_": None,  # in-place: never matched
    "mT": "mT",
}


def op_name(node: Any) -> Optional[str]:
    """Canonical name of what ``node`` computes, or None for placeholders / unknown calls."""
    if not isinstance(node, Node):
        return None
    if node.op == "call_function":
        name = _FUNCTIONS.get(node.target)
        if name is not None:
            return name
        # torch.Tensor.softmax and friends used as functions.
        qual = getattr(node.target, "__qualname__", "") or ""
        if qual.startswith(("Tensor.", "TensorBase.")):
            meth = qual.split(".", 1)[1]
            return _METHOD_ALIASES.get(meth, meth)
        return None
    if node.op == "call_method":
        return _METHOD_ALIASES.get(node.target, node.target)
    return None


def arg(node: Node, index: int, name: str, default: Any = None) -> Any:
    """Argument ``name`` of a call, passed at position ``index`` or by keyword.

    For call_method nodes position 0 is ``self``, as in the graph."""
    if name in node.kwargs:
        return node.kwargs[name]
    if index is not None and len(node.args) > index:
        return node.args[index]
    return default


def fake(node: Any) -> Any:
    """The fake value Dynamo recorded for ``node`` (a FakeTensor, SymInt, ...), or the constant."""
    if isinstance(node, Node):
        return node.meta.get("example_value", node.meta.get("val"))
    return node


def shape(node: Any) -> Optional[tuple]:
    v = fake(node)
    if isinstance(v, torch.Tensor):
        return tuple(v.shape)
    return None


def same_size(a: Any, b: Any) -> bool:
    """Whether two (possibly symbolic) sizes are provably equal, without adding a guard."""
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    try:
        return bool(statically_known_true(a == b))
    except Exception:  # pragma: no cover - exotic symbolic values
        return False


def same_shape(a: Optional[Sequence], b: Optional[Sequence]) -> bool:
    return a is not None and b is not None and len(a) == len(b) and all(same_size(x, y) for x, y in zip(a, b))


def broadcasts_to(small: Optional[Sequence], big: Sequence) -> bool:
    """Whether ``small`` provably broadcasts to ``big`` without changing it."""
    if small is None or len(small) > len(big):
        return False
    for s, b in zip(reversed(small), reversed(big)):
        if not (same_size(s, 1) or same_size(s, b)):
            return False
    return True


def const_number(value: Any) -> Optional[float]:
    """A Python number for ``value`` when it is provably constant: a number, a SymInt/SymFloat whose
    expression the ShapeEnv simplifies to a number, or a graph node computing one of those."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, Node):
        v = fake(value)
        if isinstance(v, (int, float, torch.SymInt, torch.SymFloat)) and not isinstance(v, bool):
            return const_number(v)
        return None
    if isinstance(value, (torch.SymInt, torch.SymFloat)):
        node = value.node
        expr = node.expr
        env = getattr(node, "shape_env", None)
        if env is not None:
            try:
                expr = env.simplify(expr)
            except Exception:  # pragma: no cover
                pass
        if getattr(expr, "is_number", False):
            return float(expr)
        return None
    return None


def users(node: Node) -> list[Node]:
    return list(node.users)


def tensor_dtype(node: Any) -> Optional[torch.dtype]:
    v = fake(node)
    return v.dtype if isinstance(v, torch.Tensor) else None


def requires_grad(node: Any) -> bool:
    v = fake(node)
    return isinstance(v, torch.Tensor) and bool(v.requires_grad)


def stack_location(node: Node) -> Optional[str]:
    """``file:line`` of the innermost user frame in ``node.meta["stack_trace"]``."""
    trace = node.meta.get("stack_trace")
    if not trace:
        return None
    last = None
    for line in trace.splitlines():
        line = line.strip()
        if line.startswith('File "'):
            try:
                path = line.split('"', 2)[1]
                lineno = line.split("line ", 1)[1].split(",", 1)[0]
                last = f"{path}:{lineno}"
            except IndexError:  # pragma: no cover - malformed trace
                continue
    return last
