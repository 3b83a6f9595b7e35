"""Sections 1-5 and 1-6: the demons' story of the 12-3-2 network, set by hand, then learned.

The book explains the hidden layer with demons. On the 4 x 3 grid (pixels numbered 1..12 row-major)

     1  2  3
     4  5  6        hidden demon A is fond of pixels 4 and 7 (the left of the middle rows),
     7  8  9        B of 5 and 8 (the middle column), C of 6 and 9 (the right);
    10 11 12        output demon "0" is fond of A and C, output demon "1" of B.

What you should see:
1. `MLP(12, [3, 2])` with those likings written into its weights by hand, and how many of the book's
   64 images it reads right (argmax of the two outputs against the digit), with the ids it gets wrong
   and the ids where neither output demon fires;
2. the same network trained from a fixed seed by gradient descent on C_T (the squared error summed
   over the 64 images) until it reads all 64 right;
3. the three learned hidden units drawn as 4 x 3 pictures beside the demons' patterns, the
   correlation of each learned unit with each demon, and a sentence saying what that measurement shows.

Run:  python examples/ch1_5_demons.py [--steps N] [--seed S] [--lr ETA] [--out DIR]
With --out, also writes DIR/demons_learned_weights.png (needs matplotlib).
"""

from __future__ import annotations

import argparse
import itertools
import os

import numpy as np

from tinygrad_nn import viz
from tinygrad_nn.data import load_digits_4x3, render_image
from tinygrad_nn.data.demons import DEMONS, LIKE, demon_patterns, hand_set_demons
from tinygrad_nn.nn import MLP, squared_error
from tinygrad_nn.optim import SGD


def hand_set_network() -> MLP:
    net = MLP(12, [3, 2])  # the book's network: 12 pixels, 3 hidden demons, 2 output demons, sigmoid
    net.load_state_dict(hand_set_demons())  # +10 on each demon's liked pixels, bias -15: see tinygrad_nn.data.demons
    return net


def evaluate(net, data):
    """(number right, ids read wrong, ids where no output fires) for argmax(output) against the digit."""
    out = net(data.inputs).data  # one batched forward: (64, 2)
    predicted = out.argmax(axis=1)
    wrong = data.ids[predicted != data.digits]
    silent = data.ids[out.max(axis=1) < 0.5]
    return int((predicted == data.digits).sum()), wrong.tolist(), silent.tolist()


def train(data, seed=0, lr=0.2, max_steps=2000):
    """Gradient descent on C_T from a seeded start until all images are read right. Returns (net, steps, costs)."""
    net = MLP(12, [3, 2], seed=seed)
    opt = SGD(net.parameters(), lr=lr)
    costs = []
    for step in range(max_steps + 1):
        out = net(data.inputs)
        cost = squared_error(out, data.targets)  # C_T: 1/2 (t - a)^2 summed over units and all 64 images
        costs.append(cost.item())
        if (out.data.argmax(axis=1) == data.digits).all():
            return net, step, costs
        if step == max_steps:
            break
        opt.zero_grad()
        cost.backward()  # every gradient comes from the engine
        opt.step()
    return net, None, costs


def correlations(learned: np.ndarray, patterns: np.ndarray) -> np.ndarray:
    """Pearson correlation of each learned unit's 12 weights (rows) with each demon's pattern (columns)."""
    return np.corrcoef(np.vstack([learned, patterns]))[: len(learned), len(learned):]


def best_matching(r: np.ndarray):
    """The one-to-one pairing of learned units with demons that maximises the summed |r|.

    Hidden units are interchangeable (permuting them, with the output weights, gives the same network),
    so a learned unit 1 has no reason to be demon A; we match them up by resemblance instead.
    """
    n = r.shape[0]
    return max(itertools.permutations(range(n)), key=lambda perm: sum(abs(r[i, perm[i]]) for i in range(n)))


def side_by_side(pictures, titles, gap="    "):
    """Text pictures next to each other, each under its title."""
    blocks = [render_image(p).split("\n") for p in pictures]
    width = max(max(len(t) for t in titles), 3)
    lines = [gap.join(f"{t:<{width}}" for t in titles)]
    for row in range(len(blocks[0])):
        lines.append(gap.join(f"{b[row]:<{width}}" for b in blocks))
    return "\n".join(lines)


