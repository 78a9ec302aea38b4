"""IPython magics for run tracking: ``%load_ext amlhandson``.

=====================  ===========================================================
``%%aml_run``          run the cell as one tracked run (``run`` inside the cell)
``%aml_log NAME VALUE`` log a metric into the running ``%%aml_run`` cell's run
``%aml_runs``          table of an experiment's latest runs and their metrics
``%aml_workspace``     the workspace of ``config.json``, where its data lives
``%aml_studio [RUN]``   a link to the local AML Studio portal (workspace, experiment or run)
=====================  ===========================================================

Each magic is a thin parser over :mod:`amlhandson.tracking`; ``%name?`` or
``%name --help`` prints its help. Usage mistakes raise :class:`AmlMagicError`, a
real exception (so nbval and "Run All" stop there) shown as one short line.

Example:
    >>> %load_ext amlhandson  # doctest: +SKIP
    >>> %%aml_run -e my-first-experiment -t model=knn  # doctest: +SKIP
    ... run.log("accuracy", 0.95)
"""

from __future__ import annotations

import io
import shlex
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.utils.text import dedent

from . import _paths, tracking
from .exceptions import AmlHandsOnError, UserErrorException

__all__ = ["AmlMagics", "AmlMagicError", "load_ipython_extension", "unload_ipython_extension"]

_NAMES = {"line": ("aml_run", "aml_log", "aml_runs", "aml_workspace", "aml_studio"),
          "cell": ("aml_run",)}


class AmlMagicError(UsageError, AmlHandsOnError):
    """A magic was used wrongly (bad arguments, no active run, no config.json ...).

    Unlike a plain ``UsageError`` it is reported as an error of the cell (so
    nbval and "Run All" stop), but shown as one short line without a traceback.
    """

    def _render_traceback_(self) -> list[str]:
        return [f"UsageError: {self}"]


def _unquote(value: str | None) -> str | None:
    """IPython keeps the quotes of magic arguments (``-n "my run"``); drop a matching pair."""
    if value is not None and len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _help_requested(line: str) -> bool:
    try:
        tokens = shlex.split(line)
    except ValueError:
        return False
    return "-h" in tokens or "--help" in tokens


