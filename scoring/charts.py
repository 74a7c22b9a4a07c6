"""Plotly figures shared by the pages, the projector and the exports: one chart definition, one look.

Every chart has a title and its unit, Vietnamese labels and number formats, and the same colour for the
same status everywhere (scoring.plan.stats.STATUS_COLOURS, colour-blind safe). Plotly reads tags in chart text
(<b>, <a href>…), so text from the data goes through `plain_text` before it is drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import plotly.graph_objects as go

from scoring.assessment.engine import AppraisalProgress
from scoring.assessment.snapshot import Snapshot
from scoring.exports.common import require_criteria, sentence_case
from scoring.plan.stats import STATUS_COLOURS, STATUS_LABELS, STATUSES
from scoring.province.ranking import Ranked
from scoring.textnorm import format_number, format_percent

FONT_FAMILY = "Source Sans Pro, Liberation Sans, Noto Sans, DejaVu Sans, Arial, sans-serif"  # full Vietnamese coverage
SCORE_COLOUR = "#0b5cad"  # our own (self-assessed) points, everywhere
SELF_COLOUR = SCORE_COLOUR
APPRAISED_COLOUR = "#E69F00"  # Okabe–Ito orange: the appraisal council's points, distinct from every status colour
MAX_COLOUR = "#d5dde8"  # the room left to the maximum
LABEL_LINE_CHARS = 30
LEGEND_TOP_PX = 42  # the legend's top edge, below the title line


def _layout(fig: go.Figure, title: str, *, scale: float = 1.0, height: int | None = None) -> go.Figure:
    lines = _title_lines(title, scale)
    fig.update_layout(
        title={"text": "<br>".join(lines), "font": {"size": round(18 * scale)}},
        font={"family": FONT_FAMILY, "size": round(13 * scale), "color": "#17202a"},
        paper_bgcolor="white",
        plot_bgcolor="white",
        margin={"l": 10, "r": 10, "t": round(60 * scale) + round(22 * scale) * (len(lines) - 1), "b": 10},
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


# Characters of a title line at scale 1 in half a page; large (projector) type gets fewer per line, so a
# title breaks onto a second line instead of running past the chart's edge on a 1024- or 1366-wide screen.
TITLE_LINE_CHARS = 52


def _title_lines(title: str, scale: float) -> list[str]:
    width = max(20, round(TITLE_LINE_CHARS / scale)) if scale > 1 else 10_000
    lines: list[str] = []
    for word in title.split(" "):
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def _base_layout(title: str, height: int, scale: float = 1.0) -> dict[str, Any]:
    lines = _title_lines(title, scale)
    extra = round(22 * scale) * (len(lines) - 1)  # each further title line pushes the legend and the plot down
    return dict(
        # plotly anchors a title of several lines by its first line: the further lines are let down by as much
        title=dict(text="<br>".join(lines), x=0.01, xanchor="left", y=0.98 - extra / height, yref="container", yanchor="top",
                   font=dict(size=round(17 * scale))),
        font=dict(family=FONT_FAMILY, size=round(13 * scale), color="#222222"),
        separators=",.",  # Vietnamese numbers: decimal comma, dot for thousands
        plot_bgcolor="white",
        paper_bgcolor="white",
        height=height,
        margin=dict(l=10, r=30, t=90 + extra, b=50),
        # the legend spans the whole width under the title, not just the plot area right of the labels
        legend=dict(orientation="h", xref="container", x=0.01, xanchor="left", yref="container",
                    y=1 - (LEGEND_TOP_PX * scale + extra) / height, yanchor="top", traceorder="normal"),
        bargap=0.3,
    )


def completion_by_area_figure(snapshot: Snapshot, *, scale: float = 1.0, height: int | None = None) -> go.Figure:
    """Plan activities per area (I–VII) stacked by status, in the status colours and the plan's area order."""
    rows = snapshot.completion_by_area()
    names = {a.get("code"): a.get("name", "") for a in (snapshot.plan.areas if snapshot.plan else [])}
    labels = [_area_label(row["area"], names.get(row["area"], "")) for row in rows]
    figure = go.Figure()
    for status in STATUSES:
        counts = [row[status] for row in rows]
        figure.add_bar(
            name=STATUS_LABELS[status], y=labels, x=counts, orientation="h",
            marker_color=STATUS_COLOURS[status], text=[str(c) if c else "" for c in counts],
            textposition="inside", insidetextanchor="middle", textfont=dict(color="white"),
            hovertemplate="%{y}<br>" + STATUS_LABELS[status] + ": %{x} hoạt động<extra></extra>",
        )
    applicable = snapshot.activities_applicable
    share = f" ({snapshot.activities_done}/{applicable} hoàn thành)" if applicable else ""
    figure.update_layout(**_base_layout(f"Tiến độ Kế hoạch CCHC năm {snapshot.year}{share}",
                                        height or _bar_height(len(rows), scale), scale), barmode="stack")
    figure.update_xaxes(title_text="Số hoạt động", dtick=1 if max((r["total"] for r in rows), default=0) <= 10 else None,
                        gridcolor="#E5E5E5", rangemode="tozero")
    figure.update_yaxes(autorange="reversed", automargin=True, ticksuffix="  ")
    return figure


