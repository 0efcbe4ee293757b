"""End to end: one training step of a tiny Llama-style model with entmax attention.

The model: token embedding, 2 blocks of (RMSNorm → attention → residual, RMSNorm → SwiGLU MLP →
residual), final RMSNorm, LM head; bf16 weights, AdamW. Its attention is written the way users
write entmax attention, ``entmax15(q·kᵀ·scale, masked with -inf above the diagonal) @ v``, so the
``adasplash`` backend has a site to rewrite; the softmax twin calls ``F.scaled_dot_product_attention``.

impl                 what runs one step (zero_grad, forward, cross-entropy, backward, AdamW step)
adasplash_compile    ``torch.compile(model, backend=adasplash_compile.backend)`` (entmax model)
entmax_eager         the entmax model, eager (the entmax package on B·H·N² materialised scores)
entmax_compiled      the entmax model under plain ``torch.compile`` (Inductor)
sdpa                 the softmax model with SDPA (flash / cuDNN as PyTorch picks), eager

Sizes: GPU: B=1, N=8192 tokens, H=8, head dim 64 (d_model 512), vocab 8192; smoke (CPU): N=64,
H=2, head dim 16, vocab 128. Rows through torch.compile skip on the CPU unless --bench-cpu-compile.
``extra_info["sites_rewritten"]`` records how many attention sites the backend reported rewritten
(from ``adasplash_compile.explain``), so a row that silently fell back to Inductor is visible.
"""

from __future__ import annotations

import importlib
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from benchmarks.inputs import Case, Unavailable

LAYERS = 2


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int, softmax: bool):
        super().__init__()
        self.heads, self.head_dim, self.softmax = heads, dim // heads, softmax
        self.qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.out = nn.Linear(dim, dim, bias=False)

    def forward(self, x: torch.Tensor, causal_mask: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=-1)
        q, k, v = (t.view(B, T, self.heads, self.head_dim).transpose(1, 2) for t in (q, k, v))
        if self.softmax:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            from entmax import entmax15

            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(self.head_dim))
            att = att.masked_fill(~causal_mask[:T, :T], float("-inf"))
            att = entmax15(att, dim=-1)
            y = att @ v
        return self.out(y.transpose(1, 2).reshape(B, T, C))


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, softmax: bool):
        super().__init__()
        hidden = 4 * dim * 2 // 3
        self.attn_norm, self.mlp_norm = nn.RMSNorm(dim), nn.RMSNorm(dim)
        self.attn = Attention(dim, heads, softmax)
        self.gate_up = nn.Linear(dim, 2 * hidden, bias=False)
        self.down = nn.Linear(hidden, dim, bias=False)

    def forward(self, x, causal_mask):
        x = x + self.attn(self.attn_norm(x), causal_mask)
        gate, up = self.gate_up(self.mlp_norm(x)).chunk(2, dim=-1)
        return x + self.down(F.silu(gate) * up)


class TinyLlama(nn.Module):
    def __init__(self, vocab: int, dim: int, heads: int, max_len: int, softmax: bool = False):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.blocks = nn.ModuleList(Block(dim, heads, softmax) for _ in range(LAYERS))
        self.norm = nn.RMSNorm(dim)
        self.head = nn.Linear(dim, vocab, bias=False)
        self.register_buffer("causal_mask", torch.ones(max_len, max_len, dtype=torch.bool).tril(), persistent=False)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.embed(tokens)
        for block in self.blocks:
            x = block(x, self.causal_mask)
        return self.head(self.norm(x))


def _sizes(cuda: bool) -> dict:
    if cuda:
        return dict(B=1, N=8192, H=8, D=64, vocab=8192, dtype="bfloat16")
    return dict(B=1, N=64, H=2, D=16, vocab=128, dtype="float32")


IMPLS = ("adasplash_compile", "entmax_eager", "entmax_compiled", "sdpa")


def cases(grid: str, cuda: bool) -> list[Case]:
    if grid not in ("smoke", "core", "full"):
        raise ValueError(f"unknown grid {grid!r}")
    s = _sizes(cuda)
    return [
        Case(
            bench="e2e", impl=impl, pass_="train_step", N=s["N"], D=s["D"], B=s["B"], H=s["H"],
            alpha=None if impl == "sdpa" else 1.5, input="tokens", causal=True, dtype=s["dtype"],
            compiles=impl in ("adasplash_compile", "entmax_compiled"), order=(7, i),
        )
        for i, impl in enumerate(IMPLS)
    ]


def _rewritten_sites(model, tokens) -> int | None:
    try:
        explain = importlib.import_module("adasplash_compile.backend").explain
        report = explain(model, tokens)
        return sum(1 for site in report.sites if site.status == "rewritten")
    except Exception:
        return None


def make_train_step(case: Case, device: str, info: dict):
    s = _sizes(device == "cuda")
    if case.impl == "adasplash_compile":
        try:
            backend = importlib.import_module("adasplash_compile.backend").backend
        except (ImportError, AttributeError) as exc:
            raise Unavailable(f"adasplash_compile.backend is not importable: {exc}") from exc
    torch._dynamo.reset()
    model = TinyLlama(s["vocab"], s["H"] * s["D"], s["H"], s["N"], softmax=case.impl == "sdpa")
    model = model.to(device=device, dtype=case.torch_dtype)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    tokens = torch.randint(0, s["vocab"], (s["B"], s["N"] + 1), device=device)
    inp, target = tokens[:, :-1], tokens[:, 1:]
    if case.impl == "adasplash_compile":
        info["sites_rewritten"] = _rewritten_sites(model, inp)
        forward = torch.compile(model, backend=backend)
    elif case.impl == "entmax_compiled":
        forward = torch.compile(model)
    else:
        forward = model
    info["params_m"] = round(sum(p.numel() for p in model.parameters()) / 1e6, 2)

    def step():
        opt.zero_grad(set_to_none=True)
        logits = forward(inp)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), target.reshape(-1))
        loss.backward()
        opt.step()
        return loss.detach()

    return step


def test_train_step(case, bench):
    device = "cuda" if torch.cuda.is_available() else "cpu"
    info = bench.benchmark.extra_info
    bench.run(case, lambda: make_train_step(case, device, info), ours=case.impl == "adasplash_compile")
