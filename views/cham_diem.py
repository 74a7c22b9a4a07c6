"""Chấm điểm: the criteria tree area by area; each leaf scored through its own rule, saved at once.

A working session changes one criterion at a time. Only the criterion being worked on (the open one) draws its
inputs, in a keyed fragment; each of the others is one button, read-only, that says what it stands at and opens
it (their inputs keep what they hold meanwhile: persist_state). Each element a run sends costs the browser work,
so the page sends few: the lock panel and the rounds/bonus/publication panel draw their bodies only while open.
The open criterion's fragment also draws what its saves change elsewhere on the page, in their places there
(st.empty slots written from the fragment): the headline totals, the area's heading and the headings of its groups. So a change in its inputs is one script run, the rerun of that
fragment the browser asks for; the callbacks save and return without st.rerun. The exceptions take a second run:
with the lock panel open its list of blockers (a fragment of its own) reruns too, and locking, reopening or
opening a criterion from the blockers redraw the whole page from inside that fragment. Fragments rerun without
the page's top level, so they read the data through `_data()`, and a save expects the version the person last
saw (`_seen_version`), not one bound into a widget when it was drawn. Others' saves show within seconds
(ui.follow_the_data); a value this person holds unsaved stays, marked (`_follow_stored`).

Appraisal rounds, explanations, bonus/penalty, the reopening of the lock and publication are editors only where
the core would accept the write now (`_verdict`, scoring.assessment.cycle.may_write on the cycle's state for today, the
Vietnam date); elsewhere the page shows what is stored and, unless the role alone decides, why.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pandas as pd
import streamlit as st

import ui
from scoring.access.auth import Action
from scoring.assessment.appraisal import LeafAppraisal, SourceDocument
from scoring.assessment.cycle import APPRAISAL_WRITES, Verdict, Write, may_write
from scoring.assessment.settings import ROUND_APPRAISAL_1, ROUND_APPRAISAL_2, ROUND_EXPLANATION, ROUND_LABELS
from scoring.assessment.snapshot import CriterionRow, Snapshot
from scoring.criteria.model import CriterionNode
from scoring.criteria.numbers import parse_decimal
from scoring.criteria.rules import RuleKind
from scoring.plan.stats import STATUS_LABELS
from scoring.store import actors, assessment_state, assessment_store, cycle_store, evidence_store
from scoring.textnorm import format_date, format_datetime, format_number, format_points

snap = ui.snapshot()  # stops with a sentence for an appraiser before the department locks its self-score
st.title("Chấm điểm Chỉ số CCHC")
if snap.criteria_set is None or snap.assessment is None or snap.rollup is None:
    st.warning(f"Năm {snap.year} chưa có bộ tiêu chí để chấm: hãy chọn bộ tiêu chí ở trang Cấu hình.")
    st.stop()

assessment_id = snap.assessment.id
is_locked = snap.locked
# Where the cycle stands today (Vietnam date): the same state every appraisal, explanation and bonus write checks.
cycle = assessment_state.cycle_state(ui.database(), assessment_id)
may_score = ui.can(Action.EDIT_SELF_SCORE) and not is_locked
may_link = ui.can(Action.EDIT_EVIDENCE) and not cycle.published  # published: the core keeps the links as published


def _verdict(write: Write, leaf: LeafAppraisal | None = None, code: str = "") -> Verdict:
    """The core's answer for this person now (scoring.assessment.cycle.may_write): the page shows an editor only where it is yes."""
    who = ui.principal() or actors.actor_name(st.session_state.get("actor") or "")  # open mode: a trusted name
    return may_write(who, write, cycle, department_id=snap.assessment.department_id, leaf=leaf, code=code,
                     bonus_author=snap.assessment.bonus_penalty_author)


may_appraise_now = any(_verdict(w).allowed for w in (Write.APPRAISAL_1, Write.APPRAISAL_2, Write.BONUS_PENALTY))
if not ui.can(Action.EDIT_SELF_SCORE):
    st.info("Bạn xem điểm ở chế độ chỉ đọc" + (": có thể nhập điểm thẩm định." if may_appraise_now else "."))
if cycle.published:
    st.success(ui.md(cycle.published_text))

LOCK_PANEL = "cd-chot"
LOCK_PANEL_OPEN = "lock-panel-open"


def _data() -> Snapshot:
    """This run's snapshot: on a full run the one the page read above, on a fragment rerun a current one
    (ui.snapshot checks the data revision once per run and keeps the snapshot while it has not moved)."""
    return ui.snapshot()


def _leaf_key(code: str) -> str:
    return f"cd-tc-{code}"


def _key(code: str, field: str) -> str:
    return f"s-{assessment_id}-{code}-{field}"


def _seen_version(code: str) -> int:
    """The criterion's version as this session last drew or saved it: what its next save expects to replace."""
    return st.session_state[_key(code, "version")]


# A criterion's inputs keep what they hold while the criterion is not drawn (another one is open, the table is
# shown): a value typed and refused is still there, marked unsaved, when the person comes back to it. Leaving the
# page drops them, like every other input.
_PERSIST = "page"


def _seed(key: str, value) -> None:
    """Widgets start from what is stored; afterwards they keep what the person typed."""
    if key not in st.session_state:
        st.session_state[key] = value


def _saw(code: str, version: int) -> None:
    st.session_state[_key(code, "version")] = version


def _area_label(code: str) -> str:
    return f"{code}. {snap.criteria_set.node(code).name}"  # static: a label that changes with scores resets the widget


# ---------------------------------------------------------------- lock (chốt điểm tự chấm)


def _lock() -> None:
    ui.attempt(lambda: cycle_store.lock_self_score(ui.database(), assessment_id, actor=ui.actor()),
               success="Đã chốt điểm tự chấm: điểm tự chấm chỉ còn xem; Sở Nội vụ có thể thẩm định.")
    st.rerun()  # every criterion changes what it allows: the whole page


