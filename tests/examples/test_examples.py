"""The examples of chapters 1-4 (and the moons demos) run, quickly, and print what they claim.

Each example's main() runs in-process with small step counts; what it prints is checked against numbers
computed here independently (numpy forward passes, closed forms, plain arithmetic).
"""

import importlib
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import tree_env
from tinygrad_nn.data import load_backprop_params, load_digits_4x3, load_regression

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PLOT_HINT = 'pip install "tinygrad_nn[plot]"'


def _example(name):
    """Import examples/<name>.py as a module (examples/ is a folder of scripts, not a package)."""
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    return importlib.import_module(name)


def _has_matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


@pytest.fixture
def no_matplotlib(monkeypatch):
    """Make `import matplotlib` (and its pyplot) fail, as on an install without the plot extra."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    """Run in an empty working directory, so a test can check that nothing was written."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _check_figure(capsys, out_dir, filename):
    text = capsys.readouterr().out
    if _has_matplotlib():
        assert (out_dir / filename).is_file() and (out_dir / filename).stat().st_size > 1000
    else:
        assert PLOT_HINT in text
    return text


# -- 1-2 / 1-3 -----------------------------------------------------------------------------------


def test_threshold_neuron_table(capsys, in_tmp):
    ex = _example("ch1_2_threshold_neuron")
    rows = ex.main([])
    out = capsys.readouterr().out
    w, theta = np.array([2.0, 3.0]), 4.0
    assert len(rows) == len(ex.INPUTS)
    for (_x1, _x2, z, fired, smooth), x in zip(rows, ex.INPUTS):
        z_expected = float(np.dot(w, x) - theta)
        assert z == pytest.approx(z_expected, abs=1e-12)
        assert fired == (1.0 if z_expected >= 0 else 0.0)  # fires exactly when w . x reaches θ
        assert smooth == pytest.approx(_sigmoid(z_expected), abs=1e-12)
    assert "The three forms agree on every input: True" in out
    assert "   1    1 |       1.000 |         1 |       0.7311" in out
    assert list(in_tmp.iterdir()) == []  # no --out, no files


def test_threshold_neuron_three_forms_equal():
    ex = _example("ch1_2_threshold_neuron")
    for x in [(0.3, -1.2), (2.0, 5.0), (1.0, 1.0)]:
        threshold_form, bias_form, inner = ex.three_forms(x)
        assert threshold_form == pytest.approx(2 * x[0] + 3 * x[1] - 4, abs=1e-12)
        assert bias_form == pytest.approx(threshold_form, abs=1e-12)
        assert inner == pytest.approx(threshold_form, abs=1e-12)


def test_threshold_neuron_figure(capsys, tmp_path):
    _example("ch1_2_threshold_neuron").main(["--out", str(tmp_path)])
    _check_figure(capsys, tmp_path, "step_vs_sigmoid.png")


def test_threshold_neuron_without_matplotlib(capsys, tmp_path, no_matplotlib):
    _example("ch1_2_threshold_neuron").main(["--out", str(tmp_path / "figs")])
    assert PLOT_HINT in capsys.readouterr().out
    assert not (tmp_path / "figs" / "step_vs_sigmoid.png").exists()


# -- 1-5 / 1-6 -----------------------------------------------------------------------------------


def _hand_set_demons_right():
    """The demons of the brief, built here from scratch in numpy: how many of the 64 images they read right."""
    data = load_digits_4x3()
    W2 = np.zeros((3, 12))
    for j, (p, q) in enumerate([(4, 7), (5, 8), (6, 9)]):  # A, B, C; pixels numbered 1..12 row-major
        W2[j, [p - 1, q - 1]] = 10.0
    b2 = np.full(3, -15.0)
    W3 = np.array([[10.0, -10.0, 10.0], [0.0, 10.0, 0.0]])
    b3 = np.array([-5.0, -5.0])
    out = _sigmoid(_sigmoid(data.inputs @ W2.T + b2) @ W3.T + b3)
    predicted = out.argmax(axis=1)
    return int((predicted == data.digits).sum()), data.ids[predicted != data.digits].tolist()


