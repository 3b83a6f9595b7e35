"""Section 2-12: least-squares regression of weight y on height x by gradient descent on the engine.

The model is the line y = p x + q and the cost over the seven (height, weight) pairs is
C_T = 1/2 * sum_k (y_k - (p x_k + q))^2. Gradient descent finds the p and q that minimise it; the
engine computes ∂C_T/∂p and ∂C_T/∂q by `C_T.backward()`.

Why the heights are standardised first. The heights are about 160 and spread only a few cm, so in
(p, q) the cost is a valley millions of times steeper across than along (the condition number of
its Hessian, printed below, is about 2e7). A learning rate small enough not to blow up in the steep
direction then creeps along the flat one for tens of millions of steps. With u = (x - mean) / std the
Hessian becomes 7 * identity, a round bowl, and plain gradient descent converges in a few dozen steps.
We fit y = a u + c and convert back: p = a / std, q = c - a * mean / std (the same line).

What you should see: the cost falling, the fitted line, and the closed-form least-squares solution
(numpy's lstsq) beside it, equal to many digits.

Run:  python examples/ch2_12_regression.py [--steps 60] [--lr 0.1]
"""

from __future__ import annotations

import argparse

import numpy as np

from tinygrad_nn import Value
from tinygrad_nn.data import load_regression
from tinygrad_nn.optim import SGD


def closed_form(x, y):
    """The exact least-squares line (p, q), from numpy: solve min ||[x 1] (p, q) - y||."""
    design = np.column_stack([x, np.ones_like(x)])
    (p, q), *_ = np.linalg.lstsq(design, y, rcond=None)
    return float(p), float(q)


def hessian_condition(x):
    """Condition number of C_T's Hessian in the two parameters, [[sum x^2, sum x], [sum x, n]]."""
    hessian = np.array([[np.sum(x * x), np.sum(x)], [np.sum(x), len(x)]])
    return float(np.linalg.cond(hessian))


def fit(x, y, lr=0.1, steps=60, report_every=10):
    """Gradient descent on C_T in standardised heights; returns (p, q, history of (step, C_T))."""
    mean, std = float(x.mean()), float(x.std())
    u = (x - mean) / std
    a, c = Value(0.0), Value(0.0)  # slope and intercept in the standardised variable
    opt = SGD([a, c], lr=lr)
    history = []
    for step in range(steps + 1):
        cost = ((y - (a * u + c)) ** 2).sum() * 0.5  # C_T as one node over the seven pairs
        if step < 4 or step % report_every == 0 or step == steps:
            history.append((step, cost.item()))
        if step == steps:
            break
        opt.zero_grad()
        cost.backward()
        opt.step()
    # Back to the raw height: a u + c = a (x - mean) / std + c = (a / std) x + (c - a mean / std).
    p = a.data / std
    q = c.data - a.data * mean / std
    return p, q, history


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60, help="gradient-descent steps (default 60)")
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate (default 0.1; it must stay below 2/7)")
    args = parser.parse_args(argv)

    x, y = load_regression()
    print("Section 2-12: regression of weight (kg) on height (cm), seven pairs")
    for xi, yi in zip(x, y):
        print(f"  x = {xi:6.1f}   y = {yi:5.1f}")
    u = (x - x.mean()) / x.std()
    print(f"\ncondition number of C_T's Hessian: raw heights {hessian_condition(x):.3g}, "
          f"standardised {hessian_condition(u):.3g}")

    p, q, history = fit(x, y, lr=args.lr, steps=args.steps)
    print(f"\ngradient descent on the standardised heights, lr {args.lr:g}")
    for step, cost in history:
        print(f"  step {step:4d}   C_T = {cost:.10f}")
    p_exact, q_exact = closed_form(x, y)
    cost_exact = 0.5 * float(np.sum((y - (p_exact * x + q_exact)) ** 2))
    print(f"\ngradient descent:  y = {p:.6f} x {q:+.6f}")
    print(f"closed form:       y = {p_exact:.6f} x {q_exact:+.6f}   (minimum C_T = {cost_exact:.10f})")
    print(f"difference:        |Δp| = {abs(p - p_exact):.2e}, |Δq| = {abs(q - q_exact):.2e}")
    print(f"so a person 160 cm tall is predicted to weigh {p * 160 + q:.1f} kg")
    return {"p": p, "q": q, "p_exact": p_exact, "q_exact": q_exact}


if __name__ == "__main__":
    main()
