"""Argument checking shared by every entry point (reference, kernels, custom ops).

Every error names the argument, what was expected and what was given, and is raised before any
kernel launch: bad input never reaches Triton as a compile error, an index error or a CUDA fault.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Optional, Union

import torch
from torch import Tensor

FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)

AlphaLike = Union[float, Tensor]


def _real(x: object) -> bool:
    """A real number that is not a bool (float and int answered without ``numbers.Real``'s ABC
    check, ~0.9 µs of host time per call)."""
    return type(x) in (float, int) or (type(x) is not bool and isinstance(x, Real))


def check_float_tensor(name: str, t: object) -> Tensor:
    if not isinstance(t, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if t.dtype not in FLOAT_DTYPES:
        raise TypeError(
            f"{name} must be a floating-point tensor (float16, bfloat16, float32 or float64), "
            f"got dtype {t.dtype}"
        )
    return t


def check_dim(name: str, dim: object, ndim: int) -> int:
    """Return ``dim`` normalised to [0, ndim)."""
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise TypeError(f"{name} must be an int, got {type(dim).__name__}")
    if ndim == 0:
        raise ValueError(f"{name}: cannot take entmax of a 0-d tensor")
    if not -ndim <= dim < ndim:
        raise ValueError(f"{name} must be in [{-ndim}, {ndim - 1}] for a {ndim}-d tensor, got {dim}")
    return dim % ndim


def check_alpha_scalar(name: str, alpha: object) -> float:
    if not _real(alpha):
        raise TypeError(f"{name} must be a float > 1 or a floating-point tensor, got {type(alpha).__name__}")
    a = float(alpha)
    if not (1.0 < a < math.inf):  # also false for NaN; plain comparisons trace under Dynamo
        raise ValueError(f"{name} must be a finite float > 1, got {a}")
    return a


def check_alpha_tensor_values(name: str, alpha: Tensor) -> None:
    """Values check. Syncs with the device once (a CUDA α waits for the work queued before it), so
    callers do it only outside of tracing: under torch.compile it is skipped."""
    if alpha.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {alpha.dtype}")
    if torch.compiler.is_compiling() or alpha.device.type == "meta" or alpha.numel() == 0:
        return
    if isinstance(alpha, torch._subclasses.FakeTensor):  # pragma: no cover - traced through
        return
    a = alpha.detach()
    # one host sync for valid values (NaN fails both tests); which rule failed is told apart after
    if bool((torch.isfinite(a) & (a > 1)).all()):
        return
    if bool(torch.isnan(a).any()):
        raise ValueError(f"{name} must not contain NaN")
    if not bool((a > 1).all()):
        raise ValueError(f"{name} must be > 1 everywhere, got min {a.min().item():.6g}")
    raise ValueError(f"{name} must be finite")


def check_alpha_rowwise(alpha: object, x: Tensor, dim: int) -> AlphaLike:
    """``alpha`` for row-wise entmax: a float > 1, or a tensor that broadcasts to ``x.shape`` with
    size 1 along ``dim`` (the entmax package's convention). Returns a float or a tensor expanded to
    that shape."""
    if isinstance(alpha, Tensor):
        check_alpha_tensor_values("alpha", alpha)
        if alpha.dim() == 0:
            return alpha
        row_shape = list(x.shape)
        row_shape[dim] = 1
        try:
            expanded = alpha.expand(row_shape) if alpha.dim() <= x.dim() else None
        except RuntimeError:
            expanded = None
        if expanded is None:
            raise ValueError(
                f"alpha: a tensor alpha must broadcast to {tuple(row_shape)} (the input's shape "
                f"{tuple(x.shape)} with size 1 along dim={dim}), got shape {tuple(alpha.shape)}"
            )
        return expanded
    return check_alpha_scalar("alpha", alpha)


def check_attention_args(
    query: object,
    key: object,
    value: object,
    attn_mask: object,
    dropout_p: object,
    is_causal: object,
    scale: object,
    enable_gqa: object,
    alpha: object,
) -> tuple[float, Optional[Tensor], Optional[float]]:
    """Validate ``entmax_attention``'s arguments (SDPA's conventions).

    Returns ``(alpha_float, alpha_tensor_or_None, scale_or_None)``. A tensor alpha is returned with
    shape (H,) (a 0-d or 1-element tensor is broadcast to every head).
    """
    q = check_float_tensor("query", query)
    k = check_float_tensor("key", key)
    v = check_float_tensor("value", value)
    for name, t in (("query", q), ("key", k), ("value", v)):
        if t.dim() != 4:
            raise ValueError(
                f"{name} must be 4-D (batch, heads, seq_len, head_dim), got shape {tuple(t.shape)}"
            )
    if not (q.dtype == k.dtype == v.dtype):
        raise TypeError(
            f"query, key and value must share a dtype, got {q.dtype}, {k.dtype} and {v.dtype}"
        )
    if not (q.device == k.device == v.device):
        raise ValueError(
            f"query, key and value must be on one device, got {q.device}, {k.device} and {v.device}"
        )
    B, H, Lq, D = q.shape
    Bk, Hk, Lk, Dk = k.shape
    Bv, Hv, Lv, Dv = v.shape
    if Bk != B or Bv != B:
        raise ValueError(f"key and value must have batch size {B} like query, got {Bk} and {Bv}")
    if Dk != D:
        raise ValueError(f"key's head dim must equal query's ({D}), got {Dk}")
    if Lv != Lk:
        raise ValueError(f"key and value must have the same sequence length, got {Lk} and {Lv}")
    if Hv != Hk:
        raise ValueError(f"key and value must have the same number of heads, got {Hk} and {Hv}")
    if D == 0 or Dv == 0:
        raise ValueError(f"head dims must be positive, got query/key {D} and value {Dv}")
    if not isinstance(enable_gqa, bool):
        raise TypeError(f"enable_gqa must be a bool, got {type(enable_gqa).__name__}")
    if Hk != H:
        if not enable_gqa:
            raise ValueError(
                f"key/value have {Hk} heads but query has {H}; pass enable_gqa=True for grouped-query attention"
            )
        if Hk == 0 or H % Hk != 0:
            raise ValueError(
                f"enable_gqa: query heads ({H}) must be divisible by key/value heads ({Hk})"
            )
    if not isinstance(is_causal, bool):
        raise TypeError(f"is_causal must be a bool, got {type(is_causal).__name__}")
    if not _real(dropout_p):
        raise TypeError(f"dropout_p must be a float, got {type(dropout_p).__name__}")
    if not (0.0 <= float(dropout_p) < 1.0):
        raise ValueError(f"dropout_p must be in [0, 1), got {dropout_p}")
    if float(dropout_p) > 0.0:
        raise NotImplementedError(
            "dropout_p > 0 is not supported by entmax_attention: attention dropout would break the "
            "exact sparsity pattern; apply dropout to the output instead, or pass dropout_p=0.0"
        )
    if scale is not None:
        if not _real(scale):
            raise TypeError(f"scale must be a float or None, got {type(scale).__name__}")
        scale = float(scale)
        if not (-math.inf < scale < math.inf):
            raise ValueError(f"scale must be finite, got {scale}")
    if attn_mask is not None:
        if not isinstance(attn_mask, Tensor):
            raise TypeError(f"attn_mask must be a Tensor or None, got {type(attn_mask).__name__}")
        if is_causal:
            raise ValueError("attn_mask and is_causal=True cannot be given together (as in SDPA)")
        if attn_mask.dtype != torch.bool and attn_mask.dtype not in FLOAT_DTYPES:
            raise TypeError(f"attn_mask must be a bool or floating-point tensor, got dtype {attn_mask.dtype}")
        if attn_mask.device != q.device:
            raise ValueError(f"attn_mask must be on {q.device} like query, got {attn_mask.device}")
        if attn_mask.dim() > 4:
            raise ValueError(f"attn_mask must have at most 4 dims, got shape {tuple(attn_mask.shape)}")
        target = (B, H, Lq, Lk)
        shape = (1,) * (4 - attn_mask.dim()) + tuple(attn_mask.shape)
        if any(s not in (1, t) for s, t in zip(shape, target)):
            raise ValueError(
                f"attn_mask of shape {tuple(attn_mask.shape)} does not broadcast to "
                f"(batch, heads, q_len, kv_len) = {target}"
            )
    if isinstance(alpha, Tensor):
        check_alpha_tensor_values("alpha", alpha)
        if alpha.device != q.device:
            raise ValueError(f"alpha must be on {q.device} like query, got {alpha.device}")
        if alpha.dim() == 0 or alpha.shape == (1,):
            alpha_t = alpha.reshape(1).expand(H)
        elif alpha.shape == (H,):
            alpha_t = alpha
        else:
            raise ValueError(
                f"alpha must be a float, a 0-d tensor or a tensor of shape (heads,) = ({H},), "
                f"got shape {tuple(alpha.shape)}"
            )
        return 1.5, alpha_t, scale
    return check_alpha_scalar("alpha", alpha), None, scale
