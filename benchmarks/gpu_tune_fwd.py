"""Autotune the attention forward at the benchmark suite's core shapes and report every candidate.

    ADASPLASH_COMPILE_AUTOTUNE=1 bash scripts/gpu_run.sh python3 benchmarks/gpu_tune_fwd.py [--ns 4096,16384,32768]

bf16, B=2, H=16, D=128, causal, α=1.5, 'rand' inputs; with and without O₂ (the training forward
saves it). Each (N bucket, O₂) tunes once over ``configs.fwd_candidates`` (tile shapes, sweep 1's
histogram mode, fused or split forward) and caches the winner in ``render.cache_dir()/tuned``, so
a later process in the same cache (the benchmark suite) runs the tuned configs. Writes tune.json
(every candidate's median ms) to $OUT.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from adasplash_compile.kernels import attention  # noqa: E402
from benchmarks.inputs import attention_inputs  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ns", default="4096,16384,32768")
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    ap.add_argument("--budget-s", type=float, default=140.0)
    args = ap.parse_args()
    if not attention.autotune_enabled():
        raise SystemExit("set ADASPLASH_COMPILE_AUTOTUNE=1")
    t0 = time.time()
    done = []
    for n in [int(x) for x in args.ns.split(",") if x]:
        g = torch.Generator(device="cuda").manual_seed(0)
        q, k, v = attention_inputs("rand", 2, 16, n, 128, dtype=torch.bfloat16, device="cuda", generator=g)
        for save_aux in (False, True):
            if time.time() - t0 > args.budget_s:
                print(f"[tune] budget spent, skipping N={n} save_aux={save_aux}", flush=True)
                continue
            t1 = time.time()
            attention.forward(q, k, v, None, True, 128 ** -0.5, 1.5, None, save_aux)
            torch.cuda.synchronize()
            done.append(dict(N=n, save_aux=save_aux, seconds=time.time() - t1))
            print(f"[tune] N={n} save_aux={save_aux}: {time.time() - t1:.1f} s", flush=True)
    for key, cands in attention.tuning_log.items():
        best = min(cands, key=cands.get)
        for c, ms in sorted(cands.items(), key=lambda kv: kv[1]):
            print(f"[tune] {key} {c}: {ms:.3f} ms{'  <- picked' if c == best else ''}", flush=True)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "tune.json"), "w") as f:
        json.dump(dict(gpu=torch.cuda.get_device_name(), torch=torch.__version__, runs=done,
                       candidates=attention.tuning_log), f, indent=1)


if __name__ == "__main__":
    main()
