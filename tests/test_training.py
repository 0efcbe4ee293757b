"""Training smoke test: a tiny 2-layer transformer built on ``adasplash_compile.entmax_attention``,
with one learnable α per head, learns a task that needs attention.

It runs on the CPU through the op's reference path (the Triton interpreter would take minutes);
what it protects is the op's autograd wiring end to end: gradients reach q, k, v and α, and an
optimiser can use them.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import adasplash_compile

VOCAB, SEQ, DIM, HEADS = 12, 12, 32, 2


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(DIM, 3 * DIM)
        self.proj = nn.Linear(DIM, DIM)
        self.mlp = nn.Sequential(nn.Linear(DIM, 2 * DIM), nn.GELU(), nn.Linear(2 * DIM, DIM))
        self.ln1, self.ln2 = nn.LayerNorm(DIM), nn.LayerNorm(DIM)
        # α = 1 + softplus(θ) > 1 per head; θ = 0.19 starts near α = 1.8
        self.alpha_param = nn.Parameter(torch.full((HEADS,), 0.19))

    def alpha(self):
        return 1.0 + F.softplus(self.alpha_param)

    def forward(self, x):
        B, L, _ = x.shape
        q, k, v = self.qkv(self.ln1(x)).reshape(B, L, 3, HEADS, DIM // HEADS).permute(2, 0, 3, 1, 4)
        a = adasplash_compile.entmax_attention(q, k, v, alpha=self.alpha())
        x = x + self.proj(a.transpose(1, 2).reshape(B, L, DIM))
        return x + self.mlp(self.ln2(x))


class TinyTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(VOCAB, DIM)
        self.pos = nn.Parameter(0.5 * torch.randn(SEQ, DIM))
        self.blocks = nn.ModuleList([Block(), Block()])
        self.head = nn.Linear(DIM, VOCAB)

    def forward(self, tokens):
        x = self.tok(tokens) + self.pos
        for blk in self.blocks:
            x = blk(x)
        return self.head(x)


def _batch(n):
    """Reverse the sequence: position i must read the token at position SEQ−1−i (needs attention)."""
    tokens = torch.randint(0, VOCAB, (n, SEQ))
    return tokens, tokens.flip(1)


@pytest.fixture
def reference_path(monkeypatch):
    # Triton's own @jit helpers (tl.max, ...) are made for the interpreter or not when triton.language
    # is first imported (torch._dynamo imports it on first use): import it before the flip, or a
    # later interpreter test in this process finds them compiled-mode (this file run alone)
    import triton.language  # noqa: F401

    monkeypatch.setenv("TRITON_INTERPRET", "0")
    # Tiny tensors: one thread is 3-4x faster than two on the 2-core CI box (11 s vs 30-45 s).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_tiny_transformer_with_learnable_alpha_trains(reference_path):
    model = TinyTransformer()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    alpha0 = [blk.alpha().detach().clone() for blk in model.blocks]
    losses = []
    for _ in range(30):
        tokens, target = _batch(32)
        loss = F.cross_entropy(model(tokens).reshape(-1, VOCAB), target.reshape(-1))
        opt.zero_grad()
        loss.backward()
        for blk in model.blocks:
            g = blk.alpha_param.grad
            assert g is not None and torch.isfinite(g).all() and g.abs().sum() > 0, "no gradient reached alpha"
        opt.step()
        losses.append(loss.item())
    first, last = sum(losses[:3]) / 3, sum(losses[-3:]) / 3
    assert first > 0.8 * math.log(VOCAB), f"initial loss {first:.3f} is not near chance ({math.log(VOCAB):.3f})"
    assert last < 0.6 * first, f"loss did not drop clearly: {first:.3f} -> {last:.3f} ({losses})"
    for blk, a0 in zip(model.blocks, alpha0):
        assert not torch.equal(blk.alpha().detach(), a0), "alpha did not move"
        assert (blk.alpha() > 1).all()


@pytest.mark.parametrize("per_head_alpha", [False, True])
def test_compiled_backward_with_transposed_views(per_head_alpha):
    """Inductor checks each custom op's outputs against its fake implementation's sizes and
    strides. q, k, v as (B, L, H, D) projections viewed as (B, H, L, D) are not contiguous; the
    gradients the op returns are, and the fake must say so (an H200 end-to-end run caught this)."""
    torch.manual_seed(0)
    B, L, H, D = 1, 9, 2, 8
    x = torch.randn(B, L, 3, H, D, requires_grad=True)
    alpha = torch.tensor([1.5, 1.7], requires_grad=True) if per_head_alpha else 1.5

    def f(x):
        q, k, v = x.unbind(2)
        out = adasplash_compile.entmax_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2),
                                                 is_causal=True, alpha=alpha)
        return out.transpose(1, 2).sum(-1).square().sum()

    compiled = torch.compile(f, backend="inductor", fullgraph=True)
    g_eager = torch.autograd.grad(f(x), x)[0]
    # no FX graph cache: a graph compiled against an older fake would hide a change
    with torch._inductor.config.patch(fx_graph_cache=False):
        g_comp = torch.autograd.grad(compiled(x), x)[0]
    torch.testing.assert_close(g_comp, g_eager, rtol=1e-5, atol=1e-6)
