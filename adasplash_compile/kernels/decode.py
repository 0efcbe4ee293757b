"""α-entmax attention for decode steps: a few query rows against a long KV cache, split over keys.

The fused forward (``attention.py``) gives each program a block of query rows and walks every key
for them twice. With one query row per head that is one program per head over the whole cache: a
decode step at 32k keys (bf16, B=2, H=16, D=128) took 1.29 ms on the H200 against SDPA's 0.14
(benchmarks/results/run-2026-11-30-s13-callA). Here the keys are split across programs instead, as
FlashDecoding does for softmax, and the row's threshold τ is solved in between on the scores (0.13
ms under a CUDA graph, call J):

1. ``_decode_scores``: z = scale·q·kᵀ + mask for all query rows of a kv head (GQA reads each key
   once), float32, written out: (B·H·Lq, Lk) is small next to K when the rows per kv head are few
   (``MAX_ROWS``; 16 rows take a quarter of K's bytes at D = 128).
2. Row-wise entmax on those rows (``rowwise.forward_into``): p, float32 (the row-wise kernel's histogram / subset
   bracket and Newton steps, exact to its tolerance and renormalised).
3. ``_decode_output``: per split of the keys, Σ p·v and Σ p over the key blocks that hold weight
   (found OUTPUT_SUB blocks at a time; the others load no V), and τ from the split's largest weight.
4. ``_decode_combine``: the splits summed in order (deterministic), out = Σ p·v / Σ p, τ.

Inference only (no O₂ or tile map for a backward): ``attention.forward`` takes this path when
:func:`applies`. Any α (float or per head), masks, causal, GQA, head dims to 256, fp16 / bf16 /
fp32, Lk any length.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from . import launch, render, rowwise

TEMPLATE = "attention_decode.py.jinja"

# query rows per kv head (GROUP·Lq) up to which a call takes this path (0: never); their scores
# take rows·Lk·4 bytes per kv head, against K's Lk·D·2
MAX_ROWS = 16
# keys from which it does. The decode path's kernels are faster from 1k keys (H200 session 13 call
# F, B=2 H=16 Lq=1: 18 against 38 µs at 1k, 28 against 60 at 2k), but its four launches cost more
# host time than the fused kernel's one (~0.12-0.2 against ~0.07-0.11 ms per eager call), so eager
# steps at 1k-2k keys were slower (do_bench 0.08-0.16 against 0.04-0.09 ms, calls D and E) and
# 4k ones about even (0.087-0.141 against 0.110-0.160, calls D, E, G). Under CUDA graphs, where
# only kernel time counts, a lower MIN_LK pays.
MIN_LK = 4096
# keys per program of the scores kernel, per key block of the output kernel; the interpreter's
# (CPU tests) are small so that short rows still span several blocks and splits
SCORES_BLOCK_N = 128
# H200 session 13 call F (do_bench ms, 32 / 64 / 128 keys): 32k keys, B=2 H=16 Lq=1 0.181 / 0.169 /
# 0.188, B=8 H=32 Hk=8 Lq=4 0.469 / 0.596 / 0.554; 128k keys 0.618 / 0.664 / 0.609 and 2.435 /
# 2.698 / 2.596
OUTPUT_BLOCK_N = 32
# the output kernel's key blocks whose weights it loads at once to find the ones that hold any.
# H200 session 13 call I (do_bench ms, 8 / 1 / 4 / 16): 32k B=2 H=16 Lq=1 0.156 / 0.157 / 0.163 /
# 0.146, 128k 0.531 / 0.583 / 0.525 / 0.546; GQA (B=8 H=32 Hk=8) Lq=1 128k 1.185 / 1.351 / 1.192 /
# 1.225; Lq=4 32k 0.488 / 0.463 / 0.481 / 0.541
OUTPUT_SUB = 8
INTERPRETER_BLOCK_N = 16
INTERPRETER_SUB = 2
# the output kernel's programs: the keys are split so that about this many run (each split a
# power of two of key blocks). H200 session 13 calls D and E (do_bench ms, 1024 / 4096): 32k keys,
# B=2 H=16 Lq=1 0.170 / 0.185, B=8 H=32 Hk=8 Lq=1 0.394 / 0.402, Lq=4 0.594 / 0.618
TARGET_PROGRAMS = 1024
COMBINE_SPLITS = 16  # splits the combine kernel loads per step
NUM_WARPS = 4


def applies(q: Tensor, k: Tensor, save_aux: bool) -> bool:
    """Whether ``attention.forward`` takes this path: inference, few query rows per kv head, a long
    enough KV."""
    B, H, Lq = q.shape[:3]
    Hk, Lk = k.shape[1], k.shape[2]
    return (not save_aux and MAX_ROWS > 0 and (H // Hk) * Lq <= MAX_ROWS and Lk >= MIN_LK
            and B * H * Lq > 0)


_modules: dict = {}


def _module(dr: int, dvr: int, kind: str, per_head: bool, mask_mode: str, mask_bool: bool, ieee: bool,
            dot_upcast: bool):
    key = (dr, dvr, kind, per_head, mask_mode, mask_bool, ieee, dot_upcast)
    mod = _modules.get(key)
    if mod is None:
        mod = _modules[key] = render.load(
            TEMPLATE, HEAD_DIM_ROUNDED=dr, V_DIM_ROUNDED=dvr, ALPHA_KIND=kind, PER_HEAD_ALPHA=per_head,
            MASK_MODE=mask_mode, MASK_BOOL=mask_bool, IEEE_DOT=ieee, DOT_UPCAST=dot_upcast)
    return mod


def split_blocks(n_blocks: int, kv_heads: int) -> int:
    """Steps (``sub`` key blocks each) per split of the output kernel: the smallest power of two
    that keeps the programs (splits x batch·kv heads) at most TARGET_PROGRAMS."""
    per = 1
    while rowwise.triton_cdiv(n_blocks, per) * kv_heads > TARGET_PROGRAMS and per < n_blocks:
        per *= 2
    return per


def forward(q: Tensor, k: Tensor, v: Tensor, mask: Optional[Tensor], mask_mode: str, mask_bool: bool,
            mask_strides: tuple, scale: float, alpha: float, alpha_t: Optional[Tensor], out: Tensor,
            tau: Tensor, dr: int, dvr: int) -> None:
    """Writes ``out`` (B, H, Lq, Dv) and ``tau`` (B, H, Lq) float32, both contiguous. ``mask`` is
    ``attention._mask_layout``'s (expanded to (B, H, Lq, Lk), stride 0 on broadcast dims; bool as
    uint8) and ``mask_mode`` its mode ("causal" / "none" without a mask)."""
    B, H, Lq, D = q.shape
    Hk, Lk = k.shape[1], k.shape[2]
    Dv = v.shape[-1]
    group = H // Hk
    n_rows = B * H * Lq
    dev = q.device
    interp = dev.type != "cuda"
    kind = render.alpha_kind(alpha, alpha_t)
    per_head = alpha_t is not None
    # the Triton interpreter's bf16 tl.dot is wrong (Triton 3.9): those dots run in fp32 there
    mod = _module(dr, dvr, kind, per_head, mask_mode, mask_bool, q.dtype == torch.float32,
                  q.dtype == torch.bfloat16 and interp)
    block_r = max(16, rowwise._next_pow2(group * Lq))
    fits = launch.fits_int32(Lq, Lk, n_rows)

    zp = torch.empty((2, n_rows, Lk), dtype=torch.float32, device=dev)  # the scores, then the weights
    z, p = zp[0], zp[1]
    bn = INTERPRETER_BLOCK_N if interp else SCORES_BLOCK_N
    mask_arg = mask if mask is not None else q
    strides = (*q.stride(), *k.stride(), *mask_strides)
    # keyed on what Triton specialises the strides on, not their values: a cache that grows by a
    # key per step (a new tensor each time) keeps its compiled launch
    launch.launcher(mod._decode_scores)(
        (dev.index, q.dtype, k.dtype, mask_arg.dtype, launch.int_spec(*strides), H, Hk,
         launch.aligned(q, k, mask), fits),
        (rowwise.triton_cdiv(Lk, bn), B * Hk),
        (q, k, mask_arg, z, *strides, H, Hk, Lq, Lk, float(scale)),
        dict(HEAD_DIM=D, GROUP=group, BLOCK_R=block_r, BLOCK_N=bn), NUM_WARPS, 2)

    alpha_rows = alpha_buf = None
    if per_head:
        alpha_buf = launch.alpha_buffer(alpha_t, dev)
        alpha_rows = alpha_buf.view(1, H, 1).expand(B, H, Lq).reshape(n_rows)  # (one head: a view of stride 0)
    rowwise.forward_into(z, p, alpha, alpha_rows)

    bn = INTERPRETER_BLOCK_N if interp else OUTPUT_BLOCK_N
    sub = INTERPRETER_SUB if interp else OUTPUT_SUB
    n_blocks = rowwise.triton_cdiv(Lk, bn * sub)  # the loop's steps: sub key blocks each
    per = split_blocks(n_blocks, B * Hk)
    n_splits = rowwise.triton_cdiv(n_blocks, per)
    part = torch.empty((n_splits, n_rows, dvr + 2), dtype=torch.float32, device=dev)
    alpha_buf = alpha_buf if per_head else tau  # (never read without a per-head α)
    launch.launcher(mod._decode_output)(
        (dev.index, v.dtype, launch.int_spec(*v.stride()), H, Hk, launch.aligned(v, alpha_buf), fits),
        (n_splits, B * Hk),
        (p, z, v, alpha_buf, part, *v.stride(), H, Hk, Lq, Lk, n_rows, float(alpha), per),
        dict(V_DIM=Dv, GROUP=group, BLOCK_R=block_r, BLOCK_N=bn, SUB=sub), NUM_WARPS, 2)
    launch.launcher(mod._decode_combine)(
        (dev.index, out.dtype, fits),
        (n_rows,),
        (part, out, tau, n_rows, n_splits),
        dict(V_DIM=Dv, BLOCK_S=COMBINE_SPLITS), NUM_WARPS, 1)
