"""One language for ``--help`` and usage errors: Japanese, like every other message.

argparse writes its own words ("usage:", "options", "show this help message and
exit", "the following arguments are required") through ``gettext``; the command
texts of amlhandson are Japanese, so without this a help page mixes both.
:func:`japanese_argparse` gives argparse Japanese words while a command line is
parsed, and puts the originals back afterwards (nothing changes at import).

Example:
    >>> import argparse
    >>> with japanese_argparse():
    ...     text = argparse.ArgumentParser(prog="x").format_help()
    >>> text.splitlines()[0]
    '使い方: x [-h]'
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator

__all__ = ["JAPANESE", "japanese_argparse"]

#: argparse's English strings and their Japanese (others stay as they are).
JAPANESE = {
    "usage: ": "使い方: ",
    "positional arguments": "引数",
    "options": "オプション",
    "optional arguments": "オプション",
    "show this help message and exit": "このヘルプを表示して終了する",
    "show program's version number and exit": "バージョンを表示して終了する",
    "%(prog)s: error: %(message)s\n": "%(prog)s: エラー: %(message)s\n",
    "argument %(argument_name)s: %(message)s": "引数 %(argument_name)s: %(message)s",
    "the following arguments are required: %s": "次の引数を指定してください: %s",
    "unrecognized arguments: %s": "知らない引数です: %s",
    "invalid choice: %(value)r (choose from %(choices)s)":
        "%(value)r は選べません (選べるもの: %(choices)s)",
    "invalid %(type)s value: %(value)r": "%(value)r は %(type)s として読めません",
    "expected one argument": "値を 1 つ指定してください",
    "expected at most one argument": "値は 1 つまでです",
    "expected at least one argument": "値を 1 つ以上指定してください",
    "ambiguous option: %(option)s could match %(matches)s":
        "%(option)s はあいまいです (候補: %(matches)s)",
    "not allowed with argument %s": "%s と一緒には使えません",
    "one of the arguments %s is required": "%s のどれかを指定してください",
    "ignored explicit argument %r": "値 %r は使われません",
}


def _gettext(message: str) -> str:
    return JAPANESE.get(message, message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    if singular == "expected %s argument":
        return "値を %s 個指定してください"
    return singular if n == 1 else plural


@contextlib.contextmanager
def japanese_argparse() -> Iterator[None]:
    """Let argparse speak Japanese inside the ``with`` block."""
    saved = argparse._, argparse.ngettext  # type: ignore[attr-defined]
    argparse._, argparse.ngettext = _gettext, _ngettext  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved  # type: ignore[attr-defined]
