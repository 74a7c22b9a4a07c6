"""Các cơ quan: every department's year at a glance, the published ranking, and the province's groups of
departments — for the Department of Home Affairs and the administrator."""

from __future__ import annotations

import io
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

import ui
from scoring.access.auth import Action
from scoring.assessment import stages
from scoring.assessment.awaiting import awaiting_appraisal
from scoring.exports.commands import ranking_file_name, write_ranking
from scoring.exports.ranking_report import HOME_AFFAIRS, ISSUERS
from scoring.province import groups, progress, ranking
from scoring.store import criteria_store, department_store
from scoring.textnorm import format_datetime, format_number, format_percent, vn_sort_key

ui.require(Action.VIEW_PROVINCE)
db = ui.database()
_, year = ui.context()
rows = progress.province_progress(db, year, viewer=ui.principal())
st.title(f"Các cơ quan — năm {year}")
if not rows:
    st.info("Tài khoản này chưa được giao cơ quan nào.")
    st.stop()
ui.what_awaits_me(awaiting_appraisal(rows, ui.principal()))

manages_groups = ui.can(Action.CREATE_DEPARTMENT)
labels = ["Tiến độ", "Xếp hạng"] + (["Nhóm cơ quan"] if manages_groups else [])
tabs = dict(zip(labels, st.tabs(labels, key="province-tab", on_change="rerun")))


def _scoring_page(department_id: int) -> str:
    """The department's scoring page, opened on its year (ui.sidebar_context reads these parameters)."""
    return "/cham-diem?" + urlencode({ui.DEPARTMENT_PARAM: department_id, ui.YEAR_PARAM: year})


def _progress_tab() -> None:
    """Every department's year, one row each."""
    locked = sum(1 for r in rows if r.locked_at is not None)
    awaiting = sum(1 for r in rows if r.explanations_awaited)
    overdue = sum(1 for r in rows if r.deadline is not None and r.deadline.days_left < 0 and r.stage == stages.STAGE_SELF_SCORING)
    cols = st.columns(4)
    cols[0].metric("Số cơ quan", str(len(rows)))
    cols[1].metric("Đã chốt tự chấm", f"{locked} / {len(rows)}")
    cols[2].metric("Cơ quan còn phải giải trình", str(awaiting))
    cols[3].metric("Quá hạn tự chấm", str(overdue), delta="chưa chốt sau hạn" if overdue else None, delta_color="red",
                   delta_arrow="off")
    table = pd.DataFrame([{
        "Cơ quan": row.name,
        "Nhóm": row.group or groups.NO_GROUP,
        "Giai đoạn": row.stage,
        "Đã chấm": f"{row.scored}/{row.applicable}" if row.applicable else "—",
        "Chốt lúc": format_datetime(row.locked_at) if row.locked_at else "—",
        "Chờ giải trình": row.explanations_awaited,
        "Hạn": row.deadline.day if row.deadline else None,
        "Còn (ngày)": row.deadline.days_left if row.deadline else None,
        "Chỉ số tự đánh giá": row.self_index.text(brief=True) if row.self_index else "— (chưa chốt)",
        "Chấm điểm": _scoring_page(row.department_id),
    } for row in rows])
    st.caption("Bấm vào tên cột để sắp xếp. «Hạn» là ngày kết thúc giai đoạn đang diễn ra (khi đã chốt và chờ thẩm định: "
               "ngày bắt đầu thẩm định); «Còn (ngày)» âm là đã quá hạn. Chỉ số tự đánh giá của một cơ quan chỉ hiện cho "
               "Sở Nội vụ sau khi cơ quan đó chốt điểm tự chấm.")
    ui.dataframe(table, hide_index=True, width="stretch", height=min(38 + 35 * len(rows), 720), key="province-progress",
                 column_config={
                     "Cơ quan": st.column_config.TextColumn(width="medium"),
                     "Chờ giải trình": st.column_config.NumberColumn(
                         format="%d", help="Tiêu chí Sở Nội vụ yêu cầu giải trình mà cơ quan chưa giải trình"),
                     "Hạn": st.column_config.DateColumn(format="DD/MM/YYYY"),
                     "Còn (ngày)": st.column_config.NumberColumn(format="%d"),
                     "Chấm điểm": st.column_config.LinkColumn(display_text="Mở", width="small"),
                 })