def test_demons_hand_set_and_trained(capsys, in_tmp):
    ex = _example("ch1_5_demons")
    result = ex.main(["--steps", "200"])
    out = capsys.readouterr().out
    right, wrong = _hand_set_demons_right()
    assert result["hand_set_right"] == right
    assert f"hand-set network: {right}/64 images read right" in out
    assert f"misclassified ids: {wrong}" in out
    # Trained from seed 0 until every image is read right, within the cap.
    steps = result["steps"]
    assert steps is not None and 0 < steps <= 200
    assert f"all 64 images right after {steps} steps" in out
    r = result["correlations"]
    assert r.shape == (3, 3) and np.all(np.abs(r) <= 1.0 + 1e-12)
    for i in range(3):
        assert f"unit {i + 1}  " + "".join(f"{r[i, j]:+8.2f}" for j in range(3)) in out
    assert re.search(r"Training did not rediscover|Each learned unit is closest to a different demon", out)
    assert list(in_tmp.iterdir()) == []


def test_demons_hand_set_weights_follow_the_book():
    ex = _example("ch1_5_demons")
    state = ex.hand_set_network().state_dict()
    hidden = state["0.weight"]
    for j, liked in enumerate([(4, 7), (5, 8), (6, 9)]):
        assert sorted(np.flatnonzero(hidden[j] > 0) + 1) == list(liked)  # fond of exactly its two pixels
        # A lone liked pixel must not fire the unit (noise); both together must.
        w_liked = hidden[j, liked[0] - 1]
        assert _sigmoid(w_liked + state["0.bias"][j]) < 0.5 < _sigmoid(2 * w_liked + state["0.bias"][j])
    out_w = state["2.weight"]
    assert out_w[0, 0] > 0 and out_w[0, 2] > 0 and out_w[0, 1] <= 0  # "0" likes A and C
    assert out_w[1, 1] > 0 and out_w[1, 0] <= 0 and out_w[1, 2] <= 0  # "1" likes B


def test_demons_matching_is_a_permutation():
    ex = _example("ch1_5_demons")
    r = np.array([[0.1, 0.9, 0.0], [0.8, 0.2, 0.1], [0.0, 0.1, -0.7]])
    assert ex.best_matching(r) == (1, 0, 2)


def test_demons_figure(capsys, tmp_path):
    _example("ch1_5_demons").main(["--steps", "100", "--out", str(tmp_path)])
    _check_figure(capsys, tmp_path, "demons_learned_weights.png")


# -- 2-11 ------------------------------------------------------------------------------------------


def test_gradient_descent_table(capsys):
    ex = _example("ch2_11_gradient_descent")
    rows = ex.main([])
    out = capsys.readouterr().out
    assert len(rows) == 31  # steps 0..29 with their gradients, then the point after step 30
    i, x, y, gx, gy, dx, dy, z = rows[0]
    assert (x, y, gx, gy, z) == (3.0, 2.0, 6.0, 4.0, 13.0)
    # After step 1, per the arithmetic: 3 - 0.1 * 6 and 2 - 0.1 * 4, which are 2.4 and 1.6 in floats too.
    assert rows[1][1] == 3.0 - 0.1 * 6.0 == 2.4
    assert rows[1][2] == 2.0 - 0.1 * 4.0 == 1.6
    for _i, x, y, gx, gy, dx, dy, z in rows[:-1]:
        assert gx == 2 * x and gy == 2 * y  # the engine's gradient is exactly (2x, 2y)
        assert dx == -0.1 * gx and dy == -0.1 * gy
        assert z == x * x + y * y
    # Each step scales the point by 0.8, so after 30 steps it is (3, 2) * 0.8^30.
    assert rows[-1][1] == pytest.approx(3 * 0.8**30, rel=1e-12)
    assert rows[-1][2] == pytest.approx(2 * 0.8**30, rel=1e-12)
    assert "  1   2.400000   1.600000   4.800000   3.200000  -0.480000  -0.320000  8.3200e+00" in out


