"""The API reference, made from the package itself: ``.. api-module:: tinygrad_nn.nn`` documents every public name
of that module from its docstring (autodoc), in the module's own order, so a name added to the package appears in
the reference without an edit here. Which names are public is `api_names.public_names`, which the tests check
against.
"""

from __future__ import annotations

import importlib
import inspect

from api_names import data_doc, documented, is_op, is_op_function, kind, public_names
from docutils import nodes
from docutils.parsers.rst import Directive, directives
from docutils.statemachine import StringList
from sphinx.util.nodes import nested_parse_with_titles


def op_signature(op) -> str:
    """An op's arguments as its public function takes them (every op is called `op(*inputs, **params)`; its
    forward's parameters say what those are)."""
    for fn in (getattr(op, "prepare", None), op.forward):
        if fn is None:
            continue
        try:
            return str(inspect.signature(fn))
        except (TypeError, ValueError):  # a builtin without a signature (numpy's ufuncs)
            continue
    return "(*inputs, **params)"


class ApiModule(Directive):
    """``.. api-module:: NAME``: every public name of module NAME. Option ``:ops:`` ``only`` documents just the
    ops among them (`api_names.is_op_function`), ``exclude`` everything else (the ops of ``tinygrad_nn`` have a
    page of their own)."""

    required_arguments = 1
    option_spec = {"ops": lambda arg: directives.choice(arg, ("only", "exclude"))}

    def run(self):
        module_name = self.arguments[0]
        module = importlib.import_module(module_name)
        which = self.options.get("ops")
        lines = []
        for name in public_names(module_name):
            obj = documented(module_name, name)
            if which == "only" and not is_op_function(obj) or which == "exclude" and is_op_function(obj):
                continue
            directive = kind(obj)
            if directive == "autodata":  # autodoc would show the docstring of the constant's type
                lines.append(f".. py:data:: {module_name}.{name}")
                lines += ["", *("   " + line for line in data_doc(module_name, name).splitlines()), ""]
                continue
            signature = op_signature(obj) if is_op(obj) else ""
            if obj is not getattr(module, name):  # a callable module: its function, under the module's name
                lines += [f".. py:function:: {module_name}.{name}{inspect.signature(obj)}", "",
                          *("   " + line for line in (inspect.getdoc(obj) or "").splitlines()), ""]
                continue
            lines.append(f".. {directive}:: {module_name}.{name}{signature}")
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
