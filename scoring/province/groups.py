"""Departments grouped as the province groups them (sở; ban, ngành…): each group is ranked among itself and is
scored, year by year, on its own criteria set (a new year of one of its departments opens on that set).

Grouping is the province's decision, like adding a department: the administrator's (Action.CREATE_DEPARTMENT,
installation-wide) or a trusted caller's. Every write expects the version the person saw and is audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from scoring.access.auth import Action
from scoring.errors import InputError
from scoring.exit_codes import EXIT_OK
from scoring.store.actors import Actor, actor_name, check_allowed
from scoring.store.audit_trail import audit
from scoring.store.cycle_store import group_criteria_set_id
from scoring.store.db import Database
from scoring.store.models import CriteriaSetRecord, Department, DepartmentGroup, GroupCriteriaSet, utcnow
from scoring.store.rows import check_version, get_row
from scoring.textnorm import nfc, vn_sort_key

NO_GROUP = "Chưa xếp nhóm"


@dataclass(frozen=True)
class GroupView:
    id: int
    name: str
    version: int
    department_ids: tuple[int, ...] = ()
    criteria_sets: dict[int, int] = field(default_factory=dict)  # year → criteria set id


def list_groups(db: Database) -> list[GroupView]:
    """Every group, in Vietnamese alphabetical order, with its departments and its criteria set per year."""
    with db.session() as session:
        groups = session.scalars(select(DepartmentGroup)).all()
        members = session.execute(select(Department.group_id, Department.id).where(Department.group_id.is_not(None))).all()
        sets = session.scalars(select(GroupCriteriaSet)).all()
        views = [GroupView(g.id, g.name, g.version,
                           tuple(sorted(d for group_id, d in members if group_id == g.id)),
                           {s.year: s.criteria_set_id for s in sets if s.group_id == g.id})
                 for g in groups]
        return sorted(views, key=lambda g: vn_sort_key(g.name))


def group_of(db: Database, department_id: int) -> GroupView | None:
    return next((g for g in list_groups(db) if department_id in g.department_ids), None)


def _clean_name(name: str) -> str:
    name = nfc(name)
    if not name:
        raise InputError("Tên nhóm cơ quan không được để trống.")
    if len(name) > 200:
        raise InputError(f"Tên nhóm cơ quan dài {len(name)} ký tự; tối đa 200.")
    return name


def create_group(db: Database, name: str, *, actor: Actor) -> int:
    check_allowed(actor, Action.CREATE_DEPARTMENT)
    name = _clean_name(name)
    with db.session() as session:
        if session.scalar(select(DepartmentGroup.id).where(DepartmentGroup.name == name)):
            raise InputError(f"Nhóm «{name}» đã có.")
        group = DepartmentGroup(name=name, updated_by=actor_name(actor))
        session.add(group)
        session.flush()
        audit(session, actor, None, "department_group", name, {"tạo mới": (None, name)})
        return group.id


def rename_group(db: Database, group_id: int, expected_version: int, name: str, *, actor: Actor) -> GroupView:
    check_allowed(actor, Action.CREATE_DEPARTMENT)
    name = _clean_name(name)
    with db.session() as session:
        group = get_row(session, DepartmentGroup, group_id, "nhóm cơ quan")
        check_version(group, expected_version, f"Nhóm «{group.name}»")
        if name != group.name and session.scalar(select(DepartmentGroup.id).where(DepartmentGroup.name == name)):
            raise InputError(f"Nhóm «{name}» đã có.")
        audit(session, actor, None, "department_group", name, {"tên": (group.name, name)})
        group.name, group.updated_at, group.updated_by = name, utcnow(), actor_name(actor)
        session.flush()
    return next(g for g in list_groups(db) if g.id == group_id)


def assign_group(db: Database, department_id: int, expected_version: int, group_id: int | None, *, actor: Actor) -> int:
    """Put the department in a group (None: in none), if the department is still the version the person saw
    (DepartmentView.version). Returns the department's new version."""
    check_allowed(actor, Action.CREATE_DEPARTMENT)
    with db.session() as session:
        department = get_row(session, Department, department_id, "cơ quan")
        check_version(department, expected_version, f"Thông tin cơ quan «{department.name}»")
        new = get_row(session, DepartmentGroup, group_id, "nhóm cơ quan") if group_id is not None else None
        old = session.get(DepartmentGroup, department.group_id) if department.group_id is not None else None
        if (old.id if old else None) == group_id:
            return department.version
        audit(session, actor, department.id, "department", department.name,
               {"nhóm": (old.name if old else NO_GROUP, new.name if new else NO_GROUP)})
        department.group_id = group_id
        department.updated_at, department.updated_by = utcnow(), actor_name(actor)
        session.flush()
        return department.version


def set_group_criteria_set(db: Database, group_id: int, year: int, criteria_set_id: int, *, actor: Actor) -> None:
    """The set the group's departments are scored on in `year`: a year opened afterwards starts on it. Years
    already opened keep theirs (switching a year's set is the year's own setting, with its own checks)."""
    check_allowed(actor, Action.CREATE_DEPARTMENT)
    with db.session() as session:
        group = get_row(session, DepartmentGroup, group_id, "nhóm cơ quan")
        chosen = get_row(session, CriteriaSetRecord, criteria_set_id, "bộ tiêu chí")
        row = session.scalar(select(GroupCriteriaSet).where(GroupCriteriaSet.group_id == group_id, GroupCriteriaSet.year == year))
        before = session.get(CriteriaSetRecord, row.criteria_set_id).name if row else None
        if row is None:
            row = GroupCriteriaSet(group_id=group_id, year=year, criteria_set_id=criteria_set_id)
            session.add(row)
        row.criteria_set_id, row.updated_at, row.updated_by = criteria_set_id, utcnow(), actor_name(actor)
        audit(session, actor, None, "department_group", group.name, {f"bộ tiêu chí năm {year}": (before, chosen.name)})
        session.flush()


