"""Immediate feedback for the course's exercises (演習).

A check cell calls :func:`check` with the learner's answer and the expected
one. It never raises on a wrong answer (so a notebook keeps running): it
prints a hint instead and returns ``False``.

Example:
    >>> check(3 * 4, 12, hint="掛け算を確認しましょう")
    ✅ 正解です!
    True
    >>> check(None, 12, hint="掛け算を確認しましょう")
    ✏️ まだ答えが入っていません。上のセルの None を書き換えて、もう一度実行してください。
    False
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

__all__ = ["check", "check_that"]


def _equal(answer: Any, expected: Any, tolerance: float) -> bool:
    if isinstance(expected, float) or isinstance(answer, float):
        try:
            return math.isclose(float(answer), float(expected), rel_tol=tolerance,
                                abs_tol=tolerance)
        except (TypeError, ValueError):
            return False
    if hasattr(answer, "shape") and hasattr(answer, "tolist"):  # numpy arrays and scalars
        answer = answer.tolist()
    if hasattr(expected, "shape") and hasattr(expected, "tolist"):
        expected = expected.tolist()
    return bool(answer == expected)


def check(answer: Any, expected: Any, *, hint: str, tolerance: float = 1e-6,
          success: str = "✅ 正解です!") -> bool:
    """Compare ``answer`` with ``expected``; print praise or a hint. Never raises.

    ``None`` (or ``...``) counts as "not answered yet".
    """
    if answer is None or answer is Ellipsis:
        print("✏️ まだ答えが入っていません。上のセルの None を書き換えて、もう一度実行してください。")
        return False
    if _equal(answer, expected, tolerance):
        print(success)
        return True
    print(f"❌ {answer!r} ではありません。ヒント: {hint}")
    return False


def check_that(answer: Any, predicate: Callable[[Any], bool], *, hint: str,
               success: str = "✅ 正解です!") -> bool:
    """Like :func:`check`, for answers judged by ``predicate(answer)`` (errors count as wrong).

    Example:
        >>> check_that([1, 3, 5], lambda ks: all(k % 2 for k in ks), hint="奇数だけにします")
        ✅ 正解です!
        True
    """
    if answer is None or answer is Ellipsis:
        print("✏️ まだ答えが入っていません。上のセルの None を書き換えて、もう一度実行してください。")
        return False
    try:
        ok = bool(predicate(answer))
    except Exception as exc:  # noqa: BLE001 - a learner's answer may be anything
        print(f"❌ 答えを確かめられませんでした ({type(exc).__name__}: {exc})。ヒント: {hint}")
        return False
    if ok:
        print(success)
        return True
    print(f"❌ まだ違います。ヒント: {hint}")
    return False
