"""The logging half of ``Run``: ``log``, ``log_list``, ``log_row``, ``log_table``,
``log_image`` and ``get_metrics``.

A mixin of :class:`amlhandson.core.run.Run`. Values are validated when they are
logged (so writing them later cannot fail on a value) and appended to the
store's in-process queue; ``get_metrics`` flushes, then reads.

Example:
    >>> run.log("accuracy", 0.92)  # doctest: +SKIP
    >>> run.get_metrics()  # doctest: +SKIP
    {'accuracy': 0.92}
"""

from __future__ import annotations

import io
import os
import time
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..exceptions import ArtifactNotFoundError, MetricError, RunStateWarning
from . import _lifecycle
from ._metrics import (
    IMAGE,
    INT_LIMIT,
    KIND_CALL,
    LIMITS,
    LIST,
    ROW,
    SCALAR,
    TABLE,
    big_int,
    check_name,
    encode_scalar,
    merge_rows,
    scalar_kind,
)

__all__ = ["RunMetrics"]

_time = time.time
_TERMINAL = ("Completed", "Failed", "Canceled")


class RunMetrics:
    """Metric logging for a run.

    Needs from the class it is mixed into: ``_store``, ``_pk``, ``_kinds`` (a dict
    that is emptied when the run finishes), ``id``, ``_refresh()``, ``get_children()``
    and ``upload_file()``.

    Example:
        >>> run.log_list("my list", [1, 1, 2, 3, 5, 8])  # doctest: +SKIP
    """

    _store: Any
    _pk: int
    _kinds: dict[str, int]

    def _register(self, name: Any, kind: int, description: str | None) -> None:
        check_name(name, kind)
        known = self._kinds.get(name)
        if known is None:
            status = self._refresh().status
            if status in _TERMINAL:  # recorded (v1 code does this), but never silently
                warnings.warn(RunStateWarning(
                    f"Run {self.id} はすでに {status} で終わっていますが、{KIND_CALL[kind]}"
                    f"({name!r}, ...) を記録しました (v1 と同じ)。新しい試行なら新しい Run を"
                    "始めてください (experiment.start_logging())。"
                ), stacklevel=3)
            known = self._store.metrics.register(self._pk, name, kind, description)
            self._kinds[name] = known
            self._store.queue.start()
            _lifecycle.install_hooks()  # what is still queued at exit gets written
        if known != kind:
            raise MetricError(
                f"Conflicting metric types: {name!r} はすでに {KIND_CALL[known]} で記録されているので "
                f"{KIND_CALL[kind]} では記録できません。別の名前を使ってください。"
            )

    def log(self, name: str, value: Any, description: str = "", step: int | None = None) -> None:
        """Log one scalar (int, float, str, bool, None, or a numpy scalar).

        Logged k times, ``get_metrics()[name]`` is the value, then a list.

        Example:
            >>> run.log("accuracy", 0.92)  # doctest: +SKIP
        """
        if self._kinds.get(name) != SCALAR:
            self._register(name, SCALAR, description)
        t = type(value)
        if t is not float:
            if t is int:
                if not -INT_LIMIT < value < INT_LIMIT:
                    raise big_int(value, name)
            else:
                value = encode_scalar(value, name)
        self._store.queue.append((self._pk, name, SCALAR, value, _time()))

    def log_list(self, name: str, value: Iterable[Any], description: str = "") -> None:
        """Log a list of scalars (any iterable); a later call on the name extends it.

        Example:
            >>> run.log_list("my list", [1, 1, 2, 3, 5, 8])  # doctest: +SKIP
        """
        if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
            raise MetricError(
                f"run.log_list({name!r}, ...) にはリストなどの繰り返し可能な値を渡してください "
                f"({type(value).__name__} が渡されました)。値 1 つなら run.log を使います。"
            )
        items = []
        for item in value:
            items.append(item)
            if len(items) > LIMITS["list_length"]:
                raise MetricError(f"run.log_list({name!r}, ...): 要素が多すぎます (上限 "
                                  f"{LIMITS['list_length']:,} 個)。ファイルとして保存してください。")
        self._register(name, LIST, description)
        first_kind = None
        clean = []
        for i, item in enumerate(items):
            item = encode_scalar(item, name, "run.log_list")
            kind = scalar_kind(item)
            if kind != "none":
                if first_kind is None:
                    first_kind = (kind, i)
                elif kind != first_kind[0]:
                    raise MetricError(
                        f"Scalars at index {first_kind[1]} and {i} differ in type "
                        f"(run.log_list({name!r}, ...) の要素の型がそろっていません: "
                        f"{type(items[first_kind[1]]).__name__} と {type(items[i]).__name__})。"
                    )
            clean.append(item)
        self._store.queue.append((self._pk, name, LIST, clean, _time()))

    def log_row(self, name: str, description: str | None = None, **kwargs: Any) -> None:
        """Log one row of a table; rows with other columns leave ``None`` in the gaps.

        Example:
            >>> run.log_row("k-search", k=3, accuracy=0.95)  # doctest: +SKIP
        """
        if not kwargs:
            raise MetricError(f"run.log_row({name!r}): 列がありません。run.log_row({name!r}, "
                              "x=1, y=2) のように列=値で渡してください。")
        row = {}
        for col, val in kwargs.items():
            if isinstance(val, (list, tuple, dict, set)) or (
                type(val).__module__ == "numpy" and getattr(val, "ndim", 0) > 0
            ):
                raise MetricError(
                    f"Row metrics cannot contain list values (run.log_row({name!r}, ...) の列 "
                    f"{col!r} にリストが渡されました。1 行に 1 つずつ値を渡してください)。"
                )
            row[col] = encode_scalar(val, name, "run.log_row")
        self._register(name, ROW, description)
        self._store.queue.append((self._pk, name, ROW, row, _time()))

    def log_table(self, name: str, value: dict[str, list[Any]], description: str = "") -> None:
        """Log a table given as ``{column: [values...]}`` (columns of equal length).

        Example:
            >>> run.log_table("k-search", {"k": [1, 3], "accuracy": [0.96, 0.97]})  # doctest: +SKIP
        """
        if not isinstance(value, dict) or not value:
            raise MetricError(f"run.log_table({name!r}, ...) には {{'列名': [値, ...]}} の dict を"
                              "渡してください。")
        columns: dict[str, list[Any]] = {}
        for col, vals in value.items():
            if isinstance(vals, (str, bytes, dict)) or not hasattr(vals, "__iter__"):
                raise MetricError(f"run.log_table({name!r}, ...): 列 {col!r} の値はリストに"
                                  "してください。")
            key = str(col)
            if key in columns:
                raise MetricError(f"run.log_table({name!r}, ...): 列名 {col!r} が、文字列にすると"
                                  f"別の列 {key!r} と同じになります。列名を変えてください。")
            columns[key] = [encode_scalar(v, name, "run.log_table") for v in vals]
        lengths = {col: len(vals) for col, vals in columns.items()}
        if len(set(lengths.values())) > 1:
            detail = ", ".join(f"{c}={n}" for c, n in lengths.items())
            raise MetricError(f"run.log_table({name!r}, ...): 列の長さがそろっていません ({detail})。"
                              "すべての列を同じ長さにしてください。")
        if sum(lengths.values()) > LIMITS["table_cells"]:
            raise MetricError(f"run.log_table({name!r}, ...): 表が大きすぎます (上限 "
                              f"{LIMITS['table_cells']:,} セル)。ファイルとして保存してください。")
        self._register(name, TABLE, description)
        self._store.queue.append((self._pk, name, TABLE, columns, _time()))

    def log_image(self, name: str, path: str | os.PathLike[str] | None = None, plot: Any = None,
                  description: str = "") -> None:
        """Log an image from a file (``path``) or a matplotlib figure / pyplot (``plot``).

        Example:
            >>> run.log_image("digits", plot=fig)  # doctest: +SKIP
        """
        if (path is None) == (plot is None):
            raise MetricError(f"run.log_image({name!r}): path か plot のどちらか一方だけを"
                              "指定してください。")
        if plot is not None and not hasattr(plot, "savefig"):
            raise MetricError(f"run.log_image({name!r}, plot=...) には matplotlib の Figure か "
                              "matplotlib.pyplot を渡してください。")
        if path is not None and not Path(path).is_file():
            raise ArtifactNotFoundError(f"run.log_image({name!r}, path={str(path)!r}): "
                                        "ファイルがありません。")
        self._register(name, IMAGE, description)
        if plot is not None:
            buf = io.BytesIO()
            plot.savefig(buf, format="png")
            buf.seek(0)
            safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
            artifact = self.upload_file(f"{safe}_{int(_time())}.png", buf)
        else:
            artifact = str(path).replace("\\", "/")
            if Path(artifact).is_absolute() or ".." in artifact.split("/"):
                artifact = Path(path).name
            artifact = self.upload_file(artifact, path)
        uri = f"aml://artifactId/ExperimentRun/dcid.{self.id}/{artifact}"
        self._store.queue.append((self._pk, name, IMAGE, uri, _time()))

    def get_metrics(self, name: str | None = None, recursive: bool = False,
                    run_type: str | None = None, populate: bool = False) -> dict[str, Any]:
        """Every metric of the run: ``{name: value or list}``.

        ``recursive=True`` returns ``{run_id: {name: value}}`` for the run and all
        its descendants. ``populate=True`` replaces image references by the PNG
        bytes.

        Example:
            >>> run.get_metrics()  # doctest: +SKIP
            {'loss': [0.9, 0.5, 0.3], 'lr': 0.01, 'fib': [1, 1, 2]}
        """
        self._store.flush()
        if recursive:
            result = {self.id: self._metrics(name, populate)}
            for child in self.get_children(recursive=True):
                if run_type is None or child.type == run_type:
                    result[child.id] = child._metrics(name, populate)
            return result
        return self._metrics(name, populate)

    def _metrics(self, name: str | None, populate: bool) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for mname, (kind, vals) in self._store.metrics.read(self._pk, name).items():
            if kind == SCALAR:
                result[mname] = vals[0] if len(vals) == 1 else vals
            elif kind == LIST:
                result[mname] = vals
            elif kind in (ROW, TABLE):
                result[mname] = merge_rows(vals, kind)
            else:
                if populate:
                    vals = [self._read_image(v) for v in vals]
                result[mname] = vals[0] if len(vals) == 1 else vals
        return result

    def _read_image(self, uri: str) -> bytes:
        prefix = f"aml://artifactId/ExperimentRun/dcid.{self.id}/"
        return (self.local_path / uri[len(prefix):]).read_bytes()
