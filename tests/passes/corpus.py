"""A corpus of real attention code, as people write it, for the attention pass.

Each :class:`Case` builds a tiny model (no downloads) and its inputs, and states what the pass must
do with it: how many sites it rewrites with ``convert_softmax=False`` (only entmax sites) and with
``convert_softmax=True``, and, for the sites it must leave alone, a fragment of the reason.

The hand-written modules copy the style of the code they stand for (nanoGPT's
CausalSelfAttention, timm's Attention, OpenNMT's entmax attention); they are written here, not
imported, because the originals are not installable in CI (timm needs torchvision).
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Callable, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from adasplash_compile import reference

# ----------------------------------------------------------------------------------------------
# hand-written attention modules
# ----------------------------------------------------------------------------------------------


class NanoGPTAttention(nn.Module):
    """nanoGPT's CausalSelfAttention (manual and flash paths)."""

    def __init__(self, n_embd=32, n_head=4, block_size=32, dropout=0.0, flash=False):
        super().__init__()
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)
        self.c_proj = nn.Linear(n_embd, n_embd)
        self.attn_dropout = nn.Dropout(dropout)
        self.resid_dropout = nn.Dropout(dropout)
        self.n_head, self.n_embd, self.dropout, self.flash = n_head, n_embd, dropout, flash
        self.register_buffer("bias", torch.tril(torch.ones(block_size, block_size)).view(1, 1, block_size, block_size))

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        if self.flash:
            y = F.scaled_dot_product_attention(
                q, k, v, attn_mask=None, dropout_p=self.dropout if self.training else 0, is_causal=True
            )
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
            att = F.softmax(att, dim=-1)
            att = self.attn_dropout(att)
            y = att @ v
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class TimmAttention(nn.Module):
    """timm's ViT Attention, fused_attn off (manual) and on (SDPA)."""

    def __init__(self, dim=32, num_heads=4, fused_attn=False, attn_drop=0.0):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = self.head_dim ** -0.5
        self.fused_attn = fused_attn
        self.qkv = nn.Linear(dim, dim * 3)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        if self.fused_attn:
            x = F.scaled_dot_product_attention(q, k, v, dropout_p=self.attn_drop.p if self.training else 0.0)
        else:
            q = q * self.scale
            attn = q @ k.transpose(-2, -1)
            attn = attn.softmax(dim=-1)
            attn = self.attn_drop(attn)
            x = attn @ v
        x = x.transpose(1, 2).reshape(B, N, C)
        return self.proj(x)


class OpenNMTEntmaxAttention(nn.Module):
    """OpenNMT-style multi-headed attention with entmax15: query / sqrt(d), bmm-free 4-D matmul,
    ``masked_fill(mask, -1e18)`` on padding, ``entmax15`` over keys."""

    def __init__(self, dim=32, heads=4):
        super().__init__()
        self.h, self.d = heads, dim // heads
        self.q, self.k, self.v, self.o = (nn.Linear(dim, dim) for _ in range(4))

    def forward(self, x, pad_mask):
        import entmax

        B, L, _ = x.shape
        shape = lambda t: t.view(B, L, self.h, self.d).transpose(1, 2)  # noqa: E731
        q, k, v = shape(self.q(x)), shape(self.k(x)), shape(self.v(x))
        q = q / math.sqrt(self.d)
        scores = torch.matmul(q, k.transpose(2, 3))
        mask = pad_mask.unsqueeze(1).unsqueeze(2)  # (B, 1, 1, L): True = padding
        scores = scores.masked_fill(mask, -1e18)
        attn = entmax.entmax15(scores, dim=-1)
        ctx = torch.matmul(attn, v)
        return self.o(ctx.transpose(1, 2).reshape(B, L, -1))


class LearnedAlphaAttention(nn.Module):
    """Adaptively sparse attention: a learned α per head, α = 1 + sigmoid(θ) ∈ (1, 2), with
    ``entmax_bisect`` (Correia et al. 2019 style), 3-D einsum-free 4-D matmuls."""

    def __init__(self, dim=32, heads=4):
        super().__init__()
        self.h, self.d = heads, dim // heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.alpha_logit = nn.Parameter(torch.randn(heads))

    def forward(self, x):
        import entmax

        B, L, C = x.shape
        q, k, v = self.qkv(x).view(B, L, 3, self.h, self.d).permute(2, 0, 3, 1, 4).unbind(0)
        alpha = 1 + torch.sigmoid(self.alpha_logit).view(1, self.h, 1, 1)
        att = torch.einsum("bhqd,bhkd->bhqk", q, k) * self.d ** -0.5
        p = entmax.entmax_bisect(att, alpha, dim=-1)
        return torch.einsum("bhqk,bhkd->bhqd", p, v).transpose(1, 2).reshape(B, L, C)


