"""The `python -m scoring` command line. Exit codes: 0 usable (warnings allowed), 2 unusable input."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from sqlalchemy.engine import make_url

from scoring.errors import InputError
from scoring.exit_codes import EXIT_BAD_INPUT, EXIT_OK
from scoring.plan.importer import load_plan
from scoring.plan.model import Counts, Plan
from scoring.textnorm import format_date, local_zone

# argparse's own words (headings, the -h help, its refusals), in Vietnamese. argparse looks each up through
# gettext when it writes it (`_`, `ngettext` in its module, Python 3.11's msgids); _argparse_in_vietnamese
# answers those lookups while our parser is built, parses and writes its help, and only then.
_ARGPARSE_VIETNAMESE = {
    "usage: ": "Cách dùng: ",
    "positional arguments": "tham số",
    "options": "tùy chọn",
    "show this help message and exit": "hiện hướng dẫn này rồi thoát",
    "argument %(argument_name)s: %(message)s": "tham số %(argument_name)s: %(message)s",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "không có lệnh %(parser_name)r (chọn một trong: %(choices)s)",
    "unrecognized arguments: %s": "không hiểu tham số: %s",
    "not allowed with argument %s": "không dùng được cùng tham số %s",
    "ignored explicit argument %r": "không nhận giá trị %r",
    "the following arguments are required: %s": "còn thiếu tham số bắt buộc: %s",
    "one of the arguments %s is required": "cần một trong các tham số %s",
    "expected one argument": "cần một giá trị",
    "expected at most one argument": "cần nhiều nhất một giá trị",
    "expected at least one argument": "cần ít nhất một giá trị",
    "expected %s argument": "cần %s giá trị",
    "expected %s arguments": "cần %s giá trị",
    "ambiguous option: %(option)s could match %(matches)s": "tùy chọn %(option)s chưa rõ, có thể là %(matches)s",
    "unexpected option string: %s": "tùy chọn không đúng chỗ: %s",
    "invalid %(type)s value: %(value)r": "giá trị không hợp lệ: %(value)r",
    "invalid choice: %(value)r (choose from %(choices)s)": "không có lựa chọn %(value)r (chọn một trong: %(choices)s)",
    "can't open '%(filename)s': %(error)s": "không mở được tệp '%(filename)s': %(error)s",
}
# What an option's value is called in the help when the option does not say (argparse would print the English
# name of its variable: --year YEAR, -o OUTPUT).
_METAVARS = {"year": "NĂM", "department": "CƠ_QUAN", "output": "TỆP", "path": "TỆP", "plan": "TỆP_KẾ_HOẠCH", "format": "ĐỊNH_DẠNG"}


def _vietnamese(message: str) -> str:
    return _ARGPARSE_VIETNAMESE.get(message, message)


def _vietnamese_plural(singular: str, plural: str, count: int) -> str:
    return _vietnamese(singular if count == 1 else plural)


@contextmanager
def _argparse_in_vietnamese() -> Iterator[None]:
    saved = argparse._, argparse.ngettext
    argparse._, argparse.ngettext = _vietnamese, _vietnamese_plural
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved


class VietnameseParser(argparse.ArgumentParser):
    """An ArgumentParser that speaks Vietnamese: its headings, -h help, refusals and value names."""

    def __init__(self, *args, **kwargs) -> None:
        with _argparse_in_vietnamese():  # the "tham số"/"tùy chọn" headings and the -h help are made here
            super().__init__(*args, **kwargs)

    def add_argument(self, *args, **kwargs):
        option = args and str(args[0]).startswith("-")
        takes_value = kwargs.get("action") in (None, "store", "append") and "choices" not in kwargs
        if option and takes_value and "metavar" not in kwargs:
            dest = kwargs.get("dest") or max(args, key=len).lstrip("-").replace("-", "_")
            kwargs["metavar"] = _METAVARS.get(dest, "GIÁ_TRỊ")
        return super().add_argument(*args, **kwargs)

    def parse_args(self, *args, **kwargs):  # says "unrecognized arguments" itself, after parse_known_args
        with _argparse_in_vietnamese():
            return super().parse_args(*args, **kwargs)

    def parse_known_args(self, *args, **kwargs):  # what the subcommands' parsers are called through
        with _argparse_in_vietnamese():
            return super().parse_known_args(*args, **kwargs)

    def format_usage(self) -> str:
        with _argparse_in_vietnamese():
            return super().format_usage()

    def format_help(self) -> str:
        with _argparse_in_vietnamese():
            return super().format_help()

    def error(self, message: str) -> None:  # the exit code argparse uses, our own words around its message
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_INPUT, f"Lỗi: tham số không hợp lệ ({message}).\n")


def build_parser() -> argparse.ArgumentParser:
    parser = VietnameseParser(prog="python -m scoring", description="Chỉ số CCHC — công cụ dòng lệnh.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=VietnameseParser, metavar="LỆNH")

    plan = commands.add_parser("plan", help="Kế hoạch CCHC")
    plan_commands = plan.add_subparsers(dest="action", required=True, parser_class=VietnameseParser)
    plan_check = plan_commands.add_parser("check", help="Đọc và kiểm tra một tệp kế hoạch (.txt/.tsv/.docx/.xlsx)")
    plan_check.add_argument("path", metavar="TỆP")
    plan_check.add_argument("--json", action="store_true", help="In đúng một đối tượng JSON")
    plan_check.set_defaults(handler=_plan_check)

    criteria = commands.add_parser("criteria", help="Bộ tiêu chí Chỉ số CCHC")
    criteria_commands = criteria.add_subparsers(dest="action", required=True, parser_class=VietnameseParser)
    criteria_check = criteria_commands.add_parser("check", help="Kiểm tra một bộ tiêu chí (.xlsx/.docx/.pdf/.yaml/.json)")
    criteria_check.add_argument("path", metavar="TỆP")
    criteria_check.add_argument("--json", action="store_true", help="In đúng một đối tượng JSON")
    criteria_check.add_argument("--plan", help="Kế hoạch để đối chiếu mã hoạt động (mặc định: kế hoạch kèm theo)")
    criteria_check.set_defaults(handler=_criteria_check)

    close_due = commands.add_parser("close-due", help="Chốt các bản tự chấm đã hết hạn (ứng dụng cũng tự kiểm tra khi được dùng)")
    close_due.set_defaults(handler=_close_due)

    init = commands.add_parser("init", help="Tạo cơ sở dữ liệu với dữ liệu mặc định và tài khoản quản trị đầu tiên (nếu chưa có)")
    init.set_defaults(handler=_init)

    from scoring.access.accounts import add_user_commands
    from scoring.assessment.reminders import add_reminder_commands
    from scoring.exports.commands import add_export_commands
    from scoring.province.department_commands import add_department_commands
    from scoring.province.groups import add_group_commands
    from scoring.store.backup import add_backup_commands

    add_backup_commands(commands)
    add_department_commands(commands)
    add_group_commands(commands)
    add_export_commands(commands)
    add_user_commands(commands)
    add_reminder_commands(commands)
    return parser


def main(argv: list[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    args = build_parser().parse_args(argv)
    try:
        local_zone()  # a wrong CCHC_TIMEZONE stops every command at once, before any time is written
        return args.handler(args, out)
    except InputError as problem:
        print(f"Lỗi: {problem}", file=err)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # the reader (e.g. `| head`) stopped early: nothing left to say
        sys.stderr = open(os.devnull, "w")  # silence the interpreter's own report at exit
        return EXIT_OK


def _plan_check(args, out: TextIO) -> int:
    plan = load_plan(args.path)
    if args.json:
        json.dump(plan.as_dict(), out, ensure_ascii=False, indent=2)
        out.write("\n")
    else:
        out.write(plan_summary(plan))
    return EXIT_OK


def plan_summary(plan: Plan) -> str:
    lines = [f"{plan.title or '(không có tiêu đề)'} — năm {plan.year or '?'}"]
    if plan.organisation:
        lines.append(f"Cơ quan: {plan.organisation}")
    lines.append("")
    lines.append(f"{'Lĩnh vực':<10}{'Khai báo (MT/NV/HĐ)':>22}{'Đọc được (MT/NV/HĐ)':>22}")
    for area in plan.areas:
        declared, parsed = _counts_text(area.declared), _counts_text(area.parsed)
        mark = "" if area.declared is None or area.declared == area.parsed else "  ≠"
        lines.append(f"{area.code:<10}{declared:>22}{parsed:>22}{mark}")
    lines.append(f"Tổng số hoạt động: {len(plan.activities)}")
    dated = [a for a in plan.activities if a.due]
    if dated:
        lines.append(f"Hạn sớm nhất: {format_date(min(a.due for a in dated))}")
    lines.append("")
    if plan.warnings:
        lines.append(f"Cảnh báo ({len(plan.warnings)}):")
        lines.extend(f"  - {w.where}: {w.message}" for w in plan.warnings)
    else:
        lines.append("Không có cảnh báo.")
    return "\n".join(lines) + "\n"


def _init(args, out: TextIO) -> int:
    """First start, before the server: the embedded default, and the first administrator's password shown once."""
    from scoring.access.accounts import FIRST_ADMIN, ensure_first_admin, sign_in_required
    from scoring.store.actors import command_line_actor
    from scoring.store.db import open_database
    from scoring.store.department_store import list_departments
    from scoring.store.workspace import ensure_default_workspace

    db = open_database()
    created = ensure_default_workspace(db)
    shown = make_url(db.settings.database_url).render_as_string(hide_password=True)  # a console is read over shoulders
    print(f"Cơ sở dữ liệu: {shown}" + (" (vừa tạo với kế hoạch 2026 và bộ tiêu chí mẫu)" if created else ""), file=out)
    if sign_in_required():
        password = ensure_first_admin(db, [d.id for d in list_departments(db)], actor=command_line_actor())
        if password:
            print(f"Tài khoản quản trị đầu tiên: «{FIRST_ADMIN}», mật khẩu (chỉ hiện MỘT lần): {password}", file=out)
            print(f"Đổi mật khẩu: {this_command(['users', 'reset', FIRST_ADMIN])}", file=out)
    return EXIT_OK


