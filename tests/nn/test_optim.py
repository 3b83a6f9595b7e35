import numpy as np
import pytest

from tinygrad_nn import Value
from tinygrad_nn.optim import SGD, Adam


def test_sgd_updates_in_place():
    w = Value(np.array([1.0, -2.0]))
    ref = w.data
    (w * w).sum().backward()
    SGD([w], lr=0.1).step()
    assert w.data is ref  # the same array, updated in place
    np.testing.assert_allclose(w.data, [1.0 - 0.2, -2.0 + 0.4])


def test_sgd_momentum_matches_pytorch_formula():
    w = Value(np.array([1.0]))
    opt = SGD([w], lr=0.1, momentum=0.9)
    v, x = 0.0, 1.0
    for _ in range(3):
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
        v = 0.9 * v + 2 * x if _ else 2 * x
        x = x - 0.1 * v
    assert w.data[0] == pytest.approx(x, rel=1e-15)


def test_adam_matches_reference():
    w = Value(np.array([0.5, -1.5]))
    opt = Adam([w], lr=0.01)
    x, m, v = np.array([0.5, -1.5]), 0.0, 0.0
    for t in range(1, 6):
        opt.zero_grad()
        (w * w * w).sum().backward()
        opt.step()
        g = 3 * x ** 2
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        x = x - 0.01 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    np.testing.assert_allclose(w.data, x, rtol=1e-14)


def test_scalar_parameters_and_zero_grad():
    b = Value(2.0)
    opt = SGD([b], lr=0.5)
    (b * 3).backward()
    opt.step()
    assert b.data == 0.5 and isinstance(b.data, float)
    opt.zero_grad()
    assert b.grad is None  # PyTorch's default: the next backward stores its gradient afresh
    (b * 3).backward()
    assert b.grad == 3.0
    opt.zero_grad(set_to_none=False)
    assert b.grad == 0.0


def test_zero_grad_to_none_never_shares_gradient_arrays():
    a, b = Value(np.ones(3)), Value(np.ones(3))
    opt = SGD([a, b], lr=0.1)
    opt.zero_grad()
    (a + b).sum().backward()  # add hands the same upstream array to both inputs
    assert a.grad is not b.grad and not np.shares_memory(a.grad, b.grad)
    a.grad[0] = 5.0
    assert b.grad[0] == 1.0
    opt.zero_grad()
    w = Value(np.ones((2, 3)), requires_grad=True)
    (w * 2.0).sum().backward()
    w.grad += 1  # the gradient array is the parameter's own and writable
    np.testing.assert_array_equal(w.grad, np.full((2, 3), 3.0))


def test_step_skips_parameters_without_gradient():
    used, unused = Value(np.ones(2)), Value(np.ones(2))
    opt = SGD([used, unused], lr=0.5)
    opt.zero_grad()
    (used * 2.0).sum().backward()
    opt.step()
    np.testing.assert_array_equal(used.data, [0.0, 0.0])
    np.testing.assert_array_equal(unused.data, [1.0, 1.0])
    assert unused.grad is None


def test_optimizer_argument_errors():
    with pytest.raises(ValueError, match="lr must be a positive finite number"):
        SGD([Value(1.0)], lr=0)
    with pytest.raises(ValueError, match="got no parameters"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError, match="parameters must be Values"):
        SGD([np.ones(2)], lr=0.1)
    with pytest.raises(ValueError, match="momentum"):
        SGD([Value(1.0)], lr=0.1, momentum=1.5)


# -- issue 8: clear errors ------------------------------------------------------------------------------


def test_optimizer_given_the_model_says_pass_parameters():
    from tinygrad_nn.nn import MLP

    for opt in (SGD, Adam):
        with pytest.raises(TypeError, match=r"got the model itself; pass model.parameters\(\)"):
            opt(MLP(2, [1]), lr=0.1)
    with pytest.raises(TypeError, match=r"got one Value; pass a list of parameters, e.g. \[w\]"):
        SGD(Value(np.ones(2)), lr=0.1)


@pytest.mark.parametrize("lr", [np.nan, np.inf, -np.inf, -0.1, 0.0])
def test_lr_must_be_positive_and_finite(lr):
    for opt in (SGD, Adam):
        with pytest.raises(ValueError, match="lr must be a positive finite number"):
            opt([Value(1.0)], lr=lr)


@pytest.mark.parametrize("lr", ["0.1", None, [0.1], True, 1j])
def test_lr_must_be_a_number(lr):
    for opt in (SGD, Adam):
        with pytest.raises(TypeError, match="lr must be a number"):
            opt([Value(1.0)], lr=lr)


