"""Processes that own runs and services: who they are, whether they live, stopping them.

A process is identified by its pid *and* its start time, so a pid reused by an
unrelated process after a crash is never taken for the original owner. Built on
psutil, so it works the same on Linux, macOS and Windows.

On Linux the start time is a *stamp* that a change of the system clock cannot move
(an NTP correction when a laptop joins the wifi, a resume from sleep): the kernel's
start time in clock ticks since boot, placed on a line of its own for each boot
(``/proc/sys/kernel/random/boot_id``). psutil's ``create_time()`` is wall-clock time
computed from the current clock, so after a clock step every live process would
look like another one and its runs would be marked Failed. Stamps written as
wall-clock seconds (older releases, other systems) are still compared as such.

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
import sys
from dataclasses import dataclass

__all__ = ["HOST", "ProcessId", "current", "started_at", "is_alive", "terminate",
           "START_TOLERANCE"]

#: This machine's name, stored with runs so other machines know they cannot check the pid.
HOST = socket.gethostname()
#: Seconds two start times may differ and still be the same process (clock granularity).
START_TOLERANCE = 1.0


@dataclass(frozen=True)
class ProcessId:
    """A process: pid, start stamp (see :func:`started_at`) and host.

    Example:
        >>> current().host == HOST
        True
    """

    pid: int
    started: float | None
    host: str = HOST


#: Stamps at or above this are boot-anchored (Linux); below, wall-clock Unix seconds.
_BOOT_STAMPS = 1e12
#: Distance between two boots' lines of stamps (more than any uptime in seconds).
_BOOT_SPACING = 1e9


def _boot_anchor() -> float | None:
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as fh:
            boot = int(fh.read().strip().replace("-", ""), 16)
    except (OSError, ValueError):
        return None
    return _BOOT_STAMPS + (boot % 1_000_000) * _BOOT_SPACING


def _linux_stamp(pid: int) -> float | None:
    anchor = _boot_anchor()
    if anchor is None:
        return None
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rpartition(b")")[2].split()
        ticks = int(fields[19])  # field 22 of stat(5): starttime, clock ticks since boot
    except (OSError, ValueError, IndexError):
        return None
    return anchor + ticks / os.sysconf("SC_CLK_TCK")


def _wall_clock_start(pid: int) -> float | None:
    import psutil

    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def started_at(pid: int) -> float | None:
    """A stamp of when process ``pid`` started, or ``None`` if there is no such process.

    Compare stamps only with each other (:func:`is_alive`): on Linux they are not
    Unix times but clock-step-proof stamps (see the module's docstring).

    Example:
        >>> started_at(os.getpid()) == started_at(os.getpid())
        True
    """
    if os.path.isdir("/proc/self") and sys.platform.startswith("linux"):
        stamp = _linux_stamp(pid)
        if stamp is not None or not os.path.exists(f"/proc/{pid}"):
            return stamp
    return _wall_clock_start(pid)


def _same_start(pid: int, started: float) -> bool:
    now = _wall_clock_start(pid) if started < _BOOT_STAMPS else started_at(pid)
    return now is not None and abs(now - started) < START_TOLERANCE


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
        return started is None or _same_start(pid, started)
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
