"""`python -m benchmarks.memory`: each call's peak and live memory under tracemalloc, eager and jitted."""

import pytest

from benchmarks import memory


def test_each_call_is_measured_over_the_built_case():
    calls = memory.measure("2", "tinygrad_nn_jit", 4, quick=True)
    assert len(calls) == 4
    assert all(peak >= live and peak > 0 for peak, live in calls)  # a call allocates, and frees some of it


def test_the_table_has_a_row_per_implementation(capsys, monkeypatch):
    monkeypatch.setattr(memory, "IMPLS", ("tinygrad_nn",))  # one worker process is enough to see the plumbing
    assert memory.main(["--workload", "2", "--calls", "3", "--quick"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| tinygrad_nn |")]
    assert len(rows) == 1 and rows[0].count("/") == 3


@pytest.mark.parametrize("args, message", [(["--workload", "2", "--calls", "0"], "at least 1"),
                                           (["--workload", "7"], "invalid choice")])
def test_bad_arguments_are_refused_by_name(args, message, capsys):
    with pytest.raises(SystemExit):
        memory.main(args)
    assert message in capsys.readouterr().err
