import csv
import io
from importlib.resources import files

import numpy as np
import pytest

from tinygrad_nn.data import (
    TEST_IMAGE_GAP_ZERO,
    load_backprop_params,
    load_digits_4x3,
    load_digits_6x6,
    load_regression,
    parse_image,
    render_image,
)


def _csv_rows(name):
    """Parse a packaged CSV independently of the loaders, to check them against the file text."""
    text = files("tinygrad_nn.data").joinpath(name).read_text(encoding="utf-8")
    header, *rows = csv.reader(io.StringIO(text))
    return header, rows


def test_digits_4x3_shapes_and_dtypes():
    data = load_digits_4x3()
    assert data.images.shape == (64, 4, 3) and data.images.dtype == np.float64
    assert data.inputs.shape == (64, 12) and data.inputs.dtype == np.float64
    assert data.targets.shape == (64, 2) and data.targets.dtype == np.float64
    assert data.digits.shape == (64,) and data.digits.dtype == np.int64
    assert data.ids.dtype == np.int64 and data.ids.tolist() == list(range(1, 65))
    assert set(np.unique(data.images).tolist()) == {0.0, 1.0}
    np.testing.assert_array_equal(data.images.reshape(64, 12), data.inputs)


def test_digits_4x3_order_and_targets():
    data = load_digits_4x3()
    assert data.digits.tolist() == [0] * 32 + [1] * 32
    np.testing.assert_array_equal(data.targets.sum(axis=1), np.ones(64))
    np.testing.assert_array_equal(data.targets.argmax(axis=1), data.digits)


def test_digits_4x3_keeps_the_books_duplicates():
    images = load_digits_4x3().images
    np.testing.assert_array_equal(images[33 - 1], images[35 - 1])
    np.testing.assert_array_equal(images[34 - 1], images[49 - 1])
    distinct = {im.tobytes() for im in images}
    assert len(distinct) == 62


def test_digits_4x3_pixels_match_csv_text():
    header, rows = _csv_rows("images_4x3.csv")
    images = load_digits_4x3().images
    # p5 of image 1 (row 2, column 2: the hole of the 0) and p3 of image 3 (row 1, column 3).
    assert rows[0][header.index("p5")] == "0" and images[0, 1, 1] == 0.0
    assert rows[2][header.index("p3")] == "0" and images[2, 0, 2] == 0.0
    assert rows[0][header.index("p1")] == "1" and images[0, 0, 0] == 1.0
    for row, image in zip(rows, images, strict=True):
        pixels = [float(row[header.index(f"p{i}")]) for i in range(1, 13)]
        assert image.ravel().tolist() == pixels


def test_digits_4x3_returns_fresh_arrays():
    first = load_digits_4x3()
    first.images[:] = 7.0
    first.inputs[:] = 7.0
    assert load_digits_4x3().images.max() == 1.0
    assert load_digits_4x3().inputs.max() == 1.0


def test_digits_6x6():
    data = load_digits_6x6()
    assert data.images.shape == (96, 6, 6) and data.inputs.shape == (96, 36)
    assert data.targets.shape == (96, 3) and data.targets.dtype == np.float64
    assert data.digits.dtype == np.int64 and data.ids.tolist() == list(range(1, 97))
    assert data.digits.tolist() == [1] * 32 + [2] * 32 + [3] * 32
    np.testing.assert_array_equal(data.targets.argmax(axis=1) + 1, data.digits)
    np.testing.assert_array_equal(data.targets.sum(axis=1), np.ones(96))
    header, rows = _csv_rows("images_6x6_cnn.csv")
    assert float(rows[1][header.index("p9")]) == data.images[1, 1, 2]
    assert float(rows[95][header.index("p36")]) == data.images[95, 5, 5]


def test_backprop_params():
    params = load_backprop_params()
    assert set(params) == {"W_hidden", "b_hidden", "W_out", "b_out", "eta"}
    shapes = {"W_hidden": (3, 12), "b_hidden": (3,), "W_out": (2, 3), "b_out": (2,)}
    for name, shape in shapes.items():
        assert params[name].shape == shape and params[name].dtype == np.float64
    assert isinstance(params["eta"], float) and params["eta"] == 0.2
    assert params["W_hidden"][0, 0] == pytest.approx(0.49038557898997)
    assert params["b_out"][1] == pytest.approx(-1.37933790823328)


def test_backprop_params_are_fresh_copies():
    params = load_backprop_params()
    original = params["W_hidden"].copy()
    params["W_hidden"] -= 1.0
    params["b_out"][:] = 0.0
    again = load_backprop_params()
    np.testing.assert_array_equal(again["W_hidden"], original)
    assert not np.all(again["b_out"] == 0.0)


def test_regression():
    heights, weights = load_regression()
    assert heights.shape == weights.shape == (7,)
    assert heights.dtype == weights.dtype == np.float64
    assert (heights[0], weights[0]) == (153.3, 45.5)
    assert (heights[-1], weights[-1]) == (161.1, 56.4)
    assert load_regression().heights is not heights


def test_test_image_gap_zero():
    expected = [[0, 1, 0], [1, 0, 1], [1, 0, 1], [1, 1, 0]]
    assert TEST_IMAGE_GAP_ZERO.shape == (4, 3) and TEST_IMAGE_GAP_ZERO.dtype == np.float64
    assert TEST_IMAGE_GAP_ZERO.tolist() == expected
    with pytest.raises(ValueError):
        TEST_IMAGE_GAP_ZERO[0, 0] = 1.0


def test_parse_image_forms_agree():
    from_string = parse_image("010 101 101 110")
    from_lines = parse_image("010\n101\n101\n110\n")
    from_list = parse_image(["010", "101", "101", "110"])
    assert from_string.dtype == np.float64
    np.testing.assert_array_equal(from_string, TEST_IMAGE_GAP_ZERO)
    np.testing.assert_array_equal(from_lines, TEST_IMAGE_GAP_ZERO)
    np.testing.assert_array_equal(from_list, TEST_IMAGE_GAP_ZERO)


@pytest.mark.parametrize(
    "rows, words",
    [
        ("010 10 101", ["row 2", "2 pixel", "row 1 has 3"]),
        (["010", "1x1"], ["row 2", "'x'", "column 2", "'0' and '1'"]),
        ("012", ["row 1", "'2'", "column 3"]),
        ("", ["no rows"]),
        ([], ["no rows"]),
        (["01", 10], ["row 2", "string"]),
    ],
)
def test_parse_image_errors(rows, words):
    with pytest.raises(ValueError) as info:
        parse_image(rows)
    for word in words:
        assert word in str(info.value)


def test_render_binary_image():
    text = render_image(TEST_IMAGE_GAP_ZERO)
    lines = text.split("\n")
    assert len(lines) == 4 and all(len(line) == 3 for line in lines)
    assert set(text) <= {"█", "·", "\n"}
    assert lines[3] == "██·"
    assert render_image(load_digits_6x6().images[0], on="#", off=".").count("\n") == 5


def test_render_grey_and_signed_images():
    assert render_image([[0.0, 0.25, 0.5, 0.75, 1.0]]) == "·░▒▓█"
    # Outside [0, 1] the image is min-max scaled: most negative -> off, most positive -> on.
    assert render_image(np.array([[-3.0, -1.0], [1.0, 5.0]]), on="+", off="-") == "-░\n▒+"
    assert render_image([[4.0, 4.0]]) == "▒▒"
    with pytest.raises(ValueError, match="2-D"):
        render_image(np.zeros(3))
    with pytest.raises(ValueError, match="NaN"):
        render_image([[np.nan]])
