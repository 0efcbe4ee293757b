"""Exact PyTorch α-entmax and α-entmax attention: the oracle every test compares against, and the
path CPU tensors take when the Triton interpreter is off.

Notation (used by the kernels too). For a row of scores z and α > 1, with x = (α−1)·z:

    p_i = [x_i − τ]₊^{1/(α−1)},   Σ_i p_i = 1.

α = 2 is sparsemax, α = 1.5 is entmax-1.5 (p = [z/2 − τ]₊²), α → 1 is softmax. The threshold τ lies
in [max(x) − 1, max(x) − d^{1−α}] for a row with d finite entries: at the lower end the largest entry
alone has p = 1, at the upper end every p ≤ 1/d.

Backward. With s = p^{2−α} (zero off the support) and incoming gradient g = ∂L/∂p,

    ∂L/∂z = s ⊙ g − s · (Σ s⊙g) / (Σ s),

and, for a learnable α, with ŝ = s / Σ s and H = Σ p log p,

    ∂p/∂α = (p − ŝ)/(α−1)² − (p log p − ŝ · H)/(α−1),   ∂L/∂α = Σ g ⊙ ∂p/∂α.

Rows with no finite entry (fully masked) give p = 0 and zero gradients, never NaN.
"""

from __future__ import annotations

import math
from typing import Optional, Union

import torch
import torch.nn.functional as F
from torch import Tensor

from ._checks import check_alpha_rowwise, check_attention_args, check_dim, check_float_tensor

__all__ = ["entmax", "entmax_threshold", "entmax_attention", "attention_scores"]

# Safeguarded Newton converges quadratically once inside the bracket; bisection alone needs ~55
# halvings of a width-1 bracket to reach float64's spacing. 80 covers both with room to spare.
_MAX_NEWTON_ITERS = 80


def _compute_dtype(dtype: torch.dtype) -> torch.dtype:
    return torch.float64 if dtype == torch.float64 else torch.float32


def _sort_threshold_15(x: Tensor) -> Tensor:
    """Exact τ for α = 1.5 along the last dim; x = z/2, already shifted so its row max is 0."""
    xs, _ = torch.sort(x, dim=-1, descending=True)
    k = torch.arange(1, x.shape[-1] + 1, device=x.device, dtype=x.dtype)
    finite = torch.isfinite(xs)
    xs0 = torch.where(finite, xs, torch.zeros_like(xs))
    mean = xs0.cumsum(-1) / k
    mean_sq = (xs0 * xs0).cumsum(-1) / k
    # Solving Σ_{i≤k} (x_i − τ)² = 1 for the top-k support: τ = mean − sqrt((1 − k·var)/k).
    disc = (1.0 - k * (mean_sq - mean * mean)) / k
    tau = mean - torch.sqrt(torch.clamp(disc, min=0.0))
    valid = finite & (tau <= xs0)
    support = valid.sum(dim=-1, keepdim=True).clamp(min=1)
    return tau.gather(-1, support - 1)


def _sort_threshold_2(x: Tensor) -> Tensor:
    """Exact τ for α = 2 (sparsemax) along the last dim; x = z, row max shifted to 0."""
    xs, _ = torch.sort(x, dim=-1, descending=True)
    k = torch.arange(1, x.shape[-1] + 1, device=x.device, dtype=x.dtype)
    finite = torch.isfinite(xs)
    xs0 = torch.where(finite, xs, torch.zeros_like(xs))
    tau = (xs0.cumsum(-1) - 1.0) / k
    valid = finite & (tau < xs0)
    support = valid.sum(dim=-1, keepdim=True).clamp(min=1)
    return tau.gather(-1, support - 1)