def test_numpy_lr_is_fine():
    w = Value(np.array([1.0]))
    (w * w).sum().backward()
    SGD([w], lr=np.float32(0.25)).step()
    assert w.data[0] == 0.5


@pytest.mark.parametrize("eps, kind", [(np.nan, ValueError), (-1e-8, ValueError), (np.inf, ValueError),
                                       ("1e-8", TypeError), (None, TypeError)])
def test_adam_eps_is_checked(eps, kind):
    with pytest.raises(kind, match="Adam: eps must be"):
        Adam([Value(1.0)], eps=eps)


@pytest.mark.parametrize("betas, kind", [((1.0, 0.999), ValueError), ((0.9, np.nan), ValueError),
                                         ((-0.1, 0.9), ValueError), ((0.9,), TypeError), (0.9, TypeError),
                                         (("a", 0.9), TypeError)])
def test_adam_betas_are_checked(betas, kind):
    with pytest.raises(kind, match="Adam: betas must"):
        Adam([Value(1.0)], betas=betas)


def test_momentum_nan_is_refused():
    with pytest.raises(ValueError, match="momentum"):
        SGD([Value(1.0)], lr=0.1, momentum=np.nan)


def test_a_parameter_listed_twice_is_refused():
    w, b = Value(np.ones(2), name="w"), Value(0.0)
    for opt in (SGD, Adam):
        with pytest.raises(ValueError, match=r"appears more than once in the list \(shape \(2,\), name 'w'\)"):
            opt([w, b, w], lr=0.1)


# -- issue 9: weight decay, Nesterov, parameter groups; the same updates as torch.optim ---------------------


def _fake_grad(x):
    # A gradient that depends on the parameter, so that every step differs (as a real loss's does).
    return np.sin(3.0 * x) + 0.5 * x


def _params(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(3, 4)), rng.normal(size=4), np.array(0.7)]


def _run_ours(make_opt, steps=6, seed=0):
    init = _params(seed)
    ps = [Value(float(a)) if a.ndim == 0 else Value(a.copy()) for a in init]
    opt = make_opt(ps)
    for _ in range(steps):
        for p in ps:
            g = _fake_grad(np.asarray(p.data))
            p.grad = float(g) if p.data.__class__ is float else g
        opt.step()
    return [np.asarray(p.data) for p in ps]


def _sgd_reference(lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, steps=6):
    # PyTorch's documented algorithm, written out in numpy.
    out = []
    for x in _params():
        x, b = x.copy(), None
        for _ in range(steps):
            g = _fake_grad(x) + weight_decay * x
            if momentum:
                b = g.copy() if b is None else momentum * b + (1 - dampening) * g
                g = g + momentum * b if nesterov else b
            x = x - lr * g
        out.append(x)
    return out


def _adam_reference(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, steps=6):
    out = []
    b1, b2 = betas
    for x in _params():
        x, m, v = x.copy(), 0.0, 0.0
        for t in range(1, steps + 1):
            g = _fake_grad(x) + weight_decay * x
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            x = x - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
        out.append(x)
    return out


SGD_CASES = [dict(lr=0.1), dict(lr=0.1, momentum=0.9), dict(lr=0.05, momentum=0.8, dampening=0.3),
             dict(lr=0.1, weight_decay=0.01), dict(lr=0.1, momentum=0.9, nesterov=True),
             dict(lr=0.1, momentum=0.5, weight_decay=0.1, nesterov=True)]
ADAM_CASES = [dict(lr=0.01), dict(lr=0.05, weight_decay=0.1), dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6)]


@pytest.mark.parametrize("kw", SGD_CASES)
def test_sgd_matches_the_documented_algorithm(kw):
    for ours, ref in zip(_run_ours(lambda ps: SGD(ps, **kw)), _sgd_reference(**kw)):
        np.testing.assert_allclose(ours, ref, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("kw", ADAM_CASES)
def test_adam_matches_the_documented_algorithm(kw):
    for ours, ref in zip(_run_ours(lambda ps: Adam(ps, **kw)), _adam_reference(**kw)):
        np.testing.assert_allclose(ours, ref, rtol=1e-13, atol=1e-15)


def _run_torch(make_opt, steps=6, seed=0):
    torch = pytest.importorskip("torch")
    ps = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in _params(seed)]
    opt = make_opt(torch, ps)
    for _ in range(steps):
        for p in ps:
            p.grad = torch.from_numpy(np.asarray(_fake_grad(p.detach().numpy())))
        opt.step()
    return [p.detach().numpy() for p in ps]


