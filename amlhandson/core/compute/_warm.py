"""Starting trial scripts without paying Python's start-up each time: the runner's side of the warm launcher.

A fresh ``python script.py`` spends 1.5-2 s importing numpy, scikit-learn and
amlhandson before the script does anything. Each process that runs trials (a
Dask worker, or the notebook for ``'local'``) therefore keeps one warm launcher
(:mod:`._forkserver`) that has imported them once and forks a child per trial.
The child is still a separate process in its own session, so everything else
stays as in v1: its own working folder, arguments and environment, output
captured, killed with its process group by ``cancel()`` or an early-termination
policy, exit code deciding the status.

:func:`spawn` returns a :class:`WarmProcess` (the parts of ``subprocess.Popen``
the runner uses: ``pid``, ``stdout``, ``wait``, ``poll``, ``returncode``) or
``None`` when the trial must start the plain way:

* no ``fork`` (Windows), or ``AMLHANDSON_WARM=0``;
* the trial sets a variable that libraries read when they are imported
  (``OMP_*``, ``MKL_*``, ``OPENBLAS_*``, ``MPLBACKEND``, ``PYTHON*`` ...) to a value
  other than the launcher's: the pre-imported libraries could not honour it (when
  this process's own environment changed, e.g. starting a Dask ``LocalCluster`` sets
  ``OMP_NUM_THREADS=1`` here, a new launcher replaces the old one instead);
* the launcher is not ready within :data:`READY_TIMEOUT` or has died.

``AMLHANDSON_WARM_PRELOAD=a,b`` adds modules to import up front (the defaults are
:data:`PRELOAD`); the launcher also learns what trials import (see :mod:`._forkserver`).

Example:
    >>> proc = spawn("train.py", ["--k", "3"], "/tmp/work", dict(os.environ), out_w, pipe_w)  # doctest: +SKIP
    >>> proc.wait() if proc is not None else None  # doctest: +SKIP
    0
"""

from __future__ import annotations

import array
import contextlib
import json
import os
import select
import socket
import subprocess
import sys
import threading
import time
from typing import Any, BinaryIO

__all__ = ["WarmProcess", "spawn", "prewarm", "enabled", "shutdown", "PRELOAD", "READY_TIMEOUT"]

#: Imported by every launcher before its first trial.
PRELOAD = ("amlhandson.core", "amlhandson.core._script_context", "amlhandson.core.compute._host",
           "numpy", "sklearn", "sklearn.base", "sklearn.utils", "joblib")
#: Seconds a trial waits for a launcher that is still importing.
READY_TIMEOUT = 20.0
#: Environment variables read when libraries are imported (prefixes).
IMPORT_TIME_VARS = ("OMP_", "MKL_", "OPENBLAS_", "BLIS_", "NUMEXPR_", "VECLIB_", "GOTO_",
                    "KMP_", "MPLBACKEND", "PYTHON", "LD_", "DYLD_", "MALLOC_", "NUMBA_",
                    "SKLEARN_", "JOBLIB_", "CUDA_", "TF_", "XLA_", "AMLHANDSON_WARM")
#: Variables the child sets itself (its output streams are always unbuffered UTF-8).
_CHILD_SETS = frozenset({"PYTHONUNBUFFERED", "PYTHONIOENCODING"})


def enabled() -> bool:
    """Whether trials may start through a warm launcher in this process.

    Example:
        >>> isinstance(enabled(), bool)
        True
    """
    return hasattr(os, "fork") and os.environ.get("AMLHANDSON_WARM", "1") != "0"


