"""H200 probe (session 14): where the general-α forward's time goes at one length. do_bench
medians (ms) through the public op, bf16 B=2 H=16 D=128 causal: a float α of 1.5 / 2 (closed
forms), 1.7 (general, float) and per head (general), and the general kernel with 0, 1 and 2
refinement sweeps (``attention._niter`` replaced; τ is then less exact: time only).

    SAVE_CACHE=0 bash scripts/gpu_run.sh python3 benchmarks/gpu_general_alpha.py [--n 4096]
"""

from __future__ import annotations

import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from adasplash_compile import entmax_attention  # noqa: E402
from adasplash_compile.kernels import attention  # noqa: E402
from benchmarks.gpu_listed_bwd import _inputs, bench  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=4096)
    a = ap.parse_args()
    real_niter = attention._niter
    for kind in ("rand", "local"):
        q, k, v, _ = _inputs(kind, 2, 16, a.n, 128)
        cases = [("float 1.5", 1.5, None), ("float 2.0", 2.0, None), ("float 1.7", 1.7, None),
                 ("per-head 1.7", torch.full((16,), 1.7, device=q.device), None)]
        cases += [(f"float 1.7, {n} sweeps", 1.7, n) for n in (0, 1)]
        for label, alpha, sweeps in cases:
            if sweeps is not None:
                attention._niter = lambda kind, dtype, alpha_max=3.0, n=sweeps: n
            try:
                ms = bench(lambda: entmax_attention(q, k, v, is_causal=True, alpha=alpha))
            finally:
                attention._niter = real_niter
            print(f"[general] N={a.n} {kind:5s} {label:22s} fwd {ms:8.3f}", flush=True)


if __name__ == "__main__":
    main()
