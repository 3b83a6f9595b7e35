"""The record-time target of `python -m benchmarks` (run.py `recording_calls`): each recording call of the jitted
step set against the eager step's call at the same point of a fresh process (first with first, second with
second), medians over the processes, the worse of the two."""

from __future__ import annotations

from benchmarks.run import Row, recording_calls, targets


def _rows(jit_extra, eager_extra):
    row = "2 book"
    return {(row, "tinygrad_nn_jit"): Row(job=None, extra=jit_extra),
            (row, "tinygrad_nn"): Row(job=None, extra=eager_extra)}, row


def test_first_with_first_and_second_with_second_the_worse_of_the_two():
    jit = [{"record_first_cpu_s": 2.0e-3, "record_second_cpu_s": 0.9e-3},
           {"record_first_cpu_s": 3.0e-3, "record_second_cpu_s": 1.1e-3},
           {"record_first_cpu_s": 2.2e-3, "record_second_cpu_s": 1.0e-3}]
    eager = [{"first_steps_cpu_s": [1.0e-3, 0.4e-3]}, {"first_steps_cpu_s": [0.8e-3, 0.5e-3]},
             {"first_steps_cpu_s": [1.2e-3, 0.3e-3]}]
    rows, row = _rows(jit, eager)
    value, where = recording_calls(rows, row, "tinygrad_nn_jit", "tinygrad_nn")
    # medians: first 2.2 ms / 1.0 ms = 2.2x; second 1.0 ms / 0.4 ms = 2.5x
    assert abs(value - 2.5) < 1e-12 and where == (row, "tinygrad_nn_jit")


def test_without_both_rows_or_their_figures_it_is_skipped():
    rows, row = _rows([{"record_first_cpu_s": 1e-3, "record_second_cpu_s": 1e-3}], [{"first_steps_cpu_s": [1e-3]}])
    assert recording_calls(rows, row, "tinygrad_nn_jit", "tinygrad_nn") == (None, None)
    del rows[(row, "tinygrad_nn")]
    assert recording_calls(rows, row, "tinygrad_nn_jit", "tinygrad_nn") == (None, None)


def test_the_bound_is_ten_for_the_scalar_graph_and_three_for_tensors():
    jit = [{"record_first_cpu_s": 4e-3, "record_second_cpu_s": 4e-3}]
    eager = [{"first_steps_cpu_s": [1e-3, 1e-3]}]

    class Job:
        def __init__(self, wid, row):
            self.wid, self.row = wid, row

    for wid, bound, status in ((1, 10.0, "PASS"), (2, 3.0, "MISS")):
        row = f"{wid} w"
        rows = {(row, "tinygrad_nn_jit"): Row(job=None, extra=jit), (row, "tinygrad_nn"): Row(job=None, extra=eager)}
        got = [t for t in targets(rows, [[Job(wid, row)]]) if "each call that records" in t.name]
        assert len(got) == 1 and got[0].limit == bound and got[0].value == 4.0 and got[0].status == status
