"""examples/fit_sin_einsum.py: sin and einsum fit the data, and the cost's Hessian matches finite differences."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

from tests.conftest import tree_env

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fit_sin_einsum.py"


def load():
    spec = importlib.util.spec_from_file_location("fit_sin_einsum", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_fit_and_the_hessian_check(capsys):
    example = load()
    assert example.main(["--steps", "400"]) == 0
    out = capsys.readouterr().out
    first, last = map(float, re.search(r"C ([\d.]+) -> ([\d.]+)", out).groups())
    assert last < first / 100
    err = float(re.search(r"central differences of the gradient: max \|H - H_fd\| / max \|H\| = (\S+)", out).group(1))
    assert err < 1e-6


def test_the_model_is_an_einsum_of_sines():
    example = load()
    x = np.array([0.5, -1.0])
    p = np.array([0.8, -0.5, 0.3, 1.3, 2.9, 0.5, 0.2, -1.0, 0.7])
    want = sum(p[k] * np.sin(p[3 + k] * x + p[6 + k]) for k in range(3))
    np.testing.assert_allclose(example.predict(p, x), want, rtol=1e-14)


def test_runs_as_a_script():
    proc = subprocess.run([sys.executable, str(EXAMPLE), "--steps", "200"], capture_output=True, text=True,
                          timeout=120, env=tree_env())
    assert proc.returncode == 0, proc.stderr
    assert "Hessian of C" in proc.stdout and proc.stderr == ""