def score_by_area_figure(snapshot: Snapshot, *, scale: float = 1.0, height: int | None = None) -> go.Figure:
    """Each area's self-assessed points over its applicable maximum (a grey bar behind), and once the council
    has appraised anything, the appraised points beside them for each area whose appraisal is complete; an
    area still being appraised has no appraised bar, its label says "đang thẩm định k/n"."""
    require_criteria(snapshot)
    rollup = snapshot.rollup
    areas = [a for a in rollup.areas if not a.not_applicable]
    labels = [wrap_label(f"{a.code}. {a.name}") for a in areas]
    appraised = snapshot.appraisal_started
    appraisals = [snapshot.appraisal(a.code) for a in areas]
    figure = go.Figure()
    figure.add_bar(
        name="Điểm tối đa", y=labels, x=[float(a.applicable_max) for a in areas], orientation="h",
        marker_color=MAX_COLOUR, width=0.8, offset=-0.4,
        text=[_area_text(a, p if appraised else None) for a, p in zip(areas, appraisals)], textposition="outside",
        textfont=dict(size=round(12 * scale)), cliponaxis=False,
        hovertemplate="%{y}<br>Điểm tối đa: %{x} điểm<extra></extra>",
    )
    figure.add_bar(
        name="Điểm tự đánh giá", y=labels, x=[float(a.self_points or 0) for a in areas], orientation="h",
        marker_color=SELF_COLOUR, width=0.3 if appraised else 0.5, offset=-0.3 if appraised else -0.25,
        hovertemplate="%{y}<br>Tự đánh giá: %{x} điểm<extra></extra>",
    )
    if appraised:
        figure.add_bar(  # no bar where the appraisal is not complete: a partial sum would read as points cut
            name="Điểm thẩm định", y=labels, x=[float(p.points) if p.complete else None for p in appraisals],
            orientation="h", marker_color=APPRAISED_COLOUR, width=0.3, offset=0.0,
            hovertemplate="%{y}<br>Thẩm định: %{x} điểm<extra></extra>",
        )
    total = rollup.total
    title = (f"Điểm tự đánh giá theo lĩnh vực — tổng {format_number(total.self_points or 0)}/"
             f"{format_number(total.applicable_max)} điểm")
    if rollup.total.scored_leaves:
        title += f" ({rollup.self_index.text(brief=True)})"
    figure.update_layout(**_base_layout(title, height or _bar_height(len(areas), scale), scale), barmode="overlay")
    longest = max((float(a.applicable_max) for a in areas), default=1)
    # room on the right for the labels, which sit past the grey bars
    figure.update_xaxes(title_text="Điểm", gridcolor="#E5E5E5", range=[0, longest * (1.9 if appraised else 1.45)])
    figure.update_yaxes(autorange="reversed", automargin=True, ticksuffix="  ")
    return figure


