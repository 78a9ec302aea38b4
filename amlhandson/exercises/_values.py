"""Checks for answers that are values: a number, a word, a choice, a list.

Each check prints one line of feedback and returns ``True`` (right) or
``False`` (not yet). It never raises on a learner's answer, so a notebook
keeps running. Reasonable forms of a right answer count as right (``"1"`` for
the digit 1, ``np.int64(1)``, ``" Run "`` for ``"run"``, a tuple or array for a
list); an answer of the wrong type is explained as such instead of being
called wrong.

Example:
    >>> check(3 * 4, 12, hint="掛け算を確認しましょう")
    ✅ 正解です!
    True
    >>> check("12", 12, hint="掛け算を確認しましょう")
    ✅ 正解です! (文字列 '12' を数の 12 として受け取りました。数は引用符なしで 12 と書けます)
    True
    >>> check(4, "run", hint="1 回分の記録の名前です")
    ❌ 文字列で答えてください (例: answer = "...")。いま入っているのは数 (int) の 4 です。
    False
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

from ._feedback import NOT_ANSWERED, Verdict, describe, is_unanswered, report

__all__ = ["check", "check_choice", "check_that"]


class _WrongType(Exception):
    """The answer has a type that cannot be the right answer; the message says which."""


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


def _plain(value: Any) -> Any:
    """numpy scalars and arrays as Python values (``tolist``); others unchanged."""
    if hasattr(value, "tolist") and hasattr(value, "dtype"):
        return value.tolist()
    return value


def _as_number(answer: Any, expected: Any) -> tuple[Any, str]:
    """``answer`` as a number comparable with ``expected``, and a note on any conversion."""
    answer = _plain(answer)
    if isinstance(answer, bool):
        raise _WrongType(f"数で答えてください。いま入っているのは{describe(answer)} です "
                         "(True / False は数の答えには使えません)。")
    if _is_number(answer):
        return answer, ""
    if isinstance(answer, str):
        text = answer.strip().replace(",", "").replace("_", "")
        try:
            value: Any = int(text)
        except ValueError:
            try:
                value = float(text)
            except ValueError:
                raise _WrongType(f"数で答えてください。いま入っているのは{describe(answer)} で、"
                                 "数として読めません。") from None
        return value, (f" (文字列 {answer!r} を数の {value} として受け取りました。"
                       f"数は引用符なしで {value} と書けます)")
    raise _WrongType(f"数を 1 つ入れてください。いま入っているのは{describe(answer)} です。")


def _normal_text(text: str) -> str:
    return " ".join(text.split()).casefold()


def _equal(answer: Any, expected: Any, tolerance: float) -> tuple[bool, str]:
    """Whether ``answer`` is a right form of ``expected``; raises :class:`_WrongType`."""
    expected = _plain(expected)
    if isinstance(expected, bool):
        answer = _plain(answer)
        if not isinstance(answer, bool):
            raise _WrongType(f"True か False で答えてください。いま入っているのは"
                             f"{describe(answer)} です。")
        return answer is expected, ""
    if _is_number(expected):
        value, note = _as_number(answer, expected)
        if isinstance(expected, float) or isinstance(value, float):
            same = math.isclose(float(value), float(expected), rel_tol=tolerance,
                                abs_tol=tolerance)
        else:
            same = value == expected
        return same, note
    if isinstance(expected, str):
        if not isinstance(answer, str):
            raise _WrongType(f"文字列で答えてください (例: answer = \"...\")。いま入っているのは"
                             f"{describe(answer)} です。")
        return _normal_text(answer) == _normal_text(expected), ""
    if isinstance(expected, (list, tuple)):
        answer = _plain(answer)
        if isinstance(answer, (str, bytes)) or not isinstance(answer, Iterable):
            raise _WrongType(f"リスト (例: [1, 2, 3]) で答えてください。いま入っているのは"
                             f"{describe(answer)} です。")
        items = list(answer)
        if len(items) != len(expected):
            return False, ""
        try:
            return all(_equal(a, e, tolerance)[0] for a, e in zip(items, expected)), ""
        except _WrongType:
            return False, ""
    return bool(_plain(answer) == expected), ""


def check(answer: Any, expected: Any, *, hint: str, tolerance: float = 1e-6,
          accept: Iterable[Any] = (), success: str = "✅ 正解です!") -> Verdict:
    """Compare ``answer`` with ``expected`` (or any of ``accept``); print feedback. Never raises.

    ``None`` (or ``...``) counts as "not answered yet". Numbers may come as
    numeric strings or numpy scalars, words in any case and spacing, lists as
    tuples or arrays; floats are compared with ``tolerance``.

    Example:
        >>> check(None, 12, hint="...")
        ✏️ まだ答えが入っていません。上のセルの None を書き換えて、もう一度実行してください。
        False
        >>> check("Run ", "run", hint="...")
        ✅ 正解です!
        True
        >>> check("実行", "run", accept=["実行"], hint="...")
        ✅ 正解です!
        True
    """
    if is_unanswered(answer):
        return report(False, NOT_ANSWERED)
    problems = []
    for candidate in (expected, *accept):
        try:
            same, note = _equal(answer, candidate, tolerance)
        except _WrongType as wrong:
            problems.append(str(wrong))
            continue
        if same:
            return report(True, success + note)
    if len(problems) == 1 + len(tuple(accept)):  # wrong type for every accepted form
        return report(False, f"❌ {problems[0]}")
    return report(False, f"❌ {describe(answer)} ではありません。ヒント: {hint}")


def check_choice(answer: Any, correct: str, *, choices: str = "ABCD", hint: str,
                 success: str = "✅ 正解です!") -> Verdict:
    """Check a multiple-choice answer: one letter of ``choices`` (any case, ``"(d)"`` too).

    Example:
        >>> check_choice(" d ", "D", hint="...")
        ✅ 正解です!
        True
        >>> check_choice(4, "D", hint="...")
        ❌ 記号 (A, B, C, D のどれか) を文字列で答えてください (例: answer = "A")。いま入っているのは数 (int) の 4 です。
        False
    """
    listed = ", ".join(choices)
    if is_unanswered(answer):
        return report(False, NOT_ANSWERED)
    if not isinstance(answer, str):
        return report(False, f"❌ 記号 ({listed} のどれか) を文字列で答えてください "
                             f"(例: answer = \"{choices[0]}\")。いま入っているのは"
                             f"{describe(answer)} です。")
    letter = answer.strip().strip("()（）.。 ").upper()
    if letter not in choices.upper() or len(letter) != 1:
        return report(False, f"❌ {listed} のどれか 1 文字で答えてください。"
                             f"いま入っているのは{describe(answer)} です。")
    if letter == correct.upper():
        return report(True, success)
    return report(False, f"❌ {letter} ではありません。ヒント: {hint}")


def check_that(answer: Any, predicate: Callable[[Any], bool], *, hint: str,
               success: str = "✅ 正解です!") -> Verdict:
    """Like :func:`check`, for answers judged by ``predicate(answer)``.

    An error inside ``predicate`` means the answer has an unexpected form; the
    feedback says so and names the answer's type.

    Example:
        >>> check_that([1, 3, 5], lambda ks: all(k % 2 for k in ks), hint="奇数だけにします")
        ✅ 正解です!
        True
        >>> check_that(4, lambda a: a.strip() == "run", hint="...")
        ❌ 答えの形が違うようです (いま入っているのは数 (int) の 4 です)。ヒント: ...
        False
    """
    if is_unanswered(answer):
        return report(False, NOT_ANSWERED)
    try:
        ok = bool(predicate(answer))
    except Exception:  # noqa: BLE001 - a learner's answer may be anything
        return report(False, f"❌ 答えの形が違うようです (いま入っているのは{describe(answer)} "
                             f"です)。ヒント: {hint}")
    if ok:
        return report(True, success)
    return report(False, f"❌ まだ違います。ヒント: {hint}")
