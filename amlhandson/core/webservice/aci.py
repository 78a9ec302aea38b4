"""``AciWebservice``: v1's Azure Container Instances service, run on this machine (v1: ``webservice.aci``).

Example:
    >>> AciWebservice.deploy_configuration(cpu_cores=1, memory_gb=1).memory_gb
    1
"""

from __future__ import annotations

from typing import Any

from ...exceptions import UserErrorException, WebserviceException
from . import _client
from ._config import AciServiceDeploymentConfiguration
from ._records import DELETED
from .service import Webservice

__all__ = ["AciWebservice", "AciServiceDeploymentConfiguration"]


class AciWebservice(Webservice):
    """v1's Azure Container Instances service, run on this machine.

    There is no Azure here: the service runs locally exactly like a
    ``LocalWebservice``, with ACI's states, outputs and key authentication.

    Example:
        >>> config = AciWebservice.deploy_configuration(cpu_cores=1, memory_gb=1,
        ...                                             auth_enabled=True)
        >>> config.auth_enabled, config.cpu_cores
        (True, 1)
    """

    _compute_type = "ACI"
    _STATE_NAMES = {DELETED: "Deleted"}

    @staticmethod
    def deploy_configuration(cpu_cores: float | None = None, memory_gb: float | None = None,
                             tags: dict[str, Any] | None = None,
                             properties: dict[str, Any] | None = None,
                             description: str | None = None, location: str | None = None,
                             auth_enabled: bool | None = None, ssl_enabled: bool | None = None,
                             enable_app_insights: bool | None = None,
                             ssl_cert_pem_file: str | None = None,
                             ssl_key_pem_file: str | None = None, ssl_cname: str | None = None,
                             dns_name_label: str | None = None, primary_key: str | None = None,
                             secondary_key: str | None = None,
                             collect_model_data: bool | None = None, *, host: str = "127.0.0.1",
                             port: int | None = None, max_request_body_mb: float = 10.0,
                             workers: int = 2, max_workers: int | None = None,
                             replica_max_concurrent_requests: int = 1,
                             scoring_timeout_ms: int = 60_000,
                             max_request_wait_time: int = 30_000, init_timeout_s: float = 300.0,
                             max_worker_memory_mb: int = 2048,
                             allow_unauthenticated: bool = False,
                             ) -> AciServiceDeploymentConfiguration:
        """Settings for ``Model.deploy`` (v1 defaults: 0.1 cores, 0.5 GB; recorded only).

        ``auth_enabled=True`` gives the service two keys (``get_keys()``). HTTPS
        (``ssl_enabled``) is not available locally. ``host`` and the serving
        settings after it are amlhandson's; see :mod:`._config`.
        """
        if ssl_enabled:
            raise UserErrorException(
                "ssl_enabled=True (HTTPS) はローカルのサービスでは使えません。ssl_enabled を"
                "付けずにデプロイしてください (通信はこのマシンの中だけです)。")
        for key in (primary_key, secondary_key):
            if key is not None and (not isinstance(key, str) or len(key) < 8):
                raise UserErrorException("primary_key / secondary_key は 8 文字以上の文字列に"
                                         "してください。")
        recorded = {k: v for k, v in (("location", location),
                                      ("enable_app_insights", enable_app_insights),
                                      ("dns_name_label", dns_name_label),
                                      ("collect_model_data", collect_model_data)) if v is not None}
        return AciServiceDeploymentConfiguration(
            port=port, host=host, auth_enabled=bool(auth_enabled),
            max_request_body_mb=max_request_body_mb, workers=workers, max_workers=max_workers,
            replica_max_concurrent_requests=replica_max_concurrent_requests,
            scoring_timeout_ms=scoring_timeout_ms, max_request_wait_time=max_request_wait_time,
            init_timeout_s=init_timeout_s, max_worker_memory_mb=max_worker_memory_mb,
            allow_unauthenticated=allow_unauthenticated,
            cpu_cores=0.1 if cpu_cores is None else cpu_cores,
            memory_gb=0.5 if memory_gb is None else memory_gb, tags=tags,
            properties=properties, description=description, primary_key=primary_key,
            secondary_key=secondary_key, recorded=recorded)

    def _announce(self, show_output: bool) -> None:
        if show_output:
            print('ACI service creation operation finished, operation "Succeeded"')

    def _failure_literal(self, state: str) -> str:
        return ("Service deployment polling reached non-successful terminal state, current "
                f"service state: {state}\nMore information can be found using '.get_logs()'")

    def _handle_response(self, status: int, headers: dict[str, str], content: bytes) -> Any:
        if status == 200:
            return _client.decode(content)
        raise WebserviceException(
            "Received bad response from service. More information can be found by calling "
            f"`.get_logs()` on the webservice object.\nResponse Code: {status}\n"
            f"Headers: {headers}\nContent: {content!r}\n{_client.status_hint(status)}")
