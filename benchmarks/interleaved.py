"""``python -m benchmarks.interleaved --workload 7``: two implementations of a workload, stepped in turn in one process.

The suite (``python -m benchmarks``) runs each implementation in a process of its own; on a shared machine two
processes of the same code differ by 5-10%, more than "not slower than eager" can bear. Here both cases live in
one process and take turns (a, b, b, a, ...), each step timed in CPU time (`time.process_time`, all threads), so
that a load that comes and goes hits both alike. The table gives each side's median and fastest step and their
ratios (b / a).

    python -m benchmarks.interleaved --workload 7 --impls tinygrad_nn,tinygrad_nn_jit --steps 40
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time

from benchmarks.common import warm_up

MODULES = {"2": "w2_book_net", "3": "w3_mlp", "4": "w4_per_op", "7": "w7_conv2d"}


def run(workload: str, impls: tuple, steps: int, input_grad: bool = True, quick: bool = False) -> dict:
    module = importlib.import_module("benchmarks.workloads." + MODULES[workload])
    cfg = {"quick": quick, "input_grad": input_grad}
    if hasattr(module, "prepare"):
        cfg["data"] = module.prepare(cfg)
    cases = [module.build(impl, cfg) for impl in impls]
    for case in cases:  # a jitted case steps until its program is made: only replays are timed
        warm_up(case, 3)
    times = ([], [])
    for r in range(steps):
        for k in ((0, 1) if r % 2 == 0 else (1, 0)):
            t0 = time.process_time()
            res = cases[k].step()
            times[k].append(time.process_time() - t0)
            res = None  # noqa: F841 (freed before the other side's step, as a training loop frees it)
    a, b = (sorted(t) for t in times)
    med = len(a) // 2
    return {"impls": impls, "median": (a[med], b[med]), "fastest": (a[0], b[0]),
            "median_ratio": b[med] / a[med], "fastest_ratio": b[0] / a[0]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.interleaved", description=__doc__.split("\n\n")[0])
    ap.add_argument("--workload", required=True, choices=sorted(MODULES), help="the workload")
    ap.add_argument("--impls", default="tinygrad_nn,tinygrad_nn_jit", help="two implementations, a,b")
    ap.add_argument("--steps", type=int, default=40, help="steps per side (default 40)")
    ap.add_argument("--quick", action="store_true", help="the workload's tiny sizes (a smoke test)")
    args = ap.parse_args(argv)
    impls = tuple(s.strip() for s in args.impls.split(","))
    if len(impls) != 2:
        ap.error(f"--impls: give two implementations, got {args.impls!r}")
    if args.steps < 1:
        ap.error(f"--steps must be at least 1, got {args.steps}")
    rows = [("", True)] if args.workload != "7" else [(", input gradient", True), (", data batch", False)]
    print(f"| W{args.workload} | {impls[0]}: median (fastest) | {impls[1]}: median (fastest) | {impls[1]} ÷ "
          f"{impls[0]}: median (fastest) |\n|---|---|---|---|")
    for label, input_grad in rows:
        r = run(args.workload, impls, args.steps, input_grad, args.quick)
        (ma, mb), (fa, fb) = r["median"], r["fastest"]
        print(f"| W{args.workload}{label} | {ma * 1e3:.3f} ms ({fa * 1e3:.3f}) | {mb * 1e3:.3f} ms ({fb * 1e3:.3f}) "
              f"| {r['median_ratio']:.3f} ({r['fastest_ratio']:.3f}) |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
