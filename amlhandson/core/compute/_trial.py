"""Running one submitted script where it runs (a Dask worker, or the notebook for ``'local'``).

:func:`run_trial` is what a Dask task executes (it must live in an importable
module: a function defined in ``__main__`` is pickled by value, and its kill
registry would be a different dict on the worker). It

1. unpacks the snapshot into a fresh working folder (never the notebook's),
2. checks the environment's packages against this Python (fails before the script
   starts, listing what is missing),
3. starts ``python -m amlhandson.core.compute._host SCRIPT ARGS`` in its own
   process group, with a pipe for ``Run.get_context()`` and stdout+stderr merged,
4. forwards the script's lines and its output to the notebook every 20 ms with
   consecutive sequence numbers (``emit(batch)``; on Dask ``Worker.log_event``),
   keeping a spool of everything sent,
5. returns ``{"status", "rc", "error", "last_seq", "spool", "outputs", ...}``: the
   compressed spool lets the notebook fill any gap, ``outputs`` is ``outputs/``
   zipped.

:func:`kill_trial` (called on the worker with ``client.run``) stops a running
script: SIGTERM to its process group, SIGKILL 0.5 s later; the trial then ends
Canceled with the given reason.

Example:
    >>> spec = {"run_id": "r1", "script": "train.py", "arguments": [], "snapshot": b""}  # doctest: +SKIP
    >>> run_trial(spec)["status"]  # doctest: +SKIP
    'Completed'
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import _warm
from ._packages import missing_packages

__all__ = ["run_trial", "kill_trial", "running_trials", "decode_spool", "TOPIC", "BATCH_INTERVAL"]

#: The Dask event topic that carries every trial's lines to the notebook.
TOPIC = "amlhandson-trials"
#: How often the runner forwards what it has (seconds).
BATCH_INTERVAL = 0.02
_MAX_BATCH = 5000

_lock = threading.Lock()
#: run id -> {"proc": Popen | _warm.WarmProcess | None (not started yet), "attempt", "reason"}
_RUNNING: dict[str, dict[str, Any]] = {}


def running_trials() -> list[str]:
    """Run ids of the scripts running in this process (for tests and the kill call)."""
    with _lock:
        return list(_RUNNING)


def _kill_group(proc: Any, sig: int) -> None:
    try:
        if os.name == "nt":
            proc.terminate()
        else:
            os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError, OSError):
        pass


def kill_trial(run_id: str, reason: str = "Canceled", grace: float = 0.5) -> bool:
    """Stop the script of ``run_id`` running in this process; ``True`` if there was one.

    Example:
        >>> kill_trial("no-such-run")
        False
    """
    with _lock:
        entry = _RUNNING.get(run_id)
        if entry is None:
            return False
        entry["reason"] = reason
        proc = entry["proc"]
    if proc is None:  # still preparing (unpacking, waiting for the launcher): it will not start
        return True
    _stop(proc, grace)
    return True


def _stop(proc: Any, grace: float) -> None:
    """SIGTERM to the script's process group, SIGKILL ``grace`` seconds later."""
    _kill_group(proc, signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        _kill_group(proc, getattr(signal, "SIGKILL", signal.SIGTERM))
        proc.wait(5)


class _Relay:
    """Collects the script's lines, numbers them, forwards them in batches and spools them."""

    def __init__(self, run_id: str, attempt: str, emit: Callable[[dict[str, Any]], None],
                 spool: Path) -> None:
        self.run_id, self.attempt, self._emit = run_id, attempt, emit
        self._lock = threading.Lock()
        self._pending: list[str] = []
        self._seq = 0
        self._spool = open(spool, "w", encoding="utf-8")  # noqa: SIM115
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="amlhandson-relay")
        self._thread.start()

    def add(self, line: str) -> None:
        with self._lock:
            self._pending.append(line)

    def add_message(self, message: dict[str, Any]) -> None:
        self.add(json.dumps(message, ensure_ascii=False))

    def _send(self) -> None:
        with self._lock:
            lines, self._pending = self._pending, []
        for start in range(0, len(lines), _MAX_BATCH):
            chunk = lines[start:start + _MAX_BATCH]
            first = self._seq + 1
            self._seq += len(chunk)
            self._spool.write("\n".join(chunk) + "\n")
            try:
                self._emit({"run": self.run_id, "attempt": self.attempt, "seq": first,
                            "lines": chunk})
            except Exception:  # noqa: BLE001 - the spool still has them; the notebook reconciles
                pass

    def _loop(self) -> None:
        while not self._stop.wait(BATCH_INTERVAL):
            self._send()

    def close(self) -> tuple[int, bytes]:
        self._stop.set()
        self._thread.join()
        self._send()
        self._spool.close()
        data = Path(self._spool.name).read_bytes()
        return self._seq, zlib.compress(data, 1)


