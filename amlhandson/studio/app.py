"""``StudioApp``: the studio as a Jupyter server extension, also runnable on its own.

Inside JupyterLab the server loads it through :mod:`amlhandson.studio.extension`
(enabled by the installed config file). ``amlhandson studio`` launches the same
class as its own small Jupyter server (no other extensions), bound to
127.0.0.1 unless told otherwise.

Example:
    >>> StudioApp.name, StudioApp.extension_url
    ('amlhandson_studio', '/studio/')
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_server.extension.application import ExtensionApp, ExtensionAppJinjaMixin
from tornado.ioloop import IOLoop
from traitlets import Bool

from . import api, api_registry, links, pages

__all__ = ["StudioApp"]

_HERE = Path(__file__).parent


class StudioApp(ExtensionAppJinjaMixin, ExtensionApp):
    """The studio: handlers for the pages and the JSON API, templates, static files.

    Example:
        >>> StudioApp.launch_instance(["--ServerApp.port=8765"])  # doctest: +SKIP
    """

    name = "amlhandson_studio"
    description = "AML Studio (ローカル版): ワークスペース・実験・Run・モデル・エンドポイントのポータル"
    extension_url = "/studio/"
    # Standalone (``amlhandson studio``) serves the studio only.
    load_other_extensions = False
    static_paths = [str(_HERE / "static")]  # type: ignore[assignment]
    template_paths = [str(_HERE / "templates")]  # type: ignore[assignment]

    print_url = Bool(False, help="起動したら studio の URL (トークン付き) を標準出力に書く "
                                 "(amlhandson studio が使う)").tag(config=True)

    @classmethod
    def get_extension_package(cls) -> str:
        """The module the server imports to find the extension points."""
        return "amlhandson.studio.extension"

    def initialize_handlers(self) -> None:
        """Register the pages and the API under ``<base_url>studio/``."""
        self.handlers.extend(pages.ROUTES)
        self.handlers.extend(api.ROUTES)
        self.handlers.extend(api_registry.ROUTES)

    def initialize_settings(self) -> None:
        """Leave the marker that lets kernels link to this studio."""
        try:
            links.write_marker()
        except OSError as exc:  # a read-only runtime folder only costs the links
            self.log.warning("amlhandson studio: runtime marker not written (%s)", exc)
        if self.print_url:
            IOLoop.current().add_callback(self._announce)

    def _announce(self) -> None:
        """Print the studio's URL once the server listens (the loop has started)."""
        server = self.serverapp
        host = server.ip if server.ip not in ("", "0.0.0.0", "::") else "127.0.0.1"
        host = f"[{host}]" if ":" in host else host
        token = server.identity_provider.token
        url = f"http://{host}:{server.port}{server.base_url}studio/"
        print(f"AML Studio: {url}?token={token}" if token else f"AML Studio: {url}", flush=True)
        print("(止めるには Ctrl-C)", flush=True)

    async def stop_extension(self) -> Any:
        """Remove the marker when the server stops."""
        links.remove_marker()