def _close_due(args, out: TextIO) -> int:
    """What the app does as it is used (web.close_at_deadlines_now_and_then), for a scheduler at a province."""
    from scoring.store.actors import command_line_actor
    from scoring.store.cycle_store import close_due_self_scoring
    from scoring.store.db import open_database

    closed = close_due_self_scoring(open_database(), actor=command_line_actor())
    for year in closed:
        left = f", còn {year.blockers} vướng mắc" if year.blockers else ""
        print(f"Đã chốt điểm tự chấm: {year.department} năm {year.year} (hết hạn {format_date(year.deadline)}{left}).", file=out)
    if not closed:
        print("Không có bản tự chấm nào đã hết hạn mà chưa chốt.", file=out)
    return EXIT_OK


def this_command(arguments: list[str], environ: dict[str, str] | None = None) -> str:
    """A shell command that runs `python -m scoring <arguments>` as this process runs: from the same folder,
    with the same interpreter, on the same data (CCHC_DATA_DIR, DATABASE_URL as set now, the folder made
    absolute), whatever folder the person's shell is in and whatever it has exported."""
    environ = os.environ if environ is None else environ
    settings = {name: environ[name] for name in ("CCHC_DATA_DIR", "DATABASE_URL") if environ.get(name)}
    if "CCHC_DATA_DIR" in settings:
        settings["CCHC_DATA_DIR"] = str(Path(settings["CCHC_DATA_DIR"]).resolve())
    # "python3" only where that is this very interpreter (the shell finds another one under pyenv, in a venv not activated)
    python = "python3" if shutil.which("python3") == sys.executable else sys.executable
    words = [f"{name}={shlex.quote(value)}" for name, value in settings.items()] + [shlex.quote(python), "-m", "scoring"]
    return f"cd {shlex.quote(os.getcwd())} && " + " ".join(words + [shlex.quote(a) for a in arguments])


def _counts_text(counts: Counts | None) -> str:
    return f"{counts.goals}/{counts.tasks}/{counts.activities}" if counts else "—"


def _criteria_check(args, out: TextIO) -> int:
    from scoring.criteria.files import run_criteria_check  # the criteria stack loads only for this command
    from scoring.defaults import bundled_plan_path

    plan = load_plan(args.plan or bundled_plan_path())
    return run_criteria_check(args.path, as_json=args.json, activity_ids={a.id for a in plan.activities}, out=out)