def _reopen() -> None:
    reason = st.session_state.get("lock-reopen-reason") or ""
    ui.attempt(lambda: cycle_store.reopen_self_score(ui.database(), assessment_id, reason, actor=ui.actor()),
               success="Đã mở lại điểm tự chấm để sửa.")
    st.rerun()


def _summary(slot) -> None:
    """The headline totals, in their place at the top of the page (`slot`): what every save changes above the
    criteria. The open criterion draws them (see _leaf_block); without one, the page does."""
    snap = _data()
    rollup, total = snap.rollup, snap.rollup.total
    with slot.container(horizontal=True):  # one block: each element a save's run sends costs the browser a redraw
        st.metric("Điểm tự chấm", f"{format_number(total.self_points or 0)} / {format_number(total.applicable_max)}")
        ui.self_index_metric(st, rollup)
        st.metric("Tiêu chí đã chấm", f"{total.scored_leaves} / {total.applicable_leaves}")
        ui.appraised_index_metric(st, snap)


@st.fragment(key=LOCK_PANEL)
def _lock_panel() -> None:
    """Locking the self-score; a save reruns it only while it is open, when it lists what still blocks the lock."""
    with st.expander("Chốt điểm tự chấm" + (" — đã chốt" if is_locked else " — chưa chốt"), key=LOCK_PANEL_OPEN,
                     icon=":material/lock:",
                     on_change="rerun"):
        if st.session_state.get(LOCK_PANEL_OPEN):  # the list of blockers is worked out only while someone looks at it
            _lock_panel_body(_data())


def _lock_panel_body(snap: Snapshot) -> None:
    if is_locked:
        st.success(f"Đã chốt lúc {format_datetime(snap.assessment.locked_at)} bởi {ui.md(snap.assessment.locked_by)}. "
                   "Điểm tự chấm chỉ còn xem; điểm thẩm định và giải trình nhập ở từng tiêu chí.")
        reopen = _verdict(Write.REOPEN_LOCK)
        if reopen.allowed:
            st.text_input("Lý do mở lại (ghi vào nhật ký)", key="lock-reopen-reason")
            st.button("Mở lại để sửa điểm tự chấm", key="lock-reopen", on_click=_reopen)
        elif not reopen.by_role:
            st.caption(ui.md(reopen.reason))
        return
    blockers = snap.lock_blockers()
    if blockers:
        st.warning(f"Còn {len(blockers)} vướng mắc trước khi chốt điểm (chọn một dòng để mở tiêu chí đó):")
        st.session_state["lock-blocker-codes"] = [b.code for b in blockers]
        ui.dataframe(pd.DataFrame([{"Tiêu chí": b.code, "Vướng mắc": b.message} for b in blockers]), hide_index=True,
                     key="lock-blockers", on_select=lambda: _opened_from("lock-blockers", "lock-blocker-codes", True),
                     selection_mode="single-row")
    else:
        st.success("Không còn vướng mắc: mọi tiêu chí đã chấm, có tài liệu hoặc giải trình, tài liệu có số và ngày.")
    may_lock = not blockers and ui.can(Action.LOCK_SELF_SCORE)
    understood = st.checkbox("Tôi hiểu: sau khi chốt, điểm tự chấm của mọi tiêu chí chỉ còn xem, không sửa được; Sở Nội vụ "
                             "bắt đầu thẩm định; chỉ quản trị viên mở lại được, và phải ghi lý do vào nhật ký.",
                             key="lock-understood", disabled=not may_lock)
    st.button("Chốt điểm tự chấm", key="lock-now", type="primary", on_click=_lock, disabled=not (may_lock and understood))


# ---------------------------------------------------------------- the cycle: rounds, the province's document, bonus, publication

SOURCE_NUMBER, SOURCE_DATE = "appraisal-source-number", "appraisal-source-date"


def _source() -> SourceDocument | None:
    """The province's result document the Office is transcribing from, as typed above the criteria."""
    number, issued_on = st.session_state.get(SOURCE_NUMBER) or "", st.session_state.get(SOURCE_DATE)
    return SourceDocument(number, issued_on) if number.strip() or issued_on else None


def _save_bonus_penalty() -> None:
    ui.attempt(lambda: cycle_store.save_bonus_penalty(
        ui.database(), assessment_id, snap.assessment.bonus_penalty_version,
        bonus=st.session_state.get("bonus-points") or "", penalty=st.session_state.get("penalty-points") or "",
        source=_source(), actor=ui.actor()), success="Đã lưu điểm thưởng, điểm trừ.")
    st.rerun()  # the panel is a fragment (_cycle_panel); what its writes change is the whole page's


def _override_round() -> None:
    code = st.session_state.get("override-round")
    ui.attempt(lambda: cycle_store.override_round(ui.database(), assessment_id, code, st.session_state.get("override-until"),
                                           st.session_state.get("override-reason") or "", actor=ui.actor()),
               success=f"Đã mở vòng «{ROUND_LABELS.get(code, code)}» ngoài lịch.")
    st.rerun()


def _publish() -> None:
    ui.attempt(lambda: cycle_store.publish_index(ui.database(), assessment_id, actor=ui.actor()),
               success=f"Đã công bố chỉ số năm {snap.year}: từ nay không sửa được gì nữa.")
    st.rerun()


def _reopen_published() -> None:
    reason = st.session_state.get("publish-reopen-reason") or ""
    ui.attempt(lambda: cycle_store.reopen_published(ui.database(), assessment_id, reason, actor=ui.actor()),
               success="Đã mở lại chỉ số đã công bố để sửa.")
    st.rerun()


CYCLE_PANEL = "cd-lich"
CYCLE_PANEL_OPEN = "cycle-panel-open"


@st.fragment(key=CYCLE_PANEL)
def _cycle_panel() -> None:
    """The year's rounds as they stand today, the administrator's overrides, bonus and penalty, publication.

    Drawn only while open, like the lock panel: closed, it is one element on every page and area change instead
    of a score of them; opening it reruns this fragment alone, and each of its writes the whole page."""
    # a bundled icon font, not an emoji: the projector and office PCs may have no emoji font (a box was drawn)
    with st.expander(f"Lịch thẩm định, điểm thưởng/điểm trừ, công bố — hôm nay {format_date(cycle.today)}",
                     icon=":material/calendar_month:", key=CYCLE_PANEL_OPEN, on_change="rerun"):
        if st.session_state.get(CYCLE_PANEL_OPEN):
            _cycle_panel_body()


