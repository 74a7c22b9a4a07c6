"""Cấu hình → Bộ tiêu chí: a province's set read from a file, shown as a tree the Office corrects before saving it.

The file is read by the core (criteria.load_criteria_set_bytes) into a draft (scoring.criteria.draft) kept in the
session, one per department and year: it survives reruns and visits to other pages, not a sign-out (which clears
the session).
Every cell edited in the tables is taken into the draft at the start of the next run, before anything is drawn;
the core then builds and checks the whole set again, and each problem is said on its row and in the list below.
What was typed stays, right or wrong, until it is corrected, the draft is cancelled or saved.
"""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

import ui
from scoring.access.auth import Action
from scoring.criteria import draft as cd
from scoring.criteria.files import CRITERIA_EXTENSIONS, MAX_CRITERIA_BYTES, load_criteria_set_bytes
from scoring.errors import InputError
from scoring.store import assessment_store, criteria_store
from scoring.store.uploads import extensions_text, safe_display_name, upload_rule

ALL_AREAS = "*"
COLUMN_CODE, COLUMN_LEVEL, COLUMN_UNDERSTOOD, COLUMN_CHECK = "Mã", "Cấp", "Cách hiểu", "Kiểm tra"
EDITED_COLUMNS = frozenset(cd.EDITABLE_FIELDS)  # the table's editable columns are named as the draft's fields
ERROR_STYLE = "background-color: #fde2e1; color: #7a1712"
FALLBACK_STYLE = "background-color: #fff3c4; color: #5c4400"


def draft_state_key(department_id: int, year: int) -> str:
    """Where the session keeps the draft of this department's year: (the uploaded file's id, the draft)."""
    return f"_criteria_draft-{department_id}-{year}"


def import_panel(db, *, department_id: int, year: int, snap, activity_ids: set[str] | None, assessment_seen: int | None,
                 may_configure: bool, form_name: str, forms_to_redraw: tuple[str, ...]) -> None:
    """The import section of the tab: the uploader, then the draft of the last file read, until saved or cancelled.

    `form_name`: the page's editor (ui.editor_key) of the year's choice of set, whose widgets these are: while they
    are drawn, `assessment_seen` stays the version the page showed when they were made, so a save of the draft after
    someone else changed the year's set is told, not overwritten; a cancel draws them afresh. `forms_to_redraw`: the
    page's forms of the year's assessment, whose version a save moves."""
    st.subheader("Nhập bộ tiêu chí của tỉnh")
    st.caption("Phụ lục tiêu chí như tỉnh ban hành: bảng trong tệp Word hoặc PDF (có lớp chữ), hoặc tệp Excel cùng mẫu "
               "(STT / Tên tiêu chí / Điểm tối đa, các dòng mức điểm dưới từng tiêu chí), hoặc tệp YAML/JSON. "
               "Bộ tiêu chí hiện ra để xem và sửa trước khi lưu.")
    editor = ui.editor_key(form_name)
    # no `type=`: the core refuses other files in Vietnamese (see views/tai_lieu.py)
    upload = st.file_uploader("Chọn tệp bộ tiêu chí", key=f"{editor}-upload", disabled=not may_configure)
    st.caption(upload_rule(MAX_CRITERIA_BYTES, f"bộ tiêu chí dạng {extensions_text(CRITERIA_EXTENSIONS)}"))
    state_key = draft_state_key(department_id, year)
    held = st.session_state.get(state_key)
    if upload is not None and may_configure and (held is None or held[0] != upload.file_id):
        try:
            with st.spinner("Đang đọc bộ tiêu chí…"):
                candidate = load_criteria_set_bytes(upload.name, upload.getvalue())
        except InputError as err:
            st.error(ui.md(str(err)))
        else:
            held = (upload.file_id, cd.start_draft(candidate, safe_display_name(upload.name)))
            st.session_state[state_key] = held
    if held is None:
        return
    _draft_panel(db, held[1], editor=editor, state_key=state_key, department_id=department_id, year=year, snap=snap,
                 activity_ids=activity_ids, assessment_seen=assessment_seen, form_name=form_name,
                 forms_to_redraw=forms_to_redraw)


