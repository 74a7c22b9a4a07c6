"""`python -m scoring department list|add|set`: the departments and their own settings from the command line.

`set` changes the letterhead of the official forms (the governing body above the department's name and the
place of the date line) and, if asked, the name; it goes through `department_store.update_department`, so it is
versioned and audited as a change made on Cấu hình → Cơ quan và đơn vị is ("dòng lệnh (login)" as the actor).
"""

from __future__ import annotations

from typing import TextIO

NOT_SET = "(chưa đặt)"


def add_department_commands(commands) -> None:
    department = commands.add_parser("department", help="Thông tin cơ quan: tên, cơ quan chủ quản, địa danh")
    actions = department.add_subparsers(dest="action", required=True, parser_class=type(department),
                                        metavar="{list,add,set}")
    listing = actions.add_parser("list", help="Liệt kê cơ quan: mã, tên, cơ quan chủ quản, địa danh, đơn vị")
    listing.set_defaults(handler=_cli_list)
    add = actions.add_parser("add", help="Thêm một cơ quan (sở, ban, ngành) với các đơn vị của nó")
    add.add_argument("name", metavar="TÊN")
    add.add_argument("--unit", action="append", default=[], metavar="ĐƠN_VỊ", help="Một đơn vị của cơ quan (lặp lại được)")
    add.add_argument("--group", metavar="TÊN_NHÓM", help="Nhóm của cơ quan (python -m scoring groups list)")
    add.set_defaults(handler=_cli_add)
    change = actions.add_parser("set", help="Sửa tên, cơ quan chủ quản, địa danh của một cơ quan")
    change.add_argument("--department", action="append", default=[], metavar="CƠ_QUAN",
                        help="Tên hoặc mã cơ quan (mặc định: cơ quan duy nhất trong dữ liệu)")
    change.add_argument("--name", metavar="TÊN", help="Tên mới của cơ quan")
    change.add_argument("--governing-body", metavar="CƠ_QUAN_CHỦ_QUẢN",
                        help="Dòng trên tên cơ quan ở văn bản, ví dụ «UBND TỈNH QUẢNG NINH» (\"\" để bỏ)")
    change.add_argument("--place", metavar="ĐỊA_DANH",
                        help="Địa danh ở dòng ngày tháng, ví dụ «Quảng Ninh» (\"\" để bỏ)")
    change.set_defaults(handler=_cli_set)


def _cli_list(args, out: TextIO) -> int:
    from scoring.access.accounts import existing_database
    from scoring.store.department_store import list_departments

    db = existing_database()
    try:
        for department in list_departments(db):
            out.write(f"{department.id}: {department.name}\n"
                      f"   Cơ quan chủ quản: {department.governing_body or NOT_SET}\n"
                      f"   Địa danh: {department.place or NOT_SET}\n"
                      f"   Đơn vị: {', '.join(department.units) or NOT_SET}\n")
    finally:
        db.dispose()
    return 0


def _cli_add(args, out: TextIO) -> int:
    from scoring.access.accounts import existing_database, give_to_administrators
    from scoring.province.groups import assign_group, named_group
    from scoring.store.actors import command_line_actor
    from scoring.store.department_store import create_department, list_departments

    db = existing_database()
    try:
        group = named_group(db, args.group) if args.group else None  # a wrong group adds nothing
        department_id = create_department(db, args.name, args.unit, actor=command_line_actor())
        administrators = give_to_administrators(db, department_id, actor=command_line_actor())
        if group is not None:
            version = next(d.version for d in list_departments(db) if d.id == department_id)
            assign_group(db, department_id, version, group.id, actor=command_line_actor())
    finally:
        db.dispose()
    out.write(f"Đã thêm cơ quan {department_id}: {args.name.strip()}" + (f", nhóm «{group.name}»" if group else "") + "\n")
    if administrators:
        out.write(f"   Giao cho quản trị viên: {', '.join(administrators)} (giao cho tài khoản khác ở Cấu hình → Tài khoản)\n")
    return 0


def _cli_set(args, out: TextIO) -> int:
    from scoring.access.accounts import cli_departments, existing_database
    from scoring.errors import InputError
    from scoring.store.actors import command_line_actor
    from scoring.store.department_store import list_departments, update_department

    if args.name is None and args.governing_body is None and args.place is None:
        raise InputError("Không có gì để sửa: hãy ghi --name, --governing-body hoặc --place.")
    db = existing_database()
    try:
        chosen = cli_departments(db, args.department)
        if len(chosen) != 1:
            raise InputError("Lệnh department set sửa một cơ quan mỗi lần; hãy ghi --department một lần.")
        current = next(d for d in list_departments(db) if d.id == chosen[0])
        saved = update_department(db, current.id, current.version, name=current.name if args.name is None else args.name,
                                  units=current.units, governing_body=args.governing_body, place=args.place,
                                  actor=command_line_actor())
    finally:
        db.dispose()
    out.write(f"Đã lưu thông tin cơ quan {saved.id}: {saved.name}\n"
              f"   Cơ quan chủ quản: {saved.governing_body or NOT_SET}\n"
              f"   Địa danh: {saved.place or NOT_SET}\n")
    return 0
