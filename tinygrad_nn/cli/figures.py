"""The figures a training command writes into `--out DIR`: all of them or none.

A command lists its figures as (file name, plot) pairs, plot(path) writing one file through viz.save_figure
(a matplotlib figure) or viz.save_file (anything else, e.g. an HTML page), so that it joins the set.
`check_out_dir` looks at the names before training (a folder where a figure goes is a usage error);
`write_figures` renders every figure to a temporary file and renames them into place only when all are
written, and if a rename fails part-way it puts back what was there (viz.figure_set).
"""

from __future__ import annotations

import os

from .. import viz


def figures_wanted(out, what) -> bool:
    """Whether a command should write its figures (`what`) to `out`; when not, it says why in one line."""
    if out is None:
        if viz.have_matplotlib():
            print(f"\nFigures: add --out DIR to write {what}.")
        else:
            print(f"\nFigures: none written ({viz.PLOT_HINT}; then add --out DIR).")
        return False
    if not viz.have_matplotlib():
        print(f"\nFigures: none written to {out}: {viz.PLOT_HINT}")
        return False
    return True


def write_figures(out, figures):
    """Write every figure of `figures` ((name, plot) pairs, plot(path) writing the file) into the folder `out`:
    all of them or none, as a failure part-way leaves the folder as it was; then list them."""
    with viz.figure_set():
        paths = [plot(os.path.join(out, name)) for name, plot in figures]
    print(f"\nFigures written to {os.path.abspath(out)}:")
    for p in paths:
        print(f"  {os.path.basename(p)}")
