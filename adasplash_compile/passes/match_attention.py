"""Finding attention sites in a Dynamo graph, structurally.

A site starts at a *map* node: ``softmax`` (any spelling), the entmax package's ``entmax15`` /
``sparsemax`` / ``entmax_bisect``, our :func:`adasplash_compile.entmax`, or
``F.scaled_dot_product_attention``. From a row map the matcher walks

* **back** through casts, clones, constant or row-wise scales, additive masks, ``masked_fill`` and
  ``where`` to the score contraction ``q @ kᵀ`` (``@``, ``matmul``, ``bmm``, ``baddbmm``,
  ``einsum``) in 3-D (B·H, L, D) or 4-D (B, H, L, D) layout;
* **forward** through casts, clones and dropout that is provably the identity to the
  contraction with v.

Every intermediate value must have exactly one user: when the weights are also returned
(``need_weights=True``, ``output_attentions=True``) or reused, the site is left alone and the
reason says so. Nothing here mutates the graph: the result is a list of :class:`AttentionMatch`
plans, rewritten by :mod:`.fuse_entmax_attention`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import torch
from torch.fx import GraphModule, Node

from .analyze_layout import Operand, einsum_as_contraction, parse_einsum, permutation, swapped_last_two, unrepeat_kv
from .analyze_mask import MaskTerm, causal_float_mask, is_dominant_fill, tri_pattern
from .analyze_scale import default_scale, factor_of, scalar_value
from .graph_ops import (
    arg, broadcasts_to, const_number, op_name, same_shape, same_size, shape,
    stack_location, tensor_dtype,
)
from .options import PassOptions

log = logging.getLogger("adasplash_compile")

__all__ = ["AttentionMatch", "find_attention_sites", "map_kind"]

_CASTS = ("to", "type", "float", "half", "bfloat16", "double", "type_as", "contiguous", "clone")
_CONTRACTIONS = ("matmul", "bmm", "einsum", "baddbmm")


class Skip(Exception):
    """A site was found but cannot be rewritten; the message is the reason shown to the user."""


@dataclass
class AttentionMatch:
    kind: str
    map_node: Node
    location: Optional[str]
    status: str = "skipped"
    reason: Optional[str] = None
    # -- the rewrite plan (valid when status == "rewritten") --
    out_node: Optional[Node] = None
    q: Optional[Operand] = None
    k: Optional[Operand] = None
    v: Optional[Operand] = None
    rank: int = 4
    out_perm: Optional[list] = None
    scale: float = 1.0
    q_factors: list = field(default_factory=list)
    masks: list = field(default_factory=list)
    is_causal: bool = False
    alpha: float = 1.5
    alpha_node: Optional[Node] = None
    gqa: int = 1
    out_dtype: Optional[torch.dtype] = None
    mha_args: Optional[dict] = None  # nn.MultiheadAttention sites: the call's arguments, by name


# ----------------------------------------------------------------------------------------------
# what the map is
# ----------------------------------------------------------------------------------------------


def _entmax_functions() -> dict:
    found = {}
    try:
        import entmax as pkg

        found[pkg.entmax15] = "entmax15"
        found[pkg.sparsemax] = "sparsemax"
        found[pkg.entmax_bisect] = "entmax_bisect"
    except Exception:  # the entmax package is optional
        pass
    from .. import ops

    found[ops.entmax] = "entmax"
    return found


def map_kind(node: Node, entmax_fns: dict) -> Optional[str]:
    if node.op == "call_function" and node.target in entmax_fns:
        return entmax_fns[node.target]
    name = op_name(node)
    if name in ("softmax", "sdpa", "mha", "native_fused"):
        return name
    return None


def _map_input_and_dim(node: Node, kind: str):
    """(scores input, dim argument, alpha (float or Node), reason-if-unsupported)."""
    x = node.args[0] if node.args else node.kwargs.get("input", node.kwargs.get("X"))
    if kind == "softmax":
        dim = arg(node, 1, "dim", None)
        return x, dim, None, None
    if kind in ("entmax15", "sparsemax"):
        return x, arg(node, 1, "dim", -1), (1.5 if kind == "entmax15" else 2.0), None
    if kind == "entmax_bisect":
        if arg(node, 4, "ensure_sum_one", True) is not True:
            return x, None, None, "entmax_bisect(ensure_sum_one=False) does not normalise its rows"
        return x, arg(node, 2, "dim", -1), arg(node, 1, "alpha", 1.5), None
    if kind == "entmax":
        return x, arg(node, 2, "dim", -1), arg(node, 1, "alpha", 1.5), None
    raise AssertionError(kind)


# ----------------------------------------------------------------------------------------------
# walking the score chain
# ----------------------------------------------------------------------------------------------


def _only_user(node: Node, nxt: Node, what: str) -> None:
    if len(node.users) != 1:
        raise Skip(f"{what} {node.name!r} has other users ({', '.join(u.name for u in node.users if u is not nxt)})")


class _Ctx:
    def __init__(self, gm: GraphModule, constants: Callable[[Node], Optional[torch.Tensor]]):
        self.gm = gm
        self.constants = constants
        self.order = {n: i for i, n in enumerate(gm.graph.nodes)}

    def depends_on(self, node: Any, target: Node) -> bool:
        """Whether ``node`` is computed from ``target`` (graph order bounds the search)."""
        if not isinstance(node, Node):
            return False
        lo = self.order[target]
        if self.order[node] < lo:
            return False
        stack, seen = [node], set()
        while stack:
            n = stack.pop()
            if n is target:
                return True
            if n in seen or self.order[n] < lo:
                continue
            seen.add(n)
            stack.extend(a for a in n.all_input_nodes)
        return False


def _cast_source(node: Node) -> Optional[Node]:
    """The input of a dtype cast / clone / contiguous that keeps the shape, else None."""
    if op_name(node) not in _CASTS or not node.args or not isinstance(node.args[0], Node):
        return None
    if not same_shape(shape(node), shape(node.args[0])):
        return None
    dt = tensor_dtype(node)
    if dt is None or not dt.is_floating_point:
        return None
    return node.args[0]


def _walk_scores(ctx: _Ctx, start: Any, scores_shape, map_node: Node) -> tuple[Node, list]:
    """From the map's input back to the score contraction. Returns (contraction, steps) where
    steps run from the contraction outwards: ("factor", f) | ("mask", MaskTerm)."""
    steps: list = []
    cur = start
    nxt = map_node
    for _ in range(64):
        if not isinstance(cur, Node):
            raise Skip("the map's input is not a tensor computed in the graph")
        _only_user(cur, nxt, "the attention scores")
        if not same_shape(shape(cur), scores_shape):
            raise Skip(f"{cur.name!r} broadcasts the scores to another shape")
        name = op_name(cur)
        if name in _CONTRACTIONS:
            steps.reverse()
            return cur, steps
        src = _cast_source(cur)
        if src is not None:
            nxt, cur = cur, src
            continue
        if name in ("mul", "div") and len(cur.args) == 2:
            a, b = cur.args
            on_path, other = (a, b) if same_shape(shape(a), scores_shape) else (b, a)
            if name == "div" and on_path is not a:
                raise Skip(f"{cur.name!r} divides by the scores")
            f = factor_of(other, scores_shape)
            if f is None:
                raise Skip(f"{cur.name!r} multiplies the scores by a tensor that varies along the key dimension")
            if name == "div":
                if isinstance(f, Node):
                    raise Skip(f"{cur.name!r} divides the scores by a runtime tensor")
                if f == 0:
                    raise Skip(f"{cur.name!r} divides the scores by zero")
                f = 1.0 / f
            steps.append(("factor", f))
            nxt, cur = cur, on_path
            continue
        if name in ("add", "sub") and len(cur.args) == 2 and "alpha" not in cur.kwargs:
            a, b = cur.args
            a_ok = isinstance(a, Node) and same_shape(shape(a), scores_shape)
            b_ok = isinstance(b, Node) and same_shape(shape(b), scores_shape)
            if a_ok and (not b_ok or _reaches_contraction(a)):
                on_path, other = a, b
            elif b_ok and name == "add":
                on_path, other = b, a
            else:
                raise Skip(f"{cur.name!r} combines the scores in a way the matcher does not model")
            if scalar_value(other) is not None and (not isinstance(other, Node) or len(shape(other) or ()) == 0):
                # Adding a constant to every score changes neither softmax nor α-entmax.
                nxt, cur = cur, on_path
                continue
            if not isinstance(other, Node) or not broadcasts_to(shape(other), scores_shape):
                raise Skip(f"{cur.name!r} adds something that does not broadcast to the scores")
            if tensor_dtype(other) is None or not tensor_dtype(other).is_floating_point:
                raise Skip(f"{cur.name!r} adds a non-float tensor to the scores")
            if name == "sub":
                steps.append(("mask", MaskTerm("add", other, factor=-1.0)))
            else:
                steps.append(("mask", MaskTerm("add", other)))
            steps.append(("check_independent", other))
            nxt, cur = cur, on_path
            continue
        if name == "masked_fill" or name == "where":
            if name == "masked_fill":
                on_path, m, fill = cur.args[0], arg(cur, 1, "mask"), arg(cur, 2, "value")
                fill_where_true = True
            else:
                if len(cur.args) != 3:
                    raise Skip(f"{cur.name!r}: unsupported where() form")
                m, a, b = cur.args
                if isinstance(a, Node) and same_shape(shape(a), scores_shape) and _reaches_contraction(a):
                    on_path, fill, fill_where_true = a, b, False
                else:
                    on_path, fill, fill_where_true = b, a, True
            c = scalar_value(fill)
            if c is None:
                raise Skip(f"{cur.name!r} fills the scores with a runtime tensor")
            if tensor_dtype(m) != torch.bool:
                raise Skip(f"{cur.name!r} masks with a non-bool tensor")
            if c == -math.inf:
                # "may attend" = not filled
                steps.append(("mask", MaskTerm("allow", m, negate=fill_where_true)))
            elif is_dominant_fill(c):
                steps.append(("mask", MaskTerm("fill", m, negate=not fill_where_true, value=c)))
            else:
                raise Skip(
                    f"{cur.name!r} fills masked scores with {c:g}: replacing a score by a small finite "
                    "value is not an additive mask (fully masked rows would differ); fills of -inf or "
                    "<= -1e9 are supported"
                )
            steps.append(("check_independent", m))
            nxt, cur = cur, on_path
            continue
        raise Skip(f"the scores pass through {name or cur.op}({cur.name}), which the matcher does not model")
    raise Skip("score chain too long")


def _reaches_contraction(node: Any, depth: int = 0) -> bool:
    """Cheap test: is a contraction reachable going up through first-argument chains?"""
    while isinstance(node, Node) and depth < 64:
        name = op_name(node)
        if name in _CONTRACTIONS:
            return True
        if node.op != "call_function" and node.op != "call_method":
            return False
        args = [a for a in node.args if isinstance(a, Node)]
        if not args:
            return False
        if len(args) > 1:
            return any(_reaches_contraction(a, depth + 1) for a in args[:2])
        node = args[0]
        depth += 1
    return False


def _dropout_is_identity(node: Node) -> Optional[str]:
    """None when a dropout node is the identity, else why it is not."""
    if op_name(node) == "dropout_aten":  # torch.dropout(x, p, train)
        p, training = arg(node, 1, "p"), arg(node, 2, "train")
    else:
        p, training = arg(node, 1, "p", 0.5), arg(node, 2, "training", True)
    if training is False:
        return None
    pv = const_number(p)
    if pv == 0.0:
        return None
    if pv is None:
        return "attention dropout's probability is a runtime value (e.g. dynamic=True unspecialised it): cannot prove p == 0"
    if training is True:
        return f"training-mode attention dropout (p={pv:g}): the fused op has no dropout"
    return "attention dropout's training flag is a runtime value"


def _walk_weights(map_node: Node, weights_shape) -> tuple[Node, Any, str]:
    """From the map's output to the contraction with v. Returns (contraction, v, form)."""
    cur = map_node
    for _ in range(32):
        us = list(cur.users)
        if len(us) != 1:
            others = ", ".join(u.name for u in us)
            raise Skip(
                f"the attention weights {cur.name!r} have {len(us)} users ({others}): they are returned "
                "or reused (need_weights / output_attentions), so they must stay materialised"
            )
        u = us[0]
        name = op_name(u)
        if name in ("dropout", "dropout_aten"):
            why = _dropout_is_identity(u)
            if why is not None:
                raise Skip(why)
            cur = u
            continue
        if _cast_source(u) is cur:
            cur = u
            continue
        if name in ("matmul", "bmm") and len(u.args) == 2:
            if u.args[0] is not cur:
                raise Skip("the attention weights are the right operand of the matmul (not weights @ v)")
            return u, u.args[1], name
        if name == "einsum":
            return u, None, "einsum"
        raise Skip(f"the attention weights go to {name or u.op}({u.name}), not to a matmul with v")
    raise Skip("weights chain too long")


