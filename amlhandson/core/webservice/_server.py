"""The scoring server process: ``python -m amlhandson.core.webservice._server server.json``.

One process per web service (started detached by ``Model.deploy``, or as a
Docker image's command). It needs no workspace: everything is in
``server.json`` (paths relative to that file's folder)::

    {"name": "svc", "app_dir": "app", "entry_script": "score.py",
     "host": "127.0.0.1", "port": 0, "threads": 4, "max_request_body_bytes": 10485760,
     "model_dir": "azureml-models/sklearn_mnist/1",
     "models": [{"name": ..., "version": ..., "path": ..., "sha256": ...}],
     "keys_file": "keys.json" or null, "runtime_file": "runtime.json",
     "failure_file": "failure.json", "watch": true}

Start-up, in order (v1's contract):

1. bind the socket (port 0 lets the system pick a free one) and write
   ``runtime.json`` (pid, host, port), so the port is known at once;
2. check each model's SHA-256, set ``AZUREML_MODEL_DIR``, chdir to the app folder;
3. import score.py and call ``init()`` once;
4. write ``runtime.json`` again with ``"ready": true`` and serve with waitress.

Requests that arrive during 2-3 wait in the socket's backlog. Any failure in
1-3 is logged (v1's "User's init function failed" for ``init()``), written to
``failure.json`` as ``{"kind", "message", "traceback"}`` for the deploying
process to report, and ends the process (exit code 3 for ``init()``, as v1).

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

import importlib.util
import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

from ._app import user_traceback

__all__ = ["main"]

log = logging.getLogger("amlhandson.scoring")

EXIT_SCRIPT = 2
EXIT_INIT = 3  # v1's code for a failing init()
EXIT_PORT = 4
EXIT_MODEL = 5


class _Startup:
    def __init__(self, base: Path, config: dict[str, Any]) -> None:
        self.base = base
        self.config = config
        self.runtime_file = self._path("runtime_file")
        self.failure_file = self._path("failure_file")

    def _path(self, key: str) -> Path | None:
        value = self.config.get(key)
        return None if not value else (self.base / value)

    @staticmethod
    def _write(path: Path | None, data: dict[str, Any]) -> None:
        if path is None:
            return
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, path)

    def runtime(self, **data: Any) -> None:
        self._write(self.runtime_file, {"pid": os.getpid(), "time": time.time(), **data})

    def fail(self, kind: str, code: int, message: str, tb: str = "") -> NoReturn:
        if kind == "init":
            log.error("User's init function failed")
        log.error("%s%s", message, ("\n" + tb) if tb else "")
        self._write(self.failure_file, {"kind": kind, "message": message, "traceback": tb,
                                        "exit_code": code, "time": time.time()})
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _load_script(start: _Startup, path: Path) -> ModuleType:
    name = path.stem
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    except FileNotFoundError:
        start.fail("script", EXIT_SCRIPT, f"entry_script {path.name} がサービスのフォルダーに"
                                          "ありません。")
    except SyntaxError as exc:
        start.fail("script", EXIT_SCRIPT,
                   f"{path.name} の {exc.lineno} 行目に文法エラーがあります: {exc.msg}。"
                   f"{path.name} を直してから service.reload() してください。", user_traceback(exc))
    except ModuleNotFoundError as exc:
        start.fail("script", EXIT_SCRIPT,
                   f"{path.name} が import しているモジュール {exc.name!r} がありません "
                   f"(No module named {exc.name!r})。この Python に `pip install` するか、"
                   f"{path.name} の import を直してください。", user_traceback(exc))
    except BaseException as exc:  # noqa: BLE001 - report anything score.py does at import
        start.fail("script", EXIT_SCRIPT,
                   f"{path.name} を読み込む (import する) ときに例外が起きました: "
                   f"{type(exc).__name__}: {exc}", user_traceback(exc))
    return module


def _check_models(start: _Startup, app_dir: Path, models: list[dict[str, Any]]) -> None:
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


def _watch(config_path: Path) -> None:
    while True:
        time.sleep(1.0)
        if not config_path.exists():
            log.info("%s was removed (service deleted): stopping.", config_path.name)
            logging.shutdown()
            os._exit(0)


def _on_sigterm(_signum: int, _frame: Any) -> None:
    log.info("Received SIGTERM: stopping.")
    logging.shutdown()
    os._exit(0)


def main(argv: list[str] | None = None) -> int:
    """Run the server described by ``argv[0]`` (a ``server.json``) until stopped."""
    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if len(argv) != 1:
        print("usage: python -m amlhandson.core.webservice._server server.json", file=sys.stderr)
        return 2
    config_path = Path(argv[0]).resolve()
    config = json.loads(config_path.read_text(encoding="utf-8"))
    base = config_path.parent
    start = _Startup(base, config)
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, _on_sigterm)
    name = config.get("name", "service")
    app_dir = (base / config.get("app_dir", "app")).resolve()
    log.info("amlhandson scoring server for service %r (pid %d, Python %s)", name, os.getpid(),
             sys.version.split()[0])

    from waitress.server import create_server

    from ._app import KeyFile, ScoreScriptError, ScoringApp

    keys_file = config.get("keys_file") or os.environ.get("AMLHANDSON_KEYS_FILE")
    max_body = int(config.get("max_request_body_bytes", 10 * 1024 * 1024))
    app = ScoringApp(name, max_body=max_body,
                     keys=KeyFile(base / keys_file) if keys_file else None)
    host = config.get("host", "127.0.0.1")
    port = int(config.get("port") or 0)
    try:
        server = create_server(
            app, host=host, port=port, threads=int(config.get("threads", 4)),
            # Bodies up to 4x the limit reach the app (which answers 413 with a clear
            # message); bigger ones are refused by waitress before being read.
            max_request_body_size=max_body * 4 + (1 << 20),
            ident="amlhandson", channel_timeout=120, expose_tracebacks=False,
            clear_untrusted_proxy_headers=True)
    except OSError as exc:
        start.fail("port", EXIT_PORT,
                   f"ポート {port} で待ち受けできませんでした ({exc})。ほかのプログラム (別の"
                   "サービスなど) がそのポートを使っています。deploy_configuration(port=None) "
                   "にすると空いているポートが自動で選ばれます。")
    port = int(server.effective_port)
    start.runtime(host=host, port=port, ready=False)

    _check_models(start, app_dir, config.get("models", []))
    os.environ["AZUREML_MODEL_DIR"] = str(app_dir / config.get("model_dir", "azureml-models"))
    os.chdir(app_dir)
    sys.path.insert(0, str(app_dir))
    # -- amlhandson.compat (issue 13): a v1 score.py runs unmodified when the deploying
    # process had the compatibility layer on (it passes AMLHANDSON_COMPAT down).
    from ...compat import install_from_env
    from ...exceptions import AmlHandsOnError
    try:
        install_from_env()
    except AmlHandsOnError as exc:
        start.fail("script", EXIT_SCRIPT, str(exc))
    # -- end amlhandson.compat
    module = _load_script(start, app_dir / config["entry_script"])
    init = getattr(module, "init", None)
    run = getattr(module, "run", None)
    if run is None:
        start.fail("script", EXIT_SCRIPT, f"{config['entry_script']} に run() がありません。"
                                          "def run(raw_data): ... を定義してください。")
    if init is None:
        log.warning("%s has no init(): nothing is loaded at start-up.", config["entry_script"])
    else:
        log.info("Calling init() of %s", config["entry_script"])
        began = time.perf_counter()
        try:
            init()
        except BaseException as exc:  # noqa: BLE001 - SystemExit in init() is a failure too
            start.fail("init", EXIT_INIT,
                       f"{config['entry_script']} の init() が例外を出しました: "
                       f"{type(exc).__name__}: {exc}", user_traceback(exc))
        log.info("init() finished in %.2f s", time.perf_counter() - began)
    try:
        app.load(run)
    except ScoreScriptError as exc:
        start.fail("script", EXIT_SCRIPT, str(exc))
    start.runtime(host=host, port=port, ready=True)
    if config.get("watch", False):
        threading.Thread(target=_watch, args=(config_path,), daemon=True,
                         name="amlhandson-watch").start()
    log.info("Scoring server is ready: POST http://%s:%d/score", host, port)
    server.run()
    return 0


if __name__ == "__main__":  # pragma: no cover - the process entry point
    sys.exit(main())
