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

import json
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Materialized", "materialize_arguments", "is_data_input", "record_inputs",
           "ScriptInputs", "prepare_script_inputs", "script_environment", "INPUT_DATASETS_ENV"]

#: The variable that tells a submitted script its named dataset inputs (``run.input_datasets``).
INPUT_DATASETS_ENV = "AMLHANDSON_INPUT_DATASETS"


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


@dataclass
class ScriptInputs:
    """A script's arguments with its data inputs made local, and what to do when it ends.

    ``environment`` holds v1's ``AZUREML_DATAREFERENCE_<name>`` variables;
    ``workdir`` (if any) holds downloaded copies and ``as_upload`` folders until
    :meth:`finish`.

    Example:
        >>> prepared = prepare_script_inputs(["--k", 3])
        >>> prepared.arguments, prepared.inputs, prepared.workdir
        (['--k', '3'], [], None)
        >>> prepared.finish(True)
    """

    arguments: list[str]
    inputs: list[Materialized] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)
    workdir: Path | None = None

    def record(self, store: Any, run_id: str) -> None:
        """Note in the store which data run ``run_id`` read (see :func:`record_inputs`)."""
        if self.inputs:
            record_inputs(store, run_id, self.inputs)

    def finish(self, completed: bool) -> None:
        """After the script: upload ``as_upload`` folders if it completed, then drop ``workdir``.

        Example:
            >>> ScriptInputs(["a"]).finish(False)
        """
        try:
            if completed:
                for item in self.inputs:
                    if item.finalize is not None:
                        item.finalize()
        finally:
            if self.workdir is not None:
                shutil.rmtree(self.workdir, ignore_errors=True)
                self.workdir = None


def script_environment(inputs: Sequence[Materialized], workspace: Any = None) -> dict[str, str]:
    """The environment variables that tell a script where its data inputs are.

    v1's ``AZUREML_DATAREFERENCE_<name>`` for each input with a path, and
    :data:`INPUT_DATASETS_ENV` (JSON) for the named dataset inputs, read by
    ``Run.get_context().input_datasets``: a path (mount, download) or, in
    direct mode, the dataset's id and workspace.

    Example:
        >>> script_environment([Materialized("d", "/data/d", "f", "mount", {"dataset": {}})])
        {'AZUREML_DATAREFERENCE_d': '/data/d', 'AMLHANDSON_INPUT_DATASETS': '{"d": {"path": "/data/d"}}'}
    """
    env = {f"AZUREML_DATAREFERENCE_{item.name}": item.path for item in inputs
           if item.path and item.mode != "direct"}
    named: dict[str, dict[str, Any]] = {}
    for item in inputs:
        if "dataset" not in item.definition:
            continue
        if item.mode == "direct":
            named[item.name] = {"datasetId": item.definition.get("datasetId"),
                                "dataset": item.definition.get("dataset"),
                                "kind": item.definition.get("kind"),
                                "workspace": [getattr(workspace, "resource_group", None),
                                              getattr(workspace, "name", None)]}
        else:
            named[item.name] = {"path": item.path}
    if named:
        env[INPUT_DATASETS_ENV] = json.dumps(named, ensure_ascii=False)
    return env


def prepare_script_inputs(arguments: Sequence[Any], extra_inputs: Sequence[Any] = (),
                          workspace: Any = None) -> ScriptInputs:
    """Make the data inputs among ``arguments`` (and ``extra_inputs``) local, before a script starts.

    Without data inputs nothing is created on disk.

    Example:
        >>> prepare_script_inputs(["--data", ds.path("mnist").as_download()]).arguments  # doctest: +SKIP
        ['--data', '/tmp/amlhandson-inputs-.../datarefs/...']
    """
    values = list(arguments)
    if not any(is_data_input(v) for v in [*values, *extra_inputs]):
        return ScriptInputs([str(v) for v in values])
    workdir = Path(tempfile.mkdtemp(prefix="amlhandson-inputs-"))
    try:
        args, inputs = materialize_arguments(values, workdir, extra_inputs)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    return ScriptInputs(args, inputs, script_environment(inputs, workspace), workdir)