def _cycle_panel_body() -> None:
    for r in cycle.settings.rounds:
        state = "đang mở" if cycle.round_open(r.code) else ("đã kết thúc" if cycle.round_over(r.code) else "chưa mở")
        st.markdown(f"- {ui.md(r.label)}: {r.period_text()} — **{state}**")
    for o in cycle.overrides:
        st.caption(ui.md(f"Mở ngoài lịch: {ROUND_LABELS.get(o.round_code, o.round_code)} từ {format_date(o.opened_on)} "
                         f"đến {format_date(o.until)} ({o.by}): {o.reason}"))
    _bonus_penalty_section()
    override = _verdict(Write.OVERRIDE_ROUND)
    if override.allowed:
        st.markdown("**Mở hoặc gia hạn một vòng ngoài lịch** (ghi vào nhật ký)")
        c1, c2 = st.columns(2)
        c1.selectbox("Vòng", [ROUND_APPRAISAL_1, ROUND_EXPLANATION, ROUND_APPRAISAL_2], placeholder=ui.CHOOSE_ONE, format_func=ROUND_LABELS.get,
                     key="override-round")
        c2.date_input("Mở đến hết ngày", value=cycle.today + timedelta(days=7), min_value=cycle.today,
                      format="DD/MM/YYYY", key="override-until")
        st.text_input("Lý do", key="override-reason")
        st.button("Mở vòng", key="override-now", on_click=_override_round)
    if cycle.published:
        if _verdict(Write.REOPEN_PUBLISHED).allowed:
            st.text_input("Lý do mở lại chỉ số đã công bố (ghi vào nhật ký)", key="publish-reopen-reason")
            st.button("Mở lại chỉ số đã công bố", key="publish-reopen", on_click=_reopen_published)
    else:
        publish = _verdict(Write.PUBLISH)
        if publish.allowed:
            st.button("Công bố chỉ số", key="publish-now", type="primary", on_click=_publish,
                      help="Sau khi công bố, không điểm, kết quả thẩm định, giải trình hay điểm thưởng/điểm trừ "
                           "nào sửa được nữa, trừ khi quản trị viên mở lại.")
        elif not publish.by_role:
            st.caption(ui.md(publish.reason))


def _bonus_penalty_section() -> None:
    assessment, verdict = snap.assessment, _verdict(Write.BONUS_PENALTY)
    st.markdown("**Điểm thưởng, điểm trừ do tỉnh quyết định**")
    if verdict.allowed:
        for key, points in (("bonus-points", assessment.bonus_points), ("penalty-points", assessment.penalty_points)):
            _seed(key, format_number(points) if points is not None else "")
        c1, c2 = st.columns(2)
        c1.text_input("Điểm thưởng", key="bonus-points")
        c2.text_input("Điểm trừ", key="penalty-points")
        st.button("Lưu điểm thưởng, điểm trừ", key="bonus-save", on_click=_save_bonus_penalty)
    else:
        st.markdown(f"Điểm thưởng: {format_points(assessment.bonus_points)} · Điểm trừ: {format_points(assessment.penalty_points)}")
        if not verdict.by_role:
            st.caption(ui.md(verdict.reason))
    if assessment.bonus_penalty_author is not None:
        st.caption(ui.md(assessment.bonus_penalty_author.text))
    st.caption(f"Tối đa {format_number(cycle.settings.bonus_cap)} điểm thưởng và {format_number(cycle.settings.penalty_cap)} "
               "điểm trừ được tính vào chỉ số (xem từng bước ở trang Tổng quan).")


def _source_inputs() -> None:
    """Where the Office transcribes (no appraiser account), every appraisal it enters names the province's document."""
    if not any(_verdict(w).needs_source for w in (Write.APPRAISAL_1, Write.APPRAISAL_2, Write.BONUS_PENALTY)):
        return
    st.markdown("**Văn bản kết quả thẩm định của tỉnh** — Văn phòng ghi kết quả thẩm định theo văn bản này")
    c1, c2 = st.columns(2)
    c1.text_input("Số, ký hiệu văn bản", key=SOURCE_NUMBER, placeholder="ví dụ 25/KQ-SNV")
    c2.date_input("Ngày văn bản", value=None, format="DD/MM/YYYY", key=SOURCE_DATE)


summary_slot = st.empty()
if snap.criteria_set.template:  # under the totals, drawn by the page: no save changes it
    st.caption(f"Đang dùng «{ui.md(snap.criteria_set.name)}» — bộ tiêu chí MẪU; hãy nhập bộ tiêu chí của tỉnh ở trang Cấu hình.")
_lock_panel()
_cycle_panel()
_source_inputs()

# ---------------------------------------------------------------- which criteria: an area whole, its table, or one criterion

VIEW_DETAIL, VIEW_TABLE = "Từng tiêu chí", "Bảng cả lĩnh vực"
AREA, VIEW, FOCUS, OVERVIEW, OVERVIEW_CODES = "score-area", "score-view", "score-focus", "score-overview", "score-overview-codes"
OPEN = "score-open"  # the criterion being worked on: the only one drawn with its inputs
area_codes = [a.code for a in snap.criteria_set.areas()]


def _open_criterion(code: str, *, from_fragment: bool) -> None:
    """Show one criterion by itself, in its area (from the area's table or from the lock's blockers)."""
    st.session_state.update({AREA: snap.criteria_set.area_of(code), VIEW: VIEW_DETAIL, FOCUS: code, OPEN: code})
    if from_fragment:  # the lock's blockers: the whole page changes, not the lock panel alone
        st.rerun()


