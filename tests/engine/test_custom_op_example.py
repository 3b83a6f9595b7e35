"""examples/custom_op.py: it runs, its checks pass, and loading it twice does not register softplus twice.

The example registers an op and an OpInfo in the library's global tables, so it runs in a subprocess here:
the test session's op table stays as it was.
"""

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import tree_env

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "custom_op.py"


def _python(code):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=120, cwd=EXAMPLE.parent.parent, env=tree_env())


def test_example_runs_and_prints_its_checks():
    proc = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=120, env=tree_env())
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "softplus(0) = 0.693147" in out
    assert "gradient there = 0.5" in out
    for what in ("gradcheck, 0-d input: ok", "gradcheck, 3x4 input: ok", "gradcheck, inside an expression: ok",
                 "gradgradcheck, 3x4 input: ok"):
        assert what in out, out
    assert "FAILED" not in out
    assert proc.stderr == ""  # no warnings either (e.g. overflow in exp for large inputs)


def test_example_can_be_loaded_twice_and_registers_once():
    proc = _python(f"""
        import runpy
        import numpy as np
        from tinygrad_nn import Value, gradcheck, gradgradcheck
        from tinygrad_nn.ops import OPS
        from tinygrad_nn.testing import OPINFOS

        n_ops, n_infos = len(OPS), len(OPINFOS)
        first = runpy.run_path({str(EXAMPLE)!r})
        second = runpy.run_path({str(EXAMPLE)!r})
        softplus = first["softplus"]
        assert second["softplus"] is softplus is OPS["softplus"]
        assert len(OPS) == n_ops + 1 and len(OPINFOS) == n_infos + 1
        info = OPINFOS["softplus"]
        assert info.fn is softplus

        # the op itself: values, a scalar payload stays a float, gradients are sigmoid
        x = Value(0.0)
        y = softplus(x)
        assert type(y.data) is float and abs(y.data - np.log(2.0)) < 1e-15
        y.backward()
        assert x.grad == 0.5
        xs = np.array([-30.0, -1.0, 0.0, 1.5, 40.0])
        t = Value(xs)
        out = softplus(t)
        np.testing.assert_allclose(out.data, np.log1p(np.exp(xs)), rtol=1e-14)
        np.testing.assert_allclose(info.ref(xs), out.data, rtol=1e-15)
        out.sum().backward()
        np.testing.assert_allclose(t.grad, 1 / (1 + np.exp(-xs)), rtol=1e-14)
        assert softplus(x)._op == "softplus"

        # second derivative: sigmoid'(x) = s (1 - s)
        v = Value(0.3)
        softplus(v).backward(create_graph=True)
        g = v.grad
        v.grad = 0.0
        g.backward()
        s = 1 / (1 + np.exp(-0.3))
        assert abs(v.grad - s * (1 - s)) < 1e-15
        assert gradcheck(lambda a: softplus(a).sum(), np.linspace(-3, 3, 100))
        assert gradgradcheck(lambda a: softplus(a).sum(), np.linspace(-3, 3, 7))
        print("ok")
        """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_loading_the_example_as_a_module_prints_nothing():
    proc = _python(f"""
        import runpy
        runpy.run_path({str(EXAMPLE)!r}, run_name="custom_op")
        """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
