"""torch.library custom ops wrapping the kernels, with fake (meta) implementations and autograd.

The ops are what ``torch.compile`` sees: one opaque node per attention site, traced with no graph
break and with symbolic sequence lengths. Each op dispatches per call (``_dispatch.use_triton``):
Triton on CUDA, Triton's interpreter on the CPU when ``TRITON_INTERPRET=1``, the exact PyTorch
reference otherwise.

Ops (all in the ``adasplash_compile`` namespace):

- ``entmax_fwd(x, alpha, alpha_t) -> p``: row-wise α-entmax over the last dim of a 2-D tensor.
- ``entmax_bwd(grad, p, alpha, alpha_t) -> (dx, dalpha)``.
- ``attention_fwd(q, k, v, attn_mask, is_causal, scale, alpha, alpha_t, save_aux)
  -> (out, tau, o2, tiles, lists, counts)``
  τ is per query row (float32, in the kernel's coordinates); ``o2 = Σ s·v / Σ s`` with
  s = p^{2−α} is what the backward's δ = rowsum(dO ⊙ O₂) needs, saved only when ``save_aux``;
  so is ``tiles``, uint8 (B, H, ⌈Lq/64⌉, ⌈Lk/64⌉): 1 for 64x64 blocks that carry weight; the
  backward's dK/dV pass visits, per key block, only the query blocks from the first to the last 1.
  ``lists`` / ``counts`` (training, α = 1.5 or 2, from 16k keys: ``attention.training_lists_spec``;
  empty otherwise): the rows whose support the forward listed, (B, H, Lq, cap) key indices and
  (B, H, Lq) int32 counts (0: not listed); the tile map leaves those rows out and the backward
  computes them from their lists.
- ``attention_bwd(...) -> (dq, dk, dv, dalpha, dmask)``.

A tensor ``alpha_t`` overrides the float ``alpha`` (rows / heads each have their own α).
Empty tensors stand in for "absent" outputs, since custom ops cannot return ``None``.
"""

from __future__ import annotations

import math
from typing import Optional, Union

import torch
from torch import Tensor

from . import reference
from ._checks import check_alpha_rowwise, check_attention_args, check_dim, check_float_tensor
from ._dispatch import use_triton

__all__ = ["entmax", "entmax_attention"]


def _empty(like: Tensor) -> Tensor:
    return like.new_empty((0,))


# ----------------------------------------------------------------------------------------------
# Row-wise entmax
# ----------------------------------------------------------------------------------------------


def _rowwise_kernels():
    from .kernels import rowwise

    return rowwise


@torch.library.custom_op("adasplash_compile::entmax_fwd", mutates_args=())
def entmax_fwd(x: Tensor, alpha: float, alpha_t: Optional[Tensor]) -> Tensor:
    if use_triton(x):
        return _rowwise_kernels().entmax_forward(x, alpha, alpha_t)
    a = alpha if alpha_t is None else alpha_t.unsqueeze(-1)
    return reference.entmax(x, a, dim=-1)


@entmax_fwd.register_fake
def _(x, alpha, alpha_t):
    return torch.empty_like(x)


@torch.library.custom_op("adasplash_compile::entmax_bwd", mutates_args=())
def entmax_bwd(grad: Tensor, p: Tensor, alpha: float, alpha_t: Optional[Tensor]) -> tuple[Tensor, Tensor]:
    if use_triton(p):
        dx, dalpha = _rowwise_kernels().entmax_backward(grad, p, alpha, alpha_t)
        return dx, (dalpha if dalpha is not None else _empty(p))
    return _entmax_bwd_reference(grad, p, alpha, alpha_t)


def _entmax_bwd_reference(grad, p, alpha, alpha_t):
    cdt = torch.float64 if p.dtype == torch.float64 else torch.float32
    a = alpha if alpha_t is None else alpha_t.to(cdt).unsqueeze(-1)
    dx, dalpha = reference.entmax_backward(p.to(cdt), grad.to(cdt), a, need_alpha=alpha_t is not None)
    if alpha_t is None:
        return dx.to(p.dtype), _empty(p)
    return dx.to(p.dtype), dalpha.squeeze(-1).to(alpha_t.dtype)


