"""The benchmark suite's own pieces: input kinds, grids, the summary. (The rows themselves run in
CI through `TRITON_INTERPRET=1 python -m pytest benchmarks --bench-grid=smoke --benchmark-disable`.)"""

from __future__ import annotations

import json

import pytest
import torch

from adasplash_compile import reference
from benchmarks import bench_attention, bench_e2e, bench_entmax, summarize
from benchmarks.inputs import attention_inputs

BENCH_MODULES = (bench_attention, bench_entmax, bench_e2e)


def _diagonal_mass(kind: str, N: int = 512, D: int = 32, width: int = 32) -> float:
    q, k, _ = attention_inputs(kind, 1, 2, N, D, dtype=torch.float64)
    s = reference.attention_scores(q, k, is_causal=True)
    p = reference.entmax(s, 1.5, dim=-1)
    i = torch.arange(N)
    near = (i[:, None] - i[None, :]).abs() < width
    return float((p * near).sum(-1).mean())


def test_local_inputs_concentrate_attention_near_the_diagonal():
    local, rand = _diagonal_mass("local"), _diagonal_mass("rand")
    assert local > 0.95, f"local: only {local:.3f} of the attention mass within 32 positions"
    assert rand < 0.5, f"rand: {rand:.3f} of the attention mass within 32 positions"


@pytest.mark.parametrize("kind", ["rand", "local"])
def test_input_kinds_have_unit_scale_rows(kind):
    q, k, v = attention_inputs(kind, 2, 2, 256, 64, dtype=torch.float32)
    for name, t in (("q", q), ("k", k), ("v", v)):
        msq = float(t.pow(2).sum(-1).mean() / 64)
        assert 0.85 < msq < 1.15, f"{kind} {name}: mean |x|²/D = {msq:.3f}"
        assert t.is_contiguous() and bool((t != 0).any())


@pytest.mark.parametrize("grid", ["smoke", "core", "full"])
def test_grid_row_ids_are_unique(grid):
    for mod in BENCH_MODULES:
        ids = [c.id for c in mod.cases(grid, cuda=True)]
        assert ids and len(ids) == len(set(ids)), f"{mod.__name__} {grid}: duplicate row ids"


def test_core_grid_covers_the_issue_points():
    rows = bench_attention.cases("core", cuda=True)
    got = {(c.impl, c.N, c.D, c.input, c.causal, c.pass_) for c in rows}
    for inp in ("rand", "local"):
        for pass_ in ("fwd", "fwd_bwd"):
            for N in (4096, 16384):
                for impl in ("adasplash_compile", "sdpa_cudnn", "sdpa_flash", "adasplash2"):
                    assert (impl, N, 128, inp, True, pass_) in got
            for impl in ("adasplash_compile", "sdpa_cudnn", "sdpa_flash"):
                assert (impl, 32768, 128, inp, True, pass_) in got
    assert all(c.dtype == "bfloat16" and c.B == 2 and c.H == 16 for c in rows)
    assert any(c.D == 64 for c in rows) and any(not c.causal and c.impl == "adasplash1" for c in rows)
    assert not any(c.skip for c in rows), [c.id for c in rows if c.skip]


def test_full_grid_skips_infeasible_entmax_package_rows_with_a_reason():
    rows = [c for c in bench_attention.cases("full", cuda=False) if c.impl == "entmax_eager"]
    big = [c for c in rows if c.N > bench_attention.ENTMAX_PACKAGE_MAX_N]
    assert big and all(c.skip and "N=" in c.skip for c in big)
    assert all(c.skip is None for c in rows if c.N <= bench_attention.ENTMAX_PACKAGE_MAX_N)


def _bench_entry(impl, N, pass_, inp, median_s, alpha=1.5):
    return {
        "name": f"test_attention[{impl}-{N}]",
        "stats": {"median": median_s, "iqr": median_s / 50, "rounds": 7},
        "extra_info": {
            "bench": "attention", "impl": impl, "N": N, "D": 128, "B": 2, "H": 16, "rows": None, "alpha": alpha,
            "input": inp, "causal": True, "dtype": "bfloat16", "pass": pass_, "peak_mib": 512.0,
            "do_bench_median_ms": median_s * 1e3, "first_call_s": 1.0, "timer": "cuda_event",
        },
    }


def _fake_run(tmp_path):
    """A pytest-benchmark JSON shaped like the suite's, with random medians; returns (path, times)."""
    gen = torch.Generator().manual_seed(0)
    times = {}
    entries = []
    for impl in ("adasplash_compile", "adasplash2", "sdpa_cudnn"):
        for N in (4096, 16384):
            for pass_ in ("fwd", "fwd_bwd"):
                t = float(torch.rand((), generator=gen)) * 1e-2 + 1e-4
                times[(impl, N, pass_)] = t
                entries.append(_bench_entry(impl, N, pass_, "rand", t, alpha=None if impl == "sdpa_cudnn" else 1.5))
    skipped = {**_bench_entry("adasplash2", 32768, "fwd", "rand", 0)["extra_info"], "reason": "time budget spent"}
    data = {"machine_info": {"adasplash_compile_bench": {"gpu": "NVIDIA H200"}}, "benchmarks": entries,
            "bench_skipped": [skipped], "bench_failed": []}
    src = tmp_path / "run.json"
    src.write_text(json.dumps(data))
    return src, times, len(entries)


def test_summarize_writes_rows_and_speedups(tmp_path, capsys):
    src, times, n_entries = _fake_run(tmp_path)
    assert summarize.main([str(src), "--out", str(tmp_path), "--prefix", "t", "--no-plots"]) == 0

    rows = json.loads((tmp_path / "t-summary.json").read_text())
    assert len(rows) == n_entries + 1
    for r in rows:
        assert {"impl", "N", "D", "input", "pass", "median_ms", "peak_mib"} <= r.keys()
    measured = {(r["impl"], r["N"], r["pass"]): r["median_ms"] for r in rows if r["median_ms"] is not None}
    for key, t in times.items():
        assert measured[key] == pytest.approx(t * 1e3, abs=1e-5)  # summary keeps 10 ns
    (skip_row,) = [r for r in rows if r["median_ms"] is None]
    assert skip_row["skip_reason"] == "time budget spent" and skip_row["N"] == 32768

    main, D, dtype = summarize._main_attention(rows)
    speedups = {(s["vs"], s["N"], s["pass"]): s["speedup"] for s in summarize._speedups(main)}
    assert len(speedups) == 8
    for (vs, N, pass_), sp in speedups.items():
        assert sp == pytest.approx(times[(vs, N, pass_)] / times[("adasplash_compile", N, pass_)], rel=1e-3)
    assert "speedup of adasplash_compile" in capsys.readouterr().out


def test_summarize_draws_the_plots(tmp_path):
    pytest.importorskip("matplotlib")  # in the 'bench' extra
    src, _, _ = _fake_run(tmp_path)
    assert summarize.main([str(src), "--out", str(tmp_path), "--prefix", "t"]) == 0
    for name in ("attention-time", "speedup"):
        png = tmp_path / f"t-{name}.png"
        assert png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