def _work_on(code: str) -> None:
    """Open this criterion's inputs in its place in the area; the one open before shows its summary again (what
    it holds unsaved stays in its inputs: they keep their state while not drawn, see _persist)."""
    st.session_state[OPEN] = code


def _opened_from(table_key: str, codes_key: str, from_fragment: bool = False) -> None:
    rows = st.session_state[table_key].selection.rows
    codes = st.session_state.get(codes_key) or []
    if rows and rows[0] < len(codes):
        _open_criterion(codes[rows[0]], from_fragment=from_fragment)


def _step_area(step: int) -> None:
    here = area_codes.index(st.session_state[AREA]) if st.session_state.get(AREA) in area_codes else 0
    st.session_state[AREA] = area_codes[(here + step) % len(area_codes)]
    st.session_state.pop(FOCUS, None)


def _whole_area() -> None:
    focus = st.session_state.pop(FOCUS, None)
    if focus is not None:
        st.session_state[OPEN] = focus  # the criterion by itself stays the one open in its area




# ---------------------------------------------------------------- saving


def _inputs_from_widgets(leaf: CriterionNode) -> dict:
    kind = leaf.rule.kind
    get = st.session_state.get
    if kind == RuleKind.TIERS:
        return {"tier": get(_key(leaf.code, "tier"))} if get(_key(leaf.code, "tier")) is not None else {}
    if kind == RuleKind.RATIO:
        numerator, denominator = get(_key(leaf.code, "num")), get(_key(leaf.code, "den"))
        return {k: v for k, v in (("numerator", numerator), ("denominator", denominator)) if v is not None}
    if kind == RuleKind.COUNT:
        return {"count": get(_key(leaf.code, "count"))} if get(_key(leaf.code, "count")) is not None else {}
    if kind == RuleKind.VALUE:
        value = get(_key(leaf.code, "value"))
        return {"value": str(value)} if value is not None else {}
    if kind == RuleKind.DEDUCTION:
        occurrences = get(_key(leaf.code, "occ"))
        return {"occurrences": occurrences} if occurrences is not None else {}
    survey = (get(_key(leaf.code, "survey")) or "").strip()
    return {"survey": survey} if survey else {}


def _refresh_after(code: str, saved) -> None:
    """After a criterion's write, saved or refused. The interaction's own rerun, the criterion's fragment, is the
    one run: it draws the criterion (the message at its inputs, what is stored) and the totals and headings above
    it (_leaf_block). Only the lock's list of blockers, while it is open, lives in a fragment of its own: then
    both rerun, which takes Streamlit a second run."""
    if isinstance(saved, assessment_store.ScoreView):
        ui.score_saved(assessment_id, saved)
        _saw(code, saved.version)
    if st.session_state.get(LOCK_PANEL_OPEN):
        st.rerun([LOCK_PANEL, _leaf_key(code)])


def _unsaved_key(code: str) -> str:
    return f"unsaved-{assessment_id}-{code}"


def _show_saved(code: str) -> None:
    """Draw the criterion's inputs again from what is stored (after a refusal the person chose to drop)."""
    ui.forget_widgets(_key(code, ""))
    st.session_state.pop(_unsaved_key(code), None)


def _drop_unsaved(code: str) -> None:
    _show_saved(code)  # the criterion's own rerun draws its inputs from what is stored


def _save_self(leaf: CriterionNode) -> None:
    conflicted = []
    saved = ui.attempt(
        lambda: assessment_store.save_self_score(
            ui.database(), assessment_id, leaf.code, _seen_version(leaf.code),
            inputs=_inputs_from_widgets(leaf),
            not_applicable=bool(st.session_state.get(_key(leaf.code, "na"))),
            explanation=st.session_state.get(_key(leaf.code, "expl")) or "",
            actor=ui.actor(),
        ),
        on_conflict=lambda: (_show_saved(leaf.code), conflicted.append(True)), place=_leaf_key(leaf.code),
    )
    # A refused value stays in its input (nothing typed is thrown away), and the criterion says it is not saved
    # until it is saved or dropped; a conflict draws the stored inputs instead, which need no such word.
    if saved is None and not conflicted:
        st.session_state[_unsaved_key(leaf.code)] = True
    else:
        st.session_state.pop(_unsaved_key(leaf.code), None)
    _refresh_after(leaf.code, saved[0] if saved else None)


def _apply_suggestion(leaf: CriterionNode, inputs: dict) -> None:
    version = _seen_version(leaf.code)
    ui.forget_widgets(_key(leaf.code, ""))  # the inputs are drawn again from the applied suggestion
    saved = ui.attempt(
        lambda: assessment_store.save_self_score(
            ui.database(), assessment_id, leaf.code, version, inputs=inputs,
            explanation=_data().score(leaf.code).explanation, actor=ui.actor(),
        ),
        place=_leaf_key(leaf.code),
    )
    _refresh_after(leaf.code, saved[0] if saved else None)


def _evidence_seen_key(code: str) -> str:
    return _key(code, "evidence-seen")


