"""The pass on small hand-written graphs: the attention op present before, the fused op after,
the exact match count, and one negative per rule (the pass must leave the site alone and say why).

Graphs come from Dynamo itself (a capturing backend), so they are the graphs the backend sees.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from adasplash_compile import reference
from adasplash_compile.passes import FUSED_OP, rewrite_attention
from adasplash_compile.passes.analyze_layout import einsum_as_contraction
from adasplash_compile.passes.analyze_mask import Tri, is_dominant_fill
from adasplash_compile.passes.graph_ops import op_name


@pytest.fixture(autouse=True)
def _fresh_dynamo():
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


def capture(fn, *args, dynamic=None):
    """The (single) Dynamo graph of fn(*args) and its example inputs."""
    graphs = []

    def grab(gm, example_inputs):
        graphs.append((gm, list(example_inputs)))
        return gm.forward

    torch.compile(fn, backend=grab, fullgraph=True, dynamic=dynamic)(*args)
    assert len(graphs) == 1
    return graphs[0]


def count(gm, pred) -> int:
    return sum(1 for n in gm.graph.nodes if pred(n))


def is_fused(n) -> bool:
    return n.op == "call_function" and n.target is FUSED_OP


def is_map(n) -> bool:
    return op_name(n) in ("softmax", "sdpa") or getattr(n.target, "__name__", "") in ("entmax15", "sparsemax", "entmax_bisect", "entmax")


def run(fn, *args, convert=True, alpha=1.5, dynamic=None):
    """Rewrite fn's graph; returns (original gm, rewritten gm, sites, example inputs)."""
    gm, ex = capture(fn, *args, dynamic=dynamic)
    before = count(gm, is_map)
    new, sites = rewrite_attention(gm, ex, {"convert_softmax": convert, "alpha": alpha})
    assert count(gm, is_fused) == 0 and count(gm, is_map) == before  # input graph untouched
    return gm, new, sites, ex


def qkv(B=2, H=3, L=7, D=8, Lk=None, dtype=torch.float64, Hk=None):
    Lk = Lk or L
    return (torch.randn(B, H, L, D, dtype=dtype), torch.randn(B, Hk or H, Lk, D, dtype=dtype),
            torch.randn(B, Hk or H, Lk, D, dtype=dtype))


def check_rewritten(fn, args, n_sites=1, *, alpha=1.5, is_causal=None, ref=None, convert=True):
    gm, new, sites, ex = run(fn, *args, convert=convert, alpha=alpha)
    assert count(gm, is_map) == n_sites
    assert [s.status for s in sites] == ["rewritten"] * n_sites, [s.reason for s in sites]
    assert count(new, is_fused) == n_sites and count(new, is_map) == 0
    if is_causal is not None:
        assert all(s.is_causal == is_causal for s in sites)
    if ref is not None:
        got = new(*ex)
        got = got[0] if isinstance(got, (tuple, list)) else got
        torch.testing.assert_close(got, ref(*args), rtol=1e-10, atol=1e-10)
    return sites


def check_skipped(fn, args, fragment, *, convert=True):
    gm, new, sites, _ = run(fn, *args, convert=convert)
    assert new is gm and count(new, is_fused) == 0
    assert len(sites) == 1 and sites[0].status == "skipped", sites
    assert fragment in sites[0].reason, sites[0].reason
    return sites[0]


def entmax_ref(alpha=1.5, **kw):
    return lambda q, k, v, *rest: reference.entmax_attention(q, k, v, alpha=alpha, **kw)


# ----------------------------------------------------------------------------------------------
# score computation forms
# ----------------------------------------------------------------------------------------------


def test_matmul_operator_with_float_scale():
    def f(q, k, v):
        return torch.softmax((q @ k.transpose(-2, -1)) * (1 / math.sqrt(q.size(-1))), dim=-1) @ v

    check_rewritten(f, qkv(), ref=entmax_ref(), is_causal=False)


def test_div_scale_and_alpha_option():
    def f(q, k, v):
        s = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(q.shape[-1])
        return torch.matmul(s.softmax(-1), v)

    check_rewritten(f, qkv(), alpha=1.7, ref=entmax_ref(alpha=1.7))


def test_scale_on_q_before_matmul_and_no_scale_t5_style():
    def f(q, k, v):
        return ((q * 0.25) @ k.transpose(-1, -2)).softmax(dim=-1) @ v

    check_rewritten(f, qkv(), ref=entmax_ref(scale=0.25))

    def t5(q, k, v):
        return F.softmax(q @ k.transpose(-1, -2), dim=-1) @ v

    check_rewritten(t5, qkv(), ref=entmax_ref(scale=1.0))


