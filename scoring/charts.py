"""Plotly figures shared by the pages, the projector and the exports: one chart definition, one look.

Every chart has a title and its unit, Vietnamese labels and number formats, and the same colour for the
same status everywhere (scoring.stats.STATUS_COLOURS, colour-blind safe).
"""

from __future__ import annotations

import plotly.graph_objects as go

from scoring.snapshot import Snapshot
from scoring.stats import STATUS_COLOURS, STATUS_LABELS, STATUSES
from scoring.textnorm import format_number, format_percent

FONT_FAMILY = "Source Sans Pro, Noto Sans, DejaVu Sans, Arial, sans-serif"
SCORE_COLOUR = "#0b5cad"
MAX_COLOUR = "#d5dde8"
APPRAISED_COLOUR = "#e69f00"


def _layout(fig: go.Figure, title: str, *, scale: float = 1.0, height: int | None = None) -> go.Figure:
    fig.update_layout(
        title={"text": title, "font": {"size": round(18 * scale)}},
        font={"family": FONT_FAMILY, "size": round(13 * scale), "color": "#17202a"},
        paper_bgcolor="white",
        plot_bgcolor="white",
        margin={"l": 10, "r": 10, "t": round(60 * scale), "b": 10},
        # legend under the plot: above it, it collides with the title on narrow columns
        legend={"orientation": "h", "yanchor": "top", "y": -0.14, "xanchor": "left", "x": 0, "title": None},
        separators=",.",  # Vietnamese: decimal comma, dot for thousands
        height=height,
    )
    axis = {"gridcolor": "#e6eaf0", "zerolinecolor": "#c0c8d2", "automargin": True, "tickfont": {"color": "#17202a"},
            "title_font": {"color": "#3c4654"}}
    fig.update_xaxes(**axis)
    fig.update_yaxes(**axis)
    return fig


def completion_by_area_figure(snap: Snapshot, *, scale: float = 1.0, height: int | None = None) -> go.Figure:
    """Stacked bars: activities of each reform area by status."""
    rows = snap.completion_by_area()
    areas = [r["area"] for r in rows]
    fig = go.Figure()
    for status in STATUSES:
        counts = [r.get(status, 0) for r in rows]
        fig.add_bar(
            name=STATUS_LABELS[status], x=areas, y=counts, marker_color=STATUS_COLOURS[status],
            text=[str(c) if c else "" for c in counts], textposition="inside",
            hovertemplate="Lĩnh vực %{x}: %{y} hoạt động " + STATUS_LABELS[status].lower() + "<extra></extra>",
        )
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title_text="Số hoạt động", dtick=1 if max((r["total"] for r in rows), default=0) <= 8 else None)
    fig.update_xaxes(type="category")  # Roman area codes; the title says they are areas
    return _layout(fig, "Tiến độ thực hiện kế hoạch theo lĩnh vực (số hoạt động)", scale=scale, height=height)


def completion_by_unit_figure(snap: Snapshot, *, scale: float = 1.0, height: int | None = None) -> go.Figure:
    """Horizontal stacked bars: activities each unit leads (the collective entry counts for every unit)."""
    rows = [r for r in snap.completion_by_unit() if r["total"]]
    units = [r["unit"] for r in rows]
    fig = go.Figure()
    for status in STATUSES:
        counts = [r.get(status, 0) for r in rows]
        fig.add_bar(name=STATUS_LABELS[status], y=units, x=counts, orientation="h", marker_color=STATUS_COLOURS[status],
                    text=[str(c) if c else "" for c in counts], textposition="inside",
                    hovertemplate="%{y}: %{x} hoạt động " + STATUS_LABELS[status].lower() + "<extra></extra>")
    fig.update_layout(barmode="stack")
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, "Tiến độ theo đơn vị chủ trì (số hoạt động)", scale=scale, height=height)


def unit_area_heatmap(snap: Snapshot, *, scale: float = 1.0, height: int | None = None) -> go.Figure:
    """Done % per unit × area; empty where the unit leads nothing in that area."""
    cells = snap.unit_area_matrix()
    units = list(dict.fromkeys(c["unit"] for c in cells))
    areas = list(dict.fromkeys(c["area"] for c in cells))
    lookup = {(c["unit"], c["area"]): c for c in cells}
    z, text = [], []
    for unit in units:
        z_row, text_row = [], []
        for area in areas:
            cell = lookup.get((unit, area))
            pct = cell["done_pct"] if cell and cell["applicable"] else None
            z_row.append(pct)
            text_row.append(f"{format_percent(pct, 0)}<br>{cell['done']}/{cell['applicable']}" if pct is not None else "")
        z.append(z_row)
        text.append(text_row)
    fig = go.Figure(go.Heatmap(
        z=z, x=areas, y=units, text=text, texttemplate="%{text}",
        zmin=0, zmax=100, colorscale=[[0, "#f3d9c6"], [0.5, "#f6e8a6"], [1, "#9fd3b8"]],
        colorbar={"title": {"text": "% hoàn thành"}, "ticksuffix": "%"}, hoverongaps=False,
        hovertemplate="%{y} · %{x}: %{z:.0f}% hoàn thành<extra></extra>",
    ))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title_text="Lĩnh vực của kế hoạch", type="category", side="bottom")
    return _layout(fig, "Tỷ lệ hoàn thành theo đơn vị × lĩnh vực (%)", scale=scale, height=height)


