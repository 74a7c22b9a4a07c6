"""Tổng quan: headline figures, completion by area and unit, score by area, deadlines."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from scoring.access.auth import Action
from scoring.charts import (
    completion_by_area_figure,
    completion_by_unit_figure,
    score_by_area_figure,
    unit_area_heatmap,
    year_comparison_figure,
)
from scoring.charts_html import bar_figure_html
from scoring.plan.stats import STATUS_LABELS
from scoring.textnorm import format_date, format_number, format_percent

UNITS_OPEN = "tq-units-open"

ui.require(Action.VIEW_DASHBOARD)
snap = ui.snapshot(with_previous_year=True)  # the year-over-year comparison is shown here
st.title(f"Tổng quan CCHC năm {snap.year}")
st.caption(ui.md(snap.department.name) + (f" · {ui.md(snap.criteria_set.name)}" if snap.criteria_set else ""))
ui.what_awaits_me(ui.department_awaiting(snap))

total = snap.rollup.total if snap.rollup else None
overdue = snap.overdue()
gaps = snap.evidence_gaps()
show_appraisal = snap.rollup is not None and (snap.locked or snap.appraisal_started)

cols = st.columns(6 if show_appraisal else 5)
if snap.rollup:
    ui.self_index_metric(cols[0], snap.rollup)
else:
    cols[0].metric("Chỉ số tự đánh giá", "—")
cols[1].metric("Điểm tự chấm", f"{format_number(total.self_points or 0)} / {format_number(total.applicable_max)}" if total else "—")
cols[2].metric("Tiêu chí đã chấm", f"{snap.leaves_scored} / {snap.leaves_applicable}")
cols[3].metric("Hoạt động hoàn thành", f"{snap.activities_done} / {snap.activities_applicable}",
               delta=f"{len(overdue)} quá hạn" if overdue else "không có quá hạn",
               delta_color="red" if overdue else "off", delta_arrow="off")
cols[4].metric("Tiêu chí thiếu tài liệu", str(len(gaps)))
if show_appraisal:
    ui.appraised_index_metric(cols[5], snap)

breakdown = snap.final_index(use_appraised=snap.locked and snap.rollup is not None and snap.rollup.index_appraised is not None)
if breakdown is not None:
    if breakdown.percent is None:
        headline = "chưa tính được (còn thiếu điểm)"
    else:
        headline = format_percent(breakdown.percent, 2) + (f", xếp loại {breakdown.band.label}" if breakdown.band else "")
    with st.expander(ui.label(f"Chỉ số theo cách tỉnh công bố (điểm {breakdown.basis}): {headline} — xem từng bước")):
        ui.dataframe(pd.DataFrame([{"Bước": step.label, "Giá trị": step.display, "Ghi chú": step.note} for step in breakdown.steps]),
                     hide_index=True, column_config={"Ghi chú": st.column_config.TextColumn(width="large")})
        for problem in breakdown.problems:
            st.caption(ui.md(problem))

losses = snap.points_cut_by_area()
if losses:
    st.subheader("Điểm bị trừ khi thẩm định, theo lĩnh vực")
    ui.dataframe(pd.DataFrame([
        {"Lĩnh vực": f"{loss.code}. {loss.name}", "Tự chấm": format_number(loss.self_points or 0),
         "Thẩm định": format_number(loss.appraised_points), "Bị trừ": format_number(loss.lost)}
        for loss in losses
    ]), hide_index=True)

all_comparison = snap.compare_with_previous_year()
comparison = [row for row in all_comparison if row.level <= 1]
if comparison:
    before, now = snap.comparison_labels()
    st.subheader(f"So sánh với năm {snap.year - 1}")
    if snap.comparison_basis():  # the sets differ: by the confirmed criteria mapping, or by code (and says so)
        (st.caption if snap.criteria_mapping else st.warning)(ui.md(snap.comparison_basis()))
    left, right = st.columns([3, 2])
    left.html(bar_figure_html(year_comparison_figure(snap)))
    ui.dataframe(container=right, data=pd.DataFrame([
        {"Lĩnh vực": row.name if row.code else "Toàn bộ", before: format_percent(row.previous_pct, 1), now: format_percent(row.current_pct, 1),
         "Thay đổi": (format_number(row.delta_pct, 1) + " điểm %") if row.delta_pct is not None else "—", "": row.status}
        for row in comparison
    ]), hide_index=True)
    with st.expander("So sánh từng tiêu chí"):
        ui.dataframe(pd.DataFrame([
            {"Mã": row.code, "Tiêu chí": row.name, before: format_percent(row.previous_pct, 1), now: format_percent(row.current_pct, 1),
             "Thay đổi": (format_number(row.delta_pct, 1) + " điểm %") if row.delta_pct is not None else "—", "": row.status,
             **({"Ghi chú": row.note} if snap.criteria_mapping else {})}
            for row in all_comparison if row.level == 2
        ]), hide_index=True, column_config={"Tiêu chí": st.column_config.TextColumn(width="large")})

if not snap.activities:
    st.info(f"Năm {snap.year} chưa có kế hoạch: hãy nhập kế hoạch ở trang Kế hoạch.")
else:
    # The charts by area as HTML (scoring.charts_html): as plotly charts they cost the browser about 200 ms each, as
    # much as all the rest of this page. The two by unit stay plotly (a heat map), drawn only while their expander is open.
    left, right = st.columns(2)
    left.html(bar_figure_html(completion_by_area_figure(snap)))
    right.html(bar_figure_html(score_by_area_figure(snap)))
    by_unit = st.expander("Tiến độ theo đơn vị chủ trì: số hoạt động, tỷ lệ hoàn thành theo lĩnh vực", key=UNITS_OPEN,
                          on_change="rerun", icon=":material/groups:")
    if by_unit.open:
        left, right = by_unit.columns(2)
        ui.chart(left, completion_by_unit_figure(snap, height=360), key="chart-unit")
        ui.chart(right, unit_area_heatmap(snap, height=360), key="chart-heatmap")

    late, soon = st.columns(2)
    with late:
        st.subheader(f"Quá hạn ({len(overdue)})")
        by_code = {a.code: a for a in snap.activities}
        if overdue:
            ui.dataframe(pd.DataFrame([
                {"Mã": s.id, "Hạn": format_date(s.due), "Trạng thái": STATUS_LABELS[s.status], "Chủ trì": ", ".join(s.lead),
                 "Hoạt động": by_code[s.id].text}
                for s in overdue
            ]), hide_index=True)  # deadline first: the activity's long text would push it out of sight at 1366×768
        else:
            st.success("Không có hoạt động nào quá hạn.")
    with soon:
        upcoming = snap.upcoming(30)
        st.subheader(f"Đến hạn trong 30 ngày ({len(upcoming)})")
        if upcoming:
            ui.dataframe(pd.DataFrame([
                {"Mã": s.id, "Hạn": format_date(s.due), "Chủ trì": ", ".join(s.lead), "Hoạt động": by_code[s.id].text}
                for s in upcoming
            ]), hide_index=True)
        else:
            st.caption("Không có hoạt động nào đến hạn trong 30 ngày tới.")

ui.follow_the_data()
