"""The pieces of a pipeline graph: ``PipelineData``, ``PipelineParameter`` and the step base.

As in v1 (``azureml.pipeline.core.graph``):

* a :class:`PipelineData` listed in one step's ``outputs`` and another's
  ``inputs`` (and in both steps' ``arguments``) is a named piece of data that
  flows between them; the consumer waits for the producer;
* a :class:`PipelineParameter` is a value chosen at submission
  (``pipeline_parameters={"k": 5}``), with a default;
* ``step.run_after(other)`` orders two steps that share no data.

Example:
    >>> prepared = PipelineData("prepared")
    >>> k = PipelineParameter("k", default_value=3)
    >>> str(prepared), k.default_value
    ('$AZUREML_DATAREFERENCE_prepared', 3)
"""

from __future__ import annotations

import re
from typing import Any

from ...exceptions import UserErrorException

__all__ = ["PipelineData", "PipelineParameter", "PipelineStep", "check_identifier"]

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")
_PARAM_TYPES = (bool, int, float, str)


def check_identifier(value: Any, what: str) -> str:
    """``value`` if it is a valid name for ``what`` (letters, digits, '_'), else a clear error.

    Example:
        >>> check_identifier("prepared_data", "PipelineData の名前")
        'prepared_data'
    """
    if not isinstance(value, str) or not _IDENT.match(value):
        raise UserErrorException(
            f"{what} {value!r} は使えません。英字か '_' で始まり、英数字と '_' だけの名前に"
            "してください (例: 'prepared_data')。"
        )
    return value


class PipelineData:
    """Data produced by one step and consumed by others, stored in a datastore.

    Each run of the producing step writes to its own folder
    ``azureml/<step run id>/<name>`` of the datastore (the default datastore
    unless ``datastore=`` is given); consumers get that path.

    Example:
        >>> PipelineData("model", output_name="trained_model").output_name
        'trained_model'
    """

    def __init__(self, name: str, datastore: Any = None, output_name: str | None = None,
                 output_mode: str = "mount", output_path_on_compute: str | None = None,
                 output_overwrite: bool | None = None, data_type: str | None = None,
                 is_directory: bool | None = None, pipeline_output_name: str | None = None,
                 training_output: Any = None) -> None:
        self._name = check_identifier(name, "PipelineData の名前")
        if datastore is not None and not hasattr(datastore, "backend"):
            raise UserErrorException(f"PipelineData({name!r}): datastore には Datastore を渡して"
                                     f"ください ({type(datastore).__name__} が渡されました)。")
        if output_mode not in ("mount", "upload"):
            raise UserErrorException(f"PipelineData({name!r}): output_mode は 'mount' か "
                                     "'upload' にしてください。")
        self.datastore = datastore
        self._output_name = check_identifier(output_name or name, "output_name")
        self.output_mode = output_mode
        self.is_directory = is_directory
        self.data_type = data_type or "AnyFile"
        self.pipeline_output_name = pipeline_output_name
        self._producers: list[PipelineStep] = []

    @property
    def name(self) -> str:
        """The data's name (unique within a pipeline)."""
        return self._name

    @property
    def output_name(self) -> str:
        """The output's name on the producing step (``name`` by default)."""
        return self._output_name

    @property
    def datastore_name(self) -> str | None:
        """The datastore the data is written to (``None``: the workspace default)."""
        return None if self.datastore is None else str(self.datastore.name)

    def as_input(self, input_name: str | None = None) -> PipelineData:
        """This data as an input (v1 API; the object itself works the same).

        Example:
            >>> PipelineData("d").as_input().name
            'd'
        """
        return self

    def as_mount(self) -> PipelineData:
        """This data, mounted in the consumer (the default).

        Example:
            >>> PipelineData("d").as_mount().name
            'd'
        """
        return self

    def as_download(self, input_name: str | None = None, path_on_compute: str | None = None,
                    overwrite: bool | None = None) -> PipelineData:
        """This data, mounted (amlhandson gives every consumer a local path either way).

        Example:
            >>> PipelineData("d").as_download().name
            'd'
        """
        return self

    def to_config(self) -> dict[str, Any]:
        """The data's description as a JSON object.

        Example:
            >>> PipelineData("d").to_config()["name"]
            'd'
        """
        return {"name": self._name, "outputName": self._output_name,
                "datastore": self.datastore_name, "outputMode": self.output_mode,
                "isDirectory": self.is_directory}

    def __str__(self) -> str:
        return f"$AZUREML_DATAREFERENCE_{self._name}"

    def __repr__(self) -> str:
        return f"PipelineData(name={self._name!r})"