# ----------------------------------------------------------------------------------------------
# building the plan
# ----------------------------------------------------------------------------------------------


def _scores_operands(ctx: _Ctx, contraction: Node, steps: list) -> tuple[Operand, Operand, list, Optional[str]]:
    """(q, k, extra leading steps, scores einsum spec or None) for a score contraction."""
    name = op_name(contraction)
    pre: list = []
    if name in ("matmul", "bmm", "baddbmm"):
        if name == "baddbmm":
            inp, a, b = contraction.args[0], contraction.args[1], contraction.args[2]
            beta = scalar_value(arg(contraction, 3, "beta", 1.0))
            alpha = scalar_value(arg(contraction, 4, "alpha", 1.0))
            if beta is None or alpha is None:
                raise Skip("baddbmm with runtime beta/alpha")
            pre.append(("factor", alpha))
            if beta != 0.0:
                if not isinstance(inp, Node) or not broadcasts_to(shape(inp), shape(contraction)):
                    raise Skip("baddbmm's input does not broadcast to the scores")
                pre.append(("mask", MaskTerm("add", inp, factor=beta)))
        else:
            if len(contraction.args) != 2:
                raise Skip("unsupported matmul form")
            a, b = contraction.args
        sa, sb = shape(a), shape(b)
        if sa is None or sb is None or len(sa) != len(sb) or len(sa) not in (3, 4):
            raise Skip(f"scores contraction of {len(sa or ())}-D and {len(sb or ())}-D operands; 3-D and 4-D supported")
        if not all(same_size(x, y) for x, y in zip(sa[:-2], sb[:-2])):
            raise Skip("q and k have different (broadcast) batch dimensions")
        k_node = swapped_last_two(b)
        k = Operand(k_node) if k_node is not None else Operand(b).with_view("transpose", -2, -1)
        return Operand(a), k, pre, None
    # einsum
    eq, ops = _einsum_args(contraction)
    spec = einsum_as_contraction(eq)
    if spec is None or len(ops) != 2:
        raise Skip(f"einsum {eq!r} is not a batched q·kᵀ")
    a, b = ops
    sa, sb = shape(a), shape(b)
    if sa is None or sb is None or len(sa) not in (3, 4):
        raise Skip(f"einsum {eq!r}: 3-D and 4-D operands supported")
    canon_q = spec.batch + spec.q + spec.d
    canon_k = spec.batch + spec.k + spec.d
    q, k = Operand(a), Operand(b)
    if spec.a_spec != canon_q:
        q = q.with_view("permute", permutation(spec.a_spec, canon_q))
    if spec.b_spec != canon_k:
        k = k.with_view("permute", permutation(spec.b_spec, canon_k))
    qs = [sa[spec.a_spec.index(c)] for c in spec.batch]
    ks = [sb[spec.b_spec.index(c)] for c in spec.batch]
    if not all(same_size(x, y) for x, y in zip(qs, ks)):
        raise Skip("q and k have different (broadcast) batch dimensions")
    return q, k, pre, spec.out_spec


