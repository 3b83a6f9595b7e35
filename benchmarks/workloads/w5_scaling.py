"""W5: scaling of backward with graph size, tinygrad_nn only (scalar Values).

Two shapes, each at about 1e3, 1e4, 1e5 and 1e6 nodes (leaves included):
- chain: y = x, then repeatedly y = y * w, y = y + b, y = tanh(y) (w, b shared leaves), so the graph is
  one path as deep as it is large, mixing the engine's inlined scalar ops (mul, add) with an op from
  the table (tanh);
- tree: a balanced binary tree of additions over n/2 leaves (n - 1 nodes).
The graph is built once per process (untimed); one step is one ``backward()`` over it (leaves keep
accumulating, intermediates restart). Time per node = step time / node count; linear scaling means
time per node stays flat, and the suite reports max/min of it over the sizes.
"""

from __future__ import annotations

from benchmarks.common import Case

IMPLS = ("tinygrad_nn",)
SHAPES = ("chain", "tree")


def sizes_of(cfg):
    return (1_000, 10_000) if cfg.get("quick") else (1_000, 10_000, 100_000, 1_000_000)


def build(impl, cfg):
    if impl != "tinygrad_nn":
        raise ValueError(impl)
    from tinygrad_nn import Value

    n, shape = cfg["size"], cfg["shape"]
    if shape == "chain":
        w, b = Value(0.999), Value(0.001)
        y = Value(0.5)
        ops = n - 3
        for i in range(ops):
            r = i % 3
            y = y * w if r == 0 else (y + b if r == 1 else y.tanh())
        root, nodes = y, ops + 3
    elif shape == "tree":
        level = [Value(1.0) for _ in range(n // 2)]
        nodes = len(level)
        while len(level) > 1:
            nxt = [level[i] + level[i + 1] for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                nxt.append(level[-1])
            nodes += len(level) // 2
            level = nxt
        root = level[0]
    else:
        raise ValueError(shape)

    def step():
        root.backward()

    return Case(step, info={"nodes": nodes, "shape": shape})