def _take_edits(draft: cd.CriteriaDraft, state_key: str) -> None:
    """The cells edited in the table drawn last run, into the draft (by the codes of the rows it drew). The table
    keeps its edits until it is drawn with other rows, so the same edit may come again: taking it twice is the same."""
    drawn = st.session_state.get(f"{state_key}-drawn")
    if not drawn:
        return
    widget_key, codes = drawn
    edited = (st.session_state.get(widget_key) or {}).get("edited_rows") or {}
    for position, changes in edited.items():
        if int(position) >= len(codes):
            continue
        for column, value in changes.items():
            if column in EDITED_COLUMNS:
                cd.edit(draft, codes[int(position)], column, "" if value is None else str(value))


def _draft_panel(db, draft: cd.CriteriaDraft, *, editor: str, state_key: str, department_id: int, year: int, snap,
                 activity_ids, assessment_seen, form_name, forms_to_redraw) -> None:
    _take_edits(draft, state_key)
    for field_name, widget_key in ((cd.FIELD_SET_NAME, f"{editor}-set-name"), (cd.FIELD_TOTAL, f"{editor}-total")):
        if widget_key in st.session_state:  # the set's own fields, as typed last run
            cd.edit(draft, cd.WHOLE_SET, field_name, st.session_state[widget_key])
    rows = cd.draft_rows(draft)
    result = cd.build_draft(draft, activity_ids)
    leaves = [r for r in rows if r.is_leaf]
    fallbacks = [r for r in leaves if r.fallback]
    errors = result.errors
    with st.container(border=True):
        st.markdown(f"**Bản nháp, chưa lưu** — từ tệp «{ui.md(draft.source_name)}»: {len(leaves)} tiêu chí chấm điểm, "
                    f"{draft.edited_count()} ô đã sửa.")
        if fallbacks:
            st.warning(f"{len(fallbacks)} tiêu chí không đọc được cách chấm (hoặc tệp không ghi cách chấm) nên đang tạm chấm "
                       "tự do (tô vàng trong bảng): "
                       + ui.md(", ".join(r.code for r in fallbacks))
                       + ". Hãy gõ lại cách chấm ở cột «Cách chấm», hoặc để chấm tự do nếu đúng như vậy.")
        if errors:
            st.error(f"{len(errors)} lỗi (tô đỏ trong bảng, liệt kê dưới bảng): sửa xong mới lưu được.")
        elif not fallbacks:
            st.success("Bộ tiêu chí hợp lệ: điểm tối đa cộng đúng, mọi tiêu chí đều có cách chấm.")

        if draft.original.warnings:  # what reading the file noticed (rows of the file, not of the draft)
            with st.expander(f"Ghi chú khi đọc tệp ({len(draft.original.warnings)})"):
                ui.dataframe(pd.DataFrame([{"Vị trí": w.where, "Nội dung": w.message} for w in draft.original.warnings]),
                             hide_index=True, key=f"{editor}-read-notes")

        c1, c2 = st.columns([3, 1])
        c1.text_input(cd.FIELD_SET_NAME, value=cd.current_text(draft, cd.WHOLE_SET, cd.FIELD_SET_NAME), key=f"{editor}-set-name")
        c2.text_input(cd.FIELD_TOTAL, value=cd.current_text(draft, cd.WHOLE_SET, cd.FIELD_TOTAL), key=f"{editor}-total")
        for problem in result.at(cd.WHOLE_SET):
            (st.error if problem.is_error else st.caption)(ui.md(problem.sentence()))

        shown = _tree(draft, rows, result, editor=editor, state_key=state_key)
        _tier_editor(draft, shown, editor=editor, state_key=state_key)

        # every problem and fallback also in a list under the table: at 1366 the table's «Kiểm tra» may be off screen
        listed = [{"Tiêu chí": p.code, "Trường": p.field, "Loại": "Lỗi" if p.is_error else "Lưu ý", "Nội dung": p.message}
                  for p in result.problems if p.code != cd.WHOLE_SET]
        listed += [{"Tiêu chí": r.code, "Trường": cd.FIELD_RULE, "Loại": "Tạm chấm tự do",
                    "Nội dung": _check_text(r, [])} for r in fallbacks]
        if listed:
            ui.dataframe(pd.DataFrame(listed), hide_index=True, key=f"{editor}-problems",
                         height=min(36 * (len(listed) + 1) + 4, 220))

        may_save = ui.can(Action.MANAGE_CRITERIA)
        buttons = st.container(horizontal=True)
        save = buttons.button(f"Lưu và dùng cho năm {year}", type="primary", key="criteria-use",
                              disabled=bool(errors) or not may_save,
                              help=None if may_save else "Chỉ quản trị viên nhập được bộ tiêu chí.")
        cancel = buttons.button("Hủy bản nháp", key="criteria-draft-cancel",
                                help="Bỏ bản nháp và mọi chỗ đã sửa; bộ tiêu chí đang dùng không đổi.")
        if cancel:
            _forget(state_key, (form_name,))
            ui.flash("info", "Đã hủy bản nháp; bộ tiêu chí đang dùng không đổi.")
            st.rerun()
        if save and result.criteria_set is not None:
            _save(db, draft, result.criteria_set, state_key=state_key, department_id=department_id, year=year, snap=snap,
                  assessment_seen=assessment_seen, forms_to_redraw=forms_to_redraw)


