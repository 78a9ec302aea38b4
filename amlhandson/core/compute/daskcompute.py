"""``DaskCompute``: attach a Dask cluster that is already running (on other machines too).

Start a scheduler and workers wherever you like (``dask scheduler`` and
``dask worker tcp://HOST:8786`` on other machines, dask-kubernetes,
dask-jobqueue, a hosted Dask service), then attach it with v1's idiom::

    config = DaskCompute.attach_configuration(scheduler_address="tcp://10.0.0.4:8786")
    cluster = ComputeTarget.attach(ws, "dask", config)
    run = exp.submit(ScriptRunConfig(".", "train.py", compute_target=cluster))

Workers need this Python's packages (amlhandson included) but not the
workspace: a run's metrics, logs and ``outputs/`` travel back over Dask's own
connections. See docs/compute.md.

Example:
    >>> DaskCompute.attach_configuration(scheduler_address="127.0.0.1:8786").scheduler_address
    'tcp://127.0.0.1:8786'
"""

from __future__ import annotations

import re
from typing import Any

from ...exceptions import ComputeTargetException
from . import _cluster
from .compute import ComputeTarget, ComputeTargetAttachConfiguration

__all__ = ["DaskCompute", "DaskComputeAttachConfiguration"]

_ADDRESS = re.compile(r"^(tcp|tls|ucx|ws|wss|inproc)://[^\s/]+:\d{1,5}$")


class DaskComputeAttachConfiguration(ComputeTargetAttachConfiguration):
    """The scheduler to attach (see :meth:`DaskCompute.attach_configuration`)."""

    _TARGET_TYPE = "Dask"

    def __init__(self, scheduler_address: str, check: bool = True) -> None:
        if not isinstance(scheduler_address, str) or not scheduler_address.strip():
            raise ComputeTargetException("scheduler_address には 'tcp://ホスト:8786' のような"
                                         "アドレスを指定してください。")
        address = scheduler_address.strip()
        if "://" not in address:
            address = "tcp://" + address
        if not _ADDRESS.match(address):
            raise ComputeTargetException(f"scheduler_address {scheduler_address!r} は使えません。"
                                         "'tcp://ホスト:ポート' の形にしてください (例: tcp://10.0.0.4:8786)。")
        self.scheduler_address = address
        self.check = check

    def _config(self) -> dict[str, Any]:
        return {"scheduler_address": self.scheduler_address}

    def _validate(self, workspace: Any, name: str) -> None:
        if not self.check:
            return
        holder = _cluster.attached_cluster(str(workspace.path), name, self.scheduler_address)
        holder.client()  # raises ComputeTargetException when the scheduler cannot be reached


class DaskCompute(ComputeTarget):
    """An attached Dask cluster (any scheduler reachable from this machine).

    Example:
        >>> cluster = ComputeTarget.attach(ws, "dask",  # doctest: +SKIP
        ...     DaskCompute.attach_configuration(scheduler_address="tcp://10.0.0.4:8786"))
    """

    _TYPE = "Dask"

    @staticmethod
    def attach_configuration(scheduler_address: str, check: bool = True
                             ) -> DaskComputeAttachConfiguration:
        """The scheduler's address (``tcp://host:8786``); ``check=False`` skips the connection test.

        Example:
            >>> DaskCompute.attach_configuration("tls://dask.example:8786").scheduler_address
            'tls://dask.example:8786'
        """
        return DaskComputeAttachConfiguration(scheduler_address, check)

    @property
    def scheduler_address(self) -> str:
        """The attached scheduler's address."""
        return str(self._config["scheduler_address"])

    def _announce(self, created: bool) -> None:
        workers = len(self._runtime().workers())
        verb = "を登録しました" if created else "は登録済みです"
        print(f"DaskCompute {self.name!r} {verb}: スケジューラー {self.scheduler_address} "
              f"(いまのワーカー数 {workers})。")

    def _runtime(self) -> _cluster.AttachedDaskCluster:
        return _cluster.attached_cluster(str(self._workspace.path), self.name,
                                         self.scheduler_address)

    def _runtime_status(self) -> dict[str, Any]:
        return self._runtime().status()
