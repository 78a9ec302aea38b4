"""v1's ``azureml.core.authentication``: accepted, and nothing to log in to.

amlhandson keeps every workspace in a folder on this machine, so there is no
account. Each class takes v1's arguments, keeps them, and says once that no
login happens. ``Workspace(..., auth=InteractiveLoginAuthentication())`` and
``Workspace.from_config(auth=...)`` accept the object and ignore it.

Example:
    >>> auth = ServicePrincipalAuthentication(tenant_id="t", service_principal_id="id",
    ...                                       service_principal_password="secret")
    >>> auth.get_authentication_header()
    {}
"""

from __future__ import annotations

from typing import Any

from ...exceptions import AmlHandsOnError
from .._errors import note_once

__all__ = ["AbstractAuthentication", "InteractiveLoginAuthentication",
           "ServicePrincipalAuthentication", "MsiAuthentication", "AzureCliAuthentication",
           "TokenAuthentication", "AuthenticationException"]

_NOTE = ("{cls} を受け取りました。amlhandson のワークスペースはこのマシンのフォルダーなので、"
         "ログインや認証はありません (渡された認証情報は使いません)。")


class AuthenticationException(AmlHandsOnError, PermissionError):
    """v1's ``AuthenticationException`` (never raised locally: there is no login)."""


class AbstractAuthentication:
    """Base of the v1 authentication classes: keeps its arguments, logs in nowhere.

    Example:
        >>> AbstractAuthentication().get_authentication_header()  # doctest: +SKIP
        {}
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._args = args
        self._kwargs = {k: v for k, v in kwargs.items() if "password" not in k.lower()
                        and "secret" not in k.lower()}
        note_once("authentication", _NOTE.format(cls=type(self).__name__))

    def get_authentication_header(self) -> dict[str, str]:
        """An empty header: local calls need none."""
        return {}

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        """Refused: there is no identity provider offline."""
        raise AuthenticationException(
            f"{type(self).__name__}.get_token: amlhandson にはトークンを発行するサービスが"
            "ありません。Azure のリソースにアクセスするコードは、このマシンでは動きません。")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(offline: no login)"


class InteractiveLoginAuthentication(AbstractAuthentication):
    """v1: a browser or device-code login (``tenant_id=`` for multi-tenant accounts)."""

    def __init__(self, force: bool = False, tenant_id: str | None = None,
                 cloud: str | None = None) -> None:
        super().__init__(force=force, tenant_id=tenant_id, cloud=cloud)


class ServicePrincipalAuthentication(AbstractAuthentication):
    """v1: a service principal's id and secret (the secret is not kept)."""

    def __init__(self, tenant_id: str | None = None, service_principal_id: str | None = None,
                 service_principal_password: str | None = None, cloud: str = "AzureCloud",
                 **kwargs: Any) -> None:
        super().__init__(tenant_id=tenant_id, service_principal_id=service_principal_id,
                         service_principal_password=service_principal_password, cloud=cloud,
                         **kwargs)


class MsiAuthentication(AbstractAuthentication):
    """v1: the managed identity of an Azure VM."""


class AzureCliAuthentication(AbstractAuthentication):
    """v1: the ``az login`` of the Azure CLI."""


class TokenAuthentication(AbstractAuthentication):
    """v1: a function that returns tokens (it is never called)."""

    def __init__(self, get_token_for_audience: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
