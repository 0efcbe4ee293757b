"""The decode path (kernels/decode.py): a few query rows against a long KV, split over the keys.

Interpreter on the CPU (TRITON_INTERPRET=1), so lengths stay small: ``decode.MIN_LK`` is lowered to
0 here, and the interpreter's key blocks are 16 keys, so a row of 129 keys spans 9 blocks. Output
buffers are NaN-poisoned, outputs are checked against the float64 reference with FlashAttention's
rule, τ against the reference's and against the fused kernel's.
"""

from __future__ import annotations

import math
import os

import pytest
import torch
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

import adasplash_compile
from adasplash_compile import reference
from adasplash_compile.kernels import attention as fwd
from adasplash_compile.kernels import decode, rowwise
from tests.helpers import assert_close, assert_fa_rule, run_property_shard


pytestmark = pytest.mark.usefixtures("needs_kernels")


@pytest.fixture(autouse=True)
def _decode_at_any_length(monkeypatch):
    monkeypatch.setattr(decode, "MIN_LK", 0)
    monkeypatch.setattr(fwd, "_new_buffer", lambda shape, dtype, device: torch.full(shape, float("nan"), dtype=dtype,
                                                                                      device=device))


def _inputs(device, B, H, Hk, Lq, Lk, D, Dv, dtype):
    q = torch.randn(B, H, Lq, D, device=device).to(dtype)
    k = torch.randn(B, Hk, Lk, D, device=device).to(dtype)
    v = torch.randn(B, Hk, Lk, Dv, device=device).to(dtype)
    return q, k, v


def _mask(kind, B, H, Lq, Lk, dtype, device):
    if kind == "key_padding":  # (B, 1, 1, Lk) bool, batch 0 keeps its first 3 keys only
        m = torch.rand(B, 1, 1, Lk, device=device) > 0.3
        m[0, ..., :3] = True
        m[0, ..., 3:] = False
        return m
    if kind == "float":  # (Lq, Lk) additive, with some -inf
        m = torch.randn(Lq, Lk, device=device).to(dtype)
        m[:, ::5] = float("-inf")
        return m
    if kind == "bool_full":  # (B, H, Lq, Lk), one row fully masked
        m = torch.rand(B, H, Lq, Lk, device=device) > 0.5
        m[0, 0, 0] = False
        return m
    return None


def _check(q, k, v, *, mask=None, causal=False, alpha=1.5, scale=None, fused=True):
    """Decode path vs the float64 oracle (output, τ) and (``fused``) vs the fused kernel (τ);
    returns (out, τ)."""
    B, H, Lq, D = q.shape
    assert decode.applies(q, k, False)
    alpha_t = alpha if isinstance(alpha, torch.Tensor) else None
    alpha_f = 1.5 if alpha_t is not None else alpha
    scale_f = 1.0 / math.sqrt(D) if scale is None else scale
    out, tau, o2 = fwd.forward(q, k, v, mask, causal, scale_f, alpha_f, alpha_t, False)
    assert o2 is None and out.dtype == q.dtype
    a64 = alpha_t.double() if alpha_t is not None else alpha
    kw = dict(attn_mask=mask, is_causal=causal, scale=scale, enable_gqa=k.shape[1] != H)
    m64 = mask.double() if mask is not None and mask.is_floating_point() else mask
    oracle = reference.entmax_attention(q.double(), k.double(), v.double(), alpha=a64, **{**kw, "attn_mask": m64})
    baseline = reference.entmax_attention(q, k, v, alpha=alpha_t.float() if alpha_t is not None else alpha, **kw)
    assert_fa_rule(out, oracle, baseline, factor=3.0, floor=2e-5 if q.dtype == torch.float32 else 1e-3, name="out")
    kr = k.double().repeat_interleave(H // k.shape[1], dim=1)
    vr = v.double().repeat_interleave(H // k.shape[1], dim=1)
    tau_ref, _ = reference.entmax_attention_stats(q.double(), kr, vr, m64, causal, scale, alpha=a64)
    fin = torch.isfinite(tau_ref)
    assert torch.equal(torch.isinf(tau) & (tau > 0), ~fin), "tau must be +inf exactly on rows with nothing to attend"
    assert_close(tau[fin], tau_ref[fin], atol=1e-4 if q.dtype == torch.float32 else 2e-2, name="tau")
    if not fused:
        return out, tau
    # the fused kernel's τ for the same call (its own path: no decode)
    decode_rows = decode.MAX_ROWS
    try:
        decode.MAX_ROWS = 0
        out_f, tau_f, _ = fwd.forward(q, k, v, mask, causal, scale_f, alpha_f, alpha_t, False)
    finally:
        decode.MAX_ROWS = decode_rows
    assert_close(tau[fin], tau_f[fin], atol=2e-5 if q.dtype == torch.float32 else 1e-2, name="tau vs fused")
    return out, tau


@pytest.mark.parametrize("Lq,Lk", [(1, 1), (1, 17), (1, 129), (3, 100), (2, 127)])
def test_lengths(device, Lq, Lk):
    torch.manual_seed(Lq * 1000 + Lk)
    q, k, v = _inputs(device, 2, 4, 4, Lq, Lk, 16, 16, torch.float32)
    _check(q, k, v)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16], ids=str)
