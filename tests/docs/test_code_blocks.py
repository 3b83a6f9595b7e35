"""Every ```python block of the README and of the pages in docs/ runs, page by page, top to bottom in one
namespace, as a reader pasting them would run them. Each page runs in a fresh process of its own (pages may
register ops of the same name, and must not lean on each other's state), in a scratch folder.

A block is skipped only with a reason written before it on the page (docs/_ext/page_code.py):
``<!-- docs: skip REASON -->``, or ``<!-- docs: requires MODULE -->`` when MODULE is not installed.
"""

import subprocess
import sys

import pytest

from tests.conftest import ROOT, tree_env

RUNNER = ROOT / "docs" / "_ext" / "page_code.py"
sys.path.insert(0, str(RUNNER.parent))
import page_code  # noqa: E402  (docs/_ext is not a package)

PAGES = [ROOT / "README.md"] + sorted(p for p in (ROOT / "docs").rglob("*.md") if "_build" not in p.parts)
WITH_CODE = [p for p in PAGES if page_code.blocks(p.read_text(encoding="utf-8"))]


def test_the_pages_have_code():
    names = {p.relative_to(ROOT).as_posix() for p in WITH_CODE}
    assert {"README.md", "docs/saving.md", "docs/engine.md", "docs/tutorial/09-backprop.md"} <= names


@pytest.mark.parametrize("page", WITH_CODE, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_page_runs(page, tmp_path):
    done = subprocess.run([sys.executable, str(RUNNER), str(page)], cwd=tmp_path, capture_output=True, text=True,
                          env=tree_env(MPLBACKEND="Agg"), timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    ran = [line for line in done.stdout.splitlines() if line.startswith("ran line ")]
    skipped = [line for line in done.stdout.splitlines() if line.startswith("skipped line ")]
    assert len(ran) + len(skipped) == len(page_code.blocks(page.read_text(encoding="utf-8")))
    if not ran:
        pytest.skip("; ".join(skipped))


def test_markers():
    """The reader of the pages: fences, languages, and the markers that skip a block."""
    text = "\n".join([
        "```python", "a = 1", "```", "",
        "<!-- docs: skip it draws a window -->", "```python", "b = 2", "```",
        "```bash", "pip install .", "```",
        "<!-- docs: requires no_such_module_here -->", "```python", "c = 3", "```",
        "<!-- docs: requires json -->", "~~~py", "d = 4", "~~~",
    ])
    found = page_code.blocks(text)
    assert [b.code for b in found] == ["a = 1\n", "b = 2\n", "c = 3\n", "d = 4\n"]
    assert [b.line for b in found] == [2, 7, 14, 18]
    assert found[0].skip is None and found[3].skip is None
    assert found[1].skip == "it draws a window"
    assert "no_such_module_here" in found[2].skip
    assert not page_code.runs_at_build(text) and page_code.runs_at_build("<!-- docs: run -->\n" + text)


def test_a_failing_block_names_page_and_line(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# t\n\n```python\nx = 1\n```\n\n```python\ny = x +\n```\n", encoding="utf-8")
    done = subprocess.run([sys.executable, str(RUNNER), str(page)], cwd=tmp_path, capture_output=True, text=True,
                          env=tree_env())
    assert done.returncode == 1
    assert "the block at line 8 failed" in done.stderr and "SyntaxError" in done.stderr
