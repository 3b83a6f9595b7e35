"""Random programs for the attack tests: compositions of the registry's elementwise functions.

A program is plain data, so that the same program runs on the tensor engine, on the scalar engine (one
Python-float graph per output element) and on PyTorch:

- leaves x0, x1, ... of mutually broadcastable shapes;
- steps, each applying one registered function (an OpInfo's `fn`, with one of its `params`) to earlier
  nodes. Each input goes in as it is when its values lie in the function's domain (and away from its kinks,
  by the margin of the property tests) and are moderate, else squashed into one interval of the domain by
  lo + (hi - lo) * sigmoid(x) or by the same with tanh. The squash is chosen when the program is drawn,
  from the values the inputs have then, and stays part of the program;
- the output: the sum of the nodes no step used (so every leaf reaches it).

Which functions are drawn is found from the registry, not from a list of names: the OpInfos without a
`sample`, with shapes="broadcast", that accept Python floats and that really are elementwise (the output
has the broadcast shape of the inputs, and permuting the elements of the inputs permutes the output). A
function registered later joins the draws by itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tests.ops.test_op_properties import allowed_intervals
from tinygrad_nn import Value, sigmoid, tanh
from tinygrad_nn.testing import OPINFOS

# An input passes unsquashed only if it keeps this far inside the allowed intervals (the finite-difference
# steps move intermediate values by far less) and its size stays below BIG (larger values make the central
# differences of later steps imprecise, and can overflow exp).
INSIDE = 0.01
BIG = 3.0


# -- which functions ----------------------------------------------------------------------------------


def _uniform(rng, info, shape):
    intervals = allowed_intervals(info.domain, info.away_from)
    lo, hi = intervals[rng.integers(len(intervals))]
    return rng.uniform(lo, hi, shape)


def is_elementwise(info) -> bool:
    """Whether the OpInfo's function maps elements to elements, with broadcasting, for each of its params."""
    if info.sample is not None or info.shapes != "broadcast" or info.min_ndim > 0 or not info.scalar:
        return False
    rng = np.random.default_rng(0)
    shapes = [(2, 1, 3)] + [(4, 1)] * (info.nargs - 1)
    out_shape = np.broadcast_shapes(*shapes)
    arrays = [_uniform(rng, info, s) for s in shapes]
    flat = [np.broadcast_to(a, out_shape).reshape(-1) for a in arrays]
    perm = rng.permutation(flat[0].size)
    try:
        for params in info.params(out_shape):
            # array parameters (a condition) must have the output's shape, so that they can follow an element
            if any(isinstance(v, np.ndarray) and v.shape not in ((), out_shape) for v in params.values()):
                return False
            out = info.fn(*[Value(a) for a in arrays], **params)
            if not isinstance(out, Value) or out.shape != out_shape:
                return False
            flat_params = {k: np.reshape(v, -1) if isinstance(v, np.ndarray) and v.shape else v
                           for k, v in params.items()}
            moved = info.fn(*[Value(f[perm]) for f in flat],
                            **{k: v[perm] if isinstance(v, np.ndarray) and v.shape else v
                               for k, v in flat_params.items()})
            if not np.array_equal(moved.data, out.data.reshape(-1)[perm]):
                return False
    except Exception:  # noqa: BLE001 - whatever refuses these inputs is not an elementwise function
        return False
    return True


ELEMENTWISE = sorted(name for name, info in OPINFOS.items() if is_elementwise(info))


# -- the program --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Squash:
    """lo + (hi - lo) * sigmoid(x), or (lo + hi) / 2 + (hi - lo) / 2 * tanh(x): any real x into [lo, hi]."""

    kind: str
    lo: float
    hi: float

    def __call__(self, x, fns):
        if self.kind == "sigmoid":
            return fns.sigmoid(x) * (self.hi - self.lo) + self.lo
        return fns.tanh(x) * ((self.hi - self.lo) / 2) + (self.lo + self.hi) / 2

    def __repr__(self):
        return f"{self.kind}->[{self.lo:g}, {self.hi:g}]"


@dataclass
class Step:
    name: str
    inputs: tuple  # node numbers: the leaves first, then the steps' outputs in order
    squash: tuple  # a Squash or None per input
    params: dict
    shape: tuple  # the output's shape


@dataclass
class Program:
    leaf_shapes: list
    steps: list = field(default_factory=list)
    outputs: tuple = ()

    @property
    def shape(self):
        return np.broadcast_shapes(*[self.node_shape(i) for i in self.outputs])

    def node_shape(self, i):
        k = len(self.leaf_shapes)
        return self.leaf_shapes[i] if i < k else self.steps[i - k].shape

    def names(self):
        return [s.name for s in self.steps]

    def __repr__(self):
        k = len(self.leaf_shapes)
        label = lambda i: f"x{i}" if i < k else f"n{i - k}"
        lines = [f"x{i}: shape {s}" for i, s in enumerate(self.leaf_shapes)]
        for j, s in enumerate(self.steps):
            args = ", ".join(f"{sq!r}({label(i)})" if sq else label(i) for i, sq in zip(s.inputs, s.squash))
            params = "".join(f", {a}={v!r}" if not isinstance(v, np.ndarray) else f", {a}=<{v.dtype} {v.shape}>"
                             for a, v in s.params.items())
            lines.append(f"n{j} = {s.name}({args}{params})  # shape {s.shape}")
        lines.append("out = " + " + ".join(label(i) for i in self.outputs))
        return "Program(\n  " + "\n  ".join(lines) + "\n)"


