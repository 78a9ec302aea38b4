"""The scoring server process: ``python -m amlhandson.core.webservice._server server.json``.

One process per web service (started detached by ``Model.deploy``, or as a
Docker image's command). It needs no workspace: everything is in
``server.json`` (see :mod:`._settings`; paths relative to that file's folder).
It holds no user code: score.py runs in its worker processes (:mod:`._worker`),
which this process starts, feeds, times out and restarts (:mod:`._pool`), and
it answers HTTP itself (:mod:`._front` on uvicorn, :mod:`._http`).

Start-up, in order (v1's contract):

1. bind the socket (port 0 lets the system pick a free one) and write
   ``runtime.json`` (pid, host, port), so the port is known at once;
2. check each model's SHA-256;
3. start the first worker, which imports score.py and calls ``init()`` once
   (at most ``init_timeout_s``);
4. write ``runtime.json`` again with ``"ready": true`` and serve; the other
   workers start in the background.

Requests that arrive during 2-3 wait in the socket's backlog. Any failure in
1-3 is logged (v1's "User's init function failed" for ``init()``), written to
``failure.json`` as ``{"kind", "message", "traceback"}`` for the deploying
process to report, and ends the process (exit code 3 for ``init()``, as v1).
Later, ``runtime.json`` is rewritten whenever a worker starts, becomes ready or
exits (with the exit code and the restart count), which is what
``service.state`` reads.

With ``watch``, the process also ends by itself when ``server.json`` disappears
(the service was deleted, or its workspace folder removed), so no orphan keeps
a port open.

Example (what ``Model.deploy`` runs, detached)::

    python -m amlhandson.core.webservice._server <ws.path>/services/<name>/server.json

    >>> main([])  # doctest: +SKIP
    usage: python -m amlhandson.core.webservice._server server.json
    2
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

from ._logs import LogHandler, LogWriter
from ._settings import ServerSettings

__all__ = ["main", "EXIT_PORT", "EXIT_MODEL"]

log = logging.getLogger("amlhandson.scoring")

EXIT_PORT = 4
EXIT_MODEL = 5


class Startup:
    """``runtime.json`` and ``failure.json``: what the deploying process reads."""

    def __init__(self, base: Path, settings: ServerSettings) -> None:
        self.runtime_file = base / settings.runtime_file if settings.runtime_file else None
        self.failure_file = base / settings.failure_file if settings.failure_file else None
        self.runtime_data: dict[str, Any] = {}

    @staticmethod
    def _write(path: Path | None, data: dict[str, Any]) -> None:
        if path is None:
            return
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            pass  # the folder was deleted: the watcher ends the process

    def runtime(self, **data: Any) -> None:
        """Merge ``data`` into ``runtime.json`` and write it."""
        self.runtime_data.update(data)
        self._write(self.runtime_file, {"pid": os.getpid(), "time": time.time(),
                                        **self.runtime_data})

    def fail(self, kind: str, code: int, message: str, tb: str = "") -> NoReturn:
        """Report a start-up failure and end the process with ``code``."""
        if kind in ("init", "init_timeout"):
            log.error("User's init function failed")
        log.error("%s%s", message, ("\n" + tb) if tb else "")
        self._write(self.failure_file, {"kind": kind, "message": message, "traceback": tb,
                                        "exit_code": code, "time": time.time()})
        logging.shutdown()
        os._exit(code)


def _check_models(start: Startup, app_dir: Path, models: list[dict[str, Any]]) -> None:
    from ..model import content_hash

    for entry in models:
        path = app_dir / entry["path"]
        model_id = f"{entry['name']}:{entry['version']}"
        if not path.exists():
            start.fail("model", EXIT_MODEL, f"モデル {model_id} のファイルがサービスのフォルダーに"
                                            f"ありません ({entry['path']})。")
        sha, _size = content_hash(path)
        if sha != entry["sha256"]:
            start.fail("model", EXIT_MODEL,
                       f"モデル {model_id} のファイルが登録時と違います (SHA-256 が一致しません: "
                       f"{entry['path']})。モデルを変更したなら Model.register で登録し直して"
                       "デプロイしてください。")


async def _watch_config(config_path: Path, server: Any) -> None:
    while not server.should_exit:
        await asyncio.sleep(1.0)
        if not config_path.exists():
            log.info("%s was removed (service deleted): stopping.", config_path.name)
            server.should_exit = True


async def serve(settings: ServerSettings, config_path: Path, writer: LogWriter) -> int:
    """Bind, check the models, start the workers, then answer HTTP until told to stop."""
    from ._config import is_loopback
    from ._front import ScoringFront
    from ._http import bind, make_server, raise_fd_limit
    from ._keys import KeyFile
    from ._pool import WorkerFailed, WorkerPool

    base = config_path.parent
    start = Startup(base, settings)
    app_dir = (base / settings.app_dir).resolve()
    keys_file = settings.keys_file or os.environ.get("AMLHANDSON_KEYS_FILE")
    if not is_loopback(settings.host):
        if not keys_file and not settings.allow_unauthenticated:
            start.fail("open", EXIT_PORT,
                       f"host {settings.host!r} ではネットワークからも呼べてしまいますが、キー認証が"
                       "ありません。キーを付ける (keys_file / AMLHANDSON_KEYS_FILE) か、"
                       "allow_unauthenticated を true にしてください。")
        log.warning("Listening on %s: reachable from other machines (%s)", settings.host,
                    "keys required" if keys_file else "NO KEYS: anyone can call it")
    try:
        sock = bind(settings.host, settings.port)
    except OSError as exc:
        start.fail("port", EXIT_PORT,
                   f"ポート {settings.port} で待ち受けできませんでした ({exc})。ほかのプログラム"
                   " (別のサービスなど) がそのポートを使っています。deploy_configuration(port=None)"
                   " にすると空いているポートが自動で選ばれます。")
    port = sock.getsockname()[1]
    start.runtime(host=settings.host, port=port, ready=False)
    limit = raise_fd_limit(settings.max_connections + 256)
    if limit < settings.max_connections + 64:  # keep room for workers' pipes and log files
        log.warning("open-file limit %d: serving at most %d connections", limit, limit - 64)
        settings = dataclasses.replace(settings, max_connections=max(16, limit - 64))
    _check_models(start, app_dir, settings.models)

    pool = WorkerPool(settings, config_path, app_dir, writer,
                      on_change=lambda: start.runtime(pool=pool.status()))
    try:
        await pool.start()
    except WorkerFailed as exc:
        start.fail(exc.kind, exc.exit_code, exc.message, exc.traceback)
    app = ScoringFront(settings.name, pool=pool, keys=KeyFile(base / keys_file) if keys_file
                       else None, max_body=settings.max_request_body_bytes)
    server = make_server(app, settings)
    start.runtime(ready=True, pool=pool.status())
    log.info("Scoring server is ready: POST http://%s:%d/score (%d worker(s), up to %d)",
             settings.host, port, settings.workers, settings.max_workers)
    watcher = asyncio.get_running_loop().create_task(_watch_config(config_path, server)) \
        if settings.watch else None
    _signals.serving = True
    try:
        await server.serve(sockets=[sock])  # SIGTERM/SIGINT: uvicorn stops gracefully
    finally:
        if watcher is not None:
            watcher.cancel()
        await pool.stop()
    log.info("Scoring server stopped.")
    return 0


class _Signals:
    """SIGTERM before serving ends the process; after uvicorn's graceful stop, it is ignored.

    (uvicorn re-raises the signal it caught once it has stopped; the workers
    are then stopped by :func:`serve` before the process exits.)
    """

    serving = False

    def handler(self, signum: int, _frame: Any) -> None:
        if not self.serving:
            log.info("Received signal %d while starting: stopping.", signum)
            logging.shutdown()
            os._exit(0)


_signals = _Signals()


def _setup_logging(settings: ServerSettings, base: Path) -> LogWriter:
    writer = LogWriter(sys.stderr.buffer, path=base / settings.log_file if settings.log_file
                       else None, max_bytes=settings.log_max_bytes,
                       backups=settings.log_backups, max_line=settings.max_log_line)
    handler = LogHandler(writer)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
    return writer


def _run(coro: Any) -> int:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def main(argv: list[str] | None = None) -> int:
    """Run the server described by ``argv[0]`` (a ``server.json``) until stopped."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m amlhandson.core.webservice._server server.json", file=sys.stderr)
        return 2
    config_path = Path(argv[0]).resolve()
    settings = ServerSettings.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
    writer = _setup_logging(settings, config_path.parent)
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, _signals.handler)
    log.info("amlhandson scoring server for service %r (pid %d, Python %s)", settings.name,
             os.getpid(), sys.version.split()[0])
    return _run(serve(settings, config_path, writer))


if __name__ == "__main__":  # pragma: no cover - the process entry point
    sys.exit(main())
