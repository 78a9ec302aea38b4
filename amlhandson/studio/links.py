"""Links to the studio's pages, for code outside the studio (runs, workspaces, widgets).

A running studio (inside JupyterLab or ``amlhandson studio``) leaves a small
marker file ``amlhandson-studio-<pid>.json`` in Jupyter's runtime folder, next
to the server's own ``jpserver-<pid>.json``; :func:`find_studio` reads both.
The server this kernel was started by (``JPY_PARENT_PID``) wins; otherwise
any live studio that serves the same ``AMLHANDSON_HOME``.

This module imports nothing from amlhandson and nothing heavy, so the core
classes may call it (``run.get_portal_url()``, ``ws.get_details()``).

Example:
    >>> run_path(run)  # doctest: +SKIP
    'studio/ws/docs-aml/docs-ws/runs/0b6c...'
    >>> run_url(run) or how_to_start()  # doctest: +SKIP
    'http://127.0.0.1:8888/studio/ws/docs-aml/docs-ws/runs/0b6c...'
"""

from __future__ import annotations

import contextlib
import html
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

__all__ = ["StudioServer", "find_studio", "runtime_dir", "write_marker", "remove_marker",
           "workspace_path", "experiment_path", "run_path", "studio_url", "run_url",
           "workspace_url", "experiment_url", "how_to_start", "StudioLink"]

_MARKER = "amlhandson-studio-{pid}.json"


@dataclass(frozen=True)
class StudioServer:
    """A running studio: the Jupyter server's URL (with base URL), token and pid.

    Example:
        >>> StudioServer("http://127.0.0.1:8888/", "t", 1).link("studio/")
        'http://127.0.0.1:8888/studio/'
    """

    url: str
    token: str
    pid: int

    def link(self, path: str = "", *, with_token: bool = False) -> str:
        """The absolute URL of ``path`` (relative to the server's base URL)."""
        url = self.url.rstrip("/") + "/" + path.lstrip("/")
        if with_token and self.token:
            url += ("&" if "?" in url else "?") + "token=" + quote(self.token, safe="")
        return url


def _home() -> str:
    env = os.environ.get("AMLHANDSON_HOME")
    home = Path(env).expanduser() if env else Path.home() / ".amlhandson"
    return str(home.resolve())


def runtime_dir() -> Path:
    """Jupyter's runtime folder (``JUPYTER_RUNTIME_DIR`` or jupyter_core's default).

    Example:
        >>> runtime_dir().name  # doctest: +SKIP
        'runtime'
    """
    env = os.environ.get("JUPYTER_RUNTIME_DIR")
    if env:
        return Path(env)
    try:
        from jupyter_core.paths import jupyter_runtime_dir
    except ImportError:  # no Jupyter installed: no studio can be running
        return Path.home() / ".local" / "share" / "jupyter" / "runtime"
    return Path(jupyter_runtime_dir())


def write_marker(pid: int | None = None) -> Path:
    """Note that the Jupyter server ``pid`` (this process) serves the studio for this home.

    Example:
        >>> write_marker().name  # doctest: +SKIP
        'amlhandson-studio-4242.json'
    """
    pid = os.getpid() if pid is None else pid
    folder = runtime_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / _MARKER.format(pid=pid)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"pid": pid, "home": _home()}), encoding="utf-8")
    os.replace(tmp, path)
    return path


def remove_marker(pid: int | None = None) -> None:
    """Remove this server's marker (when the server stops).

    Example:
        >>> remove_marker()  # doctest: +SKIP
    """
    with contextlib.suppress(FileNotFoundError):
        (runtime_dir() / _MARKER.format(pid=os.getpid() if pid is None else pid)).unlink()


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists, owned by someone else (or Windows: cannot tell cheaply)
    return True


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def find_studio() -> StudioServer | None:
    """The studio to link to, or ``None`` when none runs for this ``AMLHANDSON_HOME``.

    Example:
        >>> find_studio()  # doctest: +SKIP
        StudioServer(url='http://127.0.0.1:8888/', token='...', pid=4242)
    """
    folder = runtime_dir()
    home = _home()
    try:
        markers = sorted(folder.glob(_MARKER.format(pid="*")))
    except OSError:
        return None
    candidates = []
    for marker in markers:
        data = _read(marker)
        if not data or data.get("home") != home or not isinstance(data.get("pid"), int):
            continue
        pid = data["pid"]
        info = _read(folder / f"jpserver-{pid}.json")
        if not info or not info.get("url") or not _alive(pid):
            continue
        candidates.append(StudioServer(url=str(info["url"]), token=str(info.get("token") or ""),
                                       pid=pid))
    parent = os.environ.get("JPY_PARENT_PID", "")
    for server in candidates:
        if str(server.pid) == parent:
            return server
    return candidates[0] if candidates else None


