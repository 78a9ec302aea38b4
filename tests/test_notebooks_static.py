"""Static checks over the course notebooks (``notebooks/*.ipynb``), without running them.

Running them is nbval's job (``pytest --nbval-lax notebooks/``); these tests check
what a reviewer would: structure, stored outputs, links, paths, exercises, the
sanitize rules, the generator and ``notebooks/utils.py``.
"""

from __future__ import annotations

import configparser
import gzip
import importlib.util
import json
import re
import struct
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
NOTEBOOK_FILES = sorted(NOTEBOOKS.glob("*.ipynb"))
NAME_RULE = re.compile(r"^(\d{2})-[a-z0-9]+(-[a-z0-9]+)*\.ipynb$")
REQUIRED_HEADINGS = ("学習の目的", "所要時間", "演習", "まとめ")
CHECK_CALL = re.compile(r"\bcheck(_\w+)?\(")
IMAGE_MD = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
IMAGE_HTML = re.compile(r"<img\b[^>]*\bsrc\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)
LINK_MD = re.compile(r"(?<!!)\[[^\]]*\]\(\s*<?([^)\s>]+)>?\s*\)")


@pytest.fixture(autouse=True)
def _isolated_home(aml_home: Path) -> Path:
    """Every test gets its own AMLHANDSON_HOME (nothing here should touch it)."""
    return aml_home


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _markdown(nb: nbformat.NotebookNode) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def _check_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if c.cell_type == "code" and CHECK_CALL.search(c.source)]


def _tags(cell: nbformat.NotebookNode) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _printed(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []))


def _significant(line: str) -> bool:
    """A solution line that gives something away (not a comment, import, print or magic)."""
    text = line.strip()
    return bool(text) and not text.startswith(("#", "import ", "from ", "print(", "%%", "%"))


def _exercise_groups(nb: nbformat.NotebookNode) -> list[dict]:
    """The exercises in order: their cells, check, hints, and the matching solution cells.

    An exercise is one or more ``exercise`` cells, then a ``check`` cell, then ``hint``
    markdown (each ``<details>`` block is one step). The solutions come later, in the
    same order, each ending with a ``check`` cell tagged ``solution``.
    """
    groups: list[dict] = []
    current: dict | None = None
    solutions: list[dict] = []
    pending: list[nbformat.NotebookNode] = []
    for cell in nb.cells:
        tags = _tags(cell)
        if "solution" in tags:
            if "check" in tags:
                solutions.append({"cells": pending, "check": cell})
                pending = []
            elif cell.cell_type == "code":
                pending.append(cell)
            continue
        if "exercise" in tags:
            if current is None or current["check"] is not None:
                current = {"exercise": [], "check": None, "hints": []}
                groups.append(current)
            current["exercise"].append(cell)
        elif "check" in tags and current is not None:
            current["check"] = cell
        elif "hint" in tags and current is not None:
            current["hints"].extend(re.findall(r"<details>.*?</details>", cell.source, re.S))
    for group, solution in zip(groups, solutions + [None] * len(groups)):
        group["hints"] = [nbformat.v4.new_markdown_cell(h) for h in group["hints"]]
        group["solution"] = solution["cells"] if solution else []
        group["solution_check"] = solution["check"] if solution else None
    return groups


def test_there_are_notebooks_with_consecutive_numbers() -> None:
    names = [p.name for p in NOTEBOOK_FILES]
    assert names, "notebooks/ に .ipynb がありません"
    bad = [n for n in names if not NAME_RULE.match(n)]
    assert not bad, f"ファイル名は NN-name.ipynb (小文字・数字・'-') にしてください: {bad}"
    numbers = [int(NAME_RULE.match(n).group(1)) for n in names]
    assert numbers == list(range(len(numbers))), f"番号が 00 から連続していません: {names}"


