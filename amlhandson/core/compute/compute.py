"""``ComputeTarget``: a named place where submitted runs execute, as in Azure ML v1.

v1's get-or-create idiom works unchanged::

    try:
        cluster = ComputeTarget(workspace=ws, name="cpucluster")
    except ComputeTargetException:
        config = AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=2)
        cluster = ComputeTarget.create(ws, "cpucluster", config)
        cluster.wait_for_completion(show_output=True)

``ComputeTarget(ws, name)`` returns the target's own class (``AmlCompute``,
``DaskCompute``); the string ``'local'`` is the built-in target (this machine,
no cluster). Targets are kept in the workspace, so another kernel finds them;
each kernel starts its own connection (or local cluster) on first use.

Example:
    >>> ComputeTarget(ws, "cpucluster")  # doctest: +SKIP
    AmlCompute(workspace=docs-ws, name=cpucluster, max_nodes=2, state=Succeeded)
"""

from __future__ import annotations

from typing import Any

from ... import _paths
from ...exceptions import ComputeTargetException
from . import _registry

__all__ = ["ComputeTarget", "ComputeTargetProvisioningConfiguration",
           "ComputeTargetAttachConfiguration", "ComputeStatus", "LOCAL"]

#: The built-in target: scripts run as subprocesses of this machine.
LOCAL = "local"
_TYPES: dict[str, type[ComputeTarget]] = {}


class ComputeStatus:
    """``target.get_status()``: node counts and states (``serialize()`` gives v1's dict).

    Example:
        >>> ComputeStatus({"currentNodeCount": 2}).current_node_count
        2
    """

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = dict(data)
        self.current_node_count = data.get("currentNodeCount", 0)
        self.target_node_count = data.get("targetNodeCount", 0)
        self.node_state_counts = data.get("nodeStateCounts", {})
        self.allocation_state = data.get("allocationState")
        self.provisioning_state = data.get("provisioningState")

    def serialize(self) -> dict[str, Any]:
        """The status as a plain dict."""
        return dict(self._data)

    def __repr__(self) -> str:
        return f"ComputeStatus({self._data!r})"


class ComputeTargetProvisioningConfiguration:
    """Base of the ``provisioning_configuration()`` objects."""

    _TARGET_TYPE = ""

    def _config(self) -> dict[str, Any]:  # pragma: no cover - overridden
        raise NotImplementedError


class ComputeTargetAttachConfiguration:
    """Base of the ``attach_configuration()`` objects."""

    _TARGET_TYPE = ""

    def _config(self) -> dict[str, Any]:  # pragma: no cover - overridden
        raise NotImplementedError

    def _validate(self, workspace: Any, name: str) -> None:
        """Check the resource is reachable before it is attached."""


def _check_name(name: Any) -> str:
    if name == LOCAL:
        raise ComputeTargetException("'local' は組み込みのコンピューティング先の名前なので使えません。"
                                     "'cpucluster' などの別の名前にしてください。")
    if not isinstance(name, str) or not 2 <= len(name) <= 16:
        raise ComputeTargetException(
            f"コンピューティング先の名前 {name!r} は使えません。v1 と同じく 2〜16 文字の英数字と '-' に"
            "してください (例: 'cpucluster')。")
    return _paths.check_name(name, "compute target")


