"""Attention, forward and forward+backward: ``adasplash_compile.entmax_attention`` against its peers.

impl                 what runs
adasplash_compile    ``adasplash_compile.entmax_attention`` (our Triton kernels)
adasplash2           PyPI adasplash 0.2.2 ``adasplash_v2`` (AdaSplash-2: entmax-1.5, causal only)
adasplash1           PyPI adasplash 0.2.2 ``adasplash_v1`` (AdaSplash-1: any α ∈ (1, 2], non-causal)
sdpa_flash           ``F.scaled_dot_product_attention`` (softmax) under SDPBackend.FLASH_ATTENTION
sdpa_cudnn           the same under SDPBackend.CUDNN_ATTENTION
sdpa_math            the same under SDPBackend.MATH (the smoke grid's CPU stand-in for the above)
entmax_eager         the ``entmax`` package (entmax15 / sparsemax / entmax_bisect) on materialised
                     fp32 scores: ``entmax(q·kᵀ·scale masked) @ v``
entmax_compiled      the same function under plain ``torch.compile`` (Inductor)

Grids (``--bench-grid``; select further with ``-k``, e.g. ``-k "adasplash_compile and N16384"``):
smoke  B=1, H=2, D=16, N ∈ {32, 64}, each code path once: CPU-able (Triton interpreter for ours);
       GPU-only peers skip, torch.compile rows skip on the CPU unless --bench-cpu-compile.
core   B=2, H=16, D=128, bf16, causal, α=1.5, rand+local, fwd+fwd_bwd, N ∈ {4k, 16k} for ours,
       sdpa_cudnn, sdpa_flash, adasplash2, and N=32k for ours and SDPA; plus D=64 at 4k (rand)
       and one non-causal point (4k, rand, with adasplash1 as the entmax peer); plus decode steps
       (pass "decode": the last query row against all N keys, not causal) at N ∈ {4k, 32k, 128k}
       for ours, SDPA and the entmax package.
full   N ∈ {1k, 4k, 16k, 32k, 64k} × D ∈ {64, 128} × α ∈ {1.5, 2, 1.25} × rand/local ×
       causal/non-causal × fwd/fwd_bwd, every peer where it applies; infeasible rows skip with a reason.
"""

from __future__ import annotations

import itertools
import math

import torch
import torch.nn.functional as F

from benchmarks.inputs import INPUT_KINDS, Case, Unavailable, attention_inputs, grad_like

ENTMAX_PACKAGE_MAX_N = 8192  # the entmax package materialises B·H·N² fp32 scores plus sort buffers
# Peak bytes per score element of the entmax package's fwd+bwd (30.5 GiB at B·H·N² = 2·16·4096²,
# ~61 B/score, measured on the H200: shared/anchors/h200-2026-11-29.md); rows that cannot fit skip.
ENTMAX_PACKAGE_BYTES_PER_SCORE = 64

GPU_ONLY = {"adasplash2", "adasplash1", "sdpa_flash", "sdpa_cudnn"}
SOFTMAX = {"sdpa_flash", "sdpa_cudnn", "sdpa_math"}


# ----------------------------------------------------------------------------------------------
# Implementations: (q, k, v, causal, alpha) -> out
# ----------------------------------------------------------------------------------------------


def _ours(q, k, v, causal, alpha):
    import adasplash_compile

    return adasplash_compile.entmax_attention(q, k, v, is_causal=causal, alpha=alpha)


def _sdpa(backend_name):
    from torch.nn.attention import SDPBackend, sdpa_kernel

    backend = getattr(SDPBackend, backend_name)

    def run(q, k, v, causal, alpha):
        with sdpa_kernel(backend):
            return F.scaled_dot_product_attention(q, k, v, is_causal=causal)

    return run


def _adasplash2(q, k, v, causal, alpha):
    from adasplash import adasplash_v2

    return adasplash_v2(q, k, v, niter=1)


def _adasplash1(q, k, v, causal, alpha):
    from adasplash import adasplash_v1

    return adasplash_v1(q, k, v, alpha=alpha, is_causal=causal, niter=10)


