"""Trình chiếu: leadership meetings on a projector — a summary screen, then one screen per reform area; for the
Department of Home Affairs and the administrator (Action.VIEW_PROVINCE), then the province's published ranking: one
screen per group of departments, then the places each department gained or lost since the year before (a long
group takes more than one screen). An appraiser, who runs no department's meeting, gets the ranking screens only.

Large type readable from the back of a room at 1920×1080, high contrast, no sidebar, and big
previous/next buttons; a presenter's clicker (PageDown/PageUp) and the arrow keys move between screens,
Esc leaves. The screen follows the room: a score saved on a laptop shows here within a few seconds.
"""

from __future__ import annotations

import streamlit as st

import ui
from scoring.access.auth import Action
from scoring.charts import (
    area_criteria_figure,
    completion_by_area_figure,
    rank_change_figure,
    ranking_figure,
    score_by_area_figure,
)
from scoring.province import ranking
from scoring.textnorm import format_date, format_number, format_percent

# Static style only (no user data). Every screen fits the rooms' projectors (1024×768, 1280×720, 1366×768,
# 1920×1080) with nothing cut and no scrolling: type in rem, 24px at 1920 wide and smaller with the width (15px at
# 1024). Plotly's type is in pixels and the server does not know the screen, so each chart is drawn for three
# sizes of screen and the style shows the one that fits (CHART_SIZES).
st.html(
    """
    <style>
      html { font-size: clamp(15px, 1.25vw, 24px); }
      [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"] { display: none; }
      .block-container { padding: 0.6rem 2rem 0.4rem !important; max-width: 100%; }
      .block-container > div { gap: 0.6rem; }
      h1 { font-size: 2.3rem !important; padding: 0.1rem 0 0 !important; line-height: 1.2 !important; }
      [data-testid="stMetricValue"] { font-size: 2.3rem; font-weight: 700; line-height: 1.15; }
      [data-testid="stMetricLabel"] p { font-size: 1.05rem; white-space: normal; }
      [data-testid="stMetricLabel"] div { overflow: visible; text-overflow: clip; white-space: normal; }
      .stButton button { font-size: 1.2rem; padding: 0.45rem 1rem; min-height: 0; white-space: nowrap; }
      div:has(> [class*="st-key-slide-chart-"]) { display: none; }
      @media (min-width: 1700px) and (min-height: 1000px) { div:has(> [class*="st-key-slide-chart-large-"]) { display: block; } }
      @media (min-width: 1200px) and ((max-width: 1699.98px) or (max-height: 999.98px)) {
        div:has(> [class*="st-key-slide-chart-medium-"]) { display: block; } }
      @media (max-width: 1199.98px) { div:has(> [class*="st-key-slide-chart-small-"]) { display: block; } }
      .st-key-slide-notes h3 { font-size: 1.45rem; padding: 0 0 0.3rem; }
      .st-key-slide-notes p, .st-key-slide-notes li { font-size: 1.05rem; line-height: 1.4; margin-bottom: 0.15rem; }
      .st-key-slide-notes li li { font-size: 0.98rem; }
      /* a 4:3 screen is narrower for its height: the notes take a smaller type so they fit beside the chart */
      @media (max-aspect-ratio: 3/2) { .st-key-slide-notes p, .st-key-slide-notes li, .st-key-slide-notes li li { font-size: 0.9rem; } }
      .st-key-slide-pick button p { font-size: 1rem; }
      /* the arrow keys' twins of the buttons: they only listen for their key */
      .st-key-slide-arrow-keys { display: none; }
    </style>
    """
)

shows_ranking = ui.can(Action.VIEW_PROVINCE)
shows_department = ui.can(Action.USE_PROJECTOR)
if not shows_ranking:
    ui.require(Action.USE_PROJECTOR)  # stops with the sentence saying who may not
db = ui.database()
_, year = ui.context()
snap = ui.snapshot() if shows_department else None
summaries = snap.area_summaries() if snap else []
slides = ["summary"] + [s.code for s in summaries] if snap else []

RANKED_PER_SCREEN = 10  # departments on one ranking screen at most: more, and the names would be too small to read


