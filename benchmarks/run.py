"""The benchmark runner: ``python -m benchmarks`` or ``python benchmarks/run.py``.

Every (workload, implementation) pair runs in a process of its own (``benchmarks.worker``), so the
frameworks' thread pools, allocators and imported modules never share a process. The pairs are run in
rounds, alternating the implementations inside each round (A B C, B C A, C A B, ...), and each process
warms up before it times; the table reports, per pair, the median of all timed steps over the rounds,
their interquartile range, and the peak RSS of the process (``ru_maxrss``) together with its increase
over the baseline measured right after the imports.

Options: --quick (tiny sizes, 1 round: the smoke test), --workloads 1,2,..., --impls tinygrad_nn,numpy,...,
--repeats N (rounds), --budget S (timed seconds per process), --json FILE, --profile 2,3,4
(cProfile of tinygrad_nn's step instead of timing), --openblas-env asis|unset|both.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a script: python benchmarks/run.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import median, quantile  # noqa: E402
from benchmarks.machine import describe, format_machine, loadavg  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ALL_IMPLS = ("tinygrad_nn", "tinygrad_nn_jit", "numpy", "micrograd", "torch", "jax")
NUMPY_BASED = ("tinygrad_nn", "tinygrad_nn_jit", "numpy")
PEER_MODULES = {"micrograd": ("micrograd",), "torch": ("torch",), "jax": ("jax", "jaxlib")}
BLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


# ----------------------------------------------------------------------------------------------
# What runs: workloads, their implementations and their timing parameters.


@dataclass(frozen=True)
class Timing:
    warmup: int
    min_steps: int
    max_steps: int
    budget: float  # seconds of timed steps per process (at least min_steps)


QUICK = Timing(warmup=1, min_steps=2, max_steps=2, budget=0.0)


@dataclass
class Job:
    wid: int          # workload number (1..7)
    row: str          # the table's workload cell (W5 has one per shape and size)
    module: str       # benchmarks.workloads.<module>
    impl: str         # tinygrad_nn, numpy, micrograd, torch, jax
    cfg: dict
    timing: Timing
    gc_off: bool = False
    blas_unset: bool = False
    rounds: int | None = None  # fewer rounds than the rest (W5's large graphs)
    amortized: bool = False    # each process gives one sample, the mean of its steps (W1: GC is periodic)

    @property
    def label(self) -> str:
        jit = " (jit)" if self.impl == "jax" and self.wid != 6 else ""
        blas = " (OPENBLAS_* unset)" if self.blas_unset else ""
        return self.impl + jit + (" (gc off)" if self.gc_off else "") + blas

    @property
    def ref_label(self) -> str:
        """The tinygrad_nn row this row's ratio is taken against: same GC mode and BLAS environment."""
        unset = self.blas_unset and self.impl in NUMPY_BASED
        return "tinygrad_nn" + (" (gc off)" if self.gc_off else "") + (" (OPENBLAS_* unset)" if unset else "")

    @property
    def key(self) -> tuple:
        return (self.row, self.label)


def _fmt_size(n: int) -> str:
    return f"1e{len(str(n)) - 1}" if str(n).strip("0") == "1" else str(n)


