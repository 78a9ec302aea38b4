"""docs/compat.md lists every v1 module and name of the table, with its status."""

from __future__ import annotations

from pathlib import Path

from amlhandson.compat import _docs, _table

DOCS = Path(__file__).resolve().parents[2] / "docs" / "compat.md"


def test_generated_table_is_current() -> None:
    text = DOCS.read_text(encoding="utf-8")
    generated = text.split(_docs.BEGIN, 1)[1].split(_docs.END, 1)[0].strip()
    assert generated == _docs.render_table(), (
        "docs/compat.md is out of date: run python -m amlhandson.compat._docs docs/compat.md")


def test_every_module_and_name_is_listed_with_a_status() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for name, module in _table.MODULES.items():
        assert f"**`{name}`**" in text
        for item in module.names:
            assert f"| `{name}.{item}` |" in text
    assert 'id="cloud-only"' in text and 'id="not-in-amlhandson"' in text


def test_every_where_of_the_table_is_a_module_path() -> None:
    for module in _table.MODULES.values():
        assert all(t.startswith("amlhandson.") for t in module.targets)
        for item in module.names.values():
            if item.where:
                path, _, attr = item.where.partition(":")
                assert path.startswith("amlhandson") and attr.isidentifier(), item.where
            if item.status == _table.CLOUD:
                assert item.concept and item.note, module.name
