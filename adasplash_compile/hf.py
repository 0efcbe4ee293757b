"""Hugging Face ``transformers`` integration: ``attn_implementation="adasplash"``.

Importing this module registers (idempotently) an attention implementation named ``"adasplash"``
that runs every attention layer of a ``transformers`` model as α-entmax attention through
:func:`adasplash_compile.entmax_attention`::

    import adasplash_compile.hf  # registers "adasplash"
    model = AutoModel.from_config(cfg, attn_implementation="adasplash")

``transformers`` is optional: it is imported only here, and :func:`register` raises ImportError
with a clear message when it is missing.

Two registrations are made:

- ``AttentionInterface.register("adasplash", attention_forward)``: the per-layer attention call.
- ``AttentionMaskInterface.register("adasplash", <transformers' SDPA mask builder>)``: how the
  model builds its mask. SDPA's builder gives exactly what our op wants: a boolean "may attend"
  mask, or ``None`` when the mask is a plain causal mask (then we pass ``is_causal=True``, which
  lets the kernels skip the upper triangle without reading a mask) or when there is nothing to
  mask. Without this registration ``transformers`` >= 4.53 builds *no* mask at all for an unknown
  implementation, so it is not optional. Versions 4.50-4.52 (``AttentionInterface`` but no
  ``masking_utils``) build their own additive float mask (finite ``finfo.min`` where masked),
  which our op also accepts, without the ``is_causal`` fast path. Before 4.50 there is no
  ``AttentionInterface`` and :func:`register` raises ImportError.

α comes from, in order: ``module.entmax_alpha`` (a float, or a tensor of shape (num_heads,) —
e.g. a learnable ``nn.Parameter`` per head, gradients flow to it), ``config.entmax_alpha``,
and 1.5 (entmax-1.5).

Not supported: attention dropout during training (our op has none; raises NotImplementedError
naming the config attribute to set to 0), ``softcap`` (ValueError), and attention weights
(``output_attentions=True`` returns ``None`` weights, as HF's sdpa does).
"""

from __future__ import annotations

import warnings
from typing import Optional

import torch
from torch import Tensor

__all__ = ["register", "attention_forward", "IMPLEMENTATION_NAME", "DEFAULT_ALPHA"]

IMPLEMENTATION_NAME = "adasplash"
DEFAULT_ALPHA = 1.5

_registered = False


def _resolve_alpha(module: torch.nn.Module):
    alpha = getattr(module, "entmax_alpha", None)
    if alpha is None:
        alpha = getattr(getattr(module, "config", None), "entmax_alpha", None)
    return DEFAULT_ALPHA if alpha is None else alpha


def _combine_position_bias(position_bias: Tensor, mask: Optional[Tensor], is_causal: bool, lq: int, lk: int) -> Tensor:
    """One additive float mask from a position bias and a bool/float mask (or an is_causal flag)."""
    if mask is None and is_causal:
        rows = torch.arange(lq, device=position_bias.device)[:, None]
        cols = torch.arange(lk, device=position_bias.device)[None, :]
        mask = cols <= rows
    if mask is None:
        return position_bias
    if mask.dtype == torch.bool:
        return position_bias.masked_fill(~mask, float("-inf"))
    return position_bias + mask


def attention_forward(
    module: torch.nn.Module,
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attention_mask: Optional[Tensor],
    scaling: Optional[float] = None,
    dropout: float = 0.0,
    is_causal: Optional[bool] = None,
    position_bias: Optional[Tensor] = None,
    **kwargs,
) -> tuple[Tensor, None]:
    """``transformers`` attention-interface function: α-entmax attention for one layer.

    Takes HF's (batch, heads, seq, head_dim) query/key/value (key/value may have fewer heads: GQA)
    and the mask built by the registered mask function, and returns ``(attn_output, None)`` with
    ``attn_output`` of shape (batch, seq, heads, head_dim), as HF's attention modules expect.
    """
    from .ops import entmax_attention

    if kwargs.get("softcap") is not None:
        raise ValueError(
            "softcap: attn_implementation='adasplash' does not support logit soft-capping; "
            "use attn_implementation='eager' for this model"
        )
    if dropout and dropout > 0.0:
        raise NotImplementedError(
            f"dropout: attn_implementation='adasplash' has no attention dropout, but this layer asked for "
            f"dropout={dropout} in training mode; set the config's attention dropout "
            "(attention_dropout / attention_probs_dropout_prob / attn_pdrop) to 0, or call model.eval()"
        )
    if kwargs.get("output_attentions", False):
        warnings.warn(
            "attn_implementation='adasplash' does not return attention weights (output_attentions=True gives None)",
            stacklevel=2,
        )

    lq = query.shape[2]
    causal_module = is_causal if is_causal is not None else getattr(module, "is_causal", True)
    # The mask builder returns None for a purely causal mask (and for no mask at all): then the
    # module's causality decides. A single query row (decoding) attends to the whole cache.
    causal = bool(lq > 1 and attention_mask is None and causal_module)
    if causal and key.shape[2] > lq:
        # Prefill into an empty static cache: the keys past lq are empty slots (top-left causal
        # alignment would mask them anyway); dropping them saves the work.
        key, value = key[:, :, :lq], value[:, :, :lq]
        if position_bias is not None:
            position_bias = position_bias[..., :lq]

    mask = attention_mask
    if mask is not None and mask.dtype != torch.bool and mask.dtype != query.dtype:
        mask = mask.to(query.dtype)
    if position_bias is not None:
        mask = _combine_position_bias(position_bias.to(query.dtype), mask, causal, lq, key.shape[2])
        causal = False

    out = entmax_attention(
        query,
        key,
        value,
        attn_mask=mask,
        is_causal=causal,
        scale=scaling,
        enable_gqa=key.shape[1] != query.shape[1],
        alpha=_resolve_alpha(module),
    )
    return out.transpose(1, 2).contiguous(), None


def _mask_interface():
    """transformers' mask registry class, or None before ``masking_utils`` existed (< 4.53)."""
    try:
        from transformers import masking_utils
    except ImportError:
        return None
    return getattr(masking_utils, "AttentionMaskInterface", None)


def register() -> None:
    """Register ``attn_implementation="adasplash"`` with ``transformers`` (idempotent)."""
    global _registered
    if _registered:
        return
    try:
        from transformers import AttentionInterface
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "adasplash_compile.hf needs transformers>=4.50, which has AttentionInterface "
            "(pip install 'adasplash-compile[hf]')"
        ) from e
    AttentionInterface.register(IMPLEMENTATION_NAME, attention_forward)
    masks = _mask_interface()
    if masks is not None:
        # The SDPA builder, looked up rather than imported by name: its name and signature changed
        # across 4.5x releases (sdpa_mask_older_torch / sdpa_mask_recent_torch / sdpa_mask).
        masks.register(IMPLEMENTATION_NAME, masks._global_mapping["sdpa"])
    _registered = True


register()