def _forget(state_key: str, forms: tuple[str, ...]) -> None:
    """The draft is gone; the forms (the uploader and the tables among them) are drawn afresh."""
    for key in (state_key, f"{state_key}-drawn", f"{state_key}-generation"):
        st.session_state.pop(key, None)
    for name in forms:
        ui.redraw_editor(name)


def _save(db, draft: cd.CriteriaDraft, criteria_set, *, state_key: str, department_id: int, year: int, snap,
          assessment_seen, forms_to_redraw) -> None:
    """Stored (with what was corrected, audited) and used for the year, as the page's other save of a set does."""
    def use():
        set_id = criteria_store.save_criteria_set(db, criteria_set, actor=ui.actor(), source_name=draft.source_name,
                                        corrections=cd.draft_corrections(draft))
        if snap.assessment:
            # refused as stale, the set stays stored and can be chosen below once the page shows what changed
            return assessment_store.switch_criteria_set(db, snap.assessment.id, assessment_seen, criteria_set_id=set_id, actor=ui.actor())
        return assessment_store.open_assessment(db, department_id, year, set_id, actor=ui.actor())

    def stale() -> None:
        _forget(state_key, forms_to_redraw)
        ui.flash("info", f"Bộ tiêu chí «{criteria_set.name}» đã được lưu nhưng chưa dùng cho năm {year}: "
                         "hãy chọn nó ở mục «Chuyển sang bộ tiêu chí đã có».")

    used = ui.attempt(use, on_conflict=stale, place=None)
    if used is not None:
        moved = f" {used.summary}" if isinstance(used, assessment_store.SetSwitch) else ""
        ui.flash("success", f"Đã dùng «{criteria_set.name}» cho năm {year}.{moved}")
        _forget(state_key, forms_to_redraw)
    st.rerun()


def _check_text(row: cd.DraftRow, problems: list[cd.DraftProblem]) -> str:
    parts = [f"Lỗi ở «{p.field}»: {p.message}" for p in problems if p.is_error]
    if row.fallback:
        parts.append("Tạm chấm tự do: không đọc được cách chấm «" + row.original_rule + "»" if row.original_rule
                     else "Tạm chấm tự do: tệp không ghi cách chấm")
    parts.extend(f"Lưu ý «{p.field}»: {p.message}" for p in problems if not p.is_error)
    return " · ".join(parts)


