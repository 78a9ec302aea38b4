"""The endpoint server process: ``python -m amlhandson.pipeline.core._endpoint_server server.json``.

One per workspace, started detached by :func:`._detached.ensure_endpoint`. It
serves :class:`._rest.EndpointApp` on the web services' HTTP stack
(:mod:`amlhandson.core.webservice._http`: uvicorn with httptools, a request deadline
for idle and slow clients, a request-head cap, a connection limit) on ``server.json``'s host (127.0.0.1 unless told otherwise) and port (the
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

from ._rest import MAX_BODY

__all__ = ["main", "bind", "make_server", "settings"]

log = logging.getLogger("amlhandson.pipeline_endpoint")


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (the web services' ``bind``); a taken ``port``
    falls back to a free one.

    Example:
        >>> s = bind("127.0.0.1", 0); s.getsockname()[1] > 0
        True
        >>> s.close()
    """
    from ...core.webservice._http import bind as http_bind

    try:
        return http_bind(host, port)
    except OSError:
        if port == 0:
            raise
        return http_bind(host, 0)


def settings() -> Any:
    """The HTTP limits of the endpoint: the web services' ``ServerSettings`` and their defaults.

    Example:
        >>> settings().request_timeout_s, settings().max_request_body_bytes == MAX_BODY
        (20.0, True)
    """
    from ...core.webservice._settings import ServerSettings

    return ServerSettings(entry_script="-", name="pipelines", max_request_body_bytes=MAX_BODY,
                          max_connections=200)


def make_server(app: Any) -> Any:
    """A ``uvicorn.Server`` for ``app`` with the web services' protections (request deadline for
    idle and slow clients, request-head cap, body drain after an early 413)."""
    from ...core.webservice._http import make_server as http_server

    return http_server(app, settings())


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
