"""The reuse rule of pipeline steps, and why a step was or was not reused.

A step is reused when its **reuse key** equals the key of an earlier completed
run of a step whose outputs still exist. The key is the SHA-256 of its parts,
all content hashes, never timestamps:

============  ======================================================================
``script``    the script's name and the SHA-256 of every file of its source folder
``arguments`` the arguments, with data as names and parameters as their values
``params``    the step's ``params`` (environment variables), values resolved
``compute``   the *kind* of compute (``local``, ``AmlCompute`` ...), not its name
``runconfig`` the run configuration (environment, framework ...), without the target
``inputs``    the content fingerprint of every input (files of data references and
              datasets; for ``PipelineData``, what the producing step wrote)
``step``      the step type and ``version``
============  ======================================================================

v1 users found the rule opaque (Azure/MachineLearningNotebooks#298, #771, #907):
:func:`explain` compares the parts with the last run of the same step and says
in words what changed.

Example:
    >>> parts = make_parts(script={"a.py": "1"}, script_name="a.py", arguments=["--k", "3"],
    ...                    params={}, compute="local", runconfig=None, inputs={})
    >>> other = dict(parts, arguments=["--k", "5"])
    >>> explain(other, parts)
    ['引数が変わりました: --k 3 → --k 5']
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ...core.compute import _snapshot
from ...data._fingerprint import file_digest, text_digest

__all__ = ["snapshot_files", "make_parts", "key_of", "explain", "source_folder"]

def snapshot_files(folder: Path) -> dict[str, str]:
    """``{relative name: SHA-256}`` of the files a script snapshot of ``folder`` holds.

    The same files as the run's snapshot (:func:`amlhandson.core.compute._snapshot.snapshot_files`:
    ``.amlignore`` / ``.gitignore``, the always-ignored folders, no ``*.pyc``).

    Example:
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp()); _ = (d / "a.py").write_text("x")
        >>> list(snapshot_files(d))
        ['a.py']
    """
    return {rel: file_digest(path) for rel, path in _snapshot.snapshot_files(folder)}


def make_parts(*, script: dict[str, str], script_name: str, arguments: list[str],
               params: dict[str, Any], compute: str, runconfig: dict[str, Any] | None,
               inputs: dict[str, str], step_type: str = "PythonScriptStep",
               version: str | None = None) -> dict[str, Any]:
    """The parts of a step's reuse key, as a JSON object kept with the step's result.

    Example:
        >>> sorted(make_parts(script={}, script_name="a.py", arguments=[], params={},
        ...                   compute="local", runconfig=None, inputs={}))
        ['arguments', 'compute', 'inputs', 'params', 'runconfig', 'script', 'script_name', 'step']
    """
    config = dict(runconfig or {})
    config.pop("target", None)
    config.pop("arguments", None)
    config.pop("script", None)
    return {"script": dict(sorted(script.items())), "script_name": script_name,
            "arguments": list(arguments), "params": dict(sorted(params.items())),
            "compute": compute, "runconfig": text_digest(config),
            "inputs": dict(sorted(inputs.items())),
            "step": {"type": step_type, "version": version}}


def key_of(parts: dict[str, Any]) -> str:
    """The reuse key: one SHA-256 of all parts.

    Example:
        >>> len(key_of({"a": 1}))
        64
    """
    return text_digest(parts)


def _files_changed(old: dict[str, str], new: dict[str, str]) -> str:
    changed = [f"{n} (変更)" for n in sorted(new) if n in old and old[n] != new[n]]
    added = [f"{n} (追加)" for n in sorted(new) if n not in old]
    removed = [f"{n} (削除)" for n in sorted(old) if n not in new]
    listing = changed + added + removed
    more = f" ほか {len(listing) - 5} 個" if len(listing) > 5 else ""
    return ", ".join(listing[:5]) + more


def explain(parts: dict[str, Any], previous: dict[str, Any] | None) -> list[str]:
    """What differs between a step's parts and those of its last run (in words).

    Example:
        >>> explain({"compute": "AmlCompute"}, {"compute": "local"})
        ['コンピューティングの種類が変わりました: local → AmlCompute']
    """
    if previous is None:
        return ["このステップの完了した実行がまだありません (初めての実行)。"]
    reasons = []
    if parts.get("script_name") != previous.get("script_name"):
        reasons.append(f"スクリプト名が変わりました: {previous.get('script_name')} → "
                       f"{parts.get('script_name')}")
    if parts.get("script") != previous.get("script"):
        reasons.append("スクリプトのフォルダーのファイルが変わりました: "
                       + _files_changed(previous.get("script", {}), parts.get("script", {})))
    if parts.get("arguments") != previous.get("arguments"):
        reasons.append(f"引数が変わりました: {' '.join(previous.get('arguments', []))} → "
                       f"{' '.join(parts.get('arguments', []))}")
    if parts.get("params") != previous.get("params"):
        old, new = previous.get("params", {}), parts.get("params", {})
        diffs = [f"{k}: {old.get(k)!r} → {new.get(k)!r}" for k in sorted(set(old) | set(new))
                 if old.get(k) != new.get(k)]
        reasons.append("params が変わりました: " + ", ".join(diffs))
    if parts.get("compute") != previous.get("compute"):
        reasons.append(f"コンピューティングの種類が変わりました: {previous.get('compute')} → "
                       f"{parts.get('compute')}")
    if parts.get("runconfig") != previous.get("runconfig"):
        reasons.append("実行構成 (runconfig: 環境など) が変わりました。")
    old_in, new_in = previous.get("inputs", {}), parts.get("inputs", {})
    for name in sorted(set(old_in) | set(new_in)):
        if name not in old_in:
            reasons.append(f"入力 {name!r} が加わりました。")
        elif name not in new_in:
            reasons.append(f"入力 {name!r} がなくなりました。")
        elif old_in[name] != new_in[name]:
            reasons.append(f"入力 {name!r} の内容が変わりました (ファイルの中身のハッシュが前回と"
                           "違います)。")
    if parts.get("step") != previous.get("step"):
        reasons.append("ステップの種類か version が変わりました。")
    return reasons


def source_folder(step: Any, default: str | os.PathLike[str] | None) -> Path:
    """The absolute source folder of ``step`` (its own, the pipeline's default, or '.').

    Example:
        >>> source_folder(type("S", (), {"source_directory": "/s"})(), None)
        PosixPath('/s')
    """
    folder = getattr(step, "source_directory", None) or default or "."
    return Path(folder).expanduser().resolve()
