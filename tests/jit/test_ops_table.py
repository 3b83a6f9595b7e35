"""Every registered op replays bit for bit inside a jitted function (forward, and the gradients its rules give),
on new data after the recording; or tinygrad_nn.jit declares it unsupported, with a reason."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tests.jit.helpers import same_bits
from tests.ops.test_op_properties import INTERNAL_CASES, ops_in_graph
from tinygrad_nn import Value, jit
from tinygrad_nn.jit.api import JitError, JitWarning
from tinygrad_nn.ops import OPS
from tinygrad_nn.testing import OPINFOS, canonical_cases

# Ops a recording cannot replay, and why (none today: every op's forward and rules are pure functions of their
# inputs and keyword parameters, so a replay that calls them again gives the same bits).
UNSUPPORTED: dict[str, str] = {}


def _run(fn, arrays, params, upstream):
    xs = [Value(a) for a in arrays]
    out = fn(*xs, **params)
    out.backward(upstream)
    return out, [x.grad for x in xs]


def _check(fn, arrays, params, label):
    rng = np.random.default_rng(3)
    out0 = fn(*[Value(a) for a in arrays], **params)
    upstream = rng.uniform(0.5, 1.5, out0.shape) if out0.data.__class__ is np.ndarray else 1.25

    def step(*xs):
        out = fn(*xs, **params)
        out.backward(upstream)
        return out

    jitted = jit.jit(step, strict=True)
    for k in range(4):
        # new numbers every call (a hair apart: every op's domain keeps a margin around these values)
        data = [np.asarray(a * (1.0 + 1e-9 * k)) if a.dtype.kind == "f" else a for a in arrays]
        xs_j = [Value(a) for a in data]
        out_j = jitted(*xs_j)
        out_e, grads_e = _run(fn, data, params, upstream)
        assert same_bits(out_j, out_e), f"{label}: call {k}: the output differs"
        for i, (x, g) in enumerate(zip(xs_j, grads_e)):
            assert same_bits(x.grad, g), f"{label}: call {k}: the gradient of input {i} differs"
    assert jitted._last is not None, f"{label}: never replayed"


CASES = [(name, i) for name in sorted(OPINFOS) for i in range(len(canonical_cases(OPINFOS[name])))]


@pytest.mark.parametrize("name,i", CASES, ids=[f"{n}-{i}" for n, i in CASES])
def test_every_opinfo_case_replays_bit_for_bit(name, i):
    info = OPINFOS[name]
    arrays, params = canonical_cases(info)[i]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # eager and jit alike (log of 0 and the like)
        warnings.simplefilter("error", JitWarning)
        try:
            _check(info.fn, arrays, params, f"{name} case {i}")
        except JitError as e:
            # A function that differentiates inside itself (a gradient in its value) is refused, clearly.
            assert "create_graph=True" in str(e) and "higher order" in str(e), str(e)


@pytest.mark.parametrize("name", sorted(INTERNAL_CASES))
def test_internal_ops_replay_bit_for_bit(name):
    fn, arrays = INTERNAL_CASES[name]
    _check(fn, arrays, {}, name)


def test_every_registered_op_is_covered_or_declared_unsupported():
    used = set(INTERNAL_CASES)
    for info in OPINFOS.values():
        for arrays, params in canonical_cases(info):
            used |= ops_in_graph(info.fn(*[Value(a) for a in arrays], **params))
    builtin = {name for name, op in OPS.items() if getattr(op.forward, "__module__", "").startswith("tinygrad_nn.")}
    missing = builtin - used - UNSUPPORTED.keys()
    assert not missing, f"ops neither replayed by a test here nor declared unsupported: {sorted(missing)}"
    assert all(reason for reason in UNSUPPORTED.values())


@pytest.mark.parametrize("fn", [
    lambda x: x.log_softmax(axis=1),
    lambda x: x.log_softmax(axis=0) * 2.0,
    lambda x: x.sum(axis=1) * 3.0,
    lambda x: x.sum(axis=0, keepdims=True) * x,
    lambda x: x.relu() * x,
    lambda x: x.sigmoid() + x.tanh(),
], ids=["log_softmax-1", "log_softmax-0", "sum-axis", "sum-keepdims", "relu", "sigmoid-tanh"])
def test_emitted_lines_agree_with_eager_on_values_the_recording_never_saw(fn):
    # emit.py checks each line it writes on the recording's own (finite) values; infinities and NaNs arrive only
    # later, in a replay, where the lines must still compute what the op's own function computes
    upstream = np.linspace(0.5, 1.5, 12).reshape(3, 4)

    def step(x):
        out = fn(x)
        out.backward(upstream if out.data.shape == (3, 4) else np.ones(out.data.shape))
        return out

    jitted = jit.jit(step, strict=True)
    base = np.arange(12.0).reshape(3, 4) / 7.0 - 0.5
    special = base.copy()
    special[0] = -np.inf
    special[1, 2] = np.nan
    special[2, 1] = np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for k, data in enumerate([base, base * 1.5, special, base, -special]):
            x_j, x_e = Value(data.copy()), Value(data.copy())
            assert same_bits(jitted(x_j), step(x_e)), f"call {k}: the output differs"
            assert same_bits(x_j.grad, x_e.grad), f"call {k}: the gradient differs"
    assert jitted._last is not None
