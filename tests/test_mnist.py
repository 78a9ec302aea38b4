"""Tests of amlhandson.datasets.mnist: mirrors, integrity, sample fallback, loader, cache, CLI.

Everything runs on 127.0.0.1: the public mirrors are switched off with
AMLHANDSON_MNIST_NO_PUBLIC=1 and any connection elsewhere fails the test.
Small MNIST-like fixture files are generated here; their checksums replace
``mnist.settings.EXPECTED`` via monkeypatch. Tests using the real MNIST need
``../shared/data/mnist`` next to the repository and are skipped without it.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from amlhandson.datasets import mnist
from amlhandson.exceptions import (
    AmlHandsOnError,
    DataError,
    DiskFullError,
    DownloadError,
    UserErrorException,
)

REPO = Path(__file__).resolve().parents[1]
SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist"
FULL_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
FULL_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
SAMPLE_TRAIN_COUNTS = [592, 674, 596, 613, 584, 542, 592, 627, 585, 595]
SAMPLE_TEST_COUNTS = [98, 114, 103, 101, 98, 89, 96, 103, 97, 101]
N_TRAIN, N_TEST = 120, 40

needs_shared = pytest.mark.skipif(
    not SHARED_MNIST.is_dir(), reason=f"real MNIST not found at {SHARED_MNIST}"
)


# ------------------------------------------------------------------------------------
# The hands-on's loader, verbatim (the reference)
# ------------------------------------------------------------------------------------


def handson_load_data(filename, label=False):
    with gzip.open(filename) as gz:
        struct.unpack("I", gz.read(4))
        n_items = struct.unpack(">I", gz.read(4))
        if not label:
            n_rows = struct.unpack(">I", gz.read(4))[0]
            n_cols = struct.unpack(">I", gz.read(4))[0]
            res = np.frombuffer(gz.read(n_items[0] * n_rows * n_cols), dtype=np.uint8)
            res = res.reshape(n_items[0], n_rows * n_cols)
        else:
            res = np.frombuffer(gz.read(n_items[0]), dtype=np.uint8)
            res = res.reshape(n_items[0], 1)
    return res


def handson_arrays(data: Path):
    X_train = handson_load_data(data / "train-images.gz", False) / 255.0
    y_train = handson_load_data(data / "train-labels.gz", True).reshape(-1)
    X_test = handson_load_data(data / "test-images.gz", False) / 255.0
    y_test = handson_load_data(data / "test-labels.gz", True).reshape(-1)
    return X_train, y_train, X_test, y_test


# ------------------------------------------------------------------------------------
# Fixture data
# ------------------------------------------------------------------------------------


def idx_images(images: np.ndarray) -> bytes:
    n, rows, cols = images.shape
    return struct.pack(">IIII", 2051, n, rows, cols) + images.astype(np.uint8).tobytes()


def idx_labels(labels: np.ndarray) -> bytes:
    return struct.pack(">II", 2049, len(labels)) + labels.astype(np.uint8).tobytes()


def fixture_raw(seed: int = 0) -> dict[str, bytes]:
    """Uncompressed IDX bytes of a small MNIST-like set, keyed like mnist.NAMES."""
    rng = np.random.default_rng(seed)
    return {
        "train-images": idx_images(rng.integers(0, 256, (N_TRAIN, 28, 28), dtype=np.uint8)),
        "train-labels": idx_labels(rng.integers(0, 10, N_TRAIN)),
        "test-images": idx_images(rng.integers(0, 256, (N_TEST, 28, 28), dtype=np.uint8)),
        "test-labels": idx_labels(rng.integers(0, 10, N_TEST)),
    }


def table_of(raw: dict[str, bytes]) -> dict[str, mnist.Expected]:
    return {
        name: mnist.Expected(
            len(data), hashlib.sha256(data).hexdigest(), struct.unpack(">I", data[4:8])[0]
        )
        for name, data in raw.items()
    }


def write_mirror(folder: Path, raw: dict[str, bytes], *, compress: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in raw.items():
        remote = mnist.REMOTE_NAMES[name]
        if compress:
            (folder / remote).write_bytes(gzip.compress(data, mtime=0))
        else:
            (folder / remote[: -len(".gz")]).write_bytes(data)
    return folder


def raw_content(path: Path) -> bytes:
    return gzip.decompress(path.read_bytes())


@pytest.fixture
def fix(tmp_path, monkeypatch):
    """A good fixture mirror folder; mnist.settings.EXPECTED points at its checksums."""
    raw = fixture_raw()
    table = table_of(raw)
    monkeypatch.setattr(mnist.settings, "EXPECTED", table)
    folder = write_mirror(tmp_path / "good", raw)
    return folder, raw, table


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    """No public mirrors, no proxies, and no connection to anything but 127.0.0.1."""
    monkeypatch.setenv(mnist.ENV_NO_PUBLIC, "1")
    monkeypatch.delenv(mnist.ENV_MIRROR, raising=False)
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    real = socket.create_connection

    def guarded(address, *args, **kwargs):
        host = address[0]
        assert host in ("127.0.0.1", "localhost"), f"test tried to reach {host}"
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", guarded)
    yield
    mnist._wait_for_cache_writes()


# ------------------------------------------------------------------------------------
# A local HTTP server
# ------------------------------------------------------------------------------------


class _Handler(http.server.SimpleHTTPRequestHandler):
    server: _Server

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        srv = self.server
        srv.requests.append(self.path)
        if srv.delay:
            srv.release.wait(srv.delay)
            if srv.release.is_set() and srv.delay > 5:
                return
        if srv.cut:
            target = Path(self.translate_path(self.path))
            if target.is_file():
                data = target.read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.close_connection = True
                return
        super().do_GET()


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    requests: list[str]
    delay: float
    cut: bool
    release: threading.Event


class Served:
    def __init__(self, root: Path, delay: float = 0.0, cut: bool = False) -> None:
        handler = functools.partial(_Handler, directory=str(root))
        self.httpd = _Server(("127.0.0.1", 0), handler)
        self.httpd.requests = []
        self.httpd.delay = delay
        self.httpd.cut = cut
        self.httpd.release = threading.Event()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def requests(self) -> list[str]:
        return self.httpd.requests

    def close(self) -> None:
        self.httpd.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve():
    servers: list[Served] = []

    def start(root: Path, **kw) -> Served:
        srv = Served(root, **kw)
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.close()


@pytest.fixture
def closed_port_url():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/"


def assert_installed(data: Path, raw: dict[str, bytes]) -> None:
    for name in mnist.NAMES:
        assert raw_content(data / f"{name}.gz") == raw[name], name
    assert not list(data.glob(".*.part")), "temporary files left behind"


# ------------------------------------------------------------------------------------
# download(): mirrors
# ------------------------------------------------------------------------------------


def test_import_is_light():
    code = "import sys, amlhandson.datasets; print('amlhandson.datasets.mnist' in sys.modules)"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "False", out.stderr


def test_settings_have_one_home_and_are_read_at_call_time(monkeypatch):
    # reading a setting on the package gives the one in mnist.settings; assigning it
    # there changes what the next call reads
    assert mnist.EXPECTED is mnist.settings.EXPECTED
    assert mnist.DEFAULT_TIMEOUT == mnist.settings.DEFAULT_TIMEOUT == 15.0
    monkeypatch.setattr(mnist.settings, "DEFAULT_TIMEOUT", 2.5)
    assert mnist.DEFAULT_TIMEOUT == 2.5
    assert "DEFAULT_TIMEOUT" in dir(mnist) and "settings" in mnist.__all__
    with pytest.raises(AttributeError):
        mnist.NO_SUCH_SETTING  # noqa: B018
    monkeypatch.undo()
    assert mnist.DEFAULT_TIMEOUT == 15.0


def test_a_mirror_that_drips_is_given_up(tmp_path, monkeypatch):
    """A mirror sending one byte at a time never hangs a download (issue 8, attack 8)."""
    import http.server
    import threading

    class Drip(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            try:
                for _ in range(200):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.05)
            except OSError:
                pass

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Drip)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(mnist.settings, "MIN_RATE_AFTER", 1.0)
    try:
        start = time.monotonic()
        with pytest.raises(DownloadError, match="遅すぎ"):
            mnist.download(tmp_path / "d", mirrors=f"http://127.0.0.1:{server.server_port}/",
                           progress=False, allow_sample=False)
        assert time.monotonic() - start < 8
    finally:
        server.shutdown()
        server.server_close()


def test_download_over_http(fix, serve, tmp_path, monkeypatch):
    folder, raw, _ = fix
    srv = serve(folder)
    data = tmp_path / "data"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        paths = mnist.download(data, mirrors=srv.url, progress=False)
    assert paths == {name: data / f"{name}.gz" for name in mnist.NAMES}
    assert_installed(data, raw)
    assert sorted(srv.requests) == sorted("/" + n for n in mnist.REMOTE_NAMES.values())
    assert not mnist.is_sample(data)
    stamps = json.loads((data / mnist.STAMP_FILE).read_text())
    assert {e["kind"] for e in stamps["files"].values()} == {"full"}
    # The hands-on's own loader reads what we wrote.
    X = handson_load_data(data / "train-images.gz")
    assert X.shape == (N_TRAIN, 784)

    # A second call trusts the stamp: no request, no re-hash.
    def boom(*a, **k):
        raise AssertionError("re-hashed a verified file")

    monkeypatch.setattr(mnist._integrity, "_digest", boom)
    mnist.download(data, mirrors=srv.url, progress=False)
    assert len(srv.requests) == 4


def test_404_then_good_mirror(fix, serve, tmp_path):
    folder, raw, _ = fix
    (tmp_path / "empty").mkdir()
    empty = serve(tmp_path / "empty")
    good = serve(folder)
    data = tmp_path / "data"
    mnist.download(data, mirrors=[empty.url, good.url], progress=False, allow_sample=False)
    assert_installed(data, raw)
    assert len(empty.requests) == 4  # a 404 does not disqualify the mirror for other files
    assert len(good.requests) == 4


def _spoil(kind: str, raw: dict[str, bytes], folder: Path) -> str:
    """Damage train-images in a copy of the mirror; return a word of the expected reason."""
    target = folder / mnist.REMOTE_NAMES["train-images"]
    good_gz = gzip.compress(raw["train-images"], mtime=0)
    if kind == "truncated":
        target.write_bytes(good_gz[: len(good_gz) // 2])
        return "途中で切れ"
    if kind == "bitflip_gz":
        bad = bytearray(good_gz)
        bad[len(bad) // 2] ^= 0x10
        target.write_bytes(bytes(bad))
        return "gzip"
    if kind == "bitflip_content":
        bad = bytearray(raw["train-images"])
        bad[5000] ^= 0x01
        target.write_bytes(gzip.compress(bytes(bad), mtime=0))
        return "SHA-256"
    if kind == "wrong_magic":
        target.write_bytes(gzip.compress(raw["train-labels"], mtime=0))
        return "ラベルのファイル"
    if kind == "wrong_count":
        n = N_TRAIN - 1
        body = raw["train-images"][16 : 16 + n * 784]
        target.write_bytes(gzip.compress(struct.pack(">IIII", 2051, n, 28, 28) + body))
        return "画像の数"
    if kind == "html":
        target.write_bytes(b"<html><body>403 Forbidden</body></html>")
        return "IDX"
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind",
    ["truncated", "bitflip_gz", "bitflip_content", "wrong_magic", "wrong_count", "html"],
)
def test_bad_file_rejected_then_next_mirror(kind, fix, serve, tmp_path):
    folder, raw, _ = fix
    bad_dir = tmp_path / "bad"
    shutil.copytree(folder, bad_dir)
    word = _spoil(kind, raw, bad_dir)
    bad = serve(bad_dir)
    data = tmp_path / "data"
    with pytest.raises(DownloadError) as info:
        mnist.download(data, mirrors=bad.url, progress=False, allow_sample=False)
    message = str(info.value)
    assert word in message and "train-images-idx3-ubyte.gz" in message
    assert not (data / "train-images.gz").exists()
    good = serve(folder)
    mnist.download(data, mirrors=[bad.url, good.url], progress=False, allow_sample=False)
    assert_installed(data, raw)
    assert good.requests == ["/train-images-idx3-ubyte.gz"]


def test_transfer_cut_short(fix, serve, tmp_path):
    folder, raw, _ = fix
    cut = serve(folder, cut=True)
    good = serve(folder)
    data = tmp_path / "data"
    with pytest.raises(DownloadError, match="途中で切れ"):
        mnist.download(data, mirrors=cut.url, progress=False, allow_sample=False)
    mnist.download(data, mirrors=[cut.url, good.url], progress=False, allow_sample=False)
    assert_installed(data, raw)


@pytest.fixture
def file_size_limit():
    """Set RLIMIT_FSIZE (a "full disk" for files bigger than the limit) until the test ends."""
    resource = pytest.importorskip("resource")
    if not sys.platform.startswith("linux"):
        pytest.skip("RLIMIT_FSIZE as a full disk is checked on Linux")
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)

    def limit(size: int | None) -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft if size is None else size, hard))

    yield limit
    limit(None)


@pytest.mark.parametrize("over", ["folder", "http"])
def test_a_full_disk_says_so_instead_of_blaming_the_mirrors(over, fix, serve, tmp_path,
                                                            file_size_limit):
    """Before: every mirror "failed" with [Errno 27], then the bundled sample was called broken."""
    folder, raw, _ = fix
    mirror = str(folder) if over == "folder" else serve(folder).url
    data = tmp_path / "data"
    file_size_limit(16 * 1024)  # the fixture's image files are larger, its label files not
    try:
        with pytest.raises(DiskFullError, match="ディスクがいっぱい") as info:
            mnist.download(data, mirrors=[mirror, mirror], progress=False)
    finally:
        file_size_limit(None)
    assert "train-images" in str(info.value)
    assert isinstance(info.value, OSError) and isinstance(info.value, AmlHandsOnError)
    assert not list(data.glob(".*.part")), "temporary files left behind"
    assert not (data / "train-images.gz").exists()
    mnist.download(data, mirrors=[mirror], progress=False)  # room again: it completes
    assert_installed(data, raw)


def test_a_full_disk_while_placing_the_sample_does_not_blame_the_package(fix, tmp_path,
                                                                         file_size_limit):
    """Before: "the bundled MNIST sample is broken: reinstall amlhandson" for a full disk."""
    data = tmp_path / "data"
    file_size_limit(16 * 1024)
    try:
        with pytest.raises(DiskFullError, match="ディスクがいっぱい"):
            mnist.download(data, progress=False)  # offline: the bundled sample is placed
    finally:
        file_size_limit(None)
    assert not list(data.glob(".*.part")), "temporary files left behind"
    with pytest.warns(mnist.MnistSampleWarning):
        mnist.download(data, progress=False)
    assert mnist.is_sample(data)


def test_unreachable_mirror(fix, serve, tmp_path, closed_port_url):
    folder, raw, _ = fix
    good = serve(folder)
    data = tmp_path / "data"
    mnist.download(data, mirrors=[closed_port_url, good.url], progress=False, allow_sample=False)
    assert_installed(data, raw)
    with pytest.raises(DownloadError) as info:
        mnist.download(tmp_path / "d2", mirrors=closed_port_url, progress=False, allow_sample=False)
    message = str(info.value)
    assert closed_port_url in message and "接続を拒否" in message
    assert "省略" in message  # not retried for every file


def test_slow_mirror_times_out(fix, serve, tmp_path, monkeypatch):
    folder, raw, _ = fix
    monkeypatch.setattr(mnist.settings, "DEFAULT_TIMEOUT", 0.3)
    slow = serve(folder, delay=30)
    good = serve(folder)
    data = tmp_path / "data"
    start = time.monotonic()
    mnist.download(data, mirrors=[slow.url, good.url], progress=False, allow_sample=False)
    assert time.monotonic() - start < 5  # one timeout, then the mirror is skipped
    assert_installed(data, raw)
    assert len(slow.requests) == 1
    with pytest.raises(DownloadError, match="タイムアウト"):
        mnist.download(tmp_path / "d2", mirrors=slow.url, progress=False, allow_sample=False)


def test_corrupt_local_file_is_fetched_again(fix, serve, tmp_path):
    folder, raw, _ = fix
    srv = serve(folder)
    data = tmp_path / "data"
    mnist.download(data, mirrors=srv.url, progress=False)
    target = data / "train-images.gz"
    target.write_bytes(target.read_bytes()[:-100])  # truncated
    with pytest.warns(mnist.MnistWarning, match="train-images.gz"):
        mnist.download(data, mirrors=srv.url, progress=False)
    assert_installed(data, raw)
    assert srv.requests[4:] == ["/train-images-idx3-ubyte.gz"]


def test_force_fetches_again(fix, serve, tmp_path, closed_port_url):
    folder, raw, _ = fix
    srv = serve(folder)
    data = tmp_path / "data"
    mnist.download(data, mirrors=srv.url, progress=False)
    mnist.download(data, mirrors=srv.url, progress=False, force=True)
    assert len(srv.requests) == 8
    # force with every mirror down keeps the verified files, no sample.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mnist.download(data, mirrors=closed_port_url, progress=False, force=True)
    assert_installed(data, raw)
    assert not mnist.is_sample(data)


_CHILD = """
import json, sys, contextlib
from amlhandson.datasets import mnist
table = {k: mnist.Expected(*v) for k, v in json.loads(sys.argv[1]).items()}
mnist.settings.EXPECTED = table
if sys.argv[4] == "nolock":
    mnist._lock._dir_lock = lambda folder, timeout: contextlib.nullcontext()
