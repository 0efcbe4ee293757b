"""Command line: ``python -m adasplash_compile <command>`` (console script ``adasplash-compile``).

Commands:

- ``demo`` (the default): compile a small entmax transformer and a softmax one with
  ``backend="adasplash"``, show what was rewritten and why, check outputs and time them.
- ``explain MODULE:ATTR``: print the backend's report for any ``nn.Module`` (or a factory).
- ``bench``: run the pytest-benchmark suite in ``benchmarks/`` (extra arguments go to pytest).
- ``info``: versions, device, and which implementation runs here.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import inspect
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Optional, Sequence

COMMANDS = ("demo", "explain", "bench", "info")
GRIDS = ("smoke", "core", "full")
_DTYPES = ("float32", "float16", "bfloat16", "float64")


class CliError(Exception):
    """A user error: printed as ``adasplash-compile: error: ...`` with exit status 2."""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _alpha(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a float > 1, got {text!r}") from None
    if not 1.0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite float > 1, got {value}")
    return value


def _shape(text: str) -> tuple[int, ...]:
    try:
        dims = tuple(int(d) for d in text.replace("x", ",").split(",") if d.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a shape like 2,128 or 2x128x64, got {text!r}") from None
    if not dims or any(d <= 0 for d in dims):
        raise argparse.ArgumentTypeError(f"expected positive dimensions, got {text!r}")
    return dims


def _device(text: str) -> str:
    import torch

    try:
        dev = torch.device(text)
    except RuntimeError as e:
        raise argparse.ArgumentTypeError(f"not a device: {text!r} ({e})") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise argparse.ArgumentTypeError("--device cuda was asked for, but no CUDA GPU is available")
    return str(dev)


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="adasplash-compile",
        description="Fused α-entmax attention kernels and the torch.compile backend 'adasplash'.",
        epilog="Without a command, runs the demo.",
    )
    parser.add_argument("--version", action="version", version=f"adasplash-compile {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{" + ",".join(COMMANDS) + "}")

    demo = sub.add_parser("demo", help="compile small entmax and softmax transformers; explain, check, time")
    demo.add_argument("--device", type=_device, default=None, help="cpu or cuda (default: cuda if available)")
    demo.add_argument("--seq-len", type=_positive_int, default=None,
                      help="sequence length (default: 4096 on a GPU, 128 on the CPU, 32 with --quick)")
    demo.add_argument("--alpha", type=_alpha, default=1.5, help="α given to converted softmax sites (default 1.5)")
    demo.add_argument("--quick", action="store_true", help="tiniest sizes and fewest repeats (CPU smoke run)")

    explain = sub.add_parser(
        "explain", help="print the backend's report of attention sites for MODULE:ATTR",
        description="Import MODULE, take ATTR (an nn.Module, an nn.Module class or a factory called with no "
        "arguments), build an example input and print explain()'s table. The input comes from --example, "
        "else the model's example_inputs() method, else --input-shape (token ids with --tokens).",
    )
    explain.add_argument("target", metavar="MODULE:ATTR", help="e.g. adasplash_compile.demo:EntmaxLM")
    explain.add_argument("--example", metavar="MODULE:ATTR", default=None,
                         help="a function returning the example input (a tensor or a tuple of args)")
    explain.add_argument("--seq-len", type=_positive_int, default=128, help="sequence length for example_inputs()")
    explain.add_argument("--batch", type=_positive_int, default=2, help="batch size for example_inputs()")
    explain.add_argument("--input-shape", type=_shape, default=None, help="shape of a random input, e.g. 2,128,64")
    explain.add_argument("--tokens", type=_positive_int, metavar="VOCAB", default=None,
                         help="with --input-shape: random token ids in [0, VOCAB) instead of floats")
    explain.add_argument("--dtype", choices=_DTYPES, default="float32", help="dtype of the model and float input")
    explain.add_argument("--device", type=_device, default="cpu")
    explain.add_argument("--convert-softmax", action="store_true", help="also convert softmax/SDPA attention")
    explain.add_argument("--alpha", type=_alpha, default=None, help="α for converted softmax sites")

    bench = sub.add_parser(
        "bench", help="run the benchmark suite (python -m pytest benchmarks); extra arguments go to pytest",
    )
    bench.add_argument("--grid", choices=GRIDS, default=None,
                       help="--bench-grid: smoke (CPU-able), core (one H200 call), full (default: core on a GPU, "
                       "smoke otherwise)")

    sub.add_parser("info", help="versions, device, and which implementation runs")
    return parser


# ----------------------------------------------------------------------------------------------
# Commands
# ----------------------------------------------------------------------------------------------


def cmd_demo(args) -> int:
    from .demo import run_demo

    return run_demo(device=args.device, seq_len=args.seq_len, alpha=args.alpha, quick=args.quick)


def _resolve(spec: str, what: str):
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise CliError(f"{what} must look like MODULE:ATTR (e.g. adasplash_compile.demo:EntmaxLM), got {spec!r}")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())  # as `python -m` does: let users name modules in the cwd
    try:
        obj = importlib.import_module(module_name)
    except ImportError as e:
        raise CliError(f"{what}: cannot import module {module_name!r}: {e}") from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise CliError(f"{what}: {module_name!r} has no attribute {attr!r}") from None
    return obj


def _build_model(target):
    import torch

    if isinstance(target, torch.nn.Module):
        return target
    if not callable(target):
        raise CliError(f"MODULE:ATTR must name an nn.Module, an nn.Module class or a factory, got {type(target).__name__}")
    try:
        model = target()
    except TypeError as e:
        raise CliError(f"could not build the model by calling {getattr(target, '__name__', target)}() "
                       f"with no arguments: {e}") from None
    if not isinstance(model, torch.nn.Module):
        raise CliError(f"calling {getattr(target, '__name__', target)}() gave {type(model).__name__}, not an nn.Module")
    return model


def _as_args(value) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _example_inputs(model, args, dtype) -> tuple:
    import torch

    if args.example is not None:
        return _as_args(_resolve(args.example, "--example")())
    if args.input_shape is not None:
        if args.tokens is not None:
            return (torch.randint(0, args.tokens, args.input_shape, device=args.device),)
        return (torch.randn(args.input_shape, device=args.device, dtype=dtype),)
    if args.tokens is not None:
        raise CliError("--tokens needs --input-shape (e.g. --input-shape 2,128 --tokens 50257)")
    make = getattr(model, "example_inputs", None)
    if callable(make):
        params = inspect.signature(make).parameters
        kw = {k: v for k, v in (("seq_len", args.seq_len), ("batch", args.batch)) if k in params}
        return _as_args(make(**kw))
    raise CliError(f"cannot build an input for {type(model).__name__}: pass --input-shape (with --tokens VOCAB for "
                   "token ids) or --example MODULE:ATTR, or give the model an example_inputs() method")


def cmd_explain(args) -> int:
    import torch

    import adasplash_compile as ac

    dtype = getattr(torch, args.dtype)
    model = _build_model(_resolve(args.target, "MODULE:ATTR")).to(args.device).eval()
    if any(p.is_floating_point() for p in model.parameters()):
        model = model.to(dtype)
    inputs = _example_inputs(model, args, dtype)
    inputs = tuple(x.to(args.device) if isinstance(x, torch.Tensor) else x for x in inputs)
    options = {}
    if args.convert_softmax:
        options["convert_softmax"] = True
    if args.alpha is not None:
        options["alpha"] = args.alpha
    try:
        importlib.import_module("adasplash_compile.backend")
    except ModuleNotFoundError as e:
        if e.name != "adasplash_compile.backend":
            raise
        raise CliError(f"the torch.compile backend is not available ({e})") from None
    explain = ac.explain
    shapes = ", ".join(f"{tuple(x.shape)} {str(x.dtype).replace('torch.', '')}" for x in inputs
                       if isinstance(x, torch.Tensor))
    print(f"{args.target}: {type(model).__name__} on {args.device}, input {shapes}, options {options}", flush=True)
    with torch.no_grad():
        report = explain(model, *inputs, **options)
    print(report)
    return 0


def _repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


def cmd_bench(args, extra: Sequence[str]) -> int:
    bench_dir = _repo_root() / "benchmarks"
    if not (bench_dir / "conftest.py").is_file():
        raise CliError(f"benchmarks/ not found next to the package ({bench_dir}); run from a source checkout")
    cmd = [sys.executable, "-m", "pytest", str(bench_dir)]
    if args.grid is not None:
        cmd.append(f"--bench-grid={args.grid}")
    cmd.extend(extra)
    print("+ " + " ".join(cmd), flush=True)
    return subprocess.call(cmd, cwd=str(_repo_root()))


def _version(dist: str, module: Optional[str] = None) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        pass
    try:
        return getattr(importlib.import_module(module or dist), "__version__", "installed (version unknown)")
    except ImportError:
        return "not installed"


def cmd_info(args) -> int:
    import torch

    from . import __version__
    from ._dispatch import interpreter_on, triton_available
    from .demo import execution_path

    rows = [
        ("adasplash-compile", __version__),
        ("python", platform.python_version()),
        ("torch", torch.__version__),
        ("triton", _version("triton") if triton_available() else "not available"),
        ("transformers", _version("transformers")),
        ("entmax", _version("entmax")),
    ]
    if torch.cuda.is_available():
        dev = "cuda"
        props = torch.cuda.get_device_properties(0)
        rows.append(("device", f"cuda: {props.name} ({props.total_memory / 2**30:.0f} GiB), "
                               f"{torch.cuda.device_count()} visible, CUDA {torch.version.cuda}"))
    else:
        dev = "cpu"
        rows.append(("device", f"cpu ({os.cpu_count()} cores), no CUDA GPU"))
    rows.append(("TRITON_INTERPRET", "on" if interpreter_on() else "off"))
    rows.append(("attention runs on", execution_path(dev)))
    for name, module in (("kernels", "adasplash_compile.kernels.attention"),
                         ("torch.compile backend", "adasplash_compile.backend")):
        try:
            importlib.import_module(module)
            rows.append((name, "available"))
        except ImportError as e:
            rows.append((name, f"missing ({e})"))
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        argv = ["demo", *argv]
    parser = build_parser()
    if argv[0] == "bench":
        args, extra = parser.parse_known_args(argv)
    else:
        args, extra = parser.parse_args(argv), []
    try:
        if args.command == "demo":
            return cmd_demo(args)
        if args.command == "explain":
            return cmd_explain(args)
        if args.command == "bench":
            return cmd_bench(args, extra)
        return cmd_info(args)
    except CliError as e:
        parser.exit(2, f"{parser.prog}: error: {e}\n")


if __name__ == "__main__":
    sys.exit(main())
