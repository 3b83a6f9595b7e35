"""network.html without a browser: what the page holds (the saved weights, bit for bit; the run's frames and
C_T; the hand-set demons), that it names nothing to fetch, and the networks it refuses to draw."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from tinygrad_nn import cli, load
from tinygrad_nn.cli.cnn import book_cnn
from tinygrad_nn.data import TEST_IMAGE_GAP_ZERO, load_digits_4x3
from tinygrad_nn.data.demons import hand_set_demons
from tinygrad_nn.nn import MLP, Layer, Sequential, squared_error
from tinygrad_nn.viz import TrainingSnapshots, cnn_page, mlp_page, network_page, write_network_page


def _data(html):
    m = re.search(r'<script id="page-data" type="application/json">(.*?)</script>', html, flags=re.S)
    return json.loads(m.group(1))  # strict JSON: NaN would not parse


def _run(capsys, tmp_path, *argv):
    out, model = tmp_path / "out", tmp_path / "model.npz"
    assert cli.main([*argv, "--no-progress", "--out", str(out), "--save", str(model)]) == 0
    text = capsys.readouterr().out
    return (out / "network.html").read_text(encoding="utf-8"), load(model), text


def test_book_page_holds_the_saved_weights_and_the_run(capsys, tmp_path):
    html, state, out = _run(capsys, tmp_path, "book", "--steps", "40", "--seed", "3")
    data = _data(html)
    assert data["kind"] == "mlp" and (data["rows"], data["cols"]) == (4, 3) and data["classes"] == ["0", "1"]
    assert data["image"] == np.asarray(TEST_IMAGE_GAP_ZERO).reshape(12).astype(int).tolist()
    final = data["frames"][-1]
    assert final["step"] == 40
    for i, key in enumerate(["0", "2"]):  # the page opens on exactly the weights --save wrote
        assert np.array_equal(np.array(final["layers"][i]["weight"]), state[f"{key}.weight"])
        assert np.array_equal(np.array(final["layers"][i]["bias"]), state[f"{key}.bias"])
    # Frame 0 is the untrained network of the seed, with its C_T; the frames follow the run in order.
    first, init = data["frames"][0], MLP(12, [3, 2], seed=3).state_dict()
    assert first["step"] == 0 and np.array_equal(np.array(first["layers"][0]["weight"]), init["0.weight"])
    digits = load_digits_4x3()
    assert first["cost"] == squared_error(MLP(12, [3, 2], seed=3)(digits.inputs), digits.targets).item()
    steps = [f["step"] for f in data["frames"]]
    assert steps == sorted(set(steps)) and len(steps) > 10
    assert f"Final C_T = {final['cost']:.6f}" in out
    assert [s for s, _ in data["costs"]] == list(range(41)) and data["costs"][-1][1] == float(f"{final['cost']:.7g}")
    assert data["costs"][0][1] == pytest.approx(first["cost"], rel=1e-6)
    hand = hand_set_demons()
    assert np.array_equal(np.array(data["handset"]["layers"][0]["weight"]), hand["0.weight"])
    assert np.array_equal(np.array(data["handset"]["layers"][1]["bias"]), hand["2.bias"])


def test_cnn_page_holds_the_saved_weights(capsys, tmp_path):
    html, state, _ = _run(capsys, tmp_path, "cnn", "--steps", "6")
    data = _data(html)
    assert data["kind"] == "cnn" and (data["rows"], data["cols"], data["pool"]) == (6, 6, 2)
    final = data["frames"][-1]
    assert np.array_equal(np.array(final["filters"]), state["0.weight"][:, 0])
    assert np.array_equal(np.array(final["filter_bias"]), state["0.bias"])
    assert np.array_equal(np.array(final["weight"]), state["4.weight"])
    assert np.array_equal(np.array(final["bias"]), state["4.bias"])
    net, _, _ = book_cnn()
    net.load_state_dict(state)  # what cnn --save writes is the chapter 5 network's state
    assert data["handset"] is None


def test_cnn_save_is_checked_before_training(capsys, tmp_path):
    with pytest.raises(SystemExit) as e:
        cli.main(["cnn", "--steps", "1000000", "--save", str(tmp_path)])
    assert e.value.code == 2 and "is a folder" in capsys.readouterr().err


def test_the_page_names_nothing_to_fetch():
    html = network_page.render_page(mlp_page(MLP(12, [3, 2], seed=0), handset=hand_set_demons()))
    # No src= and no link but the empty data: icon (which stops a favicon request); no URL but the SVG namespace.
    assert not re.search(r"\bsrc\s*=", html)
    assert re.findall(r"<link[^>]*>", html) == ['<link rel="icon" href="data:,">']
    assert re.findall(r"https?://[^\s\"'`)]+", html) == ["http://www.w3.org/2000/svg"]
    assert "@import" not in html and "url(" not in html and "fetch(" not in html and "XMLHttpRequest" not in html


def test_placeholders_are_filled_once_and_text_is_escaped():
    data = mlp_page(MLP(12, [3, 2], seed=0), title='__DATA__ <b>"bold"</b> </script>')
    html = network_page.render_page(data)
    assert "<title>__DATA__ &lt;b&gt;&quot;bold&quot;&lt;/b&gt; &lt;/script&gt;</title>" in html
    assert _data(html)["title"] == data["title"]  # inside the JSON, </script> is written <\/script>
    assert html.count("</script>") == 2 and "/*__SCRIPT__*/" not in html


def test_a_run_that_blew_up_still_writes_valid_json(tmp_path):
    net = MLP(12, [3, 2], seed=0)
    state = net.state_dict()
    state["0.weight"][0, 0] = np.nan
    state["2.bias"][1] = np.inf
    net.load_state_dict(state)
    data = mlp_page(net, costs=[1.0, float("nan")], final_cost=float("nan"))
    path = write_network_page(tmp_path / "n.html", data)
    parsed = _data(open(path, encoding="utf-8").read())
    assert parsed["frames"][-1]["layers"][0]["weight"][0][0] is None  # read by the page as NaN
    assert parsed["frames"][-1]["layers"][1]["bias"][1] is None and parsed["frames"][-1]["cost"] is None
    assert parsed["costs"] == [[0, 1.0], [1, None], [2, None]]


def test_a_long_run_keeps_the_page_small():
    costs = list(np.geomspace(10.0, 0.01, 100_000))
    curve = mlp_page(MLP(12, [3, 2], seed=0), costs=costs, final_cost=0.009)["costs"]
    assert len(curve) == 2000 and curve[0] == [0, 10.0] and curve[-1] == [100_000, 0.009]
    assert all(a[0] < b[0] for a, b in zip(curve, curve[1:]))


def test_snapshots_are_frames_along_the_run():
    net = Layer(2, 1, seed=0)
    snaps = TrainingSnapshots(net, steps=2000, count=60)
    for i in range(1, 2001):
        net.weight.data[0, 0] = i  # as if each step moved the weights
        snaps(i, 0.5, None)
    assert snaps.steps[0] == 0 and snaps.steps[-1] == 2000 and 30 <= len(snaps.steps) <= 61
    assert [st["weight"][0, 0] for st in snaps.states[1:]] == snaps.steps[1:]  # copies, taken at those steps
    gaps = np.diff(snaps.steps)
    assert gaps[0] == 1 and gaps[-1] > 100  # close together early, where learning moves fastest
    one = TrainingSnapshots(net, steps=1)
    one(1)
    assert one.steps == [0, 1]
    with pytest.raises(ValueError, match="count >= 1"):
        TrainingSnapshots(net, 10, count=0)
    with pytest.raises(ValueError, match="spacing must be 'log' or 'even', got 'linear'"):
        TrainingSnapshots(net, 10, spacing="linear")
    even = TrainingSnapshots(net, steps=30, count=4, spacing="even")
    for i in range(1, 31):
        even(i)
    assert even.steps == [0, 7, 14, 21, 28, 30]


def test_frames_take_their_cost_from_the_run():
    net = MLP(12, [3, 2], seed=0)
    snaps = TrainingSnapshots(net, steps=3, count=10)
    for i in range(1, 4):
        snaps(i)
    data = mlp_page(net, snaps, costs=[4.0, 3.0, 2.0], final_cost=1.0)
    assert [(f["step"], f["cost"]) for f in data["frames"]] == [(0, 4.0), (1, 3.0), (2, 2.0), (3, 1.0)]
    assert mlp_page(net)["frames"] == [{**data["frames"][-1], "step": 0, "cost": None}]  # no run: one frame


@pytest.mark.parametrize("net, match", [
    (MLP(12, [3, 2], activation="relu"), "MLP of sigmoid layers"),
    (MLP(12, [4, 3, 2]), "one hidden layer"),
    (MLP(9, [3, 2]), "takes 9 inputs"),
    (Layer(12, 2), "MLP of sigmoid layers"),
])
def test_mlp_page_refuses_networks_it_cannot_draw(net, match):
    with pytest.raises(ValueError, match=match):
        mlp_page(net)


def test_a_page_of_layers_in_a_sequential_and_a_wrong_image():
    net = Sequential(Layer(12, 3, seed=0), Layer(3, 2, seed=1))  # named 0 and 1, not 0 and 2 as in an MLP
    data = mlp_page(net, image=np.eye(4, 3))
    assert np.array_equal(np.array(data["frames"][0]["layers"][1]["weight"]), net.layers[1].weight.data)
    assert data["image"] == np.eye(4, 3).reshape(12).astype(int).tolist()
    with pytest.raises(ValueError, match="must be 4x3 pixels, each 0 or 1, got 11 values"):
        mlp_page(net, image=[1] * 11)
    with pytest.raises(ValueError, match="each 0 or 1"):
        mlp_page(net, image=np.full(12, 0.5))


def test_cnn_page_refuses_other_networks():
    with pytest.raises(ValueError, match="chapter 5 network"):
        cnn_page(Sequential(Layer(36, 3)))
    net, _, _ = book_cnn()
    with pytest.raises(ValueError, match="does not fit a 5x5 image"):
        cnn_page(net, shape=(5, 5))
