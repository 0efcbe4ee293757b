"""H200 sweep of the training pass's launch configs: the forward with O₂ and the tile map per forward
config, and the backward alone per backward config (kernels/attention_bwd.py ``Config``), each
checked against float64 first. bf16, B=2, H=16, D=128, causal, α = 1.5, 'rand' and 'local' inputs
(benchmarks/inputs.py). Ends with forward+backward through the public op with the best of each
(applied to the tables in this process only) beside cuDNN SDPA.

    ADASPLASH_COMPILE_AUTOTUNE=0 python benchmarks/gpu_training_sweep.py --out DIR [--ns 4096,16384]

Checks (per config, B=1, H=2, N=1024 'rand' and 'local'): dq/dk/dv relative L2 error against the
float64 oracle must stay within 3x the plain-PyTorch bf16 error (FlashAttention's rule); a config
that fails is reported and left out of the timings. Timings are triton.testing.do_bench medians
after a 3 s GPU warm-up. Writes DIR/training_sweep.json and prints a table.
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

import adasplash_compile  # noqa: E402
from adasplash_compile import reference  # noqa: E402
from adasplash_compile.kernels import attention as fwd  # noqa: E402
from adasplash_compile.kernels import attention_bwd, configs  # noqa: E402
from benchmarks.gpu_attention_fwd import bench, make_inputs, rel  # noqa: E402
from benchmarks.gpu_rowwise import _warm_gpu  # noqa: E402

ALPHA = 1.5
D = 128
FWD_CONFIGS = {
    "subset 64x64/4w/3s": configs.FwdConfig(64, 64, 4, 3, hist="subset"),
    "subset 64x64/4w/2s": configs.FwdConfig(64, 64, 4, 2, hist="subset"),
    "subset 128x64/8w/3s": configs.FwdConfig(128, 64, 8, 3, hist="subset"),
    "subset 128x64/8w/2s": configs.FwdConfig(128, 64, 8, 2, hist="subset"),
    "subset 64x32/4w/3s": configs.FwdConfig(64, 32, 4, 3, hist="subset"),
}
# (BLOCK_M1, BLOCK_N1, BLOCK_M2, BLOCK_N2, dK/dV warps, stages, dQ warps, stages); the first is
# session 3's D=128 default (its 4k sweep, run-2026-11-29-s3-callC); session 5's call A picked the
# fifth (run-2026-11-29-s5-callA)
BWD_CONFIGS = [
    (64, 64, 64, 64, 4, 2, 4, 2),
    (64, 64, 64, 64, 4, 3, 4, 3),
    (64, 128, 128, 64, 8, 2, 8, 2),
    (64, 128, 128, 64, 8, 3, 8, 3),
    (64, 128, 64, 64, 8, 2, 4, 2),
    (64, 128, 64, 64, 8, 3, 4, 3),
    (64, 64, 128, 64, 4, 2, 8, 2),
    (32, 128, 128, 32, 4, 3, 4, 3),
    (32, 128, 64, 32, 4, 3, 4, 3),
    (64, 128, 128, 32, 8, 2, 4, 3),
    (128, 64, 128, 64, 8, 2, 8, 2),
]


def _use_fwd(cfg):
    configs.fwd_default = lambda dtype, dr: cfg  # noqa: E731 (autotuning is off: the table decides)


def _grads_bf16(q, k, v, do, bwd_cfg):
    scale = 1.0 / math.sqrt(q.shape[-1])
    out, tau, o2, tiles = fwd.forward(q, k, v, None, True, scale, ALPHA, None, True, return_tiles=True)
    grads = attention_bwd.backward(do, q, k, v, None, out, tau, o2, True, scale, ALPHA, None, False,
                                   config=bwd_cfg, tiles=tiles)
    return out, grads[:3]


def checks(fwd_names, bwd_cfgs):
    """{name: {kind: {tensor: (err, bound)}}} and the set of names that failed."""
    res, failed = {}, set()
    for kind in ("rand", "local"):
        q, k, v = make_inputs(kind, 1, 2, 1024, D, seed=3)
        do = torch.randn_like(q)
        q64, k64, v64, do64 = (t.double() for t in (q, k, v, do))
        o_ref = reference.entmax_attention(q64, k64, v64, is_causal=True, alpha=ALPHA)
        g_ref = reference.entmax_attention_backward(do64, q64, k64, v64, is_causal=True, alpha=ALPHA)[:3]
        # plain PyTorch in bf16: the same analytic formulas run on the bf16 tensors
        o_pt = reference.entmax_attention(q, k, v, is_causal=True, alpha=ALPHA)
        g_pt = reference.entmax_attention_backward(do, q, k, v, is_causal=True, alpha=ALPHA)[:3]
        cases = [(n, FWD_CONFIGS[n], BWD_CONFIGS[0]) for n in fwd_names]
        cases += [(str(c), FWD_CONFIGS[fwd_names[0]], c) for c in bwd_cfgs]
        for name, fcfg, bcfg in cases:
            _use_fwd(fcfg)
            try:
                out, grads = _grads_bf16(q, k, v, do, bcfg)
                torch.cuda.synchronize()
            except Exception as e:  # report and go on: one config failing must not lose the rest
                print(f"[check] {name} {kind}: FAILED {type(e).__name__}: {str(e)[:300]}", flush=True)
                failed.add(name)
                continue
            row = {"out": (rel(out, o_ref), rel(o_pt, o_ref))}
            for t, g, gr, gp in zip(("dq", "dk", "dv"), grads, g_ref, g_pt):
                row[t] = (rel(g, gr), rel(gp, gr))
            ok = all(err <= 3 * bound + 1e-6 for err, bound in row.values())
            if not ok:
                failed.add(name)
            res.setdefault(name, {})[kind] = row
            print(f"[check] {name:32s} {kind:5s} " + " ".join(f"{t} {e:.2e}/{b:.2e}" for t, (e, b) in row.items())
                  + ("" if ok else "  FAIL"), flush=True)
    return res, failed


def fwd_timings(names, ns):
    rows = []
    for N in ns:
        for kind in ("rand", "local"):
            q, k, v = make_inputs(kind, 2, 16, N, D, seed=0)
            scale = 1.0 / math.sqrt(D)
            for name in names:
                _use_fwd(FWD_CONFIGS[name])
                for label, aux in (("train", True), ("infer", False)):
                    if label == "infer" and name != names[0]:
                        continue
                    try:
                        ms = bench(lambda: fwd.forward(q, k, v, None, True, scale, ALPHA, None, aux, return_tiles=aux),
                                   warmup=3, rep=150 if N <= 4096 else 300)
                    except Exception as e:
                        print(f"[fwd] {name} N={N} {kind}: FAILED {type(e).__name__}: {str(e)[:300]}", flush=True)
                        continue
                    rows.append(dict(name=name, mode=label, N=N, kind=kind, ms=ms))
                    print(f"[fwd] {name:22s} {label} N={N:5d} {kind:5s}: {ms:8.3f} ms", flush=True)
            del q, k, v
    return rows


def backward_problem(kind, N, head_dim=None):
    """bf16 B=2 H=16 causal inputs, the forward's statistics and tile map: (args of
    ``attention_bwd.backward`` up to ``mask_needs_grad``, tiles)."""
    d = head_dim or D
    q, k, v = make_inputs(kind, 2, 16, N, d, seed=0)
    do = torch.randn_like(q)
    scale = 1.0 / math.sqrt(d)
    out, tau, o2, tiles = fwd.forward(q, k, v, None, True, scale, ALPHA, None, True, return_tiles=True)
    return (do, q, k, v, None, out, tau, o2, True, scale, ALPHA, None, False), tiles


def bwd_timings(cfgs, ns, fwd_cfg):
    rows = []
    _use_fwd(fwd_cfg)
    for N in ns:
        for kind in ("rand", "local"):
            args, tiles = backward_problem(kind, N)
            for cfg in cfgs:
                try:
                    ms = bench(lambda: attention_bwd.backward(*args, config=cfg, tiles=tiles),
                               warmup=3, rep=150 if N <= 4096 else 300)
                except Exception as e:
                    print(f"[bwd] {cfg} N={N} {kind}: FAILED {type(e).__name__}: {str(e)[:300]}", flush=True)
                    continue
                rows.append(dict(config=list(cfg), N=N, kind=kind, ms=ms))
                print(f"[bwd] {str(cfg):34s} N={N:5d} {kind:5s}: {ms:8.3f} ms", flush=True)
            del args, tiles
    return rows


def _best(rows, key, N):
    """The entry with the least summed time over the inputs at length N."""
    tot = {}
    for r in rows:
        if r["N"] == N and r.get("mode", "train") == "train":
            tot.setdefault(key(r), []).append(r["ms"])
    tot = {k: sum(v) for k, v in tot.items() if len(v) == 2}
    return min(tot, key=tot.get) if tot else None


def e2e(ns, fwd_cfg, bwd_cfg):
    """forward+backward through the public op with the chosen configs, beside cuDNN."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    _use_fwd(fwd_cfg)
    saved = dict(attention_bwd._CONFIGS)
    attention_bwd._CONFIGS[(torch.bfloat16, D)] = tuple(bwd_cfg)
    rows = []
    try:
        for N in ns:
            for kind in ("rand", "local"):
                q, k, v = (t.requires_grad_() for t in make_inputs(kind, 2, 16, N, D, seed=0))
                do = torch.randn_like(q)

                def ours():
                    adasplash_compile.entmax_attention(q, k, v, is_causal=True, alpha=ALPHA).backward(do)

                def cudnn():
                    with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
                        F.scaled_dot_product_attention(q, k, v, is_causal=True).backward(do)

                for name, fn in (("ours fwd+bwd", ours), ("sdpa_cudnn fwd+bwd", cudnn)):
                    ms = bench(fn, warmup=3, rep=150 if N <= 4096 else 300)
                    rows.append(dict(name=name, N=N, kind=kind, ms=ms))
                    print(f"[e2e] {name:20s} N={N:5d} {kind:5s}: {ms:8.3f} ms", flush=True)
                del q, k, v, do
    finally:
        attention_bwd._CONFIGS.clear()
        attention_bwd._CONFIGS.update(saved)
    return rows


