"""Deployment configurations (and the other arguments of ``Model.deploy``): what ``LocalWebservice`` / ``AciWebservice.deploy_configuration`` return.

Both kinds run here, on 127.0.0.1 unless ``host`` says otherwise. The serving
knobs (amlhandson's, with v1's names where v1 had them, on AKS):

==================================  =========  ===============================================
setting                             default    meaning
==================================  =========  ===============================================
``workers``                         2          score.py processes kept running (v1: replicas)
``max_workers``                     4          more while all are busy (v1: autoscale_max_replicas)
``replica_max_concurrent_requests`` 1          ``run()`` calls at once per process (v1's name)
``scoring_timeout_ms``              60000      slower ``run()``: 504, process replaced (v1's name)
``max_request_wait_time``           30000      ms a request may wait for a free process (v1's name)
``init_timeout_s``                  300        ``init()`` longer than this fails the deployment
``max_worker_memory_mb``            2048       a process using more is replaced
``max_request_body_mb``             10         bigger bodies: 413
``allow_unauthenticated``           False      needed to serve a non-loopback ``host`` without keys
==================================  =========  ===============================================

``cpu_cores`` / ``memory_gb`` (ACI) are recorded, not enforced.

Example:
    >>> check_service_name("sklearn-mnist-svc")
    'sklearn-mnist-svc'
    >>> c = LocalWebserviceDeploymentConfiguration(port=6789, workers=3)
    >>> c.workers, c.max_workers
    (3, 4)
    >>> LocalWebserviceDeploymentConfiguration(host="0.0.0.0")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    amlhandson.exceptions.UserErrorException: host='0.0.0.0' ...
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING, Any

from ...exceptions import UserErrorException
from ._settings import MIB

if TYPE_CHECKING:
    from ..model import Model

__all__ = ["DeploymentConfiguration", "LocalWebserviceDeploymentConfiguration",
           "AciServiceDeploymentConfiguration", "is_loopback", "server_settings",
           "check_service_name", "check_models"]

_NAME_RULE = re.compile(r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$")
#: Settings copied to server.json under the same name.
_SERVING = ("workers", "max_workers", "replica_max_concurrent_requests", "scoring_timeout_ms",
            "init_timeout_s", "max_worker_memory_mb")


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only.

    Example:
        >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
        (True, True, False)
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _int_in(name: str, value: Any, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise UserErrorException(f"{name} は {low}〜{high} の整数にしてください ({value!r} が"
                                 "渡されました)。")


class DeploymentConfiguration:
    """Settings of a service (the base of the Local and ACI configurations).

    Example:
        >>> LocalWebserviceDeploymentConfiguration().scoring_timeout_ms
        60000
    """

    compute_type = ""

    def __init__(self, *, port: int | None = None, host: str = "127.0.0.1",
                 auth_enabled: bool = False, max_request_body_mb: float = 10.0,
                 workers: int = 2, max_workers: int | None = None,
                 replica_max_concurrent_requests: int = 1, scoring_timeout_ms: int = 60_000,
                 max_request_wait_time: int = 30_000, init_timeout_s: float = 300.0,
                 max_worker_memory_mb: int = 2048, allow_unauthenticated: bool = False,
                 cpu_cores: float | None = None, memory_gb: float | None = None,
                 tags: dict[str, Any] | None = None, properties: dict[str, Any] | None = None,
                 description: str | None = None, primary_key: str | None = None,
                 secondary_key: str | None = None, recorded: dict[str, Any] | None = None) -> None:
        self.port = port
        self.host = host
        self.auth_enabled = bool(auth_enabled)
        self.max_request_body_mb = max_request_body_mb
        self.workers = workers
        self.max_workers = max(4, workers) if max_workers is None else max_workers
        self.replica_max_concurrent_requests = replica_max_concurrent_requests
        self.scoring_timeout_ms = scoring_timeout_ms
        self.max_request_wait_time = max_request_wait_time
        self.init_timeout_s = init_timeout_s
        self.max_worker_memory_mb = max_worker_memory_mb
        self.allow_unauthenticated = bool(allow_unauthenticated)
        self.cpu_cores = cpu_cores
        self.memory_gb = memory_gb
        self.tags = tags
        self.properties = properties
        self.description = description
        self.primary_key = primary_key
        self.secondary_key = secondary_key
        self.recorded = dict(recorded or {})
        self.validate_configuration()

    def validate_configuration(self) -> None:
        """Check the settings; raise ``UserErrorException`` with what to fix."""
        if self.port is not None:
            _int_in("port", self.port, 1, 65535)
        if not isinstance(self.host, str) or not self.host:
            raise UserErrorException("host は '127.0.0.1' のような文字列にしてください。")
        if not is_loopback(self.host) and not self.auth_enabled and \
                not self.allow_unauthenticated:
            raise UserErrorException(
                f"host={self.host!r} ... にするとサービスがこのマシンの外 (ネットワーク) からも呼べる"
                "ようになりますが、キー認証がありません。AciWebservice.deploy_configuration("
                "auth_enabled=True, host=...) でキーを付けるか、誰でも呼べてよいなら "
                "allow_unauthenticated=True を付けてください。")
        if not isinstance(self.max_request_body_mb, (int, float)) or \
                isinstance(self.max_request_body_mb, bool) or self.max_request_body_mb <= 0:
            raise UserErrorException("max_request_body_mb は正の数 (MB) にしてください。")
        _int_in("workers", self.workers, 1, 64)
        _int_in("max_workers", self.max_workers, self.workers, 64)
        _int_in("replica_max_concurrent_requests", self.replica_max_concurrent_requests, 1, 64)
        _int_in("scoring_timeout_ms", self.scoring_timeout_ms, 100, 24 * 3600 * 1000)
        _int_in("max_request_wait_time", self.max_request_wait_time, 0, 24 * 3600 * 1000)
        _int_in("max_worker_memory_mb", self.max_worker_memory_mb, 32, 2 ** 30)
        if not isinstance(self.init_timeout_s, (int, float)) or not 1 <= self.init_timeout_s \
                <= 24 * 3600:
            raise UserErrorException("init_timeout_s は 1〜86400 (秒) にしてください。")
        for what, value in (("cpu_cores", self.cpu_cores), ("memory_gb", self.memory_gb)):
            if value is not None and (not isinstance(value, (int, float)) or value <= 0):
                raise UserErrorException(f"{what} は正の数にしてください ({value!r})。")

    def _to_dict(self) -> dict[str, Any]:
        """Everything but the keys (which never leave ``keys.json``)."""
        return {k: v for k, v in vars(self).items() if k not in ("primary_key", "secondary_key")}

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self._to_dict().items()
                           if v not in (None, {}, False))
        return f"{type(self).__name__}({fields})"


class LocalWebserviceDeploymentConfiguration(DeploymentConfiguration):
    """Settings of a ``LocalWebservice`` (from ``LocalWebservice.deploy_configuration``)."""

    compute_type = "Local"


class AciServiceDeploymentConfiguration(DeploymentConfiguration):
    """Settings of an ``AciWebservice`` (from ``AciWebservice.deploy_configuration``)."""

    compute_type = "ACI"


def server_settings(deployment: dict[str, Any]) -> dict[str, Any]:
    """The ``server.json`` entries for a stored deployment configuration (older ones too).

    Example:
        >>> server_settings({"max_request_body_mb": 1, "workers": 3})["max_request_body_bytes"]
        1048576
    """
    out = {k: deployment[k] for k in _SERVING if deployment.get(k) is not None}
    out["host"] = deployment.get("host", "127.0.0.1")
    out["max_request_body_bytes"] = int(deployment.get("max_request_body_mb", 10) * MIB)
    if deployment.get("max_request_wait_time") is not None:
        out["max_request_wait_time_ms"] = deployment["max_request_wait_time"]
    return out


def check_service_name(name: Any) -> str:
    """``name`` if it is a valid service name (v1's rule), else ``UserErrorException``."""
    if not isinstance(name, str) or not _NAME_RULE.match(name):
        raise UserErrorException(
            "Error, provided service name is invalid. It must only consist of lowercase letters, "
            "numbers, or dashes, start with a letter, end with a letter or number, and be between "
            f"3 and 32 characters long. サービス名 {name!r} は使えません: 小文字の英字・数字・'-' "
            "だけで、英字で始まり、英字か数字で終わる 3〜32 文字にしてください "
            "(例: 'sklearn-mnist-svc')。"
        )
    return name


def check_models(models: Any) -> list[Model]:
    """``models`` as a list of distinct ``Model`` objects, else ``UserErrorException``."""
    from ..model import Model

    if isinstance(models, Model):
        models = [models]
    if not isinstance(models, (list, tuple)) or not all(isinstance(m, Model) for m in models):
        raise UserErrorException("models には Model のリストを渡してください。例: models=[model]")
    ids = [m.id for m in models]
    if len(set(ids)) != len(ids):
        raise UserErrorException(f"models に同じモデルが 2 回入っています: {ids}")
    return list(models)
