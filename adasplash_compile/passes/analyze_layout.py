"""Layouts of q, k, v: bringing each operand to the op's (B, H, L, D) without copying.

An :class:`Operand` is a graph value plus the view ops (transpose / permute / unsqueeze) that turn
it into the layout the op wants; the views are only inserted when the site is rewritten, and a
transpose of a transpose cancels. 3-D layouts (B·H, L, D) run as one batch of B·H heads:
``unsqueeze(0)``. Grouped-query attention written as HF's ``repeat_kv`` (``x[:, :, None].expand(B,
Hk, n, L, D).reshape(B, Hk·n, L, D)``) or as ``repeat_interleave(n, dim=1)`` is undone, so the op
gets the un-repeated K/V (SDPA's ``enable_gqa`` convention: query head h reads KV head h // n).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from torch.fx import Node

from .graph_ops import arg, const_number, op_name, same_size, shape

__all__ = ["Operand", "swapped_last_two", "unrepeat_kv", "parse_einsum"]


@dataclass
class Operand:
    node: Node
    views: list = field(default_factory=list)  # ("transpose", -2, -1) | ("permute", perm) | ("unsqueeze", 0)

    def with_view(self, *view) -> "Operand":
        return Operand(self.node, self.views + [tuple(view)])


def _norm(d: Any, ndim: int) -> Optional[int]:
    d = const_number(d)
    if d is None or d != int(d) or not -ndim <= d < ndim:
        return None
    return int(d) % ndim


def swapped_last_two(node: Any) -> Optional[Node]:
    """If ``node`` swaps the last two dims of some X (``transpose(-2, -1)``, ``.mT``, a permute),
    return X."""
    if not isinstance(node, Node):
        return None
    s = shape(node)
    if s is None or len(s) < 2:
        return None
    n = len(s)
    name = op_name(node)
    if name == "transpose" and len(node.args) >= 3:
        dims = {_norm(node.args[1], n), _norm(node.args[2], n)}
        return node.args[0] if dims == {n - 2, n - 1} else None
    if name == "mT":
        return node.args[0]
    if name == "permute":
        perm = node.args[1:] if len(node.args) > 2 else node.args[1]
        if not isinstance(perm, (list, tuple)) or len(perm) != n:
            return None
        perm = [_norm(p, n) for p in perm]
        return node.args[0] if perm == list(range(n - 2)) + [n - 1, n - 2] else None
    return None


def unrepeat_kv(node: Any) -> Optional[tuple[Node, int]]:
    """``(x, n_rep)`` if ``node`` is x (B, Hk, L, D) with each head repeated n_rep times along dim 1."""
    if not isinstance(node, Node):
        return None
    out = shape(node)
    if out is None or len(out) != 4:
        return None
    name = op_name(node)
    if name == "repeat_interleave":
        x = node.args[0]
        reps = const_number(arg(node, 1, "repeats"))
        dim = arg(node, 2, "dim")
        xs = shape(x)
        if reps is None or xs is None or len(xs) != 4 or _norm(dim, 4) != 1:
            return None
        return x, int(reps)
    if name != "reshape" and name != "view":
        return None
    ex = node.args[0]
    if op_name(ex) != "expand":
        return None
    es = shape(ex)
    src = ex.args[0]
    ss = shape(src)
    if es is None or ss is None or len(es) != 5 or len(ss) != 5:
        return None
    # src must be x with a new size-1 axis at position 2.
    if not same_size(ss[2], 1):
        return None
    name_src = op_name(src)
    if name_src == "unsqueeze":
        if _norm(src.args[1], 5) != 2:
            return None
        x = src.args[0]
    elif name_src == "getitem":
        idx = src.args[1]
        if not (isinstance(idx, tuple) and len(idx) >= 3 and idx[2] is None
                and all(isinstance(i, slice) and i == slice(None) for i in idx[:2])
                and all(i == slice(None) or i is Ellipsis for i in idx[3:])):
            return None
        x = src.args[0]
    else:
        return None
    xs = shape(x)
    if xs is None or len(xs) != 4:
        return None
    b, hk, l, d = xs
    n_rep = const_number(es[2])
    if n_rep is None:
        return None
    if not (same_size(es[0], b) and same_size(es[1], hk) and same_size(es[3], l) and same_size(es[4], d)):
        return None
    if not (same_size(out[0], b) and same_size(out[1], hk * int(n_rep)) and same_size(out[2], l)
            and same_size(out[3], d)):
        return None
    return x, int(n_rep)


@dataclass
class EinsumScores:
    """``einsum(eq, a, b)`` read as scores: letters of batch dims (in output order), q, k, d."""

    batch: str
    q: str
    k: str
    d: str
    a_spec: str
    b_spec: str
    out_spec: str


def parse_einsum(eq: Any) -> Optional[tuple[str, str, str]]:
    if not isinstance(eq, str) or "->" not in eq or "." in eq:
        return None
    lhs, out = eq.replace(" ", "").split("->")
    ins = lhs.split(",")
    if len(ins) != 2:
        return None
    a, b = ins
    if any(len(set(s)) != len(s) for s in (a, b, out)):
        return None
    return a, b, out


def einsum_as_contraction(eq: Any) -> Optional[EinsumScores]:
    """Read ``X,Y->Z`` as a batched ``X @ Yᵀ``: one contracted letter d, one letter per side that
    survives (q from X, k from Y), batch letters in all three; Z must be ``batch… q k``."""
    parsed = parse_einsum(eq)
    if parsed is None:
        return None
    a, b, out = parsed
    d = [c for c in a if c in b and c not in out]
    q = [c for c in a if c not in b and c in out]
    k = [c for c in b if c not in a and c in out]
    batch = [c for c in out if c in a and c in b]
    if len(d) != 1 or len(q) != 1 or len(k) != 1:
        return None
    if len(a) != len(batch) + 2 or len(b) != len(batch) + 2 or len(out) != len(batch) + 2:
        return None
    if out != "".join(batch) + q[0] + k[0]:
        return None
    return EinsumScores("".join(batch), q[0], k[0], d[0], a, b, out)


def permutation(src: str, dst: str) -> list[int]:
    return [src.index(c) for c in dst]