def _generation(state_key: str) -> int:
    return st.session_state.get(f"{state_key}-generation", 0)


def _tree(draft: cd.CriteriaDraft, rows: list[cd.DraftRow], result: cd.DraftResult, *, editor: str,
          state_key: str) -> list[cd.DraftRow]:
    """Areas → criteria → leaves in one editable table, one area at a time or all; a filter for what needs a look.
    Returns the rows shown."""
    areas = [r for r in rows if r.level == 1]
    problem_codes = {p.code for p in result.problems if p.is_error}
    attention = {r.code for r in rows if r.fallback or r.code in problem_codes}

    def area_text(code: str) -> str:
        if code == ALL_AREAS:
            return f"Tất cả lĩnh vực ({len(rows)} dòng)"
        area = next(r for r in areas if r.code == code)
        inside = [r for r in rows if r.code == code or r.code.startswith(f"{code}.")]
        marks = sum(r.code in attention for r in inside)
        return f"{code}. {area.name} — {area.max_text} điểm" + (f" · {marks} cần xem lại" if marks else "")

    c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
    chosen = c1.selectbox("Lĩnh vực", [ALL_AREAS, *(r.code for r in areas)], key=f"{editor}-area", placeholder=ui.CHOOSE_ONE,
                          format_func=ui.distinct_options([ALL_AREAS, *(r.code for r in areas)], area_text))
    only_attention = c2.toggle("Chỉ hiện tiêu chí cần xem lại", key=f"{editor}-attention",
                               help="Tiêu chí tạm chấm tự do vì không đọc được cách chấm, và tiêu chí đang có lỗi.")
    shown = [r for r in rows if chosen in (ALL_AREAS, None) or r.code == chosen or r.code.startswith(f"{chosen}.")]
    if only_attention:
        shown = [r for r in shown if r.code in attention]
    if not shown:
        st.caption("Không có tiêu chí nào cần xem lại ở đây.")
        st.session_state.pop(f"{state_key}-drawn", None)
        return []
    by_code = {}
    for problem in result.problems:
        by_code.setdefault(problem.code, []).append(problem)
    table = pd.DataFrame([{
        COLUMN_CODE: r.code,
        cd.FIELD_NAME: r.name,
        cd.FIELD_MAX: r.max_text,
        cd.FIELD_RULE: r.rule_text,
        COLUMN_UNDERSTOOD: r.understood,
        COLUMN_CHECK: _check_text(r, by_code.get(r.code, [])),
        cd.FIELD_EVIDENCE: r.evidence,
        cd.FIELD_ACTIVITIES: r.activities_text,
        COLUMN_LEVEL: r.level_label,
    } for r in shown])
    styles = []
    for r in shown:
        style = ERROR_STYLE if r.code in problem_codes else FALLBACK_STYLE if r.fallback else ""
        styles.append(style)

    def paint(column: pd.Series) -> list[str]:
        return styles if column.name in (COLUMN_CODE, COLUMN_LEVEL, COLUMN_UNDERSTOOD, COLUMN_CHECK) else [""] * len(styles)

    codes = tuple(r.code for r in shown)
    # keyed by the rows it shows: an edit's position always means the row it was typed in
    # and by the draft's generation: a change made outside the table (the tiers below) is not undone by an edit the
    # table still holds for that cell
    widget_key = f"{editor}-tree-{_generation(state_key)}-{hashlib.sha1('|'.join(codes).encode()).hexdigest()[:12]}"
    st.session_state[f"{state_key}-drawn"] = (widget_key, codes)
    st.caption("Sửa ngay trong bảng các cột Tên, Tối đa, Cách chấm, Tài liệu kiểm chứng, Hoạt động liên quan; cột «Cách hiểu» "
               "cho biết ứng dụng sẽ chấm thế nào. Cách chấm viết dạng «Kịp thời: 1; Không kịp thời: 0,5» (các cách viết "
               "khác: xem «?» ở tiêu đề cột khi di chuột tới).")
    st.data_editor(
        table.style.apply(paint, axis=0),
        key=widget_key,
        hide_index=True,
        placeholder=ui.EMPTY_CELL,
        num_rows="fixed",
        disabled=[COLUMN_CODE, COLUMN_LEVEL, COLUMN_UNDERSTOOD, COLUMN_CHECK],
        height=min(36 * (len(shown) + 1) + 20, 470),  # 20: room for the horizontal scroll bar
        # at 1366 the columns up to «Kiểm tra» fit without scrolling sideways (the rest follow)
        column_config={
            COLUMN_CODE: st.column_config.TextColumn(width=55, pinned=True),
            COLUMN_LEVEL: st.column_config.TextColumn(width=140),
            cd.FIELD_NAME: st.column_config.TextColumn(width=210),
            cd.FIELD_MAX: st.column_config.TextColumn("Tối đa", width=70, help="Điểm tối đa, ví dụ 0,5 hoặc 2"),
            cd.FIELD_RULE: st.column_config.TextColumn(width=200, help=cd.RULE_HELP),
            COLUMN_UNDERSTOOD: st.column_config.TextColumn(width=200),
            COLUMN_CHECK: st.column_config.TextColumn(width=160),
            cd.FIELD_EVIDENCE: st.column_config.TextColumn(width=180),
            cd.FIELD_ACTIVITIES: st.column_config.TextColumn(width=110, help="Mã hoạt động của kế hoạch, ví dụ I.5, II.3"),
        },
    )
    return shown


