"""H200 A/B of the backward's fused dQ (``attention_bwd.FUSED_DQ``: the dK/dV pass adds dZ·K to a
float32 accumulator with atomics, no dQ pass) against the three-kernel backward, through the public
op: bf16 B=2 H=16 D=128 causal α = 1.5, do_bench medians (ms) of forward+backward and of the
backward alone (one forward, its graph kept), plus each variant's gradients against the first
variant's, and (``--accuracy N``) every variant's max error against float64 on B=1 H=2 'rand' next
to the plain PyTorch bf16 error (FlashAttention's 3x rule).

    SAVE_CACHE=0 bash scripts/gpu_run.sh python3 benchmarks/gpu_fused_dq.py \\
        --points 4096:rand,4096:local --variants "passes;fused=32,128,64,64,8,2"

A variant is ``passes`` (FUSED_DQ off) or ``fused[=BLOCK_M1,BLOCK_N1,BLOCK_M2,BLOCK_N2,warps,stages]``
(FUSED_DQ on; the config replaces ``FUSED_CONFIGS``' bf16 D=128 entry).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from adasplash_compile import entmax_attention, reference  # noqa: E402
from adasplash_compile.kernels import attention_bwd  # noqa: E402
from benchmarks.gpu_listed_bwd import _inputs, bench  # noqa: E402

ALPHA = 1.5


@contextlib.contextmanager
def variant(spec: str):
    key = (torch.bfloat16, 128)
    saved = attention_bwd.FUSED_DQ, dict(attention_bwd.FUSED_CONFIGS)
    name, _, cfg = spec.partition("=")
    if name not in ("passes", "fused"):
        raise ValueError(f"variant: expected 'passes' or 'fused[=config]', got {spec!r}")
    attention_bwd.FUSED_DQ = name == "fused"
    if cfg:
        attention_bwd.FUSED_CONFIGS[key] = tuple(int(x) for x in cfg.split(","))
    try:
        yield
    finally:
        attention_bwd.FUSED_DQ = saved[0]
        attention_bwd.FUSED_CONFIGS.clear()
        attention_bwd.FUSED_CONFIGS.update(saved[1])


def _grads(q, k, v, do):
    leaves = [t.detach().clone().requires_grad_() for t in (q, k, v)]
    return torch.autograd.grad(entmax_attention(*leaves, is_causal=True, alpha=ALPHA), leaves, do)


def timing(points, variants):
    for point in points:
        n, kind = point.split(":")
        q, k, v, do = _inputs(kind, 2, 16, int(n), 128)
        leaves = [t.detach().clone().requires_grad_() for t in (q, k, v)]
        first = None
        for spec in variants:
            with variant(spec):
                def step():
                    torch.autograd.grad(entmax_attention(*leaves, is_causal=True, alpha=ALPHA), leaves, do)

                fb = bench(step)
                out = entmax_attention(*leaves, is_causal=True, alpha=ALPHA)
                bwd = bench(lambda: torch.autograd.grad(out, leaves, do, retain_graph=True))
                got = torch.autograd.grad(out, leaves, do)
            if first is None:
                first, same = got, "first"
            else:
                same = "bitwise" if all(torch.equal(g, f) for g, f in zip(got, first)) else (
                    "max diff dq/dk/dv " + " ".join(f"{(g.float() - f.float()).abs().max().item():.2e}"
                                                    for g, f in zip(got, first)))
            print(f"[fused-dq] N={n} {kind:5s} {spec:28s} fwd+bwd {fb:8.3f}  bwd {bwd:8.3f}  {same}", flush=True)


def accuracy(n, variants):
    q, k, v, do = _inputs("rand", 1, 2, n, 128, seed=1)
    scale = q.shape[-1] ** -0.5
    want = reference.entmax_attention_backward(do.double(), q.double(), k.double(), v.double(), None, True, scale,
                                               alpha=ALPHA)[:3]
    plain = reference.entmax_attention_backward(do, q, k, v, None, True, scale, alpha=ALPHA)[:3]
    for spec in variants:
        with variant(spec):
            got = _grads(q, k, v, do)
        cells = []
        for name, g, w, p in zip(("dq", "dk", "dv"), got, want, plain):
            err, base = (g.double() - w).abs().max().item(), (p.double() - w).abs().max().item()
            cells.append(f"{name} {err:.2e} (plain bf16 {base:.2e}, {'ok' if err <= 3 * base else 'OVER 3x'})")
        print(f"[fused-dq accuracy] N={n} {spec:28s} " + "; ".join(cells), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", default="4096:rand,4096:local")
    ap.add_argument("--variants", default="passes;fused")
    ap.add_argument("--accuracy", type=int, default=0, help="also the max error against float64 at this N")
    a = ap.parse_args()
    variants = a.variants.split(";")
    if a.accuracy:
        accuracy(a.accuracy, variants)
    timing(a.points.split(","), variants)


if __name__ == "__main__":
    main()
