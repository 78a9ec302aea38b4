"""The import hook behind :func:`amlhandson.compat.install`: a ``sys.meta_path`` finder.

While installed, the finder (first on ``sys.meta_path``) answers for

* ``azureml`` and every ``azureml.*`` module: an *alias* of the amlhandson module
  that serves it (the same module object, so ``azureml.core.run is
  amlhandson.core.run``), or a *stub* module whose names come from
  :mod:`._table` (placeholders for what cannot run here);
* 2019 library modules that were removed since (``sklearn.externals.joblib`` ...)
  and companions of the v1 SDK (``inference_schema``), only when the real one
  is not importable (:mod:`._shims`);
* modules that get a reversible patch after they are imported (``numpy``'s removed
  aliases, ``LogisticRegression(multi_class=...)``, v1 members amlhandson's classes
  lack): their loader is wrapped so the patch runs right after the module's own code.

:func:`uninstall` removes the finder, every module it created, every attribute the
import system set on real modules for them, and every patch.

Example:
    >>> install(); import azureml.core, amlhandson.core
    >>> azureml.core is amlhandson.core
    True
    >>> uninstall()
    True
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import threading
import types
from collections.abc import Callable, Sequence
from typing import Any

from ..exceptions import RealSdkInstalledError, UserErrorException, V1ModuleNotFoundError
from . import _errors, _members, _shims, _table

__all__ = ["ENV_VAR", "install", "uninstall", "is_installed", "install_from_env",
           "child_environ", "real_sdk_location", "resolve", "V1Finder"]

#: The environment variable that carries the setting to child processes: ``1`` or ``force``.
ENV_VAR = "AMLHANDSON_COMPAT"
_ON = frozenset({"1", "true", "yes", "on"})
_OFF = frozenset({"", "0", "false", "no", "off"})
_FORCE = "force"

#: Module name -> functions that patch it after import; each returns an undo function or None.
POST_IMPORT: dict[str, tuple[Callable[[types.ModuleType], Callable[[], None] | None], ...]] = {
    **_shims.POST_IMPORT, **_members.POST_IMPORT}


class _State:
    def __init__(self) -> None:
        self.finder: V1Finder | None = None
        self.force = False
        self.stashed: dict[str, types.ModuleType] = {}
        self.created: set[str] = set()
        self.stubs: set[str] = set()
        self.parent_attrs: list[tuple[types.ModuleType, str, Any]] = []
        self.undo: list[Callable[[], None]] = []
        self.patched: set[str] = set()
        self.entries: dict[str, list[tuple[str, _table.V1Module]]] = {}
        self.placeholders: dict[tuple[str, str], type] = {}


_state = _State()
_lock = threading.RLock()
_MISSING = object()


# ---- resolving names ---------------------------------------------------------------------
def _import_where(where: str) -> Any:
    module, _, attr = where.partition(":")
    try:
        value = importlib.import_module(module)
        return getattr(value, attr) if attr else value
    except (ImportError, AttributeError):
        return _MISSING


def _placeholder(module: str, name: str, entry: Any) -> type:
    key = (module, name)
    found = _state.placeholders.get(key)
    if found is None:
        found = _state.placeholders[key] = _errors.placeholder(module, name, entry)
    return found


def resolve(v1_module: str, name: str, entry: _table.V1Module | None,
            serving: str | None = None) -> Any:
    """The value of v1 name ``v1_module.name`` that its serving module does not have itself.

    Raises AttributeError for a name v1 did not have (so typos stay typos).

    Example:
        >>> resolve("azureml.core", "VERSION", _table.lookup("azureml.core")) == __import__("amlhandson").VERSION
        True
    """
    item = entry.names.get(name) if entry is not None else None
    if item is not None:
        if item.value is not None:
            return item.value
        if item.where:
            value = _import_where(item.where)
            if value is not _MISSING:
                return value
            if item.status in (_table.WORKS, _table.DIFFERS):
                return _placeholder(v1_module, name, _table.Name(_table.ABSENT, where=item.where))
        if item.status in (_table.CLOUD, _table.ABSENT):
            return _placeholder(v1_module, name, item)
        target = serving or "amlhandson." + v1_module.partition(".")[2]
        return _placeholder(v1_module, name, _table.Name(_table.ABSENT, where=f"{target}:{name}"))
    if entry is not None and entry.any_name and not name.startswith("_"):
        return _placeholder(v1_module, name, entry)
    raise AttributeError(
        f"module {v1_module!r} has no attribute {name!r} (v1 の {v1_module} にこの名前が"
        f"あったなら、対応状況を {_table.DOCS} で確認してください)")


def _wrap_getattr(module: types.ModuleType, v1_name: str, entry: _table.V1Module) -> None:
    """Give a real amlhandson module the v1 names it lacks, while the layer is installed."""
    entries = _state.entries.setdefault(module.__name__, [])
    entries.append((v1_name, entry))
    if len(entries) > 1:
        return
    original = module.__dict__.get("__getattr__")

    def __getattr__(name: str) -> Any:  # noqa: N807 - PEP 562 module attribute hook
        if original is not None:
            try:
                return original(name)
            except AttributeError:
                pass
        error: AttributeError | None = None
        for v1, v1_entry in entries:
            try:
                return resolve(v1, name, v1_entry, module.__name__)
            except AttributeError as exc:
                error = error or exc
        raise error or AttributeError(name)

    module.__getattr__ = __getattr__  # type: ignore[attr-defined]

    def undo() -> None:
        if module.__dict__.get("__getattr__") is __getattr__:
            if original is None:
                del module.__getattr__
            else:
                module.__getattr__ = original  # type: ignore[attr-defined]

    _state.undo.append(undo)


# ---- loaders -----------------------------------------------------------------------------
def _record_parent_attr(name: str, module: types.ModuleType) -> None:
    """Remember the attribute the import system will set on a *real* parent module."""
    parent_name, _, child = name.rpartition(".")
    parent = sys.modules.get(parent_name) if parent_name else None
    if parent is None or parent_name in _state.stubs:
        return
    if parent.__dict__.get(child, _MISSING) is not module:
        _state.parent_attrs.append((parent, child, module))


class _AliasLoader(importlib.abc.Loader):
    """Serves ``name`` with the module ``target`` itself (identity, not a copy)."""

    def __init__(self, target: str, entry: _table.V1Module | None = None,
                 note: Callable[[], None] | None = None) -> None:
        self.target = target
        self.entry = entry
        self.note = note

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = importlib.import_module(self.target)
        spec.loader_state = module.__spec__  # the import system overwrites __spec__ next
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        spec = module.__spec__
        module.__spec__ = spec.loader_state
        _state.created.add(spec.name)
        _record_parent_attr(spec.name, module)
        if self.entry is not None and self.entry.names:
            _wrap_getattr(module, spec.name, self.entry)
        if self.note is not None:
            self.note()


class _StubLoader(importlib.abc.Loader):
    """A module of v1 names only (``azureml`` itself, cloud-only or absent modules)."""

    def __init__(self, entry: _table.V1Module | None) -> None:
        self.entry = entry

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        entry = self.entry
        doc = f"v1 の {spec.name} (amlhandson.compat の代役。{_table.DOCS} を参照)"
        module = types.ModuleType(spec.name, doc)
        listed = sorted(entry.names) if entry is not None and entry.name == spec.name else []

        def __getattr__(name: str) -> Any:  # noqa: N807 - PEP 562 module attribute hook
            own = entry if entry is not None and entry.name == spec.name else None
            if own is None and entry is not None and not name.startswith("_"):
                return resolve(spec.name, name, _table.V1Module(
                    spec.name, status=entry.status, note=entry.note, concept=entry.concept,
                    any_name=entry.any_name))
            return resolve(spec.name, name, own)

        module.__getattr__ = __getattr__  # type: ignore[attr-defined]
        module.__dir__ = lambda: listed  # type: ignore[attr-defined]
        module.__all__ = listed  # type: ignore[attr-defined]
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        _state.created.add(module.__name__)
        _state.stubs.add(module.__name__)
        _record_parent_attr(module.__name__, module)


class _PatchingLoader(importlib.abc.Loader):
    """Runs the real loader, then the post-import patches of the module."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> Any:
        create = getattr(self._loader, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module: types.ModuleType) -> None:
        module.__spec__.loader = self._loader
        module.__loader__ = self._loader
        self._loader.exec_module(module)
        if _state.finder is not None:
            _apply_patches(module.__name__, module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


def _apply_patches(name: str, module: types.ModuleType) -> None:
    if name in _state.patched:
        return
    _state.patched.add(name)
    for patch in POST_IMPORT.get(name, ()):
        undo = patch(module)
        if undo is not None:
            _state.undo.append(undo)


# ---- the finder --------------------------------------------------------------------------
def _exists(name: str) -> bool:
    if name in sys.modules:
        return True
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _is_package(name: str) -> bool:
    module = sys.modules.get(name)
    if module is not None:
        return hasattr(module, "__path__")
    spec = importlib.util.find_spec(name)
    return spec is not None and spec.submodule_search_locations is not None


class V1Finder(importlib.abc.MetaPathFinder):
    """The meta path finder of the compatibility layer (see the module docstring)."""

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: types.ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname == "azureml" or fullname.startswith("azureml."):
            return self._azureml(fullname)
        renamed = _shims.RENAMED.get(fullname)
        if renamed is not None:
            if self._real(fullname, path, target) is not None:
                return None
            return self._alias(fullname, renamed.target, None, renamed.note)
        companion = _shims.COMPANIONS.get(fullname)
        if companion is not None:
            if self._real(fullname, path, target) is not None:
                return None
            return self._from_entry(fullname, companion)
        if fullname in POST_IMPORT and fullname not in _state.patched:
            spec = self._real(fullname, path, target)
            if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
                spec.loader = _PatchingLoader(spec.loader)
            return spec
        return None

    def _real(self, fullname: str, path: Sequence[str] | None,
              target: types.ModuleType | None) -> importlib.machinery.ModuleSpec | None:
        for finder in list(sys.meta_path):
            if finder is self or isinstance(finder, V1Finder):
                continue
            find = getattr(finder, "find_spec", None)
            if find is None:
                continue
            spec = find(fullname, path, target)
            if spec is not None:
                return spec
        return None

    @staticmethod
    def _alias(fullname: str, target: str, entry: _table.V1Module | None,
               note: Callable[[], None] | None = None) -> importlib.machinery.ModuleSpec:
        return importlib.machinery.ModuleSpec(
            fullname, _AliasLoader(target, entry, note), is_package=_is_package(target))

    def _from_entry(self, fullname: str,
                    entry: _table.V1Module) -> importlib.machinery.ModuleSpec:
        for target in entry.targets if entry.name == fullname else ():
            if _exists(target):
                return self._alias(fullname, target, entry)
        return importlib.machinery.ModuleSpec(fullname, _StubLoader(entry), is_package=True)

    def _azureml(self, fullname: str) -> importlib.machinery.ModuleSpec:
        if fullname == "azureml":
            return importlib.machinery.ModuleSpec(fullname, _StubLoader(None), is_package=True)
        entry = _table.lookup(fullname)
        if entry is not None and entry.name == fullname and entry.targets:
            return self._from_entry(fullname, entry)
        rest = fullname.partition(".")[2]
        parts = rest.split(".")
        if parts[0] in _table.GENERIC_AREAS and not any(p.startswith("_") for p in parts):
            target = "amlhandson." + rest
            if _exists(target):
                own = entry if entry is not None and entry.name == fullname else None
                return self._alias(fullname, target, own)
        if entry is not None:
            return importlib.machinery.ModuleSpec(fullname, _StubLoader(entry), is_package=True)
        raise V1ModuleNotFoundError(
            f"No module named {fullname!r}: amlhandson の互換レイヤーはこの azureml モジュールを"
            f"知りません (v1 の公開モジュールではないか、amlhandson にないものです)。v1 の"
            f"どのモジュールが使えるかは {_table.DOCS} にあります。", name=fullname)


# ---- install / uninstall -----------------------------------------------------------------
def real_sdk_location() -> str | None:
    """The folder of the real Azure ML SDK (``azureml/core``) if it is importable, else None.

    Example:
        >>> real_sdk_location() is None  # doctest: +SKIP
        True
    """
    for finder in list(sys.meta_path):
        if isinstance(finder, V1Finder):
            continue
        find = getattr(finder, "find_spec", None)
        if find is None:
            continue
        try:
            spec = find("azureml", None)
        except ImportError:
            continue
        if spec is None:
            continue
        for location in spec.submodule_search_locations or ():
            if os.path.isdir(os.path.join(location, "core")):
                return location
    return None


def _v1_modules() -> list[str]:
    return [k for k in list(sys.modules) if k == "azureml" or k.startswith("azureml.")]


def install(force: bool = False) -> None:
    """Turn the layer on (idempotent); see :mod:`amlhandson.compat`.

    Raises RealSdkInstalledError when the real Azure ML SDK is importable or already
    imported, unless ``force`` (or ``AMLHANDSON_COMPAT=force``).

    Example:
        >>> install(); is_installed()
        True
        >>> uninstall()
        True
    """
    with _lock:
        if _state.finder is not None:
            return
        force = force or os.environ.get(ENV_VAR, "").strip().lower() == _FORCE
        if not force:
            loaded = _v1_modules()
            if loaded:
                raise RealSdkInstalledError(
                    f"本物の azureml モジュールがもう import されています ({', '.join(loaded[:3])}"
                    f"...)。カーネルを再起動して、最初のセルで amlhandson.compat.install() を"
                    "呼んでください (置き換えてよいなら install(force=True))。")
            location = real_sdk_location()
            if location is not None:
                raise RealSdkInstalledError(
                    f"本物の Azure ML SDK (azureml-core) がこの Python にあるので "
                    f"(場所: {location})、amlhandson.compat.install() は azureml を置き換えません。"
                    "amlhandson を使うなら別の仮想環境を作るか `pip uninstall azureml-core` して"
                    "ください。このまま置き換えるには amlhandson.compat.install(force=True) "
                    f"(スクリプトなら環境変数 {ENV_VAR}=force) にしてください。")
        for name in _v1_modules():
            _state.stashed[name] = sys.modules.pop(name)
        _state.force = force
        _state.finder = V1Finder()
        sys.meta_path.insert(0, _state.finder)
        for name in POST_IMPORT:
            module = sys.modules.get(name)
            if module is not None:
                _apply_patches(name, module)
        os.environ[ENV_VAR] = _FORCE if force else "1"


def uninstall() -> bool:
    """Turn the layer off and undo everything :func:`install` did; False if it was off.

    Example:
        >>> uninstall() if not is_installed() else False
        False
    """
    with _lock:
        finder = _state.finder
        if finder is None:
            return False
        _state.finder = None
        while finder in sys.meta_path:
            sys.meta_path.remove(finder)
        for name in _v1_modules() + sorted(_state.created):
            if name in _state.created or name == "azureml" or name.startswith("azureml."):
                sys.modules.pop(name, None)
        for parent, child, value in reversed(_state.parent_attrs):
            if parent.__dict__.get(child, _MISSING) is value:
                delattr(parent, child)
        while _state.undo:
            _state.undo.pop()()
        sys.modules.update(_state.stashed)
        os.environ.pop(ENV_VAR, None)
        _state.__init__()  # type: ignore[misc]
        return True


def is_installed() -> bool:
    """Whether the layer is on in this process.

    Example:
        >>> is_installed()
        False
    """
    return _state.finder is not None


def install_from_env(environ: dict[str, str] | None = None) -> bool:
    """Install the layer when ``AMLHANDSON_COMPAT`` says so (``1`` or ``force``); True if on.

    Raises UserErrorException for any other value, so a typo never goes unnoticed.

    Example (the first lines of a process that runs user code)::

        from amlhandson.compat import install_from_env
        install_from_env()
    """
    value = (os.environ if environ is None else environ).get(ENV_VAR, "").strip().lower()
    if value in _OFF:
        return is_installed()
    if value not in _ON and value != _FORCE:
        raise UserErrorException(
            f"環境変数 {ENV_VAR}={value!r} は使えません。互換レイヤーを使うなら 1 (本物の SDK が"
            "あっても置き換えるなら force)、使わないなら 0 にするか消してください。")
    install(force=value == _FORCE)
    return True


def child_environ() -> dict[str, str]:
    """The variables a child process needs to start with the layer as this process has it.

    Example:
        >>> child_environ() if not is_installed() else {}
        {}
    """
    if not is_installed():
        return {}
    return {ENV_VAR: _FORCE if _state.force else "1"}
