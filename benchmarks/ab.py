"""``python -m benchmarks.ab --base REV``: tinygrad_nn's own step, this checkout against an older commit.

The suite (``python -m benchmarks``) measures ratios against peers, which cancel the machine's speed but not
its noise: on a shared machine one workload's ratio moves by 10-20% from run to run. To tell whether a change
made tinygrad_nn itself faster or slower, this runs the same workloads' tinygrad_nn step in both trees, in
alternating processes (base, head, head, base, ...), pinned to one core, and compares them round by round:
a load that comes and goes hits both sides alike.

    python -m benchmarks.ab --base b3e386c --workloads 1,2,3,4 --rounds 6 --json /tmp/ab.json

With `--instructions` it counts instead of timing: each side runs under valgrind's cachegrind (which must be
installed), and the table gives the machine instructions per step, the difference of a long and a short run
divided by the steps between them. Counts do not depend on the machine's load, so they show a change of 1%
where times cannot (string hashing is fixed with PYTHONHASHSEED=0, OpenBLAS kept to one thread).

`--impl tinygrad_nn_jit` measures the jitted replay instead (the warm-up goes on until the program replays:
the first two calls record and check, the next few make it a slice per call; counting, the program is made at
once, in the second call, as a making sized by the clock would differ between the short and the long run), and
`--impl numpy` the numpy floor (the same in both trees: the yardstick for the other two).

The base is checked out into a temporary git worktree (removed afterwards). Each process builds the workload
with that tree's own `benchmarks.workloads` and times `--steps` steps after a warm-up; a round's number is
the median step. The table gives, per workload, the fastest round of each side, their ratio, and the median
of the per-round ratios (head / base: below 1 is faster). W1 runs twice, with the default garbage collector
and with it paused, as in the suite.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# What runs in each process, in the tree under test: only the workloads' `prepare` and `build` are used,
# which both trees have.
_WORKER = r"""
import gc, importlib, json, os, sys, time
w, steps, gc_off, cpu, impl = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", int(sys.argv[4]), sys.argv[5]
if cpu >= 0 and hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {cpu})
module = importlib.import_module("benchmarks.workloads." + {"1": "w1_micrograd_demo", "2": "w2_book_net",
                                 "3": "w3_mlp", "4": "w4_per_op", "7": "w7_conv2d", "7d": "w7_conv2d"}[w])
cfg = {"points": 100} if w == "1" else {"quick": False, "input_grad": w == "7"}
if cpu == -2 and impl == "tinygrad_nn_jit":  # counting: the program made at once, in the second call (a making a
    import tinygrad_nn.jit.build  # slice per call is sized by the clock, and so differs from process to process)
    tinygrad_nn.jit.build.SLICED = False
if hasattr(module, "prepare"):
    cfg["data"] = module.prepare(cfg)
case = module.build(impl, cfg)
step = case.step
for _ in range(3):
    res = step()
while getattr(case, "ready", None) is not None and not case.ready():
    res = step()  # a jitted step: its program is made a slice per call; what is counted or timed is its replay
res = None
gc.collect()
if gc_off:
    gc.disable()
times, clock = [], time.perf_counter
if cpu == -2:  # counting instructions (valgrind): no timing, just the steps
    for _ in range(steps):
        res = step()
    sys.exit(0)
for _ in range(steps):
    t0 = clock()
    res = step()  # kept until the next step's result replaces it: freeing a graph is timed, as in training
    times.append(clock() - t0)