def plan(args, available: list[str]) -> list[list[Job]]:
    """Groups of jobs; the jobs of one group alternate within each round."""
    quick = args.quick
    impls = [i for i in ALL_IMPLS if i in available]
    groups: list[list[Job]] = []

    def t(default: Timing) -> Timing:
        if quick:
            return QUICK
        if args.budget is not None:
            return Timing(default.warmup, default.min_steps, default.max_steps, args.budget)
        return default

    def variants(impl):
        yield False
        if args.openblas_env in ("unset", "both") and impl in NUMPY_BASED and _blas_env_set():
            yield True

    def mk(wid, row, module, names, cfg, timing, gc_modes=(False,), rounds=None, amortized=False):
        jobs = []
        for gc_off in gc_modes:
            for impl in names:
                if impl not in impls:
                    continue
                for unset in variants(impl):
                    if args.openblas_env == "unset" and impl in NUMPY_BASED and _blas_env_set() and not unset:
                        continue
                    jobs.append(Job(wid, row, module, impl, cfg, t(timing), gc_off, unset, rounds, amortized))
        return jobs

    wanted = set(args.workloads)
    if 1 in wanted:
        from benchmarks.workloads import w1_micrograd_demo as w1

        cfg = {"points": 10 if quick else 100}
        cfg["data"] = w1.prepare(cfg)
        row = f"1 micrograd demo, 2-16-16-1, {cfg['points']} pts"
        # micrograd's cost under the default GC climbs for its first ~6 steps (collections over a growing heap),
        # hence the long warm-up; 20 steps at most keep micrograd's uncollected garbage (gc off) under ~1.5 GB.
        jobs = mk(1, row, "w1_micrograd_demo", w1.IMPLS, cfg, Timing(6, 5, 20, 2.0), gc_modes=(False, True),
                  amortized=True)
        # jit turns the demo's graph into ~78,000 lines of Python, compiled in every process: one round, default GC
        for j in jobs:
            if j.impl == "tinygrad_nn_jit":
                j.rounds = 1
        groups.append([j for j in jobs if not (j.impl == "tinygrad_nn_jit" and j.gc_off)])
    if 2 in wanted:
        from benchmarks.workloads import w2_book_net as w2

        cfg = {"data": w2.prepare({})}
        groups.append(mk(2, "2 book 12-3-2 sigmoid, 64 imgs, f64", "w2_book_net", w2.IMPLS, cfg,
                         Timing(20, 20, 1000, 0.5)))
    if 3 in wanted:
        from benchmarks.workloads import w3_mlp as w3

        cfg = {"quick": quick}
        sizes = "-".join(map(str, w3.sizes_of(cfg)))
        groups.append(mk(3, f"3 MLP {sizes} ReLU CE, b{w3.batch_of(cfg)}, f32", "w3_mlp", w3.IMPLS, cfg,
                         Timing(5, 10, 1000, 1.0)))
    if 4 in wanted:
        from benchmarks.workloads import w4_per_op as w4

        groups.append(mk(4, f"4 chain of {w4.N_OPS} ops, 4 elems, fwd+bwd", "w4_per_op", w4.IMPLS, {},
                         Timing(20, 20, 1000, 0.5)))
    if 5 in wanted:
        from benchmarks.workloads import w5_scaling as w5

        jobs = []
        for shape in w5.SHAPES:
            for n in w5.sizes_of({"quick": quick}):
                rounds = None if quick else min(args.repeats, 3)
                jobs += mk(5, f"5 backward, {shape} of {_fmt_size(n)} nodes", "w5_scaling", w5.IMPLS,
                           {"shape": shape, "size": n}, Timing(1, 3, 1000, 0.5), rounds=rounds)
        if jobs:
            groups.append(jobs)
    if 6 in wanted:
        from benchmarks.workloads import w6_import as w6

        groups.append(mk(6, "6 import (on top of numpy)", "w6_import", w6.IMPLS, {}, Timing(0, 1, 1, 0.0)))
    if 7 in wanted:
        from benchmarks.workloads import w7_conv2d as w7

        n, c_in, c_out, side, k, pad = w7.sizes_of({"quick": quick})
        jobs = []
        for input_grad in (True, False):
            row = (f"7 Conv2d({c_in}, {c_out}, {k}, padding={pad}) fwd+bwd, ({n}, {c_in}, {side}, {side}) f32, "
                   + ("input grad" if input_grad else "data batch"))
            jobs += mk(7, row, "w7_conv2d", w7.IMPLS, {"quick": quick, "input_grad": input_grad},
                       Timing(3, 10, 1000, 1.0))
        groups.append(jobs)
    return [g for g in groups if g]


def _blas_env_set() -> bool:
    return any(k in os.environ for k in BLAS_ENV)


