"""Chapter 5: the book's convolutional network reads the handwritten digits 1, 2 and 3 (6 x 6 images).

The network of chapter 5, layer by layer:
    input           one 6 x 6 image (1 = ink)
    convolution     3 filters of 3 x 3, each with a bias: z[k, i, j] = sum_pq w[k, p, q] x[i+p, j+q] + b[k]
                    (a cross-correlation: the filter is not flipped), then the sigmoid -> 3 maps of 4 x 4
    max pooling     the largest value of each 2 x 2 block of each map -> 3 maps of 2 x 2
    output          3 sigmoid units fully connected to those 12 values (channel, row, column order)
In tinygrad_nn (and PyTorch) words:
    Sequential(Conv2d(1, 3, 3), Sigmoid(), MaxPool2d(2), Flatten(), Layer(12, 3, activation="sigmoid"))
It learns by full-batch gradient descent on C_T = sum over the 96 images of 1/2 sum_k (t_k - a_k)^2, as in
chapters 3 and 4.

What you should see:
1. one image of each digit, then C_T falling as the network trains, and the step after which it reads all
   96 images right (from seed 0 with lr 0.2, after about 160 steps);
2. the three learned 3 x 3 filters as pictures and numbers;
3. a 1 drawn with serifs (001110 000100 000100 000100 000100 001110), which is not among the training
   images, read as a 1, with its three feature maps before and after pooling; the engine's maps agree
   with the book's formula computed by hand in numpy to ~1e-16.

Run:  python examples/ch5_cnn.py [--steps 400] [--seed 0] [--lr 0.2] [--every 50] [--out DIR]
With --out, also writes DIR/cnn_cost_curve.png, DIR/cnn_filters.png and DIR/cnn_feature_maps.png
(needs matplotlib).
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from tinygrad_nn import no_grad, viz
from tinygrad_nn.data import load_digits_6x6, parse_image, render_side_by_side
from tinygrad_nn.nn import Conv2d, Flatten, Layer, MaxPool2d, Sequential, Sigmoid, squared_error
from tinygrad_nn.optim import SGD

SERIF_ONE = "001110 000100 000100 000100 000100 001110"


def build_network(seed):
    """The chapter 5 network. Returns (net, conv, pool): the two layers are kept to look inside."""
    rng = np.random.default_rng(seed)  # one generator: the whole network follows from the seed
    conv = Conv2d(1, 3, 3, seed=rng)   # weight (3, 1, 3, 3): 3 filters on 1 input channel; bias (3,)
    pool = MaxPool2d(2)
    net = Sequential(conv, Sigmoid(), pool, Flatten(), Layer(12, 3, activation="sigmoid", seed=rng))
    return net, conv, pool


def accuracy(out, digits):
    """How many images the outputs (N, 3) read right: the unit with the largest output names the digit."""
    return int((np.asarray(out).argmax(axis=1) + 1 == digits).sum())


def train(images, data, seed, lr, steps, every):
    """Full-batch gradient descent on C_T. Returns (net, conv, pool, C_T per step, step after which all
    images were first right, or None)."""
    net, conv, pool = build_network(seed)
    opt = SGD(net.parameters(), lr=lr)
    costs, all_right_at = [], None
    for step in range(steps):
        opt.zero_grad()
        out = net(images)                         # (96, 3): one forward pass over all images
        cost = squared_error(out, data.targets)   # C_T, one graph node
        if all_right_at is None and accuracy(out.data, data.digits) == len(images):
            all_right_at = step                   # these outputs come from the weights after `step` steps
        cost.backward()
        opt.step()
        costs.append(cost.item())
        if step % every == 0:
            print(f"  step {step:4d}   C_T = {costs[-1]:9.5f}   right {accuracy(out.data, data.digits):2d}/96")
    with no_grad():
        final = squared_error(net(images), data.targets).item()
        right = accuracy(net(images).data, data.digits)
    if all_right_at is None and right == len(images):
        all_right_at = steps
    costs.append(final)
    print(f"  step {steps:4d}   C_T = {final:9.5f}   right {right:2d}/96")
    return net, conv, pool, costs, all_right_at


def by_hand(image, w, b):
    """The book's formulas for one image, in numpy with loops over positions: maps (3, 4, 4), pooled (3, 2, 2)."""
    maps = np.zeros((3, 4, 4))
    for k in range(3):
        for i in range(4):
            for j in range(4):
                z = np.sum(w[k] * image[i:i + 3, j:j + 3]) + b[k]  # the filter laid on the patch, not flipped
                maps[k, i, j] = 1.0 / (1.0 + np.exp(-z))
    pooled = maps.reshape(3, 2, 2, 2, 2).max(axis=(2, 4))  # blocks (row pair, column pair)
    return maps, pooled