def _ranking_tab() -> None:
    """The published ranking of each group, its Excel and Word files made at the click."""
    st.caption(f"Chỉ số đã công bố năm {year}, xếp hạng trong từng nhóm; cơ quan bằng điểm cùng hạng. Cơ quan chưa công bố "
               "chỉ số đứng cuối, không xếp hạng.")
    tables = ranking.ranking(db, year, viewer=ui.principal())

    def _ranking_file(file_format: str, issuer: str = HOME_AFFAIRS, viewer=ui.principal()) -> bytes:
        """Made when clicked (on Streamlit's own thread: everything it needs is passed in), from a fresh read."""
        buffer = io.BytesIO()
        write_ranking(db, year, file_format, buffer, viewer=viewer, issuer=issuer)
        return buffer.getvalue()

    with st.container(horizontal=True, vertical_alignment="bottom"):
        issuer = st.selectbox("Cơ quan ban hành văn bản Word", list(ISSUERS), format_func=ISSUERS.get, key="ranking-issuer",
                              placeholder=ui.CHOOSE_ONE,
                              help="Tiêu đề văn bản lấy cơ quan chủ quản và địa danh chung của các cơ quan (trang Cấu hình → "
                                   "Cơ quan và đơn vị); chưa đặt hoặc các cơ quan đặt khác nhau thì để trống «……………» "
                                   "để ghi tay.") or HOME_AFFAIRS
        failures = [
            ui.download_button("Tải bảng xếp hạng (Excel)", lambda: _ranking_file("xlsx"), what="bảng xếp hạng",
                               file_name=ranking_file_name(year, "xlsx"), mime=ui.XLSX_MIME, key="ranking-download"),
            ui.download_button("Tải văn bản xếp hạng (Word)", lambda issuer=issuer: _ranking_file("docx", issuer),
                               what="văn bản xếp hạng", file_name=ranking_file_name(year, "docx"), mime=ui.DOCX_MIME,
                               key="ranking-download-docx"),
        ]
    for failure in filter(None, failures):
        st.error(ui.md(failure))
    # One group's ranking drawn at a time: the groups' tabs rerun the page, as the page's own tabs do. Every group's
    # table laid out behind the one on screen was most of the browser's work at each visit of this tab.
    shown = st.tabs([ui.label(t.name) for t in tables], key="ranking-group", on_change="rerun") if len(tables) > 1 else None
    for position, table in enumerate(tables):
        if shown is None:
            _group_ranking(table)
        elif shown[position].open is not False:
            with shown[position]:
                _group_ranking(table)


def _group_ranking(table: ranking.GroupRanking) -> None:
    """One group's ranking: by the whole index beside the year before, by area, and (opened) by criterion."""
    st.subheader(ui.md(table.name))
    area_ranks = {code: table.area_ranks(code) for code, _ in table.areas}
    records = []
    for row in table.rows:
        record = {
            "Hạng": row.rank,
            "Cơ quan": row.name,
            f"Chỉ số {year}": format_percent(row.percent, 2, fixed=True),  # as published, "84,50%"; "—" if not
            "Xếp loại": row.band,
            f"Hạng {year - 1}": row.previous_rank,
            f"Chỉ số {year - 1}": format_percent(row.previous_percent, 2, fixed=True),
            "Tăng/giảm hạng": row.change,
        }
        for code, _ in table.areas:
            points = row.areas.get(code)
            rank = area_ranks[code].get(row.department_id)
            record[f"Lĩnh vực {code}"] = f"{format_number(points)} (hạng {rank})" if points is not None else "—"
        records.append(record)
    ui.dataframe(pd.DataFrame(records), hide_index=True, width="stretch", key=f"ranking-{table.name}", column_config={
        "Hạng": st.column_config.NumberColumn(format="%d", width="small"),
        f"Hạng {year - 1}": st.column_config.NumberColumn(format="%d", width="small"),
        "Tăng/giảm hạng": st.column_config.NumberColumn(format="%+d", help="Số bậc tăng (+) hoặc giảm (−) so với năm trước"),
        **{f"Lĩnh vực {code}": st.column_config.TextColumn(help=ui.label(name)) for code, name in table.areas},
    })
    if table.criteria:
        # drawn once opened (the expander reruns the page): closed, the picker and the criterion's table were
        # computed, sent and laid out behind it at every visit of the tab
        by_criterion = st.expander(f"Xếp hạng theo tiêu chí — {ui.label(table.name)}", on_change="rerun",
                                   key=f"ranking-criteria-{table.name}")
        if by_criterion.open:
            with by_criterion:
                _criterion_ranking(table)


