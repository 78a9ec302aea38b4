"""``LocalWebservice``: a service for trying a model on this machine (v1: ``webservice.local``).

v1 built a Docker image and ran it on the local Docker daemon; here the
service runs as processes of this machine, with v1's state names
(``deploying``, ``running``, ``failed``, ``deleted``) and outputs.

Example:
    >>> LocalWebservice.deploy_configuration(port=6789).port
    6789
"""

from __future__ import annotations

from typing import Any

from ...exceptions import WebserviceException
from . import _client
from ._config import LocalWebserviceDeploymentConfiguration
from ._records import DELETED, FAILED, HEALTHY, TRANSITIONING, UNHEALTHY
from .service import KeysNotSupportedError, Webservice

__all__ = ["LocalWebservice", "LocalWebserviceDeploymentConfiguration"]


class LocalWebservice(Webservice):
    """A service for trying a model on this machine (v1 ran it in local Docker).

    Example:
        >>> config = LocalWebservice.deploy_configuration(port=6789)
        >>> config.port
        6789
    """

    _compute_type = "Local"
    _STATE_NAMES = {TRANSITIONING: "deploying", HEALTHY: "running", FAILED: "failed",
                    UNHEALTHY: "failed", DELETED: "deleted"}

    @staticmethod
    def deploy_configuration(port: int | None = None, *, host: str = "127.0.0.1",
                             max_request_body_mb: float = 10.0, workers: int = 2,
                             max_workers: int | None = None,
                             replica_max_concurrent_requests: int = 1,
                             scoring_timeout_ms: int = 60_000,
                             max_request_wait_time: int = 30_000, init_timeout_s: float = 300.0,
                             max_worker_memory_mb: int = 2048,
                             allow_unauthenticated: bool = False,
                             ) -> LocalWebserviceDeploymentConfiguration:
        """Settings for ``Model.deploy``: ``port=None`` picks a free port.

        The other settings are amlhandson's (v1's names where v1 had them, on
        AKS); see :mod:`._config` for their meaning and defaults.
        """
        return LocalWebserviceDeploymentConfiguration(
            port=port, host=host, max_request_body_mb=max_request_body_mb, workers=workers,
            max_workers=max_workers,
            replica_max_concurrent_requests=replica_max_concurrent_requests,
            scoring_timeout_ms=scoring_timeout_ms, max_request_wait_time=max_request_wait_time,
            init_timeout_s=init_timeout_s, max_worker_memory_mb=max_worker_memory_mb,
            allow_unauthenticated=allow_unauthenticated)

    def _announce(self, show_output: bool) -> None:
        print(f"Local webservice is running at http://{self._client_host}:{self.port}")

    def _failure_literal(self, state: str) -> str:
        return "Error: Connection to container has failed. Did your init method fail?"

    def _handle_response(self, status: int, headers: dict[str, str], content: bytes) -> Any:
        print("Making a scoring call...")
        if status == 200:
            result = _client.decode(content)
            preview = repr(result)
            print("Scoring result:", preview if len(preview) <= 200 else preview[:200] + " ...")
            return result
        text = content.decode("utf-8", "replace")
        print(text)
        raise WebserviceException(
            f"Error: Scoring was unsuccessful. (HTTP {status}) {_client.status_hint(status)}\n"
            f"{text}")

    def get_keys(self) -> tuple[str, str]:
        """LocalWebservice has no keys (v1: ``NotImplementedError``)."""
        raise KeysNotSupportedError(
            "LocalWebservice にはキーがありません。キー認証を試すには "
            "AciWebservice.deploy_configuration(auth_enabled=True) でデプロイしてください。")

    def regen_key(self, key: str, set_key: str | None = None) -> None:
        """LocalWebservice has no keys (v1: ``NotImplementedError``)."""
        self.get_keys()
