#!/usr/bin/env bash
# Session 22, call B: the solve's warm start (attention.SUBSET_WARM: Newton steps on the top
# candidate tile before the full solve) A/B through the public op, forward and forward+backward,
# then Nsight Compute's SASS samples of the 4k 'rand' forward kernel with the new default.
#
#   device run, carry [".whl"], timeout_s 600:
#     bash scripts/gpu_run.sh bash scripts/gpu_call_s22b.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 420 python3 benchmarks/gpu_knob_ab.py --points 4096:rand,4096:local,16384:rand,16384:local \
    --variants "SUBSET_WARM=0;SUBSET_WARM=4;SUBSET_WARM=3;SUBSET_WARM=0;SUBSET_WARM=4" --err-rows 256
echo "knob_ab exit status $?"
timeout -s INT 100 ncu --profile-from-start off --clock-control none --target-processes all \
    --section SpeedOfLight --section SourceCounters --import-source no -f -o /tmp/ncu_b \
    python3 benchmarks/gpu_ncu.py --cases 'infer:rand:4096'
timeout 60 ncu -i /tmp/ncu_b.ncu-rep --page source --csv --print-source sass 2>&1 | gzip > "$OUT/source_sass_b.csv.gz"
ncu -i /tmp/ncu_b.ncu-rep --page details --print-units base | grep -E "Duration|attention" | head
