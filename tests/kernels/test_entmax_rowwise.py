"""Row-wise α-entmax kernels (kernels/rowwise.py) against the float64 reference.

Runs on the GPU, or on the CPU through Triton's interpreter (TRITON_INTERPRET=1); without either the
kernels are not what runs, so the kernel tests skip. The bad-input tests go through the public
``adasplash_compile.entmax`` and run everywhere.
"""

from __future__ import annotations

import pytest
import torch

import adasplash_compile
from adasplash_compile import reference
from adasplash_compile.kernels import rowwise
from tests.helpers import assert_close, assert_fa_rule, poison, rel_err

ALPHAS = [1.5, 2.0, 1.25, 1.75, 3.0]
LOW_PRECISION = [torch.float16, torch.bfloat16]


@pytest.fixture
def dev(device, kernels_active):
    if not kernels_active:
        pytest.skip("row-wise kernels run on CUDA or with TRITON_INTERPRET=1; this CPU run takes the reference path")
    return device


def _forward(x, alpha, alpha_t=None, **kw):
    """Kernel forward into a NaN-poisoned buffer, with the per-row iteration counts."""
    out = poison(torch.empty(x.shape, dtype=x.dtype, device=x.device))
    p, iters = rowwise.entmax_forward_with_stats(x, alpha, alpha_t, out=out, **kw)
    assert p.data_ptr() == out.data_ptr()
    return p, iters


def _check_fp32(p, x, alpha, iters, rows_alpha=None):
    a = alpha if rows_alpha is None else rows_alpha.double().unsqueeze(-1)
    ref = reference.entmax(x.double(), a)
    assert not torch.isnan(p).any(), "NaN in output (poisoned entries left unwritten?)"
    err = rel_err(p, ref)
    assert err <= 1e-5, f"rel error {err:.3g} vs float64"
    assert_close(p, ref, atol=2e-6, name="p")
    finite_rows = torch.isfinite(x).any(-1)
    sums = p.double().sum(-1)
    assert_close(sums[finite_rows], torch.ones_like(sums[finite_rows]), atol=1e-5, name="row sums")
    assert int(iters.max()) < rowwise.MAX_ITERS, f"hit the iteration cap: {iters.tolist()}"


# ---------------------------------------------------------------------------------------------
# forward
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 7, 100, 1000])
@pytest.mark.parametrize("alpha", ALPHAS)
def test_forward_fp32_matches_float64_reference(dev, alpha, n):
    x = torch.randn(5, n, device=dev) * 2
    p, iters = _forward(x, alpha)
    _check_fp32(p, x, alpha, iters)
    assert (iters >= 1).all()


@pytest.mark.parametrize("alpha", [1.5, 2.0, 1.25, 3.0])
def test_forward_looping_path_matches_reference(dev, alpha):
    # block_n=64 < n: the kernel loops over blocks (max, histogram, one pass per f(τ), write).
    x = torch.randn(4, 300, device=dev) * 2
    bn, looping, _ = rowwise.config_for(300, block_n=64)
    assert looping and bn == 64
    p, iters = _forward(x, alpha, block_n=64)
    _check_fp32(p, x, alpha, iters)


def test_forward_default_looping_config_beyond_one_block(dev):
    n = rowwise._MAX_SINGLE_BLOCK + 333
    assert rowwise.config_for(n)[1], "rows longer than the single-block limit must loop"
    x = torch.randn(2, n, device=dev)
    p, iters = _forward(x, 1.5)
    _check_fp32(p, x, 1.5, iters)


@pytest.mark.parametrize("scale", [1e-3, 30.0])
def test_rows_sum_to_one_for_flat_and_peaked_rows(dev, scale):
    # near-uniform rows put τ at the top of [−1, 0]; peaked rows leave one or two entries in support.
    x = torch.randn(6, 300, device=dev) * scale
    for alpha in (1.5, 2.0, 1.3):
        p, iters = _forward(x, alpha)
        _check_fp32(p, x, alpha, iters)


