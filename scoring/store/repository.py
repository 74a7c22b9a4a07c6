"""Every read and write the app and the CLI make. Each write is one transaction and leaves an audit entry.

Edits carry the version the person saw: a write against a newer version raises ConflictError, so two
people editing the same criterion or activity never silently overwrite each other.
"""

from __future__ import annotations

import getpass
import json
import re
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Iterable

from sqlalchemy import and_, delete, select, update
from sqlalchemy.orm import Session

from scoring.access.auth import Action, Principal, Role, authorize, authorize_view, can
from scoring.assessment.cycle import (
    APPRAISAL_WRITES,
    AUTHOR_TRANSCRIBED,
    ROUND_LABELS,
    Authorship,
    CycleState,
    LeafAppraisal,
    RoundOverride,
    SourceDocument,
    Write,
    YearSettings,
    copy_forward,
    default_settings,
    may_write,
    settings_problems,
    vietnam_today,
)
from scoring.errors import STALE_WRITE_MESSAGE, ConflictError, InputError, NotFoundError
from scoring.plan.model import Plan
from scoring.plan.stats import STATUS_LABELS, UNCHANGED, ActivityState, area_sort_key, reconcile_progress
from scoring.store.db import Database
from scoring.store.models import (
    Account,
    AccountDepartment,
    ActivityRecord,
    Assessment,
    AuditEntry,
    CriteriaSetRecord,
    Department,
    EvidenceActivity,
    EvidenceCriterion,
    EvidenceRecord,
    GroupCriteriaSet,
    PlanRecord,
    ScoreRecord,
    utcnow,
)
from scoring.textnorm import format_date, format_datetime, format_number, format_percent, local_today, local_zone, nfc

SYSTEM_ACTOR = "hệ thống"  # the app itself: the embedded default seeded on first start (scoring.store.workspace)
COMMAND_LINE = "dòng lệnh"

# Who makes a change, or reads what needs a right (every write and every guarded read takes one, no default):
# - a signed-in `Principal`: its role and departments are checked here, on every call (`_allow`);
# - a plain, non-empty name: a caller without an account that is trusted with everything, because whoever runs
#   it already holds the data folder and the database file. Three callers do this, and only they:
#   the command line, as the machine's operator (`command_line_actor()`, "dòng lệnh (root)");
#   first-start seeding and the app's own check of the deadlines (`SYSTEM_ACTOR`);
#   the app in open mode (CCHC_AUTH=off, served to the machine it runs on only), as the name typed in its sidebar.
#   With sign-in on the app never passes a name: ui.actor() gives the signed-in Principal.
Actor = Principal | str


def command_line_actor() -> str:
    """The command line's name in the audit log: the operator's login on this machine, when it can be read."""
    try:
        login = getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name in the environment nor in the password database
        return COMMAND_LINE
    return f"{COMMAND_LINE} ({login})" if login else COMMAND_LINE


def actor_name(actor: Actor) -> str:
    return actor.username if isinstance(actor, Principal) else (actor or SYSTEM_ACTOR)


def _allow(actor: Actor, action: Action, **context) -> None:
    """Permission check for signed-in people; enforced here, not only by hiding buttons. A name is a trusted
    caller (see Actor); anything else (None, an empty name) is a programming error, never an open door."""
    if isinstance(actor, Principal):
        authorize(actor, action, **context)
    else:
        _trusted(actor)


def _trusted(actor: Actor) -> None:
    if not isinstance(actor, str) or not actor.strip():
        raise TypeError(f"an actor is a Principal or the non-empty name of a trusted caller, not {actor!r}")




# ---------------------------------------------------------------- audit
#
# Rows keep what was changed as it was stored (status codes, JSON for structured values, dates already
# Vietnamese) and the login of who changed it. They are made readable when read (audit_log), so rows written
# before a wording changes read as well as new ones.


def _text(value: Any) -> str | None:
    """A value as the audit row stores it: JSON for structures, so audit_log can read them back."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return format_number(value)
    if isinstance(value, bool):
        return "có" if value else "không"
    if isinstance(value, datetime):  # before date: a datetime is a date too, and the time would be lost
        return value.isoformat()
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(_plain_json(value), ensure_ascii=False, sort_keys=True)
    return str(value)


def _plain_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_json(v) for v in value]
    if isinstance(value, Decimal):
        return format_number(value, 4)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def _audit(session: Session, actor: Actor, department_id: int | None, entity: str, key: str, changes: dict[str, tuple[Any, Any]]) -> None:
    now = utcnow()
    for name, (old, new) in changes.items():
        if _text(old) != _text(new):
            session.add(AuditEntry(at=now, actor=actor_name(actor), department_id=department_id, entity=entity,
                                   entity_key=key, field=name, old=_text(old), new=_text(new)))


@dataclass(frozen=True)
class AuditView:
    """One change as people read it: old and new are readable text ("Đang thực hiện", "có", "20/02/2026",
    "mức: 1; tử số: 17"), "—" when empty; actor is the stored login (what the filter matches), actor_label
    the person's full name beside it ("Nguyễn Văn A (nguyenvana)")."""

    at: datetime
    actor: str
    entity: str
    entity_key: str
    field: str
    old: str
    new: str
    actor_label: str = ""

    @property
    def at_text(self) -> str:
        return format_datetime(self.at)

    @property
    def subject(self) -> str:
        """What was changed, "Tiêu chí 2026/1.1.1"."""
        kind = _AUDIT_ENTITY_LABELS.get(self.entity)
        return f"{kind} {self.entity_key}" if kind else self.entity_key


EMPTY_AUDIT_VALUE = "—"
_AUDIT_ENTITY_LABELS = {
    "score": "Tiêu chí", "activity": "Hoạt động", "evidence": "Tài liệu", "plan": "Kế hoạch năm", "assessment": "Kỳ đánh giá",
    "department": "Cơ quan", "criteria_set": "Bộ tiêu chí", "account": "Tài khoản",
    "criteria_mapping": "Đối chiếu tiêu chí", "department_group": "Nhóm cơ quan",
}

# Keys of structured values (score inputs, year settings) in the words the pages use for them.
_AUDIT_KEY_LABELS = {
    "tier": "mức", "numerator": "tử số", "denominator": "mẫu số", "count": "số lượng", "value": "điểm",
    "occurrences": "số lần vi phạm", "survey": "điểm điều tra XHH",
    "year": "năm", "rounds": "các vòng", "survey_run": "có điều tra XHH", "survey_share": "điểm phần điều tra XHH",
    "bonus_cap": "điểm thưởng tối đa", "penalty_cap": "điểm trừ tối đa", "bands": "xếp loại", "code": "mã",
    "label": "tên", "opens": "từ ngày", "closes": "đến ngày", "min_percent": "từ (%)",
}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?")


def audit_value_text(stored: str | None) -> str:
    """A stored audit value as people read it (rows of every age: status codes, JSON, Python's True/None)."""
    if stored is None or not stored.strip() or stored.strip() == "None":
        return EMPTY_AUDIT_VALUE
    stored = stored.strip()
    if stored[0] in "[{":
        try:
            return _readable(json.loads(stored))
        except ValueError:
            pass
    return _readable_scalar(stored)


def _readable(value: Any) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY_AUDIT_VALUE
    if isinstance(value, dict):
        return "; ".join(f"{_AUDIT_KEY_LABELS.get(k, k)}: {_readable(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(f"({_readable(v)})" if isinstance(v, dict) else _readable(v) for v in value)
    if isinstance(value, bool):
        return "có" if value else "không"
    if isinstance(value, (int, float)):
        return format_number(value, 4)
    return _readable_scalar(str(value))


def _readable_scalar(text: str) -> str:
    if text in ("True", "true"):
        return "có"
    if text in ("False", "false"):
        return "không"
    if text in STATUS_LABELS:
        return STATUS_LABELS[text]
    if _ISO_DATE.fullmatch(text):
        return format_date(date.fromisoformat(text))
    if _ISO_DATETIME.fullmatch(text):
        try:
            return format_datetime(datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            return text
    return text


def _actor_labels(session: Session, logins: Iterable[str]) -> dict[str, str]:
    """Login → "Full Name (login)" for the accounts among them; typed names and "hệ thống" stay as they are."""
    logins = sorted(set(logins))
    if not logins:
        return {}
    rows = session.execute(select(Account.username, Account.display_name).where(Account.username.in_(logins))).all()
    names = {username: (display or "").strip() for username, display in rows}
    return {login: f"{names[login]} ({login})" if names.get(login) and names[login] != login else login for login in logins}


def _utc_bound(day: date, end: bool) -> datetime:
    """The first (or last) moment of a local calendar day, as the naive UTC the log stores."""
    moment = datetime.combine(day, datetime.max.time() if end else datetime.min.time(), tzinfo=local_zone())
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def audit_log(db: Database, department_id: int, *, viewer: Actor, actor: str | None = None, entity_key: str | None = None,
              since: date | None = None, until: date | None = None, limit: int = 500, with_accounts: bool = False) -> list[AuditView]:
    """The department's changes, newest first, readable (AuditView), for `viewer` (a Principal allowed to see the
    log there, or a trusted caller's name: see Actor). `actor` is a login or an account's full name; since/until
    are days in local time.

    with_accounts adds the changes that belong to no department (accounts, criteria sets): for those who
    manage accounts."""
    _allow(viewer, Action.VIEW_AUDIT_LOG, department_id=department_id)
    if with_accounts:
        _allow(viewer, Action.MANAGE_ACCOUNTS, department_id=department_id)
    with db.session() as session:
        scope = AuditEntry.department_id == department_id
        query = select(AuditEntry).where(scope | AuditEntry.department_id.is_(None) if with_accounts else scope)
        if actor:  # the login, or the full name of an account
            named = session.scalars(select(Account.username).where(Account.display_name == nfc(actor))).all()
            query = query.where(AuditEntry.actor.in_({actor, *named}))
        if entity_key:
            query = query.where(AuditEntry.entity_key.contains(entity_key))
        if since:
            query = query.where(AuditEntry.at >= _utc_bound(since, end=False))
        if until:
            query = query.where(AuditEntry.at <= _utc_bound(until, end=True))
        rows = session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit)).all()
        labels = _actor_labels(session, (r.actor for r in rows))
        return [AuditView(r.at, r.actor, r.entity, r.entity_key, r.field, audit_value_text(r.old), audit_value_text(r.new),
                          labels.get(r.actor, r.actor)) for r in rows]