def available_impls(requested) -> tuple[list[str], dict]:
    """tinygrad_nn and numpy always; each peer when its modules can be found (not imported here)."""
    avail, missing = [], {}
    for impl in requested:
        mods = PEER_MODULES.get(impl, ())
        lost = [m for m in mods if importlib.util.find_spec(m) is None]
        if lost:
            missing[impl] = f"not installed ({', '.join(lost)})"
        else:
            avail.append(impl)
    return avail, missing


# ----------------------------------------------------------------------------------------------
# Running one job in its own process.


def _child_env(job: Job) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("PYTHONHASHSEED", "0")
    env.setdefault("JAX_PLATFORMS", "cpu")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if job.blas_unset:
        for k in BLAS_ENV:
            env.pop(k, None)
    return env


def _parse(out: str) -> dict:
    for line in reversed(out.splitlines()):
        if line.startswith("BENCH_JSON:"):
            return json.loads(line[len("BENCH_JSON:"):])
    raise ValueError("no BENCH_JSON line in the worker's output")


def run_job(job: Job, timeout: float, profile: int = 0) -> dict:
    if job.module == "w6_import":
        from benchmarks.workloads import w6_import

        cmd = [sys.executable, "-c", w6_import.code_for(job.impl)]
    else:
        spec = {"workload": job.module, "impl": job.impl, "cfg": job.cfg, "warmup": job.timing.warmup,
                "min_steps": job.timing.min_steps, "max_steps": job.timing.max_steps,
                "budget": job.timing.budget, "gc_off": job.gc_off}
        if profile:
            spec["profile"] = profile
        cmd = [sys.executable, "-m", "benchmarks.worker", json.dumps(spec)]
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, cwd=ROOT, env=_child_env(job), capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        tail = (p.stderr.strip().splitlines() or ["(no stderr)"])[-1]
        return {"error": f"exit {p.returncode}: {tail}", "stderr": p.stderr[-4000:]}
    try:
        res = _parse(p.stdout)
    except ValueError as e:
        return {"error": str(e), "stderr": p.stderr[-4000:]}
    if "skip" in res:
        return res
    if job.module == "w6_import":
        t = res["numpy"] if job.impl == "numpy" else res["lib"]
        res = {"times": [t], "numpy_s": res["numpy"], "lib_s": res["lib"], "rss_peak_mb": res["rss"],
               "rss_base_mb": None, "loss0": None}
    res["wall_s"] = wall
    return res


# ----------------------------------------------------------------------------------------------
# Summaries, ratios and targets.


@dataclass
class Row:
    job: Job
    times: list = field(default_factory=list)
    rounds: int = 0
    nsteps: int = 0
    per_round: list = field(default_factory=list)  # per-process summaries
    peaks: list = field(default_factory=list)
    deltas: list = field(default_factory=list)
    loss0: list = field(default_factory=list)
    extra: list = field(default_factory=list)
    error: str | None = None

    @property
    def med(self):
        return median(self.times) if self.times else None


def fmt_time(s) -> str:
    if s is None:
        return "—"
    if s < 1e-3:
        return f"{s * 1e6:.3g} µs"
    if s < 1.0:
        return f"{s * 1e3:.3g} ms"
    return f"{s:.3g} s"


def fmt_spread(xs) -> str:
    if not xs:
        return "—"
    q1, q3 = quantile(xs, 0.25), quantile(xs, 0.75)
    lo, hi = fmt_time(q1), fmt_time(q3)
    if lo.split()[1] == hi.split()[1]:
        return f"{lo.split()[0]}–{hi}"
    return f"{lo}–{hi}"


def ratio(rows: dict, row: str, a: str, b: str):
    ra, rb = rows.get((row, a)), rows.get((row, b))
    if ra is None or rb is None or ra.med is None or rb.med is None or rb.med == 0:
        return None
    return ra.med / rb.med


