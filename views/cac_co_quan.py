"""Các cơ quan: every department's year at a glance, for the Department of Home Affairs and the administrator."""

from __future__ import annotations

from urllib.parse import urlencode

import pandas as pd
import streamlit as st

import ui
from scoring import province
from scoring.awaiting import awaiting_appraisal
from scoring.auth import Action
from scoring.textnorm import format_datetime

ui.require(Action.VIEW_PROVINCE)
_, year = ui.context()
rows = province.province_progress(ui.database(), year, viewer=ui.principal())
st.title(f"Các cơ quan — năm {year}")
if not rows:
    st.info("Tài khoản này chưa được giao cơ quan nào.")
    st.stop()
ui.what_awaits_me(awaiting_appraisal(rows, ui.principal()))

locked = sum(1 for r in rows if r.locked_at is not None)
awaiting = sum(1 for r in rows if r.explanations_awaited)
overdue = sum(1 for r in rows if r.deadline is not None and r.deadline.days_left < 0 and r.stage == province.STAGE_SELF_SCORING)
cols = st.columns(4)
cols[0].metric("Số cơ quan", str(len(rows)))
cols[1].metric("Đã chốt tự chấm", f"{locked} / {len(rows)}")
cols[2].metric("Cơ quan còn phải giải trình", str(awaiting))
cols[3].metric("Quá hạn tự chấm", str(overdue), delta="chưa chốt sau hạn" if overdue else None, delta_color="red", delta_arrow="off")


def _scoring_page(department_id: int) -> str:
    """The department's scoring page, opened on its year (ui.sidebar_context reads these parameters)."""
    return "/cham-diem?" + urlencode({ui.DEPARTMENT_PARAM: department_id, ui.YEAR_PARAM: year})


table = pd.DataFrame([{
    "Cơ quan": row.name,
    "Giai đoạn": row.stage,
    "Đã chấm": f"{row.scored}/{row.applicable}" if row.applicable else "—",
    "Chốt lúc": format_datetime(row.locked_at) if row.locked_at else "—",
    "Chờ giải trình": row.explanations_awaited,
    "Hạn": row.deadline.day if row.deadline else None,
    "Còn (ngày)": row.deadline.days_left if row.deadline else None,
    "Chỉ số tự đánh giá": row.self_index.text(brief=True) if row.self_index else "— (chưa chốt)",
    "Chấm điểm": _scoring_page(row.department_id),
} for row in rows])
st.caption("Bấm vào tên cột để sắp xếp. «Hạn» là ngày kết thúc giai đoạn đang diễn ra (khi đã chốt và chờ thẩm định: ngày "
           "bắt đầu thẩm định); «Còn (ngày)» âm là đã quá hạn. Chỉ số tự đánh giá của một cơ quan chỉ hiện cho Sở Nội vụ "
           "sau khi cơ quan đó chốt điểm tự chấm.")
st.dataframe(table, hide_index=True, width="stretch", height=min(38 + 35 * len(rows), 720), column_config={
    "Cơ quan": st.column_config.TextColumn(width="medium"),
    "Chờ giải trình": st.column_config.NumberColumn(format="%d", help="Tiêu chí Sở Nội vụ yêu cầu giải trình mà cơ quan chưa giải trình"),
    "Hạn": st.column_config.DateColumn(format="DD/MM/YYYY"),
    "Còn (ngày)": st.column_config.NumberColumn(format="%d"),
    "Chấm điểm": st.column_config.LinkColumn(display_text="Mở", width="small"),
})