# ---------------------------------------------------------------- departments and years


@dataclass(frozen=True)
class DepartmentView:
    id: int
    name: str
    units: list[str]
    version: int = 1
    governing_body: str = ""  # the line above the name on official forms, "UBND TỈNH QUẢNG NINH"; "" not set
    place: str = ""  # the place of the date line, "Quảng Ninh" in "Quảng Ninh, ngày …"; "" not set


def _department_view(department: Department) -> DepartmentView:
    return DepartmentView(department.id, department.name, list(department.units or []), department.version,
                          department.governing_body or "", department.place or "")


def list_departments(db: Database, viewer: Actor | None = None) -> list[DepartmentView]:
    """Every department, or only those a signed-in viewer is assigned to."""
    with db.session() as session:
        query = select(Department).order_by(Department.id)
        if isinstance(viewer, Principal):
            query = query.where(Department.id.in_(viewer.department_ids))
        rows = session.scalars(query).all()
        return [_department_view(d) for d in rows]


def create_department(db: Database, name: str, units: Iterable[str], *, governing_body: str = "", place: str = "",
                      actor: Actor) -> int:
    """A new department; for the administrator (or a trusted caller). The administrator who adds it is given it,
    since an account sees only the departments it holds and nobody else could give it one they do not hold."""
    _allow(actor, Action.CREATE_DEPARTMENT)
    name = nfc(name)
    if not name:
        raise InputError("Tên cơ quan không được để trống.")
    with db.session() as session:
        if session.scalar(select(Department).where(Department.name == name)):
            raise InputError(f"Cơ quan «{name}» đã có trong cơ sở dữ liệu.")
        department = Department(name=name, units=_clean_units(units), updated_by=actor_name(actor),
                                governing_body=_letterhead_text(governing_body, "Cơ quan chủ quản", 200),
                                place=_letterhead_text(place, "Địa danh", 100))
        session.add(department)
        session.flush()
        _audit(session, actor, department.id, "department", name, {
            "tạo mới": (None, name), "cơ quan chủ quản": (None, department.governing_body),
            "địa danh": (None, department.place)})
        if isinstance(actor, Principal):
            account = session.scalar(select(Account).where(Account.username == actor.username))
            if account is None:
                raise NotFoundError(f"Không có tài khoản «{actor.username}»; hãy đăng nhập lại.")
            held = sorted(d.department_id for d in account.departments)
            account.departments.append(AccountDepartment(department_id=department.id))
            account.version += 1  # as every change to an account does (accounts._changed)
            account.updated_at, account.updated_by = utcnow(), actor.username
            session.add(AuditEntry(actor=actor.username, department_id=None, entity="account", entity_key=account.username,
                                   field="cơ quan", old=", ".join(map(str, held)), new=", ".join(map(str, [*held, department.id]))))
        return department.id


def update_department(db: Database, department_id: int, expected_version: int, *, name: str, units: Iterable[str],
                      governing_body: str | None = None, place: str | None = None, actor: Actor) -> DepartmentView:
    """The department's name, units and letterhead (governing body, place; None keeps what is stored), if they
    are still the version the person saw (DepartmentView.version)."""
    name = nfc(name)
    if not name:
        raise InputError("Tên cơ quan không được để trống.")
    _allow(actor, Action.MANAGE_SETTINGS, department_id=department_id)
    with db.session() as session:
        department = _get(session, Department, department_id, "cơ quan")
        _check_version(department, expected_version, f"Thông tin cơ quan «{department.name}»")
        if name != department.name and session.scalar(select(Department.id).where(Department.name == name)):
            raise InputError(f"Cơ quan «{name}» đã có trong cơ sở dữ liệu.")
        new_units = _clean_units(units)
        new_body = department.governing_body if governing_body is None else _letterhead_text(
            governing_body, "Cơ quan chủ quản", 200)
        new_place = department.place if place is None else _letterhead_text(place, "Địa danh", 100)
        _audit(session, actor, department.id, "department", name,
               {"tên": (department.name, name), "đơn vị": (department.units, new_units),
                "cơ quan chủ quản": (department.governing_body, new_body), "địa danh": (department.place, new_place)})
        department.name, department.units = name, new_units
        department.governing_body, department.place = new_body, new_place
        department.updated_at, department.updated_by = utcnow(), actor_name(actor)
        session.flush()
        return _department_view(department)


def _letterhead_text(text: str, label: str, limit: int) -> str:
    """One line of the letterhead: spaces tidied, on one line, within the column's length."""
    value = " ".join(nfc(text).split())
    if len(value) > limit:
        raise InputError(f"«{label}» dài quá {limit} ký tự (đang có {len(value)}); thông tin cơ quan chưa được lưu.")
    return value


def _clean_units(units: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(u for u in (nfc(x) for x in units) if u))


def list_years(db: Database, department_id: int) -> list[int]:
    with db.session() as session:
        plan_years = session.scalars(select(PlanRecord.year).where(PlanRecord.department_id == department_id)).all()
        assessed = session.scalars(select(Assessment.year).where(Assessment.department_id == department_id)).all()
        return sorted(set(plan_years) | set(assessed), reverse=True)


def _get(session: Session, model, key, what: str):
    row = session.get(model, key)
    if row is None:
        raise _not_found(what, key)
    return row


