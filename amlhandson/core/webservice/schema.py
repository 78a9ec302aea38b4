"""Input/output schemas for score.py's ``run()``: request checking and a swagger document.

v1 used the separate ``inference_schema`` package; these are small stand-ins
with the same names::

    from amlhandson.core.webservice.schema import (
        input_schema, output_schema, NumpyParameterType, StandardPythonParameterType)

    @input_schema("data", NumpyParameterType(np.zeros((1, 784))))
    @output_schema(NumpyParameterType(np.array([7])))
    def run(data):          # data arrives as a numpy array of shape (n, 784)
        return model.predict(data)

With a schema, the scoring server parses the JSON body itself, checks each
declared parameter (JSON type, number of dimensions, every dimension but the
first, element type) and answers 400 with a message when it does not fit, before
``run()`` is called. ``GET /swagger.json`` then returns an OpenAPI 2.0 document.

The decorators only record the schema on the function (``run`` stays the same
function), so calling ``run(...)`` directly in a notebook does no conversion.

Example:
    >>> import numpy as np
    >>> t = NumpyParameterType(np.zeros((1, 3)))
    >>> t.deserialize_input([[1, 2, 3]]).tolist()
    [[1.0, 2.0, 3.0]]
    >>> t.deserialize_input([[1, 2]])
    Traceback (most recent call last):
    ...
    ValueError: 形が合いません: (n, 3) の配列を送ってください (送られたのは (1, 2))。
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from ...exceptions import UserErrorException

__all__ = ["input_schema", "output_schema", "NumpyParameterType", "StandardPythonParameterType",
           "get_schema", "build_swagger"]

_ATTR = "__amlhandson_schema__"
_JSON_NAMES = {bool: "boolean", int: "integer", float: "number", str: "string",
               list: "array", dict: "object", type(None): "null"}


def _json_type_name(value: Any) -> str:
    return _JSON_NAMES.get(type(value), type(value).__name__)


class NumpyParameterType:
    """A numpy array parameter, described by a sample array.

    The first dimension (the number of rows) may differ from the sample's;
    with ``enforce_shape`` the others must match. With ``enforce_column_type``
    the values must be convertible to the sample's dtype without loss.

    Example:
        >>> import numpy as np
        >>> NumpyParameterType(np.zeros((1, 2))).input_to_swagger()["items"]["items"]
        {'type': 'number', 'format': 'double'}
    """

    def __init__(self, sample_input: Any, enforce_column_type: bool = True,
                 enforce_shape: bool = True) -> None:
        import numpy as np

        self.sample_input = np.asarray(sample_input)
        if self.sample_input.dtype == object or self.sample_input.ndim == 0:
            raise UserErrorException(
                "NumpyParameterType には数値の numpy 配列を見本として渡してください "
                "(例: np.zeros((1, 784)))。"
            )
        self.enforce_column_type = enforce_column_type
        self.enforce_shape = enforce_shape

    def _shape_text(self) -> str:
        return "(" + ", ".join(["n", *(str(d) for d in self.sample_input.shape[1:])]) + \
            ("," if self.sample_input.ndim == 1 else "") + ")"

    def deserialize_input(self, value: Any) -> Any:
        """The JSON value as a numpy array; ``ValueError`` with a clear message if it does not fit."""
        import numpy as np

        if not isinstance(value, list):
            raise ValueError(f"配列 (JSON のリスト) を送ってください ({_json_type_name(value)} が"
                             f"送られました)。形は {self._shape_text()} です。")
        try:
            arr = np.asarray(value)
        except (ValueError, TypeError) as exc:
            raise ValueError("配列の形がそろっていません (行ごとに長さが違うなど)。"
                             f"{self._shape_text()} の形にしてください。") from exc
        want = self.sample_input
        if arr.dtype == object:
            raise ValueError("配列の形がそろっていないか、数値以外 (null やオブジェクト) が"
                             f"含まれています。{self._shape_text()} の数値の配列にしてください。")
        if self.enforce_shape and arr.size and (arr.ndim != want.ndim or
                                                arr.shape[1:] != want.shape[1:]):
            raise ValueError(f"形が合いません: {self._shape_text()} の配列を送ってください "
                             f"(送られたのは {tuple(arr.shape)})。")
        if arr.size == 0:
            return arr.reshape((0, *want.shape[1:])).astype(want.dtype)
        if self.enforce_column_type:
            numeric = "iuf"
            if want.dtype.kind in numeric and arr.dtype.kind not in numeric:
                kind = {"U": "文字列", "b": "true/false"}.get(arr.dtype.kind, str(arr.dtype))
                raise ValueError(f"数値の配列を送ってください ({kind} が含まれています)。")
            if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
                raise ValueError("数値が大きすぎるか、有限の数ではありません (1e999 など)。")
            if want.dtype.kind in "iu" and arr.dtype.kind == "f":
                if not np.all(arr == np.round(arr)):
                    raise ValueError("整数の配列を送ってください (小数が含まれています)。")
            try:
                return arr.astype(want.dtype)
            except (ValueError, OverflowError) as exc:
                raise ValueError(f"値を {want.dtype} に変換できません: {exc}") from exc
        return arr

    def input_to_swagger(self) -> dict[str, Any]:
        """The JSON schema of the parameter (with the sample as ``example``)."""
        kind = self.sample_input.dtype.kind
        item: dict[str, Any] = ({"type": "integer", "format": "int64"} if kind in "iu" else
                                {"type": "number", "format": "double"} if kind == "f" else
                                {"type": "boolean"} if kind == "b" else {"type": "string"})
        for _ in range(self.sample_input.ndim):
            item = {"type": "array", "items": item}
        item["example"] = self.sample_input.tolist()
        return item


class StandardPythonParameterType:
    """A plain JSON value (number, string, bool, list or dict), described by a sample.

    Example:
        >>> StandardPythonParameterType({"k": 1}).input_to_swagger()["type"]
        'object'
        >>> StandardPythonParameterType(1.0).deserialize_input(3)
        3.0
    """

    def __init__(self, sample_input: Any) -> None:
        if type(sample_input) not in _JSON_NAMES:
            raise UserErrorException(
                "StandardPythonParameterType の見本は int / float / str / bool / list / dict の"
                f"どれかにしてください ({type(sample_input).__name__} が渡されました)。"
            )
        self.sample_input = sample_input

    def deserialize_input(self, value: Any) -> Any:
        """``value`` if it has the sample's JSON type (an integer is fine for a float)."""
        want = type(self.sample_input)
        if want is float and type(value) is int:
            return float(value)
        if type(value) is not want:
            raise ValueError(f"{_JSON_NAMES[want]} を送ってください ({_json_type_name(value)} が"
                             "送られました)。")
        if want is dict:
            missing = [k for k in self.sample_input if k not in value]
            if missing:
                raise ValueError(f"オブジェクトにキー {missing} がありません。")
        return value

    def input_to_swagger(self) -> dict[str, Any]:
        """The JSON schema of the parameter."""
        def schema(value: Any) -> dict[str, Any]:
            out: dict[str, Any] = {"type": _JSON_NAMES.get(type(value), "string")}
            if isinstance(value, float):
                out["format"] = "double"
            if isinstance(value, list) and value:
                out["items"] = schema(value[0])
            if isinstance(value, dict):
                out["properties"] = {k: schema(v) for k, v in value.items()}
            return out

        result = schema(self.sample_input)
        result["example"] = self.sample_input
        return result


