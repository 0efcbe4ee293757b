"""Rewrite matched attention sites into one ``adasplash_compile::attention_fwd`` call each.

Contract: ``FuseEntmaxAttention(options)(gm, sites) -> gm``. Each site's plan (from
:mod:`.match_attention`) becomes::

    out, _, _ = torch.ops.adasplash_compile.attention_fwd(q, k, v, attn_mask, is_causal, scale,
                                                          alpha, alpha_t, save_aux)

inserted just before the contraction with v, whose users then read ``out`` (viewed back to the
original layout and dtype); the now-dead chain (scores, masks, map, weights) is erased. The
custom op carries its own autograd, so training graphs work; ``save_aux`` (keep τ and O₂ for the
backward) is set when any input requires grad at trace time.
"""

from __future__ import annotations

import operator
from typing import Optional

import torch
from torch.fx import GraphModule, Node

from .analyze_layout import Operand, swapped_last_two
from .graph_ops import requires_grad, shape
from .match_attention import AttentionMatch

__all__ = ["FuseEntmaxAttention", "FUSED_OP"]

FUSED_OP = torch.ops.adasplash_compile.attention_fwd.default


class _Builder:
    def __init__(self, graph, meta_from: Node):
        self.graph = graph
        self.stack_trace = meta_from.meta.get("stack_trace")

    def _stamp(self, n: Node) -> Node:
        if self.stack_trace:
            n.meta["stack_trace"] = self.stack_trace
        return n

    def method(self, name: str, *args, **kwargs) -> Node:
        return self._stamp(self.graph.call_method(name, args, kwargs))

    def fn(self, target, *args, **kwargs) -> Node:
        return self._stamp(self.graph.call_function(target, args, kwargs))

    def operand(self, op: Operand) -> Node:
        node = op.node
        for view in op.views:
            if view[0] == "transpose":
                inner = swapped_last_two(node)
                node = inner if inner is not None else self.method("transpose", node, view[1], view[2])
            elif view[0] == "permute":
                node = self.method("permute", node, *view[1])
            elif view[0] == "unsqueeze":
                node = self.method("unsqueeze", node, view[1])
        return node


def _materialize_mask(b: _Builder, plan: AttentionMatch) -> Optional[Node]:
    additive: Optional[Node] = None
    allow: Optional[Node] = None
    for m in plan.masks:
        if m.kind == "add":
            t = m.node
            if m.factor != 1.0:
                t = b.fn(operator.mul, t, m.factor)
            for f in m.tensor_factors:
                t = b.fn(operator.mul, t, f)
            additive = t if additive is None else b.fn(operator.add, additive, t)
        elif m.kind == "fill":
            filled = m.node if not m.negate else b.fn(torch.logical_not, m.node)
            t = b.fn(torch.where, filled, m.value, 0.0)
            additive = t if additive is None else b.fn(operator.add, additive, t)
        elif m.kind == "allow":
            a = m.node if not m.negate else b.fn(torch.logical_not, m.node)
            allow = a if allow is None else b.fn(torch.logical_and, allow, a)
    if additive is not None and allow is not None:
        return b.fn(torch.where, allow, additive, float("-inf"))
    return additive if additive is not None else allow


def _needs_grad(plan: AttentionMatch) -> bool:
    nodes = [plan.q.node, plan.k.node, plan.v.node, plan.alpha_node, *plan.q_factors]
    nodes += [m.node for m in plan.masks if m.kind == "add"]
    return any(n is not None and requires_grad(n) for n in nodes)


class FuseEntmaxAttention:
    """Graph in, graph out: rewrites the sites whose status is "rewritten"."""

    def __init__(self, options) -> None:
        self.options = options

    def __call__(self, gm: GraphModule, sites: list[AttentionMatch]) -> GraphModule:
        graph = gm.graph
        for plan in sites:
            if plan.status != "rewritten":
                continue
            out_node = plan.out_node
            with graph.inserting_before(out_node):
                b = _Builder(graph, plan.map_node)
                q, k, v = b.operand(plan.q), b.operand(plan.k), b.operand(plan.v)
                for f in plan.q_factors:
                    q = b.fn(operator.mul, q, f)
                mask = _materialize_mask(b, plan)
                if plan.rank == 3:
                    q, k, v = (b.method("unsqueeze", t, 0) for t in (q, k, v))
                alpha_t = None
                if plan.alpha_node is not None:
                    heads = b.method("size", q, 1)
                    a = b.method("reshape", plan.alpha_node, -1)
                    a = b.method("expand", a, heads) if _uniform(plan.alpha_node) else a
                    # α in the op's compute precision: fp32, fp64 for fp64 inputs
                    adt = torch.float64 if _dtype(plan.q.node) == torch.float64 else torch.float32
                    alpha_t = b.method("to", a, adt)
                call = b.fn(
                    FUSED_OP, q, k, v, mask, bool(plan.is_causal), float(plan.scale), float(plan.alpha), alpha_t,
                    _needs_grad(plan),
                )
                out = b.fn(operator.getitem, call, 0)
                if plan.rank == 3:
                    out = b.method("squeeze", out, 0)
                if plan.out_perm is not None:
                    out = b.method("permute", out, *plan.out_perm)
                if plan.out_dtype is not None and plan.out_dtype != _dtype(plan.q.node):
                    out = b.method("to", out, plan.out_dtype)
            out_node.replace_all_uses_with(out)
            _erase_dead(graph, out_node)
        graph.lint()
        gm.recompile()
        return gm


def _uniform(alpha_node: Node) -> bool:
    s = shape(alpha_node)
    return s is not None and (len(s) < 3 or s[-3] == 1)


def _dtype(node: Node):
    from .graph_ops import tensor_dtype

    return tensor_dtype(node)


def _erase_dead(graph, start: Node) -> None:
    """Erase ``start`` and whatever only it kept alive (never placeholders or impure calls)."""
    work = [start]
    while work:
        n = work.pop()
        if n.users or n.op in ("placeholder", "output", "get_attr") or n.is_impure():
            continue
        inputs = list(n.all_input_nodes)
        graph.erase_node(n)
        work.extend(inputs)
