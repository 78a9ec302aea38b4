"""The warm launcher: one process per worker that has imported the heavy libraries and forks a trial.

Started by :mod:`._warm` as ``python -m amlhandson.core.compute._forkserver FD``
(POSIX only). It imports numpy, scikit-learn, amlhandson and whatever earlier
trials imported, then waits. For each trial the runner sends one datagram on
the control socket ``FD``: a JSON request (script, arguments, working folder,
environment) with three file descriptors attached (a reply socket, the write
end of the trial's output pipe, the write end of its ``Run.get_context()``
pipe). The launcher forks a child that

* starts its own session (the runner kills its process group, as before),
* takes the output pipe as stdout and stderr, ``/dev/null`` as stdin,
* replaces its environment, working folder and ``sys.argv`` with the trial's and
  puts the script's folder first on ``sys.path`` (the launcher keeps the runner's
  folder off it), re-seeds numpy's global random state, forgets pre-imported
  modules that a file of the script's folder would shadow,
* runs the script with :func:`._host.main` (``runpy``, exactly as a fresh
  ``python script.py``), then the exit handlers, and exits with its code.

The launcher answers ``{"pid": ...}`` on the reply socket at once and
``{"rc": ...}`` when the child has ended (``rc`` like ``Popen.returncode``:
negative for a signal). If the runner closes its end first, the child is
killed. When the launcher's stdin (a pipe the runner holds) reaches end of file,
the runner is gone: every child is killed and the launcher exits.

Learning: each child reports the library modules (site-packages and standard
library only) it imported that the launcher did not have; the launcher imports
them while no trial runs, so the next trial finds them ready. A library that
starts threads when imported would make later forks unsafe: the launcher then
prints ``deny <module>`` and exits, and the runner starts a new launcher
without it.

Example (what the runner executes)::

    python -m amlhandson.core.compute._forkserver 5 --preload numpy,sklearn
"""

from __future__ import annotations

import argparse
import array
import io
import json
import os
import select
import signal
import socket
import sys
import sysconfig
import threading
import traceback
import warnings
from typing import Any

__all__ = ["main", "library_modules"]

_MAX_REQUEST = 1 << 20
_INT = array.array("i")
#: Top-level packages never imported by learning (GUIs, kernels, Dask's own threads).
NEVER_LEARN = frozenset({"tkinter", "IPython", "ipykernel", "dask", "distributed", "tornado",
                         "amlhandson", "pytest", "_pytest", "__main__", "__mp_main__"})


def _library_roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    roots = {os.path.realpath(paths[k]) for k in ("stdlib", "platstdlib", "purelib", "platlib")
             if paths.get(k)}
    return tuple(sorted(r + os.sep for r in roots))


def library_modules(names: list[str], roots: tuple[str, ...] | None = None) -> list[str]:
    """The names among ``names`` whose module file lies in site-packages or the standard library.

    Example:
        >>> import json.decoder
        >>> library_modules(["json.decoder", "no.such.module"])
        ['json.decoder']
    """
    roots = roots or _library_roots()
    found = []
    for name in names:
        if name.partition(".")[0] in NEVER_LEARN:
            continue
        module = sys.modules.get(name)
        path = getattr(module, "__file__", None)
        if isinstance(path, str) and os.path.realpath(path).startswith(roots):
            found.append(name)
    return found


# -- the child ---------------------------------------------------------------------------------
def _stream(fd: int) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.FileIO(fd, "w", closefd=False), encoding="utf-8",
                            errors="backslashreplace", line_buffering=True, write_through=True)


def _forget_shadowed(folder: str) -> None:
    """Drop pre-imported top-level modules that a file or package in ``folder`` would shadow."""
    try:
        local = {n[:-3] if n.endswith(".py") else n for n in os.listdir(folder)
                 if n.endswith(".py") or os.path.isfile(os.path.join(folder, n, "__init__.py"))}
    except OSError:
        return
    for name in list(sys.modules):
        if name.partition(".")[0] in local:
            del sys.modules[name]


def _reseed() -> None:
    numpy = sys.modules.get("numpy")
    if numpy is not None:  # a fresh interpreter seeds from the OS; so does each trial
        numpy.random.seed()