# -- 2-12 ------------------------------------------------------------------------------------------


def test_regression_matches_closed_form(capsys):
    ex = _example("ch2_12_regression")
    result = ex.main(["--steps", "60"])
    out = capsys.readouterr().out
    x, y = load_regression()
    # The normal equations, solved here independently of the example.
    n = len(x)
    p = (n * np.sum(x * y) - x.sum() * y.sum()) / (n * np.sum(x * x) - x.sum() ** 2)
    q = (y.sum() - p * x.sum()) / n
    assert result["p"] == pytest.approx(p, abs=1e-6)
    assert result["q"] == pytest.approx(q, abs=1e-6)
    assert result["p_exact"] == pytest.approx(p, abs=1e-9)
    assert f"gradient descent:  y = {p:.6f} x {q:+.6f}" in out
    assert "closed form:" in out
    assert round(p, 2) == 0.41


def test_regression_is_conditioning_bound_without_standardising():
    ex = _example("ch2_12_regression")
    x, _ = load_regression()
    assert ex.hessian_condition(x) > 1e6  # why the example standardises
    assert ex.hessian_condition((x - x.mean()) / x.std()) == pytest.approx(1.0)


# -- 3-4 / 3-5 ---------------------------------------------------------------------------------------


def test_cost_CT_batched_equals_per_image_sum(capsys):
    ex = _example("ch3_cost_CT")
    result = ex.main([])
    out = capsys.readouterr().out
    assert abs(result["batched"] - result["summed"]) < 1e-12
    # And both equal C_T computed here in numpy from the book's parameters.
    data, params = load_digits_4x3(), load_backprop_params()
    a2 = _sigmoid(data.inputs @ params["W_hidden"].T + params["b_hidden"])
    a3 = _sigmoid(a2 @ params["W_out"].T + params["b_out"])
    c_t = 0.5 * np.sum((data.targets - a3) ** 2)
    assert result["batched"] == pytest.approx(c_t, abs=1e-12)
    assert result["received"] == result["total"] == 47
    assert "total: 47 of 47 parameters" in out
    assert "equal to 1e-12: True" in out


# -- 4-2 .. 4-4 ------------------------------------------------------------------------------------


def test_backprop_by_hand_equals_engine(capsys, in_tmp):
    ex = _example("ch4_backprop")
    result = ex.main(["--steps", "10", "--every", "5"])
    out = capsys.readouterr().out
    assert result["max_difference"] < 1e-12
    assert "(< 1e-12: True)" in out
    costs, hand = result["costs"], result["hand_costs"]
    assert len(costs) == 11
    assert np.max(np.abs(np.array(costs) - np.array(hand))) < 1e-10  # the two descents stay together
    assert all(b < a for a, b in zip(costs, costs[1:]))  # η = 0.2 full-batch descent: C_T falls each step
    assert f"  step   10   C_T = {costs[10]:.6f}" in out
    assert list(in_tmp.iterdir()) == []


def test_backprop_default_run_reads_all_images(capsys):
    result = _example("ch4_backprop").main([])
    capsys.readouterr()
    assert len(result["costs"]) == 51
    assert result["costs"][-1] < 0.1 * result["costs"][0]
    assert result["right"] == 64


def test_backprop_figure(capsys, tmp_path):
    _example("ch4_backprop").main(["--steps", "3", "--out", str(tmp_path)])
    _check_figure(capsys, tmp_path, "backprop_cost_curve.png")


def test_backprop_without_matplotlib(capsys, tmp_path, no_matplotlib):
    _example("ch4_backprop").main(["--steps", "2", "--out", str(tmp_path)])
    assert PLOT_HINT in capsys.readouterr().out
    assert not (tmp_path / "backprop_cost_curve.png").exists()


