"""``amlhandson course``: prepare MNIST, start JupyterLab on the course, print where to begin.

After the data is ready and JupyterLab answers, one short banner says the URL,
which notebook to open first, and whether MNIST is the full set or the bundled
sample. JupyterLab's own log is kept to warnings and errors.

``--student`` opens the student edition instead (the notebooks without the
exercise solutions, written once into ``student/`` next to ``notebooks/``;
notebooks already there are kept, so a learner's work is never overwritten).

Example (in a shell)::

    amlhandson course                 # data + JupyterLab + banner
    amlhandson course --student       # the same with the student edition
    amlhandson course --no-lab        # data only
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from pathlib import Path

__all__ = ["register", "banner"]

#: Seconds to wait for JupyterLab to answer before giving up on the banner.
START_TIMEOUT = 90.0


def _prepare_mnist(verbose: bool) -> str:
    """Fetch MNIST into the one course folder; print warnings briefly; return its status.

    The full set is kept as it is. The sample is kept too unless a classroom mirror
    is set (``AMLHANDSON_MNIST_MIRROR``): trying the internet again at every start
    would only make an offline classroom wait. ``amlhandson data mnist --mirror``
    replaces it whenever a mirror is at hand.
    """
    from ..datasets import mnist

    found = mnist.status()
    if found.kind == "full" or (found.kind == "sample" and not os.environ.get(mnist.ENV_MIRROR)):
        return str(found)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", mnist.MnistWarning)
        mnist.download()
    for warning in caught:
        message = str(warning.message)
        if isinstance(warning.message, mnist.MnistSampleWarning) and not verbose:
            message = ("MNIST の完全なデータを取得できなかったため、同梱の見本を使います "
                       "(コースはそのまま進められます)。完全なデータにするには、講師のミラーを指定して "
                       "amlhandson data mnist --mirror http://<講師のIP>:8000/ を実行してください "
                       "(試したミラーと理由は amlhandson course -v で表示)。")
        print(f"注意: {message}", file=sys.stderr)
    return str(mnist.status())


def _free_port(preferred: int) -> int:
    for port in range(preferred, preferred + 20):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_ready(proc: subprocess.Popen[bytes], port: int, timeout: float) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with opener.open(f"http://127.0.0.1:{port}/api", timeout=2) as answer:
                if answer.status == 200:
                    return True
        except OSError:
            time.sleep(0.3)
    return False


def banner(url: str, first: str, data: str) -> str:
    """The lines printed once JupyterLab is ready.

    Example:
        >>> print(banner("http://127.0.0.1:8888/lab?token=t", "notebooks/00-overview.ipynb",
        ...              "見本 ..."))  # doctest: +NORMALIZE_WHITESPACE
        ================================================================
         amlhandson: コースの準備ができました
           JupyterLab : http://127.0.0.1:8888/lab?token=t
           最初に開く : notebooks/00-overview.ipynb (左のファイル一覧の 00-overview.ipynb)
           MNIST      : 見本 ...
           終わるとき : この画面で Ctrl+C
        ================================================================
    """
    rule = "=" * 64
    name = Path(first).name
    return "\n".join([
        rule,
        " amlhandson: コースの準備ができました",
        f"   JupyterLab : {url}",
        f"   最初に開く : {first} (左のファイル一覧の {name})",
        f"   MNIST      : {data}",
        "   終わるとき : この画面で Ctrl+C",
        rule,
    ])


def _course_folder(args: argparse.Namespace) -> Path | None:
    from .._course import FIRST_NOTEBOOK, course_folder, make_student_edition

    folder = course_folder(args.notebooks) if args.notebooks else course_folder()
    if folder is None or not args.student:
        return folder
    target = Path(args.student_dir) if args.student_dir else folder.parent / "student"
    written = make_student_edition(folder, target)
    student = (target / "notebooks").resolve()
    print(f"受講者版 (解答例なし): {student}"
          + (f" ({len(written)} 個のノートブックを書き出しました)" if written else
             " (既にあるノートブックはそのまま使います)"))
    return student if (student / FIRST_NOTEBOOK).is_file() else None


def cmd_course(args: argparse.Namespace) -> int:
    """Prepare MNIST, start JupyterLab on the course and print the banner."""
    from .._course import FIRST_NOTEBOOK

    folder = _course_folder(args)
    if folder is None:
        print("コースのノートブック (notebooks/00-overview.ipynb) が見つかりません。amlhandson の"
              "リポジトリのトップフォルダーで実行するか、--notebooks でフォルダーを指定してください。",
              file=sys.stderr)
        return 2
    data = _prepare_mnist(args.verbose)
    if args.no_lab:
        print(f"MNIST の準備ができました: {data}")
        return 0
    port = _free_port(args.port)
    token = secrets.token_hex(16)
    cmd = [sys.executable, "-m", "jupyterlab", "--notebook-dir", str(folder),
           f"--ServerApp.port={port}", "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1",
           f"--IdentityProvider.token={token}", "--log-level=WARN",
           "--LabApp.log_level=WARN"]
    if args.no_browser:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers often run as root
        cmd.append("--allow-root")
    print("JupyterLab を起動しています…", flush=True)
    proc = subprocess.Popen(cmd)
    try:
        if _wait_until_ready(proc, port, START_TIMEOUT):
            url = f"http://127.0.0.1:{port}/lab/tree/{FIRST_NOTEBOOK}?token={token}"
            try:
                first = folder.relative_to(Path.cwd()) / FIRST_NOTEBOOK
            except ValueError:
                first = folder / FIRST_NOTEBOOK
            print(banner(url, first.as_posix(), data), flush=True)
        elif proc.poll() is None:
            print(f"JupyterLab が {START_TIMEOUT:.0f} 秒たっても応答しません。"
                  "amlhandson doctor で環境を確かめてください。", file=sys.stderr)
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        print("JupyterLab を終了しました。", file=sys.stderr)
        return 130


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``course`` command to the top-level parser."""
    p = sub.add_parser("course", help="MNIST を用意して JupyterLab でコースを開く")
    p.add_argument("--notebooks", default=None,
                   help="コースのフォルダー (既定: ここの notebooks/、なければインストール元の notebooks/)")
    p.add_argument("--student", action="store_true",
                   help="受講者版 (演習の解答例なし) を書き出して開く")
    p.add_argument("--student-dir", default=None,
                   help="受講者版を書き出すフォルダー (既定: notebooks/ の隣の student/)")
    p.add_argument("--no-lab", action="store_true", help="データの準備だけをする")
    p.add_argument("--no-browser", action="store_true", help="ブラウザーを自動で開かない")
    p.add_argument("--port", type=int, default=8888, help="JupyterLab のポート (既定: 8888 から空き)")
    p.add_argument("-v", "--verbose", action="store_true", help="MNIST の警告を省略せずに表示する")
    p.set_defaults(func=cmd_course)