class SparsemaxCausalAttention(nn.Module):
    """Decoder self-attention with sparsemax and a causal tril buffer, 3-D (B·H, L, D) bmm layout."""

    def __init__(self, dim=32, heads=4, block_size=32):
        super().__init__()
        self.h, self.d = heads, dim // heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.register_buffer("causal", torch.tril(torch.ones(block_size, block_size, dtype=torch.bool)))

    def forward(self, x):
        import entmax

        B, L, C = x.shape
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        to3 = lambda t: t.reshape(B, L, self.h, self.d).transpose(1, 2).reshape(B * self.h, L, self.d)  # noqa: E731
        q, k, v = to3(q), to3(k), to3(v)
        s = torch.bmm(q, k.transpose(1, 2)) / math.sqrt(self.d)
        s = s.masked_fill(~self.causal[:L, :L], float("-inf"))
        p = entmax.sparsemax(s, dim=-1)
        return torch.bmm(p, v).view(B, self.h, L, self.d).transpose(1, 2).reshape(B, L, C)


class ReturnsWeights(nn.Module):
    """Negative: the softmax weights are returned too (need_weights / output_attentions style)."""

    def __init__(self, dim=32, heads=4):
        super().__init__()
        self.h, self.d = heads, dim // heads
        self.qkv = nn.Linear(dim, 3 * dim)

    def forward(self, x):
        B, L, C = x.shape
        q, k, v = self.qkv(x).view(B, L, 3, self.h, self.d).permute(2, 0, 3, 1, 4).unbind(0)
        w = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(self.d), dim=-1)
        return (w @ v).transpose(1, 2).reshape(B, L, C), w


class MHA(nn.Module):
    def __init__(self, need_weights: bool, dim=32, heads=4):
        super().__init__()
        self.mha = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.need_weights = need_weights

    def forward(self, x):
        out, w = self.mha(x, x, x, need_weights=self.need_weights)
        return (out, w) if self.need_weights else out


# ----------------------------------------------------------------------------------------------
# HF transformers, tiny configs
# ----------------------------------------------------------------------------------------------


def hf_model(arch: str, impl: str):
    import transformers as tf

    common = dict(attn_implementation=impl)
    if arch == "llama":
        cfg = tf.LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                             num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                             attention_dropout=0.0)
    elif arch == "gpt2":
        cfg = tf.GPT2Config(vocab_size=64, n_embd=32, n_layer=1, n_head=4, n_positions=64,
                            attn_pdrop=0.0, resid_pdrop=0.0, embd_pdrop=0.0, bos_token_id=0, eos_token_id=0)
    elif arch == "bert":
        cfg = tf.BertConfig(vocab_size=64, hidden_size=32, num_hidden_layers=1, num_attention_heads=4,
                            intermediate_size=64, max_position_embeddings=64,
                            attention_probs_dropout_prob=0.0, hidden_dropout_prob=0.0)
    elif arch == "vit":
        cfg = tf.ViTConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=4, intermediate_size=64,
                           image_size=16, patch_size=4, num_channels=3,
                           attention_probs_dropout_prob=0.0, hidden_dropout_prob=0.0)
    else:
        raise ValueError(arch)
    cfg._attn_implementation = impl
    try:
        model = tf.AutoModel.from_config(cfg, **common)
    except TypeError:  # older transformers without the keyword
        model = tf.AutoModel.from_config(cfg)
    return model


class HFWrapper(nn.Module):
    """Positional-input wrapper returning the last hidden state only."""

    def __init__(self, model, arch):
        super().__init__()
        self.model, self.arch = model, arch

    def forward(self, x, attention_mask=None):
        if self.arch == "vit":
            return self.model(pixel_values=x).last_hidden_state
        kw = {} if attention_mask is None else {"attention_mask": attention_mask}
        return self.model(input_ids=x, **kw).last_hidden_state


# ----------------------------------------------------------------------------------------------
# the reference for converted models: the same model with softmax replaced by α-entmax
# ----------------------------------------------------------------------------------------------


@contextlib.contextmanager
def softmax_as_entmax(alpha: float):
    """Eagerly run a softmax model as its α-entmax twin: F.softmax / torch.softmax / Tensor.softmax
    and F.scaled_dot_product_attention are swapped for the exact reference implementations."""
    orig = (F.softmax, torch.softmax, torch.Tensor.softmax, F.scaled_dot_product_attention)

    def _sm(x, dim=None, _stacklevel=3, dtype=None):
        # softmax(..., dtype=float32) is the "compute in at least fp32" idiom (HF eager); the
        # fused op computes in max(fp32, input dtype), so the twin honours dtype only to widen.
        y = x.to(dtype) if dtype is not None and torch.finfo(dtype).bits > torch.finfo(x.dtype).bits else x
        return reference.entmax(y, alpha, dim=dim)

    def _method(self, dim=None, dtype=None):
        return _sm(self, dim, dtype=dtype)

    def _sdpa(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False):
        return reference.entmax_attention(q, k, v, attn_mask, dropout_p, is_causal, scale,
                                          enable_gqa or k.shape[1] != q.shape[1], alpha=alpha)

    F.softmax = _sm
    torch.softmax = _sm
    torch.Tensor.softmax = _method
    F.scaled_dot_product_attention = _sdpa
    try:
        yield
    finally:
        F.softmax, torch.softmax, torch.Tensor.softmax, F.scaled_dot_product_attention = orig


