"""``amlhandson data mnist`` (also ``python -m amlhandson.datasets.mnist``): a thin CLI on download.
"""

from __future__ import annotations

import argparse
import sys
import warnings

from amlhandson.exceptions import DataError, DownloadError, UserErrorException

from ..._display import display_path
from . import settings
from ._common import NAMES, SPLITS
from ._download import _download
from ._location import data_dir
from ._mirrors import ENV_MIRROR, ENV_NO_PUBLIC


def _build_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description=(
            "MNIST をダウンロードし、検証してハンズオンの名前 (train-images.gz など) で保存します。"
            f" ミラーは --mirror、環境変数 {ENV_MIRROR}、公開ミラーの順に試します"
            f" ({ENV_NO_PUBLIC}=1 で公開ミラーを使いません)。"
        ),
    )
    parser.add_argument(
        "--mirror",
        action="append",
        default=[],
        metavar="URL_OR_DIR",
        help=(
            "先に試すミラー (http(s)/file の URL か、元のファイル名で置いたフォルダ)。複数回指定可"
        ),
    )
    parser.add_argument(
        "--dir",
        default=None,
        help=f"保存先フォルダ (既定: ノートブックが読む {display_path(data_dir())})",
    )
    parser.add_argument("--force", action="store_true", help="検証済みのファイルがあっても取り直す")
    parser.add_argument("--no-progress", action="store_true", help="進捗バーを出さない")
    parser.add_argument(
        "--no-sample",
        action="store_true",
        help="どのミラーも使えないとき、同梱の見本を使わずにエラーにする",
    )
    return parser


def cli_main(argv: list[str] | None = None, *, prog: str = "amlhandson data mnist") -> int:
    """Run ``amlhandson data mnist [--mirror URL_OR_DIR ...] [--dir DIR] [--force] ...``.

    Prints where the files went and whether they are the full set or the sample.
    Returns 0 on success (also when the sample was installed, which is reported),
    1 when no data could be installed (the error is printed without a traceback),
    2 on bad arguments, 130 when interrupted.

    Example:
        >>> from amlhandson.datasets.mnist import cli_main
        >>> cli_main(["--mirror", "/media/usb/mnist"])  # doctest: +SKIP
        0
    """
    parser = _build_parser(prog)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help or a usage error
        return exc.code if isinstance(exc.code, int) else 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            paths, kinds = _download(
                args.dir if args.dir is not None else data_dir(),
                mirrors=args.mirror or None,
                force=args.force,
                progress=not args.no_progress,
                allow_sample=not args.no_sample,
                timeout=settings.DEFAULT_TIMEOUT,
            )
        except (DataError, DownloadError, UserErrorException, OSError) as exc:
            for w in caught:
                print(f"注意: {w.message}", file=sys.stderr)
            print(f"エラー: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("中断しました。", file=sys.stderr)
            return 130
    for w in caught:
        print(f"注意: {w.message}", file=sys.stderr)
    for name in NAMES:
        what = "見本" if kinds[name] == "sample" else "完全"
        print(f"{name:<13} {display_path(paths[name])}  ({what})")
    if any(k == "sample" for k in kinds.values()):
        parts = [
            f"{split} {settings.SAMPLE_EXPECTED[pair[0]].count:,} 枚"
            for split, pair in SPLITS.items()
            if kinds[pair[0]] == "sample"
        ]
        print(f"見本データ (sample: {', '.join(parts)}) です。完全なデータではありません。")
    else:
        print(
            f"完全な MNIST です (train {settings.EXPECTED['train-images'].count:,} 枚 / "
            f"test {settings.EXPECTED['test-images'].count:,} 枚、検証済み)。"
        )
    return 0
