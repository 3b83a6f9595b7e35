import os
import stat
import subprocess
import sys

import pytest

from tests.conftest import tree_env
from tinygrad_nn import cli


def run(capsys, *argv):
    code = cli.main(list(argv))
    return code, capsys.readouterr().out


def test_book_runs_end_to_end(capsys, tmp_path):
    model = tmp_path / "model.npz"
    code, out = run(capsys, "book", "--steps", "1500", "--no-progress", "--save", str(model))
    assert code == 0
    assert "Accuracy: 64/64 images (100.0%)" in out
    assert "'010 101 101 110'" in out and "it reads a 0" in out
    assert "unit 1" in out and "unit 3" in out
    assert "Final C_T =" in out
    assert f"tinygrad-nn read {model} 010101101110" in out
    # The saved network reads the book's test image as the trained one did, and a 1 as a 1.
    book_line = [line for line in out.splitlines() if "output units" in line][0]
    code, read = run(capsys, "read", str(model), "010101101110")
    assert code == 0 and book_line in read and "'010 101 101 110'" in read
    code, read = run(capsys, "read", str(model), "010010010010")
    assert code == 0 and "it reads a 1" in read


def test_book_writes_figures_with_matplotlib(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    old = os.umask(0o022)
    try:
        code, out = run(capsys, "book", "--steps", "30", "--no-progress", "--out", str(tmp_path / "figs"))
    finally:
        os.umask(old)
    assert code == 0
    names = ["cost_curve.png", "hidden_weights.png", "step_vs_sigmoid.png"]
    for name in names:
        path = tmp_path / "figs" / name
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert name in out
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o644  # what the umask gives (mkstemp alone: 0600)
    assert str(tmp_path / "figs") in out
    assert not [p for p in os.listdir(tmp_path / "figs") if p not in names]  # no temp files left


def test_book_without_matplotlib_says_how(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if it were not installed
    code, out = run(capsys, "book", "--steps", "5", "--no-progress", "--out", str(tmp_path / "figs"))
    assert code == 0
    assert 'pip install "tinygrad_nn[plot]"' in out
    assert not (tmp_path / "figs").exists()


def test_book_options(capsys):
    code, out = run(capsys, "book", "--steps", "200", "--optimizer", "adam", "--lr", "0.05", "--seed", "3",
                    "--no-progress")
    assert code == 0 and "adam, lr 0.05, seed 3" in out
    with pytest.raises(SystemExit):
        cli.main(["book", "--steps", "0"])
    with pytest.raises(SystemExit):
        cli.main(["book", "--optimizer", "rmsprop"])


def test_progress_bar_shows_cost(capsys):
    code, out = run(capsys, "book", "--steps", "40")
    assert code == 0 and "C_T" in out


def test_python_dash_m_and_help():
    r = subprocess.run([sys.executable, "-m", "tinygrad_nn", "book", "--help"], capture_output=True, text=True,
                       check=True, env=tree_env())
    for word in ("--seed", "--steps", "--lr", "--optimizer", "--out"):
        assert word in r.stdout


# -- issue 8: usage errors before training, figure files ---------------------------------------------------

import numpy as np  # noqa: E402

BAD_ARGS = [
    (["--seed", "-1"], "argument --seed: must be a whole number >= 0, got -1"),
    (["--seed", "x"], "argument --seed: must be a whole number, got 'x'"),
    (["--steps", "0"], "argument --steps: must be at least 1, got 0"),
    (["--steps", "-5"], "argument --steps: must be at least 1, got -5"),
    (["--lr", "nan"], "argument --lr: must be a positive finite number, got nan"),
    (["--lr", "inf"], "argument --lr: must be a positive finite number, got inf"),
    (["--lr", "-0.1"], "argument --lr: must be a positive finite number, got -0.1"),
    (["--lr", "0"], "argument --lr: must be a positive finite number, got 0"),
]


@pytest.mark.parametrize("argv, message", BAD_ARGS)
def test_bad_arguments_are_one_line_usage_errors(capsys, argv, message):
    with pytest.raises(SystemExit) as e:
        cli.main(["book", *argv])
    assert e.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""  # nothing trained, nothing printed
    assert err.count("\n") == 1 and err.startswith("tinygrad-nn book: error: ") and message in err


def _usage_error(capsys, *argv):
    with pytest.raises(SystemExit) as e:
        cli.main(["book", "--no-progress", *argv])
    out, err = capsys.readouterr()
    assert e.value.code == 2 and out == "" and err.count("\n") == 1
    return err


def test_out_naming_a_file_is_a_usage_error(capsys, tmp_path):
    (tmp_path / "taken").write_text("x")
    assert "is an existing file, not a folder" in _usage_error(capsys, "--out", str(tmp_path / "taken"))
    err = _usage_error(capsys, "--out", str(tmp_path / "taken" / "figs"))
    assert "cannot be made, because" in err and "is a file, not a folder" in err


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write into any folder")
def test_out_in_a_read_only_folder_is_a_usage_error(capsys, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        assert "cannot write into" in _usage_error(capsys, "--out", str(ro / "figs"))
    finally:
        ro.chmod(0o700)


def test_out_is_checked_with_a_real_write(capsys, tmp_path, monkeypatch):
    # os.access knows nothing of read-only mounts (and says yes to root): the check creates a file. Simulate
    # a folder where that fails.
    import tempfile

    real = tempfile.TemporaryFile

    def refuse(*args, dir=None, **kwargs):
        if dir is not None and os.path.abspath(dir) == str(tmp_path):
            raise PermissionError(13, "Read-only file system")
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "TemporaryFile", refuse)
    assert "cannot write into" in _usage_error(capsys, "--out", str(tmp_path / "figs"))


def test_usage_error_from_a_fresh_process_has_no_traceback():
    r = subprocess.run([sys.executable, "-m", "tinygrad_nn", "book", "--steps", "0"], capture_output=True, text=True,
                       env=tree_env())
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr and "--steps" in r.stderr


def test_a_failing_figure_leaves_no_partial_set(capsys, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from tinygrad_nn import viz

    def tiny(*args, **kwargs):  # quick stand-ins for the first two figures: written through save_figure
        return viz.save_figure(viz.pyplot().figure(figsize=(1, 1)), args[1])

    def broken(path):
        raise RuntimeError("the third figure fails")

    monkeypatch.setattr(viz, "plot_cost_curve", tiny)
    monkeypatch.setattr(viz, "plot_weight_maps", tiny)
    monkeypatch.setattr(viz, "plot_step_vs_sigmoid", broken)
    figs = tmp_path / "figs"
    with pytest.raises(RuntimeError, match="the third figure fails"):
        cli.main(["book", "--steps", "3", "--no-progress", "--out", str(figs)])
    assert not figs.exists() or os.listdir(figs) == []  # neither the first two figures nor temporary files


def test_lr_accepts_plain_numbers(capsys):
    code, out = run(capsys, "book", "--steps", "2", "--lr", "1e-1", "--no-progress")
    assert code == 0 and "lr 0.1" in out
    assert np.isfinite(float(out.split("Final C_T = ")[1].split()[0]))


# -- issue 11: book --save, read ---------------------------------------------------------------------------


def test_read_prints_both_units_of_the_saved_network(capsys, tmp_path):
    from tinygrad_nn import Value, load
    from tinygrad_nn.data import parse_image
    from tinygrad_nn.nn import MLP

    model = tmp_path / "m.npz"
    assert run(capsys, "book", "--steps", "20", "--seed", "4", "--no-progress", "--save", str(model))[0] == 0
    net = MLP(12, [3, 2])
    net.load_state_dict(load(model))
    for pixels in ("111101101111", "000000000000", "010110010111"):
        a = net(Value(parse_image(" ".join(pixels[i:i + 3] for i in range(0, 12, 3))).reshape(12))).data
        code, out = run(capsys, "read", str(model), pixels)
        assert code == 0
        assert f'a1 ("0") = {a[0]:.4f}, a2 ("1") = {a[1]:.4f}  ->  it reads a {int(np.argmax(a))}' in out


def _read_error(capsys, *argv):
    with pytest.raises(SystemExit) as e:
        cli.main(["read", *argv])
    out, err = capsys.readouterr()
    assert e.value.code == 2 and out == "" and err.count("\n") == 1, err
    assert err.startswith("tinygrad-nn read: error: ")
    return err


@pytest.mark.parametrize("pixels", ["01010110111", "0101011011100", "01010110111x", "0101 0110111", "", "2" * 12])
def test_read_refuses_anything_but_twelve_binary_digits(capsys, tmp_path, pixels):
    err = _read_error(capsys, str(tmp_path / "m.npz"), pixels)
    assert "argument PIXELS: must be exactly 12 digits 0 or 1" in err and repr(pixels) in err


def test_read_explains_a_bad_model_file(capsys, tmp_path):
    from tinygrad_nn import save
    from tinygrad_nn.nn import MLP

    assert "no such file" in _read_error(capsys, str(tmp_path / "missing.npz"), "010101101110")
    assert "is a folder" in _read_error(capsys, str(tmp_path), "010101101110")
    (tmp_path / "junk.npz").write_bytes(b"junk")
    assert "is not a .npz archive" in _read_error(capsys, str(tmp_path / "junk.npz"), "010101101110")
    save(MLP(6, [3, 2]).state_dict(), tmp_path / "six.npz")
    assert "holds no network of 12 inputs and 2 outputs" in _read_error(capsys, str(tmp_path / "six.npz"),
                                                                        "010101101110")
    save(MLP(12, [3, 2], activation=None).state_dict(), tmp_path / "linear.npz")  # 0 and 1: not the book's
    assert "missing ['2.weight', '2.bias']" in _read_error(capsys, str(tmp_path / "linear.npz"), "010101101110")


def test_save_path_is_checked_before_training(capsys, tmp_path):
    assert "is a folder; name a file" in _usage_error(capsys, "--save", str(tmp_path))
    assert "does not exist" in _usage_error(capsys, "--save", str(tmp_path / "no" / "m.npz"))
