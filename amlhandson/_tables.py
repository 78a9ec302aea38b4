"""One table renderer for every text and HTML table amlhandson prints.

The CLI, the magics (``%aml_runs``, ``%aml_workspace``) and the widgets all show
small tables; they build a header and rows of strings and hand them here.
Widths count East Asian wide characters as two columns, so Japanese text lines up.

Example:
    >>> print(text_table(["NAME", "状態"], [["a", "完了"], ["bb", "-"]]))
    NAME  状態
    ----  ----
    a     完了
    bb    -
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Sequence

__all__ = ["display_width", "text_table", "html_table"]


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal (wide characters count twice).

    Example:
        >>> display_width("ab"), display_width("完了")
        (2, 4)
    """
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def text_table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table: header, a dashed rule, then the rows, columns padded.

    Example:
        >>> print(text_table(["A"], [["1"]]))
        A
        -
        1
    """
    widths = [max([display_width(h)] + [display_width(str(r[i])) for r in rows])
              for i, h in enumerate(head)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(str(c) + " " * (w - display_width(str(c)))
                         for c, w in zip(cells, widths)).rstrip()

    return "\n".join([line(head), line(["-" * w for w in widths]), *[line(r) for r in rows]])


def html_table(head: Sequence[str], rows: Sequence[Sequence[str]], caption: str = "") -> str:
    """The same table as escaped HTML (inline styles, so it renders anywhere).

    Example:
        >>> "<th" in html_table(["A"], [["<b>"]]) and "&lt;b&gt;" in html_table(["A"], [["<b>"]])
        True
    """
    cell = "border:1px solid #ddd;padding:2px 8px;text-align:left"
    th = "".join(f'<th style="{cell};background:#f3f2f1">{html.escape(str(h))}</th>'
                 for h in head)
    trs = "".join("<tr>" + "".join(f'<td style="{cell}">{html.escape(str(c))}</td>'
                                   for c in row) + "</tr>" for row in rows)
    top = (f'<div style="color:#666">{html.escape(caption)}</div>' if caption else "")
    return (f'<div style="font-size:13px">{top}<table style="border-collapse:collapse">'
            f"<thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table></div>")