def _read_pipe(fd: int, relay: _Relay) -> None:
    with os.fdopen(fd, "rb") as stream:
        for raw in stream:
            relay.add(raw.decode("utf-8", "replace").rstrip("\n"))


def _read_output(stream: Any, relay: _Relay, echo: bool) -> None:
    for raw in iter(stream.readline, b""):
        text = raw.decode("utf-8", "replace")
        relay.add_message({"k": "log", "x": text})
        if echo:
            sys.stdout.write(text)


def _unpack(snapshot: bytes, folder: Path) -> None:
    if snapshot:
        with zipfile.ZipFile(io.BytesIO(snapshot)) as zf:
            for info in zf.infolist():  # names were checked when the snapshot was made
                target = (folder / info.filename).resolve()
                if folder.resolve() not in target.parents:
                    raise ValueError(f"unsafe path in snapshot: {info.filename!r}")
            zf.extractall(folder)


def _zip_folder(folder: Path) -> bytes:
    if not folder.is_dir():
        return b""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(folder).as_posix())
    return buf.getvalue()


def _where() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return "local"


def _default_emit() -> Callable[[dict[str, Any]], None]:
    from distributed import get_worker

    worker = get_worker()
    return lambda batch: worker.log_event(TOPIC, batch)


def _popen(spec: dict[str, Any], workdir: Path, env: dict[str, str]) -> tuple[Any, int]:
    """Start the script: forked by this process's warm launcher, else ``python -m ._host``."""
    read_fd, write_fd = os.pipe()
    if os.name != "nt":
        try:
            warm = _warm.spawn(spec["script"], spec.get("arguments", []), workdir, env, write_fd)
        except Exception:  # noqa: BLE001 - a launcher problem must never stop the trial
            warm = None
        if warm is not None:
            os.close(write_fd)
            return warm, read_fd
    kwargs: dict[str, Any] = {}
    if os.name == "nt":
        import msvcrt

        handle = msvcrt.get_osfhandle(write_fd)
        os.set_handle_inheritable(handle, True)
        env["AMLHANDSON_RUN_PIPE"] = str(handle)
        kwargs["close_fds"] = False
        kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
    else:
        env["AMLHANDSON_RUN_PIPE"] = str(write_fd)
        kwargs["pass_fds"] = (write_fd,)
        kwargs["start_new_session"] = True
    cmd = [sys.executable, "-u", "-m", "amlhandson.core.compute._host", spec["script"],
           *[str(a) for a in spec.get("arguments", [])]]
    try:
        proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kwargs)
    finally:
        os.close(write_fd)
    return proc, read_fd