def _einsum_args(node: Node) -> tuple[Any, tuple]:
    """(equation, operands) of an einsum node, for both ``einsum(eq, a, b)`` and ``einsum(eq, [a, b])``."""
    ops = node.args[1:]
    if len(ops) == 1 and isinstance(ops[0], (list, tuple)):
        ops = tuple(ops[0])
    return node.args[0], tuple(ops)


def _fold_operand_scale(op: Operand) -> tuple[Operand, float]:
    """``q * c`` / ``q / c`` (c constant, q·c used only here) → (q, c)."""
    node = op.node
    if op.views or op_name(node) not in ("mul", "div") or len(node.args) != 2 or len(node.users) != 1:
        return op, 1.0
    a, b = node.args
    if not isinstance(a, Node) and op_name(node) == "mul":
        a, b = b, a
    c = scalar_value(b)
    if c is None or not isinstance(a, Node) or not same_shape(shape(a), shape(node)):
        return op, 1.0
    if op_name(node) == "div":
        if c == 0:
            return op, 1.0
        c = 1.0 / c
    return Operand(a), c


def _value_operand(w_contraction: Node, form: str, v: Any, scores_spec: Optional[str], rank: int):
    """(v operand, permutation from canonical out to the contraction's output, or None)."""
    if form in ("matmul", "bmm"):
        sv = shape(v)
        if sv is None or len(sv) != rank:
            raise Skip("v has a different rank than the weights")
        return Operand(v), None
    eq, ops = _einsum_args(w_contraction)
    parsed = parse_einsum(eq)
    if parsed is None or len(ops) != 2:
        raise Skip(f"einsum {eq!r} after the map is not weights·v")
    p_spec, v_spec, o_spec = parsed
    if len(p_spec) != rank:
        raise Skip(f"einsum {eq!r} after the map is not weights·v")
    batch, qc, kc = p_spec[:-2], p_spec[-2], p_spec[-1]
    e = [c for c in v_spec if c not in p_spec]
    if (len(e) != 1 or sorted(v_spec) != sorted(batch + kc + e[0]) or sorted(o_spec) != sorted(batch + qc + e[0])):
        raise Skip(f"einsum {eq!r} after the map is not weights·v")
    canon_v = batch + kc + e[0]
    vo = Operand(ops[1])
    if v_spec != canon_v:
        vo = vo.with_view("permute", permutation(v_spec, canon_v))
    canon_o = batch + qc + e[0]
    return vo, (None if o_spec == canon_o else permutation(canon_o, o_spec))


