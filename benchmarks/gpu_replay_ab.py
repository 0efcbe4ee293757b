"""H200 probe (session 14): host time per eager call with the forward's and backward's replays
(``attention.REPLAY``, ``attention_bwd.REPLAY``) on and off, beside cuDNN SDPA. Host µs per call
with the GPU kept busy (``gpu_timeline._enqueue_us``: the queue never drains), so only the host's
time is read; then do_bench of the same steps. ``--profile``: instead, where a small training
step's host time goes (a cProfile of ours, and ``autograd.grad`` through a Python
``autograd.Function`` that launches nothing, on CUDA and CPU tensors).

    SAVE_CACHE=0 bash scripts/gpu_run.sh python3 benchmarks/gpu_replay_ab.py [--profile]
"""

from __future__ import annotations

import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from adasplash_compile import entmax_attention  # noqa: E402
from adasplash_compile.kernels import attention, attention_bwd  # noqa: E402
from benchmarks.gpu_timeline import _enqueue_us  # noqa: E402
from benchmarks.inputs import attention_inputs  # noqa: E402


def _steps(B, H, N, kind):
    g = torch.Generator(device="cuda").manual_seed(0)
    q, k, v = attention_inputs(kind, B, H, N, 128, dtype=torch.bfloat16, device="cuda", generator=g)
    leaves = [t.detach().clone().requires_grad_() for t in (q, k, v)]
    do = torch.randn_like(q)

    def cudnn(*t):
        with torch.nn.attention.sdpa_kernel(torch.nn.attention.SDPBackend.CUDNN_ATTENTION):
            return F.scaled_dot_product_attention(*t, is_causal=True)

    alpha = torch.full((H,), 1.5, device="cuda", requires_grad=True)  # learnable, one α per head
    return {
        "ours fwd": lambda: entmax_attention(q, k, v, is_causal=True, alpha=1.5),
        "ours fwd+bwd": lambda: torch.autograd.grad(entmax_attention(*leaves, is_causal=True, alpha=1.5), leaves, do),
        "ours fwd+bwd head-α": lambda: torch.autograd.grad(entmax_attention(*leaves, is_causal=True, alpha=alpha),
                                                           [*leaves, alpha], do),
        "cudnn fwd": lambda: cudnn(q, k, v),
        "cudnn fwd+bwd": lambda: torch.autograd.grad(cudnn(*leaves), leaves, do),
    }


class _Nothing(torch.autograd.Function):
    """What autograd costs a Python-defined op: allocates its output, launches nothing."""

    @staticmethod
    def forward(ctx, q, k, v):
        return torch.empty_like(q)

    @staticmethod
    def backward(ctx, g):
        return g, g, g


def profile():
    from benchmarks.gpu_host_profile import python_profile

    steps = _steps(1, 2, 256, "rand")
    print(python_profile(steps["ours fwd+bwd"], 200, "tottime", 25), flush=True)
    for dev in ("cuda", "cpu"):
        leaves = [torch.randn(1, 2, 256, 128, device=dev).requires_grad_() for _ in range(3)]
        g = torch.randn_like(leaves[0])
        step = lambda: torch.autograd.grad(_Nothing.apply(*leaves), leaves, g)  # noqa: E731
        for _ in range(20):
            step()
        host = min(_enqueue_us(step) for _ in range(3)) if dev == "cuda" else None
        import timeit
        host = host if host is not None else min(timeit.repeat(step, number=200, repeat=3)) / 200 * 1e6
        print(f"[replay-ab] autograd.grad through a no-op Python Function, {dev} tensors: {host:.1f} us/call",
              flush=True)


def main():
    from triton.testing import do_bench

    if "--profile" in sys.argv:
        profile()
        return

    shapes = ((1, 2, 256, "rand"), (2, 16, 4096, "local"), (2, 16, 4096, "rand"))
    if "--shapes" in sys.argv:  # e.g. --shapes 1x2x256:rand,2x16x4096:local
        arg = sys.argv[sys.argv.index("--shapes") + 1]
        shapes = tuple((*(int(x) for x in s.split(":")[0].split("x")), s.split(":")[1]) for s in arg.split(","))
    for B, H, N, kind in shapes:
        for name, step in _steps(B, H, N, kind).items():
            modes = (True, False) if name.startswith("ours") else (None,)
            for replay in modes:
                if replay is not None:
                    attention.REPLAY = attention_bwd.REPLAY = replay
                for _ in range(3):
                    step()
                torch.cuda.synchronize()
                host = min(_enqueue_us(step) for _ in range(3))
                ms = do_bench(step, warmup=5, rep=50)
                tag = "" if replay is None else (" replay" if replay else " full")
                print(f"[replay-ab] B{B} H{H} N{N} {kind:5s} {name + tag:22s} host {host:7.1f} us/call, "
                      f"do_bench {ms:.4f} ms", flush=True)
    attention.REPLAY = attention_bwd.REPLAY = True


if __name__ == "__main__":
    main()
