"""H200 comparison of the forward's sweep-1 modes: the element-wise histogram ("elem", the
session 2-3 default) against the candidate subset ("subset": TOPK largest x per score position,
τ solved on them, certified, refinement sweeps only for tiles with an uncertified row), in several
launch configs and profiling variants, beside cuDNN SDPA in the same process; optionally the
training pass (``--bwd-ns``). bf16, B=2, H=16, D=128, causal, α = 1.5,
'rand' and 'local' inputs (benchmarks/inputs.py).

    ADASPLASH_COMPILE_AUTOTUNE=0 python benchmarks/gpu_attention_subset.py --out DIR [--ns 4096,16384,32768]

Checks first (each config, N=4096 and the last 512 rows at 16384): relative L2 error of the output
against float64 and τ's max abs error, next to plain PyTorch in bf16. Then median times
(triton.testing.do_bench) after a 3 s GPU warm-up. Writes DIR/subset.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from adasplash_compile import reference  # noqa: E402
from adasplash_compile.kernels import attention as fwd  # noqa: E402
from adasplash_compile.kernels import configs  # noqa: E402
from benchmarks.gpu_attention_fwd import bench, make_inputs, rel, sdpa_fn  # noqa: E402
from benchmarks.gpu_rowwise import _warm_gpu  # noqa: E402

ALPHA = 1.5
HEAD_DIM = 128  # --head-dim
_SUB = configs.FwdConfig(64, 64, 4, 3, hist="subset")
# name -> (config, module overrides, profiling stop). Call A (run-2026-11-29-s4-callA) ranked
# 64x64/4w first; 8 warps at 64 rows was 2x slower and the split forward no faster.
CONFIGS = {
    "elem 64x64/4w": (configs.FwdConfig(64, 64, 4, 3), {}, ""),
    "subset 64x64/4w": (_SUB, {}, ""),
    "subset no-near-skip": (_SUB, {"SUBSET_NEAR_SKIP": False}, ""),
    "subset in-kernel refinement": (_SUB, {"SUBSET_FIXUP": False}, ""),
    "subset fix-up from 4k": (_SUB, {"FIXUP_MIN_LK": 4096}, ""),
    "subset fix-up 16x128": (_SUB, {"FIXUP_MIN_LK": 4096, "FIXUP_BLOCK_N": 128}, ""),
    "subset fix-up 8 warps": (_SUB, {"FIXUP_MIN_LK": 4096, "FIXUP_WARPS": 8}, ""),
    "subset fix-up 32x64": (_SUB, {"FIXUP_MIN_LK": 4096, "FIXUP_BLOCK_M": 32}, ""),
    "subset top-5": (_SUB, {"SUBSET_TOPK": 5}, ""),
    "subset top-5 in-kernel": (_SUB, {"SUBSET_TOPK": 5, "SUBSET_FIXUP": False}, ""),
    "subset top-6 in-kernel": (_SUB, {"SUBSET_TOPK": 6, "SUBSET_FIXUP": False}, ""),
    "subset 128x64/8w": (configs.FwdConfig(128, 64, 8, 3, hist="subset"), {}, ""),
    "subset 64x64/4w/2s": (configs.FwdConfig(64, 64, 4, 2, hist="subset"), {}, ""),
    "subset 32x64/2w": (configs.FwdConfig(32, 64, 2, 3, hist="subset"), {}, ""),
    "subset top-3": (_SUB, {"SUBSET_TOPK": 3}, ""),
    "subset top-3 in-kernel": (_SUB, {"SUBSET_TOPK": 3, "SUBSET_FIXUP": False}, ""),
    "subset evict1": (_SUB, {"SUBSET_EVICT2": False}, ""),
    "subset evict1 in-kernel": (_SUB, {"SUBSET_EVICT2": False, "SUBSET_FIXUP": False}, ""),
    "profile: no refinement": (_SUB, {}, "norefine"),
    "profile: sweep 1 only": (_SUB, {}, "sweep1"),
    # session 7: sweep 1's cost against tile shape and candidate count (benchmarks/gpu_sweep1_floor.py)
    "subset top-2": (_SUB, {"SUBSET_TOPK": 2}, ""),
    "subset 128x64/8w top-2": (configs.FwdConfig(128, 64, 8, 3, hist="subset"), {"SUBSET_TOPK": 2}, ""),
    "subset 128x128/8w top-2": (configs.FwdConfig(128, 128, 8, 3, hist="subset"), {"SUBSET_TOPK": 2}, ""),
    "subset 64x128/4w top-2": (configs.FwdConfig(64, 128, 4, 3, hist="subset"), {"SUBSET_TOPK": 2}, ""),
    "profile: sweep 1 128x64/8w": (configs.FwdConfig(128, 64, 8, 3, hist="subset"), {}, "sweep1"),
    "profile: sweep 1 no near skip": (_SUB, {"SUBSET_NEAR_SKIP": False}, "sweep1"),
    "profile: sweep 1 top-2": (_SUB, {"SUBSET_TOPK": 2}, "sweep1"),
    "subset near check always": (_SUB, {"SUBSET_NEAR_PATIENCE": 0}, ""),
    "subset fix-up 32 programs": (_SUB, {"FIXUP_PROGRAMS": 32}, ""),
    "subset fix-up 2 programs": (_SUB, {"FIXUP_PROGRAMS": 2}, ""),
    "profile: sweep 1 near check always": (_SUB, {"SUBSET_NEAR_PATIENCE": 0}, "sweep1"),
    # session 8: the output gathered from the listed support (SUBSET_GATHER, the default) against
    # the dense output sweep
    "subset dense output": (_SUB, {"SUBSET_GATHER": False}, ""),
    "subset gather cap 32": (_SUB, {"GATHER_CAP": 32}, ""),
    "subset gather cap 128": (_SUB, {"GATHER_CAP": 128}, ""),
    "subset gather 4 warps": (_SUB, {"GATHER_WARPS": 4}, ""),
    "subset gather 8 warps": (_SUB, {"GATHER_WARPS": 8}, ""),
    "subset gather 32 rows 8 warps": (_SUB, {"GATHER_WARPS": 8, "GATHER_BLOCK_M": 32}, ""),
    "subset gather 64 rows 8 warps": (_SUB, {"GATHER_WARPS": 8, "GATHER_BLOCK_M": 64}, ""),
    "subset gather unroll 1": (_SUB, {"GATHER_UNROLL": 1}, ""),
    "subset gather never": (_SUB, {"GATHER_DENSE_FRAC": 1.01}, ""),
    "subset gather 90% dense rows": (_SUB, {"GATHER_DENSE_FRAC": 0.9}, ""),
    "subset gather unroll 8": (_SUB, {"GATHER_UNROLL": 8}, ""),
    "subset gather 32 rows unroll 8": (_SUB, {"GATHER_UNROLL": 8, "GATHER_BLOCK_M": 32, "GATHER_WARPS": 8}, ""),
    # session 9: GATHER's main launch as one kernel (session 8) against two (GATHER_SPLIT, the default)
    "subset gather one kernel": (_SUB, {"GATHER_SPLIT": False}, ""),
    # session 11: the gather launch's loop software-pipelined (num_stages), as the backward's
    # listed kernels are (2 stages took their backward from 6.92 to 5.99 ms at 16k 'rand')
    "subset gather 2 stages": (_SUB, {"GATHER_STAGES": 2}, ""),
    "subset gather 3 stages": (_SUB, {"GATHER_STAGES": 3}, ""),
    "subset gather 2 stages unroll 2": (_SUB, {"GATHER_STAGES": 2, "GATHER_UNROLL": 2}, ""),
    "subset gather 2 stages unroll 8": (_SUB, {"GATHER_STAGES": 2, "GATHER_UNROLL": 8}, ""),
    # the gather steps' key indices picked from registers (session 10's way) instead of loaded
    "subset gather keys from registers": (_SUB, {"GATHER_KEY_LOADS": False}, ""),
    "subset gather keys from registers 1 stage": (_SUB, {"GATHER_KEY_LOADS": False, "GATHER_STAGES": 1}, ""),
    # session 12: the fix-up and the gather launch below 16k keys, since sessions 9-11 made the
    # gather cheaper (two kernels, stages, key loads)
    "subset fix-up+gather from 4k": (_SUB, {"FIXUP_MIN_LK": 4096, "GATHER_MIN_LK": 4096}, ""),
    "subset fix-up+gather from 4k one kernel": (_SUB, {"FIXUP_MIN_LK": 4096, "GATHER_MIN_LK": 4096,
                                                      "GATHER_SPLIT": False}, ""),
    # the sparse route's probe (the first kernel of GATHER_SPLIT) redoes NEAR_PATIENCE tiles
    "subset patience 2": (_SUB, {"SUBSET_NEAR_PATIENCE": 2}, ""),
    "subset patience 3": (_SUB, {"SUBSET_NEAR_PATIENCE": 3}, ""),
    # the fix-up beside the gather launch (FIXUP_CONCURRENT) shares the SMs with it
    "subset fix-up 4 programs": (_SUB, {"FIXUP_PROGRAMS": 4}, ""),
    "subset fix-up 16 programs": (_SUB, {"FIXUP_PROGRAMS": 16}, ""),
    "subset fix-up 2 warps": (_SUB, {"FIXUP_WARPS": 2}, ""),
    "subset patience 2 fix-up 2 warps": (_SUB, {"SUBSET_NEAR_PATIENCE": 2, "FIXUP_WARPS": 2}, ""),
}


_TABLES: dict = {}


def _forward(name, q, k, v, save_aux=False, return_tiles=False):
    cfg, overrides, stop = CONFIGS[name]
    # autotuning is off: the table decides (one function per config, so the launcher's memo of
    # picked configs hits from the second call on, as it does for a user)
    configs.fwd_default = _TABLES.setdefault(name, lambda dtype, dr: cfg)
    saved = {key: getattr(fwd, key) for key in overrides}
    for key, val in overrides.items():
        setattr(fwd, key, val)
    try:
        if stop:
            return fwd.profile_variant(q, k, v, True, stop_after=stop, cfg=cfg)()
        scale = 1.0 / math.sqrt(q.shape[-1])
        return fwd.forward(q, k, v, None, True, scale, ALPHA, None, save_aux, return_tiles=return_tiles)
    finally:
        for key, val in saved.items():
            setattr(fwd, key, val)


def _row_oracle(q, k, v, rows):
    """float64 output and τ of the given query rows (causal, top-left aligned)."""
    qd, kd, vd = q[:, :, rows].double(), k.double(), v.double()
    z = qd @ kd.transpose(-1, -2) / math.sqrt(q.shape[-1])
    z = z.masked_fill(torch.arange(k.shape[2], device=q.device)[None, None, None, :] > rows[None, None, :, None],
                      float("-inf"))
    p = reference.entmax(z, ALPHA, dim=-1)
    i = p.argmax(-1, keepdim=True)
    tau = ((ALPHA - 1) * z.gather(-1, i) - p.gather(-1, i) ** (ALPHA - 1)).squeeze(-1)
    zb = (q[:, :, rows] @ k.transpose(-1, -2)).float() / math.sqrt(q.shape[-1])
    zb = zb.masked_fill(torch.arange(k.shape[2], device=q.device)[None, None, None, :] > rows[None, None, :, None],
                        float("-inf"))
    plain = (reference.entmax(zb, ALPHA, dim=-1).to(q.dtype) @ v)
    return p @ vd, tau, plain


def checks(names, points=((4096, 4096), (16384, 512))):
    out_rows = []
    for N, nrows in points:
        for kind in ("rand", "local"):
            q, k, v = make_inputs(kind, 1, 2, N, HEAD_DIM, seed=1)
            rows = torch.arange(N - nrows, N, device=q.device)
            o_ref, tau_ref, plain = _row_oracle(q, k, v, rows)
            for name in names:
                if CONFIGS[name][2]:
                    continue  # profiling variants compute no valid output
                listed, main_listed = [], []
                real_launch = fwd._launch

                def spy(*args, **kwargs):
                    if kwargs.get("phase") == "fixup":
                        listed.append(kwargs["fix"][0])
                    elif kwargs.get("fix") is not None:
                        main_listed.append(kwargs["fix"][0])
                    return real_launch(*args, **kwargs)

                fwd._launch = spy
                try:
                    out, tau, _ = _forward(name, q, k, v)
                except Exception as e:  # report and go on: one config failing must not lose the rest
                    print(f"[check] {name} N={N} {kind}: FAILED {type(e).__name__}: {str(e)[:300]}", flush=True)
                    continue
                finally:
                    fwd._launch = real_launch
                torch.cuda.synchronize()
                fixed = int(listed[0].sum()) if listed else -1
                fixed_main = int(main_listed[0].sum()) if main_listed else -1
                r = dict(name=name, N=N, kind=kind, rows=nrows, rel_err=rel(out[:, :, rows], o_ref),
                         plain_bf16_rel_err=rel(plain, o_ref),
                         tau_max_abs_err=(tau[:, :, rows].double() - tau_ref).abs().max().item(),
                         nan=bool(torch.isnan(out).any()), fixup_rows=fixed, listed_rows=fixed_main,
                         total_rows=int(tau.numel()))
                out_rows.append(r)
                print(f"[check] {name:24s} N={N:5d} {kind:5s}: rel {r['rel_err']:.2e} (plain bf16 "
                      f"{r['plain_bf16_rel_err']:.2e}) tau {r['tau_max_abs_err']:.1e} nan {r['nan']} "
                      f"listed {fixed_main}, fix-up launch rows {fixed}, of {tau.numel()}", flush=True)
    return out_rows


def timings(names, ns, budget_s):
    rows = []
    t0 = time.time()
    for N in ns:
        for kind in ("rand", "local"):
            q, k, v = make_inputs(kind, 2, 16, N, HEAD_DIM, seed=0)
            rep = 200 if N <= 4096 else 400
            systems = [("sdpa_cudnn", sdpa_fn("cudnn", q, k, v, True))]
            systems += [(n, (lambda n: (lambda: _forward(n, q, k, v)))(n)) for n in names]
            for name, fn in systems:
                if time.time() - t0 > budget_s:
                    print(f"[time] budget spent, skipping {name} N={N} {kind}", flush=True)
                    continue
                try:
                    ms = bench(fn, warmup=5, rep=rep)
                except Exception as e:  # report and go on: one config failing must not lose the rest
                    print(f"[time] {name} N={N} {kind}: FAILED {type(e).__name__}: {e}", flush=True)
                    continue
                rows.append(dict(name=name, N=N, kind=kind, ms=ms))
                print(f"[time] {name:24s} N={N:5d} {kind:5s}: {ms:8.3f} ms", flush=True)
            del q, k, v
    return rows


def backward_timings(ns, budget_s):
    """Training: the forward with O₂ and the tile map, our backward with and without the map, and
    forward+backward through the public op beside cuDNN's."""
    import adasplash_compile
    from adasplash_compile.kernels import attention_bwd

    rows = []
    t0 = time.time()
    configs.fwd_default = lambda dtype, dr: _SUB  # noqa: E731
    torch.cuda.empty_cache()
    for N in ns:
        for kind in ("rand", "local"):
            if time.time() - t0 > budget_s:
                print(f"[bwd] budget spent, skipping N={N} {kind}", flush=True)
                continue
            q, k, v = make_inputs(kind, 2, 16, N, 128, seed=0)
            do = torch.randn_like(q)
            scale = 1.0 / math.sqrt(128)
            out, tau, o2, tiles = fwd.forward(q, k, v, None, True, scale, ALPHA, None, True, return_tiles=True)
            args = (do, q, k, v, None, out, tau, o2, True, scale, ALPHA, None, False)
            qg, kg, vg = (t.detach().clone().requires_grad_() for t in (q, k, v))

            def ours():
                adasplash_compile.entmax_attention(qg, kg, vg, is_causal=True, alpha=ALPHA).backward(do)

            def cudnn():
                from torch.nn.attention import SDPBackend, sdpa_kernel
                with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
                    F.scaled_dot_product_attention(qg, kg, vg, is_causal=True).backward(do)

            systems = [
                ("fwd with O2 + tiles", lambda: fwd.forward(q, k, v, None, True, scale, ALPHA, None, True,
                                                            return_tiles=True)),
                ("bwd, no tile map", lambda: attention_bwd.backward(*args)),
                ("bwd, tile map", lambda: attention_bwd.backward(*args, tiles=tiles)),
                ("ours fwd+bwd", ours),
                ("sdpa_cudnn fwd+bwd", cudnn),
            ]
            for name, fn in systems:
                try:
                    ms = bench(fn, warmup=3, rep=200 if N <= 4096 else 400)
                except Exception as e:
                    print(f"[bwd] {name} N={N} {kind}: FAILED {type(e).__name__}: {e}", flush=True)
                    continue
                rows.append(dict(name=name, N=N, kind=kind, ms=ms))
                print(f"[bwd] {name:22s} N={N:5d} {kind:5s}: {ms:8.3f} ms", flush=True)
            print(f"[bwd] tile map N={N} {kind}: {100 * tiles.float().mean().item():.1f}% of 64x64 blocks "
                  f"active", flush=True)
            del q, k, v, do, qg, kg, vg, out, tau, o2, tiles
    return rows