def _apply_steps(plan: AttentionMatch, steps: list, ctx: _Ctx, contraction: Node) -> None:
    """Fold the chain's factors and masks into (scale, q_factors, masks) in score order."""
    scale = 1.0
    q_factors: list = []
    masks: list[MaskTerm] = []
    for kind, x in steps:
        if kind == "check_independent":
            if ctx.depends_on(x, contraction):
                raise Skip(f"a mask {x.name!r} is computed from the scores themselves")
            continue
        if kind == "factor":
            if isinstance(x, Node):
                if any(m.kind in ("allow", "fill") for m in masks):
                    raise Skip("the scores are multiplied by a runtime tensor after masking")
                q_factors.append(x)
                for m in masks:
                    m.tensor_factors = m.tensor_factors + (x,)
            else:
                if x < 0 and any(m.kind in ("allow", "fill") for m in masks):
                    raise Skip("the masked scores are multiplied by a negative constant")
                if x == 0:
                    raise Skip("the scores are multiplied by zero")
                scale *= x
                for m in masks:
                    if m.kind == "add":
                        m.factor *= x
                    elif m.kind == "fill":
                        m.value *= x
                        if not is_dominant_fill(m.value):
                            raise Skip("a masked_fill value stops being dominant after a later scale")
            continue
        masks.append(x)
    plan.scale *= scale
    plan.q_factors = q_factors
    plan.masks = masks