def _link_evidence(leaf: CriterionNode) -> None:
    """Attach or detach the documents the person changed in the criterion's list. Each save expects the version of
    the document the list showed when it was drawn (`_evidence_seen_key`): a document someone changed meanwhile
    is told, never overwritten, and one added since the list was drawn is left as it is."""
    chosen = set(st.session_state.get(_key(leaf.code, "evidence")) or [])
    seen = st.session_state.get(_evidence_seen_key(leaf.code)) or {}
    db = ui.database()
    done = True
    current = {document.id: document for document in _data().evidence}
    for evidence_id in [i for i in seen if i not in current and i in chosen]:
        ui.flash("error", f"Tài liệu TL{evidence_id} đã bị xóa khỏi sổ tài liệu nên không còn gắn với tiêu chí {leaf.code}.",
                 _leaf_key(leaf.code))
        done = False
    for document in current.values():
        if document.id not in seen:
            continue  # not in the list the person saw
        linked = leaf.code in document.criteria
        if linked == (document.id in chosen):
            continue
        codes = [c for c in document.criteria if c != leaf.code] + ([leaf.code] if not linked else [])
        meta = evidence_store.EvidenceInput(document.doc_type, document.number, document.issued_on, document.issuer, document.summary, document.link)
        saved = ui.attempt(lambda d=document, c=codes, m=meta: evidence_store.update_evidence(db, d.id, seen[d.id], m, actor=ui.actor(), criteria=c),
                           place=_leaf_key(leaf.code))
        if saved is None:
            done = False
            continue
        # this session's other lists that showed the version just replaced now show the saved one
        for key in [k for k in st.session_state.keys() if isinstance(k, str) and k.endswith("-evidence-seen")]:
            other = st.session_state[key]
            if other is not seen and other.get(document.id) == seen[document.id]:
                other[document.id] = saved.version
        seen[document.id] = saved.version
    if not done:  # the page is drawn whole again: every criterion's list, and the versions it expects, from what is stored
        for key in [k for k in st.session_state.keys() if isinstance(k, str) and k.startswith(f"s-{assessment_id}-")
                    and k.endswith(("-evidence", "-evidence-seen"))]:
            del st.session_state[key]
    _refresh_after(leaf.code, True if done else None)


# ---------------------------------------------------------------- drawing


def _evidence_label(by_id: dict) -> Callable[[int], str]:
    """A document as the evidence lists show it: its code in the register (TL12) first, so that two documents
    with the same title stay two options (Streamlit tells the chosen ones apart by the text shown)."""
    return lambda i: f"TL{i} · {by_id[i].title}"


def _attached_list(documents) -> None:
    """The attached documents in full under their picker: its chips wrap (wrap=True), but Streamlit still cuts a
    chip's text at a fixed width, so a long Vietnamese title is read here, one document a line."""
    label = _evidence_label({d.id: d for d in documents})
    if documents:
        st.caption("  \n".join(ui.md(label(d.id)) for d in documents))


def _rule_input(leaf: CriterionNode, score: assessment_store.ScoreView, disabled: bool) -> None:
    rule, code, inputs = leaf.rule, leaf.code, score.inputs
    on_change, args = _save_self, (leaf,)
    if rule.kind == RuleKind.TIERS:
        labels = [t.label for t in rule.tiers]
        stored = inputs.get("tier")
        if isinstance(stored, int) and 0 <= stored < len(labels):
            stored = labels[stored]
        _seed(_key(code, "tier"), stored if stored in labels else None)
        points = {t.label: t.points for t in rule.tiers}
        st.radio("Mức đạt được", labels, key=_key(code, "tier"), persist_state=_PERSIST, on_change=on_change, args=args, disabled=disabled,
                 format_func=lambda label: ui.label(f"{label}: {format_points(points[label])}"))
    elif rule.kind == RuleKind.RATIO:
        _seed(_key(code, "num"), inputs.get("numerator"))
        _seed(_key(code, "den"), inputs.get("denominator"))
        left, right = st.columns(2)
        left.number_input("Số đạt (tử số)", min_value=0, step=1, key=_key(code, "num"), persist_state=_PERSIST, on_change=on_change, args=args, disabled=disabled)
        right.number_input("Tổng số (mẫu số)", min_value=0, step=1, key=_key(code, "den"), persist_state=_PERSIST, on_change=on_change, args=args, disabled=disabled)
    elif rule.kind == RuleKind.COUNT:
        _seed(_key(code, "count"), inputs.get("count"))
        st.number_input(ui.label(f"Số {rule.unit}"), min_value=0, step=1, key=_key(code, "count"), persist_state=_PERSIST, on_change=on_change, args=args, disabled=disabled)
    elif rule.kind == RuleKind.VALUE:
        steps = [rule.step * i for i in range(int(leaf.max_points / rule.step) + 1)]
        stored = parse_decimal(inputs.get("value")) if inputs.get("value") is not None else None
        _seed(_key(code, "value"), stored if stored in steps else None)
        st.selectbox("Điểm", steps, key=_key(code, "value"), persist_state=_PERSIST, format_func=format_points, index=None,
                     placeholder="Chưa chấm", on_change=on_change, args=args, disabled=disabled)
    elif rule.kind == RuleKind.DEDUCTION:
        _seed(_key(code, "occ"), inputs.get("occurrences"))
        st.number_input(ui.label(f"Số {rule.unit} vi phạm"), min_value=0, step=1, key=_key(code, "occ"), persist_state=_PERSIST, on_change=on_change, args=args, disabled=disabled)
    else:
        _seed(_key(code, "survey"), str(inputs.get("survey") or ""))
        st.text_input("Điểm điều tra XHH (theo kết quả công bố)", key=_key(code, "survey"), persist_state=_PERSIST, placeholder="ví dụ 3,5",
                      on_change=on_change, args=args, disabled=disabled)


def _leaf_header(code: str) -> None:
    """What a score change changes in a criterion: its points, how they were reached, the plan's suggestion."""
    snap = _data()
    leaf, score, totals = snap.criteria_set.node(code), snap.score(code), snap.rollup.node(code)
    head, points_side = st.columns([4, 1])
    points_col = points_side.container(key=f"leaf-points-{code}")  # its figure is sized to fit (ui._STYLE)
    head.markdown(f"**{ui.md(code)}** {ui.md(leaf.name)}")
    how = f"Tối đa {format_points(leaf.max_points)} · Cách chấm: {ui.md(leaf.rule.describe())}"
    if totals.explanation and not score.not_applicable and (score.inputs or totals.self_points is not None):
        how += f"  \n→ {ui.md(totals.explanation)}"  # "not scored yet" alone is what the points already say
    head.caption(how)  # one element, not two: a save's run redraws the header
    suggestion = snap.suggestion(leaf)
    if suggestion and may_score and not score.not_applicable and suggestion.points != score.self_points:
        head.info(f"Gợi ý từ kế hoạch: {ui.md(suggestion.reason)}")
        head.button("Áp dụng gợi ý", key=_key(code, "suggest"), on_click=_apply_suggestion, args=(leaf, suggestion.inputs))
    if st.session_state.get(_unsaved_key(code)):
        saved_points = "chưa chấm" if totals.self_points is None else format_points(totals.self_points)
        head.warning(f"Các ô của tiêu chí này đang hiện giá trị **chưa được lưu**; điểm đã lưu vẫn là {saved_points}. "
                     "Sửa lại để lưu, hoặc hiện lại giá trị đã lưu.")
        head.button("Hiện lại giá trị đã lưu", key=f"show-saved-{assessment_id}-{code}", on_click=_drop_unsaved, args=(code,))
    if score.not_applicable:
        points_col.metric("Tự chấm", "—", delta="không đánh giá", delta_color="gray", delta_arrow="off")
    elif totals.self_points is None:
        points_col.metric("Tự chấm", "—", delta="chưa chấm", delta_color="orange", delta_arrow="off")
    else:
        points_col.metric("Tự chấm", format_points(totals.self_points))


