"""``amlhandson doctor``: is this laptop ready for the course?

Instructors run it on every laptop before a session. Each check returns a
:class:`Finding` (``ok``, ``warn`` or ``bad``, what was found, and how to fix
it); :func:`diagnose` runs them all and :func:`render` prints a short table.
Nothing is created or changed: the write check uses a temporary file that is
removed at once, in the nearest folder that already exists.

Checks: the Python version, every dependency of the course (installed *and*
importable, at the version ``pyproject.toml`` asks for), the MNIST data (full
set, bundled sample, or missing), JupyterLab (>= 4.1 for the diagrams) and its
widget extension, a free port on 127.0.0.1, free disk space and write access
where the workspaces live.

Example:
    >>> findings = diagnose()  # doctest: +SKIP
    >>> print(render(findings, color=False))  # doctest: +SKIP
    状態  項目          結果                     直し方
    ...
"""

from __future__ import annotations

import importlib
import importlib.metadata as metadata
import re
import shutil
import socket
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import _paths
from ._display import display_path
from ._tables import text_table

__all__ = ["Finding", "diagnose", "render", "exit_code", "INSTALL_COMMAND"]

#: How learners install everything the course needs (README's course command).
INSTALL_COMMAND = 'pip install -e ".[course]"'
#: The oldest Python the course supports.
MIN_PYTHON = (3, 10)
#: JupyterLab renders the notebooks' Mermaid diagrams from this version on.
MIN_JUPYTERLAB = (4, 1)
#: Below this much free disk space (bytes), the MNIST cache and models may not fit.
MIN_FREE_BYTES = 1_000_000_000
#: The port JupyterLab tries first.
JUPYTER_PORT = 8888
#: Import names that differ from the distribution's name.
_MODULES = {"scikit-learn": "sklearn", "pyyaml": "yaml", "python-dateutil": "dateutil"}


@dataclass(frozen=True)
class Finding:
    """One line of the report: ``level`` is ``"ok"``, ``"warn"`` or ``"bad"``.

    Example:
        >>> Finding("Python", "ok", "3.11.7").level
        'ok'
    """

    item: str
    level: str
    detail: str
    fix: str = ""


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


def _satisfies(version: str, spec: str) -> bool:
    """Whether ``version`` meets ``spec`` (``>=4.1``, ``>=1.2,<2``); ``True`` if unsure."""
    for clause in filter(None, (c.strip() for c in spec.split(","))):
        match = re.match(r"(>=|<=|==|!=|~=|>|<)\s*([\w.]+)", clause)
        if not match:
            continue
        op, want = match.group(1), _version_tuple(match.group(2))
        have = _version_tuple(version)[: len(want)] or (0,)
        ok = {">=": have >= want, "~=": have >= want, ">": have > want, "<": have < want,
              "<=": have <= want, "==": have == want, "!=": have != want}[op]
        if not ok:
            return False
    return True


def course_requirements() -> list[tuple[str, str]] | None:
    """``(distribution, version spec)`` of amlhandson and its ``course`` extra; ``None`` if absent.

    Extras the ``course`` extra pulls in (``amlhandson[compute]``) are followed.

    Example:
        >>> ("numpy", ">=1.23") in (course_requirements() or [("numpy", ">=1.23")])
        True
    """
    try:
        lines = metadata.requires("amlhandson") or []
    except metadata.PackageNotFoundError:
        return None
    parsed = []
    for line in lines:
        requirement, _, marker = line.partition(";")
        extra = re.search(r"""extra\s*==\s*["']([\w-]+)["']""", marker)
        match = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(?:\[([^\]]*)\])?\s*(.*)", requirement)
        if match:
            parsed.append((extra.group(1) if extra else "", match.group(1).lower(),
                           match.group(2) or "", match.group(3).strip().strip("()")))
    wanted: list[tuple[str, str]] = []
    extras, seen = ["", "course"], set()
    while extras:
        current = extras.pop(0)
        if current in seen:
            continue
        seen.add(current)
        for extra, name, inner, spec in parsed:
            if extra != current:
                continue
            if name == "amlhandson":
                extras += [e.strip() for e in inner.split(",") if e.strip()]
            elif (name, spec) not in wanted:
                wanted.append((name, spec))
    return wanted


