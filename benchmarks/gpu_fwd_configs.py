"""H200 probe (session 14): the forward's tile config and candidate count at one length, through
the public op: inference and forward+backward do_bench medians (ms), bf16 B=2 H=16 D=128 causal
α = 1.5 (``--alpha``: another float α), and the output's max error against float64 on the last 256 query rows, so a faster
config that loses accuracy shows. Each variant replaces ``configs.fwd_default`` (and optionally
``attention.SUBSET_TOPK``) for its runs.

    SAVE_CACHE=0 bash scripts/gpu_run.sh python3 benchmarks/gpu_fwd_configs.py --points 4096:rand,4096:local \\
        --variants "64x64x4x3;32x64x4x3;64x64x4x3:topk5"
"""

from __future__ import annotations

import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from adasplash_compile import entmax_attention, reference  # noqa: E402
from adasplash_compile.kernels import attention, configs  # noqa: E402
from benchmarks.gpu_listed_bwd import _inputs, bench  # noqa: E402


def _variant(spec):
    tile, *opts = spec.split(":")
    bm, bn, warps, stages = (int(x) for x in tile.split("x"))
    topk = next((int(o[4:]) for o in opts if o.startswith("topk")), attention.SUBSET_TOPK)
    return configs.FwdConfig(bm, bn, warps, stages, hist="subset"), topk


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", default="4096:rand,4096:local")
    ap.add_argument("--variants", required=True, help="';'-separated BMxBNxWARPSxSTAGES[:topkK]")
    ap.add_argument("--alpha", type=float, default=1.5, help="a float α (not 1.5 / 2: the general-α kernel)")
    ap.add_argument("--fwd-only", action="store_true", help="no forward+backward timing")
    a = ap.parse_args()
    alpha = a.alpha
    real_default, real_topk = configs.fwd_default, attention.SUBSET_TOPK
    for point in a.points.split(","):
        n, kind = point.split(":")
        q, k, v, do = _inputs(kind, 2, 16, int(n), 128)
        leaves = [t.detach().clone().requires_grad_() for t in (q, k, v)]
        rows = slice(q.shape[2] - 256, None)
        oracle = reference.entmax_attention(q[:, :, rows].double(), k.double(), v.double(),
                                            attn_mask=torch.ones(256, k.shape[2], dtype=torch.bool, device=q.device)
                                            .tril(k.shape[2] - 256), alpha=alpha)
        for spec in a.variants.split(";"):
            cfg, topk = _variant(spec)
            configs.fwd_default = lambda dtype, dr, cfg=cfg: cfg
            attention.SUBSET_TOPK = topk
            try:
                out = entmax_attention(q, k, v, is_causal=True, alpha=alpha)
                err = (out[:, :, rows].double() - oracle).abs().max().item()
                fwd = bench(lambda: entmax_attention(q, k, v, is_causal=True, alpha=alpha))
                fb = float("nan") if a.fwd_only else bench(
                    lambda: torch.autograd.grad(entmax_attention(*leaves, is_causal=True, alpha=alpha), leaves, do))
                print(f"[cfg] N={n} {kind:5s} α={alpha} {spec:18s} fwd {fwd:7.3f}  fwd+bwd {fb:7.3f}  "
                      f"max err {err:.2e}", flush=True)
            except Exception as e:  # one variant that does not fit must not lose the rest
                print(f"[cfg] N={n} {kind:5s} {spec:18s} FAILED {type(e).__name__}: {str(e)[:200]}", flush=True)
            finally:
                configs.fwd_default, attention.SUBSET_TOPK = real_default, real_topk
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
