"""Rewrite matched attention sites into one ``adasplash_compile::attention_fwd`` call each.

Contract: ``FuseEntmaxAttention(options)(gm, sites) -> new gm``; ``gm`` itself is not modified
(the graph is copied, and the plans are carried over to the copy). Each site's plan (from
:mod:`.match_attention`) becomes::

    out = torch.ops.adasplash_compile.attention_fwd(q, k, v, attn_mask, is_causal, scale,
                                                    alpha, alpha_t, save_aux)[0]

inserted just before the contraction with v, whose users then read ``out`` (viewed back to the
original layout and dtype); the now-dead chain (scores, masks, map, weights) is erased. The
custom op carries its own autograd, so training graphs work; ``save_aux`` (keep τ and O₂ for the
backward) is set when any input requires grad at trace time.
"""

from __future__ import annotations

import dataclasses
import math
import operator
from typing import Any, Optional

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


def mha_entmax_forward(query, key, value, num_heads: int, in_proj_weight, in_proj_bias, out_proj_weight,
                       out_proj_bias, key_padding_mask, attn_mask, use_separate_proj_weight: bool, q_proj_weight,
                       k_proj_weight, v_proj_weight, is_causal: bool, alpha: float):
    """``F.multi_head_attention_forward`` (batched, need_weights=False, no bias_k/v, no zero attention,
    no static k/v, no dropout) with the attention itself done by the fused α-entmax op.

    The projections are PyTorch's own helpers; the masks follow PyTorch's rules exactly: both are
    made float by ``F._canonical_mask`` (bool True = masked → −inf) and added; ``is_causal`` with
    no key padding mask drops ``attn_mask`` and runs causal, as PyTorch does. Returns
    ``(output, None)`` like the original."""
    import torch.nn.functional as F

    L, B, E = query.shape
    S = key.shape[0]
    D = E // num_heads
    if not use_separate_proj_weight:
        q, k, v = F._in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)
    else:
        b_q, b_k, b_v = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)
        q, k, v = F._in_projection(query, key, value, q_proj_weight, k_proj_weight, v_proj_weight, b_q, b_k, b_v)
    q = q.view(L, B, num_heads, D).permute(1, 2, 0, 3)
    k = k.view(S, B, num_heads, D).permute(1, 2, 0, 3)
    v = v.view(S, B, num_heads, D).permute(1, 2, 0, 3)
    causal = bool(is_causal and key_padding_mask is None)
    mask = None
    if not causal:
        if attn_mask is not None:
            am = F._canonical_mask(mask=attn_mask, mask_name="attn_mask", other_type=None, other_name="",
                                   target_type=q.dtype, check_other=False)
            mask = am.view(B, num_heads, L, S) if am.dim() == 3 else am
        if key_padding_mask is not None:
            kpm = F._canonical_mask(mask=key_padding_mask, mask_name="key_padding_mask",
                                    other_type=F._none_or_dtype(attn_mask), other_name="attn_mask",
                                    target_type=q.dtype)
            kpm = kpm.view(B, 1, 1, S)
            mask = kpm if mask is None else mask + kpm
    save_aux = torch.is_grad_enabled() and any(
        t is not None and t.requires_grad for t in (q, k, v, mask))
    out = FUSED_OP(q, k, v, mask, causal, 1.0 / math.sqrt(D), alpha, None, save_aux)[0]
    out = out.permute(2, 0, 1, 3).reshape(L * B, E)
    out = F.linear(out, out_proj_weight, out_proj_bias)
    return out.view(L, B, out.size(1)), None


def _remap(obj: Any, vm: dict) -> Any:
    """``obj`` (a plan or a part of one) with every node replaced by its copy."""
    if isinstance(obj, Node):
        return vm[obj]
    if isinstance(obj, (list, tuple)):
        return type(obj)(_remap(x, vm) for x in obj)
    if isinstance(obj, dict):
        return {k: _remap(v, vm) for k, v in obj.items()}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.replace(obj, **{f.name: _remap(getattr(obj, f.name), vm) for f in dataclasses.fields(obj)})
    return obj


class FuseEntmaxAttention:
    """Graph in, graph out: rewrites the sites whose status is "rewritten" in a copy of ``gm``."""

    def __init__(self, options) -> None:
        self.options = options

    def __call__(self, gm: GraphModule, sites: list[AttentionMatch]) -> GraphModule:
        graph = torch.fx.Graph()
        vm: dict = {}
        graph.output(graph.graph_copy(gm.graph, vm))
        for plan in sites:
            if plan.status != "rewritten":
                continue
            plan = _remap(plan, vm)
            if plan.status != "rewritten":
                continue
            out_node = plan.out_node
            if plan.mha_args is not None:
                a = plan.mha_args
                with graph.inserting_before(out_node):
                    new = graph.call_function(mha_entmax_forward, (
                        a["query"], a["key"], a["value"], a["num_heads"], a["in_proj_weight"], a["in_proj_bias"],
                        a["out_proj_weight"], a["out_proj_bias"], a["key_padding_mask"], a["attn_mask"],
                        a["use_separate_proj_weight"], a["q_proj_weight"], a["k_proj_weight"], a["v_proj_weight"],
                        a["is_causal"], float(plan.alpha)))
                    new.meta.update({k: v for k, v in out_node.meta.items() if k in ("stack_trace", "nn_module_stack")})
                out_node.replace_all_uses_with(new)
                _erase_dead(graph, out_node)
                continue
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
        new = GraphModule(gm, graph)  # shares gm's submodules, parameters and buffers
        new.meta.update(getattr(gm, "meta", {}))
        return new


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
