"""A horizontal bar figure of scoring.charts drawn as plain HTML: the same figure, its title, legend, bars, texts
and colours, for the pages where the browser's time counts (Tổng quan).

In headless Chromium each plotly chart cost about 200 ms of the browser's main thread (plotly draws, measures its
labels, draws again); the same two charts as HTML cost next to nothing, and Vega-Lite (st.altair_chart) was no
cheaper than plotly (README, «Đổi trang, đổi lĩnh vực»). The figure stays the one definition: this module only reads
what scoring.charts put in it, so a bar's value and text are those the exports and the projector draw.

Text is inert: plotly's markup in the figure is its own (<br> line breaks; the data's text went through
`charts.plain_text`, so "&", "<", ">" are entities); here each line is decoded and escaped again for HTML, so a
name like "<a href=…>" is shown as written, never a tag. No script, no link, inline styles only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from html import escape, unescape

import plotly.graph_objects as go

from scoring.textnorm import format_number

ROW_PX = 38  # a bar's band: about what plotly gives a row at the pages' heights
GRID_COLOUR = "#E5E5E5"
TEXT_GAP_PX = 4  # between a bar's end and its text outside it
_HOVER_FIELD = re.compile(r"%\{([xy])(?::([^}]*))?\}")


def _lines(text: str | None) -> list[str]:
    """Plotly text as lines of plain text (its <br> breaks, its entities decoded)."""
    return [unescape(line) for line in str(text or "").split("<br>")]


def html_lines(text: str | None) -> str:
    return "<br>".join(escape(line) for line in _lines(text))


def _plain(text: str | None) -> str:
    return " ".join(line.strip() for line in _lines(text) if line.strip())


def _per_point(value, index: int, default=None):
    if isinstance(value, (list, tuple)):
        return value[index] if index < len(value) else default
    return default if value is None else value


def _number(value: float, spec: str | None) -> str:
    """A value as a hover template's %{x:…} asks (".1f", "+d"), in Vietnamese style."""
    if spec and spec.startswith("+"):
        return ("+" if value > 0 else "") + format_number(value, 0)
    decimals = int(spec[1]) if spec and spec.startswith(".") and spec[1:2].isdigit() else 2
    return format_number(value, decimals)


def _hover(template: str | None, label: str, value: float, name: str) -> str:
    """The hover template of the trace filled in as one line (the tooltip of the bar)."""
    if not template:
        return f"{label}: {name} {format_number(value)}".strip()
    template = template.replace("<extra></extra>", "")
    filled = _HOVER_FIELD.sub(lambda m: label if m.group(1) == "y" else _number(value, m.group(2)), template)
    return " — ".join(_lines(filled))


def _nice_step(span: float) -> float:
    raw = span / 5 if span > 0 else 1
    power = 10 ** math.floor(math.log10(raw))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= raw)


def _bars(spec: dict) -> list[dict]:
    traces = spec.get("data", [])
    bars = [trace for trace in traces if trace.get("type") == "bar"]
    if len(bars) != len(traces) or any(trace.get("orientation") != "h" for trace in bars):
        raise ValueError("chỉ vẽ được biểu đồ cột ngang")
    return bars


def _get(mapping: dict, *path, default=None):
    for key in path:
        mapping = mapping.get(key) if isinstance(mapping, dict) else None
    return default if mapping is None else mapping


def _x_range(layout: dict, bars: Sequence[dict], stacked: bool) -> tuple[float, float]:
    if _get(layout, "xaxis", "range"):
        low, high = _get(layout, "xaxis", "range")
        return float(low), float(high)
    rows = max((len(trace.get("y") or ()) for trace in bars), default=0)
    values = [[float(v) for v in (trace.get("x") or ()) if v is not None] for trace in bars]
    if stacked:
        totals = [sum(float(v[i]) for v in ([*(t.get("x") or ())] for t in bars) if i < len(v) and (v[i] or 0) > 0)
                  for i in range(rows)]
        high, low = max(totals, default=0), 0.0
    else:
        flat = [v for vs in values for v in vs]
        high, low = max(flat + [0.0]), min(flat + [0.0])
    return low, (high * 1.05 if high > 0 else 1.0)


