"""Fused α-entmax attention forward (kernels/attention.py) against the float64 reference.

Runs the Triton kernel (the interpreter on the CPU with TRITON_INTERPRET=1, so shapes stay tiny).
Every kernel output buffer is NaN-poisoned before the launch, so an element the kernel forgets to
write fails the check. Tolerances follow FlashAttention's rule against the reference computed in
the same dtype (fp32 included), with a floor of 2e-5 for fp32 and 1e-3 for fp16/bf16.
"""

from __future__ import annotations

import math
import os
import re

import pytest
import torch
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

import adasplash_compile
from adasplash_compile import reference
from adasplash_compile.kernels import attention as fwd
from adasplash_compile.kernels import render
from tests.helpers import assert_close, assert_fa_rule, run_property_shard

# Property-test budgets: the interpreter needs ~1 s per kernel call, so a plain CPU run keeps
# the sweep small; CI (CI=true) runs 200 examples, the GPU profile more (totals over the shards).
settings.register_profile("cpu", max_examples=25, derandomize=True, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow], phases=[Phase.explicit, Phase.generate])
# No shrinking in CI: each interpreted example costs seconds, and a failure's first example
# (printed with its reproduce blob) is what the log needs.
settings.register_profile("ci", max_examples=200, derandomize=True, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow], phases=[Phase.explicit, Phase.generate])
# The GPU compiles each kernel variant an example draws (lengths of 1 or multiples of 16 are
# variants too), which is what its run costs. H200, session 17 (16 cores, pytest-xdist): 1000
# examples in 8 shards finished none in 170 s (call A); 480 in 16 shards (call B) passed 15 shards
# in 78-170 s each, the 16th still running at 248 s; session 18 (call D) ran that shard alone: passed
# in 191 s.
settings.register_profile("gpu", max_examples=480, derandomize=True, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
_PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or (
    "gpu" if torch.cuda.is_available() else ("ci" if os.environ.get("CI") else "cpu"))

FP32_ATOL = 2e-5  # fp32: the reference's own float32 error is ~1e-7 at these sizes


pytestmark = pytest.mark.usefixtures("needs_kernels")


@pytest.fixture(autouse=True)
def _poisoned_outputs(monkeypatch):
    """Hand the kernel NaN-filled output buffers (τ too: +inf rows must be written, not left)."""
    def nan_buffer(shape, dtype, device):
        return torch.full(shape, float("nan"), dtype=dtype, device=device)

    monkeypatch.setattr(fwd, "_new_buffer", nan_buffer)
    # the tile map's bytes (training forward) are not zeroed either: the kernel writes each one
    monkeypatch.setattr(fwd, "_new_flags", lambda n, device: torch.full((n,), 0xA5, dtype=torch.uint8, device=device))


def _inputs(device, B=1, H=2, Hk=None, Lq=17, Lk=17, D=16, Dv=None, dtype=torch.float32):
    Hk = Hk or H
    Dv = Dv or D
    q = torch.randn(B, H, Lq, D, device=device).to(dtype)
    k = torch.randn(B, Hk, Lk, D, device=device).to(dtype)
    v = torch.randn(B, Hk, Lk, Dv, device=device).to(dtype)
    return q, k, v


def _run_and_check(q, k, v, *, mask=None, causal=False, scale=None, alpha=1.5, check_stats=True):
    """Kernel forward vs the float64 reference: output, τ and O₂ in one launch."""
    H, Hk = q.shape[1], k.shape[1]
    scale_f = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    alpha_t = alpha if isinstance(alpha, torch.Tensor) else None
    alpha_f = 1.5 if alpha_t is not None else alpha
    out, tau, o2 = fwd.forward(q, k, v, mask, causal, scale_f, alpha_f, alpha_t, check_stats)
    a64 = alpha_t.double() if alpha_t is not None else alpha
    kw = dict(attn_mask=mask, is_causal=causal, scale=scale, enable_gqa=Hk != H)
    oracle = reference.entmax_attention(q.double(), k.double(), v.double(), alpha=a64, **kw)
    assert out.dtype == q.dtype and out.shape == oracle.shape
    a_low = alpha_t.float() if alpha_t is not None else alpha
    baseline = reference.entmax_attention(q, k, v, alpha=a_low, **kw)
    # fp32: within FP32_ATOL, or within the FA rule where the plain fp32 computation is itself
    # further off (α > 2: p = y^γ with γ < 1 is steep at the threshold)
    assert_fa_rule(out, oracle, baseline, factor=3.0, floor=FP32_ATOL if q.dtype == torch.float32 else 1e-3,
                   name="out")
    if check_stats:
        tau_ref, o2_ref = reference.entmax_attention_stats(q.double(), k.double(), v.double(), mask, causal, scale,
                                                           alpha=a64)
        fin = torch.isfinite(tau_ref)
        assert not torch.isnan(tau).any(), "tau: NaN (unwritten or bad math)"
        assert torch.equal(torch.isinf(tau), ~fin), "tau must be +inf exactly on rows with nothing to attend"
        assert bool((tau[~fin] > 0).all()), "tau of a fully masked row must be +inf"
        tol = 1e-4 if q.dtype == torch.float32 else 2e-2
        assert_close(tau[fin], tau_ref[fin], atol=tol, name="tau")
        # O₂ weighs keys by s = p^(2−α), which blows up near τ for α > 2: judge it by the FA rule
        # against the same statistics computed in q's dtype (float32 for fp32 and below)
        _, o2_base = reference.entmax_attention_stats(q, k, v, mask, causal, scale, alpha=a_low)
        o2_base = o2_base.to(o2.dtype)  # the kernel returns O₂ in q's dtype: same rounding for both
        rows = _well_conditioned_o2_rows(q, k, mask, causal, scale, a64)
        assert_fa_rule(o2[rows], o2_ref[rows], o2_base[rows], factor=3.0,
                       floor=FP32_ATOL if q.dtype == torch.float32 else 1e-2, name="o2")
    return out, tau, o2


def _well_conditioned_o2_rows(q, k, mask, causal, scale, alpha):
    """Rows on which O₂ is a well-posed target. For α > 2, s = p^(2−α) = y^((2−α)/(α−1)) with
    y = x − τ diverges as y → 0: a key within δ of τ has |ds/s| ~ δ/y, so with τ known to fp32's
    resolution (~1e-7 of |x|) a key with y < 1e-3 moves O₂ far more than fp32 rounding does.
    Those rows are left out; all rows are kept for α ≤ 2, where s is bounded."""
    H = q.shape[1]
    a = alpha.reshape(1, H, 1, 1) if isinstance(alpha, torch.Tensor) else torch.full((1, H, 1, 1), alpha,
                                                                                     dtype=torch.float64)
    kr = k.double().repeat_interleave(H // k.shape[1], dim=1)
    z = reference.attention_scores(q.double(), kr, mask, causal, scale)
    a = a.to(z.device)
    p = reference.entmax(z, a, dim=-1)
    y_min = torch.where(p > 0, p, torch.ones_like(p)).pow(a - 1.0).amin(-1)
    keep = (a.squeeze(-1) <= 2.0) | (y_min >= 1e-3)
    return keep.expand(y_min.shape)


# ---- lengths, head dims, causal ---------------------------------------------------------------


@pytest.mark.parametrize("Lq,Lk", [(1, 17), (17, 17), (127, 127), (129, 129)])
def test_lengths_causal_alpha15(device, Lq, Lk):
    q, k, v = _inputs(device, H=1, Lq=Lq, Lk=Lk)
    _run_and_check(q, k, v, causal=True)


_VARIANTS = [
    fwd.configs.FwdConfig(32, 16, 4, 2, hist="tile"),
    fwd.configs.FwdConfig(32, 16, 4, 2, hist="elem", split=True),
    fwd.configs.FwdConfig(16, 32, 4, 2, hist="tile", split=True),
    fwd.configs.FwdConfig(32, 16, 4, 2, hist="subset"),
    fwd.configs.FwdConfig(16, 32, 4, 2, hist="subset", split=True),  # "subset" runs fused
]


@pytest.mark.parametrize("cfg", _VARIANTS, ids=lambda c: f"{c.hist}{'-split' if c.split else ''}-{c.BLOCK_M}x{c.BLOCK_N}")
def test_config_variants(device, monkeypatch, cfg):
    """Every histogram mode and the split (stats kernel + output kernel) forward, over several
    key and query tiles: causal with a growing max, masks, per-head and general α, GQA; τ and O₂
    checked too (the split writes τ in one kernel and reads it in the other)."""
    monkeypatch.setattr(fwd.configs, "fwd_default", lambda dtype, dr: cfg)
    monkeypatch.setattr(fwd, "FLUSH_EVERY", 2)
    q, k, v = _inputs(device, Lq=70, Lk=70, D=16)
    k = k * torch.linspace(3.0, 0.5, 70, device=device)[:, None]
    _run_and_check(q, k, v, causal=True)
    _run_and_check(q, k, v, causal=True, alpha=2.0)
    q, k, v = _inputs(device, B=2, H=3, Lq=40, Lk=50, D=24)
    _run_and_check(q, k, v, mask=torch.rand(2, 1, 40, 50, device=device) > 0.4,
                   alpha=torch.tensor([1.3, 1.5, 2.5], device=device))
    q, k, v = _inputs(device, H=4, Hk=2, Lq=33, Lk=45, D=16)
    mask = torch.ones(1, 1, 1, 45, dtype=torch.bool, device=device)
    mask[..., 30:] = False
    _run_and_check(q, k, v, mask=mask, alpha=1.25)


def _spy_routes(monkeypatch) -> list:
    """A list that gets each forward launch's ``route`` ("" / "sparse" / "dense")."""
    routes = []
    real_launch = fwd._launch

    def spy(*args, **kwargs):
        routes.append(kwargs.get("route", ""))
        return real_launch(*args, **kwargs)

    monkeypatch.setattr(fwd, "_launch", spy)
    return routes


def _subset_wide_rows(device, monkeypatch, dtype, alpha, kind=None):
    """Wide rows (large k: supports of ~10-40 keys) over 10 key tiles, non-causal and causal,
    against float64; returns the rows each forward listed for the fix-up launch. ``alpha``: a
    float or a tuple of per-head values (then GQA, 4 heads on 2). ``kind``: the α kind every
    launch must render, in the "subset" mode."""
    listed = []
    real_launch = fwd._launch

    def spy(*args, **kwargs):
        out = real_launch(*args, **kwargs)
        if kwargs.get("phase") == "fixup":
            listed.append(int(kwargs["fix"][0].sum()))
        if kind is not None:
            assert args[11][0] == kind and fwd._hist_mode(args[0], kind) == "subset"
        return out

    monkeypatch.setattr(fwd, "_launch", spy)
    if isinstance(alpha, tuple):
        alpha = torch.tensor(alpha, device=device)
        q, k, v = _inputs(device, H=4, Hk=2, Lq=90, Lk=160, D=16, dtype=dtype)
    else:
        q, k, v = _inputs(device, H=2, Lq=90, Lk=160, D=16, dtype=dtype)
    _run_and_check(q, k, v, causal=False, alpha=alpha)
    _run_and_check(q, k * 0.3, v, causal=True, alpha=alpha)
    return listed


# both dtypes and both α in the default run, the other two pairings on request; so is one
# candidate without EVICT2 refined in the tile for bf16 (its fp32 twin stays; CI time)
_SUBSET_REFINE_SLOW = {("bf16-1.5", 1, False, "in-kernel")}


@pytest.mark.parametrize("dtype,alpha,topk,evict2,fixup", [
    pytest.param(dtype, alpha, topk, evict2, fixup, id=f"{name}-{topk}-{evict2}-{fixup}",
                 marks=[pytest.mark.slow] if slow or (name, topk, evict2, fixup) in _SUBSET_REFINE_SLOW else [])
    for dtype, alpha, name, slow in ((torch.bfloat16, 1.5, "bf16-1.5", False), (torch.float32, 2.0, "fp32-2.0", False),
                                     (torch.bfloat16, 2.0, "bf16-2.0", True), (torch.float32, 1.5, "fp32-1.5", True))
    for topk, evict2 in ((1, True), (1, False), (2, False))
    for fixup in ("fixup-launch", "fixup-1-program", "in-kernel")])
def test_subset_refinement(device, monkeypatch, topk, evict2, alpha, dtype, fixup):
    """The "subset" sweep 1 with too few candidates per score position (1-2 across 10 key tiles):
    many rows miss support keys and fail the certificate. They are redone by the fix-up launch
    (16-row tiles of listed rows), or with SUBSET_FIXUP off by refinement sweeps in the tile (tiles
    whose rows all pass skip them). Wide rows (large k) make supports of ~10-40 keys. (With two
    candidates the second-largest evicted key's certificate passes nearly every row, so that case
    runs without it.)"""
    monkeypatch.setattr(fwd.configs, "fwd_default", lambda dtype, dr: fwd.configs.FwdConfig(32, 16, 4, 2, hist="subset"))
    monkeypatch.setattr(fwd, "SUBSET_TOPK", topk)
    monkeypatch.setattr(fwd, "SUBSET_EVICT2", evict2)
    monkeypatch.setattr(fwd, "SUBSET_FIXUP", fixup != "in-kernel")
    if fixup == "fixup-1-program":  # one program per head walks all its listed rows, 16 at a time
        monkeypatch.setattr(fwd, "FIXUP_PROGRAMS", 1)
    monkeypatch.setattr(fwd, "FIXUP_MIN_LK", 0)  # the GPU default takes it from 16k keys on
    listed = _subset_wide_rows(device, monkeypatch, dtype, alpha)
    if fixup != "in-kernel":
        assert len(listed) == 2 and sum(listed) > 0, f"the fix-up launch got no rows: {listed}"


_GENERAL_ALPHAS = [(torch.bfloat16, 1.3, "bf16-1.3"), (torch.float32, 2.5, "fp32-2.5"),
                   (torch.bfloat16, (1.2, 1.8, 2.0, 2.7), "bf16-per-head")]
# (three of the nine on request, for CI time: each fix-up mode keeps two α kinds by default)
_GENERAL_ALPHA_SLOW = {("fp32-2.5", "fixup-refines-in-place"), ("bf16-1.3", "fixup-refines-in-place"),
                       ("bf16-per-head", "in-kernel")}


@pytest.mark.parametrize("dtype,alpha,fixup", [
    pytest.param(dtype, alpha, fixup, id=f"{name}-{fixup}",
                 marks=[pytest.mark.slow] if (name, fixup) in _GENERAL_ALPHA_SLOW else [])
    for fixup in ("fixup-launch", "in-kernel", "fixup-refines-in-place") for dtype, alpha, name in _GENERAL_ALPHAS])
def test_general_alpha_subset(device, monkeypatch, dtype, alpha, fixup):
    """General α on the candidates ("subset"): Newton steps (bisection for α > 2) on them from
    m − 1, certified as for α = 1.5. With one candidate per score position across 10 key tiles,
    many rows miss support keys; the fix-up launch (or, with SUBSET_FIXUP off or past
    FIXUP_MAX_ROWS per tile, refinement sweeps in the tile) redoes them with the same steps over
    the whole row. Output, τ and O₂ against float64."""
    monkeypatch.setattr(fwd.configs, "fwd_default", lambda dtype, dr: fwd.configs.FwdConfig(32, 16, 4, 2, hist="subset"))
    monkeypatch.setattr(fwd, "SUBSET_TOPK", 1)
    monkeypatch.setattr(fwd, "SUBSET_FIXUP", fixup != "in-kernel")
    monkeypatch.setattr(fwd, "FIXUP_MIN_LK", 0)
    monkeypatch.setattr(fwd, "FIXUP_MAX_ROWS", 0 if fixup == "fixup-refines-in-place" else 32)
    listed = _subset_wide_rows(device, monkeypatch, dtype, alpha, kind="general")
    if fixup == "fixup-launch":
        assert len(listed) == 2 and sum(listed) > 0, f"the fix-up launch got no rows: {listed}"
    elif fixup == "fixup-refines-in-place":
        assert listed == [0, 0], f"rows went to the fix-up launch: {listed}"


# the scan in one step and in three for bf16, in one for fp32; the rest on request (CI time; without
# the scan the refinement sweeps alone are test_subset_refinement's "in-kernel" cases)
@pytest.mark.parametrize("dtype,alpha,on,scan", [
    pytest.param(torch.bfloat16, 1.5, True, 16, id="bf16-1.5-scan16"),
    pytest.param(torch.bfloat16, 1.5, True, 4, id="bf16-1.5-scan4"),
    pytest.param(torch.float32, 2.0, True, 16, id="fp32-2.0-scan16"),
    pytest.param(torch.float32, 2.0, True, 4, id="fp32-2.0-scan4", marks=pytest.mark.slow),
    pytest.param(torch.bfloat16, 1.5, False, 16, id="bf16-1.5-off", marks=pytest.mark.slow),
    pytest.param(torch.float32, 2.0, False, 16, id="fp32-2.0-off", marks=pytest.mark.slow)])
def test_targeted_refinement(device, monkeypatch, dtype, alpha, on, scan):
    """SUBSET_TARGETED: an uncertified row scans the score positions that can hide a missed key
    (all candidates above their root), one key per tile there, and solves again with the keys it
    finds, before any refinement sweep. Three candidates per position over ten 16-key tiles leave
    ~5-10 such rows per 64-row tile: causal, a full float mask (the scan's per-row mask loads), a
    bool key-padding mask, GQA. Last, one key repeated at one position of every tile (ten copies:
    their x tie exactly, above the rest): a copy evicted at the smallest candidate's value can only
    be told apart by count. τ to fp32's limit against float64, with the scan on and off; on, a
    position's ten keys in one step of TARGETED_SCAN tiles, and in three (4, 4 and a partial 2)."""
    monkeypatch.setattr(fwd.configs, "fwd_default", lambda dtype, dr: fwd.configs.FwdConfig(64, 16, 4, 2, hist="subset"))
    monkeypatch.setattr(fwd, "SUBSET_TOPK", 3)
    q, k, v = _inputs(device, H=4, Hk=2, Lq=128, Lk=160, D=16, dtype=dtype)
    full = 0.5 * torch.randn(1, 4, 128, 160, device=device)
    pad = torch.ones(1, 1, 1, 160, dtype=torch.bool, device=device)
    pad[..., 130:] = False
    k_tie = k.clone()
    k_tie[:, :, 5:160:16] = k_tie[:, :, 5:6] * 1.5  # position 5 of every tile: one key, ten copies
    cases = ((k, None, True), (k, full, False), (k, pad, False), (k_tie, None, False))
    monkeypatch.setattr(fwd, "SUBSET_TARGETED", on)
    monkeypatch.setattr(fwd, "TARGETED_SCAN", scan)
    for k_in, mask, causal in cases:
        _, tau, _ = _run_and_check(q, k_in, v, mask=mask, causal=causal, alpha=alpha)
        tau64, _ = reference.entmax_attention_stats(q.double(), k_in.double(), v.double(), mask, causal, alpha=alpha)
        fin = torch.isfinite(tau64)
        err = ((tau.double() - tau64).abs() / tau64.abs().clamp_min(1.0))[fin]
        assert err.max().item() <= 2e-6, f"SUBSET_TARGETED={on} TARGETED_SCAN={scan} mask={mask is not None}: τ off by {err.max():.2e}"


# the default patience (2) for both α, the others for α = 2 only; α = 1.5's on request (CI time)
@pytest.mark.parametrize("alpha,patience", [
    pytest.param(alpha, patience, id=f"{alpha}-{patience}",
                 marks=[pytest.mark.slow] if alpha == 1.5 and patience != 2 else [])
    for alpha in (1.5, 2.0) for patience in (1, 2, 0)])
def test_subset_near_patience(device, monkeypatch, patience, alpha):
    """Sweep 1's check for near keys (a tile with no row within 1 of its max skips the insertion)
    stops after NEAR_PATIENCE unmasked tiles that all had one. Dense rows (every tile near) take
    the unchecked loop, local rows (near keys only by the diagonal) keep checking; both exact.
    Six key tiles per late query tile, so both loops run past the probe tiles."""
    monkeypatch.setattr(fwd.configs, "fwd_default", lambda dtype, dr: fwd.configs.FwdConfig(16, 16, 4, 2, hist="subset"))
    monkeypatch.setattr(fwd, "SUBSET_NEAR_PATIENCE", patience)
    L = 96
    q, k, v = _inputs(device, H=2, Lq=L, Lk=L, D=16)
    _run_and_check(q, k * 0.05, v, causal=True, alpha=alpha)  # dense: all x within 1 of the max
    pos = torch.randn(L, 16, device=device)
    pos = pos / pos.norm(dim=-1, keepdim=True) * 6.0  # x peaks at the query's own position
    _run_and_check(pos + 0.05 * q, pos + 0.05 * k, v, causal=True, alpha=alpha)
    _run_and_check(q, k, v, causal=False, alpha=alpha)


def _word_lists(xs, rows, cap):
    """GATHER_WORDS's lists, read back from the x slots: (key indices, x above the row's τ − 1/32).
    A key's word holds its index in the low 16 bits and that x in 16-bit fixed point (2^-15)."""
    words = xs.view(torch.int32).view(rows, cap).long()
    return words & 0xFFFF, ((words >> 16) & 0xFFFF).double() * 2.0 ** -15


# (the one-kernel main launch is no longer the default: on request, for CI time. The listing's
# ranks from one scan per candidate tile, as training's lists take them (LIST_PREFIX applies to
# the forward's own lists only), are the training-lists cases' here and in test_attention_bwd.py)
@pytest.mark.parametrize("main", ["split", pytest.param("one-kernel", marks=pytest.mark.slow), "in-kernel"])
@pytest.mark.parametrize("alpha", [1.5, 2.0])
def test_gather_lists_hold_the_support(device, monkeypatch, alpha, main):
    """GATHER: sweep 1 packs each candidate's key tile into its low bits, certified rows list their
    support from the candidates and the output gathers those keys. The lists (read back from the
    scratch, poisoned with -1) must hold every key of the float64 support, for most rows; the rows
    the candidates miss (two per position across ten key tiles) take the fix-up or the dense sweep.
    A float key-padding mask with -inf (packing must keep -inf), a full float mask, GQA. ``main``:
    the main launch as two kernels (GATHER_SPLIT, the sparse programs' and the dense ones') or as
    one, with the fix-up launch, or one without it. A last input mixes both kinds of program in
    one launch: two local heads (support by the diagonal: never listed) and two random ones."""
    monkeypatch.setattr(fwd.configs, "fwd_default", lambda dtype, dr: fwd.configs.FwdConfig(32, 16, 4, 2, hist="subset"))
    # (without the fix-up launch a tile's rows are listed only when all of them are: more
    # candidates there)
    monkeypatch.setattr(fwd, "SUBSET_TOPK", 4 if main == "in-kernel" else 2)
    monkeypatch.setattr(fwd, "SUBSET_FIXUP", main != "in-kernel")
    monkeypatch.setattr(fwd, "GATHER_SPLIT", main == "split")
    monkeypatch.setattr(fwd, "FIXUP_MIN_LK", 0)
    monkeypatch.setattr(fwd, "GATHER_MIN_LK", 0)
    routes = _spy_routes(monkeypatch)
    monkeypatch.setattr(fwd, "SUBSET_NEAR_PATIENCE", 2)  # rows dense after two key tiles: the rest packed
    scratch = []

    def poisoned(n, dtype, device):  # the lists (-1), and the listed keys' x (NaN) after them
        scratch.append(torch.full((n,), float("nan") if dtype.is_floating_point else -1, dtype=dtype, device=device))
        return scratch[-1]

    monkeypatch.setattr(fwd, "_new_scratch", poisoned)
    real_buffers = fwd._gather_buffers

    def buffers(*args):
        scratch.append(real_buffers(*args))
        return scratch[-1]

    monkeypatch.setattr(fwd, "_gather_buffers", buffers)
    B, H, Hk, Lq, Lk, D = 1, 4, 2, 40, 160, 16
    q, k, v = _inputs(device, B=B, H=H, Hk=Hk, Lq=Lq, Lk=Lk, D=D, dtype=torch.bfloat16)
    pad = torch.zeros(1, 1, 1, Lk, device=device)
    pad[..., 150:] = float("-inf")
    full = 0.5 * torch.randn(1, H, Lq, Lk, device=device)
    # the mixed input: 64 causal rows; the second program has two probe tiles past its diagonal
    # ones (the first has none: it counts as dense)
    pos = torch.randn(Lk, D, device=device)
    pos = pos / pos.norm(dim=-1, keepdim=True) * 12.0  # x peaks at the query's own position
    q_mix, k_mix, _ = _inputs(device, B=B, H=H, Hk=Hk, Lq=64, Lk=Lk, D=D, dtype=torch.bfloat16)
    q_mix[:, :2] = (pos[:64] + 0.05 * q_mix[:, :2].float()).to(q.dtype)
    k_mix[:, :1] = (pos + 0.05 * k_mix[:, :1].float()).to(k.dtype)
    missed = 0
    for q_in, k_in, mask, causal in ((q, k, None, True), (q, k, pad, False), (q, k, full, False),
                                     (q_mix, k_mix, None, True)):
        Lq = q_in.shape[2]
        scratch.clear()
        routes.clear()
        _, tau, _ = _run_and_check(q_in, k_in, v, mask=mask, causal=causal, alpha=alpha)
        assert len(scratch) == 2 + (fwd.GATHER_SCRATCH or fwd.GATHER_PACKED_X), "the forward took no gather launch"
        want_routes = {"split": ["sparse", "dense", "", ""], "one-kernel": [""] * 3, "in-kernel": [""] * 2}[main]
        assert routes == want_routes, f"launches {routes}"
        lists = scratch[0].view(B * H * Lq, fwd.GATHER_CAP).long()
        counts = scratch[-1][1]  # GCNT: keys listed per row, 0 for rows not listed
        # the listed keys' x: GATHER_PACKED_X (bf16 here), the main launch's packed candidates,
        # their low bits the key's tile, which the gather launch reads at the bits' midpoint;
        # else the gather launch's own fp32 x
        idx_mask = scratch[-1][2]
        xs = scratch[-1][4].view(B * H * Lq, fwd.GATHER_CAP)
        if fwd.GATHER_PACKED_X:
            bits = xs.view(torch.int32)
            tiles = bits & idx_mask
            xs = ((bits & ~idx_mask) | ((idx_mask + 1) >> 1)).view(torch.float32)
        eps_unit = (idx_mask + 1) * 2.0 ** -23
        assert bool(((counts >= 0) & (counts <= fwd.GATHER_CAP)).all()), f"counts {counts.unique().tolist()}"
        if q_in is q_mix:  # the local heads' second program lists nothing, the random ones' does
            per_head = (counts > 0).view(B, H, Lq)[:, :, 32:].any(-1).any(0)
            assert per_head.tolist() == [False, False, True, True], f"heads with lists: {per_head.tolist()}"
        kr = k_in.double().repeat_interleave(H // Hk, dim=1)
        x = (alpha - 1) * reference.attention_scores(q_in.double(), kr, mask, causal, D ** -0.5)
        tau64, _ = reference.entmax_attention_stats(q_in.double(), k_in.double(), v.double(), mask, causal,
                                                    alpha=alpha)
        support = (x > tau64[..., None]).reshape(B * H * Lq, Lk)
        gathered = counts > 0
        assert gathered.float().mean() > 0.3, f"only {int(gathered.sum())} of {gathered.numel()} rows gathered"
        missed += int((~gathered).sum())
        for r in gathered.nonzero().flatten().tolist():
            keys = lists[r, : int(counts[r])]
            assert bool((keys >= 0).all() and (keys < Lk).all()), f"row {r}: list {keys.tolist()}"
            keys = set(keys.tolist())
            want = set(support[r].nonzero().flatten().tolist())
            assert want <= keys, f"row {r}: support keys {sorted(want - keys)} not listed"
            n = int(counts[r])
            x_want = x.reshape(B * H * Lq, Lk)[r, lists[r, :n]]
            if fwd.GATHER_PACKED_X:
                assert torch.equal(tiles[r, :n].long(), lists[r, :n] // 16), f"row {r}: packed tiles off"  # 16-key tiles
            x_err = (xs[r, :n].double() - x_want).abs()
            assert bool((x_err <= 0.5 * eps_unit * x_want.abs() + 2e-6).all()), (
                f"row {r}: listed x off by up to {x_err.max().item():.3g}")
    assert missed > 0, "every row was gathered: the fallback went untested"
    # the training forward's tile map (the gather launch marks its keys' tiles): every block with
    # a weight above zero is marked, bytes only 0 or 1
    Lq = q.shape[2]
    _, tau, _, tiles = fwd.forward(q, k * 2.0, v, None, True, D ** -0.5, alpha, None, True, return_tiles=True)
    tau64, _ = reference.entmax_attention_stats(q.double(), k.double() * 2.0, v.double(), None, True, alpha=alpha)
    x = (alpha - 1) * reference.attention_scores(q.double(), k.double().repeat_interleave(H // Hk, dim=1) * 2.0,
                                                 None, True, D ** -0.5)
    n_q, n_k = tiles.shape[-2:]
    live = torch.nn.functional.pad(x > tau64[..., None], (0, n_k * fwd.TILE - Lk, 0, n_q * fwd.TILE - Lq))
    live = live.reshape(B, H, n_q, fwd.TILE, n_k, fwd.TILE).any(-1).any(-2)
    assert bool(((tiles == 0) | (tiles == 1)).all()), "the tile map has bytes other than 0 and 1"
    assert bool((tiles.bool() | ~live).all()), "the tile map leaves out a block with non-zero weights"


@pytest.mark.parametrize("cap", [64, 8])
@pytest.mark.parametrize("alpha", [1.5, 2.0])
def test_gather_scan(device, monkeypatch, alpha, cap):
    """GATHER_SCAN (inference, bf16): a dense row the candidates missed hands the gather launch
    the score positions that can hide a missed key, and the gather launch lists every key at them.
    With one candidate tile too few (TOPK 2), rows take that path instead of the fix-up beside the
    gather launch: fewer rows there than with the scan off, and the same output and τ within the
    float64 oracle's FA rule. The lists (read back, poisoned with -1) hold the whole float64
    support of every listed row. With lists of 8 (GATHER_SCAN_CAP), rows whose lists overflow once
    scanned take the late fix-up launch after the gather launch (its counters read back), still
    exact. GQA, causal and not, q_len ≠ kv_len. Lists of 64 come as GATHER_WORDS' words, lists of 8
    as separate indices and packed x."""
    monkeypatch.setattr(fwd.configs, "fwd_default", lambda dtype, dr: fwd.configs.FwdConfig(32, 16, 4, 2, hist="subset"))
    monkeypatch.setattr(fwd, "SUBSET_TOPK", 2)
    monkeypatch.setattr(fwd, "GATHER_SCAN_CAP", cap)
    monkeypatch.setattr(fwd, "GATHER_CAP", cap)  # (the scan off: lists as long)
    # (lists of 64 as GATHER_WORDS' words, of 8 as index and packed x: the format past 65536 keys)
    monkeypatch.setattr(fwd, "GATHER_WORDS", cap == 64)
    monkeypatch.setattr(fwd, "FIXUP_MIN_LK", 0)
    monkeypatch.setattr(fwd, "GATHER_MIN_LK", 0)
    monkeypatch.setattr(fwd, "SUBSET_NEAR_PATIENCE", 2)
    monkeypatch.setattr(fwd, "REPLAY", False)
    fixes, gats = [], []
    real_fix, real_gat = fwd._fix_buffers, fwd._gather_buffers

    def fix_buffers(*args):
        fixes.append(real_fix(*args))
        return fixes[-1]

    def gather_buffers(*args):
        gats.append(real_gat(*args))
        return gats[-1]

    monkeypatch.setattr(fwd, "_fix_buffers", fix_buffers)
    monkeypatch.setattr(fwd, "_gather_buffers", gather_buffers)
    monkeypatch.setattr(fwd, "_new_scratch", lambda n, dtype, dev: torch.full(
        (n,), float("nan") if dtype.is_floating_point else -1, dtype=dtype, device=dev))
    B, H, Hk, Lk, D = 1, 4, 2, 160, 16
    early = {True: 0, False: 0}
    late = scanned = 0
    for Lq, causal in ((160, True), (40, False)):
        q, k, v = _inputs(device, B=B, H=H, Hk=Hk, Lq=Lq, Lk=Lk, D=D, dtype=torch.bfloat16)
        oracle = reference.entmax_attention(q.double(), k.double(), v.double(), alpha=alpha, is_causal=causal,
                                            enable_gqa=True)
        baseline = reference.entmax_attention(q, k, v, alpha=alpha, is_causal=causal, enable_gqa=True)
        tau64, _ = reference.entmax_attention_stats(q.double(), k.double(), v.double(), None, causal, alpha=alpha)
        x = (alpha - 1) * reference.attention_scores(q.double(), k.double().repeat_interleave(H // Hk, dim=1), None,
                                                     causal, D ** -0.5)
        support = (x > tau64[..., None]).reshape(B * H * Lq, Lk)
        for scan in (False, True):
            monkeypatch.setattr(fwd, "GATHER_SCAN", scan)
            fixes.clear()
            gats.clear()
            out, tau, _ = fwd.forward(q, k, v, None, causal, D ** -0.5, alpha, None, False)
            assert_fa_rule(out, oracle, baseline, factor=3.0, floor=1e-3, name=f"out (scan {scan})")
            assert_close(tau, tau64.float(), atol=2e-2, name=f"tau (scan {scan})")
            assert len(fixes) == 1 + scan, f"fix-up buffers: {len(fixes)}"
            early[scan] += int(fixes[0][0].sum())
            n_cap = gats[0][3]  # (GATHER_SCAN_CAP with the scan, else GATHER_CAP)
            assert n_cap == cap, f"lists of {n_cap}"
            counts = gats[0][1]
            words = scan and fwd.GATHER_WORDS
            if words:
                # (the words carry the keys: the index lists are a placeholder, not B·H·Lq·cap)
                assert gats[0][0].numel() == 1, f"index lists of {gats[0][0].numel()} slots beside the words"
                lists, ys = _word_lists(gats[0][4], B * H * Lq, n_cap)
                eps_unit = (gats[0][2] + 1) * 2.0 ** -23
            else:
                lists = gats[0][0].view(B * H * Lq, n_cap).long()
            assert bool(((counts >= 0) & (counts <= n_cap)).all()), f"counts {counts.unique().tolist()}"
            for r in (counts > 0).nonzero().flatten().tolist():
                keys = lists[r, : int(counts[r])]
                assert bool((keys >= 0).all() and (keys < Lk).all()), f"row {r}: list {keys.tolist()}"
                want = set(support[r].nonzero().flatten().tolist())
                assert want <= set(keys.tolist()), f"row {r}: support keys {sorted(want - set(keys.tolist()))} not listed"
                if words:
                    # each word's x lies above the row's τ − 1/32: one offset for every key, up to
                    # the packed x's rounding and the word's own (2^-16)
                    x_want = x.reshape(B * H * Lq, Lk)[r, keys]
                    off = ys[r, : int(counts[r])] - x_want
                    spread = (off.max() - off.min()).item()
                    assert spread <= eps_unit * x_want.abs().max().item() + 2.0 ** -15 + 4e-6, (
                        f"row {r}: words' x off by up to {spread:.3g} from one offset")
            if scan:
                late += int(fixes[1][0].sum())
                scanned += int((counts > 0).sum()) - n_listed_off
            else:
                n_listed_off = int((counts > 0).sum())
    assert early[True] < early[False], f"the scan took no row from the fix-up: {early}"
    if cap == 8:
        assert late > 0, "no list overflowed once scanned: the late fix-up went untested"
    else:
        assert scanned > 0, "no row was listed through the scan"


@pytest.mark.parametrize("knob", ["PAIR_MERGE", "PAIR_EXACT"])
@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
def test_pair_merge_is_bitwise_the_one_by_one_insertion(device, monkeypatch, causal, knob):
    """PAIR_MERGE (the dense route's sweep 1 merges its unmasked key tiles two at a time into the
    candidates) and PAIR_EXACT (the same for the exact candidates of the single launch) keep the
    same candidates as inserting them one by one, so the inference forward (with GATHER_SCAN's
    lists) and the training forward and its gradients are bitwise the same. Key tiles of 16 give
    the programs odd and even counts of unmasked tiles; the dense route (PAIR_MERGE) or the single
    launch (PAIR_EXACT) must have run."""
    monkeypatch.setattr(fwd.configs, "fwd_default", lambda dtype, dr: fwd.configs.FwdConfig(32, 16, 4, 2, hist="subset"))
    min_lk = 0 if knob == "PAIR_MERGE" else 1 << 20
    for name, value in (("FIXUP_MIN_LK", min_lk), ("GATHER_MIN_LK", min_lk), ("SUBSET_NEAR_PATIENCE", 2),
                        ("REPLAY", False)):
        monkeypatch.setattr(fwd, name, value)
    routes = _spy_routes(monkeypatch)
    Lq = 64 if causal else 40
    q, k, v = _inputs(device, H=4, Hk=2, Lq=Lq, Lk=150, D=16, dtype=torch.bfloat16)
    got = []
    for pair in (False, True):
        monkeypatch.setattr(fwd, knob, pair)
        routes.clear()
        with torch.no_grad():
            out = adasplash_compile.entmax_attention(q, k, v, is_causal=causal, enable_gqa=True)
        leaves = [t.clone().requires_grad_() for t in (q, k, v)]
        out_t = adasplash_compile.entmax_attention(*leaves, is_causal=causal, enable_gqa=True)
        got.append((out, out_t) + torch.autograd.grad(out_t.float().square().sum(), leaves))
        want = "dense" if knob == "PAIR_MERGE" else ""
        assert want in routes and (knob == "PAIR_MERGE" or set(routes) == {""}), f"routes: {routes}"
    for name, a, b in zip(("inference out", "training out", "dq", "dk", "dv"), *got):
        assert torch.equal(a, b), f"{name}: {knob} differs by {(a.float() - b.float()).abs().max().item():.3g}"


@pytest.mark.parametrize("training", [False, True], ids=["inference", "training"])
def test_dense_route_writes_its_dead_and_nan_rows(device, monkeypatch, training):
    """The dense route stores the outputs of the rows no later launch writes (DENSE_OWN_ROWS): rows
    with nothing to attend (zeros) and rows that saw a NaN (NaN). The outputs are poisoned with 7
    here, not NaN, so a NaN row left unwritten fails too. The other rows (the gather launch's and
    the fix-up's) must match the float64 reference; the dense route must have run."""
    monkeypatch.setattr(fwd.configs, "fwd_default", lambda dtype, dr: fwd.configs.FwdConfig(32, 16, 4, 2, hist="subset"))
    for knob, value in (("FIXUP_MIN_LK", 0), ("GATHER_MIN_LK", 0), ("SUBSET_NEAR_PATIENCE", 2), ("REPLAY", False)):
        monkeypatch.setattr(fwd, knob, value)
    monkeypatch.setattr(fwd, "_new_buffer", lambda shape, dtype, device: torch.full(shape, 7.0, dtype=dtype,
                                                                                     device=device))
    routes = _spy_routes(monkeypatch)
    q, k, v = _inputs(device, H=2, Lq=64, Lk=150, D=16, dtype=torch.bfloat16)
    q[0, 0, 37] = float("nan")
    mask = 0.5 * torch.randn(1, 2, 64, 150, device=device)
    mask[0, 1, 5] = float("-inf")
    mask[0, 0, 50] = float("-inf")
    out, tau, o2 = fwd.forward(q, k, v, mask, False, 0.25, 1.5, None, training)[:3]
    assert "dense" in routes, f"the dense route did not run: {routes}"
    oracle = reference.entmax_attention(q.double(), k.double(), v.double(), attn_mask=mask.double())
    nan_rows = oracle.isnan().any(-1)
    assert int(nan_rows.sum()) == 1 and bool(nan_rows[0, 0, 37])
    assert bool(out[nan_rows].isnan().all()), "the NaN row's output is not NaN"
    for b, h, i in ((0, 1, 5), (0, 0, 50)):
        assert torch.equal(out[b, h, i], torch.zeros_like(out[b, h, i])), f"row {(b, h, i)}: not zeros"
        if training:
            assert torch.equal(o2[b, h, i], torch.zeros_like(o2[b, h, i])), f"O2 row {(b, h, i)}: not zeros"
    baseline = reference.entmax_attention(q, k, v, attn_mask=mask)
    assert_fa_rule(out[~nan_rows], oracle[~nan_rows], baseline[~nan_rows], factor=3.0, floor=1e-3, name="out")


@pytest.mark.parametrize("Lq", [1, 3])
def test_gather_decode_rows(device, monkeypatch, Lq):
    """GATHER's probe counts the share of a program's rows below Lq: a decode step's one row (or
    three) with random keys is dense and gets listed, the padding rows of its tile do not count."""
    monkeypatch.setattr(fwd, "GATHER_MIN_LK", 0)
    monkeypatch.setattr(fwd, "FIXUP_MIN_LK", 0)
    monkeypatch.setattr(fwd, "SUBSET_NEAR_PATIENCE", 2)
    monkeypatch.setattr(fwd.configs, "fwd_default", lambda dtype, dr: fwd.configs.FwdConfig(32, 16, 4, 2, hist="subset"))
    bufs = []
    real_buffers = fwd._gather_buffers

    def buffers(*args):
        bufs.append(real_buffers(*args))
        return bufs[-1]

    monkeypatch.setattr(fwd, "_gather_buffers", buffers)
    q, k, v = _inputs(device, H=2, Lq=Lq, Lk=160, D=16, dtype=torch.bfloat16)
    _run_and_check(q, k, v, causal=False)  # supports of ~5-30 keys, under the cap
    counts = bufs[0][1]
    assert bool((counts > 0).all()), f"decode rows not listed: {counts.tolist()}"


@pytest.mark.parametrize("cap", [4, 8])
def test_gather_cap_overflow(device, monkeypatch, cap):
    """Rows whose support needs more than GATHER_CAP list slots take the dense output sweep in
    their tile (or, from FIXUP_MIN_LK, the fix-up launch), exactly."""
    monkeypatch.setattr(fwd.configs, "fwd_default", lambda dtype, dr: fwd.configs.FwdConfig(32, 16, 4, 2, hist="subset"))
    monkeypatch.setattr(fwd, "GATHER_CAP", cap)
    monkeypatch.setattr(fwd, "GATHER_MIN_LK", 0)
    monkeypatch.setattr(fwd, "SUBSET_NEAR_PATIENCE", 2)
    monkeypatch.setattr(fwd, "FIXUP_MIN_LK", 0 if cap == 8 else 1 << 30)
    q, k, v = _inputs(device, H=2, Lq=40, Lk=100, D=16, dtype=torch.bfloat16)
    _run_and_check(q, k * 0.5, v, causal=True)  # wide supports: most rows overflow
    _run_and_check(q, k * 3.0, v, causal=False)  # narrow ones: most rows fit


@pytest.mark.parametrize("evict2", [True, False], ids=["evict2", "evict1"])
@pytest.mark.parametrize("alpha", [1.5, 2.0])
def test_subset_equal_evicted_keys(device, monkeypatch, evict2, alpha):
    """Equal scores leaving the candidates in one tile: with one candidate per position, keys 0, 1
    and 16, 17 (identical vectors, far above the rest) put two equal x in one tile's evicted row.
    The second-largest evicted x must count both (a multiset), or the certificate passes with one
    support key missing and τ comes out wrong. Also key 32 equal to them, evicted in a third tile."""
    monkeypatch.setattr(fwd.configs, "fwd_default", lambda dtype, dr: fwd.configs.FwdConfig(16, 16, 4, 2, hist="subset"))
    monkeypatch.setattr(fwd, "SUBSET_TOPK", 1)
    monkeypatch.setattr(fwd, "SUBSET_EVICT2", evict2)
    monkeypatch.setattr(fwd, "FIXUP_MIN_LK", 0)
    for dup in ((0, 1, 16, 17), (0, 1, 16, 17, 32), (3, 19)):
        q, k, v = _inputs(device, H=2, Lq=20, Lk=48, D=16)
        k = k * 0.2
        hot = torch.randn(16, device=device) * 2.0
        k[:, :, list(dup)] = hot
        q = q + hot  # every row scores the hot keys far above the rest
        _run_and_check(q, k, v, causal=False, alpha=alpha)


@pytest.mark.parametrize("sweeps", ["default", 5])
@pytest.mark.parametrize("alpha", [1.25, 1.4, 1.7, 2.5, 3.0])
def test_general_alpha_threshold_is_fp32_exact(device, monkeypatch, alpha, sweeps):
    """General-α τ to fp32's limit, also with more refinement sweeps than the default: a sweep
    whose probes all landed a rounding error above τ used to re-apply the previous sweep's Newton
    step from stale sums (τ off by up to 1.7e-5; found by the CI property test at α = 1.4)."""
    if sweeps != "default":
        niter = fwd._niter
        monkeypatch.setattr(fwd, "_niter", lambda kind, *a: sweeps if kind == "general" else niter(kind, *a))
    for seed in (330, 7):
        torch.manual_seed(seed)
        q, k, v = _inputs(device, Lq=22, Lk=15, D=16)
        _check_tau(q, k * (1 + seed % 3), v, alpha, atol=4e-6, name=f"tau (seed {seed})")


def _check_tau(q, k, v, alpha, *, atol, name):
    """The forward's τ (causal, scale 0.25) against float64's on the same (rounded) inputs."""
    alpha_t = alpha if isinstance(alpha, torch.Tensor) else None
    _, tau, _ = fwd.forward(q, k, v, None, True, 0.25, 1.5 if alpha_t is not None else alpha, alpha_t, False)
    tau_ref, _ = reference.entmax_attention_stats(q.double(), k.double(), v.double(), None, True, 0.25,
                                                  alpha=alpha.double() if alpha_t is not None else alpha)
    fin = torch.isfinite(tau_ref)
    assert_close(tau[fin], tau_ref[fin], atol=atol, name=name)


@pytest.mark.parametrize("warm", [0, 4])
@pytest.mark.parametrize("alpha", [1.5, 2.0, 1.25, "per-head"])
def test_subset_warm_start_keeps_tau_exact(device, monkeypatch, alpha, warm):
    """The candidates' solve with and without its warm start (SUBSET_WARM Newton steps on the top
    candidate per position, which must stay below the root): τ to fp32's limit either way, also
    for general α (on the ℓ_γ norm; α > 2 heads skip it). 70 keys in 16-key tiles, so the top
    candidates are a strict subset of each long row's."""
    monkeypatch.setattr(fwd.configs, "fwd_default", lambda dtype, dr: fwd.configs.FwdConfig(32, 16, 4, 2, hist="subset"))
    monkeypatch.setattr(fwd, "SUBSET_WARM", warm)
    a = torch.tensor([1.3, 2.5], device=device) if alpha == "per-head" else alpha
    for seed in (330, 7):
        torch.manual_seed(seed)
        q, k, v = _inputs(device, Lq=70, Lk=70, D=16)
        _check_tau(q, k * (1 + seed % 3), v, a, atol=4e-6, name=f"tau (seed {seed})")


def test_per_head_alpha_threshold_is_fp32_exact(device):
    """A per-head α renders five refinement sweeps, and each program makes the ones its head's α
    needs: two for α ≤ 2, all five above. τ to fp32's limit on heads either side of 2."""
    alpha = torch.tensor([1.25, 1.7, 2.0, 2.5, 3.0], device=device)
    for seed in (330, 7):
        torch.manual_seed(seed)
        q, k, v = _inputs(device, H=5, Lq=22, Lk=15, D=16)
        _check_tau(q, k * (1 + seed % 3), v, alpha, atol=4e-6, name=f"tau (seed {seed})")


@pytest.mark.parametrize("subset", [True, False], ids=["subset", "histogram"])
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_low_precision_general_alpha_threshold(device, monkeypatch, dtype, subset):
    """bf16/fp16 general α, τ within 2e-5 on heads either side of 2. "subset" (the default): Newton
    steps on the candidates (bisection above α = 2), then the same steps over whole rows for the
    rows they miss. The histogram kernel (SUBSET_GENERAL off): the first two sweeps take
    NREF_GENERAL_LOWP probes, which puts τ within ~1e-5 for α ≤ 2 (far under the inputs'
    resolution); the later sweeps, made only for α > 2, keep NREF_GENERAL (with 4 they leave τ off
    by up to ~7e-5 at α = 4)."""
    monkeypatch.setattr(fwd, "SUBSET_GENERAL", subset)
    alpha = torch.tensor([1.25, 1.7, 2.0, 3.0, 4.0], device=device)
    for seed in (330, 7, 11):
        torch.manual_seed(seed)
        q, k, v = _inputs(device, H=5, Lq=40, Lk=40, D=16, dtype=dtype)
        _check_tau(q * (1 + seed % 3), k, v, alpha, atol=2e-5, name=f"tau (seed {seed})")


@pytest.mark.parametrize("flush_every", [1, 2])
@pytest.mark.parametrize("alpha", [1.5, 2.0, 1.25])
def test_histogram_fold_and_growing_max(device, monkeypatch, flush_every, alpha):
    """Sweep 1 folds its element-wise counts into the row counters every FLUSH_EVERY tiles (127
    on the GPU); here every tile or every other one, over 9 key tiles. Keys far from the diagonal
    score higher, so the running max (visited diagonal first) keeps growing and the counts keep
    moving down, by whole windows too."""
    monkeypatch.setattr(fwd, "FLUSH_EVERY", flush_every)
    q, k, v = _inputs(device, Lq=150, Lk=150, D=16)
    k = k * torch.linspace(4.0, 0.5, 150, device=device)[:, None]  # early keys score highest
    _run_and_check(q, k, v, causal=True, alpha=alpha)
    _run_and_check(q, k, v, causal=False, alpha=alpha)


@pytest.mark.parametrize("D", [24, 80])
def test_padded_head_dims(device, D):
    q, k, v = _inputs(device, H=1, Lq=17, Lk=40, D=D)
    _run_and_check(q, k, v, causal=False)


def test_value_head_dim_differs(device):
    q, k, v = _inputs(device, H=1, Lq=9, Lk=33, D=16, Dv=40)
    _run_and_check(q, k, v, causal=True)


@pytest.mark.parametrize("alpha", [2.0, 1.25, 3.0])
def test_alphas(device, alpha):
    q, k, v = _inputs(device, H=1, Lq=17, Lk=50)
    _run_and_check(q, k, v, causal=alpha != 3.0, alpha=alpha)


def test_per_head_alpha(device):
    q, k, v = _inputs(device, H=3, Lq=9, Lk=30)
    alpha = torch.tensor([1.3, 1.5, 2.5], device=device)
    _run_and_check(q, k, v, causal=True, alpha=alpha)


@pytest.mark.parametrize("subset", [True, False], ids=["subset", "histogram"])
def test_general_alpha_takes_its_own_warps(device, monkeypatch, subset):
    """The general-α histogram kernel (histogram and probe sweeps, SUBSET_GENERAL off) runs the
    table's ``general_warps`` where it has them (bf16 / fp16, head dim 128: 8 warps, for its
    registers); α = 1.5, and general α on the candidates ("subset"), keep the table's 4."""
    monkeypatch.setattr(fwd, "SUBSET_GENERAL", subset)
    q = torch.zeros(1, 1, 4096, 128, dtype=torch.bfloat16, device=device)

    def picked(kind):
        args = (kind, 1.7, False, "causal", False, 2, False, False, 128, 128)
        return fwd._pick_config_uncached(q, q, q, None, (0, 0, 0, 0), None, None, None, None, 0.1, args, 4096,
                                         4096, False)

    assert fwd.configs.fwd_default(torch.bfloat16, 128).general_warps == 8
    assert picked("general").num_warps == (4 if subset else 8) and picked("15").num_warps == 4
    assert picked("general").BLOCK_M == picked("15").BLOCK_M == 64


def test_custom_scale(device):
    q, k, v = _inputs(device, H=1, Lq=9, Lk=21)
    _run_and_check(q, k, v, scale=0.9)


# ---- cross attention, decode, GQA --------------------------------------------------------------


@pytest.mark.parametrize("Lq,Lk,causal", [(9, 40, False), (40, 9, True), (1, 70, False)])
def test_cross_attention_and_decode(device, Lq, Lk, causal):
    q, k, v = _inputs(device, H=1, Lq=Lq, Lk=Lk)
    _run_and_check(q, k, v, causal=causal)


@pytest.mark.parametrize("H,Hk", [(4, 2), (3, 1)])
def test_gqa_and_mqa(device, H, Hk):
    q, k, v = _inputs(device, H=H, Hk=Hk, Lq=9, Lk=20)
    _run_and_check(q, k, v, causal=True)


# ---- masks -----------------------------------------------------------------------------------


def test_bool_mask_full(device):
    q, k, v = _inputs(device, B=2, H=1, Lq=9, Lk=30)
    mask = torch.rand(2, 1, 9, 30, device=device) > 0.4
    _run_and_check(q, k, v, mask=mask)


def test_float_mask_broadcast_over_heads(device):
    q, k, v = _inputs(device, H=2, Lq=9, Lk=30)
    mask = torch.randn(9, 30, device=device)
    _run_and_check(q, k, v, mask=mask, alpha=2.0)


def test_key_padding_mask_is_a_row_vector(device):
    q, k, v = _inputs(device, B=2, H=2, Lq=9, Lk=40)
    mask = torch.ones(2, 1, 1, 40, dtype=torch.bool, device=device)
    mask[0, ..., 25:] = False
    mask[1, ..., :3] = False
    mode, _, _, strides = fwd._mask_layout(mask, False, 2, 2, 9, 40)
    assert mode == "key_padding" and strides[2] == 0
    _run_and_check(q, k, v, mask=mask)


def test_fully_masked_rows_return_zeros(device):
    q, k, v = _inputs(device, H=2, Lq=9, Lk=30)
    mask = torch.rand(1, 2, 9, 30, device=device) > 0.5
    mask[0, 0, 3] = False
    mask[0, 1, :] = False  # a whole head with nothing to attend
    out, tau, o2 = _run_and_check(q, k, v, mask=mask)
    assert torch.equal(out[0, 0, 3], torch.zeros_like(out[0, 0, 3]))
    assert torch.equal(out[0, 1], torch.zeros_like(out[0, 1]))
    assert torch.equal(o2[0, 1], torch.zeros_like(o2[0, 1]))
    assert bool(torch.isinf(tau[0, 1]).all()) and bool(torch.isinf(tau[0, 0, 3]))


_NAN_CONFIGS = _VARIANTS + [fwd.configs.FwdConfig(32, 16, 4, 2, hist="subset")]


@pytest.mark.parametrize("alpha", [1.5, 2.0, 1.3])
@pytest.mark.parametrize("i_cfg", range(len(_NAN_CONFIGS)),
                         ids=lambda i: ("gather-lean-" if i == len(_VARIANTS) else "")
                         + f"{_NAN_CONFIGS[i].hist}{'-split' if _NAN_CONFIGS[i].split else ''}")
def test_nan_scores_give_nan_rows(device, monkeypatch, i_cfg, alpha):
    """A NaN in a query row, in a key, or in a float mask entry: exactly the rows that may attend
    to it come out NaN (O₂ too; τ is NaN there), as the float64 reference (and softmax) give; the
    other rows match the reference. Every sweep-1 mode, the split launch, and GATHER's packed
    lean sweep (whose row max comes from the candidates)."""
    cfg = _NAN_CONFIGS[i_cfg]
    monkeypatch.setattr(fwd.configs, "fwd_default", lambda dtype, dr: cfg)
    monkeypatch.setattr(fwd, "FLUSH_EVERY", 2)
    if i_cfg == len(_VARIANTS):  # GATHER from the first key tile on: the lean, packed sweep 1
        for name, val in (("SUBSET_NEAR_PATIENCE", 1), ("GATHER_MIN_LK", 0), ("FIXUP_MIN_LK", 0),
                          ("GATHER_DENSE_FRAC", 0.0)):
            monkeypatch.setattr(fwd, name, val)
    q, k, v = _inputs(device, H=2, Lq=70, Lk=70, D=16)
    q[0, 0, 5] = float("nan")
    k[0, 1, 30, 3] = float("nan")
    mask = torch.zeros(70, 70, device=device)
    mask[10, 3] = float("nan")
    for kw in (dict(is_causal=True), dict(attn_mask=mask)):
        out, tau, o2 = fwd.forward(q, k, v, kw.get("attn_mask"), kw.get("is_causal", False), 0.25, alpha, None, True)
        oracle = reference.entmax_attention(q.double(), k.double(), v.double(), scale=0.25, alpha=alpha, **kw)
        want = oracle.isnan().any(-1)
        assert 1 <= int(want.sum()) < want.numel(), "the reference has no NaN row: nothing tested"
        assert torch.equal(out.isnan().any(-1), want), f"{kw}: NaN rows differ from the reference's"
        assert bool(out[want].isnan().all()) and bool(o2[want].isnan().all())
        assert bool(tau[want].isnan().all()) and not bool(tau[~want].isnan().any())
        assert_close(out[~want], oracle[~want].to(out.dtype), atol=FP32_ATOL, rtol=1e-4, name=f"out {kw}")


def test_float_mask_with_minus_inf_rows(device):
    q, k, v = _inputs(device, H=1, Lq=9, Lk=30)
    mask = torch.randn(1, 1, 9, 30, device=device)
    mask[..., 4, :] = float("-inf")
    out, _, _ = _run_and_check(q, k, v, mask=mask)
    assert torch.equal(out[0, 0, 4], torch.zeros_like(out[0, 0, 4]))


# ---- low precision ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype,alpha", [(torch.bfloat16, 1.5), (torch.float16, 2.0), (torch.bfloat16, 1.3)])
def test_low_precision_fa_rule(device, dtype, alpha):
    q, k, v = _inputs(device, H=1, Lq=33, Lk=70, D=32, dtype=dtype)
    _run_and_check(q, k, v, causal=True, alpha=alpha)


# ---- public API, torch.compile, no recompile per length --------------------------------------


def test_public_api_goes_through_kernel(device, monkeypatch):
    calls = []
    real = fwd.forward

    def spy(*args, **kwargs):
        calls.append(args[0].shape)
        return real(*args, **kwargs)

    monkeypatch.setattr(fwd, "forward", spy)
    q, k, v = _inputs(device, H=2, Lq=9, Lk=9)
    out = adasplash_compile.entmax_attention(q, k, v, is_causal=True)
    assert calls, "entmax_attention did not reach the fused kernel"
    oracle = reference.entmax_attention(q.double(), k.double(), v.double(), is_causal=True)
    assert_close(out, oracle, atol=FP32_ATOL)


def test_torch_compile_fullgraph_dynamic(device):
    torch._dynamo.reset()
    fn = torch.compile(adasplash_compile.entmax_attention, fullgraph=True, dynamic=True)
    for L in (9, 20):
        q, k, v = _inputs(device, H=2, Lq=L, Lk=L)
        out = fn(q, k, v, is_causal=True)
        oracle = reference.entmax_attention(q.double(), k.double(), v.double(), is_causal=True)
        assert_close(out, oracle, atol=FP32_ATOL, name=f"compiled L={L}")


def test_new_length_reuses_the_generated_kernel(device):
    q, k, v = _inputs(device, H=1, Lq=9, Lk=20)
    fwd.forward(q, k, v, None, True, 0.25, 1.5, None, False)
    n_modules = len(render._modules)
    q, k, v = _inputs(device, H=1, Lq=11, Lk=23)
    fwd.forward(q, k, v, None, True, 0.25, 1.5, None, False)
    assert len(render._modules) == n_modules, "a new sequence length rendered a new kernel"


# (case, dtype, B, H, Hk, Lq, Lk, causal, mask kind, α, training: O₂, the tile map and the lists)
_REPLAY_CASES = [
    ("causal-a1.5", torch.float32, 1, 2, 2, 40, 40, True, None, 1.5, False),
    ("general-alpha-scratch", torch.float32, 1, 2, 2, 33, 50, False, None, 1.7, False),  # histogram: bmax
    ("gqa-bool-keypad-a2", torch.bfloat16, 2, 4, 2, 17, 70, False, "keypad", 2.0, False),
    ("training-causal", torch.bfloat16, 1, 2, 2, 70, 70, True, None, 1.5, True),
    ("training-float-mask", torch.float32, 1, 2, 1, 33, 40, False, "float", 1.5, True),
    ("training-per-head-alpha", torch.bfloat16, 1, 4, 2, 33, 40, True, None, (1.3, 1.5, 2.0, 2.5), True),
]


@pytest.mark.parametrize("case,dtype,B,H,Hk,Lq,Lk,causal,mask_kind,alpha,training", _REPLAY_CASES,
                         ids=[c[0] for c in _REPLAY_CASES])
def test_replayed_forward_is_the_full_path(device, monkeypatch, case, dtype, B, H, Hk, Lq, Lk, causal, mask_kind,
                                           alpha, training):
    """A call with the shapes, strides and settings of an earlier one replays that call's launch
    (REPLAY: no config pick, kernel lookup or argument list built) with its own tensors. On fresh
    inputs, with poisoned outputs, every result (out, τ, O₂, the tile map, the lists) is bitwise
    what the full host path gives, and the output matches float64."""
    monkeypatch.setattr(fwd, "_plans", {})
    full_runs = []
    real_run = fwd._run
    monkeypatch.setattr(fwd, "_run", lambda *a, **kw: full_runs.append(fwd.REPLAY) or real_run(*a, **kw))
    scale = 0.3
    alpha_t = torch.tensor(alpha, device=device) if isinstance(alpha, tuple) else None
    alpha_f = 1.5 if alpha_t is not None else alpha
    for trial in range(2):  # the first call records, the second replays (fresh tensors)
        q, k, v = _inputs(device, B=B, H=H, Hk=Hk, Lq=Lq, Lk=Lk, D=24, dtype=dtype)
        mask = None
        if mask_kind == "keypad":
            mask = torch.rand(B, 1, 1, Lk, device=device) > 0.3
        elif mask_kind == "float":
            mask = torch.randn(B, H, Lq, Lk, device=device, dtype=dtype)
        extra = dict(return_tiles=True, return_lists=True) if training else {}
        got = fwd.forward(q, k, v, mask, causal, scale, alpha_f, alpha_t, training, **extra)
        monkeypatch.setattr(fwd, "REPLAY", False)
        want = fwd.forward(q, k, v, mask, causal, scale, alpha_f, alpha_t, training, **extra)
        monkeypatch.setattr(fwd, "REPLAY", True)
        assert len(got) == len(want) and (got[2] is None) == (not training)
        for name, g, w in zip(("out", "tau", "o2", "tiles", "lists", "counts"), got, want):
            if w is not None:
                assert g.shape == w.shape and g.dtype == w.dtype, name
                assert torch.equal(g[..., :0] if w.numel() == 0 else g.nan_to_num(7.0), w.nan_to_num(7.0)), \
                    f"{case} trial {trial}: {name} differs between the replay and the full path"
        oracle = reference.entmax_attention(q.double(), k.double(), v.double(), mask if mask is None or
                                            mask.dtype == torch.bool else mask.double(), is_causal=causal,
                                            scale=scale, enable_gqa=Hk != H,
                                            alpha=alpha_f if alpha_t is None else alpha_t.double())
        base = reference.entmax_attention(q, k, v, mask, is_causal=causal, scale=scale, enable_gqa=Hk != H,
                                          alpha=alpha_f if alpha_t is None else alpha_t)
        assert_fa_rule(got[0], oracle, base, factor=3.0, floor=FP32_ATOL if dtype == torch.float32 else 1e-3,
                       name="out")
    assert full_runs.count(True) == 1, f"{case}: the later calls took the full host path ({full_runs})"
    assert len(fwd._plans) == 1


@pytest.mark.parametrize("dtype,training,mask_kind", [
    pytest.param(torch.bfloat16, False, None, id="bf16-packed-x"),
    pytest.param(torch.float32, False, "keypad", id="fp32-keypad", marks=pytest.mark.slow),  # (CI time)
    pytest.param(torch.bfloat16, True, None, id="bf16-training-lists"),
])
def test_replayed_multi_launch_forward(device, monkeypatch, dtype, training, mask_kind):
    """From FIXUP_MIN_LK / GATHER_MIN_LK keys the forward is four launches (the main launch's two
    routes, the fix-up beside the gather launch) and their buffers, five with GATHER_SCAN's late
    fix-up (bf16 inference); a later call of the same key replays them (``_MultiPlan``) with fresh
    buffers. On fresh inputs, with poisoned outputs and scratch, every result (out, τ, O₂, tile
    map, lists, counts) is bitwise the full path's, rows were listed and rows went to the fix-up
    (two candidates per position: some rows miss), and with the scan (lists of 8) rows whose lists
    overflowed went to the late one."""
    monkeypatch.setattr(fwd.configs, "fwd_default", lambda dtype, dr: fwd.configs.FwdConfig(32, 16, 4, 2, hist="subset"))
    monkeypatch.setattr(fwd, "SUBSET_TOPK", 2)
    monkeypatch.setattr(fwd, "FIXUP_MIN_LK", 0)
    monkeypatch.setattr(fwd, "GATHER_MIN_LK", 0)
    scan = fwd.GATHER_SCAN and not training and dtype != torch.float32 and mask_kind is None
    if scan:
        monkeypatch.setattr(fwd, "GATHER_SCAN_CAP", 8)
    monkeypatch.setattr(fwd, "_plans", {})
    monkeypatch.setattr(fwd, "_new_scratch", lambda n, dt, dev: torch.full(
        (n,), float("nan") if dt.is_floating_point else -1, dtype=dt, device=dev))
    fixup_rows = []
    real_fix = fwd._fix_buffers

    def fix_buffers(n_heads, Lq, dev):  # the fix-up's row counters, read back after the call
        fixup_rows.append(real_fix(n_heads, Lq, dev)[0])
        return fixup_rows[-1], torch.full((n_heads * Lq,), -1, dtype=torch.int32, device=dev)

    monkeypatch.setattr(fwd, "_fix_buffers", fix_buffers)
    full_runs = []
    real_run = fwd._run
    monkeypatch.setattr(fwd, "_run", lambda *a, **kw: full_runs.append(fwd.REPLAY) or real_run(*a, **kw))
    B, H, Hk, Lq, Lk, D = 1, 4, 2, 40, 160, 16
    extra = dict(return_tiles=True, return_lists=True) if training else {}
    for trial in range(2):  # the first call records, the second replays (fresh tensors)
        q, k, v = _inputs(device, B=B, H=H, Hk=Hk, Lq=Lq, Lk=Lk, D=D, dtype=dtype)
        mask = None
        if mask_kind == "keypad":
            mask = torch.ones(B, 1, 1, Lk, dtype=torch.bool, device=device)
            mask[..., 130:] = False
        fixup_rows.clear()
        got = fwd.forward(q, k, v, mask, False, D ** -0.5, 1.5, None, training, **extra)
        assert len(fixup_rows) == 1 + scan, f"{len(fixup_rows)} fix-up launches"
        assert int(fixup_rows[0].sum()) > 0, "the fix-up launch got no rows"
        assert not scan or int(fixup_rows[1].sum()) > 0, "the late fix-up launch got no rows"
        monkeypatch.setattr(fwd, "REPLAY", False)
        want = fwd.forward(q, k, v, mask, False, D ** -0.5, 1.5, None, training, **extra)
        monkeypatch.setattr(fwd, "REPLAY", True)
        assert len(got) == len(want) == (6 if training else 3)
        for name, g, w in zip(("out", "tau", "o2", "tiles", "lists", "counts"), got, want):
            if w is not None:
                assert g.shape == w.shape and g.dtype == w.dtype, name
                if name == "lists":  # (slots past a row's count are never written)
                    live = torch.arange(w.shape[-1], device=device) < want[5][..., None]
                    g, w = g[live], w[live]
                assert torch.equal(g.nan_to_num(7.0), w.nan_to_num(7.0)), \
                    f"trial {trial}: {name} differs between the replay and the full path"
        if training:
            assert int((got[5] > 0).sum()) > 0, "no row was listed"
        oracle = reference.entmax_attention(q.double(), k.double(), v.double(), mask, scale=D ** -0.5,
                                            enable_gqa=True, alpha=1.5)
        base = reference.entmax_attention(q, k, v, mask, scale=D ** -0.5, enable_gqa=True, alpha=1.5)
        assert_fa_rule(got[0], oracle, base, factor=3.0, floor=FP32_ATOL if dtype == torch.float32 else 1e-3,
                       name="out")
    assert full_runs.count(True) == 1, f"the later call took the full host path ({full_runs})"
    assert [type(p).__name__ for p in fwd._plans.values()] == ["_MultiPlan"]


def test_replay_needs_the_same_key(device, monkeypatch):
    """Another length, layout, scale or α (a float, or per head), or a knob changed since, takes the
    full path (and makes its own plan)."""
    monkeypatch.setattr(fwd, "_plans", {})
    q, k, v = _inputs(device, H=2, Lq=20, Lk=20)
    fwd.forward(q, k, v, None, True, 0.25, 1.5, None, False)
    assert len(fwd._plans) == 1
    fwd.forward(q, k, v, None, True, 0.25, 1.5, None, False)
    assert len(fwd._plans) == 1
    q2, k2, v2 = _inputs(device, H=2, Lq=21, Lk=21)
    fwd.forward(q2, k2, v2, None, True, 0.25, 1.5, None, False)
    fwd.forward(q.transpose(1, 2).contiguous().transpose(1, 2), k, v, None, True, 0.25, 1.5, None, False)
    fwd.forward(q, k, v, None, True, 0.5, 1.5, None, False)
    fwd.forward(q, k, v, None, True, 0.25, 2.0, None, False)
    assert len(fwd._plans) == 5
    monkeypatch.setattr(fwd, "SUBSET_TOPK", 3)
    fwd.forward(q, k, v, None, True, 0.25, 1.5, None, False)
    assert len(fwd._plans) == 6
    fwd.forward(q, k, v, None, True, 0.25, 1.5, torch.tensor([1.5, 2.0], device=device), False)
    fwd.forward(q, k, v, None, True, 0.25, 1.5, torch.tensor([1.5, 2.0], device=device, dtype=torch.float64), False)
    assert len(fwd._plans) == 8
    fwd.forward(q, k, v, None, True, 0.25, 1.5, torch.tensor([1.7, 1.2], device=device), False)
    assert len(fwd._plans) == 8


def test_supports_everything_in_scope(device):
    for dtype in (torch.float16, torch.bfloat16, torch.float32):
        for D in (16, 80, 96, 256):
            q, k, v = _inputs(device, H=1, Lq=2, Lk=2, D=D, dtype=dtype)
            assert fwd.supports(q, k, v)


def test_tuned_config_cache_round_trip(tmp_path, monkeypatch):
    monkeypatch.setenv("ADASPLASH_COMPILE_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(fwd, "_tuned", None)
    cfg = fwd.configs.FwdConfig(64, 32, 4, 2)
    fwd._save_tuned("some|key", cfg)
    monkeypatch.setattr(fwd, "_tuned", None)  # a new process reads the file
    assert fwd._load_tuned()["some|key"] == cfg.as_dict()
    assert (tmp_path / "tuned" / "attention_fwd.json").exists()
    monkeypatch.setenv("ADASPLASH_COMPILE_AUTOTUNE", "0")
    assert not fwd.autotune_enabled()


# ---- property test -----------------------------------------------------------------------------


# shards of the property test: each is a test of its own with 1/PROPERTY_SHARDS of the profile's
# examples (tests.helpers.run_property_shard), so pytest-xdist spreads them over its workers
PROPERTY_SHARDS = 16

_PROPERTY_STRATEGIES = dict(
    Lq=st.integers(1, 40),
    Lk=st.integers(1, 40),
    D=st.sampled_from([16, 24, 32]),
    alpha=st.sampled_from([1.5, 2.0, 1.4, 2.5]),
    mask_kind=st.sampled_from(["none", "causal", "keypad", "bool", "float"]),
    dtype=st.sampled_from([torch.float32, torch.bfloat16]),
    gqa=st.booleans(),
    seed=st.integers(0, 2**16),
)


@pytest.mark.parametrize("shard", range(PROPERTY_SHARDS))
def test_property_matches_reference(device, shard):
    def case(Lq, Lk, D, alpha, mask_kind, dtype, gqa, seed):
        torch.manual_seed(seed)
        q, k, v = _inputs(device, H=2, Hk=1 if gqa else 2, Lq=Lq, Lk=Lk, D=D, dtype=dtype)
        mask = None
        if mask_kind == "keypad":
            mask = torch.rand(1, 1, 1, Lk, device=device) > 0.3
        elif mask_kind == "bool":
            mask = torch.rand(1, 2, Lq, Lk, device=device) > 0.4
        elif mask_kind == "float":
            mask = torch.randn(Lq, Lk, device=device)
        _run_and_check(q, k, v, mask=mask, causal=mask_kind == "causal", alpha=alpha)

    run_property_shard(case, _PROPERTY_STRATEGIES, shard=shard, shards=PROPERTY_SHARDS,
                       profile=settings.get_profile(_PROFILE))


# ---- bad input through the public API --------------------------------------------------------

_q = lambda *s, dtype=torch.float32: torch.randn(*s, dtype=dtype)  # noqa: E731


def _bad_cases():
    q, k, v = _q(1, 2, 4, 8), _q(1, 2, 4, 8), _q(1, 2, 4, 8)
    return [
        ("query", (_q(2, 4, 8), k, v), {}, ValueError),
        ("key", (q, _q(1, 2, 4), v), {}, ValueError),
        ("head dim", (q, _q(1, 2, 4, 6), _q(1, 2, 4, 6)), {}, ValueError),
        ("divisible", (_q(1, 3, 4, 8), _q(1, 2, 4, 8), _q(1, 2, 4, 8)), dict(enable_gqa=True), ValueError),
        ("enable_gqa", (_q(1, 4, 4, 8), _q(1, 2, 4, 8), _q(1, 2, 4, 8)), {}, ValueError),
        ("alpha", (q, k, v), dict(alpha=1.0), ValueError),
        ("alpha", (q, k, v), dict(alpha=0.5), ValueError),
        ("alpha", (q, k, v), dict(alpha=float("nan")), ValueError),
        ("alpha", (q, k, v), dict(alpha=torch.tensor([1.5, 1.5, 1.5])), ValueError),
        ("alpha", (q, k, v), dict(alpha=torch.tensor([1.5, 0.9])), ValueError),
        ("alpha", (q, k, v), dict(alpha="1.5"), TypeError),
        ("dtype", (q, k.double(), v), {}, TypeError),
        ("attn_mask", (q, k, v), dict(attn_mask=torch.ones(3, 4, dtype=torch.bool)), ValueError),
        ("attn_mask", (q, k, v), dict(attn_mask=torch.ones(4, 4, dtype=torch.int32)), TypeError),
        ("is_causal", (q, k, v), dict(attn_mask=torch.ones(4, 4, dtype=torch.bool), is_causal=True), ValueError),
        ("dropout_p", (q, k, v), dict(dropout_p=1.0), ValueError),
        ("dropout_p", (q, k, v), dict(dropout_p=-0.1), ValueError),
        ("sequence length", (q, _q(1, 2, 5, 8), v), {}, ValueError),
        ("floating-point", (q.to(torch.int32), k, v), {}, TypeError),
        ("scale", (q, k, v), dict(scale=float("inf")), ValueError),
        ("is_causal", (q, k, v), dict(is_causal=1), TypeError),
        ("batch", (q, _q(2, 2, 4, 8), _q(2, 2, 4, 8)), {}, ValueError),
        ("query", ("q", k, v), {}, TypeError),
    ]


@pytest.mark.parametrize("needle,args,kwargs,exc", _bad_cases(), ids=lambda c: c if isinstance(c, str) else "")
def test_bad_input_raises_naming_the_argument(needle, args, kwargs, exc):
    with pytest.raises(exc) as info:
        adasplash_compile.entmax_attention(*args, **kwargs)
    msg = str(info.value)
    assert needle in msg or needle.split()[0] in msg, f"error does not name {needle!r}: {msg}"


def test_tensor_alpha_values_say_what_is_wrong():
    """A per-head α tensor is checked in one host sync when valid; when not, the error says which
    rule it breaks."""
    q = _q(1, 2, 4, 8)
    for alpha, text in ((torch.tensor([1.5, float("nan")]), "alpha must not contain NaN"),
                        (torch.tensor([float("inf"), 1.5]), "alpha must be finite"),
                        (torch.tensor([1.5, 0.9]), "alpha must be > 1 everywhere, got min 0.9")):
        with pytest.raises(ValueError, match=re.escape(text)):
            adasplash_compile.entmax_attention(q, q, q, alpha=alpha)
    adasplash_compile.entmax_attention(q, q, q, alpha=torch.tensor([1.5, 2.0]))
