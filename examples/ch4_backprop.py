"""Sections 4-2 to 4-4: back-propagation by hand (the book's unit errors δ) against the engine's backward.

Section 4-2/4-3: for one image x with teacher signal t, the book's 12-3-2 sigmoid network computes
    a2 = sigmoid(W2 x + b2)          (3 hidden units)
    a3 = sigmoid(W3 a2 + b3)         (2 output units)
and the squared error C = 1/2 |t - a3|^2 has the unit errors
    δ3 = (a3 - t) * a3 * (1 - a3)            (output layer)
    δ2 = (W3ᵀ δ3) * a2 * (1 - a2)            (hidden layer: the error flows backwards through W3)
from which every gradient follows: ∂C/∂W = δ aᵀ (a the layer's input) and ∂C/∂b = δ. The gradient of
C_T is the sum of these over the 64 images.

What you should see:
1. those hand-computed gradients (numpy, one image at a time, like the book's workbook) beside the
   engine's `C_T.backward()` on `MLP(12, [3, 2])` loaded with the same parameters: they agree to ~1e-15;
2. section 4-4's run: full-batch gradient descent on C_T from the book's starting parameters with
   η = 0.2, C_T printed as it falls, the hand-written numpy descent alongside for the first steps,
   and the final number of the 64 images read right.

Run:  python examples/ch4_backprop.py [--steps 50] [--every 5] [--out DIR]
With --out, also writes DIR/backprop_cost_curve.png (needs matplotlib).
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from tinygrad_nn import viz
from tinygrad_nn.data import load_backprop_params, load_digits_4x3
from tinygrad_nn.nn import MLP, squared_error
from tinygrad_nn.optim import SGD

# The book's parameter names and the library's (MLP(12, [3, 2]).named_parameters()).
NAMES = {"W_hidden": "0.weight", "b_hidden": "0.bias",
         "W_out": "2.weight", "b_out": "2.bias"}


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def hand_backprop(params, inputs, targets):
    """C_T and its gradients by the book's unit errors, in numpy, image by image. Returns (C_T, grads)."""
    W2, b2, W3, b3 = params["W_hidden"], params["b_hidden"], params["W_out"], params["b_out"]
    grads = {name: np.zeros_like(params[name]) for name in NAMES}
    cost = 0.0
    for x, t in zip(inputs, targets):
        a2 = sigmoid(W2 @ x + b2)
        a3 = sigmoid(W3 @ a2 + b3)
        cost += 0.5 * np.sum((t - a3) ** 2)
        delta3 = (a3 - t) * a3 * (1 - a3)        # ∂C/∂z3: the sigmoid's slope is a (1 - a)
        delta2 = (W3.T @ delta3) * a2 * (1 - a2)  # back-propagated: no derivative of C is taken afresh
        grads["W_out"] += np.outer(delta3, a2)    # ∂C/∂W3 = δ3 a2ᵀ
        grads["b_out"] += delta3
        grads["W_hidden"] += np.outer(delta2, x)  # ∂C/∂W2 = δ2 xᵀ
        grads["b_hidden"] += delta2
    return cost, grads


def book_network(params) -> MLP:
    net = MLP(12, [3, 2])
    net.load_state_dict({NAMES[name]: params[name] for name in NAMES})
    return net


def engine_backprop(net, data):
    """C_T as one node over the 64 images and the engine's gradients, keyed like the book's parameters."""
    net.zero_grad()
    cost = squared_error(net(data.inputs), data.targets)
    cost.backward()
    by_name = dict(net.named_parameters())
    return cost.item(), {name: np.array(by_name[lib].grad) for name, lib in NAMES.items()}


def max_difference(a: dict, b: dict) -> float:
    return max(float(np.max(np.abs(a[k] - b[k]))) for k in a)


