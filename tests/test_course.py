"""The course as learners and instructors meet it: whole passes through the notebooks.

- the student edition runs top to bottom, stopping at nothing, with every check waiting
  for an answer, and every exercise answered wrongly (a wrong value, a wrong type) gets
  one line of feedback and no error;
- the course run twice on one home gives runs with the same files and metrics both times
  (nothing one notebook leaves behind is picked up by another notebook's runs), every
  worked solution passes its check; the kernels see only what ``pip install -e
  ".[course]"`` installs (the test install adds test tools and other extras, hidden here),
  so this proves the README's course command is enough;
- nbval runs the notebooks in a copy and leaves nothing in ``notebooks/`` or the temp folder;
- ``amlhandson course`` prints one short banner once JupyterLab answers;
- MNIST is in one place whatever folder a command runs in;
- the README's times agree with the notebooks'.

The notebooks run with the bundled MNIST sample (the root conftest keeps the session
offline), each pass in a fresh copy of the course and a fresh ``AMLHANDSON_HOME``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from collections import Counter
from pathlib import Path

import nbformat
import pytest

from amlhandson._course import copy_course, make_student_edition
from amlhandson.exercises import NOT_ANSWERED

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
COURSE = sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))
_TIMESTAMP = re.compile(r"_\d{10}(?=\.\w+$)")
#: Generated run ids in display names: uuid (05), HD_<uuid> (HyperDrive), <experiment>_<time>_<hex> (07)
_RUN_ID = re.compile(r"run_(HD_)?[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}|run_[\w.-]+?_\d{10}_[0-9a-f]{8}")
#: A HyperDrive parent's get_metrics() is keyed by its trials' ids (v1).
_HD_ID = re.compile(r"HD_[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}")


# -- running notebooks ------------------------------------------------------------------------
def _fresh_home(tmp: Path) -> Path:
    """A new AMLHANDSON_HOME (for this process and the kernels it starts) with MNIST in it."""
    from amlhandson.datasets import mnist

    home = tmp / "home"
    os.environ["AMLHANDSON_HOME"] = str(home)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mnist.MnistWarning)
        mnist.download(progress=False)
    return home


#: Appended to a notebook to see which top-level modules its kernel loaded.
_LOADED = "import sys as _s\nprint(sorted({_m.split('.')[0] for _m in _s.modules}))"


def run_notebook(path: Path, cwd: Path, *, loaded: set[str] | None = None) -> nbformat.NotebookNode:
    """Execute the notebook at ``path`` with its kernel in ``cwd``; errors stay in the outputs.

    With ``loaded``, the names of the top-level modules the kernel loaded are added to it.
    """
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    if loaded is not None:
        nb.cells.append(nbformat.v4.new_code_cell(_LOADED))
    NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(cwd)}}).execute()
    if loaded is not None:
        import ast

        loaded.update(ast.literal_eval(_printed(nb.cells.pop())))
    return nb


def _course_install() -> set[str]:
    """Distributions that ``pip install -e ".[course]"`` installs (normalised names)."""
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    found: dict[str, set[str]] = {}
    todo = [("amlhandson", {"course"})]
    while todo:
        name, extras = todo.pop()
        key = canonicalize_name(name)
        if key in found and extras <= found[key]:
            continue
        found[key] = found.get(key, set()) | extras
        try:
            requirements = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for requirement in map(Requirement, requirements):
            if requirement.marker is None or any(requirement.marker.evaluate({"extra": e})
                                                 for e in extras or {""}):
                todo.append((requirement.name, set(requirement.extras)))
    return set(found)


#: Installer tools that every virtualenv has (setuptools' start-up hook is loaded by a .pth file).
_INSTALLERS = {"pip", "setuptools", "wheel"}


def _top_level_modules() -> dict[str, set[str]]:
    """Top-level module name -> the distributions that install it.

    Like ``importlib.metadata.packages_distributions()`` of Python 3.11+, which also reads
    the installed file list; 3.10's only reads ``top_level.txt``, which meson-built wheels
    such as pandas do not have.
    """
    from importlib import metadata

    found: dict[str, set[str]] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        top = (dist.read_text("top_level.txt") or "").split()
        for path in dist.files or []:
            first = path.parts[0]
            if first.startswith("__") or first.endswith((".dist-info", ".egg-info", ".data")):
                continue
            if len(path.parts) > 1:
                top.append(first)
            elif len(path.parts) == 1 and first.endswith(".py"):
                top.append(first[:-3])
        for module in top:
            found.setdefault(module, set()).add(name)
    return found


def _course_only(folder: Path) -> Path:
    """A folder that, first on ``PYTHONPATH``, hides every package the course install lacks.

    Each top-level module that only distributions outside the course install provide
    (pandas, optuna, pytest ...) becomes a package whose import fails exactly as a
    missing module's does, so optional imports (``try: import pandas``) fall back and
    a needed one fails the notebook.
    """

    from packaging.utils import canonicalize_name

    course = _course_install() | _INSTALLERS
    for module, dists in _top_level_modules().items():
        if not module.isidentifier() or {canonicalize_name(d) for d in dists} & course:
            continue
        package = folder / module
        package.mkdir(parents=True, exist_ok=True)
        (package / "__init__.py").write_text(
            f"raise ModuleNotFoundError(\"No module named '{module}'\", name={module!r})\n")
    return folder


def _errors(nb: nbformat.NotebookNode) -> list[str]:
    return [f"{c.id}: {o.get('ename')}: {o.get('evalue')}" for c in nb.cells
            for o in c.get("outputs", []) if o.output_type == "error"]


def _printed(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []))


def _tags(cell: nbformat.NotebookNode) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


@pytest.fixture
def course_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep AMLHANDSON_HOME changes of a pass inside the test."""
    monkeypatch.setenv("AMLHANDSON_HOME", os.environ["AMLHANDSON_HOME"])
    return tmp_path


