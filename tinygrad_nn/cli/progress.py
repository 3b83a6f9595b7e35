"""The progress bar of a training command: on stderr, and only when stderr is a terminal.

Results go to stdout and the bar does not, so `tinygrad-nn book > log.txt` keeps a clean log and
`tinygrad-nn book | head` never meets the bar. tqdm draws it when installed (extra `plot`); without tqdm a
plain line is written now and then.

>>> import io
>>> bar = Progress(100, enabled=True, stream=io.StringIO())   # not a terminal: nothing is drawn
>>> bar.update(100, 0.5); bar.close(); bar.enabled
False
"""

from __future__ import annotations

import sys


class Progress:
    def __init__(self, total, enabled=True, stream=None):
        stream = sys.stderr if stream is None else stream
        isatty = getattr(stream, "isatty", None)
        self.total, self.stream, self.bar = total, stream, None
        self.enabled = bool(enabled and isatty is not None and isatty())
        self.every = max(1, total // 10)
        if self.enabled:
            try:
                from tqdm import tqdm
            except ImportError:
                return
            self.bar = tqdm(total=total, desc="training", unit="step", file=stream, dynamic_ncols=True,
                            mininterval=0.2)

    def update(self, i, cost):
        """Step `i` (1-based) is done, with the cost `cost`."""
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(1)
            if i % 20 == 0 or i == self.total:
                self.bar.set_postfix(C_T=f"{cost:.5f}", refresh=False)
        elif i % self.every == 0 or i == self.total:
            print(f"  step {i:>6}/{self.total}  C_T = {cost:.6f}", file=self.stream, flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()