def score_by_area_figure(snap: Snapshot, *, scale: float = 1.0, height: int | None = None) -> go.Figure:
    """Self (and appraised) points of each criteria area as a % of its applicable maximum."""
    rollup = snap.rollup
    fig = go.Figure()
    if rollup is None:
        return _layout(fig, "Điểm theo lĩnh vực (% điểm tối đa)", scale=scale, height=height)
    areas = [a for a in rollup.areas if a.applicable_max > 0]
    labels = [f"{a.code}. {a.name}" if len(a.name) <= 28 else f"{a.code}. {a.name[:27]}…" for a in areas]

    def pct(points, maximum) -> float:
        return float(points / maximum * 100) if points is not None and maximum else 0.0

    self_pct = [pct(a.self_points, a.applicable_max) for a in areas]
    fig.add_bar(
        name="Tự chấm", y=labels, x=self_pct, orientation="h", marker_color=SCORE_COLOUR,
        text=[f"{format_number(a.self_points or 0)}/{format_number(a.applicable_max)} đ ({format_percent(p, 0)})" for a, p in zip(areas, self_pct)],
        textposition="auto", hovertemplate="%{y}: %{x:.1f}% điểm tối đa<extra></extra>",
    )
    if any(a.appraised_points is not None for a in areas):
        fig.add_bar(name="Thẩm định", y=labels, x=[pct(a.appraised_points, a.applicable_max) for a in areas], orientation="h",
                    marker_color=APPRAISED_COLOUR, hovertemplate="%{y}: %{x:.1f}% (thẩm định)<extra></extra>")
    fig.update_layout(barmode="group")
    fig.update_xaxes(range=[0, 104], ticksuffix="%", dtick=20)
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, "Điểm tự chấm theo lĩnh vực (% điểm tối đa)", scale=scale, height=height)


def area_criteria_figure(snap: Snapshot, area_code: str, *, scale: float = 1.0, height: int | None = None) -> go.Figure:
    """One area's criteria: self points against each criterion's applicable maximum."""
    fig = go.Figure()
    area = snap.criteria_set.node(area_code) if snap.criteria_set else None
    if area is None or snap.rollup is None:
        return _layout(fig, "Điểm từng tiêu chí", scale=scale, height=height)
    totals = [snap.rollup.node(child.code) for child in area.children]
    totals = [t for t in totals if t is not None and not t.not_applicable]
    labels = [f"{t.code} {t.name}" if len(t.name) <= 40 else f"{t.code} {t.name[:39]}…" for t in totals]
    fig.add_bar(name="Điểm tối đa", y=labels, x=[float(t.applicable_max) for t in totals], orientation="h",
                marker_color=MAX_COLOUR, hovertemplate="%{y}: tối đa %{x} điểm<extra></extra>")
    fig.add_bar(name="Tự chấm", y=labels, x=[float(t.self_points or 0) for t in totals], orientation="h",
                marker_color=SCORE_COLOUR, text=[f"{format_number(t.self_points or 0)}/{format_number(t.applicable_max)}" for t in totals],
                textposition="outside", hovertemplate="%{y}: %{x} điểm<extra></extra>")
    fig.update_layout(barmode="overlay")
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title_text="Điểm")
    return _layout(fig, f"Điểm từng tiêu chí của lĩnh vực {area_code} (điểm)", scale=scale, height=height)


def year_comparison_figure(snap: Snapshot, *, scale: float = 1.0, height: int | None = None) -> go.Figure:
    """Each area's self-scored % of its maximum, this year next to the year before."""
    rows = [row for row in snap.compare_with_previous_year() if row.level == 1]
    labels = [f"{row.code}. {row.name}" if len(row.name) <= 28 else f"{row.code}. {row.name[:27]}…" for row in rows]
    fig = go.Figure()
    fig.add_bar(name=f"Năm {snap.year - 1}", y=labels, x=[float(r.previous_pct) if r.previous_pct is not None else None for r in rows],
                orientation="h", marker_color=MAX_COLOUR, hovertemplate="%{y}: %{x:.1f}%<extra></extra>")
    fig.add_bar(name=f"Năm {snap.year}", y=labels, x=[float(r.current_pct) if r.current_pct is not None else None for r in rows],
                orientation="h", marker_color=SCORE_COLOUR, hovertemplate="%{y}: %{x:.1f}%<extra></extra>")
    fig.update_layout(barmode="group")
    fig.update_xaxes(range=[0, 104], ticksuffix="%", dtick=20)
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, f"Điểm theo lĩnh vực: năm {snap.year} so với năm {snap.year - 1} (% điểm tối đa)", scale=scale, height=height)
