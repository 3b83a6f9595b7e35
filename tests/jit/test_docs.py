"""The code in docs/jit.md runs as written, top to bottom."""

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "jit.md"


def test_the_code_in_docs_jit_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) >= 3
    namespace = {}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)  # noqa: S102 - the page's own examples
    assert "5.5" in capsys.readouterr().out
