"""Waiting for a deployment: ``wait_for_deployment`` and the failure it reports.

A mixin of :class:`~.service.Webservice`: it polls the stored state (which
:mod:`._records` brings up to date from the server's ``runtime.json``), prints
v1's outputs, stops a deployment that did not start within ``timeout_sec``, and
turns a failure into one ``WebserviceException`` that says what failed, quotes
score.py's traceback and says how to fix it.

Example:
    >>> service.wait_for_deployment(show_output=True)  # doctest: +SKIP
    Local webservice is running at http://127.0.0.1:41235
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ...exceptions import WebserviceException
from ._records import DELETED, FAILED, HEALTHY, TRANSITIONING, UNHEALTHY

__all__ = ["DeploymentWait", "DEFAULT_TIMEOUT"]

#: Seconds ``wait_for_deployment`` waits by default.
DEFAULT_TIMEOUT = 300.0
_POLL = 0.05


class DeploymentWait:
    """``wait_for_deployment`` and its failure report (mixed into ``Webservice``).

    Example:
        >>> from amlhandson.core.webservice import Webservice
        >>> issubclass(Webservice, DeploymentWait)
        True
    """

    _name: str
    _compute_type: str
    _record: Any
    _spec: dict[str, Any]
    error: Any

    def wait_for_deployment(self, show_output: bool = False,
                            timeout_sec: float | None = None) -> None:
        """Wait until the service answers (seconds); raise ``WebserviceException`` if it fails.

        On failure the message says why in plain words and quotes the
        traceback of score.py (``init()`` ...); ``get_logs()`` has the whole log.
        A deployment still starting after ``timeout_sec`` is stopped and
        marked failed, so nothing keeps running (and burning CPU) unseen.

        Example:
            >>> service.wait_for_deployment(show_output=True)  # doctest: +SKIP
            Local webservice is running at http://127.0.0.1:41235
        """
        self._wait(show_output, timeout_sec, announce=True)

    def _wait(self, show_output: bool, timeout_sec: float | None, announce: bool,
              give_up: bool = True) -> None:
        self._ensure_exists("wait_for_deployment")
        limit = timeout_sec or DEFAULT_TIMEOUT
        deadline = time.monotonic() + limit
        dots = show_output and self._compute_type == "ACI"
        if dots:
            print("Running", end="", flush=True)
        last_dot = time.monotonic()
        while True:
            state = self._stored_state()
            if state == HEALTHY:
                break
            if state == DELETED:
                self._ensure_exists("wait_for_deployment")
            if state in (FAILED, UNHEALTHY):
                if dots:
                    print("\nFailed")
                self._raise_failure(show_output)
            now = time.monotonic()
            if now > deadline:
                if dots:
                    print()
                if give_up:
                    self._give_up(limit)
                    self._raise_failure(show_output)
                raise WebserviceException(
                    f"サービス {self._name!r} はまだ起動中です ({limit:.0f} 秒待ちました)。"
                    "score.py の init() に時間がかかっています。少し待ってからもう一度呼ぶか、"
                    "service.get_logs() でログを確認してください。")
            if dots and now - last_dot >= 0.5:
                print(".", end="", flush=True)
                last_dot = now
            time.sleep(_POLL)
        if dots:
            print("\nSucceeded")
        if announce:
            self._announce(show_output)

    def _give_up(self, seconds: float) -> None:
        """A deployment that did not start in time: stop its process, record why."""
        self._stop()
        self._save(spec={"error": {
            "kind": "init_timeout", "traceback": "", "message":
            f"{seconds:g} 秒 (timeout_sec) たってもサービスが起動しなかったので、プロセスを止め"
            "ました。score.py の init() が終わらない (無限ループや待ち続け) か、時間がかかり"
            "すぎています。init() を直すか、wait_for_deployment(timeout_sec=...) を長くして"
            "ください。"}}, state=FAILED, expect_state=TRANSITIONING)

    def _announce(self, show_output: bool) -> None:
        raise NotImplementedError

    def _failure_literal(self, state: str) -> str:
        raise NotImplementedError

    def _raise_failure(self, show_output: bool) -> None:
        error = self.error or {}
        state = self._record.state
        kind = error.get("kind")
        why = {
            "init": "score.py の init() が例外を出したため、サービスを起動できませんでした。",
            "init_timeout": "score.py の init() が時間内に終わらなかったため、止めました。",
            "script": "score.py を読み込めなかったため、サービスを起動できませんでした。",
            "model": "モデルのファイルを確認できなかったため、サービスを起動できませんでした。",
            "port": "ポートを使えなかったため、サービスを起動できませんでした。",
        }.get(kind or "", "サービスのプロセスが終了しました。")
        parts = [self._failure_literal(state), error.get("message") or why]
        if error.get("traceback"):
            parts.append("\n" + error["traceback"].rstrip())
        if kind in ("init", "script", "init_timeout"):
            script = Path(self._spec["inference"]["entry_script"]).name
            parts.append(f"\n{script} を直したら service.reload() で起動し直せます "
                         "(または Model.deploy(..., overwrite=True))。")
        parts.append("ログ全体は service.get_logs() で見られます。")
        if show_output:
            print(self.get_logs(num_lines=60))
        raise WebserviceException("\n".join(p for p in parts if p))