def _area_text(area, appraisal: AppraisalProgress | None) -> str:
    """ "4/6 (66,7%)" ("4/6 (tạm tính)" while some of its criteria are unscored, "chưa chấm" before any), then on a
    second line (narrow columns) "thẩm định 3,5/6 (58,3%)" or, while the area is being appraised, "đang thẩm định 2/3"."""
    text = _self_text(area, with_share=True)
    if appraisal is not None:
        text += "<br>" + appraisal.text(lambda points: f"thẩm định {_points_and_share(points, area.applicable_max)}")
    return text


def _self_text(node, *, with_share: bool) -> str:
    """A node's self points as a label may show them: "4/6" (with its share, "4/6 (66,7%)") once every criterion
    under it is scored, "4/6 (tạm tính)" before, "chưa chấm" while none is: unscored is never read as 0 points."""
    reading = node.self_index
    if reading.complete:
        return (_points_and_share(node.self_points, node.applicable_max) if with_share
                else f"{format_number(node.self_points or 0)}/{format_number(node.applicable_max)}")
    if reading.scored:
        return f"{format_number(node.self_points or 0)}/{format_number(node.applicable_max)} (tạm tính)"
    return "chưa chấm"


def _points_and_share(points: Decimal | None, maximum: Decimal) -> str:
    """ "6/13 (46,2%)" """
    points = points or Decimal(0)
    text = f"{format_number(points)}/{format_number(maximum)}"
    if maximum > 0:
        text += f" ({format_percent(points / maximum * 100)})"
    return text


def plain_text(text: str) -> str:
    """Text from the data as plotly draws it literally: its tags (<b>, <a href>, <br>) are markup, its
    entities are decoded, so "&", "<" and ">" are written as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _area_label(code: str, name: str) -> str:
    return wrap_label(f"{code}. {sentence_case(name)}" if name else code)


def wrap_label(text: str, width: int = LABEL_LINE_CHARS) -> str:
    """Long area names on two or more lines (plotly's <br>), so the labels do not squeeze the bars; the text
    itself stays plain (`plain_text`)."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(plain_text(line) for line in lines)


def _bar_height(rows: int, scale: float = 1.0, per_row: int = 40) -> int:
    return round(max(260, 130 + per_row * rows) * scale)



def completion_by_unit_figure(snap: Snapshot, *, scale: float = 1.0, height: int | None = None) -> go.Figure:
    """Horizontal stacked bars: activities each unit leads (the collective entry counts for every unit)."""
    rows = [r for r in snap.completion_by_unit() if r["total"]]
    units = [plain_text(r["unit"]) for r in rows]
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
        z=z, x=[plain_text(a) for a in areas], y=[plain_text(u) for u in units], text=text, texttemplate="%{text}",
        zmin=0, zmax=100, colorscale=[[0, "#f3d9c6"], [0.5, "#f6e8a6"], [1, "#9fd3b8"]],
        colorbar={"title": {"text": "% hoàn thành"}, "ticksuffix": "%"}, hoverongaps=False,
        hovertemplate="%{y} · %{x}: %{z:.0f}% hoàn thành<extra></extra>",
    ))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title_text="Lĩnh vực của kế hoạch", type="category", side="bottom")
    return _layout(fig, "Tỷ lệ hoàn thành theo đơn vị × lĩnh vực (%)", scale=scale, height=height)


