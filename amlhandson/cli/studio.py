"""``amlhandson studio``: the local AML Studio portal in its own small server.

For people who don't use JupyterLab (inside JupyterLab the studio is already
served at ``<lab URL>/studio/``). Binds 127.0.0.1 and prints
``http://127.0.0.1:N/studio/?token=...`` (a random token unless ``--token``).
Another address (``--ip``) is refused unless a token is given explicitly.

Example (in a shell)::

    amlhandson studio                    # a free port, a random token
    amlhandson studio --port 8765 --token my-secret
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import secrets
import socket
import sys

__all__ = ["register", "cmd_studio", "server_argv", "is_loopback"]


def is_loopback(host: str) -> bool:
    """Whether ``host`` is only reachable from this machine.

    Example:
        >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
        (True, True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def server_argv(ip: str, port: int, token: str, base_url: str = "/") -> list[str]:
    """The Jupyter server options the standalone studio runs with.

    Example:
        >>> "--ServerApp.port=8765" in server_argv("127.0.0.1", 8765, "t")
        True
    """
    argv = [f"--ServerApp.ip={ip}", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}", "--ServerApp.open_browser=False",
            f"--ServerApp.base_url={base_url}", "--StudioApp.print_url=True",
            "--ServerApp.answer_yes=True"]  # one Ctrl-C stops it
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers often run as root
        argv.append("--allow-root")
    return argv


def cmd_studio(args: argparse.Namespace) -> int:
    """Check the options, then run the studio until Ctrl-C.

    Example:
        >>> cmd_studio(build_parser().parse_args(["studio", "--port", "8765"]))  # doctest: +SKIP
    """
    ip = args.ip
    if not is_loopback(ip) and not args.token:
        print(f"--ip {ip} はこのマシンの外からも接続できるアドレスです。その場合はトークンを必ず "
              "--token で指定してください (例: amlhandson studio --ip 0.0.0.0 --token 長いランダムな"
              "文字列)。", file=sys.stderr)
        return 2
    if args.token is not None and not args.token.strip():
        print("--token に空の文字列は使えません。省略すればランダムなトークンを作ります。",
              file=sys.stderr)
        return 2
    token = args.token or secrets.token_urlsafe(24)
    port = args.port if args.port else _free_port(ip)
    base_url = "/" + args.base_url.strip("/") + "/" if args.base_url.strip("/") else "/"
    try:
        from ..studio.app import StudioApp
    except ImportError as exc:  # jupyter_server is in the "studio" and "course" extras
        print(f"studio には jupyter_server が必要です ({exc})。pip install -e \".[studio]\" "
              "(コース用なら pip install -e \".[course]\") でインストールしてください。",
              file=sys.stderr)
        return 2
    StudioApp.launch_instance(argv=server_argv(ip, port, token, base_url))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``studio`` command to the top-level parser.

    Example:
        >>> from amlhandson.cli import build_parser
        >>> build_parser().parse_args(["studio", "--port", "8765"]).port
        8765
    """
    p = sub.add_parser("studio", help="ローカルの AML Studio (ポータル) をブラウザー用に起動する")
    p.add_argument("--port", type=int, default=0, help="ポート番号 (既定: 空いているポート)")
    p.add_argument("--token", default=None,
                   help="ログイン用のトークン (既定: ランダム)。--ip で外に公開するときは必須")
    p.add_argument("--ip", default="127.0.0.1",
                   help="待ち受けるアドレス (既定: 127.0.0.1 = このマシンからだけ)")
    p.add_argument("--base-url", default="/", help="URL の前置き (既定: /)")
    p.set_defaults(func=cmd_studio)
