"""The oracle itself: reference.py against the entmax package, float64 gradcheck, masking, scales."""

from __future__ import annotations

import math

import entmax as entmax_pkg
import pytest
import torch
import torch.nn.functional as F

from adasplash_compile import reference
from tests.helpers import assert_close

ALPHAS_GENERAL = [1.05, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0]


@pytest.mark.parametrize("n", [1, 2, 7, 64, 129, 1000])
def test_entmax15_matches_entmax_package(n):
    x = torch.randn(6, n, dtype=torch.float64)
    assert_close(reference.entmax(x, 1.5), entmax_pkg.entmax15(x, dim=-1), atol=1e-12)


@pytest.mark.parametrize("n", [1, 2, 7, 64, 129, 1000])
def test_sparsemax_matches_entmax_package(n):
    x = torch.randn(6, n, dtype=torch.float64)
    assert_close(reference.entmax(x, 2.0), entmax_pkg.sparsemax(x, dim=-1), atol=1e-12)


@pytest.mark.parametrize("alpha", ALPHAS_GENERAL)
def test_general_alpha_matches_entmax_bisect(alpha):
    x = torch.randn(8, 50, dtype=torch.float64) * 3
    ours = reference.entmax(x, torch.full((8, 1), alpha, dtype=torch.float64))
    theirs = entmax_pkg.entmax_bisect(x, alpha, dim=-1, n_iter=200)
    assert_close(ours, theirs, atol=1e-10)


@pytest.mark.parametrize("alpha", [1.5, 2.0, 1.3, 2.7])
def test_rows_sum_to_one_and_threshold_is_consistent(alpha):
    x = torch.randn(16, 300, dtype=torch.float64)
    p = reference.entmax(x, alpha)
    assert_close(p.sum(-1), torch.ones(16, dtype=torch.float64), atol=1e-12, name="row sums")
    tau = reference.entmax_threshold(x, alpha)
    expect = torch.clamp((alpha - 1) * x - tau, min=0) ** (1 / (alpha - 1))
    assert_close(p, expect, atol=1e-10, name="p from tau")


@pytest.mark.parametrize("alpha", [1.5, 2.0, 1.25])
def test_minus_inf_entries_get_zero_and_match_package(alpha):
    x = torch.randn(5, 40, dtype=torch.float64)
    mask = torch.rand(5, 40) < 0.5
    mask[:, 0] = False
    xm = x.masked_fill(mask, float("-inf"))
    p = reference.entmax(xm, alpha)
    assert (p[mask] == 0).all()
    # The package has no -inf handling of its own for bisect; compare on the kept entries only.
    for r in range(5):
        keep = ~mask[r]
        sub = reference.entmax(x[r, keep][None], alpha)
        assert_close(p[r, keep][None], sub, atol=1e-12, name=f"row {r}")


def test_fully_masked_row_returns_zeros():
    x = torch.full((3, 9), float("-inf"), dtype=torch.float64)
    x[1, 2] = 0.3
    for alpha in (1.5, 2.0, 1.7):
        p = reference.entmax(x, alpha)
        assert torch.isfinite(p).all()
        assert (p[0] == 0).all() and (p[2] == 0).all()
        assert p[1, 2] == 1


@pytest.mark.parametrize("scale", [1e-5, 1e4])
@pytest.mark.parametrize("alpha", [1.5, 2.0, 1.25])
def test_extreme_scales_match_package(scale, alpha):
    x = torch.randn(4, 100, dtype=torch.float64) * scale
    p = reference.entmax(x, alpha)
    if alpha == 1.5:
        want = entmax_pkg.entmax15(x, dim=-1)
    elif alpha == 2.0:
        want = entmax_pkg.sparsemax(x, dim=-1)
    else:
        want = entmax_pkg.entmax_bisect(x, alpha, dim=-1, n_iter=200)
    assert torch.isfinite(p).all()
    assert_close(p, want, atol=1e-9)
    assert_close(p.sum(-1), torch.ones(4, dtype=torch.float64), atol=1e-12, name="row sums")


