"""network.html in a real browser (headless Chromium): click pixels, move the slider, switch to the hand-set
demons, and hold every number the page prints to the saved model's forward pass in Python (to 1e-6).

Testing contract of the page: `data-pixel="i"` elements toggle on click and show `aria-pressed`; hidden unit j's
activation is the text of `data-hidden="j"`, output k's of `data-output="k"`.
"""

from __future__ import annotations

import json

import numpy as np

from tinygrad_nn import Value, cli, load
from tinygrad_nn.cli.cnn import SERIF_ONE_ROWS, book_cnn
from tinygrad_nn.data import TEST_IMAGE_GAP_ZERO, parse_image
from tinygrad_nn.data.demons import hand_set_demons
from tinygrad_nn.engine import no_grad
from tinygrad_nn.nn import MLP

from .browser import chromium

TOL = 1e-6


def _train(capsys, tmp_path, command, *extra):
    out, model = tmp_path / "out", tmp_path / "model.npz"
    assert cli.main([command, "--no-progress", "--out", str(out), "--save", str(model), *extra]) == 0
    capsys.readouterr()
    return out / "network.html", load(model)


def _pressed(b, n):
    return [b.page.get_attribute(f'[data-pixel="{i}"]', "aria-pressed") for i in range(n)]


def _numbers(b, attr, n):
    texts = [b.page.inner_text(f'[data-{attr}="{k}"]') for k in range(n)]
    for t in texts:  # at least six significant digits
        digits = t.split("e")[0].replace("-", "").replace(".", "").lstrip("0")
        assert len(digits) >= 6, f"data-{attr} prints {t!r}: fewer than six significant digits"
    exact = [float(b.page.get_attribute(f'[data-{attr}="{k}"]', "data-value")) for k in range(n)]
    np.testing.assert_allclose([float(t) for t in texts], exact, rtol=1e-7, atol=0)  # the text rounds data-value
    return np.array([float(t) for t in texts]), np.array(exact)


def _close(b, attr, expected):
    """The page's numbers against Python's: the printed text to the contract's 1e-6, and the double behind it
    (data-value) to 1e-12, a few roundings apart (JavaScript and BLAS add the products in their own orders)."""
    text, exact = _numbers(b, attr, len(expected))
    np.testing.assert_allclose(text, expected, rtol=0, atol=TOL)
    np.testing.assert_allclose(exact, expected, rtol=0, atol=1e-12)


def _check_wires(b, key):
    """The last layer's weights are drawn as lines, one per weight (output k, then source j), each as wide as
    the weight is large against the largest of the run's (the colour scale is fixed over the slider)."""
    data = json.loads(b.page.inner_text("#page-data"))
    frames = data["frames"]
    final = np.array(frames[-1][key] if key == "weight" else frames[-1]["layers"][-1]["weight"])
    scale = max(np.abs(np.array(f[key] if key == "weight" else f["layers"][-1]["weight"])).max() for f in frames)
    widths = b.page.eval_on_selector_all("#wires line", "ls => ls.map(l => Number(l.getAttribute('stroke-width')))")
    np.testing.assert_allclose(widths, 0.5 + 7 * np.abs(final).reshape(-1) / scale, atol=0.006)
    shot = b.page.screenshot(full_page=True)
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 20000


def _set_frame(b, index):
    b.page.eval_on_selector("#frame", "(e, i) => { e.value = String(i); e.dispatchEvent(new Event('input')); }",
                            index)


def _check_demons(b, weight):
    """Each hidden unit's card draws its 12 incoming weights on the 4x3 grid, row by row, red for a positive
    weight and blue for a negative one (the number is in each cell's tooltip)."""
    cells = b.page.eval_on_selector_all("#units .unit", """cards => cards.map(card =>
        [...card.querySelectorAll(".cell")].map(c => [c.title, getComputedStyle(c).backgroundColor]))""")
    assert len(cells) == len(weight) and all(len(c) == 12 for c in cells)
    for unit, w in zip(cells, weight):
        drawn = [float(title.rsplit(": ", 1)[1]) for title, _ in unit]
        np.testing.assert_allclose(drawn, w, rtol=1e-7, atol=1e-12)
        for (_, colour), v in zip(unit, w):
            red, _, blue = (float(x) for x in colour[colour.index("(") + 1:colour.index(")")].split(",")[:3])
            assert (red > blue) == (v > 0) or v == 0, (colour, v)


def _mlp(state):
    net = MLP(12, [3, 2])
    net.load_state_dict(state)
    return net


