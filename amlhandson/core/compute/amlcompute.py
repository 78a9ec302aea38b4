"""``AmlCompute``: v1's managed training cluster, here a Dask ``LocalCluster`` on this machine.

``AmlCompute.provisioning_configuration(vm_size=, min_nodes=, max_nodes=,
idle_seconds_before_scaledown=)`` describes it; ``ComputeTarget.create`` registers
it (nothing starts yet). The first run submitted to it starts ``max_nodes``
worker processes (one "node" = one worker process with one thread), later runs
reuse them, and they are scaled down to ``min_nodes`` after
``idle_seconds_before_scaledown`` without a running trial. ``vm_size`` is
recorded only: every worker uses this machine's CPU.

Example:
    >>> config = AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=2)
    >>> config.max_nodes, config.min_nodes, config.idle_seconds_before_scaledown
    (2, 0, 120)
"""

from __future__ import annotations

from typing import Any

from ...exceptions import ComputeTargetException
from . import _cluster
from .compute import ComputeTarget, ComputeTargetProvisioningConfiguration

__all__ = ["AmlCompute", "AmlComputeProvisioningConfiguration"]


def _count(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ComputeTargetException(f"{name} には {minimum} 以上の整数を指定してください "
                                     f"({value!r} が渡されました)。")
    return value


class AmlComputeProvisioningConfiguration(ComputeTargetProvisioningConfiguration):
    """The settings of a new ``AmlCompute`` (see :meth:`AmlCompute.provisioning_configuration`)."""

    _TARGET_TYPE = "AmlCompute"

    def __init__(self, vm_size: str, vm_priority: str, min_nodes: int, max_nodes: int,
                 idle_seconds_before_scaledown: int) -> None:
        self.vm_size = vm_size
        self.vm_priority = vm_priority
        self.min_nodes = _count("min_nodes", min_nodes, 0)
        self.max_nodes = _count("max_nodes", max_nodes, 1)
        self.idle_seconds_before_scaledown = _count("idle_seconds_before_scaledown",
                                                    idle_seconds_before_scaledown, 1)
        if self.min_nodes > self.max_nodes:
            raise ComputeTargetException(f"min_nodes ({min_nodes}) は max_nodes ({max_nodes}) 以下に"
                                         "してください。")

    def _config(self) -> dict[str, Any]:
        return {"vm_size": self.vm_size, "vm_priority": self.vm_priority,
                "min_nodes": self.min_nodes, "max_nodes": self.max_nodes,
                "idle_seconds_before_scaledown": self.idle_seconds_before_scaledown}

    def __repr__(self) -> str:
        return f"AmlComputeProvisioningConfiguration({self._config()})"


class AmlCompute(ComputeTarget):
    """A training cluster: worker processes of a Dask ``LocalCluster`` on this machine.

    Example:
        >>> cluster = ComputeTarget.create(ws, "cpucluster",  # doctest: +SKIP
        ...     AmlCompute.provisioning_configuration(max_nodes=2))
    """

    _TYPE = "AmlCompute"

    @staticmethod
    def provisioning_configuration(vm_size: str = "STANDARD_D2_V2", vm_priority: str = "dedicated",
                                   min_nodes: int = 0, max_nodes: int | None = None,
                                   idle_seconds_before_scaledown: int | None = None,
                                   **_: Any) -> AmlComputeProvisioningConfiguration:
        """The settings of a new cluster; ``max_nodes`` defaults to this machine's cores.

        Example:
            >>> AmlCompute.provisioning_configuration(max_nodes=4).max_nodes
            4
        """
        if not isinstance(vm_size, str):
            raise ComputeTargetException("vm_size には 'STANDARD_D2_V2' のような文字列を指定してください。")
        return AmlComputeProvisioningConfiguration(
            vm_size, vm_priority, min_nodes,
            max_nodes if max_nodes is not None else _cluster.cpu_count(),
            idle_seconds_before_scaledown if idle_seconds_before_scaledown is not None else 120)

    @property
    def max_nodes(self) -> int:
        """The number of worker processes the cluster starts."""
        return int(self._config["max_nodes"])

    @property
    def min_nodes(self) -> int:
        """Worker processes kept when idle."""
        return int(self._config["min_nodes"])

    @property
    def vm_size(self) -> str:
        """The VM size given (recorded only)."""
        return str(self._config.get("vm_size"))

    def _announce(self, created: bool) -> None:
        cores = _cluster.cpu_count()
        verb = "を作成しました" if created else "は作成済みです"
        print(f"AmlCompute {self.name!r} {verb}: このマシンの Dask LocalCluster です "
              f"(ワーカー {self.max_nodes} 個 × 1 スレッド、このマシンの CPU コアは {cores} 個)。"
              "最初の Run を submit したときに起動します。")
        if self.max_nodes > cores:
            print(f"注意: max_nodes ({self.max_nodes}) がコア数 ({cores}) より多いので、ワーカーは"
                  "CPU を分け合い、並列で速くはなりません。")

    def wait_for_completion(self, show_output: bool = False, min_node_count: int | None = None,
                            timeout_in_minutes: int = 20, is_delete_operation: bool = False) -> None:
        """v1's wait: the target is ready at once (its workers start with the first run)."""
        if show_output:
            print("Creating\nSucceeded\nAmlCompute wait for completion finished\n\n"
                  "Minimum number of nodes requested have been provisioned")

    def _runtime(self) -> _cluster.LocalDaskCluster:
        return _cluster.local_cluster(str(self._workspace.path), self.name, self.max_nodes,
                                      self.min_nodes,
                                      float(self._config["idle_seconds_before_scaledown"]))

    def _runtime_status(self) -> dict[str, Any]:
        status = self._runtime().status()
        status["vmSize"] = self.vm_size
        status["scaleSettings"] = {"minNodeCount": self.min_nodes, "maxNodeCount": self.max_nodes,
                                   "nodeIdleTimeBeforeScaleDown":
                                       f"PT{self._config['idle_seconds_before_scaledown']}S"}
        return status