#: Answers every exercise gets after its check, in the student edition: a word and a number,
#: so each exercise sees a wrong value and a value of the wrong type.
WRONG_ANSWERS = ('"zzz"', "12345")


def _with_wrong_answers(path: Path) -> int:
    """After each check cell, answer the exercise wrongly twice and check again; then reset.

    Returns how many probes were added. The probes are tagged ``probe``.
    """
    nb = nbformat.read(path, as_version=4)
    cells, names, probes = [], [], 0
    for cell in nb.cells:
        cells.append(cell)
        if "exercise" in _tags(cell):
            names += re.findall(r"^(\w+) = None\b", cell.source, re.M)
        elif "check" in _tags(cell) and names:
            for wrong in WRONG_ANSWERS:
                setting = "\n".join(f"{name} = {wrong}" for name in names)
                probe = nbformat.v4.new_code_cell(f"{setting}\n{cell.source}")
                probe.metadata["tags"] = ["probe"]
                cells.append(probe)
                probes += 1
            cells.append(nbformat.v4.new_code_cell("\n".join(f"{n} = None" for n in names)))
            names = []
    nb.cells = cells
    nbformat.write(nb, path)
    return probes


def test_student_edition_runs_up_to_every_exercise(course_env: Path) -> None:
    written = make_student_edition(NOTEBOOKS, course_env / "student")
    assert [p.name for p in written] == [p.name for p in COURSE]
    assert (course_env / "student" / "config.json").is_file()
    _fresh_home(course_env)
    for path in written:
        assert _with_wrong_answers(path) >= 2, path.name
        nb = run_notebook(path, path.parent)
        assert not _errors(nb), f"{path.name}: {_errors(nb)}"
        checks = [c for c in nb.cells if "check" in _tags(c)]
        assert checks and not any("solution" in _tags(c) for c in nb.cells)
        for cell in checks:
            assert NOT_ANSWERED in _printed(cell), f"{path.name} {cell.id}: {_printed(cell)!r}"
        # every exercise answered with a wrong value and a wrong type: one line saying so
        for cell in nb.cells:
            if "probe" in _tags(cell):
                said = _printed(cell)
                assert said.startswith("❌") and said.count("\n") == 1, f"{path.name}: {said!r}"


