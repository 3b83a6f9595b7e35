"""Most tests here were written for programs made at once, in the second recording's call, so that the third call
replays; test_making.py holds the default (a slice per call) to eager bit for bit."""

import pytest

from tinygrad_nn.jit import build


@pytest.fixture(autouse=True)
def _programs_made_at_once(monkeypatch):
    monkeypatch.setattr(build, "SLICED", False)
