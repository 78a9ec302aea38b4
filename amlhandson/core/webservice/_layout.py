"""The files a scoring server runs from: an app folder and a ``server.json``.

Shared by local deployment (``<ws.path>/services/<name>/``) and
``Model.package`` (a Docker build context)::

    server.json             what the server process reads (see _settings.py)
    keys.json               the keys, when auth is on (owner-only, see _keys.py)
    app/                    the server's working folder (v1: /var/azureml-app)
        score.py            the entry script, or a copy of source_directory
        azureml-models/<model name>/<version>/<file or folder>

Models are copied with their registration hash checked; ``server.json`` lists
each model's hash again so the server checks its copy when it starts.

Example:
    >>> folder = Path(tempfile.mkdtemp())  # doctest: +SKIP
    >>> part = build_app(folder / "app", [model], inference_config._to_spec())  # doctest: +SKIP
    >>> part["model_dir"]  # doctest: +SKIP
    'azureml-models/sklearn_mnist/1'
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ... import _atomic
from ...exceptions import UserErrorException
from ._config import DeploymentConfiguration, server_settings
from ._keys import new_key, private_dir, read_keys, write_keys

if TYPE_CHECKING:
    from ..model import Model
    from ..workspace import Workspace

__all__ = ["build_app", "copy_source", "prepare", "write_server_json", "MAX_SOURCE_BYTES",
           "MODELS_DIR"]

#: Largest source_directory copied into a service (v1's snapshot limit was 300 MB).
MAX_SOURCE_BYTES = 300 * 1024 * 1024
MODELS_DIR = "azureml-models"
_IGNORE = {"__pycache__", ".ipynb_checkpoints", ".git", ".azureml", MODELS_DIR}


def _ignore(_folder: str, names: list[str]) -> set[str]:
    return {n for n in names if n in _IGNORE or n.endswith(".pyc")}


def _source_size(root: Path) -> tuple[int, list[tuple[int, str]]]:
    total = 0
    sizes: list[tuple[int, str]] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _IGNORE]
        for name in files:
            with_path = Path(folder) / name
            try:
                size = with_path.stat().st_size
            except OSError:
                continue
            total += size
            sizes.append((size, with_path.relative_to(root).as_posix()))
    return total, sorted(sizes, reverse=True)[:3]


def copy_source(app_dir: Path, inference: dict[str, Any]) -> str:
    """Replace ``app_dir``'s code (not its models) with the entry script / source_directory.

    Returns the entry script's path relative to ``app_dir``.
    """
    entry = Path(inference["entry_script"])
    source = inference.get("source_directory")
    if not entry.is_file():
        raise UserErrorException(
            f"entry_script {entry.name} が元の場所にありません ({entry.parent.name}/{entry.name})。"
            "ファイルを戻すか、新しい InferenceConfig で service.update(inference_config=...) "
            "してください。"
        )
    if source is not None:
        root = Path(source)
        total, biggest = _source_size(root)
        if total > MAX_SOURCE_BYTES:
            listing = ", ".join(f"{rel} ({size / 2**20:.0f} MB)" for size, rel in biggest)
            raise UserErrorException(
                f"source_directory {root.name} が大きすぎます ({total / 2**20:.0f} MB > "
                f"{MAX_SOURCE_BYTES // 2**20} MB)。データやモデルは source_directory に置かず、"
                f"モデルは Model.register で登録してください。大きいファイル: {listing}"
            )
    app_dir.mkdir(parents=True, exist_ok=True)
    for item in app_dir.iterdir():
        if item.name == MODELS_DIR:
            continue
        if item.is_dir() and not item.is_symlink():
            shutil.rmtree(item)
        else:
            item.unlink()
    if source is None:
        shutil.copy2(entry, app_dir / entry.name)
        return entry.name
    shutil.copytree(source, app_dir, ignore=_ignore, dirs_exist_ok=True)
    return entry.resolve().relative_to(Path(source).resolve()).as_posix()


def build_app(app_dir: Path, models: list[Model], inference: dict[str, Any]) -> dict[str, Any]:
    """Fill ``app_dir`` with the code and the (hash-checked) models.

    Returns the ``server.json`` entries ``entry_script``, ``models`` and ``model_dir``.
    """
    entry = copy_source(app_dir, inference)
    models_root = app_dir / MODELS_DIR
    if models_root.exists():
        shutil.rmtree(models_root)
    manifest = []
    for model in models:
        rel = f"{MODELS_DIR}/{model.name}/{model.version}/{model.file_name}"
        model._copy_verified(app_dir / rel)
        manifest.append({"name": model.name, "version": model.version, "path": rel,
                         "sha256": model.sha256})
    if len(models) == 1:
        model_dir = f"{MODELS_DIR}/{models[0].name}/{models[0].version}"
    else:
        model_dir = MODELS_DIR
        models_root.mkdir(parents=True, exist_ok=True)
    return {"entry_script": entry, "models": manifest, "model_dir": model_dir}


def write_server_json(folder: Path, config: dict[str, Any]) -> None:
    """Replace ``server.json`` atomically (owner-only: it names the keys file)."""
    _atomic.write_text(folder / "server.json", json.dumps(config, indent=1, ensure_ascii=False),
                       mode=0o600)


def prepare(workspace: Workspace, folder: Path, spec: dict[str, Any],
            config: DeploymentConfiguration | None, port: int | None) -> None:
    """(Re)build a service folder: ``app/``, ``server.json`` and (with auth) ``keys.json``."""
    from ..model import Model

    deployment = spec["deployment"]
    models = [Model(workspace, id=model_id) for model_id in spec["models"]]
    private_dir(folder.parent)
    private_dir(folder)
    parts = build_app(folder / "app", models, spec["inference"])
    keys_path = folder / "keys.json"
    if deployment.get("auth_enabled"):
        old = read_keys(keys_path) or (None, None)
        given = (config.primary_key, config.secondary_key) if config is not None else (None, None)
        write_keys(keys_path, [given[0] or old[0] or new_key(), given[1] or old[1] or new_key()])
    else:
        with contextlib.suppress(FileNotFoundError):
            keys_path.unlink()
    write_server_json(folder, {
        "name": folder.name, "app_dir": "app", **parts, **server_settings(deployment),
        "port": port or 0, "keys_file": "keys.json" if deployment.get("auth_enabled") else None,
        "allow_unauthenticated": bool(deployment.get("allow_unauthenticated")),
        "runtime_file": "runtime.json", "failure_file": "failure.json",
        "log_file": "service.log", "watch": True,
    })