@pytest.mark.parametrize("dtype", LOW_PRECISION)
@pytest.mark.parametrize("alpha", [1.5, 2.0, 1.75])
def test_forward_low_precision_fa_rule(dev, dtype, alpha):
    x = (torch.randn(6, 200, device=dev) * 2).to(dtype)
    p, _ = _forward(x, alpha)
    assert p.dtype == dtype
    oracle = reference.entmax(x.double(), alpha)
    baseline = reference.entmax(x, alpha)  # plain PyTorch on the same low-precision tensor
    assert_fa_rule(p, oracle, baseline, name=f"p {dtype}")


def test_forward_non_contiguous_input(dev):
    x = torch.randn(300, 6, device=dev).t()
    assert not x.is_contiguous()
    p, iters = _forward(x, 1.5)
    _check_fp32(p, x, 1.5, iters)


def test_per_row_alpha_tensor(dev):
    x = torch.randn(6, 150, device=dev) * 2
    alpha_t = torch.tensor([1.1, 1.3, 1.5, 2.0, 2.4, 3.5], device=dev)
    p, iters = _forward(x, 1.5, alpha_t)
    _check_fp32(p, x, 1.5, iters, rows_alpha=alpha_t)
    p_loop, iters_loop = _forward(x, 1.5, alpha_t, block_n=32)
    _check_fp32(p_loop, x, 1.5, iters_loop, rows_alpha=alpha_t)


@pytest.mark.parametrize("alpha", [1.5, 2.0, 1.6])
def test_masked_entries_get_zero(dev, alpha):
    x = torch.randn(5, 120, device=dev) * 2
    mask = torch.rand(5, 120, device=dev) < 0.6
    mask[:, 3] = False
    x = x.masked_fill(mask, float("-inf"))
    for bn in (None, 32):
        p, iters = _forward(x, alpha, block_n=bn)
        assert (p[mask] == 0).all()
        _check_fp32(p, x, alpha, iters)


@pytest.mark.parametrize("block_n", [None, 32])
def test_fully_masked_row_returns_zeros(dev, block_n):
    x = torch.randn(4, 90, device=dev)
    x[1] = float("-inf")
    x[3] = float("-inf")
    for alpha, alpha_t in ((1.5, None), (2.0, None), (1.4, None), (1.5, torch.full((4,), 1.7, device=dev))):
        p, iters = _forward(x, alpha, alpha_t, block_n=block_n)
        assert not torch.isnan(p).any()
        assert (p[1] == 0).all() and (p[3] == 0).all()
        assert iters[1] == 0 and iters[3] == 0
        ref = reference.entmax(x.double(), alpha if alpha_t is None else alpha_t.double()[:, None])
        assert_close(p, ref, atol=2e-6)
        g = torch.randn_like(p)
        dx, da = rowwise.entmax_backward(g, p, alpha, alpha_t, block_n=block_n)
        assert not torch.isnan(dx).any() and (dx[1] == 0).all() and (dx[3] == 0).all()
        if alpha_t is not None:
            assert not torch.isnan(da).any() and da[1] == 0 and da[3] == 0


def test_float64_input_takes_exact_reference(dev):
    x = torch.randn(4, 50, device=dev, dtype=torch.float64)
    p = rowwise.entmax_forward(x, 1.5)
    assert p.dtype == torch.float64
    assert_close(p, reference.entmax(x, 1.5), atol=1e-13)


def test_iteration_count_is_reported_and_small(dev):
    x = torch.randn(16, 512, device=dev)
    for alpha in (1.5, 2.0, 1.25):
        _, iters = rowwise.entmax_forward_with_stats(x, alpha)
        assert iters.dtype == torch.int32 and iters.shape == (16,)
        # the histogram bracket is ~1/64 wide: a handful of evaluations, far below the cap
        assert 1 <= iters.float().mean().item() <= 6, iters.tolist()


# ---------------------------------------------------------------------------------------------
# forward tuning variants (rows per program, packed-count bracket, early finish)
# ---------------------------------------------------------------------------------------------

# (rows_per_program, bracket, packed_bins, finish[, topk]): each launches _entmax_fwd_rows_kernel
VARIANTS = [
    (1, "packed", 16, False),
    (1, "hist", 16, True),
    (2, "packed", 8, True),
    (4, "none", 16, True),
    (2, "packed", 32, False),
    (1, "top", 16, False, 2),
    (2, "top", 16, True, 1),
]


