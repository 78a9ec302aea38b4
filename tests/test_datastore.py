"""Datastores: the default stores, v1's register calls, uploads/downloads, references, path safety."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from amlhandson.core import Datastore
from amlhandson.data import DataReference
from amlhandson.data._inputs import materialize_arguments
from amlhandson.exceptions import (
    ArtifactNotFoundError,
    ArtifactPathError,
    NotSupportedLocallyError,
    SkippedFilesWarning,
    UserErrorException,
)


def _files(folder: Path, names: dict[str, str]) -> Path:
    for name, text in names.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def test_every_workspace_has_the_two_default_datastores(ws) -> None:
    assert sorted(ws.datastores) == ["workspaceblobstore", "workspacefilestore"]
    default = ws.get_default_datastore()
    assert default.name == "workspaceblobstore" and default.is_default
    assert Datastore(ws, "workspaceblobstore") == default == Datastore(ws)
    assert default.datastore_type == "AzureBlob"
    assert default.local_folder == ws.path / "storage" / "workspacestorage" / "azureml-blobstore"


def test_unknown_datastore_names_the_existing_ones(ws) -> None:
    with pytest.raises(UserErrorException, match="workspaceblobstore"):
        Datastore(ws, "nope")
    with pytest.raises(UserErrorException, match="alphanumeric characters and underscores"):
        Datastore(ws, "a/../b")


def test_upload_download_round_trip_keeps_paths_and_skips_existing(ws, tmp_path, capsys) -> None:
    src = _files(tmp_path / "src", {"a.txt": "a", "sub/b.txt": "b"})
    ds = ws.get_default_datastore()
    ref = ds.upload(str(src), target_path="data", show_progress=True)
    assert isinstance(ref, DataReference) and ref.path_on_datastore == "data"
    assert "Uploaded 2 files" in capsys.readouterr().out
    assert ds.files("data") == ["data/a.txt", "data/sub/b.txt"]
    (src / "a.txt").write_text("changed")
    ds.upload(str(src), target_path="data", show_progress=True)
    out = capsys.readouterr().out
    assert "Uploaded 0 files" in out and "overwrite=True" in out
    assert (ds.local_folder / "data/a.txt").read_text() == "a"
    ds.upload(str(src), target_path="data", overwrite=True, show_progress=False)
    assert (ds.local_folder / "data/a.txt").read_text() == "changed"
    assert ds.download(tmp_path / "copy", prefix="data/sub", show_progress=False) == 1
    assert (tmp_path / "copy/data/sub/b.txt").read_text() == "b"


def test_upload_files_with_relative_root(ws, tmp_path) -> None:
    src = _files(tmp_path / "src", {"x/1.txt": "1", "x/y/2.txt": "2"})
    ds = ws.get_default_datastore()
    ds.upload_files([src / "x/1.txt", src / "x/y/2.txt"], relative_root=src / "x",
                    target_path="t", show_progress=False)
    assert ds.files("t") == ["t/1.txt", "t/y/2.txt"]
    ds.upload_files([str(src / "x/1.txt")], target_path="flat", show_progress=False)
    assert ds.files("flat") == ["flat/1.txt"]
    with pytest.raises(UserErrorException, match="relative_root"):
        ds.upload_files([src / "x/1.txt"], relative_root=tmp_path / "elsewhere")
    with pytest.raises(ArtifactNotFoundError):
        ds.upload_files([src / "missing.txt"])


def test_a_leading_slash_means_the_root_of_the_datastore(ws, tmp_path) -> None:
    ds = ws.get_default_datastore()
    ds.upload(str(_files(tmp_path / "src", {"a.txt": "a"})), target_path="/etc",
              show_progress=False)
    assert ds.files() == ["etc/a.txt"]


@pytest.mark.parametrize("hostile", ["../escape", "a/../../b", "C:\\windows", "a\0b",
                                     ".amlhandson-tmp-x/y"])
def test_paths_can_never_leave_the_datastore(ws, tmp_path, hostile) -> None:
    src = _files(tmp_path / "src", {"a.txt": "a"})
    ds = ws.get_default_datastore()
    with pytest.raises(UserErrorException):
        ds.upload(str(src), target_path=hostile, show_progress=False)
    with pytest.raises(UserErrorException):
        ds.path(hostile)
    with pytest.raises(UserErrorException):
        ds.download(tmp_path / "d", prefix=hostile, show_progress=False)
    assert not (ws.path.parent / "escape").exists()


def test_a_link_inside_the_datastore_cannot_lead_out(ws, tmp_path) -> None:
    ds = ws.get_default_datastore()
    outside = tmp_path / "outside"
    outside.mkdir()
    ds.local_folder.mkdir(parents=True, exist_ok=True)
    (ds.local_folder / "link").symlink_to(outside)
    src = _files(tmp_path / "src", {"a.txt": "a"})
    with pytest.raises(ArtifactPathError, match="リンク"):
        ds.upload(str(src), target_path="link", show_progress=False)
    assert list(outside.iterdir()) == []


def test_links_out_of_the_source_folder_are_not_uploaded(ws, tmp_path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    src = _files(tmp_path / "src", {"a.txt": "a"})
    (src / "leak.txt").symlink_to(secret)
    with pytest.warns(SkippedFilesWarning, match="leak.txt"):
        ws.get_default_datastore().upload(str(src), target_path="d", show_progress=False)
    assert ws.get_default_datastore().files("d") == ["d/a.txt"]


def test_register_blob_container_maps_to_a_shared_local_container(ws) -> None:
    a = Datastore.register_azure_blob_container(ws, "store_a", container_name="mnist",
                                                account_name="mystorage", account_key="secret")
    b = Datastore.register_azure_blob_container(ws, "store_b", container_name="mnist",
                                                account_name="mystorage")
    assert a.local_folder == b.local_folder == ws.path / "storage/mystorage/mnist"
    assert "secret" not in repr(a) and "secret" not in (ws.path / "workspace.db").read_bytes().decode(
        "latin-1")
    # same settings again: no-op; other settings: needs overwrite
    Datastore.register_azure_blob_container(ws, "store_b", container_name="mnist",
                                            account_name="mystorage")
    with pytest.raises(UserErrorException, match="overwrite=True"):
        Datastore.register_azure_blob_container(ws, "store_b", container_name="other",
                                                account_name="mystorage")
    c = Datastore.register_azure_blob_container(ws, "store_b", container_name="other",
                                                account_name="mystorage", overwrite=True)
    assert c.container_name == "other"
    share = Datastore.register_azure_file_share(ws, "share", "myshare", "mystorage")
    assert share.datastore_type == "AzureFile"
    lake = Datastore.register_azure_data_lake_gen2(ws, "lake", "raw", "mylake")
    assert lake.datastore_type == "AzureDataLakeGen2"


@pytest.mark.parametrize("account,container", [("My-Storage", "mnist"), ("ab", "mnist"),
                                               ("mystorage", "Bad_Name"), ("mystorage", "a--b"),
                                               ("mystorage", "../x")])
def test_azure_names_are_checked(ws, account, container) -> None:
    with pytest.raises(UserErrorException):
        Datastore.register_azure_blob_container(ws, "s", container_name=container,
                                                account_name=account)


@pytest.mark.parametrize("call", ["register_azure_sql_database", "register_azure_postgre_sql",
                                  "register_azure_my_sql", "register_dbfs",
                                  "register_azure_data_lake"])
def test_database_registers_are_refused_with_a_reason(ws, call) -> None:
    with pytest.raises(NotSupportedLocallyError, match="register_local_folder") as info:
        getattr(Datastore, call)(ws, "x", "server", "db")
    assert isinstance(info.value, NotImplementedError)
    assert "x" not in ws.datastores


def test_endpoint_folder_and_fsspec_endpoint(ws, tmp_path) -> None:
    local = Datastore.register_azure_blob_container(
        ws, "emulated", container_name="data", account_name="devstore",
        endpoint=str(tmp_path / "azurite"))
    assert local.local_folder == tmp_path / "azurite/devstore/data"
    mem = Datastore.register_azure_blob_container(
        ws, "inmemory", container_name="data", account_name="devstore", endpoint="memory://az")
    assert mem.local_folder is None
    with pytest.raises(UserErrorException, match="fsspec"):
        Datastore.register_azure_blob_container(ws, "x", container_name="data",
                                                account_name="devstore", endpoint="blob.example")


def test_local_folder_and_fsspec_datastores(ws, tmp_path) -> None:
    folder = tmp_path / "course_data"
    ds = Datastore.register_local_folder(ws, "course", folder)
    assert ds.local_folder == folder.resolve()
    src = _files(tmp_path / "src", {"a.txt": "a", "b/c.txt": "c"})
    ds.upload(str(src), show_progress=False)
    assert (folder / "b/c.txt").read_text() == "c"
    mem = Datastore.register_fsspec(ws, "mem", "memory://test-bucket")
    mem.upload(str(src), target_path="x", show_progress=False)
    assert mem.files("x") == ["x/a.txt", "x/b/c.txt"]
    assert mem.download(tmp_path / "back", prefix="x/b", show_progress=False) == 1
    assert (tmp_path / "back/x/b/c.txt").read_text() == "c"
    viafile = Datastore.register_fsspec(ws, "viafile", (tmp_path / "f").as_uri())
    assert viafile.local_folder == tmp_path / "f"
    with pytest.raises(UserErrorException, match="URL"):
        Datastore.register_fsspec(ws, "bad", "not a url")
    with pytest.raises(UserErrorException):
        Datastore.register_local_folder(ws, "file", src / "a.txt")


def test_set_default_and_unregister(ws, tmp_path) -> None:
    ds = Datastore.register_local_folder(ws, "mine", tmp_path / "m")
    ws.set_default_datastore("mine")
    assert ws.get_default_datastore().name == "mine"
    assert not Datastore(ws, "workspaceblobstore").is_default
    ds.unregister()
    assert "mine" not in ws.datastores
    with pytest.raises(UserErrorException):
        Datastore(ws, "workspaceblobstore").unregister()


def test_references_become_local_paths(ws, tmp_path) -> None:
    ds = ws.get_default_datastore()
    ds.upload(str(_files(tmp_path / "src", {"a.txt": "a", "s/b.txt": "b"})), target_path="mnist",
              show_progress=False)
    mount = ds.path("mnist").as_mount()
    download = ds.path("mnist").as_download()
    single = ds.path("mnist/a.txt").as_download()
    work = tmp_path / "work"
    args, inputs = materialize_arguments(["--data", mount, "--copy", download, "--one", single,
                                          "--k", 3], work)
    assert args[1] == str(ds.local_folder / "mnist")
    assert Path(args[3]) == work / "datarefs/workspaceblobstore"
    assert (Path(args[3]) / "s/b.txt").read_text() == "b"
    assert Path(args[5]).read_text() == "a" and args[6:] == ["--k", "3"]
    assert inputs[0].fingerprint == inputs[1].fingerprint  # same content, either mode
    assert str(mount) == "$AZUREML_DATAREFERENCE_workspaceblobstore"


def test_upload_reference_uploads_after_the_script(ws, tmp_path) -> None:
    ds = ws.get_default_datastore()
    ref = ds.path("results").as_upload()
    args, inputs = materialize_arguments([ref], tmp_path / "work")
    (Path(args[0]) / "r.txt").write_text("done")
    assert ds.files("results") == []
    inputs[0].finalize()
    assert ds.files("results") == ["results/r.txt"]


def test_two_processes_uploading_the_same_file_leave_one_whole_copy(ws, tmp_path) -> None:
    big = tmp_path / "src"
    big.mkdir()
    (big / "x.bin").write_bytes(os.urandom(1) * (8 << 20))
    code = textwrap.dedent(f"""
        from amlhandson.core import Workspace
        ws = Workspace({None!r}, "docs-aml", "docs-ws")
        ws.get_default_datastore().upload({str(big)!r}, target_path="race", overwrite=True,
                                          show_progress=False)
    """)
    env = dict(os.environ)
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env) for _ in range(2)]
    assert [p.wait(60) for p in procs] == [0, 0]
    stored = ws.get_default_datastore().local_folder / "race/x.bin"
    assert stored.read_bytes() == (big / "x.bin").read_bytes()
    assert [p.name for p in stored.parent.iterdir()] == ["x.bin"]
