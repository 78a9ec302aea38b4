"""``amlhandson compat check``: will this v1 notebook or script run through the layer?

* A **script** (``.py``) is scanned statically: every ``azureml`` import is looked
  up through the layer (so the answer is what exists in *this* amlhandson), and
  2019 library spellings (``sklearn.externals.joblib``, ``np.float``,
  ``multi_class=`` ...) and v1 calls that need a change are reported by line.
* A **notebook** (``.ipynb``) is *run*: its folder is copied to a scratch folder
  (with the ``config.json`` it would have found), a first cell installs the layer,
  every code cell runs in a fresh kernel (errors do not stop the run) with a
  scratch ``AMLHANDSON_HOME``, and each cell is reported as ran, cloud-only
  (``NotSupportedLocallyError``), or needing a change (with the error's message).
  Cells that only ``pip install`` the Azure ML SDK are skipped (not needed).
  ``static=True`` scans the notebook's code instead of running it.

The result is a table; :attr:`Report.exit_code` is 0 when the share of rows that
run is at least ``fail_under`` percent (100 by default), 1 otherwise.

Example:
    >>> report = scan_source("from azureml.core.webservice import AksWebservice\\n")
    >>> [(f.status, f.code) for f in report.findings]
    [('cloud', 'from azureml.core.webservice import AksWebservice')]
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._tables import text_table
from ..exceptions import UserErrorException
from . import _errors, _hook, _shims, _table

__all__ = ["Finding", "Report", "scan_source", "check_script", "check_notebook", "check_path",
           "check_notebook_static", "installs_sdk_only", "STATUS_TEXT", "MAX_FILE_BYTES",
           "MAX_COPY_BYTES"]

OK, SHIM, CLOUD, CHANGE, SKIPPED = "ok", "shim", "cloud", "change", "skipped"
#: How each result is shown.
STATUS_TEXT = {OK: "動く", SHIM: "動く (互換)", CLOUD: "クラウド専用", CHANGE: "要変更",
               SKIPPED: "スキップ"}
#: Files bigger than this are not copied into the scratch folder of a notebook run.
MAX_FILE_BYTES = 100 * 1024 * 1024
#: A notebook folder bigger than this (after skipping big files) is refused.
MAX_COPY_BYTES = 500 * 1024 * 1024
_IGNORED = shutil.ignore_patterns(".git", ".ipynb_checkpoints", "__pycache__", ".venv",
                                  "azureml-logs", "node_modules")


@dataclass
class Finding:
    """One row: where (a line or a cell), the code, the result and why."""

    where: str
    code: str
    status: str
    why: str = ""


@dataclass
class Report:
    """What :func:`check_path` found.

    Example:
        >>> r = Report("x.py", [Finding("1", "import os", OK)], unit="行")
        >>> r.ratio, r.exit_code
        (1.0, 0)
    """

    path: str
    findings: list[Finding] = field(default_factory=list)
    unit: str = "行"
    fail_under: float = 100.0
    notes: list[str] = field(default_factory=list)

    @property
    def counted(self) -> list[Finding]:
        """The rows that count (skipped ones do not)."""
        return [f for f in self.findings if f.status != SKIPPED]

    @property
    def ratio(self) -> float:
        """Share of counted rows that run (1.0 when there is nothing to count)."""
        counted = self.counted
        if not counted:
            return 1.0
        return sum(f.status in (OK, SHIM) for f in counted) / len(counted)

    @property
    def exit_code(self) -> int:
        """0 when :attr:`ratio` reaches ``fail_under`` percent, else 1."""
        return 0 if self.ratio * 100 >= self.fail_under - 1e-9 else 1

    def render(self) -> str:
        """The report as text: a table, then a summary line."""
        rows = [[f.where, STATUS_TEXT[f.status], _short(f.code, 60), f.why]
                for f in self.findings]
        head = ["セル" if self.unit == "セル" else "行", "結果", "コード", "理由"]
        lines = [f"{self.path}:"]
        lines.append(text_table(head, rows) if rows else "(azureml の import も 2019 年の"
                                                          "書き方も見つかりませんでした)")
        counted = self.counted
        ran = sum(f.status in (OK, SHIM) for f in counted)
        lines.append(f"{ran}/{len(counted)} {'セル' if self.unit == 'セル' else '項目'}が動きます"
                     f" ({self.ratio * 100:.0f}%)。"
                     + ("" if self.exit_code == 0 else f" 基準 {self.fail_under:g}% に届きません。"))
        lines.extend(self.notes)
        return "\n".join(lines)


def _short(text: str, width: int) -> str:
    line = " ".join(text.strip().splitlines()[0].split()) if text.strip() else ""
    return line if len(line) <= width else line[: width - 1] + "…"


# ---- static scan ---------------------------------------------------------------------------
_MAGIC = re.compile(r"^(\s*)([%!].*)$")


def _python_only(source: str) -> str:
    """``source`` with IPython magics and shell lines turned into ``pass`` (same line numbers)."""
    if source.lstrip().startswith("%%"):
        return ""
    return "\n".join(_MAGIC.sub(lambda m: f"{m.group(1)}pass", line)
                     for line in source.splitlines())


def _live(module: str, name: str | None) -> tuple[str, str]:
    """(status, why) of ``module`` / ``module.name`` through the installed layer."""
    try:
        value: Any = importlib.import_module(module)
        if name is not None and name != "*":
            value = getattr(value, name)
    except AttributeError:
        return CHANGE, (f"v1 の {module} に {name} はありません (綴りを確かめてください。"
                        f"対応状況: {_table.DOCS})")
    except ImportError as exc:
        return CHANGE, str(exc)
    if _errors.is_placeholder(value):
        error = value._v1_error()
        return (CLOUD if value._v1_status == _table.CLOUD else CHANGE), str(error)
    entry = _table.lookup(module)
    item = entry.names.get(name) if entry is not None and name else None
    if item is not None and item.status == _table.DIFFERS:
        return OK, item.note
    return OK, ""


class _Scanner(ast.NodeVisitor):
    def __init__(self, lines: list[str], where: Any) -> None:
        self.lines = lines
        self.where = where
        self.findings: list[Finding] = []
        self.numpy_names = {"numpy"}

    def add(self, node: ast.AST, status: str, why: str, code: str | None = None) -> None:
        lineno = getattr(node, "lineno", 1)
        if code is None:
            code = self.lines[lineno - 1].strip() if 0 < lineno <= len(self.lines) else ""
        self.findings.append(Finding(self.where(lineno), code, status, why))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name == "numpy":
                self.numpy_names.add(alias.asname or "numpy")
            self._module(node, alias.name, None)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level:
            return
        for alias in node.names:
            full = f"{module}.{alias.name}"
            if full in _shims.RENAMED:
                self._module(node, full, None)
            else:
                self._module(node, module, alias.name)

    def _module(self, node: ast.AST, module: str, name: str | None) -> None:
        if module == "azureml" or module.startswith("azureml."):
            status, why = _live(module, name)
            code = f"import {module}" if name is None else f"from {module} import {name}"
            self.add(node, status, why, code)
            return
        renamed = _shims.RENAMED.get(module)
        if renamed is not None:
            self.add(node, SHIM, f"{renamed.since} で削除。いまの書き方: {renamed.modern}")
            return
        if module in _shims.COMPANIONS:
            self.add(node, SHIM, "inference_schema の代わりに amlhandson.core.webservice.schema")
            return
        if module == "sklearn.datasets" and name == "fetch_mldata":
            self.add(node, SHIM, "scikit-learn 0.22 で削除。MNIST は amlhandson.datasets.mnist から")
        elif module == "sklearn.datasets" and name == "load_boston":
            self.add(node, CHANGE, "load_boston は scikit-learn 1.2 で削除: "
                                   "fetch_california_housing() か load_diabetes()")
        elif module == "sklearn.preprocessing" and name == "Imputer":
            self.add(node, SHIM, "scikit-learn 0.22 で削除。いまの書き方: SimpleImputer")
        elif module == "sklearn.metrics" and name in _shims._PLOTS:
            self.add(node, SHIM, f"scikit-learn 1.2 で削除。いまの書き方: "
                                 f"{_shims._PLOTS[name]}.from_estimator")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if (isinstance(node.value, ast.Name) and node.value.id in self.numpy_names
                and node.attr in _shims.NUMPY_ALIASES):
            _, modern, since = _shims.NUMPY_ALIASES[node.attr]
            self.add(node, SHIM, f"np.{node.attr} は {since} で削除。いまの書き方: {modern}")
        elif node.attr in ("deploy_from_model", "deploy_from_image"):
            self.add(node, CHANGE, "InferenceConfig と Model.deploy(...) に書き換える "
                                   "(2019 年 8 月以降の v1 の書き方)")
        elif node.attr == "get_submitted_run":
            self.add(node, SHIM, "v1 でも非推奨。いまの書き方: Run.get_context()")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        if any(k.arg == "multi_class" for k in node.keywords):
            self.add(node, SHIM, "LogisticRegression(multi_class=...) は scikit-learn 1.8 で削除 "
                                 "(互換レイヤーが one-vs-rest で作ります)")
        for arg in node.args:
            if isinstance(arg, ast.Constant) and _shims.mnist_key(arg.value):
                self.add(node, SHIM, "MNIST は amlhandson.datasets.mnist の検証済みファイルから")
        self.generic_visit(node)


def scan_source(source: str, path: str = "<source>", where: Any = None) -> Report:
    """Scan Python source statically (through the layer, installed for the scan if needed).

    Example:
        >>> scan_source("import numpy as np; x = np.float(1)").findings[0].status
        'shim'
    """
    where = where or (lambda lineno: str(lineno))
    report = Report(path)
    try:
        tree = ast.parse(_python_only(source), filename=path)
    except SyntaxError as exc:
        report.findings.append(Finding(where(exc.lineno or 1), exc.text or "", CHANGE,
                                       f"文法エラー: {exc.msg} (Python 3 の文法にしてください)"))
        return report
    installed_here = not _hook.is_installed()
    if installed_here:
        _hook.install(force=True)
    try:
        scanner = _Scanner(source.splitlines(), where)
        scanner.visit(tree)
    finally:
        if installed_here:
            _hook.uninstall()
    report.findings = scanner.findings
    return report


def check_script(path: str | os.PathLike[str]) -> Report:
    """Scan a ``.py`` file statically.

    Example:
        >>> check_script("train.py").exit_code  # doctest: +SKIP
        0
    """
    text = Path(path).read_text(encoding="utf-8")
    return scan_source(text, str(path))


def _read_notebook(path: Path) -> dict[str, Any]:
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserErrorException(f"{path} をノートブックとして読めませんでした ({exc})。") from exc
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise UserErrorException(f"{path} はノートブック (.ipynb) の形をしていません。")
    return notebook


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _code_cells(notebook: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in notebook["cells"] if c.get("cell_type") == "code"]


_INSTALL = re.compile(r"^\s*[!%]\s*(pip|conda)\s+install\b", re.IGNORECASE)


def installs_sdk_only(source: str) -> bool:
    """Whether a cell only installs packages, among them the Azure ML SDK (not needed here).

    Example:
        >>> installs_sdk_only("!pip install --upgrade azureml-sdk[notebooks]")
        True
        >>> installs_sdk_only("!pip install tqdm")
        False
    """
    lines = [line for line in source.splitlines() if line.strip() and
             not line.strip().startswith("#")]
    return bool(lines) and all(_INSTALL.match(line) for line in lines) and \
        any("azureml" in line.lower() for line in lines)


def check_notebook_static(path: str | os.PathLike[str]) -> Report:
    """Scan a notebook's code cells statically (no kernel).

    Example:
        >>> check_notebook_static("tutorial.ipynb").render()  # doctest: +SKIP
    """
    path = Path(path)
    notebook = _read_notebook(path)
    report = Report(str(path), unit="行")
    for number, cell in enumerate(_code_cells(notebook), start=1):
        part = scan_source(_source(cell), str(path), where=lambda n, c=number: f"{c}:{n}")
        report.findings.extend(part.findings)
    return report


def _copy_folder(source: Path, target: Path) -> list[str]:
    """Copy ``source`` to ``target``, skipping huge files; return the skipped names."""
    skipped: list[str] = []
    total = 0

    def ignore(folder: str, names: list[str]) -> set[str]:
        nonlocal total
        dropped = set(_IGNORED(folder, names))
        for name in names:
            full = os.path.join(folder, name)
            if name in dropped or os.path.islink(full) or not os.path.isfile(full):
                continue
            size = os.path.getsize(full)
            if size > MAX_FILE_BYTES:
                dropped.add(name)
                skipped.append(os.path.relpath(full, source))
            else:
                total += size
        if total > MAX_COPY_BYTES:
            raise UserErrorException(
                f"{source} は {MAX_COPY_BYTES // 2**20} MB を超えるので作業用にコピーできません。"
                "ノートブックを小さなフォルダーに移してから試してください。")
        return dropped

    shutil.copytree(source, target, ignore=ignore, symlinks=False, ignore_dangling_symlinks=True)
    return skipped


def _classify(outputs: list[dict[str, Any]]) -> tuple[str, str]:
    for output in outputs:
        if output.get("output_type") == "error":
            name, value = output.get("ename", ""), output.get("evalue", "")
            if name == "NotSupportedLocallyError":
                return CLOUD, value
            return CHANGE, f"{name}: {value}" if value else name
    return OK, ""


def check_notebook(path: str | os.PathLike[str], *, timeout: int = 600,
                   kernel_name: str = "python3", force: bool = False,
                   keep: bool = False) -> Report:
    """Run a notebook cell by cell in a scratch copy with the layer on; report each cell.

    Example:
        >>> print(check_notebook("tutorial.ipynb", timeout=300).render())  # doctest: +SKIP
    """
    try:
        import nbformat
        from nbclient import NotebookClient
    except ImportError as exc:  # pragma: no cover - both come with the course extra
        raise UserErrorException("ノートブックを実行するには nbclient が必要です: "
                                 "pip install nbclient nbformat") from exc
    from ..core.workspace import find_config

    path = Path(path).resolve()
    notebook = nbformat.reads(json.dumps(_read_notebook(path)), as_version=4)
    scratch = Path(tempfile.mkdtemp(prefix="amlhandson-compat-check-"))
    report = Report(str(path), unit="セル")
    try:
        work = scratch / "work"
        skipped_files = _copy_folder(path.parent, work)
        if skipped_files:
            report.notes.append("大きすぎてコピーしなかったファイル: " + ", ".join(skipped_files))
        if not (work / "config.json").exists():
            try:
                shutil.copyfile(find_config(path.parent), work / "config.json")
            except FileNotFoundError:
                pass
        cells = [c for c in notebook.cells if c.cell_type == "code"]
        skipped: dict[int, str] = {}
        for index, cell in enumerate(cells):
            if installs_sdk_only(cell.source):
                skipped[index] = "Azure ML SDK のインストール (互換レイヤーでは不要)"
                cell.source = "pass"
        setup = nbformat.v4.new_code_cell(
            f"import amlhandson.compat\namlhandson.compat.install(force={force!r})")
        notebook.cells.insert(0, setup)
        client = NotebookClient(notebook, timeout=timeout, kernel_name=kernel_name,
                                allow_errors=True, interrupt_on_timeout=True,
                                resources={"metadata": {"path": str(work)}})
        env = dict(os.environ, AMLHANDSON_HOME=str(scratch / "home"), MPLBACKEND="Agg")
        env.pop("AMLHANDSON_COMPAT", None)
        client.execute(env=env)
        status, why = _classify(setup.get("outputs", []))
        if status != OK:
            raise UserErrorException(f"互換レイヤーを有効にできませんでした: {why}")
        for index, cell in enumerate(cells):
            first = _source(cell) if index not in skipped else _source(
                _code_cells(_read_notebook(path))[index])
            if index in skipped:
                report.findings.append(Finding(str(index + 1), first, SKIPPED, skipped[index]))
                continue
            status, why = _classify(cell.get("outputs", []))
            report.findings.append(Finding(str(index + 1), first, status, why))
    finally:
        if keep:
            report.notes.append(f"作業フォルダー: {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return report


def check_path(path: str | os.PathLike[str], *, static: bool = False, timeout: int = 600,
               kernel_name: str = "python3", force: bool = False, keep: bool = False,
               fail_under: float = 100.0) -> Report:
    """Check a ``.py`` (static) or ``.ipynb`` (run, or ``static``) file.

    Raises UserErrorException for a missing file or another kind of file.

    Example:
        >>> check_path("tutorial.ipynb", fail_under=90).exit_code  # doctest: +SKIP
        0
    """
    path = Path(path)
    if not path.is_file():
        raise UserErrorException(f"{path} がありません。ノートブック (.ipynb) かスクリプト (.py) を"
                                 "指定してください。")
    if path.suffix == ".py":
        report = check_script(path)
    elif path.suffix == ".ipynb":
        report = (check_notebook_static(path) if static else
                  check_notebook(path, timeout=timeout, kernel_name=kernel_name, force=force,
                                 keep=keep))
    else:
        raise UserErrorException(f"{path}: .ipynb か .py のファイルを指定してください。")
    report.fail_under = fail_under
    return report

