"""Data given to a script run: references and datasets become local paths.

A data reference (``ds.path('mnist').as_mount()``) or a named dataset input
(``dataset.as_named_input('mnist').as_download()``) in a script's arguments
arrives in the script as a local path, as in v1. Whoever starts a script (a
``ScriptRun``, a pipeline step) calls :func:`materialize_arguments`: it turns
each such object into a path, and returns what was read so that the run can
record it (which dataset version, which content).

An object takes part by having ``_materialize(workdir) -> Materialized``.

Example:
    >>> args, inputs = materialize_arguments(["--k", 3], Path("."))
    >>> args, inputs
    (['--k', '3'], [])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Materialized", "materialize_arguments", "is_data_input", "record_inputs"]


@dataclass
class Materialized:
    """A data input made available on this machine.

    ``path`` is what the script receives; ``fingerprint`` the content it saw;
    ``definition`` what was asked for (datastore and path, or a dataset's
    definition); ``dataset`` the registered dataset version, if any;
    ``finalize`` runs after the script (e.g. uploads an ``as_upload`` folder).

    Example:
        >>> Materialized("input", "/tmp/x", "f", "mount", {}).path
        '/tmp/x'
    """

    name: str
    path: str
    fingerprint: str
    mode: str
    definition: dict[str, Any]
    dataset: Any = None
    finalize: Callable[[], None] | None = field(default=None, repr=False)


def is_data_input(value: Any) -> bool:
    """Whether ``value`` becomes a local path when a script starts.

    Example:
        >>> is_data_input("--k"), is_data_input(3)
        (False, False)
    """
    return callable(getattr(value, "_materialize", None))


def materialize_arguments(arguments: Sequence[Any], workdir: Path,
                          extra_inputs: Sequence[Any] = ()) -> tuple[list[str],
                                                                     list[Materialized]]:
    """The arguments as strings (data inputs replaced by local paths) and what was made local.

    ``extra_inputs`` are inputs given outside the arguments (a step's
    ``inputs=``): materialized too, each once.

    Example:
        >>> materialize_arguments(["--data", ds.path("mnist").as_mount()], workdir)  # doctest: +SKIP
        (['--data', '/.../workspaceblobstore/mnist'], [Materialized(...)])
    """
    done: dict[int, Materialized] = {}
    order: list[Materialized] = []

    def get(value: Any) -> Materialized:
        key = id(value)
        if key not in done:
            done[key] = value._materialize(workdir)
            order.append(done[key])
        return done[key]

    out = []
    for value in arguments:
        out.append(get(value).path if is_data_input(value) else str(value))
    for value in extra_inputs:
        if is_data_input(value):
            get(value)
    return out, order


def record_inputs(store: Any, run_id: str, inputs: Sequence[Materialized]) -> None:
    """Note in the workspace's store which data run ``run_id`` read.

    Example:
        >>> record_inputs(Store.open(ws.path), run.id, inputs)  # doctest: +SKIP
    """
    for item in inputs:
        if item.mode == "upload":
            continue
        store.datasets.record_input(run_id, item.name, mode=item.mode,
                                    fingerprint=item.fingerprint, definition=item.definition,
                                    dataset=item.dataset)
