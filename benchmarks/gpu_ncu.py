"""H200: one ``entmax_attention`` step per case inside a CUDA profiler range, for Nsight Compute
(session 22). The steps run three times first (compiles, caches), then once between
``cudaProfilerStart`` and ``cudaProfilerStop``, so ``ncu --profile-from-start off`` profiles
only that step's kernels. Cases are ``gpu_timeline.py``'s (``mode:kind:N[:knob=value,...]``,
bf16 B=2 H=16 D=128 causal α = 1.5).

    ncu --profile-from-start off --clock-control none --target-processes all --set full \\
        -o "$OUT/ncu" python3 benchmarks/gpu_ncu.py --cases 'infer:rand:4096;train:rand:4096'

(``scripts/gpu_call_s22a.sh`` runs it and prints the report's pages.) Without ncu it still runs
and prints each case's kernels as the torch profiler sees them.
"""

from __future__ import annotations

import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from benchmarks.gpu_timeline import warmed_step  # noqa: E402


def profile_case(case: str) -> None:
    if case.split(":")[0] == "decode":
        raise ValueError("gpu_ncu: modes infer and train only")
    with warmed_step(case) as (_, _, _, step):
        print(f"[ncu] {case}: profiled step", flush=True)
        torch.cuda.cudart().cudaProfilerStart()
        step()
        torch.cuda.synchronize()
        torch.cuda.cudart().cudaProfilerStop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default="infer:rand:4096;train:rand:4096",
                    help="';'-separated mode:kind:N[:knob=value,...]")
    a = ap.parse_args()
    print(f"[ncu] torch {torch.__version__}, {torch.cuda.get_device_name()}", flush=True)
    for case in a.cases.split(";"):
        try:
            profile_case(case)
        except Exception as e:  # one failing case must not lose the rest
            print(f"[ncu] {case}: FAILED {type(e).__name__}: {e}", flush=True)
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
