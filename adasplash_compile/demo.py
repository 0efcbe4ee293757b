"""The demo behind ``python -m adasplash_compile demo``, and its two tiny transformers.

``EntmaxLM`` writes its attention by hand, the way entmax users do
(``entmax15(q·kᵀ/√d masked by a causal tril buffer) @ v``); ``SoftmaxLM`` is the same model with
``F.scaled_dot_product_attention``. The demo compiles both with ``backend="adasplash"``, prints
what the backend did with every attention site (``explain``), checks the compiled output against
eager PyTorch and times the two.

Both classes have ``example_inputs()``, the convention ``python -m adasplash_compile explain``
uses to build an input for a model it is given.
"""

from __future__ import annotations

import copy
import math
import os
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["TinyLM", "EntmaxLM", "SoftmaxLM", "DemoSizes", "run_demo"]


def _entmax15_fn() -> Callable[[Tensor], Tensor]:
    """The entmax package's ``entmax15`` (what entmax users write) when installed, else ours."""
    try:
        from entmax import entmax15

        return lambda s: entmax15(s, dim=-1)
    except ImportError:
        from .ops import entmax

        return lambda s: entmax(s, alpha=1.5, dim=-1)


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention; ``kind`` picks how the attention itself is written.

    - ``"entmax15"``: hand-written entmax-1.5 attention with a causal ``tril`` buffer.
    - ``"softmax"``: ``F.scaled_dot_product_attention(..., is_causal=True)``.
    - ``"reference"``: the exact α-entmax reference (the demo's oracle for converted softmax).
    """

    def __init__(self, d_model: int, n_heads: int, max_len: int, kind: str, alpha: float = 1.5):
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model ({d_model}) must be divisible by n_heads ({n_heads})")
        if kind not in ("entmax15", "softmax", "reference"):
            raise ValueError(f"kind must be 'entmax15', 'softmax' or 'reference', got {kind!r}")
        self.n_heads, self.kind, self.alpha = n_heads, kind, alpha
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.register_buffer("tril", torch.tril(torch.ones(max_len, max_len, dtype=torch.bool)), persistent=False)
        self._entmax15 = _entmax15_fn() if kind == "entmax15" else None

    def forward(self, x: Tensor) -> Tensor:
        B, L, C = x.shape
        q, k, v = self.qkv(x).view(B, L, 3, self.n_heads, C // self.n_heads).permute(2, 0, 3, 1, 4)
        if self.kind == "entmax15":
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
            scores = scores.masked_fill(~self.tril[:L, :L], float("-inf"))
            y = self._entmax15(scores) @ v
        elif self.kind == "softmax":
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            from . import reference

            y = reference.entmax_attention(q, k, v, is_causal=True, alpha=self.alpha)
        return self.proj(y.transpose(1, 2).reshape(B, L, C))


class Block(nn.Module):
    def __init__(self, d_model: int, n_heads: int, max_len: int, kind: str):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_heads, max_len, kind)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class TinyLM(nn.Module):
    """A small GPT-style language model: token + position embeddings, pre-LN blocks, LM head."""

    def __init__(self, kind: str = "entmax15", vocab: int = 256, d_model: int = 64, n_heads: int = 4,
                 n_layers: int = 2, max_len: int = 1024):
        super().__init__()
        self.kind, self.vocab, self.max_len = kind, vocab, max_len
        self.tok = nn.Embedding(vocab, d_model)
        self.pos = nn.Embedding(max_len, d_model)
        self.blocks = nn.ModuleList(Block(d_model, n_heads, max_len, kind) for _ in range(n_layers))
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab, bias=False)

    def forward(self, tokens: Tensor) -> Tensor:
        L = tokens.shape[1]
        if L > self.max_len:
            raise ValueError(f"tokens: sequence length {L} exceeds max_len={self.max_len}")
        x = self.tok(tokens) + self.pos(torch.arange(L, device=tokens.device))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))

    def example_inputs(self, seq_len: int = 128, batch: int = 2) -> tuple[Tensor]:
        device = next(self.parameters()).device
        return (torch.randint(0, self.vocab, (batch, min(seq_len, self.max_len)), device=device),)

    def with_attention(self, kind: str, alpha: float = 1.5) -> "TinyLM":
        """A copy with the same weights whose attention is written as ``kind``."""
        other = copy.deepcopy(self)
        for block in other.blocks:
            block.attn.kind, block.attn.alpha = kind, alpha
            block.attn._entmax15 = _entmax15_fn() if kind == "entmax15" else None
        other.kind = kind
        return other


class EntmaxLM(TinyLM):
    """TinyLM with hand-written entmax-1.5 attention (what the backend fuses by default)."""

    def __init__(self, **kwargs):
        super().__init__(kind="entmax15", **kwargs)


class SoftmaxLM(TinyLM):
    """TinyLM with SDPA softmax attention (fused only with ``convert_softmax=True``)."""

    def __init__(self, **kwargs):
        super().__init__(kind="softmax", **kwargs)


# ----------------------------------------------------------------------------------------------
# The demo
# ----------------------------------------------------------------------------------------------


@dataclass
class DemoSizes:
    batch: int
    seq_len: int
    d_model: int
    n_heads: int
    n_layers: int
    dtype: torch.dtype
    repeats: int

    @classmethod
    def for_device(cls, device: str, quick: bool = False) -> "DemoSizes":
        if device.startswith("cuda"):
            return cls(batch=2, seq_len=4096, d_model=1024, n_heads=8, n_layers=2, dtype=torch.bfloat16,
                       repeats=10)
        if quick:
            return cls(batch=2, seq_len=32, d_model=32, n_heads=2, n_layers=1, dtype=torch.float32, repeats=5)
        return cls(batch=2, seq_len=128, d_model=64, n_heads=4, n_layers=2, dtype=torch.float32, repeats=5)


class _Clock:
    def __init__(self, out=sys.stdout):
        self.t0 = time.perf_counter()
        self.out = out

    def say(self, msg: str = "") -> None:
        print(msg, file=self.out, flush=True)

    def step(self, msg: str) -> None:
        print(f"[{time.perf_counter() - self.t0:7.1f}s] {msg}", file=self.out, flush=True)


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _time_pair(f, g, args, device: str, repeats: int) -> tuple[list[float], list[float]]:
    """Seconds per call of ``f`` and ``g``, alternating so that a change in machine load (another
    process, compile workers still starting) hits both alike."""
    tf, tg = [], []
    for _ in range(repeats):
        for fn, times in ((f, tf), (g, tg)):
            _sync(device)
            t = time.perf_counter()
            fn(*args)
            _sync(device)
            times.append(time.perf_counter() - t)
    return tf, tg


def _max_abs(a: Tensor, b: Tensor) -> float:
    return (a.double() - b.double()).abs().max().item()


def _load_average() -> float:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):  # not on every platform
        return 0.0


def execution_path(device: str) -> str:
    """Which implementation our ops take on ``device``, in words."""
    from ._dispatch import interpreter_on, use_triton

    if not use_triton(torch.empty(0, device=device)):
        return "reference (exact PyTorch; set TRITON_INTERPRET=1 to run the Triton kernels in the interpreter)"
    if device.startswith("cuda"):
        return "Triton kernels (compiled)"
    return "Triton kernels (interpreter, TRITON_INTERPRET=1: exact but slow)" if interpreter_on() else "reference"


def _case(clock: _Clock, title: str, model: nn.Module, inputs: tuple, device: str, sizes: DemoSizes,
          options: dict, *, oracle: nn.Module, baseline: Optional[nn.Module] = None,
          eager_label: str = "eager") -> bool:
    """explain + compile + check + time one (model, options) pair; True when the check passed.

    ``oracle``: the same computation in float64; ``baseline``: the same computation in plain eager
    PyTorch in the model's dtype (default: ``model`` itself)."""
    import adasplash_compile as ac

    baseline = model if baseline is None else baseline
    clock.say()
    clock.say(f"== {title} ==")
    clock.step(f"explain(model, options={options}) ...")
    report = ac.explain(model, *inputs, **options)
    clock.say(str(report))

    with torch.no_grad():
        oracle_out = oracle(*inputs)
        base_out = baseline(*inputs)
        compiled = torch.compile(model, backend="adasplash", options=options)
        clock.step('compiling with torch.compile(backend="adasplash") and autotuning (first call) ...')
        t = time.perf_counter()
        compiled_out = compiled(*inputs)
        _sync(device)
        clock.step(f"compiled in {time.perf_counter() - t:.1f}s")

        # FlashAttention's rule: the compiled model's error against the float64 oracle may be at
        # most a small multiple of the error plain eager PyTorch makes in the same dtype.
        err = _max_abs(compiled_out, oracle_out)
        base = _max_abs(base_out, oracle_out)
        floor = 1e-6  # as tests/helpers.assert_fa_rule: only matters when both errors are ~0
        ok = err <= 3 * base + floor
        clock.say(f"check: max |compiled - float64 oracle| = {err:.3g}; plain PyTorch {_dtype_name(sizes.dtype)} "
                  f"error = {base:.3g} (pass if <= 3x + {floor:.2g}): {'PASS' if ok else 'FAIL'}")

        clock.step(f"timing {eager_label} vs compiled (median of {sizes.repeats}, alternating) ...")
        model(*inputs)  # eager warm-up
        t_eager, t_comp = _time_pair(model, compiled, inputs, device, sizes.repeats)
        med_e, med_c = statistics.median(t_eager), statistics.median(t_comp)
        clock.say(f"{eager_label} {med_e * 1e3:.2f} ms (min {min(t_eager) * 1e3:.2f})   "
                  f"compiled {med_c * 1e3:.2f} ms (min {min(t_comp) * 1e3:.2f})   speedup {med_e / med_c:.2f}x")
    return ok


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).replace("torch.", "")


