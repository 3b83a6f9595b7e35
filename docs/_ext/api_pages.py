"""The API reference, made from the package itself: ``.. api-module:: tinygrad_nn.nn`` documents every public
name of that module from its docstring (autodoc), in the module's own order, so a name added to the package
appears in the reference without an edit here. `public_names` is also what the tests check against.

A module's public names are its ``__all__``; without one, the functions and classes it defines (or imports
from its own subpackages) whose names do not start with an underscore.
"""

from __future__ import annotations

import importlib
import inspect
import sys
import types

from docutils import nodes
from docutils.parsers.rst import Directive, directives
from docutils.statemachine import StringList
from sphinx.util.nodes import nested_parse_with_titles

# The modules the reference covers, each with its page.
MODULES = ["tinygrad_nn", "tinygrad_nn.nn", "tinygrad_nn.optim", "tinygrad_nn.data", "tinygrad_nn.transforms",
           "tinygrad_nn.testing"]


def public_names(module_name: str) -> list[str]:
    module = importlib.import_module(module_name)
    if hasattr(module, "__all__"):
        return list(module.__all__)
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


def data_doc(module_name: str, name: str) -> str:
    """The docstring written under a module-level constant (where Python keeps none), found in the module or
    in the submodule that defines it."""
    from sphinx.pycode import ModuleAnalyzer

    candidates = [module_name] + sorted(m for m in sys.modules if m.startswith(module_name + "."))
    for candidate in candidates:
        try:
            docs = ModuleAnalyzer.for_module(candidate).find_attr_docs()
        except Exception:  # a compiled or source-less module has no attribute docs to find
            continue
        if ("", name) in docs:
            return "\n".join(docs[("", name)])
    return ""


def kind(obj) -> str:
    """The autodoc directive that documents `obj`."""
    if inspect.isclass(obj):
        return "autoclass"
    if callable(obj):
        return "autofunction"
    return "autodata"


class ApiModule(Directive):
    """``.. api-module:: NAME``: every public name of module NAME. Option ``:ops:`` ``only`` documents just the
    registered ops among them, ``exclude`` everything else (the ops of ``tinygrad_nn`` have a page of their own)."""

    required_arguments = 1
    option_spec = {"ops": lambda arg: directives.choice(arg, ("only", "exclude"))}

    def run(self):
        module_name = self.arguments[0]
        module = importlib.import_module(module_name)
        which = self.options.get("ops")
        lines = []
        for name in public_names(module_name):
            obj = getattr(module, name)
            if which == "only" and not is_op(obj) or which == "exclude" and is_op(obj):
                continue
            directive = kind(obj)
            if directive == "autodata":  # autodoc would show the docstring of the constant's type
                lines.append(f".. py:data:: {module_name}.{name}")
                lines += ["", *("   " + line for line in data_doc(module_name, name).splitlines()), ""]
                continue
            lines.append(f".. {directive}:: {module_name}.{name}")
            if directive == "autoclass":
                lines.append("   :members:")
            lines.append("")
        node = nodes.section()
        node.document = self.state.document
        nested_parse_with_titles(self.state, StringList(lines, source=f"<api-module {module_name}>"), node)
        return node.children


def setup(app):
    app.add_directive("api-module", ApiModule)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
