"""The benchmark harness: grid selection, device-time measurement, time budget, JSON metadata.

Every ``bench_*.py`` module defines ``cases(grid, cuda) -> list[Case]`` and test functions that
take the ``case`` parameter and the ``bench`` fixture::

    def test_attention(case, bench):
        bench.run(case, lambda: make_fn(case))   # make_fn builds inputs, returns a callable

What ``bench.run`` does for one row (see :class:`Runner`):

1. skips the row, with its reason recorded in the JSON, when the case is infeasible, when the
   time budget is spent, when an earlier row of the same (impl, N, D) ran past the row timeout,
   or when a peer raises (a broken peer must not fail the run; our own kernels' errors do fail);
2. calls the function once (compile / autotune; wall time kept as ``first_call_s``), checks
   the outputs are finite, then measures peak memory over one more call;
3. on CUDA: ``triton.testing.do_bench`` median into ``extra_info``, then
   ``benchmark.pedantic`` with the L2 cache flushed before each round and a CUDA-event clock as
   the timer, so pytest-benchmark's own stats (and ``--benchmark-compare-fail``) are device
   time. On the CPU the timer stays pytest-benchmark's default wall clock.

Options: ``--bench-grid=smoke|core|full`` (default: core with a GPU, smoke without),
``--bench-budget=SECONDS`` (default 420 with a GPU), ``--bench-row-timeout=SECONDS``.
"""

from __future__ import annotations

import gc
import importlib
import importlib.metadata
import math
import os
import platform
import signal
import subprocess
import sys
import threading
import time
import traceback
from fnmatch import fnmatch
from pathlib import Path
from typing import Callable, Optional

import pytest
import torch

# Keep AdaSplash's (and anyone's) autotuning results in the Triton cache dir, which
# scripts/gpu_run.sh carries between device calls: its first call at each N autotunes for minutes.
os.environ.setdefault("TRITON_CACHE_AUTOTUNING", "1")

from benchmarks.inputs import Case, Unavailable  # noqa: E402

GRIDS = ("smoke", "core", "full")
GPU_BUDGET_S = 420.0  # of a 9-minute device call: ~30 s prelude, ~20 s summary + cache upload
ROW_TIMEOUT_S = 240.0  # AdaSplash-2's first call at N=32768 autotuned for 237 s (anchors)
L2_FLUSH_BYTES = 256 * 1024 * 1024  # as triton.testing.do_bench; H200 L2 is 50 MB
TARGET_MEASURE_S = 0.4  # wall time of pedantic rounds per row
MIN_ROUNDS, MAX_ROUNDS = 5, 100

_REPO = Path(__file__).resolve().parent.parent
PREIMPORT = (
    "sympy", "triton", "triton.language", "triton.testing", "torch._dynamo", "torch._inductor.compile_fx",
    "torch.nn.attention", "entmax", "adasplash", "adasplash.adasplash_v2", "adasplash.adasplash_block_mask",
    "adasplash.triton_entmax_v2", "adasplash_compile", "adasplash_compile.ops", "adasplash_compile.kernels.attention",
    "adasplash_compile.kernels.attention_bwd", "adasplash_compile.kernels.rowwise", "adasplash_compile.backend",
)


# ----------------------------------------------------------------------------------------------
# Options, collection, ordering
# ----------------------------------------------------------------------------------------------


def pytest_addoption(parser):
    group = parser.getgroup("adasplash-bench")
    group.addoption(
        "--bench-grid", choices=GRIDS, default=None,
        help="which rows to generate: smoke (tiny, CPU-able), core (one ~8-minute H200 call), "
        "full (everything; select with -k). Default: core with a GPU, smoke without.",
    )
    group.addoption(
        "--bench-budget", type=float, default=None,
        help="seconds from session start after which remaining rows are skipped (and a running "
        f"row is interrupted). Default: {GPU_BUDGET_S:.0f} with a GPU, unlimited without; 0 = unlimited.",
    )
    group.addoption(
        "--bench-row-timeout", type=float, default=None,
        help=f"seconds one row may take, first call included (default {ROW_TIMEOUT_S:.0f} on CUDA, none on CPU; 0 = none).",
    )
    group.addoption(
        "--bench-cpu-compile", action="store_true", default=False,
        help="run torch.compile rows on the CPU too (Inductor's CPU compile takes ~30 s a graph).",
    )
    group.addoption("--bench-rep-ms", type=float, default=100.0, help="do_bench rep (ms) for the extra_info median.")


def _grid(config) -> str:
    grid = config.getoption("--bench-grid")
    return grid or ("core" if torch.cuda.is_available() else "smoke")


def pytest_configure(config):
    config.addinivalue_line("markers", "bench: a benchmark row of the adasplash-compile suite")
    config._bench_state = _State(config)


