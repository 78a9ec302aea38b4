"""The scoring server's settings: what ``server.json`` holds, with defaults and limits.

One place for every number the server enforces, read by the server process
(:mod:`._server`), its score workers (:mod:`._worker`) and written by the SDK
(:mod:`._deploy`) and ``Model.package``. Unknown keys are ignored, missing
ones take the defaults below, so an older ``server.json`` still starts.

==============================  =========  =================================================
key                             default    meaning
==============================  =========  =================================================
``allow_unauthenticated``       false      serve a non-loopback ``host`` without keys
``workers``                     2          score worker processes kept running (each runs
                                           score.py's ``init()`` once)
``max_workers``                 4          more are started while every worker is busy
                                           (autoscale-like), retired after 60 s idle
``replica_max_concurrent_requests`` 1      ``run()`` calls at once per worker (v1's name;
                                           more than 1 needs a thread-safe ``run()``)
``scoring_timeout_ms``          60000      a ``run()`` taking longer is answered 504 and its
                                           worker is killed and replaced (v1's name)
``max_request_wait_time_ms``    30000      a request waiting longer for a free worker is
                                           answered 503 (v1's name)
``init_timeout_s``              300        a worker whose ``init()`` takes longer is killed
``max_connections``             1000       open connections (idle ones included); beyond:
                                           503 for new requests
``request_timeout_s``           20         time to send a complete request (headers and
                                           body) on a connection; slower ones are closed
``keep_alive_s``                5          an idle keep-alive connection is closed after this
``max_request_body_bytes``      10 MiB     bigger bodies are answered 413 without reading
``max_json_depth``              100        nesting of arrays/objects in a request
``max_int_digits``              4300       digits of one integer in a request (Python's own
                                           default limit for ``int(str)``)
``max_worker_memory_mb``        2048       a worker using more memory is recycled
``max_requests_per_worker``     0          recycle a worker after this many requests (0: never)
``log_file``                    null       the log to rotate (the server's stderr goes there)
``log_max_bytes``               10 MiB     ... rotated past this size
``log_backups``                 3          ``service.log.1`` ... ``.3`` kept
``max_log_line``                4096       longer log lines are cut (with a note)
==============================  =========  =================================================

Example:
    >>> s = ServerSettings.from_dict({"name": "svc", "entry_script": "score.py", "workers": 3})
    >>> s.workers, s.max_workers, s.scoring_timeout_ms
    (3, 4, 60000)
    >>> ServerSettings.from_dict({"entry_script": "score.py", "workers": 0}).workers
    1
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ServerSettings", "MIB"]

MIB = 1024 * 1024


@dataclass(frozen=True)
class ServerSettings:
    """Every setting of one scoring server (see the module docs for their meaning).

    Example:
        >>> ServerSettings(entry_script="score.py").max_request_body_bytes == 10 * MIB
        True
    """

    entry_script: str
    name: str = "service"
    app_dir: str = "app"
    model_dir: str = "azureml-models"
    models: list[dict[str, Any]] = field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 0
    keys_file: str | None = None
    allow_unauthenticated: bool = False
    runtime_file: str | None = None
    failure_file: str | None = None
    watch: bool = False
    workers: int = 2
    max_workers: int = 4
    replica_max_concurrent_requests: int = 1
    scoring_timeout_ms: int = 60_000
    max_request_wait_time_ms: int = 30_000
    init_timeout_s: float = 300.0
    max_connections: int = 1000
    request_timeout_s: float = 20.0
    keep_alive_s: float = 5.0
    max_request_body_bytes: int = 10 * MIB
    max_json_depth: int = 100
    max_int_digits: int = 4300
    max_worker_memory_mb: int = 2048
    max_requests_per_worker: int = 0
    log_file: str | None = None
    log_max_bytes: int = 10 * MIB
    log_backups: int = 3
    max_log_line: int = 4096

    #: (low, high) bounds; values outside are clamped, so a hand-edited file cannot
    #: switch a protection off.
    _BOUNDS = {
        "workers": (1, 64), "max_workers": (1, 64), "replica_max_concurrent_requests": (1, 64),
        "scoring_timeout_ms": (100, 24 * 3600 * 1000),
        "max_request_wait_time_ms": (0, 24 * 3600 * 1000), "init_timeout_s": (1, 24 * 3600),
        "max_connections": (16, 100_000), "request_timeout_s": (0.5, 3600),
        "keep_alive_s": (0.5, 3600), "max_request_body_bytes": (1024, 2 ** 40),
        "max_json_depth": (2, 10_000), "max_int_digits": (10, 1_000_000),
        "max_worker_memory_mb": (32, 2 ** 30), "max_requests_per_worker": (0, 2 ** 40),
        "log_max_bytes": (64 * 1024, 2 ** 40), "log_backups": (1, 100),
        "max_log_line": (256, MIB),
    }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ServerSettings:
        """Settings from a ``server.json`` object: defaults for what is missing, bounds applied."""
        names = {f.name: f for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key not in names or value is None:
                continue
            if key in cls._BOUNDS:
                low, high = cls._BOUNDS[key]
                kind = type(names[key].default)
                value = min(max(kind(value), low), high)
            values[key] = value
        settings = cls(**values)
        if settings.max_workers < settings.workers:
            settings = dataclasses.replace(settings, max_workers=settings.workers)
        return settings

    def to_dict(self) -> dict[str, Any]:
        """The ``server.json`` object of these settings."""
        return dataclasses.asdict(self)
