"""The run seen from inside a submitted script: every call becomes a line on a pipe.

A submitted script may run on a machine that cannot open the workspace, so
``Run.get_context()`` there returns a :class:`ScriptContextRun`. It checks each
call exactly like :class:`~amlhandson.core.run.Run` (same messages), then writes
one JSON line per call to the pipe its runner gave it (``AMLHANDSON_RUN_PIPE``).
The runner (:mod:`amlhandson.core.compute._trial`) forwards the lines to the
notebook, which writes them into the workspace. Lines are buffered and written
every 50 ms by a daemon thread, at 1,000 lines, and at exit.

Line format (``k`` = kind, ``r`` = run id): ``{"k": "m", "r", "t": metric kind,
"n": name, "v": value, "ts"}``; ``tag``/``prop`` (``"d": {...}``), ``file``
(``"n"``, ``"b64"``, ``"last"``), ``img`` (``"n"``, ``"a"`` artifact), ``child``
(``"p"`` parent id, ``"n"`` name), ``status`` (``"s"``, ``"e"`` error),
``err`` (the script's uncaught exception).

Example:
    >>> import io
    >>> sink = io.BytesIO()
    >>> run = ScriptContextRun("run-1", "exp", _writer=Writer(sink, interval=None))
    >>> run.log("accuracy", 0.9); run.flush()
    >>> json.loads(sink.getvalue())["v"]
    0.9
"""

from __future__ import annotations

import base64
import io
import json
import os
import threading
import time
import traceback
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

from ..exceptions import MetricError, RunStateError, UserErrorException
from ._metrics import (
    IMAGE,
    KIND_CALL,
    LIMITS,
    LIST,
    ROW,
    SCALAR,
    TABLE,
    check_name,
    encode_scalar,
    merge_rows,
    scalar_kind,
)

__all__ = ["ScriptContextRun", "Writer", "from_environment", "FILE_CHUNK"]

#: Files travel in chunks of this many bytes (base64 in one line each).
FILE_CHUNK = 256 * 1024
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class Writer:
    """Buffered, thread-safe JSON-lines writer to the runner's pipe."""

    def __init__(self, stream: BinaryIO, interval: float | None = 0.05,
                 max_lines: int = 1000) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._lines: list[str] = []
        self._max = max_lines
        self.broken = False
        if interval:
            thread = threading.Thread(target=self._loop, args=(interval,), daemon=True,
                                      name="amlhandson-run-pipe")
            thread.start()

    def write(self, message: dict[str, Any]) -> None:
        line = _dumps(message)
        with self._lock:
            self._lines.append(line)
            if len(self._lines) >= self._max:
                self._flush_locked()

    def _flush_locked(self) -> None:
        if not self._lines or self.broken:
            self._lines.clear()
            return
        data = ("\n".join(self._lines) + "\n").encode("utf-8")
        self._lines.clear()
        try:
            self._stream.write(data)
            self._stream.flush()
        except (OSError, ValueError):  # the runner is gone: nothing can be delivered any more
            self.broken = True

    def flush(self) -> None:
        with self._lock:
            self._flush_locked()

    def _loop(self, interval: float) -> None:
        while True:
            time.sleep(interval)
            self.flush()


