"""Messages, placeholders and one-time notes of the compatibility layer.

A v1 name that cannot run here is still importable: it is a *placeholder*, a
class whose use (a call, or reading a public attribute such as
``AksWebservice.deploy_configuration``) raises the error that says why. So a
2019 import cell runs, and the cell that uses the concept explains itself.

Example:
    >>> from amlhandson.compat._table import lookup
    >>> Aks = placeholder("azureml.core.webservice", "AksWebservice",
    ...                   lookup("azureml.core.webservice").names["AksWebservice"])
    >>> try:
    ...     Aks.deploy_configuration(cpu_cores=1)
    ... except NotImplementedError as exc:
    ...     print(type(exc).__name__)
    NotSupportedLocallyError
"""

from __future__ import annotations

import os
import sys
import threading
import warnings
from typing import Any

from ..exceptions import (
    NotAvailableInAmlHandsOnError,
    NotSupportedLocallyError,
    V1CompatNote,
)
from ._table import ABSENT, CLOUD, DOCS, Name

__all__ = ["cloud_message", "absent_message", "error_for", "placeholder", "is_placeholder",
           "note_once", "reset_notes"]

_ANCHORS = {CLOUD: "cloud-only", ABSENT: "not-in-amlhandson"}


def cloud_message(v1_name: str, concept: str, local: str) -> str:
    """The message of :class:`NotSupportedLocallyError` for ``v1_name``.

    Example:
        >>> print(cloud_message("azureml.train.automl.AutoMLConfig", "AutoML", "HyperDrive"))
        ... # doctest: +NORMALIZE_WHITESPACE
        azureml.train.automl.AutoMLConfig (AutoML) は Azure のクラウドにしかない機能なので、このマシンでは動きません。いちばん近いローカルの方法: HyperDrive。詳しくは docs/compat.md#cloud-only を見てください。
    """
    return (f"{v1_name} ({concept}) は Azure のクラウドにしかない機能なので、このマシンでは"
            f"動きません。いちばん近いローカルの方法: {local}。詳しくは {DOCS}#cloud-only を"
            "見てください。")


def absent_message(v1_name: str, instead: str) -> str:
    """The message of :class:`NotAvailableInAmlHandsOnError` for ``v1_name``.

    Example:
        >>> absent_message("azureml.train.dnn.PyTorch", "Estimator").startswith("azureml.train.dnn")
        True
    """
    from .. import __version__

    return (f"{v1_name} は amlhandson {__version__} にはありません。代わりに: {instead}。"
            f"対応状況は {DOCS}#not-in-amlhandson を見てください。")


def error_for(v1_name: str, entry: Name | Any) -> Exception:
    """The error that using ``v1_name`` raises, from its table entry (a Name or a V1Module).

    Example:
        >>> from amlhandson.compat._table import Name, ABSENT
        >>> type(error_for("azureml.x.Y", Name(ABSENT, note="Z"))).__name__
        'NotAvailableInAmlHandsOnError'
    """
    if entry.status == CLOUD:
        return NotSupportedLocallyError(cloud_message(v1_name, entry.concept or v1_name,
                                                      entry.note or "なし"))
    instead = entry.note or f"{DOCS} に載っている対応する amlhandson の機能"
    if getattr(entry, "where", None):
        module = entry.where.partition(":")[0]
        instead = (f"{entry.where.replace(':', '.')} (モジュール {module} がこの amlhandson に"
                   f"ありません: amlhandson を更新してください)")
    return NotAvailableInAmlHandsOnError(absent_message(v1_name, instead))


class _PlaceholderMeta(type):
    """Metaclass of placeholders: calling the class or reading a public attribute raises."""

    _v1_error: Any

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        raise cls._v1_error()

    def __getattr__(cls, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise cls._v1_error()

    def __repr__(cls) -> str:
        return f"<v1 placeholder {cls.__qualname__}: {cls._v1_status}>"


def placeholder(module: str, name: str, entry: Name | Any) -> type:
    """A class standing for v1 name ``module.name`` that raises its error when used.

    Example:
        >>> from amlhandson.compat._table import Name, CLOUD
        >>> P = placeholder("azureml.x", "Thing", Name(CLOUD, concept="c", note="n"))
        >>> is_placeholder(P), P.__module__, P.__name__
        (True, 'azureml.x', 'Thing')
    """
    v1_name = f"{module}.{name}"

    def make_error() -> Exception:
        return error_for(v1_name, entry)

    namespace = {"__module__": module, "__qualname__": name, "_v1_status": entry.status,
                 "_v1_error": staticmethod(make_error), "__doc__": str(make_error())}
    return _PlaceholderMeta(name, (), namespace)


def is_placeholder(value: Any) -> bool:
    """Whether ``value`` is a placeholder made by :func:`placeholder`.

    Example:
        >>> is_placeholder(int)
        False
    """
    return isinstance(value, _PlaceholderMeta)


# ---- one-time notes ----------------------------------------------------------------------
_noted: set[str] = set()
_lock = threading.Lock()
_OUR_DIRS = (os.path.dirname(os.path.dirname(os.path.abspath(__file__))),)


def _internal(filename: str) -> bool:
    return "importlib" in filename and "_bootstrap" in filename


def _user_stacklevel() -> int:
    """The ``stacklevel`` (for a warning given in :func:`note_once`) of the first user frame.

    Counts frames the way :func:`warnings.warn` does (importlib's frames do not count)
    and skips amlhandson's own frames.
    """
    frame = sys._getframe(2)
    level = 1
    while frame is not None:
        filename = frame.f_code.co_filename
        if not _internal(filename):
            level += 1
            if not filename.startswith(_OUR_DIRS):
                return level
        frame = frame.f_back
    return 1


def note_once(key: str, message: str) -> None:
    """Warn ``message`` (a :class:`V1CompatNote`) the first time ``key`` is seen in this process.

    Example:
        >>> reset_notes()
        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     note_once("k", "first"); note_once("k", "again")
        >>> [str(w.message) for w in caught]
        ['first']
    """
    with _lock:
        if key in _noted:
            return
        _noted.add(key)
    warnings.warn(message, V1CompatNote, stacklevel=_user_stacklevel())


def reset_notes() -> None:
    """Forget which notes were given (the next :func:`note_once` of each key warns again).

    Example:
        >>> reset_notes()
    """
    with _lock:
        _noted.clear()
