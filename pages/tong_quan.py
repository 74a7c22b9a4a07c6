"""Tổng quan: headline figures, completion by area and unit, score by area, deadlines."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from scoring.auth import Action
from scoring.charts import completion_by_area_figure, completion_by_unit_figure, score_by_area_figure, unit_area_heatmap
from scoring.stats import STATUS_LABELS
from scoring.textnorm import format_date, format_number, format_percent

ui.require(Action.VIEW_DASHBOARD)
snap = ui.snapshot()
st.title(f"Tổng quan CCHC năm {snap.year}")
st.caption(snap.department.name + (f" · {snap.criteria_set.name}" if snap.criteria_set else ""))

total = snap.rollup.total if snap.rollup else None
overdue = snap.overdue()
gaps = snap.evidence_gaps()
applicable_activities = [a for a in snap.activities if a.status != "khong_ap_dung"]

cols = st.columns(5)
cols[0].metric("Chỉ số tự đánh giá", format_percent(snap.rollup.index_self, 2) if snap.rollup else "—",
               help="Điểm tự chấm so với tổng điểm tối đa của các tiêu chí được đánh giá.")
cols[1].metric("Điểm tự chấm", f"{format_number(total.self_points or 0)} / {format_number(total.applicable_max)}" if total else "—")
cols[2].metric("Tiêu chí đã chấm", f"{snap.leaves_scored} / {snap.leaves_applicable}")
cols[3].metric("Hoạt động hoàn thành", f"{snap.activities_done} / {len(applicable_activities)}",
               delta=f"{len(overdue)} quá hạn" if overdue else "không có quá hạn",
               delta_color="red" if overdue else "off", delta_arrow="off")
cols[4].metric("Tiêu chí thiếu tài liệu", str(len(gaps)))

if not snap.activities:
    st.info(f"Năm {snap.year} chưa có kế hoạch: hãy nhập kế hoạch ở trang Kế hoạch.")
else:
    left, right = st.columns(2)
    left.plotly_chart(completion_by_area_figure(snap, height=380), key="chart-area")
    right.plotly_chart(score_by_area_figure(snap, height=380), key="chart-score")
    left, right = st.columns(2)
    left.plotly_chart(completion_by_unit_figure(snap, height=360), key="chart-unit")
    right.plotly_chart(unit_area_heatmap(snap, height=360), key="chart-heatmap")

    late, soon = st.columns(2)
    with late:
        st.subheader(f"Quá hạn ({len(overdue)})")
        by_code = {a.code: a for a in snap.activities}
        if overdue:
            st.dataframe(pd.DataFrame([
                {"Mã": s.id, "Hoạt động": by_code[s.id].text, "Chủ trì": ", ".join(s.lead), "Hạn": format_date(s.due),
                 "Trạng thái": STATUS_LABELS[s.status]}
                for s in overdue
            ]), hide_index=True)
        else:
            st.success("Không có hoạt động nào quá hạn.")
    with soon:
        upcoming = snap.upcoming(30)
        st.subheader(f"Đến hạn trong 30 ngày ({len(upcoming)})")
        if upcoming:
            st.dataframe(pd.DataFrame([
                {"Mã": s.id, "Hoạt động": by_code[s.id].text, "Chủ trì": ", ".join(s.lead), "Hạn": format_date(s.due)}
                for s in upcoming
            ]), hide_index=True)
        else:
            st.caption("Không có hoạt động nào đến hạn trong 30 ngày tới.")
