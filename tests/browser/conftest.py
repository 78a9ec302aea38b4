"""One JupyterLab server and one Chromium for the whole browser-test session.

The server is a real ``jupyter lab`` on 127.0.0.1 with its own temporary
home, settings, workspaces and runtime folders; the studio extension and the
Launcher card come from the installed package, as for a learner. Chromium is
the system's (Debian's ``chromium``), driven by Playwright for Python; nothing
is downloaded. Without Chromium or Playwright the tests are skipped with the
reason, unless ``AMLHANDSON_REQUIRE_BROWSER=1`` (CI sets it), which makes
them fail instead.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from studio_helpers import seed, stop  # noqa: E402

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
SCORE = """\
import json

def init():
    print("init done")

def run(raw_data):
    data = json.loads(raw_data)["data"]
    return [x * 2 for x in data]
"""


def _missing(reason: str) -> None:
    if os.environ.get("AMLHANDSON_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests are required here (AMLHANDSON_REQUIRE_BROWSER=1) but {reason}")
    pytest.skip(reason)


def chromium_path() -> str | None:
    """The system's Chromium, if any (``AMLHANDSON_CHROMIUM`` names another)."""
    env = os.environ.get("AMLHANDSON_CHROMIUM")
    if env:
        return env if Path(env).exists() else None
    return next((p for p in map(shutil.which, CHROMIUM_NAMES) if p), None)


@dataclass
class Lab:
    """The session's JupyterLab server and its data."""

    url: str  # http://127.0.0.1:PORT/
    token: str
    proc: subprocess.Popen
    home: Path
    root: Path
    ids: dict[str, Any] = field(default_factory=dict)

    def studio(self, path: str = "") -> str:
        return f"{self.url}studio/{path}"

    def api(self, path: str, method: str = "GET", **kw: Any) -> requests.Response:
        return requests.request(method, f"{self.url}studio/api/{path}", timeout=60,
                                headers={"Authorization": f"token {self.token}"}, **kw)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _deploy(ws: Any, work: Path) -> Any:
    from amlhandson.core.model import InferenceConfig, Model
    from amlhandson.core.webservice import LocalWebservice

    (work / "svc").mkdir()
    (work / "svc" / "score.py").write_text(SCORE)
    (work / "factor.txt").write_text("2")
    model = Model.register(ws, str(work / "factor.txt"), "factor")
    config = InferenceConfig(entry_script="score.py", source_directory=str(work / "svc"))
    service = Model.deploy(ws, "double-svc", [model], config,
                           LocalWebservice.deploy_configuration(), overwrite=True)
    service.wait_for_deployment()
    return service


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """Seeded data, a deployed service and a running JupyterLab (stopped at the end)."""
    if chromium_path() is None:
        _missing("no Chromium found (install it with `apt-get install chromium`)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        _missing("Playwright for Python is not installed (pip install -e \".[browser]\")")
    base = tmp_path_factory.mktemp("lab")
    home, root, work = base / "home", base / "root", base / "work"
    for folder in (root, work):
        folder.mkdir()
    jupyter = {name: base / name for name in ("runtime", "config", "settings", "workspaces")}
    notify = jupyter["settings"] / "@jupyterlab" / "apputils-extension"
    notify.mkdir(parents=True)
    (notify / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    (root / "config.json").write_text(json.dumps({
        "subscription_id": "00000000-0000-0000-0000-000000000000",
        "resource_group": "docs-aml", "workspace_name": "docs-ws"}))
    # seed in the lab's own home; the rest of the session keeps its own folder and home
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AMLHANDSON_HOME", str(home))
        mp.chdir(work)
        from amlhandson import Workspace

        ws = Workspace.create("docs-ws", resource_group="docs-aml", show_output=False)
        ids = seed(ws, work)
        service = _deploy(ws, work)
    token = secrets.token_hex(16)
    port = _free_port()
    env = dict(os.environ, AMLHANDSON_HOME=str(home),
               JUPYTER_RUNTIME_DIR=str(jupyter["runtime"]),
               JUPYTER_CONFIG_DIR=str(jupyter["config"]),
               JUPYTERLAB_SETTINGS_DIR=str(jupyter["settings"]),
               JUPYTERLAB_WORKSPACES_DIR=str(jupyter["workspaces"]))
    log = open(base / "lab.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1",
         f"--port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
         "--allow-root"], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, (base / "lab.log").read_text("utf-8", "replace")
            try:
                if requests.get(url + f"api/status?token={token}", timeout=5).ok:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "JupyterLab did not start in 90 s"
            time.sleep(0.2)
        yield Lab(url=url, token=token, proc=proc, home=home, root=root,
                  ids={**ids, "service": service.name})
    finally:
        stop(proc)
        log.close()
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("AMLHANDSON_HOME", str(home))
            service.delete()


@pytest.fixture(scope="session")
def browser(lab: Lab) -> Iterator[Any]:
    """One Chromium for the session (the system's, never a download)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=chromium_path(),
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


class Watched:
    """A page with its console errors, uncaught errors and dialogs recorded."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", lambda m: self.errors.append(f"console: {m.text}")
                if m.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on("dialog", self._dialog)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.accept()

    def pwned(self) -> Any:
        return self.page.evaluate("window.__pwned || null")


@pytest.fixture
def page(browser: Any, lab: Lab) -> Iterator[Watched]:
    """A fresh, logged-in browser context and page for one test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    context.set_default_timeout(30_000)
    tab = context.new_page()
    watched = Watched(tab)
    tab.goto(lab.studio(f"?token={lab.token}"))
    yield watched
    context.close()