@dataclass
class Target:
    name: str
    what: str
    value: float | None
    limit: float
    op: str           # "<=", "<", ">=", or "report" (no bound: shown for information)
    unit: str = "x"
    where: tuple | None = None  # (row, label) whose table cell shows it

    @property
    def status(self) -> str:
        if self.op == "report":
            return "info" if self.value is not None else "SKIP"
        if self.value is None:
            return "SKIP"
        ok = {"<=": self.value <= self.limit, "<": self.value < self.limit, ">=": self.value >= self.limit}[self.op]
        return "PASS" if ok else "MISS"

    def cell(self) -> str:
        if self.op == "report":
            return ""
        v = "—" if self.value is None else (f"{self.value:.3g}{self.unit}" if self.unit == "x"
                                             else f"{self.value:.3g} {self.unit}")
        return f"{self.what} {self.op} {self.limit:g}{self.unit if self.unit == 'x' else ' ' + self.unit}: " \
               f"{v} {self.status}"


def targets(rows: dict, groups: list[list[Job]]) -> list[Target]:
    by_wid = {}
    for g in groups:
        for j in g:
            by_wid.setdefault(j.wid, j.row)
    out = []
    tg, tgo = "tinygrad_nn", "tinygrad_nn (gc off)"
    if 1 in by_wid:
        r = by_wid[1]
        out.append(Target("W1 vs micrograd, default GC", "micrograd ÷ tinygrad_nn", ratio(rows, r, "micrograd", tg),
                          10, ">=", where=(r, "micrograd")))
        out.append(Target("W1 vs micrograd, GC paused (both)", "micrograd ÷ tinygrad_nn",
                          ratio(rows, r, "micrograd (gc off)", tgo), 2, ">=", where=(r, "micrograd (gc off)")))
        out.append(Target("W1 micrograd with GC paused vs tinygrad_nn with default GC", "micrograd ÷ tinygrad_nn",
                          ratio(rows, r, "micrograd (gc off)", tg), 0, "report"))
    tj = "tinygrad_nn_jit"
    if 1 in by_wid:
        r = by_wid[1]
        out.append(Target("W1 jitted vs micrograd, default GC", "micrograd ÷ jit", ratio(rows, r, "micrograd", tj),
                          30, ">=", where=(r, tj)))
    if 2 in by_wid:
        r = by_wid[2]
        out.append(Target("W2 jitted vs numpy floor", "jit ÷ numpy", ratio(rows, r, tj, "numpy"), 1.3, "<=",
                          where=(r, tj)))
        out.append(Target("W2 jitted vs JAX's jitted step", "jit ÷ jax", ratio(rows, r, tj, "jax (jit)"), 1.0, "<"))
        out.append(Target("W2 vs PyTorch", "tinygrad_nn ÷ torch", ratio(rows, r, tg, "torch"), 0.5, "<=",
                          where=(r, "torch")))
        out.append(Target("W2 vs numpy floor", "tinygrad_nn ÷ numpy", ratio(rows, r, tg, "numpy"), 3, "<=",
                          where=(r, "numpy")))
        out.append(Target("W2 vs JAX's jitted step", "tinygrad_nn ÷ jax", ratio(rows, r, tg, "jax (jit)"), 0,
                          "report"))
    if 3 in by_wid:
        r = by_wid[3]
        out.append(Target("W3 vs numpy floor", "tinygrad_nn ÷ numpy", ratio(rows, r, tg, "numpy"), 1.15, "<=",
                          where=(r, "numpy")))
        out.append(Target("W3 vs PyTorch", "tinygrad_nn ÷ torch", ratio(rows, r, tg, "torch"), 1.2, "<=",
                          where=(r, "torch")))
        a, b = rows.get((r, tg)), rows.get((r, "torch"))
        mem = median(a.peaks) / median(b.peaks) if (a and b and a.peaks and b.peaks) else None
        out.append(Target("W3 peak memory vs PyTorch's process", "peak RSS ÷ torch's", mem, 0.5, "<=",
                          where=(r, "torch")))
    if 3 in by_wid:
        r = by_wid[3]
        out.append(Target("W3 jitted vs numpy floor", "jit ÷ numpy", ratio(rows, r, tj, "numpy"), 1.05, "<=",
                          where=(r, tj)))
        a, b = rows.get((r, tj)), rows.get((r, tg))
        # (a growth of 0 MB, which --quick sizes can give, is no base for a ratio)
        mem = median(a.deltas) / median(b.deltas) if (a and b and a.deltas and b.deltas and median(b.deltas) > 0) \
            else None
        out.append(Target("W3 jitted memory vs eager", "Δ RSS ÷ eager's", mem, 1.0, "<="))
    for wid in (1, 2, 3, 4):
        if wid in by_wid:
            value, where = recording_calls(rows, by_wid[wid], tj, tg)
            out.append(Target(f"W{wid} jitted: each call that records vs eager's same call in a fresh process (CPU)",
                              "record ÷ eager", value, 10.0 if wid == 1 else 3.0, "<=", where=where))
    if 4 in by_wid:
        r = by_wid[4]
        out.append(Target("W4 jitted vs numpy floor", "jit ÷ numpy", ratio(rows, r, tj, "numpy"), 1.2, "<=",
                          where=(r, tj)))
        out.append(Target("W4 per-op cost vs PyTorch", "tinygrad_nn ÷ torch", ratio(rows, r, tg, "torch"), 1.0, "<",
                          where=(r, "torch")))
    if 5 in by_wid:
        for shape in ("chain", "tree"):
            per_node = []
            last = None
            for (row, label), rw in rows.items():
                if row.startswith(f"5 backward, {shape} ") and label == tg and rw.med is not None:
                    per_node.append(rw.med / rw.extra[0]["nodes"])
                    last = (row, label)
            val = max(per_node) / min(per_node) if len(per_node) >= 2 else None
            out.append(Target(f"W5 linear scaling, {shape} (suite's own bound)", "max ÷ min time per node", val, 2.0,
                              "<=", where=last))
    for r in sorted({j.row for g in groups for j in g if j.wid == 7}):
        kind = r.rsplit(", ", 1)[1]
        out.append(Target(f"W7 jitted vs eager, {kind}", "jit ÷ eager", ratio(rows, r, tj, tg), 1.0, "<=",
                          where=(r, tj)))
        out.append(Target(f"W7 conv2d vs PyTorch, {kind}", "tinygrad_nn ÷ torch", ratio(rows, r, tg, "torch"), 2.0,
                          "<=", where=(r, "torch")))
    if 6 in by_wid:
        r = by_wid[6]
        a = rows.get((r, tg))
        out.append(Target("W6 import on top of numpy", "import tinygrad_nn", a.med if a and a.times else None,
                          0.25, "<", unit="s", where=(r, tg)))
    return out


