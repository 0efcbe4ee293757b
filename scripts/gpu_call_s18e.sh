#!/usr/bin/env bash
# Session 18, call E: general α with one exp2 fewer per score (s = y^(γ−1), p = s·y, in the
# training forward's output sweep and both backward kernels; dα's p log p reuses the log2) against
# the previous commit, copied to _ab_old/ (ignored; carried), forward and forward+backward at 4k;
# then the general / per-head / dα tests on the GPU.
#
#   rm -rf _ab_old && mkdir _ab_old && git archive HEAD~1 adasplash_compile benchmarks/__init__.py benchmarks/inputs.py \
#       benchmarks/gpu_general_alpha.py benchmarks/gpu_listed_bwd.py | tar -x -C _ab_old
#   device run, carry [".whl", ".triton_cache", "_ab_old"], timeout_s 600:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s18e.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
echo "== before (HEAD~1) =="
timeout -s INT 200 python3 _ab_old/benchmarks/gpu_general_alpha.py --n 4096 --train --inputs rand local
echo "before exit status $?"
echo "== after =="
timeout -s INT 200 python3 benchmarks/gpu_general_alpha.py --n 4096 --train --inputs rand local
echo "after exit status $?"
HYPOTHESIS_PROFILE=ci timeout -s INT 120 python3 -m pytest tests/kernels/test_attention_bwd.py tests/kernels/test_attention_fwd.py \
    -k "not property and (general or head or alpha or dalpha)" -n 15 --dist worksteal -v -p no:cacheprovider --tb=short -rf \
    > "$OUT/general_tests.txt" 2>&1
echo "general tests exit status $?"
grep -cE "PASSED" "$OUT/general_tests.txt"
grep -E "FAILED|ERROR" "$OUT/general_tests.txt" | head -20
tail -3 "$OUT/general_tests.txt"