@pytest.mark.parametrize("kw", SGD_CASES)
def test_sgd_matches_torch(kw):
    theirs = _run_torch(lambda torch, ps: torch.optim.SGD(ps, **kw))
    for ours, ref in zip(_run_ours(lambda ps: SGD(ps, **kw)), theirs):
        np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize("kw", ADAM_CASES)
def test_adam_matches_torch(kw):
    theirs = _run_torch(lambda torch, ps: torch.optim.Adam(ps, **kw))
    for ours, ref in zip(_run_ours(lambda ps: Adam(ps, **kw)), theirs):
        np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)


def _grouped(ps, lrs=(0.1, 0.02)):
    return [{"params": ps[:2], "lr": lrs[0]}, {"params": ps[2:], "lr": lrs[1], "momentum": 0.0}]


def test_parameter_groups_match_torch():
    theirs = _run_torch(lambda torch, ps: torch.optim.SGD(_grouped(ps), lr=0.5, momentum=0.9, nesterov=True))
    ours = _run_ours(lambda ps: SGD(_grouped(ps), lr=0.5, momentum=0.9, nesterov=True))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    groups = lambda ps: [{"params": ps[:1], "weight_decay": 0.1}, {"params": ps[1:], "lr": 0.03}]
    theirs = _run_torch(lambda torch, ps: torch.optim.Adam(groups(ps), lr=0.01))
    for a, b in zip(_run_ours(lambda ps: Adam(groups(ps), lr=0.01)), theirs):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_parameter_groups_have_their_own_settings():
    a, b = Value(np.array([1.0])), Value(np.array([1.0]))
    opt = SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[1]["params"] == [b] and opt.params == [a, b]
    a.grad, b.grad = np.array([1.0]), np.array([1.0])
    opt.step()
    assert a.data[0] == pytest.approx(0.9) and b.data[0] == pytest.approx(0.5)
    opt.param_groups[0]["lr"] = 0.2  # a schedule changes the group's lr, as in PyTorch
    opt.step()
    assert a.data[0] == pytest.approx(0.7)
    with pytest.raises(AttributeError, match="different learning rates"):
        opt.lr  # noqa: B018
    opt.lr = 0.01  # sets every group
    assert [g["lr"] for g in opt.param_groups] == [0.01, 0.01] and opt.lr == 0.01
    c = Value(np.zeros(2))
    opt.add_param_group({"params": [c], "momentum": 0.9})
    assert opt.param_groups[2]["momentum"] == 0.9 and opt.param_groups[2]["lr"] == 0.1  # the defaults


def test_parameter_group_errors():
    a, b = Value(np.ones(2)), Value(np.ones(2))
    with pytest.raises(ValueError, match="appears in more than one parameter group"):
        SGD([{"params": [a]}, {"params": [a, b]}], lr=0.1)
    with pytest.raises(KeyError, match=r"unknown setting\(s\) \['learning_rate'\] \(parameter group 0\)"):
        SGD([{"params": [a], "learning_rate": 0.1}], lr=0.1)
    with pytest.raises(KeyError, match="needs a 'params' entry"):
        SGD([{"lr": 0.1}], lr=0.1)
    with pytest.raises(ValueError, match=r"SGD \(parameter group 1\): lr must be a positive finite number"):
        SGD([{"params": [a]}, {"params": [b], "lr": -1.0}], lr=0.1)
    with pytest.raises(TypeError, match="do not mix parameter-group dicts and Values"):
        SGD([{"params": [a]}, b], lr=0.1)
    with pytest.raises(ValueError, match="parameter group 1 has no parameters"):
        SGD([{"params": [a]}, {"params": []}], lr=0.1)
    with pytest.raises(TypeError, match=r"got the model itself \(parameter group 0\)"):
        from tinygrad_nn.nn import MLP

        SGD([{"params": MLP(2, [1])}], lr=0.1)
    with pytest.raises(TypeError, match="expected a list of parameters or a list of dicts"):
        SGD({"params": [a]}, lr=0.1)
    opt = SGD([{"params": a}], lr=0.1)  # one Value as a group's params, as PyTorch allows
    assert opt.params == [a]


@pytest.mark.parametrize("kw, message", [
    (dict(nesterov=True), "Nesterov momentum needs a momentum > 0 and zero dampening"),
    (dict(nesterov=True, momentum=0.9, dampening=0.1), "Nesterov momentum needs"),
    (dict(weight_decay=-0.1), "weight_decay must be a finite number >= 0"),
    (dict(weight_decay=np.nan), "weight_decay must be a finite number >= 0"),
    (dict(dampening=1.5), r"dampening must be in \[0, 1\]"),
])
def test_sgd_setting_errors(kw, message):
    with pytest.raises(ValueError, match=message):
        SGD([Value(1.0)], lr=0.1, **kw)
    with pytest.raises(TypeError, match="nesterov must be True or False"):
        SGD([Value(1.0)], lr=0.1, momentum=0.9, nesterov="yes")