def descend(data, steps, eta):
    """Section 4-4: `steps` full-batch gradient-descent steps on the engine, with the hand-written numpy
    descent run alongside. Returns (engine C_T per step, numpy C_T per step, the trained network)."""
    params = load_backprop_params()
    net = book_network(params)
    opt = SGD(net.parameters(), lr=eta)
    hand = {name: params[name].copy() for name in NAMES}
    engine_costs, hand_costs = [], []
    for step in range(steps + 1):
        cost = squared_error(net(data.inputs), data.targets)
        engine_costs.append(cost.item())
        hand_cost, hand_grads = hand_backprop(hand, data.inputs, data.targets)
        hand_costs.append(hand_cost)
        if step == steps:  # the last entry is the cost after the final step
            break
        opt.zero_grad()
        cost.backward()
        opt.step()
        for name in NAMES:
            hand[name] -= eta * hand_grads[name]
    return engine_costs, hand_costs, net


def plot_costs(costs, eta, out_dir):
    plt = viz.pyplot()
    if plt is None:
        return None
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(range(len(costs)), costs, marker=".")
    ax.set_xlabel("gradient-descent step")
    ax.set_ylabel("C_T")
    ax.set_title(f"Section 4-4: C_T over the 64 images, η = {eta:g}")
    ax.grid(alpha=0.3)
    path = os.path.join(out_dir, "backprop_cost_curve.png")
    viz.save_figure(fig, path, dpi=100, bbox_inches="tight")
    print(f"wrote {path}")
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50, help="gradient-descent steps (default 50)")
    parser.add_argument("--every", type=int, default=5, help="print C_T every this many steps (default 5)")
    parser.add_argument("--out", metavar="DIR", help="write backprop_cost_curve.png into DIR (default: no files)")
    args = parser.parse_args(argv)

    data = load_digits_4x3()
    params = load_backprop_params()
    eta = params["eta"]

    print("Sections 4-2/4-3: gradients of C_T at the book's starting parameters")
    hand_cost, hand_grads = hand_backprop(params, data.inputs, data.targets)
    engine_cost, engine_grads = engine_backprop(book_network(params), data)
    print(f"C_T: by hand {hand_cost:.15f}, engine {engine_cost:.15f}")
    print(f"{'parameter':>9}  {'shape':>7}  {'max |hand - engine|':>20}  {'largest |∂C_T/∂w|':>18}")
    for name in NAMES:
        d = float(np.max(np.abs(hand_grads[name] - engine_grads[name])))
        print(f"{name:>9}  {str(hand_grads[name].shape):>7}  {d:20.2e}  {np.max(np.abs(hand_grads[name])):18.6f}")
    worst = max_difference(hand_grads, engine_grads)
    print(f"max difference over all 47 gradients: {worst:.2e} (< 1e-12: {worst < 1e-12})")
    print("\nexample, ∂C_T/∂W_out (rows: output units 0 and 1; columns: hidden units):")
    print(np.array2string(engine_grads["W_out"], precision=6, floatmode="fixed"))

    print(f"\nSection 4-4: full-batch gradient descent from the book's parameters, η = {eta:g}")
    engine_costs, hand_costs, net = descend(data, args.steps, eta)
    print("first steps, engine beside the hand-written numpy descent:")
    print(f"{'step':>6}  {'C_T (engine)':>18}  {'C_T (by hand)':>18}  {'difference':>10}")
    for step in range(min(5, len(engine_costs))):
        e, h = engine_costs[step], hand_costs[step]
        print(f"{step:6d}  {e:18.12f}  {h:18.12f}  {abs(e - h):10.1e}")
    print(f"\nC_T every {args.every} steps:")
    every = max(1, args.every)
    for step in range(0, len(engine_costs), every):
        print(f"  step {step:4d}   C_T = {engine_costs[step]:.6f}")
    if args.steps % every:
        print(f"  step {args.steps:4d}   C_T = {engine_costs[-1]:.6f}")
    right = int((net(data.inputs).data.argmax(axis=1) == data.digits).sum())
    print(f"\nafter {args.steps} steps: C_T {engine_costs[0]:.6f} -> {engine_costs[-1]:.6f}, "
          f"{right}/64 images read right")
    if args.out:
        plot_costs(engine_costs, eta, args.out)
    return {"max_difference": worst, "costs": engine_costs, "hand_costs": hand_costs, "right": right}


if __name__ == "__main__":
    main()