def main():
    global D
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    ap.add_argument("--ns", default="4096,16384")
    ap.add_argument("--fwd", default=",".join(FWD_CONFIGS), help="forward config names (comma-separated)")
    ap.add_argument("--bwd", type=int, default=len(BWD_CONFIGS), help="how many of BWD_CONFIGS to try")
    ap.add_argument("--head-dim", type=int, default=D)
    ap.add_argument("--no-e2e", action="store_true", help="skip forward+backward through the public op")
    a = ap.parse_args()
    D = a.head_dim
    ns = [int(n) for n in a.ns.split(",") if n]
    fwd_names = [n for n in a.fwd.split(",") if n] or [next(iter(FWD_CONFIGS))]
    bwd_cfgs = BWD_CONFIGS[: a.bwd]
    t0 = time.time()
    rep = {"torch": torch.__version__, "device": torch.cuda.get_device_name()}
    import triton

    rep["triton"] = triton.__version__
    rep["checks"], failed = checks(fwd_names, bwd_cfgs)
    print(f"[time] checks done at {time.time() - t0:.0f} s", flush=True)
    fwd_names = [n for n in fwd_names if n not in failed]
    bwd_cfgs = [c for c in bwd_cfgs if str(c) not in failed]
    _warm_gpu()
    rep["fwd"] = fwd_timings(fwd_names, ns) if len(fwd_names) > 1 else []
    print(f"[time] forward done at {time.time() - t0:.0f} s", flush=True)
    best_fwd = _best(rep["fwd"], lambda r: r["name"], max(ns)) or fwd_names[0]
    rep["bwd"] = bwd_timings(bwd_cfgs, ns, FWD_CONFIGS[best_fwd])
    print(f"[time] backward done at {time.time() - t0:.0f} s", flush=True)
    best_bwd = _best(rep["bwd"], lambda r: tuple(r["config"]), max(ns)) or bwd_cfgs[0]
    rep["best"] = {"fwd": best_fwd, "bwd": list(best_bwd)}
    print(f"[best] forward {best_fwd}, backward {best_bwd}", flush=True)
    if not a.no_e2e:
        rep["e2e"] = e2e(ns, FWD_CONFIGS[best_fwd], best_bwd)
    print(f"[time] all done at {time.time() - t0:.0f} s", flush=True)
    with open(os.path.join(a.out, f"training_sweep_d{D}.json"), "w") as f:
        json.dump(rep, f, indent=1)


if __name__ == "__main__":
    main()