@entmax_bwd.register_fake
def _(grad, p, alpha, alpha_t):
    return torch.empty_like(p), (alpha_t.new_empty(alpha_t.shape) if alpha_t is not None else p.new_empty((0,)))


def _entmax_setup_context(ctx, inputs, output):
    _, alpha, alpha_t = inputs
    ctx.alpha = alpha
    ctx.save_for_backward(output, alpha_t)


def _entmax_backward(ctx, grad):
    p, alpha_t = ctx.saved_tensors
    dx, dalpha = entmax_bwd(grad, p, ctx.alpha, alpha_t)
    return dx, None, (dalpha if alpha_t is not None and ctx.needs_input_grad[2] else None)


entmax_fwd.register_autograd(_entmax_backward, setup_context=_entmax_setup_context)


def entmax(x: Tensor, alpha: Union[float, Tensor] = 1.5, dim: int = -1) -> Tensor:
    """Row-wise α-entmax of ``x`` along ``dim``: p = [(α−1)·x − τ]₊^{1/(α−1)} with Σp = 1.

    ``alpha`` is a float > 1, or a tensor that broadcasts to ``x.shape`` with size 1 along ``dim``
    (one α per row, e.g. per head); gradients flow to ``x`` and to a tensor ``alpha``. fp16, bf16
    and fp32 are computed in fp32 and returned in ``x``'s dtype.
    """
    check_float_tensor("x", x)
    dim = check_dim("dim", dim, x.dim())
    alpha = check_alpha_rowwise(alpha, x, dim)
    moved = x.movedim(dim, -1)
    rows_shape = moved.shape[:-1]
    if x.numel() == 0:
        return x.clone()
    x2 = moved.reshape(-1, moved.shape[-1])
    alpha_t = None
    if isinstance(alpha, Tensor):
        a = alpha if alpha.dim() > 0 else alpha.reshape((1,) * x.dim())
        alpha_t = a.movedim(dim, -1).expand(*rows_shape, 1).reshape(-1)
        alpha_f = 1.5
    else:
        alpha_f = alpha
    p = entmax_fwd(x2, alpha_f, alpha_t)
    return p.reshape(moved.shape).movedim(-1, dim)


# ----------------------------------------------------------------------------------------------
# Attention
# ----------------------------------------------------------------------------------------------


_attention_module = None


def _attention_kernels():
    global _attention_module  # imported on first use (Triton), then a global read per call
    if _attention_module is None:
        from .kernels import attention

        _attention_module = attention
    return _attention_module


def _kernel_supports(q: Tensor, k: Tensor, v: Tensor) -> bool:
    if not use_triton(q):
        return False
    try:
        kern = _attention_kernels()
    except ImportError:
        return False
    supports = getattr(kern, "supports", None)
    return supports is not None and supports(q, k, v)


def _reference_alpha(alpha: float, alpha_t: Optional[Tensor]):
    return alpha if alpha_t is None else alpha_t