ParameterType = NumpyParameterType | StandardPythonParameterType


def _info(fn: Callable[..., Any]) -> dict[str, Any]:
    info = getattr(fn, _ATTR, None)
    if info is None:
        info = {"input": {}, "output": None}
        setattr(fn, _ATTR, info)
    return info


def input_schema(param_name: str, param_type: ParameterType,
                 convert_to_provided_type: bool = True) -> Callable[[Callable[..., Any]],
                                                                    Callable[..., Any]]:
    """Declare that ``run``'s parameter ``param_name`` is ``param_type``.

    Example:
        >>> import numpy as np
        >>> @input_schema("data", NumpyParameterType(np.zeros((1, 2))))
        ... def run(data):
        ...     return data.sum()
        >>> list(get_schema(run)["input"])
        ['data']
    """
    if not isinstance(param_type, (NumpyParameterType, StandardPythonParameterType)):
        raise UserErrorException("input_schema の 2 つ目の引数は NumpyParameterType(...) か "
                                 "StandardPythonParameterType(...) にしてください。")

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        params = inspect.signature(fn).parameters
        if param_name not in params and not any(
                p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            raise UserErrorException(
                f"@input_schema({param_name!r}, ...): 関数 {fn.__name__}() に引数 {param_name!r} が"
                f"ありません (引数: {list(params)})。名前をそろえてください。"
            )
        _info(fn)["input"][param_name] = param_type
        return fn

    return decorate


def output_schema(output_type: ParameterType) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare the type ``run`` returns (used for the swagger document)."""
    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        _info(fn)["output"] = output_type
        return fn

    return decorate


def get_schema(fn: Callable[..., Any]) -> dict[str, Any] | None:
    """The schema recorded on ``fn`` (``{"input": {...}, "output": ...}``), or ``None``."""
    info = getattr(fn, _ATTR, None)
    return info if info and info["input"] else None


def build_swagger(service_name: str, fn: Callable[..., Any]) -> dict[str, Any] | None:
    """An OpenAPI 2.0 document for a service whose ``run`` is ``fn`` (``None`` without schema).

    Example:
        >>> import numpy as np
        >>> @input_schema("data", NumpyParameterType(np.zeros((1, 2))))
        ... def run(data):
        ...     return data
        >>> doc = build_swagger("svc", run)
        >>> doc["swagger"], sorted(doc["paths"])
        ('2.0', ['/', '/score'])
    """
    info = get_schema(fn)
    if info is None:
        return None
    inputs = {name: t.input_to_swagger() for name, t in info["input"].items()}
    output = info["output"].input_to_swagger() if info["output"] is not None else {}
    return {
        "swagger": "2.0",
        "info": {"title": service_name,
                 "description": f"API specification for the Azure Machine Learning service "
                                f"{service_name} (served locally by amlhandson)",
                 "version": "1.0"},
        "schemes": ["http"],
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "securityDefinitions": {"Bearer": {"type": "apiKey", "name": "Authorization",
                                           "in": "header",
                                           "description": "For example: Bearer abc123"}},
        "paths": {
            "/": {"get": {"operationId": "ServiceHealthCheck",
                          "description": "Simple health check endpoint to ensure the service is up "
                                         "at any given point.",
                          "responses": {"200": {"description": "If service is up and running, "
                                                               "this response will be returned "
                                                               "with the content 'Healthy'",
                                                "schema": {"type": "string"},
                                                "examples": {"application/json": "Healthy"}},
                                        "default": {"description": "The service failed to "
                                                                   "execute due to an error.",
                                                    "schema": {"$ref": "#/definitions/ErrorResponse"}}}}},
            "/score": {"post": {"operationId": "RunMLService",
                                "description": "Run web service's model and get the prediction "
                                               "output",
                                "security": [{"Bearer": []}],
                                "parameters": [{"name": "serviceInputPayload", "in": "body",
                                                "description": "The input payload for executing "
                                                               "the real-time machine learning "
                                                               "service.",
                                                "schema": {"$ref": "#/definitions/ServiceInput"}}],
                                "responses": {"200": {"description": "The service processed the "
                                                                     "input correctly and "
                                                                     "provided a result "
                                                                     "prediction, if applicable.",
                                                      "schema": {"$ref": "#/definitions/"
                                                                         "ServiceOutput"}},
                                              "default": {"description": "The service failed to "
                                                                         "execute due to an error.",
                                                          "schema": {"$ref": "#/definitions/"
                                                                             "ErrorResponse"}}}}},
        },
        "definitions": {
            "ServiceInput": {"type": "object", "properties": inputs,
                             "example": {k: v.get("example") for k, v in inputs.items()}},
            "ServiceOutput": output,
            "ErrorResponse": {"type": "object",
                              "properties": {"status_code": {"type": "integer", "format": "int32"},
                                             "message": {"type": "string"}}},
        },
    }
