"""``Model.deploy`` step by step: check, claim the name, build the folder, start the server.

The name is claimed first, by inserting the service's record (the store refuses
a second one in the same transaction), so two processes deploying the same
name cannot both get past it, and no folder is touched before the name is ours.

Example:
    >>> service = deploy(ws, "sklearn-mnist-svc", [model], inference_config,
    ...                  LocalWebservice.deploy_configuration(), None, False)  # doctest: +SKIP
"""

from __future__ import annotations

import shutil
from typing import Any

from ...exceptions import UserErrorException, WebserviceException
from ..inference_config import InferenceConfig
from ..workspace import Workspace
from . import _records
from ._client import client_host
from ._config import DeploymentConfiguration, check_models, check_service_name
from ._layout import prepare
from .aci import AciWebservice
from .service import Webservice

__all__ = ["deploy"]


def deploy(workspace: Workspace, name: str, models: Any, inference_config: Any,
           deployment_config: Any, deployment_target: Any, overwrite: bool) -> Webservice:
    """``Model.deploy``: check, claim the name, prepare the folder, start the server.

    Example:
        >>> deploy(ws, "svc", [model], inference_config, None, None, False)  # doctest: +SKIP
    """
    if not isinstance(workspace, Workspace):
        raise UserErrorException("Model.deploy の 1 つ目の引数 workspace には Workspace を"
                                 f"渡してください ({type(workspace).__name__})。")
    check_service_name(name)
    models = check_models(models)
    if not isinstance(inference_config, InferenceConfig):
        raise UserErrorException(
            "Model.deploy には inference_config=InferenceConfig(entry_script='score.py', "
            "environment=env) を渡してください。")
    if deployment_target is not None:
        raise UserErrorException("deployment_target (AKS などのクラスター) はローカルでは使えません。"
                                 "deployment_config だけを渡してください。")
    if deployment_config is None:
        deployment_config = AciWebservice.deploy_configuration()
    if not isinstance(deployment_config, DeploymentConfiguration):
        raise UserErrorException(
            "deployment_config には LocalWebservice.deploy_configuration(...) か "
            "AciWebservice.deploy_configuration(...) の結果を渡してください。")
    inference_config.validate_configuration()
    deployment_config.validate_configuration()
    if _records.get(workspace, name) is not None:
        if not overwrite:
            raise WebserviceException(
                f"Error, there is already a service with name {name} found in workspace "
                f"{workspace.name}. 同じ名前のサービスがすでにあります。置き換えるには "
                "overwrite=True を付けるか、別の名前にするか、Webservice(ws, name).delete() して"
                "ください。")
        Webservice(workspace, name).delete()
    spec: dict[str, Any] = {
        "compute_type": deployment_config.compute_type,
        "deployment": deployment_config._to_dict(),
        "models": [m.id for m in models],
        "inference": inference_config._to_spec(),
        "error": None, "proc_started": None,
    }
    _records.create(workspace, name, spec, _records.TRANSITIONING)  # the name is ours now
    folder = workspace.path / "services" / name
    try:
        if folder.exists():  # left over by a crash, without a record
            shutil.rmtree(folder)
        prepare(workspace, folder, spec, deployment_config, port=deployment_config.port)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        _records.delete(workspace, name)
        raise
    service = Webservice(workspace, name)
    if deployment_config.compute_type == "ACI":
        print("AciWebservice: Azure Container Instances の代わりに、このマシンの "
              f"{client_host(deployment_config.host)} でサービスを動かします "
              "(cpu_cores / memory_gb は記録だけです)。")
    try:
        service._spawn()
    except BaseException:
        service.delete()
        raise
    return service
