"""Sphinx configuration of tinygrad_nn's documentation site: MyST markdown pages, the furo theme, autodoc.

Build (offline; warnings and broken cross-references are errors):

    pip install ".[docs]"
    python -m sphinx -W --keep-going -n -b html docs docs/_build/html
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # this checkout's tinygrad_nn, never an installed copy
sys.path.insert(0, str(HERE / "_ext"))

project = "tinygrad_nn"
author = "the tinygrad_nn authors"
copyright = "the tinygrad_nn authors; the book's data and examples: 涌井良幸 and 涌井贞美"

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "page_code",
    "api_pages",
    "repo_links",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "_ext", "Thumbs.db", ".DS_Store"]
templates_path = []

# MyST: ::: fences, headings as link targets (engine.md#backward). No $...$ maths: MathJax would come from a
# CDN, and the site works offline; formulas are written in plain text and code, as in the book's workbooks.
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# Docstrings are written with markdown's `code`; in reStructuredText a single backquote is the default role.
default_role = "code"
# A fence without a language is plain text (a table, a formula), not Python.
highlight_language = "none"
autodoc_typehints = "none"
autodoc_member_order = "bysource"
autodoc_default_options = {"members": False}
autosummary_generate = False

html_theme = "furo"
html_title = "tinygrad_nn"
html_static_path = ["_static"]
html_css_files = ["site.css"]
html_theme_options = {"navigation_with_keys": True}
html_show_sourcelink = False
html_copy_source = False
