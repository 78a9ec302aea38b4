"""One detached pipeline run: ``python -m amlhandson.pipeline.core._runner`` (spec on stdin).

Started by :func:`._detached.start_run` for the REST endpoint and the scheduler.
It reads a JSON spec (workspace, published pipeline id, experiment, parameter
values, tags) from stdin, submits the published pipeline in this process,
writes ``{"Id": "<run id>"}`` as its one line on stdout as soon as the run
exists (or ``{"error": "..."}``), and then runs the pipeline to its end with
stdout and stderr going to the log. The run belongs to this process: if it is
killed, the run is marked Failed on the next read, as for any run. A
``run.cancel()`` from another process (a notebook, the CLI) is noticed within
a second and stops the steps.

Example (what :func:`._detached.start_run` does)::

    echo '{"home": ..., "pipeline_id": ..., "experiment": "pipelines"}' | \\
        python -m amlhandson.pipeline.core._runner

    >>> main  # doctest: +ELLIPSIS
    <function main at ...>
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

__all__ = ["main"]


def _answer(stream: Any, data: dict[str, Any]) -> None:
    try:
        stream.write(json.dumps(data, ensure_ascii=False) + "\n")
        stream.flush()
        stream.close()
    except OSError:
        pass  # the caller gave up waiting; the run goes on


def main() -> int:
    """Run one published pipeline (see the module docs); the exit code is 0 unless it could not start."""
    answer = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # from here on, print() goes to the log, never into the answer
    try:
        spec = json.loads(sys.stdin.read())
        os.environ["AMLHANDSON_HOME"] = spec["home"]
        from ...core.workspace import Workspace
        from ._engine import live_engine
        from .published_pipeline import PublishedPipeline

        workspace = Workspace.get(spec["workspace"], subscription_id=spec["subscription_id"],
                                  resource_group=spec["resource_group"])
        published = PublishedPipeline.get(workspace, spec["pipeline_id"])
        run = published.submit(workspace, spec["experiment"], spec.get("parameters") or {},
                               tags=spec.get("tags") or None)
    except Exception as exc:  # noqa: BLE001 - reported to the caller, which answers the client
        _answer(answer, {"error": f"{type(exc).__name__}: {exc}"})
        raise
    _answer(answer, {"Id": run.id})
    print(f"pipeline run {run.id} of {published.name} ({published.id}) started", flush=True)
    engine = live_engine(run.id)
    while engine is not None and engine.is_alive():
        engine.join(1.0)
        if engine.is_alive() and run.get_status() in ("Canceled", "CancelRequested"):
            engine.cancel("別のプロセスから run.cancel() で取り消されました。")
    print(f"pipeline run {run.id} ended: {run.get_status()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
