"""GPU check + timing of the fused α-entmax attention forward (one script, one device call).

    bash scripts/gpu_run.sh python3 benchmarks/gpu_attention_fwd.py [--adasplash N,N] [--tune]

(a) correctness on a few shapes vs the float64 reference (rel L2 error, and the plain-PyTorch
    same-dtype error for comparison); (b) forward timings (median of triton.testing.do_bench)
    of ours vs SDPA (cuDNN, flash) and AdaSplash-2 (adasplash_v2, niter=1) at bf16, B=2, H=16,
    causal, inputs 'rand' and 'local'; first-call latency at an unseen length; peak memory.
Writes attention-fwd-h200.{json,md} to $OUT (or --out).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import adasplash_compile  # noqa: E402
from adasplash_compile import reference  # noqa: E402
from adasplash_compile.kernels import attention as fwd_kernels  # noqa: E402
from benchmarks.inputs import attention_inputs  # noqa: E402

DEV = "cuda"


def make_inputs(kind: str, B: int, H: int, N: int, D: int, dtype=torch.bfloat16, seed: int = 0):
    """'rand' / 'local' q, k, v as the whole benchmark suite defines them (benchmarks/inputs.py)."""
    g = torch.Generator(device=DEV).manual_seed(seed)
    return attention_inputs(kind, B, H, N, D, dtype=dtype, device=DEV, generator=g)


def rel(a, b):
    return ((a.double() - b.double()).norm() / b.double().norm()).item()


def correctness(quick=False):
    rows = []
    cases = [
        dict(name="bf16 causal rand a=1.5", kind="rand", N=1024, D=64, dtype=torch.bfloat16, alpha=1.5, causal=True),
        dict(name="bf16 causal local a=1.5", kind="local", N=1024, D=64, dtype=torch.bfloat16, alpha=1.5, causal=True),
        dict(name="bf16 causal rand a=1.5 N=4096 D=128", kind="rand", N=4096, D=128, dtype=torch.bfloat16, alpha=1.5,
             causal=True, H=1),
        dict(name="fp16 noncausal rand a=2", kind="rand", N=777, D=128, dtype=torch.float16, alpha=2.0, causal=False),
        dict(name="bf16 causal rand a=1.25", kind="rand", N=1000, D=80, dtype=torch.bfloat16, alpha=1.25, causal=True),
        dict(name="bf16 causal rand a=3", kind="rand", N=513, D=64, dtype=torch.bfloat16, alpha=3.0, causal=True),
        dict(name="fp32 causal rand a=1.5", kind="rand", N=1000, D=64, dtype=torch.float32, alpha=1.5, causal=True),
        dict(name="bf16 keypad GQA a=1.5", kind="rand", N=1000, D=128, dtype=torch.bfloat16, alpha=1.5, causal=False,
             keypad=True, gqa=True),
    ]
    if quick:
        cases = [cases[0], cases[2]]
    for c in cases:
        B, H = 1, c.get("H", 2)
        q, k, v = make_inputs(c["kind"], B, H, c["N"], c["D"], c["dtype"], seed=1)
        mask = None
        if c.get("gqa"):
            k, v = k[:, :1].contiguous(), v[:, :1].contiguous()
        if c.get("keypad"):
            mask = torch.ones(B, 1, 1, c["N"], dtype=torch.bool, device=DEV)
            mask[..., c["N"] * 3 // 4:] = False
        kw = dict(attn_mask=mask, is_causal=c["causal"], enable_gqa=bool(c.get("gqa")), alpha=c["alpha"])
        out = adasplash_compile.entmax_attention(q, k, v, **kw)
        torch.cuda.synchronize()
        oracle = reference.entmax_attention(q.double(), k.double(), v.double(), **kw)
        plain = reference.entmax_attention(q, k, v, **kw)
        scale = 1.0 / math.sqrt(c["D"])
        _, tau, o2 = fwd_kernels.forward(q, k, v, mask, c["causal"], scale, c["alpha"], None, True)
        tau_ref, o2_ref = reference.entmax_attention_stats(q.double(), k.double(), v.double(), mask, c["causal"], scale,
                                                           alpha=c["alpha"])
        fin = torch.isfinite(tau_ref)
        row = dict(case=c["name"], N=c["N"], D=c["D"], rel_err=rel(out, oracle), plain_same_dtype_rel_err=rel(plain, oracle),
                   tau_max_abs_err=(tau.double()[fin] - tau_ref[fin]).abs().max().item(),
                   o2_rel_err=rel(o2, o2_ref), nan=bool(torch.isnan(out).any()))
        rows.append(row)
        print(f"[check] {row['case']:42s} rel {row['rel_err']:.2e} (plain {row['plain_same_dtype_rel_err']:.2e}) "
              f"tau {row['tau_max_abs_err']:.1e} o2 {row['o2_rel_err']:.1e}", flush=True)
    return rows


def bench(fn, warmup=10, rep=50):
    from triton.testing import do_bench

    return do_bench(fn, warmup=warmup, rep=rep, return_mode="median")


def sdpa_fn(backend, q, k, v, causal):
    from torch.nn.attention import SDPBackend, sdpa_kernel

    be = {"cudnn": SDPBackend.CUDNN_ATTENTION, "flash": SDPBackend.FLASH_ATTENTION}[backend]

    def f():
        with sdpa_kernel(be):
            return F.scaled_dot_product_attention(q, k, v, is_causal=causal)

    return f


def timings(points, ada_ns, time_budget_s):
    rows = []
    t_start = time.time()
    try:
        from adasplash import adasplash_v2
    except Exception as e:  # pragma: no cover
        print("adasplash unavailable:", e)
        adasplash_v2 = None
    for (D, N, kind, causal) in points:
        B, H = 2, 16
        q, k, v = make_inputs(kind, B, H, N, D)
        flops = 4 * B * H * N * N * D / (2 if causal else 1)
        systems = [("ours", lambda: adasplash_compile.entmax_attention(q, k, v, is_causal=causal))]
        systems += [("sdpa_cudnn", sdpa_fn("cudnn", q, k, v, causal)), ("sdpa_flash", sdpa_fn("flash", q, k, v, causal))]
        if adasplash_v2 is not None and causal and N in ada_ns and D in (64, 128):
            systems.append(("adasplash_v2", lambda: adasplash_v2(q, k, v, niter=1)))
        for name, fn in systems:
            if time.time() - t_start > time_budget_s:
                print("time budget reached, skipping", name, N, kind)
                continue
            try:
                t0 = time.time()
                fn()
                torch.cuda.synchronize()
                first = time.time() - t0
                torch.cuda.reset_peak_memory_stats()
                fn()
                torch.cuda.synchronize()
                peak = torch.cuda.max_memory_allocated() / 2**30
                ms = bench(fn)
            except Exception as e:
                print(f"[time] {name} D={D} N={N} {kind}: failed: {type(e).__name__}: {e}")
                continue
            row = dict(system=name, D=D, N=N, input=kind, causal=causal, ms=ms, tflops=flops / ms / 1e9,
                       peak_gib=peak, first_call_s=first)
            rows.append(row)
            print(f"[time] {name:13s} D={D:3d} N={N:6d} {kind:5s} causal={int(causal)} {ms:8.3f} ms "
                  f"{row['tflops']:6.0f} TF/s peak {peak:.2f} GiB (first call {first:.1f}s)", flush=True)
    return rows


_VARIANTS = {"sweep1": dict(niter=0, stop_after="sweep1"), "sweep1+3": dict(niter=0), "all": dict()}


def _time_variants(q, k, v, names, cfg=None):
    """{name: ms} for the kernel variants of ``profile_variant`` (causal, α = 1.5)."""
    ms = {}
    for name in names:
        fn = fwd_kernels.profile_variant(q, k, v, True, cfg=cfg, **_VARIANTS[name])
        fn()
        ms[name] = bench(fn)
    return ms


def profile_sweeps(N=16384, D=128, configs=False):
    """Cost of each sweep, read off by differences: sweep 1 only; sweeps 1+3 (no refinement);
    all three (α = 1.5, default config)."""
    rows = []
    for kind in ("rand", "local"):
        q, k, v = make_inputs(kind, 2, 16, N, D)
        ms = _time_variants(q, k, v, ("sweep1", "sweep1+3", "all"))
        row = dict(N=N, D=D, input=kind, sweep1_ms=ms["sweep1"], sweep2_ms=ms["all"] - ms["sweep1+3"],
                   sweep3_ms=ms["sweep1+3"] - ms["sweep1"], total_ms=ms["all"])
        rows.append(row)
        print(f"[sweeps] N={N} {kind}: sweep1 {row['sweep1_ms']:.3f} ms, sweep2 {row['sweep2_ms']:.3f} ms, "
              f"sweep3 {row['sweep3_ms']:.3f} ms, total {row['total_ms']:.3f} ms", flush=True)
    if not configs:
        return rows
    # the same split for other launch configs (rand only): which tile shape / warps / stages suit
    # each sweep
    from adasplash_compile.kernels.configs import FwdConfig

    q, k, v = make_inputs("rand", 2, 16, N, D)
    for cfg in (FwdConfig(128, 32, 8, 3), FwdConfig(64, 64, 4, 3), FwdConfig(64, 32, 4, 2), FwdConfig(128, 64, 8, 2)):
        try:
            ms = _time_variants(q, k, v, ("sweep1", "all"), cfg)
        except Exception as e:  # a config that does not fit is reported, not fatal
            print(f"[sweeps] {cfg}: failed: {type(e).__name__}: {str(e)[:200]}", flush=True)
            continue
        rows.append(dict(N=N, D=D, input="rand", config=cfg.as_dict(), sweep1_ms=ms["sweep1"], total_ms=ms["all"]))
        print(f"[sweeps] N={N} rand {cfg}: sweep1 {ms['sweep1']:.3f} ms, total {ms['all']:.3f} ms", flush=True)
    return rows


def first_call_unseen(N=5000, D=128):
    """Latency of the first call at a length never seen in this process (configs cached)."""
    q, k, v = make_inputs("rand", 2, 16, N, D)
    torch.cuda.synchronize()
    t0 = time.time()
    adasplash_compile.entmax_attention(q, k, v, is_causal=True)
    torch.cuda.synchronize()
    return time.time() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ns", default="4096,16384")
    ap.add_argument("--adasplash", default="", help="lengths at which to run AdaSplash-2 live (it autotunes ~1-4 min per new N)")
    ap.add_argument("--budget", type=float, default=300.0, help="seconds for the timing section")
    ap.add_argument("--skip-check", action="store_true")
    ap.add_argument("--skip-profile", action="store_true")
    ap.add_argument("--profile-configs", action="store_true", help="also split the sweeps for 6 launch configs")
    ap.add_argument("--quick-check", action="store_true", help="only the two α=1.5 bf16 checks (fewer compiles)")
    ap.add_argument("--skip-time", action="store_true")
    ap.add_argument("--unseen", type=int, default=4000, help="length for the first-call latency (its bucket is tuned by the 4096 point)")
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    args = ap.parse_args()
    ns = [int(x) for x in args.ns.split(",") if x]
    ada_ns = {int(x) for x in args.adasplash.split(",") if x}
    import triton

    meta = dict(gpu=torch.cuda.get_device_name(), torch=torch.__version__, triton=triton.__version__,
                cuda=torch.version.cuda, python=platform.python_version(), argv=sys.argv,
                autotune=fwd_kernels.autotune_enabled(),
                command="bash scripts/gpu_run.sh python3 " + " ".join(sys.argv))
    print(meta, flush=True)
    # checks use the default table: autotuning every checked bucket would cost minutes of compiles
    tune_env = os.environ.get("ADASPLASH_COMPILE_AUTOTUNE")
    os.environ["ADASPLASH_COMPILE_AUTOTUNE"] = "0"
    checks = [] if args.skip_check else correctness(quick=args.quick_check)
    if tune_env is None:
        os.environ.pop("ADASPLASH_COMPILE_AUTOTUNE")
    else:
        os.environ["ADASPLASH_COMPILE_AUTOTUNE"] = tune_env
    points = [(128, n, kind, True) for n in ns for kind in ("rand", "local")]
    points += [(64, ns[0], "rand", True), (128, ns[0], "rand", False)]
    sweeps = [] if args.skip_profile else profile_sweeps(configs=args.profile_configs)
    t_rows = [] if args.skip_time else timings(points, ada_ns, args.budget)
    first = float("nan") if args.skip_time else first_call_unseen(N=args.unseen)
    print(f"[first call] unseen N={args.unseen}: {first:.3f} s", flush=True)
    res = dict(meta=meta, checks=checks, sweeps=sweeps, timings=t_rows, first_call_unseen_s=first,
               unseen_n=args.unseen)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "attention-fwd-h200.json"), "w") as f:
        json.dump(res, f, indent=1)
    with open(os.path.join(args.out, "attention-fwd-h200.md"), "w") as f:
        f.write(f"# attention forward, {meta['gpu']}, torch {meta['torch']}, Triton {meta['triton']}\n\n")
        f.write(f"Command: `{meta['command']}`\n\n")
        f.write("| case | N | D | rel err vs fp64 | plain same-dtype rel err | τ max abs err | O₂ rel err |\n|---|---|---|---|---|---|---|\n")
        for r in checks:
            f.write(f"| {r['case']} | {r['N']} | {r['D']} | {r['rel_err']:.2e} | {r['plain_same_dtype_rel_err']:.2e} | "
                    f"{r['tau_max_abs_err']:.1e} | {r['o2_rel_err']:.1e} |\n")
        f.write("\nbf16, B=2, H=16, median of triton.testing.do_bench.\n\n")
        f.write("| system | D | N | input | causal | ms | TFLOP/s | peak GiB | first call s |\n|---|---|---|---|---|---|---|---|---|\n")
        for r in t_rows:
            f.write(f"| {r['system']} | {r['D']} | {r['N']} | {r['input']} | {int(r['causal'])} | {r['ms']:.3f} | "
                    f"{r['tflops']:.0f} | {r['peak_gib']:.2f} | {r['first_call_s']:.1f} |\n")
        f.write(f"\nFirst call at an unseen length (N={args.unseen}, configs cached): {first:.3f} s\n")
        if sweeps:
            f.write("\nPer-sweep cost (bf16, B=2, H=16, D=128, causal, α=1.5; by differences of kernel variants):\n\n")
            f.write("| N | input | sweep 1 ms | sweep 2 ms | sweep 3 ms | total ms |\n|---|---|---|---|---|---|\n")
            for r in sweeps:
                if "config" in r:
                    f.write(f"| {r['N']} | {r['input']} {r['config']} | {r['sweep1_ms']:.3f} | | | {r['total_ms']:.3f} |\n")
                    continue
                f.write(f"| {r['N']} | {r['input']} | {r['sweep1_ms']:.3f} | {r['sweep2_ms']:.3f} | {r['sweep3_ms']:.3f} | "
                        f"{r['total_ms']:.3f} |\n")


if __name__ == "__main__":
    main()
