"""Attacks on the store that once lost data silently (issue 8), each reproduced here.

Every test names the defect it guards against. They use real processes, real
files and real signals.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
import tracemalloc
import warnings
from pathlib import Path

import pytest
from helpers import python_env

from amlhandson import Experiment, Run, Workspace, _process
from amlhandson._store import Store
from amlhandson.cli import main as cli
from amlhandson.core.model import Model
from amlhandson.exceptions import (
    ArtifactPathError,
    MetricError,
    RunStateWarning,
    SkippedFilesWarning,
    StoreCorruptError,
    StoreDamageWarning,
)


def _env() -> dict[str, str]:
    return python_env(Path(os.environ["AMLHANDSON_HOME"]))


def _run_script(code: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], env=_env(),
                          capture_output=True, text=True, timeout=timeout)


# -- process identity -----------------------------------------------------------------------
def test_a_reused_pid_does_not_keep_a_dead_run_running(ws: Workspace) -> None:
    """Before: psutil's ``createtime`` typo was swallowed, so any live pid meant Running."""
    exp = Experiment(ws, "pid-reuse")
    store = Store.open(ws.path)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        started = _process.started_at(sleeper.pid)
        assert started is not None
        pk = store.experiments.ensure("pid-reuse").pk
        store.runs.create(run_id="same-process", experiment_pk=pk, pid=sleeper.pid,
                          host=_process.HOST, proc_started=started)
        store.runs.create(run_id="pid-reused", experiment_pk=pk, pid=sleeper.pid,
                          host=_process.HOST, proc_started=started - 3600)
        assert Run(exp, "same-process").get_status() == "Running"
        reused = Run(exp, "pid-reused")
        assert reused.get_status() == "Failed"
        assert f"pid {sleeper.pid}" in reused.get_details()["error"]["error"]["message"]
    finally:
        sleeper.kill()
        sleeper.wait()


def test_process_helper_stops_a_process_and_its_group(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                            start_new_session=True)
    started = _process.started_at(proc.pid)
    assert _process.is_alive(proc.pid, started)
    assert _process.terminate(proc.pid, started, timeout=5, group=True, child=proc)
    assert not _process.is_alive(proc.pid, started)
    assert not _process.terminate(proc.pid, started)  # already gone: nothing to do


# -- fork --------------------------------------------------------------------------------------
_POOL_RUN: Run | None = None


def _log_in_pool_worker(i: int) -> int:
    assert _POOL_RUN is not None
    _POOL_RUN.log("from-child", i)
    _POOL_RUN.log_row("rows", i=i)
    return i


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX only")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_metrics_logged_in_forked_pool_workers_arrive(ws: Workspace) -> None:
    """Before: the child replaced the queue the run held on to; every value was lost."""
    global _POOL_RUN
    run = Experiment(ws, "fork-pool").start_logging()
    run.log("from-child", -1)  # the parent logs first: the children inherit a warm run
    _POOL_RUN = run
    try:
        with multiprocessing.get_context("fork").Pool(2) as pool:
            assert sorted(pool.map(_log_in_pool_worker, range(40))) == list(range(40))
    finally:
        _POOL_RUN = None
    run.complete()
    metrics = run.get_metrics()
    assert sorted(metrics["from-child"]) == list(range(-1, 40))
    assert sorted(metrics["rows"]["i"]) == list(range(40))


# -- races ---------------------------------------------------------------------------------------
def test_threads_uploading_one_name_never_collide(exp: Experiment, tmp_path: Path) -> None:
    """Before: temp files were named by pid only, so threads overwrote each other's."""
    run = exp.start_logging()
    errors: list[BaseException] = []
    contents = [f"writer {i}\n".encode() * 2000 for i in range(16)]

    def upload(i: int) -> None:
        try:
            for _ in range(20):
                import io

                run.upload_file("outputs/shared.txt", io.BytesIO(contents[i]))
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert (run.local_path / "outputs/shared.txt").read_bytes() in contents
    assert run.get_file_names() == ["outputs/shared.txt"]
    run.complete()