def criteria_set_for(db: Database, department_id: int, year: int) -> int | None:
    """The criteria set the department's group is scored on in `year`, if its group has one."""
    with db.session() as session:
        return group_criteria_set_id(session, department_id, year)


# ---------------------------------------------------------------- command line: python -m scoring groups ...


def add_group_commands(commands) -> None:
    parser = commands.add_parser("groups", help="Nhóm cơ quan (sở; ban, ngành…) và bộ tiêu chí của từng nhóm theo năm")
    actions = parser.add_subparsers(dest="action", required=True, parser_class=type(parser), metavar="{list,add,assign,criteria}")
    actions.add_parser("list", help="Liệt kê các nhóm, cơ quan và bộ tiêu chí theo năm").set_defaults(handler=_cli_list)
    add = actions.add_parser("add", help="Thêm một nhóm")
    add.add_argument("name", metavar="TÊN_NHÓM")
    add.set_defaults(handler=_cli_add)
    assign = actions.add_parser("assign", help="Xếp một cơ quan vào nhóm (--none: bỏ khỏi nhóm)")
    assign.add_argument("department", metavar="CƠ_QUAN", help="Tên hoặc mã cơ quan")
    assign.add_argument("group", metavar="TÊN_NHÓM", nargs="?", help="Tên nhóm; bỏ trống cùng --none để bỏ khỏi nhóm")
    assign.add_argument("--none", action="store_true", help="Bỏ cơ quan khỏi nhóm đang có")
    assign.set_defaults(handler=_cli_assign)
    criteria = actions.add_parser("criteria", help="Chọn bộ tiêu chí của nhóm cho một năm")
    criteria.add_argument("group", metavar="TÊN_NHÓM")
    criteria.add_argument("year", metavar="NĂM", type=int)
    criteria.add_argument("criteria_set", metavar="MÃ_BỘ_TIÊU_CHÍ", type=int, help="Mã bộ tiêu chí (xem `groups list`)")
    criteria.set_defaults(handler=_cli_criteria)


def _cli_db() -> Database:
    from scoring.access.accounts import existing_database

    return existing_database()


def named_group(db: Database, name: str) -> GroupView:
    wanted = nfc(name).casefold()
    found = [g for g in list_groups(db) if g.name.casefold() == wanted]
    if not found:
        listed = "; ".join(g.name for g in list_groups(db)) or "(chưa có nhóm nào)"
        raise InputError(f"Không có nhóm «{nfc(name)}». Các nhóm hiện có: {listed}.")
    return found[0]


def _cli_list(args, out) -> int:
    from scoring.store.criteria_store import list_criteria_sets
    from scoring.store.department_store import list_departments

    db = _cli_db()
    names = {d.id: d.name for d in list_departments(db)}
    sets = {s.id: s.name for s in list_criteria_sets(db)}
    grouped: set[int] = set()
    for group in list_groups(db):
        print(f"{group.name}:", file=out)
        for department_id in group.department_ids:
            print(f"  - {department_id}: {names[department_id]}", file=out)
        grouped.update(group.department_ids)
        for year, set_id in sorted(group.criteria_sets.items()):
            print(f"  Năm {year}: bộ tiêu chí {set_id} ({sets.get(set_id, '?')})", file=out)
    alone = [d for d in names if d not in grouped]
    if alone:
        print(f"{NO_GROUP}:", file=out)
        for department_id in alone:
            print(f"  - {department_id}: {names[department_id]}", file=out)
    print("Bộ tiêu chí (mã: tên): " + ("; ".join(f"{i}: {n}" for i, n in sets.items()) or "(chưa có)"), file=out)
    return EXIT_OK


def _cli_add(args, out) -> int:
    from scoring.store.actors import command_line_actor

    db = _cli_db()
    create_group(db, args.name, actor=command_line_actor())
    print(f"Đã thêm nhóm «{nfc(args.name)}».", file=out)
    return EXIT_OK


def _cli_assign(args, out) -> int:
    from scoring.access.accounts import cli_departments
    from scoring.store.actors import command_line_actor
    from scoring.store.department_store import list_departments

    db = _cli_db()
    if args.none == bool(args.group):
        raise InputError("Hãy ghi tên nhóm, hoặc --none để bỏ cơ quan khỏi nhóm (không dùng cả hai).")
    department_id = cli_departments(db, [args.department])[0]
    department = next(d for d in list_departments(db) if d.id == department_id)
    group = None if args.none else named_group(db, args.group)
    assign_group(db, department_id, department.version, group.id if group else None, actor=command_line_actor())
    print(f"Cơ quan «{department.name}»: " + (f"thuộc nhóm «{group.name}»." if group else "không thuộc nhóm nào."), file=out)
    return EXIT_OK


def _cli_criteria(args, out) -> int:
    from scoring.store.actors import command_line_actor

    db = _cli_db()
    group = named_group(db, args.group)
    set_group_criteria_set(db, group.id, args.year, args.criteria_set, actor=command_line_actor())
    print(f"Nhóm «{group.name}», năm {args.year}: bộ tiêu chí {args.criteria_set}.", file=out)
    return EXIT_OK
