#!/usr/bin/env bash
# Session 18, call H: general α's forward with one exp2 fewer per candidate / score (the
# candidates' Newton steps, the refinement sweeps) against the previous commit in _ab_old/
# (ignored; carried): phases and forward / forward+backward at 4k, phases at 16k; then the general
# / per-head / dα tests on the GPU.
#
#   rm -rf _ab_old && mkdir _ab_old && git archive HEAD~1 adasplash_compile benchmarks/__init__.py \
#       benchmarks/inputs.py benchmarks/gpu_general_alpha.py benchmarks/gpu_listed_bwd.py \
#       benchmarks/gpu_general_phases.py | tar -x -C _ab_old
#   device run, carry [".whl", ".triton_cache", "_ab_old"], timeout_s 600:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s18h.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
for side in before after; do
    root=.; [ $side = before ] && root=_ab_old
    echo "== $side =="
    timeout -s INT 110 python3 $root/benchmarks/gpu_general_phases.py --n 4096 --alphas 1.25 1.7 2.5 --inputs rand local --out /tmp
    timeout -s INT 110 python3 $root/benchmarks/gpu_general_alpha.py --n 4096 --train --inputs rand local
    timeout -s INT 60 python3 $root/benchmarks/gpu_general_phases.py --n 16384 --alphas 1.25 1.7 --inputs rand --out /tmp
done
HYPOTHESIS_PROFILE=ci timeout -s INT 100 python3 -m pytest tests/kernels/test_attention_bwd.py tests/kernels/test_attention_fwd.py \
    -k "not property and (general or head or alpha or dalpha)" -n 15 --dist worksteal -v -p no:cacheprovider --tb=short -rf \
    > "$OUT/general_tests.txt" 2>&1
echo "general tests exit status $?"
grep -cE "PASSED" "$OUT/general_tests.txt"
grep -E "FAILED|ERROR" "$OUT/general_tests.txt" | head -20
tail -3 "$OUT/general_tests.txt"
