"""The endpoint server process: ``python -m amlhandson.pipeline.core._endpoint_server server.json``.

One per workspace, started detached by :func:`._detached.ensure_endpoint`. It
serves :class:`._rest.EndpointApp` with uvicorn (the HTTP server of the web
services: asyncio, httptools' C parser, keep-alive timeout, a connection limit)
on ``server.json``'s host (127.0.0.1 unless told otherwise) and port (the
previous one if free, else one the system picks), writes ``runtime.json``
(pid, start time, host, port) once it listens, and starts each accepted
submission as a detached run (:func:`._detached.start_run`), so it holds no
pipeline itself. It ends on SIGTERM/Ctrl-C, and by itself when ``server.json``
disappears (the workspace folder was deleted).

Example:
    >>> main([])
    usage: python -m amlhandson.pipeline.core._endpoint_server server.json
    2
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

__all__ = ["main", "bind", "make_server"]

log = logging.getLogger("amlhandson.pipeline_endpoint")


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``; a taken ``port`` falls back to a free one.

    Example:
        >>> s = bind("127.0.0.1", 0); s.getsockname()[1] > 0
        True
        >>> s.close()
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for candidate in dict.fromkeys((port, 0)):
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            if os.name != "nt":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, candidate))
            sock.listen(128)
            sock.set_inheritable(False)
            return sock
        except OSError:
            sock.close()
            if candidate == 0:
                raise
    raise OSError("no port")  # pragma: no cover - the loop returns or raises


def make_server(app: Any) -> Any:
    """A ``uvicorn.Server`` for ``app`` (httptools, bounded connections, short keep-alive)."""
    import uvicorn

    config = uvicorn.Config(app, http="httptools", ws="none", lifespan="off", log_config=None,
                            access_log=False, limit_concurrency=200, timeout_keep_alive=5,
                            timeout_graceful_shutdown=2, server_header=False, date_header=False)
    return uvicorn.Server(config)


def _submitter(workspace: Any) -> Any:
    from ..._paths import check_name
    from ...exceptions import UserErrorException
    from . import _detached
    from ._rest import SubmitRefused
    from .published_pipeline import PublishedPipeline, check_assignments

    def submit(pipeline_id: str, experiment_name: str, assignments: dict[str, Any],
               tags: dict[str, Any]) -> dict[str, Any]:
        try:
            published = PublishedPipeline.get(workspace, pipeline_id)
        except LookupError as exc:
            raise SubmitRefused(404, "PipelineNotFound", str(exc)) from exc
        if published.status != "Active":
            raise SubmitRefused(409, "PipelineDisabled",
                                f"PublishedPipeline {published.name!r} ({pipeline_id}) は "
                                f"{published.status} です。enable() で有効にしてから送ってください。")
        try:
            check_name(experiment_name, "実験")
            values = check_assignments(published.graph, assignments)
        except UserErrorException as exc:
            raise SubmitRefused(400, "BadRequest", str(exc)) from exc
        run_id = _detached.start_run(workspace, pipeline_id, experiment_name, values,
                                     {str(k): str(v) for k, v in tags.items()})
        log.info("started run %s of %s (%s) in experiment %s", run_id, published.name,
                 pipeline_id, experiment_name)
        return {"Id": run_id, "ExperimentName": experiment_name, "PipelineId": pipeline_id,
                "RunType": "HTTP", "Status": "Running"}

    return submit


def _watch(config_path: Path, server: Any) -> None:
    from . import _detached

    while not server.should_exit:
        time.sleep(1.0)
        _detached.reap()
        if not config_path.exists():
            log.warning("%s was removed: stopping", config_path)
            server.should_exit = True


def main(argv: list[str] | None = None) -> int:
    """Serve the endpoint described by ``server.json`` until stopped (see the module docs)."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m amlhandson.pipeline.core._endpoint_server server.json")
        return 2
    config_path = Path(argv[0]).resolve()
    config = json.loads(config_path.read_text(encoding="utf-8"))
    os.environ["AMLHANDSON_HOME"] = config["home"]
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s")
    from ... import _atomic, _process
    from ...core.authentication import check_header
    from ...core.workspace import Workspace
    from ._rest import EndpointApp
    from .published_pipeline import endpoint_path

    workspace = Workspace.get(config["workspace"], subscription_id=config["subscription_id"],
                              resource_group=config["resource_group"])
    home = Path(config["home"])
    sock = bind(config.get("host") or "127.0.0.1", int(config.get("port") or 0))
    host, port = sock.getsockname()[:2]
    if port != config.get("port"):  # remember it: the next start tries the same port
        _atomic.write_text(config_path, json.dumps({**config, "port": port}, indent=1))
    prefix = endpoint_path(workspace, "x").rsplit("/PipelineRuns/", 1)[0]
    app = EndpointApp(prefix, check_key=lambda value: check_header(value, root=home),
                      submit=_submitter(workspace))
    server = make_server(app)
    me = _process.current()
    _atomic.write_text(config_path.parent / "runtime.json", json.dumps(
        {"pid": me.pid, "started": me.started, "host": host, "port": port, "ready": True,
         "time": time.time()}, indent=1))
    log.info("serving published pipelines of %s/%s on http://%s:%s", workspace.resource_group,
             workspace.name, host, port)
    threading.Thread(target=_watch, args=(config_path, server), daemon=True).start()
    try:
        server.run(sockets=[sock])
    finally:
        with contextlib.suppress(OSError):
            runtime = json.loads((config_path.parent / "runtime.json").read_text())
            if runtime.get("pid") == me.pid:
                (config_path.parent / "runtime.json").unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
