"""Fused α-entmax attention forward: launch, configs, autotune cache.

The kernel (``templates/attention_fwd.py.jinja``) sweeps the key blocks of one query tile. Sweep 1
computes the scores once; in the "subset" mode (bf16/fp16 up to head dim 128, any α) it keeps the
TOPK largest x = (α−1)·z per score position and τ is solved on those candidates (exactly for
α = 1.5 and 2, by safeguarded Newton / bisection steps for general α: SUBSET_GENERAL), with a
certificate; an uncertified row first scans the score positions that can hide a missed key
(α = 1.5 and 2, SUBSET_TARGETED), and only tiles with a row still in doubt make refinement
sweeps; from 16k keys, for α = 1.5 and 2, programs with dense rows list each certified row's
support from the candidates and a gather launch computes those rows from their lists instead of a
dense output sweep (SUBSET_GATHER); in inference the rows the candidates missed join them, the
gather launch listing every key at the score positions that can hide a missed key (GATHER_SCAN). The
histogram modes ("elem", "tile"; fp32, head dim 256) build a histogram in sweep 1 for a safe
bracket and find τ at a few probes in a second sweep. The last sweep is the output Σ p·v / Σ p
over only the key tiles that can hold support.
Sequence lengths are runtime arguments, so a new length never recompiles. Decode steps (inference
with a few query rows per kv head against a long KV) take ``decode.py`` instead, which splits the
keys over programs (``decode.applies``).

``forward`` returns ``(out, tau, o2)`` with τ in absolute coordinates x = (α−1)·z (no max shift;
+inf for rows with nothing to attend) and, when ``save_aux``, O₂ = Σ s·v / Σ s with s = p^(2−α),
as ``reference.entmax_attention_stats`` defines them (None otherwise).

Environment:
  ADASPLASH_COMPILE_AUTOTUNE=0   use the default table (``configs.FWD_DEFAULTS``), never tune.
Autotuning (CUDA, α = 1.5 / 2) compiles each candidate config once per bucket, i.e. seconds on the
first call in a new (dtype, head dim, mask mode, pow2(Lq), pow2(Lk)) bucket; later calls and later
processes read the cached choice.
Tuned configs are cached in ``render.cache_dir()/tuned/attention_fwd.json``, keyed by device,
dtype, head dims, α kind, mask mode and the next powers of two of Lq and Lk.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import threading
from typing import NamedTuple, Optional

import torch
from torch import Tensor

from . import configs, decode, launch, render
from .._dispatch import interpreter_on

TEMPLATE = "attention_fwd.py.jinja"
_SUPPORTED_DTYPES = (torch.float16, torch.bfloat16, torch.float32)
MAX_HEAD_DIM = 256

# Histogram bins per unit of x in sweep 1, probes and sweeps of the refinement. Measured on
# H200 and simulated in float64: 8 bins + 3 probes put τ within ~4e-4 (16k random keys), under
# the bf16 error floor.
NB = 8
NREF = 3
# General α (α > 2 especially) has no cheap safe bound besides the probes themselves, so it gets
# more probes per sweep: the bracket shrinks at least NREF_GENERAL-fold per sweep.
NREF_GENERAL = 8
# bf16/fp16: the first two sweeps take half as many. They put τ within ~8e-6 for α ≤ 2 (the
# interpreter in fp32, α ∈ [1.1, 1.9]; 8 probes: ~3e-6), far under those dtypes' resolution.
# The later sweeps, which only α > 2 makes (its O₂ needs τ exact), keep NREF_GENERAL.
NREF_GENERAL_LOWP = 4
# Sweep 1 counts keys per score position in 7-bit slots and folds them into per-row counters
# every FLUSH_EVERY key tiles (≤ 127). Tests lower it to exercise the fold.
FLUSH_EVERY = 127
# Sweep 1's "subset" mode (α = 1.5 and 2): candidates kept per score position. Float64
# simulation (scripts/sim_attention_subset.py, 'rand', N = 4k/16k, 64-key tiles): with 4, 0.2-0.6%
# of rows at α = 1.5 miss a support key and need a refinement sweep; with 3, 3-6%. Tests lower it
# to exercise the refinement. Wider tiles with fewer candidates per position would halve the
# min/max work (session 21 call A's probe: 128-key tiles, top-2, 3.21 ms at 16k rand against 4.56
# for 64 keys, top-4), but the same simulation (``--widths``: the last 512 rows of 2 heads)
# leaves 11.2% / 20.5% of rows uncertified at 4k / 16k (4.2% at 16k with EVICT2) against 0.39% /
# 1.46% now; 128-key tiles with top-3 (1.56% at 16k) hold 384 candidates per row, 192 registers per
# thread at 4 warps. On the H200 (session 24 call B, do_bench ms, 4 / 3): 16k rand 7.23 / 11.63,
# 32k rand 24.66 / 52.50 (43.64 with 32 fix-up programs per head): the fix-up's rows outweigh the
# min/max saved. With GATHER_SCAN (the gather launch scans the score positions that can hide a
# missed key, so no row is left to the fix-up), session 36 calls E, F (do_bench ms, 4 / 3,
# alternated twice): 16k rand 6.135, 6.135 / 6.114, 6.118; 32k rand 20.58, 20.56 / 21.68, 21.64;
# 16k local 3.31, 3.31 / 3.38, 3.38. Timeline (µs, 4 / 3): the dense route 5092 / 4457 at 16k and
# 18132 / 16239 at 32k, the gather launch 876 / 1434 and 2035 / 5059 (5.7% / 8.0% of rows scanned,
# none left to a fix-up): the scan loads every key at a flagged position (64 KB of K per row and
# position at 16k), and that takes what the min/max saves.
SUBSET_TOPK = 4
# "subset": the row's largest evicted x joins the candidates and the certificate needs only the
# second largest under τ. It certifies 10x more rows (H200 session 6 call A, 16k 'rand', B=1 H=2:
# 19 rows listed for the fix-up against 190; a float64 simulation of 2048 rows found none), but its
# two more row reductions per inserted tile cost more than the misses it saves: one listed row
# costs the fix-up launch about what 190 do (each program walks whole rows, so the launch is
# latency-bound). bf16, B=2 H=16, ms, on / off: 4k rand 0.951 / 0.887, 16k rand 11.76 / 10.48,
# 32k rand 43.6 / 41.1, 16k local 3.65 / 3.46. Off; it pays only with a fix-up whose latency
# scales with the rows it gets.
SUBSET_EVICT2 = False
# "subset": Newton steps on the first candidate tile alone (the top x per score position) before
# the solve on all of them (general α: on the ℓ_γ norm, for α ≤ 2). f restricted to a subset lies
# below f, so steps from below on it stay under the candidates' root, and the full steps (four row
# sums each, over every candidate) start closer. The solve ran ~6.7 full steps per 64-row program at 4k 'rand' (Nsight
# Compute, H200 session 22 call A: 15% of the forward kernel's samples); the float64 simulation
# (``scripts/sim_attention_subset.py --solve``) puts 4 warm steps at half its candidate work,
# with the same roots. 0: off.
SUBSET_WARM = 4
# "subset": skip the insertion in tiles where no row has a key within 1 of its max (costs one
# reduction across the program per tile; saves the insertion on far tiles of local attention)
SUBSET_NEAR_SKIP = True
# ... but only while it skips: when the first NEAR_PATIENCE unmasked key tiles of a program (those
# nearest the diagonal) all have a row with a key within 1 of its max, the rest insert unchecked.
# H200 (session 7 call A, sweep 1 alone, 16k): the check costs 'rand' 4.63 against 3.99 ms
# unchecked and saves 'local' 3.85 → 3.04 (its near keys sit by the diagonal). 0: always check.
# The probe is also GATHER's (dense programs redo its tiles packed). Session 9 (calls B, C; bf16,
# B=2 H=16, causal, ms) 4 against 8 tiles: 4k rand 0.853 / 0.863, local 0.379 / 0.379; 16k rand
# 8.424 / 8.577, local 3.633 / 3.604; 32k rand 28.50 / 28.78, local 12.74 / 12.51. Session 12 call H
# (the fix-up beside the gather launch), 2 against 4 tiles: 4k rand 0.842 / 0.850, local 0.375 /
# 0.378; 8k rand 2.846 / 2.860, local 1.053 / 1.066; 16k rand 8.045 / 8.179, local 3.570 / 3.597;
# 32k rand 27.20 / 27.43, local 12.45 / 12.52.
SUBSET_NEAR_PATIENCE = 2
# GATHER: the tiles a dense program inserts packed keep no per-tile row max (a reduction across
# each row per tile, ~10% of the min/max work of sweep 1's loop); m comes from the candidates
# afterwards, and the key range of those rows widens to all the tiles they saw (it only marks the
# tile map for rows the fix-up takes: the gather launch computes the rest). H200 session 17 call A
# (bf16 B=2 H=16 causal, ms, off / on, with the exact candidates of every dense program lean too):
# 16k rand 8.026 / 7.645, 32k rand 27.11 / 25.59; but 4k rand 0.847 / 0.813 against 4k local
# 0.375 / 0.388 and 16k local 3.593 / 3.697, whose programs pass the probe (their near keys sit by
# the diagonal) and then lost their narrow key range to the output sweep. Call D tried it below
# GATHER_MIN_LK for the programs GATHER's probe calls dense (most rows near in each probe tile):
# 'local' passes that probe too at 4k-8k, so it was the same trade (4k rand 0.843 / 0.819, local
# 0.373 / 0.388; 8k rand 2.815 / 2.721, local 1.051 / 1.107), and was dropped.
SUBSET_LEAN_DENSE = True
# Tried for sweep 1's insertion and dropped (H200 session 18, benchmarks/gpu_sweep1_floor.py's
# stand-alone loop, then the product; bf16 B=2 H=16 causal, ms):
# - fp16x2 candidates (x minus the row's first-tile max, two per max.f16x2 / min.f16x2): 16k rand
#   4.80 against 4.95 for fp32. Half as many min/max instructions bought nothing (HMNMX2 issues
#   at half FMNMX's rate), and the candidates would lose their exactness.
# - the next tile's q·kᵀ issued before this tile's insertion (software pipelining by hand, so the
#   tensor cores overlap the min/max work): the stand-alone loop gained 6-8% (16k rand 4.91 →
#   4.62), but in the product (sweep 1's unchecked loops and the output sweep) the extra tile of
#   scores costs registers the kernel does not have: forward 4k rand 0.849 → 0.859, 16k rand
#   7.66 → 7.79, 16k local 3.57 → 3.73; training 4k rand 2.29 → 2.64 (call C; outputs bitwise
#   equal). The two halves of sweep 1's work add up: scores (2.8 ms at 16k) plus insertion (2.1).
# - Triton's automatic warp specialization (session 21 call A, gpu_sweep1_floor.py --ws, K
#   through a tensor descriptor; 128-row programs split between two consumer warpgroups of 64 rows
#   and a TMA producer, 12 warps): top-4 at 16k rand 4.56 ms against 4.77 without it (the scores
#   alone 2.39 against 2.72), 4k 0.369 against 0.353. The insertion still adds its whole cost
#   (~2.1 ms at 16k): what 4.3e9 scores x 8 min/max take at the H200's fp32 min/max rate, 59-64
#   per clock per SM against 116 for FMA (call D, benchmarks/gpu_alu_rate.py): 2.0-2.2 ms on 132
#   SMs at 1.98 GHz. Sweep 1 is bound by the min/max issue rate, which no overlap with the tensor
#   cores removes (a 64x64 tile's Q·Kᵀ takes ~0.07 clocks per score, its min/max ~0.14).
# - the insertion behind a warp-uniform branch (session 27 call A, gpu_sweep1_floor.py's GATE,
#   inline PTX: x against its position's smallest candidate, vote.any, bra.uni over the 8 min/max;
#   ptxas turns a plain per-thread branch into predicated min/max, which issue anyway). GATE=2 also
#   floors the candidates at a per-row lower bound of τ (Newton steps on the top candidate per
#   position at tiles 2, 4, 8, ... and every 32nd), so that only scores above it insert: a float64
#   simulation left 12-30% of the warp instructions inserting. 16k rand 5.91 ms (GATE=1) / 5.97
#   (GATE=2) against 4.47 for the plain insertion (both without the per-tile row max, 4.90 with
#   it), 'local' 4.35 / 5.27 against 4.46, 4k rand 0.460 / 0.498 against 0.326: a compare, a
#   vote and a branch per score, each waiting on the last, cost more than the min/max they skip.
# "subset": rows whose candidates missed a support key go to a per-head list and a second launch
# redoes them (16-row tiles of listed rows), instead of refinement sweeps over the whole 64-row
# tile in the main kernel (H200 call B: those cost 2.3 of 11.5 ms at 16k 'rand').
SUBSET_FIXUP = True
FIXUP_BLOCK_M = 16
FIXUP_BLOCK_N = 0  # 0: the main launch's key tile (inference only)
# 2 warps: beside the gather launch (FIXUP_CONCURRENT) the fix-up takes less of the SMs from it.
# Session 12 call H (with NEAR_PATIENCE 2), 2 / 4 warps, ms: 16k rand 7.991 / 8.045, 32k rand
# 27.10 / 27.20; 'local' the same within 0.1%. The training forward's fix-up, which also lists
# its rows (FIXUP_LISTS), keeps 4: call J, forward+backward, 4 / 2 warps: 16k rand 13.40 / 13.56,
# 32k rand 39.06 / 42.04.
# Session 32 calls D, E (inference, 16k rand; do_bench ms / the timeline's fix-up and gather kernels,
# µs): the fix-up alone gets faster with wider tiles or more warps, but the gather launch beside
# it gets slower by as much (they share the SMs), so the forward does not move: defaults 6.84
# (fix-up 1248, gather 1418); FIXUP_BLOCK_N=128, 4 warps, 2 stages 6.84 (915 / 1367); 4 warps
# 6.84 (882 / 1377); FIXUP_BLOCK_N=128, 4 warps, 3 stages 6.89 (956, started 0.48 ms late: its
# shared memory waited for SMs to drain); 8 warps, 2 stages 7.10; 32k rand likewise 23.5-24.8
# against 23.5. The gather launch alone takes 0.77 ms (call C).
FIXUP_WARPS = 2
FIXUP_LISTS_WARPS = 4
# General α: a tile with more rows than this that the candidates missed refines them itself (all
# its rows at once) instead of listing them for the fix-up launch. α near 1 has wide supports that
# the candidates miss in most rows: listed, they made the fix-up's few programs walk nearly every
# row (H200 session 16 call C, α = 1.25 forward at 32k 'rand': 784 ms, against 281 for the
# histogram kernel). Rows at α = 1.5-like miss rates stay listed.
FIXUP_MAX_ROWS = 4
# Tried and dropped (H200 session 18 call J): once every row left took a small Newton step, the next
# refinement sweep also accumulated Σp·v at its point, and when that sweep finished every row there
# it was the output (no output sweep). The accumulator, live across the refinement loop, cost
# more than the sweep it saved (ptxas: 444 bytes of spills against 24): 4k rand α = 1.25 1.81 →
# 2.16 ms (2.37 when speculating earlier), 16k 25.3 → 31.1.
# The fix-up launch is latency-bound (each of its programs walks whole rows, and they are few),
# so it pays only on long rows. H200 call G, 'rand' / 'local' (ms), fix-up vs in the tile: 4k
# 1.00 / 0.385 vs 0.886 / 0.378; 16k 10.48 / 3.46 vs 11.52 / 3.51; 32k 40.1 / 12.4 vs 46.8 / 12.7.
FIXUP_MIN_LK = 16384
# Below it the refinement in the tile cost the 4k 'rand' forward 0.11 ms of 0.78 (session 27
# calls D, F, benchmarks/gpu_general_phases.py: 0.19% of the rows, in 11% of the 64-row tiles; its
# sweeps 0.07, its code's effect on the rest of the kernel 0.04; 8k: 0.33 and 0.12 of 2.72 ms).
# Tried and dropped (commit 4571c7e): a tile with at most 16 such rows refined only those, packed
# into a 16-row tile (their q reloaded): slower, 4k rand 0.810 against 0.786 ms, 8k 2.79 against
# 2.71 (a sweep's key tiles are walked one after another either way). Kept instead, α = 1.5 / 2:
# an uncertified row first scans the score positions that can hide a missed key (all candidates
# above their root), one key per tile there, and solves again with the keys it finds (template
# refine_targeted); the rows where that is not conclusive take the refinement sweeps. H200 session
# 27 call G (do_bench ms, on / off, each twice): forward 4k rand 0.763, 0.767 / 0.779, 0.779; 8k
# rand 2.574, 2.583 / 2.680, 2.679; 4k local 0.321 / 0.318-0.319; 8k local 0.957 / 0.954;
# forward+backward 4k rand 2.07 / 2.09, 8k rand 7.10 / 7.22, 4k local 0.580 / 0.573. Its sweeps
# then cost 0.02 ms at 4k rand (0.08 without it), but its code costs the rest of the kernel 0.04 ms
# more (ptxas: 440 bytes of spills against 248).
SUBSET_TARGETED = True
# Key tiles per step of refine_targeted's scan of a score position: its [TSCAN, D] fp32 product is
# live across the step, and at 64 that pressure pushed spills into sweep 1's loops. ptxas (Triton
# 3.6, sm_90a; scripts/kernel_regs.py --where: spill bytes, then static STL / LDL instructions in
# the kernel's first 380 source lines, sweep 1), the 4k forward at 64x64, 4 warps, 3 stages:
#   inference, α = 1.5   TSCAN 64: 440 B, 64 / 70   32: 248 B, 16 / 8   16: 108 B, 14 / 5   8: 108 B, 13 / 5
#   training (SAVE_AUX)            440 B, 64 / 65       248 B, 16 / 8       116 B, 16 / 8      116 B, 16 / 8
#   α = 2                          436 B, 64 / 63       248 B, 15 / 7       108 B, 12 / 3      108 B, 13 / 3
#   D = 64                          88 B,  6 / 2         84 B,  5 / 1        84 B,  5 / 1       76 B,  5 / 0
# (without the scan, SUBSET_TARGETED off: 248 B, 14 / 1; training 236 B). A position's scan at 4k
# keys takes 4 steps at 16 instead of 1, in the few rows that scan at all. Timed on the H200
# (do_bench ms, forward; forward+backward did not move): session 29 (gpu_call_s28a.sh) 16 against
# 64: 4k rand 0.746-0.749 / 0.766-0.770, 8k rand 2.52-2.54 / 2.58, 4k local 0.314-0.317 / 0.322,
# 8k local 0.937 / 0.956. Session 30 (gpu_call_s30a.sh), 16 against 32 alternated three times each:
# 4k rand 0.746-0.753 / 0.736-0.743, 8k rand 2.523-2.524 / 2.475-2.478, but 4k local 0.315-0.316 /
# 0.320-0.321, 8k local 0.940-0.942 / 0.953-0.954 (32's extra spills slow sweep 1 where nothing
# scans). A level trade; 16 stays, as sparse ('local') attention is the common case.
# Also compiled and dropped: the scan before the fix-up launch (FIXUP) instead of before the
# refinement sweeps, which leaves the main kernel only the scan's code: 104 B at TSCAN 16 against
# 108 in the tile, so no register relief to pay for a fix-up launch below 16k (FIXUP_MIN_LK).
TARGETED_SCAN = 16
# Programs per head of the fix-up launch; each takes the head's listed rows 16 at a time. H200
# session 7 (run-2026-11-29-s7-callD, 16k / 32k 'rand', ms): 8 programs 10.09 / 39.39, 2 programs
# 11.20 / 42.44, 32 programs 10.23 / 39.07; the fix-up kernel alone 0.78 against 0.82 with the
# earlier grid of one program per 16 rows of the head (its mostly empty programs cost little).
FIXUP_PROGRAMS = 8
# ... and at least one per FIXUP_ROWS_PER_PROGRAM query rows (0: FIXUP_PROGRAMS alone). Once the
# gather launch beside it lost its pass A (GATHER_PACKED_X), the fix-up was as long as it; H200
# session 24 call E (ms, forward / forward+backward) 8, 16, 32 programs: 16k rand 6.80 / 12.71,
# 6.83 / 12.71, 6.87 / 12.72; 32k rand 24.07 / 36.76, 23.82 / 36.74, 23.47 / 36.69.
FIXUP_ROWS_PER_PROGRAM = 1024
# Tried and dropped (session 27, commit 1debf0d, call B): the inference fix-up in one sweep, each
# row's keys above the main launch's τ appended to a list in GATHER's slots of the row (a per-tile
# cumsum over the 64 keys for each key's slot), τ solved on the list and the output gathered from
# it, instead of refinement sweeps and a dense output sweep. Outputs bitwise equal, but the
# appends cost more than the sweeps they saved: the fix-up kernel 2.01 ms against 1.25 at 16k
# rand, 5.44 against 2.75 at 32k (forward 7.45 / 6.83 ms, 24.67 / 23.67). The old fix-up already
# ends before the gather launch beside it at 16k (1.25 against 1.29-1.35 ms), so even a free
# fix-up gains nothing there, and ~0.3 ms at 32k.
# Measured and not built (session 31 call A, benchmarks/gpu_output_floor.py): the output sweep as
# its own launch at a wider tile. On 'rand' every causal tile holds support, so the sweep is a
# dense flash-style loop at sweep 1's 64x64/4-warp tile: 0.336 of the 0.746 ms 4k forward. The
# stand-alone loop (τ given, no skipping) is 0.280 ms at best at 4k (TMA descriptors 64x64/4w;
# pointers 64x64/4w 0.293, 128x64/8w 0.283, 128x128/8w 0.287; Triton 3.6's warp specialization
# does not compile it), so a split saves ≤ 0.056 ms before its second launch, Q's second read
# and the rows' key ranges handed over, and costs 'local' a launch.


# "subset" from GATHER_MIN_LK keys: programs whose rows prove dense keep each candidate's key tile
# in its low mantissa bits, certified rows list their support from the candidates (at most
# GATHER_CAP keys) and a second launch solves τ on each list (exactly, or for bf16 / fp16 on the
# candidates' packed x: GATHER_PACKED_X) and gathers just those keys'
# k and v by row, instead of a second dense sweep over every key tile. Float64 simulation, iid
# N(0, 1) scores at α = 1.5: the support holds 23 keys per row on average at 4k (99th percentile
# 41), 27 at 16k (48), 31 at 32k (53); rows with more take the fix-up or the dense sweep. The lists
# take GATHER_CAP int16 per query row (int32 past 32k keys).
# H200 session 8 (run-2026-11-29-s8-call{F,G}, kernel API, ms), on / off: 16k rand 8.90 / 10.10,
# 32k rand 29.4 / 38.7; 'local' (whose programs keep the dense sweep) pays for the larger kernel's
# register spills, 16k 4.22 / 3.44, 32k 13.86 / 12.33 (the same with the gather never taken).
SUBSET_GATHER = True
GATHER_CAP = 64
# The training forward's cap (``return_lists``): rows whose support overflows their list take the
# backward's dense passes, which compute whole tiles for them (one such row per 64-row tile). H200
# session 11 call E (bf16 B=2 H=16 causal, forward+backward ms), cap 64 / 128: 16k rand 15.21 /
# 14.83, local 5.06 / 5.18; 32k rand 48.15 / 43.25 (backward 17.18 / 11.85), local 15.37 / 15.58.
# Inference keeps GATHER_CAP (the forward at cap 128 ran 0.3 ms slower at 16k rand).
TRAIN_GATHER_CAP = 128
# Only programs whose NEAR_PATIENCE probe tiles each had a near key in at least GATHER_DENSE_FRAC
# of their rows (those below Lq: a decode step's one row counts alone) pack their candidates (they
# redo the tiles seen so far: NEAR_PATIENCE plus the diagonal ones), which pays on long rows only:
# at 4k (session 8 call B, one main kernel) the gather forward took 1.41 ms against 0.86. At 8k
# (session 24 call G, do_bench ms, with GATHER_MIN_LK and FIXUP_MIN_LK at 8k) 'rand' gains (forward
# 2.70 → 2.34, training 7.23 → 4.99) and 'local' loses (0.96 → 1.04, 1.44 → 2.00); session 25 call
# C's timeline of that 'local' training step: the forward kernels +0.13 ms, the backward's listed
# path (pack, sort, its two kernels, the host's wait for the pairs' count) +0.2 ms, host gaps +0.1.
GATHER_MIN_LK = 16384
GATHER_DENSE_FRAC = 0.5
# "subset" for general α too (float or per-head): sweep 1 keeps the same candidates, τ comes from
# safeguarded Newton steps on them (α ≤ 2; bisection for α > 2, whose f is not convex), and rows
# they miss take the same refinement (in the tile, or the fix-up launch), one Newton or bisection
# step per sweep over the whole row. GATHER stays α = 1.5 / 2's (its lists' solve is their closed
# form). Off: general α renders the histogram kernel (a bracket from sweep 1's counts, then probe
# sweeps, each a log2 and two exp2 per score and probe).
SUBSET_GENERAL = True
# with GATHER and FIXUP on CUDA: the fix-up launch on a side stream, beside the gather launch
# (``_run``), instead of before it
FIXUP_CONCURRENT = True
# Tried and dropped (session 31 call C, commit 0b88310, gpu_knob_ab.py): the inference forward's
# (batch, head) pairs as 2 / 4 / 8 launch sequences (main launch, fix-up, gather launch each, a
# runtime pair offset in the kernel) round-robin on two streams, so one part's gather launch could
# share the SMs with the next part's main launch. Outputs bitwise equal, but slower everywhere
# (do_bench ms, one sequence first): 16k rand 6.77 / 7.64 / 8.21 / 11.15, 16k local 3.29 / 3.26
# / 3.33 / 3.49, 32k rand 23.4 / 23.7 / 25.1 / 26.3. The fix-up's latency (a few programs per
# head walk whole rows) does not shrink with a part, and the parts' fix-ups queue on one stream.
# With FIXUP, the main launch as two kernels (template ROUTE): the first runs every program and
# stops those its probe finds dense, which the second (with the packing and listing code) runs
# from their first tile. The sparse programs ('local') then run without the gather code's
# registers (one kernel: 1188 B of spills against 524 without it). H200 session 9 call A (bf16,
# B=2 H=16, causal, patience 8, ms), two kernels / one / dense output: 16k rand 8.576 / 8.910 /
# 9.855, local 3.641 / 4.361 / 3.375; 32k rand 28.87 / 29.28 / 38.21, local 12.61 / 14.51 / 12.07.
GATHER_SPLIT = True
# Tried and dropped (session 38 calls B, C; gpu_call_s38b.sh, s38c.sh): a work queue between the
# routes. The sparse launch appended each program it found dense to a queue (an atomic count),
# and persistent grids took the queued programs: the dense route (2 programs per SM, each taking
# the next through an atomic counter) and the gather launch (8 per SM, the queued programs' 16-row
# blocks, through a counter or striding over them). Aim: on 'local' most 16-row blocks have
# nothing listed, and the gather launch's grid of 32768 programs that exit took 123 µs at 16k
# (training 150). Outputs and gradients bitwise equal (an interpreter test, checked by mutation).
# do_bench ms, queue / full grids, alternated twice:
# - both persistent (call B): forward 16k local 3.178, 3.156 / 3.247, 3.227; 32k local 11.47,
#   11.61 / 11.69, 11.93; but 16k rand 6.04, 6.05 / 5.56, 5.56, 32k rand 19.39, 19.25 / 18.24,
#   18.23; training 16k rand 12.8 / 11.6, 32k rand 37.4-37.8 / 33.0-33.2. Timeline of 16k local:
#   the gather launch 123 → 21 µs, but the dense route's 51 µs stayed (real work there: some
#   programs are dense); of 16k rand: the dense route 4829 µs against ~4700, the gather 1097 / 880.
# - the gather launch alone, striding (call C): 16k local 3.171, 3.157 / 3.256, 3.233 (training
#   4.54, 4.52 / 4.67, 4.64); 16k rand 6.10, 6.10 / 5.56, 5.56; 32k rand 19.36, 19.42 / 18.09,
#   18.10. The gather launch at 16k rand 1373 µs against 878: a program walking its blocks one
#   after another is slower than the hardware's own scheduling of a block per program (16 programs
#   per SM: 6.05; a cap of 80 registers: 6.30). The same as GATHER_PERSIST's finding (GATHER_STAGES).
# up to 2^12 key tiles: each packed x is then off by < 2^-11 of itself (the bits hold the tile)
GATHER_MAX_TILES = 4096
# the gather launch: query rows per program, warps, stages, and keys per step of its loops (their
# rows loaded together). Its loops wait on gathered loads: many small programs and several loads
# in flight hide that (session 8, 16k rand: the forward with 64-row programs at 8 warps 9.40 ms,
# with 16 rows at 4 warps 9.16, calls A/B; the launch alone 2.66 ms, and 1.82 with 4 loads per
# step, calls C/E; 3 stages changed nothing). Session 11 call D, 1 / 2 stages (the whole forward,
# ms): 16k rand 8.486 / 8.421, local 3.611 / 3.583; 32k rand 28.49 / 28.49, local 12.72 / 12.43.
GATHER_BLOCK_M = 16
GATHER_WARPS = 4
# ... and in a training forward (O₂'s sums too, and the tile map): session 27 call C (do_bench ms,
# forward / forward+backward, GATHER_WARPS 4 / 8 for both): 16k rand 6.79-6.84 / 6.89 and
# 12.59-12.68 / 12.30; 32k rand 23.45 / 23.61 and 36.65 / 35.79; 16k local unchanged (3.27-3.29,
# 4.67-4.69). 32 query rows per program (GATHER_BLOCK_M), 2 warps or 8 keys per step (GATHER_UNROLL)
# were slower in both.
GATHER_WARPS_TRAIN = 8
# Tried and dropped (session 32 call A, commit a1424e3): the dense route's programs computed the
# rows they had listed themselves (the gather phase's code on their own 64 rows, after a barrier)
# instead of the gather launch, so that its gathered loads would wait beside other programs'
# sweeps. Outputs bitwise equal, but slower everywhere (do_bench ms, inline / defaults): 16k rand
# 8.40 / 6.78 (the dense route 7.06 ms against 5.22, for a gather launch of 1.36), 32k rand 26.37
# / 23.52, 16k local 3.22 / 3.27; at 4k (GATHER_MIN_LK 4096) 1.24-1.33 against 0.75. The gather
# wants many small programs: in 64-row programs each step waits on the longest of 64 lists.
# Tried and dropped (session 37 call H, commit aafef34): the gather launch as
# a few programs per SM, each looping over its head's 16-row blocks, so that 'local' inputs (few
# rows listed) would not pay for a grid of mostly empty programs. do_bench ms, defaults / 8 per SM
# (64 registers: ptxas spills 204 bytes, some in pass B's loop, against 88) / 6 per SM (80
# registers, 84 bytes): 16k local forward 3.256, 3.230 / 3.275 / 3.372; 16k rand 5.565, 5.565 /
# 6.134 / 6.751 (outputs bitwise equal). Many independent programs hide the gathered loads'
# latency better than a loop does, and 'local' never paid much for the empty ones.
GATHER_STAGES = 2
GATHER_UNROLL = 4
# the gather launch's steps load their key indices from the lists (else they pick them from the
# lists held in registers, O(GATHER_CAP) work per key)
GATHER_KEY_LOADS = True
# the gather launch keeps its listed keys' x in a fp32 scratch (B·H·Lq·cap, the lists' shape) that
# its τ solve loads as one tile and its output pass reads back per key, instead of scattering each
# x into a register tile and picking it out again (O(cap) work per key, each way). H200 session 24
# call A (do_bench ms, off / on, bitwise equal): forward 16k rand 7.48 / 7.25, 32k rand 25.18 /
# 24.66; training 13.16 / 13.01 and 38.61 / 38.27; 'local' unchanged.
GATHER_SCRATCH = True
# bf16 / fp16 inputs: the main launch also stores each listed key's x as its packed candidate holds
# it (the key tile's bits cleared to their midpoint: off by < |x|·2^(b−24) for a b-bit tile index,
# 3e-5 of |x| at 16k keys in 64-key tiles, against the 2^-9 a score rounded to bf16 is off by), and
# the gather launch solves τ on those instead of loading every listed key's k row again for its
# q·k (its pass A). fp32 inputs keep the exact pass A. H200 session 24 call D (do_bench ms, off /
# on): forward 16k rand 7.35 / 6.79, 32k rand 24.98 / 24.13; training 12.87 / 12.68 and 37.17 /
# 36.74; 'local' unchanged. The gather kernel 2.18 → 1.27 ms at 16k, the main launch's dense
# route 5.04 → 5.31 (its extra store: ptxas spills 188 → 316 bytes; 536 with 64-bit addresses
# per slot, call C: 32k rand 1.1 ms slower then).
GATHER_PACKED_X = True

# GATHER (inference from FIXUP_MIN_LK keys, bf16 / fp16 with GATHER_PACKED_X, no mask or causal): a
# dense row the candidates missed goes to the gather launch rather than the fix-up: a missed key
# hides only at a score position whose TOPK candidates all lie above its threshold. The main
# launch lists the row's candidates at the other positions and hands on a mask of those; the
# gather launch lists every key at them (x recomputed, GATHER_SCAN_KEYS per step), and a row whose
# list then overflows GATHER_CAP goes to a late fix-up launch after it. The fix-up
# beside the gather launch, a few programs walking whole rows, then has only the sparse programs'
# rows: session 33 call B measured what that could take at most (DENSE_STOP 6: the dense rows'
# misses dropped, outputs wrong): 16k rand 6.18 against 6.75 ms, 32k rand 20.55 against 23.32,
# the gather launch 0.77 / 1.72 ms alone. Shipped (call F, do_bench ms, on / off, alternated
# twice): forward 16k rand 6.41-6.46 / 6.73-6.78, 32k rand 21.21 / 23.26-23.27, 16k local
# 3.32-3.34 / 3.26-3.29 (its code: 'local' has no fix-up rows to save), 4k unchanged (no gather);
# error against float64 unchanged; training untouched (its lists and fix-up stay).
GATHER_SCAN = True
# ... keys per step of a position's scan in the gather launch (a [GATHER_BLOCK_M, keys] dot): its
# registers are the gather kernel's, whose loops wait on loads and want many programs per SM.
# ptxas (Triton 3.6): 72 registers without the scan, 96 with 64 keys, 80 with 32 or 16. Session 33
# call C (do_bench ms, 64 / 32): 16k rand 7.02 / 7.11, 32k rand 22.50 / 22.67-22.79.
GATHER_SCAN_KEYS = 32
# ... and the lists' length with the scan (GATHER_CAP without it). The fix-up launches are
# latency-bound: a few rows cost them what thousands do, so the scan pays only once no row is
# left to them. Session 33 call D (benchmarks/gpu_scan_rows.py, 16k / 32k rand): with lists of
# 64 the fix-up beside the gather launch still got 32 / 299 rows and the late one 9 / 57, nearly
# all of them lists over 64 (the largest sampled 75 / 85); with 128, none (call E). Call E (do_bench
# ms; scan off at 64 / on at 64 / on at 128, 64 keys per step / 32 keys): 16k rand 6.73-6.77 /
# 7.22 / 6.48 / 6.43, 32k rand 23.26-23.29 / 23.28 / 21.33-21.36 / 21.21, 16k local 3.26-3.27 /
# 3.34 / 3.32-3.33 / 3.32 (the scan's code in the dense route and the gather kernel; 'local' has
# no fix-up rows to save). The gather launch takes 1.13 ms at 16k and 2.63 at 32k then (0.77 /
# 1.72 without the scan's rows and code, call B).
GATHER_SCAN_CAP = 128
# A ptxas register cap per thread (``maxnreg``) for the inference gather launch (0: none). Its
# loops wait on gathered loads and want many programs per SM: ptxas (Triton 3.6) gives it 80
# registers with the scan (6 four-warp programs per SM), 64 at a cap of 64 (8 programs, 76 bytes
# spilled, a few of them in pass B's loop). H200 session 34 calls A, B (do_bench ms, cap 64 /
# none, outputs bitwise equal): 16k rand 6.378, 6.355, 6.362 / 6.426-6.448, 6.413, 6.422; 32k rand
# 21.212, 21.054, 21.060 / 21.215-21.297, 21.228, 21.206; 16k local 3.342, 3.320, 3.326 /
# 3.346-3.377, 3.320, 3.321. Gather kernel at 16k rand: 984 µs / 1030. A cap of 72 sat between.
# Call E, around it (16k rand / 32k rand / 16k local; defaults 6.346-6.352 / 21.059-21.079 /
# 3.316-3.343): cap 56 6.438 / 21.150 / 3.317, cap 48 6.560 / 21.368 / 3.328, GATHER_UNROLL 2
# 6.396 / 21.070 / 3.315 (8: 6.509 / 21.503 / 3.324), 2 warps 7.988 / 24.651 / 3.394.
# Also measured there and dropped: the τ solve reading the lists' x back 32 or 64 columns at a
# time (up to the program's longest list) instead of one [16, 128] tile. The column loops took
# more registers, not fewer (ptxas: 96 at 32 columns): 16k rand 6.770 at 32 (1412 µs for the
# gather kernel); at 64 columns 6.391-6.474, 32k rand 21.11-21.21, 16k local 3.266-3.295 (about
# 1% off 'local', as much onto 'rand').
GATHER_MAXNREG = 64
# GATHER_SCAN's lists (from the dense route's listing, the gather launch's scan) as one 32-bit word
# per key: the key's index in the low 16 bits, its x above the row's stored τ − 1/32 in 16-bit
# fixed point (2^-15) in the high ones, in the x slots (BMAX); the index lists (GIDX) go unused.
# The listing stores once per key instead of twice, and pass B loads once. Every listed or
# scanned x lies in (τ − 1/32, m] with τ ≥ m − 1 (α ≤ 2), so the word holds it to within 2^-16,
# under the packed x's own rounding (eps_unit·|x|/2). Up to 65536 keys. H200 session 34 call F
# (do_bench ms, on / off, alternated twice): 16k rand 6.144, 6.152 / 6.394, 6.388; 32k rand 20.614,
# 20.581 / 21.065, 21.104; 16k local 3.323, 3.321 / 3.322, 3.321 (bitwise equal: nothing listed).
# Timeline at 16k rand: the dense route 5114 µs / 5214, the gather 879 / 956. Max error on the last
# 256 rows against float64 7.85e-3 / 7.78e-3 at 16k, 7.92e-3 both at 32k. ptxas: the dense route's
# spills 412 bytes / 716.
GATHER_WORDS = True
# The dense route's sweep 1 (from GATHER_MIN_LK keys) takes its unmasked key tiles two at a time
# and merges them into the candidates as a sorted pair (a bitonic merge: 7.5 min/max per score
# instead of 8, and the evicted x's row max once per two tiles), at the cost of a second score
# tile live. Same candidates, so bitwise the same outputs (test_pair_merge_is_bitwise_the_one_by_one_insertion).
# H200 session 37 call A (do_bench ms, off / on, alternated twice; bitwise equal outputs): forward
# 16k rand 6.177, 6.145 / 5.844, 5.801; 32k rand 20.609, 20.570 / 19.219, 19.185; 16k local 3.307,
# 3.307 / 3.316, 3.323; forward+backward 16k rand 12.254, 12.237 / 11.983, 11.927; 32k rand 35.802,
# 35.780 / 34.607, 34.619; 16k local 4.730, 4.690 / 4.698, 4.702. Timeline: the dense route 5086 /
# 4713 µs at 16k, 18168 / 16767 at 32k. ptxas (Triton 3.6, scripts/kernel_regs.py): the inference
# dense route at 255 registers spills 340 bytes with it against 412, none in its sweep loops.
PAIR_MERGE = True
# PAIR_MERGE for the exact candidates (the single launch below GATHER_MIN_LK keys, the sparse
# route from it): sweep 1's unchecked key tiles (those after the probe) two at a time, the row max
# and the evicted max once per pair (one row reduction each per two tiles instead of two). The
# same candidates; a row's key range may take one more tile at an end (both tiles of a pair count
# as near when the pair's max is), which the output sweep then visits for nothing. H200 session 37
# call D (do_bench ms, on / off, alternated twice; outputs bitwise equal): forward 4k rand 0.740,
# 0.740 / 0.752, 0.747; 8k rand 2.464, 2.457 / 2.524, 2.524; 4k local 0.316, 0.316 / 0.315, 0.314;
# 16k local (the sparse route) 3.252, 3.239 / 3.336, 3.323; 16k rand 5.564, 5.576 / 5.568, 5.579;
# forward+backward 4k rand 2.051, 2.035 / 2.057, 2.043; 16k local 4.666, 4.644 / 4.732, 4.717.
# ptxas (Triton 3.6): the 4k inference kernel spills 136 bytes against 108 (a few in the pair
# loop), training 252 against 116.
PAIR_EXACT = True
# The dense route stores the outputs of its dead and NaN rows alone: the gather launch writes the
# listed rows and the fix-up the other live ones (False: it also stores zeros for those, 16 KiB
# per 64-row program, overwritten later). H200 session 37 call B (do_bench ms, on / off, alternated
# twice, PAIR_MERGE on; bitwise equal outputs): forward 16k rand 5.595, 5.580 / 5.848, 5.810; 32k
# rand 18.241, 18.216 / 19.190, 19.183; 16k local 3.315, 3.317 / 3.336, 3.290; forward+backward
# 16k rand 11.710, 11.642 / 12.034, 11.949; 32k rand 33.175, 33.197 / 34.669, 34.681; 16k local
# 4.726, 4.664 / 4.706, 4.672. (The zeros went to the same lines the gather launch writes moments
# later: 134 MiB at 16k, 268 at 32k.)
DENSE_OWN_ROWS = True
# GATHER's listing, where the lists stay in the forward (not training's, FIXUP_LISTS): ranks from
# one scan of each score position's count of candidates above the threshold (they are a prefix
# of its sorted candidates) instead of one scan per candidate tile. H200 session 32 call E
# (do_bench ms, on / off): forward 16k rand 6.774 / 6.839-6.846, 32k rand 23.29 / 23.50-23.51,
# 16k local 3.271 / 3.272-3.280 (timeline: the dense route 5.19 / 5.26 ms at 16k); applied to
# training's listing as well it cost the 32k rand training step 36.37 against 35.83-35.87.
LIST_PREFIX = True
# Profiling only (session 32 calls B-D, benchmarks/gpu_timeline.py): the dense route stops after its
# sweep (1), after the candidates' τ (2), after the listing (3), or after the listing without its
# stores (5), storing something of what it computed. The dense route's kernel at 16k / 32k / 4k
# 'rand' (µs; 4k with GATHER_MIN_LK and FIXUP_MIN_LK at 4k): whole 5268 / 18606 / 592-608, stop 1
# 4276 / 16231 / 324, stop 2 4344-4374 / 16462 / 359-365, stop 5 4612 / - / 418, stop 3 5020 / - /
# 535. After the sweep, the listing costs 16k 0.68 ms (0.27 of it its ranks, 0.41 its stores) and
# what follows it (the fix-up's row list, τ, the zeroed outputs) 0.25; storing the four candidate
# tiles whole (coalesced) instead of listing cost 0.46. The work at a program's end is slow: every
# program does it at once with nothing beside it to hide it. (Packing the key tile into the
# candidates costs nothing measurable: the sweep's loops unpacked, 4307 µs against 4276.)
# 6 (session 33 call B): the dense route runs whole, but the rows its candidates missed go to no
# fix-up (their outputs are wrong): what the forward would take if those rows cost the gather
# launch nothing more.
DENSE_STOP = 0
# Tried and dropped (session 33 call A, a ptxas ``maxnreg`` cap on the main launch): at 168
# registers three 4-warp programs share an SM where 255 allow two (the dense route keeps no V tiles:
# 64 KB of shared memory at 3 stages; the one launch below 16k keys needs 1 stage, 32 KB), so one
# program's min/max insertion could overlap more of the others' Q·Kᵀ. ptxas (Triton 3.6,
# scripts/kernel_regs.py with a fourth entry) at 168: the dense route spills 3020 bytes against 708,
# the one launch at 1 stage 2548 against 108, much of it in sweep 1's loops. Outputs bitwise equal,
# and far slower (do_bench ms, capped / defaults): 16k rand 11.61 / 6.72-6.76 (at 2 stages 11.74),
# 32k rand 42.2 / 23.3, 16k local 3.30 / 3.26; 4k rand at 1 stage 1.285 (168), 2.58 (128), 0.910
# (uncapped) against 0.748 at 3 stages. The spills' local-memory traffic costs more than the third
# program hides.

TILE = configs.TILE  # granularity of the active-tile map (see configs.TILE)


def regrid_tiles(act: Tensor, src: tuple[int, int], dst: tuple[int, int], Lq: int, Lk: int) -> Tensor:
    """A (BH, cdiv(Lq, src_m), cdiv(Lk, src_n)) bool map of active blocks at another granularity
    (power-of-two block sizes): a destination block is active when any source block it overlaps is.
    Conservative in both directions, so a skipped block is always truly empty."""
    for dim, (s, d, L) in enumerate(zip(src, dst, (Lq, Lk)), start=1):
        n_dst = triton_cdiv(L, d)
        if s == d:
            continue
        if s > d:
            act = act.repeat_interleave(s // d, dim=dim).narrow(dim, 0, n_dst)
        else:
            f = d // s
            pad = n_dst * f - act.shape[dim]
            if pad:
                shape = list(act.shape)
                shape[dim] = pad
                act = torch.cat([act, act.new_zeros(shape)], dim=dim)
            shape = list(act.shape)
            shape[dim:dim + 1] = [n_dst, f]
            act = act.reshape(shape).any(dim + 1)
    return act


def _active_tiles(act: Tensor, cfg: configs.FwdConfig, B: int, H: int, Lq: int, Lk: int) -> Tensor:
    """The output sweep's per-tile "has a non-zero weight" bytes, regridded to TILE x TILE blocks:
    (B, H, cdiv(Lq, TILE), cdiv(Lk, TILE)) uint8."""
    n_m, n_n = triton_cdiv(Lq, cfg.BLOCK_M), triton_cdiv(Lk, cfg.BLOCK_N)
    if (cfg.BLOCK_M, cfg.BLOCK_N) == (TILE, TILE):  # already the map (0 / 1 bytes): no copy
        return act[: B * H * n_m * n_n].view(B, H, n_m, n_n)
    a = act[: B * H * n_m * n_n].reshape(B * H, n_m, n_n) != 0
    a = regrid_tiles(a, (cfg.BLOCK_M, cfg.BLOCK_N), (TILE, TILE), Lq, Lk)
    return a.reshape(B, H, a.shape[1], a.shape[2]).to(torch.uint8)


def _next_pow2(n: int) -> int:
    return 1 if n <= 1 else 1 << (int(n) - 1).bit_length()


def _round_dim(d: int) -> int:
    return max(16, _next_pow2(d))


def supports(q: Tensor, k: Tensor, v: Tensor) -> bool:
    """True for every input the fused kernel handles (the caller has validated the arguments)."""
    if q.dtype not in _SUPPORTED_DTYPES:
        return False
    if q.shape[-1] > MAX_HEAD_DIM or v.shape[-1] > MAX_HEAD_DIM:
        return False
    if q.device.type == "cuda":
        return True
    return q.device.type == "cpu" and interpreter_on()


# ----------------------------------------------------------------------------------------------
# Specialisation and configs
# ----------------------------------------------------------------------------------------------


def _niter(kind: str, dtype: torch.dtype, alpha_max: float = 3.0) -> int:
    """Refinement sweeps. One puts τ within ~4e-4 of exact for α = 1.5 (below bf16's resolution);
    fp32 and α = 2 get a second. General α works on h = (Σy^γ)^(1/γ): for α ≤ 2 (h convex) two
    sweeps reach fp32's limit (max τ error 1.6e-6 over α ∈ {1.25, 1.4, 1.7}, interpreter, fp32);
    α > 2 has no safe bound besides the probes and needs five (four leave an output error of
    2.6e-4 in a CI property example at α = 2.5; O₂ = Σ s·v / Σ s with s = p^(2−α) is
    ill-conditioned there, so τ must be exact).
    ``alpha_max``: the largest α the launch uses (per-head α: assume > 2). Sweeps after the second
    run only in programs whose α is > 2 (the template checks), so a per-head α renders five and
    its heads with α ≤ 2 make two."""
    if kind == "general":
        return 2 if alpha_max <= 2.0 else 5
    if kind == "2":  # the sparsemax estimate is one-sided: a second sweep makes it exact
        return 2
    return 1 if dtype != torch.float32 else 2


def _mask_layout(attn_mask: Optional[Tensor], is_causal: bool, B: int, H: int, Lq: int, Lk: int):
    """(mode, is_bool, tensor, strides): the mask expanded to (B, H, Lq, Lk) with stride 0 on
    broadcast dims, never materialised."""
    if attn_mask is None:
        return ("causal" if is_causal else "none"), False, None, (0, 0, 0, 0)
    m = attn_mask
    if m.dim() < 4:
        m = m.reshape((1,) * (4 - m.dim()) + tuple(m.shape))
    m = m.expand(B, H, Lq, Lk)
    is_bool = m.dtype == torch.bool
    if is_bool:
        m = m.view(torch.uint8)
    strides = tuple(m.stride())
    mode = "key_padding" if (strides[2] == 0 or Lq == 1) else "full"
    return mode, is_bool, m, strides


def _fit(cfg: configs.FwdConfig, Lq: int, Lk: int) -> configs.FwdConfig:
    """Shrink tiles for short sequences (decode, tests): no 128-row tile for one query row."""
    bm = min(cfg.BLOCK_M, max(16, _next_pow2(Lq)))
    bn = min(cfg.BLOCK_N, max(16, _next_pow2(Lk)))
    return dataclasses.replace(cfg, BLOCK_M=bm, BLOCK_N=bn)


def _hist_mode(cfg: configs.FwdConfig, kind: str) -> str:
    """Sweep 1's mode: the config's, except that general α renders the histogram ("elem") for a
    "subset" config when SUBSET_GENERAL is off."""
    return "elem" if cfg.hist == "subset" and kind not in ("15", "2") and not SUBSET_GENERAL else cfg.hist


_kernels: dict = {}


def _kernel(cfg: configs.FwdConfig, kind: str, alpha: float, per_head: bool, mask_mode: str,
            mask_bool: bool, niter: int, save_aux: bool, ieee: bool, dr: int, dvr: int, stop_after: str = "",
            dot_upcast: bool = False, phase: str = "all", tile_flags: bool = False, fixup: bool = False,
            gather: bool = False, act_block_m: int = 0, route: str = "", fixup_lists: bool = False,
            cap: int = 0, packed_x: bool = False, scan: bool = False, words: bool = False):
    # memoised on the arguments and the module's knobs (tests change those), so a launch costs a
    # dict lookup here rather than render.load's sorted parameter set; ADASPLASH_COMPILE_DUMP
    # goes through render.load every time, which writes the source out
    cap = cap or GATHER_CAP  # the list length GATHER's kernels are rendered for (0: inference's)
    key = (cfg, kind, alpha if kind in ("15", "2") else 0.0, per_head, mask_mode, mask_bool, niter, save_aux, ieee,
           dr, dvr, stop_after, dot_upcast, phase, tile_flags, fixup, NB, FLUSH_EVERY, SUBSET_TOPK, SUBSET_EVICT2, SUBSET_WARM,
           SUBSET_NEAR_SKIP, SUBSET_NEAR_PATIENCE, SUBSET_LEAN_DENSE, SUBSET_TARGETED, TARGETED_SCAN, NREF, NREF_GENERAL, NREF_GENERAL_LOWP, SUBSET_GENERAL, FIXUP_MAX_ROWS, gather, cap, GATHER_UNROLL, GATHER_KEY_LOADS, GATHER_SCRATCH, GATHER_DENSE_FRAC, act_block_m, route, fixup_lists,
           packed_x, DENSE_STOP, LIST_PREFIX, scan, GATHER_SCAN_KEYS, words, PAIR_MERGE, DENSE_OWN_ROWS, PAIR_EXACT)
    kern = _kernels.get(key)
    if kern is None or os.environ.get("ADASPLASH_COMPILE_DUMP"):
        kern = _kernels[key] = _render_kernel(cfg, kind, alpha, per_head, mask_mode, mask_bool, niter, save_aux,
                                              ieee, dr, dvr, stop_after, dot_upcast, phase, tile_flags, fixup,
                                              gather, act_block_m, route, fixup_lists, cap, packed_x, scan, words)
    return kern


def _render_kernel(cfg, kind, alpha, per_head, mask_mode, mask_bool, niter, save_aux, ieee, dr, dvr, stop_after,
                   dot_upcast, phase, tile_flags, fixup, gather, act_block_m, route, fixup_lists, cap, packed_x,
                   scan=False, words=False):
    hist = _hist_mode(cfg, kind)
    mod = render.load(
        TEMPLATE,
        ALPHA_KIND=kind,
        ALPHA=float(alpha) if kind in ("15", "2") else 0.0,
        PER_HEAD_ALPHA=per_head,
        MASK_MODE=mask_mode,
        MASK_BOOL=mask_bool,
        NB=NB,
        FLUSH_EVERY=FLUSH_EVERY,
        HIST_MODE=hist,
        TOPK=SUBSET_TOPK if hist == "subset" else 0,
        EVICT2=SUBSET_EVICT2 if hist == "subset" else False,
        SUBSET_WARM=SUBSET_WARM if hist == "subset" else 0,
        NEAR_SKIP=SUBSET_NEAR_SKIP if hist == "subset" else False,
        NEAR_PATIENCE=SUBSET_NEAR_PATIENCE if hist == "subset" else 0,
        LEAN_DENSE=SUBSET_LEAN_DENSE if hist == "subset" else False,
        TILE_FLAGS=tile_flags,
        FIXUP=fixup,
        GATHER=gather,
        GATHER_CAP=cap,
        GATHER_UNROLL=GATHER_UNROLL,
        GATHER_KEY_LOADS=GATHER_KEY_LOADS,
        GATHER_SCRATCH=GATHER_SCRATCH,
        GATHER_PACKED_X=packed_x,
        DENSE_STOP=DENSE_STOP if route == "dense" else 0,
        LIST_PREFIX=LIST_PREFIX and not fixup_lists,
        GATHER_SCAN=scan,
        GATHER_WORDS=words,
        GATHER_SCAN_KEYS=GATHER_SCAN_KEYS,
        GATHER_DENSE_FRAC=float(GATHER_DENSE_FRAC),
        ACT_BLOCK_M=act_block_m or cfg.BLOCK_M,
        ROUTE=route,
        FIXUP_LISTS=fixup_lists,
        SUBSET_TARGETED=SUBSET_TARGETED,
        TARGETED_SCAN=TARGETED_SCAN,
        FIXUP_MAX_ROWS=min(FIXUP_MAX_ROWS, cfg.BLOCK_M),
        NREF=NREF if kind != "general" else NREF_GENERAL,
        NREF_EARLY=NREF if kind != "general" else (NREF_GENERAL if ieee else NREF_GENERAL_LOWP),
        NITER=niter,
        SAVE_AUX=save_aux,
        IEEE_DOT=ieee,
        HEAD_DIM_ROUNDED=dr,
        V_DIM_ROUNDED=dvr,
        BLOCK_M=cfg.BLOCK_M,
        BLOCK_N=cfg.BLOCK_N,
        STOP_AFTER=stop_after,
        DOT_UPCAST=dot_upcast,
        PHASE=phase,
        PAIR_MERGE=PAIR_MERGE and route == "dense" and SUBSET_TOPK == 4 and SUBSET_LEAN_DENSE and not SUBSET_EVICT2,
        DENSE_OWN_ROWS=DENSE_OWN_ROWS,
        PAIR_EXACT=PAIR_EXACT and hist == "subset" and SUBSET_TOPK == 4 and not SUBSET_EVICT2,
    )
    return mod.attention_fwd_kernel


# ---- on-disk cache of tuned configs --------------------------------------------------------

_tune_lock = threading.Lock()
_tuned: Optional[dict] = None
# {tune key: {repr(config): median ms}} for the candidates measured in this process (reports)
tuning_log: dict = {}


def _tune_path():
    return render.cache_dir() / "tuned" / "attention_fwd.json"


def _load_tuned() -> dict:
    global _tuned
    if _tuned is None:
        try:
            _tuned = json.loads(_tune_path().read_text())
        except (OSError, ValueError):
            _tuned = {}
    return _tuned


def _save_tuned(key: str, cfg: configs.FwdConfig) -> None:
    path = _tune_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:  # merge with what other processes wrote meanwhile
        on_disk = json.loads(path.read_text())
    except (OSError, ValueError):
        on_disk = {}
    on_disk.update(_load_tuned())
    on_disk[key] = cfg.as_dict()
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(on_disk, indent=1, sort_keys=True))
    os.replace(tmp, path)
    _load_tuned().update(on_disk)


def autotune_enabled() -> bool:
    return os.environ.get("ADASPLASH_COMPILE_AUTOTUNE", "1") not in ("0", "", "false", "False")


def _tune_key(q: Tensor, dr: int, dvr: int, kind: str, mask_mode: str, save_aux: bool, Lq: int, Lk: int) -> str:
    dev = torch.cuda.get_device_name(q.device) if q.device.type == "cuda" else "cpu"
    return "|".join(
        str(x) for x in (dev, str(q.dtype).replace("torch.", ""), dr, dvr, kind, mask_mode, int(save_aux),
                         _next_pow2(Lq), _next_pow2(Lk))
    )


# ----------------------------------------------------------------------------------------------
# Launch
# ----------------------------------------------------------------------------------------------


def _launch(cfg, q, k, v, mask, mask_strides, alpha_buf, out, tau, o2, scale, kernel_args, stop_after="",
            phase="all", bmax=None, act=None, fix=None, gat=None, act_block_m=0, route="", fixup_lists=False,
            record=None, scan=False):
    """One launch of the forward kernel; ``phase`` "stats" / "output" is half of the split
    forward (the halves share ``bmax``, the tile maxima, and so the tile shape). ``act``: a zeroed
    byte per tile, which the output sweep sets where the tile has weight. Returns bmax.
    ``record``: a list that gets the launch's (``launch.Bound``, args). ``scan``: GATHER_SCAN's
    dense route or gather launch (whose ``fix`` is then the late fix-up's)."""
    B, H, Lq, D = q.shape
    Hk, Lk = k.shape[1], k.shape[2]
    Dv = v.shape[-1]
    kind, alpha, per_head, mask_mode, mask_bool, niter, save_aux, ieee, dr, dvr = kernel_args
    # the Triton interpreter's bf16 tl.dot is wrong (Triton 3.9): compute those dots in fp32 there
    dot_upcast = q.dtype == torch.bfloat16 and q.device.type == "cpu"
    n_mblocks = triton_cdiv(Lq, cfg.BLOCK_M)
    n_blocks = triton_cdiv(Lk, cfg.BLOCK_N)
    gather = gat is not None and phase in ("all", "gather") and route != "sparse"
    # FIXUP_LISTS concerns the kernels that list rows (GATHER's) and the fix-up
    fixup_lists = fixup_lists and gat is not None and act is not None and (
        (gather and phase == "all") or phase == "fixup")
    # GATHER_PACKED_X: the listing launches store the listed keys' x, the gather launch reads them
    packed_x = gather and gat[4] is not None and GATHER_PACKED_X and q.dtype != torch.float32
    if gather and gat[4] is not None:
        bmax = gat[4]  # the tile maxima's slot: "subset" never reads it, the gather phase has none
    scan_k = scan and packed_x and (route == "dense" or phase == "gather")
    kern = _kernel(cfg, kind, alpha, per_head, mask_mode, mask_bool, niter, save_aux, ieee, dr, dvr, stop_after,
                   dot_upcast, phase, tile_flags=act is not None and phase not in ("stats", "fixup"),
                   fixup=fix is not None and phase == "all", gather=gather, act_block_m=act_block_m, route=route,
                   fixup_lists=fixup_lists, cap=gat[3] if gat is not None else GATHER_CAP, packed_x=packed_x,
                   scan=scan_k, words=_words(scan_k, Lk))
    n_fix = max(FIXUP_PROGRAMS, Lq // FIXUP_ROWS_PER_PROGRAM if FIXUP_ROWS_PER_PROGRAM else 0)
    # (Tried and dropped, session 36 call D, commit acd1b8d: causal launches on a (B·H, row blocks)
    # grid, every head's heaviest row block first. Outputs bitwise equal, no time moved beyond noise
    # (do_bench ms, defaults / heavy first, alternated twice): forward 4k rand 0.752, 0.745 / 0.748,
    # 0.750; 16k rand 6.178, 6.178 / 6.136, 6.183; 16k local 3.337, 3.314 / 3.310, 3.309; 32k rand
    # 20.610, 20.624 / 20.625, 20.626; forward+backward 4k rand 2.054, 2.053 / 2.040, 2.052.)
    grid = (min(n_mblocks, n_fix) if phase == "fixup" else n_mblocks, B * H)
    if bmax is None:
        # the tile maxima: the histogram modes' skipping ("subset" tracks its key range per row and
        # never reads the pointer)
        if _hist_mode(cfg, kind) == "subset":
            bmax = tau
        else:
            bmax = torch.empty((max(1, B * H * n_mblocks * n_blocks),), dtype=torch.float32, device=q.device)
    o2_buf = o2 if save_aux else out
    mask_arg = mask if mask is not None else q
    act_arg = act if act is not None else bmax
    fix_args = fix if fix is not None else (tau, tau)
    gidx, gcnt, idx_mask = gat[:3] if gather or route or fixup_lists else (tau, tau, 0)
    strides = (*q.stride(), *k.stride(), *v.stride(), *mask_strides, *out.stride(), *o2_buf.stride())
    ptrs = (q, k, v, mask_arg, alpha_buf, out, tau, o2_buf, bmax, act_arg, *fix_args, gidx, gcnt)
    # what decides the compiled kernel's specialisation besides the kernel itself (launch.py):
    # pointer dtypes, strides and sizes; the buffers allocated here are aligned, the caller's
    # tensors may be offset views
    key = (q.device.index, tuple(t.dtype for t in ptrs), strides, H, H // Hk, D, Dv,
           launch.aligned(q, k, v, mask, alpha_buf), launch.fits_int32(Lq, Lk, n_blocks))
    constexprs = dict(HEAD_DIM=D, V_DIM=Dv, HEAD_DIM_ROUNDED=dr, V_DIM_ROUNDED=dvr, BLOCK_M=cfg.BLOCK_M,
                      BLOCK_N=cfg.BLOCK_N)
    if GATHER_MAXNREG and phase == "gather" and not save_aux and q.device.type == "cuda":
        constexprs["maxnreg"] = GATHER_MAXNREG  # a compile option (launch.Launcher passes it on)
    bound = launch.launcher(kern).bind(
        key, grid, constexprs,
        cfg.num_warps, cfg.num_stages,
    )
    args = (*ptrs, *strides, H, H // Hk, Lq, Lk, n_blocks, float(scale), float(alpha), idx_mask)
    bound(args)
    if record is not None:
        record.append((bound, args))
    return bmax


def list_dtype(Lk: int) -> torch.dtype:
    """GATHER's key-list dtype: int16 while every key index fits it."""
    return torch.int16 if Lk <= 1 << 15 else torch.int32


def training_lists_spec(q: Tensor, k: Tensor, alpha: float, alpha_t: Optional[Tensor], save_aux: bool):
    """((B, H, Lq, TRAIN_GATHER_CAP), dtype) when a training forward (``save_aux``) of these shapes may
    list rows for the gather launch and hands the lists to the backward (``return_lists``), else
    None. Shapes and α only (the op's fake implementation sizes its outputs with it): whether
    rows are listed also depends on the config and the data, and a forward that lists none
    returns counts of 0."""
    Lk = k.shape[2]
    if not (save_aux and SUBSET_GATHER and alpha_t is None and alpha in (1.5, 2.0) and Lk >= GATHER_MIN_LK):
        return None
    B, H, Lq = q.shape[:3]
    return (B, H, Lq, TRAIN_GATHER_CAP), list_dtype(Lk)


def _gather_buffers(cfg, kind, q, Lk, stop_after, cap, words=False):
    """GATHER's key lists (``cap`` per row), counts, index mask, cap and the listed keys' x
    (GATHER_SCRATCH / GATHER_PACKED_X, else None) for a "subset" launch, or None. ``words``
    (GATHER_WORDS): the x slots hold the keys too, and the lists are a one-slot placeholder."""
    n_blocks = triton_cdiv(Lk, cfg.BLOCK_N)
    if (not SUBSET_GATHER or stop_after or SUBSET_EVICT2 or _hist_mode(cfg, kind) != "subset" or kind not in ("15", "2")
            or not (SUBSET_NEAR_SKIP and SUBSET_NEAR_PATIENCE > 0) or n_blocks > GATHER_MAX_TILES
            or Lk < GATHER_MIN_LK):
        return None
    B, H, Lq = q.shape[:3]
    lists, counts, xs = _gather_alloc(B * H * Lq, cap, list_dtype(Lk), GATHER_SCRATCH or GATHER_PACKED_X, q.device,
                                      words)
    return lists, counts, _next_pow2(n_blocks) - 1, cap, xs


def _words(scan: bool, Lk: int) -> bool:
    """GATHER_WORDS for a forward that takes GATHER_SCAN (``scan``) over ``Lk`` keys: every key
    index fits the word's 16 bits."""
    return scan and GATHER_WORDS and Lk <= 65536


def _gather_alloc(n_rows: int, cap: int, list_t: torch.dtype, with_xs: bool, device, words: bool = False):
    """GATHER's buffers: the key lists, the counts and (``with_xs``) the listed keys' x.
    ``words``: no launch reads or writes the lists (the words carry the keys), so they get one
    slot (the 16k inference forward's peak memory: 128 MiB less at B·H = 32)."""
    lists = _new_scratch(1 if words else n_rows * cap, list_t, device)
    counts = torch.empty((n_rows,), dtype=torch.int32, device=device)
    return lists, counts, (_new_scratch(n_rows * cap, torch.float32, device) if with_xs else None)


def _forked(side, device):
    """A context whose launches go to the ``side`` stream after everything queued so far on the
    current one (a null context for None); the caller joins with ``current.wait_stream(side)``."""
    if side is None:
        return contextlib.nullcontext()
    side.wait_stream(torch.cuda.current_stream(device))
    return torch.cuda.stream(side)


def _run(cfg, q, k, v, mask, mask_strides, alpha_buf, out, tau, o2, scale, kernel_args, stop_after="",
         act=None, gather_flags=True, cap=0, record=None):
    """The forward under ``cfg``: one fused kernel, or (``cfg.split``, histogram modes) the stats
    kernel (sweeps 1-2, writes τ and the tile maxima) then the output kernel (sweep 3). "subset"
    carries its key range in registers, so it always runs fused; from FIXUP_MIN_LK keys a fix-up
    launch redoes the rows its candidates missed, and from GATHER_MIN_LK a gather launch writes the
    rows whose support the main launch listed (see SUBSET_GATHER), with the fix-up beside it on a
    side stream (FIXUP_CONCURRENT). Returns GATHER's (lists,
    counts, idx_mask), or None. ``gather_flags=False``: the gather launch leaves the listed rows
    out of the tile map ``act`` (the backward then takes them from the lists); ``cap``: their
    length (0: GATHER_CAP). ``record`` (a list) gets the (``launch.Bound``, args) of a forward
    that is one launch, and (bmax, the scratch it allocated or None); it stays empty otherwise."""
    subset = _hist_mode(cfg, kernel_args[0]) == "subset"
    fixup = subset and SUBSET_FIXUP and k.shape[2] >= FIXUP_MIN_LK and not stop_after
    scan = fixup and _scans(cfg, q, kernel_args, act, gather_flags)
    cap = GATHER_SCAN_CAP if scan else cap or GATHER_CAP
    gat = (_gather_buffers(cfg, kernel_args[0], q, k.shape[2], stop_after, cap, _words(scan, k.shape[2]))
           if subset else None)
    g_gat, side = gat, None  # what the gather launch reads; the fix-up's stream when it runs beside it
    launches = None  # a multi-launch forward's (Bound, args), when it is recorded
    late = None  # GATHER_SCAN: the late fix-up's buffers (rows whose lists overflowed in the gather launch)
    if fixup:
        B, H, Lq = tau.shape
        fix = _fix_buffers(B * H, Lq, q.device)
        if scan and gat is not None:
            late = _fix_buffers(B * H, Lq, q.device)
        # multi-launch forwards keep a plan too (_MultiPlan) when every launch can be replayed
        launches = [] if record is not None and gat is not None else None
        # GATHER_SPLIT: the main launch as two kernels, the sparse programs' and the dense ones'
        for route in ("sparse", "dense") if gat is not None and GATHER_SPLIT else ("",):
            _launch(cfg, q, k, v, mask, mask_strides, alpha_buf, out, tau, o2, scale, kernel_args, act=act, fix=fix,
                    gat=gat, route=route, fixup_lists=not gather_flags, record=launches, scan=late is not None)
        n_main = len(launches) if launches is not None else 0
        # (FIXUP_BLOCK_N: inference only; training's tile map and lists share the main launch's tiles)
        fix_bn = (FIXUP_BLOCK_N if gather_flags and act is None else 0) or cfg.BLOCK_N
        fix_cfg = configs.FwdConfig(FIXUP_BLOCK_M, fix_bn, FIXUP_WARPS if gather_flags else FIXUP_LISTS_WARPS,
                                    cfg.num_stages, "subset")
        # The fix-up's rows and the gather launch's are disjoint (uncertified or overflowing rows
        # against listed ones) and neither reads what the other writes: the fix-up, a few long
        # latency-bound programs, runs on a side stream beside the gather launch (FIXUP_CONCURRENT;
        # H200 session 12 call D, ms, in order / beside: 16k rand 8.35 / 8.16, 32k rand 28.16 /
        # 27.43, 'local' unchanged). In training the fix-up lists its rows too (FIXUP_LISTS): the
        # gather launch reads the counts as the main launch left them (a copy), so it never takes
        # up the fix-up's rows, in order or beside.
        if gat is not None and not gather_flags:
            g_gat = (gat[0], gat[1].clone(), *gat[2:])
        side = launch.side_stream(q.device) if gat is not None and FIXUP_CONCURRENT else None
        with _forked(side, q.device):
            _launch(fix_cfg, q, k, v, mask, mask_strides, alpha_buf, out, tau, o2, scale, kernel_args, phase="fixup",
                    fix=fix, act=None if gather_flags else act, gat=None if gather_flags else gat,
                    act_block_m=cfg.BLOCK_M, fixup_lists=not gather_flags, record=launches)
    elif not cfg.split or stop_after or subset:
        one = [] if record is not None and gat is None else None
        bmax = _launch(cfg, q, k, v, mask, mask_strides, alpha_buf, out, tau, o2, scale, kernel_args, stop_after,
                       act=act, gat=gat, record=one)
        if one:
            record.extend((one[0], bmax if bmax is not tau else None))
    else:
        stats_args = kernel_args[:6] + (False,) + kernel_args[7:]  # O₂ is the output kernel's business
        bmax = _launch(cfg, q, k, v, mask, mask_strides, alpha_buf, out, tau, o2, scale, stats_args, phase="stats")
        _launch(cfg, q, k, v, mask, mask_strides, alpha_buf, out, tau, o2, scale, kernel_args, phase="output",
                bmax=bmax, act=act)
    if gat is not None:  # the listed rows: τ on their lists, and their output
        g_cfg = configs.FwdConfig(min(GATHER_BLOCK_M, cfg.BLOCK_M), cfg.BLOCK_N,
                                  GATHER_WARPS_TRAIN if kernel_args[6] else GATHER_WARPS, GATHER_STAGES, "subset")
        _launch(g_cfg, q, k, v, mask, mask_strides, alpha_buf, out, tau, o2, scale, kernel_args, phase="gather",
                act=act if gather_flags else None, gat=g_gat, act_block_m=cfg.BLOCK_M,
                record=launches, fix=late, scan=late is not None)
    if late is not None:  # GATHER_SCAN: the rows whose lists overflowed in the gather launch
        _launch(fix_cfg, q, k, v, mask, mask_strides, alpha_buf, out, tau, o2, scale, kernel_args, phase="fixup",
                fix=late, act_block_m=cfg.BLOCK_M, record=launches)
    if side is not None:  # join: the fix-up's rows (and its lists, tiles) before anything reads them
        torch.cuda.current_stream(q.device).wait_stream(side)
    if launches is not None and len(launches) == n_main + 2 + (late is not None):
        record.append(_Recorded(tuple(launches[:n_main]), launches[n_main], launches[n_main + 1], gat, fix,
                                g_gat[1] if g_gat[1] is not gat[1] else None, side is not None,
                                launches[n_main + 2] if late is not None else None, late))
    return gat


def _scans(cfg, q, kernel_args, act, gather_flags) -> bool:
    """GATHER_SCAN for a forward with a fix-up (if it lists rows for a gather launch): inference
    (no tile map, no O₂, the lists not handed on), bf16 / fp16 (GATHER_PACKED_X), no mask or
    causal, the dense route listing with LIST_PREFIX; score positions that fit a 64-bit mask,
    counts in 8 bits."""
    return (GATHER_SCAN and GATHER_PACKED_X and GATHER_SPLIT and LIST_PREFIX and q.dtype != torch.float32
            and act is None and gather_flags and not kernel_args[6] and kernel_args[3] in ("none", "causal")
            and 4 <= GATHER_SCAN_CAP <= 255 and cfg.BLOCK_N <= 64)


def triton_cdiv(a: int, b: int) -> int:
    return (a + b - 1) // b


# (device, dtype, head dims, α kind, mask mode, O₂, pow2 lengths, the table, autotune on) -> the
# config a launch uses: a dict hit per call instead of the table, _fit and the tune key
_picked: dict = {}


def _pick_config(q, k, v, mask, mask_strides, alpha_buf, out, tau, o2, scale, kernel_args, Lq, Lk):
    kind, _, _, mask_mode, _, _, save_aux, _, dr, dvr = kernel_args
    tune = q.device.type == "cuda" and autotune_enabled() and kind != "general"
    memo = (q.device, q.dtype, dr, dvr, kind, mask_mode, save_aux, _next_pow2(Lq), _next_pow2(Lk),
            configs.fwd_default, tune, SUBSET_GENERAL)
    cfg = _picked.get(memo)
    if cfg is None:
        cfg = _picked[memo] = _pick_config_uncached(q, k, v, mask, mask_strides, alpha_buf, out, tau, o2, scale,
                                                    kernel_args, Lq, Lk, tune)
    return cfg


def _pick_config_uncached(q, k, v, mask, mask_strides, alpha_buf, out, tau, o2, scale, kernel_args, Lq, Lk, tune):
    kind, _, _, mask_mode, _, _, save_aux, _, dr, dvr = kernel_args
    default = _fit(configs.fwd_default(q.dtype, dr), Lq, Lk)
    if kind == "general" and default.general_warps and _hist_mode(default, kind) != "subset":
        default = dataclasses.replace(default, num_warps=default.general_warps)
    # General α renders a much larger kernel (8 probes x 5 sweeps); compiling 3-4 candidates of
    # it costs tens of seconds per bucket (H200 run 2026-11-29), so it keeps the table's config.
    if not tune:
        return default
    key = _tune_key(q, dr, dvr, kind, mask_mode, save_aux, Lq, Lk)
    with _tune_lock:
        hit = _load_tuned().get(key)
    if hit is not None:
        return _fit(configs.FwdConfig(**hit), Lq, Lk)
    from triton.testing import do_bench

    best, best_ms = default, float("inf")
    seen = set()
    for cand in configs.fwd_candidates(q.dtype, dr):
        cand = _fit(cand, Lq, Lk)
        if cand in seen:
            continue
        seen.add(cand)
        try:
            ms = do_bench(
                lambda: _run(cand, q, k, v, mask, mask_strides, alpha_buf, out, tau, o2, scale, kernel_args),
                warmup=3, rep=15,
            )
        except Exception:  # a candidate that does not fit (shared memory, registers) is skipped
            continue
        tuning_log.setdefault(key, {})[repr(cand)] = ms
        if ms < best_ms:
            best, best_ms = cand, ms
    with _tune_lock:
        _save_tuned(key, best)
    return best


def _new_buffer(shape, dtype, device) -> Tensor:
    """Output allocation (tests replace it to hand the kernel NaN-poisoned buffers)."""
    return torch.empty(shape, dtype=dtype, device=device)


def _new_scratch(n: int, dtype, device) -> Tensor:
    """GATHER's key lists (tests replace it to read them back)."""
    return torch.empty((n,), dtype=dtype, device=device)


def _fix_buffers(n_heads: int, Lq: int, device) -> tuple[Tensor, Tensor]:
    """The fix-up's per-head row counters (zeroed) and its row lists (B·H·Lq, written before read)."""
    return (torch.zeros((n_heads,), dtype=torch.int32, device=device),
            torch.empty((n_heads * Lq,), dtype=torch.int32, device=device))


def _new_flags(n: int, device) -> Tensor:
    """The output sweep's per-tile bytes: not zeroed, the kernel writes every one (tests replace it
    to hand the kernel poisoned bytes)."""
    return torch.empty((n,), dtype=torch.uint8, device=device)


def forward(q: Tensor, k: Tensor, v: Tensor, *args, **kwargs):
    """Fused forward (:func:`_forward`'s arguments and results), on ``q``'s device."""
    with launch.on_device(q.device):
        return _forward(q, k, v, *args, **kwargs)


def _forward(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    attn_mask: Optional[Tensor],
    is_causal: bool,
    scale: float,
    alpha: float,
    alpha_t: Optional[Tensor],
    save_aux: bool,
    return_tiles: bool = False,
    return_lists: bool = False,
):
    """Fused forward; arguments already validated by ``_checks.check_attention_args``. Returns
    ``(out, tau, o2)`` (``o2`` None without ``save_aux``), and with ``return_tiles`` also the
    active-tile map (see ``TILE``) that the backward skips on: (B, H, cdiv(Lq, TILE), cdiv(Lk, TILE))
    uint8. ``return_lists`` (with ``save_aux`` and ``return_tiles``) also returns GATHER's
    ``(lists, counts)``: (B, H, Lq, TRAIN_GATHER_CAP) key indices and (B, H, Lq) int32 counts, 0 for rows
    not listed (:func:`training_lists_spec`; both empty where it gives None). The tile map then
    leaves the listed rows out, and the backward must take them from the lists."""
    plan_key = None
    if REPLAY:
        plan_key = (q.device, *map(launch.layout, (q, k, v, attn_mask, alpha_t)),
                    launch.aligned(q, k, v, attn_mask, alpha_t), is_causal, scale, alpha, save_aux, return_tiles,
                    return_lists, _knobs())
        plan = _plans.get(plan_key)
        if plan is not None:
            return plan(q, k, v, attn_mask, alpha_t)
    B, H, Lq, D = q.shape
    Lk, Dv = k.shape[2], v.shape[-1]
    out = _new_buffer((B, H, Lq, Dv), q.dtype, q.device)
    tau = _new_buffer((B, H, Lq), torch.float32, q.device)
    o2 = _new_buffer((B, H, Lq, Dv), q.dtype, q.device) if save_aux else None  # inference: no allocation
    result = (out, tau, o2)
    if (out.numel() == 0 and tau.numel() == 0) or Lk == 0:
        if Lk == 0:  # nothing to attend anywhere
            out.zero_()
            tau.fill_(float("inf"))
            if save_aux:
                o2.zero_()
        tiles = torch.zeros((B, H, triton_cdiv(Lq, TILE), triton_cdiv(Lk, TILE)), dtype=torch.uint8, device=q.device)
        if return_lists:
            return result + (tiles,) + no_lists(q, k, alpha, alpha_t, save_aux)
        return result + (tiles,) if return_tiles else result

    kind = render.alpha_kind(alpha, alpha_t)
    per_head = alpha_t is not None
    alpha_buf = launch.alpha_buffer(alpha_t, q.device) if per_head else tau
    mask_mode, mask_bool, mask, mask_strides = _mask_layout(attn_mask, is_causal, B, H, Lq, Lk)
    dr, dvr = _round_dim(D), _round_dim(Dv)
    # per-head α: five sweeps rendered; each program skips the last three when its head's α ≤ 2 (the
    # kernel reads α), so eager calls and the op under torch.compile launch the same kernel
    alpha_max = float(alpha) if alpha_t is None else 3.0
    if not return_tiles and decode.applies(q, k, save_aux):  # a decode step: split over the keys
        decode.forward(q, k, v, mask, mask_mode, mask_bool, mask_strides, scale, alpha, alpha_t, out, tau, dr, dvr)
        return result
    kernel_args = (kind, alpha, per_head, mask_mode, mask_bool, _niter(kind, q.dtype, alpha_max), save_aux,
                   q.dtype == torch.float32, dr, dvr)
    cfg = _pick_config(q, k, v, mask, mask_strides, alpha_buf, out, tau, o2, scale, kernel_args, Lq, Lk)
    act = None
    if return_tiles:
        act = _new_flags(max(1, B * H * triton_cdiv(Lq, cfg.BLOCK_M) * triton_cdiv(Lk, cfg.BLOCK_N)), q.device)
    spec = training_lists_spec(q, k, alpha, alpha_t, save_aux) if return_lists else None
    record = [] if plan_key is not None else None
    gat = _run(cfg, q, k, v, mask, mask_strides, alpha_buf, out, tau, o2, scale, kernel_args, act=act,
               gather_flags=spec is None, cap=spec[0][-1] if spec is not None else GATHER_CAP, record=record)
    named = (q, k, v, mask, out, tau, o2, act, alpha_buf if per_head else None)
    n_act = act.numel() if act is not None else 0
    plan = None
    if record and isinstance(record[0], _Recorded):
        plan = _MultiPlan.of(record[0], named, cfg, alpha, save_aux, n_act, return_lists, spec)
    elif record and spec is None:
        replay = launch.Replay.of([record[0]], named, () if record[1] is None else (record[1],))
        if replay is not None:
            plan = _Plan(replay, cfg, alpha, save_aux, n_act, return_lists)
    if plan is not None:
        launch.bounded_put(_plans, plan_key, plan, MAX_PLANS)
    if return_tiles:
        result = result + (_active_tiles(act, cfg, B, H, Lq, Lk),)
    if not return_lists:
        return result
    if gat is None or spec is None:  # nothing listed (this config keeps no lists)
        return result + no_lists(q, k, alpha, alpha_t, save_aux)
    return result + (gat[0].view(spec[0]), gat[1].view(spec[0][:3]))


# ---- replays of the host path -------------------------------------------------------------------

# A call whose forward is one launch (no fix-up or gather launch, no decode path) keeps a plan: the
# launch with its config, kernel and arguments (``launch.Replay``), keyed on everything they follow
# from. A later call of the same key allocates its outputs and launches, nothing more. From 16k keys
# (the main launch's two routes, the fix-up beside the gather launch) ``_MultiPlan`` does the same
# for the four launches, their buffers and the side stream. H200 session 25 call E (idle-stream
# medians, host time included, ms, off / on, three runs each): forward 16k rand 7.20 / 7.03, 32k
# rand 23.95 / 23.81; training 16k rand 13.05 / 12.98, 16k local 4.98 / 4.88.
# False: every call takes the full host path (A/B host-time measurements).
REPLAY = True
MAX_PLANS = 256  # a run of ever-new keys (fresh lengths each call) then starts over
_plans: dict = {}


def _knobs() -> tuple:
    """The module settings and replaceable functions a forward's launches follow from (tests and
    probes change them), so a plan made under other settings is never replayed."""
    return (NB, NREF, NREF_GENERAL, NREF_GENERAL_LOWP, SUBSET_GENERAL, FIXUP_MAX_ROWS, FLUSH_EVERY, SUBSET_TOPK, SUBSET_EVICT2, SUBSET_WARM, SUBSET_NEAR_SKIP, SUBSET_TARGETED,
            TARGETED_SCAN,
            SUBSET_NEAR_PATIENCE, SUBSET_LEAN_DENSE, SUBSET_FIXUP, FIXUP_MIN_LK, SUBSET_GATHER, GATHER_MIN_LK, GATHER_MAX_TILES,
            GATHER_CAP, GATHER_DENSE_FRAC, GATHER_UNROLL, GATHER_KEY_LOADS, GATHER_SCRATCH, GATHER_PACKED_X, GATHER_SPLIT, FIXUP_PROGRAMS, FIXUP_ROWS_PER_PROGRAM,
            DENSE_STOP, LIST_PREFIX, GATHER_SCAN, GATHER_SCAN_KEYS, GATHER_SCAN_CAP, GATHER_MAXNREG, GATHER_WORDS,
            PAIR_MERGE, DENSE_OWN_ROWS, PAIR_EXACT,
            FIXUP_BLOCK_M, FIXUP_BLOCK_N, FIXUP_WARPS, FIXUP_LISTS_WARPS, FIXUP_CONCURRENT, GATHER_BLOCK_M,
            GATHER_WARPS, GATHER_WARPS_TRAIN, GATHER_STAGES, decode.MIN_LK,
            decode.MAX_ROWS, configs.fwd_default, _niter, _launch, _run, _gather_buffers, autotune_enabled(),
            launch.ENABLED)


class _Plan:
    """A recorded one-launch forward (see REPLAY): allocates the outputs, replays the launch and
    returns what ``_forward`` returns for its key."""

    __slots__ = ("replay", "cfg", "alpha", "save_aux", "n_act", "lists")

    def __init__(self, replay: launch.Replay, cfg: configs.FwdConfig, alpha: float, save_aux: bool, n_act: int,
                 lists: bool):
        self.replay, self.cfg, self.alpha, self.save_aux, self.n_act, self.lists = (
            replay, cfg, alpha, save_aux, n_act, lists)

    def __call__(self, q: Tensor, k: Tensor, v: Tensor, attn_mask: Optional[Tensor], alpha_t: Optional[Tensor]):
        B, H, Lq, _ = q.shape
        Lk, Dv = k.shape[2], v.shape[-1]
        out = _new_buffer((B, H, Lq, Dv), q.dtype, q.device)
        tau = _new_buffer((B, H, Lq), torch.float32, q.device)
        o2 = _new_buffer((B, H, Lq, Dv), q.dtype, q.device) if self.save_aux else None
        act = _new_flags(self.n_act, q.device) if self.n_act else None
        mask = None if attn_mask is None else _mask_layout(attn_mask, False, B, H, Lq, Lk)[2]
        listed = self._launch([q, k, v, mask, out, tau, o2, act,
                               None if alpha_t is None else launch.alpha_buffer(alpha_t, q.device)])
        result = (out, tau, o2)
        if act is not None:
            result = result + (_active_tiles(act, self.cfg, B, H, Lq, Lk),)
        if self.lists:
            result = result + (listed or no_lists(q, k, self.alpha, alpha_t, self.save_aux))
        return result

    def _launch(self, named: list) -> Optional[tuple]:
        """Launch on the call's tensors (``named``: the roles ``_forward`` recorded them in);
        returns the (lists, counts) the launches wrote, or None."""
        self.replay(named)
        return None


class _Recorded(NamedTuple):
    """What ``_run`` records of a forward with a fix-up and a gather launch: the main launches
    (sparse and dense routes), the fix-up's, the gather's (each ``(launch.Bound, args)``), the
    buffers they share (GATHER's lists, counts, index mask, cap and x scratch; the fix-up's
    counters and rows), the counts' copy the gather launch reads in training (or None), whether
    the fix-up ran on the side stream, and (GATHER_SCAN) the late fix-up's launch and buffers."""

    main: tuple
    fixup: tuple
    gather: tuple
    gat: tuple
    fix: tuple
    g_counts: Optional[Tensor]
    beside: bool
    late: Optional[tuple] = None  # GATHER_SCAN: the late fix-up's launch and buffers
    late_fix: Optional[tuple] = None


class _MultiPlan(_Plan):
    """A recorded forward of several launches (from FIXUP_MIN_LK / GATHER_MIN_LK keys: the main
    launch's two routes, the fix-up beside the gather launch): besides what :class:`_Plan` does,
    allocates the launches' buffers as ``_run`` does and replays the launches in the same order
    and on the same streams. At 16k keys the full host path put ~0.35-0.4 ms between a call's
    start and its first kernel (H200 session 24's timeline)."""

    __slots__ = ("fixup", "gather", "late", "spec", "cap", "list_t", "xs", "words", "clone", "beside")

    @classmethod
    def of(cls, rec: "_Recorded", named: tuple, cfg, alpha, save_aux, n_act, lists, spec):
        lists_buf, counts, _, cap, xs = rec.gat
        roles = (*named, lists_buf, counts, xs, *rec.fix, rec.g_counts, *(rec.late_fix or (None, None)))
        parts = (rec.main, (rec.fixup,), (rec.gather,)) + (((rec.late,),) if rec.late is not None else ())
        steps = [launch.Replay.of(part, roles) for part in parts]
        if any(r is None for r in steps):
            return None
        self = cls(steps[0], cfg, alpha, save_aux, n_act, lists)
        self.fixup, self.gather, self.spec = steps[1], steps[2], spec
        self.late = steps[3] if rec.late is not None else None
        self.cap, self.list_t, self.xs = cap, lists_buf.dtype, xs is not None
        self.words = lists_buf.numel() < counts.numel() * cap  # (_gather_alloc's placeholder lists)
        self.clone, self.beside = rec.g_counts is not None, rec.beside
        return self

    def _launch(self, named: list) -> Optional[tuple]:
        q = named[0]
        B, H, Lq, _ = q.shape
        dev = q.device
        lists, counts, xs = _gather_alloc(B * H * Lq, self.cap, self.list_t, self.xs, dev, self.words)
        roles = [*named, lists, counts, xs, *_fix_buffers(B * H, Lq, dev), None,
                 *(_fix_buffers(B * H, Lq, dev) if self.late is not None else (None, None))]
        self.replay(roles)  # the main launch's routes
        if self.clone:
            roles[-3] = counts.clone()
        side = launch.side_stream(dev) if self.beside else None
        with _forked(side, dev):
            self.fixup(roles)
        self.gather(roles)
        if self.late is not None:
            self.late(roles)
        if side is not None:
            torch.cuda.current_stream(dev).wait_stream(side)
        return None if self.spec is None else (lists.view(self.spec[0]), counts.view(self.spec[0][:3]))


def no_lists(q, k, alpha, alpha_t, save_aux, fake: bool = False):
    """``return_lists``' pair for a forward that listed no row: lists of
    :func:`training_lists_spec`'s shape and counts of 0 (``fake``: unfilled, for a fake
    implementation), or both empty where it gives None."""
    spec = training_lists_spec(q, k, alpha, alpha_t, save_aux)
    if spec is None:
        return q.new_empty((0,), dtype=torch.int16), q.new_empty((0,), dtype=torch.int32)
    shape, dtype = spec
    counts = q.new_empty(shape[:3], dtype=torch.int32) if fake else q.new_zeros(shape[:3], dtype=torch.int32)
    return q.new_empty(shape, dtype=dtype), counts


def profile_variant(q: Tensor, k: Tensor, v: Tensor, is_causal: bool, *, niter: Optional[int] = None,
                    stop_after: str = "", cfg: Optional[configs.FwdConfig] = None, alpha: float = 1.5,
                    outputs: Optional[tuple] = None):
    """Benchmark helper: a closure running the kernel with ``niter`` refinement sweeps, or only
    sweep 1 (``stop_after="sweep1"``: τ = the histogram bracket's lower end or the candidates'
    root, no output; "norefine": no refinement of the rows the candidates missed; "skiprefine":
    its code kept, but no row takes it), so the cost of
    each sweep can be read off by differences. A float ``alpha`` (other than 1.5 / 2: the general
    kernel), no mask; a ``stop_after`` variant launches no fix-up or gather. ``outputs``: (out, τ)
    buffers to write."""
    B, H, Lq, D = q.shape
    Lk, Dv = k.shape[2], v.shape[-1]
    out, tau = outputs or (torch.empty((B, H, Lq, Dv), dtype=q.dtype, device=q.device),
                           torch.empty((B, H, Lq), dtype=torch.float32, device=q.device))
    dr, dvr = _round_dim(D), _round_dim(Dv)
    mode = "causal" if is_causal else "none"
    kind = render.alpha_kind(alpha, None)
    kernel_args = (kind, alpha, False, mode, False, _niter(kind, q.dtype, alpha) if niter is None else niter, False,
                   q.dtype == torch.float32, dr, dvr)
    cfg = cfg or _fit(configs.fwd_default(q.dtype, dr), Lq, Lk)
    scale = D ** -0.5
    return lambda: _run(cfg, q, k, v, None, (0, 0, 0, 0), tau, out, tau, out, scale, kernel_args, stop_after)