def pytest_collect_file(file_path, parent):
    """Collect ``bench_*.py`` here without changing the project's ``python_files``."""
    if file_path.suffix != ".py" or not file_path.name.startswith("bench_"):
        return None
    if parent.session.isinitpath(file_path):
        return None  # named on the command line: pytest's own collector takes it
    if any(fnmatch(file_path.name, pat) for pat in parent.config.getini("python_files")):
        return None  # the project's python_files already matches it
    return pytest.Module.from_parent(parent, path=file_path)


def pytest_generate_tests(metafunc):
    if "case" not in metafunc.fixturenames:
        return
    grid = _grid(metafunc.config)
    cases = metafunc.module.cases(grid, torch.cuda.is_available())
    metafunc.parametrize("case", cases, ids=[c.id for c in cases])


def pytest_collection_modifyitems(session, config, items):
    def key(item):
        case = getattr(getattr(item, "callspec", None), "params", {}).get("case")
        return case.order if case is not None else ()

    for item in items:
        if "case" in getattr(getattr(item, "callspec", None), "params", {}):
            item.add_marker(pytest.mark.bench)
    items.sort(key=key)  # stable: rows without an order keep theirs, first


# ----------------------------------------------------------------------------------------------
# Metadata in the JSON
# ----------------------------------------------------------------------------------------------


def _version(dist: str) -> Optional[str]:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _git(*args: str) -> Optional[str]:
    try:
        return subprocess.run(["git", *args], cwd=_REPO, capture_output=True, text=True, timeout=10).stdout.strip()
    except Exception:
        return None


def pytest_benchmark_update_machine_info(config, machine_info):
    info = {
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "triton": _version("triton") or _version("pytorch-triton"),
        "adasplash": _version("adasplash"),
        "entmax": _version("entmax"),
        "adasplash_compile_git_commit": _git("rev-parse", "HEAD"),
        "adasplash_compile_git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "bench_grid": _grid(config),
        "triton_interpret": os.environ.get("TRITON_INTERPRET", "0"),
        "command": " ".join(sys.argv),
        "python": platform.python_version(),
    }
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info["gpu"] = props.name
        info["gpu_memory_gib"] = round(props.total_memory / 2**30, 1)
        info["gpu_count"] = torch.cuda.device_count()
    machine_info["adasplash_compile_bench"] = info


def pytest_benchmark_update_json(config, benchmarks, output_json):
    state: _State = config._bench_state
    output_json["bench_skipped"] = state.skipped
    output_json["bench_failed"] = state.failed
    output_json["bench_budget_s"] = state.budget_s
    output_json["bench_elapsed_s"] = round(time.monotonic() - state.t0, 1)


# ----------------------------------------------------------------------------------------------
# The runner
# ----------------------------------------------------------------------------------------------


class RowFailed(Exception):
    """Our implementation failed a row; the message carries the original traceback."""


class RowTimeout(BaseException):
    """Raised by SIGALRM inside a row that ran past its limit. A BaseException so that libraries'
    ``except Exception`` (autotuners, compilers) do not swallow it."""


class _State:
    def __init__(self, config):
        self.config = config
        self.t0 = time.monotonic()
        budget = config.getoption("--bench-budget")
        if budget is None:  # a device call ends after 10 minutes: keep any GPU run inside one
            budget = GPU_BUDGET_S if torch.cuda.is_available() else 0.0
        self.budget_s = budget or None
        timeout = config.getoption("--bench-row-timeout")
        if timeout is None:
            timeout = ROW_TIMEOUT_S if torch.cuda.is_available() else 0.0
        self.row_timeout_s = timeout or None
        self.rep_ms = config.getoption("--bench-rep-ms")
        self.skipped: list[dict] = []
        self.failed: list[dict] = []
        self.timed_out: set[tuple] = set()
        self._imported = False
        self._flush: Optional[torch.Tensor] = None
        self._clock: Optional[CudaEventClock] = None

    def preimport(self):
        """Import what rows use before any row arms its alarm: a RowTimeout raised inside an
        import leaves a half-initialised module behind and breaks every later row."""
        if self._imported:
            return
        self._imported = True
        for name in PREIMPORT:
            try:
                importlib.import_module(name)
            except Exception:  # absent peers / kernels: their rows report it
                pass

    def remaining(self) -> Optional[float]:
        if self.budget_s is None:
            return None
        return self.budget_s - (time.monotonic() - self.t0)

    def flush_buffer(self) -> torch.Tensor:
        if self._flush is None:
            self._flush = torch.empty(L2_FLUSH_BYTES // 4, dtype=torch.int32, device="cuda")
        return self._flush

    def clock(self) -> "CudaEventClock":
        if self._clock is None:
            self._clock = CudaEventClock()
        return self._clock


class CudaEventClock:
    """A pytest-benchmark timer reading device time: each call records a CUDA event, waits for it,
    and returns seconds since a reference event. So ``end − start`` around a call is the device
    time from the moment the stream was idle to the completion of the call's last kernel, the
    same interval ``triton.testing.do_bench`` measures with its event pair."""

    __name__ = "cuda_event_clock"  # what pytest-benchmark writes as the timer in the JSON

    def __init__(self):
        self.t0 = torch.cuda.Event(enable_timing=True)
        self.t0.record()
        self.t0.synchronize()

    def __call__(self) -> float:
        ev = torch.cuda.Event(enable_timing=True)
        ev.record()
        ev.synchronize()
        return self.t0.elapsed_time(ev) / 1e3


def _timeout_key(case: Case, pass_: str) -> tuple:
    return (case.bench, case.impl, case.N, case.D, case.rows, case.causal, case.alpha, pass_)


class _Alarm:
    """Raise RowTimeout in the main thread after ``seconds`` (no-op where SIGALRM is unavailable)."""

    def __init__(self, seconds: Optional[float]):
        self.seconds = seconds
        self.active = (
            seconds is not None and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
        )

    def _fire(self, signum, frame):
        raise RowTimeout(f"row ran past {self.seconds:.0f} s")

    def __enter__(self):
        if self.active:
            self._old = signal.signal(signal.SIGALRM, self._fire)
            signal.setitimer(signal.ITIMER_REAL, max(self.seconds, 0.01))
        return self

    def __exit__(self, *exc):
        if self.active:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._old)
        return False


