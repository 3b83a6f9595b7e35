"""`python -m benchmarks.interleaved`: two implementations of one workload stepped in turn in one process."""

import pytest

from benchmarks import interleaved


def test_it_steps_both_sides_in_turn_and_prints_one_row_per_case(capsys):
    assert interleaved.main(["--workload", "7", "--steps", "3", "--quick"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| W7, ")]
    assert [r.split(" |")[0] for r in rows] == ["| W7, input gradient", "| W7, data batch"]
    result = interleaved.run("2", ("numpy", "tinygrad_nn"), 4, quick=True)
    assert result["impls"] == ("numpy", "tinygrad_nn") and all(t > 0 for t in result["median"])
    assert result["median_ratio"] == result["median"][1] / result["median"][0]


@pytest.mark.parametrize("args, message", [(["--workload", "2", "--impls", "numpy"], "give two implementations"),
                                           (["--workload", "2", "--steps", "0"], "at least 1"),
                                           (["--workload", "9"], "invalid choice")])
def test_bad_arguments_are_refused_by_name(args, message, capsys):
    with pytest.raises(SystemExit):
        interleaved.main(args)
    assert message in capsys.readouterr().err