# -- moons ---------------------------------------------------------------------------------------------


def test_moons_scalar_two_steps(capsys):
    ex = _example("moons_scalar")
    history = ex.main(["--steps", "2", "--every", "1"])
    out = capsys.readouterr().out
    assert [k for k, _, _ in history] == [0, 1]
    for k, loss, acc in history:
        assert np.isfinite(loss) and 0.0 <= acc <= 1.0
        assert f"step {k:3d}  loss {loss:.6f}" in out
    assert "scalar nodes" in out


def test_moons_scalar_and_tensor_losses_agree():
    """Same weights in both models: the scalar graph and the tensor graph give the same loss and gradients."""
    scalar, tensor = _example("moons_scalar"), _example("moons_mlp")
    from tinygrad_nn.data import two_moons
    from tinygrad_nn.nn import MLP

    X, y01 = two_moons(20, 0.1, seed=1)
    y = 2.0 * y01 - 1.0
    small = scalar.MLP(2, [4, 3, 1], seed=1)
    net = MLP(2, [4, 3, 1], activation="relu", output_activation=None)
    state = {}
    for i, layer in enumerate(small.layers):
        state[f"{2 * i}.weight"] = np.array([[w.data for w in n.w] for n in layer.neurons])
        state[f"{2 * i}.bias"] = np.array([n.b.data for n in layer.neurons])
    net.load_state_dict(state)
    loss_s, acc_s = scalar.loss_and_accuracy(small, X, list(y))
    loss_t, acc_t = tensor.loss_and_accuracy(net, X, y)
    assert loss_s.data == pytest.approx(loss_t.item(), abs=1e-12)
    assert acc_s == acc_t
    loss_s.backward()
    loss_t.backward()
    first = np.array([[w.grad for w in n.w] for n in small.layers[0].neurons])
    np.testing.assert_allclose(first, net.layers[0].weight.grad, atol=1e-12)


def test_moons_mlp_reaches_high_accuracy(capsys, in_tmp):
    history = _example("moons_mlp").main([])
    out = capsys.readouterr().out
    assert len(history) == 100
    final = float(re.search(r"after 100 steps: loss [\d.]+, accuracy ([\d.]+)%", out).group(1))
    assert final >= 95.0
    assert history[-1][1] < history[0][1] / 5
    assert list(in_tmp.iterdir()) == []


def test_moons_mlp_figure(capsys, tmp_path):
    _example("moons_mlp").main(["--steps", "3", "--out", str(tmp_path)])
    _check_figure(capsys, tmp_path, "moons_decision_boundary.png")


# -- as scripts ------------------------------------------------------------------------------------------

SCRIPTS = [
    ("ch1_2_threshold_neuron.py", []),
    ("ch1_5_demons.py", ["--steps", "50"]),
    ("ch2_11_gradient_descent.py", ["--steps", "3"]),
    ("ch2_12_regression.py", ["--steps", "5"]),
    ("ch3_cost_CT.py", []),
    ("ch4_backprop.py", ["--steps", "2"]),
    ("moons_scalar.py", ["--steps", "1"]),
    ("moons_mlp.py", ["--steps", "2"]),
]


@pytest.mark.parametrize("script,args", SCRIPTS, ids=[s for s, _ in SCRIPTS])
def test_runs_as_a_script_and_writes_nothing(script, args, tmp_path):
    env = tree_env(MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, str(EXAMPLES / script), *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip()
    assert list(tmp_path.iterdir()) == []


def test_every_example_has_a_docstring_and_main():
    for script, _ in SCRIPTS:  # the chapter 1-4 and moons examples (other files in examples/ have their own tests)
        path = EXAMPLES / script
        source = path.read_text(encoding="utf-8")
        assert source.lstrip().startswith('"""'), path.name
        assert "def main(argv=None)" in source, path.name
        assert 'if __name__ == "__main__":' in source, path.name
