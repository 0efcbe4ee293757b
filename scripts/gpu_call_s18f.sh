#!/usr/bin/env bash
# Session 18, call F: call E's "before" run again (_ab_old/ then lacked benchmarks/inputs.py), and
# the "after" run repeated on 'rand', on the same warm machine. Run as:
#   export ADASPLASH_COMPILE_AUTOTUNE=0; bash scripts/gpu_run.sh bash scripts/gpu_call_s18f.sh
#   (carry [".whl", ".triton_cache", "_ab_old"]; _ab_old as in gpu_call_s18e.sh, plus benchmarks/inputs.py)
echo "== before (HEAD~1) =="
timeout -s INT 200 python3 _ab_old/benchmarks/gpu_general_alpha.py --n 4096 --train --inputs rand local
echo "== after, again =="
timeout -s INT 150 python3 benchmarks/gpu_general_alpha.py --n 4096 --train --inputs rand
