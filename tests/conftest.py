"""Hypothesis profiles: `ci` (derandomised, reproducible) when the CI environment variable is set, else `dev`.
Pick one by hand with `pytest --hypothesis-profile=ci`.
"""

import gc
import os

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
