"""Fused α-entmax attention backward (FlashAttention-2 style, τ taken from the forward).

The kernels live in ``templates/attention_bwd.py.jinja`` (math in its docstring); this module picks
a config, renders the template for the call's compile-time choices and launches three kernels:

1. ``_bwd_preprocess``: δ = rowsum(dO ⊙ O₂) per query row (float32).
2. ``_bwd_dkdv``: one program per (key block, batch, kv head). It recomputes each tile's scores,
   u = [x − τ]₊. With the forward's tile map (``tiles``) it visits only the query blocks between
   the first and the last block the map marks under its key block. Without the map, it skips a
   tile's dP/dS/dV work when u = 0 everywhere (every x ≤ τ) and records that verdict per (query
   block, key block) tile in a byte map. GQA: the program loops over its group's query heads
   itself, so dK and dV are summed without atomics.
3. ``_bwd_dq``: one program per (query block, batch, head). It reads a byte map and does not even
   load a tile marked empty. The map is the forward's when the dQ tiles nest in its blocks, else
   the dK/dV pass's (``FLAGS_FROM_FORWARD``). It also accumulates the per-row terms of dα
   (per-head α), with its own δ = Σ dP·s / Σ s in fp32 (O₂ is stored in q's dtype), and writes dZ
   for a float mask's gradient.

Determinism: in these three kernels no atomics anywhere and every output element is written by
exactly one program in a fixed loop order, so repeated backward passes on the same inputs are
bitwise equal (the per-head dα is a ``torch.sum`` over per-row terms, which is deterministic too).
By default, below FUSED_MAX_LK keys, the dK/dV kernel adds dQ with float32 atomics instead of a dQ
pass (FUSED_DQ, ``_bwd_dq_convert`` casting the sum), whose last bits then vary from run to run;
``torch.use_deterministic_algorithms(True)`` keeps the three kernels.

Listed rows (``lists``/``counts`` from ``attention.forward(..., return_lists=True)``, 16k keys
and more): rows whose support the forward listed (at most TRAIN_GATHER_CAP keys each, typically the
rows of wide random attention, where every tile holds a few weights and no tile can be skipped)
take two more kernels instead of the tiles. The dense passes above see them with τ = +inf, so
they add nothing there and the forward's tile map (which leaves them out) skips their tiles.

4. ``_bwd_listed_dkdv``: the listed (row, key) pairs grouped by key block (``listed_pairs``: a
   Triton pack kernel, then ``torch.sort(stable=True)`` on int16 bins, so by row within a block);
   per block of keys, its pairs CHUNK at a time, q and dO gathered by row, the scores and the
   block's sums as tensor-core dots with one-hot weights. The sums are added to the dense pass's
   dK and dV; each pair's dZ is stored at its row-major place for the next kernel.
5. ``_bwd_listed_dq``: per block of listed rows, dQ = scale·Σ dZ·k over their pairs, k gathered by
   index (and dmask). Deterministic: no atomics, fixed orders.

The host learns the number of pairs through a copy that does not wait (``ListedCount``), after
the dense passes are launched.

Float-mask gradient (``mask_needs_grad``): dZ is written for the full (B, H, Lq, Lk) score matrix in
float32 and then summed to the mask's broadcast shape, so it costs O(B·H·Lq·Lk) memory; it is only
computed when the mask requires grad.

Supported: fp16 / bf16 / fp32 (fp32 matmuls in IEEE precision, never TF32), head dims up to 256
(any size: loads are masked to the next power of two), value head dim may differ, any Lq / Lk,
causal (top-left) or not, bool / float masks broadcasting to (B, H, Lq, Lk), GQA, a float α or one
α per head.
"""

from __future__ import annotations

import os
from typing import NamedTuple, Optional

import torch
from torch import Tensor

from . import launch, render
from .configs import TILE

__all__ = ["backward", "default_config"]

_MAX_HEAD_DIM = 256

# With the forward's tile map (training through the op), the dQ pass skips by the map itself and
# the dK/dV pass computes no verdict of its own (no reduction over the tile, no store; with rows
# listed it skips the tiles the map leaves empty, see MAP_SKIP_SHARE), when the dQ tiles nest in
# the map's TILE x TILE blocks. False: the dK/dV pass records its own verdicts.
FLAGS_FROM_FORWARD = True