@pytest.mark.parametrize("path", NOTEBOOK_FILES, ids=lambda p: p.stem)
class TestNotebook:
    def test_valid_nbformat(self, path: Path) -> None:
        raw = json.loads(path.read_text(encoding="utf-8"))
        assert raw["nbformat"] == 4
        nb = _read(path)
        nbformat.validate(nb)
        ids = [c.get("id") for c in nb.cells]
        assert all(ids) and len(set(ids)) == len(ids), "セルの id がないか重複しています"
        assert nb.metadata.get("kernelspec", {}).get("name") == "python3"

    def test_title_and_required_sections(self, path: Path) -> None:
        nb = _read(path)
        first = nb.cells[0]
        assert first.cell_type == "markdown" and first.source.startswith("# "), \
            "最初のセルはタイトル (# ...) の Markdown にしてください"
        text = _markdown(nb)
        missing = [h for h in REQUIRED_HEADINGS if not re.search(rf"^#+ .*{h}", text, re.M)]
        assert not missing, f"見出しがありません: {missing}"

    def test_time_estimate_is_stated(self, path: Path) -> None:
        text = _markdown(_read(path))
        section = text.split("所要時間", 1)[1][:400]
        assert re.search(r"約 ?\d+ ?分", section), "所要時間に「約 N 分」を書いてください"

    def test_no_error_outputs_and_no_stderr(self, path: Path) -> None:
        for cell in _read(path).cells:
            for out in cell.get("outputs", []):
                assert out.output_type != "error", f"{cell.id}: エラーの出力が保存されています"
                assert not (out.output_type == "stream" and out.name == "stderr"), \
                    f"{cell.id}: stderr (警告など) の出力が保存されています: {out.text[:200]!r}"

    def test_code_cells_were_executed(self, path: Path) -> None:
        nb = _read(path)
        code = [c for c in nb.cells if c.cell_type == "code"]
        counts = [c.execution_count for c in code]
        assert all(n is not None for n in counts), "実行されていないコードセルがあります"
        assert counts == list(range(1, len(code) + 1)), "上から順に 1 回ずつ実行した出力を保存してください"

    def test_no_machine_specific_paths(self, path: Path) -> None:
        found = _generator().machine_paths(_read(path))  # the same check the generator makes
        assert not found, "マシン固有の絶対パスがあります:\n" + "\n".join(found)

    def test_images_and_local_links_exist(self, path: Path) -> None:
        text = _markdown(_read(path))
        images = IMAGE_MD.findall(text) + IMAGE_HTML.findall(text)
        for target in images:
            assert not target.startswith(("http://", "https://")), \
                f"オフラインのコースなので画像はリンクせず、図は Mermaid か matplotlib で描いてください: {target}"
            if target.startswith("data:"):
                continue
            assert (path.parent / target.split("#")[0]).is_file(), f"画像がありません: {target}"
        for target in LINK_MD.findall(text):
            if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                continue
            assert (path.parent / target.split("#")[0]).exists(), f"リンク先がありません: {target}"

    def test_exercises_have_checks_importing_exercises(self, path: Path) -> None:
        nb = _read(path)
        checks = _check_cells(nb)
        assert checks, "演習のチェック セル (check / check_* を呼ぶセル) がありません"
        for cell in checks:
            assert "from amlhandson.exercises import" in cell.source, \
                f"{cell.id}: チェック セルで amlhandson.exercises を import してください"
            assert "check" in _tags(cell), f"{cell.id}: チェック セルには check のタグを付けてください"
        index = {id(c): i for i, c in enumerate(nb.cells)}
        for cell in checks:
            before = [c for c in nb.cells[: index[id(cell)]] if c.cell_type == "markdown"]
            assert any("演習" in c.source for c in before), f"{cell.id}: 演習の説明より前にあります"

    def test_each_exercise_has_cell_check_hints_and_a_later_solution(self, path: Path) -> None:
        groups = _exercise_groups(_read(path))
        assert groups, "演習 (exercise のタグのセル) がありません"
        for group in groups:
            first = group["exercise"][0].id
            assert group["check"] is not None, f"{first}: 演習のあとにチェックのセルがありません"
            assert len(group["hints"]) >= 2, \
                f"{first}: ヒントは <details> で 2 段階以上 (考え方 → 書き出し) にしてください"
            assert group["solution"], f"{first}: 解答例のセル (solution のタグ) がありません"
            assert group["solution_check"] is not None, f"{first}: 解答例のあとのチェックがありません"
        nb = _read(path)
        roles = [(i, _tags(c)) for i, c in enumerate(nb.cells)]
        last_task = max(i for i, t in roles if {"exercise", "check", "hint"} & set(t)
                        and "solution" not in t)
        first_solution = min(i for i, t in roles if "solution" in t)
        assert first_solution > last_task, "解答例は演習とヒントより後ろ (演習の節の最後) に置いてください"

    def test_exercises_are_committed_unsolved_and_solutions_pass(self, path: Path) -> None:
        from amlhandson.exercises import NOT_ANSWERED

        for group in _exercise_groups(_read(path)):
            printed = _printed(group["check"])
            assert NOT_ANSWERED in printed, \
                f"{group['check'].id}: 演習は未回答 (None) のまま実行した出力を保存してください: {printed!r}"
            solved = group["solution_check"]
            assert "✅" in _printed(solved), f"{solved.id}: 解答例でチェックが通っていません"
            assert "nbval-check-output" in _tags(solved), \
                f"{solved.id}: 解答例のチェックは nbval-check-output で出力を比べてください"

    def test_hints_do_not_give_the_whole_answer(self, path: Path) -> None:
        for group in _exercise_groups(_read(path)):
            hints = "\n".join(h.source for h in group["hints"])
            lines = {line.strip() for cell in group["solution"] for line in cell.source.splitlines()
                     if _significant(line)}
            assert lines, f"{group['exercise'][0].id}: 解答例にコードがありません"
            assert not all(line in hints for line in lines), \
                f"{group['exercise'][0].id}: ヒントに解答がそのまま入っています: {sorted(lines)}"

    def test_nothing_depends_on_an_exercise_answer(self, path: Path) -> None:
        nb = _read(path)
        names = set()
        for cell in nb.cells:
            if "exercise" in _tags(cell):
                names.update(re.findall(r"^(\w+) = None\b", cell.source, re.M))
        for cell in nb.cells:
            if cell.cell_type != "code" or {"exercise", "check", "solution"} & set(_tags(cell)):
                continue
            for name in names:
                assert not re.search(rf"\b{name}\b", cell.source), \
                    f"{cell.id}: 演習の答え {name} を使っています (答えなしでも動くようにします)"

    def test_checked_cells_have_stored_outputs(self, path: Path) -> None:
        for cell in _read(path).cells:
            if cell.cell_type == "code" and "nbval-check-output" in _tags(cell):
                assert cell.outputs, f"{cell.id}: nbval-check-output のセルに比べる出力がありません"

    def test_no_progress_bars_in_outputs(self, path: Path) -> None:
        gen = _generator()
        nb = _read(path)
        models = gen._widget_models(nb)
        for cell in nb.cells:
            for out in cell.get("outputs", []):
                assert not gen._is_progress_bar(out, models), \
                    f"{cell.id}: 進み具合のバーが保存されています (ウィジェットなしでは空の 0% に見えます)"

    def test_no_test_scaffolding_in_learner_cells(self, path: Path) -> None:
        for cell in _read(path).cells:
            for marker in ("NBVAL_", "AMLHANDSON_QUICK", "PYTEST_VALIDATE"):
                assert marker not in cell.source, \
                    f"{cell.id}: テスト用の {marker} はセルのタグ (nbval-*) にしてください"

    def test_student_edition_keeps_checks_and_drops_solutions(self, path: Path) -> None:
        from amlhandson._course import student_notebook

        raw = json.loads(path.read_text(encoding="utf-8"))
        student = student_notebook(raw)
        tags = [c.get("metadata", {}).get("tags", []) for c in student["cells"]]
        assert not any("solution" in t for t in tags)
        checks = [t for t in tags if "check" in t]
        assert len(checks) == len(_exercise_groups(_read(path)))
        nbformat.validate(nbformat.from_dict(student))

    def test_points_to_the_next_notebook(self, path: Path) -> None:
        text = _markdown(_read(path))
        later = [p for p in NOTEBOOK_FILES if p.name > path.name]
        target = later[0].name if later else "README.md"
        assert f"]({target})" in text, f"まとめのあとに次のノートブック ({target}) へのリンクを書いてください"


