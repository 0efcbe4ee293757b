#!/usr/bin/env bash
# Session 18, call D: the forward property test's shard 10 at the GPU profile (30 examples), the
# one shard session 17's call B left compiling at its time limit, on a machine of its own.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 560:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s18d.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
HYPOTHESIS_PROFILE=gpu timeout -s INT 480 python3 -m pytest "tests/kernels/test_attention_fwd.py::test_property_matches_reference[10]" \
    -v -p no:cacheprovider --tb=short -rf --durations=1 > "$OUT/property10.txt" 2>&1
echo "property shard 10 exit status $?"
tail -8 "$OUT/property10.txt"
