"""H200 A/B of the backward's fused dQ (``attention_bwd.FUSED_DQ``: the dK/dV pass adds dZ·K to a
float32 accumulator with atomics, no dQ pass) against the three-kernel backward, through the public
op: bf16 B=2 H=16 D=128 causal, do_bench medians (ms) of forward+backward and of the
backward alone (one forward, its graph kept), a step's peak memory above what was allocated before
it, plus each variant's gradients against the first variant's, and (``--accuracy N``) every variant's max error against float64 on B=1 H=2 'rand' next
to the plain PyTorch bf16 error (FlashAttention's 3x rule).

    SAVE_CACHE=0 bash scripts/gpu_run.sh python3 benchmarks/gpu_fused_dq.py \\
        --points 4096:rand,4096:local --variants "passes;fused=32,128,64,64,8,2"

A variant is ``passes`` (FUSED_DQ off), ``fused[=BLOCK_M1,BLOCK_N1,BLOCK_M2,BLOCK_N2,warps,stages]``
(FUSED_DQ on at any length, FUSED_MAX_LK lifted; the config replaces ``FUSED_CONFIGS``' entry for
``--dtype`` and ``--d``) or ``default`` (the shipped settings). ``--alpha``: 1.5 (default),
another float, or ``LO..HI`` for a learnable α per head (linspace over the 16 heads; its gradient is
taken too).
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
from benchmarks.inputs import attention_inputs  # noqa: E402



def _alpha(spec: str):
    if ".." in spec:
        lo, hi = (float(x) for x in spec.split(".."))
        return torch.linspace(lo, hi, 16, device="cuda")
    return float(spec)


def _wrt(leaves, alpha):
    """(α argument, tensors to differentiate): a per-head α is learnable."""
    if isinstance(alpha, float):
        return alpha, leaves
    learn = alpha.clone().requires_grad_()
    return learn, [*leaves, learn]


@contextlib.contextmanager
def variant(spec: str, key=(torch.bfloat16, 128)):
    """``key``: the (dtype, rounded head dim) entry of FUSED_CONFIGS a config replaces."""
    saved = attention_bwd.FUSED_DQ, attention_bwd.FUSED_MAX_LK, dict(attention_bwd.FUSED_CONFIGS)
    name, _, cfg = spec.partition("=")
    if name not in ("passes", "fused", "default"):
        raise ValueError(f"variant: expected 'passes', 'fused[=config]' or 'default', got {spec!r}")
    if name != "default":
        attention_bwd.FUSED_DQ = name == "fused"
        attention_bwd.FUSED_MAX_LK = 2**31  # (at any length)
    if cfg:
        attention_bwd.FUSED_CONFIGS[key] = tuple(int(x) for x in cfg.split(","))
    try:
        yield
    finally:
        attention_bwd.FUSED_DQ, attention_bwd.FUSED_MAX_LK = saved[:2]
        attention_bwd.FUSED_CONFIGS.clear()
        attention_bwd.FUSED_CONFIGS.update(saved[2])


def _grads(q, k, v, do, alpha):
    leaves = [t.detach().clone().requires_grad_() for t in (q, k, v)]
    a, wrt = _wrt(leaves, alpha)
    return torch.autograd.grad(entmax_attention(*leaves, is_causal=True, alpha=a), wrt, do)


def _shaped_inputs(kind, n, d, dtype):
    if (d, dtype) == (128, torch.bfloat16):
        return _inputs(kind, 2, 16, n, d)
    g = torch.Generator(device="cuda").manual_seed(0)
    q, k, v = attention_inputs(kind, 2, 16, n, d, dtype=dtype, device="cuda", generator=g)
    return q, k, v, torch.randn(q.shape, device="cuda", dtype=dtype, generator=g)


def timing(points, variants, alpha, d=128, dtype=torch.bfloat16):
    for point in points:
        n, kind = point.split(":")
        q, k, v, do = _shaped_inputs(kind, int(n), d, dtype)
        leaves = [t.detach().clone().requires_grad_() for t in (q, k, v)]
        a, wrt = _wrt(leaves, alpha)
        first = None
        for spec in variants:
            with variant(spec, (dtype, max(16, 1 << (d - 1).bit_length()))):
                def step():
                    torch.autograd.grad(entmax_attention(*leaves, is_causal=True, alpha=a), wrt, do)

                fb = bench(step)
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
                base = torch.cuda.memory_allocated()
                step()
                torch.cuda.synchronize()
                peak = (torch.cuda.max_memory_allocated() - base) / 2**20
                out = entmax_attention(*leaves, is_causal=True, alpha=a)
                bwd = bench(lambda: torch.autograd.grad(out, wrt, do, retain_graph=True))
                got = torch.autograd.grad(out, wrt, do)
            if first is None:
                first, same = got, "first"
            else:
                same = "bitwise" if all(torch.equal(g, f) for g, f in zip(got, first)) else (
                    "max diff dq/dk/dv[/dα] " + " ".join(f"{(g.float() - f.float()).abs().max().item():.2e}"
                                                    for g, f in zip(got, first)))
            print(f"[fused-dq] D={d} {str(dtype)[6:]} α={alpha if isinstance(alpha, float) else 'per-head'} N={n} "
                  f"{kind:5s} {spec:28s} fwd+bwd {fb:8.3f}  bwd {bwd:8.3f}  step peak +{peak:7.1f} MiB  {same}",
                  flush=True)


def accuracy(n, variants, alpha):
    """B=1 H=2 'rand' (a per-head α: its first two heads, and dα too)."""
    q, k, v, do = _inputs("rand", 1, 2, n, 128, seed=1)
    scale = q.shape[-1] ** -0.5
    if not isinstance(alpha, float):
        alpha = alpha[:2].contiguous()
    a64 = alpha if isinstance(alpha, float) else alpha.double()
    a32 = alpha if isinstance(alpha, float) else alpha.float()
    names = ("dq", "dk", "dv") + (() if isinstance(alpha, float) else ("dalpha",))
    want = reference.entmax_attention_backward(do.double(), q.double(), k.double(), v.double(), None, True, scale,
                                               alpha=a64)[:len(names)]
    plain = reference.entmax_attention_backward(do, q, k, v, None, True, scale, alpha=a32)[:len(names)]
    for spec in variants:
        with variant(spec):
            got = _grads(q, k, v, do, alpha)
        cells = []
        for name, g, w, p in zip(names, got, want, plain):
            err, base = (g.double() - w).abs().max().item(), (p.double() - w).abs().max().item()
            rel = f", {err / w.abs().max().item():.1e} of max |{name}|" if name == "dalpha" else ""
            cells.append(f"{name} {err:.2e} (plain bf16 {base:.2e}, {'ok' if err <= 3 * base else 'OVER 3x'}{rel})")
        print(f"[fused-dq accuracy] N={n} {spec:28s} " + "; ".join(cells), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", default="4096:rand,4096:local")
    ap.add_argument("--variants", default="passes;fused")
    ap.add_argument("--accuracy", type=int, default=0, help="also the max error against float64 at this N")
    ap.add_argument("--alpha", default="1.5", help="a float, or LO..HI for a learnable α per head")
    ap.add_argument("--d", type=int, default=128, help="head dim (timing only)")
    ap.add_argument("--dtype", default="bfloat16", choices=("bfloat16", "float16", "float32"))
    a = ap.parse_args()
    variants = a.variants.split(";")
    alpha = _alpha(a.alpha)
    if a.accuracy:
        accuracy(a.accuracy, variants, alpha)
    timing(a.points.split(","), variants, alpha, a.d, getattr(torch, a.dtype))


if __name__ == "__main__":
    main()