def describe(r: np.ndarray) -> tuple[list[str], str]:
    """Sentences about what the correlations show, computed from them (nothing here is fixed in advance)."""
    lines = []
    closest = []
    for i in range(r.shape[0]):
        j = int(np.argmax(np.abs(r[i])))
        closest.append(DEMONS[j])
        kind = "like" if r[i, j] > 0 else "the opposite of"
        strength = "strongly" if abs(r[i, j]) >= 0.7 else "moderately" if abs(r[i, j]) >= 0.4 else "weakly"
        lines.append(f"learned unit {i + 1} is {strength} {kind} demon {DEMONS[j]} (r = {r[i, j]:+.2f})")
    distinct = sorted(set(closest))
    if len(distinct) == len(DEMONS):
        verdict = ("Each learned unit is closest to a different demon: training rediscovered the book's "
                   "division of labour (up to sign and order).")
    else:
        counts = {d: closest.count(d) for d in distinct}
        most = max(counts, key=counts.get)
        verdict = (f"Training did not rediscover the three demons: {counts[most]} of the 3 learned units are "
                   f"closest to demon {most} (or its opposite), and demon(s) "
                   f"{', '.join(d for d in DEMONS if d not in distinct) or 'none'} have no unit of their own. "
                   f"The network found another split of the work that reads all 64 images just as well.")
    return lines, verdict


def plot_weights(learned, patterns, order, r, out_dir):
    plt = viz.pyplot()
    if plt is None:
        return None
    fig, axes = plt.subplots(2, 3, figsize=(7, 5.5), layout="constrained")
    lim = max(np.abs(learned).max(), 1e-12)
    for col, j in enumerate(order):
        ax = axes[0, col]
        ax.imshow(patterns[j].reshape(4, 3), cmap="Greys", vmin=0, vmax=LIKE)
        ax.set_title(f"demon {DEMONS[j]} (hand-set)")
    for col in range(3):
        ax = axes[1, col]
        im = ax.imshow(learned[col].reshape(4, 3), cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax.set_title(f"learned unit {col + 1}\nr with {DEMONS[order[col]]}: {r[col, order[col]]:+.2f}")
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(im, ax=axes[1].tolist(), shrink=0.9, label="learned weight")
    fig.suptitle("Sections 1-5/1-6: hidden weights, hand-set vs learned")
    path = os.path.join(out_dir, "demons_learned_weights.png")
    viz.save_figure(fig, path, dpi=100)  # constrained layout already keeps titles and colour bar apart
    print(f"wrote {path}")
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000, help="cap on gradient-descent steps (default 2000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the trained network's start (default 0)")
    parser.add_argument("--lr", type=float, default=0.2, help="learning rate (default 0.2, the book's eta)")
    parser.add_argument("--out", metavar="DIR", help="write demons_learned_weights.png into DIR (default: no files)")
    args = parser.parse_args(argv)

    data = load_digits_4x3()
    patterns = demon_patterns()

    print("Section 1-5: the demons, set by hand (hidden weights +10 on the liked pixels, bias -15)")
    print(side_by_side([p.reshape(4, 3) for p in patterns], [f"demon {d}" for d in DEMONS]))
    net = hand_set_network()
    right, wrong, silent = evaluate(net, data)
    print(f"\nhand-set network: {right}/64 images read right")
    print(f"misclassified ids: {wrong}")
    print(f"ids where no output demon fires (both outputs < 0.5; argmax decides on a faint leak): {silent}")

    print(f"\nSection 1-6: the same network learned from seed {args.seed} by gradient descent on C_T, lr {args.lr}")
    trained, steps, costs = train(data, seed=args.seed, lr=args.lr, max_steps=args.steps)
    right, wrong, _ = evaluate(trained, data)
    if steps is None:
        print(f"not all images right after {args.steps} steps: {right}/64 (C_T {costs[-1]:.4f}); "
              f"misclassified ids: {wrong}")
    else:
        print(f"all 64 images right after {steps} steps (C_T {costs[0]:.4f} -> {costs[-1]:.4f})")

    learned = trained.layers[0].weight.data
    r = correlations(learned, patterns)
    order = best_matching(r)
    print("\nwhat the hidden units learned (darker = larger weight; each picture scaled on its own)")
    pictures = [patterns[j].reshape(4, 3) for j in order] + [w.reshape(4, 3) for w in learned]
    titles = [f"demon {DEMONS[j]}" for j in order] + [f"unit {i + 1}" for i in range(3)]
    print(side_by_side(pictures, titles))
    print("\ncorrelation of learned unit weights (rows) with the demons' patterns (columns)")
    print("        " + "".join(f"{d:>8}" for d in DEMONS))
    for i in range(3):
        print(f"unit {i + 1}  " + "".join(f"{r[i, j]:+8.2f}" for j in range(3)))
    print("one-to-one match by largest summed |r|: "
          + ", ".join(f"unit {i + 1} ~ {DEMONS[order[i]]} ({r[i, order[i]]:+.2f})" for i in range(3)))
    lines, verdict = describe(r)
    for line in lines:
        print(line)
    print(verdict)

    if args.out:
        plot_weights(learned, patterns, order, r, args.out)
    return {"hand_set_right": evaluate(net, data)[0], "steps": steps, "correlations": r}


if __name__ == "__main__":
    main()