def _join_threads() -> None:
    main = threading.main_thread()
    for thread in threading.enumerate():
        if thread is not main and not thread.daemon:
            thread.join()


def _child(request: dict[str, Any], out_fd: int, pipe_fd: int, report_fd: int) -> int:
    """Everything after the fork in the child; returns the exit code (see the module docstring)."""
    from . import _host

    os.setsid()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(out_fd, 1)
    os.dup2(out_fd, 2)
    os.close(out_fd)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115 - fd 0 is /dev/null now
    sys.stdout, sys.stderr = _stream(1), _stream(2)
    os.chdir(request["cwd"])
    env = {str(k): str(v) for k, v in request["env"].items()}
    env["AMLHANDSON_RUN_PIPE"] = str(pipe_fd)
    os.environ.clear()
    os.environ.update(env)
    _reseed()
    script = os.path.abspath(request["script"])
    _forget_shadowed(os.path.dirname(script))
    before = set(sys.modules)
    code = 1
    try:
        code = _host.main([request["script"], *request["args"]])
        _join_threads()
    finally:
        try:
            import atexit

            atexit._run_exitfuncs()
        except BaseException:  # noqa: BLE001 - like the interpreter, print and go on
            traceback.print_exc()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        try:
            learned = library_modules(sorted(set(sys.modules) - before))
            os.write(report_fd, ("\n".join(learned) + "\n").encode())
        except OSError:
            pass
    return code


# -- the launcher ------------------------------------------------------------------------------
class _Trial:
    def __init__(self, pid: int, reply: socket.socket, report: int) -> None:
        self.pid, self.reply, self.report = pid, reply, report
        self.report_data = b""