@pytest.mark.skipif(os.name == "nt", reason="symlinks")
def test_model_registration_does_not_follow_links_out_of_the_folder(ws: Workspace,
                                                                     tmp_path: Path) -> None:
    """Before: os.walk(followlinks=True) copied whatever a link pointed to (151 MB once)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("not part of the model")
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "weights.bin").write_bytes(b"\x00" * 100)
    (model_dir / "docs").symlink_to(outside, target_is_directory=True)
    (model_dir / "secret.txt").symlink_to(outside / "secret.txt")
    (model_dir / "inside.bin").symlink_to(model_dir / "weights.bin")
    with pytest.warns(SkippedFilesWarning, match="docs"):
        model = Model.register(ws, model_dir, "linked")
    copied = sorted(p.relative_to(model.local_path).as_posix()
                    for p in model.local_path.rglob("*"))
    assert copied == ["inside.bin", "weights.bin"]


# -- attack 1: one bad value ---------------------------------------------------------------------
def test_an_oversized_int_is_refused_and_loses_nothing_else(exp: Experiment) -> None:
    """Before: 10**5000 broke the flush after the queue was taken: every run lost its values."""
    first, second = exp.start_logging(), exp.start_logging()
    first.log("before", 1)
    with pytest.raises(MetricError, match="大きすぎ"):
        first.log("big", 10**5000)
    with pytest.raises(MetricError, match="大きすぎ"):
        first.log_list("bigs", [1, 10**5000])
    second.log("accuracy", 0.97)
    first.log("after", 2)
    first.complete()
    second.complete()
    assert first.get_metrics() == {"before": 1, "after": 2}
    assert second.get_metrics() == {"accuracy": 0.97}


# -- attack 2: interrupted completion -----------------------------------------------------------
def test_an_interrupted_complete_can_be_completed_again(exp: Experiment, scratch: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: Ctrl-C in complete() left 168 of 3,000 files and the run said Completed."""
    from amlhandson.core import _artifacts

    run = exp.start_logging()
    run.log("kept", 1)
    outputs = scratch / "outputs"
    for i in range(300):
        (outputs / f"f{i:03d}.txt").write_text(str(i))
    original = _artifacts.store_file
    calls = {"n": 0}

    def interrupted(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls["n"] += 1
        if calls["n"] == 120:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(_artifacts, "store_file", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run.complete()
    assert run.get_status() == "Finalizing"
    error = run.get_details()["error"]["error"]
    assert error["code"] == "CompletionInterrupted" and "complete()" in error["message"]
    assert len(run.get_file_names()) == 119
    monkeypatch.setattr(_artifacts, "store_file", original)
    run.complete()
    assert run.get_status() == "Completed"
    assert len(run.get_file_names()) == 300 and run.get_metrics() == {"kept": 1}


def test_a_failed_upload_keeps_the_run_open_with_the_reason(exp: Experiment, scratch: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    from amlhandson.core import _artifacts

    run = exp.start_logging()
    (scratch / "outputs" / "model.pkl").write_bytes(b"m")
    original = _artifacts.store_file

    def broken(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise IsADirectoryError(21, "Is a directory")

    monkeypatch.setattr(_artifacts, "store_file", broken)
    with pytest.raises(IsADirectoryError):
        run.complete()
    assert run.get_status() == "Finalizing"
    assert "IsADirectoryError" in run.get_details()["error"]["error"]["message"]
    monkeypatch.setattr(_artifacts, "store_file", original)
    run.complete()
    assert run.get_status() == "Completed" and run.get_file_names() == ["outputs/model.pkl"]


# -- attack 3: reopened runs ------------------------------------------------------------------
def test_a_run_reopened_in_another_process_keeps_values_when_killed(exp: Experiment) -> None:
    """Before: Run(exp, id) had no background flusher; a kill lost everything logged."""
    run = exp.start_logging()
    code = """
        import sys, time
        from amlhandson import Workspace, Experiment, Run
        ws = Workspace.get("docs-ws", resource_group="docs-aml")
        run = Run(Experiment(ws, sys.argv[2]), sys.argv[1])
        for i in range(100):
            run.log("remote", i)
        print("logged", flush=True)
        time.sleep(60)
    """
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), run.id, exp.name],
                            env=_env(), stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "logged"
        time.sleep(1.0)  # several flush intervals
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        proc.kill()
    assert run.get_metrics()["remote"] == list(range(100))
    run.complete()


def test_logging_to_a_finished_run_is_recorded_with_a_warning(exp: Experiment) -> None:
    """Before: accepted silently. v1 code logs after complete(); we record it and say so."""
    run = exp.start_logging()
    run.log("a", 1)
    run.complete()
    with pytest.warns(RunStateWarning, match="Completed"):
        run.log("a", 2)
    with pytest.warns(RunStateWarning, match="Completed"):
        Run(exp, run.id).log("b", 1)
    assert run.get_metrics() == {"a": [1, 2], "b": 1}
    assert run.get_status() == "Completed"


# -- attack 4: full disk -----------------------------------------------------------------------
@pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "darwin",
                    reason="RLIMIT_FSIZE on Linux")
def test_a_full_disk_says_so_and_keeps_what_was_committed(ws: Workspace) -> None:
    """Before: "cannot rollback - no transaction is active", and later 0 metrics."""
    code = """
        import resource, sys
        from amlhandson import Workspace, Experiment
        from amlhandson.exceptions import DiskFullError
        ws = Workspace.get("docs-ws", resource_group="docs-aml")
        run = Experiment(ws, "full-disk").start_logging(run_id="full-disk-run")
        for i in range(100):
            run.log("committed", i)
        run.flush()
        db = ws.path / "workspace.db"
        wal = ws.path / "workspace.db-wal"
        size = max(db.stat().st_size, wal.stat().st_size if wal.exists() else 0)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size + 8192, size + 8192))
        try:
            for i in range(20000):
                run.log("committed", i)
                run.log("lost", "x" * 1000)
            run.flush()
        except DiskFullError as exc:
            print("DISKFULL", exc)
        else:
            print("NO ERROR")
    """
    proc = _run_script(code)
    assert "DISKFULL" in proc.stdout and "ディスクがいっぱい" in proc.stdout, proc.stderr
    assert "cannot rollback" not in proc.stdout + proc.stderr
    run = Run(Experiment(ws, "full-disk"), "full-disk-run")
    assert run.get_metrics(name="committed")["committed"][:100] == list(range(100))


@pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "darwin",
                    reason="RLIMIT_FSIZE on Linux")
