"""What waits for the signed-in person: the things of the yearly cycle that need them, as sentences that say what,
by when, and on which page it is done. Each item follows the person's rights (scoring.access.auth): the Office is told
what the Office does, a unit what its own activities need, the appraiser what its departments await from it.
"""

from __future__ import annotations

from dataclasses import dataclass

from scoring.access.auth import Action, Principal, Role, can
from scoring.assessment.cycle import CycleState, round_last_day, self_scoring_deadline
from scoring.assessment.settings import ROUND_EXPLANATION
from scoring.assessment.snapshot import Snapshot
from scoring.assessment.stages import STAGE_APPRAISAL_1, STAGE_APPRAISAL_2, Deadline
from scoring.province.progress import DepartmentProgress
from scoring.textnorm import format_date

SOON_DAYS = 3  # a deadline this close (or passed) is said even when nothing else is pending
PAGE_SCORING, PAGE_PLAN, PAGE_EVIDENCE = "cham-diem", "ke-hoach", "tai-lieu"
LISTED_CODES = 6  # codes named in one sentence before "…"


@dataclass(frozen=True)
class Awaiting:
    text: str  # one Vietnamese sentence
    page: str  # the url path of the page where it is done
    urgent: bool = False  # its deadline is within SOON_DAYS or passed
    # What the item is about, stable from one day to the next (the text's "còn 5 ngày" is not): a reminder sent
    # for a key is not sent again (scoring.assessment.reminders). The deadline's day is part of it (an extension is news), and
    # so is urgency: a deadline SOON_DAYS away is an item of its own, even after the same thing was told earlier.
    key: str = ""


def _key(*parts: object, urgent: bool = False) -> str:
    return "/".join(str(part) for part in parts) + ("/sap-den-han" if urgent else "")


def _codes(codes: list[str]) -> str:
    shown = ", ".join(codes[:LISTED_CODES])
    return shown + (f" và {len(codes) - LISTED_CODES} tiêu chí khác" if len(codes) > LISTED_CODES else "")


def _round_end(state: CycleState, round_code: str) -> Deadline | None:
    """The round's last day, an administrator's extension included, as a deadline from today."""
    day = round_last_day(state, round_code)
    return Deadline("hạn", day, (day - state.today).days) if day else None


def _may(who: Principal | None, action: Action, department_id: int, **context) -> bool:
    return who is None or can(who, action, department_id=department_id, **context)


def awaiting_in_department(snap: Snapshot, state: CycleState | None, who: Principal | None) -> list[Awaiting]:
    """What the department's year needs from `who` (None: open mode, the Office's view), most urgent first."""
    items: list[Awaiting] = []
    department_id = snap.department.id
    if state is not None and snap.assessment is not None and not state.published:
        items += _explanations(snap, state, who)
        if not state.locked and _may(who, Action.EDIT_SELF_SCORE, department_id):
            items += _self_scoring(snap, state)
        if not state.locked and _may(who, Action.UPLOAD_EVIDENCE, department_id):
            gaps = [g.code for g in snap.evidence_gaps() if not g.attached and not g.has_explanation]
            if gaps:  # with no deadline of its own: told again once a month while it lasts
                items.append(Awaiting(f"{len(gaps)} tiêu chí chưa có tài liệu kiểm chứng nào và chưa giải trình: {_codes(gaps)}.",
                                      PAGE_EVIDENCE, key=_key("tai-lieu", department_id, snap.year, f"{state.today:%Y-%m}")))
    items += _own_activities(snap, who)
    return sorted(items, key=lambda item: not item.urgent)


