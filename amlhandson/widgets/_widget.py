"""``RunDetails``: v1's run widget, built from ipywidgets core widgets only.

The view is a ``VBox`` of an ``HTML`` header and a ``Tab`` of ``HTML`` panes
(metrics, charts, images, child runs, log, files). It needs no front-end
extension of its own, so it renders wherever ipywidgets 8 does (JupyterLab 4,
Notebook 7, VS Code). What is displayed also carries a static ``text/html`` and
``text/plain`` summary, shown where no widget front-end exists (nbconvert,
nbval, GitHub).

While the run is not finished a daemon thread re-reads it every
``refresh_interval`` seconds and updates the panes; it stops when the run
reaches Completed, Failed or Canceled, or when the widget is closed. The thread
never prints (a stray print would land in whatever cell runs next).

Example:
    >>> from amlhandson.widgets import RunDetails
    >>> RunDetails(run).show()  # doctest: +SKIP
"""

from __future__ import annotations

import threading
from typing import Any

from ..exceptions import UserErrorException
from ..studio import links
from . import _hyperdrive, _pipeline, _summary

__all__ = ["RunDetails", "WIDGET_MIME"]

#: The MIME type of an ipywidgets view in a display message.
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

_PANES = ("metrics", "charts", "images", "children", "logs", "files")


def _panes(data: dict[str, Any]) -> tuple[str, ...]:
    return ("graph", *_PANES) if data.get("pipeline") else _PANES


def _titles(data: dict[str, Any]) -> tuple[str, ...]:
    metrics = data["metrics"]
    n_scalar = sum(m["kind"] in ("scalar", "series", "list", "table") for m in metrics)
    n_series = len(_summary._series(data))
    n_images = sum(m["kind"] == "image" for m in metrics)
    children = "Trials" if data.get("hyperdrive") else "Child runs"
    titles = (f"Metrics ({n_scalar})", f"Charts ({n_series})", f"Images ({n_images})",
              f"{children} ({data['children_total']})", "Log", f"Files ({len(data['files'])})")
    if data.get("pipeline"):
        return (f"Pipeline ({len(data['pipeline']['steps'])} steps)", *titles)
    return titles