def check_python() -> Finding:
    """Python 3.10 or newer."""
    version = ".".join(map(str, sys.version_info[:3]))
    if tuple(sys.version_info[:2]) >= MIN_PYTHON:
        return Finding("Python", "ok", version)
    return Finding("Python", "bad", f"{version} (3.10 以上が必要です)",
                   "Python 3.10 以上を入れて、その Python で venv を作り直してください。")


def check_package(name: str, spec: str) -> Finding:
    """One dependency: installed at a fitting version, and importable."""
    try:
        version = metadata.version(name)
    except metadata.PackageNotFoundError:
        return Finding(name, "bad", "インストールされていません", INSTALL_COMMAND)
    if spec and not _satisfies(version, spec):
        return Finding(name, "bad", f"{version} ({spec} が必要です)",
                       f'{INSTALL_COMMAND} --upgrade (または pip install "{name}{spec}")')
    module = _MODULES.get(name, name.replace("-", "_"))
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:  # the package's files are gone although its record remains
            return Finding(name, "bad", f"見つかりません (No module named {module!r})",
                           INSTALL_COMMAND)
        return Finding(name, "bad", f"{version} ですが {exc.name!r} がなくて import できません",
                       f"pip install --force-reinstall {name}")
    except Exception as exc:  # noqa: BLE001 - any import failure is the finding
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:120]
        return Finding(name, "bad", f"{version} ですが import できません ({first})",
                       f"pip install --force-reinstall {name}")
    return Finding(name, "ok", version)


def check_packages() -> list[Finding]:
    """Every dependency of the course, from the installed package's metadata."""
    wanted = course_requirements()
    if wanted is None:
        return [Finding("amlhandson", "bad", "パッケージとしてインストールされていません",
                        f"リポジトリのトップフォルダーで {INSTALL_COMMAND}")]
    return [check_package(name, spec) for name, spec in wanted]


def check_jupyterlab() -> list[Finding]:
    """JupyterLab new enough for the Mermaid diagrams, and the ipywidgets extension."""
    findings = []
    try:
        version = metadata.version("jupyterlab")
    except metadata.PackageNotFoundError:
        return [Finding("JupyterLab", "bad", "インストールされていません", INSTALL_COMMAND)]
    if _version_tuple(version)[:2] < MIN_JUPYTERLAB:
        findings.append(Finding("JupyterLab", "bad",
                                f"{version} (図 (Mermaid) の表示には 4.1 以上が必要です)",
                                'pip install "jupyterlab>=4.1"'))
    else:
        findings.append(Finding("JupyterLab", "ok", version))
    extension = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "@jupyter-widgets" \
        / "jupyterlab-manager"
    if extension.is_dir():
        findings.append(Finding("ウィジェット拡張", "ok", "@jupyter-widgets/jupyterlab-manager"))
    else:
        findings.append(Finding("ウィジェット拡張", "bad",
                                "JupyterLab のウィジェット拡張が見つかりません (RunDetails が表示されません)",
                                "pip install --force-reinstall jupyterlab_widgets"))
    return findings


def check_mnist() -> Finding:
    """The MNIST data where the notebooks read it: full set, sample, or missing."""
    from .datasets import mnist

    found = mnist.status()
    where = display_path(found.folder)
    if found.kind == "full":
        return Finding("MNIST", "ok", f"{found.label} {where}")
    if found.kind == "sample":
        return Finding("MNIST", "warn", f"{found.label} {where}",
                       "完全なデータにするには amlhandson data mnist --mirror http://<講師のIP>:8000/ "
                       "(USB なら --mirror <フォルダー>)")
    if found.kind == "damaged":
        return Finding("MNIST", "bad", f"{found.label} {where}", "amlhandson data mnist --force")
    return Finding("MNIST", "bad", f"{found.label} ({where})",
                   "amlhandson data mnist (オフラインなら --mirror で講師のミラーを指定)")


