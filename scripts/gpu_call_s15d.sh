#!/usr/bin/env bash
# Session 15, call D: where call C's failure comes from. The per-head-α GQA bf16 backward replay
# test failed on dα (head α = 1.3: 5.53 against 6.78): run it at HEAD with the exact log2
# (MUFU_LOG2 off), and at the session's start commit 254cd0a (old254/, a git archive).
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 400:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s15d.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
T="tests/kernels/test_attention_bwd.py::test_replayed_backward_is_the_full_path[per-head-alpha-gqa]"
echo "== HEAD, exact log2"
timeout 150 python3 -c "
import sys, pytest
from adasplash_compile.kernels import render
render.interpreter_on = lambda: True  # MUFU_LOG2 defaults to False; Triton still compiles
sys.exit(pytest.main(['$T', '-q', '-p', 'no:cacheprovider', '--tb=line']))" 2>&1 | tail -8
echo "== 254cd0a"
(cd old254 && PYTHONPATH=/tmp/site:$PWD timeout 150 python3 -m pytest "$T" -q -p no:cacheprovider --tb=line 2>&1 | tail -8)