def recording_calls(rows: dict, row: str, tj: str, tg: str):
    """The worse of the two recording calls of the jitted step, each as a multiple of the eager step's call at the
    same point of a fresh process (its first, its second), in CPU time: the first calls of a process run code
    for the first time (an eager step's first call takes 2-3 times its later ones), which neither implementation
    can avoid, so the first recording is set against eager's first step, each in a process of its own that has
    imported the same modules and collected its garbage. Medians over the processes; None without both rows."""
    a, b = rows.get((row, tj)), rows.get((row, tg))
    if a is None or b is None:
        return None, None
    jit = [e for e in a.extra if "record_first_cpu_s" in e]
    eager = [e["first_steps_cpu_s"] for e in b.extra if len(e.get("first_steps_cpu_s", ())) >= 2]
    if not jit or not eager:
        return None, None
    first = median([e["record_first_cpu_s"] for e in jit]) / median([f[0] for f in eager])
    second = median([e["record_second_cpu_s"] for e in jit]) / median([f[1] for f in eager])
    return max(first, second), (row, tj)


def note(row: Row) -> str:
    j = row.job
    if row.error:
        return ""
    amortized = "mean step per process (GC amortized), median over processes" if j.amortized else ""
    if j.impl == "tinygrad_nn_jit" and row.extra and row.extra[0].get("eager_step_s"):
        # each figure the median over the processes (one twin each), as a multiple of that process's eager step:
        # one call preempted on a busy machine moves one process's figures by tens of times an eager step
        def x(key):
            return median([e[key] / e["eager_step_s"] for e in row.extra])

        def t(key):
            return fmt_time(median([e[key] for e in row.extra]))

        calls = median([e.get("making_calls", 0) for e in row.extra])
        made = (f"; made over {calls:.0f} calls, each at most {x('making_max_s'):.3g}x (90% under "
                f"{x('making_p90_s'):.3g}x, median {x('making_median_s'):.3g}x)" if calls else "")
        if calls and "eager_cpu_s" in row.extra[0]:
            cpu = [(e["making_cpu_max_s"] / e["eager_cpu_s"], e["making_cpu_p90_s"] / e["eager_cpu_s"],
                    e["record_first_cpu_s"] / e["eager_cpu_s"], e["record_second_cpu_s"] / e["eager_cpu_s"])
                   for e in row.extra if e.get("eager_cpu_s")]
            made += (f"; in CPU time: records {median([c[2] for c in cpu]):.3g}x, checks "
                     f"{median([c[3] for c in cpu]):.3g}x, "
                     f"makes at most {median([c[0] for c in cpu]):.3g}x (90% under {median([c[1] for c in cpu]):.3g}x)")
        return (f"records in {t('record_first_s')} ({x('record_first_s'):.3g}x an eager step), checks the "
                f"second call in {t('record_second_s')} ({x('record_second_s'):.3g}x){made}"
                + (f"; {amortized}" if amortized else ""))
    if amortized:
        return amortized
    if j.wid == 4 and row.med is not None:
        return f"{fmt_time(row.med / row.extra[0]['ops'])}/op"
    if j.wid == 5 and row.med is not None:
        n = row.extra[0]["nodes"]
        return f"{row.med / n * 1e9:.0f} ns/node ({n} nodes)"
    if j.wid == 6 and row.extra:
        tot = median([e["numpy_s"] + e["lib_s"] for e in row.extra])
        return "numpy alone" if j.impl == "numpy" else f"total with numpy {fmt_time(tot)}"
    return ""


