"""What a multiplier of the attention scores is worth.

A factor is either a Python float that is provably constant (a literal, ``1/math.sqrt(d)`` that
Dynamo folded, a size the ShapeEnv simplifies to a number, or a 0-d tensor built from constants such
as GPT-2's ``torch.full([], value.size(-1) ** 0.5)``), or a runtime tensor (a learned temperature)
that can be moved onto the query rows because it does not vary along the key dimension:
``(q·kᵀ)[…, i, j] · t[…, i] = (q[…, i] · t[…, i])·kᵀ[…, j]``.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence, Union

import torch
from torch.fx import Node

from .graph_ops import arg, broadcasts_to, const_number, fake, op_name, same_size, shape

__all__ = ["Factor", "scalar_value", "factor_of", "default_scale"]

Factor = Union[float, Node]


def scalar_value(x: object, depth: int = 0) -> Optional[float]:
    """The constant value of ``x`` (a number, symbolic number or 0-d tensor node), or None."""
    v = const_number(x)
    if v is not None or not isinstance(x, Node) or depth > 8:
        return v
    name = op_name(x)
    val = fake(x)
    if isinstance(val, torch.Tensor) and val.numel() != 1:
        return None
    if name == "full":
        return scalar_value(arg(x, 1, "fill_value"), depth + 1)
    if name in ("zeros", "zeros_like", "new_zeros"):
        return 0.0
    if name in ("ones", "ones_like", "new_ones"):
        return 1.0
    if name == "tensor":
        return scalar_value(arg(x, 0, "data"), depth + 1)
    if name in ("to", "type", "float", "double", "half", "bfloat16", "clone", "contiguous", "detach"):
        return scalar_value(x.args[0], depth + 1)
    if name in ("sqrt", "rsqrt"):
        a = scalar_value(x.args[0], depth + 1)
        if a is None or a < 0:
            return None
        return math.sqrt(a) if name == "sqrt" else (1.0 / math.sqrt(a) if a > 0 else None)
    if name in ("mul", "div", "pow", "add", "sub"):
        a = scalar_value(x.args[0], depth + 1)
        b = scalar_value(x.args[1], depth + 1) if len(x.args) > 1 else None
        if a is None or b is None:
            return None
        try:
            return {"mul": a * b, "div": a / b, "pow": a ** b, "add": a + b, "sub": a - b}[name]
        except (ZeroDivisionError, OverflowError, ValueError):
            return None
    if name in ("reciprocal",):
        a = scalar_value(x.args[0], depth + 1)
        return None if not a else 1.0 / a
    return None


def factor_of(x: object, scores_shape: Sequence) -> Optional[Factor]:
    """``x`` as a score multiplier: a constant float, a tensor node that can move onto the query
    rows (broadcasts to the scores with size 1 along the key dim), or None (not a factor)."""
    v = scalar_value(x)
    if v is not None:
        return v
    if not isinstance(x, Node):
        return None
    if isinstance(fake(x), (torch.SymFloat, torch.SymInt)):
        # a runtime Python number (dynamic=True unspecialises float attributes such as HF's
        # self.scaling): it scales every score alike, so it moves onto q as it is
        return x
    s = shape(x)
    if s is None:
        return None
    if len(s) == 0 or (broadcasts_to(s, scores_shape) and same_size(s[-1], 1)):
        return x
    return None


def default_scale(head_dim: object) -> Optional[float]:
    """SDPA's default 1/sqrt(D) when the head dim is provably constant."""
    d = const_number(head_dim)
    if d is None or d <= 0:
        return None
    return 1.0 / math.sqrt(d)
