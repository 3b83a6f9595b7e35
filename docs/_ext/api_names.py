"""What the API reference covers, in plain Python (the tests use it without Sphinx installed).

A module's public names are its ``__all__``; without one, the functions and classes it defines (or imports
from its own subpackages) whose names do not start with an underscore.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import sys
import types

# The modules the reference covers, each with its page in docs/api/.
MODULES = ["tinygrad_nn", "tinygrad_nn.nn", "tinygrad_nn.optim", "tinygrad_nn.data", "tinygrad_nn.transforms",
           "tinygrad_nn.testing", "tinygrad_nn.special", "tinygrad_nn.onnx"]


def documented(module_name: str, name: str):
    """The object whose docstring documents `module_name.name`. A module that can be called (``tinygrad_nn.jit``
    is both a module and its function) is documented by the function of its own name inside it."""
    obj = getattr(importlib.import_module(module_name), name)
    if isinstance(obj, types.ModuleType) and callable(getattr(obj, name, None)):
        return getattr(obj, name)
    return obj


def public_names(module_name: str) -> list[str]:
    """The module's public names; a plain submodule is not one (it has a page of its own, or none)."""
    module = importlib.import_module(module_name)
    if hasattr(module, "__all__"):
        return [name for name in module.__all__
                if not isinstance(documented(module_name, name), types.ModuleType)]
    names = []
    for name, obj in vars(module).items():
        if name.startswith("_") or isinstance(obj, types.ModuleType):
            continue
        home = getattr(obj, "__module__", None)
        if (inspect.isclass(obj) or callable(obj)) and home and (home + ".").startswith(module_name + "."):
            names.append(name)
    return names


def is_op(obj) -> bool:
    from tinygrad_nn.ops import Op

    return isinstance(obj, Op)


def is_op_function(obj) -> bool:
    """An op, or a public function of the op table's families composed of ops (`where`, `einsum`): what the
    reference's page of ops lists. The registry's own tools (`defop`, ...) are not ops."""
    if is_op(obj):
        return True
    home = getattr(obj, "__module__", "") or ""
    return (inspect.isfunction(obj) and home.startswith("tinygrad_nn.ops.")
            and home not in ("tinygrad_nn.ops.registry", "tinygrad_nn.ops.numpy_api"))


def kind(obj) -> str:
    """The autodoc directive that documents `obj` ("autodata" for a constant: see `data_doc`)."""
    if inspect.isclass(obj):
        return "autoclass"
    if callable(obj):
        return "autofunction"
    return "autodata"


def _attribute_docs(module) -> dict[str, str]:
    """The string literals written right under module-level assignments (Python keeps no docstring there)."""
    try:
        tree = ast.parse(inspect.getsource(module))
    except (OSError, TypeError):  # no source to read
        return {}
    docs = {}
    for node, after in zip(tree.body, tree.body[1:]):
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant) and isinstance(after.value.value, str):
            for target in targets:
                if isinstance(target, ast.Name):
                    docs[target.id] = inspect.cleandoc(after.value.value)
    return docs


def data_doc(module_name: str, name: str) -> str:
    """The docstring written under a module-level constant, found in the module or in the submodule that
    defines it."""
    importlib.import_module(module_name)
    candidates = [module_name] + sorted(m for m in sys.modules if m.startswith(module_name + "."))
    for candidate in candidates:
        doc = _attribute_docs(sys.modules[candidate]).get(name)
        if doc:
            return doc
    return ""
