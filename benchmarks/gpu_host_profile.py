"""Where the host time of one ``entmax_attention`` call goes on the GPU machine (issue #3's and #4's
4k points, where the suite's times sit well above the kernels'). bf16, B=2, H=16, N=4096, D=128,
causal, α = 1.5, 'local' input; inference (no grad) and a training step (forward + backward).

    ADASPLASH_COMPILE_AUTOTUNE=0 python benchmarks/gpu_host_profile.py --out DIR

Per mode it prints and records: the wall time of a step with a sync after it; the host time to
enqueue a step (no sync; timed on a GPU kept busy, so the queue never drains); the GPU time of the
step's kernels (torch.profiler, CUDA activity) and the profiler's top host-side entries by self CPU
time, and a cProfile of 20 steps (our Python and Triton's launcher). Writes DIR/host_profile.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import adasplash_compile  # noqa: E402
from benchmarks.gpu_attention_fwd import make_inputs  # noqa: E402


def _steps(mode, q, k, v, do):
    if mode == "infer":
        def step():
            with torch.no_grad():
                adasplash_compile.entmax_attention(q, k, v, is_causal=True)
    else:
        def step():
            torch.autograd.grad(adasplash_compile.entmax_attention(q, k, v, is_causal=True), (q, k, v), do)
    return step


def python_profile(fn, n: int, sort: str, lines: int) -> str:
    """cProfile of ``n`` calls of ``fn`` (then a sync), as pstats text sorted by ``sort``."""
    import cProfile
    import io
    import pstats

    pr = cProfile.Profile()
    pr.enable()
    for _ in range(n):
        fn()
    pr.disable()
    torch.cuda.synchronize()
    buf = io.StringIO()
    pstats.Stats(pr, stream=buf).sort_stats(sort).print_stats(lines)
    return buf.getvalue()


def idle_ms(fn, reps: int, *, flush: "torch.Tensor | None" = None, warmup: int = 0) -> float:
    """Median ms of one call timed from an idle stream (the host's time to the first kernel counts,
    as the suite's clock reads it). ``flush``: a buffer zeroed before each call (L2, as do_bench
    does); ``warmup``: calls made first and not timed."""
    times = []
    for i in range(warmup + reps):
        if flush is not None:
            flush.zero_()
        torch.cuda.synchronize()
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        if i >= warmup:
            times.append(a.elapsed_time(b))
    return statistics.median(times)


def _busy(ms: float) -> None:
    """Queue ~ms of GPU work, so the host's enqueue time is measured with the GPU never idle."""
    a = torch.randn(4096, 4096, device="cuda", dtype=torch.bfloat16)
    for _ in range(max(1, int(ms / 0.15))):
        a = a @ a
        a = a / a.norm()


def profile(mode, kind="local", N=4096):
    q, k, v = (t.requires_grad_() for t in make_inputs(kind, 2, 16, N, 128, seed=0))
    do = torch.randn_like(q)
    step = _steps(mode, q, k, v, do)
    for _ in range(5):
        step()
    torch.cuda.synchronize()
    n = 50
    t = time.perf_counter()
    for _ in range(n):
        step()
        torch.cuda.synchronize()
    wall = (time.perf_counter() - t) / n * 1e3
    _busy(200.0)
    t = time.perf_counter()
    for _ in range(n):
        step()
    enqueue = (time.perf_counter() - t) / n * 1e3
    torch.cuda.synchronize()
    from torch.profiler import ProfilerActivity, profile as tprofile

    with tprofile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        for _ in range(10):
            step()
        torch.cuda.synchronize()
    ka = prof.key_averages()
    attr = "self_device_time_total" if hasattr(ka[0], "self_device_time_total") else "self_cuda_time_total"
    gpu_ms = sum(getattr(e, attr) for e in ka) / 10 / 1e3
    top = sorted(ka, key=lambda e: e.self_cpu_time_total, reverse=True)[:25]
    rows = [dict(name=e.key, calls=e.count / 10, self_cpu_us=e.self_cpu_time_total / 10,
                 gpu_us=getattr(e, attr) / 10) for e in top]
    print(f"[host] {mode}: Python profile of 20 steps (sorted by own time)\n{python_profile(step, 20, 'tottime', 30)}",
          flush=True)
    print(f"[host] {mode} {kind} N={N}: wall {wall:.3f} ms/step (synced), host enqueue {enqueue:.3f} ms/step, "
          f"GPU kernels {gpu_ms:.3f} ms/step", flush=True)
    for r in rows:
        print(f"[host]   {r['name'][:70]:70s} x{r['calls']:5.1f} self cpu {r['self_cpu_us']:8.1f} us "
              f"gpu {r['gpu_us']:8.1f} us", flush=True)
    return dict(mode=mode, kind=kind, N=N, wall_ms=wall, enqueue_ms=enqueue, gpu_ms=gpu_ms, top=rows)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    a = ap.parse_args()
    res = [profile(m) for m in ("infer", "train")]
    with open(os.path.join(a.out, "host_profile.json"), "w") as f:
        json.dump(dict(torch=torch.__version__, device=torch.cuda.get_device_name(), rows=res), f, indent=1)


if __name__ == "__main__":
    main()
