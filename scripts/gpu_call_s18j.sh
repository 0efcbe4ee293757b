#!/usr/bin/env bash
# Session 18, call J: general α's speculative last sweep (attention.GENERAL_SPEC_TOL; 0 = off)
# phase by phase, output and τ compared with the first variant; then the general-α forward tests
# on the GPU, with the new test of that path.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 480:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s18j.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 150 python3 benchmarks/gpu_general_phases.py --n 4096 --alphas 1.25 1.7 --inputs rand local \
    --variants "GENERAL_SPEC_TOL=0;GENERAL_SPEC_TOL=1e-3;GENERAL_SPEC_TOL=1e-2"
echo "phases 4k exit status $?"
timeout -s INT 100 python3 benchmarks/gpu_general_phases.py --n 16384 --alphas 1.25 1.7 --inputs rand --out /tmp \
    --variants "GENERAL_SPEC_TOL=0;GENERAL_SPEC_TOL=1e-3"
echo "phases 16k exit status $?"
HYPOTHESIS_PROFILE=ci timeout -s INT 90 python3 -m pytest tests/kernels/test_attention_fwd.py \
    -k "not property and (general or head or alpha or last_sweep)" -n 15 --dist worksteal -v -p no:cacheprovider \
    --tb=short -rf > "$OUT/general_tests.txt" 2>&1
echo "general tests exit status $?"
grep -cE "PASSED" "$OUT/general_tests.txt"
grep -E "FAILED|ERROR" "$OUT/general_tests.txt" | head -20
tail -3 "$OUT/general_tests.txt"