# Without a per-head α or a float mask's gradient, the dK/dV pass also adds each tile's dZ·K to a
# float32 dQ accumulator with atomics (template FUSED_DQ) and the dQ pass does not run: five
# products per tile instead of seven, but dQ's last bits then vary from run to run. Off under
# ``torch.use_deterministic_algorithms(True)``, which keeps the three-kernel backward (bitwise
# reproducible). H200 session 19 (bf16 B=2 H=16 D=128 causal, ms, three kernels → fused; calls A,
# B): α = 1.5 forward+backward 4k rand 2.292 → 2.189 (backward 1.254 → 1.149), 8k rand 7.746 →
# 7.416, 4k local 0.640 → 0.636, 16k local 4.998 → 4.930, 16k rand 13.14 → 13.10 (its rows are
# listed); α = 1.25 4k rand 3.719 → 3.438 (backward 1.663 → 1.391). Max errors against float64
# unchanged (4k rand, B=1 H=2). A per-head α's five dα row sums, added per tile with atomics too
# (reductions across each transposed tile's keys), made its backward slower: 4k rand 1.78 → 3.04
# ms (32x128 tiles; 3.27 at 64x128), so a per-head α keeps the dQ pass.
# Also dropped (session 21 call B, run-2026-12-01-s21-callB): ∂out/∂α formed in the forward's output
# sweep (forward mode: a third accumulator, Σ (p − p as rounded − p·ln u)·v in two bf16 parts, O₂
# in two parts) and stored beside O₂, so dα per row is dO·∂out/∂α in the preprocess and a per-head
# α takes the fused dQ. The backward went 1.78 → 1.41 ms (4k rand, α 1.3..2.0), but the forward's
# third accumulator spilled (ptxas, Triton 3.6: 2872 bytes at 64x64/4 warps, 1352 at 8, 592 at
# 32x64) and it went 1.75 → 4.68 ms: forward+backward 3.53 → 6.09 (8k rand 11.8 → 22.5). dα's
# error against float64 also grew from 8e-7 to 1.5e-3 of |dα| (its bf16 store and weights; with
# one-part weights the interpreter found 1-6%).
# The accumulator costs 4 bytes per query row and dim while the backward runs (a step's peak, call
# E: +64 MiB at 4k, +256 at 16k, +512 at 32k, bf16 B=2 H=16 D=128), and buys ~1% from 16k keys
# ('local' forward+backward, calls D, E: 16k 4.97 → 4.92, 32k 15.13 → 15.06; 'rand' there is
# listed, below), so it is used below FUSED_MAX_LK keys only.
# Other head dims and dtypes (call G, 4k rand, forward+backward ms, three kernels → fused, each with
# its _CONFIGS entry unless FUSED_CONFIGS has one): bf16 D=64 1.502 → 1.513 (local 0.438 → 0.427;
# 64x128 tiles at 8 warps 1.500 / 0.454), D=80 2.171 → 2.041, D=256 11.73 → 11.38; fp16 D=128
# 2.233 → 2.127; fp32 D=128 114.6 → 77.8 (backward 63.6 → 27.0: its IEEE dots run on the CUDA cores).
FUSED_DQ = True
FUSED_MAX_LK = 16384
# the listed rows' kernels: rows (dQ) or keys (dK/dV, also the bins the pairs are grouped by) per
# program, the pairs per step of their loops, and warps. Session 10's kernels (one pair per lane,
# each lane walking its own row's or key's list) took 1.6 (dQ) and 3.3 ms (dK/dV) at 16k 'rand'.
LISTED_BLOCK_M = 16
LISTED_BLOCK_N = 16
LISTED_CHUNK = 32
LISTED_WARPS = 4
LISTED_STAGES = 2
# Tried and dropped (session 38 call G, gpu_call_s38g.sh): the listed dK/dV kernel storing each
# pair's dZ coalesced in its own (key-block) order and the listed dQ kernel gathering it through
# the inverse permutation (inv[order[t]] = t, a torch arange and scatter), instead of the scattered
# store to the row-major places. Gradients bitwise equal. Timeline, µs (sorted / scattered): 16k
# rand training, dK/dV 2644 / 2856, dQ 896 / 804, but the inverse's arange and scatter 124 + 218;
# 32k: 5620 / 6074, 1924 / 1719, 271 + 488. do_bench ms (training, alternated twice): 16k rand
# 11.869, 11.799 / 11.654, 11.633; 32k rand 33.648, 33.676 / 33.225, 33.234. Also there: 64 pairs
# per chunk (16k rand 12.313, 32k 34.713) and 3 stages (11.904, 33.695).
# the pack kernel's rows per program, taken PACK_SUB at a time; a chunk with nothing listed costs
# one load of its counts and skips the rest. H200 session 38 (timelines, calls A and F; bf16 B=2
# H=16 causal training): at 16k 'local' the pack took 153.8 µs without the skip, nearly all of it
# unlisted rows, and 41.5 with it (35.8 at 256 rows per program); at 16k 'rand' 179.5 µs with it
# (186.7 at 256). do_bench ms (call F, 32 / 256 / 1024 rows per program): training 16k local
# 4.581, 4.533 / 4.670, 4.583 / 4.585; 16k rand 11.725, 11.670 / 11.743, 11.667 / 11.743; 32k local
# 14.176, 14.188 / 14.259, 14.175 / 14.180 (outputs bitwise equal). 32: one chunk per program.
PACK_ROWS = 32
PACK_SUB = 32
# the dense passes read SKIP_SCAN map rows (dK/dV) or flag columns (dQ) at once and skip a span
# with none marked: on random keys nearly every row is listed, so the map is mostly empty and
# a loop testing one tile per iteration waits on a load each time (tests lower it)
SKIP_SCAN = 64
# ... when at least this share of the rows is listed (else the map is nearly full anyway)
MAP_SKIP_SHARE = 0.125
# the share of rows listed that the last backward of given shapes saw (see backward)
_SHARE_SEEN: dict = {}
# which of the listed rows' kernels run (benchmarks time them apart; anything else is wrong)
LISTED_PARTS = ("dq", "dkdv")