def _newton_threshold(x: Tensor, alpha: Tensor) -> Tensor:
    """τ for any α > 1 by safeguarded Newton on f(τ) = Σ[x − τ]₊^{1/(α−1)} − 1, with bisection
    whenever a Newton step leaves the bracket. x has row max 0; alpha broadcasts over rows."""
    inv = 1.0 / (alpha - 1.0)
    d = torch.isfinite(x).sum(dim=-1, keepdim=True).clamp(min=1).to(x.dtype)
    lo = torch.full_like(d, -1.0)  # f(lo) >= 0
    hi = torch.broadcast_to(-torch.pow(d, 1.0 - alpha), d.shape).clone()  # f(hi) <= 0
    tau = lo.clone()
    for _ in range(_MAX_NEWTON_ITERS):
        u = torch.clamp(x - tau, min=0.0)
        p = torch.pow(u, inv)
        f = p.sum(-1, keepdim=True) - 1.0
        df = -(inv * torch.where(u > 0, p / torch.where(u > 0, u, torch.ones_like(u)), torch.zeros_like(u))).sum(
            -1, keepdim=True
        )
        lo = torch.where(f >= 0, tau, lo)
        hi = torch.where(f < 0, tau, hi)
        step = tau - f / torch.where(df < 0, df, -torch.ones_like(df))
        inside = (step > lo) & (step < hi) & (df < 0)
        new_tau = torch.where(inside, step, 0.5 * (lo + hi))
        if bool((new_tau == tau).all()):
            break
        tau = new_tau
    return tau


class _EntmaxFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z: Tensor, alpha: Union[float, Tensor], alpha_is_tensor: bool):
        # z: (..., n) in the compute dtype; alpha: float or tensor broadcasting to (..., 1).
        p = _entmax_last_dim(z, alpha)
        ctx.alpha_is_tensor = alpha_is_tensor
        ctx.alpha = alpha if not alpha_is_tensor else None
        if alpha_is_tensor:
            ctx.save_for_backward(p, alpha)
        else:
            ctx.save_for_backward(p)
        return p

    @staticmethod
    def backward(ctx, g: Tensor):
        if ctx.alpha_is_tensor:
            p, alpha = ctx.saved_tensors
        else:
            (p,) = ctx.saved_tensors
            alpha = ctx.alpha
        need_alpha = ctx.alpha_is_tensor and ctx.needs_input_grad[1]
        gz, galpha = entmax_backward(p, g, alpha, need_alpha)
        if galpha is not None:
            galpha = _sum_to_shape(galpha, alpha.shape)
        return gz, galpha, None


def entmax_backward(
    p: Tensor, g: Tensor, alpha: Union[float, Tensor], need_alpha: bool = False
) -> tuple[Tensor, Optional[Tensor]]:
    """Vector-Jacobian product of entmax along the last dim (formulas in the module docstring).

    Returns ``(∂L/∂z, ∂L/∂α per row with keepdim or None)``; alpha broadcasts to (..., 1)."""
    s = torch.where(p > 0, torch.pow(p, 2.0 - alpha), torch.zeros_like(p))
    s_sum = s.sum(-1, keepdim=True)
    s_hat = s / torch.where(s_sum > 0, s_sum, torch.ones_like(s_sum))
    gz = s * g - s_hat * (s * g).sum(-1, keepdim=True)
    if not need_alpha:
        return gz, None
    plogp = torch.where(p > 0, p * torch.log(torch.where(p > 0, p, torch.ones_like(p))), torch.zeros_like(p))
    H = plogp.sum(-1, keepdim=True)
    am1 = alpha - 1.0
    dp_dalpha = (p - s_hat) / (am1 * am1) - (plogp - s_hat * H) / am1
    return gz, (g * dp_dalpha).sum(-1, keepdim=True)


def _sum_to_shape(t: Tensor, shape: torch.Size) -> Tensor:
    if t.shape == shape:
        return t
    return t.sum_to_size(shape)


