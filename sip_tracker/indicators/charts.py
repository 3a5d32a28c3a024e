"""Bar charts as plain geometry for an inline SVG: no script, no CDN, no inline style.

The template draws rectangles and text from these numbers; colours come from the
stylesheet's classes. Hidden cells ("<5", "x") get no bar, only their mark, so a chart
never shows more than its table.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import format_decimal

from sip_tracker.indicators.definitions import Kind
from sip_tracker.indicators.report import Cell

WIDTH = 720
LABEL_MAX = 38


@dataclass(frozen=True)
class Bar:
    label: str
    text: str
    shown: bool
    x: float
    y: float
    width: float
    height: float
    label_x: float
    label_y: float
    text_x: float
    text_y: float


@dataclass(frozen=True)
class Tick:
    text: str
    x1: float
    y1: float
    x2: float
    y2: float
    text_x: float
    text_y: float


@dataclass(frozen=True)
class Chart:
    id: str
    horizontal: bool
    width: int
    height: int
    bars: list[Bar]
    ticks: list[Tick]
    axis: tuple[float, float, float, float]


def _scale(kind: Kind, values: Sequence[float]) -> tuple[float, float]:
    """A round top for the axis and the step between gridlines (at most five)."""
    if kind == Kind.SHARE:
        return 100.0, 25.0
    top = max(values, default=0.0)
    if top <= 0:
        return 4.0, 1.0
    raw = top / 5
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return math.ceil(top / step) * step, float(step)


def _tick_text(kind: Kind, value: float) -> str:
    text = str(format_decimal(value, "#,##0.#"))
    return f"{text} %" if kind == Kind.SHARE else text


def _short(label: str) -> str:
    return label if len(label) <= LABEL_MAX else label[: LABEL_MAX - 1].rstrip() + "…"


def column_chart(chart_id: str, kind: Kind, labels: Sequence[str], cells: Sequence[Cell]) -> Chart:
    """Vertical bars over periods (months, quarters or years)."""
    left, right, top, bottom = 56.0, 12.0, 24.0, 36.0
    height = 260
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    values = [c.value for c in cells if c.shown and c.value is not None]
    maximum, step = _scale(kind, values)
    slot = plot_w / max(len(cells), 1)
    bars = []
    for index, (label, cell) in enumerate(zip(labels, cells, strict=True)):
        value = cell.value if cell.shown and cell.value is not None else 0.0
        h = plot_h * value / maximum
        x = left + index * slot + slot * 0.15
        bars.append(
            Bar(
                label=label,
                text=cell.text,
                shown=cell.shown,
                x=round(x, 1),
                y=round(top + plot_h - h, 1),
                width=round(slot * 0.7, 1),
                height=round(h, 1),
                label_x=round(x + slot * 0.35, 1),
                label_y=height - bottom + 18,
                text_x=round(x + slot * 0.35, 1),
                text_y=round(top + plot_h - h - 6, 1),
            )
        )
    ticks = []
    count = round(maximum / step)
    for i in range(count + 1):
        y = round(top + plot_h - plot_h * (i * step) / maximum, 1)
        ticks.append(Tick(_tick_text(kind, i * step), left, y, WIDTH - right, y, left - 6, y + 4))
    axis = (left, top + plot_h, WIDTH - right, top + plot_h)
    return Chart(chart_id, False, WIDTH, height, bars, ticks, axis)


def bar_chart(chart_id: str, kind: Kind, labels: Sequence[str], cells: Sequence[Cell]) -> Chart:
    """Horizontal bars, one per group (kommun, enhet, sakområde, …)."""
    left, right, top, bottom = 300.0, 64.0, 12.0, 28.0
    row = 24.0
    height = int(top + bottom + row * max(len(cells), 1))
    plot_w = WIDTH - left - right
    values = [c.value for c in cells if c.shown and c.value is not None]
    maximum, step = _scale(kind, values)
    bars = []
    for index, (label, cell) in enumerate(zip(labels, cells, strict=True)):
        value = cell.value if cell.shown and cell.value is not None else 0.0
        w = plot_w * value / maximum
        y = top + index * row
        bars.append(
            Bar(
                label=_short(label),
                text=cell.text,
                shown=cell.shown,
                x=left,
                y=round(y + 4, 1),
                width=round(w, 1),
                height=row - 8,
                label_x=left - 8,
                label_y=round(y + row / 2 + 4, 1),
                text_x=round(left + w + 6, 1),
                text_y=round(y + row / 2 + 4, 1),
            )
        )
    ticks = []
    count = round(maximum / step)
    plot_bottom = top + row * max(len(cells), 1)
    for i in range(count + 1):
        x = round(left + plot_w * (i * step) / maximum, 1)
        ticks.append(Tick(_tick_text(kind, i * step), x, top, x, plot_bottom, x, plot_bottom + 16))
    axis = (left, top, left, plot_bottom)
    return Chart(chart_id, True, WIDTH, height, bars, ticks, axis)
