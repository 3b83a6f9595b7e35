"""Hypothesis profiles: `ci` (derandomised, reproducible) when the CI environment variable is set, else `dev`.
Pick one by hand with `pytest --hypothesis-profile=ci`.
"""

import gc
import os
from pathlib import Path

import pytest
from hypothesis import settings

# Derandomised: every CI run draws the same examples, so a failure reproduces and a pass means the same
# thing twice; print_blob shows how to replay a failing example with @reproduce_failure.
settings.register_profile("ci", derandomize=True, max_examples=50, deadline=None, print_blob=True, database=None)
# Quicker local runs; random examples, remembered in .hypothesis/ so that a failure comes back first.
settings.register_profile("dev", max_examples=10, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture
def no_gc():
    """Python's cyclic garbage collector paused for one test: what is freed then, reference counting freed."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


ROOT = Path(__file__).resolve().parents[1]


def tree_env(**extra):
    """The environment for a child Python: this checkout's package first on the path, so that a script or
    `python -m tinygrad_nn` in a subprocess runs the code under test, never an older installed copy."""
    path = os.environ.get("PYTHONPATH", "")
    return dict(os.environ, PYTHONPATH=str(ROOT) + (os.pathsep + path if path else ""), **extra)


def run_python_blocks(page):
    """Run the ```python blocks of a docs page top to bottom in one namespace, as a reader would; returns how
    many ran. Call it from a test that has changed to a scratch folder (the blocks may write files)."""
    import re

    blocks = re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)
    namespace = {}
    for block in blocks:
        exec(compile(block, str(page), "exec"), namespace)  # noqa: S102 - our own documentation
    return len(blocks)