def _entmax_last_dim(z: Tensor, alpha: Union[float, Tensor]) -> Tensor:
    """Forward along the last dim in z's dtype (float32 or float64). A row holding a NaN gives
    NaN everywhere (as softmax does), never a silently finite answer."""
    if z.shape[-1] == 0:
        return z.clone()
    m = z.amax(dim=-1, keepdim=True)
    all_masked = ~torch.isfinite(m)
    m = torch.where(all_masked, torch.zeros_like(m), m)
    if isinstance(alpha, Tensor):
        x = (z - m) * (alpha - 1.0)
        tau = _newton_threshold(x, alpha)
        p = torch.pow(torch.clamp(x - tau, min=0.0), 1.0 / (alpha - 1.0))
    elif alpha == 1.5:
        x = (z - m) * 0.5
        tau = _sort_threshold_15(x)
        p = torch.clamp(x - tau, min=0.0) ** 2
    elif alpha == 2.0:
        x = z - m
        tau = _sort_threshold_2(x)
        p = torch.clamp(x - tau, min=0.0)
    else:
        x = (z - m) * (alpha - 1.0)
        tau = _newton_threshold(x, torch.tensor(alpha, dtype=z.dtype, device=z.device))
        p = torch.pow(torch.clamp(x - tau, min=0.0), 1.0 / (alpha - 1.0))
    # Newton leaves Σp within a few ulps of 1; the sort-based forms are exact up to rounding.
    p_sum = p.sum(-1, keepdim=True)
    p = p / torch.where(p_sum > 0, p_sum, torch.ones_like(p_sum))
    p = torch.where(all_masked, torch.zeros_like(p), p)
    return torch.where(torch.isnan(z).any(-1, keepdim=True), torch.full_like(p, float("nan")), p)


def entmax(x: Tensor, alpha: Union[float, Tensor] = 1.5, dim: int = -1) -> Tensor:
    """Exact α-entmax of ``x`` along ``dim``, computed in float32 (float64 for float64 input) and
    returned in ``x``'s dtype. ``alpha`` is a float > 1 or a tensor broadcasting to ``x.shape`` with
    size 1 along ``dim``; gradients flow to both."""
    check_float_tensor("x", x)
    dim = check_dim("dim", dim, x.dim())
    alpha = check_alpha_rowwise(alpha, x, dim)
    cdt = _compute_dtype(x.dtype)
    z = x.to(cdt).movedim(dim, -1)
    if isinstance(alpha, Tensor):
        a = alpha.to(cdt)
        if a.dim() > 0:
            a = a.movedim(dim, -1)
        p = _EntmaxFunction.apply(z, a, True)
    else:
        p = _EntmaxFunction.apply(z, alpha, False)
    return p.movedim(-1, dim).to(x.dtype)


def entmax_threshold(x: Tensor, alpha: float = 1.5, dim: int = -1) -> Tensor:
    """τ of each row, in the scaled coordinates x' = (α−1)·x (no max shift), keepdim. For tests."""
    dim = check_dim("dim", dim, x.dim())
    alpha = check_alpha_rowwise(alpha, x, dim)
    z = x.to(_compute_dtype(x.dtype)).movedim(dim, -1)
    m = z.amax(dim=-1, keepdim=True)
    a = alpha if not isinstance(alpha, Tensor) else alpha.to(z.dtype).movedim(dim, -1)
    xs = (z - m) * (a - 1.0)
    if not isinstance(a, Tensor) and a == 1.5:
        tau = _sort_threshold_15(xs)
    elif not isinstance(a, Tensor) and a == 2.0:
        tau = _sort_threshold_2(xs)
    else:
        tau = _newton_threshold(xs, a if isinstance(a, Tensor) else torch.tensor(a, dtype=z.dtype))
    return (tau + (a - 1.0) * m).movedim(-1, dim)


def _mask_to_additive(attn_mask: Tensor, dtype: torch.dtype) -> Tensor:
    if attn_mask.dtype == torch.bool:
        return torch.zeros((), dtype=dtype, device=attn_mask.device).masked_fill(~attn_mask, float("-inf"))
    return attn_mask.to(dtype)


def attention_scores(
    query: Tensor,
    key: Tensor,
    attn_mask: Optional[Tensor] = None,
    is_causal: bool = False,
    scale: Optional[float] = None,
    q_offset: int = 0,
) -> Tensor:
    """Masked, scaled scores ``q·kᵀ·scale + mask`` for query rows [q_offset, q_offset + Lq) of the
    full sequence, in query's dtype. key must already have query's head count."""
    Lq, Lk = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    s = torch.matmul(query, key.transpose(-2, -1)) * scale
    if is_causal:
        rows = torch.arange(q_offset, q_offset + Lq, device=query.device)[:, None]
        cols = torch.arange(Lk, device=query.device)[None, :]
        s = s.masked_fill(cols > rows, float("-inf"))
    if attn_mask is not None:
        s = s + _mask_to_additive(attn_mask, s.dtype)
    return s


