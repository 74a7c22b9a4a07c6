"""The stored plan: importing a year's plan, its activities, and the progress the units report on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from scoring.access.auth import Action
from scoring.errors import InputError
from scoring.plan.model import Plan
from scoring.plan.stats import STATUS_LABELS, UNCHANGED, ActivityState, area_sort_key, reconcile_progress
from scoring.store.actors import SYSTEM_ACTOR, Actor, actor_name, check_allowed
from scoring.store.audit_trail import audit
from scoring.store.db import Database
from scoring.store.models import (
    ActivityRecord,
    Department,
    EvidenceActivity,
    EvidenceRecord,
    PlanRecord,
    utcnow,
)
from scoring.store.rows import check_version, get_row
from scoring.textnorm import local_today, nfc

# ---------------------------------------------------------------- plan and activities


@dataclass(frozen=True)
class ActivityView:
    id: int
    code: str
    area: str
    goal: str
    task: str
    text: str
    output: str
    lead: list[str]
    partners: list[str]
    deadline: str
    due: date | None
    deadline_kind: str
    conditional: bool
    status: str
    progress: int
    completed_on: date | None
    note: str
    version: int
    evidence_dates: list[date] = field(default_factory=list)
    notices: tuple[str, ...] = ()  # set by update_activity: what it adjusted to keep the activity coherent

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    def state(self) -> ActivityState:
        return ActivityState(id=self.code, area=self.area, lead=list(self.lead), due=self.due, status=self.status, progress=self.progress)


@dataclass(frozen=True)
class PlanView:
    id: int
    year: int
    title: str
    organisation: str
    source_name: str
    areas: list[dict]
    warnings: list[dict]
    imported_at: datetime


@dataclass(frozen=True)
class PlanSaveResult:
    plan_id: int
    added: list[str]
    updated: list[str]
    removed: list[str]
    kept: list[str]


def save_plan(db: Database, department_id: int, plan: Plan, *, mode: str = "replace", actor: Actor = SYSTEM_ACTOR,
              year: int | None = None) -> PlanSaveResult:
    """Store an imported plan as the department's plan for its year.

    mode "replace": the year's activities become exactly the new plan's (progress kept for the same codes,
    since a corrected re-import must not erase the Office's tracking). mode "merge": activities of the new
    plan are added or updated, activities only in the old plan stay.
    """
    if mode not in ("replace", "merge"):
        raise ValueError(mode)
    year = year or plan.year
    if not year:
        raise InputError("Kế hoạch không ghi năm («... NĂM 2026» trong tiêu đề): hãy chọn năm trước khi lưu.")
    check_allowed(actor, Action.IMPORT_PLAN, department_id=department_id)
    with db.session() as session:
        get_row(session, Department, department_id, "cơ quan")
        record = session.scalar(select(PlanRecord).where(PlanRecord.department_id == department_id, PlanRecord.year == year))
        if record is None:
            record = PlanRecord(department_id=department_id, year=year)
            session.add(record)
        record.title, record.organisation, record.source_name = plan.title, plan.organisation, plan.source
        record.areas = _merge_areas(record.areas or [], plan, mode)
        record.warnings = [w.as_dict() for w in plan.warnings]
        record.imported_at = utcnow()
        session.flush()
        existing = {a.code: a for a in record.activities}
        added, updated = [], []
        incoming_codes = set()
        for position, activity in enumerate(plan.activities):
            incoming_codes.add(activity.id)
            row = existing.get(activity.id)
            if row is None:
                row = ActivityRecord(plan_id=record.id, code=activity.id)
                record.activities.append(row)
                added.append(activity.id)
            else:
                updated.append(activity.id)
            row.position = position
            row.area, row.goal, row.task, row.text = activity.area, activity.goal, activity.task, activity.text
            row.output, row.lead, row.partners = activity.output, list(activity.lead), list(activity.partners)
            row.deadline, row.due, row.deadline_kind = activity.deadline, activity.due, activity.deadline_kind
            row.conditional = activity.conditional
            row.updated_at, row.updated_by = utcnow(), actor_name(actor)
        removed, kept = [], []
        for code, row in existing.items():
            if code in incoming_codes:
                continue
            if mode == "replace":
                record.activities.remove(row)
                removed.append(code)
            else:
                kept.append(code)
        audit(session, actor, department_id, "plan", str(year), {
            f"nhập kế hoạch ({'thay thế' if mode == 'replace' else 'gộp'})": (
                None, f"{plan.source}: thêm {len(added)}, cập nhật {len(updated)}, bỏ {len(removed)}"),
        })
        session.flush()
        return PlanSaveResult(record.id, added, updated, removed, kept)


def _merge_areas(old: list[dict], plan: Plan, mode: str) -> list[dict]:
    new = [
        {**area.as_dict(), "goals": list(area.goals), "tasks": list(area.tasks)}
        for area in plan.areas
    ]
    if mode == "replace":
        return new
    merged = {a["code"]: a for a in old}
    merged.update({a["code"]: a for a in new})
    return sorted(merged.values(), key=lambda a: area_sort_key(a["code"]))


def get_plan(db: Database, department_id: int, year: int) -> PlanView | None:
    with db.session() as session:
        record = session.scalar(select(PlanRecord).where(PlanRecord.department_id == department_id, PlanRecord.year == year))
        if record is None:
            return None
        return PlanView(record.id, record.year, record.title, record.organisation, record.source_name,
                        list(record.areas or []), list(record.warnings or []), record.imported_at)


def list_activities(db: Database, department_id: int, year: int) -> list[ActivityView]:
    with db.session() as session:
        record = session.scalar(select(PlanRecord).where(PlanRecord.department_id == department_id, PlanRecord.year == year))
        if record is None:
            return []
        dates = _evidence_dates_by_activity(session, [a.id for a in record.activities])
        return [_activity_view(a, dates.get(a.id, [])) for a in record.activities]


def _evidence_dates_by_activity(session: Session, activity_ids: list[int]) -> dict[int, list[date]]:
    if not activity_ids:
        return {}
    rows = session.execute(
        select(EvidenceActivity.activity_id, EvidenceRecord.issued_on)
        .join(EvidenceRecord, EvidenceRecord.id == EvidenceActivity.evidence_id)
        .where(EvidenceActivity.activity_id.in_(activity_ids))
    ).all()
    result: dict[int, list[date]] = {}
    for activity_id, issued_on in rows:
        if issued_on:
            result.setdefault(activity_id, []).append(issued_on)
    return result


def _activity_view(a: ActivityRecord, evidence_dates: list[date]) -> ActivityView:
    return ActivityView(a.id, a.code, a.area, a.goal, a.task, a.text, a.output, list(a.lead or []), list(a.partners or []),
                        a.deadline, a.due, a.deadline_kind, a.conditional, a.status, a.progress, a.completed_on, a.note,
                        a.version, sorted(evidence_dates))


def update_activity(db: Database, activity_id: int, expected_version: int, *, actor: Actor, status: str | None = None,
                    progress: int | None = None, completed_on: date | None | str = UNCHANGED, note: str | None = None) -> ActivityView:
    """Record progress on one activity: the fields given change, the others stay (completed_on=None empties the date).

    Status, progress and completion date are kept coherent by stats.reconcile_progress (its docstring lists
    the rules): a contradiction is refused with an InputError naming the activity and the field, and what was
    adjusted to fit is said in the returned view's `notices`, one sentence each.
    """
    with db.session() as session:
        row = get_row(session, ActivityRecord, activity_id, "hoạt động")
        check_allowed(actor, Action.EDIT_OWN_UNIT_ACTIVITY, department_id=row.plan.department_id, activity_lead_units=list(row.lead or []))
        check_version(row, expected_version, f"Hoạt động {row.code}")
        result = reconcile_progress(row.code, (row.status, row.progress, row.completed_on), status=status, progress=progress,
                                    completed_on=completed_on, today=local_today())
        before = {"trạng thái": row.status, "tiến độ": row.progress, "ngày hoàn thành": row.completed_on, "ghi chú": row.note}
        row.status, row.progress, row.completed_on = result.status, result.progress, result.completed_on
        if note is not None:
            row.note = nfc(note)
        row.updated_at, row.updated_by = utcnow(), actor_name(actor)
        after = {"trạng thái": row.status, "tiến độ": row.progress, "ngày hoàn thành": row.completed_on, "ghi chú": row.note}
        department_id = row.plan.department_id
        audit(session, actor, department_id, "activity", f"{row.plan.year}/{row.code}",
              {k: (before[k], after[k]) for k in before})
        session.flush()
        return replace(_activity_view(row, []), notices=result.notices)