@pytest.mark.parametrize("alpha", [1.5, 2.0, 1.33, 2.6])
@pytest.mark.parametrize("dim", [0, -1])
def test_gradcheck_float_alpha(alpha, dim):
    x = torch.randn(5, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: reference.entmax(t, alpha, dim=dim), (x,))


def test_gradcheck_tensor_alpha_per_row():
    x = torch.randn(4, 7, dtype=torch.float64, requires_grad=True)
    a = torch.tensor([[1.2], [1.5], [2.0], [2.8]], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t, al: reference.entmax(t, al), (x, a))


def test_gradcheck_tensor_alpha_broadcast_per_head():
    x = torch.randn(2, 3, 4, 5, dtype=torch.float64, requires_grad=True)
    a = (1.1 + torch.rand(1, 3, 1, 1, dtype=torch.float64)).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda t, al: reference.entmax(t, al), (x, a))


def test_alpha_gradient_matches_entmax_bisect():
    x = torch.randn(6, 20, dtype=torch.float64)
    a = torch.full((6, 1), 1.4, dtype=torch.float64, requires_grad=True)
    a2 = a.detach().clone().requires_grad_(True)
    g = torch.randn(6, 20, dtype=torch.float64)
    (reference.entmax(x, a) * g).sum().backward()
    (entmax_pkg.entmax_bisect(x, a2, dim=-1, n_iter=200) * g).sum().backward()
    assert_close(a.grad, a2.grad, atol=1e-7, name="dalpha")


@pytest.mark.parametrize(
    "bad, exc, match",
    [
        (dict(alpha=1.0), ValueError, "alpha"),
        (dict(alpha=0.5), ValueError, "alpha"),
        (dict(alpha=float("nan")), ValueError, "alpha"),
        (dict(alpha="1.5"), TypeError, "alpha"),
        (dict(alpha=torch.tensor([1.5, 1.5, 1.5])), ValueError, "alpha"),
        (dict(alpha=torch.tensor([[1.5], [0.9], [1.2], [2.0]])), ValueError, "alpha"),
        (dict(dim=2), ValueError, "dim"),
        (dict(dim=1.0), TypeError, "dim"),
    ],
)
def test_bad_input_raises_named_error(bad, exc, match):
    x = torch.randn(4, 5)
    with pytest.raises(exc, match=match):
        reference.entmax(x, **bad)


def test_integer_input_raises_type_error():
    with pytest.raises(TypeError, match="x"):
        reference.entmax(torch.arange(6).reshape(2, 3))


# ----------------------------------------------------------------------------------------------
# Attention
# ----------------------------------------------------------------------------------------------


def _naive_attention(q, k, v, mask_add, alpha):
    s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]) + mask_add
    return reference.entmax(s, alpha) @ v


def test_attention_matches_naive_and_package():
    q, k, v = (torch.randn(2, 3, 10, 8, dtype=torch.float64) for _ in range(3))
    out = reference.entmax_attention(q, k, v)
    s = q @ k.transpose(-2, -1) / math.sqrt(8)
    assert_close(out, entmax_pkg.entmax15(s, dim=-1) @ v, atol=1e-12)


def test_attention_causal_is_top_left_aligned():
    q = torch.randn(1, 2, 5, 8, dtype=torch.float64)
    k, v = torch.randn(1, 2, 9, 8, dtype=torch.float64), torch.randn(1, 2, 9, 4, dtype=torch.float64)
    sdpa_mask = torch.ones(5, 9, dtype=torch.bool).tril()
    out = reference.entmax_attention(q, k, v, is_causal=True)
    want = reference.entmax_attention(q, k, v, attn_mask=sdpa_mask)
    assert_close(out, want, atol=1e-14)
    # The softmax limit agrees with SDPA's own mask convention: same mask tensor, same rows live.
    ref_sdpa = F.scaled_dot_product_attention(q, k, v, attn_mask=sdpa_mask)
    assert ref_sdpa.shape == out.shape


