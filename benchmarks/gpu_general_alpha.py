"""H200 probe: general α through the public op, a float α and one learnable α per head, beside
α = 1.5's closed form. do_bench medians (ms) of the forward and (``--train``) of forward+backward
(gradients for q, k, v and a per-head α), bf16 B=2 H=16 D=128 causal, and the output's max error
against float64 on the last 256 query rows. ``--histogram`` also times each general case with
``attention.SUBSET_GENERAL`` off (the histogram kernel: sweep 1's counts, then probe sweeps),
the kernel general α took before session 16.

    SAVE_CACHE=0 bash scripts/gpu_run.sh python3 benchmarks/gpu_general_alpha.py [--n 4096 16384]
        [--train] [--histogram] [--inputs rand local]
"""

from __future__ import annotations

import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from adasplash_compile import entmax_attention, reference  # noqa: E402
from adasplash_compile.kernels import attention  # noqa: E402
from benchmarks.gpu_listed_bwd import _inputs, bench  # noqa: E402

# (label, float α or (lo, hi) of a per-head linspace)
CASES = [("α=1.5 float", 1.5), ("α=1.25 float", 1.25), ("α=1.7 float", 1.7), ("α=2.5 float", 2.5),
         ("heads 1.3..2.0", (1.3, 2.0)), ("heads 1.3..2.5", (1.3, 2.5))]


def _alpha(spec, device):
    return spec if isinstance(spec, float) else torch.linspace(*spec, 16, device=device)


def _measure(q, k, v, do, alpha, train, err_rows):
    n = q.shape[2]
    last = slice(n - err_rows, None)
    keep = torch.ones(err_rows, n, dtype=torch.bool, device=q.device).tril(n - err_rows)
    a64 = alpha if isinstance(alpha, float) else alpha.double()
    oracle = reference.entmax_attention(q[:, :, last].double(), k.double(), v.double(), attn_mask=keep, alpha=a64)
    err = (entmax_attention(q, k, v, is_causal=True, alpha=alpha)[:, :, last].double() - oracle).abs().max().item()
    fwd = bench(lambda: entmax_attention(q, k, v, is_causal=True, alpha=alpha))
    fb = float("nan")
    if train:
        leaves = [t.detach().clone().requires_grad_() for t in (q, k, v)]
        learn = alpha if isinstance(alpha, float) else alpha.clone().requires_grad_()
        wrt = leaves if isinstance(alpha, float) else [*leaves, learn]
        fb = bench(lambda: torch.autograd.grad(entmax_attention(*leaves, is_causal=True, alpha=learn), wrt, do))
    return fwd, fb, err


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, nargs="+", default=[4096])
    ap.add_argument("--inputs", nargs="+", default=["rand", "local"])
    ap.add_argument("--train", action="store_true", help="also time forward+backward")
    ap.add_argument("--histogram", action="store_true", help="also run general α with SUBSET_GENERAL off")
    ap.add_argument("--err-rows", type=int, default=256)
    a = ap.parse_args()
    for n in a.n:
        for kind in a.inputs:
            q, k, v, do = _inputs(kind, 2, 16, n, 128)
            for label, spec in CASES:
                alpha = _alpha(spec, q.device)
                general = not (isinstance(alpha, float) and alpha in (1.5, 2.0))
                for subset in (True, False) if general and a.histogram else (True,):
                    attention.SUBSET_GENERAL = subset
                    try:
                        fwd, fb, err = _measure(q, k, v, do, alpha, a.train, a.err_rows)
                    finally:
                        attention.SUBSET_GENERAL = True
                    mode = ("subset" if subset else "histogram") if general else "closed form"
                    print(f"[general] N={n} {kind:5s} {label:15s} {mode:11s} fwd {fwd:8.3f}  fwd+bwd {fb:8.3f}  "
                          f"max err {err:.2e}", flush=True)


if __name__ == "__main__":
    main()
