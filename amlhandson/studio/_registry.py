"""Models and endpoints for the studio: listings, downloads, test calls, deletion.

Like :mod:`._data`, plain JSON-friendly data from the public entity API
(``Model``, ``Webservice``); the pages and the API call nothing else for them.

Example:
    >>> [m["id"] for m in list_models(ws)]  # doctest: +SKIP
    ['sklearn_mnist:2', 'sklearn_mnist:1']
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["list_models", "model_file", "list_services", "service_detail", "delete_service",
           "scoring_target", "swagger_uri"]


def list_models(ws: Any, name: str | None = None) -> list[dict[str, Any]]:
    """Every registered model version (newest first per name), with the run that produced it.

    Example:
        >>> list_models(ws)[0]["id"]  # doctest: +SKIP
        'sklearn_mnist:1'
    """
    from ..core.model import Model

    return [m.serialize() for m in Model.list(ws, name=name)]


def model_file(ws: Any, name: str, version: int, target_dir: Path) -> Path:
    """Copy model ``name:version`` (hash-checked) into ``target_dir``; return the copy's path.

    Example:
        >>> model_file(ws, "sklearn_mnist", 1, Path("/tmp/x")).name  # doctest: +SKIP
        'sklearn_mnist_model.pkl'
    """
    from ..core.model import Model

    return Path(Model(ws, name, version=int(version)).download(str(target_dir), exist_ok=True))


def list_services(ws: Any) -> list[dict[str, Any]]:
    """Every deployed web service with its state and URIs.

    Example:
        >>> [s["state"] for s in list_services(ws)]  # doctest: +SKIP
        ['running']
    """
    from ..core.webservice import Webservice

    return [s.serialize() for s in Webservice.list(ws)]


def _service(ws: Any, name: str) -> Any:
    from ..core.webservice import Webservice

    return Webservice(ws, name)


def service_detail(ws: Any, name: str, log_lines: int = 200) -> dict[str, Any]:
    """One service: its details and the end of its log.

    Example:
        >>> "init" in service_detail(ws, "sklearn-mnist-svc")["logs"]  # doctest: +SKIP
        True
    """
    service = _service(ws, name)
    detail = service.serialize()
    detail["logs"] = service.get_logs(num_lines=log_lines)
    detail["created"] = service.created_time
    detail["updated"] = service.updated_time
    return detail


def delete_service(ws: Any, name: str) -> dict[str, Any]:
    """Stop and remove a service (an explicit action of the portal).

    Example:
        >>> delete_service(ws, "sklearn-mnist-svc")  # doctest: +SKIP
        {'name': 'sklearn-mnist-svc', 'state': 'deleted'}
    """
    _service(ws, name).delete()
    return {"name": name, "state": "deleted"}


def scoring_target(ws: Any, name: str) -> tuple[str, dict[str, str]]:
    """Where to post a test call to service ``name`` and the headers it needs (key if any).

    Example:
        >>> scoring_target(ws, "sklearn-mnist-svc")[0]  # doctest: +SKIP
        'http://127.0.0.1:41235/score'
    """
    from ..exceptions import WebserviceException

    service = _service(ws, name)
    uri = service.scoring_uri
    if uri is None:
        raise WebserviceException(f"サービス {name!r} はまだ URI がありません (状態: {service.state})。"
                                  "service.wait_for_deployment() のあとで試してください。")
    headers = {"Content-Type": "application/json"}
    if service.auth_enabled:
        headers["Authorization"] = f"Bearer {service.get_keys()[0]}"
    return uri, headers


def swagger_uri(ws: Any, name: str) -> str | None:
    """The service's ``swagger.json`` URI (``None`` before it has a port).

    Example:
        >>> swagger_uri(ws, "sklearn-mnist-svc")  # doctest: +SKIP
        'http://127.0.0.1:41235/swagger.json'
    """
    return _service(ws, name).swagger_uri