def _criterion_ranking(table: ranking.GroupRanking) -> None:
    """One group's departments ranked by the appraised points of the criterion chosen."""
    names = dict(table.criteria)
    code = st.selectbox("Tiêu chí", list(names), format_func=lambda c: ui.label(f"{c}. {names[c]}"),
                        placeholder=ui.CHOOSE_ONE, key=f"ranking-criterion-{table.name}")
    ranks = table.criterion_ranks(code) if code else {}
    ranked = sorted((row for row in table.rows if row.department_id in ranks),
                    key=lambda row: (ranks[row.department_id], vn_sort_key(row.name)))
    ui.dataframe(pd.DataFrame([{
        "Hạng": ranks[row.department_id], "Cơ quan": row.name,
        "Điểm thẩm định": format_number(row.criteria[code][0]),
        "Điểm tối đa": format_number(row.criteria[code][1]),
    } for row in ranked], columns=["Hạng", "Cơ quan", "Điểm thẩm định", "Điểm tối đa"]), hide_index=True,
        width="stretch", key=f"ranking-criterion-table-{table.name}",
        column_config={"Hạng": st.column_config.NumberColumn(format="%d", width="small")})
    if code and len(ranked) < sum(1 for row in table.rows if row.rank is not None):
        st.caption("Cơ quan không đánh giá tiêu chí này không được xếp hạng theo nó.")



def _add_group() -> None:
    name = st.session_state.get("group-new", "")
    if ui.attempt(lambda: groups.create_group(db, name, actor=ui.actor()), success=f"Đã thêm nhóm «{name.strip()}».",
                  place="groups") is not None:
        st.session_state["group-new"] = ""


def _add_department(by_name: dict[str, int]) -> None:
    """A new department (sở, ban, ngành) with its units and its group: it goes to the administrator who adds it."""
    name = st.session_state.get("department-new", "")
    units = [line for line in st.session_state.get("department-new-units", "").splitlines() if line.strip()]
    group = st.session_state.get("department-new-group")

    def add() -> int:
        department_id = department_store.create_department(db, name, units, actor=ui.actor())
        if group in by_name:
            version = next(d.version for d in department_store.list_departments(db) if d.id == department_id)
            groups.assign_group(db, department_id, version, by_name[group], actor=ui.actor())
        return department_id

    if ui.attempt(add, success=f"Đã thêm cơ quan «{name.strip()}»" + (f" vào nhóm «{group}»." if group in by_name else "."),
                  place="groups") is not None:
        for key in ("department-new", "department-new-units"):
            st.session_state[key] = ""


def _save_membership(seen: dict[int, int], names: dict[str, int | None]) -> None:
    """The groups chosen in the table, each department expecting the version the table showed."""
    changed = st.session_state.get("group-members", {}).get("edited_rows", {})
    saved = 0
    for index, change in changed.items():
        department_id = list(seen)[int(index)]
        if "Nhóm" in change and ui.attempt(lambda: groups.assign_group(db, department_id, seen[department_id],
                                                                        names[change["Nhóm"]], actor=ui.actor()),
                                           place="groups") is not None:
            saved += 1
    if saved:
        ui.flash("success", f"Đã lưu nhóm của {saved} cơ quan.", "groups")