def area_criteria_figure(snap: Snapshot, area_code: str, *, scale: float = 1.0, height: int | None = None) -> go.Figure:
    """One area's criteria: self points against each criterion's applicable maximum, and once the council has
    appraised anything, the appraised points beside them where a criterion's appraisal is complete. Each bar's
    figures sit past its grey bar, inside the chart ("3/5 · thẩm định 2,5/5")."""
    fig = go.Figure()
    area = snap.criteria_set.node(area_code) if snap.criteria_set else None
    if area is None or snap.rollup is None:
        return _layout(fig, "Điểm từng tiêu chí", scale=scale, height=height)
    totals = [snap.rollup.node(child.code) for child in area.children]
    totals = [t for t in totals if t is not None and not t.not_applicable]
    labels = [wrap_label(f"{t.code} {t.name}", 40) for t in totals]  # whole names, on two lines if need be, never cut with "…"
    appraised = snap.appraisal_started
    appraisals = [snap.appraisal(t.code) for t in totals]
    texts = []
    for t, progress in zip(totals, appraisals):
        text = _self_text(t, with_share=False)
        if appraised:
            text += "<br>" + progress.text(lambda points, m=t.applicable_max: f"thẩm định {format_number(points)}/{format_number(m)}")
        texts.append(text)
    fig.add_bar(name="Điểm tối đa", y=labels, x=[float(t.applicable_max) for t in totals], orientation="h",
                marker_color=MAX_COLOUR, width=0.8, offset=-0.4, text=texts, textposition="outside", cliponaxis=False,
                hovertemplate="%{y}: tối đa %{x} điểm<extra></extra>")
    fig.add_bar(name="Tự chấm", y=labels, x=[float(t.self_points or 0) for t in totals], orientation="h",
                marker_color=SCORE_COLOUR, width=0.3 if appraised else 0.5, offset=-0.3 if appraised else -0.25,
                hovertemplate="%{y}: tự chấm %{x} điểm<extra></extra>")
    if appraised:
        fig.add_bar(name="Thẩm định", y=labels, x=[float(p.points) if p.complete else None for p in appraisals],
                    orientation="h", marker_color=APPRAISED_COLOUR, width=0.3, offset=0.0,
                    hovertemplate="%{y}: thẩm định %{x} điểm<extra></extra>")
    title = f"Điểm từng tiêu chí của lĩnh vực {plain_text(area_code)} (điểm)"
    # the legend under the title, as on the other bar charts: under the plot it would run into the axis title
    fig.update_layout(**_base_layout(title, height or _bar_height(len(totals), scale), scale), barmode="overlay")
    fig.update_yaxes(autorange="reversed", automargin=True, ticksuffix="  ")
    longest = max((float(t.applicable_max) for t in totals), default=1)
    # room on the right for the figures past the longest grey bar
    fig.update_xaxes(title_text="Điểm", gridcolor="#E5E5E5", range=[0, longest * (1.8 if appraised else 1.35)])
    return fig


def year_comparison_figure(snap: Snapshot, *, scale: float = 1.0, height: int | None = None) -> go.Figure:
    """Each area's self-scored % of its maximum, this year next to the year before."""
    rows = [row for row in snap.compare_with_previous_year() if row.level == 1]
    labels = [plain_text(f"{row.code}. {row.name}" if len(row.name) <= 28 else f"{row.code}. {row.name[:27]}…") for row in rows]
    before, now = snap.comparison_labels()
    fig = go.Figure()
    fig.add_bar(name=before, y=labels, x=[float(r.previous_pct) if r.previous_pct is not None else None for r in rows],
                orientation="h", marker_color=MAX_COLOUR, hovertemplate="%{y}: %{x:.1f}%<extra></extra>")
    fig.add_bar(name=now, y=labels, x=[float(r.current_pct) if r.current_pct is not None else None for r in rows],
                orientation="h", marker_color=SCORE_COLOUR, hovertemplate="%{y}: %{x:.1f}%<extra></extra>")
    fig.update_layout(barmode="group")
    fig.update_xaxes(range=[0, 104], ticksuffix="%", dtick=20)
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, f"Điểm theo lĩnh vực: năm {snap.year} so với năm {snap.year - 1} (% điểm tối đa)", scale=scale, height=height)


# --------------------------------------------------------------------------- the province's ranking (scoring.province.ranking)

UP_COLOUR, DOWN_COLOUR, LEVEL_COLOUR = "#009E73", "#D55E00", "#7f8c99"  # Okabe–Ito green and vermillion, a grey


RANKING_LABEL_CHARS = 56  # these charts take the whole width: a department's name on one line where it can be


def _rows_height(rows: int, scale: float, room: int | None) -> int:
    """The height for `rows` bars, at most the `room` the screen leaves: a few departments do not get huge bars."""
    wanted = round((120 + 46 * max(rows, 1)) * scale)
    return min(wanted, room) if room else wanted