def test_attention_bool_and_float_masks_agree_and_broadcast():
    q, k = torch.randn(2, 3, 6, 8, dtype=torch.float64), torch.randn(2, 3, 11, 8, dtype=torch.float64)
    v = torch.randn(2, 3, 11, 5, dtype=torch.float64)
    keep = torch.rand(2, 1, 1, 11) < 0.7
    keep[..., 0] = True
    fmask = torch.zeros(2, 1, 1, 11, dtype=torch.float64).masked_fill(~keep, float("-inf"))
    a = reference.entmax_attention(q, k, v, attn_mask=keep)
    b = reference.entmax_attention(q, k, v, attn_mask=fmask)
    assert_close(a, b, atol=1e-14)
    assert_close(a, _naive_attention(q, k, v, fmask, 1.5), atol=1e-12)


def test_attention_row_with_nothing_to_attend_is_zero():
    q, k, v = (torch.randn(1, 2, 4, 8, dtype=torch.float64) for _ in range(3))
    keep = torch.ones(1, 1, 4, 4, dtype=torch.bool)
    keep[..., 2, :] = False
    out = reference.entmax_attention(q, k, v, attn_mask=keep)
    assert torch.isfinite(out).all()
    assert (out[:, :, 2] == 0).all()


def test_attention_gqa_equals_repeated_kv():
    q = torch.randn(2, 6, 7, 16, dtype=torch.float64)
    k, v = torch.randn(2, 2, 9, 16, dtype=torch.float64), torch.randn(2, 2, 9, 16, dtype=torch.float64)
    out = reference.entmax_attention(q, k, v, enable_gqa=True, alpha=1.3)
    want = reference.entmax_attention(q, k.repeat_interleave(3, 1), v.repeat_interleave(3, 1), alpha=1.3)
    assert_close(out, want, atol=1e-14)


def test_attention_chunking_does_not_change_the_result():
    q, k, v = (torch.randn(1, 2, 37, 8, dtype=torch.float64) for _ in range(3))
    mask = torch.randn(1, 2, 37, 37, dtype=torch.float64)
    a = reference.entmax_attention(q, k, v, attn_mask=mask, alpha=2.0, chunk_size=5)
    b = reference.entmax_attention(q, k, v, attn_mask=mask, alpha=2.0, chunk_size=1000)
    assert_close(a, b, atol=1e-14)
    c = reference.entmax_attention(q, k, v, is_causal=True, chunk_size=4)
    d = reference.entmax_attention(q, k, v, is_causal=True, chunk_size=64)
    assert_close(c, d, atol=1e-14)


def test_attention_gradcheck_with_per_head_alpha_and_float_mask():
    q, k = torch.randn(1, 2, 4, 3, dtype=torch.float64), torch.randn(1, 2, 5, 3, dtype=torch.float64)
    v = torch.randn(1, 2, 5, 2, dtype=torch.float64)
    mask = torch.randn(1, 1, 4, 5, dtype=torch.float64)
    alpha = torch.tensor([1.3, 1.8], dtype=torch.float64)
    ins = [t.requires_grad_(True) for t in (q, k, v, mask, alpha)]
    assert torch.autograd.gradcheck(
        lambda q, k, v, m, a: reference.entmax_attention(q, k, v, attn_mask=m, alpha=a), ins
    )


@pytest.mark.parametrize("alpha", [1.5, 2.0, 1.3])
def test_nan_in_a_row_gives_nan_in_that_row_only(alpha):
    x = torch.randn(3, 8, dtype=torch.float64)
    x[1, 4] = float("nan")
    p = reference.entmax(x, alpha)
    assert torch.isnan(p[1]).all()
    assert torch.isfinite(p[[0, 2]]).all()


def test_empty_rows_and_empty_attention_shapes():
    assert reference.entmax(torch.randn(3, 0)).shape == (3, 0)
    q, k, v = torch.randn(1, 2, 0, 4), torch.randn(1, 2, 5, 4), torch.randn(1, 2, 5, 3)
    assert reference.entmax_attention(q, k, v).shape == (1, 2, 0, 3)
    q, k, v = torch.randn(1, 2, 3, 4), torch.randn(1, 2, 0, 4), torch.randn(1, 2, 0, 3)
    out = reference.entmax_attention(q, k, v)
    assert out.shape == (1, 2, 3, 3) and (out == 0).all()
    tau, o2 = reference.entmax_attention_stats(q, k, v)
    assert tau.shape == (1, 2, 3) and torch.isinf(tau).all() and (o2 == 0).all()