mnist.download(sys.argv[2], mirrors=sys.argv[3], progress=False, allow_sample=False)
"""


@pytest.mark.parametrize("lock", ["lock", "nolock"])
def test_two_processes_download_into_same_folder(lock, fix, serve, tmp_path):
    folder, raw, table = fix
    srv = serve(folder, delay=0.2)
    data = tmp_path / "data"
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    args = [json.dumps({k: list(v) for k, v in table.items()}), str(data), srv.url, lock]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    assert_installed(data, raw)
    if lock == "lock" and os.name == "posix":
        assert len(srv.requests) == 4  # the second process waited and reused the files
    else:
        assert 4 <= len(srv.requests) <= 8


def test_local_folder_mirrors(fix, tmp_path):
    folder, raw, _ = fix
    for i, mirror in enumerate([folder, str(folder), folder.as_uri()]):
        data = tmp_path / f"data{i}"
        mnist.download(data, mirrors=mirror, progress=False, allow_sample=False)
        assert_installed(data, raw)
    # uncompressed originals (an extracted copy) are gzipped on the way in
    plain = write_mirror(tmp_path / "plain", raw, compress=False)
    data = tmp_path / "data-plain"
    mnist.download(data, mirrors=plain, progress=False, allow_sample=False)
    assert_installed(data, raw)
    # another learner's data folder (hands-on names) works as a mirror too
    data2 = tmp_path / "data-copy"
    mnist.download(data2, mirrors=tmp_path / "data0", progress=False, allow_sample=False)
    assert_installed(data2, raw)
    # a missing folder is a clear failure
    with pytest.raises(DownloadError, match="がありません"):
        mnist.download(
            tmp_path / "x", mirrors=tmp_path / "nope", progress=False, allow_sample=False
        )


def test_env_mirror(fix, serve, tmp_path, monkeypatch, closed_port_url):
    folder, raw, _ = fix
    srv = serve(folder)
    monkeypatch.setenv(mnist.ENV_MIRROR, f"{closed_port_url} , {srv.url}")
    data = tmp_path / "data"
    mnist.download(data, progress=False, allow_sample=False)
    assert_installed(data, raw)


def test_mirror_order_and_parsing(monkeypatch, tmp_path):
    monkeypatch.setenv(
        mnist.ENV_MIRROR, "http://a.example/m ; /media/usb/mnist\nhttp://b/ http://c/"
    )
    labels = [m.label for m in mnist._mirrors._resolve_mirrors(["http://first/", tmp_path])]
    assert labels == [
        "http://first/",
        str(tmp_path),
        "http://a.example/m/",
        str(Path("/media/usb/mnist")),
        "http://b/",
        "http://c/",
    ]
    monkeypatch.setenv(mnist.ENV_MIRROR, "C:\\My Data\\mnist")
    assert [m.label for m in mnist._mirrors._resolve_mirrors(None)] == [str(Path("C:\\My Data\\mnist"))]
    monkeypatch.delenv(mnist.ENV_NO_PUBLIC)
    labels = [m.label for m in mnist._mirrors._resolve_mirrors("http://x/")]
    assert labels[0] == "http://x/" and labels[-3:] == list(mnist.settings.PUBLIC_MIRRORS)
    monkeypatch.setenv(mnist.ENV_NO_PUBLIC, "0")
    assert len(mnist._mirrors._resolve_mirrors(None)) == 4
    monkeypatch.setenv(mnist.ENV_NO_PUBLIC, "yes")
    assert len(mnist._mirrors._resolve_mirrors(None)) == 1
    with pytest.raises(UserErrorException):
        mnist._mirrors._resolve_mirrors(42)  # type: ignore[arg-type]
    with pytest.raises(UserErrorException, match="ftp"):
        mnist._mirrors._resolve_mirrors("ftp://host/mnist/")


def test_progress_bar(fix, tmp_path, capfd):
    folder, _, _ = fix
    mnist.download(tmp_path / "data", mirrors=folder, progress=True)
    assert "train-images.gz" in capfd.readouterr().err
    mnist.download(tmp_path / "data2", mirrors=folder, progress=False)
    assert "train-images.gz" not in capfd.readouterr().err


# ------------------------------------------------------------------------------------
# download(): the bundled sample
# ------------------------------------------------------------------------------------


def test_bundled_sample_is_intact():
    for name in mnist.NAMES:
        data = gzip.decompress(mnist._sample._read_sample(name))
        exp = mnist.SAMPLE_EXPECTED[name]
        assert len(data) == exp.size and hashlib.sha256(data).hexdigest() == exp.sha256
    assert sum(len(mnist._sample._read_sample(n)) for n in mnist.NAMES) < 2_000_000


def test_offline_falls_back_to_sample_then_upgrades(fix, tmp_path):
    folder, raw, _ = fix
    data = tmp_path / "data"
    with pytest.warns(mnist.MnistSampleWarning) as rec:
        mnist.download(data, progress=False)
    message = str(rec[0].message)
    assert "6,000" in message and "1,000" in message and mnist.ENV_MIRROR in message
    assert "mirrors=" in message
    assert mnist.is_sample(data)
    X_train, y_train, X_test, y_test = mnist.load(data)
    assert X_train.shape == (6000, 784) and X_test.shape == (1000, 784)
    assert np.bincount(y_train).tolist() == SAMPLE_TRAIN_COUNTS
    assert np.bincount(y_test).tolist() == SAMPLE_TEST_COUNTS
    assert handson_arrays(data)[0].shape == (6000, 784)  # the hands-on's loader reads it

    # Still offline: the sample is kept (not rewritten) and the warning repeats.
    mtime = (data / "train-images.gz").stat().st_mtime_ns
    with pytest.warns(mnist.MnistSampleWarning):
        mnist.download(data, progress=False)
    assert (data / "train-images.gz").stat().st_mtime_ns == mtime

    # Refuse the sample when asked to.
    with pytest.raises(DownloadError, match=mnist.ENV_NO_PUBLIC):
        mnist.download(data, progress=False, allow_sample=False)

    # A mirror appears: a later call replaces the sample with the full set.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mnist.download(data, mirrors=folder, progress=False)
    assert_installed(data, raw)
    assert not mnist.is_sample(data)


def test_split_level_fallback(fix, tmp_path):
    folder, raw, _ = fix
    train_only = tmp_path / "train-only"
    train_only.mkdir()
    for name in ("train-images", "train-labels"):
        shutil.copy(folder / mnist.REMOTE_NAMES[name], train_only)
    data = tmp_path / "data"
    with pytest.warns(mnist.MnistSampleWarning, match="test 1,000"):
        mnist.download(data, mirrors=train_only, progress=False)
    assert mnist.is_sample(data)
    X_train, y_train, X_test, y_test = mnist.load(data)
    assert X_train.shape == (N_TRAIN, 784) and X_test.shape == (1000, 784)


def test_no_sample_error_names_every_mirror(serve, tmp_path, closed_port_url):
    (tmp_path / "empty").mkdir()
    empty = serve(tmp_path / "empty")
    missing = tmp_path / "no-such-folder"
    data = tmp_path / "data"
    with pytest.raises(DownloadError) as info:
        mnist.download(
            data, mirrors=[empty.url, closed_port_url, missing], progress=False, allow_sample=False
        )
    err = info.value
    assert isinstance(err, ConnectionError) and isinstance(err, AmlHandsOnError)
    message = str(err)
    for label in (empty.url, closed_port_url, str(missing)):
        assert label in message
    assert "HTTP 404" in message
    for remote in mnist.REMOTE_NAMES.values():
        assert remote in message
    assert not (data / "train-images.gz").exists()


def test_bad_arguments(tmp_path):
    with pytest.raises(UserErrorException):
        mnist.download(tmp_path, mirrors=3.5, progress=False)  # type: ignore[arg-type]
    (tmp_path / "file").write_text("x")
    with pytest.raises(UserErrorException):
        mnist.download(tmp_path / "file" / "data", progress=False)


# ------------------------------------------------------------------------------------
# load_data()
# ------------------------------------------------------------------------------------


@pytest.fixture
def files(tmp_path):
    raw = fixture_raw(seed=3)
    folder = tmp_path / "files"
    folder.mkdir()
    for name, data in raw.items():
        (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        (folder / f"{name}.idx").write_bytes(data)
    return folder, raw


def test_load_data_matches_handson(files):
    folder, _ = files
    for name in mnist.NAMES:
        label = name.endswith("labels")
        ref = handson_load_data(folder / f"{name}.gz", label)
        for path in (folder / f"{name}.gz", folder / f"{name}.idx", str(folder / f"{name}.gz")):
            got = mnist.load_data(path, label)
            assert got.dtype == np.uint8 and got.shape == ref.shape
            assert np.array_equal(got, ref)
            assert got.flags.writeable
    assert mnist.load_data(folder / "train-images.gz").shape == (N_TRAIN, 784)
    assert mnist.load_data(folder / "test-labels.gz", True).shape == (N_TEST, 1)


def test_load_data_multi_member_and_prefetch(files, monkeypatch):
    folder, raw = files
    data = raw["train-images"]
    path = folder / "multi.gz"
    path.write_bytes(gzip.compress(data[:1000]) + gzip.compress(data[1000:]) + b"\0\0")
    monkeypatch.setattr(mnist._idx, "_PREFETCH_MIN", 0)
    monkeypatch.setattr(mnist._idx, "_CHUNK_OUT", 4096)
    assert np.array_equal(mnist.load_data(path), handson_load_data(folder / "train-images.gz"))


@pytest.mark.parametrize(
    "make, label, word",
    [
        (lambda r: gzip.compress(r["train-labels"]), False, "label=True"),
        (lambda r: gzip.compress(r["train-images"]), True, "label=False"),
        (lambda r: gzip.compress(r["train-images"])[:-500], False, "途中で切れ"),
        (lambda r: gzip.compress(r["train-images"])[:-4], False, "途中で切れ"),
        (lambda r: b"\x1f\x8b" + os.urandom(2000), False, "gzip"),
        (lambda r: os.urandom(2000), False, "IDX"),
        (lambda r: b"", False, "短すぎ"),
        (lambda r: gzip.compress(b"<html>Forbidden</html>"), False, "IDX"),
        (lambda r: gzip.compress(b"\x00\x00\x08\x03" + b"\x00" * 8), False, "ヘッダー"),
        (lambda r: gzip.compress(r["train-images"] + b"extra"), False, "余分"),
        (lambda r: gzip.compress(r["train-images"][:-10]), False, "足りません"),
        (lambda r: gzip.compress(r["train-images"]) + b"junk", False, "余分"),
        (lambda r: b"\x00\x00\x0c\x03" + r["train-images"][4:], False, "IDX"),
    ],
    ids=[
        "labels-as-images",
        "images-as-labels",
        "truncated-gzip",
        "no-gzip-trailer",
        "not-deflate",
        "not-gzip-not-idx",
        "empty",
        "html",
        "short-header",
        "trailing-data",
        "short-payload",
        "garbage-after-gzip",
        "float-idx",
    ],
)
def test_load_data_errors(make, label, word, files):
    folder, raw = files
    path = folder / "bad.gz"
    path.write_bytes(make(raw))
    with pytest.raises(DataError) as info:
        mnist.load_data(path, label)
    assert word in str(info.value)
    assert "bad.gz" in str(info.value)


def test_load_data_bitflip_detected(files):
    folder, raw = files
    gz = bytearray(gzip.compress(raw["train-images"], compresslevel=0))
    gz[len(gz) // 2] ^= 0x04  # stored block: only the CRC can tell
    path = folder / "flip.gz"
    path.write_bytes(bytes(gz))
    with pytest.raises(DataError, match="CRC"):
        mnist.load_data(path)


def test_load_data_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        mnist.load_data(tmp_path / "nope.gz")


# ------------------------------------------------------------------------------------
# load() and the cache
# ------------------------------------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path):
    raw = fixture_raw(seed=5)
    data = tmp_path / "data"
    data.mkdir()
    for name, content in raw.items():
        (data / f"{name}.gz").write_bytes(gzip.compress(content))
    return data


def _cache_files(data: Path) -> list[Path]:
    return sorted((data / mnist.CACHE_DIR).glob("*.npy"))


def assert_same(got, ref) -> None:
    assert len(got) == len(ref) == 4
    for g, r in zip(got, ref, strict=True):
        assert type(g) is np.ndarray
        assert g.dtype == r.dtype and g.shape == r.shape
        assert np.array_equal(g, r)


def test_load_matches_handson(data_dir):
    ref = handson_arrays(data_dir)
    assert_same(mnist.load(data_dir), ref)  # first: decoded
    mnist._wait_for_cache_writes()
    assert len(_cache_files(data_dir)) == 2
    assert_same(mnist.load(data_dir), ref)  # second: from the cache
    X8, y8, Xt8, yt8 = mnist.load(data_dir, normalize=False)
    assert X8.dtype == np.uint8 and np.array_equal(
        X8, handson_load_data(data_dir / "train-images.gz")
    )
    assert_same(mnist.load(data_dir, normalize=False), (X8, y8, Xt8, yt8))
    assert_same(mnist.load(data_dir, cache=False), ref)


def test_cache_hit_needs_no_decoding(data_dir, monkeypatch):
    ref = handson_arrays(data_dir)
    mnist.load(data_dir)
    mnist._wait_for_cache_writes()
    real = mnist._idx._payload

    def images_forbidden(path, label):
        assert label is not False, f"decoded {path} despite the cache"
        return real(path, label)

    monkeypatch.setattr(mnist._idx, "_payload", images_forbidden)
    X_train, y_train, X_test, y_test = mnist.load(data_dir)
    assert_same((X_train, y_train, X_test, y_test), ref)
    # writable, and writes stay private (copy-on-write)
    X_train[0, :] = 7.0
    assert mnist.load(data_dir)[0][0, 0] == ref[0][0, 0]


def test_cache_invalidated_when_file_changes(data_dir):
    mnist.load(data_dir)
    mnist._wait_for_cache_writes()
    before = _cache_files(data_dir)
    other = fixture_raw(seed=9)
    (data_dir / "train-images.gz").write_bytes(gzip.compress(other["train-images"]))
    X_train = mnist.load(data_dir)[0]
    assert np.array_equal(X_train, handson_arrays(data_dir)[0])
    mnist._wait_for_cache_writes()
    after = _cache_files(data_dir)
    assert len(after) == 2 and after != before  # the old train entry was removed


@pytest.mark.parametrize("damage", ["truncate", "garbage", "wrong-dtype", "empty"])
def test_corrupt_cache_is_ignored_and_rebuilt(damage, data_dir):
    ref = handson_arrays(data_dir)
    mnist.load(data_dir)
    mnist._wait_for_cache_writes()
    cfile = next(p for p in _cache_files(data_dir) if p.name.startswith("train-images"))
    good_size = cfile.stat().st_size
    if damage == "truncate":
        with open(cfile, "r+b") as fh:
            fh.truncate(good_size // 2)
    elif damage == "garbage":
        cfile.write_bytes(os.urandom(good_size))
    elif damage == "wrong-dtype":
        np.save(cfile, np.zeros((N_TRAIN, 784), dtype=np.float32))
    else:
        cfile.write_bytes(b"")
    assert_same(mnist.load(data_dir), ref)
    mnist._wait_for_cache_writes()
    assert cfile.stat().st_size == good_size
    assert_same(mnist.load(data_dir), ref)


def test_load_without_cache_writes_nothing(data_dir):
    mnist.load(data_dir, cache=False)
    mnist._wait_for_cache_writes()
    assert not (data_dir / mnist.CACHE_DIR).exists()


def test_clear_cache(data_dir):
    mnist.load(data_dir)
    assert mnist.clear_cache(data_dir) > N_TRAIN * 784 * 8
    assert not (data_dir / mnist.CACHE_DIR).exists()
    assert mnist.clear_cache(data_dir) == 0


def test_load_missing_files_says_download(tmp_path):
    with pytest.raises(mnist.MnistFilesMissingError) as info:
        mnist.load(tmp_path / "data")
    err = info.value
    assert isinstance(err, FileNotFoundError) and isinstance(err, DataError)
    assert "download(" in str(err) and "train-images.gz" in str(err)


def test_load_reports_damaged_and_mismatched_files(data_dir):
    (data_dir / "test-labels.gz").write_bytes(b"\x1f\x8b garbage")
    with pytest.raises(DataError, match="test-labels.gz"):
        mnist.load(data_dir)
    other = fixture_raw(seed=1)
    (data_dir / "test-labels.gz").write_bytes(gzip.compress(idx_labels(np.zeros(N_TEST + 1))))
    with pytest.raises(DataError, match="数が合いません"):
        mnist.load(data_dir)
    (data_dir / "test-labels.gz").write_bytes(gzip.compress(other["test-images"]))
    with pytest.raises(DataError, match="label=False"):
        mnist.load(data_dir)


# ------------------------------------------------------------------------------------
# CLI
# ------------------------------------------------------------------------------------


def test_cli_full(fix, serve, tmp_path, capsys):
    folder, raw, _ = fix
    srv = serve(folder)
    data = tmp_path / "data"
    assert mnist.cli_main(["--dir", str(data), "--mirror", srv.url, "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert str(data.resolve() / "train-images.gz") in out and "完全" in out
    assert_installed(data, raw)


def test_cli_sample_and_errors(tmp_path, capsys):
    data = tmp_path / "data"
    assert mnist.cli_main(["--dir", str(data), "--no-progress", "--no-sample"]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("エラー:") and "Traceback" not in captured.err
    assert not (data / "train-images.gz").exists()
    assert mnist.cli_main(["--dir", str(data), "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert "見本" in captured.out and "注意:" in captured.err
    assert mnist.is_sample(data)
    assert mnist.cli_main(["--bogus"]) == 2
    assert mnist.cli_main(["--help"]) == 0


def test_cli_as_module(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REPO), **{mnist.ENV_NO_PUBLIC: "1"})
    env.pop(mnist.ENV_MIRROR, None)
    cmd = [sys.executable, "-m", "amlhandson.datasets.mnist", "--dir", str(tmp_path / "d")]
    out = subprocess.run(
        [*cmd, "--no-sample", "--no-progress"], capture_output=True, text=True, env=env
    )
    assert out.returncode == 1 and "エラー:" in out.stderr and "Traceback" not in out.stderr


# ------------------------------------------------------------------------------------
# The real MNIST (needs ../shared/data/mnist)
# ------------------------------------------------------------------------------------


@needs_shared
def test_full_mnist_from_folder_and_http(tmp_path, serve):
    data = tmp_path / "data"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mnist.download(data, mirrors=SHARED_MNIST, progress=False, allow_sample=False)
    assert not mnist.is_sample(data)
    X8, y_train, X8t, y_test = mnist.load(data, normalize=False, cache=False)
    assert X8.shape == (60000, 784) and X8t.shape == (10000, 784)
    assert np.bincount(y_train).tolist() == FULL_TRAIN_COUNTS
    assert np.bincount(y_test).tolist() == FULL_TEST_COUNTS
    assert np.array_equal(X8, handson_load_data(data / "train-images.gz"))

    X_train, _, X_test, _ = mnist.load(data)  # first (decoded), starts the cache
    assert X_train.dtype == np.float64
    assert np.array_equal(X_test, X8t / 255.0)
    del X_train
    mnist._wait_for_cache_writes()
    X_train, _, _, _ = mnist.load(data)  # cached, memory-mapped
    assert np.array_equal(X_train[::997], X8[::997] / 255.0)
    del X_train
    assert mnist.clear_cache(data) > 400_000_000

    srv = serve(SHARED_MNIST)
    data2 = tmp_path / "data2"
    mnist.download(data2, mirrors=srv.url, progress=False, allow_sample=False)
    for name in mnist.NAMES:
        assert raw_content(data2 / f"{name}.gz") == raw_content(data / f"{name}.gz")
    assert len(srv.requests) == 4


@needs_shared
def test_sample_builder_is_reproducible():
    tool = REPO / "tools" / "make_mnist_sample.py"
    out = subprocess.run(
        [sys.executable, str(tool), str(SHARED_MNIST), "--check"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
