"""Processes that own runs and services: who they are, whether they live, stopping them.

A process is identified by its pid *and* its start time, so a pid reused by an
unrelated process after a crash is never taken for the original owner. Built on
psutil, so it works the same on Linux, macOS and Windows.

Example:
    >>> me = current()
    >>> is_alive(me.pid, me.started)
    True
    >>> is_alive(me.pid, me.started - 3600)   # same pid, another start time: not ours
    False
"""

from __future__ import annotations

import os
import socket
import subprocess
from dataclasses import dataclass

__all__ = ["HOST", "ProcessId", "current", "started_at", "is_alive", "terminate",
           "START_TOLERANCE"]

#: This machine's name, stored with runs so other machines know they cannot check the pid.
HOST = socket.gethostname()
#: Seconds two start times may differ and still be the same process (clock granularity).
START_TOLERANCE = 1.0


@dataclass(frozen=True)
class ProcessId:
    """A process: pid, start time (Unix seconds) and host.

    Example:
        >>> current().host == HOST
        True
    """

    pid: int
    started: float | None
    host: str = HOST


def started_at(pid: int) -> float | None:
    """When process ``pid`` started, or ``None`` if there is no such process.

    Example:
        >>> started_at(os.getpid()) is not None
        True
    """
    import psutil

    try:
        return psutil.Process(pid).create_time()
    except psutil.NoSuchProcess:
        return None
    except psutil.AccessDenied:
        return None


_me: ProcessId | None = None


def current() -> ProcessId:
    """This process (computed once per process; a forked child gets its own).

    Example:
        >>> current().pid == os.getpid()
        True
    """
    global _me
    if _me is None or _me.pid != os.getpid():
        _me = ProcessId(os.getpid(), started_at(os.getpid()))
    return _me


def is_alive(pid: int | None, started: float | None) -> bool:
    """Whether ``pid`` is running and is the process that started at ``started``.

    With ``started=None`` only the pid is checked. A zombie counts as dead. When
    the system refuses to tell (another user's process), it is assumed alive.

    Example:
        >>> is_alive(None, None)
        False
    """
    import psutil

    if not pid:
        return False
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return started is None or abs(proc.create_time() - started) < START_TOLERANCE
    except psutil.NoSuchProcess:  # includes ZombieProcess
        return False
    except psutil.AccessDenied:
        return True


def terminate(pid: int | None, started: float | None, timeout: float = 5.0, *,
              group: bool = False, child: subprocess.Popen | None = None) -> bool:
    """Stop a process politely (SIGTERM), then firmly (SIGKILL) after ``timeout`` seconds.

    ``group=True`` signals the whole process group (POSIX) the process leads.
    Nothing happens when ``pid`` is gone or now belongs to another process.
    ``child`` is the ``Popen`` that started it, so it is reaped. Returns whether a
    signal was sent.

    Example:
        >>> terminate(None, None)
        False
    """
    import signal

    import psutil

    if not is_alive(pid, started):
        if child is not None:
            child.poll()
        return False
    assert pid is not None
    use_group = group and os.name != "nt" and _pgid(pid) == pid
    for sig in (signal.SIGTERM, getattr(signal, "SIGKILL", signal.SIGTERM)):
        try:
            if use_group:
                os.killpg(pid, sig)
            elif sig == signal.SIGTERM:
                psutil.Process(pid).terminate()
            else:
                psutil.Process(pid).kill()
        except (ProcessLookupError, psutil.NoSuchProcess):
            break
        if _wait(pid, timeout, child):
            break
    return True


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None


def _wait(pid: int, timeout: float, child: subprocess.Popen | None) -> bool:
    import psutil

    if child is not None and child.pid == pid:
        try:
            child.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True
    try:
        psutil.Process(pid).wait(timeout)
    except psutil.TimeoutExpired:
        return False
    except psutil.NoSuchProcess:
        pass
    return True
