"""Server-rendered SVG charts: plain markup, no script, no web fonts, readable by screen readers."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from xml.sax.saxutils import escape, quoteattr

Number = int | float | Decimal
ValueFormat = Callable[[Number], str]

FONT = 'font-family="system-ui, sans-serif" font-size="12"'
BAR_HEIGHT = 18
BAR_GAP = 8
CHAR_WIDTH = 6.6  # average width of a 12px sans-serif character, for layout without font metrics
NO_DATA_TEXT = "—"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _chart_id(kind: str, *parts: object) -> str:
    digest = hashlib.sha1(repr((kind, parts)).encode(), usedforsecurity=False).hexdigest()[:10]
    return f"{kind}-{digest}"


def _text(s: str) -> str:
    return escape(_NOT_XML.sub("", s))


def _open_svg(width: float, height: float, chart_id: str, title: str, desc: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{_num(width)}" height="{_num(height)}"'
        f' viewBox="0 0 {_num(width)} {_num(height)}" aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{_text(title)}</title>',
        f'<desc id="{chart_id}-desc">{_text(desc)}</desc>',
    ]


def _fmt(value_format: ValueFormat, value: Number | None) -> str:
    return NO_DATA_TEXT if value is None else value_format(value)


def bar_chart(
    rows: Sequence[tuple[str, Number | None]],
    *,
    title: str,
    value_format: ValueFormat = str,
    width: int = 640,
) -> str:
    """Horizontal bars in the order given, each with its label on the left and its value at its end."""
    label_width = min(max((len(label) for label, _ in rows), default=0) * CHAR_WIDTH + 8, width * 0.4)
    value_width = min(
        max((len(_fmt(value_format, v)) for _, v in rows), default=0) * CHAR_WIDTH + 8, width * 0.25
    )
    bar_space = max(width - label_width - value_width, 1)
    top = 8
    height = top * 2 + len(rows) * (BAR_HEIGHT + BAR_GAP)
    largest = max((float(v) for _, v in rows if v is not None and v > 0), default=0.0)
    desc = "; ".join(f"{label}: {_fmt(value_format, v)}" for label, v in rows) or NO_DATA_TEXT
    chart_id = _chart_id("bar", title, tuple(rows))
    out = _open_svg(width, height, chart_id, title, desc)
    out.append(f'<g {FONT} fill="currentColor">')
    for i, (label, value) in enumerate(rows):
        y = top + i * (BAR_HEIGHT + BAR_GAP)
        middle = _num(y + BAR_HEIGHT / 2)
        length = bar_space * float(value) / largest if value is not None and value > 0 and largest else 0.0
        shown = _fmt(value_format, value)
        out.append('<g class="bar">')
        out.append(
            f'<text class="label" x="{_num(label_width - 8)}" y="{middle}" text-anchor="end"'
            f' dominant-baseline="middle">{_text(label)}</text>'
        )
        out.append(
            f'<rect class="bar-value" x="{_num(label_width)}" y="{_num(y)}" width="{_num(length)}"'
            f' height="{BAR_HEIGHT}" fill="#1f6fb2"><title>{_text(f"{label}: {shown}")}</title></rect>'
        )
        out.append(
            f'<text class="value" x="{_num(label_width + length + 4)}" y="{middle}"'
            f' dominant-baseline="middle">{_text(shown)}</text>'
        )
        out.append("</g>")
    out.append("</g></svg>")
    return "".join(out)


def trend_line(
    points: Sequence[tuple[str, Number | None]],
    *,
    title: str,
    value_format: ValueFormat = str,
    width: int = 640,
    height: int = 240,
) -> str:
    """A line over periods; a period without a value (None) leaves a gap in the line."""
    left, right, top, bottom = 64.0, 16.0, 16.0, 32.0
    plot_w = max(width - left - right, 1)
    plot_h = max(height - top - bottom, 1)
    known = [float(v) for _, v in points if v is not None]
    low = min(0.0, *known) if known else 0.0
    high = max(known) if known else 1.0
    if high == low:
        high = low + 1.0
    step = plot_w / (len(points) - 1) if len(points) > 1 else 0.0

    def xy(i: int, value: Number) -> tuple[str, str]:
        x = left + (i * step if len(points) > 1 else plot_w / 2)
        y = top + plot_h * (1 - (float(value) - low) / (high - low))
        return _num(x), _num(y)

    segments: list[list[tuple[str, str]]] = [[]]
    for i, (_, value) in enumerate(points):
        if value is None:
            if segments[-1]:
                segments.append([])
            continue
        segments[-1].append(xy(i, value))
    lines = [s for s in segments if len(s) > 1]
    desc = "; ".join(f"{label}: {_fmt(value_format, v)}" for label, v in points) or NO_DATA_TEXT
    chart_id = _chart_id("trend", title, tuple(points))
    out = _open_svg(width, height, chart_id, title, desc)
    out.append(f'<g {FONT} fill="currentColor">')
    baseline = _num(top + plot_h)
    out.append(
        f'<line class="axis" x1="{_num(left)}" y1="{baseline}" x2="{_num(left + plot_w)}" y2="{baseline}"'
        ' stroke="currentColor" stroke-opacity="0.4"/>'
    )
    if known:
        for value, y in ((high, top), (low, top + plot_h)):
            out.append(
                f'<text class="axis-value" x="{_num(left - 6)}" y="{_num(y)}" text-anchor="end"'
                f' dominant-baseline="middle">{_text(value_format(value))}</text>'
            )
    else:
        out.append(
            f'<text class="no-data" x="{_num(left + plot_w / 2)}" y="{_num(top + plot_h / 2)}"'
            f' text-anchor="middle">{NO_DATA_TEXT}</text>'
        )
    for i, (label, _) in enumerate(points):
        x = left + (i * step if len(points) > 1 else plot_w / 2)
        out.append(
            f'<text class="period" x="{_num(x)}" y="{_num(height - bottom / 3)}"'
            f' text-anchor="middle">{_text(label)}</text>'
        )
    for segment in lines:
        d = " ".join(("M" if j == 0 else "L") + f"{x} {y}" for j, (x, y) in enumerate(segment))
        out.append(f'<path class="line" d={quoteattr(d)} fill="none" stroke="#1f6fb2" stroke-width="2"/>')
    for i, (label, value) in enumerate(points):
        if value is None:
            continue
        x, y = xy(i, value)
        out.append(
            f'<circle class="point" cx="{x}" cy="{y}" r="3" fill="#1f6fb2">'
            f"<title>{_text(f'{label}: {value_format(value)}')}</title></circle>"
        )
    out.append("</g></svg>")
    return "".join(out)