def test_zero_dim_tensor_scale_gpt2_style():
    def f(q, k, v):
        s = q @ k.transpose(-1, -2)
        s = s / torch.full([], v.size(-1) ** 0.5, dtype=s.dtype, device=s.device)
        return F.softmax(s, dim=-1).type(v.dtype) @ v

    check_rewritten(f, qkv(), ref=entmax_ref())


def test_bmm_3d_layout():
    def f(q, k, v):
        return torch.bmm(F.softmax(torch.bmm(q, k.transpose(1, 2)) * 0.3, dim=-1), v)

    q, k, v = (t.reshape(6, 7, 8) for t in qkv())
    ref = lambda q, k, v: reference.entmax_attention(q[None], k[None], v[None], scale=0.3)[0]  # noqa: E731
    check_rewritten(f, (q, k, v), ref=ref)


def test_baddbmm_with_additive_mask():
    def f(q, k, v, m):
        return torch.bmm(F.softmax(torch.baddbmm(m, q, k.transpose(-2, -1), alpha=0.5), dim=-1), v)

    q, k, v = (t.reshape(6, 7, 8) for t in qkv())
    m = torch.randn(6, 7, 7, dtype=torch.float64)
    ref = lambda q, k, v, m: reference.entmax_attention(q[None], k[None], v[None], m[None], scale=0.5)[0]  # noqa: E731
    check_rewritten(f, (q, k, v, m), ref=ref)


def test_einsum_bhld_layout_and_blhd_layout():
    def f(q, k, v):
        s = torch.einsum("bhqd,bhkd->bhqk", q, k) * 0.2
        return torch.einsum("bhqk,bhkd->bhqd", F.softmax(s, -1), v)

    check_rewritten(f, qkv(), ref=entmax_ref(scale=0.2))

    def g(q, k, v):  # (B, L, H, D) in and out
        s = torch.einsum("bqhd,bkhd->bhqk", q, k) * 0.2
        return torch.einsum("bhqk,bkhd->bqhd", F.softmax(s, -1), v)

    q, k, v = (t.transpose(1, 2).contiguous() for t in qkv())
    ref = lambda q, k, v: reference.entmax_attention(  # noqa: E731
        q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), scale=0.2).transpose(1, 2)
    check_rewritten(g, (q, k, v), ref=ref)


def test_einsum_parser():
    spec = einsum_as_contraction("bqhd,bkhd->bhqk")
    assert (spec.batch, spec.q, spec.k, spec.d) == ("bh", "q", "k", "d")
    assert einsum_as_contraction("bhqd,bhkd->bhkq") is None  # keys not last
    assert einsum_as_contraction("bhqd,bhkd->bhq") is None


# ----------------------------------------------------------------------------------------------
# masks
# ----------------------------------------------------------------------------------------------


def test_causal_tril_buffer_sliced_becomes_is_causal():
    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("bias", torch.tril(torch.ones(16, 16)).view(1, 1, 16, 16))

        def forward(self, q, k, v):
            T = q.size(-2)
            s = (q @ k.transpose(-2, -1)) * 0.3
            s = s.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
            return F.softmax(s, dim=-1) @ v

    check_rewritten(M().double(), qkv(), is_causal=True, ref=entmax_ref(scale=0.3, is_causal=True))


def test_non_causal_buffer_passed_as_bool_mask():
    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("allowed", torch.rand(7, 7) > 0.3)

        def forward(self, q, k, v):
            s = (q @ k.transpose(-2, -1)) * 0.3
            return F.softmax(s.masked_fill(~self.allowed, float("-inf")), dim=-1) @ v

    m = M()
    m.allowed[:, 0] = True
    check_rewritten(m, qkv(), is_causal=False, ref=lambda q, k, v: reference.entmax_attention(
        q, k, v, m.allowed, scale=0.3))


def test_causal_from_arange_comparison_and_finfo_min_where_hf_style():
    def f(q, k, v):
        L = q.size(-2)
        qi = torch.arange(L)[None, None, :, None]
        ki = torch.arange(L)[None, None, None, :]
        mask = torch.where(ki <= qi, torch.zeros((), dtype=q.dtype), torch.finfo(q.dtype).min)
        return F.softmax(q @ k.transpose(-2, -1) * 0.3 + mask, dim=-1) @ v

    check_rewritten(f, qkv(), is_causal=True, ref=entmax_ref(scale=0.3, is_causal=True))


