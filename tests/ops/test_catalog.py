"""The README's table of ops is the op table's own (tinygrad_nn/ops/catalog.py makes it)."""

from pathlib import Path

import pytest

from tinygrad_nn.ops import catalog
from tinygrad_nn.testing import OPINFOS

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_table_is_the_op_tables():
    text = README.read_text(encoding="utf-8")
    start, stop = text.index(catalog.BEGIN), text.index(catalog.END) + len(catalog.END)
    assert text[start:stop] == catalog.markdown(), "run: python -m tinygrad_nn.ops.catalog --write README.md"


def _infos(name):
    """The OpInfos that check `name`: the one of that name, or else its variants (`pow_2`, `eigh_values`)."""
    if name in OPINFOS:
        return [OPINFOS[name]]
    return [info for key, info in OPINFOS.items() if key.startswith(name + "_")]


def test_every_public_function_is_a_row_and_has_its_checks():
    names = [row[0] for row in catalog.rows()]
    assert "sin" in names and "einsum" in names and "matmul" in names
    for name, _, _, order, _ in catalog.rows():
        if not order.startswith("none") and not order.endswith("(internal)"):
            assert _infos(name), f"{name} has no OpInfo"
            assert order in ("any", "1")


def test_the_declared_facts_are_what_the_opinfos_check():
    # An op's declared order and scalar support are claims; its OpInfos are the checks that hold them: "any"
    # order needs gradgrad checked in every entry, "yes" for scalars a scalar check in one of them at least.
    for name, _, _, order, scalars in catalog.rows():
        infos = _infos(name)
        if not infos:
            continue
        assert (order == "any") == all(i.gradgrad for i in infos), name
        assert (scalars == "yes") == any(i.scalar for i in infos), name


def test_a_function_without_declared_facts_is_refused_by_the_catalog(monkeypatch):
    import tinygrad_nn.ops as ops

    monkeypatch.setattr(ops, "undeclared_fn_for_test", lambda x: x, raising=False)
    monkeypatch.setattr(catalog, "PUBLIC", [*catalog.PUBLIC, "undeclared_fn_for_test"])
    with pytest.raises(LookupError, match="undeclared_fn_for_test declares no facts"):
        catalog.rows()


def test_write_replaces_only_the_table(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(f"before\n{catalog.BEGIN}\nstale\n{catalog.END}\nafter\n", encoding="utf-8")
    catalog.write(page)
    text = page.read_text(encoding="utf-8")
    assert text.startswith("before\n") and text.endswith("\nafter\n") and "stale" not in text
    assert f"| `sin` | elementwise | 1 | {'any' if OPINFOS['sin'].gradgrad else '1'} | yes |" in text
