"""Departments: their name, units and letterhead, and the years each has. Each write is one transaction, audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import select

from scoring.access.auth import Action, Principal
from scoring.errors import InputError, NotFoundError
from scoring.store.actors import Actor, actor_name, check_allowed
from scoring.store.audit_trail import audit
from scoring.store.db import Database
from scoring.store.models import (
    Account,
    AccountDepartment,
    Assessment,
    AuditEntry,
    Department,
    PlanRecord,
    utcnow,
)
from scoring.store.rows import check_version, get_row
from scoring.textnorm import nfc

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
    check_allowed(actor, Action.CREATE_DEPARTMENT)
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
        audit(session, actor, department.id, "department", name, {
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
    check_allowed(actor, Action.MANAGE_SETTINGS, department_id=department_id)
    with db.session() as session:
        department = get_row(session, Department, department_id, "cơ quan")
        check_version(department, expected_version, f"Thông tin cơ quan «{department.name}»")
        if name != department.name and session.scalar(select(Department.id).where(Department.name == name)):
            raise InputError(f"Cơ quan «{name}» đã có trong cơ sở dữ liệu.")
        new_units = _clean_units(units)
        new_body = department.governing_body if governing_body is None else _letterhead_text(
            governing_body, "Cơ quan chủ quản", 200)
        new_place = department.place if place is None else _letterhead_text(place, "Địa danh", 100)
        audit(session, actor, department.id, "department", name,
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