class Launcher:
    """The launcher's state and loop (see the module docstring)."""

    def __init__(self, control: socket.socket) -> None:
        self.control = control
        self.trials: dict[int, _Trial] = {}
        self.reports: dict[int, _Trial] = {}  # report fd -> trial (open until the child closes it)
        self.learn: list[str] = []
        self.tried: set[str] = set()
        self.deny: set[str] = set()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)
        os.set_blocking(self.wake_r, False)

    def preload(self, names: list[str]) -> None:
        for name in names:
            self._import(name)

    def _denied(self, name: str) -> bool:
        return any(name == d or name.startswith(d + ".") for d in self.deny)

    def _import(self, name: str) -> None:
        if name in sys.modules or name in self.tried or self._denied(name):
            return
        self.tried.add(name)
        try:
            __import__(name)
        except BaseException:  # noqa: BLE001 - a module that cannot load is simply not warm
            return
        if threading.active_count() > 1:
            _say(f"deny {name}")
            self._kill_all()
            os._exit(3)

    # -- forking ----------------------------------------------------------------------------
    def _spawn(self, request: dict[str, Any], fds: list[int]) -> None:
        reply = socket.socket(fileno=fds[0])
        out_fd, pipe_fd = fds[1], fds[2]
        report_r, report_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child
            code = 1
            try:
                self._close_in_child(reply, report_r)
                code = _child(request, out_fd, pipe_fd, report_w)
            except BaseException:  # noqa: BLE001 - never return into the launcher's loop
                try:
                    traceback.print_exc()
                except BaseException:  # noqa: BLE001
                    pass
            finally:
                os._exit(code if isinstance(code, int) else 1)
        os.close(out_fd)
        os.close(pipe_fd)
        os.close(report_w)
        trial = _Trial(pid, reply, report_r)
        self.trials[pid] = trial
        self.reports[report_r] = trial
        try:
            reply.sendall(json.dumps({"pid": pid}).encode() + b"\n")
        except OSError:
            self._kill(pid)

    def _close_in_child(self, reply: socket.socket, report_r: int) -> None:
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        self.control.close()
        reply.close()
        for trial in self.trials.values():
            trial.reply.close()
        for fd in [report_r, self.wake_r, self.wake_w, *self.reports]:
            try:
                os.close(fd)
            except OSError:
                pass

    def _kill(self, pid: int) -> None:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass

    def _kill_all(self) -> None:
        for pid in list(self.trials):
            self._kill(pid)

    # -- events -----------------------------------------------------------------------------
    def _request(self) -> None:
        try:
            data, ancdata, _flags, _addr = self.control.recvmsg(
                _MAX_REQUEST, socket.CMSG_SPACE(3 * _INT.itemsize))
        except BlockingIOError:
            return
        fds: list[int] = []
        for level, kind, payload in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                usable = len(payload) - len(payload) % 4
                fds += list(memoryview(payload[:usable]).cast("i"))
        try:
            request = json.loads(data)
            ok = len(fds) == 3 and isinstance(request, dict) and {
                "script", "args", "cwd", "env"} <= set(request)
        except ValueError:
            ok = False
        if not ok:
            for fd in fds:
                os.close(fd)
            return
        self._spawn(request, fds)

    def _reap(self) -> None:
        while self.trials:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            trial = self.trials.pop(pid, None)
            if trial is None:
                continue
            rc = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
            try:
                trial.reply.sendall(json.dumps({"rc": rc}).encode() + b"\n")
            except OSError:
                pass
            trial.reply.close()

    def _read_report(self, fd: int) -> None:
        trial = self.reports[fd]
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            chunk = b""
        if chunk:
            trial.report_data += chunk
            return
        os.close(fd)
        del self.reports[fd]
        for name in trial.report_data.decode("utf-8", "replace").split():
            if name not in sys.modules and name not in self.tried and not self._denied(name):
                self.learn.append(name)

    def _runner_gone(self, trial: _Trial) -> None:
        try:
            data = trial.reply.recv(1)
        except OSError:
            data = b""
        if not data:
            self._kill(trial.pid)

    def run(self) -> None:
        """Serve requests until the runner closes stdin."""
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the runner stops us, not Ctrl-C
        self.control.setblocking(False)
        stdin = sys.stdin.fileno()
        while True:
            replies = {t.reply.fileno(): t for t in self.trials.values()
                       if t.reply.fileno() >= 0}
            watched = [stdin, self.control.fileno(), self.wake_r, *replies, *self.reports]
            timeout = 0.0 if (self.learn and not self.trials) else 1.0
            ready, _, _ = select.select(watched, [], [], timeout)
            if stdin in ready and not os.read(stdin, 4096):
                self._kill_all()
                return
            if self.wake_r in ready:
                try:
                    while os.read(self.wake_r, 512):
                        pass
                except BlockingIOError:
                    pass
            self._reap()
            for fd in ready:
                if fd in self.reports:
                    self._read_report(fd)
                elif fd in replies and replies[fd].pid in self.trials:
                    self._runner_gone(replies[fd])
            if self.control.fileno() in ready:
                self._request()
            if not ready and self.learn and not self.trials:
                self._import(self.learn.pop(0))


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``FD [--preload a,b,...] [--deny c,d,...]``."""
    parser = argparse.ArgumentParser(prog="amlhandson.core.compute._forkserver")
    parser.add_argument("fd", type=int)
    parser.add_argument("--preload", default="")
    parser.add_argument("--deny", default="")
    args = parser.parse_args(argv)
    if sys.path and os.path.abspath(sys.path[0] or ".") == os.getcwd():
        sys.path.pop(0)  # the runner's folder is not the trial's: each child puts its script's first
    # numpy's BLAS threads are fork-aware; Python's warning about forking them is noise here
    warnings.filterwarnings("ignore", category=DeprecationWarning, message=".*fork.*")
    launcher = Launcher(socket.socket(fileno=args.fd))
    launcher.deny.update(n for n in args.deny.split(",") if n)
    launcher.preload([n for n in args.preload.split(",") if n])
    if threading.active_count() > 1:
        _say("deny preload")
        return 3
    if not _say("ready"):
        return 0  # the runner is gone already
    launcher.run()
    return 0


def _say(line: str) -> bool:
    """One line to the runner; ``False`` if it is gone (its end of the pipe is closed)."""
    try:
        print(line, flush=True)
    except (BrokenPipeError, OSError):
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
