"""Azure ML v1's ``azureml.core.compute``: where submitted runs execute.

* ``'local'`` (a name, no object): the script runs as a subprocess of this machine.
* :class:`AmlCompute`: a Dask ``LocalCluster`` of worker processes on this machine,
  started on first use (``AmlCompute.provisioning_configuration(...)`` +
  ``ComputeTarget.create``).
* :class:`DaskCompute`: any running Dask cluster, attached by its scheduler's
  address (``DaskCompute.attach_configuration(...)`` + ``ComputeTarget.attach``).

Importing this package does not import Dask; the first run on a cluster does.

Example:
    >>> from amlhandson.core.compute import AmlCompute, ComputeTarget, ComputeTargetException
    >>> AmlCompute.provisioning_configuration(max_nodes=2).max_nodes
    2
"""

from __future__ import annotations

from ...exceptions import ComputeTargetException
from .amlcompute import AmlCompute, AmlComputeProvisioningConfiguration
from .compute import LOCAL, ComputeStatus, ComputeTarget
from .daskcompute import DaskCompute, DaskComputeAttachConfiguration

__all__ = ["AmlCompute", "AmlComputeProvisioningConfiguration", "ComputeStatus", "ComputeTarget",
           "ComputeTargetException", "DaskCompute", "DaskComputeAttachConfiguration", "LOCAL"]