class WarmProcess:
    """A trial forked by the launcher: ``Popen``'s ``pid``, ``stdout``, ``wait``, ``poll``, ``returncode``."""

    def __init__(self, pid: int, reply: socket.socket, stdout: BinaryIO,
                 on_end: Any = None) -> None:
        self.pid = pid
        self.stdout = stdout
        self.returncode: int | None = None
        self._on_end = on_end
        self._reply = reply
        self._buffer = b""
        self._lock = threading.Lock()
        self.args = ["<warm>", str(pid)]

    def _read(self, timeout: float | None) -> bool:
        """Read the launcher's ``{"rc": ...}``; ``True`` once known."""
        if self.returncode is not None:
            return True
        with self._lock:
            deadline = None if timeout is None else time.monotonic() + timeout
            self._parse()
            while self.returncode is None:
                wait = None if deadline is None else max(0.0, deadline - time.monotonic())
                ready, _, _ = select.select([self._reply], [], [], wait)
                if not ready:
                    return False
                try:
                    chunk = self._reply.recv(4096)
                except OSError:
                    chunk = b""
                if not chunk:  # the launcher died: its child was killed with it
                    self.returncode = -9
                    break
                self._buffer += chunk
                self._parse()
            self._reply.close()
            on_end, self._on_end = self._on_end, None
            if on_end is not None:
                on_end()
            return True

    def _parse(self) -> None:
        while b"\n" in self._buffer and self.returncode is None:
            line, _, self._buffer = self._buffer.partition(b"\n")
            message = json.loads(line)
            if "rc" in message:
                self.returncode = int(message["rc"])

    def poll(self) -> int | None:
        """The exit code, or ``None`` while the trial runs."""
        self._read(0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the end; ``subprocess.TimeoutExpired`` after ``timeout`` seconds."""
        if not self._read(timeout):
            raise subprocess.TimeoutExpired(self.args, timeout or 0)
        assert self.returncode is not None
        return self.returncode


class _Launcher:
    def __init__(self, preload: list[str], deny: list[str]) -> None:
        self.control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.env = dict(os.environ)
        self.ready = threading.Event()
        self.finished = threading.Event()  # set once its output ended and it was reaped
        self.denied: list[str] = []
        self.running = 0  # trials forked and not yet ended
        self._send_lock = threading.Lock()
        cmd = [sys.executable, "-m", "amlhandson.core.compute._forkserver", str(theirs.fileno()),
               "--preload", ",".join(preload), "--deny", ",".join(deny)]
        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         pass_fds=(theirs.fileno(),), start_new_session=True,
                                         env=self.env)
        finally:
            theirs.close()
        threading.Thread(target=self._watch, daemon=True, name="amlhandson-warm-launcher").start()

    def _watch(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").strip()
            if line == "ready":
                self.ready.set()
            elif line.startswith("deny "):
                self.denied.append(line[5:])
        self.proc.wait()
        self.finished.set()

    def alive(self) -> bool:
        return not self.finished.is_set()

    def wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self.ready.wait(0.05):
            if not self.alive() or time.monotonic() > deadline:
                return False
        return self.alive()

    def spawn(self, request: dict[str, Any], fds: list[int]) -> tuple[int, socket.socket, bytes] | None:
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            data = json.dumps(request).encode()
            with self._send_lock:
                self.control.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                               array.array("i", [theirs.fileno(), *fds]))])
        except OSError:
            mine.close()
            return None
        finally:
            theirs.close()
        mine.settimeout(10)
        buffer = b""
        try:
            while b"\n" not in buffer:
                chunk = mine.recv(4096)
                if not chunk:
                    raise OSError("launcher closed the reply")
                buffer += chunk
        except OSError:
            mine.close()
            return None
        line, _, rest = buffer.partition(b"\n")
        mine.settimeout(None)
        return int(json.loads(line)["pid"]), mine, rest

    def close(self) -> None:
        with contextlib.suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()  # end of file: the launcher kills its children and exits
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(5)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.control.close()


_launcher: _Launcher | None = None
#: Launchers replaced after this process's environment changed, kept until their trials end.
_retired: list[_Launcher] = []
_deny: list[str] = []
_lock = threading.Lock()
_failures = 0
#: Launchers that may die before warm starts are given up in this process.
MAX_FAILURES = 3


def _preload() -> list[str]:
    extra = [n.strip() for n in os.environ.get("AMLHANDSON_WARM_PRELOAD", "").split(",")
             if n.strip()]
    return [*PRELOAD, *extra]


def _current() -> _Launcher | None:
    global _launcher, _failures
    with _lock:
        launcher = _launcher
        if launcher is not None and not launcher.alive():
            if launcher.denied:  # a learned import started threads: start again without it
                _deny.extend(d for d in launcher.denied if d not in _deny)
            else:
                _failures += 1
            with contextlib.suppress(OSError):
                launcher.control.close()
            launcher = _launcher = None
        if launcher is not None and _differs(dict(os.environ), launcher.env):
            # e.g. starting a Dask LocalCluster sets OMP_NUM_THREADS=1 in this process: the
            # pre-imported libraries were loaded with the old value, so start a new launcher
            _retired.append(launcher)
            launcher = _launcher = None
        for old in [r for r in _retired if r.running == 0]:
            _retired.remove(old)
            old.close()
        if launcher is None and _failures < MAX_FAILURES:
            launcher = _launcher = _Launcher(_preload(), _deny)
        return launcher


def prewarm() -> bool:
    """Start this process's launcher in the background (a Dask worker calls it at cluster start).

    Example:
        >>> prewarm()  # doctest: +SKIP
        True
    """
    if not enabled():
        return False
    return _current() is not None


def _differs(env: dict[str, str], launcher_env: dict[str, str]) -> bool:
    keys = {k for k in (*env, *launcher_env) if k.startswith(IMPORT_TIME_VARS)} - _CHILD_SETS
    return any(env.get(k) != launcher_env.get(k) for k in keys)


def spawn(script: str, args: list[str], cwd: str | os.PathLike[str], env: dict[str, str],
          pipe_w: int, ready_timeout: float = READY_TIMEOUT) -> WarmProcess | None:
    """Fork the trial from this process's launcher, or ``None`` (start it the plain way).

    ``pipe_w`` (the write end of the ``Run.get_context()`` pipe) is handed to the
    child; the caller keeps and closes its own copy either way. The child's stdout
    and stderr arrive on the returned process's ``stdout``.
    """
    if not enabled():
        return None
    launcher = _current()
    if launcher is None or _differs(env, launcher.env):
        return None
    if not launcher.wait_ready(ready_timeout):
        return None
    request = {"script": script, "args": [str(a) for a in args], "cwd": os.fspath(cwd),
               "env": env}
    out_r, out_w = os.pipe()
    try:
        started = launcher.spawn(request, [out_w, pipe_w])
    finally:
        os.close(out_w)
    if started is None:
        os.close(out_r)
        return None
    pid, reply, rest = started
    with _lock:
        launcher.running += 1

    def ended() -> None:
        with _lock:
            launcher.running -= 1

    proc = WarmProcess(pid, reply, os.fdopen(out_r, "rb"), on_end=ended)
    proc._buffer = rest
    return proc


def shutdown() -> None:
    """Stop this process's launcher (its running trials are killed).

    Example:
        >>> shutdown()
    """
    global _launcher
    with _lock:
        launchers = [_launcher, *_retired]
        _launcher = None
        _retired.clear()
    for launcher in launchers:
        if launcher is not None:
            launcher.close()