def _prepare_attention(query, key, value, attn_mask, alpha, enable_gqa):
    H, Hk = query.shape[1], key.shape[1]
    if Hk != H:
        key = key.repeat_interleave(H // Hk, dim=1)
        value = value.repeat_interleave(H // Hk, dim=1)
    if attn_mask is not None and attn_mask.dim() < 4:
        attn_mask = attn_mask.reshape((1,) * (4 - attn_mask.dim()) + tuple(attn_mask.shape))
    return key, value, attn_mask


def _mask_rows(attn_mask: Optional[Tensor], start: int, stop: int) -> Optional[Tensor]:
    if attn_mask is None or attn_mask.shape[2] == 1:
        return attn_mask
    return attn_mask[:, :, start:stop]


def entmax_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Optional[Tensor] = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: Optional[float] = None,
    enable_gqa: bool = False,
    *,
    alpha: Union[float, Tensor] = 1.5,
    chunk_size: int = 1024,
) -> Tensor:
    """α-entmax attention with ``F.scaled_dot_product_attention``'s conventions, in plain PyTorch.

    Matmuls run in the inputs' dtype (so float64 inputs give the oracle and bf16 inputs give the
    "plain PyTorch in bf16" error that FlashAttention's tolerance rule compares against); the
    entmax itself runs in float32 or float64. Queries are processed ``chunk_size`` rows at a time,
    so memory is O(chunk_size · Lk) per head rather than O(Lq · Lk). Differentiable in q, k, v, a
    float mask and a tensor alpha.
    """
    alpha_f, alpha_t, scale = check_attention_args(
        query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa, alpha
    )
    B, H, Lq, _ = query.shape
    if Lq == 0 or key.shape[2] == 0:  # no queries, or nothing to attend: zeros, as for masked rows
        return query.new_zeros((B, H, Lq, value.shape[-1]))
    key, value, attn_mask = _prepare_attention(query, key, value, attn_mask, alpha, enable_gqa)
    a: Union[float, Tensor] = alpha_f if alpha_t is None else alpha_t.reshape(1, H, 1, 1)
    outs = []
    for start in range(0, Lq, chunk_size):
        stop = min(start + chunk_size, Lq)
        mask = _mask_rows(attn_mask, start, stop)
        s = attention_scores(query[:, :, start:stop], key, mask, is_causal, scale, q_offset=start)
        p = entmax(s, a, dim=-1)
        outs.append(torch.matmul(p.to(value.dtype), value))
    return torch.cat(outs, dim=2) if len(outs) > 1 else outs[0]


def entmax_attention_backward(
    grad_out: Tensor,
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Optional[Tensor] = None,
    is_causal: bool = False,
    scale: Optional[float] = None,
    *,
    alpha: Union[float, Tensor] = 1.5,
    mask_needs_grad: bool = False,
    chunk_size: int = 1024,
) -> tuple[Tensor, Tensor, Tensor, Optional[Tensor], Optional[Tensor]]:
    """Analytic gradients of :func:`entmax_attention` (no autograd graph), chunked over queries:
    ``(dq, dk, dv, dalpha or None, dmask or None)``. With Z the scaled masked scores,
    P = entmax(Z), dP = dO·Vᵀ and dZ from :func:`entmax_backward`: dQ = scale·dZ·K,
    dK = scale·dZᵀ·Q, dV = Pᵀ·dO, dmask = dZ summed to the mask's shape. GQA sums over the group.
    Computed in query's dtype (float64 in tests)."""
    B, H, Lq, D = query.shape
    Hk = key.shape[1]
    scale = 1.0 / math.sqrt(D) if scale is None else scale
    alpha_t = alpha if isinstance(alpha, Tensor) else None
    key_r, value_r, mask4 = _prepare_attention(query, key, value, attn_mask, alpha, Hk != H)
    a = alpha if alpha_t is None else alpha_t.reshape(1, H, 1, 1).to(_compute_dtype(query.dtype))
    dq = torch.zeros_like(query)
    dk = torch.zeros_like(key_r)
    dv = torch.zeros_like(value_r)
    dalpha = torch.zeros(H, dtype=query.dtype, device=query.device) if alpha_t is not None else None
    dmask = torch.zeros_like(mask4) if (mask_needs_grad and mask4 is not None) else None
    for start in range(0, Lq, chunk_size):
        stop = min(start + chunk_size, Lq)
        q = query[:, :, start:stop]
        s = attention_scores(q, key_r, _mask_rows(mask4, start, stop), is_causal, scale, q_offset=start)
        cdt = _compute_dtype(s.dtype)
        p = entmax(s.to(cdt), a, dim=-1)
        go = grad_out[:, :, start:stop]
        dp = torch.matmul(go.to(cdt), value_r.to(cdt).transpose(-2, -1))
        dz, da = entmax_backward(p, dp, a, need_alpha=alpha_t is not None)
        dz = dz.to(query.dtype)
        dq[:, :, start:stop] = torch.matmul(dz, key_r) * scale
        dk += torch.matmul(dz.transpose(-2, -1), q) * scale
        dv += torch.matmul(p.to(value.dtype).transpose(-2, -1), go.to(value.dtype))
        if dalpha is not None:
            dalpha += da.sum(dim=(0, 2, 3)).to(dalpha.dtype)
        if dmask is not None:
            if mask4.shape[2] == 1:
                dmask += dz.to(dmask.dtype).sum_to_size(dmask.shape)
            else:
                dmask[:, :, start:stop] += dz.to(dmask.dtype).sum_to_size(dmask[:, :, start:stop].shape)
    if Hk != H:
        dk = dk.reshape(B, Hk, H // Hk, *dk.shape[2:]).sum(2)
        dv = dv.reshape(B, Hk, H // Hk, *dv.shape[2:]).sum(2)
    if dmask is not None and attn_mask is not None:
        dmask = dmask.reshape(attn_mask.shape)
    return dq, dk, dv, dalpha, dmask


def entmax_attention_stats(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Optional[Tensor] = None,
    is_causal: bool = False,
    scale: Optional[float] = None,
    *,
    alpha: Union[float, Tensor] = 1.5,
    chunk_size: int = 1024,
) -> tuple[Tensor, Tensor]:
    """What the fused forward hands to the backward, computed exactly: ``(tau, o2)``.

    ``tau`` (B, H, Lq): the row threshold in absolute coordinates x = (α−1)·z, where
    z = scale·q·kᵀ + mask, so p = [x − τ]₊^{1/(α−1)} (no max shift). Fully masked rows get +inf.
    ``o2`` (B, H, Lq, Dv): Σ_j s_j v_j / Σ_j s_j with s = p^{2−α} (zero rows where Σ s = 0).
    Both in the compute dtype (float32, or float64 for float64 inputs)."""
    B, H, Lq, D = query.shape
    cdt = _compute_dtype(query.dtype)
    if Lq == 0 or key.shape[2] == 0:
        return (query.new_full((B, H, Lq), float("inf"), dtype=cdt),
                query.new_zeros((B, H, Lq, value.shape[-1]), dtype=cdt))
    scale = 1.0 / math.sqrt(D) if scale is None else scale
    key_r, value_r, mask4 = _prepare_attention(query, key, value, attn_mask, alpha, key.shape[1] != H)
    a = alpha if not isinstance(alpha, Tensor) else alpha.reshape(1, H, 1, 1).to(cdt)
    taus, o2s = [], []
    for start in range(0, Lq, chunk_size):
        stop = min(start + chunk_size, Lq)
        z = attention_scores(query[:, :, start:stop], key_r, _mask_rows(mask4, start, stop), is_causal, scale, start)
        z = z.to(cdt)
        m = z.amax(-1, keepdim=True)
        dead = ~torch.isfinite(m)
        tau = entmax_threshold(z.masked_fill(dead, 0.0), a, dim=-1)
        tau = tau.masked_fill(dead, float("inf"))
        p = entmax(z, a, dim=-1)
        s = torch.where(p > 0, torch.pow(p, 2.0 - a), torch.zeros_like(p))
        s_sum = s.sum(-1, keepdim=True)
        o2 = torch.matmul(s, value_r.to(cdt)) / torch.where(s_sum > 0, s_sum, torch.ones_like(s_sum))
        taus.append(tau.squeeze(-1))
        o2s.append(o2)
    return torch.cat(taus, dim=2), torch.cat(o2s, dim=2)