def entmax_package_attention(q, k, v, causal: bool, alpha: float):
    """What an entmax-package user writes: fp32 scores, -inf above the diagonal, entmax, @ v."""
    from entmax import entmax15, entmax_bisect, sparsemax

    scale = 1.0 / math.sqrt(q.shape[-1])
    s = torch.matmul(q, k.transpose(-2, -1)).float() * scale
    if causal:
        n, m = s.shape[-2], s.shape[-1]
        keep = torch.ones((n, m), dtype=torch.bool, device=s.device).tril()
        s = s.masked_fill(~keep, float("-inf"))
    if alpha == 1.5:
        p = entmax15(s, dim=-1)
    elif alpha == 2.0:
        p = sparsemax(s, dim=-1)
    else:
        p = entmax_bisect(s, alpha=alpha, dim=-1)
    return torch.matmul(p.to(v.dtype), v)


def _entmax_compiled():
    torch._dynamo.reset()  # a fresh compile per row: no recompile limit, no shape reuse across rows
    return torch.compile(entmax_package_attention, dynamic=False)


IMPLS = {
    "adasplash_compile": lambda: _ours,
    "adasplash2": lambda: _adasplash2,
    "adasplash1": lambda: _adasplash1,
    "sdpa_flash": lambda: _sdpa("FLASH_ATTENTION"),
    "sdpa_cudnn": lambda: _sdpa("CUDNN_ATTENTION"),
    "sdpa_math": lambda: _sdpa("MATH"),
    "entmax_eager": lambda: entmax_package_attention,
    "entmax_compiled": _entmax_compiled,
}


# ----------------------------------------------------------------------------------------------
# Which rows exist
# ----------------------------------------------------------------------------------------------


def _static_skip(impl: str, N: int, D: int, B: int, H: int, cuda: bool, pass_: str = "fwd") -> str | None:
    """Reasons known before running anything."""
    Lq = 1 if pass_ == "decode" else N
    if impl in GPU_ONLY and not cuda:
        return f"{impl} needs a CUDA GPU"
    if impl.startswith("adasplash") and impl != "adasplash_compile":
        if N < 64 or N & (N - 1):
            return f"{impl} needs N a power of two >= 64 (got {N})"
        if D not in (16, 32, 64, 128, 256):
            return f"{impl} needs D in {{16, 32, 64, 128, 256}} (got {D})"
    if impl.startswith("entmax_"):
        if Lq > ENTMAX_PACKAGE_MAX_N:
            return f"entmax package materialises B·H·N² scores: N={N} > {ENTMAX_PACKAGE_MAX_N} is infeasible"
        if cuda and torch.cuda.is_available():
            need = ENTMAX_PACKAGE_BYTES_PER_SCORE * B * H * Lq * N
            have = torch.cuda.get_device_properties(0).total_memory
            if need > 0.8 * have:
                return f"entmax package needs ~{need / 2**30:.0f} GiB (> 80% of {have / 2**30:.0f} GiB)"
    return None


def _case(impl, pass_, N, D, alpha, inp, causal, B, H, dtype, cuda, rank) -> Case:
    alpha = None if impl in SOFTMAX else alpha
    # Order of a run: ours, softmax peers, the entmax package, row-wise entmax (bench_entmax, rank
    # 3), then AdaSplash, whose first call at each new (N, D) autotunes for minutes: AdaSplash-1
    # (no autotuning) first, then AdaSplash-2 at D=128 by N, then D=64; end to end (rank 7) last.
    return Case(
        bench="attention", impl=impl, pass_=pass_, N=N, D=D, B=B, H=H, alpha=alpha, input=inp, causal=causal,
        dtype=dtype, skip=_static_skip(impl, N, D, B, H, cuda, pass_), compiles=impl == "entmax_compiled",
        order=(rank, D != 128, N if rank >= 5 else 0, not causal, pass_ != "fwd", inp, impl, N, D, alpha or 0),
    )


def _rank(impl: str) -> int:
    return {"adasplash_compile": 0, "sdpa_cudnn": 1, "sdpa_flash": 1, "sdpa_math": 1,
            "entmax_eager": 2, "entmax_compiled": 2, "adasplash1": 5, "adasplash2": 6}[impl]