def _variant_kw(v):
    r, b, pb, f = v[:4]
    kw = dict(rows_per_program=r, bracket=b, packed_bins=pb, finish=f)
    if len(v) > 4:
        kw["topk"] = v[4]
    return kw


@pytest.mark.parametrize("v", VARIANTS, ids=lambda v: "-".join(map(str, v)))
@pytest.mark.parametrize("n", [7, 33, 1000])
def test_forward_variants_match_float64_reference(dev, v, n):
    # 5 rows: not a multiple of 2 or 4, so the last program has rows past the end; masked entries
    # and a fully masked row on top.
    x = torch.randn(5, n, device=dev) * 2
    x[1, ::3] = float("-inf")
    x[3] = float("-inf")
    for alpha in ((1.5, 2.0, 1.3) if n < 1000 else (1.5,)):
        p, iters = _forward(x, alpha, **_variant_kw(v))
        assert (p[3] == 0).all() and iters[3] == 0
        assert (p[1, ::3] == 0).all()
        _check_fp32(p, x, alpha, iters)


@pytest.mark.parametrize("v", [(2, "packed", 16, True), (1, "packed", 16, True)], ids=str)
def test_forward_variants_looping_and_per_row_alpha(dev, v):
    x = torch.randn(3, 150, device=dev) * 2
    x[0, ::4] = float("-inf")
    alpha_t = torch.tensor([1.3, 1.5, 2.2], device=dev)
    p, iters = _forward(x, 1.5, alpha_t, **_variant_kw(v))
    _check_fp32(p, x, 1.5, iters, rows_alpha=alpha_t)
    for alpha in (1.5, 2.0):  # block_n=64 < n: the looping path of the rows kernel
        p, iters = _forward(x, alpha, block_n=64, **_variant_kw(v))
        _check_fp32(p, x, alpha, iters)


@pytest.mark.parametrize("dtype", LOW_PRECISION)
def test_forward_variants_low_precision(dev, dtype):
    x = (torch.randn(5, 200, device=dev) * 2).to(dtype)
    p, _ = _forward(x, 1.5, rows_per_program=2, bracket="packed", finish=True)
    assert p.dtype == dtype
    assert_fa_rule(p, reference.entmax(x.double(), 1.5), reference.entmax(x, 1.5), name=f"p {dtype}")


@pytest.mark.parametrize("v", [None] + VARIANTS, ids=lambda v: "default" if v is None else "-".join(map(str, v)))
@pytest.mark.parametrize("block_n", [None, 32])
def test_nan_rows_come_out_nan(dev, v, block_n):
    """A row holding a NaN (or +inf) comes out all NaN, as softmax's would (the row max keeps
    NaN); every other row matches the reference. Each kernel: the histogram one (per-row α, and
    α > 2), the rows / top variants, one block and looping over blocks."""
    x = torch.randn(5, 90, device=dev) * 2
    x[1, 7] = float("nan")
    x[2] = float("nan")
    x[3, 40] = float("inf")
    bad = torch.tensor([False, True, True, True, False], device=dev)
    kw = {} if v is None else _variant_kw(v)
    cases = [(1.5, None), (2.0, None), (1.3, None)]
    if v is None:
        cases += [(2.5, None), (1.5, torch.tensor([1.3, 1.5, 2.0, 1.7, 2.4], device=dev))]
    for alpha, alpha_t in cases:
        p, _ = _forward(x, alpha, alpha_t, block_n=block_n, **kw)
        assert bool(p[bad].isnan().all()), f"α={alpha}: a NaN row is not all NaN"
        assert not bool(p[~bad].isnan().any()), f"α={alpha}: NaN leaked into another row"
        ref = reference.entmax(x[~bad].double(), alpha if alpha_t is None else alpha_t[~bad].double()[:, None])
        assert_close(p[~bad], ref, atol=2e-6)


def test_early_finish_saves_evaluations(dev):
    x = torch.randn(4, 1000, device=dev)
    _, base = rowwise.entmax_forward_with_stats(x, 1.5, bracket="hist")
    _, fin = rowwise.entmax_forward_with_stats(x, 1.5, bracket="hist", finish=True)
    assert fin.sum() < base.sum(), (fin.tolist(), base.tolist())


