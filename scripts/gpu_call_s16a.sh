#!/usr/bin/env bash
# Session 16, call A: the kernel tests on the GPU after session 15's changes (general α: the SFU's
# log2, the per-head sweep guard, fewer probes in bf16/fp16; dα's δ from fp32 sums), spread over
# the machine's cores with pytest-xdist (carried in .whl/), since compiling the kernels is what
# takes the time. The forward's property test runs the CI profile (200 examples) here.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s16a.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0 HYPOTHESIS_PROFILE=ci
timeout -s INT 480 python3 -m pytest tests/kernels -n 14 --dist worksteal -v -p no:cacheprovider --tb=short \
    -rf > "$OUT/tests.txt" 2>&1
echo "tests exit status $?"
grep -cE "PASSED" "$OUT/tests.txt"
grep -E "FAILED|ERROR" "$OUT/tests.txt" | head -30
tail -8 "$OUT/tests.txt"
