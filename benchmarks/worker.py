"""One (workload, implementation) measurement, in a process of its own.

    python -m benchmarks.worker '{"workload": "w2_book_net", "impl": "torch", "cfg": {...}, ...}'

imports the implementation's framework, records the peak RSS after the imports (the baseline), builds
the case, warms up, times the steps, and prints one line ``BENCH_JSON:{...}`` on stdout: step times,
first loss, peak RSS, baseline RSS. With ``"profile": N`` it instead runs N steps under cProfile after
the warm-up and returns the pstats text (top functions by tottime).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time

FRAMEWORK_IMPORTS = {
    "tinygrad_nn": ("numpy", "tinygrad_nn", "tinygrad_nn.nn", "tinygrad_nn.optim"),
    "tinygrad_nn_jit": ("numpy", "tinygrad_nn", "tinygrad_nn.nn", "tinygrad_nn.optim"),
    "numpy": ("numpy",),
    "micrograd": ("micrograd.engine", "micrograd.nn"),
    "torch": ("numpy", "torch"),
    "jax": ("numpy", "jax", "jax.numpy"),
}


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def run(spec: dict) -> dict:
    from benchmarks.common import maxrss_mb, measure, warm_up

    impl = spec["impl"]
    rss_start = maxrss_mb()
    t0 = time.perf_counter()
    try:
        for name in FRAMEWORK_IMPORTS[impl]:
            importlib.import_module(name)
    except ImportError as e:  # a peer that is installed but does not load: the runner skips it
        return {"skip": f"import {name} failed: {e.__class__.__name__}: {e}"}
    if impl == "torch":
        import torch

        torch.set_num_threads(cores())
    import_s = time.perf_counter() - t0
    rss_base = maxrss_mb()

    mod = importlib.import_module(f"benchmarks.workloads.{spec['workload']}")
    t0 = time.perf_counter()
    case = mod.build(impl, spec["cfg"])
    build_s = time.perf_counter() - t0
    out = {"impl": impl, "workload": spec["workload"], "import_s": import_s, "build_s": build_s,
           "rss_start_mb": rss_start, "rss_base_mb": rss_base, "info": case.info, "pid": os.getpid()}
    if impl == "torch":
        import torch

        out["torch_threads"] = torch.get_num_threads()

    if spec.get("profile"):
        import cProfile
        import io
        import pstats

        warm_up(case, spec.get("warmup", 1))
        n = int(spec["profile"])
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(n):
            case.step()
        prof.disable()
        buf = io.StringIO()
        stats = pstats.Stats(prof, stream=buf)
        stats.sort_stats("tottime").print_stats(spec.get("top", 15))
        out["profile_steps"] = n
        out["profile"] = buf.getvalue()
        return out

    out.update(measure(case, warmup=spec["warmup"], min_steps=spec["min_steps"], max_steps=spec["max_steps"],
                       budget=spec["budget"], gc_off=spec.get("gc_off", False)))
    out["rss_peak_mb"] = maxrss_mb()
    from benchmarks.workloads import late_info

    out["info"] = {**case.info, **late_info()}  # measured now so as not to count in the peak RSS (jit_case)
    return out


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    spec = json.loads(argv[0])
    out = run(spec)
    sys.stdout.write("BENCH_JSON:" + json.dumps(out) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