def test_a_full_disk_while_saving_files_says_so_and_keeps_the_old_ones(
        ws: Workspace, tmp_path: Path) -> None:
    """Before: a raw ``OSError: [Errno 27] File too large`` from upload_file and the registers."""
    small = tmp_path / "small.txt"
    small.write_text("kept")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(256 * 1024))
    code = f"""
        import resource
        from amlhandson import Experiment, Workspace
        from amlhandson.core.environment import Environment
        from amlhandson.core.model import Model
        from amlhandson.exceptions import DiskFullError
        ws = Workspace.get("docs-ws", resource_group="docs-aml")
        run = Experiment(ws, "full-disk-files").start_logging(run_id="files-run")
        run.upload_file("outputs/small.txt", {str(small)!r})
        run.flush()
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, hard))
        for what, call in [
                ("UPLOAD", lambda: run.upload_file("outputs/big.bin", {str(big)!r})),
                ("MODEL", lambda: Model.register(ws, model_path={str(big)!r},
                                                 model_name="full-disk-model")),
                ("ENV", lambda: Environment("full-disk-env").register(ws))]:
            if what == "ENV":
                resource.setrlimit(resource.RLIMIT_FSIZE, (16, hard))
            try:
                call()
            except DiskFullError as exc:
                print(what, "DISKFULL", exc)
            else:
                print(what, "NO ERROR")
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        run.complete()
    """
    proc = _run_script(code)
    assert proc.returncode == 0, proc.stderr
    assert "UPLOAD DISKFULL ディスクがいっぱいで" in proc.stdout and "big.bin" in proc.stdout, \
        proc.stdout + proc.stderr
    assert "ENV DISKFULL ディスクがいっぱいで" in proc.stdout, proc.stdout + proc.stderr
    assert "MODEL DISKFULL ディスクがいっぱいで" in proc.stdout, proc.stdout + proc.stderr
    assert Model.list(ws, name="full-disk-model") == []
    assert not list((ws.path / "models").glob(".staging-*"))
    run = Run(Experiment(ws, "full-disk-files"), "files-run")
    assert run.get_file_names() == ["outputs/small.txt"]
    assert run.get_status() == "Completed"
    assert not [p for p in ws.path.rglob("*") if p.name.startswith(".amlhandson-tmp-")]
    assert not list((ws.path / "environments").rglob("*.json"))  # no half-written version


