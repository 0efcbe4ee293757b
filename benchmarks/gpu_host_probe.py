"""H200 probe (session 11): host time per call of the public op at 4k (where the suite's
per-call device clock, which starts with the stream idle, shows it), beside cuDNN SDPA, and a
cProfile of ours. Host time per call: ``gpu_host_breakdown.per_call_us`` (calls with no
synchronisation between them; session 11 call J ran a copy with 200 calls after 10).

    SAVE_CACHE=0 bash scripts/gpu_run.sh python3 benchmarks/gpu_host_probe.py
"""

import cProfile
import os
import pstats
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from adasplash_compile import entmax_attention  # noqa: E402
from benchmarks.gpu_host_breakdown import per_call_us  # noqa: E402
from benchmarks.inputs import attention_inputs  # noqa: E402


def main():
    g = torch.Generator(device="cuda").manual_seed(0)
    q, k, v = attention_inputs("local", 2, 16, 4096, 128, dtype=torch.bfloat16, device="cuda", generator=g)
    leaves = [t.detach().clone().requires_grad_() for t in (q, k, v)]
    do = torch.randn_like(q)

    def ours():
        return entmax_attention(q, k, v, is_causal=True, alpha=1.5)

    def ours_train():
        out = entmax_attention(*leaves, is_causal=True, alpha=1.5)
        torch.autograd.grad(out, leaves, do)

    def cudnn():
        with torch.nn.attention.sdpa_kernel(torch.nn.attention.SDPBackend.CUDNN_ATTENTION):
            return F.scaled_dot_product_attention(q, k, v, is_causal=True)

    def cudnn_train():
        with torch.nn.attention.sdpa_kernel(torch.nn.attention.SDPBackend.CUDNN_ATTENTION):
            out = F.scaled_dot_product_attention(*leaves, is_causal=True)
        torch.autograd.grad(out, leaves, do)

    for name, fn in (("ours fwd", ours), ("cudnn fwd", cudnn), ("ours fwd+bwd", ours_train),
                     ("cudnn fwd+bwd", cudnn_train)):
        print(f"[host] {name:14s} {per_call_us(fn):8.1f} us per call", flush=True)
    for name, fn in (("fwd", ours), ("fwd+bwd", ours_train)):
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(200):
            fn()
        prof.disable()
        torch.cuda.synchronize()
        print(f"[profile] ours {name}, 200 calls")
        pstats.Stats(prof).sort_stats("tottime").print_stats(18)


if __name__ == "__main__":
    main()
