"""The code blocks of a page, run: by the docs build (output and figures under each block) and by the tests.

A page's ```python blocks run top to bottom in one namespace, as a reader would paste them. Markers are HTML
comments, invisible on GitHub and in the site:

- ``<!-- docs: run -->`` anywhere on a page: the docs build runs its code and shows, under each block, what
  the block printed and every matplotlib figure it left open. The figures are made by the build, from the
  code on the page, never pasted; they are embedded in the page (a data: URI), so the site needs no files
  beside the HTML and nothing from the network.
- ``<!-- docs: skip REASON -->`` right before a block: the block never runs (the tests report REASON).
- ``<!-- docs: requires MODULE [MODULE ...] -->`` right before a block: it runs only when they can be imported.

`blocks(text)` is the markdown reader the tests use; the Sphinx extension reads the same markers from the
parsed page, so the build and the tests agree on what runs.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import io
import os
import re
import tempfile
import traceback
from dataclasses import dataclass

MARKER = re.compile(r"<!--\s*docs:\s*(run|skip|requires)\b\s*(.*?)\s*-->", re.S)
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^\n`]*)\n"
                   r"(?P<body>.*?)^(?P=indent)(?P=fence)[ \t]*$", re.M | re.S)
PYTHON = {"python", "python3", "py"}


@dataclass
class Block:
    """One fenced python block of a page: its code, first line number, and why it must not run (or None)."""

    code: str
    line: int
    skip: str | None = None


def skip_reason(kind: str, argument: str) -> str | None:
    """What a block marker means here and now: a reason to skip the block, or None to run it."""
    if kind == "skip":
        return argument or "marked skip"
    if kind == "requires":
        absent = [module for module in argument.split() if importlib.util.find_spec(module) is None]
        if absent:
            return f"needs {' and '.join(absent)}, which {'is' if len(absent) == 1 else 'are'} not installed"
    return None


def runs_at_build(text: str) -> bool:
    return any(m.group(1) == "run" for m in MARKER.finditer(text))


def blocks(text: str) -> list[Block]:
    """The page's python blocks in order, each with the marker (if any) that stands right before it."""
    found = []
    for m in FENCE.finditer(text):
        if m.group("info").strip().split(" ")[0] not in PYTHON:
            continue
        before = text[: m.start()].rstrip()
        markers = list(MARKER.finditer(before[-300:])) if before.endswith("-->") else []
        reason = None
        if markers and before.endswith(markers[-1].group(0)):
            reason = skip_reason(markers[-1].group(1), markers[-1].group(2))
        found.append(Block(m.group("body"), text.count("\n", 0, m.start()) + 2, reason))
    return found


class Runner:
    """Runs a page's blocks one by one in one namespace, in a scratch folder (files a page writes stay there),
    with matplotlib drawing off screen; returns what each block printed and the figures it left open."""

    def __init__(self, name: str):
        self.namespace = {"__name__": "__main__"}
        self.name = name
        self._dir = tempfile.TemporaryDirectory(prefix="page_code_")

    def run(self, code: str, line: int = 1) -> tuple[str, list[bytes]]:
        os.environ.setdefault("MPLBACKEND", "Agg")
        out = io.StringIO()
        where = os.getcwd()
        os.chdir(self._dir.name)
        try:
            with contextlib.redirect_stdout(out):
                exec(compile("\n" * (line - 1) + code, self.name, "exec"), self.namespace)  # noqa: S102 - our pages
        finally:
            os.chdir(where)
        return out.getvalue(), self._figures()

    def _figures(self) -> list[bytes]:
        if "matplotlib.pyplot" not in __import__("sys").modules:
            return []
        import matplotlib.pyplot as plt

        pngs = []
        for number in plt.get_fignums():
            figure = plt.figure(number)
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
            pngs.append(buffer.getvalue())
            plt.close(figure)
        return pngs

    def close(self):
        self._dir.cleanup()


# ------------------------------------------------------------------------------------------------------------
# The Sphinx side.


def _marker_before(node) -> tuple[str, str] | None:
    from docutils import nodes

    parent = node.parent
    index = parent.index(node)
    if index == 0:
        return None
    previous = parent[index - 1]
    if isinstance(previous, nodes.raw):
        m = MARKER.search(previous.astext())
        if m:
            return m.group(1), m.group(2)
    return None


def run_page(app, doctree):
    """doctree-read: on a page marked ``<!-- docs: run -->``, run its python blocks and put under each one
    its printed output and its figures. A block that raises fails the build, naming the page and the line."""
    from docutils import nodes
    from sphinx.util import logging

    marked = any(isinstance(n, nodes.raw) and runs_at_build(n.astext()) for n in doctree.findall(nodes.raw))
    if not marked:
        return
    docname = app.env.docname
    source = app.env.doc2path(docname)
    runner = Runner(str(source))
    try:
        for block in list(doctree.findall(nodes.literal_block)):
            if block.get("language") not in PYTHON:
                continue
            marker = _marker_before(block)
            if marker and skip_reason(*marker):
                continue
            try:
                printed, figures = runner.run(block.astext() + "\n", block.line or 1)
            except Exception as error:  # the page's later blocks build on this one: stop the page here
                logging.getLogger(__name__).warning(
                    "a code block failed: %s: %s\n%s", type(error).__name__, error,
                    "".join(traceback.format_exc(limit=-3)), location=block, type="page_code")
                break
            extra = []
            if printed.strip():
                output = nodes.literal_block(printed, printed.rstrip("\n"), language="none")
                output["classes"].append("page-output")
                extra.append(output)
            for png in figures:
                uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
                image = nodes.image(uri=uri, alt=f"figure made by the code above ({docname})")
                image["classes"].append("page-figure")
                extra.append(image)
            parent = block.parent
            at = parent.index(block) + 1
            for offset, node in enumerate(extra):
                parent.insert(at + offset, node)
    finally:
        runner.close()


def setup(app):
    # Before the image collector (priority 500) turns image URIs into candidates.
    app.connect("doctree-read", run_page, priority=400)
    # Each page runs in the process that reads it, with its own namespace and figures: safe under -j.
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}


def main(argv=None) -> int:
    """``python docs/_ext/page_code.py PAGE.md``: run a page's python blocks in order, in one namespace, as the
    tests do (each page in a process of its own). Prints ``skipped line N: REASON`` for each skipped block;
    a block that raises ends the run with the page, the block's first line and the traceback."""
    import sys
    import traceback as tb

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python docs/_ext/page_code.py PAGE.md", file=sys.stderr)
        return 2
    page = args[0]
    with open(page, encoding="utf-8") as f:
        text = f.read()
    runner = Runner(page)
    try:
        for block in blocks(text):
            if block.skip:
                print(f"skipped line {block.line}: {block.skip}")
                continue
            try:
                runner.run(block.code, block.line)
            except BaseException:
                print(f"{page}: the block at line {block.line} failed:\n{tb.format_exc()}", file=sys.stderr)
                return 1
            print(f"ran line {block.line}")
    finally:
        runner.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
