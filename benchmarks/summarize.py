"""Summarise pytest-benchmark JSON from this suite: a flat JSON of rows, a markdown table, plots.

    python benchmarks/summarize.py RUN.json [MORE.json ...] [--out benchmarks/results] [--prefix h200]
        [--base benchmarks/results/h200-summary.json]

Writes ``<out>/<prefix>-summary.json``: a list of rows

    {"impl", "N", "D", "input", "pass", "median_ms", "peak_mib",
     "bench", "alpha", "causal", "dtype", "B", "H", "rows", "do_bench_median_ms", "first_call_s",
     "iqr_ms", "rounds", "timer", "skip_reason"?, "error"?}

``median_ms`` is pytest-benchmark's median (device time from CUDA events on a GPU); rows that were
skipped or failed are kept with ``median_ms: null`` and their reason, so the summary says what was
not measured and why. ``bench`` is "attention", "rowwise" (N = row length, rows = row count,
D = null) or "e2e" (pass = "train_step"). Several JSON files are merged; a later file's row
replaces an earlier one with the same id. ``--base`` starts from an earlier summary's rows, so a
new call's JSON updates the rows it measured and keeps the rest.

Plots (PNG, in ``<out>``): ``<prefix>-attention-time.png`` (median ms vs N per impl; one panel
per input kind × pass; causal, the most common D and dtype), ``<prefix>-speedup.png``
(adasplash_compile's speedup over AdaSplash-2 and over cuDNN attention at each N), and
``<prefix>-rowwise-e2e.png`` (row-wise entmax and end-to-end train step) when those rows exist.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Optional

FIELDS = ("bench", "impl", "N", "D", "input", "pass", "alpha", "causal", "dtype", "B", "H", "rows")
ATTN_IMPLS = (
    "adasplash_compile", "adasplash2", "adasplash1", "sdpa_cudnn", "sdpa_flash", "sdpa_math",
    "entmax_eager", "entmax_compiled",
)
STYLE = {  # impl -> (colour, marker); ours stands out
    "adasplash_compile": ("#d62728", "o"),
    "adasplash2": ("#1f77b4", "s"),
    "adasplash1": ("#17becf", "v"),
    "sdpa_cudnn": ("#2ca02c", "^"),
    "sdpa_flash": ("#98df8a", "D"),
    "sdpa_math": ("#bcbd22", "x"),
    "entmax_eager": ("#7f7f7f", "P"),
    "entmax_compiled": ("#8c564b", "*"),
    "triton_entmax": ("#1f77b4", "s"),
    "softmax": ("#2ca02c", "^"),
    "sdpa": ("#2ca02c", "^"),
}


def _row_id(r: dict) -> tuple:
    return tuple(r.get(f) for f in FIELDS)


def load_rows(paths: list[str], base: Optional[list[dict]] = None) -> tuple[list[dict], dict]:
    """The rows of ``paths`` merged in order, over ``base`` (rows of an earlier summary), if given."""
    rows: dict[tuple, dict] = {_row_id(r): r for r in base or []}
    machine: dict = {}
    for path in paths:
        data = json.loads(Path(path).read_text())
        machine = data.get("machine_info", {}).get("adasplash_compile_bench", machine)
        for b in data.get("benchmarks", []):
            ei = dict(b.get("extra_info", {}))
            st = b.get("stats", {})
            row = {f: ei.get(f) for f in FIELDS}
            row.update(
                median_ms=_ms(st.get("median")),
                peak_mib=ei.get("peak_mib"),
                do_bench_median_ms=ei.get("do_bench_median_ms"),
                iqr_ms=_ms(st.get("iqr")),
                rounds=st.get("rounds"),
                first_call_s=ei.get("first_call_s"),
                timer=ei.get("timer"),
            )
            for extra in ("sites_rewritten", "peak_call_mib", "params_m"):
                if extra in ei:
                    row[extra] = ei[extra]
            rows[_row_id(row)] = row
        for key, field in (("bench_skipped", "skip_reason"), ("bench_failed", "error")):
            for s in data.get(key, []):
                row = {f: s.get(f) for f in FIELDS}
                row.update(median_ms=None, peak_mib=None)
                row[field] = s.get("reason") if field == "skip_reason" else s.get("error")
                rows.setdefault(_row_id(row), row)
    order = {"attention": 0, "rowwise": 1, "e2e": 2}
    out = sorted(
        rows.values(),
        key=lambda r: (
            order.get(r["bench"], 9), r["pass"] or "", r["input"] or "", r["D"] or 0, not r["causal"],
            r["alpha"] or 0, r["rows"] or 0, r["N"] or 0, r["impl"] or "",
        ),
    )
    return out, machine


def _ms(seconds: Optional[float]) -> Optional[float]:
    return None if seconds is None else round(seconds * 1e3, 5)


def _fmt(x, nd=3):
    return "" if x is None else (f"{x:.{nd}f}" if isinstance(x, float) else str(x))


def markdown(rows: list[dict]) -> str:
    lines = [
        "| bench | impl | D | N | input | α | causal | pass | median ms | peak MiB | note |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        n = r["N"] if r["bench"] != "rowwise" else f"{r['rows']}x{r['N']}"
        note = r.get("skip_reason") or r.get("error") or ""
        if r.get("sites_rewritten") is not None:
            note = f"sites rewritten: {r['sites_rewritten']}"
        lines.append(
            f"| {r['bench']} | {r['impl']} | {_fmt(r['D'])} | {n} | {_fmt(r['input'])} | {_fmt(r['alpha'])} | "
            f"{r['causal']} | {r['pass']} | {_fmt(r['median_ms'])} | {_fmt(r['peak_mib'], 0)} | {note[:80]} |"
        )
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# Plots
# ----------------------------------------------------------------------------------------------


def _main_attention(rows: list[dict]) -> tuple[list[dict], Optional[int], Optional[str]]:
    """Measured causal attention rows at entmax-1.5 (or softmax) in the most common D and dtype."""
    attn = [r for r in rows if r["bench"] == "attention" and r["median_ms"] is not None and r["causal"]]
    attn = [r for r in attn if r["alpha"] in (None, 1.5)]
    if not attn:
        return [], None, None
    D = Counter(r["D"] for r in attn).most_common(1)[0][0]
    dtype = Counter(r["dtype"] for r in attn).most_common(1)[0][0]
    return [r for r in attn if r["D"] == D and r["dtype"] == dtype], D, dtype


def _speedups(main: list[dict]) -> list[dict]:
    """adasplash_compile's speedup t(peer)/t(ours) at every (pass, input, N) both measured."""
    t = {(r["impl"], r["pass"], r["input"], r["N"]): r["median_ms"] for r in main}
    out = []
    for (impl, pass_, inp, N), ours in sorted(t.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][3])):
        if impl != "adasplash_compile":
            continue
        for peer in ("adasplash2", "sdpa_cudnn"):
            other = t.get((peer, pass_, inp, N))
            if other is not None and ours > 0:
                out.append({"vs": peer, "pass": pass_, "input": inp, "N": N, "speedup": round(other / ours, 3)})
    return out