def _tier_editor(draft: cd.CriteriaDraft, shown: list[cd.DraftRow], *, editor: str, state_key: str) -> None:
    """One leaf's tiers as rows (tier, points), for long tier texts; applied as that leaf's rule text."""
    leaves = [r for r in shown if r.is_leaf]
    if not leaves:
        return
    with st.expander("Sửa từng mức điểm của một tiêu chí", expanded=False):
        by_code = {r.code: r for r in leaves}
        code = st.selectbox("Tiêu chí", list(by_code), index=None, placeholder="Chọn tiêu chí…", key=f"{editor}-tier-leaf",
                            format_func=ui.distinct_options(list(by_code), lambda c: f"{c}. {by_code[c].name}"))
        if code is None:
            return
        tiers = cd.typed_tiers(draft, code)
        if not tiers and not by_code[code].fallback and by_code[code].rule_text:
            st.caption("Cách chấm của tiêu chí này không theo mức; sửa ở cột «Cách chấm». Thêm dòng dưới đây để chuyển "
                       "sang chấm theo mức.")
        st.caption("Mỗi dòng một mức: tên mức (mức theo tỷ lệ thì nêu khoảng %, ví dụ «Từ 70% đến dưới 90%») và số điểm. "
                   "Thêm mức ở dòng trống cuối bảng; xóa mức bằng cách chọn dòng rồi bấm biểu tượng thùng rác.")
        grid_key = f"{editor}-tiers-{_generation(state_key)}-{code}"
        typed = st.data_editor(pd.DataFrame(tiers or [("", "")], columns=["Mức", "Điểm"]), key=grid_key, hide_index=True,
                               placeholder=ui.EMPTY_CELL, num_rows="dynamic",
                               column_config={"Mức": st.column_config.TextColumn(width=420),
                                              "Điểm": st.column_config.TextColumn(width=80, help="Ví dụ 0,5 hoặc 1")})
        if st.button("Dùng các mức này", key=f"{grid_key}-apply"):
            try:
                cd.set_tiers(draft, code, [(row["Mức"], row["Điểm"]) for row in typed.to_dict("records")])
            except InputError as err:
                st.error(ui.md(str(err)))  # the rows stay as typed, to correct
            else:
                st.session_state[f"{state_key}-generation"] = _generation(state_key) + 1
                st.rerun()
