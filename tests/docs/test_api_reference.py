"""The API reference covers the package: every module of it has a page, every public name a docstring with an
example (``>>>``), and the examples run. (The built site's entries are checked in test_site.py.)

Functions and classes have their examples run by ``--doctest-modules`` with the rest of the package's doctests;
doctest cannot find the docstrings of ops (instances of `Op`) or of module constants, so their examples run
here.
"""

from __future__ import annotations

import doctest
import inspect
import sys

import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "docs" / "_ext"))
import api_names  # noqa: E402  (docs/_ext is not a package)

# Public names that have no example yet. The list may only shrink: a name here that has gained an example fails
# the test until it is taken off. The ops' docstrings belong in their definitions (defop), which issue 16 is
# reshaping; `tinygrad_nn.testing` is becoming a package there too.
WITHOUT_EXAMPLE_YET = {
    "tinygrad_nn": {
        "abs", "add", "add_n", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "argmin",
        "argsort", "broadcast_to", "ceil", "cholesky", "cos", "cosh", "det", "div", "exp", "exp2", "expand_dims",
        "expm1", "floor", "fmax", "fmin", "hsplit", "hypot", "identity", "inv", "linear", "log",
        "log10", "log1p", "log2", "logaddexp", "logaddexp2", "logsumexp", "matmul", "max", "maximum", "min",
        "minimum", "mod", "mul", "neg", "rad2deg", "ravel", "reciprocal", "relu", "remainder", "reshape",
        "scatter_add", "sigmoid", "sign", "sin", "sinc", "sinh", "softmax", "solve", "sqrt", "squeeze", "step",
        "sub", "sum", "sum_to", "swapaxes", "tan", "tanh", "transpose", "triu", "vsplit",
    },
    # The ONNX exporter's names.
    "tinygrad_nn.onnx": {"SUPPORTED"},
    "tinygrad_nn.special": {"expit"},
    "tinygrad_nn.testing": {
        "allowed_intervals", "uniform_values", "output_shape", "random_case", "scalar_case", "canonical_cases",
        "call", "check_forward", "check_grad", "check_scalar", "check_gradgrad", "check_float32", "check_errors",
    },
}

NAMES = [(m, n) for m in api_names.MODULES for n in api_names.public_names(m)
         if n not in WITHOUT_EXAMPLE_YET.get(m, ())]

def docstring(module_name: str, name: str) -> str:
    obj = api_names.documented(module_name, name)
    if api_names.kind(obj) == "autodata":
        return api_names.data_doc(module_name, name)
    return inspect.getdoc(obj) or ""


def found_by_doctest_modules(obj) -> bool:
    """Whether pytest's --doctest-modules runs this object's examples (it looks at functions and classes)."""
    return inspect.isclass(obj) or inspect.isroutine(inspect.unwrap(obj))


def test_every_module_has_a_reference_page():
    pages = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "docs" / "api").glob("*.md"))
    assert [m for m in api_names.MODULES if f"api-module:: {m}\n" not in pages] == []


def test_the_modules_have_public_names():
    assert {"Value", "grad", "exp", "conv2d", "OPS"} <= set(api_names.public_names("tinygrad_nn"))
    assert {"MLP", "Module", "squared_error"} <= set(api_names.public_names("tinygrad_nn.nn"))
    assert {"SGD", "Adam"} <= set(api_names.public_names("tinygrad_nn.optim"))
    assert "check_op" in api_names.public_names("tinygrad_nn.testing")
    assert "annotations" not in api_names.public_names("tinygrad_nn.optim")  # imported, not defined there


def test_the_names_without_an_example_are_still_public_and_still_without_one():
    """The waiver list only shrinks: a listed name that gained an example, or left the API, must come off it."""
    stale = [f"{m}.{n}" for m, names in WITHOUT_EXAMPLE_YET.items() for n in sorted(names)
             if n not in api_names.public_names(m) or ">>>" in docstring(m, n)]
    assert not stale, f"take these off WITHOUT_EXAMPLE_YET: {stale}"


@pytest.mark.parametrize(("module_name", "name"), NAMES, ids=[f"{m}.{n}" for m, n in NAMES])
def test_public_name_has_an_example_that_runs(module_name, name):
    text = docstring(module_name, name)
    assert text.strip(), f"{module_name}.{name} has no docstring"
    assert ">>>" in text, f"{module_name}.{name}: its docstring has no example (>>>)"
    obj = api_names.documented(module_name, name)
    if found_by_doctest_modules(obj):
        return  # --doctest-modules runs it, in the module that defines it
    test = doctest.DocTestParser().get_doctest(text, {}, f"{module_name}.{name}", None, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    result = runner.run(test, out=lambda s: pytest.fail(f"{module_name}.{name}: its example fails:\n{s}"))
    assert result.attempted > 0 and result.failed == 0
