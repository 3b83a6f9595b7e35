"""`book` and `cnn` train through jit by default; `--eager` gives the same numbers, bit for bit."""

import re

from tinygrad_nn import cli


def _run(capsys, *argv):
    code = cli.main(list(argv))
    return code, capsys.readouterr().out


def _final(out):
    return re.search(r"Final C_T = (\S+)", out).group(1), re.search(r"Accuracy: .*", out).group(0)


def test_book_through_jit_and_eagerly_agree(capsys):
    code_j, out_j = _run(capsys, "book", "--steps", "60", "--no-progress")
    code_e, out_e = _run(capsys, "book", "--steps", "60", "--no-progress", "--eager")
    assert code_j == code_e == 0
    assert "Through tinygrad_nn.jit" in out_j and "Eagerly" in out_e
    assert _final(out_j) == _final(out_e)


def test_cnn_through_jit_and_eagerly_agree(capsys):
    code_j, out_j = _run(capsys, "cnn", "--steps", "20", "--no-progress", "--optimizer", "adam")
    code_e, out_e = _run(capsys, "cnn", "--steps", "20", "--no-progress", "--optimizer", "adam", "--eager")
    assert code_j == code_e == 0
    assert _final(out_j) == _final(out_e)