def _tiles_shape(q: Tensor, k: Tensor, save_aux: bool) -> tuple:
    """Shape of the forward's active-tile map (kernels/attention.py ``TILE``); empty without save_aux."""
    if not save_aux:
        return (0,)
    from .kernels.configs import TILE  # torch only, no Triton

    B, H, Lq, _ = q.shape
    return (B, H, (Lq + TILE - 1) // TILE, (k.shape[2] + TILE - 1) // TILE)


def _attention_fwd_reference(q, k, v, attn_mask, is_causal, scale, alpha, alpha_t, save_aux):
    """Reference forward, also returning τ and O₂ exactly as the kernels do (see
    ``reference.entmax_attention_stats`` for their definitions)."""
    a = _reference_alpha(alpha, alpha_t)
    out = reference.entmax_attention(
        q, k, v, attn_mask, is_causal=is_causal, scale=scale, enable_gqa=k.shape[1] != q.shape[1], alpha=a
    )
    if not save_aux:
        B, H, Lq, _ = q.shape
        return (out, q.new_zeros((B, H, Lq), dtype=torch.float32), out.new_empty((0,)), _empty_tiles(q)) + \
            _no_lists(q, k, alpha, alpha_t, save_aux)
    tau, o2 = reference.entmax_attention_stats(q, k, v, attn_mask, is_causal, scale, alpha=a)
    # no tile information here: every block counts as active, and no row is listed
    tiles = torch.ones(_tiles_shape(q, k, True), dtype=torch.uint8, device=q.device)
    return (out, tau.float(), o2.to(out.dtype), tiles) + _no_lists(q, k, alpha, alpha_t, save_aux)


def _empty_tiles(q: Tensor) -> Tensor:
    return torch.empty((0,), dtype=torch.uint8, device=q.device)


def _no_lists(q: Tensor, k: Tensor, alpha: float, alpha_t: Optional[Tensor], save_aux: bool,
              fake: bool = False) -> tuple[Tensor, Tensor]:
    """The op's (lists, counts) where no row is listed (``attention.training_lists_spec``'s
    shapes, counts of 0), or both empty; the cases that never list decided without importing the
    kernels (Triton)."""
    if not save_aux or alpha_t is not None or alpha not in (1.5, 2.0):
        return q.new_empty((0,), dtype=torch.int16), q.new_empty((0,), dtype=torch.int32)
    return _attention_kernels().no_lists(q, k, alpha, alpha_t, save_aux, fake=fake)


@torch.library.custom_op("adasplash_compile::attention_fwd", mutates_args=())
def attention_fwd(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    attn_mask: Optional[Tensor],
    is_causal: bool,
    scale: float,
    alpha: float,
    alpha_t: Optional[Tensor],
    save_aux: bool,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
    if _kernel_supports(q, k, v):
        if not save_aux:
            out, tau, _ = _attention_kernels().forward(q, k, v, attn_mask, is_causal, scale, alpha, alpha_t, False)
            return (out, tau, _empty(q), _empty_tiles(q)) + _no_lists(q, k, alpha, alpha_t, save_aux)
        out, tau, o2, tiles, lists, counts = _attention_kernels().forward(
            q, k, v, attn_mask, is_causal, scale, alpha, alpha_t, True, return_tiles=True, return_lists=True)
        return out, tau, o2, tiles, lists, counts
    return _attention_fwd_reference(q, k, v, attn_mask, is_causal, scale, alpha, alpha_t, save_aux)


@attention_fwd.register_fake
def _(q, k, v, attn_mask, is_causal, scale, alpha, alpha_t, save_aux):
    B, H, Lq, _ = q.shape
    out = q.new_empty((B, H, Lq, v.shape[-1]))
    tau = q.new_empty((B, H, Lq), dtype=torch.float32)
    o2 = q.new_empty((B, H, Lq, v.shape[-1])) if save_aux else q.new_empty((0,))
    return (out, tau, o2, q.new_empty(_tiles_shape(q, k, save_aux), dtype=torch.uint8)) + \
        _no_lists(q, k, alpha, alpha_t, save_aux, fake=True)


@torch.library.custom_op("adasplash_compile::attention_bwd", mutates_args=())
def attention_bwd(
    grad_out: Tensor,
    q: Tensor,
    k: Tensor,
    v: Tensor,
    attn_mask: Optional[Tensor],
    out: Tensor,
    tau: Tensor,
    o2: Tensor,
    tiles: Tensor,
    lists: Tensor,
    counts: Tensor,
    is_causal: bool,
    scale: float,
    alpha: float,
    alpha_t: Optional[Tensor],
    mask_needs_grad: bool,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    if _kernel_supports(q, k, v):
        from .kernels import attention_bwd as _bwd_kernels

        return _bwd_kernels.backward(
            grad_out, q, k, v, attn_mask, out, tau, o2, is_causal, scale, alpha, alpha_t, mask_needs_grad,
            tiles=tiles, lists=lists, counts=counts,
        )
    return _attention_bwd_reference(grad_out, q, k, v, attn_mask, is_causal, scale, alpha, alpha_t, mask_needs_grad)


def _attention_bwd_reference(grad_out, q, k, v, attn_mask, is_causal, scale, alpha, alpha_t, mask_needs_grad):
    dq, dk, dv, dalpha, dmask = reference.entmax_attention_backward(
        grad_out, q, k, v, attn_mask, is_causal, scale,
        alpha=_reference_alpha(alpha, alpha_t), mask_needs_grad=mask_needs_grad,
    )
    dalpha = dalpha.to(alpha_t.dtype) if dalpha is not None else _empty(q)
    dmask = dmask.contiguous() if dmask is not None else _empty(q)
    return dq.contiguous(), dk.contiguous(), dv.contiguous(), dalpha, dmask


@attention_bwd.register_fake
def _(grad_out, q, k, v, attn_mask, out, tau, o2, tiles, lists, counts, is_causal, scale, alpha, alpha_t,
      mask_needs_grad):
    dalpha = alpha_t.new_empty(alpha_t.shape) if alpha_t is not None else q.new_empty((0,))
    dmask = attn_mask.new_empty(attn_mask.shape) if (mask_needs_grad and attn_mask is not None) else q.new_empty((0,))
    # contiguous, as both real paths return them (not q's layout: q is often a transposed view)
    return (torch.empty_like(q, memory_format=torch.contiguous_format),
            torch.empty_like(k, memory_format=torch.contiguous_format),
            torch.empty_like(v, memory_format=torch.contiguous_format), dalpha, dmask)


def _attention_setup_context(ctx, inputs, output):
    q, k, v, attn_mask, is_causal, scale, alpha, alpha_t, save_aux = inputs
    out, tau, o2, tiles, lists, counts = output
    ctx.is_causal, ctx.scale, ctx.alpha = is_causal, scale, alpha
    ctx.save_for_backward(q, k, v, attn_mask, out, tau, o2, tiles, lists, counts, alpha_t)


def _attention_backward(ctx, grad_out, _grad_tau, _grad_o2, _grad_tiles, _grad_lists, _grad_counts):
    q, k, v, attn_mask, out, tau, o2, tiles, lists, counts, alpha_t = ctx.saved_tensors
    grads = attention_bwd(
        grad_out.contiguous(), q, k, v, attn_mask, out, tau, o2, tiles, lists, counts, ctx.is_causal, ctx.scale,
        ctx.alpha, alpha_t, _mask_needs_grad(ctx, attn_mask),
    )
    return _input_grads(ctx, attn_mask, alpha_t, grads) + (None,)  # save_aux


def _mask_needs_grad(ctx, attn_mask) -> bool:
    """Inputs are (q, k, v, attn_mask, is_causal, scale, alpha, alpha_t, ...) in both autograd
    wirings (the op's and ``_EagerAttention``)."""
    return attn_mask is not None and ctx.needs_input_grad[3]


def _input_grads(ctx, attn_mask, alpha_t, grads) -> tuple:
    """The backward kernels' (dq, dk, dv, dalpha, dmask) as gradients for (q, k, v, attn_mask,
    is_causal, scale, alpha, alpha_t)."""
    dq, dk, dv, dalpha, dmask = grads
    return (dq, dk, dv, dmask if _mask_needs_grad(ctx, attn_mask) else None, None, None, None,
            dalpha if (alpha_t is not None and ctx.needs_input_grad[7]) else None)


attention_fwd.register_autograd(_attention_backward, setup_context=_attention_setup_context)


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
) -> Tensor:
    """α-entmax attention: ``F.scaled_dot_product_attention`` with softmax replaced by α-entmax.

    Same conventions as SDPA: (batch, heads, seq, head_dim) layout; a bool ``attn_mask`` means
    "may attend", a float mask is added to the scores, both broadcast to (B, H, Lq, Lk);
    ``is_causal`` is top-left aligned; ``scale`` defaults to 1/sqrt(head_dim); ``enable_gqa`` lets
    key/value have fewer heads (H divisible by their count). The value head dim may differ from
    the query's. ``alpha`` is a float > 1 (1.5 = entmax-1.5, 2 = sparsemax) or a tensor of shape
    (H,) with one learnable α per head. A query row that may attend to nothing returns zeros.
    ``dropout_p > 0`` raises NotImplementedError.
    """
    alpha_f, alpha_t, scale = check_attention_args(
        query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa, alpha
    )
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1])
    if alpha_t is not None and alpha_t.dtype != torch.float32:
        alpha_t = alpha_t.float()
    grad_needed = torch.is_grad_enabled() and (
        query.requires_grad or key.requires_grad or value.requires_grad
        or (attn_mask is not None and attn_mask.requires_grad) or (alpha_t is not None and alpha_t.requires_grad))
    if _plain_eager(query, key, value, attn_mask, alpha_t) and _kernel_supports(query, key, value):
        # eager: the kernels without the custom op's dispatch layers (the same functions the op
        # calls). Going around them took a 4k training step from 1.54 to 1.33 ms on the H200,
        # which is host-bound there (benchmarks/results/h200-2026-11-29-session5.md).
        if not grad_needed:
            return _attention_kernels().forward(query, key, value, attn_mask, is_causal, scale, alpha_f, alpha_t,
                                                False)[0]
        # The kernels launch first and the autograd node is built around their results: the
        # Function's own host work (unwrapping, the node) then overlaps the forward kernel instead
        # of delaying it. A short step starts on an idle GPU: 4k training, H200, the suite's clock,
        # 'local' 876 → 862 µs and 'rand' 2430 → 2403 µs (session 20 call D).
        res = None
        if EARLY_LAUNCH:
            with torch.no_grad():
                res = _train_forward(query, key, value, attn_mask, is_causal, scale, alpha_f, alpha_t)
        return _EagerAttention.apply(query, key, value, attn_mask, is_causal, scale, alpha_f, alpha_t, res)
    return attention_fwd(query, key, value, attn_mask, is_causal, scale, alpha_f, alpha_t, grad_needed)[0]