@magics_class
class AmlMagics(Magics):
    """The amlhandson magics (registered by ``%load_ext amlhandson``)."""

    def _parse(self, magic: Any, line: str) -> Any:
        """Parse ``line``; print the help and return ``None`` for ``-h`` / ``--help``."""
        if _help_requested(line):
            print(dedent(magic.__doc__ or ""))
            return None
        try:
            return parse_argstring(magic, line)
        except UsageError as exc:
            name = magic.__name__
            raise AmlMagicError(f"%{name}: {exc} (使い方は %{name} --help)") from None

    # -- %%aml_run ---------------------------------------------------------------------------
    @magic_arguments()
    @argument("-e", "--experiment", default=None,
              help="記録先の experiment 名 (既定: 環境変数 AMLHANDSON_EXPERIMENT、"
                   "なければ notebook-runs)")
    @argument("-n", "--name", default=None, help="Run の名前 (display name)")
    @argument("-t", "--tag", action="append", nargs="+", metavar="KEY=VALUE", default=None,
              help="Run に付けるタグ (複数可: -t model=knn k=3)")
    @argument("--no-show", action="store_true",
              help="セルのあとに Run の要約 (状態・時間・メトリック) を表示しない")
    @argument("-h", "--help", action="store_true", help="この説明を表示する")
    @line_cell_magic
    def aml_run(self, line: str, cell: str | None = None) -> None:
        """セルを 1 つの Run として実行し、記録します。

        セルの中では変数 run がその Run です (run.log("accuracy", 0.95) など)。
        セルのソースは cell_source.py、print の出力は azureml-logs/70_driver_log.txt
        として Run に保存されます。セルが終わると Run は Completed、例外なら Failed
        (例外はそのまま表示されます)、中断なら Canceled になります。セルを再実行すると
        新しい Run になります。%%aml_run はセルの 1 行目に書いてください。

        例::

            %%aml_run -e my-first-experiment -t model=knn
            run.log("accuracy", 0.95)
        """
        __tracebackhide__ = True  # noqa: F841 - keep this frame out of the cell's traceback
        args = self._parse(self.aml_run, line)
        if args is None:
            return
        if cell is None:
            raise AmlMagicError(
                "%aml_run はセルマジックです。セルの 1 行目に %%aml_run と書き、その下に記録したい"
                "コードを書いてください (説明: %aml_run --help)。")
        try:
            experiment = _unquote(args.experiment) or tracking.default_experiment_name()
            _paths.check_name(experiment, "experiment")
            tags = tracking.parse_tags([[_unquote(t) for t in group] for group in args.tag or []])
            workspace = tracking.load_workspace()
        except AmlHandsOnError as exc:
            raise AmlMagicError(f"%%aml_run: {exc}") from exc
        tracking.run_tracked_cell(self.shell, cell, workspace=workspace, magic_line=line,
                                  experiment=experiment, name=_unquote(args.name), tags=tags,
                                  show=not args.no_show)

    # -- %aml_log ----------------------------------------------------------------------------
    @magic_arguments()
    @argument("name", help="メトリック名 (空白を含むなら引用符で囲む)")
    @argument("value", nargs="*",
              help="値: Python のリテラル (0.95, 10, True, 'text', [1, 2]) か、ただの文字列")
    @argument("-h", "--help", action="store_true", help="この説明を表示する")
    @line_magic
    def aml_log(self, line: str) -> None:
        """実行中の %%aml_run セルの Run にメトリックを 1 つ記録します (run.log と同じ)。

        リスト ([1, 2, 3]) は run.log_list で記録します。%%aml_run の外では使えません。

        例::

            %%aml_run
            %aml_log learning_rate 0.01
        """
        if self._parse(self.aml_log, line) is None:
            return
        lexer = shlex.shlex(io.StringIO(line.strip()), posix=True)
        lexer.whitespace_split = True
        name = lexer.get_token() or ""
        rest = lexer.instream.read().strip()
        if not rest:
            raise AmlMagicError(f"%aml_log {name}: 値がありません。%aml_log NAME VALUE の形で書いて"
                                "ください (例: %aml_log accuracy 0.95)。")
        try:
            tracking.log_to_active_run(name, rest)
        except AmlHandsOnError as exc:
            raise AmlMagicError(str(exc)) from exc

    # -- %aml_runs ---------------------------------------------------------------------------
    @magic_arguments()
    @argument("experiment", nargs="?", default=None,
              help="experiment 名 (既定: 直前の %%aml_run の experiment)")
    @argument("--top", type=int, default=10, help="新しい順に何件表示するか (既定 10)")
    @argument("-h", "--help", action="store_true", help="この説明を表示する")
    @line_magic
    def aml_runs(self, line: str) -> None:
        """experiment の最近の Run を表にします (番号、Id、名前、状態、時間、メトリックの最新値)。

        例::

            %aml_runs my-first-experiment --top 5
        """
        args = self._parse(self.aml_runs, line)
        if args is None:
            return
        from IPython.display import display

        try:
            table = tracking.runs_table(tracking.load_workspace(), _unquote(args.experiment),
                                        args.top)
        except AmlHandsOnError as exc:
            raise AmlMagicError(f"%aml_runs: {exc}") from exc
        display(table)

    # -- %aml_workspace ----------------------------------------------------------------------
    @magic_arguments()
    @argument("-h", "--help", action="store_true", help="この説明を表示する")
    @line_magic
    def aml_workspace(self, line: str) -> None:
        """config.json のワークスペースと、そのデータの保存場所・件数を表示します。

        例::

            %aml_workspace
        """
        if self._parse(self.aml_workspace, line) is None:
            return
        from IPython.display import display

        try:
            workspace = tracking.load_workspace()
            info = tracking.workspace_info(workspace, tracking.find_config())
        except AmlHandsOnError as exc:
            raise AmlMagicError(f"%aml_workspace: {exc}") from exc
        display(info)

    # -- %aml_studio -------------------------------------------------------------------------
    @magic_arguments()
    @argument("run", nargs="?", default=None, help="Run の ID (先頭の数文字で可)。省略するとワークスペース")
    @argument("-e", "--experiment", default=None, help="この experiment の Run 一覧を開く")
    @argument("-p", "--page", default=None,
              choices=["experiments", "models", "endpoints", "compute", "data"],
              help="ワークスペースのこのページを開く (models, endpoints など)")
    @argument("--frame", action="store_true", help="セルの下にページを埋め込んで表示する")
    @argument("-h", "--help", action="store_true", help="この説明を表示する")
    @line_magic
    def aml_studio(self, line: str) -> None:
        """ローカルの AML Studio (ポータル) のページへのリンクを表示します。

        config.json のワークスペース、-e の experiment、-p のページ (models, endpoints,
        compute, data, experiments)、または指定した Run のページを開けます。Studio が
        起動していなければ、起動のしかたを表示します。

        例::

            %aml_studio
            %aml_studio -e my-first-experiment
            %aml_studio -p endpoints
            %aml_studio {run.id} --frame
        """
        args = self._parse(self.aml_studio, line)
        if args is None:
            return
        from IPython.display import display

        from .studio import links

        try:
            workspace = tracking.load_workspace()
            if args.run:
                from .core.run import Run

                target = Run.find(workspace, _unquote(args.run))
                path, label = links.run_path(target), f"Run {target.number} を AML Studio で開く"
            elif args.experiment:
                name = _unquote(args.experiment)
                exp = workspace.experiments.get(name)
                if exp is None:
                    raise UserErrorException(f"experiment {name!r} はワークスペース "
                                             f"{workspace.name!r} にありません。")
                path, label = links.experiment_path(exp), f"実験 {exp.name} を AML Studio で開く"
            elif args.page:
                titles = {"experiments": "実験", "models": "モデル", "endpoints": "エンドポイント",
                          "compute": "コンピューティング", "data": "データ"}
                path = links.workspace_path(workspace) + args.page
                label = f"{titles[args.page]} ({workspace.name}) を AML Studio で開く"
            else:
                path, label = links.workspace_path(workspace), \
                    f"ワークスペース {workspace.name} を AML Studio で開く"
        except AmlHandsOnError as exc:
            raise AmlMagicError(f"%aml_studio: {exc}") from exc
        display(links.StudioLink(path, label, frame=args.frame))


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics (``%load_ext amlhandson``)."""
    ipython.register_magics(AmlMagics)


def unload_ipython_extension(ipython: Any) -> None:
    """Remove the magics (``%unload_ext amlhandson``)."""
    magics = ipython.magics_manager.magics
    for kind, names in _NAMES.items():
        for name in names:
            magics[kind].pop(name, None)
    ipython.magics_manager.registry.pop("AmlMagics", None)