def ranking_figure(rows: Sequence[Ranked], *, scale: float = 1.0, height: int | None = None) -> go.Figure:
    """Ranked departments' published indexes as horizontal bars, first at the top: "2. Sở A" and "2. Sở C" share a
    rank; each bar's index (two decimals, as published) and band past its end. Only ranked rows are drawn; `height`
    is the room there is, fewer rows take less."""
    ranked = [row for row in rows if row.rank is not None]
    labels = [wrap_label(f"{row.rank}. {row.name}", RANKING_LABEL_CHARS) for row in ranked]
    values = [float(row.percent) for row in ranked]
    texts = [f"{format_percent(row.percent, 2, fixed=True)}" + (f" · {plain_text(row.band)}" if row.band else "")
             for row in ranked]
    figure = go.Figure()
    figure.add_bar(y=labels, x=values, orientation="h", marker_color=SCORE_COLOUR, text=texts, textposition="outside",
                   textfont=dict(size=round(13 * scale)), cliponaxis=False, showlegend=False,
                   hovertemplate="%{y}: %{x:.2f}%<extra></extra>")
    figure.update_layout(**_base_layout("Chỉ số CCHC đã công bố (%)", _rows_height(len(ranked), scale, height), scale))
    figure.update_layout(margin=dict(t=round(50 * scale)))  # a title on one line, no legend under it
    longest = max(values, default=100)
    figure.update_xaxes(title_text="Chỉ số (%)", gridcolor="#E5E5E5", range=[0, max(100.0, longest) * 1.3],
                        ticksuffix="%")
    figure.update_yaxes(autorange="reversed", automargin=True, ticksuffix="  ")
    return figure


def rank_change_text(row: Ranked) -> str:
    """ "▲ 2 bậc (hạng 3 → 1)", "▼ 1 bậc (hạng 1 → 2)", "giữ hạng 2"."""
    if row.change > 0:
        return f"▲ {row.change} bậc (hạng {row.previous_rank} → {row.rank})"
    if row.change < 0:
        return f"▼ {-row.change} bậc (hạng {row.previous_rank} → {row.rank})"
    return f"giữ hạng {row.rank}"


def rank_change_figure(rows: Sequence[tuple[str, Ranked]], year: int, *, scale: float = 1.0,
                       height: int | None = None) -> go.Figure:
    """Places each department gained (right, green) or lost (left, vermillion) in its group since the year before,
    for (label, row) pairs ranked both years, in the order given; a department that kept its place has no bar, its
    text says so at the middle line. `height` is the room there is, fewer rows take less."""
    labels = [wrap_label(label, RANKING_LABEL_CHARS) for label, _ in rows]
    changes = [row.change for _, row in rows]
    colours = [UP_COLOUR if c > 0 else DOWN_COLOUR if c < 0 else LEVEL_COLOUR for c in changes]
    figure = go.Figure()
    figure.add_bar(y=labels, x=changes, orientation="h", marker_color=colours, showlegend=False,
                   text=[rank_change_text(row) for _, row in rows], textposition="outside",
                   textfont=dict(size=round(13 * scale)), cliponaxis=False,
                   hovertemplate="%{y}: %{x:+d} bậc<extra></extra>")
    figure.update_layout(**_base_layout(f"Bậc tăng (+), giảm (−) so với {year - 1}", _rows_height(len(rows), scale, height),
                                        scale))
    figure.update_layout(margin=dict(t=round(50 * scale)))  # a title on one line, no legend under it
    widest = max((abs(c) for c in changes), default=1) or 1
    # room past each bar's end for its text, on either side of the middle line
    figure.update_xaxes(title_text="Số bậc", gridcolor="#E5E5E5", zerolinecolor="#17202a", zerolinewidth=2,
                        range=[-widest * 2.4, widest * 2.4], dtick=1 if widest <= 3 else None)
    figure.update_yaxes(autorange="reversed", automargin=True, ticksuffix="  ")
    return figure
