"""The fused attention backward kernel (kernels/attention_bwd.py) against the float64 oracle.

Inputs for the kernel (τ and O₂) come from ``reference.entmax_attention_stats`` computed in float64 on
the same (rounded) inputs, i.e. what an exact forward would hand over. Runs on the GPU, or on the CPU
through Triton's interpreter (TRITON_INTERPRET=1); skipped when neither is active.
"""

from __future__ import annotations

import contextlib
import math
import types

import pytest
import torch

from adasplash_compile import ops, reference
from tests.helpers import assert_close, assert_fa_rule

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture
def bwd(kernels_active):
    if not kernels_active:
        pytest.skip("Triton kernels are not active (no GPU and TRITON_INTERPRET unset)")
    from adasplash_compile.kernels import attention_bwd

    return attention_bwd


@pytest.fixture
def poisoned_buffers(monkeypatch):
    """Every buffer the kernel module allocates with torch.empty/empty_like starts as NaN (floats)
    or 0 (integers: the tile map then says "empty", so a missed write loses gradient), so an
    element a kernel forgets to write cannot pass a comparison."""
    real_empty, real_empty_like = torch.empty, torch.empty_like

    def fill(t):
        return t.fill_(float("nan")) if t.is_floating_point() else t.fill_(0)

    monkeypatch.setattr(torch, "empty", lambda *a, **kw: fill(real_empty(*a, **kw)))
    monkeypatch.setattr(torch, "empty_like", lambda *a, **kw: fill(real_empty_like(*a, **kw)))


def _spy_fused_dq(bwd, monkeypatch) -> list:
    """A list that gets each later backward's choice of the fused dQ (``attention_bwd.fused_dq``)."""
    taken = []
    real = bwd.fused_dq
    monkeypatch.setattr(bwd, "fused_dq", lambda *a: taken.append(real(*a)) or taken[-1])
    return taken


@pytest.fixture(params=["passes", "fused"])
def dq_mode(request, bwd, monkeypatch):
    """The three-kernel backward, and the fused dQ (FUSED_DQ: the dK/dV pass adds dZ·K with atomics,
    no dQ pass); fails when a backward of the test did not take the mode asked for."""
    mode = types.SimpleNamespace(fused=request.param == "fused")
    mode.expect = mode.fused  # what the test's backwards should take (a test may lower it)
    monkeypatch.setattr(bwd, "FUSED_DQ", mode.fused)
    taken = _spy_fused_dq(bwd, monkeypatch)
    yield mode
    assert taken and all(t == mode.expect for t in taken), f"backwards took fused={taken}, expected {mode.expect}"


def _assert_repeats(name, a, b, mode, what):
    """Two backward passes of the same inputs: bitwise equal, except the fused dQ's dq on the GPU,
    whose atomics add in a different order each run (the sum's last bits)."""
    if mode is not None and mode.expect and name == "dq" and a.is_cuda:
        assert_close(a.float(), b.float(), atol=1e-5 * max(b.float().abs().max().item(), 1.0), rtol=1e-3,
                     name=f"{name} ({what})")
    else:
        assert torch.equal(a, b), f"{name} differs: {what}"


