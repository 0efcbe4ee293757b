"""Float64 simulation on the CPU (no GPU): would the row-wise kernel's subset start work in the
attention forward? For 'rand' inputs (benchmarks/inputs.py), bf16-free float64, B=1, H=2, D=128,
causal, α = 1.5, the last 256 query rows at N = 4096 and 16384: the support size, and for the subset
"top-k entries per key position mod 64 across all key tiles" (what a thread could keep per score
register across sweep 1, like the element-wise histogram) how often its root equals τ, and τ's
error after one exact quadratic step over the full row from there (one probe of sweep 2).

    python scripts/sim_attention_subset.py        # ~1 min; results: benchmarks/results/sim-attention-subset-cpu.md
    python scripts/sim_attention_subset.py --widths   # session 21: tile width x top-k certification
    python scripts/sim_attention_subset.py --solve    # session 22: the τ solve's passes, warm start
    python scripts/sim_attention_subset.py --pairs    # session 26: adjacent score pairs sorted first
    python scripts/sim_attention_subset.py --fixup-lists  # session 26: keys above the root, uncertified rows

``--widths`` instead checks the kernel's certificate (no evicted key above the candidates' root;
with EVICT2 the row's largest evicted joins them and only the second largest must lie below) for
key tiles of 32-128 keys and top-2..8 per position, on the last 512 rows of 2 heads.

``--solve`` runs the kernel's τ solve on the 64-key top-4 candidates of 64-row programs (the same
rows): SUBSET_WARM Newton steps on the top candidate per position alone, then exact-or-Newton steps
on all of them until every row of the program is exact. It counts the passes and the candidate
work (ops per candidate: ~9 for a full step's four row sums, ~4 for a warm step's two).
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

def scaled_scores(N, n_rows):
    """x = (α−1)·(z − max z) at α = 1.5 for the last n_rows causal query rows of 2 'rand' heads:
    (2·n_rows, N) float64."""
    q, k, v = attention_inputs("rand", 1, 2, N, 128, dtype=torch.float64, device="cpu")
    rows = torch.arange(N - n_rows, N)
    z = (q[0, :, rows] @ k[0].transpose(-1, -2)) / math.sqrt(128)  # (H, n_rows, N)
    z = z.masked_fill(torch.arange(N)[None, None, :] > rows[None, :, None], float("-inf"))
    return ((z - z.amax(-1, keepdim=True)) * 0.5).reshape(-1, N)


def main():
    for N in (4096, 16384):
        x = scaled_scores(N, 256)
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


def widths():
    for N in (4096, 16384):
        x = scaled_scores(N, 512)
        _, supp = tau_of(x)
        for W, kk in ((64, 4), (64, 3), (128, 2), (128, 3), (32, 8), (128, 4)):
            srt = x.reshape(x.shape[0], -1, W).topk(kk + 2, dim=1).values  # (rows, kk + 2, W)
            top = srt[:, :kk].reshape(x.shape[0], -1)
            ev = srt[:, kk]  # the largest evicted per position
            ts = solve_subset(top)
            cert = ev.amax(-1) <= ts
            evs = ev.sort(-1, descending=True).values
            ts2 = solve_subset(torch.cat([top, evs[:, :1]], -1))
            cert2 = torch.maximum(evs[:, 1], srt[:, kk + 1].amax(-1)) <= ts2
            print(f"N={N} width {W} top-{kk}: {W * kk} candidates, {2 * kk} min/max per score; uncertified "
                  f"{100 * (1 - cert.double().mean()):.2f}%, with EVICT2 {100 * (1 - cert2.double().mean()):.2f}% "
                  f"(support mean {supp.double().mean():.1f})", flush=True)


def pairs():
    """Session 26: each score pair of adjacent columns (one thread holds both in the dot's
    layout) sorted first (max, min: 2 min/max), the max inserted into a sorted top-K_hi per pair
    position (32 per 64-key tile), the min into a top-K_lo, and the row's largest evicted of
    both kept: 2 + K_hi + K_lo min/max per score (now: 8 + 1), K_hi + K_lo candidates per pair
    position. Certified: every evicted value under the candidates' root."""
    for N in (4096, 16384):
        x = scaled_scores(N, 512)
        rows = x.shape[0]
        pr = x.reshape(rows, -1, 32, 2)  # (rows, tiles, pair position, 2)
        hi, lo = pr.amax(-1), pr.amin(-1)  # (rows, tiles, 32)
        for k_hi, k_lo in ((4, 2), (4, 1), (3, 1), (3, 2), (5, 2)):
            sh = hi.topk(k_hi + 1, dim=1).values  # (rows, k_hi + 1, 32)
            sl = lo.topk(k_lo + 1, dim=1).values
            top = torch.cat([sh[:, :k_hi], sl[:, :k_lo]], 1).reshape(rows, -1)
            ev = torch.maximum(sh[:, k_hi].amax(-1), sl[:, k_lo].amax(-1))
            cert = ev <= solve_subset(top)
            print(f"N={N} pairs, top-{k_hi} of the max and top-{k_lo} of the min per pair position: "
                  f"{32 * (k_hi + k_lo)} candidates, {2 + k_hi + k_lo} min/max per score with the evicted (now 9); uncertified "
                  f"{100 * (1 - cert.double().mean()):.2f}%", flush=True)


