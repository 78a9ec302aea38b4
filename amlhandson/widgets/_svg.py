"""Small, dependency-free SVG line charts for run metrics.

The charts are plain SVG text, so the same chart shows in the live widget (an
``ipywidgets.HTML``), in the static HTML summary that nbconvert / GitHub
render, and needs neither matplotlib nor a browser extension. Output is
deterministic: the same values always give the same SVG.

Example:
    >>> svg = line_chart([0.9, 0.5, 0.3], "loss")
    >>> svg.startswith("<svg") and "loss" in svg
    True
    >>> line_chart(["a", "b"], "labels")   # nothing numeric: no chart
    ''
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

__all__ = ["line_chart", "numeric_points", "format_number", "STATUS_COLORS"]

#: More points than this are thinned (evenly, keeping the last) before drawing.
MAX_POINTS = 400

_W, _H = 320, 180
_LEFT, _RIGHT, _TOP, _BOTTOM = 52, 12, 26, 30
_LINE = "#0078d4"  # Azure blue
#: The colour of each run status (badges, pipeline steps); others are grey.
STATUS_COLORS = {"Completed": "#107c10", "Failed": "#a4262c", "Canceled": "#605e5c",
                 "Running": "#0078d4", "NotResponding": "#ca5010", "Preparing": "#5c2d91",
                 "Queued": "#8764b8", "Starting": "#8764b8", "Finalizing": "#0078d4"}


def format_number(value: Any) -> str:
    """A short text for a number: ints as they are, floats with 4 significant digits.

    Example:
        >>> format_number(3), format_number(0.123456), format_number(12345678.9)
        ('3', '0.1235', '1.235e+07')
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if math.isnan(value) or math.isinf(value):
        return str(value)
    return f"{value:.4g}"


def numeric_points(values: Sequence[Any]) -> list[tuple[int, float]]:
    """``(index, value)`` of the values that can be drawn (numbers; bools as 0/1).

    ``None``, strings, NaN and infinities are skipped, keeping the other
    points at their own index.

    Example:
        >>> numeric_points([1, None, 2.5, "x", True, float("nan")])
        [(0, 1.0), (2, 2.5), (4, 1.0)]
    """
    points = []
    for i, value in enumerate(values):
        if isinstance(value, (bool, int, float)):
            number = float(value)
            if math.isfinite(number):
                points.append((i, number))
    return points


def _thin(points: list[tuple[int, float]]) -> list[tuple[int, float]]:
    if len(points) <= MAX_POINTS:
        return points
    step = len(points) / (MAX_POINTS - 1)
    kept = [points[int(i * step)] for i in range(MAX_POINTS - 1)]
    kept.append(points[-1])
    return kept


def line_chart(values: Sequence[Any], title: str, *, x_labels: Sequence[str] | None = None,
               width: int = _W, height: int = _H) -> str:
    """An SVG line chart of ``values`` (one metric series), or ``""`` if nothing is numeric.

    ``x_labels`` names the points (e.g. child runs); by default the x axis counts
    the logged values from 1.

    Example:
        >>> "k=1" in line_chart([0.9, 0.95], "accuracy", x_labels=["k=1", "k=3"])
        True
    """
    points = numeric_points(values)
    if not points:
        return ""
    points = _thin(points)
    n = len(values)
    ys = [y for _, y in points]
    lo, hi = min(ys), max(ys)
    if lo == hi:
        pad = abs(lo) * 0.1 or 0.5
        lo, hi = lo - pad, hi + pad
    plot_w = width - _LEFT - _RIGHT
    plot_h = height - _TOP - _BOTTOM

    pad_x, pad_y = 10, 6  # keep points off the axes

    def px(i: int) -> float:
        inner = plot_w - 2 * pad_x
        return _LEFT + pad_x + (inner * i / (n - 1) if n > 1 else inner / 2)

    def py(y: float) -> float:
        return _TOP + pad_y + (plot_h - 2 * pad_y) * (1 - (y - lo) / (hi - lo))

    esc = html.escape
    last_value = values[points[-1][0]]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{esc(title)}" '
        'style="background:#fff;border:1px solid #ddd;border-radius:4px;margin:2px">',
        f'<text x="{width / 2:.1f}" y="16" text-anchor="middle" font-size="12" '
        f'font-family="sans-serif" fill="#333">{esc(title)} '
        f'<tspan fill="#666">(last: {esc(format_number(last_value))})</tspan></text>',
    ]
    # y grid and labels: min, middle, max
    for frac in (0.0, 0.5, 1.0):
        yv = lo + (hi - lo) * frac
        y = py(yv)
        parts.append(f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{width - _RIGHT}" y2="{y:.1f}" '
                     'stroke="#eee"/>')
        parts.append(f'<text x="{_LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10" '
                     f'font-family="sans-serif" fill="#666">{esc(format_number(yv))}</text>')
    # axes
    parts.append(f'<line x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{_TOP + plot_h}" '
                 'stroke="#999"/>')
    parts.append(f'<line x1="{_LEFT}" y1="{_TOP + plot_h}" x2="{width - _RIGHT}" '
                 f'y2="{_TOP + plot_h}" stroke="#999"/>')
    # x labels: the named points when they fit, else the first and last index
    if x_labels is not None and len(x_labels) == n and n <= 12:
        ticks = [(i, str(x_labels[i])[:10]) for i in range(n)]
    elif x_labels is not None and len(x_labels) == n:
        ticks = [(0, str(x_labels[0])[:10]), (n - 1, str(x_labels[-1])[:10])]
    else:
        ticks = [(0, "1")] + ([(n - 1, str(n))] if n > 1 else [])
    for i, label in ticks:
        parts.append(f'<text x="{px(i):.1f}" y="{height - 10}" text-anchor="middle" '
                     f'font-size="10" font-family="sans-serif" fill="#666">{esc(label)}</text>')
    coords = " ".join(f"{px(i):.1f},{py(y):.1f}" for i, y in points)
    if len(points) > 1:
        parts.append(f'<polyline fill="none" stroke="{_LINE}" stroke-width="1.6" '
                     f'points="{coords}"/>')
    if len(points) <= 40:
        for i, y in points:
            parts.append(f'<circle cx="{px(i):.1f}" cy="{py(y):.1f}" r="2.6" fill="{_LINE}"/>')
    else:
        i, y = points[-1]
        parts.append(f'<circle cx="{px(i):.1f}" cy="{py(y):.1f}" r="2.6" fill="{_LINE}"/>')
    parts.append("</svg>")
    return "".join(parts)
