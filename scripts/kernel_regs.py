"""Registers and spills of the attention forward kernel for sm_90, compiled on the CPU (no GPU).

    python scripts/kernel_regs.py '[{}, 4, 3]' '[{"PHASE": "stats", "HIST_MODE": "tile"}, 8, 3]'
    python scripts/kernel_regs.py --where '[{"FIXUP": true}, 4, 3]'   # + where the spills are

Each argument is JSON ``[template overrides, num_warps, num_stages]`` (a fourth entry: a
``maxnreg`` register cap per thread); the overrides replace
entries of BASE (the bf16, D=128, α=1.5, causal forward at 64x64 as it runs at 4k keys: "subset",
no fix-up). Triton compiles the rendered kernel down to PTX for sm_90a, specialised as a launch on
contiguous tensors is, and the ptxas bundled with Triton's NVIDIA backend reports registers and
spill bytes. Run it with a Triton 3.6 environment for the H200 image's compiler; the installed one
(3.9) is a guide. Session 2 used it to find that the forward sits at 253-255 registers and that
sweep 1's element-wise histogram costs ~60 of them. Until session 16 it compiled without the
launch's specialisation (strides of 1, 16-byte alignment), which reported spills the GPU's kernels
do not have: 1068 bytes for the shipped 4k forward, against 0 in its loops with it (Triton 3.6).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile

os.environ.pop("TRITON_INTERPRET", None)

import triton  # noqa: E402
import triton.backends.nvidia as nvidia_backend  # noqa: E402
from triton.backends.compiler import GPUTarget  # noqa: E402
from triton.compiler import ASTSource  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from adasplash_compile.kernels import attention, render  # noqa: E402

BASE = dict(ALPHA_KIND="15", ALPHA=1.5, PER_HEAD_ALPHA=False, MASK_MODE="causal", MASK_BOOL=False,
            NB=attention.NB, FLUSH_EVERY=attention.FLUSH_EVERY, HIST_MODE="subset", TOPK=attention.SUBSET_TOPK, EVICT2=attention.SUBSET_EVICT2, SUBSET_WARM=attention.SUBSET_WARM, NEAR_SKIP=True, NEAR_PATIENCE=attention.SUBSET_NEAR_PATIENCE, LEAN_DENSE=attention.SUBSET_LEAN_DENSE, TILE_FLAGS=False, FIXUP=False, GATHER=False, GATHER_CAP=attention.GATHER_CAP, GATHER_UNROLL=attention.GATHER_UNROLL, GATHER_KEY_LOADS=attention.GATHER_KEY_LOADS, GATHER_SCRATCH=attention.GATHER_SCRATCH, GATHER_PACKED_X=False, DENSE_STOP=0, LIST_PREFIX=attention.LIST_PREFIX, GATHER_SCAN=False, GATHER_WORDS=False, GATHER_SCAN_KEYS=attention.GATHER_SCAN_KEYS, GATHER_DENSE_FRAC=attention.GATHER_DENSE_FRAC, ACT_BLOCK_M=64, NREF=attention.NREF, NREF_EARLY=attention.NREF, NITER=1,
            SAVE_AUX=False, IEEE_DOT=False, HEAD_DIM_ROUNDED=128, V_DIM_ROUNDED=128, BLOCK_M=64, BLOCK_N=64,
            STOP_AFTER="", DOT_UPCAST=False, PHASE="all", ROUTE="", PAIR_MERGE=False, DENSE_OWN_ROWS=attention.DENSE_OWN_ROWS, PAIR_EXACT=attention.PAIR_EXACT,
            FIXUP_LISTS=False, FIXUP_MAX_ROWS=attention.FIXUP_MAX_ROWS, SUBSET_TARGETED=attention.SUBSET_TARGETED, TARGETED_SCAN=attention.TARGETED_SCAN)


def _ptxas() -> str:
    bindir = os.path.join(os.path.dirname(nvidia_backend.__file__), "bin")
    for name in ("ptxas-blackwell", "ptxas"):  # the one that reads the PTX version Triton emits
        path = os.path.join(bindir, name)
        if os.path.exists(path):
            return path
    raise SystemExit(f"no ptxas under {bindir}")


def registers(overrides: dict, num_warps: int, num_stages: int, where: bool = False,
              maxnreg: int = 0) -> tuple[int, int]:
    params = dict(BASE, **overrides)
    fn = render.load(attention.TEMPLATE, **params).attention_fwd_kernel
    sig = {n: "i32" for n in fn.arg_names}
    ptr = "*fp32" if params["IEEE_DOT"] else "*bf16"
    sig.update({n: ptr for n in ("Q", "K", "V", "OUT", "O2", "MASK")})
    sig.update({n: "*fp32" for n in ("ALPHA_T", "TAU", "BMAX")})
    sig.update(ACT="*u8", FIX_CNT="*i32", FIX_ROWS="*i32", GIDX="*i16", GCNT="*i32")
    sig.update(scale="fp32", alpha_arg="fp32")
    const = dict(HEAD_DIM=params["HEAD_DIM_ROUNDED"], V_DIM=params["V_DIM_ROUNDED"],
                 HEAD_DIM_ROUNDED=params["HEAD_DIM_ROUNDED"], V_DIM_ROUNDED=params["V_DIM_ROUNDED"],
                 BLOCK_M=params["BLOCK_M"], BLOCK_N=params["BLOCK_N"])
    # specialised as a launch on contiguous tensors is: unit strides are constants, pointers and
    # the other strides divisible by 16 (without this Triton cannot vectorise the loads, and the
    # scalar loads' addresses alone push the kernel into spilling)
    unit = [n for n in fn.arg_names if n.startswith("stride_") and n.endswith("d")]
    const.update({n: 1 for n in unit})
    sig.update({c: "constexpr" for c in const})
    div16 = [n for n in fn.arg_names if n not in const and n not in ("stride_mb", "stride_mh", "stride_mm", "stride_mn")
             and (sig[n].startswith("*") or n.startswith("stride_") or n == "H")]
    attrs = {(fn.arg_names.index(n),): [["tt.divisibility", 16]] for n in div16}
    src = ASTSource(fn=fn, signature=sig, constexprs={(fn.arg_names.index(c),): v for c, v in const.items()},
                    attrs=attrs)
    kernel = triton.compile(src, target=GPUTarget("cuda", 90, 128),
                            options={"num_warps": num_warps, "num_stages": num_stages,
                                     **({"maxnreg": maxnreg} if maxnreg else {})})
    print(f"    shared memory: {kernel.metadata.shared} bytes", flush=True)
    return ptxas_usage(kernel.asm["ptx"], where)


def ptxas_usage(ptx: str, where: bool = False) -> tuple[int, int]:
    """(registers, spill-store bytes) ptxas reports for a kernel's PTX, for sm_90a. ``where``: also
    print the kernel source lines whose SASS holds the local-memory traffic (STL / LDL), so a
    spill in a hot loop is told from one in rarely-run code (nvdisasm's line info)."""
    with tempfile.TemporaryDirectory() as tmp:
        ptx_path, cubin = os.path.join(tmp, "k.ptx"), os.path.join(tmp, "k.cubin")
        with open(ptx_path, "w") as f:
            f.write(ptx)
        res = subprocess.run([_ptxas(), "-v", "-lineinfo", "--gpu-name", "sm_90a", ptx_path, "-o", cubin],
                             capture_output=True, text=True)
        regs = re.search(r"Used (\d+) registers", res.stderr)
        spill = re.search(r"(\d+) bytes spill stores", res.stderr)
        if regs is None:
            raise SystemExit(res.stderr[-2000:])
        if where:
            _spill_sites(cubin)
    return int(regs.group(1)), int(spill.group(1)) if spill else 0


def _spill_sites(cubin: str) -> None:
    """Count STL / LDL instructions per kernel source line and print them with the line's text."""
    nvdisasm = os.path.join(os.path.dirname(_ptxas()), "nvdisasm")
    sass = subprocess.run([nvdisasm, "-g", "-c", cubin], capture_output=True, text=True, check=True).stdout
    here, counts = None, {}
    for line in sass.splitlines():
        loc = re.search(r'//## File "([^"]+)", line (\d+)', line)
        if loc:
            here = (loc.group(1), int(loc.group(2)))
        elif re.search(r"\b(STL|LDL)(\.\w+)*\s", line) and here is not None:
            st, ld = counts.get(here, (0, 0))
            counts[here] = (st + 1, ld) if "STL" in line else (st, ld + 1)
    for (path, lineno), (st, ld) in sorted(counts.items(), key=lambda kv: kv[0][1]):
        try:
            with open(path) as f:
                text = f.readlines()[lineno - 1].strip()
        except OSError:
            text = "?"
        print(f"    {os.path.basename(path)[:24]:24s} line {lineno:5d}: {st:3d} STL {ld:3d} LDL  {text[:100]}")


def main(argv: list[str]) -> None:
    where = "--where" in argv
    for arg in [a for a in argv if a != "--where"] or ['[{}, 4, 3]']:
        overrides, warps, stages, *cap = json.loads(arg)
        regs, spill = registers(overrides, warps, stages, where, *cap)
        print(f"{json.dumps(overrides)} warps={warps} stages={stages}{f' maxnreg={cap[0]}' if cap else ''}: "
              f"{regs} registers, {spill} bytes spilled",
              flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