# -- attack 5: racing processes -------------------------------------------------------------------
def test_processes_creating_one_workspace_at_once(aml_home: Path) -> None:
    """Before: WAL setup said "database is locked" (1-6 in 200), and several "created" it."""
    code = """
        import sys
        from amlhandson import Workspace, Experiment
        from amlhandson.exceptions import UserErrorException
        try:
            ws = Workspace.create(sys.argv[1], resource_group="race", exist_ok=False,
                                  show_output=False)
            print("CREATED", ws.get_details()["workspaceid"])
        except UserErrorException as exc:
            assert "already exists" in str(exc), exc
            ws = Workspace.get(sys.argv[1], resource_group="race")
            print("EXISTS", ws.get_details()["workspaceid"])
        Experiment(ws, "e").start_logging().complete()
    """
    for round_ in range(3):
        procs = [subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), f"ws{round_}"],
                                  env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, cwd=aml_home.parent) for _ in range(8)]
        outputs = [p.communicate(timeout=120) for p in procs]
        assert all(p.returncode == 0 for p in procs), [e for _, e in outputs]
        lines = [o.strip() for o, _ in outputs]
        assert sum(line.startswith("CREATED") for line in lines) == 1, lines
        assert len({line.split()[1] for line in lines}) == 1  # one workspace id for everyone
        ws = Workspace.get(f"ws{round_}", resource_group="race")
        assert len(list(Experiment(ws, "e").get_runs())) == 8


# -- attack 6: damaged files ---------------------------------------------------------------------
def test_an_emptied_database_is_not_opened_as_an_empty_workspace(ws: Workspace) -> None:
    """Before: a 0-byte workspace.db opened as an empty workspace (every run silently gone)."""
    Experiment(ws, "e").start_logging().complete()
    Store.forget(ws.path)
    for suffix in ("-wal", "-shm"):
        Path(f"{ws.path / 'workspace.db'}{suffix}").unlink(missing_ok=True)
    (ws.path / "workspace.db").write_bytes(b"")
    with pytest.raises(StoreCorruptError, match="0 バイト"):
        Workspace.get("docs-ws", resource_group="docs-aml")
    assert cli(["workspace", "check", "-w", "docs-ws", "-g", "docs-aml"]) == 1