@contextlib.contextmanager
def bisect_as_exact():
    """Run entmax_bisect models with the exact α-entmax instead of 50 bisection steps."""
    import entmax

    orig = entmax.entmax_bisect

    def exact(X, alpha=1.5, dim=-1, n_iter=50, ensure_sum_one=True):
        return reference.entmax(X, alpha, dim=dim)

    entmax.entmax_bisect = exact
    try:
        yield
    finally:
        entmax.entmax_bisect = orig


# ----------------------------------------------------------------------------------------------
# the cases
# ----------------------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    build: Callable[[], tuple]  # -> (module, args tuple)
    entmax_sites: int  # rewritten with convert_softmax=False
    converted_sites: int  # rewritten with convert_softmax=True
    total_sites: int  # sites explain() reports
    skip_reason: Optional[str] = None  # fragment of the reason of skipped sites (when any)
    needs: tuple = ()  # optional packages
    causal: Optional[bool] = None  # is_causal of the rewritten sites, when it matters
    trainable: bool = True
    # the model's own map is approximate (entmax_bisect): compare with an exact twin instead
    exact_twin: Optional[Callable] = None
    eager_tol: float = 1e-9
    # sites rewritten (converted) when compiled in eval mode under no_grad, where it differs
    no_grad_converted: Optional[int] = None


def _tokens(B=2, L=8, vocab=64):
    return torch.randint(0, vocab, (B, L))


def _x(B=2, L=8, C=32):
    return torch.randn(B, L, C)


def _pad_mask(B=2, L=8):
    m = torch.zeros(B, L, dtype=torch.bool)
    m[1, L - 3:] = True
    return m


def _hf_case(arch, impl, convert, skip=None, causal=None):
    def build():
        model = HFWrapper(hf_model(arch, impl), arch)
        if arch == "vit":
            return model, (torch.randn(2, 3, 16, 16),)
        if arch == "bert":
            am = torch.ones(2, 8, dtype=torch.long)
            am[1, 5:] = 0
            return model, (_tokens(), am)
        return model, (_tokens(),)

    return Case(f"hf_{arch}_{impl}", build, 0, convert, 1, skip, needs=("transformers",), causal=causal)


CASES = [
    Case("nanogpt_manual", lambda: (NanoGPTAttention(), (_x(),)), 0, 1, 1, "convert_softmax", causal=True),
    Case("nanogpt_flash", lambda: (NanoGPTAttention(flash=True), (_x(),)), 0, 1, 1, "convert_softmax", causal=True),
    Case("timm_manual", lambda: (TimmAttention(), (_x(L=9),)), 0, 1, 1, "convert_softmax", causal=False),
    Case("timm_fused", lambda: (TimmAttention(fused_attn=True), (_x(L=9),)), 0, 1, 1, "convert_softmax", causal=False),
    _hf_case("llama", "eager", 1, "convert_softmax", causal=True),
    _hf_case("llama", "sdpa", 1, "convert_softmax", causal=True),
    _hf_case("gpt2", "eager", 1, "convert_softmax", causal=True),
    _hf_case("gpt2", "sdpa", 1, "convert_softmax", causal=True),
    _hf_case("bert", "eager", 1, "convert_softmax", causal=False),
    _hf_case("bert", "sdpa", 1, "convert_softmax", causal=False),
    _hf_case("vit", "eager", 1, "convert_softmax", causal=False),
    _hf_case("vit", "sdpa", 1, "convert_softmax", causal=False),
    Case("opennmt_entmax15", lambda: (OpenNMTEntmaxAttention(), (_x(), _pad_mask())), 1, 1, 1, needs=("entmax",),
         causal=False),
    Case("learned_alpha_bisect", lambda: (LearnedAlphaAttention(), (_x(),)), 1, 1, 1, needs=("entmax",),
         causal=False, exact_twin=bisect_as_exact, eager_tol=1e-5),
    Case("sparsemax_causal_3d", lambda: (SparsemaxCausalAttention(), (_x(),)), 1, 1, 1, needs=("entmax",),
         causal=True),
    Case("returns_weights", lambda: (ReturnsWeights(), (_x(),)), 0, 0, 1, "users (", trainable=False),
    Case("mha_need_weights_false", lambda: (MHA(False), (_x(),)), 0, 1, 1, "convert_softmax"),
    Case("mha_need_weights_true", lambda: (MHA(True), (_x(),)), 0, 0, 1, "need_weights=True", trainable=False),
    Case("transformer_encoder_layer",
         lambda: (nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True), (_x(),)),
         0, 1, 1, "convert_softmax", no_grad_converted=0),
]

CASES_BY_NAME = {c.name: c for c in CASES}