class ComputeTarget:
    """A registered compute target; ``ComputeTarget(ws, name)`` looks one up.

    Raises :class:`~amlhandson.exceptions.ComputeTargetException` when there is
    no target of that name (v1's get-or-create idiom relies on it).

    Example:
        >>> cluster = ComputeTarget(workspace=ws, name="cpucluster")  # doctest: +SKIP
    """

    _TYPE = ""

    def __new__(cls, workspace: Any = None, name: str | None = None) -> Any:
        if workspace is None and name is None:
            return super().__new__(cls)
        if name == LOCAL:
            raise ComputeTargetException(
                "ComputeTargetNotFound: 'local' is the built-in compute target ('local' は組み込みの"
                "コンピューティング先で、オブジェクトはありません。compute_target='local' のように名前で"
                "指定してください)。")
        record = _registry.load(workspace, name) if isinstance(name, str) else None
        if record is None:
            raise ComputeTargetException(
                f"ComputeTargetNotFound: Compute Target with name {name} not found in provided "
                f"workspace (ワークスペース {workspace.name!r} にコンピューティング先 {name!r} は"
                "ありません。ComputeTarget.create で作成するか、ComputeTarget.list(ws) で確認して"
                "ください)。")
        klass = _TYPES.get(record["type"])
        if klass is None:
            raise ComputeTargetException(f"コンピューティング先 {name!r} の種類 {record['type']!r} は"
                                         "この amlhandson では使えません。")
        if cls is not ComputeTarget and not issubclass(klass, cls):
            raise ComputeTargetException(
                f"ComputeTargetNotFound: Compute Target with name {name} is a {record['type']}, "
                f"not a {cls.__name__} ({cls.__name__}(ws, {name!r}) ではなく "
                f"ComputeTarget(ws, {name!r}) を使ってください)。")
        target = super().__new__(klass)
        target._load(workspace, record)
        return target

    def __init__(self, workspace: Any = None, name: str | None = None) -> None:
        """Lookup happens in ``__new__``."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls._TYPE:
            _TYPES[cls._TYPE] = cls

    def _load(self, workspace: Any, record: dict[str, Any]) -> None:
        self._workspace = workspace
        self._name = record["name"]
        self._created = record.get("created")
        self._config = dict(record.get("config") or {})
        self.provisioning_state = "Succeeded"
        self.provisioning_errors: list[Any] = []

    # -- identity ----------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The target's name."""
        return self._name

    @property
    def workspace(self) -> Any:
        """The workspace the target belongs to."""
        return self._workspace

    @property
    def type(self) -> str:
        """``'AmlCompute'`` or ``'Dask'``."""
        return self._TYPE

    @property
    def config(self) -> dict[str, Any]:
        """The target's settings as created or attached."""
        return dict(self._config)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(workspace={self._workspace.name}, name={self._name}, "
                f"state={self.provisioning_state})")

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, ComputeTarget) and other._name == self._name
                and other._workspace == self._workspace)

    def __hash__(self) -> int:
        return hash((self._name, self._workspace))

    # -- lifecycle ----------------------------------------------------------------------------------
    @staticmethod
    def create(workspace: Any, name: str, provisioning_configuration: Any) -> ComputeTarget:
        """Create (register) a target from ``AmlCompute.provisioning_configuration(...)``.

        Example:
            >>> cluster = ComputeTarget.create(ws, "cpucluster", config)  # doctest: +SKIP
        """
        if not isinstance(provisioning_configuration, ComputeTargetProvisioningConfiguration):
            raise ComputeTargetException(
                "ComputeTarget.create の 3 つ目の引数には AmlCompute.provisioning_configuration(...) を"
                "渡してください。既存の Dask クラスターは ComputeTarget.attach で登録します。")
        return ComputeTarget._register(workspace, _check_name(name),
                                       provisioning_configuration._TARGET_TYPE,
                                       provisioning_configuration._config())

    @staticmethod
    def attach(workspace: Any, name: str, attach_configuration: Any) -> ComputeTarget:
        """Register an existing resource (``DaskCompute.attach_configuration(...)``).

        Example:
            >>> cfg = DaskCompute.attach_configuration(scheduler_address="tcp://10.0.0.4:8786")  # doctest: +SKIP
            >>> cluster = ComputeTarget.attach(ws, "dask", cfg)  # doctest: +SKIP
        """
        if not isinstance(attach_configuration, ComputeTargetAttachConfiguration):
            raise ComputeTargetException(
                "ComputeTarget.attach の 3 つ目の引数には DaskCompute.attach_configuration(...) を"
                "渡してください。")
        name = _check_name(name)
        attach_configuration._validate(workspace, name)
        return ComputeTarget._register(workspace, name, attach_configuration._TARGET_TYPE,
                                       attach_configuration._config())

    @staticmethod
    def _register(workspace: Any, name: str, kind: str, config: dict[str, Any]) -> ComputeTarget:
        existing = _registry.load(workspace, name)
        if existing is not None and (existing["type"] != kind or existing["config"] != config):
            raise ComputeTargetException(
                f"コンピューティング先 {name!r} はすでに別の設定 ({existing['type']}) で存在します。"
                f"ComputeTarget(ws, {name!r}) で取り出すか、delete() してから作り直してください。")
        record = existing or _registry.save(workspace, name, kind, config)
        target = object.__new__(_TYPES[kind])
        target._load(workspace, record)
        target._announce(created=existing is None)
        return target

    def _announce(self, created: bool) -> None:
        """Say what was created (overridden by the subclasses)."""

    @staticmethod
    def list(workspace: Any) -> list[ComputeTarget]:
        """Every target of ``workspace`` (the built-in ``'local'`` is not listed, as in v1).

        Example:
            >>> [t.name for t in ComputeTarget.list(ws)]  # doctest: +SKIP
            ['cpucluster']
        """
        result = []
        for name in _registry.names(workspace):
            try:
                result.append(ComputeTarget(workspace, name))
            except ComputeTargetException:
                continue
        return result

    def wait_for_completion(self, show_output: bool = False, min_node_count: int | None = None,
                            timeout_in_minutes: int = 20, is_delete_operation: bool = False) -> None:
        """Wait until the target is usable (it is at once: clusters start on first use)."""
        if show_output:
            print("Creating\nSucceeded")
            print(f"{type(self).__name__} wait for completion finished")

    def get_status(self) -> ComputeStatus:
        """The target's current state (node counts)."""
        return ComputeStatus(self._runtime_status())

    def _runtime_status(self) -> dict[str, Any]:
        return {"provisioningState": self.provisioning_state, "currentNodeCount": 0}

    def _runtime(self) -> Any:  # pragma: no cover - overridden
        """The cluster object that runs trials for this target in this process."""
        raise NotImplementedError

    def serialize(self) -> dict[str, Any]:
        """The target as a plain dict (name, type, settings, state)."""
        return {"name": self._name, "type": self._TYPE, "properties": self.config,
                "provisioningState": self.provisioning_state, "created": self._created}

    def delete(self) -> None:
        """Remove the target (a running local cluster is shut down)."""
        from . import _cluster

        _cluster.forget(str(self._workspace.path), self._name)
        _registry.delete(self._workspace, self._name)
        self.provisioning_state = "Deleted"

    def detach(self) -> None:
        """Forget an attached target (the cluster itself keeps running)."""
        self.delete()