def _not_found(what: str, key) -> NotFoundError:
    return NotFoundError(f"Không tìm thấy {what} (mã {key}); có thể đã bị xóa. Hãy tải lại trang.")


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
    _allow(actor, Action.IMPORT_PLAN, department_id=department_id)
    with db.session() as session:
        _get(session, Department, department_id, "cơ quan")
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
        _audit(session, actor, department_id, "plan", str(year), {
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
        row = _get(session, ActivityRecord, activity_id, "hoạt động")
        _allow(actor, Action.EDIT_OWN_UNIT_ACTIVITY, department_id=row.plan.department_id, activity_lead_units=list(row.lead or []))
        _check_version(row, expected_version, f"Hoạt động {row.code}")
        result = reconcile_progress(row.code, (row.status, row.progress, row.completed_on), status=status, progress=progress,
                                    completed_on=completed_on, today=local_today())
        before = {"trạng thái": row.status, "tiến độ": row.progress, "ngày hoàn thành": row.completed_on, "ghi chú": row.note}
        row.status, row.progress, row.completed_on = result.status, result.progress, result.completed_on
        if note is not None:
            row.note = nfc(note)
        row.updated_at, row.updated_by = utcnow(), actor_name(actor)
        after = {"trạng thái": row.status, "tiến độ": row.progress, "ngày hoàn thành": row.completed_on, "ghi chú": row.note}
        department_id = row.plan.department_id
        _audit(session, actor, department_id, "activity", f"{row.plan.year}/{row.code}",
               {k: (before[k], after[k]) for k in before})
        session.flush()
        return replace(_activity_view(row, []), notices=result.notices)


def _check_version(row, expected_version: int, what: str) -> None:
    """Refuse a write made from an older version of the row than the stored one, naming who changed it and when."""
    _check_seen(row.version, expected_version, what, getattr(row, "updated_by", ""), getattr(row, "updated_at", None))


def _check_seen(version: int, expected_version: int, what: str, updated_by: str, updated_at: datetime | None) -> None:
    if version != expected_version:
        who = f" bởi {updated_by}" if updated_by else ""
        when = f" lúc {format_datetime(updated_at)}" if updated_at else ""
        raise ConflictError(
            f"{what} vừa được sửa{who}{when} sau khi bạn mở trang. Thay đổi của bạn chưa được lưu: "
            "hãy tải lại để xem bản mới nhất rồi sửa lại."
        )


# ---------------------------------------------------------------- evidence

EVIDENCE_TYPES = ("Kế hoạch", "Báo cáo", "Quyết định", "Công văn", "Tờ trình", "Thông báo", "Biên bản", "Văn bản khác")


@dataclass(frozen=True)
class EvidenceView:
    id: int
    year: int
    doc_type: str
    number: str
    issued_on: date | None
    issuer: str
    summary: str
    file_key: str | None
    file_name: str
    file_kind: str
    file_size: int
    link: str
    version: int
    criteria: list[str]  # criterion codes (of the assessment of the same year)
    activities: list[str]  # activity codes
    sections: dict[str, str] = field(default_factory=dict)  # criterion code → part/page that serves it

    @property
    def title(self) -> str:
        head = " ".join(x for x in (self.doc_type, f"số {self.number}" if self.number else "") if x)
        dated = f"ngày {format_date(self.issued_on)}" if self.issued_on else ""
        return ", ".join(x for x in (head, dated) if x) + (f": {self.summary}" if self.summary else "")

    @property
    def missing_metadata(self) -> list[str]:
        missing = []
        if not self.number:
            missing.append("số, ký hiệu")
        if not self.issued_on:
            missing.append("ngày ban hành")
        return missing


@dataclass
class EvidenceInput:
    doc_type: str = ""
    number: str = ""
    issued_on: date | None = None
    issuer: str = ""
    summary: str = ""
    link: str = ""

    def cleaned(self) -> EvidenceInput:
        link = nfc(self.link)
        if link and not link.lower().startswith(("https://", "http://")):
            raise InputError(f"Đường dẫn «{link[:60]}» không hợp lệ: phải bắt đầu bằng http:// hoặc https://.")
        return EvidenceInput(nfc(self.doc_type), nfc(self.number), self.issued_on, nfc(self.issuer), nfc(self.summary), link)


# How a document is registered: with its file, or by its number or its link alone. The person says which, so a
# file the uploader refused in the browser (the server then receives nothing) never becomes a record without file.
ATTACH_FILE, ATTACH_NUMBER, ATTACH_LINK = "file", "number", "link"
EVIDENCE_ATTACHMENTS = {
    ATTACH_FILE: "Tệp đính kèm",
    ATTACH_NUMBER: "Không kèm tệp: chỉ ghi số hiệu văn bản",
    ATTACH_LINK: "Không kèm tệp: chỉ có đường dẫn",
}


def add_evidence(db: Database, department_id: int, year: int, meta: EvidenceInput, *, actor: Actor,
                 upload: tuple[str, bytes] | None = None, attachment: str = ATTACH_FILE, criteria: Iterable[str] = (),
                 activity_codes: Iterable[str] = ()) -> EvidenceView:
    """Register a document; the file (if any) is checked by content and stored by hash before the row is saved.

    `attachment` is how the person registers it (EVIDENCE_ATTACHMENTS): with a file, which must then have
    arrived, or by its number or link alone, without one."""
    from scoring.store.evidence_files import EvidenceStore, check_upload

    meta = meta.cleaned()
    criteria, activity_codes = list(criteria), list(activity_codes)
    _allow_evidence_upload(db, actor, department_id, year, criteria, activity_codes)
    _check_attachment(meta, upload, attachment)
    if criteria:
        with db.session() as session:  # before the file is stored: a refused document leaves nothing behind
            _refuse_if_published(session, department_id, year, "Không thêm được tài liệu cho các tiêu chí")
    checked = check_upload(*upload) if upload is not None else None
    # the file and its record are saved together: a record that fails to save (or a process killed between
    # the two) leaves no file that this upload put in the store (EvidenceStore.storing)
    with (EvidenceStore(db.settings.evidence_dir).storing(checked, upload[1], referenced=lambda key: evidence_file_in_use(db, key))
          if checked is not None else nullcontext()) as key:
        with db.session() as session:
            if criteria:  # again in the write's own transaction: the index may have been published meanwhile
                _refuse_if_published(session, department_id, year, "Không thêm được tài liệu cho các tiêu chí")
            row = EvidenceRecord(department_id=department_id, year=year, doc_type=meta.doc_type, number=meta.number,
                                 issued_on=meta.issued_on, issuer=meta.issuer, summary=meta.summary, link=meta.link,
                                 updated_by=actor_name(actor))
            if checked is not None:
                row.file_key, row.file_name = key, checked.display_name
                row.file_kind, row.file_size = checked.kind, checked.size
            session.add(row)
            session.flush()
            _set_evidence_links(session, row, year, criteria, activity_codes)
            _audit(session, actor, department_id, "evidence", f"{year}/TL{row.id}",
                   {"thêm tài liệu": (None, _evidence_label(row))})
            session.flush()
            view = _evidence_view(session, row)
    return view


def evidence_file_in_use(db: Database, key: str) -> bool:
    """Whether any evidence record refers to the stored file `key`."""
    with db.session() as session:
        return session.scalar(select(EvidenceRecord.id).where(EvidenceRecord.file_key == key).limit(1)) is not None


def _check_attachment(meta: EvidenceInput, upload: tuple[str, bytes] | None, attachment: str) -> None:
    """A document is saved with its file, or, when the person chose so, by its number or link alone."""
    from scoring.store.evidence_files import EVIDENCE_UPLOAD_RULE, safe_display_name

    if attachment not in EVIDENCE_ATTACHMENTS:
        raise ValueError(f"unknown attachment {attachment!r}")
    file_choice, number_choice, link_choice = (f"«{EVIDENCE_ATTACHMENTS[a]}»" for a in (ATTACH_FILE, ATTACH_NUMBER, ATTACH_LINK))
    if attachment == ATTACH_FILE:
        if upload is None:
            raise InputError(
                "Chưa nhận được tệp đính kèm nên tài liệu chưa được lưu. "
                f"{EVIDENCE_UPLOAD_RULE} Tệp lớn hơn hoặc khác loại bị ô tải tệp từ chối; hãy chọn lại tệp, "
                f"hoặc chọn {number_choice} hay {link_choice} nếu tài liệu không kèm tệp."
            )
        return
    if upload is not None:
        name = safe_display_name(upload[0]) or "(không có tên)"
        raise InputError(f"Đã chọn {number_choice if attachment == ATTACH_NUMBER else link_choice} nhưng có tệp «{name}»: "
                         f"hãy chọn {file_choice} để lưu kèm tệp, hoặc bỏ tệp ra.")
    if attachment == ATTACH_NUMBER and not meta.number:
        raise InputError(f"Đã chọn {number_choice}: hãy ghi số, ký hiệu của văn bản.")
    if attachment == ATTACH_LINK and not meta.link:
        raise InputError(f"Đã chọn {link_choice}: hãy ghi đường dẫn (http/https) tới tài liệu.")


def _refuse_if_published(session: Session, department_id: int, year: int, what: str) -> None:
    """Once the year's index is published its criteria's documents and links stay as published, until the
    administrator reopens it (reopen_published): the refusal says what was refused, then the publication."""
    assessment = session.scalar(select(Assessment).where(Assessment.department_id == department_id, Assessment.year == year))
    if assessment is not None and assessment.published_at is not None:
        raise InputError(f"{what}. {_cycle_state(session, assessment).published_text}")


def _allow_evidence_upload(db: Database, actor: Actor, department_id: int, year: int, criteria: Iterable[str],
                           activity_codes: Iterable[str]) -> None:
    """Office may file any document; a unit only documents activities it leads, and links no criteria."""
    if not isinstance(actor, Principal) or can(actor, Action.UPLOAD_EVIDENCE, department_id=department_id):
        return
    codes = list(activity_codes)
    if list(criteria) or not codes:
        authorize(actor, Action.UPLOAD_EVIDENCE, department_id=department_id)  # raises the refusal
    leads = {a.code: a.lead for a in list_activities(db, department_id, year)}
    for code in codes:
        authorize(actor, Action.UPLOAD_EVIDENCE_OWN_UNIT, department_id=department_id, activity_lead_units=leads.get(code, []))


def update_evidence(db: Database, evidence_id: int, expected_version: int, meta: EvidenceInput, *, actor: Actor,
                    criteria: Iterable[str] | None = None, activity_codes: Iterable[str] | None = None) -> EvidenceView:
    meta = meta.cleaned()
    with db.session() as session:
        row = _get(session, EvidenceRecord, evidence_id, "tài liệu kiểm chứng")
        _allow(actor, Action.EDIT_EVIDENCE, department_id=row.department_id)
        _check_version(row, expected_version, f"Tài liệu «{_evidence_label(row)}»")
        old_view = _evidence_view(session, row)
        changes = {
            "loại": (row.doc_type, meta.doc_type), "số, ký hiệu": (row.number, meta.number),
            "ngày ban hành": (row.issued_on, meta.issued_on), "cơ quan ban hành": (row.issuer, meta.issuer),
            "trích yếu": (row.summary, meta.summary), "đường dẫn": (row.link, meta.link),
        }
        new_criteria = old_view.criteria if criteria is None else list(dict.fromkeys(criteria))
        criteria_change = sorted(new_criteria, key=_code_key) != old_view.criteria
        if criteria_change:
            _refuse_if_published(session, row.department_id, row.year,
                                 f"Không đổi được các tiêu chí của tài liệu «{_evidence_label(row)}»")
        elif old_view.criteria and any(old != new for old, new in changes.values()):
            _refuse_if_published(session, row.department_id, row.year,
                                 f"Không sửa được tài liệu «{_evidence_label(row)}» của các tiêu chí "
                                 f"{', '.join(old_view.criteria)}")
        row.doc_type, row.number, row.issued_on = meta.doc_type, meta.number, meta.issued_on
        row.issuer, row.summary, row.link = meta.issuer, meta.summary, meta.link
        row.updated_at, row.updated_by = utcnow(), actor_name(actor)
        if criteria is not None or activity_codes is not None:
            _set_evidence_links(session, row, row.year, new_criteria,
                                old_view.activities if activity_codes is None else activity_codes)
        session.flush()
        new_view = _evidence_view(session, row)
        changes["tiêu chí"] = (old_view.criteria, new_view.criteria)
        changes["hoạt động"] = (old_view.activities, new_view.activities)
        _audit(session, actor, row.department_id, "evidence", f"{row.year}/TL{row.id}", changes)
        return new_view


def delete_evidence(db: Database, evidence_id: int, expected_version: int, *, actor: Actor) -> None:
    from scoring.store.evidence_files import EvidenceStore

    with db.session() as session:
        row = _get(session, EvidenceRecord, evidence_id, "tài liệu kiểm chứng")
        _allow(actor, Action.EDIT_EVIDENCE, department_id=row.department_id)
        _check_version(row, expected_version, f"Tài liệu «{_evidence_label(row)}»")
        if _serves_criteria(session, row):
            _refuse_if_published(session, row.department_id, row.year,
                                 f"Không xóa được tài liệu «{_evidence_label(row)}» của các tiêu chí năm {row.year}")
        key = row.file_key
        _audit(session, actor, row.department_id, "evidence", f"{row.year}/TL{row.id}", {"xóa tài liệu": (_evidence_label(row), None)})
        session.delete(row)
    if key:  # asked once nobody else is storing the same content: it may be about to get a record again
        EvidenceStore(db.settings.evidence_dir).delete_unreferenced(key, referenced=lambda k: evidence_file_in_use(db, k))


def _serves_criteria(session: Session, row: EvidenceRecord) -> bool:
    """Linked to a criterion of its year, or given as a supplementary document of an explanation that year."""
    if session.scalar(select(EvidenceCriterion.code).where(EvidenceCriterion.evidence_id == row.id).limit(1)) is not None:
        return True
    appraisals = session.scalars(
        select(ScoreRecord.appraisal).join(Assessment, Assessment.id == ScoreRecord.assessment_id)
        .where(Assessment.department_id == row.department_id, Assessment.year == row.year)
    ).all()
    return any(row.id in ((appraisal or {}).get("supplementary_evidence_ids") or []) for appraisal in appraisals)


def link_evidence_to_criterion(db: Database, evidence_id: int, expected_version: int, code: str, *, actor: Actor,
                               section: str = "") -> None:
    with db.session() as session:
        row = _get(session, EvidenceRecord, evidence_id, "tài liệu kiểm chứng")
        _allow(actor, Action.EDIT_EVIDENCE, department_id=row.department_id)
        _check_version(row, expected_version, f"Tài liệu «{_evidence_label(row)}»")
        _refuse_if_published(session, row.department_id, row.year,
                             f"Không gắn được tài liệu «{_evidence_label(row)}» vào tiêu chí {code}")
        assessment = _assessment_for(session, row.department_id, row.year)
        existing = session.get(EvidenceCriterion, (row.id, assessment.id, code))
        if existing:
            existing.section = nfc(section)
        else:
            session.add(EvidenceCriterion(evidence_id=row.id, assessment_id=assessment.id, code=code, section=nfc(section)))
        row.updated_at, row.updated_by = utcnow(), actor_name(actor)  # an UPDATE bumps the version: concurrent editors notice
        _audit(session, actor, row.department_id, "evidence", f"{row.year}/TL{row.id}", {"gắn tiêu chí": (None, code)})


def list_evidence(db: Database, department_id: int, year: int) -> list[EvidenceView]:
    with db.session() as session:
        rows = session.scalars(select(EvidenceRecord).where(EvidenceRecord.department_id == department_id,
                                                            EvidenceRecord.year == year).order_by(EvidenceRecord.id)).all()
        ids = [r.id for r in rows]
        # the links of every document in two queries, not two per document
        criteria: dict[int, list[EvidenceCriterion]] = {}
        for link in session.scalars(select(EvidenceCriterion).where(EvidenceCriterion.evidence_id.in_(ids))).all():
            criteria.setdefault(link.evidence_id, []).append(link)
        activities: dict[int, list[str]] = {}
        for evidence_id, code in session.execute(
            select(EvidenceActivity.evidence_id, ActivityRecord.code)
            .join(ActivityRecord, ActivityRecord.id == EvidenceActivity.activity_id)
            .where(EvidenceActivity.evidence_id.in_(ids)).order_by(ActivityRecord.position)
        ).all():
            activities.setdefault(evidence_id, []).append(code)
        return [_evidence_view_from(r, criteria.get(r.id, []), activities.get(r.id, [])) for r in rows]


def evidence_file(db: Database, evidence_id: int, *, viewer: Actor) -> tuple[str, str, bytes]:
    """(display name, MIME type, bytes) of an evidence document's stored file, for a viewer who may see that
    department's year (auth.authorize_view) or a trusted caller (see Actor)."""
    from scoring.store.evidence_files import KIND_MIME, EvidenceStore

    with db.session() as session:
        row = _get(session, EvidenceRecord, evidence_id, "tài liệu kiểm chứng")
        if isinstance(viewer, Principal):
            assessment = session.scalar(select(Assessment).where(Assessment.department_id == row.department_id,
                                                                 Assessment.year == row.year))
            authorize_view(viewer, department_id=row.department_id,
                           assessment_locked=bool(assessment and self_score_locked(assessment)))
        else:
            _trusted(viewer)
        if not row.file_key:
            raise NotFoundError(f"Tài liệu «{_evidence_label(row)}» không có tệp đính kèm.")
        key, name, kind = row.file_key, row.file_name, row.file_kind
    return name, KIND_MIME.get(kind, "application/octet-stream"), EvidenceStore(db.settings.evidence_dir).open_bytes(key)


def _set_evidence_links(session: Session, row: EvidenceRecord, year: int, criteria: Iterable[str], activity_codes: Iterable[str]) -> None:
    criteria = list(dict.fromkeys(criteria))
    activity_codes = list(dict.fromkeys(activity_codes))
    sections = {link.code: link.section for link in row.criteria}
    session.execute(delete(EvidenceCriterion).where(EvidenceCriterion.evidence_id == row.id))
    session.execute(delete(EvidenceActivity).where(EvidenceActivity.evidence_id == row.id))
    session.expire(row, ["criteria", "activities"])
    if criteria:
        assessment = _assessment_for(session, row.department_id, year)
        for code in criteria:
            session.add(EvidenceCriterion(evidence_id=row.id, assessment_id=assessment.id, code=code, section=sections.get(code, "")))
    if activity_codes:
        plan = session.scalar(select(PlanRecord).where(PlanRecord.department_id == row.department_id, PlanRecord.year == year))
        by_code = {a.code: a.id for a in plan.activities} if plan else {}
        unknown = [c for c in activity_codes if c not in by_code]
        if unknown:
            raise InputError(f"Không có hoạt động {', '.join(unknown)} trong kế hoạch năm {year}.")
        for code in activity_codes:
            session.add(EvidenceActivity(evidence_id=row.id, activity_id=by_code[code]))
    session.flush()


def _evidence_view(session: Session, row: EvidenceRecord) -> EvidenceView:
    links = session.scalars(select(EvidenceCriterion).where(EvidenceCriterion.evidence_id == row.id)).all()
    codes = session.scalars(select(ActivityRecord.code).join(EvidenceActivity, EvidenceActivity.activity_id == ActivityRecord.id)
                            .where(EvidenceActivity.evidence_id == row.id).order_by(ActivityRecord.position)).all()
    return _evidence_view_from(row, links, list(codes))


def _evidence_view_from(row: EvidenceRecord, links: list[EvidenceCriterion], activity_codes: list[str]) -> EvidenceView:
    return EvidenceView(row.id, row.year, row.doc_type, row.number, row.issued_on, row.issuer, row.summary, row.file_key,
                        row.file_name, row.file_kind, row.file_size, row.link, row.version,
                        sorted((link.code for link in links), key=_code_key), activity_codes,
                        {link.code: link.section for link in links if link.section})


def _evidence_label(row: EvidenceRecord) -> str:
    return " ".join(x for x in (row.doc_type, row.number, row.file_name) if x) or f"TL{row.id}"


def _code_key(code: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in code.split("."))


# ---------------------------------------------------------------- criteria sets and assessments


def save_criteria_set(db: Database, criteria_set, *, actor: Actor, source_name: str = "",
                      corrections: dict[str, tuple[str, str]] | None = None) -> int:
    """Store a criteria set as data (it changes by province and year); returns its id. For the administrator
    (or a trusted caller): a stored set may be chosen by any department. `corrections`: what the person changed
    from the file before saving (label → (as read, as saved), scoring.criteria.draft.draft_corrections), audited
    with the import."""
    _allow(actor, Action.MANAGE_CRITERIA)
    with db.session() as session:
        from scoring.criteria.files import content_digest

        content = criteria_set.to_dict()
        record = CriteriaSetRecord(name=criteria_set.name, year=criteria_set.year, content=content,
                                   digest=content_digest(content), source_name=source_name or criteria_set.source)
        session.add(record)
        session.flush()
        _audit(session, actor, None, "criteria_set", str(record.id),
               {"nhập bộ tiêu chí": (None, criteria_set.name), **(corrections or {})})
        return record.id


@dataclass(frozen=True)
class CriteriaSetView:
    id: int
    name: str
    year: int | None
    source_name: str
    created_at: datetime


def list_criteria_sets(db: Database) -> list[CriteriaSetView]:
    with db.session() as session:
        rows = session.scalars(select(CriteriaSetRecord).order_by(CriteriaSetRecord.id.desc())).all()
        return [CriteriaSetView(r.id, r.name, r.year, r.source_name, r.created_at) for r in rows]


def load_criteria(db: Database, criteria_set_id: int):
    """The stored set, shared between callers (see criteria.stored_criteria_set): do not change it."""
    with db.session() as session:
        return _stored_set(session, criteria_set_id)


_SET_IDENTITY = (CriteriaSetRecord.digest, CriteriaSetRecord.source_name, CriteriaSetRecord.name)


def _stored_set(session: Session, criteria_set_id: int):
    """A stored set without reading its content when it is built already (its content is most of its row)."""
    row = session.execute(select(*_SET_IDENTITY).where(CriteriaSetRecord.id == criteria_set_id)).one_or_none()
    if row is None:
        raise _not_found("bộ tiêu chí", criteria_set_id)
    return _set_from_identity(session, criteria_set_id, row.digest, row.source_name, row.name)


def _set_from_identity(session: Session, criteria_set_id: int, digest: str, source_name: str, name: str):
    from scoring.criteria.files import stored_criteria_set

    content = lambda: session.scalar(select(CriteriaSetRecord.content).where(CriteriaSetRecord.id == criteria_set_id))  # noqa: E731
    return stored_criteria_set(digest, content, source_name=source_name or name)


@dataclass(frozen=True)
class AssessmentView:
    id: int
    department_id: int
    year: int
    criteria_set_id: int
    locked_at: datetime | None = None
    locked_by: str = ""
    bonus_points: Decimal | None = None
    penalty_points: Decimal | None = None
    bonus_penalty_author: Authorship | None = None
    bonus_penalty_version: int = 0  # what a change of the bonus or penalty expects to replace
    published_at: datetime | None = None
    published_by: str = ""
    round_overrides: tuple[RoundOverride, ...] = ()
    settings_version: int = 1  # what a change to the year's settings or criteria set expects


def get_assessment(db: Database, department_id: int, year: int) -> AssessmentView | None:
    with db.session() as session:
        row = session.scalar(select(Assessment).where(Assessment.department_id == department_id, Assessment.year == year))
        return _assessment_view(row) if row else None


def open_assessment(db: Database, department_id: int, year: int, criteria_set_id: int, *, actor: Actor = SYSTEM_ACTOR) -> AssessmentView:
    """The department's assessment for the year, created with the given criteria set when it does not exist."""
    with db.session() as session:
        row = session.scalar(select(Assessment).where(Assessment.department_id == department_id, Assessment.year == year))
        if row is None:
            _allow(actor, Action.MANAGE_YEARS, department_id=department_id)
            _get(session, CriteriaSetRecord, criteria_set_id, "bộ tiêu chí")
            row = Assessment(department_id=department_id, year=year, criteria_set_id=criteria_set_id,
                             settings_updated_by=actor_name(actor))
            session.add(row)
            session.flush()
            _audit(session, actor, department_id, "assessment", str(year), {"mở kỳ đánh giá": (None, str(year))})
        return _assessment_view(row)


def _assessment_view(row: Assessment) -> AssessmentView:
    return AssessmentView(row.id, row.department_id, row.year, row.criteria_set_id, row.locked_at, row.locked_by,
                          row.bonus_points, row.penalty_points, _bonus_author(row), row.bonus_penalty_version or 0,
                          row.published_at, row.published_by or "", _overrides(row), row.settings_version)


def _bonus_author(row: Assessment) -> Authorship | None:
    return Authorship.from_dict(row.bonus_penalty_author) if row.bonus_penalty_author else None


def _overrides(row: Assessment) -> tuple[RoundOverride, ...]:
    return tuple(RoundOverride.from_dict(o) for o in row.round_overrides or [])


def switch_criteria_set(db: Database, assessment_id: int, expected_version: int, *, criteria_set_id: int,
                        actor: Actor) -> AssessmentView:
    """Score the assessment with another set, if the assessment is still the version the person saw.
    Scores stay stored by code: codes both sets share keep theirs. Not once the self-score is locked (the
    appraisal works on what was submitted) nor once the index is published."""
    with db.session() as session:
        row = _get(session, Assessment, assessment_id, "kỳ đánh giá")
        _allow(actor, Action.MANAGE_SETTINGS, department_id=row.department_id)
        _refuse_if_published(session, row.department_id, row.year, f"Không đổi được bộ tiêu chí năm {row.year}")
        if self_score_locked(row):
            raise InputError(f"Không đổi được bộ tiêu chí năm {row.year}: điểm tự chấm đã chốt lúc "
                             f"{format_datetime(row.locked_at)} ({row.locked_by}) và đang được thẩm định theo bộ này; "
                             "cần quản trị viên mở lại bản tự chấm trước.")
        _get(session, CriteriaSetRecord, criteria_set_id, "bộ tiêu chí")
        _claim_settings_version(session, row, expected_version, actor)
        _audit(session, actor, row.department_id, "assessment", str(row.year), {"bộ tiêu chí": (row.criteria_set_id, criteria_set_id)})
        row.criteria_set_id = criteria_set_id
        session.flush()
        return _assessment_view(row)


def self_score_locked(assessment: Assessment) -> bool:
    """Whether the department has locked its self-score (chốt điểm) for this assessment."""
    return assessment.locked_at is not None


def _assessment_for(session: Session, department_id: int, year: int) -> Assessment:
    row = session.scalar(select(Assessment).where(Assessment.department_id == department_id, Assessment.year == year))
    if row is None:
        raise NotFoundError(f"Năm {year} chưa có kỳ tự đánh giá: hãy chọn bộ tiêu chí cho năm này ở trang Cấu hình.")
    return row


# ---------------------------------------------------------------- scores


@dataclass(frozen=True)
class ScoreView:
    code: str
    inputs: dict
    not_applicable: bool
    self_points: Decimal | None
    explanation: str
    appraised_points: Decimal | None
    appraisal_remark: str
    version: int  # 0: never saved
    updated_at: datetime | None
    updated_by: str
    appraisal: LeafAppraisal = field(default_factory=LeafAppraisal)  # both rounds and the explanation

    @staticmethod
    def empty(code: str) -> ScoreView:
        return ScoreView(code, {}, False, None, "", None, "", 0, None, "")


def _score_view(row: ScoreRecord) -> ScoreView:
    return ScoreView(row.code, dict(row.inputs or {}), row.not_applicable, row.self_points, row.explanation,
                     row.appraised_points, row.appraisal_remark, row.version, row.updated_at, row.updated_by,
                     LeafAppraisal.from_dict(row.appraisal or {}))


def list_scores(db: Database, assessment_id: int) -> dict[str, ScoreView]:
    with db.session() as session:
        rows = session.scalars(select(ScoreRecord).where(ScoreRecord.assessment_id == assessment_id)).all()
        return {r.code: _score_view(r) for r in rows}


@dataclass
class _LeafWrite:
    """What a write to one criterion's score reads first, in one query: a working session saves often."""
    session: Session
    assessment: Assessment
    code: str
    stored: ScoreRecord | None  # None before the criterion's first save
    criteria_set_identity: tuple[str, str, str]  # digest, source name, name

    def leaf(self):
        """The criterion in the assessment's set; refused when the set has no such leaf."""
        digest, source_name, name = self.criteria_set_identity
        criteria_set = _set_from_identity(self.session, self.assessment.criteria_set_id, digest, source_name, name)
        node = criteria_set.node(self.code)
        if node is None or not node.is_leaf:
            raise InputError(f"Tiêu chí {self.code} không có trong bộ tiêu chí đang dùng hoặc không phải tiêu chí chấm điểm.")
        return node

    def score_row(self, expected_version: int) -> ScoreRecord:
        """The row to change, if it is still the version the person saw (a new row when it was never saved)."""
        row = self.stored
        if row is None:
            if expected_version != 0:
                raise ConflictError(f"Điểm tiêu chí {self.code} đã bị xóa sau khi bạn mở trang. Hãy tải lại trang.")
            row = ScoreRecord(assessment_id=self.assessment.id, code=self.code, inputs={})
            self.session.add(row)
        else:
            _check_version(row, expected_version, f"Điểm tiêu chí {self.code}")
        return row


def _leaf_write(session: Session, assessment_id: int, code: str) -> _LeafWrite:
    found = session.execute(
        select(Assessment, ScoreRecord, *_SET_IDENTITY)
        .join(CriteriaSetRecord, CriteriaSetRecord.id == Assessment.criteria_set_id)
        .outerjoin(ScoreRecord, and_(ScoreRecord.assessment_id == Assessment.id, ScoreRecord.code == code))
        .where(Assessment.id == assessment_id)
    ).one_or_none()
    if found is None:
        raise _not_found("kỳ đánh giá", assessment_id)
    assessment, stored, digest, source_name, name = found
    return _LeafWrite(session, assessment, code, stored, (digest, source_name, name))


def save_self_score(db: Database, assessment_id: int, code: str, expected_version: int, *, inputs: dict,
                    not_applicable: bool = False, explanation: str = "", actor: Actor):
    """Score one leaf from its rule's inputs. Returns (ScoreView, LeafResult); the points come from the rule,
    never from the caller, so the stored score always matches its inputs."""
    from scoring.criteria.rules import score_leaf

    with db.session() as session:
        write = _leaf_write(session, assessment_id, code)
        assessment = write.assessment
        _allow(actor, Action.EDIT_SELF_SCORE, department_id=assessment.department_id)
        if self_score_locked(assessment):
            raise InputError(f"Điểm tự chấm năm {assessment.year} đã chốt lúc {format_datetime(assessment.locked_at)} "
                             f"({assessment.locked_by}); cần quản trị viên mở lại trước khi sửa.")
        node = write.leaf()
        result = score_leaf(node.rule, inputs) if not not_applicable else None
        if result is not None and result.problems:
            raise InputError(f"Tiêu chí {code}: " + "; ".join(result.problems))
        row = write.score_row(expected_version)
        before = {"điểm tự chấm": row.self_points, "không đánh giá": row.not_applicable,
                  "thông tin chấm": row.inputs or {}, "giải trình": row.explanation}
        row.inputs = dict(inputs)
        row.not_applicable = bool(not_applicable)
        row.self_points = None if not_applicable or result is None else result.points
        row.explanation = nfc(explanation)
        row.updated_at, row.updated_by = utcnow(), actor_name(actor)
        after = {"điểm tự chấm": row.self_points, "không đánh giá": row.not_applicable,
                 "thông tin chấm": row.inputs, "giải trình": row.explanation}
        _audit(session, actor, assessment.department_id, "score", f"{assessment.year}/{code}", {k: (before[k], after[k]) for k in before})
        session.flush()
        return _score_view(row), result


def save_appraisal(db: Database, assessment_id: int, code: str, expected_version: int, *, points, remark: str = "",
                   round_number: int = 1, request_explanation: bool | None = None, source: SourceDocument | None = None,
                   actor: Actor, today: date | None = None) -> ScoreView:
    """An appraisal round's score (điểm thẩm định) and remark for one leaf, from the Department of Home Affairs.

    Round 1 may ask the department to explain (yêu cầu giải trình); round 2 follows the explanation. The final
    appraised points (round 2 where given, else round 1) are what the index counts. Who may write a round, and
    when, is scoring.assessment.cycle.may_write's answer for `today` (Vietnam date by default): an appraiser account where
    the department has one, else the Office transcribing the province's document `source` (number and date),
    which is stored with the round as its author.
    """
    from scoring.criteria.rules import parse_decimal

    if round_number not in (1, 2):
        raise ValueError(round_number)
    with db.session() as session:
        write = _leaf_write(session, assessment_id, code)
        assessment = write.assessment
        before = LeafAppraisal.from_dict(write.stored.appraisal or {}) if write.stored is not None else LeafAppraisal()
        verdict = _may(session, assessment, actor, APPRAISAL_WRITES[round_number], today=today, leaf=before, code=code)
        author = _author(actor, verdict, source)
        node = write.leaf()
        value = None if points in (None, "") else parse_decimal(points)
        if points not in (None, "") and value is None:
            raise InputError(f"Tiêu chí {code}: điểm thẩm định «{points}» không phải là số.")
        row = write.score_row(expected_version)
        if round_number == 1:
            after = replace(before, round1_points=value, round1_remark=nfc(remark), round1_author=author,
                            explanation_requested=before.explanation_requested if request_explanation is None else request_explanation)
        else:
            after = replace(before, round2_points=value, round2_remark=nfc(remark), round2_author=author)
        problems = after.problems(node)
        if problems:
            raise InputError(" ".join(problems))
        row.appraisal = after.to_dict()
        row.appraised_points, row.appraisal_remark = after.final_appraised_points, after.final_remark
        row.updated_at, row.updated_by = utcnow(), actor_name(actor)
        label = f"lần {round_number}"
        old_author = before.author(round_number)
        _audit(session, actor, assessment.department_id, "score", f"{assessment.year}/{code}", {
            f"điểm thẩm định {label}": (before.points(round_number), value),
            f"nhận xét thẩm định {label}": (before.remark(round_number), nfc(remark)),
            "yêu cầu giải trình": (before.explanation_requested, after.explanation_requested),
            f"người nhập thẩm định {label}": (old_author.text if old_author else None, author.text),
        })
        session.flush()
        return _score_view(row)


def save_explanation(db: Database, assessment_id: int, code: str, expected_version: int, *, explanation: str,
                     evidence_ids: Iterable[int] = (), actor: Actor, today: date | None = None) -> ScoreView:
    """The department's answer to a request for explanation (giải trình), with supplementary documents,
    during the explanation window (scoring.assessment.cycle.may_write)."""
    with db.session() as session:
        write = _leaf_write(session, assessment_id, code)
        assessment = write.assessment
        before = LeafAppraisal.from_dict(write.stored.appraisal or {}) if write.stored is not None else LeafAppraisal()
        _may(session, assessment, actor, Write.EXPLANATION, today=today, leaf=before, code=code)
        row = write.score_row(expected_version)
        ids = tuple(dict.fromkeys(int(i) for i in evidence_ids))
        known = set(session.scalars(select(EvidenceRecord.id).where(EvidenceRecord.department_id == assessment.department_id)).all())
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise InputError(f"Không có tài liệu {', '.join(f'TL{i}' for i in unknown)} trong sổ tài liệu của cơ quan.")
        after = replace(before, explanation=nfc(explanation), supplementary_evidence_ids=ids)
        row.appraisal = after.to_dict()
        row.updated_at, row.updated_by = utcnow(), actor_name(actor)
        _audit(session, actor, assessment.department_id, "score", f"{assessment.year}/{code}", {
            "giải trình": (before.explanation, after.explanation),
            "tài liệu bổ sung": (list(before.supplementary_evidence_ids), list(ids)),
        })
        session.flush()
        return _score_view(row)


def _appraiser_usernames(session: Session, department_id: int) -> tuple[str, ...]:
    """The active appraiser accounts assigned to the department: where there is one, it alone appraises."""
    return tuple(session.scalars(
        select(Account.username).join(AccountDepartment, AccountDepartment.account_id == Account.id)
        .where(AccountDepartment.department_id == department_id, Account.role == Role.APPRAISER.value,
               Account.active.is_(True))
        .order_by(Account.username)
    ).all())


def _cycle_state(session: Session, assessment: Assessment, today: date | None = None) -> CycleState:
    settings = YearSettings.from_dict(assessment.settings) if assessment.settings else default_settings(assessment.year)
    return CycleState(settings=settings, today=vietnam_today(today), locked=self_score_locked(assessment),
                      published_at=assessment.published_at, published_by=assessment.published_by or "",
                      overrides=_overrides(assessment), appraisers=_appraiser_usernames(session, assessment.department_id))


@dataclass(frozen=True)
class YearOfDepartment:
    """One department's year as an overview of many departments needs it, read together with the others'."""

    assessment: AssessmentView
    state: CycleState
    scores: dict[str, ScoreView]
    criteria_set: Any


def years_of_departments(db: Database, department_ids: Iterable[int], year: int,
                         today: date | None = None) -> dict[int, YearOfDepartment]:
    """The opened `year` of each of these departments with its cycle state on `today` and its stored scores, in a
    few queries for all of them (an overview of a hundred departments would otherwise make several hundred)."""
    wanted = list(department_ids)
    day = vietnam_today(today)
    with db.session() as session:
        rows = session.scalars(select(Assessment).where(Assessment.year == year, Assessment.department_id.in_(wanted))).all()
        scores: dict[int, dict[str, ScoreView]] = {row.id: {} for row in rows}
        for score in session.scalars(select(ScoreRecord).where(ScoreRecord.assessment_id.in_(list(scores)))):
            scores[score.assessment_id][score.code] = _score_view(score)
        appraisers: dict[int, list[str]] = {}
        for department_id, username in session.execute(
                select(AccountDepartment.department_id, Account.username)
                .join(Account, AccountDepartment.account_id == Account.id)
                .where(AccountDepartment.department_id.in_(wanted), Account.role == Role.APPRAISER.value,
                       Account.active.is_(True))
                .order_by(Account.username)):
            appraisers.setdefault(department_id, []).append(username)
        sets = {set_id: _stored_set(session, set_id) for set_id in {row.criteria_set_id for row in rows}}
        found = {}
        for row in rows:
            settings = YearSettings.from_dict(row.settings) if row.settings else default_settings(row.year)
            state = CycleState(settings=settings, today=day, locked=self_score_locked(row), published_at=row.published_at,
                               published_by=row.published_by or "", overrides=_overrides(row),
                               appraisers=tuple(appraisers.get(row.department_id, ())))
            found[row.department_id] = YearOfDepartment(_assessment_view(row), state, scores[row.id], sets[row.criteria_set_id])
        return found


def cycle_state(db: Database, assessment_id: int, today: date | None = None) -> CycleState:
    """Where the assessment's cycle stands on `today` (Vietnam date by default), for scoring.assessment.cycle.may_write."""
    with db.session() as session:
        return _cycle_state(session, _get(session, Assessment, assessment_id, "kỳ đánh giá"), today)


def _may(session: Session, assessment: Assessment, actor: Actor, write: Write, *, today: date | None = None,
         leaf: LeafAppraisal | None = None, code: str = ""):
    """scoring.assessment.cycle.may_write on the stored state, in the write's own transaction; raises its refusal."""
    state = _cycle_state(session, assessment, today)
    return may_write(actor, write, state, department_id=assessment.department_id, leaf=leaf, code=code,
                     bonus_author=_bonus_author(assessment)).check()


def _author(actor: Actor, verdict, source: SourceDocument | None) -> Authorship:
    """The author an allowed appraisal write is recorded under; a transcription names its document."""
    if verdict.author_kind == AUTHOR_TRANSCRIBED:
        if source is None:
            raise InputError("Văn phòng ghi kết quả thẩm định theo văn bản của tỉnh: cần ghi số, ký hiệu và ngày "
                             "của văn bản đó.")
        return Authorship(AUTHOR_TRANSCRIBED, actor_name(actor), source.checked())
    return Authorship(verdict.author_kind, actor_name(actor))


# ---------------------------------------------------------------- the yearly cycle: settings, lock, bonus


def year_settings(db: Database, assessment_id: int) -> YearSettings:
    with db.session() as session:
        row = _get(session, Assessment, assessment_id, "kỳ đánh giá")
        return YearSettings.from_dict(row.settings) if row.settings else default_settings(row.year)


def save_year_settings(db: Database, assessment_id: int, expected_version: int, settings: YearSettings, *,
                       actor: Actor) -> AssessmentView:
    """The year's settings, if the assessment is still the version the person saw (AssessmentView.version)."""
    problems = settings_problems(settings)
    if problems:
        raise InputError("Thiết lập năm chưa hợp lệ: " + "; ".join(problems))
    with db.session() as session:
        row = _get(session, Assessment, assessment_id, "kỳ đánh giá")
        _allow(actor, Action.MANAGE_YEARS, department_id=row.department_id)
        # the settings (survey share, caps, bands) make the published index: they stay as published
        _refuse_if_published(session, row.department_id, row.year, f"Không sửa được thiết lập năm {row.year}")
        _claim_settings_version(session, row, expected_version, actor)
        _audit(session, actor, row.department_id, "assessment", str(row.year),
               {"thiết lập năm": (row.settings or None, settings.to_dict())})
        row.settings = settings.to_dict()
        session.flush()
        return _assessment_view(row)


def _claim_settings_version(session: Session, row: Assessment, expected_version: int, actor: Actor) -> None:
    """Move the settings version on from the one the person saw, or refuse naming who moved it first.

    The version has a column of its own (a lock or a bonus changes the same row but not what the settings page
    showed), so the ORM does not guard it: the UPDATE does, and two saves at once cannot both pass.
    """
    what = f"Thiết lập năm {row.year} (bộ tiêu chí, đợt chấm, mức xếp loại)"
    _check_seen(row.settings_version, expected_version, what, row.settings_updated_by, row.settings_updated_at)
    claimed = session.execute(
        update(Assessment).where(Assessment.id == row.id, Assessment.settings_version == expected_version)
        .values(settings_version=expected_version + 1, settings_updated_at=utcnow(), settings_updated_by=actor_name(actor))
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if not claimed:
        raise ConflictError(STALE_WRITE_MESSAGE)


def save_bonus_penalty(db: Database, assessment_id: int, expected_version: int, *, bonus, penalty,
                       source: SourceDocument | None = None, actor: Actor, today: date | None = None) -> AssessmentView:
    """Điểm thưởng / điểm trừ as the province decides them (the year's caps apply when the index is computed).

    Treated as appraisal results (scoring.assessment.cycle.may_write): an appraiser account enters them where the department
    has one, else the Office from the province's document `source`. `expected_version` is the
    `bonus_penalty_version` the person saw.
    """
    from sqlalchemy import update

    from scoring.criteria.rules import parse_decimal

    values = {}
    for label, raw in (("Điểm thưởng", bonus), ("Điểm trừ", penalty)):
        value = None if raw in (None, "") else parse_decimal(raw)
        if raw not in (None, "") and (value is None or value < 0):
            raise InputError(f"{label} «{raw}» phải là một số không âm.")
        values[label] = value
    with db.session() as session:
        row = _get(session, Assessment, assessment_id, "kỳ đánh giá")
        verdict = _may(session, row, actor, Write.BONUS_PENALTY, today=today)
        author = _author(actor, verdict, source)
        # the version moves in the UPDATE itself, so two people saving at once cannot both pass the check
        moved = session.execute(update(Assessment).where(Assessment.id == row.id,
                                                         Assessment.bonus_penalty_version == expected_version)
                                .values(bonus_penalty_version=expected_version + 1)).rowcount
        if moved != 1:
            raise ConflictError(f"Điểm thưởng, điểm trừ năm {row.year} vừa được sửa sau khi bạn mở trang. Thay đổi của bạn "
                                "chưa được lưu: hãy tải lại để xem bản mới nhất rồi sửa lại.")
        session.refresh(row)
        old_author = _bonus_author(row)
        _audit(session, actor, row.department_id, "assessment", str(row.year), {
            "điểm thưởng": (row.bonus_points, values["Điểm thưởng"]), "điểm trừ": (row.penalty_points, values["Điểm trừ"]),
            "người nhập điểm thưởng, điểm trừ": (old_author.text if old_author else None, author.text),
        })
        row.bonus_points, row.penalty_points = values["Điểm thưởng"], values["Điểm trừ"]
        row.bonus_penalty_author = author.to_dict()
        session.flush()
        return _assessment_view(row)


def lock_self_score(db: Database, assessment_id: int, *, actor: Actor) -> AssessmentView:
    """Chốt điểm tự chấm: refused (with the list) while anything blocks a sound submission (scoring.assessment.cycle)."""
    from scoring.assessment.cycle import LockState, lock_blockers

    with db.session() as session:
        row = _get(session, Assessment, assessment_id, "kỳ đánh giá")
        _may(session, row, actor, Write.LOCK)
        state = LockState(locked=row.locked_at is not None, locked_at=row.locked_at, locked_by=row.locked_by)
        state = state.lock(utcnow(), actor_name(actor), lock_blockers(*_lock_inputs(session, row)))
        row.locked_at, row.locked_by = state.locked_at, state.locked_by
        _audit(session, actor, row.department_id, "assessment", str(row.year), {"chốt điểm tự chấm": (None, "đã chốt")})
        session.flush()
        return _assessment_view(row)


def _lock_inputs(session: Session, assessment: Assessment):
    """What scoring.assessment.cycle.lock_blockers reads, straight from the stored rows (the rule never trusts a caller's copy)."""
    from scoring.assessment.engine import LeafEntry

    criteria_set = _stored_set(session, assessment.criteria_set_id)
    scores = session.scalars(select(ScoreRecord).where(ScoreRecord.assessment_id == assessment.id)).all()
    entries = {s.code: LeafEntry(code=s.code, inputs=dict(s.inputs or {}), not_applicable=s.not_applicable) for s in scores}
    evidence: dict[str, list[EvidenceView]] = {}
    links = session.scalars(select(EvidenceCriterion).where(EvidenceCriterion.assessment_id == assessment.id)).all()
    for link in links:
        document = session.get(EvidenceRecord, link.evidence_id)
        evidence.setdefault(link.code, []).append(_evidence_view(session, document))
    explanations = {s.code: s.explanation for s in scores}
    return criteria_set, entries, evidence, explanations


@dataclass(frozen=True)
class ClosedByDeadline:
    department_id: int
    department: str
    year: int
    deadline: date
    blockers: int  # what would have refused a lock by hand: the appraisal will see it


def close_due_self_scoring(db: Database, *, actor: Actor, today: date | None = None) -> list[ClosedByDeadline]:
    """Lock every year whose self-scoring deadline has passed (scoring.assessment.cycle.self_scoring_due), as it stands: what
    is scored is what the department submitted, and what still blocks a sound submission is counted in the audit
    entry. A job of the system, not of a person: for trusted callers only (the app's own check of the deadlines,
    SYSTEM_ACTOR, and the command line)."""
    from scoring.assessment.cycle import (
        LockState,
        closed_by_deadline_text,
        lock_blockers,
        self_scoring_deadline,
        self_scoring_due,
    )

    _trusted(actor)
    day = vietnam_today(today)
    closed = []
    with db.session() as session:
        open_years = session.scalars(select(Assessment).where(Assessment.locked_at.is_(None), Assessment.published_at.is_(None))
                                     .order_by(Assessment.id)).all()
        for row in open_years:
            state = _cycle_state(session, row, day)
            if not self_scoring_due(state, row.self_scoring_closed_on):
                continue
            deadline = self_scoring_deadline(state)
            blockers = lock_blockers(*_lock_inputs(session, row))
            by = closed_by_deadline_text(deadline)
            locked = LockState().lock(utcnow(), by, [])  # the deadline does not wait for the blockers
            row.locked_at, row.locked_by, row.self_scoring_closed_on = locked.locked_at, locked.locked_by, day
            note = f"tự động chốt khi hết hạn {format_date(deadline)}" + (f", còn {len(blockers)} vướng mắc" if blockers else "")
            _audit(session, actor, row.department_id, "assessment", str(row.year), {"chốt điểm tự chấm": (None, note)})
            department = session.get(Department, row.department_id)
            closed.append(ClosedByDeadline(row.department_id, department.name, row.year, deadline, len(blockers)))
        session.flush()
    return closed


def reopen_self_score(db: Database, assessment_id: int, reason: str, *, actor: Actor) -> AssessmentView:
    """Open a locked self-score again for corrections; the reason goes into the audit log."""
    from scoring.assessment.cycle import LockState

    with db.session() as session:
        row = _get(session, Assessment, assessment_id, "kỳ đánh giá")
        _may(session, row, actor, Write.REOPEN_LOCK)  # not once published: the publication is reopened first
        state = LockState(locked=row.locked_at is not None, locked_at=row.locked_at, locked_by=row.locked_by)
        state.reopen(utcnow(), actor_name(actor), reason)  # validates: locked, reason given
        _audit(session, actor, row.department_id, "assessment", str(row.year),
               {"mở lại điểm tự chấm": (f"đã chốt bởi {row.locked_by}", f"mở lại: {nfc(reason)}")})
        row.locked_at, row.locked_by = None, ""
        session.flush()
        return _assessment_view(row)


def override_round(db: Database, assessment_id: int, round_code: str, until: date, reason: str, *, actor: Actor,
                   today: date | None = None) -> AssessmentView:
    """The administrator opens a round from today to `until` outside the year's dates (open now, or extend);
    the reason is required and kept with the override and in the audit log."""
    if round_code not in ROUND_LABELS:
        raise InputError(f"Không có vòng «{round_code}» trong quy trình đánh giá.")
    day = vietnam_today(today)
    if not nfc(reason):
        raise InputError(f"Cần ghi lý do mở vòng «{ROUND_LABELS[round_code]}» ngoài lịch.")
    if until < day:
        raise InputError(f"Ngày kết thúc {format_date(until)} đã qua (hôm nay {format_date(day)}).")
    with db.session() as session:
        row = _get(session, Assessment, assessment_id, "kỳ đánh giá")
        _may(session, row, actor, Write.OVERRIDE_ROUND, today=day)
        override = RoundOverride(round_code, day, until, nfc(reason), actor_name(actor), utcnow())
        row.round_overrides = [*(row.round_overrides or []), override.to_dict()]
        _audit(session, actor, row.department_id, "assessment", str(row.year), {
            "mở vòng ngoài lịch": (None, f"{ROUND_LABELS[round_code]} từ {format_date(day)} đến {format_date(until)}: "
                                         f"{override.reason}"),
        })
        session.flush()
        return _assessment_view(row)


def publish_index(db: Database, assessment_id: int, *, actor: Actor, today: date | None = None) -> AssessmentView:
    """Công bố: the administrator publishes the appraised index; afterwards nothing changes until reopened.

    Refused while the appraised index cannot be computed (criteria not appraised, survey points missing)."""
    with db.session() as session:
        row = _get(session, Assessment, assessment_id, "kỳ đánh giá")
        state = _cycle_state(session, row, today)
        _may(session, row, actor, Write.PUBLISH, today=today)
        index, _ = _appraised_index(session, row, state.settings)
        if index.percent is None:
            raise InputError(f"Chưa công bố được chỉ số năm {row.year}: " + " ".join(index.problems))
        row.published_at, row.published_by = utcnow(), actor_name(actor)
        _audit(session, actor, row.department_id, "assessment", str(row.year), {
            "công bố chỉ số": (None, f"{format_percent(index.percent, 2)} — {index.band.label}"),
        })
        session.flush()
        return _assessment_view(row)


def _appraised_index(session: Session, row: Assessment, settings: YearSettings):
    """The appraised index as it is published (scoring.assessment.cycle.final_index over the final appraisals), and the roll-up
    it comes from: what publication checks and the ranking shows, computed one way."""
    from scoring.assessment.cycle import final_index, with_final_appraisals
    from scoring.assessment.engine import LeafEntry, roll_up

    criteria_set = _stored_set(session, row.criteria_set_id)
    scores = session.scalars(select(ScoreRecord).where(ScoreRecord.assessment_id == row.id)).all()
    entries = {s.code: LeafEntry(code=s.code, inputs=dict(s.inputs or {}), not_applicable=s.not_applicable) for s in scores}
    appraisals = {s.code: LeafAppraisal.from_dict(s.appraisal) for s in scores if s.appraisal}
    rollup = roll_up(criteria_set, with_final_appraisals(entries, appraisals))
    return final_index(rollup, settings, row.bonus_points or 0, row.penalty_points or 0, criteria_set=criteria_set), rollup


@dataclass(frozen=True)
class PublishedIndex:
    department_id: int
    year: int
    percent: Decimal  # the published index, 2 decimals
    band: str  # xếp loại
    published_at: datetime
    areas: tuple[tuple[str, str, Decimal, Decimal], ...]  # (code, name, appraised points, applicable maximum) per area


# A published year cannot change until it is reopened (scoring.assessment.cycle: no score, appraisal, bonus, setting or set),
# and reopening clears published_at: so its index, once computed, holds for that (assessment, publication).
_PUBLISHED: dict[tuple[str, int, datetime], PublishedIndex | None] = {}


def published_indexes(db: Database, department_ids: Iterable[int], year: int) -> dict[int, PublishedIndex]:
    """The published index of each of these departments' `year`, for those that have published it (công bố)."""
    wanted = list(department_ids)
    found = {}
    with db.session() as session:
        rows = session.scalars(select(Assessment).where(Assessment.year == year, Assessment.department_id.in_(wanted),
                                                        Assessment.published_at.is_not(None))).all()
        for row in rows:
            key = (db.settings.database_url, row.id, row.published_at)
            if key not in _PUBLISHED:
                _PUBLISHED[key] = _published_index(session, row)
            if _PUBLISHED[key] is not None:
                found[row.department_id] = _PUBLISHED[key]
    return found


def _published_index(session: Session, row: Assessment) -> PublishedIndex | None:
    """The published year's index and its areas; None where it cannot be computed (not a figure to rank)."""
    settings = YearSettings.from_dict(row.settings) if row.settings else default_settings(row.year)
    index, rollup = _appraised_index(session, row, settings)
    if index.percent is None:
        return None
    areas = tuple((a.code, a.name, a.appraised_points or Decimal(0), a.applicable_max) for a in rollup.areas
                  if not a.not_applicable)
    return PublishedIndex(row.department_id, row.year, index.percent, index.band.label if index.band else "",
                          row.published_at, areas)


def reopen_published(db: Database, assessment_id: int, reason: str, *, actor: Actor) -> AssessmentView:
    """The administrator reopens a published index for a correction; the reason goes into the audit log."""
    if not nfc(reason):
        raise InputError("Cần ghi lý do mở lại chỉ số đã công bố.")
    with db.session() as session:
        row = _get(session, Assessment, assessment_id, "kỳ đánh giá")
        _may(session, row, actor, Write.REOPEN_PUBLISHED)
        _audit(session, actor, row.department_id, "assessment", str(row.year), {
            "mở lại chỉ số đã công bố": (f"công bố lúc {format_datetime(row.published_at)} bởi {row.published_by}",
                                         f"mở lại: {nfc(reason)}"),
        })
        row.published_at, row.published_by = None, ""
        session.flush()
        return _assessment_view(row)


def group_criteria_set_id(session: Session, department_id: int, year: int) -> int | None:
    """The criteria set the department's group is scored on in `year` (scoring.province.groups), if its group has one."""
    return session.scalar(
        select(GroupCriteriaSet.criteria_set_id)
        .join(Department, Department.group_id == GroupCriteriaSet.group_id)
        .where(Department.id == department_id, GroupCriteriaSet.year == year))


def open_next_year(db: Database, department_id: int, from_year: int, to_year: int, *, actor: Actor) -> AssessmentView:
    """Open `to_year` from `from_year`: the criteria set of the department's group for `to_year` where the group has
    one (scoring.province.groups), otherwise the same set; the year settings moved forward, scores empty.

    Nothing of one criterion is copied (scores, evidence and evidence links belong to their year), so nothing here
    depends on criteria codes, and a criteria mapping (scoring.criteria.mapping) has nothing to carry: it matters
    once the new year takes the province's new set, for the comparison with the year before."""
    with db.session() as session:
        source = session.scalar(select(Assessment).where(Assessment.department_id == department_id, Assessment.year == from_year))
        if source is None:
            raise NotFoundError(f"Năm {from_year} chưa có kỳ đánh giá để sao chép.")
        if session.scalar(select(Assessment).where(Assessment.department_id == department_id, Assessment.year == to_year)):
            raise InputError(f"Năm {to_year} đã có kỳ đánh giá.")
        _allow(actor, Action.MANAGE_YEARS, department_id=department_id)
        settings = YearSettings.from_dict(source.settings) if source.settings else default_settings(from_year)
        criteria_set_id = group_criteria_set_id(session, department_id, to_year) or source.criteria_set_id
        row = Assessment(department_id=department_id, year=to_year, criteria_set_id=criteria_set_id,
                         settings=copy_forward(settings, to_year).to_dict(), settings_updated_by=actor_name(actor))
        session.add(row)
        session.flush()
        _audit(session, actor, department_id, "assessment", str(to_year), {"mở kỳ đánh giá": (None, f"{to_year} (từ {from_year})")})
        return _assessment_view(row)