def _check_mlp(b, net, image):
    x = Value(np.asarray(image, dtype=np.float64).reshape(12), requires_grad=False)
    with no_grad():
        hidden = net.layers[0](x).data
        out = net(x).data
    assert _pressed(b, 12) == ["true" if p else "false" for p in np.asarray(image).reshape(12)]
    _close(b, "hidden", hidden)
    _close(b, "output", out)
    assert b.page.get_attribute("#verdict", "data-verdict") == str(int(np.argmax(out)))


def test_book_page_answers_as_the_saved_model(capsys, tmp_path):
    page, state = _train(capsys, tmp_path, "book", "--steps", "120", "--seed", "2")
    net = _mlp(state)
    with chromium(tmp_path / "profile") as b:
        b.page.goto(page.as_uri())
        image = np.array(TEST_IMAGE_GAP_ZERO, dtype=float).reshape(12)  # the page opens on the book's test image
        _check_mlp(b, net, image)
        _check_demons(b, state["0.weight"])
        _check_wires(b, "layers")
        for i in np.random.default_rng(0).integers(0, 12, size=10):  # clicks, some on the same pixel twice
            b.page.click(f'[data-pixel="{i}"]')
            image[i] = 1 - image[i]
            _check_mlp(b, net, image)
        b.page.click("#clear")
        _check_mlp(b, net, np.zeros(12))
        b.page.click("#reset")
        _check_mlp(b, net, np.array(TEST_IMAGE_GAP_ZERO, dtype=float))

        # The first frame of the slider: the untrained network of the same seed.
        _set_frame(b, 0)
        assert "after 0 steps" in b.page.inner_text("#frame-label")
        _check_mlp(b, MLP(12, [3, 2], seed=2), np.array(TEST_IMAGE_GAP_ZERO, dtype=float))
        last = int(b.page.get_attribute("#frame", "max"))
        _set_frame(b, last)
        assert "after 120 steps" in b.page.inner_text("#frame-label")
        _check_mlp(b, net, np.array(TEST_IMAGE_GAP_ZERO, dtype=float))

        # The book's hand-set demons, then back to what was learned.
        b.page.click('input[value="handset"]')
        assert b.page.is_disabled("#frame")
        _check_mlp(b, _mlp(hand_set_demons()), np.array(TEST_IMAGE_GAP_ZERO, dtype=float))
        _check_demons(b, hand_set_demons()["0.weight"])
        assert b.page.inner_text("#units h3") == "demon A"
        b.page.click('input[value="trained"]')
        _check_mlp(b, net, np.array(TEST_IMAGE_GAP_ZERO, dtype=float))
        assert all(u.startswith("file:") for u in b.requests)
        b.assert_clean()


def test_book_page_keyboard_toggles_a_pixel(capsys, tmp_path):
    page, state = _train(capsys, tmp_path, "book", "--steps", "5")
    with chromium(tmp_path / "profile") as b:
        b.page.goto(page.as_uri())
        b.page.focus('[data-pixel="0"]')
        b.page.keyboard.press("Space")  # pixels are buttons: the keyboard works as a click does
        image = np.array(TEST_IMAGE_GAP_ZERO, dtype=float).reshape(12)
        image[0] = 1.0
        _check_mlp(b, _mlp(state), image)
        b.assert_clean()


def _check_cnn(b, net, image):
    with no_grad():
        out = net(np.asarray(image, dtype=np.float64).reshape(1, 1, 6, 6)).data[0]
    assert _pressed(b, 36) == ["true" if p else "false" for p in np.asarray(image).reshape(36)]
    _close(b, "output", out)
    assert b.page.get_attribute("#verdict", "data-verdict") == str(int(np.argmax(out)) + 1)


def test_cnn_page_answers_as_the_saved_model(capsys, tmp_path):
    page, state = _train(capsys, tmp_path, "cnn", "--steps", "25", "--seed", "1")
    net, _, _ = book_cnn()
    net.load_state_dict(state)
    with chromium(tmp_path / "profile") as b:
        b.page.goto(page.as_uri())
        image = parse_image(SERIF_ONE_ROWS).reshape(36).astype(float)  # the page opens on the serif 1
        _check_cnn(b, net, image)
        _check_wires(b, "weight")
        assert b.page.query_selector('[data-pixel="36"]') is None and b.page.query_selector('[data-hidden="0"]') is None
        for i in np.random.default_rng(1).integers(0, 36, size=8):
            b.page.click(f'[data-pixel="{i}"]')
            image[i] = 1 - image[i]
            _check_cnn(b, net, image)
        _set_frame(b, 0)
        untrained, _, _ = book_cnn(seed=1)
        _check_cnn(b, untrained, image)
        assert b.page.is_hidden("#handset-choice")  # no hand-set network in chapter 5
        b.assert_clean()
