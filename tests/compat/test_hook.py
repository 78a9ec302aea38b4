"""The import hook: identity, names that differ, placeholders, refusal, uninstall, env var."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest

from amlhandson.exceptions import (
    AmlHandsOnError,
    NotAvailableInAmlHandsOnError,
    NotSupportedLocallyError,
    UserErrorException,
    V1CompatNote,
    V1ModuleNotFoundError,
)

from .conftest import REPO, SHARED_MNIST, child_env, module_exists


def _python(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=tmp_path,
                          env=child_env(tmp_path / "home", **env), capture_output=True,
                          text=True, timeout=120)


def test_module_identity_and_import_forms(layer) -> None:
    import azureml.core
    import azureml.core as core
    import azureml.core.run
    import azureml.core.webservice
    from azureml.core import Experiment, Run, Workspace
    from azureml.core.model import InferenceConfig, Model

    import amlhandson.core
    import amlhandson.core.model
    import amlhandson.core.run
    import amlhandson.core.webservice

    assert azureml.core is core is amlhandson.core
    assert azureml.core.run is amlhandson.core.run
    assert azureml.core.webservice is amlhandson.core.webservice
    assert (Workspace, Experiment, Run) == (amlhandson.core.Workspace, amlhandson.core.Experiment,
                                            amlhandson.core.Run)
    assert Model is amlhandson.core.model.Model and InferenceConfig.__name__ == "InferenceConfig"
    assert importlib.import_module("azureml.core.experiment") is importlib.import_module(
        "amlhandson.core.experiment")
    # the real modules keep their own identity
    assert amlhandson.core.__spec__.name == "amlhandson.core"
    assert amlhandson.core.run.__name__ == "amlhandson.core.run"
    assert isinstance(azureml.core.VERSION, str)


def test_names_that_differ_come_from_the_table(layer) -> None:
    from azureml.core.compute_target import ComputeTargetException
    from azureml.core.webservice.local import LocalWebservice
    from azureml.exceptions import AzureMLException, WebserviceException

    import amlhandson.exceptions as ex
    from amlhandson.core.webservice import LocalWebservice as Local

    assert ComputeTargetException is ex.ComputeTargetException
    assert AzureMLException is AmlHandsOnError and WebserviceException is ex.WebserviceException
    assert LocalWebservice is Local
    from azureml.core.runconfig import DEFAULT_CPU_IMAGE
    assert DEFAULT_CPU_IMAGE.startswith("mcr.microsoft.com/azureml/base")


def test_cloud_only_names_import_and_raise_when_used(layer) -> None:
    from azureml.core.compute import AksCompute
    from azureml.core.webservice import AksWebservice
    from azureml.pipeline.steps import DatabricksStep
    from azureml.train.automl import AutoMLConfig
    from azureml.train.automl.run import AutoMLRun

    for call in (lambda: AksWebservice.deploy_configuration(cpu_cores=1, memory_gb=1),
                 lambda: AksCompute.provisioning_configuration(),
                 lambda: AutoMLConfig(task="classification"),
                 lambda: AutoMLRun(None, "id"),
                 lambda: DatabricksStep(name="x")):
        with pytest.raises(NotSupportedLocallyError) as info:
            call()
        assert isinstance(info.value, NotImplementedError)
        message = str(info.value)
        assert "docs/compat.md#cloud-only" in message and "いちばん近いローカルの方法" in message
    assert "Azure Kubernetes Service" in str(pytest.raises(
        NotSupportedLocallyError, AksWebservice).value)
    # a subclass of a placeholder can be declared, and fails when instantiated
    class MyStep(DatabricksStep):  # noqa: D101
        pass
    with pytest.raises(NotSupportedLocallyError):
        MyStep()


def test_absent_names_say_what_to_use(layer) -> None:
    from azureml.core.image import ContainerImage
    from azureml.train.dnn import TensorFlow

    with pytest.raises(NotAvailableInAmlHandsOnError, match="Model.deploy"):
        ContainerImage.image_configuration(execution_script="score.py", runtime="python")
    with pytest.raises(NotAvailableInAmlHandsOnError, match="pip_packages"):
        TensorFlow(source_directory=".", entry_script="train.py")


def test_unknown_modules_and_typos_are_import_errors(layer) -> None:
    with pytest.raises(V1ModuleNotFoundError, match="azureml.nosuchthing") as info:
        import azureml.nosuchthing  # noqa: F401
    assert isinstance(info.value, ModuleNotFoundError) and info.value.name == "azureml.nosuchthing"
    with pytest.raises(V1ModuleNotFoundError):
        importlib.import_module("azureml._restclient")  # private v1 internals are not mapped
    with pytest.raises(V1ModuleNotFoundError):
        importlib.import_module("azureml.core._catalog")  # nor amlhandson's private modules
    with pytest.raises(ImportError):
        exec("from azureml.core import Wrokspace", {})
    import azureml.core
    with pytest.raises(AttributeError, match="docs/compat.md"):
        azureml.core.Wrokspace  # noqa: B018


def test_uninstall_restores_everything(tmp_path: Path) -> None:
    code = """
    import os, sys
    import numpy, sklearn.externals, sklearn.linear_model
    import amlhandson.core, amlhandson.core.run, amlhandson.exceptions
    def snapshot():
        return (sorted(sys.modules), list(sys.meta_path), dict(numpy.__dict__),
                dict(sklearn.externals.__dict__), dict(sklearn.linear_model.__dict__),
                # a real submodule the calls imported (amlhandson.core.authentication) is
                # an attribute of its package: that is importing, not patching
                {k: v for k, v in amlhandson.core.__dict__.items()
                 if type(v).__name__ != "module"}, dict(amlhandson.core.run.Run.__dict__),
                dict(amlhandson.exceptions.__dict__), os.environ.get("AMLHANDSON_COMPAT"))
    import amlhandson.compat
    before = snapshot()
    for round in range(2):
        amlhandson.compat.install()
        assert os.environ["AMLHANDSON_COMPAT"] == "1"
        import azureml.core, azureml.core.authentication, azureml.telemetry, azureml.core.image
        from azureml.core import VERSION
        from azureml.exceptions import AzureMLException
        from sklearn.externals import joblib
        from sklearn.linear_model import LogisticRegression
        import warnings; warnings.simplefilter("ignore")
        numpy.float, amlhandson.core.run.Run.get_submitted_run
        assert amlhandson.compat.uninstall() is True
        assert amlhandson.compat.uninstall() is False
        after = snapshot()
        extra = set(after[0]) - set(before[0])
        # only real modules that the calls above imported may be new
        assert not [m for m in extra if m.startswith(("azureml", "inference_schema"))], extra
        assert "sklearn.externals.joblib" not in sys.modules
        assert after[1:] == before[1:], [i for i, (a, b) in enumerate(zip(after, before)) if a != b]
        before = after
    try:
        import azureml.core
    except ImportError:
        print("ok")
    """
    proc = _python(code, tmp_path)
    assert proc.stdout.strip() == "ok", proc.stderr


def test_refuses_when_the_real_sdk_is_importable(tmp_path: Path) -> None:
    fake = tmp_path / "site"
    (fake / "azureml" / "core").mkdir(parents=True)
    (fake / "azureml" / "core" / "__init__.py").write_text("REAL = True\nVERSION = '1.0.83'\n")
    code = """
    import amlhandson.compat, amlhandson.core
    from amlhandson.exceptions import RealSdkInstalledError
    try:
        amlhandson.compat.install()
    except RealSdkInstalledError as exc:
        print("refused:", "force=True" in str(exc), "AMLHANDSON_COMPAT=force" in str(exc))
    import azureml.core
    print("real:", getattr(azureml.core, "REAL", False))
    try:
        amlhandson.compat.install()
    except RealSdkInstalledError as exc:
        print("loaded:", "import されています" in str(exc))
    amlhandson.compat.install(force=True)
    import azureml.core as forced
    print("forced:", forced is amlhandson.core)
    amlhandson.compat.uninstall()
    import azureml.core as back
    print("back:", getattr(back, "REAL", False))
    """
    proc = _python(code, tmp_path, PYTHONPATH=str(fake))
    assert proc.stdout.split("\n")[:5] == ["refused: True True", "real: True", "loaded: True",
                                           "forced: True", "back: True"], proc.stderr
    env_force = _python("import amlhandson.compat as c; c.install_from_env(); import azureml.core,"
                        " amlhandson.core; print(azureml.core is amlhandson.core)", tmp_path,
                        PYTHONPATH=str(fake), AMLHANDSON_COMPAT="force")
    assert env_force.stdout.strip() == "True", env_force.stderr


def test_install_from_env_values(monkeypatch: pytest.MonkeyPatch) -> None:
    import amlhandson.compat as compat

    assert compat.install_from_env({}) is False
    assert compat.install_from_env({"AMLHANDSON_COMPAT": "0"}) is False
    with pytest.raises(UserErrorException, match="AMLHANDSON_COMPAT='maybe'"):
        compat.install_from_env({"AMLHANDSON_COMPAT": "maybe"})
    assert not compat.is_installed() and compat.child_environ() == {}
    try:
        assert compat.install_from_env({"AMLHANDSON_COMPAT": " Yes "}) is True
        assert compat.is_installed() and compat.child_environ() == {"AMLHANDSON_COMPAT": "1"}
        assert os.environ["AMLHANDSON_COMPAT"] == "1"
        compat.install()  # idempotent
    finally:
        compat.uninstall()
    assert "AMLHANDSON_COMPAT" not in os.environ


def test_python_m_compat_runs_a_script_and_passes_the_exit_code(tmp_path: Path) -> None:
    (tmp_path / "helper.py").write_text("VALUE = 41\n")
    (tmp_path / "v1.py").write_text(textwrap.dedent("""
        import os, sys
        from azureml.core import Workspace
        from helper import VALUE
        import amlhandson.core
        assert Workspace is amlhandson.core.Workspace
        print(sys.argv[1:], VALUE + 1, os.environ["AMLHANDSON_COMPAT"])
        sys.exit(int(sys.argv[2]))
    """))
    proc = subprocess.run([sys.executable, "-m", "amlhandson.compat", "v1.py", "--x", "3"],
                          cwd=tmp_path, env=child_env(tmp_path / "home"), capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 3 and proc.stdout.strip() == "['--x', '3'] 42 1", proc.stderr
    proc = subprocess.run([sys.executable, "-m", "amlhandson.cli", "compat", "run", "v1.py",
                           "--x", "0"], cwd=tmp_path, env=child_env(tmp_path / "home"),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "42" in proc.stdout, proc.stderr
    missing = subprocess.run([sys.executable, "-m", "amlhandson.compat", "nope.py"], cwd=tmp_path,
                             env=child_env(tmp_path / "home"), capture_output=True, text=True)
    assert missing.returncode == 2 and "nope.py" in missing.stderr


def test_children_inherit_the_layer(layer, tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    code = ("import amlhandson.compat as c; print(c.install_from_env());"
            "import azureml.core, amlhandson.core; print(azureml.core is amlhandson.core)")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120, cwd=tmp_path)
    assert out.stdout.split() == ["True", "True"], out.stderr


def test_load_ext_in_ipython(tmp_path: Path) -> None:
    code = """
    from IPython.core.interactiveshell import InteractiveShell
    import amlhandson.compat as compat
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "amlhandson.compat")
    on = compat.is_installed()
    result = shell.run_cell("import azureml.core, amlhandson.core\\n"
                            "same = azureml.core is amlhandson.core")
    shell.run_line_magic("unload_ext", "amlhandson.compat")
    print(on, result.success, shell.user_ns["same"], compat.is_installed())
    """
    proc = _python(code, tmp_path)
    assert proc.stdout.split() == ["True", "True", "True", "False"], proc.stderr


def test_notes_are_given_once_and_point_at_user_code(layer) -> None:
    import numpy as np

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from sklearn.externals import joblib  # noqa: F401
        sys.modules.pop("sklearn.externals.joblib")
        from sklearn.externals import joblib  # noqa: F401, F811
        assert np.float is float and np.float is float
    notes = [w for w in caught if issubclass(w.category, V1CompatNote)]
    assert [str(w.message)[:24] for w in notes] == [
        "sklearn.externals.joblib", "np.float は NumPy 1.24 で削"]
    assert all(w.filename == __file__ for w in notes)


def test_opendatasets_mnist_as_the_end_2019_tutorial_used_it(layer, ws, tmp_path: Path,
                                                              monkeypatch) -> None:
    if SHARED_MNIST.is_dir():
        monkeypatch.setenv("AMLHANDSON_MNIST_MIRROR", str(SHARED_MNIST))
    import glob

    from azureml.opendatasets import MNIST

    from amlhandson.compat.v1.opendatasets import MnistFileDataset
    from amlhandson.datasets.mnist import REMOTE_NAMES

    data_folder = os.path.join(str(tmp_path), "data")
    os.makedirs(data_folder, exist_ok=True)
    mnist_file_dataset = MNIST.get_file_dataset()
    mnist_file_dataset.download(data_folder, overwrite=True)
    found = glob.glob(os.path.join(data_folder, "**/train-images-idx3-ubyte.gz"), recursive=True)
    assert len(found) == 1
    assert sorted(os.listdir(data_folder)) == sorted(REMOTE_NAMES.values())
    if module_exists("amlhandson.core.dataset"):
        registered = mnist_file_dataset.register(workspace=ws, name="mnist_opendataset",
                                                 description="training and test dataset",
                                                 create_new_version=True)
        assert registered.name == "mnist_opendataset"
    stand_in = MnistFileDataset()  # the stand-in used before amlhandson.data existed
    assert sorted(Path(p).name for p in stand_in.download(tmp_path / "other")) == sorted(
        REMOTE_NAMES.values())
    with pytest.raises(UserErrorException, match="overwrite=True"):
        stand_in.download(tmp_path / "other")
    with pytest.raises(NotAvailableInAmlHandsOnError, match="amlhandson.core.dataset"):
        stand_in.register(workspace=ws, name="mnist")
    from azureml.opendatasets import Diabetes
    with pytest.raises(NotSupportedLocallyError, match="Open Datasets"):
        Diabetes.get_tabular()


def test_import_is_light_and_install_needs_nothing_heavy(tmp_path: Path) -> None:
    code = ("import sys, amlhandson.compat; amlhandson.compat.install();"
            "import azureml.core, azureml.core.authentication, azureml.telemetry;"
            "print(','.join(m for m in ('numpy', 'sklearn', 'IPython', 'urllib.request')"
            " if m in sys.modules))")
    proc = _python(code, tmp_path)
    assert proc.returncode == 0 and proc.stdout.strip() == "", proc.stderr
