"""The two charts every export shows, as plotly figures, and their static export (PNG/SVG).

Static export uses kaleido, which drives a Chromium-based browser through the DevTools protocol. It never
downloads one: the browser is the one named by BROWSER_PATH (choreographer's own variable) or else
Debian's `chromium` on PATH, and MathJax (fetched from a CDN by default) is switched off, so export works
on a machine with no network. Each call starts one browser; `figures_png` renders several figures with a
single start, which is what the report and the summary use.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import threading
from decimal import Decimal
from typing import Any

import plotly.graph_objects as go

from scoring.errors import InputError
from scoring.exports.common import any_appraised_points, require_criteria, sentence_case
from scoring.snapshot import Snapshot
from scoring.stats import STATUS_COLOURS, STATUS_LABELS, STATUSES
from scoring.textnorm import format_number, format_percent

FONT_FAMILY = "Liberation Sans, Arial, DejaVu Sans, sans-serif"  # full Vietnamese coverage on Debian and Windows
SELF_COLOUR = "#0072B2"  # Okabe–Ito blue, as "Đang thực hiện" elsewhere: our own score
APPRAISED_COLOUR = "#009E73"  # bluish green: the appraisal council's score
MAX_COLOUR = "#D9D9D9"  # light grey: the room left to the maximum
LABEL_LINE_CHARS = 30
LEGEND_TOP_PX = 42  # the legend's top edge, below the title line
DEFAULT_WIDTH = 900
DEFAULT_HEIGHT = 480
RENDER_TIMEOUT_SECONDS = 90
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


class ChartExportError(InputError):
    """Charts cannot be turned into images on this machine (no browser); the message says what to install."""


def _base_layout(title: str, height: int) -> dict[str, Any]:
    return dict(
        title=dict(text=title, x=0.01, xanchor="left", y=0.98, yref="container", yanchor="top", font=dict(size=17)),
        font=dict(family=FONT_FAMILY, size=13, color="#222222"),
        separators=",.",  # Vietnamese numbers: decimal comma, dot for thousands
        plot_bgcolor="white",
        paper_bgcolor="white",
        height=height,
        margin=dict(l=10, r=30, t=90, b=50),
        # the legend spans the whole width under the title, not just the plot area right of the labels
        legend=dict(orientation="h", xref="container", x=0.01, xanchor="left", yref="container",
                    y=1 - LEGEND_TOP_PX / height, yanchor="top", traceorder="normal"),
        bargap=0.3,
    )


def completion_chart(snapshot: Snapshot) -> go.Figure:
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
    done, applicable = snapshot.activities_done, sum(r["applicable"] for r in rows)
    overall = snapshot.plan_completion
    share = f" — hoàn thành {done}/{applicable} hoạt động ({format_percent(overall * 100)})" if overall is not None else ""
    figure.update_layout(**_base_layout(f"Tiến độ Kế hoạch CCHC năm {snapshot.year}{share}",
                                        _bar_height(len(rows))), barmode="stack")
    figure.update_xaxes(title_text="Số hoạt động", dtick=1 if max((r["total"] for r in rows), default=0) <= 10 else None,
                        gridcolor="#E5E5E5", rangemode="tozero")
    figure.update_yaxes(autorange="reversed", automargin=True, ticksuffix="  ")
    return figure


def score_by_area_chart(snapshot: Snapshot) -> go.Figure:
    """Each area's self-assessed points over its applicable maximum (a grey bar behind), with the appraised
    points beside them once the council has appraised anything; the label gives points and share."""
    require_criteria(snapshot)
    rollup = snapshot.rollup
    areas = [a for a in rollup.areas if not a.not_applicable]
    labels = [wrap_label(f"{a.code}. {a.name}") for a in areas]
    appraised = any_appraised_points(snapshot)
    figure = go.Figure()
    figure.add_bar(
        name="Điểm tối đa", y=labels, x=[float(a.applicable_max) for a in areas], orientation="h",
        marker_color=MAX_COLOUR, width=0.8, offset=-0.4,
        text=[_area_text(a, appraised) for a in areas], textposition="outside", textfont=dict(size=12),
        cliponaxis=False,
        hovertemplate="%{y}<br>Điểm tối đa: %{x} điểm<extra></extra>",
    )
    figure.add_bar(
        name="Điểm tự đánh giá", y=labels, x=[float(a.self_points or 0) for a in areas], orientation="h",
        marker_color=SELF_COLOUR, width=0.3 if appraised else 0.5, offset=-0.3 if appraised else -0.25,
        hovertemplate="%{y}<br>Tự đánh giá: %{x} điểm<extra></extra>",
    )
    if appraised:
        figure.add_bar(
            name="Điểm thẩm định", y=labels, x=[float(a.appraised_points or 0) for a in areas], orientation="h",
            marker_color=APPRAISED_COLOUR, width=0.3, offset=0.0,
            hovertemplate="%{y}<br>Thẩm định: %{x} điểm<extra></extra>",
        )
    total = rollup.total
    title = (f"Điểm tự đánh giá theo lĩnh vực — tổng {format_number(total.self_points or 0)}/"
             f"{format_number(total.applicable_max)} điểm")
    if rollup.index_self is not None:
        title += f" ({format_percent(rollup.index_self, 2)})"
    figure.update_layout(**_base_layout(title, _bar_height(len(areas))), barmode="overlay")
    longest = max((float(a.applicable_max) for a in areas), default=1)
    # room on the right for the labels, which sit past the grey bars
    figure.update_xaxes(title_text="Điểm", gridcolor="#E5E5E5", range=[0, longest * (1.7 if appraised else 1.45)])
    figure.update_yaxes(autorange="reversed", automargin=True, ticksuffix="  ")
    return figure


def _area_text(area, appraised: bool) -> str:
    text = f"{_points_and_share(area.self_points, area.applicable_max)}"
    if appraised and area.appraised_points is not None:
        text += f"; thẩm định {_points_and_share(area.appraised_points, area.applicable_max)}"
    return text


def _points_and_share(points: Decimal | None, maximum: Decimal) -> str:
    """ "6/13 (46,2%)" """
    points = points or Decimal(0)
    text = f"{format_number(points)}/{format_number(maximum)}"
    if maximum > 0:
        text += f" ({format_percent(points / maximum * 100)})"
    return text


def _area_label(code: str, name: str) -> str:
    return wrap_label(f"{code}. {sentence_case(name)}") if name else code


def wrap_label(text: str, width: int = LABEL_LINE_CHARS) -> str:
    """Long area names on two or more lines (plotly's <br>), so the labels do not squeeze the bars."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines)


def _bar_height(rows: int, per_row: int = 40) -> int:
    return max(260, 130 + per_row * rows)


# --------------------------------------------------------------------------- static export


def browser_path() -> str:
    """The browser kaleido drives: BROWSER_PATH if set, else a Chromium or Chrome on PATH."""
    configured = os.environ.get("BROWSER_PATH")
    if configured:
        return configured
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise ChartExportError(
        "Không xuất được biểu đồ thành ảnh: máy chưa có trình duyệt Chromium. Hãy cài gói Debian «chromium» "
        "(apt-get install chromium) hoặc đặt biến môi trường BROWSER_PATH tới trình duyệt Chrome/Chromium."
    )


def figure_png(figure: go.Figure, width: int | None = None, height: int | None = None, scale: float = 2) -> bytes:
    """One figure as PNG bytes (scale 2: sharp in a printed report)."""
    return figures_png([figure], width=width, height=height, scale=scale)[0]


def figure_svg(figure: go.Figure, width: int | None = None, height: int | None = None) -> bytes:
    """One figure as SVG bytes (text stays text: crisp at any size, searchable)."""
    return _render([figure], "svg", width, height, 1)[0]


def figures_png(figures: list[go.Figure], width: int | None = None, height: int | None = None,
                scale: float = 2) -> list[bytes]:
    """Several figures as PNG with one browser start."""
    return _render(figures, "png", width, height, scale)


def figures_svg(figures: list[go.Figure], width: int | None = None, height: int | None = None) -> list[bytes]:
    return _render(figures, "svg", width, height, 1)


class _ShutdownNoiseFilter(logging.Filter):
    """choreographer logs a traceback when the browser's "{bye}" farewell shares a read with another message
    at shutdown (harmless: the images are already back). Drop only that record, keep every other."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("JSONError decoding message")


_PIPE_LOGGER = "choreographer.channels.pipe"


def _render(figures: list[go.Figure], image_format: str, width: int | None, height: int | None,
            scale: float) -> list[bytes]:
    import kaleido  # imported here: only static export needs it

    pipe_logger = logging.getLogger(_PIPE_LOGGER)
    if not any(isinstance(f, _ShutdownNoiseFilter) for f in pipe_logger.filters):
        pipe_logger.addFilter(_ShutdownNoiseFilter())

    path = browser_path()
    specs = [
        (figure.to_plotly_json(), dict(format=image_format, scale=scale,
                                       width=width or figure.layout.width or DEFAULT_WIDTH,
                                       height=height or figure.layout.height or DEFAULT_HEIGHT))
        for figure in figures
    ]

    async def render_all() -> list[bytes]:
        async with kaleido.Kaleido(n=1, timeout=RENDER_TIMEOUT_SECONDS, mathjax=False, path=path) as browser:
            return [await browser.calc_fig(spec, opts=opts) for spec, opts in specs]

    results: list[Any] = []

    def run() -> None:  # a thread of its own: the caller (Streamlit, a test) may already run an event loop
        try:
            results.append(asyncio.run(render_all()))
        except BaseException as problem:  # handed to the calling thread below
            results.append(problem)

    thread = threading.Thread(target=run, name="kaleido-export")
    thread.start()
    thread.join()
    outcome = results[0]
    if isinstance(outcome, BaseException):
        if type(outcome).__name__ == "ChromeNotFoundError":
            raise ChartExportError(f"Không xuất được biểu đồ thành ảnh: không chạy được trình duyệt «{path}».") from outcome
        raise outcome
    return [bytes(image) if not isinstance(image, str) else image.encode("utf-8") for image in outcome]