def test_course_readme_lists_every_notebook() -> None:
    readme = (NOTEBOOKS / "README.md").read_text(encoding="utf-8")
    for path in NOTEBOOK_FILES:
        assert f"]({path.name})" in readme, f"notebooks/README.md に {path.name} へのリンクがありません"


# -- sanitize.cfg ------------------------------------------------------------------------------
def _patterns() -> list[tuple[str, str]]:
    from nbval.plugin import get_sanitize_patterns

    text = (NOTEBOOKS / "sanitize.cfg").read_text(encoding="utf-8")
    configparser.ConfigParser(interpolation=None).read_string(text)  # valid ConfigParser syntax
    return get_sanitize_patterns(text)


def _sanitize(text: str) -> str:
    for regex, replace in _patterns():
        text = re.sub(regex, replace, text)
    return text


def test_sanitize_rules_parse_and_compile() -> None:
    patterns = _patterns()
    assert len(patterns) >= 10
    for regex, _replace in patterns:
        re.compile(regex)


@pytest.mark.parametrize(("first", "second"), [
    ("Id: 3d1c4bec-2bcc-4b18-813d-da52378e3590,", "Id: 0a9e7b1c-1111-4222-8333-123456789abc,"),
    ("OfflineRun_3d1c4bec-2bcc-4b18-813d-da52378e3590", "OfflineRun_0a9e7b1c-1111-4222-8333-123456789abc"),
    ("HD_3d1c4bec-2bcc-4b18-813d-da52378e3590_3", "HD_0a9e7b1c-1111-4222-8333-123456789abc_12"),
    ("my-first-experiment_1700000000_3d1c4bec", "my-first-experiment_1795825469_0a9e7b1c"),
    ("startTimeUtc: 2019-11-28T00:13:49.123456Z", "startTimeUtc: 2026-01-02T23:59:01.5Z"),
    ("created 2019-11-28 09:13:49", "created 2026-01-02 10:00:00"),
    ("created 2019/11/28 09:13", "created 2026/1/2 10:00"),
    ("dcid.x/my_list_chart_1795825469.png", "dcid.x/my_list_chart_1700000001.png"),
    ("Duration: 0:00:01", "Duration: 0:01:59.5"),
    ("took 1.23 s, then 12 ms", "took 20.7 s, then 3 ms"),
    ("かかった時間: 0.5 秒", "かかった時間: 12.0 秒"),
    ("Duration: 21.0s", "Duration: 4.0s"),
    ("http://127.0.0.1:50123/score", "http://127.0.0.1:8890/score"),
    ("<Line2D at 0x7f3a2b1c9d10>", "<Line2D at 0x10a2b3c4d>"),
    ("<Figure size 640x480 with 1 Axes>", "<Figure size 1600x160.5 with 1 Axes>"),
    ("localPath: ~/.amlhandson/workspaces/docs-aml/docs-ws",
     "localPath: $AMLHANDSON_HOME/workspaces/docs-aml/docs-ws"),
    ("PosixPath('.azureml/config.json')", "WindowsPath('.azureml/config.json')"),
])
def test_sanitize_makes_run_to_run_differences_equal(first: str, second: str) -> None:
    assert first != second
    assert _sanitize(first) == _sanitize(second)


