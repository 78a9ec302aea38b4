"""The table agrees with what amlhandson has: every v1 name marked as working resolves.

A name whose amlhandson module is not built yet is skipped (it is a placeholder that
says so); once the module exists, a wrong entry in the table fails here.
"""

from __future__ import annotations

import importlib

import pytest

from amlhandson.compat import _errors, _table

from .conftest import module_exists


def _working_names() -> list[tuple[str, str]]:
    return [(module, name) for module, entry in sorted(_table.MODULES.items())
            for name, item in sorted(entry.names.items())
            if item.status in (_table.WORKS, _table.DIFFERS)]


def _serving_module(module: str, name: str) -> str:
    item = _table.MODULES[module].names[name]
    if item.where:
        return item.where.partition(":")[0]
    targets = [t for t in _table.MODULES[module].targets if module_exists(t)]
    return targets[0] if targets else "amlhandson." + module.partition(".")[2]


@pytest.mark.parametrize(("module", "name"), _working_names())
def test_every_working_name_resolves(layer, module: str, name: str) -> None:
    serving = _serving_module(module, name)
    if not module_exists(serving):
        pytest.skip(f"{serving} is not built yet")
    value = getattr(importlib.import_module(module), name)
    assert not _errors.is_placeholder(value), f"{module}.{name}: {value._v1_error()}"