times.sort()
print(json.dumps({"median": times[len(times) // 2]}))
"""

# (label, workload, steps per process, GC paused); for --instructions, the short and long runs' steps
# (long enough that the garbage collector's full collections, part of every step's cost, average out)
COUNTED = {"1": (1, 5), "2": (20, 1020), "3": (2, 12), "4": (20, 520), "7": (1, 3)}
# (label, workload, steps per process, GC paused)
ROWS = {
    "1": [("W1 micrograd demo, default GC", "1", 15, False), ("W1 micrograd demo, GC paused", "1", 15, True)],
    "2": [("W2 book 12-3-2 network", "2", 3000, False)],
    "3": [("W3 MLP 784-256-128-10", "3", 150, False)],
    "4": [("W4 chain of 100 ops", "4", 1000, False)],
    # W7's conv step, its input a hidden layer's (with a gradient) and a data batch (without one)
    "7": [("W7 conv, input gradient", "7", 20, False), ("W7 conv, data batch", "7d", 20, False)],
}


def _time(tree, workload, steps, gc_off, cpu, impl="tinygrad_nn"):
    env = {**os.environ, "PYTHONPATH": tree}
    out = subprocess.run([sys.executable, "-c", _WORKER, workload, str(steps), "1" if gc_off else "0", str(cpu), impl],
                         cwd=tree, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"benchmarks.ab: the worker failed in {tree}:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])["median"]


def _count(tree, workload, steps, gc_off, impl="tinygrad_nn"):
    """Instructions of a whole worker process running `steps` steps, under cachegrind."""
    env = {**os.environ, "PYTHONPATH": tree, "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1"}
    cmd = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null", sys.executable,
           "-c", _WORKER, workload, str(steps), "1" if gc_off else "0", "-2", impl]
    out = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True)
    for line in out.stderr.splitlines():
        if "I" in line and "refs:" in line:
            return int(line.split("refs:")[1].strip().replace(",", ""))
    raise RuntimeError(f"benchmarks.ab: no instruction count from valgrind in {tree}:\n{out.stderr[-2000:]}")


def count(base_tree, head_tree, workloads, impl="tinygrad_nn"):
    results = []
    for w in workloads:
        short, long = COUNTED[w]
        for label, workload, _, gc_off in ROWS[w]:
            per = {}
            for side, tree in (("base", base_tree), ("head", head_tree)):
                counts = [_count(tree, workload, steps, gc_off, impl) for steps in (short, long)]
                per[side] = (counts[1] - counts[0]) / (long - short)
            results.append({"row": label, "base_instructions": per["base"], "head_instructions": per["head"],
                            "ratio": per["head"] / per["base"]})
            print(f"  {label}: base {per['base']:,.0f}, head {per['head']:,.0f} instructions a step, head/base "
                  f"{per['head'] / per['base']:.3f}", flush=True)
    return results


def compare(base_tree, head_tree, workloads, rounds, cpu, fewer=1, impl="tinygrad_nn"):
    results = []
    for w in workloads:
        for label, workload, steps, gc_off in ROWS[w]:
            steps = max(1, steps // fewer)
            base, head = [], []
            for r in range(rounds):
                order = [(base_tree, base), (head_tree, head)]
                for tree, into in (order if r % 2 == 0 else order[::-1]):
                    into.append(_time(tree, workload, steps, gc_off, cpu, impl))
            ratios = [h / b for h, b in zip(head, base)]
            results.append({"row": label, "base_s": base, "head_s": head, "best_ratio": min(head) / min(base),
                            "median_round_ratio": statistics.median(ratios)})
            print(f"  {label}: base {min(base) * 1e6:,.0f} µs, head {min(head) * 1e6:,.0f} µs, "
                  f"head/base {min(head) / min(base):.3f} (rounds: {statistics.median(ratios):.3f})", flush=True)
    return results


def table(results, base_rev, impl="tinygrad_nn"):
    if results and "ratio" in results[0]:
        lines = [f"| workload ({impl}'s step) | base {base_rev}: instructions | head: instructions "
                 f"| head ÷ base |", "|---|---|---|---|"]
        lines += [f"| {r['row']} | {r['base_instructions']:,.0f} | {r['head_instructions']:,.0f} | {r['ratio']:.3f} |"
                  for r in results]
        return "\n".join(lines)
    lines = [f"| workload ({impl}'s step) | base {base_rev} (fastest round) | head (fastest round) | head ÷ base "
             f"| median of round ratios |", "|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['row']} | {min(r['base_s']) * 1e6:,.0f} µs | {min(r['head_s']) * 1e6:,.0f} µs | "
                     f"{r['best_ratio']:.3f} | {r['median_round_ratio']:.3f} |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m benchmarks.ab", description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", required=True, help="the git revision to compare against (e.g. a commit or main~3)")
    ap.add_argument("--workloads", default="1,2,3,4", help="comma-separated, of 1, 2, 3, 4, 7 (default: 1, 2, 3, 4)")
    ap.add_argument("--rounds", type=int, default=6, help="processes per side and workload (default 6)")
    ap.add_argument("--cpu", type=int, default=0, help="the core to pin every process to; -1: do not pin")
    ap.add_argument("--json", metavar="FILE", help="write the step times and ratios as JSON")
    ap.add_argument("--quick", action="store_true", help="a tenth of the steps (a smoke test)")
    ap.add_argument("--impl", default="tinygrad_nn", choices=("tinygrad_nn", "tinygrad_nn_jit", "numpy"),
                    help="whose step: tinygrad_nn's (eager, the default), its jitted replay, or the numpy floor")
    ap.add_argument("--instructions", action="store_true",
                    help="count machine instructions per step under valgrind instead of timing")
    args = ap.parse_args(argv)
    workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    bad = [w for w in workloads if w not in ROWS]
    if bad or not workloads:
        ap.error(f"--workloads: choose among 1, 2, 3, 4, 7 (got {args.workloads!r})")
    if args.rounds < 1:
        ap.error(f"--rounds must be at least 1, got {args.rounds}")
    rev = subprocess.run(["git", "rev-parse", "--short", args.base], cwd=HERE, capture_output=True, text=True)
    if rev.returncode != 0:
        ap.error(f"--base: git does not know the revision {args.base!r} ({rev.stderr.strip()})")
    base_rev = rev.stdout.strip()
    if args.instructions and shutil.which("valgrind") is None:
        ap.error("--instructions needs valgrind (e.g. apt-get install valgrind)")
    with tempfile.TemporaryDirectory(prefix="tinygrad_nn-ab-") as tmp:
        tree = os.path.join(tmp, "base")
        subprocess.run(["git", "worktree", "add", "--detach", tree, base_rev], cwd=HERE, check=True,
                       capture_output=True)
        try:
            if args.instructions:
                print(f"base {base_rev} in {tree}; head {HERE}; counting instructions under valgrind", flush=True)
                results = count(tree, HERE, workloads, args.impl)
            else:
                print(f"base {base_rev} in {tree}; head {HERE}; {args.rounds} rounds, pinned to "
                      f"{'core ' + str(args.cpu) if args.cpu >= 0 else 'no core'}", flush=True)
                results = compare(tree, HERE, workloads, args.rounds, args.cpu, 10 if args.quick else 1, args.impl)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", tree], cwd=HERE, capture_output=True)
    print()
    print(table(results, base_rev, args.impl))
    if args.json:  # written whole or not at all
        text = json.dumps({"base": base_rev, "impl": args.impl, "rounds": args.rounds, "cpu": args.cpu,
                           "measure": "instructions" if args.instructions else "seconds", "results": results}, indent=1)
        with open(args.json + ".tmp", "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(args.json + ".tmp", args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
