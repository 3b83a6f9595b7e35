"""The API reference, made from the package itself: ``.. api-module:: tinygrad_nn.nn`` documents every public name
of that module from its docstring (autodoc), in the module's own order, so a name added to the package appears in
the reference without an edit here. Which names are public is `api_names.public_names`, which the tests check
against.
"""

from __future__ import annotations

import importlib

from api_names import data_doc, is_op, kind, public_names
from docutils import nodes
from docutils.parsers.rst import Directive, directives
from docutils.statemachine import StringList
from sphinx.util.nodes import nested_parse_with_titles


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
