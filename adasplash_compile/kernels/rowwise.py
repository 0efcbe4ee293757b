"""Row-wise α-entmax on the last dim of a 2-D tensor: Triton launchers for the forward
(histogram bracket for τ + safeguarded Newton) and the backward (one pass per row).

The kernels live in ``templates/entmax_rowwise.py.jinja`` (its docstring has the math); this module
picks a config, renders the template once per (BLOCK_N, LOOPING, ALPHA_KIND, PER_ROW_ALPHA) through
``render.load`` and launches it. ``ops.py`` calls :func:`entmax_forward` / :func:`entmax_backward`.

A row of at most ``_MAX_SINGLE_BLOCK`` entries is held in registers: one read, one write, and every
Newton step is register math. For a float α ≤ 2 such rows take ``_entmax_fwd_top_kernel`` (the
default "top" bracket): each thread's two largest entries per vector slot form a subset, τ is solved
on that subset first (a few values per thread per step), and one evaluation over the whole row
usually confirms it, because the subset's root is a lower bound that equals τ whenever the support
lies in the subset. On the H200 this runs at 110-141% of ``torch.softmax``'s time-equivalent
bandwidth in fp32 (benchmarks/results/h200-2026-11-29-session3.md); the histogram kernel it
replaced ran at 64-70%; at α = 1.25 / 1.75 (exp2/log2 per entry) it runs 1.6-3.7x faster than the
histogram kernel. α > 2 and per-row α use the histogram bracket (``_entmax_fwd_kernel``).
Longer rows loop over blocks of ``_LOOP_BLOCK_N`` (one pass for the max, one for the histogram,
one per Newton step, one to write).

float64 inputs go to the exact float64 reference (``reference.py``): the kernels compute in fp32,
and a float64 caller asks for float64 accuracy.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from .. import reference
from . import launch, render

__all__ = ["entmax_forward", "entmax_forward_with_stats", "entmax_backward", "config_for"]

TEMPLATE = "entmax_rowwise.py.jinja"

# Default configs: (longest row, num_warps, rows per program) for rows held in one block of
# next_pow2(n) entries. fp32 rows are converted on load, so the table does not depend on the input dtype.
# H200 sweep of the "top" kernel (benchmarks/results/run-2026-11-29-s3-callC/rowwise_sweep.md, fp32,
# α = 1.5): 4096-entry rows 4 warps 0.0415 ms, 8 warps 0.0531, 16 warps 0.0934; 32768-entry rows
# 8 warps 0.0887, 16 warps 0.0954, 32 warps 0.1184 (softmax: 0.0585 / 0.1136). `gpu_rowwise.py
# --sweep` times the variants; one line here (plus _DEFAULT_VARIANT) switches to a winner.
_SINGLE_BLOCK_CONFIGS = (
    (1024, 4, 1),
    (4096, 4, 1),
    (8192, 8, 1),
    (32768, 8, 1),
)
_MAX_SINGLE_BLOCK = _SINGLE_BLOCK_CONFIGS[-1][0]
# The backward (one pass, no reductions in a loop) keeps its own table: at 4096 entries it took
# 0.053 ms with 8 warps (H200, session 3 calls C and D) and 0.164 ms with 4 (call E).
_BWD_SINGLE_BLOCK_CONFIGS = ((1024, 4, 1), (4096, 8, 1), (8192, 8, 1), (32768, 8, 1))
_LOOP_BLOCK_N, _LOOP_NUM_WARPS = 4096, 8
_MIN_BLOCK_N = 32

NUM_BINS = 64  # tl.histogram bins over [−1, 0]: a bracket ≈ 1/64 wide before Newton
MAX_ITERS = 40  # evaluations of f(τ) after the histogram; bisection alone needs ~20 from 1/64
TOL = 1e-6  # |Σp − 1| at which τ is accepted (p is renormalised by Σp afterwards)

# Forward variants (see _entmax_fwd_rows_kernel in the template):
#   bracket: "hist" (tl.histogram, NUM_BINS bins), "packed" (counts of packed_bins bins from one
#            int64 sum), "none" ([−1, 0], the ablation);
#   packed_bins: 8, 16, 32 or 64 (a multiple of 4: 4 bins per int64 word);
#   finish:  stop as soon as a step from below provably keeps the support (α ∈ {1.5, 2} only);
#   bracket "top": solve on the topk (1 or 2) largest entries of each thread's vector slot first,
#            then on the row from that τ (_entmax_fwd_top_kernel; the default for a float α ≤ 2 and
#            rows held in registers; α > 2, a per-row α tensor and longer rows take "hist"; one row
#            per program);
#   maxnreg: a register cap per thread (more programs per SM; ptxas spills past it).
# The baseline (rows_per_program 1, "hist"/"none", no finish) runs the original _entmax_fwd_kernel.
_DEFAULT_VARIANT = {"bracket": "top", "packed_bins": 16, "finish": False, "topk": 2}
BRACKETS = ("hist", "packed", "none", "top")

# Template parameters of the baseline render (test_render.py renders with these).
_VARIANT = {"HISTOGRAM": True, "ROWS": 1, "BRACKET": "hist", "PACKED_BINS": 16, "FINISH": False, "TOPK": 2}


def _next_pow2(n: int) -> int:
    return 1 << max(0, (n - 1).bit_length())


def config_for(n_cols: int, block_n: Optional[int] = None, num_warps: Optional[int] = None,
               backward: bool = False):
    """(BLOCK_N, LOOPING, num_warps) for rows of ``n_cols`` entries (the forward's table, or the
    backward's); overrides are for tests/tuning."""
    return _config(n_cols, block_n, num_warps, _BWD_SINGLE_BLOCK_CONFIGS if backward else _SINGLE_BLOCK_CONFIGS)[:3]


def _config(n_cols: int, block_n: Optional[int], num_warps: Optional[int], table=_SINGLE_BLOCK_CONFIGS):
    """(BLOCK_N, LOOPING, num_warps, default rows per program) from ``table``."""
    rows = 1
    if block_n is None:
        if n_cols <= _MAX_SINGLE_BLOCK:
            block_n = max(_MIN_BLOCK_N, _next_pow2(n_cols))
            warps, rows = next((w, r) for limit, w, r in table if n_cols <= limit)
            # at least one entry per thread: tl.histogram over-counts a row that threads replicate
            warps = max(1, min(warps, block_n // 32))
        else:
            block_n, warps = _LOOP_BLOCK_N, _LOOP_NUM_WARPS
    else:
        if block_n < _MIN_BLOCK_N or block_n & (block_n - 1):
            raise ValueError(f"block_n must be a power of two >= {_MIN_BLOCK_N}, got {block_n}")
        warps = max(1, min(4, block_n // 32))
    looping = n_cols > block_n
    return block_n, looping, (num_warps if num_warps is not None else warps), rows


def _module(block_n: int, looping: bool, alpha_kind: str, per_row: bool, rows: int = 1,
            bracket: str = "hist", packed_bins: int = 16, finish: bool = False, histogram: bool = True,
            topk: int = 2):
    return render.load(
        TEMPLATE, BLOCK_N=block_n, LOOPING=looping, ALPHA_KIND=alpha_kind, PER_ROW_ALPHA=per_row,
        NUM_BINS=NUM_BINS, HISTOGRAM=histogram, ROWS=rows, BRACKET=bracket, PACKED_BINS=packed_bins,
        FINISH=finish, TOPK=topk,
    )


def _variant(rows_per_program, bracket, packed_bins, finish, default_rows: int, alpha_kind: str,
             topk=None, looping: bool = False, convex: bool = True) -> dict:
    v = dict(_DEFAULT_VARIANT)
    if bracket is not None:
        v["bracket"] = bracket
    if packed_bins is not None:
        v["packed_bins"] = packed_bins
    if finish is not None:
        v["finish"] = finish
    if topk is not None:
        v["topk"] = topk
    v["rows"] = default_rows if rows_per_program is None else rows_per_program
    if v["bracket"] not in BRACKETS:
        raise ValueError(f"bracket must be one of {BRACKETS}, got {v['bracket']!r}")
    r, pb = v["rows"], v["packed_bins"]
    if not isinstance(r, int) or r < 1 or r & (r - 1):
        raise ValueError(f"rows_per_program must be a power of two >= 1, got {r!r}")
    if pb not in (8, 16, 32, 64):
        raise ValueError(f"packed_bins must be 8, 16, 32 or 64, got {pb!r}")
    if v["topk"] not in (1, 2):
        raise ValueError(f"topk must be 1 or 2, got {v['topk']!r}")
    if v["bracket"] == "top" and (looping or not convex):
        # the subset start needs the row in registers and f convex (α ≤ 2): for α > 2 the steps from
        # below stall (H200, call F: α = 2.5 stopped after ~1 evaluation with 2.3e-3 relative error);
        # a per-row α tensor is not inspected on the host, so it takes the histogram too
        v["bracket"] = "hist"
    if v["bracket"] == "top":
        v["rows"], v["finish"] = 1, False  # its own kernel: one row per program, plain steps
    if v["bracket"] == "hist" and r > 1:
        v["bracket"] = "packed"  # tl.histogram counts a whole program: several rows need packed counts
    v["finish"] = bool(v["finish"]) and alpha_kind in ("15", "2")
    return v


def _check_2d(name: str, t: Tensor) -> None:
    if t.dim() != 2:
        raise ValueError(f"{name} must be 2-D (rows, n), got shape {tuple(t.shape)}")


def _row_alpha(alpha_t: Tensor, rows: int) -> Tensor:
    if alpha_t.shape != (rows,):
        raise ValueError(f"alpha_t must have shape ({rows},), got {tuple(alpha_t.shape)}")
    return alpha_t.detach().to(torch.float32).contiguous()


def _out_buffer(name: str, out: Optional[Tensor], like: Tensor) -> Tensor:
    if out is None:
        return torch.empty_like(like)
    if out.shape != like.shape or out.dtype != like.dtype or out.device != like.device or not out.is_contiguous():
        raise ValueError(f"{name} must be a contiguous {like.dtype} tensor of shape {tuple(like.shape)} "
                         f"on {like.device}, got {out.dtype} {tuple(out.shape)} on {out.device}")
    return out


def _launch_forward(x: Tensor, alpha: float, alpha_t: Optional[Tensor], stats: bool,
                    block_n: Optional[int], num_warps: Optional[int], out: Optional[Tensor],
                    rows_per_program: Optional[int] = None, bracket: Optional[str] = None,
                    packed_bins: Optional[int] = None, finish: Optional[bool] = None,
                    topk: Optional[int] = None, maxnreg: Optional[int] = None):
    _check_2d("x", x)
    rows, n = x.shape
    # without stats the kernel never touches these: no zero-fill launch on the hot path
    iters = torch.zeros(rows, dtype=torch.int32, device=x.device) if stats else x.new_empty((0,), dtype=torch.int32)
    dbg = torch.zeros(rows, 4, dtype=torch.float32, device=x.device) if stats else iters
    if x.dtype == torch.float64:
        a = alpha if alpha_t is None else alpha_t.to(torch.float64).unsqueeze(-1)
        return reference.entmax(x, a, dim=-1), iters
    if rows == 0 or n == 0:
        return torch.empty_like(x), iters
    x = x.contiguous()
    p = _out_buffer("out", out, x)
    per_row = alpha_t is not None
    a_rows = _row_alpha(alpha_t, rows) if per_row else x
    bn, looping, warps, default_rows = _config(n, block_n, num_warps)
    kind = render.alpha_kind(alpha, alpha_t)
    convex = alpha_t is None and float(alpha) <= 2.0
    v = _variant(rows_per_program, bracket, packed_bins, finish, default_rows, kind, topk, looping, convex)
    sub = torch.zeros(rows, dtype=torch.int32, device=x.device) if stats else iters
    launch_kw = {"num_warps": warps} if maxnreg is None else {"num_warps": warps, "maxnreg": int(maxnreg)}
    baseline = v["rows"] == 1 and v["bracket"] in ("hist", "none") and not v["finish"]
    with launch.on_device(x.device):
        if v["bracket"] == "top":
            lanes = _top_lanes(x, n, bn, warps)
            mod = _module(bn, looping, kind, per_row, bracket="top", topk=v["topk"])
            mod._entmax_fwd_top_kernel[(rows,)](
                x, p, a_rows, iters, dbg, sub,
                x.stride(0), p.stride(0),
                n, float(alpha),
                REPS=bn // lanes, LANES=lanes, MAX_ITERS=MAX_ITERS, TOL=TOL, STATS=stats,
                **launch_kw,
            )
        elif baseline:
            mod = _module(bn, looping, kind, per_row, histogram=v["bracket"] == "hist")
            mod._entmax_fwd_kernel[(rows,)](
                x, p, a_rows, iters, dbg,
                x.stride(0), p.stride(0),
                n, float(alpha),
                BLOCK_N=bn, NUM_BINS=NUM_BINS, MAX_ITERS=MAX_ITERS, TOL=TOL, STATS=stats,
                **launch_kw,
            )
        else:
            mod = _module(bn, looping, kind, per_row, rows=v["rows"], bracket=v["bracket"],
                          packed_bins=v["packed_bins"], finish=v["finish"], topk=v["topk"])
            mod._entmax_fwd_rows_kernel[(triton_cdiv(rows, v["rows"]),)](
                x, p, a_rows, iters, dbg,
                x.stride(0), p.stride(0),
                rows, n, float(alpha),
                BLOCK_N=bn, ROWS=v["rows"], NUM_BINS=NUM_BINS, PACKED_BINS=v["packed_bins"],
                MAX_ITERS=MAX_ITERS, TOL=TOL, STATS=stats,
                **launch_kw,
            )
    _LAST_DEBUG["dbg"] = dbg
    _LAST_DEBUG["sub_iters"] = sub
    return p, iters


_plans: dict = {}


def forward_into(x: Tensor, p: Tensor, alpha: float, alpha_t: Optional[Tensor] = None) -> None:
    """:func:`entmax_forward` with the default variant, of a contiguous 2-D fp32 / fp16 / bf16 ``x``
    into ``p`` (contiguous, ``x``'s shape), launched through a cached compiled handle
    (``launch.py``) instead of Triton's dispatch: the host path of a decode step, which calls it
    with a new row length every step. ``alpha_t``: (rows,) float32, or None. Launches on the
    current device (the caller's ``launch.on_device``)."""
    rows, n = x.shape
    if rows == 0 or n == 0:
        return
    if alpha_t is not None:
        # the kernel indexes α by row: an expanded view (stride 0, e.g. one head's α over the
        # batch) would be read past its one element
        alpha_t = alpha_t.contiguous()
    kind = render.alpha_kind(alpha, alpha_t)
    convex = alpha_t is None and float(alpha) <= 2.0
    pkey = (x.dtype, n, kind, alpha_t is not None, convex)
    plan = _plans.get(pkey)
    if plan is None:
        # one per row length: starts over on a long run of new lengths
        plan = launch.bounded_put(_plans, pkey, _forward_plan(x, n, alpha, alpha_t, kind, convex), 4096)
    fn, top, constexprs, warps = plan
    a_rows = alpha_t if alpha_t is not None else x
    unused = (x, x, x) if top else (x, x)  # the STATS pointers: never read without STATS
    launch.launcher(fn)(
        (x.device.index, x.dtype, p.dtype, a_rows.dtype, top, launch.int_spec(x.stride(0), p.stride(0), n),
         launch.aligned(x, p, a_rows), launch.fits_int32(n)),
        (rows,), (x, p, a_rows, *unused, x.stride(0), p.stride(0), n, float(alpha)), constexprs, warps, 3)


def _top_lanes(x: Tensor, n: int, bn: int, warps: int) -> int:
    """LANES of the "top" kernel's [REPS, LANES] tile: a column is one thread's vector slot (16 bytes:
    4 fp32 or 8 bf16 per load when n is a multiple of 16, which is when Triton vectorises the loads;
    a mismatch costs cross-thread shuffles in every subset step: bf16 with 4-wide columns ran at a
    quarter of the speed on the H200)."""
    vec = 16 // x.element_size() if n % 16 == 0 else 1
    return min(bn, 32 * warps * vec)


def _forward_plan(x: Tensor, n: int, alpha: float, alpha_t: Optional[Tensor], kind: str, convex: bool):
    """(kernel, is the "top" kernel, constexprs, warps) of the default variant for rows of n."""
    bn, looping, warps, default_rows = _config(n, None, None)
    v = _variant(None, None, None, None, default_rows, kind, None, looping, convex)
    per_row = alpha_t is not None
    if v["bracket"] == "top":
        lanes = _top_lanes(x, n, bn, warps)
        mod = _module(bn, looping, kind, per_row, bracket="top", topk=v["topk"])
        return (mod._entmax_fwd_top_kernel, True,
                dict(REPS=bn // lanes, LANES=lanes, MAX_ITERS=MAX_ITERS, TOL=TOL, STATS=False), warps)
    # one row per program, "hist": the baseline kernel, as _launch_forward picks it (the table's rows
    # per program are all 1)
    assert v["rows"] == 1 and v["bracket"] == "hist" and not v["finish"], v
    mod = _module(bn, looping, kind, per_row, histogram=True)
    return (mod._entmax_fwd_kernel, False,
            dict(BLOCK_N=bn, NUM_BINS=NUM_BINS, MAX_ITERS=MAX_ITERS, TOL=TOL, STATS=False), warps)


def triton_cdiv(a: int, b: int) -> int:
    return -(-a // b)


_LAST_DEBUG: dict = {}




def entmax_forward(x: Tensor, alpha: float, alpha_t: Optional[Tensor] = None, *,
                   block_n: Optional[int] = None, num_warps: Optional[int] = None,
                   out: Optional[Tensor] = None, rows_per_program: Optional[int] = None,
                   bracket: Optional[str] = None, packed_bins: Optional[int] = None,
                   finish: Optional[bool] = None, topk: Optional[int] = None,
                   maxnreg: Optional[int] = None) -> Tensor:
    """α-entmax over the last dim of 2-D ``x`` (any float dtype; fp32 math), p in ``x``'s dtype.

    ``alpha_t`` (shape (rows,)) gives one α per row and overrides ``alpha``. ``block_n`` /
    ``num_warps`` override the default config (tests use a small ``block_n`` to reach the
    looping path); ``out`` is an optional contiguous output buffer (tests poison it).
    ``rows_per_program`` / ``bracket`` / ``packed_bins`` / ``finish`` pick a forward variant (None:
    the default table, ``_SINGLE_BLOCK_CONFIGS`` and ``_DEFAULT_VARIANT``); ``topk`` is the
    subset size per thread of the "top" bracket and ``maxnreg`` caps registers per thread."""
    return _launch_forward(x, alpha, alpha_t, False, block_n, num_warps, out,
                           rows_per_program, bracket, packed_bins, finish, topk, maxnreg)[0]


def entmax_forward_with_stats(x: Tensor, alpha: float, alpha_t: Optional[Tensor] = None, *,
                              block_n: Optional[int] = None, num_warps: Optional[int] = None,
                              out: Optional[Tensor] = None, rows_per_program: Optional[int] = None,
                              bracket: Optional[str] = None, packed_bins: Optional[int] = None,
                              finish: Optional[bool] = None, topk: Optional[int] = None,
                              maxnreg: Optional[int] = None) -> tuple[Tensor, Tensor]:
    """Like :func:`entmax_forward`, also returning the number of f(τ) evaluations each row needed
    after the histogram bracket (int32, shape (rows,); 0 for fully masked rows and for float64
    inputs, which take the reference path). Variant options as in :func:`entmax_forward`; with the
    "top" bracket, ``last_subset_evaluations()`` gives the cheap subset evaluations of the call."""
    return _launch_forward(x, alpha, alpha_t, True, block_n, num_warps, out,
                           rows_per_program, bracket, packed_bins, finish, topk, maxnreg)


def last_subset_evaluations() -> Optional[Tensor]:
    """Per row, the subset evaluations of the last ``entmax_forward_with_stats`` call ("top" bracket;
    zeros for other brackets)."""
    return _LAST_DEBUG.get("sub_iters")


def entmax_backward(grad: Tensor, p: Tensor, alpha: float, alpha_t: Optional[Tensor] = None, *,
                    block_n: Optional[int] = None, num_warps: Optional[int] = None,
                    out: Optional[Tensor] = None) -> tuple[Tensor, Optional[Tensor]]:
    """(∂L/∂x, ∂L/∂α per row or None) for p = entmax(x) and ``grad`` = ∂L/∂p; dx in p's dtype,
    dα in ``alpha_t``'s dtype. ``out`` is an optional contiguous buffer for dx."""
    _check_2d("p", p)
    if grad.shape != p.shape:
        raise ValueError(f"grad must have p's shape {tuple(p.shape)}, got {tuple(grad.shape)}")
    rows, n = p.shape
    if p.dtype == torch.float64:
        a = alpha if alpha_t is None else alpha_t.to(torch.float64).unsqueeze(-1)
        dx, da = reference.entmax_backward(p, grad.to(torch.float64), a, need_alpha=alpha_t is not None)
        return dx, (da.squeeze(-1).to(alpha_t.dtype) if alpha_t is not None else None)
    per_row = alpha_t is not None
    dalpha = torch.zeros(rows, dtype=torch.float32, device=p.device) if per_row else None
    if rows == 0 or n == 0:
        return torch.zeros_like(p), (dalpha.to(alpha_t.dtype) if per_row else None)
    grad = grad.contiguous()
    p = p.contiguous()
    dx = _out_buffer("out", out, p)
    a_rows = _row_alpha(alpha_t, rows) if per_row else p
    bn, looping, warps = config_for(n, block_n, num_warps, backward=True)
    mod = _module(bn, looping, render.alpha_kind(alpha, alpha_t), per_row)
    with launch.on_device(p.device):
        mod._entmax_bwd_kernel[(rows,)](
            grad, p, dx, a_rows, dalpha if per_row else p,
            grad.stride(0), p.stride(0), dx.stride(0),
            n, float(alpha),
            BLOCK_N=bn,
            num_warps=warps,
        )
    return dx, (dalpha.to(alpha_t.dtype) if per_row else None)