def bar_figure_html(figure: go.Figure) -> str:
    """The figure (horizontal bars: stacked, overlaid or grouped, as scoring.charts makes them) as an HTML block."""
    spec = figure.to_plotly_json()  # plain data: reading a plotly object's properties one by one is 4 × slower
    bars = _bars(spec)
    layout = spec.get("layout", {})
    mode = layout.get("barmode") or "group"
    low, high = _x_range(layout, bars, mode == "stack")
    span = (high - low) or 1.0

    def at(value: float) -> float:  # a value's place across the plot, in %
        return max(0.0, min(100.0, (value - low) / span * 100))

    labels = list(bars[0].get("y") or ()) if bars else []
    if _get(layout, "yaxis", "autorange") != "reversed":
        order = list(range(len(labels)))[::-1]  # plotly draws the first category at the bottom
    else:
        order = list(range(len(labels)))
    text_size = _get(layout, "font", "size", default=13)
    gap = _get(layout, "bargap", default=0.2)

    rows_html = []
    for row, i in enumerate(order, start=1):
        label = labels[i]
        pieces, spoken = [], []
        base = 0.0
        for slot, trace in enumerate(bars):
            xs = trace.get("x") or ()
            if i >= len(xs) or xs[i] is None:
                continue
            value = float(xs[i])
            colour = _per_point(_get(trace, "marker", "color"), i, "#0b5cad")
            text = _per_point(trace.get("text"), i, "")
            name = trace.get("name") or ""
            if mode == "stack":
                start, end = base, base + value
                base = end
                top, height = gap / 2, 1 - gap
            elif mode == "overlay":
                start, end = min(0.0, value), max(0.0, value)
                width = _get(trace, "width", default=1 - gap)
                offset = _get(trace, "offset", default=-width / 2)
                top, height = 0.5 + offset, width
            else:  # group: the traces side by side in the band, first on top
                start, end = min(0.0, value), max(0.0, value)
                height = (1 - gap) / len(bars)
                top = gap / 2 + slot * height
            left, right = at(start), at(end)
            tooltip = _hover(trace.get("hovertemplate"), _plain(label), value, name)
            spoken.append(f"{_plain(name)}: {_plain(text) or _number(value, None)}" if name
                          else _plain(text) or _number(value, None))
            box = (f"position:absolute;left:{left:.3f}%;width:{max(right - left, 0):.3f}%;top:{top * 100:.1f}%;"
                   f"height:{height * 100:.1f}%;background:{escape(str(colour))}")
            inside = ""
            if text and trace.get("textposition") == "inside":
                colour_text = _get(trace, "textfont", "color", default="white")
                inside = (f"<span style='display:flex;align-items:center;justify-content:center;height:100%;overflow:hidden;"
                          f"white-space:nowrap;color:{escape(colour_text)};font-size:{text_size - 1}px'>"
                          f"{html_lines(text)}</span>")
            if right > left:  # a zero draws nothing, as in plotly (its text, if any, still says so)
                pieces.append(f"<div title='{escape(tooltip)}' style='{box}'>{inside}</div>")
            if text and trace.get("textposition") == "outside":
                size = _get(trace, "textfont", "size", default=text_size - 1)
                side = (f"left:calc({right:.3f}% + {TEXT_GAP_PX}px)" if value >= 0
                        else f"right:calc({100 - left:.3f}% + {TEXT_GAP_PX}px);text-align:right")
                pieces.append(f"<div style='position:absolute;{side};top:0;bottom:0;display:flex;align-items:center;"
                              f"white-space:nowrap;line-height:1.2;font-size:{size}px'>{html_lines(text)}</div>")
        rows_html.append(
            f"<div style='grid-column:1;grid-row:{row};padding-right:8px;display:flex;align-items:center;"
            f"justify-content:flex-end;text-align:right;line-height:1.25'>{html_lines(label)}</div>"
            f"<div role='img' aria-label='{escape(_plain(label) + ': ' + '; '.join(spoken))}' "
            f"style='grid-column:2;grid-row:{row};position:relative;min-height:{ROW_PX}px;z-index:1'>{''.join(pieces)}</div>")

    axis = layout.get("xaxis", {})
    step = float(axis["dtick"]) if axis.get("dtick") else _nice_step(span)
    first = math.ceil(low / step - 1e-9) * step
    ticks = [first + k * step for k in range(int((high - first) / step + 1e-9) + 1)]
    suffix = axis.get("ticksuffix") or ""
    rows = len(order)
    grid = "".join(
        f"<div style='position:absolute;left:{at(t):.3f}%;top:0;bottom:0;border-left:1px solid "
        f"{'#17202a' if t == 0 and low < 0 else GRID_COLOUR}'></div>" for t in ticks)
    tick_labels = "".join(
        f"<span style='position:absolute;left:{at(t):.3f}%;transform:translateX(-50%);white-space:nowrap'>"
        f"{escape(format_number(t) + suffix)}</span>" for t in ticks)
    axis_title = html_lines(_get(axis, "title", "text", default=""))

    legend = ""
    if layout.get("showlegend") is not False:
        keys = [f"<span style='display:inline-flex;align-items:center;margin-right:14px;white-space:nowrap'>"
                f"<span style='display:inline-block;width:12px;height:12px;margin-right:5px;background:"
                f"{escape(str(_per_point(_get(trace, 'marker', 'color'), 0, '#0b5cad')))}'></span>{html_lines(trace['name'])}</span>"
                for trace in bars if trace.get("name") and trace.get("showlegend") is not False]
        if keys:
            legend = f"<div style='margin:2px 0 8px;line-height:1.6'>{''.join(keys)}</div>"

    title = _get(layout, "title", "text", default="")
    title_size = _get(layout, "title", "font", "size", default=17)
    return (
        f"<figure role='figure' aria-label='{escape(_plain(title))}' style='margin:0 0 12px;font-family:inherit;"
        f"font-size:{text_size}px;color:{escape(_get(layout, 'font', 'color', default='#17202a'))};background:white'>"
        f"<figcaption style='font-size:{title_size}px;line-height:1.3;margin-bottom:6px'>{html_lines(title)}</figcaption>"
        f"{legend}"
        f"<div style='display:grid;grid-template-columns:fit-content(45%) 1fr;padding-right:12px'>"
        f"<div style='grid-column:2;grid-row:1 / span {max(rows, 1)};position:relative'>{grid}</div>"
        f"{''.join(rows_html)}"
        f"<div style='grid-column:2;grid-row:{rows + 1};position:relative;height:20px;margin-top:4px;font-size:{text_size - 1}px;"
        f"color:#3c4654'>{tick_labels}</div>"
        + (f"<div style='grid-column:2;grid-row:{rows + 2};text-align:center;color:#3c4654'>{axis_title}</div>" if axis_title else "")
        + "</div></figure>"
    )