@pytest.mark.parametrize("n", [256, 250])
def test_top_bracket_subset_start(dev, n):
    """The "top" bracket solves on the per-thread top-2 first (n = 256: groups are what each thread
    holds, 4-wide; 250: 1-wide groups, n % 16 != 0). Its root is a lower bound, so the full solve
    from it stays exact; on random rows the support lies in the subset and one full evaluation
    confirms it, where the histogram bracket needs ~3. It is the default for a float α ≤ 2; α > 2
    (steps from below stall there) and per-row α take the histogram kernel."""
    x = torch.randn(6, n, device=dev) * 3
    x[2, ::2] = float("-inf")
    x[4] = float("-inf")
    for alpha in (1.5, 2.0, 1.3, 1.8, 2.6):
        p, iters = _forward(x, alpha, num_warps=2)
        sub = rowwise.last_subset_evaluations()
        _check_fp32(p, x, alpha, iters)
        assert (p[4] == 0).all() and iters[4] == 0
        if alpha <= 2.0:  # the default for a float α ≤ 2
            assert (sub[[0, 1, 2, 3, 5]] >= 1).all(), sub.tolist()
            _, hist = rowwise.entmax_forward_with_stats(x, alpha, bracket="hist")
            assert iters.sum() < hist.sum(), (iters.tolist(), hist.tolist())
        else:  # α > 2: the histogram kernel, even when asked for the subset start
            assert (sub == 0).all(), sub.tolist()
            rowwise.entmax_forward_with_stats(x, alpha, bracket="top")
            assert (rowwise.last_subset_evaluations() == 0).all()
    # a per-row α tensor takes the histogram kernel
    alpha_t = torch.tensor([1.2, 1.5, 1.8, 2.0, 2.4, 3.0], device=dev)
    p, iters = _forward(x, 1.5, alpha_t, bracket="top", num_warps=2)
    _check_fp32(p, x, 1.5, iters, rows_alpha=alpha_t)
    assert (rowwise.last_subset_evaluations() == 0).all()


def test_bad_variant_options_raise(dev):
    x = torch.randn(2, 8, device=dev)
    with pytest.raises(ValueError, match="bracket"):
        rowwise.entmax_forward(x, 1.5, bracket="sort")
    with pytest.raises(ValueError, match="rows_per_program"):
        rowwise.entmax_forward(x, 1.5, rows_per_program=3)
    with pytest.raises(ValueError, match="packed_bins"):
        rowwise.entmax_forward(x, 1.5, packed_bins=12)
    with pytest.raises(ValueError, match="topk"):
        rowwise.entmax_forward(x, 1.5, bracket="top", topk=3)


# ---------------------------------------------------------------------------------------------
# backward
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("block_n", [None, 64])
@pytest.mark.parametrize("alpha", ALPHAS)
def test_backward_dx_matches_reference(dev, alpha, block_n):
    x = torch.randn(5, 200, device=dev) * 2
    p = rowwise.entmax_forward(x, alpha)
    g = torch.randn_like(p)
    out = poison(torch.empty_like(p))
    dx, da = rowwise.entmax_backward(g, p, alpha, None, block_n=block_n, out=out)
    assert da is None and dx.data_ptr() == out.data_ptr()
    dx_ref, _ = reference.entmax_backward(p.double(), g.double(), alpha)
    assert_close(dx, dx_ref, atol=2e-5 * dx_ref.abs().max().item() + 1e-7, name="dx")


@pytest.mark.parametrize("block_n", [None, 64])
def test_backward_dalpha_per_row_matches_reference(dev, block_n):
    x = torch.randn(6, 200, device=dev) * 2
    alpha_t = torch.tensor([1.2, 1.5, 1.8, 2.0, 2.5, 3.0], device=dev)
    p = rowwise.entmax_forward(x, 1.5, alpha_t)
    g = torch.randn_like(p)
    dx, da = rowwise.entmax_backward(g, p, 1.5, alpha_t, block_n=block_n)
    a64 = alpha_t.double().unsqueeze(-1)
    dx_ref, da_ref = reference.entmax_backward(p.double(), g.double(), a64, need_alpha=True)
    assert_close(dx, dx_ref, atol=2e-5 * dx_ref.abs().max().item() + 1e-7, name="dx")
    assert da.shape == (6,) and da.dtype == alpha_t.dtype
    assert_close(da, da_ref.squeeze(-1), atol=1e-4 * da_ref.abs().max().item() + 1e-6, name="dalpha")


