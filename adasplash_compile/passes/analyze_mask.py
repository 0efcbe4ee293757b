"""Masks on the attention scores: what each one means, and when it is provably causal.

The scores may be masked in four ways, each mapped to the op's ``attn_mask`` / ``is_causal``:

* additive float tensors (``s + mask``; HF's ``where(allowed, 0, finfo.min)``, ALiBi, T5's position
  bias, BERT's ``(1 - m) * -10000``): passed through as a float ``attn_mask``. The op computes
  ``q·kᵀ·scale + mask`` exactly as the model did, so this is exact by construction.
* ``masked_fill(m, -inf)`` / ``where(m, s, -inf)``: a bool "may attend" mask (``~m``). Exact: a
  score of −inf gets weight 0 in softmax and in α-entmax alike. One difference, documented on the
  op: a row where *every* key is masked gives NaN in the model and zeros from the op.
* ``masked_fill(m, c)`` with a finite, *dominant* fill (c ≤ −1e9: OpenNMT's −1e18, finfo.min): an
  additive float mask ``where(m, c, 0)``. ``s + c`` rounds to ``c`` whenever |s| < ulp(c)/2 (for
  −1e18 in float32: |s| < 3.4e10), so rows keep the model's values, fully masked rows included.
  Smaller fills (−1e4) are skipped: replacing a score by c and adding c differ on fully masked rows.
* provably causal masks (below) become ``is_causal=True``, which lets the kernels skip whole blocks.

**When is a mask "causal"?** When it allows exactly the keys ``j ≤ i`` (SDPA's top-left aligned
mask) over the scores' last two dims. For masks that *remove* keys with −inf this is exact. For a
dominant finite fill (c ≤ −1e9) it is exact for α-entmax because every causal row keeps its first
key, and a masked score z_i = s_i + c satisfies z_i ≤ z_max − 1/(α−1), where
p_i = [(α−1)·z_i − τ]₊^{1/(α−1)} is exactly 0 (p_max ≤ 1 gives τ ≥ (α−1)·z_max − 1); softmax's
exp(c) underflows to exactly 0 as well.

Causality is proved structurally, for every sequence length at once (the sizes may be symbolic):

* index comparisons ``kv_idx <= q_idx`` built from ``arange`` (HF's mask functions), with offsets;
* ``tril``/``triu`` of ones, compared with 0/1 or cast to bool, sliced ``[:T, :T]``;
* a *buffer* of the module (nanoGPT's ``bias``) whose value at compile time is ``tril(ones)``.
  Buffers are read once, like Inductor's freezing reads parameters: a causal buffer that is
  overwritten with something else after compiling is not noticed. Masks that are forward
  *arguments* are never read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Callable, Optional, Sequence

import torch
from torch.fx import Node

from .analyze_scale import scalar_value
from .graph_ops import arg, const_number, op_name, same_size, shape

__all__ = ["Tri", "tri_pattern", "DOMINANT_FILL", "is_dominant_fill", "MaskTerm"]

# A finite fill at or below this is "dominant": see the module docstring.
DOMINANT_FILL = -1e9

_SAME_VALUES = ("contiguous", "clone", "detach", "to_device", "expand", "expand_as", "view", "reshape",
                "unsqueeze", "getitem", "to", "type")


@dataclass(frozen=True)
class Tri:
    """A triangular pattern over the last two dims (i = query row, j = key column, both from 0):
    true (or 1) where ``j − i ≤ k``, negated when ``negated``. ``numeric``: a 0/1 tensor, not bool."""

    k: int
    negated: bool = False
    numeric: bool = False

    def flip(self) -> "Tri":
        return replace(self, negated=not self.negated)

    @property
    def is_causal_allow(self) -> bool:
        return self.k == 0 and not self.negated and not self.numeric


def is_dominant_fill(c: Optional[float]) -> bool:
    return c is not None and (c == -math.inf or c <= DOMINANT_FILL)


@dataclass
class MaskTerm:
    """One mask applied along the score chain.

    kind ``"add"``: ``node`` is added (times ``factor``, the product of later constant scales);
    kind ``"allow"``: ``node`` (negated when ``negate``) is a bool "may attend" mask;
    kind ``"fill"``: where ``node`` (negated when ``negate``) is true the score becomes ``value``."""

    kind: str
    node: Node
    negate: bool = False
    factor: float = 1.0
    value: Optional[float] = None
    tensor_factors: tuple = ()


# ----------------------------------------------------------------------------------------------
# index vectors: arange(...) + offset, viewed so that it runs along one axis
# ----------------------------------------------------------------------------------------------


def _single_axis(s: Sequence) -> Optional[int]:
    """The one dim of ``s`` not provably 1, counted from the end; None if not exactly one."""
    axes = [i - len(s) for i, d in enumerate(s) if not same_size(d, 1)]
    return axes[0] if len(axes) == 1 else None


def _index_vector(node: Any, depth: int = 0) -> Optional[tuple[int, float]]:
    """``(axis_from_end, offset)`` when ``node`` is ``arange(n) + offset`` laid out along one axis."""
    if not isinstance(node, Node) or depth > 12:
        return None
    name = op_name(node)
    s = shape(node)
    if name == "arange":
        args = list(node.args)
        if "start" in node.kwargs or "step" in node.kwargs:
            return None
        if len(args) == 1:
            start = 0.0
        elif len(args) == 2:
            start = const_number(args[0])
        else:
            return None
        if start is None:
            return None
        return (-1, start)
    if name in ("add", "sub") and len(node.args) == 2:
        a, b = node.args
        if isinstance(a, Node) and const_number(b) is not None and shape(a) is not None:
            inner = _index_vector(a, depth + 1)
            if inner is None:
                return None
            c = const_number(b)
            return (inner[0], inner[1] + (c if name == "add" else -c))
        if name == "add" and isinstance(b, Node) and const_number(a) is not None:
            inner = _index_vector(b, depth + 1)
            return None if inner is None else (inner[0], inner[1] + const_number(a))
        return None
    if name in ("getitem", "unsqueeze", "view", "reshape", "to", "contiguous", "clone"):
        if name == "getitem":
            idx = node.args[1]
            idx = idx if isinstance(idx, tuple) else (idx,)
            if not all(i is None or i is Ellipsis or (isinstance(i, slice) and i == slice(None)) for i in idx):
                return None
        inner = _index_vector(node.args[0], depth + 1)
        if inner is None or s is None:
            return None
        axis = _single_axis(s)
        return None if axis is None else (axis, inner[1])
    return None


_FLIP = {"le": "ge", "ge": "le", "lt": "gt", "gt": "lt"}


def _compare_pattern(name: str, a: Any, b: Any) -> Optional[Tri]:
    ia, ib = _index_vector(a), _index_vector(b)
    if ia is None or ib is None:
        return None
    if ia[0] == -1 and ib[0] == -2:  # j + oa  OP  i + ob   <=>  j − i  OP  ob − oa
        op, c = name, ib[1] - ia[1]
    elif ia[0] == -2 and ib[0] == -1:  # i + oa  OP  j + ob   <=>  j − i  OP'  oa − ob
        op, c = _FLIP[name], ia[1] - ib[1]
    else:
        return None
    if c != int(c):
        return None
    c = int(c)
    return {"le": Tri(c), "lt": Tri(c - 1), "ge": Tri(c - 1, True), "gt": Tri(c, True)}[op]


# ----------------------------------------------------------------------------------------------
# triangular patterns
# ----------------------------------------------------------------------------------------------


def _is_all_ones(node: Any) -> bool:
    name = op_name(node)
    if name in ("ones", "ones_like", "new_ones"):
        return True
    if name == "full":
        return scalar_value(arg(node, 1, "fill_value")) == 1.0
    if name in ("to", "float", "bool", "contiguous", "view", "reshape"):
        return _is_all_ones(node.args[0])
    return False


def _last_two_kept(a: Any, b: Node) -> bool:
    sa, sb = shape(a), shape(b)
    return (sa is not None and sb is not None and len(sa) >= 2 and len(sb) >= 2
            and same_size(sa[-1], sb[-1]) and same_size(sa[-2], sb[-2]))


def _top_left_window(node: Node) -> bool:
    """``x[..., :a, :b]`` (also with leading ``:``/``None``): keeps a top-left aligned pattern."""
    idx = node.args[1]
    idx = idx if isinstance(idx, tuple) else (idx,)
    for i in idx:
        if i is None or i is Ellipsis:
            continue
        if not isinstance(i, slice) or i.step not in (None, 1):
            return False
        if i.start not in (None, 0):
            return False
    return True


def _constant_tensor_pattern(t: torch.Tensor) -> Optional[Tri]:
    if t.dim() < 2 or t.shape[-1] != t.shape[-2] or isinstance(t, torch._subclasses.FakeTensor):
        return None
    if t.device.type == "meta":
        return None
    lead = t.reshape(-1, t.shape[-2], t.shape[-1])
    base = lead[0]
    if not bool((lead == base).all()):
        return None
    numeric = t.dtype != torch.bool
    ones = torch.ones_like(base, dtype=torch.bool)
    tril, triu1 = torch.tril(ones), torch.triu(ones, diagonal=1)
    b = base != 0 if numeric else base
    if numeric and not bool(((base == 0) | (base == 1)).all()):
        return None
    if torch.equal(b, tril):
        return Tri(0, False, numeric)
    if torch.equal(b, triu1):
        return Tri(0, True, numeric)
    return None


def tri_pattern(node: Any, constants: Callable[[Node], Optional[torch.Tensor]], depth: int = 0) -> Optional[Tri]:
    """The triangular pattern ``node`` provably has over its last two dims, or None.

    ``constants(node)`` returns the value of a placeholder/get_attr whose value may be read (module
    buffers, graph constants), or None."""
    if not isinstance(node, Node) or depth > 16:
        return None
    name = op_name(node)
    if node.op in ("placeholder", "get_attr"):
        t = constants(node)
        return None if t is None else _constant_tensor_pattern(t)
    if name in ("le", "lt", "ge", "gt") and len(node.args) == 2:
        p = _compare_pattern(name, node.args[0], node.args[1])
        if p is not None:
            return p
        # tri01 > 0, i.e. a bool of a 0/1 pattern
        if name == "gt" and const_number(node.args[1]) == 0:
            inner = tri_pattern(node.args[0], constants, depth + 1)
            return replace(inner, numeric=False) if inner is not None and inner.numeric else None
        return None
    if name in ("tril", "triu"):
        if not _is_all_ones(node.args[0]):
            return None
        d = const_number(arg(node, 1, "diagonal", 0))
        if d is None or d != int(d):
            return None
        d = int(d)
        return Tri(d, False, True) if name == "tril" else Tri(d - 1, True, True)
    if name in ("eq", "ne") and len(node.args) == 2:
        a, b = node.args
        if not isinstance(a, Node):
            a, b = b, a
        c = const_number(b) if not isinstance(b, bool) else float(b)
        inner = tri_pattern(a, constants, depth + 1)
        if inner is None or c not in (0.0, 1.0):
            return None
        out = replace(inner, numeric=False)
        # x == 0 and x != 1 select the zeros; x == 1 and x != 0 select the ones.
        return out.flip() if (name == "eq") == (c == 0.0) else out
    if name == "logical_not":
        inner = tri_pattern(node.args[0], constants, depth + 1)
        return None if inner is None or inner.numeric else inner.flip()
    if name == "bool" or (name in ("to", "type") and torch.bool in (tuple(node.args[1:]) + tuple(node.kwargs.values()))):
        inner = tri_pattern(node.args[0], constants, depth + 1)
        return None if inner is None else replace(inner, numeric=False)
    if name in ("float", "half", "bfloat16", "double", "int", "long"):
        inner = tri_pattern(node.args[0], constants, depth + 1)
        return inner  # numeric casts of bools keep 0/1 meaning; numeric stays numeric
    if name == "getitem":
        if not isinstance(node.args[1], (tuple, slice, type(None))) or not _top_left_window(node):
            return None
        return tri_pattern(node.args[0], constants, depth + 1)
    if name in _SAME_VALUES:
        src = node.args[0]
        if not _last_two_kept(src, node):
            return None
        return tri_pattern(src, constants, depth + 1)
    return None


def where_as_additive(node: Node) -> Optional[tuple[Node, bool, float]]:
    """``where(cond, 0, c)`` / ``where(cond, c, 0)`` (c constant) as ``(cond, c_where_true, c)``."""
    if op_name(node) != "where" or len(node.args) != 3:
        return None
    cond, a, b = node.args
    va, vb = scalar_value(a), scalar_value(b)
    if va == 0.0 and vb is not None:
        return cond, False, vb
    if vb == 0.0 and va is not None:
        return cond, True, va
    return None


def causal_float_mask(node: Node, constants, factor: float = 1.0) -> bool:
    """Whether an additive float mask (times a later positive ``factor``) is ``where(causal, 0, c)``
    with a dominant ``c·factor`` (see the module docstring)."""
    cur = node
    while op_name(cur) in ("getitem", "to", "contiguous", "expand", "view", "reshape") and isinstance(cur, Node):
        if op_name(cur) == "getitem" and not _top_left_window(cur):
            return False
        if op_name(cur) in ("expand", "view", "reshape") and not _last_two_kept(cur.args[0], cur):
            return False
        cur = cur.args[0]
    w = where_as_additive(cur) if isinstance(cur, Node) else None
    if w is None:
        return False
    cond, fill_where_true, c = w
    if not is_dominant_fill(c * factor):
        return False
    p = tri_pattern(cond, constants)
    if p is None:
        return False
    p = replace(p, numeric=False)
    allow = p.flip() if fill_where_true else p
    return allow.is_causal_allow