def _finalize_masks(plan: AttentionMatch, ctx: _Ctx, scores_shape) -> None:
    """Turn one provably causal mask into ``is_causal`` (see analyze_mask's docstring)."""
    if len(plan.masks) != 1 or plan.is_causal:
        return
    m = plan.masks[0]
    ms = shape(m.node)
    if ms is None or len(ms) < 2 or not (same_size(ms[-1], scores_shape[-1]) and same_size(ms[-2], scores_shape[-2])):
        return
    causal = False
    if m.kind in ("allow", "fill"):
        p = tri_pattern(m.node, ctx.constants)
        if p is not None:
            from dataclasses import replace

            p = replace(p, numeric=False)
            if m.kind == "allow":  # may attend where node XOR negate
                allow = p.flip() if m.negate else p
            else:  # filled where node XOR negate: may attend elsewhere
                allow = p if m.negate else p.flip()
            causal = allow.is_causal_allow
    elif m.kind == "add" and not m.tensor_factors and m.factor > 0:
        causal = causal_float_mask(m.node, ctx.constants, m.factor)
    if causal:
        plan.masks = []
        plan.is_causal = True


def _alpha_plan(plan: AttentionMatch, alpha: Any, scores_shape) -> None:
    if alpha is None:
        return
    a = scalar_value(alpha)
    if a is not None:
        if not (1.0 < a < math.inf):
            raise Skip(f"α = {a:g}: the fused op needs α > 1")
        plan.alpha = a
        return
    s = shape(alpha)
    if s is None:
        raise Skip("α is neither a constant nor a tensor")
    if len(s) > len(scores_shape) or not broadcasts_to(s, scores_shape) or (len(s) and not same_size(s[-1], 1)):
        raise Skip(f"tensor α of shape {tuple(s)} must broadcast to the scores with size 1 on the key dim")
    for i, d in enumerate(s):
        pos = i - len(s)  # from the end
        if pos != -3 and not same_size(d, 1):
            raise Skip(f"tensor α of shape {tuple(s)} varies along a dim other than heads")
    if len(s) >= 3 and not same_size(s[-3], 1) and plan.rank != 4:
        raise Skip("per-head α needs a 4-D (batch, heads, L, D) layout")
    plan.alpha_node = alpha