def fixup_lists():
    """Session 26, for a fix-up launch that sweeps each uncertified row once: it would keep the
    keys above the candidates' root (a lower bound of τ) in a list and solve τ on the list. How
    long would those lists be? 64-key tiles, top-4 per position (the kernel's), the last 512 rows
    of 2 'rand' heads."""
    for N in (4096, 16384, 32768):
        x = scaled_scores(N, 512)
        tau, supp = tau_of(x)
        srt = x.reshape(x.shape[0], -1, 64).topk(5, dim=1).values
        ts = solve_subset(srt[:, :4].reshape(x.shape[0], -1))
        bad = srt[:, 4].amax(-1) > ts
        above = (x > ts[:, None]).sum(-1)[bad].double()
        if not bad.any():
            print(f"N={N}: every row certified")
            continue
        print(f"N={N}: {int(bad.sum())} of {x.shape[0]} rows uncertified; keys above the candidates' root "
              f"per such row: mean {above.mean():.1f}, max {int(above.max())}, ≤ 64 in "
              f"{100 * (above <= 64).double().mean():.0f}%; their support: mean {supp[bad].double().mean():.1f}, "
              f"max {int(supp[bad].max())}; τ − root: max {(tau - ts)[bad].max():.2e}", flush=True)


def solve_passes(C, t, warm, steps=12, tol=1e-6):
    """The kernel's solve at α = 1.5 on one program's candidates C (rows, 4, 64) from t = m − 1:
    (τ, full steps, candidate work). Float64."""
    work = 0
    for _ in range(warm):  # Newton on the top candidate per position alone
        y = (C[:, 0] - t[:, None]).clamp_min(0)
        t = t + ((y * y).sum(-1) - 1) / (2 * y.sum(-1)).clamp_min(1e-30)
        work += 4 * C.shape[-1]
    solved = torch.zeros(C.shape[0], dtype=torch.bool)
    full = 0
    while not solved.all() and full < steps:
        y = (C - t[:, None, None]).clamp_min(0)
        n, s1, s2 = (y > 0).sum((1, 2)).double(), y.sum((1, 2)), (y * y).sum((1, 2))
        mn = torch.where(y > 0, C, torch.full_like(C, math.inf)).amin((1, 2))
        root = t + (s2 - 1) / (s1 + (s1 * s1 - n * (s2 - 1)).clamp_min(0).sqrt()).clamp_min(1e-30)
        exact = ~solved & (n > 0) & (mn >= root - tol * root.abs().clamp_min(1))
        t = torch.where(solved, t, torch.where(exact, root, t + (s2 - 1) / (2 * s1).clamp_min(1e-30)))
        solved |= exact
        full += 1
        work += 9 * C.shape[1] * C.shape[2]
    return t, full, work


def solve():
    for N in (4096, 16384):
        x = scaled_scores(N, 512)
        cand = x.reshape(x.shape[0], -1, 64).topk(4, dim=1).values  # (rows, 4, 64)
        progs = cand.reshape(-1, 64, 4, 64)
        t0 = x.amax(-1).reshape(-1, 64) - 1
        base = [solve_passes(c, t, 0) for c, t in zip(progs, t0)]
        work0 = sum(r[2] for r in base) / len(base)
        for warm in range(6):
            runs = [solve_passes(c, t, warm) for c, t in zip(progs, t0)]
            assert all(torch.allclose(r[0], b[0], atol=1e-9) for r, b in zip(runs, base)), "the roots moved"
            full = sum(r[1] for r in runs) / len(runs)
            work = sum(r[2] for r in runs) / len(runs)
            print(f"N={N} SUBSET_WARM={warm}: full steps per program {full:.2f}, candidate work "
                  f"{100 * work / work0:.0f}% of no warm start (same roots)", flush=True)


if __name__ == "__main__":
    modes = {"--widths": widths, "--solve": solve, "--pairs": pairs, "--fixup-lists": fixup_lists}
    next((run for flag, run in modes.items() if flag in sys.argv), main)()
