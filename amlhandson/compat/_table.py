"""Every public Azure ML SDK v1 module and class, and where amlhandson serves it.

Data only: the import hook (:mod:`._hook`), ``amlhandson compat check`` and
``docs/compat.md`` read it. A v1 module ``azureml.<path>`` is served, in order, by

1. the modules of its :attr:`V1Module.targets` (names that differ), the first
   that can be imported;
2. ``amlhandson.<path>`` when it exists (the generic rule: amlhandson follows v1's
   module layout), for the public areas in :data:`GENERIC_AREAS`;
3. a stub module whose attributes are the names listed here.

A name missing from the serving module is looked up in :attr:`V1Module.names`:
``where`` points to the object elsewhere in amlhandson; a cloud-only name
becomes a placeholder that raises :class:`~amlhandson.exceptions.NotSupportedLocallyError`
when used, a name amlhandson lacks one that raises
:class:`~amlhandson.exceptions.NotAvailableInAmlHandsOnError`. So an import line
that names such a class still runs, and the cell that *uses* it says what to do.

Example:
    >>> lookup("azureml.core.webservice").names["AksWebservice"].status
    'cloud'
    >>> lookup("azureml.train.automl.run").name  # submodules inherit their package's entry
    'azureml.train.automl'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["WORKS", "DIFFERS", "CLOUD", "ABSENT", "STATUS_TEXT", "Name", "V1Module", "MODULES",
           "GENERIC_AREAS", "DOCS", "lookup"]

WORKS = "works"      # as in v1
DIFFERS = "differs"  # works, differently (the note says how)
CLOUD = "cloud"      # exists only in the Azure cloud: NotSupportedLocallyError
ABSENT = "absent"    # amlhandson does not implement it: NotAvailableInAmlHandsOnError

#: How each status is written in tables (Japanese, for learners).
STATUS_TEXT = {WORKS: "動く", DIFFERS: "動く (違いあり)", CLOUD: "クラウド専用",
               ABSENT: "未対応"}

#: Where the status of every v1 module and class is described.
DOCS = "docs/compat.md"

#: First components after ``azureml.`` that the generic rule maps to ``amlhandson.``.
GENERIC_AREAS = frozenset({"core", "data", "pipeline", "train", "widgets", "exceptions",
                           "opendatasets"})


@dataclass(frozen=True)
class Name:
    """One v1 name of a module: its status and where amlhandson has it.

    Example:
        >>> Name(CLOUD, concept="AKS", note="LocalWebservice").status
        'cloud'
    """

    status: str = WORKS
    #: ``"module:attribute"`` when the name is not an attribute of the serving module.
    where: str | None = None
    #: DIFFERS: how it differs. CLOUD / ABSENT: the nearest local equivalent / what to use.
    note: str = ""
    #: CLOUD: the cloud concept, in words.
    concept: str = ""
    #: A constant's value (a str), when v1 had a module-level constant.
    value: str | None = None


@dataclass(frozen=True)
class V1Module:
    """One v1 module.

    Example:
        >>> lookup("azureml.core").targets
        ('amlhandson.core',)
    """

    name: str
    targets: tuple[str, ...] = ()
    status: str = WORKS
    note: str = ""
    concept: str = ""
    names: Mapping[str, Name] = field(default_factory=dict)
    #: Every public attribute that is not listed is a placeholder with the module's status.
    any_name: bool = False
    #: Submodules that are not listed themselves get this entry.
    subpackages: bool = False


def _w(where: str | None = None, note: str = "") -> Name:
    return Name(DIFFERS if note else WORKS, where=where, note=note)


def _c(concept: str, local: str) -> Name:
    return Name(CLOUD, concept=concept, note=local)


def _a(instead: str, where: str | None = None) -> Name:
    return Name(ABSENT, note=instead, where=where)


_LOCAL_DEPLOY = "LocalWebservice か AciWebservice (どちらもこのマシンのプロセスとして動きます)"
_LOCAL_COMPUTE = "AmlCompute (このマシンの上のクラスター) か 'local'"
_AUTOML = "scikit-learn のモデルを HyperDriveConfig (azureml.train.hyperdrive) で探索する"
_CLOUD_STORE = "フォルダーのデータストア (ws.get_default_datastore()、Datastore.register_azure_blob_container)"
_SCRIPT = "ScriptRunConfig か Estimator(pip_packages=[...]) でスクリプトを実行する"

_CORE = "amlhandson.core"
_EXC = "amlhandson.exceptions"

MODULES: dict[str, V1Module] = {}


def _add(module: V1Module) -> None:
    MODULES[module.name] = module


# ---- azureml.core -------------------------------------------------------------------
_add(V1Module("azureml.core", (_CORE,), names={
    "Workspace": _w(), "Experiment": _w(),
    "Run": _w(note="Run.get_context() はスクリプトの外でも記録される本物の Run を返します"),
    "ScriptRun": _w("amlhandson.core.script_run:ScriptRun"),
    "RunConfiguration": _w("amlhandson.core.runconfig:RunConfiguration"),
    "Environment": _w(), "Model": _w(),
    "Datastore": _w("amlhandson.core.datastore:Datastore"),
    "Dataset": _w("amlhandson.core.dataset:Dataset"),
    "ScriptRunConfig": _w("amlhandson.core.script_run_config:ScriptRunConfig"),
    "ComputeTarget": _w("amlhandson.core.compute:ComputeTarget"),
    "Webservice": _w("amlhandson.core.webservice:Webservice"),
    "get_run": _w("amlhandson.compat.v1.runs:get_run"),
    "VERSION": _w("amlhandson:VERSION", "amlhandson の版 (azureml-core の版ではありません)"),
    "__version__": _w("amlhandson:VERSION", "amlhandson の版"),
    "Image": _a("InferenceConfig と Model.deploy (2019 年 8 月以降の v1 の書き方)"),
    "ContainerRegistry": _c("Azure Container Registry", "Model.package(...) で作る Docker のビルドコンテキスト"),
    "Keyvault": _c("Azure Key Vault", "環境変数"),
    "PrivateEndPoint": _c("プライベート エンドポイント", "127.0.0.1 で待ち受けるサービス"),
    "PrivateEndPointConfig": _c("プライベート エンドポイント", "127.0.0.1 で待ち受けるサービス"),
    "LinkedService": _c("Synapse のリンク サービス", "なし"),
}))
_add(V1Module("azureml.core.workspace", names={
    "Workspace": _w(note="auth= は受け取って使いません。ワークスペースはこのマシンのフォルダーです"),
}))
_add(V1Module("azureml.core.experiment", names={"Experiment": _w()}))
_add(V1Module("azureml.core.run", names={
    "Run": _w(note="Run.get_context() はスクリプトの外でも記録される本物の Run を返します"),
    "get_run": _w("amlhandson.compat.v1.runs:get_run"),
}))
_add(V1Module("azureml.core.script_run", names={"ScriptRun": _w()}))
_add(V1Module("azureml.core.script_run_config", names={"ScriptRunConfig": _w()}))
_add(V1Module("azureml.core.runconfig", names={
    "RunConfiguration": _w(note="Docker の設定は記録だけされ、このマシンの Python で実行します"),
    "DEFAULT_CPU_IMAGE": Name(value="mcr.microsoft.com/azureml/base:intelmpi2018.3-ubuntu16.04"),
    "DEFAULT_GPU_IMAGE": Name(value="mcr.microsoft.com/azureml/base-gpu:intelmpi2018.3-cuda10.0-cudnn7-ubuntu16.04"),
    "CondaDependencies": _w("amlhandson.core.conda_dependencies:CondaDependencies"),
    "DataReferenceConfiguration": _a("Dataset.as_named_input(...).as_mount() か DataReference"),
    "MpiConfiguration": _a("分散学習はありません: " + _SCRIPT),
    "TensorflowConfiguration": _a("分散学習はありません: " + _SCRIPT),
    "PyTorchConfiguration": _a("分散学習はありません: " + _SCRIPT),
    "DockerConfiguration": _a("Docker は使わず、このマシンの Python で実行します"),
}))
_add(V1Module("azureml.core.environment", names={
    "Environment": _w(note="conda/Docker の環境は作らず、このマシンの Python でパッケージを確認します"),
    "CondaDependencies": _w("amlhandson.core.conda_dependencies:CondaDependencies"),
}))
_add(V1Module("azureml.core.conda_dependencies", names={"CondaDependencies": _w()}))
_add(V1Module("azureml.core.model", names={
    "Model": _w(note="Model.get_model_path は azureml-models のほか登録済みモデルも探します"),
    "InferenceConfig": _w(),
}))
_add(V1Module("azureml.core.image", any_name=True, status=ABSENT, subpackages=True,
              note="InferenceConfig と Model.deploy (2019 年 8 月以降の v1 の書き方)", names={
                  "Image": _a("InferenceConfig と Model.deploy"),
                  "ContainerImage": _a("InferenceConfig(entry_script=..., environment=...) と Model.deploy(...)"),
              }))
_add(V1Module("azureml.core.webservice", names={
    "Webservice": _w(), "LocalWebservice": _w(note="Docker ではなく、このマシンのプロセスとして動きます"),
    "AciWebservice": _w(note="Azure Container Instances ではなく、このマシンのプロセスとして動きます"),
    "AksWebservice": _c("Azure Kubernetes Service へのデプロイ", _LOCAL_DEPLOY),
    "AksEndpoint": _c("Azure Kubernetes Service のエンドポイント", _LOCAL_DEPLOY),
}))
for _sub, _cls in (("local", "LocalWebservice"), ("aci", "AciWebservice"),
                   ("webservice", "Webservice")):
    _add(V1Module(f"azureml.core.webservice.{_sub}", names={
        _cls: _w(f"amlhandson.core.webservice:{_cls}")}))
_add(V1Module("azureml.core.webservice.aks", status=CLOUD, any_name=True,
              concept="Azure Kubernetes Service へのデプロイ", note=_LOCAL_DEPLOY))
_add(V1Module("azureml.core.compute", names={
    "ComputeTarget": _w(), "AmlCompute": _w(note="このマシンの上の Dask クラスターです (VM は作りません)"),
    "AksCompute": _c("Azure Kubernetes Service", _LOCAL_DEPLOY + "、学習なら " + _LOCAL_COMPUTE),
    "DatabricksCompute": _c("Azure Databricks", _LOCAL_COMPUTE),
    "HDInsightCompute": _c("HDInsight", _LOCAL_COMPUTE),
    "DataFactoryCompute": _c("Azure Data Factory", "PythonScriptStep のパイプライン"),
    "AdlaCompute": _c("Azure Data Lake Analytics", _LOCAL_COMPUTE),
    "BatchCompute": _c("Azure Batch", _LOCAL_COMPUTE),
    "KubernetesCompute": _c("Kubernetes (Arc)", _LOCAL_COMPUTE),
    "DsvmCompute": _c("Data Science Virtual Machine", _LOCAL_COMPUTE),
    "ComputeInstance": _c("コンピューティング インスタンス", "このマシン ('local')"),
    "SynapseCompute": _c("Azure Synapse", _LOCAL_COMPUTE),
    "RemoteCompute": _a("SSH で VM をアタッチする機能はありません: " + _LOCAL_COMPUTE),
}))
for _sub in ("aks", "databricks", "hdinsight", "datafactory", "adla", "batch", "dsvm",
             "kubernetes", "computeinstance", "synapse"):
    _add(V1Module(f"azureml.core.compute.{_sub}", status=CLOUD, any_name=True,
                  concept=f"クラウドのコンピューティング ({_sub})", note=_LOCAL_COMPUTE))
_add(V1Module("azureml.core.compute.remote", status=ABSENT, any_name=True,
              note="SSH で VM をアタッチする機能はありません: " + _LOCAL_COMPUTE))
_add(V1Module("azureml.core.compute_target", names={
    "ComputeTargetException": _w(f"{_EXC}:ComputeTargetException"),
}))
_add(V1Module("azureml.core.authentication", (
    "amlhandson.core.authentication", "amlhandson.compat.v1.authentication"), names={
    n: _w(note="ログインは不要です (受け取って使いません)") for n in (
        "InteractiveLoginAuthentication", "ServicePrincipalAuthentication", "MsiAuthentication",
        "AzureCliAuthentication", "TokenAuthentication", "AbstractAuthentication")
} | {"AuthenticationException": _w()}))
_add(V1Module("azureml.core.dataset", names={"Dataset": _w()}))
_add(V1Module("azureml.core.datastore", names={
    "Datastore": _w(note="データストアはワークスペースの中のフォルダーです")}))
_add(V1Module("azureml.core.keyvault", status=CLOUD, any_name=True, concept="Azure Key Vault",
              note="環境変数"))
_add(V1Module("azureml.core.container_registry", status=CLOUD, any_name=True,
              concept="Azure Container Registry", note="Model.package(...) で作る Docker のビルドコンテキスト"))
_add(V1Module("azureml.core.resource_configuration", status=ABSENT, any_name=True,
              note="Model.register(..., resource_configuration=...) は不要です (指定しないでください)"))

# ---- azureml.data ----------------------------------------------------------------------
_DATA = "amlhandson.data"
_add(V1Module("azureml.data", names={
    "FileDataset": _w(), "TabularDataset": _w(),
    "DataReference": _w(f"{_DATA}.data_reference:DataReference"),
    "OutputFileDatasetConfig": _a("PipelineData (azureml.pipeline.core)"),
}))
_add(V1Module("azureml.data.data_reference", names={"DataReference": _w()}))
_add(V1Module("azureml.data.datapath", names={
    "DataPath": _w(f"{_DATA}.data_reference:DataPath"),
    "DataPathComputeBinding": _a("DataPath(...).create_data_reference(...) か Dataset"),
}))
_add(V1Module("azureml.data.dataset_factory", names={
    "FileDatasetFactory": _w(), "TabularDatasetFactory": _w()}))
_add(V1Module("azureml.data.file_dataset", names={"FileDataset": _w()}))
_add(V1Module("azureml.data.tabular_dataset", names={"TabularDataset": _w()}))
_add(V1Module("azureml.data.abstract_dataset", names={"AbstractDataset": _w()}))
_add(V1Module("azureml.data.dataset_consumption_config", names={"DatasetConsumptionConfig": _w()}))
_add(V1Module("azureml.data.azure_storage_datastore", names={
    "AzureBlobDatastore": _w("amlhandson.core.datastore:Datastore",
                             "種類ごとのクラスはなく Datastore 1 つです (中身はフォルダー)"),
    "AzureFileDatastore": _w("amlhandson.core.datastore:Datastore",
                             "種類ごとのクラスはなく Datastore 1 つです (中身はフォルダー)"),
}))
_add(V1Module("azureml.data.azure_data_lake_datastore", names={
    "AzureDataLakeGen2Datastore": _w("amlhandson.core.datastore:Datastore",
                                     "Datastore.register_azure_data_lake_gen2 はフォルダーか "
                                     "fsspec の URL を指します"),
    "AzureDataLakeDatastore": _c("Azure Data Lake Storage Gen1", _CLOUD_STORE),
}))
for _sub, _what in (("azure_sql_database_datastore", "Azure SQL Database"),
                    ("azure_postgre_sql_datastore", "Azure Database for PostgreSQL"),
                    ("azure_my_sql_datastore", "Azure Database for MySQL"),
                    ("hdfs_datastore", "HDFS"), ("dbfs_datastore", "Databricks File System")):
    _add(V1Module(f"azureml.data.{_sub}", status=CLOUD, any_name=True,
                  concept=f"{_what} のデータストア", note=_CLOUD_STORE))
_add(V1Module("azureml.data.output_dataset_config", status=ABSENT, any_name=True,
              note="PipelineData (azureml.pipeline.core)"))

# ---- azureml.pipeline ------------------------------------------------------------------
_PIPE = "amlhandson.pipeline.core"
_add(V1Module("azureml.pipeline", names={}))
_add(V1Module("azureml.pipeline.core", names={
    "Pipeline": _w(), "PipelineData": _w(), "PipelineParameter": _w(), "PipelineStep": _w(),
    "Schedule": _w(), "ScheduleRecurrence": _w(), "TimeZone": _w(),
    "PipelineRun": _w(f"{_PIPE}.pipeline_run:PipelineRun"),
    "StepRun": _w(f"{_PIPE}.step_run:StepRun"),
    "StepSequence": _a("step.run_after(other) で順番を決める"),
    "PublishedPipeline": _w(f"{_PIPE}.published_pipeline:PublishedPipeline",
                            "エンドポイントはこのマシンの 127.0.0.1 で動きます"),
    "PipelineEndpoint": _c("パイプラインのエンドポイント",
                           "Experiment(ws, name).submit(pipeline) か Schedule"),
    "PortDataReference": _a("PipelineData"),
    "OutputPortBinding": _a("PipelineData"),
    "InputPortBinding": _a("PipelineData"),
    "TrainingOutput": _a("PipelineData"),
}))
_add(V1Module("azureml.pipeline.core.graph", names={
    "PipelineParameter": _w(), "PipelineData": _w(f"{_PIPE}:PipelineData")}))
_add(V1Module("azureml.pipeline.core.pipeline", names={"Pipeline": _w()}))
_add(V1Module("azureml.pipeline.core.run", names={
    "PipelineRun": _w(f"{_PIPE}.pipeline_run:PipelineRun"),
    "StepRun": _w(f"{_PIPE}.step_run:StepRun")}))
_add(V1Module("azureml.pipeline.core.schedule", names={
    "Schedule": _w(), "ScheduleRecurrence": _w(), "TimeZone": _w()}))
_add(V1Module("azureml.pipeline.steps", names={
    "PythonScriptStep": _w(),
    "EstimatorStep": _a("PythonScriptStep(script_name=..., runconfig=...)"),
    "HyperDriveStep": _a("HyperDriveConfig を exp.submit(...) で実行する"),
    "MpiStep": _a("分散学習はありません: PythonScriptStep"),
    "ParallelRunStep": _a("PythonScriptStep の中でファイルを順に処理する"),
    "ParallelRunConfig": _a("PythonScriptStep の中でファイルを順に処理する"),
    "CommandStep": _a("PythonScriptStep"),
    "ModuleStep": _a("PythonScriptStep"),
    "DatabricksStep": _c("Azure Databricks のステップ", "PythonScriptStep"),
    "AdlaStep": _c("Azure Data Lake Analytics のステップ", "PythonScriptStep"),
    "AzureBatchStep": _c("Azure Batch のステップ", "PythonScriptStep"),
    "DataTransferStep": _c("Azure Data Factory のデータ転送", "PythonScriptStep でファイルをコピーする"),
    "AutoMLStep": _c("自動機械学習 (AutoML) のステップ", _AUTOML),
    "AutoMLStepRun": _c("自動機械学習 (AutoML) のステップ", _AUTOML),
    "SynapseSparkStep": _c("Azure Synapse の Spark ステップ", "PythonScriptStep"),
    "KustoStep": _c("Azure Data Explorer のステップ", "PythonScriptStep"),
}))

# ---- azureml.train ---------------------------------------------------------------------
_HD = "amlhandson.train.hyperdrive"
_add(V1Module("azureml.train", names={}))
_add(V1Module("azureml.train.estimator", names={
    "Estimator": _w(note="このマシンの Python で実行します (conda/Docker の環境は作りません)")}))
_add(V1Module("azureml.train.sklearn", names={"SKLearn": _w()}))
_add(V1Module("azureml.train.dnn", status=ABSENT, any_name=True,
              note="Estimator(..., pip_packages=['tensorflow' や 'torch']) か ScriptRunConfig",
              names={n: _a("Estimator(..., pip_packages=[...]) か ScriptRunConfig") for n in (
                  "TensorFlow", "PyTorch", "Chainer", "Mpi", "Gloo", "Nccl", "ParameterServer")}))
_add(V1Module("azureml.train.hyperdrive", names={n: _w() for n in (
    "HyperDriveConfig", "HyperDriveRunConfig", "HyperDriveRun", "PrimaryMetricGoal",
    "RandomParameterSampling", "GridParameterSampling", "BayesianParameterSampling",
    "BanditPolicy", "MedianStoppingPolicy", "TruncationSelectionPolicy", "NoTerminationPolicy",
    "choice", "randint", "uniform", "quniform", "loguniform", "qloguniform", "normal",
    "qnormal", "lognormal", "qlognormal")}))
_add(V1Module("azureml.train.hyperdrive.parameter_expressions", names={n: _w(f"{_HD}:{n}") for n in (
    "choice", "randint", "uniform", "quniform", "loguniform", "qloguniform", "normal",
    "qnormal", "lognormal", "qlognormal")}))
_add(V1Module("azureml.train.hyperdrive.runconfig", names={
    n: _w(f"{_HD}:{n}") for n in ("HyperDriveConfig", "HyperDriveRunConfig", "PrimaryMetricGoal")}))
_add(V1Module("azureml.train.hyperdrive.policy", names={n: _w(f"{_HD}:{n}") for n in (
    "BanditPolicy", "MedianStoppingPolicy", "TruncationSelectionPolicy", "NoTerminationPolicy",
    "EarlyTerminationPolicy")}))
_add(V1Module("azureml.train.hyperdrive.sampling", names={n: _w(f"{_HD}:{n}") for n in (
    "RandomParameterSampling", "GridParameterSampling", "BayesianParameterSampling",
    "HyperParameterSampling")}))
_add(V1Module("azureml.train.hyperdrive.run", names={
    "HyperDriveRun": _w(f"{_HD}:HyperDriveRun"), "PrimaryMetricGoal": _w(f"{_HD}:PrimaryMetricGoal")}))
_add(V1Module("azureml.train.automl", status=CLOUD, any_name=True, subpackages=True,
              concept="自動機械学習 (AutoML)", note=_AUTOML, names={
                  "AutoMLConfig": _c("自動機械学習 (AutoML)", _AUTOML)}))

# ---- other v1 packages -----------------------------------------------------------------
_add(V1Module("azureml.widgets", names={
    "RunDetails": _w(note="JupyterLab 4 と VS Code でも表示され、HyperDrive と Pipeline にも使えます")}))
_add(V1Module("azureml.exceptions", names={
    "UserErrorException": _w(), "WebserviceException": _w(), "ComputeTargetException": _w(),
    "ActivityFailedException": _w(),
    "AzureMLException": _w(f"{_EXC}:AmlHandsOnError", "amlhandson のすべての例外の親 AmlHandsOnError"),
    "ExperimentExecutionException": _w(f"{_EXC}:RunStateError", "RunStateError です"),
    "ModelNotFoundException": _w(f"{_EXC}:ModelNotFoundError", "ModelNotFoundError です"),
    "ModelPathNotFoundException": _w(f"{_EXC}:ModelNotFoundError", "ModelNotFoundError です"),
    "WorkspaceException": _w(f"{_EXC}:WorkspaceNotFoundError", "WorkspaceNotFoundError です"),
    "ProjectSystemException": _w(f"{_EXC}:ConfigNotFoundError", "ConfigNotFoundError です"),
    "AuthenticationException": _w("amlhandson.compat.v1.authentication:AuthenticationException"),
    "TrainingException": _w(), "SnapshotException": _w(),
    "RunEnvironmentException": _w(f"{_EXC}:UserErrorException", "UserErrorException です"),
}))
_add(V1Module("azureml.telemetry", ("amlhandson.compat.v1.telemetry",), names={
    "set_diagnostics_collection": _w(note="何も送りません (受け取るだけ)"),
    "get_diagnostics_collection_info": _w(note="送信は常にオフです"),
}))
_add(V1Module("azureml.opendatasets", ("amlhandson.compat.v1.opendatasets",),
              status=CLOUD, any_name=True, concept="Azure Open Datasets (MNIST 以外)",
              note="データをファイルで用意して Dataset.File.from_files / pandas で読む", names={
                  "MNIST": _w(note="amlhandson.datasets.mnist から (ミラー、検証、オフライン用サンプル)"),
              }))
_add(V1Module("azureml.automl", status=CLOUD, any_name=True, subpackages=True,
              concept="自動機械学習 (AutoML)", note=_AUTOML))
_add(V1Module("azureml.accel", status=CLOUD, any_name=True, subpackages=True,
              concept="FPGA (Project Brainwave) へのデプロイ", note=_LOCAL_DEPLOY))
_add(V1Module("azureml.contrib.iot", status=CLOUD, any_name=True, subpackages=True,
              concept="IoT Edge へのデプロイ", note="Model.package(...) で作る Docker のビルドコンテキスト"))
_add(V1Module("azureml.datadrift", status=CLOUD, any_name=True, subpackages=True,
              concept="データ ドリフトの監視", note="スコアリングの入力を run.log_table で記録して比べる"))
_add(V1Module("azureml.contrib", status=ABSENT, any_name=True, subpackages=True,
              note="azureml.contrib (実験的な機能) はありません。docs/compat.md を見てください"))
_add(V1Module("azureml.contrib.services", status=ABSENT, any_name=True, subpackages=True,
              note="score.py の run(raw_data) で JSON を受け取ってください (生の HTTP 要求は渡せません)"))
_add(V1Module("azureml.explain", status=ABSENT, any_name=True, subpackages=True,
              note="interpret-community か shap をそのまま使ってください"))
_add(V1Module("azureml.interpret", status=ABSENT, any_name=True, subpackages=True,
              note="interpret-community か shap をそのまま使ってください"))
_add(V1Module("azureml.dataprep", status=ABSENT, any_name=True, subpackages=True,
              note="pandas でデータを読んでください"))
_add(V1Module("azureml.mlflow", status=ABSENT, any_name=True, subpackages=True,
              note="run.log(...) で記録してください (MLflow の追跡サーバーはありません)"))
_add(V1Module("azureml.tensorboard", status=ABSENT, any_name=True, subpackages=True,
              note="tensorboard --logdir をそのまま使ってください"))


def lookup(name: str) -> V1Module | None:
    """The entry for v1 module ``name``: its own, or its nearest package's with ``subpackages``.

    Example:
        >>> lookup("azureml.core.workspace").names["Workspace"].status
        'differs'
        >>> lookup("azureml.nothing") is None
        True
    """
    entry = MODULES.get(name)
    if entry is not None:
        return entry
    parts = name.split(".")
    for i in range(len(parts) - 1, 1, -1):
        parent = MODULES.get(".".join(parts[:i]))
        if parent is not None and parent.subpackages:
            return parent
    return None
