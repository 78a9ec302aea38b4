"""Tags and properties: string keys to string (or ``None``) values, checked one way everywhere.

Example:
    >>> clean_tags({"k": 3, "note": None})
    {'k': '3', 'note': None}
"""

from __future__ import annotations

from typing import Any

from ..exceptions import UserErrorException
from ._artifacts import check_text

__all__ = ["tag_key", "tag_value", "clean_tags"]


def tag_key(key: Any) -> str:
    """A valid tag or property key, or a clear error.

    Example:
        >>> tag_key("model")
        'model'
    """
    if not isinstance(key, str) or not key.strip():
        raise UserErrorException(f"タグ / プロパティのキー {key!r} は空でない文字列にしてください。")
    return check_text(key, "タグ / プロパティのキー")


def tag_value(key: str, value: Any) -> str | None:
    """A tag value as stored: strings stay, numbers and booleans become strings.

    Example:
        >>> tag_value("k", 3), tag_value("k", None)
        ('3', None)
    """
    if value is None:
        return None
    if isinstance(value, (bool, int, float)):
        value = str(value)
    if not isinstance(value, str):
        raise UserErrorException(f"タグ / プロパティ {key!r} の値は文字列にしてください "
                                 f"({type(value).__name__} が渡されました)。")
    return check_text(value, f"タグ / プロパティ {key!r} の値")


def clean_tags(value: Any, what: str = "tags") -> dict[str, str | None]:
    """A dict of tags (or properties) checked and converted; ``None`` gives ``{}``.

    Example:
        >>> clean_tags(None)
        {}
    """
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UserErrorException(f"{what} は dict で渡してください ({type(value).__name__} が"
                                 "渡されました)。例: {'data': 'mnist'}")
    return {tag_key(k): tag_value(k, v) for k, v in value.items()}