def _screens(rows: list) -> list[list]:
    """`rows` on as few screens as hold them, shared evenly (13 rows: 7 and 6, not 10 and 3)."""
    pages = max(1, -(-len(rows) // RANKED_PER_SCREEN))
    each = -(-len(rows) // pages) if rows else 0
    return [rows[page * each:(page + 1) * each] for page in range(pages)]


read_at = db.revision()  # before the ranking is read: a change made meanwhile moves it, and the screen follows
tables = ranking.ranking(db, year, viewer=ui.principal()) if shows_ranking else []
ranking_slides: dict[str, tuple] = {}  # slide → (group table or None for the movement, its rows on this screen, page, pages)
for number, table in enumerate(tables):
    screens = _screens([row for row in table.rows if row.rank is not None])
    for page, rows in enumerate(screens):
        ranking_slides[f"rank-{number}-{page}"] = (table, rows, page, len(screens))
if tables:
    moved = [(f"{row.name} (nhóm {table.name})" if len(tables) > 1 else row.name, row)
             for table in tables for row in table.rows if row.change is not None]
    screens = _screens(moved)
    for page, rows in enumerate(screens):
        ranking_slides[f"change-{page}"] = (None, rows, page, len(screens))
slides += list(ranking_slides)
if not slides:
    st.info("Tài khoản này chưa được giao cơ quan nào để trình chiếu.")
    st.stop()
position = min(st.session_state.get("slide", 0), len(slides) - 1)
current = slides[position]


def _pick_of(slide: str) -> str:
    """The quick-jump button a screen belongs to: a group's (or the movement's) first screen stands for all of them."""
    if slide in ranking_slides:
        return slide.rpartition("-")[0] + "-0"
    return slide


# The quick-jump buttons of the part shown, and one to the other part: the department's screens and «Xếp hạng», or
# the groups' and the movement's with «Tổng hợp» (both in one row would not fit a 1024-wide screen on one line).
ranking_shown = current in ranking_slides
if ranking_shown:
    picks = (["summary"] if snap else []) + list(dict.fromkeys(_pick_of(slide) for slide in ranking_slides))
else:
    picks = [slide for slide in slides if slide not in ranking_slides] + list(ranking_slides)[:1]


def _go(step: int) -> None:
    st.session_state["slide"] = (position + step) % len(slides)
    st.session_state["slide-pick"] = _pick_of(slides[st.session_state["slide"]])


def _jump() -> None:
    picked = st.session_state.get("slide-pick")
    if picked in slides:  # clicking the selected segment again clears it: stay where we are
        st.session_state["slide"] = slides.index(picked)


nav_prev, nav_title, nav_next, nav_leave = st.columns([1.6, 4, 1.6, 1.3], vertical_alignment="center")
nav_prev.button("◀ Trước", on_click=_go, args=(-1,), key="slide-prev", shortcut="PageUp", use_container_width=True)
nav_next.button("Tiếp ▶", on_click=_go, args=(1,), key="slide-next", shortcut="PageDown", use_container_width=True)
leave_to = ("views/tong_quan.py", "Tổng quan") if snap else ("views/cac_co_quan.py", "Các cơ quan")  # a page they may see
if nav_leave.button("Thoát", key="slide-leave", shortcut="Esc", use_container_width=True,
                    help=f"Rời màn hình trình chiếu, về trang {leave_to[1]}"):
    st.switch_page(leave_to[0])
who = ui.md(snap.department.name) if snap else "Các cơ quan"
nav_title.caption(f"{who} · Chỉ số CCHC năm {year} · màn hình {position + 1}/{len(slides)}")
with st.container(key="slide-arrow-keys"):
    st.button("◀", on_click=_go, args=(-1,), key="slide-prev-arrow", shortcut="Left")
    st.button("▶", on_click=_go, args=(1,), key="slide-next-arrow", shortcut="Right")

# Each chart's type scale and height (pixels) for the screens the style above tells apart: 1920×1080 and larger
# (19,5px type, readable from the back of the room); 1200 to 1700 wide or under 1000 high (1280×720, 1366×768);
# narrower (1024×768). The charts take the height the rest of the screen leaves.
CHART_SIZES = {"large": (1.5, 680), "medium": (1.05, 430), "small": (0.95, 500)}
RANKING_CHART_SIZES = {"large": (1.5, 640), "medium": (1.05, 390), "small": (0.95, 470)}  # a line of notes below
NOTES_SHOWN = 3  # criteria losing points, overdue activities: the first few, then how many more
NAMES_SHOWN = 8  # departments not ranked: the first few, then how many more


def _slide_chart(column, make, name: str, sizes=CHART_SIZES) -> None:
    """`make(scale, height)` drawn once for each size of screen, in a container the style shows on that size only."""
    for size, (scale, height) in sizes.items():
        ui.chart(column.container(key=f"slide-chart-{size}-{name}"), make(scale, height), key=f"slide-{name}-{size}")


def _codes(codes: list[str], limit: int = 8) -> str:
    return ", ".join(ui.md(c) for c in codes[:limit]) + (f" và {len(codes) - limit} tiêu chí khác" if len(codes) > limit else "")


def _notes(area) -> None:
    """What the meeting needs to act on in this area: criteria not scored yet, the ones losing most points (with the
    appraisal once there is one), criteria without evidence, overdue activities and who leads them."""
    rows = [r for r in snap.criterion_rows(area.code) if not r.not_applicable]
    codes = {r.code for r in rows}
    unscored = [r.code for r in rows if r.self_points is None]
    losing = sorted((r for r in rows if r.self_points is not None and r.self_points < r.maximum),
                    key=lambda r: (r.self_points - r.maximum, r.code))
    no_evidence = [g.code for g in snap.evidence_gaps() if g.code in codes]
    lines = []
    if unscored:
        lines.append(f"- **Chưa chấm {len(unscored)}/{len(rows)} tiêu chí:** {_codes(unscored)}")
    if losing:
        lines.append(f"- **Mất nhiều điểm nhất ({len(losing)} tiêu chí chưa đạt tối đa):**")
        for row in losing[:NOTES_SHOWN]:
            appraisal = row.appraisal.text(lambda points: f"thẩm định {format_number(points)}")
            lines.append(f"    - **{ui.md(row.code)}** {ui.md(row.name)}: {format_number(row.self_points)}/{format_number(row.maximum)}"
                         + (f" · {appraisal}" if snap.appraisal_started else ""))
    if no_evidence:
        lines.append(f"- **Thiếu tài liệu kiểm chứng ({len(no_evidence)} tiêu chí):** {_codes(no_evidence)}")
    if area.overdue:
        lines.append(f"- **Hoạt động quá hạn ({len(area.overdue)}):**")
        for activity in area.overdue[:NOTES_SHOWN - 1]:
            lines.append(f"    - **{ui.md(activity.code)}** {ui.md(activity.text)} — hạn {format_date(activity.due)}, "
                         f"chủ trì {ui.md(', '.join(activity.lead))}")
        if len(area.overdue) > NOTES_SHOWN - 1:
            lines.append(f"    - …và {len(area.overdue) - NOTES_SHOWN + 1} hoạt động khác (trang Kế hoạch, lọc «Quá hạn»)")
    elif area.plan_area:
        lines.append(f"- Không có hoạt động quá hạn trong lĩnh vực {area.plan_area} của kế hoạch.")
    st.subheader("Cần chú ý")
    if lines:
        st.markdown("\n".join(lines))
    else:
        st.success("Mọi tiêu chí đã chấm, đạt tối đa và có tài liệu kiểm chứng.")


def _names(rows) -> str:
    names = [ui.md(row.name) for row in rows]
    return ", ".join(names[:NAMES_SHOWN]) + (f" và {len(names) - NAMES_SHOWN} cơ quan khác" if len(names) > NAMES_SHOWN else "")


def _ranking_screen(name: str, table: ranking.GroupRanking, ranked: list, page: int, pages: int) -> None:
    """One group's published ranking (or a part of it): how many published, the highest and lowest index, the chart."""
    published = [row for row in table.rows if row.rank is not None]
    st.title(f"Xếp hạng năm {year}: {ui.md(table.name)}" + (f" ({page + 1}/{pages})" if pages > 1 else ""))
    cols = st.columns(4)
    cols[0].metric("Đã công bố chỉ số", f"{len(published)}/{len(table.rows)} cơ quan")
    cols[1].metric("Chỉ số cao nhất", format_percent(max((r.percent for r in published), default=None), 2, fixed=True))
    cols[2].metric("Chỉ số thấp nhất", format_percent(min((r.percent for r in published), default=None), 2, fixed=True))
    cols[3].metric(f"Cơ quan có hạng năm {year - 1}", str(sum(1 for r in published if r.previous_rank is not None)))
    if ranked:
        _slide_chart(st, lambda scale, height: ranking_figure(ranked, scale=scale, height=height), name, RANKING_CHART_SIZES)
    else:
        st.info(f"Chưa có cơ quan nào của nhóm công bố Chỉ số CCHC năm {year}: chưa có gì để xếp hạng.")
    unpublished = [row for row in table.rows if row.rank is None]
    if unpublished and page == pages - 1:
        with st.container(key="slide-notes"):
            st.markdown(f"**Chưa công bố chỉ số, không xếp hạng ({len(unpublished)}):** {_names(unpublished)}")


def _change_screen(name: str, moved: list, page: int, pages: int) -> None:
    """Places gained or lost in each group since the year before, for the departments ranked both years."""
    every = [row for table in tables for row in table.rows]
    compared = [row for row in every if row.change is not None]
    st.title(f"Tăng, giảm hạng: năm {year} so với năm {year - 1}" + (f" ({page + 1}/{pages})" if pages > 1 else ""))
    cols = st.columns(4)
    cols[0].metric("Tăng hạng", f"{sum(1 for r in compared if r.change > 0)} cơ quan")
    cols[1].metric("Giữ hạng", f"{sum(1 for r in compared if r.change == 0)} cơ quan")
    cols[2].metric("Giảm hạng", f"{sum(1 for r in compared if r.change < 0)} cơ quan")
    cols[3].metric("Chưa so sánh được", f"{len(every) - len(compared)} cơ quan")
    if moved:
        _slide_chart(st, lambda scale, height: rank_change_figure(moved, year, scale=scale, height=height), name,
                     RANKING_CHART_SIZES)
    else:
        st.info(f"Chưa có cơ quan nào được xếp hạng cả năm {year} và năm {year - 1}: chưa so sánh được.")
    new = [row for row in every if row.rank is not None and row.previous_rank is None]
    if new and page == pages - 1:
        with st.container(key="slide-notes"):
            st.markdown(f"**Chưa có hạng năm {year - 1} để so sánh ({len(new)}):** {_names(new)}")


def _pick_label(pick: str) -> str:
    if pick == "summary":
        return "Tổng hợp"
    if pick in ranking_slides:
        table = ranking_slides[pick][0]
        if not ranking_shown:
            return "Xếp hạng"
        return f"Hạng: {table.name}" if table is not None else "Tăng/giảm hạng"
    return f"Lĩnh vực {pick}"


if current in ranking_slides:
    table, rows, page, pages = ranking_slides[current]
    if table is None:
        _change_screen(current, rows, page, pages)
    else:
        _ranking_screen(current, table, rows, page, pages)
elif current == "summary":
    st.title(f"Chỉ số CCHC năm {snap.year} — tổng hợp")
    if snap.rollup is None:
        st.warning("Năm này chưa có bộ tiêu chí để chấm điểm.")
    else:
        total = snap.rollup.total
        overdue = snap.overdue()
        cols = st.columns(5)
        ui.self_index_metric(cols[0], snap.rollup)
        cols[1].metric("Điểm tự chấm", f"{format_number(total.self_points or 0)}/{format_number(total.applicable_max)}")
        ui.appraised_index_metric(cols[2], snap)
        cols[3].metric("Kế hoạch hoàn thành", f"{snap.activities_done}/{snap.activities_applicable}")
        cols[4].metric("Hoạt động quá hạn", str(len(overdue)))
        left, right = st.columns(2)
        _slide_chart(left, lambda scale, height: score_by_area_figure(snap, scale=scale, height=height), "score")
        _slide_chart(right, lambda scale, height: completion_by_area_figure(snap, scale=scale, height=height), "completion")
else:
    area = next(s for s in summaries if s.code == current)
    st.title(f"{ui.md(area.code)}. {ui.md(area.name)}")
    cols = st.columns(5)
    cols[0].metric("Điểm tự chấm", f"{format_number(area.self_points or 0)}/{format_number(area.applicable_max)}")
    ui.self_index_metric(cols[1], area, label="Tỷ lệ điểm")
    ui.appraisal_metric(cols[2], "Điểm thẩm định", area.appraisal,
                        lambda points: f"{format_number(points)}/{format_number(area.applicable_max)}")
    if area.plan_area:
        cols[3].metric(ui.label(f"Kế hoạch lĩnh vực {area.plan_area} hoàn thành"), f"{area.activities_done}/{area.activities_applicable}")
        cols[4].metric("Hoạt động quá hạn", str(len(area.overdue)))
    else:
        cols[3].metric("Tiêu chí chưa chấm", str(area.unscored))
    chart, notes = st.columns([11, 9])
    _slide_chart(chart, lambda scale, height: area_criteria_figure(snap, area.code, scale=scale, height=height), f"area-{area.code}")
    with notes.container(key="slide-notes"):
        _notes(area)

if st.session_state.get("slide-pick") not in picks:  # first run, or a screen gone since (a group's second page)
    st.session_state["slide-pick"] = _pick_of(current)
st.segmented_control("Chuyển nhanh", picks, key="slide-pick", on_change=_jump, label_visibility="collapsed",
                     format_func=ui.distinct_options(picks, _pick_label, markdown=True))

ui.follow_the_data(read_at if shows_ranking else None)  # the ranking changes with any department's publication