def _runs_signature(home: Path, seen: set[str]) -> Counter:
    """What the runs made since ``seen`` hold: experiment, name, files, metric names."""
    from amlhandson import Workspace

    ws = Workspace.get("docs-ws", resource_group="docs-aml")
    found: Counter = Counter()
    for name, exp in ws.experiments.items():
        for run in exp.get_runs(include_children=True):
            if run.id in seen:
                continue
            seen.add(run.id)
            files = tuple(sorted(_TIMESTAMP.sub("_T", f) for f in run.get_file_names()))
            shown = _RUN_ID.sub("run_ID", run.display_name)  # a child's name holds its parent's
            metrics = tuple(sorted(_HD_ID.sub("HD_ID", m) for m in run.get_metrics()))
            found[(name, shown, files, metrics)] += 1
    return found


def test_the_course_twice_on_one_home_gives_the_same_runs(course_env: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # The test install has more than the course install (test tools, other extras): hide it
    # from the kernels (and the web services they start), so this runs what learners have.
    hidden = _course_only(course_env / "course-only")
    assert (hidden / "pytest").is_dir() and (hidden / "pandas").is_dir()
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        p for p in (str(hidden), os.environ.get("PYTHONPATH")) if p))
    course = copy_course(NOTEBOOKS, course_env / "copy", with_notebooks=False)
    home = _fresh_home(course_env)
    seen: set[str] = set()
    passes = []
    loaded: set[str] = set()
    for _ in range(2):
        for path in COURSE:
            nb = run_notebook(path, course, loaded=loaded)
            assert "pandas" not in loaded and "pytest" not in loaded  # the hiding works
            assert not _errors(nb), f"{path.name}: {_errors(nb)}"
            for cell in nb.cells:
                if "solution" in _tags(cell) and "check" in _tags(cell):
                    assert "✅" in _printed(cell), f"{path.name} {cell.id}: {_printed(cell)!r}"
        passes.append(_runs_signature(home, seen))
    first, second = passes
    assert first and first == second
    knn = [sig for sig in first if sig[0] == "my-first-experiment"]
    assert knn and not any(f.startswith("outputs/") for sig in knn for f in sig[2]), \
        "a run of 05 picked up a file that 06 left in outputs/"
    assert any("outputs/sklearn_mnist_model.pkl" in sig[2] for sig in first
               if sig[0] == "deploy-mnist")
    assert {"numpy", "sklearn", "matplotlib", "amlhandson"} <= loaded


# -- nbval in a copy, nothing left behind ---------------------------------------------------------
def test_nbval_leaves_nothing_in_notebooks_or_the_temp_folder(tmp_path: Path) -> None:
    before = sorted(p.name for p in NOTEBOOKS.iterdir())
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "AMLHANDSON_HOME"}
    env["TMPDIR"] = str(temp)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "--basetemp", str(tmp_path / "bt"),
         str(NOTEBOOKS / "01-workspace.ipynb"), str(NOTEBOOKS / "02-mnist-data.ipynb")],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert sorted(p.name for p in NOTEBOOKS.iterdir()) == before  # no .azureml/, data/ ...
    assert list(temp.iterdir()) == [], "temporary homes or course copies were left behind"


