"""Sections 1-2 and 1-3: the firing neuron, its unit step, and the sigmoid that replaces it.

What you should see:
- the firing table of one neuron with hand-set weights w = (2, 3) and threshold θ = 4: for each input
  x it shows z = w . x - θ and the output, 1 (fires) exactly when z >= 0, i.e. when w . x reaches θ;
- the same neuron with the sigmoid a(z) = 1 / (1 + exp(-z)) instead of the step: a smooth output
  between 0 and 1 that is above 1/2 exactly where the step neuron fires;
- z written three ways: the threshold form w . x - θ, the bias form w . x + b with b = -θ, and a
  single inner product (w1, w2, b) . (x1, x2, 1); the three are equal.

Run:  python examples/ch1_2_threshold_neuron.py [--out DIR]
With --out, also writes DIR/step_vs_sigmoid.png (needs matplotlib).
"""

from __future__ import annotations

import argparse
import math
import os

import numpy as np

from tinygrad_nn import viz
from tinygrad_nn.nn import Neuron

# The weights and threshold are our own choice for the demonstration: with w = (2, 3) and θ = 4 the
# neuron fires only when both inputs are on (2 + 3 = 5 >= 4, but 2 < 4 and 3 < 4), an AND gate.
WEIGHTS = (2.0, 3.0)
THRESHOLD = 4.0
INPUTS = [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0), (0.5, 1.0), (2.0, 0.0)]


def make_neuron(activation: str) -> Neuron:
    """A two-input neuron with the hand-set weights; the library stores the threshold as b = -θ."""
    neuron = Neuron(2, activation=activation)
    neuron.weight.data[:] = WEIGHTS
    neuron.threshold = THRESHOLD  # sets neuron.bias to -θ
    return neuron


def firing_table(inputs=INPUTS):
    """Rows (x1, x2, z, step output, sigmoid output) computed by the library's neurons."""
    step_neuron = make_neuron("step")
    sigmoid_neuron = make_neuron("sigmoid")
    linear = make_neuron("identity")  # no activation: it returns z itself
    rows = []
    for x in inputs:
        x = np.array(x)
        rows.append((x[0], x[1], linear(x).item(), step_neuron(x).item(), sigmoid_neuron(x).item()))
    return rows


def three_forms(x):
    """z for input x written as the threshold form, the bias form (via the library) and one inner product."""
    w1, w2 = WEIGHTS
    threshold_form = w1 * x[0] + w2 * x[1] - THRESHOLD
    bias_form = make_neuron("identity")(np.array(x)).item()  # w . x + b, b = -θ
    b = -THRESHOLD
    # Folding the bias into the weights: a constant input 1 whose weight is b.
    inner = float(np.dot([w1, w2, b], [x[0], x[1], 1.0]))
    return threshold_form, bias_form, inner



def plot_step_vs_sigmoid(out_dir: str) -> str | None:
    plt = viz.pyplot()
    if plt is None:
        return None
    from tinygrad_nn import Value

    z = np.linspace(-6.0, 6.0, 601)
    zv = Value(z)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(z, zv.step().data, label="unit step u(z)", drawstyle="steps-post")
    ax.plot(z, zv.sigmoid().data, label="sigmoid 1/(1+exp(-z))")
    ax.axvline(0.0, color="grey", lw=0.5)
    ax.axhline(0.5, color="grey", lw=0.5, ls=":")
    ax.set_xlabel("z = w . x + b")
    ax.set_ylabel("output")
    ax.set_title("Sections 1-2 / 1-3: step against sigmoid")
    ax.legend()
    path = os.path.join(out_dir, "step_vs_sigmoid.png")
    viz.save_figure(fig, path, dpi=100, bbox_inches="tight")
    print(f"wrote {path}")
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", metavar="DIR", help="write step_vs_sigmoid.png into DIR (default: no files)")
    args = parser.parse_args(argv)

    w1, w2 = WEIGHTS
    print(f"Section 1-2: a firing neuron, w = ({w1:g}, {w2:g}), threshold θ = {THRESHOLD:g}")
    print("It fires (outputs 1) when w1 x1 + w2 x2 >= θ, that is when z = w . x - θ >= 0.\n")
    rows = firing_table()
    print(f"{'x1':>4} {'x2':>4} | {'z = w.x - θ':>11} | {'step u(z)':>9} | {'sigmoid a(z)':>12}")
    print("-" * 51)
    for x1, x2, z, fired, smooth in rows:
        print(f"{x1:4g} {x2:4g} | {z:11.3f} | {fired:9.0f} | {smooth:12.4f}")

    print("\nSection 1-3: the sigmoid keeps the step's verdict (a(z) > 1/2 exactly when u(z) = 1, for z != 0)")
    print("but answers by degrees; that smoothness is what makes gradients possible in chapter 2.")

    print(f"\nThe bias: b = -θ = {-THRESHOLD:g}, so z = w . x - θ = w . x + b.")
    print(f"{'x':>10} | {'w.x - θ':>8} | {'w.x + b':>8} | {'(w,b).(x,1)':>11}")
    all_equal = True
    for x1, x2, *_ in rows:
        t, b, inner = three_forms((x1, x2))
        all_equal &= math.isclose(t, b, abs_tol=1e-12) and math.isclose(b, inner, abs_tol=1e-12)
        print(f"{f'({x1:g}, {x2:g})':>10} | {t:8.3f} | {b:8.3f} | {inner:11.3f}")
    print(f"The three forms agree on every input: {all_equal}")

    if args.out:
        plot_step_vs_sigmoid(args.out)
    return rows


if __name__ == "__main__":
    main()