def _follow_stored(code: str, score: assessment_store.ScoreView) -> bool:
    """The inputs show what is stored, and expect its version, unless they hold a value of this person's that was
    not saved. Someone else's save, seen on a later run, draws them again from it; an unsaved value stays (marked)
    and still expects the version it was typed over, so saving it tells of the other change instead of hiding it."""
    unsaved = _unsaved_key(code)
    if st.session_state.get(unsaved) and _key(code, "na") not in st.session_state:
        st.session_state.pop(unsaved)  # the inputs were dropped (the person left the page): nothing is held any more
    seen = st.session_state.get(_key(code, "version"))
    redrawn = seen is not None and seen != score.version and not st.session_state.get(unsaved)
    if redrawn:
        ui.forget_widgets(_key(code, ""))
    if seen is None or redrawn:
        _saw(code, score.version)
    return redrawn


def _leaf_block(code: str, summary, area_heading, group_headings: dict) -> None:
    """The open criterion, with its inputs. It also draws what its saves change elsewhere on the page, in their
    places there: the totals, the area's heading and the headings of its groups. A change in its inputs then
    reruns this fragment alone, the interaction's own rerun, and that one run shows everything it changed."""
    snap = _data()
    leaf = snap.criteria_set.node(code)
    score = snap.score(code)
    someone_saved = _follow_stored(code, score)
    _summary(summary)
    _area_heading(area_heading, snap.criteria_set.area_of(code))
    for group, slot in group_headings.items():
        _group_heading(slot, group)
    with st.container(border=True):
        _leaf_header(code)
        if someone_saved:
            when = f" lúc {format_datetime(score.updated_at)}" if score.updated_at else ""
            st.info(f"{ui.md(score.updated_by or 'Người khác')} vừa lưu tiêu chí này{when}: các ô hiện điều đã lưu.")
        ui.show_flashes(_leaf_key(code))  # a save of this criterion that was refused says why here, beside its inputs
        left, middle, right = st.columns([3, 3, 2])
        with left:
            _seed(_key(code, "na"), score.not_applicable)
            st.toggle("Không đánh giá (không áp dụng với cơ quan)", key=_key(code, "na"), persist_state=_PERSIST, on_change=_save_self,
                      args=(leaf,), disabled=not may_score)  # the inputs below are enabled or not
            _rule_input(leaf, score, disabled=score.not_applicable or not may_score)
        with middle:
            _seed(_key(code, "expl"), score.explanation)
            evidence = snap.evidence_for(code)
            st.text_area("Giải trình cách chấm" + (" (bắt buộc khi thiếu tài liệu)" if not evidence else ""),
                         key=_key(code, "expl"), persist_state=_PERSIST, height=90, on_change=_save_self, args=(leaf,), disabled=not may_score)
            notes = [f"Tài liệu cần có: {ui.md(leaf.evidence)}"] if leaf.evidence else []
            by_id = {e.id: e for e in snap.evidence}
            if by_id:
                if notes:
                    st.caption(notes.pop())
                if _key(code, "evidence") not in st.session_state:  # the list and the versions it shows are drawn together
                    st.session_state[_evidence_seen_key(code)] = {e.id: e.version for e in snap.evidence}
                _seed(_key(code, "evidence"), [e.id for e in evidence])
                st.multiselect("Tài liệu kiểm chứng đã gắn", list(by_id), key=_key(code, "evidence"), persist_state=_PERSIST,
                               format_func=_evidence_label(by_id), on_change=_link_evidence, args=(leaf,),
                               placeholder="Chọn tài liệu trong sổ tài liệu kiểm chứng", disabled=not may_link, wrap=True)
                _attached_list(evidence)
            else:
                notes.append("Sổ tài liệu kiểm chứng năm này còn trống: thêm tài liệu ở trang Tài liệu kiểm chứng.")
            linked = snap.activities_for(leaf)
            if linked:
                notes.append("Hoạt động kế hoạch liên quan: " + "; ".join(f"{ui.md(a.code)} ({STATUS_LABELS[a.status]})" for a in linked))
            if notes:
                st.caption("  \n".join(notes))  # the notes side by side as one element (see the header)
        with right:
            _appraisal_column(snap, leaf, score)


def _save_round(leaf: CriterionNode, round_number: int) -> None:
    prefix = f"r{round_number}"
    saved = ui.attempt(
        lambda: assessment_store.save_appraisal(
            ui.database(), assessment_id, leaf.code, _seen_version(leaf.code), round_number=round_number,
            points=(st.session_state.get(_key(leaf.code, f"{prefix}-points")) or "").strip(),
            remark=st.session_state.get(_key(leaf.code, f"{prefix}-remark")) or "",
            request_explanation=bool(st.session_state.get(_key(leaf.code, "r1-ask"))) if round_number == 1 else None,
            source=_source(), actor=ui.actor(),
        ),
        on_conflict=lambda: ui.forget_widgets(_key(leaf.code, "")), place=_leaf_key(leaf.code),
    )
    _refresh_after(leaf.code, saved)


