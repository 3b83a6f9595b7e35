"""The command line's streams and files: results on stdout, the progress bar on stderr and only on a terminal,
`| head` without a traceback, `--out` all or none, `read` taking the spaced form it prints; the shared loop."""

import io
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import ROOT, run_python_blocks, tree_env
from tinygrad_nn import cli


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def _bar_lines(text):
    return [line for line in text.replace("\r", "\n").splitlines() if "C_T=" in line or "step " in line]


@pytest.mark.parametrize("command", ["book", "cnn"])
def test_the_progress_bar_goes_to_a_terminal_stderr_only(capsys, monkeypatch, command):
    code = cli.main([command, "--steps", "40"])
    out, err = capsys.readouterr()
    assert code == 0 and "Final C_T =" in out
    assert _bar_lines(out) == [] and err == ""  # stderr is not a terminal here: no bar anywhere

    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    code = cli.main([command, "--steps", "40"])
    out = capsys.readouterr().out
    assert code == 0 and _bar_lines(out) == []
    assert _bar_lines(terminal.getvalue()) and "C_T" in terminal.getvalue()

    terminal.seek(0), terminal.truncate()
    assert cli.main([command, "--steps", "5", "--no-progress"]) == 0
    assert terminal.getvalue() == ""


def test_a_log_file_has_no_bar_and_head_has_no_traceback(tmp_path):
    with open(tmp_path / "log.txt", "w") as log:
        r = subprocess.run([sys.executable, "-m", "tinygrad_nn", "book", "--steps", "300"], stdout=log,
                           stderr=subprocess.PIPE, text=True, env=tree_env(), timeout=300)
    assert r.returncode == 0 and r.stderr == ""
    text = (tmp_path / "log.txt").read_text()
    assert "Final C_T =" in text and "\r" not in text and _bar_lines(text) == []

    # A reader that leaves after the first line (`| head -1`): the writer stops without a traceback.
    p = subprocess.Popen([sys.executable, "-m", "tinygrad_nn", "book", "--steps", "300"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=tree_env())
    first = p.stdout.readline()
    p.stdout.close()
    err = p.stderr.read().decode()
    p.wait(timeout=300)
    assert first.startswith(b"The book's network")
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert p.returncode in (0, 141)


def _usage_error(capsys, *argv):
    with pytest.raises(SystemExit) as e:
        cli.main(list(argv))
    out, err = capsys.readouterr()
    assert e.value.code == 2 and out == "" and err.count("\n") == 1, err
    return err


@pytest.mark.parametrize("command, figure", [("book", "hidden_weights.png"), ("cnn", "filters.png")])
def test_a_folder_where_a_figure_goes_is_a_usage_error_before_training(capsys, tmp_path, command, figure):
    figs = tmp_path / "figs"
    figs.mkdir()
    (figs / "cost_curve.png").write_bytes(b"old figure")
    (figs / figure).mkdir()
    err = _usage_error(capsys, command, "--steps", "3", "--no-progress", "--out", str(figs))
    assert f"{figs / figure} is a folder, where the figure {figure} goes" in err
    assert sorted(os.listdir(figs)) == sorted(["cost_curve.png", figure])
    assert (figs / "cost_curve.png").read_bytes() == b"old figure"


def test_a_rename_failing_part_way_puts_the_old_figures_back(capsys, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from tinygrad_nn import viz

    figs = tmp_path / "figs"
    figs.mkdir()
    for name in ("cost_curve.png", "hidden_weights.png", "step_vs_sigmoid.png"):
        (figs / name).write_bytes(b"old " + name.encode())
    real = os.replace

    def fail_on_the_last_figure(src, dst):
        if os.fspath(dst).endswith("step_vs_sigmoid.png") and os.fspath(src).endswith(".tmp"):
            raise PermissionError(13, "Permission denied", os.fspath(dst))
        return real(src, dst)

    monkeypatch.setattr(viz.os, "replace", fail_on_the_last_figure)
    code = cli.main(["book", "--steps", "3", "--no-progress", "--out", str(figs)])
    out, err = capsys.readouterr()
    assert code == 1 and err.startswith("tinygrad-nn book: error: ") and err.count("\n") == 1
    assert "Permission denied" in err and "Traceback" not in err
    assert sorted(os.listdir(figs)) == ["cost_curve.png", "hidden_weights.png", "step_vs_sigmoid.png"]
    for name in os.listdir(figs):
        assert (figs / name).read_bytes() == b"old " + name.encode()


def test_a_folder_made_during_training_is_refused_before_any_figure_moves(tmp_path):
    pytest.importorskip("matplotlib")
    from tinygrad_nn import viz

    (tmp_path / "a.png").write_bytes(b"old a")
    (tmp_path / "b.png").mkdir()
    plt = viz.pyplot()
    with pytest.raises(IsADirectoryError, match="b.png is a folder, where a figure goes"):
        with viz.figure_set():
            viz.save_figure(plt.figure(figsize=(1, 1)), tmp_path / "a.png")
            viz.save_figure(plt.figure(figsize=(1, 1)), tmp_path / "b.png")
    assert sorted(os.listdir(tmp_path)) == ["a.png", "b.png"] and (tmp_path / "a.png").read_bytes() == b"old a"


def test_read_takes_the_spaced_form_it_prints(capsys, tmp_path):
    model = tmp_path / "m.npz"
    assert cli.main(["book", "--steps", "50", "--no-progress", "--save", str(model)]) == 0
    capsys.readouterr()
    assert cli.main(["read", str(model), "010101101110"]) == 0
    joined = capsys.readouterr().out
    assert cli.main(["read", str(model), "010 101 101 110"]) == 0
    assert capsys.readouterr().out == joined and "'010 101 101 110'" in joined
    assert cli.main(["read", str(model), "010", "101", "101", "110"]) == 0  # unquoted: four arguments
    assert capsys.readouterr().out == joined
    with pytest.raises(SystemExit):
        cli.main(["read", str(model), "010", "101", "101"])
    assert "got '010 101 101'" in capsys.readouterr().err


def test_the_shared_loop_gives_the_hooks_every_step_and_snapshots():
    from tinygrad_nn.cli.train_loop import Snapshots, full_batch_step, make_optimizer, train
    from tinygrad_nn.data import load_digits_4x3
    from tinygrad_nn.nn import MLP, squared_error
    from tinygrad_nn.optim import SGD

    data = load_digits_4x3()
    net = MLP(12, [3, 2], activation="sigmoid", seed=5)
    first = {k: v.copy() for k, v in net.state_dict().items()}
    opt, lr = make_optimizer(net.parameters(), "sgd")
    seen = []
    snaps = Snapshots(net, steps=30, count=4)
    run = train(full_batch_step(net, opt), data.inputs, data.targets, 30, progress=False,
                hooks=[snaps, lambda i, cost, out: seen.append((i, cost, out.shape))])
    assert lr == 0.2 and [i for i, _, _ in seen] == list(range(1, 31)) and seen[0][2] == (64, 2)
    assert [c for _, c, _ in seen] == run.costs

    twin = MLP(12, [3, 2], activation="sigmoid", seed=5)  # the same steps written out by hand
    twin_opt = SGD(twin.parameters(), lr=0.2)
    costs = []
    for _ in range(30):
        twin_opt.zero_grad()
        cost = squared_error(twin(data.inputs), data.targets)
        cost.backward()
        twin_opt.step()
        costs.append(cost.item())
    assert costs == run.costs

    assert snaps.steps == [0, 7, 14, 21, 28, 30]
    for k in first:
        np.testing.assert_array_equal(snaps.states[0][k], first[k])
        np.testing.assert_array_equal(snaps.states[-1][k], twin.state_dict()[k])
    assert not np.array_equal(snaps.states[1]["0.weight"], snaps.states[2]["0.weight"])


def test_the_code_in_docs_command_line_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run_python_blocks(ROOT / "docs" / "command_line.md") >= 2