class _EagerAttention(torch.autograd.Function):
    """Eager training on plain tensors: the op's kernel forward (with τ, O₂ and the tile map saved;
    ``res`` when the caller ran it, see EARLY_LAUNCH) and kernel backward, wired by a plain
    autograd.Function. torch.compile, export, fake tensors and dispatch modes go through the
    custom op instead (``_plain_eager``)."""

    @staticmethod
    def forward(ctx, q, k, v, attn_mask, is_causal, scale, alpha, alpha_t, res):
        out, tau, o2, tiles, lists, counts = res or _train_forward(q, k, v, attn_mask, is_causal, scale, alpha, alpha_t)
        ctx.is_causal, ctx.scale, ctx.alpha = is_causal, scale, alpha
        ctx.save_for_backward(q, k, v, attn_mask, out, tau, o2, tiles, lists, counts, alpha_t)
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out):
        from .kernels import attention_bwd as _bwd_kernels

        q, k, v, attn_mask, out, tau, o2, tiles, lists, counts, alpha_t = ctx.saved_tensors
        grads = _bwd_kernels.backward(
            grad_out.contiguous(), q, k, v, attn_mask, out, tau, o2, ctx.is_causal, ctx.scale, ctx.alpha, alpha_t,
            _mask_needs_grad(ctx, attn_mask), tiles=tiles, lists=lists, counts=counts,
        )
        return _input_grads(ctx, attn_mask, alpha_t, grads) + (None,)  # res


