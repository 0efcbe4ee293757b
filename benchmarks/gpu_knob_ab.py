"""H200 A/B of forward settings (``attention`` module knobs) through the public op, inference and
forward+backward, do_bench medians (ms), bf16 B=2 H=16 D=128 causal α = 1.5 (session 12; ``--alpha``:
another float, or ``head`` for a per-head α tensor from 1.3 to 2.0, session 22). Each
variant's output and gradients are also compared with the first variant's: bitwise equal, or the
largest difference; ``--err-rows R`` adds the output's max error against float64 on the last R
query rows. ``--idle``: also each step's median started on an idle stream (as the suite's clock
reads it: the host's time before the first kernel counts), session 25.

    SAVE_CACHE=0 bash scripts/gpu_run.sh python3 benchmarks/gpu_knob_ab.py \\
        --points 4096:local,32768:rand --variants "SUBSET_NEAR_PATIENCE=4,FIXUP_WARPS=4;SUBSET_NEAR_PATIENCE=2"

``FWD_CFG=BLOCK_MxBLOCK_NxWARPSxSTAGES`` replaces the table's forward config ("subset") for the variant.
"""

from __future__ import annotations

import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from adasplash_compile import entmax_attention, reference  # noqa: E402
from adasplash_compile.kernels import attention, attention_bwd  # noqa: E402
from benchmarks.gpu_host_profile import idle_ms  # noqa: E402
from benchmarks.gpu_listed_bwd import _inputs, bench  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", default="4096:local,32768:rand")
    ap.add_argument("--variants", required=True, help="';'-separated, each 'NAME=int,...' ('' = the defaults)")
    ap.add_argument("--err-rows", type=int, default=0)
    ap.add_argument("--alpha", default="1.5", help="a float, or 'head': one α per head, 1.3 to 2.0")
    ap.add_argument("--idle", action="store_true", help="also the idle-stream medians (host time included)")
    ap.add_argument("--infer-only", action="store_true", help="no forward+backward (knobs training ignores)")
    a = ap.parse_args()
    # (--idle: zeroed before each timed call, as do_bench flushes the L2)
    flush = torch.empty(256 * 1024 * 1024 // 4, dtype=torch.int32, device="cuda") if a.idle else None
    for point in a.points.split(","):
        n, kind = point.split(":")
        q, k, v, do = _inputs(kind, 2, 16, int(n), 128)
        alpha = (torch.linspace(1.3, 2.0, 16, device=q.device) if a.alpha == "head" else float(a.alpha))
        leaves = [t.detach().clone().requires_grad_() for t in (q, k, v)]

        def step():
            torch.autograd.grad(entmax_attention(*leaves, is_causal=True, alpha=alpha), leaves, do)

        first = oracle = None
        if a.err_rows:
            last = slice(int(n) - a.err_rows, None)
            keep = torch.ones(a.err_rows, int(n), dtype=torch.bool, device=q.device).tril(int(n) - a.err_rows)
            oracle = reference.entmax_attention(q[:, :, last].double(), k.double(), v.double(), attn_mask=keep,
                                                  alpha=alpha if isinstance(alpha, float) else alpha.double())
        for variant in a.variants.split(";"):
            saved = []
            for kv in filter(None, variant.split(",")):
                name, val = kv.split("=")
                # FWD_CFG: the forward's table config, BLOCK_MxBLOCK_NxWARPSxSTAGES ("subset")
                owner, attr, val = ((attention.configs, "fwd_default", _table(val)) if name == "FWD_CFG"
                                    else (attention if hasattr(attention, name) else attention_bwd, name, int(val)))
                saved.append((owner, attr, getattr(owner, attr)))
                setattr(owner, attr, val)
            try:
                fwd = bench(lambda: entmax_attention(q, k, v, is_causal=True, alpha=alpha))
                fb = float("nan") if a.infer_only else bench(step)
                if a.idle:
                    idle_f = idle_ms(lambda: entmax_attention(q, k, v, is_causal=True, alpha=alpha), 40, flush=flush,
                                     warmup=3)
                    idle = f"  idle fwd {idle_f:8.3f}  fwd+bwd {idle_ms(step, 40, flush=flush, warmup=3):8.3f}"
                else:
                    idle = ""
                if a.infer_only:
                    got = (entmax_attention(q, k, v, is_causal=True, alpha=alpha),)
                else:
                    out = entmax_attention(*leaves, is_causal=True, alpha=alpha)
                    got = (out.detach(), *torch.autograd.grad(out, leaves, do),
                           entmax_attention(q, k, v, is_causal=True, alpha=alpha))  # and the inference forward's
                if oracle is not None:  # the inference forward's output
                    o = got[-1][:, :, last].double()
                    err = f"  max err {(o - oracle).abs().max().item():.2e}"
                else:
                    err = ""
            finally:
                for owner, attr, val in reversed(saved):
                    setattr(owner, attr, val)
            if first is None:
                first, same = got, "first"
            else:
                diffs = [(g.float() - f.float()).abs().max().item() for g, f in zip(got, first)]
                same = "bitwise" if all(torch.equal(g, f) for g, f in zip(got, first)) else (
                    ("max diff inference o " if a.infer_only else "max diff o/dq/dk/dv/inference o ") + " ".join(f"{d:.2e}" for d in diffs))
            print(f"[ab] N={n} {kind:5s} {variant or 'defaults':45s} fwd {fwd:8.3f}  fwd+bwd {fb:8.3f}{idle}{err}  {same}",
                  flush=True)


def _table(spec: str):
    """``FWD_CFG=64x128x8x2``: every (dtype, head dim) takes that "subset" config."""
    bm, bn, warps, stages = (int(x) for x in spec.split("x"))
    cfg = attention.configs.FwdConfig(bm, bn, warps, stages, hist="subset")
    return lambda dtype, head_dim_rounded: cfg


if __name__ == "__main__":
    main()
