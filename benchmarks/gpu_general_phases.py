"""H200 probe: where a float α's forward spends its time, phase by phase (``profile_variant``):

- ``sweep1``: sweep 1 and τ on the candidates (no output);
- ``norefine``: plus the output sweep, with no refinement of the rows the candidates missed (τ
  may be wrong there);
- ``skiprefine`` (session 27): the shipped kernel's code, but no row takes the refinement, so that
  ``full − skiprefine`` is the refinement's own time and ``skiprefine − norefine`` what its code
  costs the rest of the kernel;
- ``full``: the shipped kernel (in-tile refinement sweeps; from ``attention.FIXUP_MIN_LK`` keys
  the fix-up launch).

It also counts the rows whose τ the refinement moved (uncertified rows) and the 64-row tiles
holding one, and estimates the refinement sweeps as (full − norefine) / (norefine − sweep1),
one output sweep's cost per refinement sweep. bf16 B=2 H=16 D=128 causal, do_bench medians (ms).

    SAVE_CACHE=0 bash scripts/gpu_run.sh python3 benchmarks/gpu_general_phases.py [--n 4096] \\
        [--alphas 1.5 1.25 1.7 2.5] [--inputs rand local] [--variants "FIXUP_MAX_ROWS=4;FIXUP_MAX_ROWS=64"]

``--variants``: ';'-separated settings of ``kernels.attention`` knobs ('NAME=number,...'; whole
numbers are ints), each timed in turn; the full kernel's output and τ are compared with the first
variant's. Session 18's call J timed a speculative last refinement sweep this way (since removed).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from adasplash_compile.kernels import attention  # noqa: E402
from benchmarks.gpu_listed_bwd import _inputs, bench  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, nargs="+", default=[4096])
    ap.add_argument("--alphas", type=float, nargs="+", default=[1.5, 1.25, 1.7, 2.5])
    ap.add_argument("--inputs", nargs="+", default=["rand", "local"])
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    ap.add_argument("--variants", default="", help="';'-separated 'NAME=float,...' knob settings")
    a = ap.parse_args()
    def number(text):
        x = float(text)
        return int(x) if x.is_integer() else x

    variants = [dict((kv.split("=")[0], number(kv.split("=")[1])) for kv in var.split(",") if kv)
                for var in a.variants.split(";")] if a.variants else [{}]
    defaults = {name: getattr(attention, name) for var in variants for name in var}
    rows = []
    for n in a.n:
        for kind in a.inputs:
            q, k, v, _ = _inputs(kind, 2, 16, n, 128)
            for alpha in a.alphas:
                first = None
                for var in variants:
                    for name, val in defaults.items():
                        setattr(attention, name, var.get(name, val))
                    ms, taus, outs = {}, {}, {}
                    for stop in ("sweep1", "norefine", "skiprefine", ""):
                        out = torch.full((*q.shape[:3], v.shape[-1]), float("nan"), dtype=q.dtype, device=q.device)
                        tau = torch.full(q.shape[:3], float("nan"), dtype=torch.float32, device=q.device)
                        fn = attention.profile_variant(q, k, v, True, stop_after=stop, alpha=alpha, outputs=(out, tau))
                        ms[stop or "full"] = bench(fn)
                        fn()
                        taus[stop or "full"], outs[stop or "full"] = tau.clone(), out.clone()
                    moved = taus["norefine"] != taus["full"]
                    tiles = moved.reshape(2, 16, n // 64, 64).any(-1)
                    sweep = ms["norefine"] - ms["sweep1"]
                    if first is None:
                        first = (outs["full"], taus["full"])
                    same = (f"out max diff {(outs['full'].float() - first[0].float()).abs().max().item():.2e}, "
                            f"tau equal {torch.equal(taus['full'], first[1])}")
                    row = dict(n=n, input=kind, alpha=alpha, variant=var, **{f"{p}_ms": t for p, t in ms.items()},
                               rows_refined=moved.float().mean().item(), tiles_refined=tiles.float().mean().item(),
                               est_sweeps=(ms["full"] - ms["norefine"]) / sweep if sweep > 0 else None,
                               vs_first=same)
                    rows.append(row)
                    print(f"[phases] N={n} {kind:5s} α={alpha:<5} {var or ''} sweep1 {ms['sweep1']:7.3f}  +output "
                          f"{ms['norefine']:7.3f}  skiprefine {ms['skiprefine']:7.3f}  full {ms['full']:7.3f}  rows refined {row['rows_refined']:.4f}  "
                          f"tiles {row['tiles_refined']:.3f}  ~sweeps {row['est_sweeps']:.2f}  ({same})", flush=True)
                for name, val in defaults.items():
                    setattr(attention, name, val)
            del q, k, v
    with open(os.path.join(a.out, "general_phases.json"), "w") as f:
        json.dump(dict(device=torch.cuda.get_device_name(), torch=torch.__version__, rows=rows), f, indent=1)


if __name__ == "__main__":
    main()