def test_a_damaged_database_is_reported_checked_and_repaired(ws: Workspace,
                                                             capsys: pytest.CaptureFixture
                                                             ) -> None:
    """Before: garbage after page 1 raised a raw sqlite3.DatabaseError."""
    exp = Experiment(ws, "damaged")
    for i in range(30):
        with exp.start_logging() as run:
            run.log("i", i)
            run.log("text", "x" * 3000)
    Store.forget(ws.path)
    db = ws.path / "workspace.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(db.read_bytes())
    page = 4096
    middle = (len(data) // page // 2) * page  # metric pages: runs and experiments survive
    for offset in range(middle, middle + 2 * page):
        data[offset] = 0x5A
    db.write_bytes(bytes(data))
    damaged_ws = Workspace.get("docs-ws", resource_group="docs-aml")
    with pytest.raises(StoreCorruptError, match="workspace repair"):
        for run in Experiment(damaged_ws, "damaged").get_runs():
            run.get_metrics()
    Store.forget(ws.path)
    assert cli(["workspace", "check", "-w", "docs-ws", "-g", "docs-aml"]) == 1
    assert "問題があります" in capsys.readouterr().out
    assert cli(["workspace", "repair", "-w", "docs-ws", "-g", "docs-aml", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "damaged-" in out and list(ws.path.glob("workspace.db.damaged-*"))
    assert cli(["workspace", "check", "-w", "docs-ws", "-g", "docs-aml"]) == 0
    repaired = Workspace.get("docs-ws", resource_group="docs-aml")
    runs = list(Experiment(repaired, "damaged").get_runs())
    assert len(runs) == 30  # the runs table was not hit
    values = [run.get_metrics().get("i") for run in runs]
    assert 0 < sum(v is not None for v in values) <= 30  # what was readable is back


def test_one_damaged_metric_row_leaves_the_rest_readable(exp: Experiment) -> None:
    """Before: a bare JSONDecodeError naming no run or metric, for every get_metrics()."""
    run = exp.start_logging()
    run.log("good", 1)
    run.log("bad", 2)
    run.log_list("words", ["a", "b"])
    run.complete()
    conn = sqlite3.connect(exp.workspace.path / "workspace.db")
    conn.execute("UPDATE metrics SET payload='[not json' WHERE name='words'")
    conn.commit()
    conn.close()
    with pytest.warns(StoreDamageWarning, match=run.id) as caught:
        metrics = run.get_metrics()
    assert metrics == {"good": 1, "bad": 2}
    assert "words" in str(caught[0].message) and "workspace check" in str(caught[0].message)


# -- attack 7: smaller ones ------------------------------------------------------------------------
def test_table_columns_that_collide_as_text_are_refused(exp: Experiment) -> None:
    run = exp.start_logging()
    with pytest.raises(MetricError, match="同じ"):
        run.log_table("t", {1: [1, 2], "1": [3, 4]})
    run.complete()
    assert run.get_metrics() == {}


def test_longdouble_comes_back_as_a_float(exp: Experiment) -> None:
    np = pytest.importorskip("numpy")
    run = exp.start_logging()
    run.log("ld", np.longdouble(0.25))
    run.complete()
    assert run.get_metrics() == {"ld": 0.25}


@pytest.mark.parametrize("call", [
    lambda run: run.log("bad\udc80name", 1),
    lambda run: run.log("ok", "value\udc80"),
    lambda run: run.tag("key\udc80", "v"),
    lambda run: run.upload_file("file\udc80.txt", __import__("io").BytesIO(b"x")),
])
def test_lone_surrogates_get_a_clear_error(exp: Experiment, call) -> None:  # noqa: ANN001
    run = exp.start_logging()
    with pytest.raises((MetricError, ArtifactPathError), match="サロゲート"):
        call(run)
    run.complete()


def test_uploaded_names_are_normalised_and_temp_names_refused(exp: Experiment,
                                                             tmp_path: Path) -> None:
    run = exp.start_logging()
    source = tmp_path / "c"
    source.write_text("c")
    assert run.upload_file("./c", source) == "c"
    assert run.upload_file("a//b/./c.txt", source) == "a/b/c.txt"
    with pytest.raises(ArtifactPathError, match="一時ファイル"):
        run.upload_file(".amlhandson-tmp-x", source)
    assert run.get_file_names() == ["a/b/c.txt", "c"]
    run.complete()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_upload_folder_skips_pipes_and_links_out_with_a_warning(exp: Experiment,
                                                                tmp_path: Path) -> None:
    run = exp.start_logging()
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    os.mkfifo(folder / "pipe")
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    (folder / "link.txt").symlink_to(secret)
    with pytest.warns(SkippedFilesWarning) as caught:
        names = run.upload_folder("out", folder)
    assert names == ["out/a.txt"]
    message = str(caught[0].message)
    assert "pipe" in message and "link.txt" in message
    run.complete()


def test_a_big_file_is_copied_without_reading_it_into_memory(exp: Experiment,
                                                             tmp_path: Path) -> None:
    """Before: upload_file read the whole file (a 2 GB file: a bare MemoryError)."""
    big = tmp_path / "big.bin"
    with open(big, "wb") as fh:
        fh.truncate(64 * 1024 * 1024)
    run = exp.start_logging()
    tracemalloc.start()
    try:
        run.upload_file("outputs/big.bin", big)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024
    assert (run.local_path / "outputs/big.bin").stat().st_size == 64 * 1024 * 1024
    run.complete()


def test_warnings_module_is_quiet_for_good_folders(exp: Experiment, tmp_path: Path) -> None:
    run = exp.start_logging()
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "x.txt").write_text("x")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert run.upload_folder("f", tmp_path / "f") == ["f/x.txt"]
    run.complete()
