"""Small, dependency-free SVG charts for run metrics (RunDetails and the studio portal).

The charts are plain SVG text, so the same chart shows in the live widget (an
``ipywidgets.HTML``), in the static HTML summary that nbconvert / GitHub
render and in the studio's pages, and needs neither matplotlib nor a browser
extension. Output is deterministic: the same values always give the same SVG.

* Axes get rounded ("nice") ticks: 0, 0.25, 0.5 ... or 1000, 2000 ... .
* Long series are downsampled to about the chart's pixel width: every pixel
  column keeps its lowest and highest point, so spikes stay visible; 1,000,000
  points draw in milliseconds (numpy does the bucketing).
* Every text that comes from a user (titles, labels, names) is escaped.

Example:
    >>> svg = line_chart([0.9, 0.5, 0.3], "loss")
    >>> svg.startswith("<svg") and "loss" in svg
    True
    >>> line_chart(["a", "b"], "labels")   # nothing numeric: no chart
    ''
    >>> nice_ticks(0, 1)
    [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

__all__ = ["line_chart", "multi_line_chart", "scatter_chart", "numeric_points",
           "format_number", "nice_ticks", "downsample", "PALETTE", "STATUS_COLORS"]

#: At most this many points are drawn per series (about two per pixel column).
MAX_POINTS = 400

_W, _H = 320, 180
_LEFT, _RIGHT, _TOP, _BOTTOM = 52, 12, 26, 30
_LINE = "#0078d4"  # Azure blue
#: The colour of each run status (badges, pipeline steps); others are grey.
STATUS_COLORS = {"Completed": "#107c10", "Failed": "#a4262c", "Canceled": "#605e5c",
                 "Running": "#0078d4", "NotResponding": "#ca5010", "Preparing": "#5c2d91",
                 "Queued": "#8764b8", "Starting": "#8764b8", "Finalizing": "#0078d4",
                 "NotStarted": "#8a8886"}
#: Colours of overlaid series (compare view), in order.
PALETTE = ("#0078d4", "#d83b01", "#107c10", "#8764b8", "#008575", "#c239b3", "#986f0b",
           "#4f6bed", "#a4262c", "#498205")
_FONT = 'font-family="sans-serif"'
_esc = html.escape


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


def nice_ticks(lo: float, hi: float, max_ticks: int = 6, *,
               integer: bool = False) -> list[float]:
    """Rounded tick values covering ``[lo, hi]`` (steps of 1, 2, 2.5 or 5 times a power of 10).

    The first tick is at or below ``lo`` and the last at or above ``hi``; with
    ``integer=True`` the step is at least 1 (for counts such as a step index).

    Example:
        >>> nice_ticks(0.13, 0.92)
        [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
        >>> nice_ticks(1, 5000, integer=True)
        [0.0, 1000.0, 2000.0, 3000.0, 4000.0, 5000.0]
        >>> nice_ticks(1, 3, integer=True)
        [1.0, 2.0, 3.0]
    """
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        pad = abs(lo) * 0.1 or 0.5
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / max(1, max_ticks - 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw * (1 - 1e-9))
    if integer:
        step = max(1.0, math.ceil(step))
    first = math.floor(lo / step + 1e-9) * step
    count = int(math.ceil((hi - first) / step - 1e-9)) + 1
    digits = max(0, -math.floor(math.log10(step)) + 2)
    return [round(first + i * step, digits) + 0.0 for i in range(count)]


def _tick_label(value: float, step: float) -> str:
    if value == 0:
        return "0"
    step = float(f"{abs(step):.3g}") or 1.0  # 0.09999999 -> 0.1
    if abs(value) >= 1e6 or abs(step) < 1e-4:
        return f"{value:.3g}"
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    if decimals and step * 10 ** decimals % 1 > 1e-6:  # 2.5 steps need one more digit
        decimals += 1
    return f"{value:.{decimals}f}"


def downsample(values: Sequence[Any], buckets: int) -> list[tuple[int, float]]:
    """The drawable ``(index, value)`` points of ``values``, at most ``2 * buckets`` of them.

    Short series come back whole. Longer ones are cut into ``buckets`` equal
    runs of indexes, and each run keeps its lowest and highest point (in index
    order), so a one-point spike is never lost. Large numeric series are
    bucketed with numpy.

    Example:
        >>> downsample([0, 5, 1, 2, 9, 3], 2)
        [(0, 0.0), (1, 5.0), (3, 2.0), (4, 9.0)]
    """
    if len(values) <= 2 * buckets:
        return numeric_points(values)
    import numpy as np

    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):  # strings mixed in: take the slow path
        pts = numeric_points(values)
        idx = np.fromiter((i for i, _ in pts), dtype=np.int64, count=len(pts))
        arr = np.full(len(values), np.nan)
        arr[idx] = [y for _, y in pts]
    if arr.ndim != 1:
        return []
    finite = np.isfinite(arr)
    edges = np.linspace(0, len(arr), buckets + 1).astype(np.int64)
    kept: list[int] = []
    low = np.where(finite, arr, np.inf)
    high = np.where(finite, arr, -np.inf)
    starts = edges[:-1]
    mins = np.minimum.reduceat(low, starts)
    maxs = np.maximum.reduceat(high, starts)
    # position of the min / max inside each bucket
    for b in range(buckets):
        a, z = int(edges[b]), int(edges[b + 1])
        if a >= z or not np.isfinite(mins[b]):
            continue
        i_min = a + int(np.argmax(low[a:z] == mins[b]))
        i_max = a + int(np.argmax(high[a:z] == maxs[b]))
        kept.extend(sorted({i_min, i_max}))
    return [(i, float(arr[i])) for i in kept]


class _Frame:
    """Scales and axes of one chart (pixel positions of x and y values)."""

    def __init__(self, x_lo: float, x_hi: float, y_lo: float, y_hi: float, width: int,
                 height: int, *, integer_x: bool, x_ticks: bool = True) -> None:
        self.width, self.height = width, height
        self.y_ticks = nice_ticks(y_lo, y_hi)
        self.y_lo, self.y_hi = self.y_ticks[0], self.y_ticks[-1]
        self.x_ticks = nice_ticks(x_lo, x_hi, 6, integer=integer_x) if x_ticks else []
        # the x range is the data's; ticks outside it are not drawn
        if x_hi == x_lo:
            x_lo, x_hi = x_lo - 1, x_hi + 1
        self.x_lo, self.x_hi = x_lo, x_hi
        self.plot_w = width - _LEFT - _RIGHT
        self.plot_h = height - _TOP - _BOTTOM

    def px(self, x: float) -> float:
        pad = 8
        return _LEFT + pad + (self.plot_w - 2 * pad) * (x - self.x_lo) / (self.x_hi - self.x_lo)

    def py(self, y: float) -> float:
        return _TOP + self.plot_h * (1 - (y - self.y_lo) / (self.y_hi - self.y_lo))

    def open(self, title: str, subtitle: str = "") -> list[str]:
        w, h = self.width, self.height
        sub = f' <tspan fill="#666">{_esc(subtitle)}</tspan>' if subtitle else ""
        return [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
            f'viewBox="0 0 {w} {h}" role="img" aria-label="{_esc(title)}" class="aml-chart" '
            f'data-x="{self.x_lo:g} {self.x_hi:g}" '
            f'data-px="{self.px(self.x_lo):.1f} {self.px(self.x_hi):.1f}" '
            'style="background:#fff;border:1px solid #ddd;border-radius:4px;margin:2px">',
            f'<text x="{w / 2:.1f}" y="16" text-anchor="middle" font-size="12" {_FONT} '
            f'fill="#333">{_esc(title)}{sub}</text>',
        ]

    def axes(self, x_labels: list[tuple[float, str]] | None = None) -> list[str]:
        parts = []
        step = self.y_ticks[1] - self.y_ticks[0] if len(self.y_ticks) > 1 else 1.0
        right = self.width - _RIGHT
        for tick in self.y_ticks:
            y = self.py(tick)
            parts.append(f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" '
                         'stroke="#eee"/>')
            parts.append(f'<text x="{_LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" '
                         f'font-size="10" {_FONT} fill="#666">'
                         f'{_esc(_tick_label(tick, step))}</text>')
        bottom = _TOP + self.plot_h
        parts.append(f'<line x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{bottom}" stroke="#999"/>')
        parts.append(f'<line x1="{_LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}" '
                     'stroke="#999"/>')
        if x_labels is None:
            xstep = self.x_ticks[1] - self.x_ticks[0] if len(self.x_ticks) > 1 else 1.0
            x_labels = [(t, _tick_label(t, xstep)) for t in self.x_ticks
                        if self.x_lo - 1e-9 <= t <= self.x_hi + 1e-9]
        for x, label in x_labels:
            parts.append(f'<text x="{self.px(x):.1f}" y="{self.height - 10}" '
                         f'text-anchor="middle" font-size="10" {_FONT} fill="#666">'
                         f'{_esc(label)}</text>')
        return parts


def _polyline(frame: _Frame, points: list[tuple[float, float]], color: str,
              label: str = "") -> list[str]:
    parts = []
    title = f"<title>{_esc(label)}</title>" if label else ""
    if len(points) > 1:
        coords = " ".join(f"{frame.px(x):.1f},{frame.py(y):.1f}" for x, y in points)
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.6" '
                     f'points="{coords}">{title}</polyline>')
    dots = points if len(points) <= 40 else points[-1:]
    for x, y in dots:
        tip = f"{label} " if label else ""
        parts.append(f'<circle cx="{frame.px(x):.1f}" cy="{frame.py(y):.1f}" r="2.6" '
                     f'fill="{color}"><title>{_esc(f"{tip}{format_number(x)}: ")}'
                     f'{_esc(format_number(y))}</title></circle>')
    return parts


def line_chart(values: Sequence[Any], title: str, *, x_labels: Sequence[str] | None = None,
               width: int = _W, height: int = _H, first: int = 1,
               subtitle: str | None = None) -> str:
    """An SVG line chart of ``values`` (one metric series), or ``""`` if nothing is numeric.

    ``x_labels`` names the points (e.g. child runs); by default the x axis counts
    the logged values from ``first`` (1), with rounded ticks. ``subtitle``
    replaces the default ``(last: ...)``. The ``<svg>`` carries ``data-x`` (the
    x range) and ``data-px`` (its pixels), so a page can map a mouse drag to values.

    Example:
        >>> "k=1" in line_chart([0.9, 0.95], "accuracy", x_labels=["k=1", "k=3"])
        True
        >>> 'data-x="101 103"' in line_chart([1, 2, 3], "zoomed", first=101)
        True
    """
    n = len(values)
    points = downsample(values, max(1, min(MAX_POINTS // 2, width - _LEFT - _RIGHT)))
    if not points:
        return ""
    points = [(i + first - 1, y) for i, y in points]
    ys = [y for _, y in points]
    frame = _Frame(first, max(first + n - 1, first), min(ys), max(ys), width, height,
                   integer_x=True, x_ticks=x_labels is None)
    last_value = values[points[-1][0] - first + 1]
    parts = frame.open(title, subtitle if subtitle is not None
                       else f"(last: {format_number(last_value)})")
    labels = None
    if x_labels is not None and len(x_labels) == n:
        shown = range(n) if n <= 12 else (0, n - 1)
        labels = [(i + 1, str(x_labels[i])[:10]) for i in shown]
    parts += frame.axes(labels)
    parts += _polyline(frame, [(i + 1, y) for i, y in points], _LINE)
    parts.append("</svg>")
    return "".join(parts)


def multi_line_chart(series: Sequence[tuple[str, Sequence[Any]]], title: str, *,
                     width: int = 420, height: int = 220) -> str:
    """Several series overlaid in one chart (``[(label, values), ...]``), with a legend.

    Each series is downsampled on its own; colours follow :data:`PALETTE`.
    Returns ``""`` when no series has a number.

    Example:
        >>> svg = multi_line_chart([("run 1", [1, 2, 3]), ("run 2", [3, 2, 1])], "loss")
        >>> svg.count("<polyline")
        2
    """
    drawn = []
    for label, values in series:
        pts = downsample(values, max(1, min(MAX_POINTS // 2, width - _LEFT - _RIGHT)))
        if pts:
            drawn.append((label, [(i + 1, y) for i, y in pts], len(values)))
    if not drawn:
        return ""
    ys = [y for _, pts, _ in drawn for _, y in pts]
    n = max(count for _, _, count in drawn)
    legend_h = 14 * ((len(drawn) + 2) // 3)
    frame = _Frame(1, max(n, 1), min(ys), max(ys), width, height, integer_x=True)
    parts = frame.open(title)
    parts += frame.axes()
    for k, (label, pts, _) in enumerate(drawn):
        parts += _polyline(frame, pts, PALETTE[k % len(PALETTE)], label)
    parts[0] = parts[0].replace(f'height="{height}"', f'height="{height + legend_h}"', 1)
    parts[0] = parts[0].replace(f'viewBox="0 0 {width} {height}"',
                                f'viewBox="0 0 {width} {height + legend_h}"', 1)
    for k, (label, _, _) in enumerate(drawn):
        x = 10 + (k % 3) * (width - 20) / 3
        y = height + 10 + 14 * (k // 3)
        color = PALETTE[k % len(PALETTE)]
        parts.append(f'<rect x="{x:.1f}" y="{y - 8}" width="10" height="3" fill="{color}"/>'
                     f'<text x="{x + 14:.1f}" y="{y - 4}" font-size="10" {_FONT} '
                     f'fill="#333">{_esc(str(label)[:28])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def scatter_chart(points: Sequence[tuple[Any, Any, str]], title: str, x_title: str,
                  y_title: str, *, width: int = 420, height: int = 240) -> str:
    """A scatter plot of ``(x, y, label)`` points (e.g. a parameter against a metric).

    Points whose x or y is not a finite number are left out; ``""`` when none is left.

    Example:
        >>> scatter_chart([(1, 0.9, "a"), (3, 0.95, "b")], "acc vs k", "k", "acc").count("<circle")
        2
    """
    usable = [(float(x), float(y), str(label)) for x, y, label in points
              if numeric_points([x]) and numeric_points([y])]
    if not usable:
        return ""
    xs = [x for x, _, _ in usable]
    ys = [y for _, y, _ in usable]
    frame = _Frame(min(xs), max(xs), min(ys), max(ys), width, height, integer_x=False)
    parts = frame.open(title)
    parts += frame.axes()
    parts.append(f'<text x="{width - _RIGHT}" y="{height - 1}" text-anchor="end" font-size="10" '
                 f'{_FONT} fill="#333">{_esc(x_title)}</text>')
    parts.append(f'<text x="4" y="{_TOP - 4}" font-size="10" {_FONT} fill="#333">'
                 f'{_esc(y_title)}</text>')
    for x, y, label in usable:
        parts.append(f'<circle cx="{frame.px(x):.1f}" cy="{frame.py(y):.1f}" r="3.5" '
                     f'fill="{_LINE}" fill-opacity="0.7"><title>{_esc(label)}: '
                     f'{_esc(format_number(x))}, {_esc(format_number(y))}</title></circle>')
    parts.append("</svg>")
    return "".join(parts)
