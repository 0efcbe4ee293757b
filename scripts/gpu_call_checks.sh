#!/usr/bin/env bash
# One device call (~5 min, not yet run): compute-sanitizer memcheck over small runs of every kernel
# family (issue #3's sanitizer check), then 50 bitwise-identical backward passes at the benchmark
# shape (issue #4). compute-sanitizer works on the Firecracker runtime, not on gVisor
# (.library/device/KINDS.md): if it refuses the device, the log says so and the rest still runs.
#
#   device run, carry [".whl"], timeout_s 400:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_checks.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
python3 benchmarks/gpu_checks.py --small || echo "small runs FAILED without the sanitizer"
timeout 240 compute-sanitizer --tool memcheck --error-exitcode 9 python3 benchmarks/gpu_checks.py --small
echo "compute-sanitizer exit status $?"
timeout 120 python3 benchmarks/gpu_checks.py --determinism 50
echo "determinism exit status $?"