def build_table(rows: dict, order: list, tlist: list[Target]) -> str:
    by_cell = {}
    for t in tlist:
        if t.where:
            by_cell.setdefault(t.where, []).append(t)
    head = ["workload", "impl", "time/step (median)", "spread (IQR)", "samples", "tinygrad_nn ÷ impl",
            "peak RSS MB", "Δ RSS MB", "note", "target"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] * len(head)) + "|"]
    for key in order:
        r = rows[key]
        j = r.job
        if r.error and not r.times:
            cells = [j.row, j.label, "error", r.error[:60], "", "", "", "", "", ""]
        else:
            ref = rows.get((j.row, j.ref_label))
            rat = ""
            if ref is not None and ref is not r and ref.med and r.med and not (j.wid == 6 and j.impl == "numpy"):
                q = ref.med / r.med
                rat = f"{q:.3g}x" + (f" ({1 / q:.3g}x faster)" if q < 1 else "")
            samples = f"{r.rounds}×{round(r.nsteps / max(r.rounds, 1))}"
            peak = f"{median(r.peaks):.0f}" if r.peaks else "—"
            delta = f"{median(r.deltas):.1f}" if r.deltas else "—"
            tcell = "; ".join(t.cell() for t in by_cell.get(key, []))
            cells = [j.row, j.label, fmt_time(r.med), fmt_spread(r.times), samples, rat, peak, delta, note(r), tcell]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def targets_table(tlist: list[Target]) -> str:
    lines = ["| target | measured | bound | status |", "|---|---|---|---|"]
    for t in tlist:
        v = "—" if t.value is None else (f"{t.value:.3g}x" if t.unit == "x" else f"{t.value:.3g} {t.unit}")
        b = "(report only)" if t.op == "report" else f"{t.op} {t.limit:g}" + ("x" if t.unit == "x" else f" {t.unit}")
        lines.append(f"| {t.name}: {t.what} | {v} | {b} | {t.status} |")
    return "\n".join(lines)


