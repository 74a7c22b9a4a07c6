"""Trình chiếu: leadership meetings on a projector — a summary screen, then one screen per reform area.

Large type readable from the back of a room at 1920×1080, high contrast, no sidebar, and big
previous/next buttons; a presenter's clicker (PageDown/PageUp) and the arrow keys move between screens,
Esc leaves. The screen follows the room: a score saved on a laptop shows here within a few seconds.
"""

from __future__ import annotations

import streamlit as st

import ui
from scoring.auth import Action
from scoring.charts import area_criteria_figure, completion_by_area_figure, score_by_area_figure
from scoring.textnorm import format_date, format_number

# Static style only (no user data): hide the sidebar and scale the whole page up for the projector.
st.html(
    """
    <style>
      /* 24px on a 1920-wide projector, scaled down with the screen (15px at 1024) so nothing is cut off */
      html { font-size: clamp(15px, 1.25vw, 24px); }
      [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"] { display: none; }
      .block-container { padding-top: 1rem; max-width: 100%; }
      [data-testid="stMetricValue"] { font-size: 2.6rem; font-weight: 700; }
      [data-testid="stMetricLabel"] p { font-size: 1.1rem; white-space: normal; }
      [data-testid="stMetricLabel"] div { overflow: visible; text-overflow: clip; white-space: normal; }
      .stButton button { font-size: 1.2rem; padding: 0.6rem 1rem; white-space: nowrap; }
      /* the arrow keys' twins of the buttons: they only listen for their key */
      .st-key-slide-arrow-keys { display: none; }
    </style>
    """
)

ui.require(Action.USE_PROJECTOR)
snap = ui.snapshot()
summaries = snap.area_summaries()
slides = ["summary"] + [s.code for s in summaries]
position = min(st.session_state.get("slide", 0), len(slides) - 1)


def _go(step: int) -> None:
    st.session_state["slide"] = (position + step) % len(slides)
    st.session_state["slide-pick"] = slides[st.session_state["slide"]]


def _jump() -> None:
    picked = st.session_state.get("slide-pick")
    if picked in slides:  # clicking the selected segment again clears it: stay where we are
        st.session_state["slide"] = slides.index(picked)


nav_prev, nav_title, nav_next, nav_leave = st.columns([1.6, 4, 1.6, 1.3], vertical_alignment="center")
nav_prev.button("◀ Trước", on_click=_go, args=(-1,), key="slide-prev", shortcut="PageUp", use_container_width=True)
nav_next.button("Tiếp ▶", on_click=_go, args=(1,), key="slide-next", shortcut="PageDown", use_container_width=True)
if nav_leave.button("Thoát", key="slide-leave", shortcut="Esc", use_container_width=True,
                    help="Rời màn hình trình chiếu, về trang Tổng quan"):
    st.switch_page("views/tong_quan.py")
nav_title.caption(f"{ui.md(snap.department.name)} · Chỉ số CCHC năm {snap.year} · màn hình {position + 1}/{len(slides)}")
with st.container(key="slide-arrow-keys"):
    st.button("◀", on_click=_go, args=(-1,), key="slide-prev-arrow", shortcut="Left")
    st.button("▶", on_click=_go, args=(1,), key="slide-next-arrow", shortcut="Right")

current = slides[position]
if current == "summary":
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
        ui.chart(left, score_by_area_figure(snap, scale=1.5, height=560), key="slide-score")
        ui.chart(right, completion_by_area_figure(snap, scale=1.5, height=560), key="slide-completion")
else:
    area = next(s for s in summaries if s.code == current)
    st.title(f"{ui.md(area.code)}. {ui.md(area.name)}")
    cols = st.columns(5)
    cols[0].metric("Điểm tự chấm", f"{format_number(area.self_points or 0)}/{format_number(area.applicable_max)}")
    ui.self_index_metric(cols[1], area, label="Tỷ lệ điểm")
    ui.appraisal_metric(cols[2], "Điểm thẩm định", area.appraisal,
                        lambda points: f"{format_number(points)}/{format_number(area.applicable_max)}")
    if area.plan_area:
        cols[3].metric(ui.label(f"Hoạt động lĩnh vực {area.plan_area} hoàn thành"), f"{area.activities_done}/{area.activities_applicable}")
        cols[4].metric("Quá hạn", str(len(area.overdue)))
    else:
        cols[3].metric("Tiêu chí chưa chấm", str(area.unscored))
    chart, notes = st.columns([3, 2])
    ui.chart(chart, area_criteria_figure(snap, area.code, scale=1.4, height=520), key=f"slide-area-{area.code}")
    with notes:
        if area.overdue:
            st.subheader("Hoạt động quá hạn")
            for activity in area.overdue:
                st.markdown(f"- **{ui.md(activity.code)}** {ui.md(activity.text)} — hạn {format_date(activity.due)}, chủ trì {ui.md(', '.join(activity.lead))}")
        elif area.plan_area:
            st.success("Không có hoạt động quá hạn trong lĩnh vực này.")
        if area.unscored:
            st.info(f"Còn {area.unscored} tiêu chí chưa chấm điểm.")

st.session_state.setdefault("slide-pick", slides[position])
st.segmented_control("Chuyển nhanh", slides, key="slide-pick", on_change=_jump,
                     format_func=ui.distinct_options(slides, lambda s: "Tổng hợp" if s == "summary" else f"Lĩnh vực {s}", markdown=True))

ui.follow_the_data()