def main():
    global HEAD_DIM
    ap = argparse.ArgumentParser()
    ap.add_argument("--ns", default="4096,16384,32768")
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--budget", type=float, default=400.0, help="seconds for the timing section")
    ap.add_argument("--skip-check", action="store_true")
    ap.add_argument("--bwd-ns", default="", help="lengths for the training section (empty: skip it)")
    ap.add_argument("--bwd-budget", type=float, default=150.0)
    ap.add_argument("--out", default=".")
    ap.add_argument("--head-dim", type=int, default=HEAD_DIM, help="forward checks and timings at this head dim")
    a = ap.parse_args()
    HEAD_DIM = a.head_dim
    names = [n for n in a.configs.split(",") if n]
    torch.manual_seed(0)
    _warm_gpu()
    rep = dict(device=torch.cuda.get_device_name(), torch=torch.__version__,
               triton=__import__("triton").__version__, alpha=ALPHA)
    rep["checks"] = [] if a.skip_check else checks(names)
    _warm_gpu()
    rep["timings"] = timings(names, [int(n) for n in a.ns.split(",") if n], a.budget)
    if a.bwd_ns:
        rep["backward"] = backward_timings([int(n) for n in a.bwd_ns.split(",")], a.bwd_budget)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "subset.json"), "w") as f:
        json.dump(rep, f, indent=1)


if __name__ == "__main__":
    main()