def _tensors(obj) -> list[torch.Tensor]:
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, (tuple, list)):
        return [t for o in obj for t in _tensors(o)]
    return []


class Runner:
    """Runs one row; see the module docstring."""

    def __init__(self, benchmark, request):
        self.benchmark = benchmark
        self.request = request
        self.state: _State = request.config._bench_state
        self.cuda = torch.cuda.is_available()
        self._logged = False

    # -- bookkeeping --
    def _skip(self, case: Case, reason: str):
        self.state.skipped.append({"id": case.id, **case.record(), "reason": reason})
        if not self._logged:
            self._log(case, {}, reason, None)
        self.benchmark.skipped = True
        pytest.skip(reason)

    def _log(self, case: Case, info: dict, skip, failure):
        """One line per row on the terminal as it finishes: the log keeps what was measured even
        if the process is killed before pytest-benchmark writes its JSON at the end."""
        plugins = self.request.config.pluginmanager
        tr, capman = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
        if tr is None or capman is None:
            return
        t = f"{time.monotonic() - self.state.t0:4.0f}s"
        if failure is not None:
            line = f"FAIL {failure[0][:200]}"
        elif skip is not None:
            line = f"skip: {skip}"
        elif self.benchmark.stats is not None and self.benchmark.stats.stats:
            st = self.benchmark.stats.stats
            line = (
                f"median {st.median * 1e3:.4f} ms (iqr {st.iqr * 1e3:.4f}, {st.rounds} rounds), do_bench "
                f"{info.get('do_bench_median_ms')} ms, peak {info.get('peak_mib')} MiB, first call {info.get('first_call_s')} s"
            )
        else:
            line = f"ran once, first call {info.get('first_call_s')} s"
        self._logged = True
        with capman.global_and_fixture_disabled():
            tr.write_line(f"[bench {t}] {case.id}: {line}")

    @staticmethod
    def _cleanup():
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    # -- the row --
    def run(self, case: Case, factory: Callable[[], Callable[[], object]], *, ours: bool = False):
        """``factory()`` builds the row's inputs and returns ``fn``, the callable to time (it may
        raise :class:`Unavailable`). ``fn()`` returns tensors whose finiteness is checked once.
        ``ours=True``: an error fails the row (peers' errors skip it)."""
        st = self.state
        if case.skip:
            self._skip(case, case.skip)
        if case.compiles and not self.cuda and not self.request.config.getoption("--bench-cpu-compile"):
            self._skip(case, "torch.compile row on the CPU: pass --bench-cpu-compile (Inductor's CPU compile is slow)")
        remaining = st.remaining()
        if remaining is not None and remaining <= 1.0:
            self._skip(case, f"time budget of {st.budget_s:.0f} s spent")
        for p in {case.pass_, "fwd"}:
            if _timeout_key(case, p) in st.timed_out:
                self._skip(case, f"an earlier {p} row of {case.impl} at this shape ran past the row timeout")
        st.preimport()
        limits = [x for x in (remaining, st.row_timeout_s) if x is not None]
        limit = min(limits) if limits else None

        info = self.benchmark.extra_info
        info.update(case.record())
        self.benchmark.group = _group(case)
        if self.cuda:
            self._cleanup()
            st.flush_buffer()  # allocated before the row, so never part of its peak memory
            self.base_bytes = torch.cuda.memory_allocated()
        # Outcomes are decided inside the except clauses but acted on outside them, after the
        # exception (whose traceback holds the row's tensors) is gone: skipping from inside would
        # chain it to the skip and keep GiBs alive into the next rows.
        skip = failure = None
        try:
            with _Alarm(limit):
                self._measure(case, factory, info, ours)
        except RowTimeout as exc:
            st.timed_out.add(_timeout_key(case, case.pass_))
            skip = f"{exc}" + (" (time budget)" if remaining is not None and limit == remaining else " (row timeout)")
        except Unavailable as exc:
            skip = str(exc)
        except torch.cuda.OutOfMemoryError as exc:
            skip = f"out of memory: {str(exc).splitlines()[0][:200]}"
        except Exception as exc:
            if ours:
                failure = (f"{type(exc).__name__}: {exc}", traceback.format_exc())
            else:
                first_line = str(exc).splitlines()[0][:300] if str(exc) else ""
                skip = f"peer failed: {type(exc).__name__}: {first_line}"
        self._cleanup()
        if skip is not None or failure is not None:
            self.benchmark.has_error = True  # keep partial stats (an interrupted row) out of the JSON
        self._log(case, info, skip, failure)
        if skip is not None:
            self._skip(case, skip)
        if failure is not None:
            self.state.failed.append({"id": case.id, **case.record(), "error": failure[0][:500]})
            raise RowFailed(f"{case.id}: {failure[0]}\n{failure[1]}")

    def _measure(self, case: Case, factory, info: dict, ours: bool):
        bm = self.benchmark
        fn = factory()
        sync = torch.cuda.synchronize if self.cuda else (lambda: None)
        t = time.perf_counter()
        # --benchmark-disable (the CI smoke run): one call through pedantic, which then just calls.
        out = bm.pedantic(fn, rounds=1, iterations=1) if bm.disabled else fn()
        sync()
        info["first_call_s"] = round(time.perf_counter() - t, 3)
        bad = [i for i, x in enumerate(_tensors(out)) if x.is_floating_point() and not bool(torch.isfinite(x).all())]
        out = None
        if bad:
            msg = f"non-finite values in output(s) {bad}"
            if ours:
                raise AssertionError(msg)
            raise Unavailable(f"peer produced {msg}")
        if bm.disabled:
            return
        if self.cuda:
            # peak_mib: everything the row allocates (inputs, model, outputs, grads, workspace);
            # peak_call_mib: what one call adds on top of what is alive before it.
            gc.collect()
            sync()
            before = torch.cuda.memory_allocated()
            torch.cuda.reset_peak_memory_stats()
            fn()
            sync()
            peak = torch.cuda.max_memory_allocated()
            info["peak_mib"] = round((peak - self.base_bytes) / 2**20, 1)
            info["peak_call_mib"] = round((peak - before) / 2**20, 1)
            import triton.testing

            med_ms = triton.testing.do_bench(fn, warmup=25, rep=self.state.rep_ms, return_mode="median")
            info["do_bench_median_ms"] = round(float(med_ms), 5)
            rounds = int(min(MAX_ROUNDS, max(MIN_ROUNDS, math.ceil(TARGET_MEASURE_S / max(med_ms / 1e3, 1e-6)))))
            flush = self.state.flush_buffer()

            def flush_l2():  # returns None: pedantic would take a returned value as fn's arguments
                flush.zero_()

            if hasattr(bm, "_timer"):
                bm._timer = self.state.clock()  # pytest-benchmark's own stats become device time
                info["timer"] = "cuda_event"
                timed = fn
            else:  # a pytest-benchmark without the attribute: host time around a synchronised call
                info["timer"] = "wall_synchronized"

                def timed():
                    r = fn()
                    torch.cuda.synchronize()
                    return r

            bm.pedantic(timed, setup=flush_l2, rounds=rounds, iterations=1, warmup_rounds=1)
        else:
            info["timer"] = "wall"
            bm.pedantic(fn, rounds=3, iterations=1, warmup_rounds=0)


def _group(case: Case) -> str:
    if case.bench == "rowwise":
        return f"rowwise {case.pass_} {case.rows}x{case.N} a={case.alpha} {case.dtype}"
    if case.bench == "e2e":
        return f"e2e train_step N={case.N} {case.dtype}"
    a = "" if case.alpha is None else f" a={case.alpha:g}"
    c = "causal" if case.causal else "noncausal"
    return f"attention {case.pass_} {case.input} N={case.N} D={case.D} {c} B{case.B}H{case.H} {case.dtype}"


@pytest.fixture
def bench(benchmark, request) -> Runner:
    return Runner(benchmark, request)
