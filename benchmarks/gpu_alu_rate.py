"""The H200's issue rate for fp32 min/max against FMA, in the shape sweep 1's insertion has: each
score (here x = x·a + b, one FMA) goes into a sorted top-4 per element (8 min/max), against the same
loop with 8 FMAs instead of the 8 min/max. No memory traffic in the loop (registers only), many
elements per thread for independent work. Session 21 asked whether sweep 1's ~2.1 ms of
insertion at 16k 'rand' is the min/max issue rate (8 per score at 64 per clock per SM) or
something an overlap with the tensor cores could hide.

    python benchmarks/gpu_alu_rate.py [--iters 4096]

Prints, per variant, ms and operations per clock per SM (at the SM clock read from nvidia-smi's
max clock, or --ghz).
"""

from __future__ import annotations

import argparse
import os
import sys

import torch
import triton
import triton.language as tl

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))


@triton.jit
def _alu(X, OUT, ITERS: tl.constexpr, OP: tl.constexpr, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    x = tl.load(X + offs)
    c0 = x * 0.5
    c1 = x * 0.25
    c2 = x * 0.125
    c3 = x * 0.0625
    ev = x * 0.03125
    for _ in range(ITERS):
        x = x * 1.0001 + 0.001  # the new score (one FMA)
        if OP == 0:  # sorted insertion into the top 4 and the largest evicted: 9 min/max
            c0, y = tl.maximum(c0, x), tl.minimum(c0, x)
            c1, y = tl.maximum(c1, y), tl.minimum(c1, y)
            c2, y = tl.maximum(c2, y), tl.minimum(c2, y)
            c3, y = tl.maximum(c3, y), tl.minimum(c3, y)
            ev = tl.maximum(ev, y)
        else:  # 9 FMAs on the same registers
            c0 = c0 * 0.999 + x
            c1 = c1 * 0.999 + c0
            c2 = c2 * 0.999 + c1
            c3 = c3 * 0.999 + c2
            c0 = c0 * 0.999 + c3
            c1 = c1 * 0.999 + x
            c2 = c2 * 0.999 + x
            c3 = c3 * 0.999 + x
            ev = ev * 0.999 + c1
    tl.store(OUT + offs, c0 + c1 + c2 + c3 + ev)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iters", type=int, default=4096)
    ap.add_argument("--ghz", type=float, default=1.98, help="SM clock for ops per clock (H200 max: 1.98)")
    a = ap.parse_args()
    from triton.testing import do_bench

    sms = torch.cuda.get_device_properties(0).multi_processor_count
    block, warps = 1024, 4  # 8 elements per thread
    n = sms * 8 * block  # 8 programs per SM
    x = torch.rand(n, device="cuda")
    out = torch.empty_like(x)
    for op, name, ops_per in ((0, "1 FMA + 9 min/max per element", (1, 9)), (1, "10 FMA per element", (10, 0))):
        k = _alu[(n // block,)](x, out, ITERS=a.iters, OP=op, BLOCK=block, num_warps=warps)
        ptx = k.asm["ptx"]
        counts = {i: ptx.count(i) for i in ("fma.rn.f32", "max.f32", "min.f32", "max.NaN.f32", "min.NaN.f32")}
        ms = do_bench(lambda: _alu[(n // block,)](x, out, ITERS=a.iters, OP=op, BLOCK=block, num_warps=warps),
                      warmup=5, rep=50, return_mode="median")
        elems = n * a.iters
        clocks = ms * 1e-3 * a.ghz * 1e9 * sms
        print(f"[alu] {name:32s} {ms:8.3f} ms; per clock per SM: {elems * sum(ops_per) / clocks:6.1f} ops "
              f"({elems * ops_per[0] / clocks:5.1f} FMA, {elems * ops_per[1] / clocks:5.1f} min/max); "
              f"PTX {counts}", flush=True)


if __name__ == "__main__":
    main()
