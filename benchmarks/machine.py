"""The machine a run happened on: CPU, cores, memory, versions, BLAS, and the environment that matters."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                 "MKL_NUM_THREADS")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_total_gib():
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _version(dist):
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _blas() -> str:
    # threadpoolctl names the OpenBLAS kernel actually in use (it depends on OPENBLAS_CORETYPE).
    code = ("import numpy, json\n"
            "try:\n"
            "    import threadpoolctl\n"
            "    info = [{k: d.get(k) for k in ('internal_api', 'version', 'architecture', 'num_threads')}\n"
            "            for d in threadpoolctl.threadpool_info() if d.get('user_api') == 'blas']\n"
            "except ImportError:\n"
            "    cfg = numpy.show_config(mode='dicts')\n"
            "    info = [cfg.get('Build Dependencies', {}).get('blas', {})]\n"
            "print(json.dumps(info))\n")
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
        import json

        info = json.loads(out.strip().splitlines()[-1])
        parts = []
        for d in info:
            parts.append(" ".join(str(d[k]) for k in ("internal_api", "name", "version", "architecture") if d.get(k))
                         + (f", {d['num_threads']} threads" if d.get("num_threads") else ""))
        return "; ".join(parts) or "unknown"
    except Exception as e:  # the description must never stop a run
        return f"unknown ({e.__class__.__name__})"


def _git(root):
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "tinygrad_nn"], cwd=root, capture_output=True,
                               text=True, timeout=10).stdout.strip()
        return head + (" (tinygrad_nn/ modified)" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def describe(root) -> dict:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": _cpu_model(),
        "cores": cores,
        "logical_cpus": os.cpu_count(),
        "mem_gib": _mem_total_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "numpy": _version("numpy"),
        "blas": _blas(),
        "torch": _version("torch"),
        "jax": _version("jax"),
        "jaxlib": _version("jaxlib"),
        "micrograd": _version("micrograd"),
        "tinygrad_nn": _version("tinygrad_nn"),
        "git": _git(root),
        "env": {k: os.environ[k] for k in OPENBLAS_VARS if k in os.environ},
        "loadavg_start": _loadavg(),
    }


def _loadavg():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def loadavg():
    return _loadavg()


def format_machine(m: dict) -> str:
    env = ", ".join(f"{k}={v}" for k, v in m["env"].items()) or "none set"
    peers = ", ".join(f"{k} {m[k]}" for k in ("torch", "jax", "jaxlib", "micrograd") if m.get(k)) or "none"
    lines = [
        f"- CPU: {m['cpu']}, {m['cores']} cores available ({m['logical_cpus']} logical CPUs), "
        f"{m['mem_gib']} GiB RAM, {m['os']}",
        f"- Python {m['python']}, numpy {m['numpy']} (BLAS: {m['blas']})",
        f"- peers: {peers}",
        f"- tinygrad_nn {m['tinygrad_nn']} at git {m['git']}",
        f"- BLAS/threads environment: {env}",
        f"- load average (1, 5, 15 min) at start {m['loadavg_start']}, at end {m.get('loadavg_end')}",
        f"- date: {m['date']}",
    ]
    return "\n".join(lines)
