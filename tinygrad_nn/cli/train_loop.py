"""The training loop of the commands: full-batch gradient descent on C_T, one `step` function repeated.

`book` and `cnn` both call `train_command`, which builds the optimizer the options ask for, makes the step
with `full_batch_step`, runs it `--steps` times with `train` and prints the header and the timing. A step is
any function `step(inputs, targets) -> (cost, outputs)` that updates the weights; wrapping it (a recorder, a
compiler) is one line, where `train_command` makes it. What a command wants to see along the run (the first
step where every image is read right, copies of the weights for a picture of the training) it gets through
hooks, functions `hook(i, cost, outputs)` called after step i.

>>> import numpy as np
>>> from tinygrad_nn.nn import MLP
>>> from tinygrad_nn.optim import SGD
>>> net = MLP(2, [1], activation="sigmoid", seed=0)
>>> x, t = np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([[1.0], [0.0]])
>>> snaps = Snapshots(net, steps=100, count=4)
>>> run = train(full_batch_step(net, SGD(net.parameters(), lr=1.0)), x, t, 100, hooks=[snaps], progress=False)
>>> run.costs[-1] < run.costs[0], snaps.steps
(True, [0, 25, 50, 75, 100])
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..jit import jit
from ..nn import squared_error
from ..optim import SGD, Adam
from ..viz import TrainingSnapshots
from .progress import Progress


@dataclass
class Run:
    """What a training run leaves: `costs[i]` is C_T computed in step i + 1, that is, of the weights after i
    steps (the cost of the final weights is one more forward pass); `seconds` the time in the loop."""

    costs: list
    seconds: float


def make_optimizer(parameters, name="sgd", lr=None):
    """(optimizer, lr): `name` is "sgd" or "adam"; lr defaults to 0.2 (the book's eta) for sgd, 0.05 for adam."""
    lr = lr if lr is not None else (0.2 if name == "sgd" else 0.05)
    return (SGD if name == "sgd" else Adam)(parameters, lr=lr), lr


def full_batch_step(model, optimizer, loss=squared_error):
    """The step of gradient descent on the whole batch: zero the gradients, forward, C_T = loss(outputs,
    targets) (the squared error summed over the batch by default), backward, update. Returns
    step(inputs, targets) -> (cost, outputs), both Values of the forward pass before the update."""
    def step(inputs, targets):
        optimizer.zero_grad()
        outputs = model(inputs)
        cost = loss(outputs, targets)  # C_T: one node for the whole batch
        cost.backward()
        optimizer.step()
        return cost, outputs

    return step


def train(step, inputs, targets, steps, *, hooks=(), progress=True) -> Run:
    """Run `step(inputs, targets)` `steps` times; after step i (1-based) call every hook(i, cost, outputs)
    with the cost as a float. The progress bar shows C_T (on stderr, when it is a terminal)."""
    costs = []
    bar = Progress(steps, enabled=progress)
    start = time.perf_counter()
    try:
        for i in range(1, steps + 1):
            cost, outputs = step(inputs, targets)
            costs.append(cost.item())
            for hook in hooks:
                hook(i, costs[-1], outputs)
            bar.update(i, costs[-1])
    finally:
        bar.close()
    return Run(costs, time.perf_counter() - start)


class Snapshots(TrainingSnapshots):
    """A hook that keeps copies of `model.state_dict()` along a run of `steps` steps: before the first step
    (made when the hook is made), every `steps // count` steps along the run, and after the last step.
    `steps[k]` is the number of steps behind `states[k]`. (viz.TrainingSnapshots, evenly spaced; the
    commands take theirs closer together early on, for network.html's slider.)"""

    def __init__(self, model, steps, count=50):
        super().__init__(model, steps, count, spacing="even")


def train_command(args, model, inputs, targets, *, title, hooks=()):
    """What `book` and `cnn` share: build the optimizer of `--optimizer`/`--lr`, say what is trained, train
    `--steps` steps of full-batch gradient descent from `--seed`'s weights, and return the Run."""
    opt, lr = make_optimizer(model.parameters(), args.optimizer, args.lr)
    print(f"{title} {model!r}: {sum(p.size for p in model.parameters())} weights and biases")
    print(f"Training on {len(inputs)} images for {args.steps} steps ({args.optimizer}, lr {lr}, seed {args.seed})")
    print("Eagerly: each iteration builds its graph anew" if args.eager else
          "Through tinygrad_nn.jit: recorded in the first two steps, run eagerly while its program is made, then "
          "replayed as straight-line numpy (--eager to compare)")
    step = full_batch_step(model, opt)
    if not args.eager:
        step = jit(step)  # recorded at the first two steps, then replayed as straight-line numpy (docs/jit.md)
    run = train(step, inputs, targets, args.steps, hooks=hooks, progress=not args.no_progress)
    if args.onnx is not None:
        from ..onnx import export  # the onnx package is imported only when asked for

        export(model, inputs[:1], args.onnx)
        print(f"The trained network is written as an ONNX model (one image per call) to {args.onnx}")
    return run


def report(run, final, predicted, truth, ids):
    """Print the final cost with the time per step, the accuracy and the ids of the images read wrong."""
    per_step = run.seconds / len(run.costs)
    timing = f"{per_step * 1e6:.0f} us" if per_step < 1e-3 else f"{per_step * 1e3:.2f} ms"
    print(f"\nFinal C_T = {final:.6f} after {len(run.costs)} steps ({run.seconds:.2f} s, {timing} per step)")
    correct = int((predicted == truth).sum())
    print(f"Accuracy: {correct}/{len(truth)} images ({100 * correct / len(truth):.1f}%)")
    wrong = ids[predicted != truth]
    if len(wrong):
        print(f"Misclassified image ids: {', '.join(map(str, wrong))}")
