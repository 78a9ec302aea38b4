"""How feedback is worded and printed: one line, a mark, the answer described in Japanese.

Example:
    >>> describe(4), describe("4"), describe([1, 2])
    ('数 (int) の 4', "文字列 '4'", 'リスト (list, 2 個) [1, 2]')
    >>> report(True, "✅ 正解です!")
    ✅ 正解です!
    True
"""

from __future__ import annotations

import numbers
from typing import Any

__all__ = ["NOT_ANSWERED", "Verdict", "describe", "is_unanswered", "report"]

#: What a check prints while the answer is still ``None``.
NOT_ANSWERED = "✏️ まだ答えが入っていません。上のセルの None を書き換えて、もう一度実行してください。"

_TYPE_NAMES = {
    bool: "真偽値", int: "数", float: "数", complex: "数", str: "文字列", list: "リスト",
    tuple: "タプル", dict: "辞書", set: "集合", bytes: "バイト列",
}


def is_unanswered(answer: Any) -> bool:
    """``None`` or ``...``: the learner has not replaced the placeholder yet.

    Example:
        >>> is_unanswered(None), is_unanswered(0)
        (True, False)
    """
    return answer is None or answer is Ellipsis


def _short(value: Any, limit: int = 60) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a broken __repr__ must not break the feedback
        text = f"<{type(value).__name__}>"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(value: Any) -> str:
    """The answer's kind and a short form of it, for feedback such as "いま入っているのは ...".

    Example:
        >>> describe(True), describe(None)
        ('真偽値 (bool) の True', 'None')
    """
    if value is None:
        return "None"
    kind = type(value)
    name = kind.__name__
    if kind is str:
        return f"文字列 {_short(value)}"
    if kind in (list, tuple, dict, set):
        return f"{_TYPE_NAMES[kind]} ({name}, {len(value)} 個) {_short(value)}"
    if kind in _TYPE_NAMES:
        return f"{_TYPE_NAMES[kind]} ({name}) の {_short(value)}"
    if isinstance(value, numbers.Number):
        return f"数 ({name}) の {_short(value)}"
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return f"NumPy の配列 (形 {tuple(value.shape)})"
    return f"{name} のオブジェクト"


class Verdict:
    """What a check returns: true when the answer is right; shows nothing as a cell's result.

    A check is usually the last line of its cell. Jupyter would show a returned
    ``True`` under the feedback line (and a trailing ``;`` does not hide it when
    a notebook runs without history, as under nbval); a verdict displays nothing
    there, and is ``True``/``False`` everywhere else.

    Example:
        >>> Verdict(True), bool(Verdict(False)), Verdict(True) == True
        (True, False, True)
    """

    __slots__ = ("ok",)

    def __init__(self, ok: bool) -> None:
        self.ok = bool(ok)

    def __bool__(self) -> bool:
        return self.ok

    def __eq__(self, other: object) -> bool:
        return bool(other) == self.ok if isinstance(other, (bool, Verdict)) else NotImplemented

    def __hash__(self) -> int:
        return hash(self.ok)

    def __repr__(self) -> str:
        return repr(self.ok)

    def _ipython_display_(self) -> None:
        """Nothing to show: the feedback line was printed already."""


def report(ok: bool, message: str) -> Verdict:
    """Print ``message`` and return the :class:`Verdict` (what every check returns)."""
    print(message)
    return Verdict(ok)