@pytest.mark.parametrize("dtype", LOW_PRECISION)
def test_backward_low_precision_fa_rule(dev, dtype):
    x = (torch.randn(5, 160, device=dev) * 2).to(dtype)
    p = rowwise.entmax_forward(x, 1.5)
    g = torch.randn_like(p)
    dx, _ = rowwise.entmax_backward(g, p, 1.5)
    assert dx.dtype == dtype
    oracle, _ = reference.entmax_backward(p.double(), g.double(), 1.5)
    baseline, _ = reference.entmax_backward(p, g, 1.5)  # same math in the low precision
    assert_fa_rule(dx, oracle, baseline, name=f"dx {dtype}")


# ---------------------------------------------------------------------------------------------
# through the public op: dims, shapes, autograd, torch.compile
# ---------------------------------------------------------------------------------------------


def test_public_entmax_dim_not_last_3d(dev):
    for alpha, dim, shape in ((1.5, 1, (3, 40, 2)), (2.0, 0, (30, 2, 3)), (1.3, -2, (2, 25, 3))):
        x = torch.randn(shape, device=dev)
        p = adasplash_compile.entmax(x, alpha, dim=dim)
        ref = reference.entmax(x.double(), alpha, dim=dim)
        assert rel_err(p, ref) <= 1e-5
        assert_close(p, ref, atol=2e-6)


def test_public_entmax_autograd_with_tensor_alpha(dev):
    x = (torch.randn(2, 3, 50, device=dev) * 2).requires_grad_()
    alpha = torch.tensor([1.3, 1.6, 2.2], device=dev).reshape(1, 3, 1).requires_grad_()
    p = adasplash_compile.entmax(x, alpha, dim=-1)
    w = torch.randn_like(p)
    (p * w).sum().backward()
    x64 = x.detach().double().requires_grad_()
    a64 = alpha.detach().double().requires_grad_()
    p64 = reference.entmax(x64, a64, dim=-1)
    (p64 * w.double()).sum().backward()
    assert_close(p, p64, atol=2e-6, name="p")
    assert_close(x.grad, x64.grad, atol=1e-5 * x64.grad.abs().max().item() + 1e-7, name="dx")
    assert_close(alpha.grad, a64.grad, atol=1e-4 * a64.grad.abs().max().item() + 1e-6, name="dalpha")


def test_torch_compile_fullgraph_smoke(dev):
    x = torch.randn(4, 6, 30, device=dev)

    def f(t):
        return adasplash_compile.entmax(t * 2.0, 1.5, dim=1)

    compiled = torch.compile(f, fullgraph=True)
    assert_close(compiled(x), reference.entmax((x * 2.0).double(), 1.5, dim=1), atol=2e-6)


# ---------------------------------------------------------------------------------------------
# bad input (public API; runs with or without the kernels)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("alpha", [1.0, 0.5, -2.0, float("nan"), float("inf")])
def test_bad_alpha_value_raises_naming_alpha(alpha):
    with pytest.raises(ValueError, match="alpha"):
        adasplash_compile.entmax(torch.randn(3, 8), alpha)


def test_nan_in_alpha_tensor_raises():
    with pytest.raises(ValueError, match="alpha"):
        adasplash_compile.entmax(torch.randn(3, 8), torch.tensor([[1.5], [float("nan")], [2.0]]))


def test_alpha_tensor_not_broadcasting_raises():
    with pytest.raises(ValueError, match="alpha"):
        adasplash_compile.entmax(torch.randn(3, 8), torch.full((4, 1), 1.5))


@pytest.mark.parametrize("dim", [2, -3, 5])
def test_dim_out_of_range_raises(dim):
    with pytest.raises(ValueError, match="dim"):
        adasplash_compile.entmax(torch.randn(3, 8), 1.5, dim=dim)


@pytest.mark.parametrize("dtype", [torch.int32, torch.int64, torch.bool])
def test_integer_input_raises_type_error(dtype):
    with pytest.raises(TypeError, match="x"):
        adasplash_compile.entmax(torch.ones(3, 8, dtype=dtype), 1.5)