def check_port(port: int = JUPYTER_PORT) -> Finding:
    """127.0.0.1 accepts servers (the web services), and whether JupyterLab's port is free."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
    except OSError as exc:
        return Finding("ポート", "bad", f"127.0.0.1 で待ち受けできません ({exc})",
                       "セキュリティソフトやファイアウォールで 127.0.0.1 (localhost) を許可してください。")
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", port))
    except OSError:
        return Finding("ポート", "ok", f"{port} は使用中 (JupyterLab は空いている別の番号を使います)")
    return Finding("ポート", "ok", f"127.0.0.1:{port} は空いています")


def _existing(folder: Path) -> Path:
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    return folder


def check_disk_and_write(home: Path | None = None) -> list[Finding]:
    """Free space and write access where the workspaces and data live (nothing is kept)."""
    home = home or _paths.home()
    where = display_path(home)
    base = _existing(home)
    findings = []
    free = shutil.disk_usage(base).free
    gb = f"{free / 1e9:.1f} GB"
    if free < MIN_FREE_BYTES:
        findings.append(Finding("ディスクの空き", "bad", f"{gb} ({where})",
                                "1 GB 以上空けてください (MNIST とその読み込み用キャッシュ、モデルを置きます)。"))
    else:
        findings.append(Finding("ディスクの空き", "ok", f"{gb} ({where})"))
    try:
        with tempfile.NamedTemporaryFile(dir=base, prefix=".amlhandson-doctor-"):
            pass
    except OSError as exc:
        findings.append(Finding("書き込み", "bad", f"{display_path(base)} に書き込めません ({exc})",
                                "環境変数 AMLHANDSON_HOME を書き込めるフォルダーにしてください。"))
    else:
        findings.append(Finding("書き込み", "ok", f"{where} に書き込めます"))
    return findings


def diagnose() -> list[Finding]:
    """Run every check, in the order the report shows them."""
    return [check_python(), *check_packages(), *check_jupyterlab(), check_mnist(), check_port(),
            *check_disk_and_write()]


_MARKS = {"ok": ("OK", "32"), "warn": ("注意", "33"), "bad": ("NG", "31")}


def render(findings: list[Finding], *, color: bool = False) -> str:
    """The findings as a table (green OK, yellow 注意, red NG) and a closing line.

    Example:
        >>> print(render([Finding("Python", "ok", "3.11.7")]))
        状態  項目    結果    直し方
        ----  ------  ------  ------
        OK    Python  3.11.7  -
        <BLANKLINE>
        すべて OK です。コースを始められます。
    """
    rows = []
    for f in findings:
        mark, code = _MARKS[f.level]
        rows.append([mark, f.item, f.detail, f.fix or "-"])
    table = text_table(["状態", "項目", "結果", "直し方"], rows)
    if color:
        lines = table.splitlines()
        for i, f in enumerate(findings, start=2):
            mark, code = _MARKS[f.level]
            lines[i] = f"\033[{code}m{mark}\033[0m" + lines[i][len(mark):]
        table = "\n".join(lines)
    bad = sum(f.level == "bad" for f in findings)
    warn = sum(f.level == "warn" for f in findings)
    if bad:
        end = f"NG が {bad} 件あります。「直し方」を実行してから、もう一度 amlhandson doctor を実行してください。"
    elif warn:
        end = f"注意が {warn} 件ありますが、コースは始められます。"
    else:
        end = "すべて OK です。コースを始められます。"
    return f"{table}\n\n{end}"


def exit_code(findings: list[Finding]) -> int:
    """``1`` when any finding is ``bad`` (for scripts), else ``0``.

    Example:
        >>> exit_code([Finding("x", "warn", "")]), exit_code([Finding("x", "bad", "")])
        (0, 1)
    """
    return int(any(f.level == "bad" for f in findings))