def test_triu_ones_masked_fill_is_causal_and_offset_diagonal_is_not():
    def f(q, k, v):
        L = q.size(-2)
        upper = torch.triu(torch.ones(L, L, dtype=torch.bool), diagonal=1)
        return F.softmax((q @ k.transpose(-2, -1)).masked_fill(upper, float("-inf")), dim=-1) @ v

    check_rewritten(f, qkv(), is_causal=True, ref=entmax_ref(scale=1.0, is_causal=True))

    def g(q, k, v):  # diagonal=2: a banded mask, not SDPA's causal: passed as a mask
        L = q.size(-2)
        upper = torch.triu(torch.ones(L, L, dtype=torch.bool), diagonal=2)
        return F.softmax((q @ k.transpose(-2, -1)).masked_fill(upper, float("-inf")), dim=-1) @ v

    L = 7
    allowed = ~torch.triu(torch.ones(L, L, dtype=torch.bool), diagonal=2)
    check_rewritten(g, qkv(L=L), is_causal=False, ref=lambda q, k, v: reference.entmax_attention(
        q, k, v, allowed, scale=1.0))


def test_padding_mask_masked_fill_dominant_value_opennmt_style():
    def f(q, k, v, pad):
        s = (q / math.sqrt(q.size(-1))) @ k.transpose(-2, -1)
        return F.softmax(s.masked_fill(pad[:, None, None, :], -1e18), dim=-1) @ v

    q, k, v = qkv()
    pad = torch.zeros(2, 7, dtype=torch.bool)
    pad[1, 4:] = True
    check_rewritten(f, (q, k, v, pad), is_causal=False, ref=lambda q, k, v, pad: reference.entmax_attention(
        q, k, v, ~pad[:, None, None, :]))


def test_small_finite_masked_fill_is_skipped():
    def f(q, k, v, pad):
        return F.softmax((q @ k.transpose(-2, -1)).masked_fill(pad, -1e4), dim=-1) @ v

    q, k, v = qkv()
    check_skipped(f, (q, k, v, torch.rand(2, 1, 7, 7) > 0.5), "small finite value")


def test_additive_float_mask_passed_through_exactly():
    def f(q, k, v, bias):
        return F.softmax(q @ k.transpose(-2, -1) * 0.3 + bias, dim=-1) @ v

    q, k, v = qkv()
    bias = torch.randn(1, 3, 7, 7, dtype=torch.float64)
    check_rewritten(f, (q, k, v, bias), ref=lambda q, k, v, b: reference.entmax_attention(q, k, v, b, scale=0.3))


def test_tri_and_dominance_helpers():
    assert Tri(0).is_causal_allow and not Tri(0, negated=True).is_causal_allow and not Tri(1).is_causal_allow
    assert is_dominant_fill(-math.inf) and is_dominant_fill(-1e18)
    assert is_dominant_fill(torch.finfo(torch.float32).min) and not is_dominant_fill(-1e4)


# ----------------------------------------------------------------------------------------------
# GQA, entmax maps, SDPA
# ----------------------------------------------------------------------------------------------


def _repeat_kv(x, n):
    B, Hk, L, D = x.shape
    return x[:, :, None, :, :].expand(B, Hk, n, L, D).reshape(B, Hk * n, L, D)


def test_repeat_kv_becomes_gqa_with_unrepeated_kv():
    def f(q, k, v):
        k, v = _repeat_kv(k, 3), _repeat_kv(v, 3)
        return F.softmax(q @ k.transpose(2, 3) * 0.3, dim=-1) @ v

    q, k, v = qkv(H=6, Hk=2)
    sites = check_rewritten(f, (q, k, v), ref=lambda q, k, v: reference.entmax_attention(
        q, k, v, scale=0.3, enable_gqa=True))
    assert sites[0].gqa == 3
    _, new, _, _ = run(f, q, k, v)
    call = next(n for n in new.graph.nodes if is_fused(n))
    assert call.args[1].meta["example_value"].shape[1] == 2  # K goes in un-repeated


def test_entmax_package_maps_without_conversion():
    entmax = pytest.importorskip("entmax")
    import adasplash_compile.backend  # noqa: F401  (allow_in_graph registration)

    def f15(q, k, v):
        return entmax.entmax15(q @ k.transpose(-2, -1) * 0.3, dim=-1) @ v

    check_rewritten(f15, qkv(), convert=False, ref=entmax_ref(scale=0.3))

    def fsp(q, k, v):
        return entmax.sparsemax(q @ k.transpose(-2, -1) * 0.3, dim=-1) @ v

    check_rewritten(fsp, qkv(), convert=False, ref=entmax_ref(alpha=2.0, scale=0.3))

    def fbis(q, k, v):
        return entmax.entmax_bisect(q @ k.transpose(-2, -1) * 0.3, 1.3, dim=-1, n_iter=100) @ v

    check_rewritten(fbis, qkv(), convert=False)


