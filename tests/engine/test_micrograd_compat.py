"""micrograd compatibility: its README example and engine tests, compared with PyTorch float64, and its
nn-style code (Neuron / Layer / MLP) running on our Value.

For + - * / ** (exponents 2, 3, -1, -2) and relu our scalar graphs match PyTorch float64 bit for bit, so the
comparisons below use ==. Exceptions, with a tolerance and a reason where they are used:
- tanh and exp: PyTorch evaluates them with SLEEF vector kernels and fused multiply-adds, we with the C
  library's tanh/exp and separate roundings, so they may differ by an ULP or so (np.testing.assert_array_max_ulp).
- x ** 0.5: PyTorch's float64 sqrt on CPU is not correctly rounded (up to ~0.52 ULP off, ~1% of inputs), while
  math.sqrt is; where the exact root is representable both agree exactly, elsewhere within 1 ULP.
"""

import math
import random
from fractions import Fraction

import numpy as np
import pytest

from tinygrad_nn import Value


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _tensor(torch, x):
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


# -- micrograd's README example ---------------------------------------------------------------------


def readme_example(V):
    a = V(-4.0)
    b = V(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    return a, b, g


def test_readme_example_prints_what_the_readme_says():
    a, b, g = readme_example(Value)
    assert f"{g.data:.4f}" == "24.7041"
    assert f"{a.grad:.4f}" == "138.8338"
    assert f"{b.grad:.4f}" == "645.5773"
    assert type(g.data) is float and type(a.grad) is float


def test_readme_example_matches_torch_exactly(torch):
    a, b, g = readme_example(Value)
    at, bt, gt = readme_example(lambda x: _tensor(torch, x))
    assert g.data == gt.item()
    assert a.grad == at.grad.item()
    assert b.grad == bt.grad.item()


# -- micrograd's engine tests -----------------------------------------------------------------------


def sanity_check(V):
    x = V(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    return x, y


def test_sanity_check(torch):
    x, y = sanity_check(Value)
    xt, yt = sanity_check(lambda v: _tensor(torch, v))
    assert y.data == yt.item() == -20.0
    assert x.grad == xt.grad.item() == 46.0


# micrograd's test_more_ops builds the very expression of its README example.
more_ops = readme_example


def test_more_ops(torch):
    a, b, g = more_ops(Value)
    at, bt, gt = more_ops(lambda v: _tensor(torch, v))
    assert g.data == gt.item()
    assert a.grad == at.grad.item()
    assert b.grad == bt.grad.item()


def test_engine_tests_without_torch():
    # the closed-form answers, so that the expressions are checked even where torch is not installed
    x, y = sanity_check(Value)
    assert (y.data, x.grad) == (-20.0, 46.0)
    a, b, g = more_ops(Value)
    assert math.isclose(g.data, 24.70408163265306, rel_tol=1e-15)
    assert math.isclose(a.grad, 138.83381924198252, rel_tol=1e-15)
    assert math.isclose(b.grad, 645.5772594752186, rel_tol=1e-15)


# -- the API micrograd code relies on ---------------------------------------------------------------


def test_numbers_on_either_side():
    x = Value(3.0)
    for expr, val, grad in [
        (lambda x: x + 2, 5.0, 1.0), (lambda x: 2 + x, 5.0, 1.0),
        (lambda x: x - 2, 1.0, 1.0), (lambda x: 2 - x, -1.0, -1.0),
        (lambda x: x * 2, 6.0, 2.0), (lambda x: 2 * x, 6.0, 2.0),
        (lambda x: x / 2, 1.5, 0.5), (lambda x: 6 / x, 2.0, -6 / 9),
        (lambda x: x ** 2, 9.0, 6.0), (lambda x: 2 ** x, 8.0, 8.0 * math.log(2.0)),
        (lambda x: -x, -3.0, -1.0),
    ]:
        x.grad = 0.0
        y = expr(x)
        assert isinstance(y, Value) and y.data == val
        y.backward()
        assert x.grad == grad


def test_relu_tanh_exp_methods():
    x = Value(-1.0)
    assert x.relu().data == 0.0 and Value(2.0).relu().data == 2.0
    assert Value(0.5).tanh().data == math.tanh(0.5)
    assert Value(0.5).exp().data == math.exp(0.5)


def test_karpathy_neuron_with_tanh(torch):
    # the neuron from micrograd's lecture: tanh is not bit-identical to PyTorch (see the module docstring)
    def neuron(V):
        x1, x2, w1, w2 = V(2.0), V(0.0), V(-3.0), V(1.0)
        b = V(6.8813735870195432)
        o = (x1 * w1 + x2 * w2 + b).tanh()
        o.backward()
        return [x1, x2, w1, w2, b], o

    ours, o = neuron(Value)
    theirs, ot = neuron(lambda v: _tensor(torch, v))
    np.testing.assert_array_max_ulp(o.data, ot.item(), maxulp=4)
    np.testing.assert_array_max_ulp(np.array([v.grad for v in ours]),
                                    np.array([t.grad.item() for t in theirs]), maxulp=4)
    assert math.isclose(ours[2].grad, 1.0, rel_tol=1e-12)  # dL/dw1 = x1 * (1 - o^2) = 2 * 0.5


@pytest.mark.parametrize("fn", ["tanh", "exp"])
def test_tanh_and_exp_match_torch_within_a_few_ulps(torch, fn):
    # Not bit-identical: PyTorch uses SLEEF vector kernels with fused multiply-adds; a few ULPs apart.
    xs = np.linspace(-1.0, 1.0, 201)
    ours, theirs_v, theirs_g = [], [], []
    grads = []
    for x in xs:
        v = Value(float(x))
        y = getattr(v, fn)()
        y.backward()
        t = _tensor(torch, float(x))
        u = getattr(t, fn)()
        u.backward()
        ours.append(y.data)
        grads.append(v.grad)
        theirs_v.append(u.item())
        theirs_g.append(t.grad.item())
    np.testing.assert_array_max_ulp(np.array(ours), np.array(theirs_v), maxulp=4)
    np.testing.assert_array_max_ulp(np.array(grads), np.array(theirs_g), maxulp=4)
    # tensors too, through numpy
    V = Value(xs)
    Y = getattr(V, fn)()
    Y.sum().backward()
    T = torch.tensor(xs, requires_grad=True)
    U = getattr(T, fn)()
    U.sum().backward()
    np.testing.assert_array_max_ulp(Y.data, U.detach().numpy(), maxulp=4)
    np.testing.assert_array_max_ulp(V.grad, T.grad.numpy(), maxulp=4)


def test_tanh_gradient_far_from_zero_matches_torch_to_a_few_ulps_of_one(torch):
    # 1 - tanh(x)^2 cancels when |x| is large: a 1-ULP difference in tanh(x) (or PyTorch's fused multiply-add)
    # becomes many ULPs of the small result. The error is a few ULPs of 1, the scale of the terms subtracted.
    xs = np.linspace(-6.0, 6.0, 241)
    V = Value(xs)
    V.tanh().sum().backward()
    T = torch.tensor(xs, requires_grad=True)
    T.tanh().sum().backward()
    np.testing.assert_allclose(V.grad, T.grad.numpy(), rtol=0, atol=4 * np.finfo(np.float64).eps)


# -- random expressions of + - * / ** relu, against torch -------------------------------------------


def _binary(kind, c, k):
    return {
        "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
        "div": lambda a, b: a / b,
        "radd": lambda a, b: c + a, "rsub": lambda a, b: c - a, "rmul": lambda a, b: c * a,
        "rdiv": lambda a, b: c / a,
        "addc": lambda a, b: a + c, "subc": lambda a, b: a - c, "mulc": lambda a, b: a * c,
        "divc": lambda a, b: a / c,
        "pow": lambda a, b: a ** k, "relu": lambda a, b: a.relu(), "neg": lambda a, b: -a,
    }[kind]


def _exact_square(v):
    """True when sqrt(v) is a float exactly, so that any sqrt within half an ULP or so returns it."""
    s = math.sqrt(v)
    return Fraction(s) ** 2 == Fraction(v)


def _random_expression(torch, seed, n_ops, any_sqrt):
    """Grow a random DAG over a few leaves, on our Value and on torch float64 at once; return both sides."""
    rng = random.Random(seed)
    # dyadic leaves, many of them squares of dyadics, so that ** 0.5 has exact roots to work on
    leaves = [rng.choice([1, -1]) * (rng.randint(1, 24) / 8) ** rng.choice([1, 2]) for _ in range(4)]
    leaves[0] = (rng.randint(1, 24) / 8) ** 2  # a positive exact square: ** 0.5 always has a candidate
    ours = [Value(v) for v in leaves]
    theirs = [_tensor(torch, v) for v in leaves]
    nodes_o, nodes_t = list(ours), list(theirs)
    kinds = ["add", "sub", "mul", "div", "radd", "rsub", "rmul", "rdiv", "addc", "subc", "mulc", "divc",
             "pow", "pow", "relu", "neg"]
    used = set()
    while len(nodes_o) < len(leaves) + n_ops:
        kind = rng.choice(kinds)
        i, j = rng.randrange(len(nodes_o)), rng.randrange(len(nodes_o))
        c = rng.choice([2.0, -1.5, 0.5, 3, 1.0, -4.0, 0.1])
        k = rng.choice([2, 3, -1, -2, 0.5])
        xi, xj = nodes_o[i].data, nodes_o[j].data
        if kind == "div" and abs(xj) < 0.1 or kind == "rdiv" and abs(xi) < 0.1:
            continue
        if kind == "pow" and (xi <= 0.05 or k == 0.5 and not (any_sqrt or _exact_square(xi))):
            continue
        f = _binary(kind, c, k)
        o = f(nodes_o[i], nodes_o[j])
        if kind != "relu" and not 1e-3 < abs(o.data) < 1e4:
            continue  # keep the numbers tame: no blow-ups, no total cancellation
        nodes_o.append(o)
        nodes_t.append(f(nodes_t[i], nodes_t[j]))
        used.add(kind if kind != "pow" else f"pow{k}")
    out_o = nodes_o[-1] + nodes_o[-2] * nodes_o[-3] - nodes_o[-4]
    out_t = nodes_t[-1] + nodes_t[-2] * nodes_t[-3] - nodes_t[-4]
    out_o.backward()
    out_t.backward()
    values = (np.array([n.data for n in nodes_o + [out_o]]), np.array([n.item() for n in nodes_t + [out_t]]))
    grads = (np.array([v.grad for v in ours]),
             np.array([0.0 if t.grad is None else t.grad.item() for t in theirs]))
    return values, grads, used


@pytest.mark.parametrize("seed", range(30))
def test_random_expressions_match_torch_exactly(torch, seed):
    (vo, vt), (go, gt), used = _random_expression(torch, seed, n_ops=25, any_sqrt=False)
    assert vo.tolist() == vt.tolist()
    assert go.tolist() == gt.tolist()


def test_random_expressions_cover_every_op(torch):
    used = set()
    for seed in range(30):
        used |= _random_expression(torch, seed, n_ops=25, any_sqrt=False)[2]
    assert used >= {"add", "sub", "mul", "div", "radd", "rsub", "rmul", "rdiv", "addc", "subc", "mulc", "divc",
                    "relu", "neg", "pow2", "pow3", "pow-1", "pow-2", "pow0.5"}


@pytest.mark.parametrize("seed", range(10))
def test_random_expressions_with_any_square_root_match_torch_closely(torch, seed):
    # ** 0.5 of any positive number: PyTorch's sqrt may be an ULP off (module docstring), and later ops carry
    # that difference along, so here a relative tolerance.
    (vo, vt), (go, gt), _ = _random_expression(torch, 1000 + seed, n_ops=25, any_sqrt=True)
    np.testing.assert_allclose(vo, vt, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(go, gt, rtol=1e-12, atol=1e-12)


def test_square_root_power_is_correctly_rounded_and_within_an_ulp_of_torch(torch):
    rng = np.random.default_rng(0)
    xs = rng.uniform(0.01, 100.0, 500)
    ours = []
    grads = []
    for x in xs:
        v = Value(float(x))
        y = v ** 0.5
        y.backward()
        ours.append(y.data)
        grads.append(v.grad)
        assert y.data == math.sqrt(x)
    T = torch.tensor(xs, requires_grad=True)
    (T ** 0.5).sum().backward()
    np.testing.assert_array_max_ulp(np.array(ours), (T ** 0.5).detach().numpy(), maxulp=1)
    np.testing.assert_array_max_ulp(np.array(grads), T.grad.numpy(), maxulp=2)


# -- micrograd's nn code on our Value -------------------------------------------------------------


def make_mlp_classes(V):
    """micrograd's nn.py, written again with the Value class as a parameter and a seeded random source."""

    class Module:
        def zero_grad(self):
            for p in self.parameters():
                p.grad = 0

        def parameters(self):
            return []

    class Neuron(Module):
        def __init__(self, nin, rng, nonlin=True):
            self.w = [V(rng.uniform(-1, 1)) for _ in range(nin)]
            self.b = V(0)
            self.nonlin = nonlin

        def __call__(self, x):
            act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
            return act.relu() if self.nonlin else act

        def parameters(self):
            return self.w + [self.b]

    class Layer(Module):
        def __init__(self, nin, nout, rng, **kwargs):
            self.neurons = [Neuron(nin, rng, **kwargs) for _ in range(nout)]

        def __call__(self, x):
            out = [n(x) for n in self.neurons]
            return out[0] if len(out) == 1 else out

        def parameters(self):
            return [p for n in self.neurons for p in n.parameters()]

    class MLP(Module):
        def __init__(self, nin, nouts, rng):
            sz = [nin] + nouts
            self.layers = [Layer(sz[i], sz[i + 1], rng, nonlin=i != len(nouts) - 1) for i in range(len(nouts))]

        def __call__(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

        def parameters(self):
            return [p for layer in self.layers for p in layer.parameters()]

    return MLP


_X = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0], [-1.5, 0.3, 2.0], [0.2, -2.0, 0.7]]
_Y = [1.0, -1.0, -1.0, 1.0, -1.0, 1.0]


def train(V, steps=5, seed=1337):
    """A few SGD steps of micrograd's demo: max-margin loss plus L2, on a tiny dataset. Returns the losses."""
    model = make_mlp_classes(V)(3, [4, 4, 1], random.Random(seed))
    losses = []
    for k in range(steps):
        scores = [model(x) for x in _X]
        data_loss = sum((1 + -yi * si).relu() for yi, si in zip(_Y, scores)) * (1.0 / len(_Y))
        reg_loss = 1e-4 * sum(p * p for p in model.parameters())
        loss = data_loss + reg_loss
        model.zero_grad()
        loss.backward()
        lr = 1.0 - 0.9 * k / steps
        for p in model.parameters():
            p.data -= lr * p.grad
        losses.append(loss.data)
    return losses, [p.data for p in model.parameters()]


def test_micrograd_nn_code_runs_on_our_value_and_learns():
    losses, params = train(Value, steps=20)
    assert all(type(v) is float for v in losses)
    assert losses[-1] < losses[0]
    assert all(type(p) is float for p in params)


def test_micrograd_nn_code_gives_the_same_losses_as_micrograd():
    mg = pytest.importorskip("micrograd.engine")
    ours, ours_params = train(Value)
    theirs, theirs_params = train(mg.Value)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours_params, theirs_params, rtol=0, atol=1e-12)


def test_micrograds_own_nn_module_with_our_value(monkeypatch):
    # micrograd.nn itself, with its Value swapped for ours: same random initialisation, same losses
    mg_nn = pytest.importorskip("micrograd.nn")

    def run():
        random.seed(0)
        model = mg_nn.MLP(3, [4, 1])
        losses = []
        for _ in range(3):
            scores = [model(x) for x in _X]
            loss = sum((si - yi) ** 2 for si, yi in zip(scores, _Y))
            model.zero_grad()
            loss.backward()
            for p in model.parameters():
                p.data -= 0.01 * p.grad
            losses.append(loss.data)
        return losses, [type(p) for p in model.parameters()]

    theirs, their_types = run()
    monkeypatch.setattr(mg_nn, "Value", Value)
    ours, our_types = run()
    assert set(our_types) == {Value} and Value not in set(their_types)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)