def figures(out_dir, costs, weight, image, maps, pooled):
    if viz.pyplot() is None:  # prints how to get matplotlib
        return []
    paths = [
        viz.plot_cost_curve(costs, os.path.join(out_dir, "cnn_cost_curve.png"), title="Chapter 5: C_T over 96 images"),
        viz.plot_filters(weight, os.path.join(out_dir, "cnn_filters.png")),
        viz.plot_feature_maps(image, maps, pooled, os.path.join(out_dir, "cnn_feature_maps.png"),
                              title="a 1 drawn with serifs"),
    ]
    for p in paths:
        print(f"wrote {p}")
    return paths


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400, help="gradient-descent steps (default 400)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the initial weights (default 0)")
    parser.add_argument("--lr", type=float, default=0.2, help="learning rate (default 0.2)")
    parser.add_argument("--every", type=int, default=50, help="print C_T every this many steps (default 50)")
    parser.add_argument("--out", metavar="DIR", help="write the three PNG figures into DIR (default: no files)")
    args = parser.parse_args(argv)

    data = load_digits_6x6()
    images = data.images.reshape(-1, 1, 6, 6)  # (N, C, H, W): 96 images of one channel
    print("Chapter 5: 96 images of 6 x 6 pixels, 32 each of the digits 1, 2 and 3; the first of each:")
    print(render_side_by_side([data.images[i] for i in (0, 32, 64)], ["image 1", "image 33", "image 65"]))

    print(f"\nTraining the network from seed {args.seed}, lr {args.lr}, {args.steps} steps")
    net, conv, pool, costs, all_right_at = train(images, data, args.seed, args.lr, args.steps, max(1, args.every))
    right = accuracy(net(images).data, data.digits)
    if all_right_at is None:
        print(f"not all images right after {args.steps} steps: {right}/96")
    else:
        print(f"all 96 images read right after {all_right_at} steps; after {args.steps}: {right}/96 "
              f"(C_T {costs[0]:.4f} -> {costs[-1]:.4f})")

    w, b = conv.weight.data[:, 0], conv.bias.data  # (3, 3, 3), (3,)
    print("\nThe three learned filters (darker = larger weight; each picture on its own scale):")
    print(render_side_by_side(w, ["filter 1", "filter 2", "filter 3"]))
    for k in range(3):
        print(f"  filter {k + 1}: " + " | ".join(" ".join(f"{v:+5.1f}" for v in row) for row in w[k])
              + f"   bias {b[k]:+.2f}")

    serif = parse_image(SERIF_ONE)
    with no_grad():
        out = net(serif.reshape(1, 1, 6, 6)).data[0]
        feature = conv(serif.reshape(1, 1, 6, 6)).sigmoid()  # what the Sigmoid layer gives the pooling layer
        maps, pooled = feature.data[0], pool(feature).data[0]
    guess = int(np.argmax(out)) + 1
    print(f"\nA 1 drawn with serifs ({SERIF_ONE}), not one of the training images:")
    print(render_side_by_side([serif], ["image"]))
    print("  outputs: " + ", ".join(f'a{k + 1} ("{k + 1}") = {out[k]:.4f}' for k in range(3))
          + f"  ->  it reads a {guess}")
    print("\nIts feature maps after the filters and the sigmoid (4 x 4; darker = nearer 1):")
    print(render_side_by_side(maps, ["map 1", "map 2", "map 3"]))
    print("and after 2 x 2 max pooling (2 x 2): the 12 numbers the output units read")
    print(render_side_by_side(pooled, ["pooled 1", "pooled 2", "pooled 3"]))
    hand_maps, hand_pooled = by_hand(serif, w, b)
    difference = float(max(np.abs(maps - hand_maps).max(), np.abs(pooled - hand_pooled).max()))
    print(f"the book's formulas by hand in numpy give the same maps: max difference {difference:.1e}")

    if args.out:
        figures(args.out, costs, conv.weight.data, serif, maps, pooled)
    return {"net": net, "costs": costs, "all_right_at": all_right_at, "right": right, "serif_outputs": out,
            "guess": guess, "filters": w, "maps": maps, "pooled": pooled, "hand_difference": difference}


if __name__ == "__main__":
    main()