class RunDetails:
    """Show a run's status, metrics, charts, images and child runs; live while it runs.

    ``RunDetails(run).show()`` works like ``azureml.widgets.RunDetails``.
    :meth:`get_widget_data` returns the plain dict that the view renders.

    Example:
        >>> details = RunDetails(run)  # doctest: +SKIP
        >>> details.show()  # doctest: +SKIP
        >>> details.get_widget_data()["status"]  # doctest: +SKIP
        'Completed'
    """

    def __init__(self, run_instance: Any, refresh_interval: float = 2.0) -> None:
        from ..core.run import Run

        if not isinstance(run_instance, Run):
            raise UserErrorException(
                f"RunDetails(run) には Run を渡してください ({type(run_instance).__name__} が"
                "渡されました)。例: RunDetails(exp.start_logging()) や "
                "RunDetails(exp.submit(config))"
            )
        if not isinstance(refresh_interval, (int, float)) or refresh_interval <= 0:
            raise UserErrorException(
                f"RunDetails: refresh_interval は正の秒数にしてください ({refresh_interval!r})。")
        self.run = run_instance
        self.refresh_interval = float(refresh_interval)
        # A separate handle for reading, so the refresh thread never touches the user's object.
        self._reader = Run(run_instance.experiment, run_instance.id)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._root: Any = None
        self._header: Any = None
        self._tab: Any = None
        self._panes: dict[str, Any] = {}
        #: The data last shown (``None`` before the first display).
        self.data: dict[str, Any] | None = None
        #: How many times the view was refreshed (first display included).
        self.refresh_count = 0
        #: The last error met while refreshing in the background, if any (never printed).
        self.last_error: BaseException | None = None

    # -- data ------------------------------------------------------------------------------
    def get_widget_data(self, widget_settings: dict[str, Any] | None = None) -> dict[str, Any]:
        """The run as plain data: the dict the view renders (see :func:`_summary.collect`).

        Example:
            >>> RunDetails(run).get_widget_data()["metrics"][0]["name"]  # doctest: +SKIP
            'accuracy'
        """
        with self._lock:
            data = _summary.collect(self._reader)
            data["hyperdrive"] = _hyperdrive.collect(self._reader)
            if data["hyperdrive"] is not None:
                data["tags"] = _hyperdrive.visible_tags(data["run_id"], data["tags"])
            return data

    def refresh(self) -> dict[str, Any]:
        """Read the run again now, update the view (if built) and return the data."""
        data = self.get_widget_data()
        self._apply(data)
        return data

    # -- views -------------------------------------------------------------------------------
    def _build(self, data: dict[str, Any]) -> Any:
        try:
            import ipywidgets as w
        except ImportError:
            return None
        self._header = w.HTML(value=self._header_html(data))
        self._panes = {key: w.HTML(value="") for key in _panes(data)}
        self._tab = w.Tab(children=[self._panes[k] for k in _panes(data)], titles=_titles(data))
        self._root = w.VBox([self._header, self._tab])
        self._root.add_class("amlhandson-run-details")
        return self._root

    def _header_html(self, data: dict[str, Any]) -> str:
        """The header, with a link to the run's page in AML Studio when a studio runs."""
        link = links.StudioLink(links.run_path(self.run), "AML Studio で開く")
        studio = ""
        if link.server is not None:
            studio = f'<div style="margin:2px 0">{link._repr_html_()}</div>'
        return _summary.header_html(data) + studio

    def _pane_html(self, key: str, data: dict[str, Any]) -> str:
        if key == "graph":
            return _pipeline.pipeline_html(data["pipeline"] or {})
        if key == "metrics":
            return _summary.metrics_html(data)
        if key == "charts":
            return _summary.charts_html(data)
        if key == "images":
            return _summary.images_html(data, self._reader.local_path)
        if key == "children":
            if data.get("hyperdrive"):
                return _hyperdrive.trials_html(data)
            return _summary.children_html(data)
        if key == "logs":
            return _summary.logs_html(data)
        return _summary.files_html(data)

    def _apply(self, data: dict[str, Any]) -> None:
        self.data = data
        self.refresh_count += 1
        if self._root is None:
            return
        values = [(self._header, self._header_html(data))]
        values += [(self._panes[k], self._pane_html(k, data)) for k in self._panes]
        for widget, value in values:
            if widget.value != value:
                widget.value = value
        titles = _titles(data)
        if tuple(self._tab.titles) != titles:
            self._tab.titles = titles

    @property
    def widget(self) -> Any:
        """The ipywidgets view (built on first use; ``None`` without ipywidgets)."""
        if self._root is None:
            data = self.data or self.get_widget_data()
            if self._build(data) is not None:
                self._apply(data)
        return self._root

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        data = self.get_widget_data()
        root = self._root if self._root is not None else self._build(data)
        self._apply(data)
        html = _summary.static_html(data, self._reader.local_path,
                                    children=_hyperdrive.trials_html(data) or None)
        if not data["is_terminal"]:
            html += ('<div style="color:#666;font-size:12px">(表示した時点の状態です。Jupyter では'
                     '上のウィジェットが Run の終了まで自動で更新されます。)</div>')
        bundle: dict[str, Any] = {"text/plain": self._text(data), "text/html": html}
        if root is not None:
            view = root._repr_mimebundle_() or {}
            if WIDGET_MIME in view:
                bundle[WIDGET_MIME] = view[WIDGET_MIME]
        if not data["is_terminal"]:
            self._start()
        return bundle

    def show(self, render_lib: Any = None, widget_settings: dict[str, Any] | None = None) -> None:
        """Display the widget (and its static summary) in the notebook.

        Example:
            >>> RunDetails(run).show()  # doctest: +SKIP
        """
        from IPython.display import display

        display(self)

    # -- live refresh ------------------------------------------------------------------------
    @property
    def is_refreshing(self) -> bool:
        """``True`` while the background refresh thread runs."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def _start(self) -> None:
        if self.is_refreshing:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="amlhandson-run-details",
                                        daemon=True)
        self._thread.start()

    def _closed(self) -> bool:
        return self._root is not None and getattr(self._root, "comm", None) is None

    def _loop(self) -> None:
        interval = self.refresh_interval
        while not self._stop.wait(interval):
            if self._closed():
                return
            try:
                data = self.refresh()
            except Exception as exc:  # noqa: BLE001 - keep quiet; see last_error
                self.last_error = exc
                continue
            if data["is_terminal"]:
                return
            # A run whose owner stopped answering is polled more slowly.
            slow = data["status"] == "NotResponding"
            interval = self.refresh_interval * (5 if slow else 1)

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop refreshing (the view keeps its last state)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def close(self) -> None:
        """Stop refreshing and close the widgets."""
        self.stop()
        for widget in [self._root, self._tab, self._header, *self._panes.values()]:
            if widget is not None:
                widget.close()

    @staticmethod
    def _text(data: dict[str, Any]) -> str:
        return _summary.summary_text(data, children=_hyperdrive.trials_text(data) or None)

    def __repr__(self) -> str:
        data = self.data or self.get_widget_data()
        return self._text(data)