def test_adam_weight_decay_error_and_scalar_parameters():
    with pytest.raises(ValueError, match="weight_decay must be a finite number >= 0"):
        Adam([Value(1.0)], weight_decay=-1.0)
    w = Value(0.5)
    opt = Adam([w], lr=0.1, weight_decay=0.1)
    w.grad = 1.0
    opt.step()
    assert isinstance(w.data, float) and w.data == pytest.approx(0.4, rel=1e-6)


def test_adam_counts_steps_per_parameter_as_pytorch():
    # A parameter that got no gradient in a step is not stepped, and its bias correction does not advance.
    a, b = Value(np.array([1.0])), Value(np.array([1.0]))
    opt = Adam([a, b], lr=0.1)
    opt.zero_grad()
    a.grad = np.array([1.0])
    opt.step()
    a.grad = b.grad = np.array([1.0])
    opt.step()
    assert opt.state[a]["step"] == 2 and opt.state[b]["step"] == 1
    np.testing.assert_allclose(a.data, [0.8], rtol=1e-7)
    np.testing.assert_allclose(b.data, [0.9], rtol=1e-7)


def test_a_group_asking_for_nesterov_itself_is_checked():
    a, b = Value(np.ones(2)), Value(np.ones(2))
    with pytest.raises(ValueError, match=r"SGD \(parameter group 1\): Nesterov momentum needs"):
        SGD([{"params": [a]}, {"params": [b], "nesterov": True}], lr=0.1)


# -- issue 11: optimizer state, saved and resumed ---------------------------------------------------------

import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

from tests.conftest import tree_env  # noqa: E402


def _book_run(make_opt, steps, net=None, opt=None):
    from tinygrad_nn.data import load_digits_4x3
    from tinygrad_nn.nn import MLP, squared_error

    data = load_digits_4x3()
    net = net or MLP(12, [3, 2], seed=0)
    opt = opt or make_opt(net.parameters())
    for _ in range(steps):
        opt.zero_grad()
        squared_error(net(data.inputs), data.targets).backward()
        opt.step()
    return net, opt


OPTIMIZERS = {
    "sgd": "lambda ps: SGD(ps, lr=0.3, momentum=0.9, nesterov=True, weight_decay=1e-3)",
    "adam": "lambda ps: Adam(ps, lr=0.05, betas=(0.8, 0.99), weight_decay=1e-3)",
    "groups": "lambda ps: Adam([{'params': ps[:2], 'lr': 0.1}, {'params': ps[2:]}], lr=0.02)",
}


def test_optimizer_state_dict_layout_and_copies():
    w, b = Value(np.ones(2)), Value(1.0)
    opt = Adam([w, b], lr=0.1)
    w.grad, b.grad = np.array([1.0, 2.0]), 3.0
    opt.step()
    sd = opt.state_dict()
    assert sd["param_groups"] == [{"lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0,
                                   "amsgrad": False, "maximize": False, "params": [0, 1]}]
    assert sorted(sd["state"]) == [0, 1] and sd["state"][0]["step"] == 1
    assert isinstance(sd["state"][1]["exp_avg"], float)  # a scalar parameter's moments are floats
    sd["state"][0]["exp_avg"][0] = 99.0  # a copy: the optimizer's own buffer is untouched
    assert opt.state[w]["exp_avg"][0] != 99.0


@pytest.mark.parametrize("kind", sorted(OPTIMIZERS))
def test_load_state_dict_restores_settings_and_buffers_in_process(kind):
    make = eval(OPTIMIZERS[kind], {"SGD": SGD, "Adam": Adam})
    straight, _ = _book_run(make, 10)
    net, opt = _book_run(make, 5)
    sd = opt.state_dict()
    # A fresh optimizer with other settings: loading restores the saved ones, as in PyTorch.
    fresh = (SGD(net.parameters(), lr=1.0) if kind == "sgd" else
             Adam([{"params": net.parameters()[:2]}, {"params": net.parameters()[2:]}]) if kind == "groups" else
             Adam(net.parameters()))
    fresh.load_state_dict(sd)
    assert fresh.state_dict()["param_groups"] == sd["param_groups"]
    _book_run(None, 5, net=net, opt=fresh)
    for p, q in zip(net.parameters(), straight.parameters()):
        assert np.array_equal(p.data, q.data)