@pytest.mark.parametrize(("first", "second"), [
    ("<Figure size 640x480 with 1 Axes>", "<Figure size 640x480 with 2 Axes>"),
    ("accuracy 0.9257", "accuracy 0.9012"),
    ("Status: Completed", "Status: Failed"),
    ("['accuracy', 'k']", "['accuracy', 'K']"),
    ("k=3", "k=5"),
    ("~/.amlhandson/workspaces/docs-aml/docs-ws", "~/.amlhandson/workspaces/docs-aml/other-ws"),
])
def test_sanitize_keeps_meaningful_differences(first: str, second: str) -> None:
    assert _sanitize(first) != _sanitize(second)


# -- the generator --------------------------------------------------------------------------
def _generator():
    spec = importlib.util.spec_from_file_location("build_notebooks", REPO / "tools" / "build_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_notebooks"] = module
    spec.loader.exec_module(module)
    return module


def test_notebooks_match_their_generator_source() -> None:
    gen = _generator()
    specs = gen.load_specs()
    assert specs, "tools/notebooks_src/ にノートブックのソースがありません"
    missing = [name for name in specs if not (NOTEBOOKS / f"{name}.ipynb").is_file()]
    assert not missing, f"生成されていないノートブック: {missing} (python tools/build_notebooks.py)"
    for name, cells in specs.items():
        nb = _read(NOTEBOOKS / f"{name}.ipynb")
        stored = [(c.cell_type, c.source) for c in nb.cells]
        built = [(c.cell_type, c.source) for c in gen.build(name, cells).cells]
        assert stored == built, f"{name}.ipynb is out of date: run python tools/build_notebooks.py {name[:2]}"


