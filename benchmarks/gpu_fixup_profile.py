"""Where the forward's launches spend their time: torch.profiler's CUDA kernel durations (in launch
order) of one 'rand' forward (16k by default) with the fix-up launch at FIXUP_PROGRAMS programs per
head, at one per listed 16-row group (the grid before session 7), and with refinement in the tile.

    ADASPLASH_COMPILE_AUTOTUNE=0 python benchmarks/gpu_fixup_profile.py [--n 16384]
"""

from __future__ import annotations

import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from adasplash_compile.kernels import attention  # noqa: E402
from benchmarks.inputs import attention_inputs  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=16384)
    ap.add_argument("--kind", default="rand")
    ap.add_argument("--gather", action="store_true", help="session 8: the gather launch's variants instead")
    a = ap.parse_args()
    g = torch.Generator(device="cuda").manual_seed(1)
    q, k, v = attention_inputs(a.kind, 2, 16, a.n, 128, dtype=torch.bfloat16, device="cuda", generator=g)
    scale = 128 ** -0.5
    fwd = lambda: attention.forward(q, k, v, None, True, scale, 1.5, None, False)  # noqa: E731
    modes = [("fix-up, 8 programs/head", dict(FIXUP_PROGRAMS=8)),
             ("fix-up, a program per 16 rows", dict(FIXUP_PROGRAMS=a.n // 16)),
             ("refinement in the tile", dict(SUBSET_FIXUP=False))]
    if a.gather:
        modes = [("gather", {}), ("gather, 3 stages", dict(GATHER_STAGES=3)),
                 ("gather, 8 warps 2 stages", dict(GATHER_WARPS=8, GATHER_STAGES=2)),
                 ("dense output", dict(SUBSET_GATHER=False))]
    from torch.profiler import ProfilerActivity, profile

    for name, knobs in modes:
        saved = {key: getattr(attention, key) for key in knobs}
        for key, val in knobs.items():
            setattr(attention, key, val)
        try:
            fwd()
            torch.cuda.synchronize()
            with profile(activities=[ProfilerActivity.CUDA]) as prof:
                fwd()
                torch.cuda.synchronize()
        finally:
            for key, val in saved.items():
                setattr(attention, key, val)
        evs = sorted((e for e in prof.events() if e.device_type.name == "CUDA"), key=lambda e: e.time_range.start)
        t0 = evs[0].time_range.start if evs else 0
        total = 0.0
        for e in evs:
            dur = e.time_range.end - e.time_range.start
            total += dur
            print(f"[prof] {a.kind} {a.n} {name:30s} +{(e.time_range.start - t0) / 1e3:8.3f} ms  {dur / 1e3:8.3f} ms  {e.name[:50]}",
                  flush=True)
        print(f"[prof] {a.kind} {a.n} {name}: {len(evs)} kernels, {total / 1e3:.3f} ms of kernel time", flush=True)


if __name__ == "__main__":
    main()