@pytest.mark.parametrize("alpha", [1.5, 2.0, 1.3, 2.5, "per_head"], ids=str)
def test_alpha_dtype_gqa(device, dtype, alpha):
    """GQA (4 query heads per kv head), head dim 80 with a value dim of 48."""
    torch.manual_seed(7)
    q, k, v = _inputs(device, 1, 8, 2, 2, 70, 80, 48, dtype)
    a = torch.linspace(1.25, 2.5, 8, device=device) if alpha == "per_head" else alpha
    _check(q, k, v, alpha=a)


@pytest.mark.parametrize("mask", ["key_padding", "float", "bool_full", "causal"])
def test_masks(device, mask):
    torch.manual_seed(3)
    B, H, Hk, Lq, Lk = 2, 4, 2, 3, 90
    q, k, v = _inputs(device, B, H, Hk, Lq, Lk, 32, 32, torch.float32)
    m = _mask(mask, B, H, Lq, Lk, torch.float32, device)
    _check(q, k, v, mask=m, causal=mask == "causal", scale=0.3)


def test_splits_combine(device, monkeypatch):
    """Several key blocks per split and several splits (more than the combine loads per step): the
    combine sums them in order, and two calls are bitwise equal."""
    monkeypatch.setattr(decode, "TARGET_PROGRAMS", 4)
    monkeypatch.setattr(decode, "COMBINE_SPLITS", 2)
    torch.manual_seed(11)
    # 200 keys: 7 steps of 2 blocks of 16 keys; at most 4 programs (B·Hk = 1): 2 steps per split,
    # 4 splits, combined 2 at a time
    q, k, v = _inputs(device, 1, 2, 1, 1, 200, 16, 16, torch.float32)
    assert (decode.INTERPRETER_BLOCK_N, decode.INTERPRETER_SUB) == (16, 2)
    assert decode.split_blocks(7, 1) == 2
    out, tau = _check(q, k, v)
    out2, tau2, _ = fwd.forward(q, k, v, None, False, 0.25, 1.5, None, False)
    assert torch.equal(out, out2) and torch.equal(tau, tau2)


@pytest.mark.parametrize("alpha", [1.5, 2.0, 1.3])
def test_nan_scores_give_nan_rows(device, monkeypatch, alpha):
    """Decode rows whose scores hold a NaN (a NaN query, a NaN key under GQA, a NaN float-mask
    entry) come out NaN with τ NaN, over several splits; the other rows match the reference."""
    monkeypatch.setattr(decode, "TARGET_PROGRAMS", 4)
    q, k, v = _inputs(device, 1, 4, 2, 2, 200, 16, 16, torch.float32)
    q[0, 0, 1] = float("nan")
    k[0, 1, 150, 2] = float("nan")  # heads 2 and 3 (GQA)
    mask = torch.zeros(2, 200, device=device)
    mask[0, 9] = float("nan")  # query row 0 of every head
    for kw in (dict(), dict(attn_mask=mask)):
        assert decode.applies(q, k, False)
        out, tau, _ = fwd.forward(q, k, v, kw.get("attn_mask"), False, 0.25, alpha, None, False)
        oracle = reference.entmax_attention(q.double(), k.double(), v.double(), scale=0.25, alpha=alpha,
                                            enable_gqa=True, **kw)
        want = oracle.isnan().any(-1)
        assert 1 <= int(want.sum()) < want.numel()
        assert torch.equal(out.isnan().any(-1), want) and bool(out[want].isnan().all())
        assert bool(tau[want].isnan().all()) and not bool(tau[~want].isnan().any())
        assert_close(out[~want], oracle[~want].float(), atol=2e-5, name="out")


def test_split_blocks():
    assert decode.split_blocks(1, 1) == 1
    assert decode.split_blocks(512, 32) == 16  # 32 splits x 32 heads = 1024 programs
    assert decode.split_blocks(2048, 64) == 128
    assert decode.split_blocks(3, 4096) == 4  # never more blocks per split than the row has, rounded up


