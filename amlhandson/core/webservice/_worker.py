"""A score worker: one process that imports score.py, calls ``init()`` once, then ``run()``.

Started by the scoring server (:mod:`._pool`) as
``python -m amlhandson.core.webservice._worker server.json N``. Requests and
answers travel as frames (:mod:`._protocol`) over the process's stdin and
stdout; score.py's ``print`` goes to stderr, which the server copies into the
service log. The worker never opens a socket and needs no workspace.

Start-up, in order (v1's contract): chdir to the app folder, import score.py,
call ``init()``, check ``run()``'s signature, then send ``{"op": "ready"}``.
A failure sends ``{"op": "failed", "kind", "message", "traceback"}`` and
exits with v1's codes (3 for ``init()``, 2 for the script).

The main thread reads each frame and calls ``run()`` (or, with
``replica_max_concurrent_requests`` > 1, a reader thread feeds that many
threads). When the server goes away the worker exits at once, even in the
middle of a ``run()`` that never returns (a watcher thread checks the parent
process every second), so no worker outlives its server.

Example::

    python -m amlhandson.core.webservice._worker <service folder>/server.json 1

    >>> main([])  # doctest: +SKIP
    2
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import queue
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any, BinaryIO, NoReturn

from ...exceptions import AmlHandsOnError
from .. import _catalog
from ._protocol import ProtocolError, pack, read_frame
from ._scoring import ScoreHandler, ScoreScriptError, user_traceback
from ._settings import ServerSettings

__all__ = ["main", "EXIT_SCRIPT", "EXIT_INIT", "Channel"]

log = logging.getLogger("amlhandson.scoring")

EXIT_SCRIPT = 2
EXIT_INIT = 3  # v1's code for a failing init()


class Channel:
    """The worker's end of the frames: the original stdin/stdout, moved off fds 0 and 1.

    After :meth:`from_stdio`, ``print`` in score.py writes to stderr (the
    service log), and nothing score.py does can corrupt a frame.
    """

    def __init__(self, reader: BinaryIO, writer: BinaryIO) -> None:
        self.reader = reader
        self.writer = writer
        self._lock = threading.Lock()

    @classmethod
    def from_stdio(cls) -> Channel:
        """Take over stdin/stdout for frames; fd 1 becomes a copy of stderr, fd 0 /dev/null."""
        reader = os.fdopen(os.dup(0), "rb", buffering=1 << 16)
        writer = os.fdopen(os.dup(1), "wb", buffering=0)
        sys.stdout.flush()
        os.dup2(2, 1)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        return cls(reader, writer)

    def send(self, meta: dict[str, Any], body: bytes = b"") -> None:
        """Write one frame (thread-safe); exit if the server is gone."""
        frame = pack(meta, body)
        with self._lock:
            try:
                self.writer.write(frame)
            except OSError:
                os._exit(0)  # the server went away: nobody is waiting for answers


def _fail(channel: Channel, kind: str, code: int, message: str, tb: str = "") -> NoReturn:
    if kind == "init":
        log.error("User's init function failed")
    log.error("%s%s", message, ("\n" + tb) if tb else "")
    channel.send({"op": "failed", "kind": kind, "message": message, "traceback": tb,
                  "exit_code": code})
    logging.shutdown()
    sys.stderr.flush()
    os._exit(code)


def _load_script(channel: Channel, path: Path) -> ModuleType:
    name = path.stem
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    except FileNotFoundError:
        _fail(channel, "script", EXIT_SCRIPT, f"entry_script {path.name} がサービスのフォルダーに"
                                              "ありません。")
    except SyntaxError as exc:
        _fail(channel, "script", EXIT_SCRIPT,
              f"{path.name} の {exc.lineno} 行目に文法エラーがあります: {exc.msg}。"
              f"{path.name} を直してから service.reload() してください。", user_traceback(exc))
    except ModuleNotFoundError as exc:
        _fail(channel, "script", EXIT_SCRIPT,
              f"{path.name} が import しているモジュール {exc.name!r} がありません "
              f"(No module named {exc.name!r})。この Python に `pip install` するか、"
              f"{path.name} の import を直してください。", user_traceback(exc))
    except BaseException as exc:  # noqa: BLE001 - report anything score.py does at import
        _fail(channel, "script", EXIT_SCRIPT,
              f"{path.name} を読み込む (import する) ときに例外が起きました: "
              f"{type(exc).__name__}: {exc}", user_traceback(exc))
    return module


def start(settings: ServerSettings, app_dir: Path, channel: Channel) -> ScoreHandler:
    """Import score.py, call ``init()``, check ``run()``; report a failure and exit."""
    os.chdir(app_dir)
    sys.path.insert(0, str(app_dir))
    script = settings.entry_script
    # -- amlhandson.compat (issue 13): a v1 score.py runs unmodified when the deploying
    # process had the compatibility layer on (it passes AMLHANDSON_COMPAT down).
    if os.environ.get("AMLHANDSON_COMPAT"):
        try:
            _catalog.resolve("compat_from_env")()
        except AmlHandsOnError as exc:
            _fail(channel, "script", EXIT_SCRIPT, str(exc))
    # -- end amlhandson.compat
    module = _load_script(channel, app_dir / script)
    init = getattr(module, "init", None)
    run = getattr(module, "run", None)
    if run is None:
        _fail(channel, "script", EXIT_SCRIPT, f"{script} に run() がありません。"
                                              "def run(raw_data): ... を定義してください。")
    if init is None:
        log.warning("%s has no init(): nothing is loaded at start-up.", script)
    else:
        began = time.perf_counter()
        try:
            init()
        except BaseException as exc:  # noqa: BLE001 - SystemExit in init() is a failure too
            _fail(channel, "init", EXIT_INIT,
                  f"{script} の init() が例外を出しました: {type(exc).__name__}: {exc}",
                  user_traceback(exc))
        log.info("init() finished in %.2f s", time.perf_counter() - began)
    handler = ScoreHandler(settings.name, max_depth=settings.max_json_depth,
                           max_int_digits=settings.max_int_digits)
    try:
        handler.load(run)
    except ScoreScriptError as exc:
        _fail(channel, "script", EXIT_SCRIPT, str(exc))
    return handler


def _read_requests(channel: Channel, inbox: queue.SimpleQueue) -> None:
    """Thread: move frames from the server into ``inbox``; exit the process when it is gone."""
    try:
        while True:
            frame = read_frame(channel.reader)
            if frame is None:
                break
            inbox.put(frame)
    except (OSError, ProtocolError) as exc:
        log.error("worker: cannot read from the scoring server (%s): exiting.", exc)
    logging.shutdown()
    os._exit(0)


def _watch_parent(parent: int) -> None:
    """Thread: exit when the server process is gone (even while ``run()`` never returns)."""
    import psutil

    while True:
        time.sleep(1.0)
        if (os.name != "nt" and os.getppid() != parent) or not psutil.pid_exists(parent):
            os._exit(0)


def _answer(handler: ScoreHandler, channel: Channel, meta: dict[str, Any], body: bytes) -> None:
    try:
        status, headers, content = handler.handle(
            meta.get("method", "POST"), body, query=meta.get("query"),
            headers=meta.get("headers"))
    except Exception as exc:  # noqa: BLE001 - the client gets an answer whatever happens
        log.error("Unexpected error while scoring:\n%s", user_traceback(exc))
        status, headers = 500, [("Content-Type", "text/plain; charset=utf-8")]
        content = (f"An unexpected internal error occurred. {type(exc).__name__}: {exc}"
                   ).encode("utf-8", "replace")
    channel.send({"op": "reply", "id": meta.get("id"), "status": status, "headers": headers},
                 content)


def serve(handler: ScoreHandler, channel: Channel, settings: ServerSettings) -> int:
    """Answer requests until the server stops us (or ``max_requests_per_worker`` is reached).

    With one ``run()`` at a time (the default) the main thread reads each frame
    and answers it, with no hand-over between threads; a watcher thread ends
    the process if the server dies. With more, a reader thread feeds a pool.
    """
    channel.send({"op": "ready", "pid": os.getpid(), "takes_headers": handler.takes_headers,
                  "swagger": handler.swagger})
    threads = settings.replica_max_concurrent_requests
    pool = None
    if threads > 1:
        inbox: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=_read_requests, args=(channel, inbox), daemon=True,
                         name="amlhandson-requests").start()
        pool = ThreadPoolExecutor(threads, "amlhandson-run")
        next_frame = inbox.get
    else:
        threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True,
                         name="amlhandson-watch").start()

        def next_frame() -> tuple[dict[str, Any], bytes]:
            try:
                frame = read_frame(channel.reader)
            except (OSError, ProtocolError) as exc:
                log.error("worker: cannot read from the scoring server (%s): exiting.", exc)
                frame = None
            if frame is None:
                logging.shutdown()
                os._exit(0)
            return frame

    limit = settings.max_requests_per_worker
    served = 0
    while True:
        meta, body = next_frame()
        op = meta.get("op")
        if op == "stop":
            break
        if op != "score":
            log.warning("worker: unknown frame %r ignored", op)
            continue
        if pool is None:
            _answer(handler, channel, meta, body)
        else:
            pool.submit(_answer, handler, channel, meta, body)
        served += 1
        if limit and served >= limit:
            channel.send({"op": "retiring", "reason": f"max_requests_per_worker={limit}"})
            break
    if pool is not None:
        pool.shutdown(wait=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run one score worker for the ``server.json`` in ``argv[0]``."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print("usage: python -m amlhandson.core.webservice._worker server.json N", file=sys.stderr)
        return 2
    channel = Channel.from_stdio()
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format=f"%(asctime)s %(levelname)s worker {argv[1]}: %(message)s")
    config_path = Path(argv[0]).resolve()
    settings = ServerSettings.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
    handler = start(settings, (config_path.parent / settings.app_dir).resolve(), channel)
    return serve(handler, channel, settings)


if __name__ == "__main__":  # pragma: no cover - the process entry point
    sys.exit(main())