def test_optimizer_load_state_dict_refusals_change_nothing():
    from tinygrad_nn.nn import MLP

    net, opt = _book_run(lambda ps: SGD(ps, lr=0.1, momentum=0.9), 2)
    sd = opt.state_dict()
    other = SGD(net.parameters(), lr=0.5, momentum=0.5)
    before = other.state_dict()
    cases = [
        (Adam(net.parameters()), sd, "settings .* are not those of Adam"),
        (SGD([{"params": net.parameters()[:2]}, {"params": net.parameters()[2:]}], lr=0.1), sd,
         "the state has 1 parameter groups, this optimizer 2"),
        (SGD(net.parameters()[:3], lr=0.1), sd, "parameter group 0 holds 3 parameters here but 4 in the state"),
        (SGD(MLP(12, [4, 2]).parameters(), lr=0.1), sd, r"momentum_buffer is float64 of shape \(3, 12\); the "
                                                         r"parameter is float64 of shape \(4, 12\)"),
        (other, {"state": sd["state"]}, "expected the dict that optimizer.state_dict"),
        (other, {**sd, "state": {7: {"momentum_buffer": np.ones(1)}}}, "buffers for parameter 7, which no group"),
        (other, {**sd, "state": {0: {"exp_avg": np.ones((3, 12))}}}, "expected buffers named from"),
        (other, {**sd, "param_groups": [{**sd["param_groups"][0], "lr": -1.0}]}, "lr must be a positive finite"),
    ]
    for target, state, message in cases:
        with pytest.raises(ValueError, match=message):
            target.load_state_dict(state)
    after = other.state_dict()
    assert after["param_groups"] == before["param_groups"] and after["state"] == before["state"] == {}
    adam = Adam(net.parameters())
    bad = {"state": {0: {"step": 0, "exp_avg": np.zeros((3, 12)), "exp_avg_sq": np.zeros((3, 12))}},
           "param_groups": adam.state_dict()["param_groups"]}
    with pytest.raises(ValueError, match="step must be a whole number >= 1"):
        adam.load_state_dict(bad)


RESUME = """
import json, sys
from tinygrad_nn import load, save
from tinygrad_nn.data import load_digits_4x3
from tinygrad_nn.nn import MLP, squared_error
from tinygrad_nn.optim import SGD, Adam

folder, optimizers = sys.argv[1], json.loads(sys.argv[2])
data = load_digits_4x3()
for kind, make in optimizers.items():
    ckpt = load(f"{folder}/{kind}.npz")
    net = MLP(12, [3, 2], seed=123)              # other weights, other settings: all come from the file
    net.load_state_dict(ckpt["model"])
    opt = eval(make)(net.parameters())
    for g in opt.param_groups:
        g["lr"] = 1.0
    opt.load_state_dict(ckpt["optimizer"])
    for _ in range(5):
        opt.zero_grad()
        squared_error(net(data.inputs), data.targets).backward()
        opt.step()
    save(net.state_dict(), f"{folder}/{kind}-resumed.npz")
"""


def test_a_run_saved_after_5_steps_and_resumed_in_a_fresh_process_equals_10_straight_steps(tmp_path):
    from tinygrad_nn import load, save

    straight = {}
    for kind, make in OPTIMIZERS.items():
        make = eval(make, {"SGD": SGD, "Adam": Adam})
        net, opt = _book_run(make, 5)
        save({"model": net.state_dict(), "optimizer": opt.state_dict()}, tmp_path / f"{kind}.npz")
        straight[kind], _ = _book_run(make, 10)
    r = subprocess.run([sys.executable, "-c", RESUME, str(tmp_path), json.dumps(OPTIMIZERS)], capture_output=True,
                       text=True, env=tree_env(), cwd=str(tmp_path), timeout=120)
    assert r.returncode == 0, r.stderr
    for kind, net in straight.items():
        resumed = load(tmp_path / f"{kind}-resumed.npz")
        expected = net.state_dict()
        assert list(resumed) == list(expected)
        for name in expected:  # bit for bit
            assert resumed[name].tobytes() == expected[name].tobytes(), (kind, name)


def test_a_set_of_parameters_is_refused():
    # Its order may differ from run to run, and the order numbers the parameters in state_dict().
    with pytest.raises(TypeError, match="must be an ordered list, not a set"):
        SGD({Value(1.0), Value(2.0)}, lr=0.1)
    with pytest.raises(TypeError, match=r"\(parameter group 0\) must be an ordered list, not a set"):
        SGD([{"params": {Value(1.0)}}], lr=0.1)