def run_demo(device: Optional[str] = None, seq_len: Optional[int] = None, alpha: float = 1.5,
             quick: bool = False, out=sys.stdout) -> int:
    """Run the demo; returns a process exit code (0 when every check passed)."""
    clock = _Clock(out)
    try:
        import adasplash_compile.backend  # noqa: F401
    except ImportError as e:
        clock.say(f"adasplash_compile.backend is not available ({e}); the demo needs the torch.compile backend.")
        return 1
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    sizes = DemoSizes.for_device(device, quick)
    if seq_len is not None:
        sizes.seq_len = seq_len
    clock.say(f"adasplash-compile demo: device={device}, path={execution_path(device)}")
    if device == "cpu":
        clock.say("note: on the CPU the fused op runs the exact sort-based reference (or the Triton interpreter), "
                  "so expect no speedup here; on a GPU it runs the Triton kernels")
        load, cores = _load_average(), os.cpu_count() or 1
        if load > cores and os.environ.get("OMP_WAIT_POLICY", "").upper() != "PASSIVE":
            # Measured here: with load 5 on 2 cores, busy-waiting OpenMP threads made a 1 ms
            # forward take ~200 ms after the first compile; OMP_WAIT_POLICY=PASSIVE brought it back.
            clock.say(f"note: this machine is busy (load {load:.1f} on {cores} cores), CPU timings will be noisy; "
                      "OMP_WAIT_POLICY=PASSIVE in the environment helps")
    clock.say(f"model: {sizes.n_layers} layer(s), d_model={sizes.d_model}, {sizes.n_heads} heads, "
              f"batch={sizes.batch}, seq_len={sizes.seq_len}, dtype={_dtype_name(sizes.dtype)}")

    kw = dict(d_model=sizes.d_model, n_heads=sizes.n_heads, n_layers=sizes.n_layers, max_len=sizes.seq_len)
    entmax_lm = EntmaxLM(**kw).to(device).eval()
    tokens = entmax_lm.example_inputs(sizes.seq_len, sizes.batch)
    entmax_oracle = copy.deepcopy(entmax_lm).double()
    entmax_lm = entmax_lm.to(sizes.dtype)
    # The same-dtype baseline of the FlashAttention rule is the exact reference attention run in
    # the model's dtype (matmuls in that dtype, entmax in float32), not the entmax package, whose
    # sort/cumsum in bfloat16 would make the bar too easy to clear.
    results = [
        _case(clock, "1. entmax-1.5 attention written by hand (fused by default)", entmax_lm, tokens, device,
              sizes, {}, oracle=entmax_oracle, baseline=entmax_lm.with_attention("reference", 1.5))
    ]

    softmax_lm = SoftmaxLM(**kw).to(device).eval()
    softmax_oracle = copy.deepcopy(softmax_lm).double()
    softmax_lm = softmax_lm.to(sizes.dtype)
    results.append(
        _case(clock, "2. softmax attention (SDPA), convert_softmax=False: left alone", softmax_lm, tokens, device,
              sizes, {"convert_softmax": False}, oracle=softmax_oracle)
    )
    # Converted, the model computes α-entmax attention: its oracle and its same-dtype plain
    # PyTorch twin are the same weights with the exact entmax reference as attention. Timing
    # compares against eager softmax: what switching this model to entmax costs or saves.
    results.append(
        _case(clock, f"3. softmax attention (SDPA), convert_softmax=True, alpha={alpha}: converted to entmax",
              softmax_lm, tokens, device, sizes, {"convert_softmax": True, "alpha": alpha},
              oracle=softmax_oracle.with_attention("reference", alpha),
              baseline=softmax_lm.with_attention("reference", alpha), eager_label="eager softmax")
    )
    clock.say()
    clock.step(f"done: {sum(results)}/{len(results)} checks passed")
    return 0 if all(results) else 1