def _gqa(plan: AttentionMatch) -> None:
    if plan.rank != 4 or plan.k.views or plan.v.views:
        return
    rk, rv = unrepeat_kv(plan.k.node), unrepeat_kv(plan.v.node)
    if rk is None or rv is None or rk[1] != rv[1] or rk[1] <= 1:
        return
    sk, sv = shape(rk[0]), shape(rv[0])
    if sk is None or sv is None or not same_size(sk[1], sv[1]):
        return
    plan.k, plan.v, plan.gqa = Operand(rk[0]), Operand(rv[0]), rk[1]


def _check_dtypes(plan: AttentionMatch, out_node: Node) -> None:
    dts = {tensor_dtype(plan.q.node), tensor_dtype(plan.k.node), tensor_dtype(plan.v.node)}
    if len(dts) != 1 or None in dts:
        raise Skip(f"q, k and v have different dtypes ({', '.join(str(d) for d in dts)})")
    plan.out_dtype = tensor_dtype(out_node)


def _match_row_map(ctx: _Ctx, node: Node, kind: str, plan: AttentionMatch) -> None:
    x, dim, alpha, why = _map_input_and_dim(node, kind)
    if why:
        raise Skip(why)
    xs = shape(x)
    if xs is None or len(xs) < 2:
        raise Skip("the map's input is not a tensor of scores")
    d = const_number(dim) if dim is not None else None
    if d is None or d != int(d) or not -len(xs) <= d < len(xs):
        raise Skip(f"the map's dim ({dim!r}) is not a constant dimension")
    if int(d) % len(xs) != len(xs) - 1:
        raise Skip(f"the map runs over dim {int(d)}, not over the key dimension (last)")
    contraction, steps = _walk_scores(ctx, x, xs, node)
    w_contraction, v, form = _walk_weights(node, xs)
    q, k, pre, spec = _scores_operands(ctx, contraction, steps)
    rank = len(xs)
    if rank not in (3, 4):
        raise Skip(f"{rank}-D scores; 3-D and 4-D supported")
    plan.rank = rank
    vo, out_perm = _value_operand(w_contraction, form, v, spec, rank)
    sv = shape(vo.node)
    if form in ("matmul", "bmm") and not (sv is not None and all(same_size(a, b) for a, b in zip(sv[:-2], xs[:-2]))
                                          and same_size(sv[-2], xs[-1])):
        raise Skip("v's batch dims / length do not match the weights (broadcasting matmul)")
    q, cq = _fold_operand_scale(q)
    k, ck = _fold_operand_scale(k)
    plan.scale = cq * ck
    plan.q, plan.k, plan.v, plan.out_node, plan.out_perm = q, k, vo, w_contraction, out_perm
    _apply_steps(plan, pre + steps, ctx, contraction)
    _finalize_masks(plan, ctx, xs)
    _alpha_plan(plan, alpha, xs)
    _gqa(plan)
    _check_dtypes(plan, w_contraction)