def _save_explanation(leaf: CriterionNode) -> None:
    saved = ui.attempt(
        lambda: assessment_store.save_explanation(
            ui.database(), assessment_id, leaf.code, _seen_version(leaf.code),
            explanation=st.session_state.get(_key(leaf.code, "answer")) or "",
            evidence_ids=st.session_state.get(_key(leaf.code, "answer-docs")) or [], actor=ui.actor(),
        ),
        on_conflict=lambda: ui.forget_widgets(_key(leaf.code, "")), place=_leaf_key(leaf.code),
    )
    _refresh_after(leaf.code, saved)


def _appraisal_column(snap: Snapshot, leaf: CriterionNode, score: assessment_store.ScoreView) -> None:
    """Round 1, the department's explanation, round 2 — side by side with the self score, differences marked.

    Each is an editor only where the core would accept the write now (`_verdict`); otherwise what is stored, and
    why it cannot be changed (the round's dates, the order of the rounds, the author, the publication)."""
    code, appraisal = leaf.code, score.appraisal
    if not is_locked and appraisal.round1_points is None:
        st.caption("Thẩm định: sau khi chốt điểm tự chấm.")
        return
    for round_number in (1, 2):
        if round_number == 2 and not (appraisal.explanation_requested or appraisal.round2_points is not None):
            continue
        verdict = _verdict(APPRAISAL_WRITES[round_number], appraisal, code)
        points, remark, author = appraisal.points(round_number), appraisal.remark(round_number), appraisal.author(round_number)
        if verdict.allowed:
            _seed(_key(code, f"r{round_number}-points"), format_number(points) if points is not None else "")
            _seed(_key(code, f"r{round_number}-remark"), remark)
            st.text_input(f"Thẩm định lần {round_number}", key=_key(code, f"r{round_number}-points"), persist_state=_PERSIST, placeholder="điểm",
                          on_change=_save_round, args=(leaf, round_number))
            st.text_input(f"Nhận xét lần {round_number}", key=_key(code, f"r{round_number}-remark"), persist_state=_PERSIST,
                          on_change=_save_round, args=(leaf, round_number))
            if round_number == 1:
                _seed(_key(code, "r1-ask"), appraisal.explanation_requested)
                st.checkbox("Yêu cầu giải trình", key=_key(code, "r1-ask"), persist_state=_PERSIST, on_change=_save_round, args=(leaf, 1))
        else:
            shown = format_points(points) if points is not None else "chưa có"
            st.markdown(f"**Thẩm định lần {round_number}:** {shown}" + (f" — {ui.md(remark)}" if remark else ""))
            if round_number == 1 and appraisal.explanation_requested:
                st.caption("Có yêu cầu giải trình.")
            if not verdict.by_role:
                st.caption(ui.md(verdict.reason))
        if author is not None:
            st.caption(ui.md(author.text))
    if appraisal.explanation_requested:
        _explanation_inputs(snap, leaf, appraisal)
    difference = appraisal.difference_vs_self(score.self_points)
    if difference:
        st.warning(f"Thẩm định {'bớt' if difference < 0 else 'thêm'} {format_number(abs(difference))} điểm so với tự chấm")


def _explanation_inputs(snap: Snapshot, leaf: CriterionNode, appraisal: LeafAppraisal) -> None:
    code, verdict = leaf.code, _verdict(Write.EXPLANATION, appraisal, leaf.code)
    by_id = {e.id: e for e in snap.evidence}
    if verdict.allowed:
        _seed(_key(code, "answer"), appraisal.explanation)
        st.text_area("Giải trình của cơ quan", key=_key(code, "answer"), persist_state=_PERSIST, height=80, on_change=_save_explanation,
                     args=(leaf,))
        if by_id:
            _seed(_key(code, "answer-docs"), [i for i in appraisal.supplementary_evidence_ids if i in by_id])
            st.multiselect("Tài liệu bổ sung", list(by_id), key=_key(code, "answer-docs"), persist_state=_PERSIST, format_func=_evidence_label(by_id),
                           on_change=_save_explanation, args=(leaf,), placeholder="Chọn tài liệu bổ sung", wrap=True)
            _attached_list([by_id[i] for i in appraisal.supplementary_evidence_ids if i in by_id])
        return
    st.markdown("**Giải trình của cơ quan:** " + (ui.md(appraisal.explanation) if appraisal.explanation else "chưa có"))
    documents = [by_id[i].title for i in appraisal.supplementary_evidence_ids if i in by_id]
    if documents:
        st.caption("Tài liệu bổ sung: " + "; ".join(ui.md(t) for t in documents))
    if not verdict.by_role:
        st.caption(ui.md(verdict.reason))


def _area_heading(slot, code: str) -> None:
    snap = _data()
    area, totals = snap.criteria_set.node(code), snap.rollup.node(code)
    with slot.container():
        st.subheader(f"{ui.md(area.code)}. {ui.md(area.name)}")
        st.caption(
            f"{format_number(totals.self_points or 0)}/{format_number(totals.applicable_max)} điểm · "
            f"đã chấm {totals.scored_leaves}/{totals.applicable_leaves} tiêu chí" + _appraisal_part(snap, code)
        )


def _group_heading(slot, code: str) -> None:
    snap = _data()
    node, totals = snap.criteria_set.node(code), snap.rollup.node(code)
    slot.markdown(f"#### {ui.md(node.code)} {ui.md(node.name)} · {format_number(totals.self_points or 0)}/"
                f"{format_number(totals.applicable_max)} điểm" + _appraisal_part(snap, code))


def _appraisal_part(snap: Snapshot, code: str) -> str:
    """ " · thẩm định 4,5/6 điểm" once the node is appraised, " · đang thẩm định 2/3" meanwhile; nothing before."""
    if not snap.appraisal_started:
        return ""
    maximum = snap.rollup.node(code).applicable_max
    return " · " + snap.appraisal(code).text(lambda points: f"thẩm định {format_number(points)}/{format_number(maximum)} điểm")