def _q(*segments: Any) -> str:
    return "/".join(quote(str(s), safe="") for s in segments)


def workspace_path(ws: Any) -> str:
    """The workspace's studio page, relative to the server's base URL.

    Example:
        >>> workspace_path(ws)  # doctest: +SKIP
        'studio/ws/docs-aml/docs-ws/'
    """
    return "studio/" + _q("ws", ws.resource_group, ws.name) + "/"


def experiment_path(exp: Any) -> str:
    """The experiment's runs page, relative to the server's base URL.

    Example:
        >>> experiment_path(exp)  # doctest: +SKIP
        'studio/ws/docs-aml/docs-ws/experiments/my-first-experiment'
    """
    ws = exp.workspace
    return "studio/" + _q("ws", ws.resource_group, ws.name, "experiments", exp.name)


def run_path(run: Any) -> str:
    """The run's page, relative to the server's base URL.

    Example:
        >>> run_path(run)  # doctest: +SKIP
        'studio/ws/docs-aml/docs-ws/runs/0b6c...'
    """
    ws = run.experiment.workspace
    return "studio/" + _q("ws", ws.resource_group, ws.name, "runs", run.id)


def studio_url(path: str = "studio/", *, with_token: bool = False) -> str | None:
    """The absolute URL of a studio path, or ``None`` when no studio is running.

    Example:
        >>> studio_url()  # doctest: +SKIP
        'http://127.0.0.1:8888/studio/'
    """
    server = find_studio()
    return server.link(path, with_token=with_token) if server else None


def run_url(run: Any, *, with_token: bool = False) -> str | None:
    """The run's studio page, or ``None`` when no studio is running (see :func:`how_to_start`).

    Example:
        >>> run_url(run) or how_to_start()  # doctest: +SKIP
    """
    return studio_url(run_path(run), with_token=with_token)


def workspace_url(ws: Any, *, with_token: bool = False) -> str | None:
    """The workspace's studio page, or ``None`` when no studio is running.

    Example:
        >>> workspace_url(ws)  # doctest: +SKIP
        'http://127.0.0.1:8888/studio/ws/docs-aml/docs-ws/'
    """
    return studio_url(workspace_path(ws), with_token=with_token)


def experiment_url(exp: Any, *, with_token: bool = False) -> str | None:
    """The experiment's studio page, or ``None`` when no studio is running.

    Example:
        >>> experiment_url(exp)  # doctest: +SKIP
    """
    return studio_url(experiment_path(exp), with_token=with_token)


def how_to_start() -> str:
    """What to do when no studio is running (Japanese, for learners).

    Example:
        >>> "amlhandson studio" in how_to_start()
        True
    """
    return ("Studio (ローカルのポータル) は起動していません。JupyterLab の Launcher の "
            "「AML Studio」を開くか、ターミナルで `amlhandson studio` を実行してください。")


class StudioLink:
    """A link to a studio page for notebook output (``%aml_studio``): HTML in Jupyter, text elsewhere.

    The HTML link is relative to the page's own server (``<base_url>studio/...``),
    so it works however the browser reaches JupyterLab; ``frame=True`` also
    shows the page in an IFrame under the cell.

    Example:
        >>> print(StudioLink("studio/", server=None))  # doctest: +ELLIPSIS
        Studio (ローカルのポータル) は起動していません。...
    """

    def __init__(self, path: str, label: str = "AML Studio で開く", *,
                 server: StudioServer | None | bool = True, frame: bool = False) -> None:
        self.path = path
        self.label = label
        self.server = find_studio() if server is True else (server or None)
        self.frame = frame

    @property
    def url(self) -> str | None:
        """The absolute URL (``None`` when no studio runs)."""
        return self.server.link(self.path) if self.server else None

    def __repr__(self) -> str:
        return f"{self.label}: {self.url}" if self.url else how_to_start()

    def _repr_html_(self) -> str:
        if self.server is None:
            return f"<p>{html.escape(how_to_start())}</p>"
        relative = urlsplit(self.server.url).path.rstrip("/") + "/" + self.path.lstrip("/")
        out = (f'<a href="{html.escape(relative)}" target="_blank" rel="noopener">'
               f"{html.escape(self.label)}</a> <code>{html.escape(self.url or '')}</code>")
        if self.frame:
            out += (f'<iframe src="{html.escape(relative)}" style="width:100%;height:600px;'
                    'border:1px solid #ddd"></iframe>')
        return out