def test_generator_keeps_outputs_only_of_unchanged_cells() -> None:
    gen = _generator()
    cells = [("markdown", "# t"), ("code", "print(1)"), ("code", "print(2)")]
    previous = gen.build("99-demo", cells)
    previous.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    previous.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="2\n")]
    rebuilt = gen.build("99-demo", [cells[0], cells[1], ("code", "print(3)")], previous)
    assert rebuilt.cells[1].outputs[0]["text"] == "1\n"
    assert rebuilt.cells[2].outputs == []
    assert gen.machine_paths(rebuilt) == []
    rebuilt.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout",
                                                       text="saved to /tmp/abc/x.png\n")]
    assert len(gen.machine_paths(rebuilt)) == 1


# -- notebooks/utils.py ----------------------------------------------------------------------
def _utils():
    spec = importlib.util.spec_from_file_location("course_utils", NOTEBOOKS / "utils.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write_idx(path: Path, magic: int, dims: tuple[int, ...], payload: bytes) -> None:
    with gzip.open(path, "wb") as gz:
        gz.write(struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + payload)


def test_utils_load_data_reads_images_and_labels(tmp_path: Path) -> None:
    pixels = np.arange(3 * 28 * 28, dtype=np.uint32) % 256
    _write_idx(tmp_path / "img.gz", 2051, (3, 28, 28), pixels.astype(np.uint8).tobytes())
    _write_idx(tmp_path / "lab.gz", 2049, (3,), bytes([7, 2, 1]))
    load_data = _utils().load_data
    images = load_data(str(tmp_path / "img.gz"), False)
    labels = load_data(tmp_path / "lab.gz", True)
    assert images.shape == (3, 784) and images.dtype == np.uint8
    assert images[1, 0] == (784 % 256) and images[2, 783] == (3 * 784 - 1) % 256
    assert labels.shape == (3, 1) and labels.reshape(-1).tolist() == [7, 2, 1]
    assert (images / 255.0).max() <= 1.0


def test_utils_load_data_agrees_with_the_package(tmp_path: Path) -> None:
    from amlhandson.datasets import mnist

    pixels = (np.arange(2 * 784) * 7 % 256).astype(np.uint8)
    _write_idx(tmp_path / "img.gz", 2051, (2, 28, 28), pixels.tobytes())
    assert np.array_equal(_utils().load_data(tmp_path / "img.gz"), mnist.load_data(tmp_path / "img.gz"))


def test_utils_load_data_says_when_label_flag_is_wrong(tmp_path: Path) -> None:
    _write_idx(tmp_path / "lab.gz", 2049, (3,), bytes([7, 2, 1]))
    with pytest.raises(ValueError, match="label=True"):
        _utils().load_data(tmp_path / "lab.gz", False)
    _write_idx(tmp_path / "img.gz", 2051, (1, 28, 28), bytes(784))
    with pytest.raises(ValueError, match="label=False"):
        _utils().load_data(tmp_path / "img.gz", True)


def test_generator_drops_progress_bars_and_their_widget_state() -> None:
    gen = _generator()
    nb = gen.build("99-demo", [("code", "download()"), ("code", "RunDetails(run)")])
    state = {  # model ids are hex, as Jupyter's are
        "ba": {"model_name": "HBoxModel", "state": {"children": ["IPY_MODEL_a1", "IPY_MODEL_a2"]}},
        "a1": {"model_name": "FloatProgressModel", "state": {"value": 0}},
        "a2": {"model_name": "HTMLModel", "state": {"value": "0%"}},
        "cc": {"model_name": "VBoxModel", "state": {"children": ["IPY_MODEL_c1"]}},
        "c1": {"model_name": "HTMLModel", "state": {"value": "<b>Run 1</b>"}},
        "dd": {"model_name": "HTMLModel", "state": {}},
    }
    nb.metadata["widgets"] = {gen.WIDGET_STATE: {"state": state, "version_major": 2,
                                                 "version_minor": 0}}

    def view(model_id: str, text: str) -> nbformat.NotebookNode:
        return nbformat.v4.new_output("display_data", data={
            gen.WIDGET_VIEW: {"model_id": model_id, "version_major": 2, "version_minor": 0},
            "text/plain": text})

    nb.cells[0].outputs = [view("ba", "train-images.gz:   0%|          | 0/9.9M"),
                           nbformat.v4.new_output("stream", name="stdout", text="ok\n")]
    nb.cells[1].outputs = [view("cc", "Run 1 - Completed")]
    assert gen.drop_progress_bars(nb) == 1
    assert [o.output_type for o in nb.cells[0].outputs] == ["stream"]
    assert sorted(gen._widget_models(nb)) == ["c1", "cc"]
