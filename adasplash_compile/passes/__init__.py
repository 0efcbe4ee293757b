"""FX passes over Dynamo graphs: find attention sites, analyse them, rewrite them.

``rewrite_attention(gm, example_inputs, options) -> (gm', sites)`` is the whole pipeline:
:mod:`.match_attention` finds the sites (with :mod:`.analyze_scale`, :mod:`.analyze_mask` and
:mod:`.analyze_layout` answering its questions), :mod:`.fuse_entmax_attention` rewrites them, and
:mod:`.report` turns the sites into what :func:`adasplash_compile.explain` prints.

The pipeline is side-effect free: the input graph module is never modified. When there is
something to rewrite, the rewrite works on a copy of the graph that shares the module's
parameters and buffers; so calling it twice on one graph (Dynamo may) gives the same result
twice, and running it on its own output finds nothing left to do (idempotent).

Cache identity: the rewritten graph contains the fused op's call with every decision as a
constant argument, so Inductor's FX graph cache keys on the result directly. :func:`uuid` (a
hash of this package's source and the options, as Inductor's ``CustomGraphPass.uuid``) is there
for callers that cache on the pass itself.
"""

from __future__ import annotations

import hashlib
import logging
import time
from pathlib import Path
from typing import Any, Optional, Sequence

import torch
from torch.fx import GraphModule, Node

from .. import ops as _ops  # noqa: F401  (registers torch.ops.adasplash_compile.*)
from .fuse_entmax_attention import FUSED_OP, FuseEntmaxAttention, mha_entmax_forward
from .match_attention import AttentionMatch, find_attention_sites
from .options import PassOptions, parse_options

__all__ = ["rewrite_attention", "uuid", "PassOptions", "parse_options", "FUSED_OP", "FUSED_TARGETS",
           "AttentionMatch"]

# What a rewritten site calls in the graph: the op itself, or (nn.MultiheadAttention sites) the
# function that wraps it with MHA's projections.
FUSED_TARGETS = (FUSED_OP, mha_entmax_forward)

log = logging.getLogger("adasplash_compile")

_SOURCE_HASH: Optional[str] = None


def _source_hash() -> str:
    global _SOURCE_HASH  # a memo of constant files, not pass state
    if _SOURCE_HASH is None:
        h = hashlib.sha256()
        for p in sorted(Path(__file__).parent.glob("*.py")):
            h.update(p.name.encode())
            h.update(p.read_bytes())
        _SOURCE_HASH = h.hexdigest()
    return _SOURCE_HASH


def uuid(options: Optional[PassOptions] = None) -> str:
    """Cache identity of the pass: hash of its source plus the options it runs with."""
    options = options or PassOptions()
    return hashlib.sha256((_source_hash() + repr(options.key())).encode()).hexdigest()


def _is_buffer_source(node: Node) -> bool:
    ga = node.meta.get("grapharg")
    src = getattr(ga, "source", None)
    if src is None:
        # Dynamo names a placeholder after its source: L['self']._buffers['bias'] becomes
        # L_self_buffers_bias_ (the grapharg meta is not always kept).
        return "_buffers_" in str(node.target)
    try:
        name = src.name() if callable(getattr(src, "name", None)) else str(src.name)
    except Exception:  # pragma: no cover
        name = str(src)
    return "_buffers" in name


def _constants_reader(gm: GraphModule, example_inputs: Sequence[Any]):
    """Values that may be read at compile time: module buffers and get_attr constants (never a
    forward argument, which can change from call to call)."""
    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
    by_node = {}
    for n, ex in zip(placeholders, example_inputs):
        if isinstance(ex, torch.Tensor) and not isinstance(ex, torch._subclasses.FakeTensor) and _is_buffer_source(n):
            by_node[n] = ex

    def read(node: Node) -> Optional[torch.Tensor]:
        if node.op == "get_attr":
            try:
                v = gm
                for part in str(node.target).split("."):
                    v = getattr(v, part)
            except AttributeError:
                return None
            return v if isinstance(v, torch.Tensor) and not isinstance(v, torch._subclasses.FakeTensor) else None
        return by_node.get(node)

    return read


def rewrite_attention(
    gm: GraphModule, example_inputs: Sequence[Any], options: Any = None
) -> tuple[GraphModule, list[AttentionMatch]]:
    """Find and rewrite attention sites. Returns ``(graph module, sites)``; ``gm`` itself is
    returned (unchanged) when nothing is rewritten, otherwise a rewritten copy."""
    opts = parse_options(options)
    if not opts.enabled:
        return gm, []
    t0 = time.perf_counter()
    # Matching only reads gm; the rewrite works on a copy (parameters shared), so gm is never
    # modified and a graph with nothing to rewrite costs no copy at all.
    sites = find_attention_sites(gm, opts, _constants_reader(gm, example_inputs))
    if any(s.status == "rewritten" for s in sites):
        gm = FuseEntmaxAttention(opts)(gm, sites)
    for s in sites:
        if s.status == "rewritten":
            log.info("adasplash: rewrote %s attention at %s", s.kind, s.location)
        else:
            log.info("adasplash: skipped %s attention at %s: %s", s.kind, s.location, s.reason)
    log.debug("adasplash: attention pass took %.2f ms", 1e3 * (time.perf_counter() - t0))
    return gm, sites