# (dtype, rounded head dim) -> Config. The dK/dV pass's tile (BLOCK_M1 x BLOCK_N1) is also the
# granularity of its "tile has p > 0" map, which the dQ pass (tiles BLOCK_M2 x BLOCK_N2) reads:
# BLOCK_M2 must be a multiple of BLOCK_M1 and BLOCK_N2 must divide BLOCK_N1.
# (BLOCK_M1, BLOCK_N1, BLOCK_M2, BLOCK_N2, num_warps, num_stages[, dq_num_warps, dq_num_stages]):
# without the last two, the dQ pass launches with the dK/dV pass's warps and stages.
Config = tuple
_CONFIGS: dict[tuple[torch.dtype, int], Config] = {
    (torch.bfloat16, 16): (32, 128, 128, 32, 4, 3),
    (torch.bfloat16, 32): (32, 128, 128, 32, 4, 3),
    # H200, D=64 (run-2026-11-29-s5-callB): 16k rand 10.09 ms against 11.47 for the 32-row tiles
    # this entry had, 16k local 0.70 against 1.17, 4k rand 0.81 against 1.02
    (torch.bfloat16, 64): (64, 64, 64, 64, 4, 2),
    # H200, bf16 causal α=1.5, backward alone with the tile map (run-2026-11-29-s5-callA): 16k rand
    # 16.66 ms against 17.94 for (64, 64, 64, 64, 4, 2); 16k local 1.24 against 1.06; 4k rand 1.38
    # against 1.44, local 0.30 against 0.29. Tutorial-style 32-row tiles were 2.5x slower.
    (torch.bfloat16, 128): (64, 128, 64, 64, 8, 2, 4, 2),
    (torch.bfloat16, 256): (32, 32, 32, 32, 4, 2),
    (torch.float16, 16): (32, 128, 128, 32, 4, 3),
    (torch.float16, 32): (32, 128, 128, 32, 4, 3),
    (torch.float16, 64): (64, 64, 64, 64, 4, 2),
    (torch.float16, 128): (64, 128, 64, 64, 8, 2, 4, 2),
    (torch.float16, 256): (32, 32, 32, 32, 4, 2),
    (torch.float32, 16): (32, 64, 64, 32, 4, 2),
    (torch.float32, 32): (32, 64, 64, 32, 4, 2),
    (torch.float32, 64): (32, 64, 64, 32, 4, 2),
    (torch.float32, 128): (32, 32, 32, 32, 4, 1),
    (torch.float32, 256): (16, 32, 32, 16, 4, 1),
}
# FUSED_DQ's dK/dV pass (its dQ accumulator takes registers the two-pass one does not), keyed the
# same way; other keys take _CONFIGS'. The dQ pass does not run, but BLOCK_M2 x BLOCK_N2 nesting in
# the forward's map (TILE) still lets the dK/dV pass skip its verdicts (FLAGS_FROM_FORWARD). ptxas
# (Triton 3.6, sm_90, bf16 D=128 α = 1.5 causal, 8 warps, 2 stages), bytes spilled at 64x128 /
# 32x128 / 64x64 tiles: 216 / 0 / 0 (the two-kernel pass: 80 at 64x128). H200 session 19, 4k rand
# backward ms: α = 1.5 (call A) 1.152 / 1.401 / 1.845, three kernels 1.257; α = 1.25 (call B)
# 1.391 / 1.668, three kernels 1.663.
# Session 26 call A (run-2026-12-02-s26-callA, backward alone, 4k rand): 64x128/8 warps with 2 /
# 3 / 1 stages 1.151 (1.148 again at the end) / 1.183 / 1.245, 128x64 (BLOCK_M2 128) 1.916,
# 32x128/3 stages 1.304. ptxas (scripts/bwd_regs.py, Triton 3.6) spills 192 / 296 / 308 / 832 / 0
# bytes for them: the spill-free tiles are slower, and this entry stays.
FUSED_CONFIGS: dict[tuple[torch.dtype, int], Config] = {
    (torch.bfloat16, 128): (64, 128, 64, 64, 8, 2),
    (torch.float16, 128): (64, 128, 64, 64, 8, 2),
}
_FALLBACK: Config = (32, 32, 32, 32, 4, 1)
# The interpreter runs tiles as numpy arrays: small tiles keep tests quick, and on tiny sequences
# they still exercise several blocks and a dQ tile that spans two flag rows.
_INTERPRETER_CONFIG: Config = (16, 32, 32, 16, 4, 1)


def _cdiv(a: int, b: int) -> int:
    return (a + b - 1) // b


def _round_dim(d: int) -> int:
    return max(16, 1 << (d - 1).bit_length())


def default_config(dtype: torch.dtype, head_dim: int, device: torch.device, fused: bool = False) -> Config:
    """The backward's :data:`Config` for this dtype and head dim (``fused``: FUSED_DQ's)."""
    if device.type != "cuda":
        return _INTERPRETER_CONFIG
    key = (dtype, _round_dim(head_dim))
    return (fused and FUSED_CONFIGS.get(key)) or _CONFIGS.get(key, _FALLBACK)


def _check(q: Tensor, k: Tensor, v: Tensor, grad_out: Tensor, tau: Tensor, o2: Tensor) -> None:
    if q.dtype not in (torch.float16, torch.bfloat16, torch.float32):
        raise TypeError(f"attention backward kernel: query dtype must be fp16, bf16 or fp32, got {q.dtype}")
    if q.shape[-1] > _MAX_HEAD_DIM or v.shape[-1] > _MAX_HEAD_DIM:
        raise ValueError(
            f"attention backward kernel: head dims up to {_MAX_HEAD_DIM} are supported, "
            f"got query/key {q.shape[-1]} and value {v.shape[-1]}"
        )
    B, H, Lq, _ = q.shape
    if grad_out.shape != (B, H, Lq, v.shape[-1]):
        raise ValueError(f"grad_out must have shape {(B, H, Lq, v.shape[-1])}, got {tuple(grad_out.shape)}")
    if tau.shape != (B, H, Lq):
        raise ValueError(f"tau must have shape {(B, H, Lq)}, got {tuple(tau.shape)}")
    if o2.shape != grad_out.shape:
        raise ValueError(
            f"o2 must have shape {tuple(grad_out.shape)} (the forward must be run with save_aux=True), "
            f"got {tuple(o2.shape)}"
        )