class ScriptContextRun:
    """``Run.get_context()`` inside a submitted script (same logging API as ``Run``).

    Example:
        >>> run = Run.get_context()  # doctest: +SKIP
        >>> run.log("accuracy", 0.95)  # doctest: +SKIP
    """

    def __init__(self, run_id: str, experiment_name: str, *, _writer: Writer,
                 parent: ScriptContextRun | None = None, name: str | None = None) -> None:
        self._id = run_id
        self._experiment_name = experiment_name
        self._writer = _writer
        self._parent = parent
        self._name = name
        self._kinds: dict[str, int] = {}
        self._values: dict[str, list[Any]] = {}
        self._tags: dict[str, Any] = {}
        self._finished: str | None = None
        self._context = parent is None

    # -- identity ------------------------------------------------------------------------------
    @property
    def id(self) -> str:
        """The run id (the same as in the notebook)."""
        return self._id

    @property
    def name(self) -> str | None:
        """The run's name (child runs: the name given to ``child_run``)."""
        return self._name

    @property
    def parent(self) -> ScriptContextRun | None:
        """The parent run for child runs created in the script, else ``None``."""
        return self._parent

    @property
    def experiment_name(self) -> str:
        """The experiment's name."""
        return self._experiment_name

    @property
    def input_datasets(self) -> dict[str, Any]:
        """Each named dataset input: its local path (mount, download) or the dataset (direct)."""
        from ._catalog import resolve

        return resolve("script_input_datasets")()

    def __repr__(self) -> str:
        return f"Run(Experiment: {self._experiment_name},\nId: {self._id},\nType: None,\nStatus: Running)"

    def _send(self, message: dict[str, Any]) -> None:
        if self._finished is not None:
            raise RunStateError(f"Run {self._id} はすでに {self._finished} で終わっています。")
        message["r"] = self._id
        self._writer.write(message)

    # -- metrics ---------------------------------------------------------------------------------
    def _register(self, name: Any, kind: int) -> None:
        known = self._kinds.get(name)
        if known is None:
            check_name(name, kind)
            self._kinds[name] = kind
        elif known != kind:
            raise MetricError(
                f"Conflicting metric types: {name!r} はすでに {KIND_CALL[known]} で記録されているので "
                f"{KIND_CALL[kind]} では記録できません。別の名前を使ってください。")

    def _metric(self, kind: int, name: str, value: Any, description: str | None) -> None:
        self._register(name, kind)
        message = {"k": "m", "t": kind, "n": name, "v": value, "ts": time.time()}
        if description:
            message["d"] = description
        self._send(message)
        self._values.setdefault(name, []).append(value)

    def log(self, name: str, value: Any, description: str = "", step: int | None = None) -> None:
        """Log one scalar (see :meth:`amlhandson.core.run.Run.log`)."""
        t = type(value)
        if t is not float and t is not int:
            value = encode_scalar(value, name)
        self._metric(SCALAR, name, value, description)

    def log_list(self, name: str, value: Iterable[Any], description: str = "") -> None:
        """Log a list of scalars of one type."""
        if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
            raise MetricError(f"run.log_list({name!r}, ...) にはリストなどの繰り返し可能な値を"
                              f"渡してください ({type(value).__name__} が渡されました)。")
        items = [encode_scalar(v, name, "run.log_list") for v in value]
        if len(items) > LIMITS["list_length"]:
            raise MetricError(f"run.log_list({name!r}, ...): 要素が多すぎます ({len(items):,} 個)。")
        kinds = [(i, scalar_kind(v)) for i, v in enumerate(items) if v is not None]
        for i, kind in kinds[1:]:
            if kind != kinds[0][1]:
                raise MetricError(f"Scalars at index {kinds[0][0]} and {i} differ in type "
                                  f"(run.log_list({name!r}, ...) の要素の型がそろっていません)。")
        self._metric(LIST, name, items, description)

    def log_row(self, name: str, description: str | None = None, **kwargs: Any) -> None:
        """Log one row of a table."""
        if not kwargs:
            raise MetricError(f"run.log_row({name!r}): 列がありません。")
        row = {}
        for col, val in kwargs.items():
            if isinstance(val, (list, tuple, dict)):
                raise MetricError(f"Row metrics cannot contain list values (run.log_row({name!r}"
                                  f", ...) の列 {col!r})。")
            row[col] = encode_scalar(val, name, "run.log_row")
        self._metric(ROW, name, row, description)

    def log_table(self, name: str, value: dict[str, list[Any]], description: str = "") -> None:
        """Log a table ``{column: [values...]}``."""
        if not isinstance(value, dict) or not value:
            raise MetricError(f"run.log_table({name!r}, ...) には {{'列名': [値, ...]}} の dict を"
                              "渡してください。")
        columns = {str(c): [encode_scalar(v, name, "run.log_table") for v in vals]
                   for c, vals in value.items()}
        if len({len(v) for v in columns.values()}) > 1:
            raise MetricError(f"run.log_table({name!r}, ...): 列の長さがそろっていません。")
        self._metric(TABLE, name, columns, description)

    def log_image(self, name: str, path: str | os.PathLike[str] | None = None, plot: Any = None,
                  description: str = "") -> None:
        """Log an image from a file or a matplotlib figure."""
        if (path is None) == (plot is None):
            raise MetricError(f"run.log_image({name!r}): path か plot のどちらか一方だけを"
                              "指定してください。")
        self._register(name, IMAGE)
        if plot is not None:
            if not hasattr(plot, "savefig"):
                raise MetricError(f"run.log_image({name!r}, plot=...) には matplotlib の Figure か "
                                  "matplotlib.pyplot を渡してください。")
            buf = io.BytesIO()
            plot.savefig(buf, format="png")
            safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
            artifact = f"{safe}_{int(time.time())}.png"
            self.upload_file(artifact, io.BytesIO(buf.getvalue()))
        else:
            artifact = str(path).replace("\\", "/")
            if Path(artifact).is_absolute() or ".." in artifact.split("/"):
                artifact = Path(path).name
            self.upload_file(artifact, path)
        self._send({"k": "img", "n": name, "a": artifact, "d": description or None})
        self._values.setdefault(name, []).append(
            f"aml://artifactId/ExperimentRun/dcid.{self._id}/{artifact}")

    def get_metrics(self, name: str | None = None, **_: Any) -> dict[str, Any]:
        """The metrics this script logged (in the shapes of ``Run.get_metrics``)."""
        result: dict[str, Any] = {}
        for mname, values in self._values.items():
            if name is not None and mname != name:
                continue
            kind = self._kinds[mname]
            if kind == LIST:
                result[mname] = [v for part in values for v in part]
            elif kind in (ROW, TABLE):
                result[mname] = merge_rows(values, kind)
            else:
                result[mname] = values[0] if len(values) == 1 else list(values)
        return result

    # -- tags, properties, files --------------------------------------------------------------------
    def tag(self, key: str, value: Any = None) -> None:
        """Set one tag."""
        self.set_tags({key: value})

    def set_tags(self, tags: dict[str, Any]) -> None:
        """Set several tags."""
        if not isinstance(tags, dict):
            raise UserErrorException("set_tags には {'キー': '値'} の dict を渡してください。")
        clean = {str(k): v if v is None or isinstance(v, str) else str(v) for k, v in tags.items()}
        self._send({"k": "tag", "d": clean})
        self._tags.update(clean)

    def get_tags(self) -> dict[str, Any]:
        """The tags set by this script."""
        return dict(self._tags)

    def add_properties(self, properties: dict[str, Any]) -> None:
        """Add properties (checked for changes when they arrive in the workspace)."""
        if not isinstance(properties, dict):
            raise UserErrorException("add_properties には {'キー': '値'} の dict を渡してください。")
        self._send({"k": "prop", "d": {str(k): v if v is None or isinstance(v, str) else str(v)
                                       for k, v in properties.items()}})

    def upload_file(self, name: str, path_or_stream: Any, datastore_name: Any = None) -> str:
        """Send a file (or a binary stream) to the run's files as ``name``."""
        if not isinstance(name, str) or not name.strip() or ".." in name.replace("\\", "/").split("/"):
            raise UserErrorException(f"ファイル名 {name!r} は使えません。'outputs/model.pkl' のような"
                                     "相対パスにしてください。")
        if hasattr(path_or_stream, "read"):
            data = path_or_stream.read()
            data = data.encode("utf-8") if isinstance(data, str) else data
            chunks: Iterable[bytes] = [data[i:i + FILE_CHUNK]
                                       for i in range(0, max(len(data), 1), FILE_CHUNK)]
        else:
            src = Path(path_or_stream)
            if not src.is_file():
                raise UserErrorException(f"upload_file({name!r}, {str(path_or_stream)!r}): "
                                         "アップロードするファイルがありません。")
            chunks = _file_chunks(src)
        pending: bytes | None = None
        for chunk in chunks:
            if pending is not None:
                self._send({"k": "file", "n": name, "b64": base64.b64encode(pending).decode(),
                            "last": False})
            pending = chunk
        self._send({"k": "file", "n": name, "b64": base64.b64encode(pending or b"").decode(),
                    "last": True})
        return name.replace("\\", "/")

    def upload_folder(self, name: str, path: str | os.PathLike[str], **_: Any) -> list[str]:
        """Send every file below ``path`` as ``name/<relative path>``."""
        folder = Path(path)
        prefix = name.replace("\\", "/").strip("/")
        return [self.upload_file(f"{prefix}/{p.relative_to(folder).as_posix()}" if prefix
                                 else p.relative_to(folder).as_posix(), p)
                for p in sorted(folder.rglob("*")) if p.is_file()]

    def register_model(self, model_name: str, model_path: str | None = None,
                       tags: dict[str, Any] | None = None,
                       properties: dict[str, Any] | None = None,
                       description: str | None = None, **_: Any) -> None:
        """Register ``model_path`` (a file or folder the script wrote) as a model, as in v1.

        The file is sent to the run's files under the same name, then registered
        from the run in the workspace (``Model(ws, model_name)`` finds it).
        """
        if not isinstance(model_name, str) or not model_name.strip():
            raise UserErrorException("register_model: model_name を指定してください。")
        if not isinstance(model_path, str) or not model_path.strip():
            raise UserErrorException("register_model: model_path に 'outputs/model.pkl' のような"
                                     "スクリプトが書いたファイルのパスを指定してください。")
        local = Path(model_path)
        if local.is_dir():
            self.upload_folder(model_path, local)
        elif local.is_file():
            self.upload_file(model_path, local)
        else:
            raise UserErrorException(f"register_model: {model_path!r} というファイルがありません。"
                                     "先にモデルを保存してから登録してください。")
        self._send({"k": "reg", "n": model_name, "p": model_path.replace("\\", "/"),
                    "t": tags, "pr": properties, "d": description})
        self._writer.flush()

    # -- children and lifecycle ------------------------------------------------------------------------
    def child_run(self, name: str | None = None, run_id: str | None = None,
                  outputs: str | None = None) -> ScriptContextRun:
        """Create and start a child run of this run (usable as a context manager)."""
        child_id = run_id or str(uuid.uuid4())
        self._send({"k": "child", "p": self._id, "n": name, "c": child_id})
        return ScriptContextRun(child_id, self._experiment_name, _writer=self._writer,
                                parent=self, name=name)

    def _status(self, status: str, error: dict[str, Any] | None = None) -> None:
        if self._finished == status:
            return
        self._send({"k": "status", "s": status, "e": error})
        self._finished = status
        self._writer.flush()

    def complete(self, _set_status: bool = True) -> None:
        """Complete a child run (the script's own run completes when the script ends)."""
        if not self._context:
            self._status("Completed")

    def fail(self, error_details: Any = None, error_code: str | None = None, **_: Any) -> None:
        """Mark the run Failed with ``error_details``."""
        error: dict[str, Any] = {"message": str(error_details) if error_details is not None
                                 else "Run failed", "code": error_code or "UserError"}
        if isinstance(error_details, BaseException):
            error["type"] = type(error_details).__name__
            error["traceback"] = "".join(traceback.format_exception(
                type(error_details), error_details, error_details.__traceback__))
        self._status("Failed", error)

    def cancel(self) -> None:
        """Mark the run Canceled."""
        self._status("Canceled")

    def flush(self, timeout_seconds: int = 300) -> None:
        """Hand everything logged so far to the runner now."""
        self._writer.flush()

    def __enter__(self) -> ScriptContextRun:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        if self._context:
            self.flush()
            return False
        if exc is None:
            self._status("Completed")
        else:
            self.fail(error_details=exc)
        return False


def _file_chunks(path: Path) -> Iterable[bytes]:
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(FILE_CHUNK)
            if not chunk:
                return
            yield chunk


def from_environment() -> ScriptContextRun | None:
    """The context run for this process if a runner started it (``AMLHANDSON_RUN_PIPE``), else ``None``.

    Example:
        >>> from_environment() is None  # outside a submitted script
        True
    """
    run_id, pipe = os.environ.get("AMLHANDSON_RUN_ID"), os.environ.get("AMLHANDSON_RUN_PIPE")
    if not run_id or not pipe:
        return None
    if os.name == "nt":  # an inherited pipe handle
        import msvcrt

        fd = msvcrt.open_osfhandle(int(pipe), os.O_WRONLY)
    else:
        fd = int(pipe)
    stream = os.fdopen(fd, "wb", buffering=0)
    return ScriptContextRun(run_id, os.environ.get("AMLHANDSON_EXPERIMENT", ""),
                            _writer=Writer(stream))
