"""Shared fixtures: a fresh seed per test, the device under test, GPU/slow markers."""

from __future__ import annotations

import os
import zlib

import pytest
import torch


# Under pytest-xdist (README's test command: -n auto) the workers share the cores: one torch thread
# each, or every worker's intra-op pool would spread over all of them.
if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))))


# ADASPLASH_TEST_KNOBS="NAME=value,...": the run's forward settings (``kernels.attention`` module
# knobs), e.g. a candidate default tested on the GPU before it ships. Values are Python literals.
def _apply_knobs(spec: str) -> None:
    import ast

    from adasplash_compile.kernels import attention

    for item in filter(None, spec.split(",")):
        name, _, value = item.partition("=")
        if not hasattr(attention, name.strip()):
            raise ValueError(f"ADASPLASH_TEST_KNOBS: kernels.attention has no setting {name.strip()!r}")
        setattr(attention, name.strip(), ast.literal_eval(value.strip()))


if os.environ.get("ADASPLASH_TEST_KNOBS"):
    _apply_knobs(os.environ["ADASPLASH_TEST_KNOBS"])


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", default=False, help="run tests marked slow")


def pytest_collection_modifyitems(config, items):
    skip_gpu = pytest.mark.skip(reason="needs a CUDA GPU")
    skip_slow = pytest.mark.skip(reason="long sweep: pass --run-slow")
    for item in items:
        if "gpu" in item.keywords and not torch.cuda.is_available():
            item.add_marker(skip_gpu)
        if "slow" in item.keywords and not config.getoption("--run-slow"):
            item.add_marker(skip_slow)


@pytest.fixture(autouse=True)
def _seed(request):
    # Fresh inputs per test, but reproducible: the seed is derived from the test's id.
    seed = zlib.crc32(request.node.nodeid.encode())
    torch.manual_seed(seed)
    yield


@pytest.fixture(scope="session")
def device() -> str:
    """Where kernel tests run: the GPU if there is one, else the CPU (interpreter if enabled)."""
    return "cuda" if torch.cuda.is_available() else "cpu"


@pytest.fixture(scope="session")
def kernels_active(device) -> bool:
    """True when the Triton kernels (compiled or interpreted) are what runs, not the reference."""
    return device == "cuda" or os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


@pytest.fixture
def needs_kernels(kernels_active) -> None:
    """Skip a test of the kernels where they do not run (``pytestmark = pytest.mark.usefixtures(...)``
    for a whole module)."""
    if not kernels_active:
        pytest.skip("Triton kernels inactive: needs CUDA or TRITON_INTERPRET=1 (the CPU falls back to the reference)")


@pytest.fixture
def deterministic():
    """``torch.use_deterministic_algorithms(True, warn_only=True)`` for the test: what a test that
    compares two runs' gradients bit for bit needs on the GPU, where the backward's fused dQ
    (``attention_bwd.FUSED_DQ``) otherwise adds with atomics. ``warn_only``: the tests' own
    reference matmuls (cuBLAS) only warn. The benchmarks' ``deterministic_mode``."""
    from benchmarks.inputs import deterministic_mode

    with deterministic_mode():
        yield