def _mask4(attn_mask: Tensor, B: int, H: int, Lq: int, Lk: int) -> Tensor:
    m = attn_mask.reshape((1,) * (4 - attn_mask.dim()) + tuple(attn_mask.shape))
    if m.dtype == torch.bool:
        m = m.view(torch.uint8)
    return m.expand(B, H, Lq, Lk)


_modules: dict = {}


def fused_dq(need_dalpha: bool, mask_grad: bool, mostly_listed: bool = False, lk: int = 0) -> bool:
    """Whether a backward takes the fused dQ (see FUSED_DQ, FUSED_MAX_LK). ``mostly_listed``: most
    rows come from the forward's lists (MAP_SKIP), so the dense passes have little left and the
    accumulator would buy nothing (H200 session 19 call A, 16k rand: 13.10 against 13.14 ms)."""
    return (FUSED_DQ and not need_dalpha and not mask_grad and not mostly_listed and lk < FUSED_MAX_LK
            and not torch.are_deterministic_algorithms_enabled())


def _kernels(q: Tensor, v: Tensor, alpha_kind: str, mask_mode: str, is_causal: bool, need_dalpha: bool,
             mask_grad: bool, query_ranges: bool = False, dkdv_flags: bool = True, map_skip: bool = False,
             fused: bool = False):
    # memoised: a dict hit per backward instead of render.load's sorted parameter set
    # (ADASPLASH_COMPILE_DUMP goes through render.load every time, which writes the source out)
    key = (q.shape[-1], v.shape[-1], q.dtype, q.device.type == "cuda", alpha_kind, mask_mode, bool(is_causal),
           bool(need_dalpha), bool(mask_grad), bool(query_ranges), bool(dkdv_flags), SKIP_SCAN, bool(map_skip),
           bool(fused))
    mod = _modules.get(key)
    if mod is None or os.environ.get("ADASPLASH_COMPILE_DUMP"):
        mod = _modules[key] = _render(q, v, alpha_kind, mask_mode, is_causal, need_dalpha, mask_grad, query_ranges,
                                      dkdv_flags, map_skip, fused)
    return mod


def _render(q, v, alpha_kind, mask_mode, is_causal, need_dalpha, mask_grad, query_ranges, dkdv_flags, map_skip,
            fused):
    D, Dv = q.shape[-1], v.shape[-1]
    return render.load(
        "attention_bwd.py.jinja",
        HEAD_DIM=D,
        HEAD_DIM_ROUNDED=_round_dim(D),
        HEAD_DIM_V=Dv,
        HEAD_DIM_V_ROUNDED=_round_dim(Dv),
        ALPHA_KIND=alpha_kind,
        MASK_MODE=mask_mode,
        IS_CAUSAL=bool(is_causal),
        NEED_DALPHA=bool(need_dalpha),
        MASK_GRAD=bool(mask_grad),
        FUSED_DQ=bool(fused),
        DOT_PRECISION="ieee" if q.dtype == torch.float32 else "default",
        DOT_UPCAST=q.dtype == torch.bfloat16 and q.device.type != "cuda",
        QUERY_RANGES=bool(query_ranges),
        DKDV_FLAGS=bool(dkdv_flags),
        SKIP_SCAN=SKIP_SCAN,
        MAP_SKIP=bool(map_skip),
    )


def backward(grad_out: Tensor, q: Tensor, *args, **kwargs):
    """Gradients (:func:`_backward`'s arguments and results), on ``q``'s device."""
    with launch.on_device(q.device):
        return _backward(grad_out, q, *args, **kwargs)


