"""v1 members that amlhandson's classes do not have, added only while the layer is installed.

=====================================  ===================================================
v1 member                              while the layer is on
=====================================  ===================================================
``Run.get_submitted_run()``            ``Run.get_context()`` (v1 deprecated it in 2018)
``Webservice.deploy_from_model(...)``  raises :class:`NotAvailableInAmlHandsOnError`:
``Webservice.deploy_from_image(...)``  use ``Model.deploy(ws, name, [model],
``Webservice.deploy(...)``             inference_config, deployment_config)``
``Model.profile(...)``                 raises: deploy locally and time ``service.run``
``ws.get_mlflow_tracking_uri()``       raises: log with ``run.log``
=====================================  ===================================================

A member the class already has is never replaced, so these disappear by
themselves once amlhandson implements them. The patches are applied when the
class's module is imported (or at install, if it already is) and undone by
``uninstall()``.

Example:
    >>> sorted(POST_IMPORT)
    ['amlhandson.core.model', 'amlhandson.core.run', 'amlhandson.core.webservice', 'amlhandson.core.workspace']
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

from ..exceptions import NotAvailableInAmlHandsOnError
from ._errors import absent_message, note_once

__all__ = ["MEMBERS", "POST_IMPORT"]

Undo = Callable[[], None]

_DEPLOY = ("Model.deploy(ws, name, [model], inference_config, deployment_config) "
           "(2019 年 8 月以降の v1 の書き方。InferenceConfig(entry_script='score.py', "
           "environment=env) を使います)")

#: (module, class, member) -> (kind, what to use). kind "alias:<member>" or "absent".
MEMBERS: dict[tuple[str, str, str], tuple[str, str]] = {
    ("amlhandson.core.run", "Run", "get_submitted_run"): ("alias:get_context", "Run.get_context()"),
    ("amlhandson.core.webservice", "Webservice", "deploy_from_model"): ("absent", _DEPLOY),
    ("amlhandson.core.webservice", "Webservice", "deploy_from_image"): ("absent", _DEPLOY),
    ("amlhandson.core.webservice", "Webservice", "deploy"): ("absent", _DEPLOY),
    ("amlhandson.core.model", "Model", "profile"): (
        "absent", "LocalWebservice にデプロイして service.run(...) の時間を測る"),
    ("amlhandson.core.workspace", "Workspace", "get_mlflow_tracking_uri"): (
        "absent", "run.log(...) で記録する (MLflow の追跡サーバーはありません)"),
}


def _alias(cls: type, member: str, target: str) -> Any:
    real = getattr(cls, target)

    def alias(*args: Any, **kwargs: Any) -> Any:
        note_once(f"{cls.__name__}.{member}",
                  f"{cls.__name__}.{member}() は v1 でも非推奨でした。いまの書き方: "
                  f"{cls.__name__}.{target}()")
        return real(*args, **kwargs)

    alias.__name__ = member
    alias.__doc__ = f"v1's ``{member}``: ``{cls.__name__}.{target}()``."
    return staticmethod(alias)


def _absent(cls: type, member: str, instead: str) -> Any:
    v1_name = f"{cls.__name__}.{member}"

    def absent(*args: Any, **kwargs: Any) -> Any:
        raise NotAvailableInAmlHandsOnError(absent_message(v1_name, instead))

    absent.__name__ = member
    absent.__doc__ = absent_message(v1_name, instead)
    return staticmethod(absent)


def _patcher(module_name: str) -> Callable[[types.ModuleType], Undo | None]:
    def patch(module: types.ModuleType) -> Undo | None:
        added: list[tuple[type, str, Any]] = []
        for (where, class_name, member), (kind, instead) in MEMBERS.items():
            cls = module.__dict__.get(class_name) if where == module_name else None
            if not isinstance(cls, type) or hasattr(cls, member):
                continue
            if kind.startswith("alias:"):
                value = _alias(cls, member, kind.partition(":")[2])
            else:
                value = _absent(cls, member, instead)
            setattr(cls, member, value)
            added.append((cls, member, value))
        if not added:
            return None

        def undo() -> None:
            for cls, member, value in added:
                if cls.__dict__.get(member) is value:
                    delattr(cls, member)

        return undo

    return patch


#: Module name -> patches (see :mod:`._hook`).
POST_IMPORT: dict[str, tuple[Callable[[types.ModuleType], Undo | None], ...]] = {
    name: (_patcher(name),) for name in sorted({m for m, _, _ in MEMBERS})}
