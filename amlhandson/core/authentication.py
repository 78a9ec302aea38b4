"""v1's ``azureml.core.authentication`` for the local REST endpoints (published pipelines).

In Azure ML v1 a notebook called a published pipeline's REST endpoint with the
header of the signed-in user::

    auth = InteractiveLoginAuthentication()
    header = auth.get_authentication_header()        # {"Authorization": "Bearer <token>"}
    requests.post(published.endpoint, headers=header,
                  json={"ExperimentName": "pipelines", "ParameterAssignments": {"k": 5}})

Here there is no account: the token is the **local key**, one random key per
``AMLHANDSON_HOME`` (that is, per user, like v1's login, valid for every local
workspace under it). It lives in ``<AMLHANDSON_HOME>/auth/key`` (mode 0600 in a
0700 folder), is created on first use, is never written to a log or the
workspace database, and is checked in constant time. Delete the file (or call
:func:`regenerate_local_key`) to invalidate every header handed out so far.

Example:
    >>> header = InteractiveLoginAuthentication().get_authentication_header()
    >>> list(header), header["Authorization"].startswith("Bearer ")
    (['Authorization'], True)
    >>> check_header(header["Authorization"]), check_header("Bearer wrong"), check_header(None)
    (True, False, False)
"""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path
from typing import Any

from .. import _atomic
from .._paths import home, restrict
from ..exceptions import AuthenticationException

__all__ = ["AbstractAuthentication", "InteractiveLoginAuthentication",
           "ServicePrincipalAuthentication", "AzureCliAuthentication", "MsiAuthentication",
           "TokenAuthentication", "AuthenticationException", "local_key", "key_file",
           "check_header", "regenerate_local_key"]

_KEY_BYTES = 32


def key_file(root: Path | None = None) -> Path:
    """Where the local key is kept: ``<AMLHANDSON_HOME>/auth/key``.

    Example:
        >>> key_file(Path("/h"))
        PosixPath('/h/auth/key')
    """
    return (root if root is not None else home()) / "auth" / "key"


def _read(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text or None


def local_key(root: Path | None = None, create: bool = True) -> str | None:
    """The local key (created, private to this user, on first use when ``create``).

    Processes creating it at once get the same key: creation holds a file lock, and the
    key is written to a temporary file and renamed into place, so no reader sees half a key.

    Example:
        >>> len(local_key()) > 30
        True
    """
    path = key_file(root)
    key = _read(path)
    if key is not None or not create:
        return key
    with _key_lock(path):
        key = _read(path)  # another process may have written it while this one waited
        if key is None:  # missing, empty or damaged: write a new one
            key = _write_new(path)
    return key


def regenerate_local_key(root: Path | None = None) -> str:
    """Replace the local key: headers handed out before stop working (401).

    Example:
        >>> old = local_key(); regenerate_local_key() != old
        True
    """
    path = key_file(root)
    with _key_lock(path):
        return _write_new(path)


def _key_lock(path: Path) -> Any:
    """The inter-process lock that creating or replacing the key holds (``key.lock`` beside it)."""
    import filelock

    path.parent.mkdir(parents=True, exist_ok=True)
    restrict(path.parent)
    return filelock.FileLock(str(path) + ".lock", mode=0o600)


def _write_new(path: Path) -> str:
    """Write a fresh key to ``path`` in one step (0600); callers hold :func:`_key_lock`."""
    new = secrets.token_urlsafe(_KEY_BYTES)
    _atomic.write_text(path, new, mode=0o600)
    restrict(path, 0o600)
    return new


def check_header(value: str | bytes | None, root: Path | None = None) -> bool:
    """Whether an ``Authorization`` header value carries the local key (constant-time compare).

    Example:
        >>> check_header("Bearer " + local_key())
        True
    """
    if not value:
        return False
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    scheme, _, token = value.strip().partition(" ")
    key = local_key(root, create=False)
    if scheme.lower() != "bearer" or not token or key is None:
        return False
    return hmac.compare_digest(token.strip().encode("latin-1", "replace"), key.encode("ascii"))


class AbstractAuthentication:
    """Base of v1's authentication classes: every one of them hands out the local key.

    Example:
        >>> "Authorization" in AbstractAuthentication().get_authentication_header()
        True
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # v1's arguments (tenant, service principal ...) are accepted and not kept: secrets
        # must not linger in a notebook's objects
        self._kind = type(self).__name__

    def get_authentication_header(self) -> dict[str, str]:
        """``{"Authorization": "Bearer <local key>"}`` for the local REST endpoints."""
        return {"Authorization": f"Bearer {local_key()}"}

    def __repr__(self) -> str:
        return f"{self._kind}(local key: {key_file()})"


class InteractiveLoginAuthentication(AbstractAuthentication):
    """v1's browser/device-code login; here the local key (no login happens).

    Example:
        >>> InteractiveLoginAuthentication(tenant_id="x").get_authentication_header()["Authorization"][:7]
        'Bearer '
    """

    def __init__(self, force: bool = False, tenant_id: str | None = None,
                 cloud: str | None = None) -> None:
        super().__init__()


class ServicePrincipalAuthentication(AbstractAuthentication):
    """v1's service principal login (id and secret are accepted and not kept); the local key.

    Example:
        >>> ServicePrincipalAuthentication("t", "id", "secret").get_authentication_header() != {}
        True
    """

    def __init__(self, tenant_id: str | None = None, service_principal_id: str | None = None,
                 service_principal_password: str | None = None, cloud: str = "AzureCloud",
                 **kwargs: Any) -> None:
        super().__init__()


class AzureCliAuthentication(AbstractAuthentication):
    """v1's ``az login`` credentials; the local key.

    Example:
        >>> AzureCliAuthentication().get_authentication_header() != {}
        True
    """


class MsiAuthentication(AbstractAuthentication):
    """v1's managed identity; the local key.

    Example:
        >>> MsiAuthentication().get_authentication_header() != {}
        True
    """


class TokenAuthentication(AbstractAuthentication):
    """v1's authentication from a token callback (the callback is not called); the local key.

    Example:
        >>> TokenAuthentication(lambda *a: "t").get_authentication_header() != {}
        True
    """

    def __init__(self, get_token_for_audience: Any = None, **kwargs: Any) -> None:
        super().__init__()
