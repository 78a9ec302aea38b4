"""The exception hierarchy of amlhandson.

Every error raised on purpose by amlhandson derives from :class:`AmlHandsOnError`.
Each subclass also derives from the builtin exception a Python user would expect,
so ``except ValueError`` or ``except FileNotFoundError`` keep working.

The names mirror Azure ML v1 (``UserErrorException``, ``WebserviceException``,
``ActivityFailedException`` ...) so that code written for the real service
transfers.

Messages are written for learners: they say what was wrong and what to do.
Where Azure ML v1 had a literal message, the message starts with it.

Example:
    >>> from amlhandson.exceptions import AmlHandsOnError, UserErrorException
    >>> try:
    ...     raise UserErrorException("bad input")
    ... except ValueError as exc:
    ...     isinstance(exc, AmlHandsOnError)
    True
"""

from __future__ import annotations

__all__ = [
    "AmlHandsOnError",
    "UserErrorException",
    "MetricError",
    "ConfigNotFoundError",
    "ConfigError",
    "WorkspaceNotFoundError",
    "RunNotFoundError",
    "ArtifactNotFoundError",
    "ArtifactPathError",
    "RunStateError",
    "ActivityFailedException",
    "StoreError",
    "StoreCorruptError",
    "DiskFullError",
    "AmlHandsOnWarning",
    "StoreDamageWarning",
    "SkippedFilesWarning",
    "RunStateWarning",
    "DataError",
    "DownloadError",
    "ModelNotFoundError",
    "WebserviceException",
    "ComputeTargetException",
    "TrainingException",
    "SnapshotException",
    "NotSupportedLocallyError",
    "NotAvailableInAmlHandsOnError",
    "V1ModuleNotFoundError",
    "RealSdkInstalledError",
    "V1CompatNote",
    "AuthenticationException",
]


class AmlHandsOnError(Exception):
    """Root of every error amlhandson raises on purpose."""


class UserErrorException(AmlHandsOnError, ValueError):
    """The caller passed a value that cannot be used (v1: ``UserErrorException``)."""


class MetricError(UserErrorException):
    """A metric name or value was refused; nothing was recorded for that call."""


class ConfigNotFoundError(AmlHandsOnError, FileNotFoundError):
    """``config.json`` was not found where ``Workspace.from_config`` looked."""


class ConfigError(UserErrorException):
    """``config.json`` exists but cannot be used (bad JSON, missing keys)."""


class WorkspaceNotFoundError(AmlHandsOnError, LookupError):
    """No workspace with that name exists on this machine."""


class RunNotFoundError(AmlHandsOnError, LookupError):
    """No run with that id exists in the experiment."""


class ArtifactNotFoundError(AmlHandsOnError, FileNotFoundError):
    """A run file (artifact) or a local file to upload does not exist."""


class ArtifactPathError(UserErrorException):
    """An artifact name would leave the run's folder or is otherwise unusable."""


class RunStateError(AmlHandsOnError, RuntimeError):
    """The run is in a state where this call makes no sense (e.g. logging after complete)."""


class ActivityFailedException(AmlHandsOnError, RuntimeError):
    """A run that was waited on ended as Failed (v1: ``ActivityFailedException``)."""


class StoreError(AmlHandsOnError, OSError):
    """The workspace's database could not be read or written."""


class StoreCorruptError(StoreError):
    """The workspace's database file is damaged; the message says how to check and repair it."""


class DiskFullError(StoreError):
    """The disk is full; what was recorded before is kept."""


class AmlHandsOnWarning(UserWarning):
    """Root of the warnings amlhandson gives (something needs attention; nothing failed)."""


class StoreDamageWarning(AmlHandsOnWarning):
    """Part of the workspace's data is damaged and was skipped; the rest is still readable."""


class RunStateWarning(AmlHandsOnWarning):
    """A call was done on a run whose state makes it unusual (e.g. logging after complete())."""


class SkippedFilesWarning(AmlHandsOnWarning):
    """Some entries of a folder were not copied (links leading outside it, pipes, devices)."""


class DataError(AmlHandsOnError, ValueError):
    """A data file is damaged, truncated or not what its name says."""


class DownloadError(AmlHandsOnError, ConnectionError):
    """No mirror could deliver a verified copy of a file."""


class ModelNotFoundError(AmlHandsOnError, LookupError):
    """No registered model with that name (and version)."""


class WebserviceException(AmlHandsOnError, RuntimeError):
    """A web service could not be deployed, called or found (v1: ``WebserviceException``)."""


class ComputeTargetException(AmlHandsOnError, LookupError):
    """A compute target does not exist or cannot be used (v1: ``ComputeTargetException``)."""


class TrainingException(UserErrorException):
    """A training configuration (HyperDrive, estimator, sampling, policy) cannot be used.

    v1 raised ``TrainingException`` / ``AzureMLException`` for these.
    """


class SnapshotException(UserErrorException):
    """The source directory of a submitted run cannot be snapshotted (too big, too many files)."""


class NotSupportedLocallyError(AmlHandsOnError, NotImplementedError):
    """A v1 concept that exists only in the Azure cloud (AKS, AutoML, Databricks ...).

    The message names the concept, the nearest local equivalent and a docs link.
    """


class NotAvailableInAmlHandsOnError(AmlHandsOnError, NotImplementedError):
    """A v1 class or function that amlhandson does not implement; the message says what to use."""


class V1ModuleNotFoundError(AmlHandsOnError, ModuleNotFoundError):
    """An ``azureml.*`` module that the compatibility layer does not know (not a public v1 module)."""


class RealSdkInstalledError(AmlHandsOnError, RuntimeError):
    """``amlhandson.compat.install()`` refused: the real Azure ML SDK is importable here."""


class V1CompatNote(AmlHandsOnWarning):
    """A one-time note of the compatibility layer: 2019 code ran through a shim (modern spelling named)."""


class AuthenticationException(AmlHandsOnError, PermissionError):
    """v1's ``AuthenticationException``: a request without the local key, or a wrong one."""