def _row_texts(r: CriterionRow) -> dict[str, str]:
    """A criterion at a glance, in the same words in the area's table and in the summary of a criterion not open."""
    return {
        "Tối đa": format_points(r.maximum),
        "Tự chấm": "không đánh giá" if r.not_applicable else ("chưa chấm" if r.self_points is None else format_points(r.self_points)),
        "Thẩm định": "—" if r.not_applicable else r.appraisal.text(format_points),
        "Còn thiếu": "; ".join(r.missing) or "—",
    }


def _leaf_summary(r: CriterionRow) -> None:
    """A criterion that is not being worked on: what it stands at, read-only, as one button that opens it. Only the
    open criterion draws its inputs, and each other one is a single element (its code and name, then its facts
    in small type), so a page or area change sends and draws one element per criterion, not a form or a card."""
    texts = _row_texts(r)
    facts = [f"Tối đa {texts['Tối đa']}", f"Tự chấm: {texts['Tự chấm']}", f"{r.evidence} tài liệu"]
    if snap.appraisal_started:
        facts.append(f"Thẩm định: {texts['Thẩm định']}")
    if r.missing:
        facts.append(f"Còn thiếu: {texts['Còn thiếu']}")
    unsaved = " · **có giá trị chưa được lưu**" if st.session_state.get(_unsaved_key(r.code)) else ""
    st.button(f"**{ui.label(r.code)}** {ui.label(r.name)}  \n:small[{' · '.join(ui.label(f) for f in facts)}{unsaved}]",
              key=f"score-open-{r.code}", on_click=_work_on, args=(r.code,), width="stretch", wrap=True,
              icon=":material/edit_note:" if may_score else ":material/visibility:")


def _overview(area_code: str) -> None:
    """The room's overview of an area: every criterion on one screen; a row opens its criterion."""
    rows = snap.criterion_rows(area_code)
    st.session_state[OVERVIEW_CODES] = [r.code for r in rows]
    table = pd.DataFrame([{"Mã": r.code, "Tiêu chí": r.name, **_row_texts(r), "Tài liệu": r.evidence} for r in rows],
                         columns=["Mã", "Tiêu chí", "Tối đa", "Tự chấm", "Thẩm định", "Tài liệu", "Còn thiếu"])
    st.caption("Chọn một dòng để mở tiêu chí đó.")
    ui.dataframe(table, hide_index=True, key=OVERVIEW, on_select=lambda: _opened_from(OVERVIEW, OVERVIEW_CODES),
                 selection_mode="single-row", height=min(38 + 35 * len(rows), 640),
                 column_config={"Tiêu chí": st.column_config.TextColumn(width="medium"),
                                "Còn thiếu": st.column_config.TextColumn(width="large")})


st.session_state.setdefault(VIEW, VIEW_DETAIL)
with st.container(horizontal=True, vertical_alignment="bottom"):  # one block, not columns: fewer elements per run
    area_code = st.selectbox("Lĩnh vực", area_codes, placeholder=ui.CHOOSE_ONE, format_func=_area_label, key=AREA,
                             on_change=_whole_area)
    view = st.segmented_control("Cách xem", [VIEW_DETAIL, VIEW_TABLE], key=VIEW, on_change=_whole_area) or VIEW_DETAIL
focus = st.session_state.get(FOCUS)
if focus is not None and snap.criteria_set.area_of(focus) != area_code:
    focus = None
area = snap.criteria_set.node(area_code)
area_heading = st.empty()


def _ancestors(code: str) -> set[str]:
    ancestors, parents = set(), snap.criteria_set.parent_codes()
    step = parents.get(code)
    while step is not None:
        ancestors.add(step)
        step = parents.get(step)
    return ancestors


def _open_block(code: str, group_headings: dict) -> None:
    st.fragment(_leaf_block, key=_leaf_key(code))(code, summary_slot, area_heading, group_headings)


if view == VIEW_TABLE:
    _summary(summary_slot)
    _area_heading(area_heading, area_code)
    _overview(area_code)
elif focus is not None:
    # One criterion by itself, under the headings of the groups it belongs to (it draws them: see _leaf_block).
    st.button(f"Hiện cả lĩnh vực {area_code}", key="score-whole-area", on_click=_whole_area, icon=":material/unfold_more:")
    ancestors = _ancestors(focus)
    _open_block(focus, {node.code: st.empty() for node in area.walk()
                        if node is not area and not node.is_leaf and node.code in ancestors})
else:
    only_open = st.toggle("Chỉ hiện tiêu chí chưa chấm", key="score-only-open")
    rows = {r.code: r for r in snap.criterion_rows(area_code)}
    open_code = st.session_state.get(OPEN)
    if open_code not in rows and rows:
        open_code = st.session_state[OPEN] = next(iter(rows))  # an area opens at its first criterion
    ancestors = _ancestors(open_code) if open_code else set()
    group_headings = {}
    for node in area.walk():
        if node is area:
            continue
        if not node.is_leaf:
            if node.code in ancestors:  # the open criterion draws it (its totals change with its saves)
                group_headings[node.code] = st.empty()
            else:
                _group_heading(st, node.code)
        elif node.code == open_code:  # drawn whatever the filter: a criterion scored just now stays in view
            _open_block(node.code, group_headings)
        elif not (only_open and (rows[node.code].not_applicable or rows[node.code].self_points is not None)):
            _leaf_summary(rows[node.code])
    if open_code is None:  # an area without criteria
        _summary(summary_slot)
        _area_heading(area_heading, area_code)

ui.follow_the_data()  # others' saves show within seconds; what this person holds unsaved stays (_follow_stored)

here = area_codes.index(area_code)
with st.container(horizontal=True, horizontal_alignment="distribute" if here > 0 else "right"):
    if here > 0:
        st.button(f"◀ Lĩnh vực {area_codes[here - 1]}", key="score-area-back", on_click=_step_area, args=(-1,))
    if here < len(area_codes) - 1:
        st.button(f"Lĩnh vực {area_codes[here + 1]} ▶", key="score-area-next", on_click=_step_area, args=(1,))
