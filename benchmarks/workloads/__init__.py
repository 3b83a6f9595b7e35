"""One module per workload. Each has ``build(impl, cfg) -> Case`` (run inside a worker process) and the
names of the implementations it knows (``IMPLS``); workloads whose data the runner makes also have
``prepare(cfg) -> dict`` (run in the runner, passed to the worker as JSON)."""

import time


def init_params(sizes, seed, dtype="float64"):
    """Weights for fully connected layers, the same in every implementation: for each layer a
    (W of shape (nout, nin), b of shape (nout,)) pair, uniform in +-1/sqrt(nin) (PyTorch's default)."""
    import numpy as np  # lazily: the micrograd worker must not import numpy

    rng = np.random.default_rng(seed)
    out = []
    for nin, nout in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / np.sqrt(nin)
        W = rng.uniform(-bound, bound, size=(nout, nin)).astype(dtype)
        b = rng.uniform(-bound, bound, size=(nout,)).astype(dtype)
        out.append((W, b))
    return out


def load_tinygrad_mlp(net, params):
    """Copy `init_params` weights into a tinygrad_nn MLP (in place, keeping its dtype)."""
    for layer, (W, b) in zip(net.layers, params):
        layer.weight.data[...] = W
        layer.bias.data[...] = b


def load_torch_mlp(linears, params):
    import torch

    with torch.no_grad():
        for lin, (W, b) in zip(linears, params):
            lin.weight.copy_(torch.from_numpy(W))
            lin.bias.copy_(torch.from_numpy(b))


def optimizer_step(opt, loss_fn):
    """One training step for a framework with an optimizer object (tinygrad_nn, PyTorch): zero the
    gradients, compute the loss, back-propagate, update. Returns (step, loss_of) for a Case."""

    def step():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        opt.step()
        return loss

    return step, lambda v: float(v.item())


def training_step(opt, loss_fn):
    """step(*data): zero the gradients, loss_fn(*data), back-propagate, update; returns the loss (for jit, which
    takes the data as arguments)."""

    def step(*data):
        opt.zero_grad()
        loss = loss_fn(*data)
        loss.backward()
        opt.step()
        return loss

    return step


def jax_sgd_step(loss_fn, params, lr, *data):
    """One plain-SGD step of `loss_fn(params, *data)` under jax.jit, the whole update compiled.
    Returns (step, loss_of) for a Case."""
    import jax

    @jax.jit
    def jstep(p, *data):
        loss, g = jax.value_and_grad(loss_fn)(p, *data)
        return jax.tree_util.tree_map(lambda w, gw: w - lr * gw, p, g), loss

    state = [params]

    def step():
        new, loss = jstep(state[0], *data)
        jax.block_until_ready(new)
        state[0] = new
        return loss

    return step, lambda v: float(v)


def jit_case(make_step, *args):
    """tinygrad_nn.jit of a step: `make_step()` builds a fresh model and returns its step function (called with
    `args`). Returns (jitted step, info).

    The process measures the jitted run alone, from its first call on, so that its peak RSS is the jitted run's
    (a twin recorded beforehand would leave its memory in the peak): the calls until the program replays (the
    one that records, the one checked against it, then those that run eagerly while the program is made, a
    slice per call; `Jitted._record` runs the first two) are timed on that run itself, in wall and CPU time (a
    call the machine preempts takes no more CPU time); the eager step they are compared with (the best of 3) is
    timed on a model of its own made only after the timed loop and the peak RSS reading (`late_info`, which the
    worker calls then). info is filled in at that point."""
    from tinygrad_nn.jit.api import Jitted

    info = {}
    cpu = time.process_time
    rec, rec_cpu, making, making_cpu = [], [], [], []

    def timed(method, wall, cpus):
        def run(self, *a, **k):
            t0, c0 = time.perf_counter(), cpu()
            try:
                return method(self, *a, **k)
            finally:
                wall.append(time.perf_counter() - t0)
                cpus.append(cpu() - c0)

        return run

    class Timed(Jitted):  # times the calls before the program replays (a replay calls neither method)
        _record = timed(Jitted._record, rec, rec_cpu)
        _make = timed(Jitted._make, making, making_cpu)

    jitted = Timed(make_step())

    def late():
        eager = make_step()
        times, cpus = [], []
        for _ in range(3):
            t0, c0 = time.perf_counter(), cpu()
            eager(*args)
            times.append(time.perf_counter() - t0)
            cpus.append(cpu() - c0)
        info.update(eager_step_s=min(times), eager_cpu_s=min(cpus),
                    program_parts=jitted._last.parts if jitted._last is not None else None,
                    program_lines=len(jitted._last.source.splitlines()) if jitted._last is not None else None)
        if len(rec) >= 2:
            made, made_cpu = sorted(making or [0.0]), sorted(making_cpu or [0.0])
            info.update(record_first_s=rec[0], record_second_s=rec[1], record_first_cpu_s=rec_cpu[0],
                        record_second_cpu_s=rec_cpu[1], making_calls=len(making), making_max_s=made[-1],
                        making_median_s=made[len(made) // 2], making_p90_s=made[int(0.9 * (len(made) - 1))],
                        making_cpu_max_s=made_cpu[-1], making_cpu_p90_s=made_cpu[int(0.9 * (len(made_cpu) - 1))])
        return info

    _LATE.append(late)
    return jitted, info


_LATE = []


def late_info() -> dict:
    """What the cases measure after the timed loop (see jit_case), merged; called once by the worker."""
    out = {}
    while _LATE:
        out.update(_LATE.pop(0)())
    return out
