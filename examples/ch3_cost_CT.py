"""Sections 3-4 and 3-5: the cost C_T of the 12-3-2 network over the book's 64 images, two ways.

For one image the cost is C = 1/2 * ((t1 - a1)^2 + (t2 - a2)^2), t the one-hot teacher signal and a the
two outputs; over the training data it is the sum C_T = C_1 + C_2 + ... + C_64.

What you should see:
- C_T computed as ONE graph node: the 64 images go through the network together as a (64, 12) batch;
- the same number as the Python sum of 64 per-image costs, each from its own forward pass of one
  (12,) image; the two agree to about 1e-14 (only the order of the additions differs);
- after C_T.backward(), every one of the network's 47 parameters (36 + 3 hidden, 6 + 2 output) holds
  a gradient: C_T depends on each of them. These are the numbers that chapter 4 computes by hand.

The network starts from the book's section 4-4 parameters (--seed S uses a seeded random start instead).

Run:  python examples/ch3_cost_CT.py [--seed S]
"""

from __future__ import annotations

import argparse

import numpy as np

from tinygrad_nn.data import load_backprop_params, load_digits_4x3
from tinygrad_nn.nn import MLP, squared_error


def book_network() -> MLP:
    """MLP(12, [3, 2]) holding the book's starting parameters of section 4-4."""
    params = load_backprop_params()
    net = MLP(12, [3, 2])
    net.load_state_dict({
        "0.weight": params["W_hidden"], "0.bias": params["b_hidden"],
        "2.weight": params["W_out"], "2.bias": params["b_out"],
    })
    return net


def cost_batched(net, data):
    """C_T as one node: one forward pass over the (64, 12) batch, then the squared error summed over everything."""
    return squared_error(net(data.inputs), data.targets)


def cost_per_image(net, data):
    """The 64 costs C_k, each from a forward pass of a single (12,) image; returns the list of Values."""
    return [squared_error(net(x), t) for x, t in zip(data.inputs, data.targets)]


def gradient_report(net):
    """(name, shape, number of entries with a non-zero gradient) for every parameter tensor."""
    rows = []
    for name, p in net.named_parameters():
        g = np.zeros(p.shape) if p.grad is None else np.asarray(p.grad)
        rows.append((name, p.shape, int(np.count_nonzero(g)), int(np.size(g))))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=None,
                        help="start from a seeded random network instead of the book's section 4-4 parameters")
    args = parser.parse_args(argv)

    data = load_digits_4x3()
    net = book_network() if args.seed is None else MLP(12, [3, 2], seed=args.seed)
    start = "the book's section 4-4 parameters" if args.seed is None else f"a random start (seed {args.seed})"
    print(f"Sections 3-4/3-5: C_T of the 12-3-2 network over the 64 images, from {start}")

    per_image = cost_per_image(net, data)
    print("\nper-image costs C_k (first 4 and last 4 images):")
    for k in [*range(4), *range(60, 64)]:
        print(f"  image {data.ids[k]:2d} (a {data.digits[k]}):  C = {per_image[k].item():.12f}")

    c_t = cost_batched(net, data)
    summed = sum(c.item() for c in per_image)  # a plain Python sum of 64 numbers
    print(f"\nC_T as one graph node (batched forward): {c_t.item():.15f}")
    print(f"C_T as the sum of the 64 per-image costs: {summed:.15f}")
    diff = abs(c_t.item() - summed)
    print(f"difference: {diff:.2e} (equal to 1e-12: {diff < 1e-12})")

    c_t.backward()
    rows = gradient_report(net)
    print("\nafter C_T.backward(), parameters with a gradient:")
    for name, shape, nonzero, size in rows:
        print(f"  {name:16s} shape {str(shape):8s} {nonzero:2d} of {size:2d}")
    received = sum(r[2] for r in rows)
    total = sum(r[3] for r in rows)
    print(f"  total: {received} of {total} parameters (36 + 3 + 6 + 2 = 47)")
    return {"batched": c_t.item(), "summed": summed, "received": received, "total": total}


if __name__ == "__main__":
    main()
