"""``python -m benchmarks.memory --workload 3``: the Python-allocated memory of each call, eager and jitted.

The suite's `Δ RSS` is one number per process (its peak RSS over the baseline after the imports). This tool
shows where a jitted step's memory goes, call by call: each implementation builds its case in a process of its
own under `tracemalloc` (numpy reports its arrays to it), then for each call prints the peak during the call and
what is still allocated after it, in MB over the built case. The jitted step's calls record, check, make the
program (a slice per call) and replay; tracemalloc slows the calls down, so the making takes more of them than
without it. Memory numpy's allocator or glibc keep (the RSS) does not show here: this counts what is in use.

    python -m benchmarks.memory --workload 3 --calls 40
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import tracemalloc
from pathlib import Path

MODULES = {"2": "w2_book_net", "3": "w3_mlp", "4": "w4_per_op"}
IMPLS = ("tinygrad_nn", "tinygrad_nn_jit")
ROOT = Path(__file__).resolve().parents[1]  # the checkout: `python -m benchmarks.memory` runs from there


def measure(workload: str, impl: str, calls: int, quick: bool = False) -> list:
    """[(peak, live after)] in bytes over the built case, one pair per call (in this process)."""
    module = importlib.import_module("benchmarks.workloads." + MODULES[workload])
    cfg = {"quick": quick}
    if hasattr(module, "prepare"):
        cfg["data"] = module.prepare(cfg)
    tracemalloc.start(1)
    try:
        case = module.build(impl, cfg)
        base = tracemalloc.get_traced_memory()[0]
        out = []
        for _ in range(calls):
            tracemalloc.reset_peak()
            res = case.step()
            res = None  # noqa: F841 (released before the reading, as a training loop releases it)
            live, peak = tracemalloc.get_traced_memory()
            out.append((peak - base, live - base))
        return out
    finally:
        tracemalloc.stop()


def table(workload: str, rows: dict) -> str:
    lines = [f"W{workload}: MB over the built case, peak during the call / live after it", "",
             "| impl | calls 1-2 | calls 3 on: most peak | last call |", "|---|---|---|---|"]
    for impl, calls in rows.items():
        mb = [(p / 1e6, v / 1e6) for p, v in calls]
        first = ", ".join(f"{p:.2f} / {v:.2f}" for p, v in mb[:2])
        rest = max((p for p, _ in mb[2:]), default=float("nan"))
        lines.append(f"| {impl} | {first} | {rest:.2f} | {mb[-1][0]:.2f} / {mb[-1][1]:.2f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__.split("\n\n")[0])
    p.add_argument("--workload", choices=sorted(MODULES), required=True)
    p.add_argument("--calls", type=int, default=40, help="calls per implementation (default 40)")
    p.add_argument("--quick", action="store_true", help="the workload's tiny sizes (a smoke test)")
    p.add_argument("--worker", choices=IMPLS, help=argparse.SUPPRESS)  # one implementation, in this process
    args = p.parse_args(argv)
    if args.calls < 1:
        p.error(f"--calls must be at least 1, got {args.calls}")
    if args.worker:
        print(json.dumps(measure(args.workload, args.worker, args.calls, args.quick)))
        return 0
    rows = {}
    for impl in IMPLS:  # each in a fresh process: one's leftovers are not the other's baseline
        cmd = [sys.executable, "-m", "benchmarks.memory", "--workload", args.workload, "--calls", str(args.calls),
               "--worker", impl] + (["--quick"] if args.quick else [])
        done = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
        rows[impl] = json.loads(done.stdout.strip().splitlines()[-1])
    print(table(args.workload, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