def test_dispatch(device, monkeypatch):
    """Only inference with few rows per kv head and a long enough KV takes the decode path."""
    q, k, v = _inputs(device, 1, 4, 2, 1, 40, 16, 16, torch.float32)
    assert decode.applies(q, k, False)
    assert not decode.applies(q, k, True)  # training: O₂ and the tile map come from the fused kernel
    monkeypatch.setattr(decode, "MIN_LK", 41)
    assert not decode.applies(q, k, False)
    monkeypatch.setattr(decode, "MIN_LK", 0)
    monkeypatch.setattr(decode, "MAX_ROWS", 1)
    assert not decode.applies(q, k, False)  # 2 query heads per kv head
    monkeypatch.setattr(decode, "MAX_ROWS", 16)

    def boom(*a, **kw):
        raise RuntimeError("decode path taken")

    monkeypatch.setattr(decode, "forward", boom)
    with pytest.raises(RuntimeError, match="decode path"):
        adasplash_compile.entmax_attention(q, k, v, enable_gqa=True)
    qg = q.clone().requires_grad_()
    adasplash_compile.entmax_attention(qg, k, v, enable_gqa=True).sum().backward()  # fused, with O₂
    assert qg.grad is not None and torch.isfinite(qg.grad).all()


@pytest.mark.parametrize("alpha,per_row", [(1.5, False), (2.5, False), (1.5, True)])
def test_rowwise_forward_into(device, alpha, per_row):
    """The row-wise launch the decode path makes (a cached handle, rows with −inf) is entmax_forward's,
    bitwise: the "top" kernel (α ≤ 2) and the histogram kernel (α > 2, per-row α)."""
    torch.manual_seed(5)
    x = torch.randn(6, 300, device=device)
    x[:, ::7] = float("-inf")
    x[2] = float("-inf")  # nothing to attend
    a_rows = torch.linspace(1.2, 2.6, 6, device=device) if per_row else None
    p = torch.full_like(x, float("nan"))
    rowwise.forward_into(x, p, alpha, a_rows)
    assert torch.equal(p, rowwise.entmax_forward(x, alpha, a_rows))
    assert torch.equal(p[2], torch.zeros_like(p[2]))


@pytest.mark.parametrize("B,H,Lq", [(2, 1, 1), (3, 1, 2), (2, 2, 1)])
def test_per_head_alpha_with_one_head_across_the_batch(device, B, H, Lq):
    """A per-head α reaches every batch's rows. With one head, the rows' α (one per head, expanded
    over batch and query rows) must be materialised, not a stride-0 view: the H200 property run
    found batch 1 returning zeros (Lq=1, Lk=76, H=1, per-head α, fp32)."""
    torch.manual_seed(21)
    q, k, v = _inputs(device, B, H, H, Lq, 76, 24, 24, torch.float32)
    _check(q, k, v, alpha=torch.linspace(1.25, 2.5, H, device=device), fused=False)


def test_layouts(device):
    """Strided inputs as a model hands them over: q, k, v transposed views of (B, L, H, D), and a
    static cache's first Lk keys (a view of a longer buffer)."""
    torch.manual_seed(13)
    B, H, Hk, Lq, Lk, D = 2, 4, 2, 2, 75, 16
    q = torch.randn(B, Lq, H, D, device=device).transpose(1, 2)
    cache_k = torch.randn(B, 100, Hk, D, device=device).transpose(1, 2)
    cache_v = torch.randn(B, 100, Hk, D, device=device).transpose(1, 2)
    _check(q, cache_k[:, :, :Lk], cache_v[:, :, :Lk])


# examples in all, over PROPERTY_SHARDS tests (tests.helpers.run_property_shard: pytest-xdist
# spreads them over its workers)
_EXAMPLES = 200 if torch.cuda.is_available() else (32 if os.environ.get("CI") else 12)
PROPERTY_SHARDS = 4
_PROFILE = settings(max_examples=_EXAMPLES, derandomize=True, deadline=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow], phases=[Phase.explicit, Phase.generate])
_STRATEGIES = dict(
    Lq=st.integers(1, 4), Lk=st.integers(1, 150), group=st.sampled_from([1, 2, 4]), Hk=st.integers(1, 2),
    D=st.sampled_from([16, 24, 64]), alpha=st.sampled_from([1.5, 2.0, 1.25, 3.0, "per_head"]),
    mask=st.sampled_from([None, "key_padding", "float", "bool_full", "causal"]),
    dtype=st.sampled_from([torch.float32, torch.bfloat16, torch.float16]), seed=st.integers(0, 2**16),
)


@pytest.mark.parametrize("shard", range(PROPERTY_SHARDS))
def test_property(device, shard):
    """Random decode shapes, α, masks and dtypes against the float64 reference (FA rule) and τ."""
    def case(Lq, Lk, group, Hk, D, alpha, mask, dtype, seed):
        torch.manual_seed(seed)
        H = Hk * group
        q, k, v = _inputs(device, 2, H, Hk, Lq, Lk, D, D, dtype)
        m = _mask(mask, 2, H, Lq, Lk, dtype, device) if mask != "causal" else None
        a = torch.linspace(1.25, 2.5, H, device=device) if alpha == "per_head" else alpha
        _check(q, k, v, mask=m, causal=mask == "causal", alpha=a, fused=False)

    run_property_shard(case, _STRATEGIES, shard=shard, shards=PROPERTY_SHARDS, profile=_PROFILE)