def _match_sdpa(ctx: _Ctx, node: Node, plan: AttentionMatch) -> None:
    q, k, v = (arg(node, i, n) for i, n in enumerate(("query", "key", "value")))
    mask = arg(node, 3, "attn_mask")
    dropout_p = const_number(arg(node, 4, "dropout_p", 0.0))
    is_causal = arg(node, 5, "is_causal", False)
    scale = arg(node, 6, "scale", None)
    enable_gqa = arg(node, 7, "enable_gqa", False)
    if dropout_p is None:
        raise Skip("SDPA's dropout_p is a runtime value")
    if dropout_p > 0:
        raise Skip(f"SDPA with dropout_p={dropout_p:g}: the fused op has no dropout")
    if not isinstance(is_causal, bool) or not isinstance(enable_gqa, bool):
        raise Skip("SDPA's is_causal / enable_gqa are runtime values")
    sq, sk, sv = shape(q), shape(k), shape(v)
    if sq is None or sk is None or sv is None or not (len(sq) == len(sk) == len(sv)) or len(sq) not in (3, 4):
        raise Skip("SDPA with other than 3-D or 4-D q, k, v")
    if not all(same_size(a, b) for a, b in zip(sq[:-3], sk[:-3])) or not same_size(sk[-2], sv[-2]):
        raise Skip("SDPA with broadcast batch dims")
    plan.rank = len(sq)
    if len(sq) == 4 and not enable_gqa and not same_size(sq[1], sk[1]):
        raise Skip("SDPA with broadcast head dims")
    if len(sq) == 3 and not all(same_size(a, b) for a, b in zip(sq[:-2], sk[:-2])):
        raise Skip("SDPA with broadcast batch dims")
    if scale is None:
        s = default_scale(sq[-1])
        if s is None:
            raise Skip("SDPA's default scale depends on a symbolic head dim")
    else:
        s = scalar_value(scale)
        if s is None:
            raise Skip("SDPA's scale is a runtime value")
    plan.q, plan.k, plan.v, plan.out_node, plan.scale = Operand(q), Operand(k), Operand(v), node, s
    plan.is_causal = is_causal
    scores_shape = tuple(sq[:-1]) + (sk[-2],)
    if mask is not None:
        if not isinstance(mask, Node):
            raise Skip("SDPA's attn_mask is not a tensor")
        if not broadcasts_to(shape(mask), scores_shape) and not (len(sq) == 4 and enable_gqa):
            raise Skip("SDPA's attn_mask does not broadcast to the scores")
        dt = tensor_dtype(mask)
        plan.masks = [MaskTerm("allow" if dt == torch.bool else "add", mask)]
        _finalize_masks(plan, ctx, scores_shape)
    if not enable_gqa:
        _gqa(plan)
    _check_dtypes(plan, node)


def find_attention_sites(
    gm: GraphModule,
    options: PassOptions,
    constants: Callable[[Node], Optional[torch.Tensor]] = lambda n: None,
) -> list[AttentionMatch]:
    """Every attention site of ``gm``, each with status "rewritten" (a plan) or "skipped" (a reason).

    ``constants(node)`` gives the value of placeholders that may be read at compile time (module
    buffers); see :mod:`.analyze_mask`. The graph is not modified."""
    ctx = _Ctx(gm, constants)
    entmax_fns = _entmax_functions()
    sites = []
    for node in list(gm.graph.nodes):
        kind = map_kind(node, entmax_fns)
        if kind is None:
            continue
        plan = AttentionMatch(kind=kind, map_node=node, location=_location(node), alpha=options.alpha)
        try:
            if kind == "native_fused":
                raise Skip(
                    "PyTorch's native fused fast path (nn.TransformerEncoderLayer / MultiheadAttention in "
                    "eval mode under no_grad) is one opaque kernel; with grad enabled or in training mode "
                    "the module is traced as F.multi_head_attention_forward, which can be converted"
                )
            if kind == "mha":
                _match_mha(node, plan)
            elif kind == "sdpa":
                _match_sdpa(ctx, node, plan)
            else:
                if kind == "softmax" and not _looks_like_attention(node):
                    continue  # a softmax over logits, not attention: not a site
                _match_row_map(ctx, node, kind, plan)
            if kind in ("softmax", "sdpa", "mha") and not options.convert_softmax:
                raise Skip("softmax attention is left alone (pass convert_softmax=True to convert it to α-entmax)")
            plan.status, plan.reason = "rewritten", None
        except Skip as e:
            plan.status, plan.reason = "skipped", str(e)
        if kind not in ("softmax", "sdpa", "mha", "native_fused") and plan.status == "skipped" and not _looks_like_attention(node):
            continue  # entmax over something that is not attention scores
        sites.append(plan)
    return sites