# -- amlhandson course --------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_course_prints_one_banner_when_jupyterlab_answers(tmp_path: Path) -> None:
    env = dict(os.environ, AMLHANDSON_HOME=str(tmp_path / "home"), AMLHANDSON_MNIST_NO_PUBLIC="1",
               HOME=str(tmp_path), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    env.pop("AMLHANDSON_MNIST_MIRROR", None)
    proc = subprocess.Popen([sys.executable, "-m", "amlhandson.cli", "course", "--no-browser",
                             "--port", str(_free_port())], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
            if "終わるとき" in line:
                lines.append(proc.stdout.readline().rstrip("\n"))
                break
        text = "\n".join(lines)
        url = next(re.finditer(r"http://127\.0\.0\.1:\d+/lab/tree/00-overview\.ipynb\?token=\w+",
                               text)).group(0)
        assert "最初に開く : notebooks/00-overview.ipynb" in text
        assert "MNIST      : 見本 (sample" in text
        assert not [line for line in lines if re.match(r"\[[IWDC] ", line)], text  # no Jupyter log
        assert len(lines) <= 12, text
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(url, timeout=30) as answer:
            assert answer.status == 200
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_course_student_writes_the_edition_once_and_keeps_a_learners_work(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from amlhandson.cli import main

    target = tmp_path / "student"
    assert main(["course", "--student", "--student-dir", str(target), "--no-lab"]) == 0
    first = target / "notebooks" / "05-experiments.ipynb"
    nb = json.loads(first.read_text(encoding="utf-8"))
    assert not any("solution" in c["metadata"].get("tags", []) for c in nb["cells"])
    assert (target / "notebooks" / "utils.py").is_file() and (target / "config.json").is_file()
    first.write_text(first.read_text(encoding="utf-8").replace("my_run = None", "my_run = 1"))
    assert main(["course", "--student", "--student-dir", str(target), "--no-lab"]) == 0
    assert "my_run = 1" in first.read_text(encoding="utf-8")
    assert "既にあるノートブックはそのまま" in capsys.readouterr().out


# -- one MNIST location ---------------------------------------------------------------------------
def test_mnist_from_the_cli_in_any_folder_is_where_the_notebooks_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from amlhandson.datasets import mnist

    home = tmp_path / "home"
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    env = dict(os.environ, AMLHANDSON_HOME=str(home), AMLHANDSON_MNIST_NO_PUBLIC="1")
    env.pop("AMLHANDSON_MNIST_MIRROR", None)
    proc = subprocess.run([sys.executable, "-m", "amlhandson.cli", "data", "mnist",
                           "--no-progress"], cwd=elsewhere, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "$AMLHANDSON_HOME/datasets/mnist/train-images.gz" in proc.stdout
    assert list(elsewhere.iterdir()) == []  # no ./data in the folder it ran in
    monkeypatch.setenv("AMLHANDSON_HOME", str(home))
    monkeypatch.chdir(tmp_path)
    assert mnist.status().kind == "sample"
    X_train, y_train, X_test, y_test = mnist.load()
    assert X_train.shape == (6000, 784) and y_test.shape == (1000,)


# -- README -------------------------------------------------------------------------------------
def _minutes(text: str) -> int:
    match = re.search(r"約 (?:(\d+) 時間 ?)?(\d+) 分", text)
    assert match, text[:200]
    return int(match.group(1) or 0) * 60 + int(match.group(2))


def test_readme_times_agree_with_the_notebooks() -> None:
    per_notebook = {}
    for path in COURSE:
        nb = nbformat.read(path, as_version=4)
        text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        per_notebook[path.name] = _minutes(text.split("## 所要時間", 1)[1])
    course_readme = (NOTEBOOKS / "README.md").read_text(encoding="utf-8")
    for name, minutes in per_notebook.items():
        row = next(line for line in course_readme.splitlines() if f"]({name})" in line)
        assert f"| {minutes} 分 |" in row, f"notebooks/README.md: {name} は約 {minutes} 分"
    total = sum(per_notebook.values())
    for readme in (course_readme, (REPO / "README.md").read_text(encoding="utf-8")):
        stated = re.search(r"合計で約 (\d+) 時間 (\d+) 分", readme)
        assert stated and int(stated.group(1)) * 60 + int(stated.group(2)) == total
