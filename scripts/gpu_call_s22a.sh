#!/usr/bin/env bash
# Session 22, call A: Nsight Compute on the forward and backward kernels (benchmarks/gpu_ncu.py),
# the first hardware-counter look at where the 4k 'rand' time goes (no earlier session had one).
# Default configs (ADASPLASH_COMPILE_AUTOTUNE=0: the bf16 D=128 table row is the tuned pick).
#
#   device run, carry [".whl"], timeout_s 570:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s22a.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
which ncu && ncu --version | tail -1
CASES='infer:rand:4096;train:rand:4096;infer:local:4096;infer:rand:16384'
timeout -s INT 420 ncu --profile-from-start off --clock-control none --target-processes all \
    --set full --import-source no -f -o "$OUT/ncu" python3 benchmarks/gpu_ncu.py --cases "$CASES"
echo "ncu exit status $?"
if [ -f "$OUT/ncu.ncu-rep" ]; then
    ncu -i "$OUT/ncu.ncu-rep" --page details --print-units base > "$OUT/details.txt" 2>&1
    ncu -i "$OUT/ncu.ncu-rep" --page raw --csv > "$OUT/raw.csv" 2>&1
    timeout 60 ncu -i "$OUT/ncu.ncu-rep" --page source --csv --print-source sass 2>&1 | gzip > "$OUT/source_sass.csv.gz"
    ls -la "$OUT"
    grep -E '^  [a-z_]+.*\(|Duration|Registers Per|Achieved Occupancy|Issue Slots Busy|Compute \(SM\) Throughput|Memory Throughput|Local' "$OUT/details.txt" | head -150
else
    echo "no ncu report: the kernels as the torch profiler sees them"
    timeout -s INT 200 python3 benchmarks/gpu_timeline.py --out "$OUT" --cases "$CASES"
fi