def _set_criteria(by_name: dict[str, int]) -> None:
    group, set_id = st.session_state.get("group-set-group"), st.session_state.get("group-set-criteria")
    chosen_year = int(st.session_state.get("group-set-year") or year)
    if group is None or set_id is None:
        ui.flash("error", "Hãy chọn nhóm và bộ tiêu chí.", "groups")
        return
    ui.attempt(lambda: groups.set_group_criteria_set(db, by_name[group], chosen_year, set_id, actor=ui.actor()),
               success=f"Nhóm «{group}» chấm theo bộ tiêu chí này từ năm {chosen_year} (năm mở sau đó).", place="groups")


def _groups_tab() -> None:
    """The administrator's groups: add one, add a department, who is in which, a group's criteria set per year."""
    ui.show_flashes("groups")
    existing = groups.list_groups(db)
    by_name = {g.name: g.id for g in existing}
    st.caption("Tỉnh xếp hạng các cơ quan trong từng nhóm (sở; ban, ngành…). Mỗi nhóm có thể có bộ tiêu chí riêng cho "
               "từng năm: năm đánh giá mở sau đó của các cơ quan trong nhóm dùng bộ tiêu chí này.")
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.text_input("Tên nhóm mới", key="group-new", max_chars=200)
        st.button("Thêm nhóm", key="group-add", on_click=_add_group)
    with st.expander("Thêm cơ quan"):
        st.text_input("Tên cơ quan", key="department-new", max_chars=200, placeholder="Ví dụ: Sở Xây dựng")
        st.text_area("Các đơn vị (mỗi dòng một đơn vị)", key="department-new-units", height=110,
                     placeholder="Văn phòng\nPhòng Quy hoạch")
        st.selectbox("Nhóm", list(by_name), index=None, key="department-new-group", placeholder="Chưa xếp nhóm")
        st.button("Thêm cơ quan", key="department-add", on_click=_add_department, args=(by_name,))
    departments = {d.id: d for d in ui.departments()}
    seen = {row.department_id: departments[row.department_id].version for row in rows if row.department_id in departments}
    choices = [groups.NO_GROUP, *by_name]
    st.data_editor(pd.DataFrame([{"Cơ quan": departments[d].name, "Nhóm": next((r.group for r in rows if r.department_id == d), "")
                                  or groups.NO_GROUP} for d in seen]),
                   hide_index=True, width="stretch", key="group-members", disabled=["Cơ quan"], placeholder=ui.EMPTY_CELL,
                   column_config={"Nhóm": st.column_config.SelectboxColumn(options=choices, required=True)})
    st.button("Lưu nhóm của các cơ quan", key="group-members-save", on_click=_save_membership,
              args=(seen, {groups.NO_GROUP: None, **by_name}))
    if existing:
        sets = {s.id: s.name for s in criteria_store.list_criteria_sets(db)}
        with st.container(horizontal=True, vertical_alignment="bottom"):
            st.selectbox("Nhóm", list(by_name), key="group-set-group", placeholder=ui.CHOOSE_ONE)
            st.number_input("Năm", min_value=2000, max_value=2100, value=year + 1, step=1, key="group-set-year")
            st.selectbox("Bộ tiêu chí", list(sets), key="group-set-criteria", format_func=ui.distinct_options(list(sets), sets.get),
                         placeholder=ui.CHOOSE_ONE)
            st.button("Dùng bộ tiêu chí này", key="group-set-save", on_click=_set_criteria, args=(by_name,))
        for group in existing:
            if group.criteria_sets:
                st.caption(ui.md(group.name) + ": " + "; ".join(f"năm {y}: {ui.md(sets.get(s, '?'))}"
                                                                  for y, s in sorted(group.criteria_sets.items())))


# Only the tab on screen is drawn (the tabs rerun the page when another is chosen): a tab's tables would otherwise be
# computed, sent and drawn by the browser behind the one shown — four ranking tables behind the progress.
for label, draw in (("Tiến độ", _progress_tab), ("Xếp hạng", _ranking_tab), ("Nhóm cơ quan", _groups_tab)):
    if label in tabs and tabs[label].open is not False:
        with tabs[label]:
            draw()