class PipelineParameter:
    """A value set when the pipeline is submitted (``pipeline_parameters={name: value}``).

    Defaults may be ``str``, ``int``, ``float`` or ``bool``; a submitted value must
    have the default's type (an ``int`` is accepted for a ``float``).

    Example:
        >>> PipelineParameter("k", default_value=3).resolve({"k": 5})
        5
    """

    def __init__(self, name: str, default_value: Any) -> None:
        self.name = check_identifier(name, "PipelineParameter の名前")
        if not isinstance(default_value, _PARAM_TYPES):
            raise UserErrorException(
                f"PipelineParameter({name!r}): default_value には str, int, float, bool の"
                f"どれかを指定してください ({type(default_value).__name__} が渡されました)。"
            )
        self.default_value = default_value

    def check(self, value: Any) -> Any:
        """``value`` if it has this parameter's type, else a clear error.

        Example:
            >>> PipelineParameter("rate", 0.5).check(1)
            1.0
        """
        kind = type(self.default_value)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if type(value) is not kind:
            raise UserErrorException(
                f"パイプラインのパラメーター {self.name!r} には {kind.__name__} を指定してください "
                f"({value!r} は {type(value).__name__} です。既定値: {self.default_value!r})。"
            )
        return value

    def resolve(self, assignments: dict[str, Any] | None) -> Any:
        """The submitted value (checked), or the default.

        Example:
            >>> PipelineParameter("k", 3).resolve(None)
            3
        """
        if assignments and self.name in assignments:
            return self.check(assignments[self.name])
        return self.default_value

    def __repr__(self) -> str:
        return f"PipelineParameter(name={self.name!r}, default_value={self.default_value!r})"


class PipelineStep:
    """What every step has: a name, inputs, outputs, arguments and steps it runs after.

    Example:
        >>> a, b = PipelineStep("a"), PipelineStep("b")
        >>> b.run_after(a); [s.name for s in b.run_after_steps]
        ['a']
    """

    def __init__(self, name: str, inputs: list[Any] | None = None,
                 outputs: list[Any] | None = None, arguments: list[Any] | None = None,
                 allow_reuse: bool = True) -> None:
        if not isinstance(name, str) or not name.strip():
            raise UserErrorException("ステップの name が空です。ステップに名前を付けてください。")
        self.name = name
        self.inputs = _as_list(inputs, "inputs")
        self.outputs = _as_list(outputs, "outputs")
        self.arguments = _as_list(arguments, "arguments")
        self.allow_reuse = bool(allow_reuse)
        self.run_after_steps: list[PipelineStep] = []
        for output in self.outputs:
            if isinstance(output, PipelineData):
                output._producers.append(self)

    def run_after(self, step: PipelineStep) -> None:
        """Run this step only after ``step`` finished (no data needs to flow).

        Example:
            >>> step2.run_after(step1)  # doctest: +SKIP
        """
        if not isinstance(step, PipelineStep):
            raise UserErrorException(f"run_after にはステップを渡してください ({type(step).__name__}"
                                     " が渡されました)。")
        if step not in self.run_after_steps:
            self.run_after_steps.append(step)

    def upstream(self) -> list[PipelineStep]:
        """The steps this one depends on: producers of its inputs, then ``run_after`` steps.

        Example:
            >>> [s.name for s in step2.upstream()]  # doctest: +SKIP
            ['prepare']
        """
        found: list[PipelineStep] = []
        for item in self.inputs + self.arguments:
            if isinstance(item, PipelineData):
                for producer in item._producers:
                    if producer is not self and producer not in found:
                        found.append(producer)
        for step in self.run_after_steps:
            if step not in found:
                found.append(step)
        return found

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def _as_list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
        raise UserErrorException(f"{what} はリストで渡してください (例: {what}=[...])。")
    return list(value)