def _make_mask(kind, B, H, Lq, Lk, device):
    if kind is None:
        return None
    if kind == "bool":
        m = torch.rand(B, H, Lq, Lk, device=device) > 0.4
        m[:, :, Lq // 2] = False  # a fully masked row
        return m
    if kind == "keypad_bool":
        m = torch.ones(B, 1, 1, Lk, dtype=torch.bool, device=device)
        m[..., Lk - Lk // 3:] = False
        return m
    if kind == "float":
        return torch.randn(B, H, Lq, Lk, device=device, dtype=torch.float64)
    if kind == "float_2d":
        return torch.randn(Lq, Lk, device=device, dtype=torch.float64)
    if kind == "keypad_float":
        m = torch.randn(B, 1, 1, Lk, device=device, dtype=torch.float64)
        m[..., : Lk // 4] = float("-inf")
        return m
    raise AssertionError(kind)


def _problem(device, B, H, Hk, Lq, Lk, D, Dv, mask_kind=None):
    f64 = dict(device=device, dtype=torch.float64)
    q = torch.randn(B, H, Lq, D, **f64)
    k = torch.randn(B, Hk, Lk, D, **f64)
    v = torch.randn(B, Hk, Lk, Dv, **f64)
    do = torch.randn(B, H, Lq, Dv, **f64)
    mask = _make_mask(mask_kind, B, H, Lq, Lk, device)
    return q, k, v, do, mask


def _run_kernel(bwd, dtype, q, k, v, do, mask, causal, alpha, alpha_t, mask_grad):
    """Round inputs to ``dtype``, get exact τ/O₂ for the rounded inputs, run the kernel."""
    return bwd.backward(*_kernel_args(dtype, q, k, v, do, mask, causal, alpha, alpha_t, mask_grad))


def _kernel_args(dtype, q, k, v, do, mask, causal, alpha, alpha_t, mask_grad):
    """``attention_bwd.backward``'s arguments for the inputs rounded to ``dtype``, with exact τ/O₂."""
    qd, kd, vd, dod = (t.to(dtype) for t in (q, k, v, do))
    md = mask if mask is None or mask.dtype == torch.bool else mask.to(dtype)
    scale = 1.0 / math.sqrt(q.shape[-1])
    a64 = alpha if alpha_t is None else alpha_t.double()
    md64 = md if md is None or md.dtype == torch.bool else md.double()
    tau, o2 = reference.entmax_attention_stats(
        qd.double(), kd.double(), vd.double(), md64, causal, scale, alpha=a64
    )
    out = reference.entmax_attention(
        qd.double(), kd.double(), vd.double(), md64, is_causal=causal, scale=scale,
        enable_gqa=k.shape[1] != q.shape[1], alpha=a64,
    ).to(dtype)
    return (dod, qd, kd, vd, md, out, tau.float(), o2.to(dtype), causal, scale, alpha, alpha_t, mask_grad)


def _oracle(q, k, v, do, mask, causal, alpha, alpha_t, mask_grad, dtype=torch.float64):
    """Reference gradients with the inputs rounded to ``dtype`` and computed in ``dtype``."""
    cast = [t.to(dtype) for t in (do, q, k, v)]
    m = mask if mask is None or mask.dtype == torch.bool else mask.to(dtype)
    a = alpha if alpha_t is None else alpha_t.to(torch.float64 if dtype == torch.float64 else torch.float32)
    return reference.entmax_attention_backward(
        *cast, m, causal, 1.0 / math.sqrt(q.shape[-1]), alpha=a, mask_needs_grad=mask_grad
    )


def _rounded(dtype, *ts):
    return [t if t is None or t.dtype == torch.bool else t.to(dtype).double() for t in ts]


NAMES = ("dq", "dk", "dv", "dalpha", "dmask")

# (B, H, Hk, Lq, Lk, D, Dv, causal, mask kind, alpha)
GRID = [
    pytest.param(1, 2, 2, 1, 1, 24, 24, False, None, 1.5, id="len1"),
    pytest.param(1, 2, 2, 17, 17, 80, 80, True, None, 1.5, id="d80-causal"),
    pytest.param(2, 2, 2, 33, 33, 24, 40, False, None, 2.0, id="dv-differs-sparsemax"),
    pytest.param(1, 2, 2, 17, 33, 24, 24, True, None, 1.3, id="lq<lk-causal-a1.3"),
    pytest.param(1, 2, 2, 33, 17, 24, 24, True, None, 1.5, id="lq>lk-causal"),
    pytest.param(1, 2, 2, 33, 17, 24, 24, False, "bool", 1.5, id="bool-mask-dead-row"),
    pytest.param(2, 4, 2, 33, 33, 24, 24, False, "keypad_bool", 1.5, id="gqa-keypad"),
    pytest.param(1, 2, 2, 33, 33, 24, 16, False, "float", 1.3, id="float-mask-a1.3"),
    pytest.param(1, 4, 1, 33, 17, 80, 24, True, None, 2.0, id="gqa4-causal-sparsemax"),
]


@pytest.mark.parametrize("B,H,Hk,Lq,Lk,D,Dv,causal,mask_kind,alpha", GRID)
def test_fp32_grads_match_float64_oracle(bwd, device, poisoned_buffers, dq_mode, B, H, Hk, Lq, Lk, D, Dv, causal,
                                         mask_kind, alpha):
    q, k, v, do, mask = _problem(device, B, H, Hk, Lq, Lk, D, Dv, mask_kind)
    got = _run_kernel(bwd, torch.float32, q, k, v, do, mask, causal, alpha, None, False)
    q, k, v, do, mask = _rounded(torch.float32, q, k, v, do, mask)
    want = _oracle(q, k, v, do, mask, causal, alpha, None, False)
    for name, g, w in zip(NAMES[:3], got, want):
        assert g.dtype == torch.float32
        assert_close(g, w, atol=2e-5 * max(w.abs().max().item(), 1.0), rtol=1e-4, name=name)
    assert got[3].numel() == 0 and got[4].numel() == 0


@pytest.mark.parametrize("mask_kind", ["float", "float_2d", "keypad_float"])
def test_per_head_alpha_and_float_mask_gradients(bwd, device, poisoned_buffers, mask_kind):
    B, H, Hk, Lq, Lk, D, Dv = 2, 4, 2, 17, 33, 24, 24
    q, k, v, do, mask = _problem(device, B, H, Hk, Lq, Lk, D, Dv, mask_kind)
    alpha_t = torch.tensor([1.3, 1.5, 2.0, 1.75], device=device)
    got = _run_kernel(bwd, torch.float32, q, k, v, do, mask, False, 1.5, alpha_t, True)
    q, k, v, do, mask = _rounded(torch.float32, q, k, v, do, mask)
    want = _oracle(q, k, v, do, mask, False, 1.5, alpha_t, True)
    assert got[3].shape == (H,) and got[4].shape == mask.shape
    for name, g, w in zip(NAMES, got, want):
        assert_close(g, w, atol=2e-5 * max(w.abs().max().item(), 1.0), rtol=1e-4, name=name)


@pytest.mark.parametrize(
    "H,Hk,Lq,Lk,causal,mask_kind,alpha",
    [
        pytest.param(2, 2, 33, 33, True, None, 1.5, id="causal-a1.5"),
        pytest.param(4, 2, 33, 17, False, "bool", 2.0, id="gqa-bool-sparsemax"),
        pytest.param(2, 2, 17, 33, False, "float", 1.3, id="float-mask-a1.3"),
    ],
)
def test_bf16_grads_follow_fa_rule(bwd, device, poisoned_buffers, dq_mode, H, Hk, Lq, Lk, causal, mask_kind, alpha):
    """bf16: error vs the float64 oracle ≤ 3x the error of the plain PyTorch reference run in bf16."""
    B, D, Dv = 2, 80, 80
    q, k, v, do, mask = _problem(device, B, H, Hk, Lq, Lk, D, Dv, mask_kind)
    got = _run_kernel(bwd, torch.bfloat16, q, k, v, do, mask, causal, alpha, None, False)
    base = _oracle(q, k, v, do, mask, causal, alpha, None, False, dtype=torch.bfloat16)
    q, k, v, do, mask = _rounded(torch.bfloat16, q, k, v, do, mask)
    want = _oracle(q, k, v, do, mask, causal, alpha, None, False)
    for name, g, w, b in zip(NAMES[:3], got, want, base):
        assert g.dtype == torch.bfloat16
        assert_fa_rule(g, w, b, factor=3.0, floor=1e-3, name=name)


@pytest.mark.parametrize("causal", [True, False])
def test_fp32_per_head_alpha_gradients(bwd, device, poisoned_buffers, causal):
    """A per-head α (GQA, lengths off the tiles, no mask): dq, dk, dv and dα against float64."""
    B, H, Hk, Lq, Lk, D, Dv = 2, 4, 2, 33, 40, 24, 16
    q, k, v, do, _ = _problem(device, B, H, Hk, Lq, Lk, D, Dv)
    alpha_t = torch.tensor([1.3, 1.5, 2.0, 1.75], device=device)  # (α > 2: s = p^(2−α) is ill-conditioned)
    got = _run_kernel(bwd, torch.float32, q, k, v, do, None, causal, 1.5, alpha_t, False)
    q, k, v, do = _rounded(torch.float32, q, k, v, do)
    want = _oracle(q, k, v, do, None, causal, 1.5, alpha_t, False)
    assert got[3].shape == (H,)
    for name, g, w in list(zip(NAMES, got, want))[:4]:
        assert_close(g, w, atol=2e-5 * max(w.abs().max().item(), 1.0), rtol=1e-4, name=name)


def test_bf16_per_head_alpha_gradient_follows_fa_rule(bwd, device, poisoned_buffers):
    B, H, Hk, Lq, Lk, D, Dv = 2, 2, 2, 33, 33, 24, 24
    q, k, v, do, mask = _problem(device, B, H, Hk, Lq, Lk, D, Dv, None)
    alpha_t = torch.tensor([1.4, 1.8], device=device)
    got = _run_kernel(bwd, torch.bfloat16, q, k, v, do, mask, True, 1.5, alpha_t, False)
    base = _oracle(q, k, v, do, mask, True, 1.5, alpha_t, False, dtype=torch.bfloat16)
    q, k, v, do, mask = _rounded(torch.bfloat16, q, k, v, do, mask)
    want = _oracle(q, k, v, do, mask, True, 1.5, alpha_t, False)
    assert_fa_rule(got[3], want[3], base[3], factor=3.0, floor=1e-3, name="dalpha")


def test_bf16_dalpha_does_not_carry_o2_rounding(bwd, device, poisoned_buffers):
    """dα's δ = Σ dP·s / Σ s comes from fp32 sums in the dQ pass, not from the stored δ = dO·O₂:
    O₂ rounded to bf16 put dα up to ~1 off (|dα| ~ 5-20; H200: 18% on a head with α = 1.3), beyond
    3x plain bf16's own error on some inputs. Now within ~1e-4, so hold it to 0.5% of |dα|."""
    B, H, Hk, Lq, Lk, D, Dv = 2, 4, 2, 33, 40, 24, 24
    alpha_t = torch.tensor([1.3, 1.5, 2.0, 2.5], device=device)
    for seed in (0, 7):
        torch.manual_seed(seed)
        q, k, v, do, mask = _problem(device, B, H, Hk, Lq, Lk, D, Dv, None)
        got = _run_kernel(bwd, torch.bfloat16, q, k, v, do, mask, True, 1.5, alpha_t, False)
        q, k, v, do, mask = _rounded(torch.bfloat16, q, k, v, do, mask)
        want = _oracle(q, k, v, do, mask, True, 1.5, alpha_t, False)
        assert_close(got[3], want[3], atol=5e-3 * max(1.0, want[3].abs().max().item()), name=f"dalpha (seed {seed})")


def test_sparse_scores_with_skipped_tiles_still_match(bwd, device, poisoned_buffers, dq_mode):
    """Peaked scores (each query matches its own key: the support is ~1 key on the diagonal): most
    tiles have every x ≤ τ and are skipped by both passes; the gradients must not change. The
    length is 8 tiles of the device's config and one more key (the GPU's tiles are larger than the
    interpreter's: a fixed length gave a 2x2 tile grid there, too few to skip most tiles)."""
    B, H, D = 1, 2, 32
    bm, bn = bwd.default_config(torch.float32, D, torch.device(device))[:2]
    n = 8 * max(bm, bn)
    L = n + 1
    k = torch.randn(B, H, L, D, device=device, dtype=torch.float64)
    q = 3.0 * k + 0.1 * torch.randn(B, H, L, D, device=device, dtype=torch.float64)
    v = torch.randn(B, H, L, D, device=device, dtype=torch.float64)
    do = torch.randn(B, H, L, D, device=device, dtype=torch.float64)
    got = _run_kernel(bwd, torch.float32, q, k, v, do, None, False, 1.5, None, False)
    q, k, v, do = _rounded(torch.float32, q, k, v, do)
    x = reference.attention_scores(q, k) * 0.5  # x = (α−1)·z for α = 1.5
    tau, _ = reference.entmax_attention_stats(q, k, v, alpha=1.5)
    live = (x[..., :n, :n] > tau[..., :n, None]).reshape(B, H, n // bm, bm, n // bn, bn).any(-1).any(-2)
    assert (~live).float().mean() > 0.5, "inputs are not sparse enough to exercise tile skipping"
    want = _oracle(q, k, v, do, None, False, 1.5, None, False)
    for name, g, w in zip(NAMES[:3], got, want):
        assert_close(g, w, atol=2e-5 * max(w.abs().max().item(), 1.0), rtol=1e-4, name=name)


@pytest.mark.parametrize("B,H,Hk,Lq,Lk,D,Dv,causal,mask_kind,alpha,dtype,tiles", [
    pytest.param(1, 2, 2, 40, 40, 24, 24, True, None, 1.5, torch.float32, False, id="causal"),
    pytest.param(2, 4, 2, 33, 70, 24, 40, False, "keypad_bool", 2.0, torch.bfloat16, False, id="gqa-keypad-sparsemax"),
    pytest.param(1, 2, 2, 70, 70, 24, 24, True, None, 1.5, torch.float32, True, id="causal-tile-map"),
    pytest.param(1, 2, 1, 33, 40, 24, 24, False, "float", 1.5, torch.float32, True, id="float-mask-tile-map"),
    pytest.param(1, 2, 2, 33, 33, 24, 24, True, None, 1.3, torch.float32, False, id="general-alpha"),
    pytest.param(2, 4, 2, 33, 40, 24, 24, True, None, (1.3, 1.5, 2.0, 2.5), torch.bfloat16, True,
                 id="per-head-alpha-gqa"),
])
def test_replayed_backward_is_the_full_path(bwd, device, poisoned_buffers, monkeypatch, dq_mode, B, H, Hk, Lq, Lk, D,
                                            Dv, causal, mask_kind, alpha, dtype, tiles):
    """A backward with the shapes, strides and settings of an earlier one replays that call's three
    launches (REPLAY) with its own tensors: on fresh inputs, with poisoned buffers, the gradients
    are bitwise the full host path's and match float64."""
    monkeypatch.setattr(bwd, "_plans", {})
    full = []
    real_check = bwd._check
    monkeypatch.setattr(bwd, "_check", lambda *a: full.append(bwd.REPLAY) or real_check(*a))
    real_backward = bwd.backward
    if tiles:  # every block marked: a valid (conservative) map, read by both passes
        n_t = lambda L: (L + bwd.TILE - 1) // bwd.TILE  # noqa: E731
        tile_map = torch.ones(B, H, n_t(Lq), n_t(Lk), dtype=torch.uint8, device=device)
        monkeypatch.setattr(bwd, "backward", lambda *a: real_backward(*a, tiles=tile_map))
    alpha_t = torch.tensor(alpha, device=device) if isinstance(alpha, tuple) else None
    alpha_f = 1.5 if alpha_t is not None else alpha
    dq_mode.expect = dq_mode.fused and alpha_t is None  # (a per-head α keeps the dQ pass)
    n_grads = 3 if alpha_t is None else 4  # (and dα with a per-head α)
    for trial in range(2):  # the first call records, the second replays (fresh tensors)
        q, k, v, do, mask = _problem(device, B, H, Hk, Lq, Lk, D, Dv, mask_kind)
        got = _run_kernel(bwd, dtype, q, k, v, do, mask, causal, alpha_f, alpha_t, False)
        monkeypatch.setattr(bwd, "REPLAY", False)
        want = _run_kernel(bwd, dtype, q, k, v, do, mask, causal, alpha_f, alpha_t, False)
        monkeypatch.setattr(bwd, "REPLAY", True)
        for name, g, w in zip(NAMES, got, want):
            assert g.shape == w.shape
            _assert_repeats(name, g, w, dq_mode, f"trial {trial}, against the full path")
        base = _oracle(q, k, v, do, mask, causal, alpha_f, alpha_t, False, dtype=dtype)
        q, k, v, do, mask = _rounded(dtype, q, k, v, do, mask)
        oracle = _oracle(q, k, v, do, mask, causal, alpha_f, alpha_t, False)
        for name, g, w, b in list(zip(NAMES, got, oracle, base))[:n_grads]:
            assert_fa_rule(g, w, b, factor=3.0, floor=2e-5 if dtype == torch.float32 else 1e-3, name=name)
    assert full.count(True) == 1, f"the later backwards took the full host path ({full})"


_MAP_CONFIGS = [("default", None, torch.float32), ("wide-keys", (32, 128, 128, 32, 4, 1), torch.float32),
                ("64x64-bf16", (64, 64, 64, 64, 4, 1), torch.bfloat16),
                ("h200-default-bf16", (64, 128, 64, 64, 8, 2, 4, 2), torch.bfloat16)]


# (the two extra configs' non-causal cases on request, for CI time)
@pytest.mark.parametrize("config,dtype,causal", [
    pytest.param(config, dtype, causal, id=f"{name}-{causal}",
                 marks=[pytest.mark.slow] if name in ("wide-keys", "64x64-bf16") and not causal else [])
    for name, config, dtype in _MAP_CONFIGS for causal in (True, False)])
def test_forward_tile_map_skips_blocks_and_changes_nothing(bwd, device, causal, config, dtype, monkeypatch,
                                                           deterministic):
    """The forward's active-tile map (64x64 blocks, read by the dK/dV pass for its own tiles) limits
    each key block of the backward to the query blocks between the first and last non-empty one, and
    (dQ tiles nesting in its blocks) is what the dQ pass skips by. The map
    must cover every block with a non-zero weight (checked against float64), leave most blocks of
    peaked scores out, and the gradients with it must be bitwise those without it. Spans of two map
    rows / flag columns, so the passes skip empty spans whole as well as single tiles."""
    from adasplash_compile.kernels import attention as fwd

    monkeypatch.setattr(bwd, "SKIP_SCAN", 2)

    # the map's buffer is not zeroed beforehand: poisoned, every byte must be written 0 or 1
    monkeypatch.setattr(fwd, "_new_flags", lambda n, device: torch.full((n,), 0xA5, dtype=torch.uint8, device=device))
    B, H, Hk, L, D = 1, 4, 2, 200, 32
    k = torch.randn(B, Hk, L, D, device=device)
    k = k / k.norm(dim=-1, keepdim=True) * D ** 0.5  # equal self-scores: rows' τ alike, as in 'local'
    q = 3.0 * k.repeat_interleave(2, dim=1) + 0.1 * torch.randn(B, H, L, D, device=device)
    v = torch.randn(B, Hk, L, D, device=device)
    do = torch.randn(B, H, L, D, device=device)
    # bf16: the forward's 64x64 tile is the map's own (no regridding either way at 64x64 backward tiles)
    q, k, v, do = (t.to(dtype) for t in (q, k, v, do))
    scale = D ** -0.5
    out, tau, o2, tiles = fwd.forward(q, k, v, None, causal, scale, 1.5, None, True, return_tiles=True)
    n = math.ceil(L / fwd.TILE)
    assert tiles.shape == (B, H, n, n) and tiles.dtype == torch.uint8
    tau64, _ = reference.entmax_attention_stats(q.double(), k.double(), v.double(), None, causal, scale, alpha=1.5)
    x = 0.5 * reference.attention_scores(q.double(), k.double().repeat_interleave(2, dim=1), None, causal, scale)
    pad = n * fwd.TILE - L
    live = torch.nn.functional.pad(x > tau64[..., None], (0, pad, 0, pad))
    live = live.reshape(B, H, n, fwd.TILE, n, fwd.TILE).any(-1).any(-2)
    assert bool(((tiles == 0) | (tiles == 1)).all()), "the tile map has bytes other than 0 and 1"
    assert bool((tiles.bool() | ~live).all()), "the tile map leaves out a block with non-zero weights"
    assert (tiles == 0).float().mean() > 0.3, f"tile map too dense to exercise skipping: {tiles.tolist()}"
    args = (do, q, k, v, None, out, tau, o2, causal, scale, 1.5, None, False)
    plain = bwd.backward(*args, config=config)
    skipping = bwd.backward(*args, config=config, tiles=tiles)
    for name, a, b in zip(NAMES[:3], plain, skipping):
        assert torch.equal(a, b), f"{name} changed when the backward skipped the forward's empty tiles"
    if config is not None and config[2] % fwd.TILE == 0:
        # the dQ pass skipped by the forward's map above; again with the dK/dV pass's own verdicts
        monkeypatch.setattr(bwd, "FLAGS_FROM_FORWARD", False)
        own = bwd.backward(*args, config=config, tiles=tiles)
        for name, a, b in zip(NAMES[:3], plain, own):
            assert torch.equal(a, b), f"{name} changed with the dK/dV pass's own tile verdicts"
    with pytest.raises(ValueError, match="tiles"):
        bwd.backward(*args, config=config, tiles=tiles[..., :1])


def test_fully_masked_rows_get_zero_gradient(bwd, device, poisoned_buffers, dq_mode):
    B, H, Lq, Lk, D = 1, 2, 17, 33, 24
    q, k, v, do, _ = _problem(device, B, H, H, Lq, Lk, D, D)
    mask = torch.rand(B, 1, Lq, Lk, device=device) > 0.5
    mask[:, :, ::3] = False
    dq, dk, dv, _, _ = _run_kernel(bwd, torch.float32, q, k, v, do, mask, False, 1.5, None, False)
    assert torch.isfinite(dq).all() and torch.isfinite(dk).all() and torch.isfinite(dv).all()
    assert (dq[:, :, ::3] == 0).all()


def test_repeated_backward_is_bitwise_deterministic(bwd, device):
    B, H, Hk, Lq, Lk, D = 1, 4, 2, 33, 33, 24
    q, k, v, do, mask = _problem(device, B, H, Hk, Lq, Lk, D, D, "float")
    alpha_t = torch.tensor([1.3, 1.5, 2.0, 1.75], device=device)
    first = _run_kernel(bwd, torch.bfloat16, q, k, v, do, mask, False, 1.5, alpha_t, True)
    for _ in range(49 if device == "cuda" else 1):  # issue #4: 50 passes on the GPU
        again = _run_kernel(bwd, torch.bfloat16, q, k, v, do, mask, False, 1.5, alpha_t, True)
        for name, a, b in zip(NAMES, first, again):
            assert torch.equal(a, b), f"{name} differs between identical backward passes"


def test_deterministic_algorithms_keep_the_three_kernel_backward(bwd, device, monkeypatch):
    """With FUSED_DQ on, ``torch.use_deterministic_algorithms(True)`` still takes the three-kernel
    backward (no atomics): repeated passes are bitwise equal (50 on the GPU, issue #4) and equal to
    that backward's; outside it the fused dQ runs and agrees closely."""
    monkeypatch.setattr(bwd, "FUSED_DQ", True)
    taken = _spy_fused_dq(bwd, monkeypatch)
    q, k, v, do, _ = _problem(device, 1, 4, 2, 33, 40, 24, 24)
    args = _kernel_args(torch.bfloat16, q, k, v, do, None, True, 1.5, None, False)
    was = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        first = bwd.backward(*args)
        for _ in range(49 if device == "cuda" else 1):
            again = bwd.backward(*args)
            for name, a, b in zip(NAMES, first, again):
                assert torch.equal(a, b), f"{name} differs between deterministic backward passes"
    finally:
        torch.use_deterministic_algorithms(was)
    assert taken and not any(taken), f"deterministic backwards took fused={taken}"
    fused = bwd.backward(*args)
    assert taken[-1], "outside deterministic mode the fused dQ was not taken"
    monkeypatch.setattr(bwd, "FUSED_DQ", False)
    passes = bwd.backward(*args)
    for name, a, b, c in zip(NAMES[:3], first, passes, fused):
        assert torch.equal(a, b), f"{name}: the deterministic backward is not the three-kernel one"
        assert_close(c.float(), b.float(), atol=2e-2 * max(b.float().abs().max().item(), 1.0), rtol=2e-2, name=name)


def test_fused_dq_only_below_its_key_length(bwd, device, monkeypatch):
    """FUSED_MAX_LK: from that many keys the backward keeps its dQ pass (the accumulator's memory
    buys little there); below it the fused dQ runs. Both match float64."""
    monkeypatch.setattr(bwd, "FUSED_DQ", True)
    monkeypatch.setattr(bwd, "FUSED_MAX_LK", 33)
    taken = _spy_fused_dq(bwd, monkeypatch)
    for Lk, fused in ((33, False), (32, True)):
        q, k, v, do, _ = _problem(device, 1, 2, 2, 20, Lk, 24, 24)
        got = _run_kernel(bwd, torch.float32, q, k, v, do, None, False, 1.5, None, False)
        assert taken[-1] is fused, f"Lk={Lk}: fused={taken[-1]}"
        want = _oracle(*_rounded(torch.float32, q, k, v, do), None, False, 1.5, None, False)
        for name, g, w in zip(NAMES[:3], got, want):
            assert_close(g, w, atol=2e-5 * max(w.abs().max().item(), 1.0), rtol=1e-4, name=name)


def test_bad_config_is_a_value_error_naming_it(bwd, device):
    """A backward config must have 6 or 8 entries, and the dQ tiles must nest in the dK/dV tiles."""
    q, k, v, do, _ = _problem(device, 1, 2, 2, 20, 20, 16, 16)
    q, k, v, do = (t.float() for t in (q, k, v, do))
    tau, o2 = reference.entmax_attention_stats(q, k, v, None, False, 0.25, alpha=1.5)
    args = (do, q, k, v, None, do, tau.float(), o2.float(), False, 0.25, 1.5, None, False)
    for config in [(16, 32, 32, 16, 4), (16, 32, 32, 16, 4, 1, 4)]:
        with pytest.raises(ValueError, match="config"):
            bwd.backward(*args, config=config)
    with pytest.raises(ValueError, match="BLOCK_M2"):
        bwd.backward(*args, config=(32, 32, 16, 16, 4, 1))


def test_missing_o2_is_a_value_error_naming_it(bwd, device):
    q, k, v, do, _ = _problem(device, 1, 2, 2, 17, 17, 24, 24)
    q, k, v, do = (t.float() for t in (q, k, v, do))
    tau = torch.zeros(1, 2, 17, device=device)
    with pytest.raises(ValueError, match="o2"):
        bwd.backward(do, q, k, v, None, do, tau, q.new_empty((0,)), False, 0.2, 1.5, None, False)
    with pytest.raises(TypeError, match="dtype"):
        bwd.backward(do.double(), q.double(), k.double(), v.double(), None, do.double(), tau, do.double(),
                     False, 0.2, 1.5, None, False)


@pytest.mark.parametrize("alpha", [1.5, "per-head"])
def test_public_op_backward_runs_the_kernel(bwd, device, monkeypatch, alpha):
    """Through ``entmax_attention(...).backward()``: the op dispatches to this kernel and the
    gradients match the oracle. Needs the fused forward (kernels/attention.py ``supports``). The
    tolerance is 1e-3 of the gradient's scale, not the 2e-5 above, because here τ and O₂ come from
    the forward kernel: for a general α its τ carried ~6e-6 absolute error in fp32 (2026-11-29)."""
    pytest.importorskip("adasplash_compile.kernels.attention")
    q, k, v, do, _ = _problem(device, 1, 4, 2, 33, 17, 24, 24)
    if not ops._kernel_supports(q.float(), k.float(), v.float()):
        pytest.skip("the fused forward kernel does not handle these inputs")
    calls = []
    real = bwd.backward

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(bwd, "backward", spy)
    import adasplash_compile

    qf, kf, vf = (t.float().requires_grad_() for t in (q, k, v))
    alpha_t = torch.tensor([1.3, 1.5, 2.0, 1.75], device=device, requires_grad=True) if alpha == "per-head" else None
    out = adasplash_compile.entmax_attention(
        qf, kf, vf, is_causal=True, enable_gqa=True, alpha=alpha_t if alpha_t is not None else alpha
    )
    out.backward(do.float())
    assert calls, "attention_bwd did not call kernels.attention_bwd.backward"
    a = 1.5 if alpha_t is None else alpha_t.detach()
    want = _oracle(*_rounded(torch.float32, q, k, v, do), None, True, 1.5, None if alpha_t is None else a, False)
    grads = (qf.grad, kf.grad, vf.grad) + ((alpha_t.grad,) if alpha_t is not None else ())
    for name, g, w in zip(NAMES, grads, want):
        assert_close(g, w, atol=1e-3 * max(w.abs().max().item(), 1.0), rtol=1e-3, name=name)


class _PassThrough(torch.utils._python_dispatch.TorchDispatchMode):
    """A dispatch mode that changes nothing: while active, entmax_attention must go through the
    custom op (the eager shortcut is only for plain eager execution)."""

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("early", [True, False], ids=["early_launch", "launch_in_function"])
@pytest.mark.parametrize("case", ["mask_and_alpha", "plain"])
def test_eager_shortcut_matches_the_op_bitwise(bwd, device, monkeypatch, case, early, deterministic):
    """Plain eager calls skip the custom op's dispatch layers (ops._EagerAttention, with the forward
    kernel launched before its node is built, ``ops.EARLY_LAUNCH``, or inside its forward; the
    kernel forward directly without grad); the outputs and every gradient must equal the op path's
    bit for bit, and each path must be the one taken. "mask_and_alpha": q, k, v, a per-head α and a
    float mask; "plain": causal, GQA, q_len ≠ kv_len and a float α."""
    pytest.importorskip("adasplash_compile.kernels.attention")
    import adasplash_compile

    monkeypatch.setattr(ops, "EARLY_LAUNCH", early)
    if case == "plain":
        q, k, v, do, _ = _problem(device, 2, 4, 2, 37, 50, 24, 16)
        extra, kw = (), dict(is_causal=True, enable_gqa=True, alpha=1.5)
    else:
        q, k, v, do, _ = _problem(device, 1, 4, 2, 40, 33, 24, 16)
        extra = (torch.randn(1, 1, 40, 33, device=device), torch.tensor([1.3, 1.5, 2.0, 1.75], device=device))
        kw = dict(enable_gqa=True)
    q, k, v, do = (t.float() for t in (q, k, v, do))
    if not ops._kernel_supports(q, k, v):
        pytest.skip("the fused forward kernel does not handle these inputs")

    def call(leaves):
        more = dict(attn_mask=leaves[3], alpha=leaves[4]) if extra else {}
        return adasplash_compile.entmax_attention(*leaves[:3], **kw, **more)

    def run(through_op):
        leaves = [t.clone().requires_grad_() for t in (q, k, v, *extra)]
        with _PassThrough() if through_op else contextlib.nullcontext():
            out = call(leaves)
        name = type(out.grad_fn).__name__
        out.backward(do)
        return out.detach(), [t.grad for t in leaves], name

    out_e, grads_e, fn_e = run(False)
    out_o, grads_o, fn_o = run(True)
    assert fn_e == "_EagerAttentionBackward", fn_e
    assert fn_e != fn_o
    assert torch.equal(out_e, out_o)
    for name, a, b in zip(("dq", "dk", "dv", "dmask", "dalpha"), grads_e, grads_o):
        assert a is not None and torch.equal(a, b), name
    with torch.no_grad():
        assert torch.equal(call((q, k, v, *extra)), out_o)


def test_eager_shortcut_is_off_under_torch_func(device):
    """torch.func transforms wrap tensors that still look plain: the shortcut must not apply."""
    from torch.func import grad

    seen = []

    def f(x):
        seen.append(ops._plain_eager(x, x, x, None, None))
        return (x * x).sum()

    grad(f)(torch.randn(3, device=device))
    x = torch.randn(3, device=device)
    assert seen == [False] and ops._plain_eager(x, x, x, None, None)


def test_eager_training_saves_through_saved_tensor_hooks(bwd, device, deterministic):
    """Activation offloading and checkpointing tools hook ``save_for_backward``: the eager
    Function must save q, k and v (and the forward's statistics) through the hooks, and the
    gradients must not change when the hooks move the tensors away and back."""
    pytest.importorskip("adasplash_compile.kernels.attention")
    import adasplash_compile

    q, k, v, do, _ = _problem(device, 1, 2, 2, 33, 33, 16, 16)
    q, k, v, do = (t.float() for t in (q, k, v, do))
    if not ops._kernel_supports(q, k, v):
        pytest.skip("the fused forward kernel does not handle these inputs")
    mask = torch.rand(33, 33, device=device) > 0.3

    def run(hooked, **kw):
        leaves = [t.clone().requires_grad_() for t in (q, k, v)]
        packed = []

        def pack(t):
            packed.append(t)
            return t.clone()  # a copy, as an offloader's round trip gives back

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t) if hooked else contextlib.nullcontext():
            out = adasplash_compile.entmax_attention(*leaves, **kw)
        out.backward(do)
        return [t.grad for t in leaves], packed, leaves

    for kw in (dict(is_causal=True), dict(attn_mask=mask)):
        plain, _, _ = run(False, **kw)
        hooked, packed, leaves = run(True, **kw)
        assert all(any(p is t for p in packed) for t in leaves), "q, k or v was not saved through the hooks"
        assert len(packed) >= 5, f"only {len(packed)} tensors went through the hooks"
        for name, a, b in zip(NAMES, hooked, plain):
            assert torch.equal(a, b), f"{name} ({kw}): the hooks changed the gradient"


@pytest.fixture
def no_interpreter(monkeypatch):
    monkeypatch.setenv("TRITON_INTERPRET", "0")


def test_gradcheck_public_op_float64(no_interpreter):
    """float64 gradcheck through the public op's custom-op autograd registration (on the CPU this is
    the reference path: the kernels do not take float64). q, k, v, a float mask and per-head α."""
    import adasplash_compile

    B, H, Lq, Lk, D = 1, 2, 3, 5, 4
    f64 = dict(dtype=torch.float64, requires_grad=True)
    q, k, v = torch.randn(B, H, Lq, D, **f64), torch.randn(B, H, Lk, D, **f64), torch.randn(B, H, Lk, 2, **f64)
    mask = torch.randn(1, 1, Lq, Lk, **f64)
    # The op keeps per-head α in float32, so α and α ± eps must be exact in float32: α has few
    # mantissa bits and eps = 2^-20 is a multiple of float32's spacing on [1, 2). That rules out
    # fast mode (random directions) for α; q, k, v and the mask use fast mode because the general-α
    # reference forward is a Newton loop and full mode would need ~200 of them.
    alpha = torch.tensor([1.375, 1.75], **f64)

    def f(q, k, v, mask, alpha):
        return adasplash_compile.entmax_attention(q, k, v, attn_mask=mask, alpha=alpha)

    assert torch.autograd.gradcheck(lambda a: f(q, k, v, mask, a), (alpha,), eps=2.0**-20, atol=1e-5)
    assert torch.autograd.gradcheck(
        lambda q, k, v, mask: f(q, k, v, mask, alpha.detach()), (q, k, v, mask), eps=1e-6, atol=1e-5, fast_mode=True
    )
    assert torch.autograd.gradcheck(
        lambda q, k, v: adasplash_compile.entmax_attention(q, k, v, is_causal=True, alpha=2.0), (q, k, v),
        eps=1e-6, atol=1e-5,
    )


@pytest.fixture
def gather_everywhere(monkeypatch):
    """The forward's GATHER lists at test sizes (the GPU default starts at 16k keys): few candidates
    per position and a short probe, so most rows are listed and some are left to the fix-up."""
    pytest.importorskip("adasplash_compile.kernels.attention")
    from adasplash_compile.kernels import attention as fwd

    monkeypatch.setattr(fwd, "GATHER_MIN_LK", 0)
    monkeypatch.setattr(fwd, "FIXUP_MIN_LK", 0)
    monkeypatch.setattr(fwd, "SUBSET_NEAR_PATIENCE", 2)
    monkeypatch.setattr(fwd, "SUBSET_TOPK", 2)
    monkeypatch.setattr(fwd.configs, "fwd_default", lambda dtype, dr: fwd.configs.FwdConfig(32, 16, 4, 2, hist="subset"))
    return fwd


# (dtype, H, Hk, Lq, Lk, D, Dv, causal, mask kind, α, list cap)
LISTED = [
    pytest.param(torch.float32, 4, 2, 40, 160, 24, 16, True, None, 1.5, 64, id="fp32-causal-gqa-dv16"),
    pytest.param(torch.bfloat16, 2, 2, 40, 150, 16, 16, False, "float", 1.5, 64, id="bf16-float-mask-grad"),
    pytest.param(torch.bfloat16, 2, 1, 33, 160, 16, 16, True, None, 2.0, 64, id="bf16-causal-mqa-sparsemax"),
    pytest.param(torch.float32, 2, 2, 40, 160, 16, 16, False, None, 1.5, 16, id="fp32-overflowing-lists"),
    pytest.param(torch.float32, 2, 2, 40, 160, 16, 16, False, "bool", 1.5, 64, id="fp32-bool-mask",
                 marks=pytest.mark.slow),
]


@pytest.mark.parametrize("dtype,H,Hk,Lq,Lk,D,Dv,causal,mask_kind,alpha,cap", LISTED)
def test_listed_rows_take_their_lists(bwd, device, gather_everywhere, poisoned_buffers, monkeypatch, dq_mode, dtype, H,
                                      Hk, Lq, Lk, D, Dv, causal, mask_kind, alpha, cap):
    """Training through the forward's lists (``return_lists``): the rows the main launch lists and
    those the fix-up lists (FIXUP_LISTS) take their gradients from the lists (dQ gathered by row;
    dK/dV over the pairs grouped by key block), the rest (supports past the cap) from the tiles, whose
    map holds only those. Against float64: fp32 within 1e-3 of the gradient's scale (τ comes
    from the forward kernel), bf16 within 3x the plain bf16 reference's error; a second pass is
    bitwise equal (no atomics; the fused dQ's atomics: close); the float mask's gradient too."""
    fwd = gather_everywhere
    monkeypatch.setattr(fwd, "TRAIN_GATHER_CAP", cap)
    monkeypatch.setattr(bwd, "SKIP_SCAN", 2)  # the dense passes' span skipping over several spans
    B = 2
    q, k, v, do, mask = _problem(device, B, H, Hk, Lq, Lk, D, Dv, mask_kind)
    mask_grad = mask is not None and mask.dtype != torch.bool
    # (dmask needs the dQ pass; with most rows listed, MAP_SKIP, the dense passes keep theirs too:
    # only the overflowing-lists case, which turns MAP_SKIP off below, takes the fused dQ)
    dq_mode.expect = dq_mode.fused and not mask_grad and cap < 64
    qd, kd, vd, dod = (t.to(dtype) for t in (q, k, v, do))
    md = mask if mask is None or mask.dtype == torch.bool else mask.to(dtype)
    scale = 1.0 / math.sqrt(D)
    out, tau, o2, tiles, lists, counts = fwd.forward(qd, kd, vd, md, causal, scale, alpha, None, True,
                                                     return_tiles=True, return_lists=True)
    assert lists.shape == (B, H, Lq, fwd.TRAIN_GATHER_CAP) and counts.shape == (B, H, Lq)
    listed = counts > 0
    assert listed.float().mean() > 0.3, f"only {int(listed.sum())} of {listed.numel()} rows listed"
    if cap < 64:  # supports past the cap: those rows stay in the tiles
        assert not bool(listed.all()), "every row was listed: the tiles' share went untested"
        # and the dK/dV pass's branch-free loop (what it runs with few rows listed) over them
        monkeypatch.setattr(bwd, "MAP_SKIP_SHARE", 2.0)
    args = (dod, qd, kd, vd, md, out, tau, o2, causal, scale, alpha, None, mask_grad)
    got = bwd.backward(*args, tiles=tiles, lists=lists, counts=counts)
    again = bwd.backward(*args, tiles=tiles, lists=lists, counts=counts)
    for name, a, b in zip(NAMES, got, again):
        _assert_repeats(name, a, b, dq_mode, "between identical backward passes")
    want = _oracle(*_rounded(dtype, q, k, v, do), md if md is None or md.dtype == torch.bool else md.double(), causal,
                   alpha, None, mask_grad)
    names = NAMES[:3] + (("dmask",) if mask_grad else ())
    picked = got[:3] + ((got[4],) if mask_grad else ())
    wanted = want[:3] + ((want[4],) if mask_grad else ())
    if dtype == torch.float32:
        for name, g, w in zip(names, picked, wanted):
            assert_close(g, w, atol=1e-3 * max(w.abs().max().item(), 1.0), rtol=1e-3, name=name)
    else:
        base = _oracle(q, k, v, do, mask, causal, alpha, None, mask_grad, dtype=torch.bfloat16)
        based = base[:3] + ((base[4],) if mask_grad else ())
        for name, g, w, b in zip(names, picked, wanted, based):
            assert_fa_rule(g, w, b, factor=3.0, floor=1e-3, name=name)


def test_training_gather_launch_leaves_the_fixup_rows(bwd, device, gather_everywhere, monkeypatch):
    """Training (FIXUP_LISTS): the fix-up lists the rows it redoes, and the gather launch reads the
    counts as the main launch left them (a copy), so it never takes up those rows. On CUDA the two
    launches run side by side (FIXUP_CONCURRENT) and neither may read what the other writes; here
    they run in order, after the copy. The rows each launch handles are disjoint, and the returned
    counts hold both."""
    fwd = gather_everywhere
    B, H, Hk, L, D = 2, 4, 2, 40, 24
    q, k, v = (t.float() for t in _problem(device, B, H, Hk, L, 160, D, D)[:3])
    at_launch = {}
    real = fwd._launch

    def spy(*args, **kwargs):
        if kwargs.get("phase") in ("fixup", "gather"):  # the counts each launch reads or writes
            at_launch[kwargs["phase"]] = kwargs["gat"][1]
            if kwargs["phase"] == "gather":
                at_launch["gather, as read"] = kwargs["gat"][1].clone()
        return real(*args, **kwargs)

    monkeypatch.setattr(fwd, "_launch", spy)
    *_, counts = fwd.forward(q, k, v, None, True, D ** -0.5, 1.5, None, True, return_tiles=True, return_lists=True)
    read = at_launch["gather, as read"].view(counts.shape)
    assert at_launch["gather"].data_ptr() != counts.data_ptr(), "the gather launch reads the returned counts"
    assert at_launch["fixup"].data_ptr() == counts.data_ptr()
    by_fixup = (counts > 0) & (read == 0)
    assert bool(by_fixup.any()), "the fix-up listed no row: nothing tested"
    assert bool((read > 0).any()), "the main launch listed no row: nothing tested"
    assert torch.equal(counts[read > 0], read[read > 0]), "the fix-up changed a row the main launch listed"


def test_listed_rows_through_the_op(bwd, device, gather_everywhere, deterministic):
    """The custom op returns the lists (shapes its fake implementation predicts) and its autograd
    hands them to the backward; eager autograd (``_EagerAttention``) does the same, bitwise."""
    B, H, Hk, L, D = 1, 2, 2, 40, 16
    q, k, v, do, _ = _problem(device, B, H, Hk, L, 160, D, D)
    qf, kf, vf = (t.float() for t in (q, k, v))
    res = ops.attention_fwd(qf, kf, vf, None, True, D ** -0.5, 1.5, None, True)
    with torch._subclasses.fake_tensor.FakeTensorMode() as mode:
        fake = ops.attention_fwd(*(mode.from_tensor(t) for t in (qf, kf, vf)), None, True, D ** -0.5, 1.5, None, True)
    for r, f in zip(res, fake):
        assert (r.shape, r.dtype) == (f.shape, f.dtype)
    assert bool((res[5] > 0).any()), "the op listed no row"
    grads = []
    for use_op in (True, False):
        leaves = [t.float().requires_grad_() for t in (q, k, v)]
        if use_op:  # the op's own autograd (what torch.compile traces)
            out = ops.attention_fwd(*leaves, None, True, D ** -0.5, 1.5, None, True)[0]
        else:
            out = ops.entmax_attention(*leaves, is_causal=True)
        out.backward(do.float())
        grads.append([t.grad for t in leaves])
    for name, a, b in zip(NAMES, *grads):
        assert torch.equal(a, b), f"{name}: the op's autograd and the eager one differ"
    want = _oracle(*_rounded(torch.float32, q, k, v, do), None, True, 1.5, None, False)
    for name, g, w in zip(NAMES, grads[0], want):
        assert_close(g, w, atol=1e-3 * max(w.abs().max().item(), 1.0), rtol=1e-3, name=name)


def test_map_skip_choice_keeps_the_gradients(bwd, device, gather_everywhere, monkeypatch, deterministic):
    """With listed rows, the dense dK/dV pass tests the tile map (MAP_SKIP) or runs branch-free by
    the share of rows listed that the last backward of the same shapes saw (so the host waits
    for this one's count only after launching it). Both choices give bitwise equal gradients,
    and the backward records the share it saw. The config's dQ tiles nest in the map's blocks, so
    the dK/dV pass reads the forward's map (the only case MAP_SKIP applies to), over spans of two
    map rows."""
    fwd = gather_everywhere
    monkeypatch.setattr(bwd, "SKIP_SCAN", 2)
    monkeypatch.setattr(fwd, "TRAIN_GATHER_CAP", 16)  # rows whose support overflows keep tiles in the map
    B, H, Hk, Lq, Lk, D = 1, 2, 2, 200, 200, 16
    q, k, v, do = (t.float() for t in _problem(device, B, H, Hk, Lq, Lk, D, D)[:4])
    scale = D ** -0.5
    out, tau, o2, tiles, lists, counts = fwd.forward(q, k, v, None, True, scale, 1.5, None, True,
                                                     return_tiles=True, return_lists=True)
    share = int((counts > 0).sum()) / counts.numel()
    assert 0.0 < share < 1.0, f"listed share {share}: both kinds of rows are needed"
    args = (do, q, k, v, None, out, tau, o2, True, scale, 1.5, None, False)
    monkeypatch.setattr(bwd, "_SHARE_SEEN", {})
    grads = []
    for threshold in (2.0, 0.0):  # never / always MAP_SKIP
        monkeypatch.setattr(bwd, "MAP_SKIP_SHARE", threshold)
        grads.append(bwd.backward(*args, tiles=tiles, lists=lists, counts=counts, config=(32, 64, 64, 32, 4, 1)))
    for name, a, b in zip(NAMES, *grads):
        assert torch.equal(a, b), f"{name}: MAP_SKIP changed the gradient"
    want = _oracle(q, k, v, do, None, True, 1.5, None, False)
    for name, g, w in zip(NAMES[:3], grads[0], want):
        assert_close(g, w, atol=1e-3 * max(w.abs().max().item(), 1.0), rtol=1e-3, name=name)
    assert list(bwd._SHARE_SEEN.values()) == [share]


@pytest.mark.parametrize("listed_share", ["all", "few", "spans"])
@pytest.mark.parametrize("block_n", [4, 16])
@pytest.mark.parametrize("pack_rows", [64, 256])
def test_listed_pairs_without_host_syncs_match(bwd, device, monkeypatch, listed_share, block_n, pack_rows):
    """The listed pairs grouped by key block (``listed_pairs``): every pair once, in its kv head's
    key block, each block's pairs in row-major order (what makes the dK/dV sums deterministic),
    and row r's pairs at ``off[r]``. Under CUDA-graph capture every slot is packed and sorted (no
    host sync to count them): the same segments and pairs. The pack kernel takes PACK_ROWS rows per
    program, PACK_SUB (32) at a time; "spans" leaves whole 32-row chunks unlisted (they skip)."""
    monkeypatch.setattr(bwd, "PACK_ROWS", pack_rows)
    B, H, Hk, Lq, Lk, cap = 2, 4, 2, 24, 40, 8
    g = torch.Generator().manual_seed(0)
    counts = torch.randint(1, cap + 1, (B, H, Lq), generator=g, dtype=torch.int32)
    if listed_share == "few":
        counts[torch.rand(B, H, Lq, generator=g) < 0.8] = 0
    elif listed_share == "spans":  # rows 32-95 and 128-159 unlisted, a partly listed chunk between
        counts.view(-1)[32:96] = 0
        counts.view(-1)[100:110] = 0
        counts.view(-1)[128:160] = 0
    lists = torch.stack([torch.randperm(Lk, generator=g)[:cap] for _ in range(B * H * Lq)]).view(B, H, Lq, cap)
    lists, counts = lists.to(torch.int16).to(device), counts.to(device)
    x = torch.empty((1, 1, 1, 16), device=device)
    mod = bwd._kernels(x, x, "15", "none", True, False, False)
    offsets = bwd.listed_offsets(counts, cap)
    off, n_pairs, share = offsets
    assert share == int((counts > 0).sum()) / counts.numel() and n_pairs == int(counts.sum())
    assert torch.equal(off[1:].long(), counts.view(-1).long().cumsum(0)) and int(off[0]) == 0
    got = bwd.listed_pairs(mod, lists, counts, offsets, Hk, Lk, block_n)
    monkeypatch.setattr(bwd, "_capturing", lambda dev: True)
    off_c, n_c, _ = offs_c = bwd.listed_offsets(counts, cap)
    assert n_c == B * H * Lq * cap and torch.equal(off_c, off)
    captured = bwd.listed_pairs(mod, lists, counts, offs_c, Hk, Lk, block_n)
    n_blocks = -(-Lk // block_n)
    assert torch.equal(got.seg, captured.seg[:len(got.seg)]) and int(got.seg[-1]) == n_pairs
    assert torch.equal(got.pairs, captured.pairs[:n_pairs])
    # every listed pair once, in its kv head's key block, row-major within the block
    flat = lists.view(-1, cap).long().cpu()
    want = sorted(((((r // Lq) // H * Hk + (r // Lq) % H // (H // Hk)) * n_blocks + int(flat[r, c]) // block_n, r, c),
                   r * block_n + int(flat[r, c]) % block_n)
                  for r in range(B * H * Lq) for c in range(int(counts.view(-1)[r])))
    seg, pairs = got.seg.cpu(), got.pairs.cpu()
    got_pairs = [(n, int(pairs[e])) for n in range(B * Hk * n_blocks) for e in range(int(seg[n]), int(seg[n + 1]))]
    assert got_pairs == [(key[0], val) for key, val in want]


def test_listed_rows_under_torch_compile(bwd, device, gather_everywhere, monkeypatch):
    """torch.compile (fullgraph, dynamic shapes, Inductor) traces the op with its list outputs
    (sized by the fake implementation from symbolic lengths) and its backward; the gradients
    match eager autograd's, which takes the same lists."""
    import adasplash_compile

    B, H, Hk, Lq, Lk, D = 1, 2, 2, 40, 160, 16
    q, k, v, do, _ = _problem(device, B, H, Hk, Lq, Lk, D, D)
    leaves = [t.float().requires_grad_() for t in (q, k, v)]

    def f(q, k, v):
        return (adasplash_compile.entmax_attention(q, k, v, is_causal=True) * do.float()).sum()

    listed = []
    real = bwd.backward

    def spy(*args, **kwargs):
        counts = kwargs.get("counts")
        listed.append(counts is not None and bool((counts > 0).any()))
        return real(*args, **kwargs)

    monkeypatch.setattr(bwd, "backward", spy)
    eager = torch.autograd.grad(f(*leaves), leaves)
    compiled = torch.compile(f, backend="inductor", fullgraph=True, dynamic=True)
    with torch._inductor.config.patch(fx_graph_cache=False):
        got = torch.autograd.grad(compiled(*leaves), leaves)
    assert listed == [True, True], f"backward calls with listed rows (eager, compiled): {listed}"
    for name, a, b in zip(NAMES, got, eager):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg=name)
