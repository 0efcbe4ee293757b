"""H200 probe (session 14): one learnable α per head through the public op. The argument check
reads the tensor's largest value; with every α ≤ 2 the general-α kernel makes two threshold sweeps
instead of five. do_bench medians (ms) of the forward and of forward+backward (gradients for q, k,
v and α), bf16 B=2 H=16 D=128 causal, and the output's max error against float64 on the last 256
query rows, beside the float α = 1.5 path.

    SAVE_CACHE=0 bash scripts/gpu_run.sh python3 benchmarks/gpu_head_alpha.py [--n 4096]
"""

from __future__ import annotations

import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from adasplash_compile import entmax_attention, reference  # noqa: E402
from benchmarks.gpu_listed_bwd import _inputs, bench  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=4096)
    a = ap.parse_args()
    for kind in ("rand", "local"):
        q, k, v, do = _inputs(kind, 2, 16, a.n, 128)
        leaves = [t.detach().clone().requires_grad_() for t in (q, k, v)]
        last = slice(a.n - 256, None)
        keep = torch.ones(256, a.n, dtype=torch.bool, device=q.device).tril(a.n - 256)
        for label, lo, hi in (("α=1.5 float", None, None), ("heads 1.3..2.0", 1.3, 2.0), ("heads 1.3..2.5", 1.3, 2.5)):
            alpha = 1.5 if lo is None else torch.linspace(lo, hi, 16, device=q.device)
            oracle = reference.entmax_attention(q[:, :, last].double(), k.double(), v.double(), attn_mask=keep,
                                                alpha=alpha if lo is None else alpha.double())
            err = (entmax_attention(q, k, v, is_causal=True, alpha=alpha)[:, :, last].double() - oracle).abs().max()
            fwd = bench(lambda: entmax_attention(q, k, v, is_causal=True, alpha=alpha))
            learn = alpha if lo is None else alpha.clone().requires_grad_()
            wrt = leaves if lo is None else [*leaves, learn]
            fb = bench(lambda: torch.autograd.grad(entmax_attention(*leaves, is_causal=True, alpha=learn), wrt, do))
            print(f"[head-alpha] N={a.n} {kind:5s} {label:15s} fwd {fwd:7.3f}  fwd+bwd {fb:7.3f}  "
                  f"max err {err.item():.2e}", flush=True)


if __name__ == "__main__":
    main()