def loss_check(rows: dict) -> list[str]:
    """The first step's loss, compared across the implementations of each workload."""
    out = []
    seen = {}
    for (row, label), r in rows.items():
        if r.loss0:
            seen.setdefault(row, []).append((label, r.loss0[0]))
    for row, vals in seen.items():
        ref = vals[0][1]
        worst = max(abs(v - ref) / max(abs(ref), 1e-300) for _, v in vals)
        out.append(f"{row}: first-step loss {ref:.10g} in all {len(vals)} runs (max relative difference "
                   f"{worst:.1e})")
    return out


# ----------------------------------------------------------------------------------------------
# The main loop.


def parse_args(argv=None):
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes, 1 round, 2 steps per process (smoke test)")
    ap.add_argument("--workloads", default="1,2,3,4,5,6,7", help="comma-separated workload numbers (default: all)")
    ap.add_argument("--impls", default=",".join(ALL_IMPLS),
                    help="comma-separated implementations to include, of " + ", ".join(ALL_IMPLS))
    ap.add_argument("--repeats", type=int, default=None, help="rounds (default 5; 1 with --quick)")
    ap.add_argument("--budget", type=float, default=None, help="timed seconds per process (default per workload)")
    ap.add_argument("--json", metavar="FILE", help="write the raw results and the summary as JSON")
    ap.add_argument("--times", action="store_true", help="keep every step time in the JSON (bigger file)")
    ap.add_argument("--profile", metavar="W", default=None,
                    help="instead of timing, cProfile tinygrad_nn's step of these workloads (e.g. 2,3,4)")
    ap.add_argument("--profile-steps", type=int, default=None)
    ap.add_argument("--openblas-env", choices=("asis", "unset", "both"), default="asis",
                    help="run numpy-based workers with OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE as set (default), "
                         "unset, or both ways (only matters when they are set)")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds before a worker is abandoned")
    args = ap.parse_args(argv)
    args.workloads = sorted({int(w) for w in args.workloads.split(",") if w.strip()})
    bad = [w for w in args.workloads if w not in range(1, 8)]
    if bad:
        ap.error(f"unknown workloads {bad}; they are numbered 1 to 7")
    args.impls = [i.strip() for i in args.impls.split(",") if i.strip()]
    bad = [i for i in args.impls if i not in ALL_IMPLS]
    if bad:
        ap.error(f"unknown implementations {bad}; choose from {', '.join(ALL_IMPLS)}")
    if args.repeats is None:
        args.repeats = 1 if args.quick else 5
    return args


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def profile_main(args) -> int:
    for g in plan(args, ["tinygrad_nn"]):
        for job in g:
            if job.wid not in (1, 2, 3, 4, 5, 7) or job.gc_off:
                continue
            steps = args.profile_steps or {1: 5, 2: 2000, 3: 100, 4: 2000, 5: 3, 7: 20}[job.wid]
            res = run_job(job, args.timeout, profile=steps)
            print(f"### {job.row} — {job.label}: cProfile of {steps} steps, top 15 by tottime\n")
            print(res.get("profile") or res.get("error"))
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.profile:
        args.workloads = sorted({int(w) for w in args.profile.split(",")})
        return profile_main(args)
    t_start = time.perf_counter()
    machine = describe(ROOT)
    avail, missing = available_impls(args.impls)
    groups = plan(args, avail)
    rows: dict = {}
    order: list = []
    for g in groups:
        for j in g:
            rows[j.key] = Row(j)
            order.append(j.key)
    raw = []
    for rnd in range(args.repeats):
        for g in groups:
            k = rnd % len(g)
            for job in g[k:] + g[:k]:  # rotate: every implementation takes every position in turn
                if job.rounds is not None and rnd >= job.rounds:
                    continue
                if job.impl in missing:
                    continue
                r = rows[job.key]
                if r.error:
                    continue
                res = run_job(job, args.timeout)
                if "skip" in res:
                    missing[job.impl] = res["skip"]
                    log(f"[round {rnd + 1}/{args.repeats}] {job.row} | {job.label}: skipping {job.impl}: {res['skip']}")
                    continue
                raw.append({"round": rnd, "row": job.row, "impl": job.label, **_slim(res, args.times)})
                if "error" in res:
                    r.error = res["error"]
                    log(f"[round {rnd + 1}/{args.repeats}] {job.row} | {job.label}: ERROR {res['error']}")
                    if res.get("stderr"):
                        log(res["stderr"][-1500:])
                    continue
                r.times += [sum(res["times"]) / len(res["times"])] if job.amortized else res["times"]
                r.nsteps += len(res["times"])
                r.rounds += 1
                r.peaks.append(res["rss_peak_mb"])
                if res.get("rss_base_mb") is not None:
                    r.deltas.append(res["rss_peak_mb"] - res["rss_base_mb"])
                if res.get("loss0") is not None:
                    r.loss0.append(res["loss0"])
                r.extra.append({**res.get("info", {}), **{k: res[k] for k in ("numpy_s", "lib_s", "first_steps_s",
                                                                              "first_steps_cpu_s") if k in res}})
                log(f"[round {rnd + 1}/{args.repeats}] {job.row} | {job.label}: median {fmt_time(median(res['times']))}"
                    f" over {len(res['times'])} steps, peak {res['rss_peak_mb']:.0f} MB, {res['wall_s']:.1f} s")
    machine["loadavg_end"] = loadavg()
    for key in [k for k in order if rows[k].job.impl in missing]:
        order.remove(key)
        del rows[key]
    tlist = targets(rows, groups)
    table = build_table(rows, order, tlist)
    ttable = targets_table(tlist)
    checks = loss_check(rows)
    elapsed = time.perf_counter() - t_start
    cmd = "python -m benchmarks " + " ".join(argv if argv is not None else sys.argv[1:])
    out = [f"# tinygrad_nn benchmark suite ({'quick' if args.quick else 'full'}: {args.repeats} round(s), "
           f"{elapsed:.0f} s)", "", f"command: `{cmd.strip()}`", "", format_machine(machine), "", table, "",
           ttable, ""]
    if missing:
        out.append("skipped: " + "; ".join(f"{k} {v}" for k, v in missing.items()))
    out += ["checks:"] + [f"- {c}" for c in checks]
    text = "\n".join(out)
    print(text, flush=True)
    if args.json:
        summary = []
        for key in order:
            r = rows[key]
            summary.append({"row": key[0], "impl": key[1], "median_s": r.med,
                            "q1_s": quantile(r.times, 0.25) if r.times else None,
                            "q3_s": quantile(r.times, 0.75) if r.times else None, "n": len(r.times),
                            "rounds": r.rounds, "steps": r.nsteps, "peak_rss_mb": median(r.peaks) if r.peaks else None,
                            "delta_rss_mb": median(r.deltas) if r.deltas else None, "note": note(r),
                            "error": r.error})
        doc = {"command": cmd.strip(), "machine": machine, "args": {k: v for k, v in vars(args).items()},
               "elapsed_s": elapsed, "summary": summary,
               "targets": [{"name": t.name, "what": t.what, "value": t.value, "op": t.op, "limit": t.limit,
                            "unit": t.unit, "status": t.status} for t in tlist],
               "checks": checks, "skipped": missing, "table": table, "targets_table": ttable, "processes": raw}
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        procs = doc.pop("processes")
        text_json = json.dumps(doc, indent=1)[:-2] + ',\n "processes": [\n  ' + ",\n  ".join(
            json.dumps(p, separators=(",", ":")) for p in procs) + "\n ]\n}\n"
        Path(args.json).write_text(text_json)
    return 0


def _slim(res: dict, keep_times: bool) -> dict:
    """A worker's result for the JSON file: step times summarised unless --times."""
    out = {k: v for k, v in res.items() if k not in ("times", "stderr")}
    ts = res.get("times")
    if ts:
        out.update(n=len(ts), median_s=median(ts), q1_s=quantile(ts, 0.25), q3_s=quantile(ts, 0.75), min_s=min(ts),
                   max_s=max(ts))
        if keep_times:
            out["times"] = ts
    return out


if __name__ == "__main__":
    sys.exit(main())