def test_our_entmax_function_is_a_site():
    import adasplash_compile
    import adasplash_compile.backend  # noqa: F401

    def f(q, k, v):
        return adasplash_compile.entmax(q @ k.transpose(-2, -1) * 0.3, alpha=1.25) @ v

    # float32: ops.entmax takes the untraceable reference shortcut for float64 inputs
    args = tuple(t.float() for t in qkv())
    gm, new, sites, ex = run(f, *args, convert=False)
    assert [s.status for s in sites] == ["rewritten"] and count(new, is_fused) == 1
    want = reference.entmax_attention(*(t.double() for t in args), alpha=1.25, scale=0.3)
    torch.testing.assert_close(new(*ex)[0].double(), want, rtol=1e-5, atol=1e-5)


def test_sdpa_arguments_are_carried():
    def f(q, k, v, m):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=m, scale=0.2)

    q, k, v = qkv(Lk=9)
    m = torch.rand(2, 1, 7, 9) > 0.3
    m[..., 0] = True
    check_rewritten(f, (q, k, v, m), ref=lambda q, k, v, m: reference.entmax_attention(q, k, v, m, scale=0.2))

    def g(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)

    check_rewritten(g, qkv(H=4, Hk=2), is_causal=True, ref=lambda q, k, v: reference.entmax_attention(
        q, k, v, is_causal=True, enable_gqa=True))


# ----------------------------------------------------------------------------------------------
# negatives: left alone, with the reason
# ----------------------------------------------------------------------------------------------


def test_softmax_left_alone_without_conversion():
    def f(q, k, v):
        return F.softmax(q @ k.transpose(-2, -1), dim=-1) @ v

    check_skipped(f, qkv(), "convert_softmax", convert=False)


def test_weights_with_other_users_are_skipped():
    def f(q, k, v):
        w = F.softmax(q @ k.transpose(-2, -1), dim=-1)
        return w @ v, w.mean()

    check_skipped(f, qkv(), "users")


def test_map_not_over_keys_is_skipped():
    def f(q, k, v):
        return F.softmax(q @ k.transpose(-2, -1), dim=-2) @ v

    check_skipped(f, qkv(), "not over the key dimension")


def test_weights_as_right_operand_are_skipped():
    def f(q, k, v):
        return v.transpose(-1, -2) @ F.softmax(q @ k.transpose(-2, -1), dim=-1)

    check_skipped(f, qkv(), "right operand")


def test_training_dropout_is_skipped_eval_dropout_folded():
    drop = torch.nn.Dropout(0.1)

    def f(q, k, v):
        return drop(F.softmax(q @ k.transpose(-2, -1), dim=-1)) @ v

    drop.train()
    check_skipped(f, qkv(), "dropout")
    torch._dynamo.reset()
    drop.eval()
    check_rewritten(f, qkv(), ref=entmax_ref(scale=1.0))


def test_softmax_over_logits_is_not_a_site():
    def f(x, w):
        return F.softmax(x @ w, dim=-1).sum()

    gm, new, sites, _ = run(f, torch.randn(4, 5), torch.randn(5, 6))
    assert sites == [] and new is gm


def test_pass_is_idempotent_and_side_effect_free():
    def f(q, k, v):
        return F.softmax(q @ k.transpose(-2, -1), dim=-1) @ v

    gm, ex = capture(f, *qkv())
    code = gm.code
    a, sites_a = rewrite_attention(gm, ex, {"convert_softmax": True})
    b, sites_b = rewrite_attention(gm, ex, {"convert_softmax": True})
    assert gm.code == code  # the input graph is not modified
    assert a.code == b.code and len(sites_a) == len(sites_b) == 1
    again, sites_again = rewrite_attention(a, ex, {"convert_softmax": True})
    assert again is a and sites_again == []  # nothing left to do on its own output


def test_uuid_depends_on_options_and_is_stable():
    from adasplash_compile.passes import PassOptions, uuid

    assert uuid(PassOptions()) == uuid(PassOptions())
    assert uuid(PassOptions()) != uuid(PassOptions(convert_softmax=True))
    assert uuid(PassOptions(alpha=1.5)) != uuid(PassOptions(alpha=2.0))
    assert uuid(PassOptions(compiler="eager")) == uuid(PassOptions())  # the rewrite does not depend on it