class Ours:
    """Runs a step on this engine: the OpInfo's own function."""

    sigmoid = staticmethod(sigmoid)
    tanh = staticmethod(tanh)

    @staticmethod
    def call(name, args, params):
        return OPINFOS[name].fn(*args, **params)


def run(program, leaves, fns=Ours, params_of=None):
    """The program's output for the given leaves (Values, tensors or floats) on the backend `fns`.

    `params_of(step_number, step)` may replace a step's params (the scalar run takes one element of an
    array parameter)."""
    nodes = list(leaves)
    for j, step in enumerate(program.steps):
        args = [nodes[i] if sq is None else sq(nodes[i], fns) for i, sq in zip(step.inputs, step.squash)]
        params = step.params if params_of is None else params_of(j, step)
        nodes.append(fns.call(step.name, args, params))
    out = nodes[program.outputs[0]]
    for i in program.outputs[1:]:
        out = out + nodes[i]
    return out


def _fits(values, info):
    """Whether every element keeps INSIDE within one of the allowed intervals and below BIG in size."""
    v = np.asarray(values)
    if not np.all(np.isfinite(v)) or np.any(np.abs(v) > BIG):
        return False
    ok = np.zeros(v.shape, bool)
    for lo, hi in allowed_intervals(info.domain, info.away_from):
        ok |= (v >= lo + INSIDE) & (v <= hi - INSIDE)
    return bool(ok.all())


LEAF_VALUES = st.floats(-2.0, 2.0, allow_nan=False, allow_subnormal=False)


@st.composite
def programs(draw, names, min_steps=2, max_steps=6, max_leaves=3, max_side=3):
    """(program, leaf arrays): a composition of 2-6 of the functions `names` over broadcastable leaves."""
    assert names, "no function to draw"
    k = draw(st.integers(1, max_leaves), label="leaves")
    shapes = list(draw(hnp.mutually_broadcastable_shapes(num_shapes=k, max_dims=3, max_side=max_side)).input_shapes)
    leaves = [draw(hnp.arrays(np.float64, s, elements=LEAF_VALUES)) for s in shapes]
    values = [Value(a) for a in leaves]  # the nodes' values now, to choose the squashes
    program = Program(leaf_shapes=shapes)
    used = set()
    for _ in range(draw(st.integers(min_steps, max_steps), label="steps")):
        name = draw(st.sampled_from(names))
        info = OPINFOS[name]
        latest = len(values) - 1
        # The first input is often the latest node, so that programs are deep as well as wide.
        refs = [draw(st.one_of(st.just(latest), st.integers(0, latest)))]
        refs += [draw(st.integers(0, latest)) for _ in range(info.nargs - 1)]
        squashes, args = [], []
        for i in refs:
            sq = None
            if not _fits(values[i].data, info) or draw(st.integers(0, 3)) == 0:  # sometimes squash anyway
                lo, hi = draw(st.sampled_from(allowed_intervals(info.domain, info.away_from)))
                sq = Squash(draw(st.sampled_from(["sigmoid", "tanh"])), lo, hi)
            squashes.append(sq)
            args.append(values[i] if sq is None else sq(values[i], Ours))
        shape = np.broadcast_shapes(*[program.node_shape(i) for i in refs])
        params = draw(st.sampled_from(info.params(shape)))
        out = info.fn(*args, **params)
        assume(np.all(np.isfinite(out.data)))
        program.steps.append(Step(name, tuple(refs), tuple(squashes), params, shape))
        values.append(out)
        used.update(refs)
    program.outputs = tuple(i for i in range(len(values)) if i not in used)
    return program, leaves


# -- the scalar engine's run: one graph of Python floats per output element --------------------------------


def _index(shape, out_shape, position):
    """The index of the element of an array of `shape` that broadcasting puts at `position` of out_shape."""
    tail = position[len(out_shape) - len(shape):]
    return tuple(0 if n == 1 else p for n, p in zip(shape, tail))


def run_scalars(program, leaves, upstream):
    """Run the program once per output element on Python-float Values, back-propagate `upstream[position]`
    from each, and return (outputs as an array, the leaves' accumulated gradients as arrays)."""
    out_shape = program.shape
    scalar_leaves = [np.empty(a.shape, object) for a in leaves]
    for a, s in zip(leaves, scalar_leaves):
        for idx in np.ndindex(a.shape):
            s[idx] = Value(float(a[idx]))
    outputs = np.empty(out_shape)
    for position in np.ndindex(out_shape):
        def params_of(j, step, position=position):
            return {k: v[_index(step.shape, out_shape, position)] if isinstance(v, np.ndarray) and v.shape else v
                    for k, v in step.params.items()}

        args = [s[_index(a.shape, out_shape, position)] for a, s in zip(leaves, scalar_leaves)]
        out = run(program, args, params_of=params_of)
        assert out.data.__class__ is float, f"Python floats in gave a {type(out.data).__name__} payload"
        outputs[position] = out.data
        out.backward(float(upstream[position]))
    grads = []
    for s in scalar_leaves:
        g = np.empty(s.shape)
        for idx in np.ndindex(s.shape):
            assert s[idx].grad.__class__ is float, f"a float leaf got a {type(s[idx].grad).__name__} gradient"
            g[idx] = s[idx].grad
        grads.append(g)
    return outputs, grads