def _explanations(snap: Snapshot, state: CycleState, who: Principal | None) -> list[Awaiting]:
    if not _may(who, Action.EDIT_EXPLANATION, snap.department.id):
        return []
    waiting = {code for code, score in snap.scores.items()
               if score.appraisal.explanation_requested and not score.appraisal.explanation.strip()}
    asked = [leaf.code for leaf in snap.leaves() if leaf.code in waiting]  # in the set's order
    if not asked:
        return []
    until = _round_end(state, ROUND_EXPLANATION)
    if state.round_open(ROUND_EXPLANATION):
        when = until.text if until else "đang trong vòng giải trình"
        urgent = until is not None and until.days_left <= SOON_DAYS
        stage = ("dang-mo", until.day if until else "")
    else:
        opens = state.round(ROUND_EXPLANATION).opens
        waits = bool(opens and opens > state.today)
        when = f"vòng giải trình mở từ {format_date(opens)}" if waits else state.closed_text(ROUND_EXPLANATION).rstrip(".")
        urgent = False
        stage = ("cho-mo", opens) if waits else ("da-dong", "")
    return [Awaiting(f"Sở Nội vụ yêu cầu giải trình {len(asked)} tiêu chí ({_codes(asked)}): {when}.", PAGE_SCORING, urgent,
                     _key("giai-trinh", snap.department.id, snap.year, *stage, urgent=urgent))]


def _self_scoring(snap: Snapshot, state: CycleState) -> list[Awaiting]:
    deadline = self_scoring_deadline(state)
    if deadline is None or snap.rollup is None:
        return []
    left = (deadline - state.today).days
    if left > SOON_DAYS:
        return []
    unscored = snap.rollup.total.unscored_leaves
    blockers = len(snap.lock_blockers())
    when = Deadline("Hạn tự chấm", deadline, left).text
    detail = ", ".join(part for part in (
        f"còn {unscored} tiêu chí chưa chấm" if unscored else "",
        f"{blockers} vướng mắc trước khi chốt" if blockers else "",
    ) if part) or "đã đủ để chốt"
    return [Awaiting(f"{when}: {detail}.", PAGE_SCORING, urgent=True,
                     key=_key("tu-cham", snap.department.id, snap.year, deadline, urgent=True))]


def _own_activities(snap: Snapshot, who: Principal | None) -> list[Awaiting]:
    """A unit's activities (those it leads) overdue or due within SOON_DAYS; the Office sees the plan's on Tổng quan."""
    if who is None or can(who, Action.EDIT_ANY_ACTIVITY, department_id=snap.department.id):
        return []
    items = []
    overdue = snap.overdue()
    for state in overdue + [s for s in snap.upcoming(days=SOON_DAYS) if s not in overdue]:
        if not can(who, Action.EDIT_OWN_UNIT_ACTIVITY, department_id=snap.department.id, activity_lead_units=state.lead):
            continue
        deadline = Deadline("hạn", state.due, (state.due - snap.today).days)
        late = "qua-han" if deadline.days_left < 0 else "sap-den-han"  # told when it comes near, and once it has passed
        items.append(Awaiting(f"Hoạt động {state.id} do đơn vị chủ trì: {deadline.text}.", PAGE_PLAN, urgent=True,
                              key=_key("hoat-dong", snap.department.id, snap.year, state.id, state.due, late)))
    return items


def awaiting_appraisal(rows: list[DepartmentProgress], who: Principal | None) -> list[Awaiting]:
    """What the appraiser's departments await from it (scoring.province.progress rows): an open round with criteria it has
    still to appraise there, most urgent first. Nothing for other roles: the administrator follows the table."""
    if who is None or who.role is not Role.APPRAISER:
        return []
    items = []
    for row in rows:
        if row.stage not in (STAGE_APPRAISAL_1, STAGE_APPRAISAL_2) or not row.appraisal_left:
            continue
        round_name = "thẩm định lần 1" if row.stage == STAGE_APPRAISAL_1 else "thẩm định lần 2"
        when = f" đến {format_date(row.deadline.day)} ({row.deadline.left_text})" if row.deadline else ""
        urgent = row.deadline is not None and row.deadline.days_left <= SOON_DAYS
        items.append(Awaiting(f"{row.name}: vòng {round_name} đang mở{when}, còn {row.appraisal_left} tiêu chí chưa thẩm định.",
                              PAGE_SCORING, urgent,
                              _key("tham-dinh", row.department_id, row.year, "vong-1" if row.stage == STAGE_APPRAISAL_1 else "vong-2",
                                   row.deadline.day if row.deadline else "",
                                   urgent=urgent)))
    return sorted(items, key=lambda item: not item.urgent)