def run_trial(spec: dict[str, Any], emit: Callable[[dict[str, Any]], None] | None = None,
              echo: bool = False) -> dict[str, Any]:
    """Run one submitted script to its end; see the module docstring for ``spec`` and the result.

    ``spec`` keys: ``run_id``, ``experiment``, ``script``, ``arguments``,
    ``snapshot`` (zip bytes), ``packages`` (``{"conda": [...], "pip": [...]}`` or
    ``None``), ``env`` (extra environment variables), ``timeout`` (seconds or ``None``).
    """
    emit = emit or _default_emit()
    run_id = spec["run_id"]
    attempt = uuid.uuid4().hex
    base = Path(tempfile.mkdtemp(prefix=f"amlhandson-{run_id[:40]}-"))
    workdir = base / "run"
    workdir.mkdir()
    relay = _Relay(run_id, attempt, emit, base / "spool.jsonl")
    started = time.time()
    relay.add_message({"k": "start", "worker": _where(), "host": socket.gethostname(),
                       "pid": os.getpid(), "attempt": attempt, "ts": started})
    result: dict[str, Any] = {"attempt": attempt, "rc": None, "status": "Failed", "error": None,
                              "outputs": b"", "worker": _where(), "host": socket.gethostname()}
    with _lock:  # from here on kill_trial() finds the trial, also before its process starts
        _RUNNING[run_id] = {"proc": None, "attempt": attempt, "reason": None}
    try:
        _unpack(spec.get("snapshot") or b"", workdir)
        missing = missing_packages(spec.get("packages"))
        if missing:
            result["error"] = {"code": "MissingPackages", "message": _missing_message(missing)}
            relay.add_message({"k": "log", "x": result["error"]["message"] + "\n"})
            return result
        env = dict(os.environ)
        env.update({k: str(v) for k, v in (spec.get("env") or {}).items()})
        env.update({"AMLHANDSON_RUN_ID": run_id, "AZUREML_RUN_ID": run_id,
                    "AMLHANDSON_EXPERIMENT": spec.get("experiment", ""),
                    "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8"})
        with _lock:
            reason = _RUNNING[run_id]["reason"]
        if reason is not None:  # killed while preparing: the script never starts
            result["status"] = "Canceled"
            result["error"] = {"code": "Canceled", "message": reason}
            return result
        proc, read_fd = _popen(spec, workdir, env)
        with _lock:
            _RUNNING[run_id]["proc"] = proc
            reason = _RUNNING[run_id]["reason"]
        if reason is not None:  # killed while the process was being started
            threading.Thread(target=_stop, args=(proc, 0.5), daemon=True).start()
        relay.add_message({"k": "running", "pid": proc.pid, "ts": time.time()})
        readers = [threading.Thread(target=_read_pipe, args=(read_fd, relay), daemon=True),
                   threading.Thread(target=_read_output, args=(proc.stdout, relay, echo),
                                    daemon=True)]
        for t in readers:
            t.start()
        timeout = spec.get("timeout")
        try:
            rc = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            kill_trial(run_id, f"max_run_duration_seconds ({timeout} 秒) を超えたため停止しました。")
            rc = proc.wait()
        for t in readers:
            t.join(10)
        with _lock:
            reason = _RUNNING.pop(run_id, {}).get("reason")
        result["rc"] = rc
        if reason is not None:
            result["status"] = "Canceled"
            result["error"] = {"code": "Canceled", "message": reason}
        elif rc == 0:
            result["status"] = "Completed"
        else:
            result["error"] = {"code": "ScriptError",
                               "message": f"スクリプトが終了コード {rc} で終わりました。"}
        result["outputs"] = _zip_folder(workdir / "outputs")
        return result
    finally:
        with _lock:
            _RUNNING.pop(run_id, None)
        result["last_seq"], result["spool"] = relay.close()
        result["duration"] = time.time() - started
        shutil.rmtree(base, ignore_errors=True)


def _missing_message(missing: list[str]) -> str:
    names = " ".join(missing)
    return (f"この Python ({sys.executable}) には、Run の環境に指定されたパッケージがありません: "
            f"{', '.join(missing)}。スクリプトは開始していません。ワーカーの Python に "
            f"`pip install {names}` でインストールしてから、もう一度 submit してください "
            "(v1 はここで Docker イメージを作りましたが、amlhandson はワーカーの Python をそのまま"
            "使います。docs/compute.md を参照)。")


def decode_spool(data: bytes) -> list[str]:
    """The lines of a compressed spool, in sequence order (line i has seq i + 1)."""
    if not data:
        return []
    return zlib.decompress(data).decode("utf-8").splitlines()