# True: an eager training call launches the forward kernel before building its autograd node
# (above). False: inside the Function's forward, after torch's own host work for the node (A/B
# host-time measurements).
EARLY_LAUNCH = True


def _train_forward(q, k, v, attn_mask, is_causal, scale, alpha, alpha_t):
    """The kernel forward with what the backward needs: (out, τ, O₂, tile map, lists, counts)."""
    return _attention_kernels().forward(q, k, v, attn_mask, is_causal, scale, alpha, alpha_t, True, return_tiles=True,
                                        return_lists=True)


_PLAIN_TYPES = (torch.Tensor, torch.nn.Parameter)


def _plain_eager(q: Tensor, k: Tensor, v: Tensor, attn_mask: Optional[Tensor], alpha_t: Optional[Tensor]) -> bool:
    """Eager execution on plain tensors (or parameters): not traced by torch.compile / export, no
    tensor subclass (fake, functional, DTensor), no dispatch mode and no torch.func transform
    active, so calling the kernels directly is the same as going through the op."""
    return (not torch.compiler.is_compiling() and torch._C._len_torch_dispatch_stack() == 0
            and not _functorch_active() and type(q) in _PLAIN_TYPES and type(k) in _PLAIN_TYPES
            and type(v) in _PLAIN_TYPES and (attn_mask is None or type(attn_mask) in _PLAIN_TYPES)
            and (alpha_t is None or type(alpha_t) in _PLAIN_TYPES))


def _functorch_active() -> bool:
    """torch.func transforms (grad, vmap) wrap tensors that still report type torch.Tensor."""
    active = getattr(torch._C, "_are_functorch_transforms_active", None)
    return bool(active()) if active is not None else False
