"""The package's modules import each other one way: the module-level import graph has no cycle.

Read from the source (ast), not by importing: an import inside a function runs later and is not an edge. Importing
`a.b.c` runs the `__init__` of every package on the way, so such an import is an edge to those packages too, except
to a package the importer lies inside (its `__init__` is already running) and to `tinygrad_nn` itself, the facade
on top that imports everything.
"""

from __future__ import annotations

import ast
import pathlib

import tinygrad_nn

ROOT = pathlib.Path(tinygrad_nn.__file__).parent
TOP = "tinygrad_nn"


def _modules() -> dict[str, pathlib.Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = (TOP,) + path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _module_level(tree):
    """The statements that run when the module is imported: not function bodies, not `if TYPE_CHECKING:`."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
            continue
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                stack.append(child)


def _edges(name, path, modules):
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    targets = set()
    for node in _module_level(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                targets.add(sub if sub in modules else source)
    edges = set()
    for target in targets:
        if not target.startswith(TOP + "."):
            continue
        parts = target.split(".")
        for i in range(2, len(parts) + 1):  # every package on the way, and the module itself
            prefix = ".".join(parts[:i])
            inside = name == prefix or name.startswith(prefix + ".")
            if prefix in modules and not inside:
                edges.add(prefix)
    return edges


def _cycle(graph):
    """A cycle of the graph as a list of modules, or None."""
    state, path = {}, []

    def visit(n):
        state[n] = "open"
        path.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == "open":
                return path[path.index(m):] + [m]
            if m not in state:
                found = visit(m)
                if found:
                    return found
        state[n] = "done"
        path.pop()
        return None

    for n in sorted(graph):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


def test_the_module_level_imports_have_no_cycle():
    modules = _modules()
    graph = {name: _edges(name, path, modules) for name, path in modules.items() if name != TOP}
    assert len(graph) > 30
    cycle = _cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_engine_imports_nothing_from_the_ops():
    modules = _modules()
    for name, path in modules.items():
        if name.startswith(TOP + ".engine"):
            edges = _edges(name, path, modules)
            assert not any(e == TOP + ".ops" or e.startswith(TOP + ".ops.") for e in edges), (name, edges)


def test_the_check_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
