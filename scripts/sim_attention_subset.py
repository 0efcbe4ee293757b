"""Float64 simulation on the CPU (no GPU): would the row-wise kernel's subset start work in the
attention forward? For 'rand' inputs (benchmarks/inputs.py), bf16-free float64, B=1, H=2, D=128,
causal, α = 1.5, the last 256 query rows at N = 4096 and 16384: the support size, and for the subset
"top-k entries per key position mod 64 across all key tiles" (what a thread could keep per score
register across sweep 1, like the element-wise histogram) how often its root equals τ, and τ's
error after one exact quadratic step over the full row from there (one probe of sweep 2).

    python scripts/sim_attention_subset.py        # ~1 min; results: benchmarks/results/sim-attention-subset-cpu.md
"""
import torch, math, sys
sys.path.insert(0, __import__("os").path.join(__import__("os").path.dirname(__file__), ".."))
from benchmarks.inputs import attention_inputs
from adasplash_compile import reference
torch.manual_seed(0)

def tau_of(x):  # x: (rows, n) float64 scaled scores (α=1.5: x = 0.5 z), exact τ via reference p
    p = reference.entmax(x * 2.0, 1.5)  # reference takes z; x = (α−1) z = z/2
    # τ from any support element: p_i = (x_i − τ)^2  → τ = x_i − sqrt(p_i) for p_i > 0
    i = p.argmax(-1, keepdim=True)
    return (x.gather(-1, i) - p.gather(-1, i).sqrt()).squeeze(-1), (p > 0).sum(-1)

def solve_subset(xs):
    t, _ = tau_of(xs)
    return t

def step_from(x, t):  # one exact quadratic step on the support at t (from below), then f there
    u = (x - t[:, None]).clamp_min(0)
    S, D, C = (u * u).sum(-1), u.sum(-1), (u > 0).sum(-1).double()
    disc = (D * D - C * (S - 1)).clamp_min(0)
    d = (S - 1) / (D + disc.sqrt())
    t2 = t + d
    S2 = ((x - t2[:, None]).clamp_min(0) ** 2).sum(-1)
    return t2, S2

for N in (4096, 16384):
    q, k, v = attention_inputs("rand", 1, 2, N, 128, dtype=torch.float64, device="cpu")
    rows = torch.arange(N - 256, N)
    z = (q[0, :, rows] @ k[0].transpose(-1, -2)) / math.sqrt(128)  # (H, 256, N)
    z = z.masked_fill(torch.arange(N)[None, None, :] > rows[None, :, None], float("-inf"))
    x = (z - z.amax(-1, keepdim=True)) * 0.5
    x = x.reshape(-1, N)
    tau, supp = tau_of(x)
    print(f"N={N}: support size mean {supp.float().mean():.1f}, median {supp.float().median():.0f}, max {supp.max()}")
    npad = (-N) % 64
    xp = torch.nn.functional.pad(x, (0, npad), value=float("-inf")).reshape(x.shape[0], -1, 64)  # (rows, tiles, 64)
    for kk in (1, 2, 4):
        top = xp.topk(kk, dim=1).values.reshape(x.shape[0], -1)  # top-kk per column position mod 64
        ts = solve_subset(top)
        exact = ((tau - ts).abs() < 1e-9).float().mean()
        t2, S2 = step_from(x, ts)
        print(f"  per-position top-{kk} ({64 * kk} candidates): exact {100 * exact:.0f}% rows, "
              f"tau gap mean {(tau - ts).mean():.2e} max {(tau - ts).max():.2e}; after one full step |S-1| max {(S2 - 1).abs().max():.1e}, "
              f"tau err max {(tau - t2).abs().max():.1e}")
