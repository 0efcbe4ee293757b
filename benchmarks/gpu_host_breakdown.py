"""Host time of each piece of an ``entmax_attention`` call, on the GPU machine: mean wall time per
call over many calls with no synchronisation in between, at a size whose kernels finish faster than
the host can launch them (bf16, B=1, H=2, N=256, D=128, causal), so the GPU never holds the host
back and the time measured is the host's. Also Triton's cost per launch for a trivial kernel with 4
and with 40 arguments, and a few torch allocations, for scale.

    ADASPLASH_COMPILE_AUTOTUNE=0 python benchmarks/gpu_host_breakdown.py --out DIR

Writes DIR/host_breakdown.json and prints one line per piece (µs per call).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import torch
import triton
import triton.language as tl

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import adasplash_compile  # noqa: E402
from adasplash_compile.kernels import attention as fwd  # noqa: E402
from adasplash_compile.kernels import attention_bwd  # noqa: E402
from benchmarks.gpu_host_profile import python_profile  # noqa: E402


@triton.jit
def _k4(X, Y, n, c):
    pid = tl.program_id(0)
    tl.store(Y + pid, tl.load(X + pid) + c, mask=pid < n)


@triton.jit
def _k40(X, Y, n, c, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, b0, b1, b2, b3, b4, b5, b6, b7, b8, b9,
         d0, d1, d2, d3, d4, d5, d6, d7, d8, d9, e0, e1, e2, e3, e4, e5):
    pid = tl.program_id(0)
    tl.store(Y + pid, tl.load(X + pid) + c + a0 + e5, mask=pid < n)


def per_call_us(fn, n=300, warm=20, before=None):
    """Mean host µs per call over ``n`` calls with no synchronisation between them, after ``warm``
    calls and a sync; ``before`` (e.g. queueing GPU work so that the device stays busy) runs
    right before the timed calls. With many launches per call, ``n`` calls can fill the launch
    queue; the time then reads the device's (session 12's note on session 11's host probe)."""
    for _ in range(warm):
        fn()
    torch.cuda.synchronize()
    if before is not None:
        before()
    t = time.perf_counter()
    for _ in range(n):
        fn()
    dt = (time.perf_counter() - t) / n * 1e6
    torch.cuda.synchronize()
    return dt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    a = ap.parse_args()
    B, H, N, D = 1, 2, 256, 128
    g = torch.Generator(device="cuda").manual_seed(0)
    q, k, v = (torch.randn(B, H, N, D, device="cuda", generator=g).bfloat16() for _ in range(3))
    do = torch.randn_like(q)
    scale = 1.0 / math.sqrt(D)
    out, tau, o2, tiles = fwd.forward(q, k, v, None, True, scale, 1.5, None, True, return_tiles=True)
    bargs = (do, q, k, v, None, out, tau, o2, True, scale, 1.5, None, False)
    qg, kg, vg = (t.clone().requires_grad_() for t in (q, k, v))
    x = torch.zeros(1024, device="cuda")
    y = torch.empty_like(x)
    ints = list(range(1, 37))

    def train_step():
        torch.autograd.grad(adasplash_compile.entmax_attention(qg, kg, vg, is_causal=True), (qg, kg, vg), do)

    def infer():
        with torch.no_grad():
            adasplash_compile.entmax_attention(q, k, v, is_causal=True)

    pieces = {
        "torch.empty (B,H,N,D)": lambda: torch.empty((B, H, N, D), device="cuda", dtype=torch.bfloat16),
        "torch.zeros (B,H,N,D)": lambda: torch.zeros((B, H, N, D), device="cuda", dtype=torch.bfloat16),
        "triton launch, 4 args": lambda: _k4[(1,)](x, y, 1024, 3),
        "triton launch, 40 args": lambda: _k40[(1,)](x, y, 1024, 3, *ints),
        "kernel forward, inference": lambda: fwd.forward(q, k, v, None, True, scale, 1.5, None, False),
        "kernel forward, O2 + tile map": lambda: fwd.forward(q, k, v, None, True, scale, 1.5, None, True,
                                                             return_tiles=True),
        "kernel backward (3 launches)": lambda: attention_bwd.backward(*bargs, tiles=tiles),
        "entmax_attention, no grad": infer,
        "entmax_attention forward, grad on": lambda: adasplash_compile.entmax_attention(qg, kg, vg, is_causal=True),
        "training step (autograd.grad)": train_step,
    }
    class _Identity(torch.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            return t.clone()

        @staticmethod
        def backward(ctx, gr):
            return gr

    def identity_step():
        torch.autograd.grad(_Identity.apply(qg), (qg,), do)

    from adasplash_compile import ops

    real_bwd = attention_bwd.backward

    def stub_bwd(grad_out, q, k, v, *rest, **kw):
        return (torch.empty_like(q), torch.empty_like(k), torch.empty_like(v), q.new_empty((0,)), q.new_empty((0,)))

    def train_step_stub_bwd():
        attention_bwd.backward = stub_bwd
        try:
            train_step()
        finally:
            attention_bwd.backward = real_bwd

    def train_step_one_thread():
        with torch.autograd.set_multithreading_enabled(False):
            train_step()

    def bwd_in_thread():
        import threading

        th = threading.Thread(target=lambda: attention_bwd.backward(*bargs, tiles=tiles))
        th.start()
        th.join()

    def thread_only():
        import threading

        th = threading.Thread(target=lambda: None)
        th.start()
        th.join()

    class _Saves(torch.autograd.Function):
        """Shaped like ops._EagerAttention without kernels: 8 inputs, 9 saved tensors, 8 grads."""

        @staticmethod
        def forward(ctx, q, k, v, m, c, s, a, at):
            extra = (torch.empty_like(q), torch.empty(q.shape[:3], device=q.device), torch.empty_like(q),
                     torch.zeros(4, 4, 4, 4, dtype=torch.uint8, device=q.device))
            ctx.save_for_backward(q, k, v, m, *extra, at)
            return torch.empty_like(q)

        @staticmethod
        @torch.autograd.function.once_differentiable
        def backward(ctx, gr):
            q, k, v, *_ = ctx.saved_tensors
            return torch.empty_like(q), torch.empty_like(k), torch.empty_like(v), None, None, None, None, None

    def saves_step():
        torch.autograd.grad(_Saves.apply(qg, kg, vg, None, True, 0.1, 1.5, None), (qg, kg, vg), do)

    def train_step_stub_one_thread():
        with torch.autograd.set_multithreading_enabled(False):
            train_step_stub_bwd()

    def fwd_keep_graph():
        return adasplash_compile.entmax_attention(qg, kg, vg, is_causal=True)

    from adasplash_compile.kernels import launch

    def launch_flag_off(flag, fn):
        """fn with ``launch.<flag>`` off: ENABLED (every launch through Triton's dispatch, no cached
        compiled-kernel handles) or DIRECT (cached handles through ``handle[grid](*args)``)"""
        def run():
            setattr(launch, flag, False)
            try:
                fn()
            finally:
                setattr(launch, flag, True)
        return run

    def without_handles(fn):
        return launch_flag_off("ENABLED", fn)

    def through_runner(fn):
        return launch_flag_off("DIRECT", fn)

    from adasplash_compile._checks import check_attention_args

    def launches_stubbed(fn):
        """fn with the kernel launches replaced by nothing: the host code around them"""
        def run():
            real = launch.Launcher.__call__
            launch.Launcher.__call__ = lambda self, *a, **k: None
            try:
                fn()
            finally:
                launch.Launcher.__call__ = real
        return run

    pieces.update({
        "check_attention_args": lambda: check_attention_args(q, k, v, None, 0.0, True, None, False, 1.5),
        "kernel forward, inference, launch stubbed": launches_stubbed(pieces["kernel forward, inference"]),
        "entmax_attention, no grad, launch stubbed": launches_stubbed(infer),
        "kernel forward, inference, Triton dispatch": without_handles(pieces["kernel forward, inference"]),
        "kernel forward, inference, handle runner": through_runner(pieces["kernel forward, inference"]),
        "kernel backward, handle runner": through_runner(pieces["kernel backward (3 launches)"]),
        "entmax_attention, no grad, handle runner": through_runner(infer),
        "training step, handle runner": through_runner(train_step),
        "kernel backward, Triton dispatch": without_handles(pieces["kernel backward (3 launches)"]),
        "entmax_attention, no grad, Triton dispatch": without_handles(infer),
        "training step, Triton dispatch": without_handles(train_step),
        "autograd.Function shaped like ours, no kernels": saves_step,
        "training step, backward stubbed, single thread": train_step_stub_one_thread,
        "identity autograd.Function step": identity_step,
        "training step, backward stubbed": train_step_stub_bwd,
        "training step, single-thread engine": train_step_one_thread,
        "kernel backward in a new thread": bwd_in_thread,
        "new thread, empty": thread_only,
    })
    del ops
    rows = {}
    for name, fn in pieces.items():
        rows[name] = per_call_us(fn)
        print(f"[host] {name:36s} {rows[name]:8.1f} us/call", flush=True)
    for label, fn, key in (("inference calls", infer, "tottime"), ("training steps", train_step, "tottime"),
                           ("training steps, backward stubbed", train_step_stub_bwd, "cumulative")):
        print(f"[host] cProfile of 100 {label}, by {key}\n{python_profile(fn, 100, key, 40)}", flush=True)
    with open(os.path.join(a.out, "host_breakdown.json"), "w") as f:
        json.dump(dict(torch=torch.__version__, triton=triton.__version__, device=torch.cuda.get_device_name(),
                       shape=dict(B=B, H=H, N=N, D=D), us_per_call=rows), f, indent=1)


if __name__ == "__main__":
    main()
