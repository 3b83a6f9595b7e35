"""The README's table of ops is the op table's own (tinygrad_nn/ops/catalog.py makes it)."""

from pathlib import Path

from tinygrad_nn.ops import OPINFOS, catalog

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_table_is_the_op_tables():
    text = README.read_text(encoding="utf-8")
    start, stop = text.index(catalog.BEGIN), text.index(catalog.END) + len(catalog.END)
    assert text[start:stop] == catalog.markdown(), "run: python -m tinygrad_nn.ops.catalog --write README.md"


def test_every_public_function_is_a_row_and_has_its_checks():
    names = [row[0] for row in catalog.rows()]
    assert "sin" in names and "einsum" in names and "matmul" in names
    for name, _, _, order, _ in catalog.rows():
        if name not in catalog.NO_GRADIENT and name not in catalog.INTERNAL:
            assert catalog._infos(name), f"{name} has no OpInfo"
            assert order in ("any", "1")


def test_write_replaces_only_the_table(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(f"before\n{catalog.BEGIN}\nstale\n{catalog.END}\nafter\n", encoding="utf-8")
    catalog.write(page)
    text = page.read_text(encoding="utf-8")
    assert text.startswith("before\n") and text.endswith("\nafter\n") and "stale" not in text
    assert f"| `sin` | elementwise | 1 | {'any' if OPINFOS['sin'].gradgrad else '1'} | yes |" in text