def _backward(
    grad_out: Tensor,
    q: Tensor,
    k: Tensor,
    v: Tensor,
    attn_mask: Optional[Tensor],
    out: Tensor,
    tau: Tensor,
    o2: Tensor,
    is_causal: bool,
    scale: float,
    alpha: float,
    alpha_t: Optional[Tensor],
    mask_needs_grad: bool,
    config: Optional[Config] = None,
    tiles: Optional[Tensor] = None,
    lists: Optional[Tensor] = None,
    counts: Optional[Tensor] = None,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """Gradients of α-entmax attention: ``(dq, dk, dv, dalpha, dmask)``.

    ``tau`` (B, H, Lq) float32 and ``o2`` (B, H, Lq, Dv) are the forward's saved statistics (see
    ``reference.entmax_attention_stats``); ``out`` is accepted for the op's signature but not read
    (Σ dP·p, which dα needs, is accumulated directly). ``dalpha`` has shape (H,) when ``alpha_t`` is
    given, else it is empty; ``dmask`` has the mask's shape when ``mask_needs_grad``, else it is
    empty. ``config`` overrides :func:`default_config`. ``tiles`` (optional, may be empty) is the
    forward's active-tile map (``attention.forward(..., return_tiles=True)``): the dK/dV pass then
    visits, per key block, only the query blocks between the first and last it marks non-empty.
    ``lists`` (B, H, Lq, cap) and ``counts`` (B, H, Lq) int32 (optional, may be empty) are the
    forward's listed rows (``return_lists``), whose tiles the map then leaves out: they are
    computed from their lists (counts > 0)."""
    del out
    plan_key = None
    if REPLAY and config is None and not mask_needs_grad and (counts is None or counts.numel() == 0):
        has_tiles = tiles is not None and tiles.numel() > 0
        tiles_in = tiles if has_tiles else None
        plan_key = (q.device, *map(launch.layout, (q, k, v, grad_out, o2, tau, attn_mask, tiles_in, alpha_t)),
                    launch.aligned(q, k, v, grad_out, o2, tau, attn_mask, tiles_in, alpha_t), is_causal, scale, alpha,
                    _knobs())
        plan = _plans.get(plan_key)
        if plan is not None:
            return plan(grad_out, q, k, v, attn_mask, tau, o2, tiles_in, alpha_t)
    _check(q, k, v, grad_out, tau, o2)
    B, H, Lq, D = q.shape
    Hk, Lk, Dv = k.shape[1], k.shape[2], v.shape[-1]
    group = H // Hk
    need_dalpha = alpha_t is not None
    mask_grad = bool(mask_needs_grad) and attn_mask is not None and attn_mask.dtype != torch.bool

    dq = torch.empty_like(q, memory_format=torch.contiguous_format)
    dk = torch.empty_like(k, memory_format=torch.contiguous_format)
    dv = torch.empty_like(v, memory_format=torch.contiguous_format)
    # "absent" outputs are distinct empty tensors: a custom op's outputs may not alias each other
    dalpha = q.new_empty((0,))
    dmask_out = q.new_empty((0,))
    if mask_needs_grad and attn_mask is not None:
        dmask_out = torch.zeros_like(attn_mask, memory_format=torch.contiguous_format)
    if B * H * Lq == 0 or Lk == 0:
        # no query rows, or no keys at all (every row fully masked): every gradient is zero
        dq.zero_()
        dk.zero_()
        dv.zero_()
        if need_dalpha:
            dalpha = torch.zeros((H,), dtype=alpha_t.dtype, device=q.device)
        return dq, dk, dv, dalpha, dmask_out

    kind = render.alpha_kind(alpha, alpha_t)
    use_lists = counts is not None and counts.numel() > 0
    if use_lists:
        if kind not in ("15", "2"):
            raise ValueError(f"lists: the forward lists rows only for α = 1.5 or 2, got α kind {kind!r}")
        if counts.shape != (B, H, Lq) or lists is None or lists.dim() != 4 or lists.shape[:3] != (B, H, Lq):
            raise ValueError(f"lists / counts must have shapes (B, H, Lq, cap) / {(B, H, Lq)}, got "
                             f"{None if lists is None else tuple(lists.shape)} / {tuple(counts.shape)}")
        lists, counts = lists.contiguous(), counts.contiguous()
        count = ListedCount(counts, lists.shape[-1])
        # the dense passes see the listed rows with nothing to attend
        tau_dense = torch.where(counts > 0, float("inf"), tau.to(torch.float32))
        # With most rows listed the map is mostly empty and the dK/dV pass tests it per tile and
        # per span; otherwise a branch-free loop keeps its loads pipelined (H200 session 10: the
        # tested loop took 4k 'rand' training from ~2.2 to 2.75 ms, and 16k 'local', 0.4% of rows
        # listed, from 1.0 to 1.4 ms of backward). Both compute the same gradients, so the choice
        # may follow the share seen by the last backward of these shapes, and the host waits for
        # this one's count only after launching the dense passes; the first backward of a shape
        # waits before them.
        shape_key = (q.device, B, H, Hk, Lq, Lk, lists.shape[-1])
        share = _SHARE_SEEN.get(shape_key)
        if share is None:
            share = count.wait()[1]
        map_skip = share >= MAP_SKIP_SHARE
    fused = fused_dq(need_dalpha, mask_grad, use_lists and map_skip, Lk)
    cfg = tuple(config or default_config(q.dtype, D, q.device, fused))
    if len(cfg) not in (6, 8):
        raise ValueError(f"config: expected 6 or 8 entries (see attention_bwd.Config), got {config}")
    BLOCK_M1, BLOCK_N1, BLOCK_M2, BLOCK_N2, num_warps, num_stages = cfg[:6]
    dq_warps, dq_stages = cfg[6:] if len(cfg) == 8 else (num_warps, num_stages)
    if BLOCK_M2 % BLOCK_M1 or BLOCK_N1 % BLOCK_N2:
        raise ValueError(f"config: BLOCK_M2 must be a multiple of BLOCK_M1 and BLOCK_N2 divide BLOCK_N1, got {config}")
    alpha_own = _alpha_buffer(alpha, alpha_t, kind, H, q.device)
    alpha_buf = alpha_own if alpha_own is not None else tau  # (α = 1.5 or 2: never read)

    if attn_mask is None:
        mask_mode, mask = "none", tau
        m_strides = (0, 0, 0, 0)
    else:
        mask_mode = "bool" if attn_mask.dtype == torch.bool else "float"
        mask = _mask4(attn_mask, B, H, Lq, Lk)
        m_strides = mask.stride()

    n_mblocks = _cdiv(Lq, BLOCK_M1)
    n_nblocks = _cdiv(Lk, BLOCK_N1)
    use_tiles = tiles is not None and tiles.numel() > 0
    n_trows, n_tcols = _cdiv(Lq, TILE), _cdiv(Lk, TILE)
    if use_tiles:
        if tiles.shape != (B, H, n_trows, n_tcols):
            raise ValueError(f"tiles must have shape {(B, H, n_trows, n_tcols)}, got {tuple(tiles.shape)}")
        tiles = tiles.contiguous()
    # the dQ pass can skip by the forward's map itself when its tiles nest in the map's blocks;
    # otherwise the dK/dV pass records its own per-tile verdicts in `flags`
    fwd_flags = (use_tiles and FLAGS_FROM_FORWARD and BLOCK_M2 % TILE == 0 and TILE % BLOCK_N2 == 0)
    flags = tiles if fwd_flags else torch.empty((B, H, n_mblocks, n_nblocks), dtype=torch.int8, device=q.device)
    if not use_tiles:
        tiles = flags  # never read
    mod = _kernels(q, v, kind, mask_mode, is_causal, need_dalpha, mask_grad, use_tiles, not fwd_flags,
                   map_skip=use_lists and map_skip, fused=fused)
    flag_m, flag_n, flag_rows, flag_cols = ((TILE, TILE, n_trows, n_tcols) if fwd_flags else
                                            (BLOCK_M1, BLOCK_N1, n_mblocks, n_nblocks))
    tau = tau.to(torch.float32).contiguous()
    tau_rows = tau_dense if use_lists else tau  # what the dense passes read
    delta = torch.empty((B, H, Lq), dtype=torch.float32, device=q.device)
    dalpha_rows = torch.empty((B, H, Lq), dtype=torch.float32, device=q.device) if need_dalpha else tau
    dz_full = torch.zeros((B, H, Lq, Lk), dtype=torch.float32, device=q.device) if mask_grad else tau
    # (zeroed by the preprocess)
    dq_acc = torch.empty((B * H * Lq, D), dtype=torch.float32, device=q.device) if fused else tau

    # launch keys (launch.py): what decides each kernel's specialisation. Pointer dtypes (k, v, O₂
    # follow q; τ, δ, α are fp32; the outputs are allocated here), the alignment of the tensors
    # from outside (buffers allocated here are aligned), and every integer argument as it is (the
    # backward kernels specialise on all of them).
    q_strides, do_strides = q.stride(), grad_out.stride()
    common = (q.device.index, q.dtype, grad_out.dtype, mask.dtype, flags.dtype, tiles.dtype, H, Hk, Lq, Lk,
              launch.aligned(q, k, v, grad_out, o2, tau, alpha_buf, mask, tiles))
    strides = (*q_strides, *k.stride(), *v.stride(), *do_strides, *m_strides)
    launches = [
        (launch.launcher(mod._bwd_preprocess).bind(
            (common, do_strides, o2.stride()), (_cdiv(Lq, BLOCK_M2), B * H), dict(BLOCK_M=BLOCK_M2), num_warps, 3),
         (grad_out, o2, delta, dq_acc, *do_strides, *o2.stride(), H, Lq)),
        (launch.launcher(mod._bwd_dkdv).bind(
            (common, strides, n_mblocks, n_nblocks, n_trows, n_tcols), (n_nblocks, B * Hk),
            dict(GROUP=group, BLOCK_M=BLOCK_M1, BLOCK_N=BLOCK_N1, TILE=TILE), num_warps, num_stages),
         (q, k, v, grad_out, tau_rows, delta, alpha_buf, mask, flags, tiles, dk, dv, dq_acc, *strides,
          *dk.stride(), *dv.stride(), H, Hk, Lq, Lk, float(scale), n_mblocks, n_nblocks, n_trows, n_tcols)),
    ]
    if fused:
        launches.append((launch.launcher(mod._bwd_dq_convert).bind(
            (common, dq.stride()), (_cdiv(Lq, BLOCK_M2), B * H), dict(BLOCK_M=BLOCK_M2), 4, 1),
            (dq_acc, dq, *dq.stride(), H, Lq, float(scale))))
    else:
        launches.append((launch.launcher(mod._bwd_dq).bind(
            (common, strides, flag_rows, flag_cols), (_cdiv(Lq, BLOCK_M2), B * H),
            dict(GROUP=group, BLOCK_M=BLOCK_M2, BLOCK_N=BLOCK_N2, FLAG_M=flag_m, FLAG_N=flag_n), dq_warps, dq_stages),
            (q, k, v, grad_out, tau_rows, delta, alpha_buf, mask, flags, dq, dalpha_rows, dz_full, *strides,
             *dq.stride(), H, Hk, Lq, Lk, float(scale), flag_rows, flag_cols)))
    for bound, args in launches:
        bound(args)
    if plan_key is not None and not use_lists and not mask_grad:
        replay = launch.Replay.of(
            launches, (grad_out, q, k, v, None if attn_mask is None else mask, tau, o2, tiles if use_tiles else None,
                       dq, dk, dv, alpha_own, dalpha_rows if need_dalpha else None),
            (delta, *((dq_acc,) if fused else ()), *(() if fwd_flags else (flags,))))
        if replay is not None:
            launch.bounded_put(_plans, plan_key, _Plan(replay, alpha, kind), MAX_PLANS)
    del launches, dq_acc  # (the fused dQ's accumulator: free once its last launch is queued)
    if use_lists:
        n_pairs, share = count.wait()
        launch.bounded_put(_SHARE_SEEN, shape_key, share, 4096)  # (many shapes: dynamic lengths)
    if use_lists and n_pairs:  # (no pair: counts are 0 everywhere, and the dense passes did it all)
        # (on a side stream beside the dense passes, the grouping made 16k 'local' training slower:
        # 5.16 against 4.95 ms, H200 session 12 call C)
        pairs = listed_pairs(mod, lists, counts, (count.off, n_pairs, share), Hk, Lk, LISTED_BLOCK_N)
        _listed_rows(mod, common, strides, q, k, v, grad_out, tau, delta, alpha_buf, mask, lists, counts, dq, dk, dv,
                     dz_full, scale, pairs)

    if need_dalpha:
        dalpha = _dalpha(dalpha_rows, alpha_t)
    if mask_needs_grad and attn_mask is not None and mask_grad:
        shape4 = (1,) * (4 - attn_mask.dim()) + tuple(attn_mask.shape)
        dmask_out = dz_full.sum_to_size(shape4).reshape(attn_mask.shape).to(attn_mask.dtype).contiguous()
    return dq, dk, dv, dalpha, dmask_out


# A backward of only the three dense launches (no listed rows, no mask gradient) keeps a plan: the
# launches with their configs, kernels and arguments (``launch.Replay``), keyed on everything they
# follow from; a later backward of the same key allocates the gradients and launches, nothing
# more. False: every backward takes the full host path (A/B host-time measurements).
REPLAY = True
MAX_PLANS = 256  # a run of ever-new keys (fresh lengths each call) then starts over
_plans: dict = {}


def _knobs() -> tuple:
    """The module settings and replaceable functions the backward's launches follow from (tests
    and probes change them), so a plan made under other settings is never replayed."""
    return (FLAGS_FROM_FORWARD, SKIP_SCAN, default_config, _kernels, launch.ENABLED, FUSED_DQ, FUSED_MAX_LK,
            tuple(FUSED_CONFIGS.items()), torch.are_deterministic_algorithms_enabled())


def _dalpha(dalpha_rows: Tensor, alpha_t: Tensor) -> Tensor:
    """The per-head dα: the dQ pass's per-row terms (B, H, Lq) summed over batch and rows."""
    return dalpha_rows.sum(dim=(0, 2)).to(alpha_t.dtype)


def _alpha_buffer(alpha: float, alpha_t: Optional[Tensor], kind: str, H: int, device: torch.device):
    """The kernels' per-head α (float32, contiguous), or None for α = 1.5 and 2 (closed forms)."""
    if alpha_t is not None:
        return alpha_t.detach().to(torch.float32).contiguous()
    if kind == "general":
        return torch.full((H,), float(alpha), dtype=torch.float32, device=device)
    return None


class _Plan:
    """A recorded dense backward (see REPLAY): allocates the gradients, replays the launches and
    sums a per-head α's gradient."""

    __slots__ = ("replay", "alpha", "kind")

    def __init__(self, replay: launch.Replay, alpha: float, kind: str):
        self.replay, self.alpha, self.kind = replay, alpha, kind

    def __call__(self, grad_out, q, k, v, attn_mask, tau, o2, tiles, alpha_t):
        B, H, Lq, _ = q.shape
        dq = torch.empty_like(q, memory_format=torch.contiguous_format)
        dk = torch.empty_like(k, memory_format=torch.contiguous_format)
        dv = torch.empty_like(v, memory_format=torch.contiguous_format)
        mask = None if attn_mask is None else _mask4(attn_mask, B, H, Lq, k.shape[2])
        dalpha_rows = None if alpha_t is None else torch.empty((B, H, Lq), dtype=torch.float32, device=q.device)
        self.replay((grad_out, q, k, v, mask, tau.to(torch.float32).contiguous(), o2,
                     None if tiles is None else tiles.contiguous(), dq, dk, dv,
                     _alpha_buffer(self.alpha, alpha_t, self.kind, H, q.device), dalpha_rows))
        dalpha = q.new_empty((0,)) if alpha_t is None else _dalpha(dalpha_rows, alpha_t)
        return dq, dk, dv, dalpha, q.new_empty((0,))


def _capturing(dev: torch.device) -> bool:
    """Inside CUDA-graph capture (no host syncs allowed)."""
    return dev.type == "cuda" and torch.cuda.is_current_stream_capturing()


class ListedPairs(NamedTuple):
    """The forward's listed (row, key) pairs, laid out for the two listed kernels.

    ``off`` (B·H·Lq + 1): row r's pairs are the row-major positions off[r] .. off[r + 1] (the
    running sum of ``counts``), which is how the dQ kernel finds a row block's pairs in ``lists``.
    ``seg`` and ``pairs``: the same pairs grouped by key block (a "bin": BLOCK_N keys of one kv
    head, bin (b·Hk + h // group)·cdiv(Lk, BLOCK_N) + key // BLOCK_N); bin n owns
    ``pairs[seg[n] : seg[n + 1]]``, each row·BLOCK_N + the key's place in its block, r the flat
    query row (b·H + h)·Lq + i, in increasing row order (a stable sort of the row-major pairs):
    the order in which the dK/dV kernel sums them, fixed, so the result is deterministic.
    ``order``: each of those pairs' row-major place (where the dK/dV kernel writes its dZ for the
    dQ kernel)."""

    off: Tensor
    seg: Tensor
    pairs: Tensor
    order: Tensor
    block_n: int


class ListedCount:
    """The listed rows' ``off`` (as in :class:`ListedPairs`) and, from :meth:`wait`, the number
    of pairs and the share of rows listed. Those two come to the host through a copy that does
    not wait for the device (pinned memory and an event on CUDA), so the backward can launch its
    dense passes before it waits: the device then has work while the host waits and launches the
    rest. Under CUDA-graph capture every slot counts (n_rows·cap) and the share is taken as 1."""

    def __init__(self, counts: Tensor, cap: int):
        n_rows = counts.numel()
        dev = counts.device
        flat_counts = counts.reshape(n_rows)
        off_t = torch.int32 if n_rows * cap < 2**31 - 1 else torch.int64
        self.off = torch.zeros(n_rows + 1, device=dev, dtype=off_t)
        torch.cumsum(flat_counts, 0, dtype=off_t, out=self.off[1:])
        self._n_rows = n_rows
        self._result = (n_rows * cap, 1.0) if _capturing(dev) else None
        self._event = None
        if self._result is None:
            stats = torch.stack([self.off[-1].to(torch.int64), (flat_counts > 0).sum()])
            if dev.type == "cuda":
                self._host = torch.empty(2, dtype=torch.int64, pin_memory=True)
                self._host.copy_(stats, non_blocking=True)
                self._event = torch.cuda.Event()
                self._event.record()
            else:
                self._host = stats

    def wait(self) -> tuple[int, float]:
        """``(n_pairs, share)``; waits for the counts' copy the first time."""
        if self._result is None:
            if self._event is not None:
                self._event.synchronize()
            n_pairs, n_listed = self._host.tolist()
            self._result = (n_pairs, n_listed / self._n_rows)
        return self._result


def listed_offsets(counts: Tensor, cap: int) -> Optional[tuple[Tensor, int, float]]:
    """``(off, n_pairs, share)`` for the listed rows' ``counts`` (:class:`ListedCount`, waited
    for), or None when no row is listed."""
    count = ListedCount(counts, cap)
    n_pairs, share = count.wait()
    return (count.off, n_pairs, share) if n_pairs else None


def listed_pairs(mod, lists: Tensor, counts: Tensor, offsets: tuple[Tensor, int, float], Hk: int, Lk: int,
                 block_n: int) -> ListedPairs:
    """:class:`ListedPairs` from ``lists`` / ``counts`` and their :func:`listed_offsets`: packs
    ``n_pairs`` pairs (``_bwd_listed_pack``) and sorts them by bin, stably. The bins are int16 when
    they fit (H200 session 11 call A, 13M pairs at 16k 'rand': a stable sort of int16 keys took
    0.35 ms, of int32 0.59; grouping by single keys, which needs int32, took 1.5 ms in all).
    Under capture every slot is sorted, the unused ones in a last bin past the real ones."""
    B, H, Lq, cap = lists.shape
    off, n_pairs, _ = offsets
    dev = lists.device
    n_rows = B * H * Lq
    n_blocks = _cdiv(Lk, block_n)
    n_bins = B * Hk * n_blocks
    # int16 bins (shifted to start at -2^15) when they (and under capture the unused bin) fit
    capturing = _capturing(dev)
    bin_t, bin_offset = (torch.int16, -(2**15)) if n_bins + capturing <= 2**16 else (torch.int32, 0)
    pair_t = torch.int32 if n_rows * block_n < 2**31 - 1 else torch.int64
    # (under capture the slots past the real pairs stay in the unused bin; packed's are never read)
    bins = (torch.full((n_pairs,), n_bins + bin_offset, device=dev, dtype=bin_t) if capturing else
            torch.empty((n_pairs,), device=dev, dtype=bin_t))
    packed = torch.empty((n_pairs,), device=dev, dtype=pair_t)
    launch.launcher(mod._bwd_listed_pack)(
        (dev.index, lists.dtype, off.dtype, bin_t, pair_t, H, Hk, Lq, n_rows, n_blocks, bin_offset, cap, block_n),
        (_cdiv(n_rows, PACK_ROWS),),
        (lists, counts, off, bins, packed, H, Hk, Lq, n_rows, n_blocks, bin_offset),
        dict(GROUP=H // Hk, ROWS=PACK_ROWS, SUB=min(PACK_SUB, PACK_ROWS), CAP=cap, BLOCK_N=block_n), 4, 1)
    sorted_bins, order = torch.sort(bins, stable=True)
    del bins  # (the peak: ~18 bytes per pair from here to the return)
    # seg[n]: the first pair of bin n or past it. The end of the last bin is the unused bin's start
    # under capture, else the number of pairs (an edge past every bin, which int16 may not hold).
    edges = (torch.arange(n_bins + capturing, device=dev, dtype=torch.int32) + bin_offset).to(bin_t)
    seg = torch.searchsorted(sorted_bins, edges).to(off.dtype)
    if not capturing:
        seg = torch.cat([seg, torch.full((1,), n_pairs, device=dev, dtype=off.dtype)])
    packed = packed[order]
    return ListedPairs(off, seg, packed, order.to(off.dtype), block_n)


def _listed_rows(mod, common, strides, q, k, v, grad_out, tau, delta, alpha_buf, mask, lists, counts, dq, dk, dv,
                 dz_full, scale, pairs: ListedPairs):
    """The listed rows' share of dK and dV (added to the dense pass's) and their dQ (overwriting
    the dense pass's zeros there): the dK/dV kernel first, as it writes the pairs' dZ."""
    B, H, Lq, _ = q.shape
    Hk, Lk = k.shape[1], k.shape[2]
    cap = lists.shape[-1]
    dz = torch.empty(pairs.pairs.shape, dtype=torch.float32, device=q.device)
    if "dkdv" in LISTED_PARTS:
        launch.launcher(mod._bwd_listed_dkdv)(
            (common, strides, pairs.seg.dtype, pairs.pairs.dtype, pairs.order.dtype, pairs.block_n),
            (_cdiv(Lk, pairs.block_n), B * Hk),
            (q, k, v, grad_out, tau, delta, alpha_buf, mask, pairs.seg, pairs.pairs, pairs.order, dz, dk, dv,
             *strides, *dk.stride(), *dv.stride(), H, Hk, Lq, Lk, float(scale)),
            dict(GROUP=H // Hk, BLOCK_N=pairs.block_n, CHUNK=LISTED_CHUNK), LISTED_WARPS, LISTED_STAGES)
    if "dq" in LISTED_PARTS:
        launch.launcher(mod._bwd_listed_dq)(
            (common, k.stride(), lists.dtype, pairs.off.dtype, cap), (_cdiv(Lq, LISTED_BLOCK_M), B * H),
            (k, lists, counts, pairs.off, dz, dq, dz_full, *k.stride(), *dq.stride(), H, Hk, Lq, Lk, float(scale)),
            dict(GROUP=H // Hk, BLOCK_M=LISTED_BLOCK_M, CAP=cap, CHUNK=LISTED_CHUNK), LISTED_WARPS, LISTED_STAGES)
