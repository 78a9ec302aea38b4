"""Datasets: building from paths, subsets, versions and fingerprints, reading inside runs."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from amlhandson._store import Store
from amlhandson.core import Dataset, Datastore
from amlhandson.core.dataset import input_datasets_of
from amlhandson.data import FileDataset, TabularDataset
from amlhandson.data._inputs import materialize_arguments, record_inputs
from amlhandson.data._selection import NO_DATA
from amlhandson.data.abstract_dataset import DatasetChangedWarning
from amlhandson.exceptions import UserErrorException


@pytest.fixture
def store(ws, tmp_path) -> Datastore:
    src = tmp_path / "src"
    for name, text in {"a.gz": "a", "b.gz": "b", "notes.txt": "n", "deep/c.gz": "c",
                       "csv/1.csv": "k,acc\n1,0.9\n3,0.95\n", "csv/2.csv": "k,acc\n5,0.96\n"}.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_text(text)
    ds = ws.get_default_datastore()
    ds.upload(str(src), target_path="mnist", show_progress=False)
    return ds


def test_paths_tuples_globs_lists_and_local(store, tmp_path) -> None:
    assert Dataset.File.from_files((store, "mnist/*.gz")).to_path() == ["/a.gz", "/b.gz"]
    assert Dataset.File.from_files((store, "mnist/**/*.gz")).to_path() == \
        ["/a.gz", "/b.gz", "/deep/c.gz"]
    assert Dataset.File.from_files((store, "mnist/notes.txt")).to_path() == ["/notes.txt"]
    both = Dataset.File.from_files([(store, "mnist/a.gz"), store.path("mnist/deep")])
    assert both.to_path() == ["/a.gz", "/c.gz"]
    local = Dataset.File.from_files(str(tmp_path / "src" / "*.gz"))
    assert local.to_path() == ["/a.gz", "/b.gz"] and local.workspace is None


def test_selecting_nothing_gives_v1s_message(store) -> None:
    with pytest.raises(UserErrorException) as info:
        Dataset.File.from_files((store, "nothing/*.gz"))
    assert str(info.value).startswith(NO_DATA)
    later = Dataset.File.from_files((store, "nothing/"), validate=False)  # no error yet
    with pytest.raises(UserErrorException, match="Cannot load any data"):
        later.to_path()


@pytest.mark.parametrize("bad", [("not a datastore", "x"), 42, "https://example.com/x.csv", []])
def test_bad_paths_are_refused_clearly(store, bad) -> None:
    with pytest.raises(UserErrorException):
        Dataset.File.from_files(bad)


def test_take_skip_split_sample(store) -> None:
    files = Dataset.File.from_files((store, "mnist/**"))
    names = files.to_path()
    assert len(names) == 6
    assert files.take(2).to_path() == names[:2]
    assert files.skip(4).to_path() == names[4:]
    first, second = files.random_split(0.5, seed=7)
    a, b = first.to_path(), second.to_path()
    assert sorted(a + b) == sorted(names) and not set(a) & set(b)
    again = files.random_split(0.5, seed=7)
    assert again[0].to_path() == a
    assert files.take_sample(1.0, seed=1).to_path() == names
    assert files.take_sample(0.0, seed=1).to_path() == []
    with pytest.raises(UserErrorException):
        files.take(-1)
    with pytest.raises(UserErrorException):
        files.random_split(1.5)


def test_register_versions_and_fingerprints(ws, store) -> None:
    gz = Dataset.File.from_files((store, "mnist/*.gz"))
    v1 = gz.register(ws, "mnist", description="digits", tags={"src": "lecun"})
    assert (v1.name, v1.version, v1.description, v1.tags) == ("mnist", 1, "digits",
                                                             {"src": "lecun"})
    assert gz.register(ws, "mnist").version == 1  # same definition and content
    with pytest.raises(UserErrorException, match="create_new_version=True"):
        Dataset.File.from_files((store, "mnist/**")).register(ws, "mnist")
    # the files change: same definition, new content -> a new version when asked
    (store.local_folder / "mnist/a.gz").write_text("changed")
    with pytest.warns(DatasetChangedWarning, match="create_new_version=True"):
        assert not Dataset.get_by_name(ws, "mnist").check_unchanged()
    v2 = gz.register(ws, "mnist", create_new_version=True)
    assert v2.version == 2 and v2.registered_fingerprint != v1.registered_fingerprint
    assert Dataset.get_by_name(ws, "mnist").version == 2
    assert Dataset.get_by_name(ws, "mnist", version=1).registered_fingerprint == \
        v1.registered_fingerprint
    assert Dataset.get_by_id(ws, v1.id).version == 1
    assert list(ws.datasets) == ["mnist"] and ws.datasets["mnist"].version == 2
    with pytest.raises(UserErrorException, match="Cannot find dataset"):
        Dataset.get_by_name(ws, "mnist", version=9)
    v2.add_tags({"k": "v"})
    assert Dataset.get_by_name(ws, "mnist").tags == {"src": None, "k": "v"} or \
        Dataset.get_by_name(ws, "mnist").tags["k"] == "v"


def test_download_and_mount(store, tmp_path) -> None:
    files = Dataset.File.from_files((store, "mnist/**/*.gz"))
    paths = files.download(tmp_path / "copy", show_progress=False)
    assert sorted(Path(p).relative_to(tmp_path / "copy").as_posix() for p in paths) == \
        ["a.gz", "b.gz", "deep/c.gz"]
    (tmp_path / "copy/a.gz").write_text("local edit")
    files.download(tmp_path / "copy", show_progress=False)
    assert (tmp_path / "copy/a.gz").read_text() == "local edit"  # kept without overwrite
    files.download(tmp_path / "copy", overwrite=True, show_progress=False)
    assert (tmp_path / "copy/a.gz").read_text() == "a"
    with files.mount() as mounted:
        point = Path(mounted.mount_point)
        assert (point / "deep/c.gz").read_text() == "c"
    assert not point.exists()
    assert (store.local_folder / "mnist/deep/c.gz").exists()  # the files themselves stay


def test_tabular_rows(store) -> None:
    table = Dataset.Tabular.from_delimited_files((store, "mnist/csv/*.csv"), include_path=True)
    frame = table.to_pandas_dataframe()
    assert list(frame.columns) == ["Path", "k", "acc"] and list(frame["k"]) == [1, 3, 5]
    assert list(table.skip(1).take(1).to_pandas_dataframe()["k"]) == [3]
    assert list(table.keep_columns(["acc"]).to_pandas_dataframe().columns) == ["acc"]
    train, test = table.random_split(0.5, seed=3)
    assert len(train.to_pandas_dataframe()) + len(test.to_pandas_dataframe()) == 3
    with pytest.raises(UserErrorException, match="列"):
        table.keep_columns(["missing"]).to_pandas_dataframe()
    typed = Dataset.Tabular.from_delimited_files((store, "mnist/csv/1.csv"),
                                                 set_column_types={"k": float})
    assert str(typed.to_pandas_dataframe()["k"].dtype) == "float64"


def test_named_inputs_are_recorded_with_their_version(ws, store, exp, tmp_path) -> None:
    mnist = Dataset.File.from_files((store, "mnist/*.gz")).register(ws, "mnist")
    table = Dataset.Tabular.from_delimited_files((store, "mnist/csv/*.csv")).register(ws, "acc")
    run = exp.start_logging()
    args, inputs = materialize_arguments(
        ["--data", mnist.as_named_input("mnist").as_mount(),
         "--copy", mnist.as_named_input("mnist_copy").as_download()],
        tmp_path / "work", extra_inputs=[table.as_named_input("acc")])
    assert sorted(p.name for p in Path(args[1]).iterdir()) == ["a.gz", "b.gz"]
    assert Path(args[1], "a.gz").is_symlink() or Path(args[1], "a.gz").is_file()
    assert Path(args[3], "b.gz").read_text() == "b" and not Path(args[3], "b.gz").is_symlink()
    record_inputs(Store.open(ws.path), run.id, inputs)
    seen = input_datasets_of(run)
    assert seen["mnist"] == args[1] and seen["mnist_copy"] == args[3]
    assert isinstance(seen["acc"], TabularDataset) and seen["acc"].version == 1
    rows = Store.open(ws.path).datasets.inputs_of(run.id)
    assert {(r.input_name, r.dataset_name, r.dataset_version) for r in rows} == {
        ("acc", "acc", 1), ("mnist", "mnist", 1), ("mnist_copy", "mnist", 1)}
    assert rows[1].fingerprint == mnist.registered_fingerprint
    assert Store.open(ws.path).datasets.runs_reading("mnist", 1) == [run.id, run.id]
    run.complete()
    with pytest.raises(UserErrorException, match="as_named_input"):
        table.as_named_input("t").as_mount()


def test_a_dataset_whose_files_vanished_says_so(ws, store) -> None:
    gz = Dataset.File.from_files((store, "mnist/deep/*.gz")).register(ws, "deep")
    (store.local_folder / "mnist/deep/c.gz").unlink()
    with pytest.raises(UserErrorException, match="Cannot load any data"):
        Dataset.get_by_name(ws, "deep").to_path()
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        assert not gz.check_unchanged()


def test_open_dataset_mnist_is_a_file_dataset(monkeypatch, tmp_path, scratch) -> None:
    from amlhandson.datasets import mnist
    from amlhandson.opendatasets import MNIST

    monkeypatch.setenv("AMLHANDSON_MNIST_NO_PUBLIC", "1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = MNIST.get_file_dataset(progress=False)
    assert isinstance(ds, FileDataset)
    assert ds.to_path() == ["/" + n for n in sorted(mnist.REMOTE_NAMES.values())]
    # the end-2019 tutorial, unchanged: download into ./data, then glob the IDX names
    import glob
    import os

    data_folder = os.path.join(os.getcwd(), "data")
    os.makedirs(data_folder, exist_ok=True)
    ds.download(data_folder, overwrite=True)
    ds.download(data_folder, overwrite=True)  # twice: files are replaced, not lost
    found = glob.glob(os.path.join(data_folder, "**/train-images-idx3-ubyte.gz"), recursive=True)
    images = mnist.load_data(found[0], False)
    assert images.shape[1] == 784
    # downloading a dataset into the folder its files are in keeps them (no copy onto itself)
    local = Dataset.File.from_files(os.path.join(data_folder, "*.gz"))
    assert len(local.download(data_folder, overwrite=True)) == 4
    assert mnist.load_data(found[0], False).shape == images.shape