def _location(node: Node) -> Optional[str]:
    """Where the site is in user code; from a neighbour when the node itself has no trace."""
    for n in [node, *node.users, *node.all_input_nodes]:
        loc = stack_location(n)
        if loc is not None:
            return loc
    # Dynamo records no user stack inside torch.nn's own modules: name the module instead.
    stack = node.meta.get("nn_module_stack") or {}
    if stack:
        path, cls = list(stack.values())[-1]
        return f"{getattr(cls, '__qualname__', cls)}:{path}"
    return None


def _looks_like_attention(node: Node) -> bool:
    """A row map is an attention site if a contraction produces its input and another one
    consumes its output (possibly besides other users)."""
    x = node.args[0] if node.args else None
    if not _reaches_contraction(x):
        return False
    cur = node
    for _ in range(8):
        for u in cur.users:
            if op_name(u) in ("matmul", "bmm", "einsum"):
                return True
        nxt = [u for u in cur.users if _cast_source(u) is cur or op_name(u) in ("dropout", "dropout_aten")]
        if not nxt:
            return False
        cur = nxt[0]
    return False


_MHA_PARAMS = (
    "query", "key", "value", "embed_dim_to_check", "num_heads", "in_proj_weight", "in_proj_bias", "bias_k",
    "bias_v", "add_zero_attn", "dropout_p", "out_proj_weight", "out_proj_bias", "training", "key_padding_mask",
    "need_weights", "attn_mask", "use_separate_proj_weight", "q_proj_weight", "k_proj_weight", "v_proj_weight",
    "static_k", "static_v", "average_attn_weights", "is_causal",
)
_MHA_DEFAULTS = {"training": True, "key_padding_mask": None, "need_weights": True, "attn_mask": None,
                 "use_separate_proj_weight": False, "q_proj_weight": None, "k_proj_weight": None,
                 "v_proj_weight": None, "static_k": None, "static_v": None, "average_attn_weights": True,
                 "is_causal": False}


def _match_mha(node: Node, plan: AttentionMatch) -> None:
    """``F.multi_head_attention_forward`` (nn.MultiheadAttention, TransformerEncoderLayer, ...):
    one opaque call in the Dynamo graph. The common configuration (batched input, no bias_k/v,
    no zero attention, no static k/v, no dropout, weights not returned) is replaced as a whole by
    the same projections around the fused op; masks keep PyTorch's meaning (see
    ``fuse_entmax_attention.mha_entmax_forward``)."""
    a = {name: arg(node, i, name, _MHA_DEFAULTS.get(name)) for i, name in enumerate(_MHA_PARAMS)}
    if a["need_weights"] is not False:
        raise Skip(
            "nn.MultiheadAttention with need_weights=True returns the attention weights, so they must "
            "stay materialised"
        )
    for name in ("bias_k", "bias_v", "static_k", "static_v"):
        if a[name] is not None:
            raise Skip(f"nn.MultiheadAttention with {name}: not supported")
    if a["add_zero_attn"] is not False:
        raise Skip("nn.MultiheadAttention with add_zero_attn=True: not supported")
    p = const_number(a["dropout_p"])
    if a["training"] is not False and (p is None or p > 0):
        raise Skip(f"nn.MultiheadAttention with attention dropout (p={a['dropout_p']}) in training mode")
    if not isinstance(a["is_causal"], bool) or not isinstance(a["use_separate_proj_weight"], bool):
        raise Skip("nn.MultiheadAttention with runtime is_causal / use_separate_proj_weight")
    heads = const_number(a["num_heads"])
    sq, sk = shape(a["query"]), shape(a["key"])
    if heads is None or sq is None or sk is None or len(sq) != 3 or len(sk) != 3:
        raise Skip("nn.MultiheadAttention with unbatched (2-D) inputs")
    if not all(tensor_dtype(a[n]) == tensor_dtype(a["query"]) for n in ("key", "value")):
        raise Skip("nn.MultiheadAttention with q, k, v of different dtypes")
    plan.out_node = node
    plan.mha_args = a
    plan.rank = 4
    plan.is_causal = a["is_causal"] and a["key_padding_mask"] is None