def cases(grid: str, cuda: bool) -> list[Case]:
    out: list[Case] = []

    def add(impls, Ns, Ds, alphas, inputs, causals, passes, B, H, dtype):
        for impl, N, D, alpha, inp, causal, pass_ in itertools.product(impls, Ns, Ds, alphas, inputs, causals, passes):
            if impl in SOFTMAX and alpha != 1.5:
                continue  # softmax has no α: one row per point
            if impl == "adasplash2" and not (causal and alpha == 1.5):
                continue  # AdaSplash-2 is entmax-1.5, causal only
            if impl == "adasplash1" and causal and alpha == 1.5:
                continue  # adasplash2 covers this point
            out.append(_case(impl, pass_, N, D, alpha, inp, causal, B, H, dtype, cuda, _rank(impl)))

    both = ("fwd", "fwd_bwd")
    if grid == "smoke":
        dtype = "bfloat16" if cuda else "float32"
        sm = dict(B=1, H=2, dtype=dtype)
        # Each code path once (the Triton interpreter takes seconds per call): rand at N=32,
        # local at N=64, one non-causal fwd_bwd and one α=2 fwd.
        every = ["adasplash_compile", "sdpa_math", "sdpa_flash", "sdpa_cudnn", "adasplash2", "entmax_eager",
                 "entmax_compiled"]
        add(every, [32], [16], [1.5], ["rand"], [True], both, **sm)
        add(every, [64], [16], [1.5], ["local"], [True], both, **sm)
        add(["adasplash_compile", "sdpa_math", "adasplash1", "entmax_eager"], [64], [16], [1.5], ["rand"], [False],
            ["fwd_bwd"], **sm)
        add(["adasplash_compile", "adasplash1", "entmax_eager"], [64], [16], [2.0], ["rand"], [True], ["fwd"], **sm)
        add(["adasplash_compile", "sdpa_math", "entmax_eager"], [64], [16], [1.5], ["local"], [False], ["decode"], **sm)
    elif grid == "core":
        co = dict(B=2, H=16, dtype="bfloat16")
        main = ["adasplash_compile", "sdpa_cudnn", "sdpa_flash"]
        add(main + ["adasplash2"], [4096, 16384], [128], [1.5], INPUT_KINDS, [True], both, **co)
        add(main, [32768], [128], [1.5], INPUT_KINDS, [True], both, **co)
        add(main + ["adasplash2"], [4096], [64], [1.5], ["rand"], [True], both, **co)
        add(main + ["adasplash1"], [4096], [128], [1.5], ["rand"], [False], both, **co)
        add(main + ["entmax_eager"], [4096, 32768, 131072], [128], [1.5], INPUT_KINDS, [False], ["decode"], **co)
    elif grid == "full":
        fu = dict(B=2, H=16, dtype="bfloat16")
        add([i for i in IMPLS if i != "sdpa_math"], [1024, 4096, 16384, 32768, 65536], [64, 128],
            [1.5, 2.0, 1.25], INPUT_KINDS, [True, False], both, **fu)
    else:
        raise ValueError(f"unknown grid {grid!r}")
    return out


# ----------------------------------------------------------------------------------------------
# The benchmark
# ----------------------------------------------------------------------------------------------


def _ours_runs_kernels(q, k, v, pass_: str) -> bool:
    """True when entmax_attention would run Triton (compiled or interpreted), not the reference
    (which materialises the scores in fp32/fp64: minutes and tens of GiB at these sizes)."""
    import importlib

    from adasplash_compile import ops

    supports = getattr(ops, "_kernel_supports", None)
    if supports is not None and not supports(q, k, v):
        return False
    if pass_ == "fwd":
        return True
    for mod in ("adasplash_compile.kernels.attention_bwd", "adasplash_compile.kernels.attention"):
        try:
            if hasattr(importlib.import_module(mod), "backward"):
                return True
        except ImportError:
            pass
    return False


def make_attention_fn(case: Case, device: str):
    fwd_bwd = case.pass_ == "fwd_bwd"
    impl = IMPLS[case.impl]()
    q, k, v = attention_inputs(
        case.input, case.B, case.H, case.N, case.D, dtype=case.torch_dtype, device=device, requires_grad=fwd_bwd
    )
    if case.pass_ == "decode":  # one decode step: the last position's query against every key
        q = q[:, :, -1:].contiguous()
    if case.impl == "adasplash_compile" and device == "cuda" and not _ours_runs_kernels(q, k, v, case.pass_):
        raise Unavailable("no Triton attention kernel for this case yet (the reference path is not benchmarked)")
    alpha = 1.5 if case.alpha is None else case.alpha
    causal = case.causal

    if not fwd_bwd:
        def fn():
            return impl(q, k, v, causal, alpha)

        return fn

    do = grad_like(q)

    def fn():
        q.grad = k.grad = v.grad = None
        out = impl(q, k, v, causal, alpha)
        out.backward(do)
        return out, q.grad, k.grad, v.grad

    return fn


def test_attention(case, bench):
    device = "cuda" if torch.cuda.is_available() else "cpu"
    bench.run(case, lambda: make_attention_fn(case, device), ours=case.impl == "adasplash_compile")
