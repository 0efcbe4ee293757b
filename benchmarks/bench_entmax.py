"""Row-wise α-entmax over the last dim: ``adasplash_compile.entmax`` against its peers.

impl                 what runs
adasplash_compile    ``adasplash_compile.entmax(x, alpha)`` (our Triton kernel)
softmax              ``torch.softmax`` (the speed of light for a row-wise normaliser)
triton_entmax        PyPI adasplash 0.2.2 ``triton_entmax`` (histogram init + 2 Halley steps)
entmax_eager         the ``entmax`` package (entmax15 / sparsemax / entmax_bisect)
entmax_compiled      the same under plain ``torch.compile`` (full grid only)

Grids: smoke = 16x64 (CPU-able); core = fp32 4096x4096 and 1024x32768, α=1.5, fwd and
fwd_bwd; full adds α ∈ {2, 1.25}, bf16, and the compiled entmax package.
"""

from __future__ import annotations

import torch

from benchmarks.inputs import Case, Unavailable, grad_like, rowwise_input

GPU_ONLY = {"triton_entmax"}


def _ours(x, alpha):
    import adasplash_compile

    return adasplash_compile.entmax(x, alpha=alpha)


def _softmax(x, alpha):
    return torch.softmax(x, dim=-1)


def _triton_entmax(x, alpha):
    from adasplash import triton_entmax

    return triton_entmax(x, alpha=alpha)


def entmax_package(x, alpha):
    from entmax import entmax15, entmax_bisect, sparsemax

    if alpha == 1.5:
        return entmax15(x, dim=-1)
    if alpha == 2.0:
        return sparsemax(x, dim=-1)
    return entmax_bisect(x, alpha=alpha, dim=-1)


def _entmax_compiled():
    torch._dynamo.reset()
    return torch.compile(entmax_package, dynamic=False)


IMPLS = {
    "adasplash_compile": lambda: _ours,
    "softmax": lambda: _softmax,
    "triton_entmax": lambda: _triton_entmax,
    "entmax_eager": lambda: entmax_package,
    "entmax_compiled": _entmax_compiled,
}
_RANK = {"adasplash_compile": 3.0, "softmax": 3.1, "entmax_eager": 3.2, "entmax_compiled": 3.3, "triton_entmax": 3.4}


def cases(grid: str, cuda: bool) -> list[Case]:
    if grid == "smoke":
        shapes, alphas, dtypes = [(16, 64)], [1.5], ["float32"]
        impls = ["adasplash_compile", "softmax", "triton_entmax", "entmax_eager"]
    elif grid == "core":
        shapes, alphas, dtypes = [(4096, 4096), (1024, 32768)], [1.5], ["float32"]
        impls = ["adasplash_compile", "softmax", "triton_entmax", "entmax_eager"]
    elif grid == "full":
        shapes, alphas, dtypes = [(4096, 4096), (1024, 32768)], [1.5, 2.0, 1.25], ["float32", "bfloat16"]
        impls = list(IMPLS)
    else:
        raise ValueError(f"unknown grid {grid!r}")
    out = []
    for impl in impls:
        for rows, n in shapes:
            for alpha in alphas:
                for dtype in dtypes:
                    for pass_ in ("fwd", "fwd_bwd"):
                        a = None if impl == "softmax" else alpha
                        if impl == "softmax" and alpha != alphas[0]:
                            continue
                        skip = f"{impl} needs a CUDA GPU" if impl in GPU_ONLY and not cuda else None
                        out.append(Case(
                            bench="rowwise", impl=impl, pass_=pass_, N=n, rows=rows, alpha=a, dtype=dtype,
                            skip=skip, compiles=impl == "entmax_compiled",
                            order=(_RANK[impl], rows * n, n, a or 0, dtype, pass_ != "fwd"),
                        ))
    return out


def make_rowwise_fn(case: Case, device: str):
    if case.impl == "adasplash_compile" and device == "cuda":
        try:
            from adasplash_compile.kernels import rowwise  # noqa: F401
        except ImportError as exc:
            raise Unavailable(f"no row-wise Triton kernel: {exc}") from exc
    impl = IMPLS[case.impl]()
    alpha = 1.5 if case.alpha is None else case.alpha
    fwd_bwd = case.pass_ == "fwd_bwd"
    x = rowwise_input(case.rows, case.N, dtype=case.torch_dtype, device=device, requires_grad=fwd_bwd)
    if not fwd_bwd:
        return lambda: impl(x, alpha)
    g = grad_like(x)

    def fn():
        x.grad = None
        y = impl(x, alpha)
        y.backward(g)
        return y, x.grad

    return fn


def test_rowwise(case, bench):
    device = "cuda" if torch.cuda.is_available() else "cpu"
    bench.run(case, lambda: make_rowwise_fn(case, device), ours=case.impl == "adasplash_compile")
