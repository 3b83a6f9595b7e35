"""The benchmark suite: tinygrad_nn against micrograd, PyTorch, JAX and a hand-written numpy floor.

Run it with ``python -m benchmarks`` (or ``python benchmarks/run.py``); see docs/benchmarks.md.

This package is imported by every worker process, so it imports nothing heavy itself.
"""