def plot_attention_time(main, D, dtype, path: Path, title: str) -> bool:
    import matplotlib.pyplot as plt

    if not main:
        return False
    inputs = [i for i in ("rand", "local") if any(r["input"] == i for r in main)]
    passes = [p for p in ("fwd", "fwd_bwd") if any(r["pass"] == p for r in main)]
    fig, axes = plt.subplots(len(passes), len(inputs), figsize=(5.5 * len(inputs), 4.2 * len(passes)), squeeze=False)
    for i, pass_ in enumerate(passes):
        for j, inp in enumerate(inputs):
            ax = axes[i][j]
            for impl in ATTN_IMPLS:
                pts = sorted((r["N"], r["median_ms"]) for r in main if r["impl"] == impl and r["pass"] == pass_ and r["input"] == inp)
                if not pts:
                    continue
                colour, marker = STYLE.get(impl, (None, "o"))
                lw = 2.5 if impl == "adasplash_compile" else 1.3
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker=marker, color=colour, lw=lw, label=impl)
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xlabel("sequence length N")
            ax.set_ylabel("median time (ms)")
            ax.set_title(f"{pass_}, {inp} inputs")
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=8)
    fig.suptitle(f"{title}: causal attention, D={D}, {dtype}, entmax α=1.5 (SDPA: softmax)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def plot_speedup(speedups: list[dict], D, dtype, path: Path, title: str) -> bool:
    import matplotlib.pyplot as plt

    if not speedups:
        return False
    passes = [p for p in ("fwd", "fwd_bwd") if any(s["pass"] == p for s in speedups)]
    fig, axes = plt.subplots(1, len(passes), figsize=(6.5 * len(passes), 4.2), squeeze=False)
    series = [(vs, inp) for vs in ("adasplash2", "sdpa_cudnn") for inp in ("rand", "local")]
    for ax, pass_ in zip(axes[0], passes):
        Ns = sorted({s["N"] for s in speedups if s["pass"] == pass_})
        width = 0.8 / len(series)
        for k, (vs, inp) in enumerate(series):
            vals = {s["N"]: s["speedup"] for s in speedups if s["pass"] == pass_ and s["vs"] == vs and s["input"] == inp}
            xs = [x + (k - (len(series) - 1) / 2) * width for x, N in enumerate(Ns) if N in vals]
            ys = [vals[N] for N in Ns if N in vals]
            if not ys:
                continue
            colour = STYLE[vs][0]
            bars = ax.bar(xs, ys, width, color=colour, alpha=1.0 if inp == "rand" else 0.55,
                          hatch=None if inp == "rand" else "//", label=f"vs {vs}, {inp}")
            for b, y in zip(bars, ys):
                ax.annotate(f"{y:.2f}", (b.get_x() + b.get_width() / 2, y), ha="center", va="bottom", fontsize=7)
        ax.axhline(1.0, color="k", lw=0.8)
        ax.set_xticks(range(len(Ns)), [f"{N // 1024}k" if N >= 1024 else str(N) for N in Ns])
        ax.set_xlabel("sequence length N")
        ax.set_ylabel("speedup of adasplash_compile (×, >1 = faster)")
        ax.set_title(pass_)
        ax.legend(fontsize=8)
        ax.grid(True, axis="y", alpha=0.3)
    fig.suptitle(f"{title}: adasplash_compile speedup, causal, D={D}, {dtype}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def plot_rowwise_e2e(rows: list[dict], path: Path, title: str) -> bool:
    import matplotlib.pyplot as plt

    rw = [r for r in rows if r["bench"] == "rowwise" and r["median_ms"] is not None and r["alpha"] in (None, 1.5)]
    e2e = [r for r in rows if r["bench"] == "e2e" and r["median_ms"] is not None]
    panels = [p for p in (("rowwise", rw), ("e2e", e2e)) if p[1]]
    if not panels:
        return False
    fig, axes = plt.subplots(1, len(panels), figsize=(7 * len(panels), 4.2), squeeze=False)
    for ax, (name, data) in zip(axes[0], panels):
        if name == "rowwise":
            groups = sorted({(r["rows"], r["N"], r["pass"], r["dtype"]) for r in data})
            impls = [i for i in ("adasplash_compile", "triton_entmax", "softmax", "entmax_eager", "entmax_compiled")
                     if any(r["impl"] == i for r in data)]
            width = 0.8 / max(len(impls), 1)
            for k, impl in enumerate(impls):
                t = {(r["rows"], r["N"], r["pass"], r["dtype"]): r["median_ms"] for r in data if r["impl"] == impl}
                xs = [g + (k - (len(impls) - 1) / 2) * width for g, key in enumerate(groups) if key in t]
                ys = [t[key] for key in groups if key in t]
                ax.bar(xs, ys, width, label=impl, color=STYLE.get(impl, (None,))[0])
            ax.set_xticks(range(len(groups)), [f"{a}x{b}\n{p} {d}" for a, b, p, d in groups], fontsize=8)
            ax.set_yscale("log")
            ax.set_ylabel("median time (ms)")
            ax.set_title("row-wise entmax-1.5 (softmax for reference)")
        else:
            data = sorted(data, key=lambda r: r["median_ms"])
            labels = [
                r["impl"] + (f"\n({r['sites_rewritten']} sites rewritten)" if r.get("sites_rewritten") is not None else "")
                for r in data
            ]
            ax.barh(labels, [r["median_ms"] for r in data],
                    color=[STYLE.get(r["impl"], ("#9467bd",))[0] for r in data])
            for k, r in enumerate(data):
                ax.annotate(f"{r['median_ms']:.1f} ms", (r["median_ms"], k), va="center", fontsize=8)
            r0 = data[0]
            ax.set_xlabel("median time per training step (ms)")
            ax.set_title(f"tiny Llama train step, N={r0['N']} tokens, H={r0['H']}, head dim {r0['D']}, {r0['dtype']}")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8) if name == "rowwise" else None
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("json", nargs="+", help="pytest-benchmark JSON file(s) from this suite")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"), help="output folder")
    ap.add_argument("--prefix", default="h200", help="file name prefix (default h200)")
    ap.add_argument("--no-plots", action="store_true", help="write the summary JSON only")
    ap.add_argument("--base", help="an earlier summary JSON whose rows the files' rows update")
    args = ap.parse_args(argv)

    base = json.loads(Path(args.base).read_text()) if args.base else None
    rows, machine = load_rows(args.json, base)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    summary = out / f"{args.prefix}-summary.json"
    summary.write_text(json.dumps(rows, indent=1) + "\n")
    print(f"wrote {summary} ({sum(r['median_ms'] is not None for r in rows)} measured, "
          f"{sum(r['median_ms'] is None for r in rows)} not measured)")
    if machine:
        keys = ("gpu", "torch", "triton", "cuda", "adasplash", "adasplash_compile_git_commit", "bench_grid")
        print("machine: " + ", ".join(f"{k}={machine.get(k)}" for k in keys if machine.get(k) is not None))
    print(markdown(rows))

    main_rows, D, dtype = _main_attention(rows)
    speedups = _speedups(main_rows)
    if speedups:
        print("\n| vs | pass | input | N | speedup of adasplash_compile |\n|---|---|---|---|---|")
        for s in speedups:
            print(f"| {s['vs']} | {s['pass']} | {s['input']} | {s['N']} | {s['speedup']:.2f}x |")
    if args.no_plots:
        return 0
    try:
        import matplotlib
    except ImportError:
        print("matplotlib is not installed (pip install '.[bench]'): no plots")
        return 0
    matplotlib.use("Agg")
    title = machine.get("gpu") or "CPU (smoke)"
    written = []
    for name, ok in (
        ("attention-time", lambda p: plot_attention_time(main_rows, D, dtype, p, title)),
        ("speedup", lambda p: plot_speedup(speedups, D, dtype, p, title)),
        ("rowwise-e2e", lambda p: plot_rowwise_e2e(rows, p, title)),
    ):
        path = out / f"{args.prefix}-{name}.png"
        try:
            if ok(path):
                written.append(str(path))
        except Exception as exc:  # a plot must not lose the summary
            print(f"plot {name} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
    print("plots: " + (", ".join(written) if written else "none (no measured rows to plot)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
