"""`python -m scoring users …` and the command line's own words: units from the department's list, departments by
name, the first start's hint that works as printed, no database made by a listing, argparse in Vietnamese."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from scoring.access import accounts
from scoring.cli import main
from scoring.store import actors, department_store
from scoring.store.db import Database, Settings, open_database

ROOT = Path(__file__).resolve().parent.parent
# argparse's own English (Python 3.11): headings, the -h help, its refusals and its "prog: error:" line; and the
# names it gives an option's value when none is given (the variable's, upper case: --year YEAR)
_ENGLISH_WORDS = re.compile(r"usage|positional|arguments?\b|\boptions?\b|show this help|required|invalid|choice|"
                            r"expected|unrecognized|ambiguous|\berror\b", re.IGNORECASE)
_ENGLISH_METAVARS = re.compile(r"\b(NAME|UNIT|DEPARTMENT|YEAR|OUTPUT|USERNAME|PATH|PLAN|FORMAT)\b")


class ARGPARSE_ENGLISH:  # noqa: N801 - reads as the pattern it stands for
    @staticmethod
    def search(text: str):
        return _ENGLISH_WORDS.search(text) or _ENGLISH_METAVARS.search(text)


def _run(*arguments: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(arguments), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def initialised():
    assert main(["init"], out=io.StringIO()) == 0
    db = open_database()
    return db, department_store.list_departments(db)[0]


def test_a_unit_the_department_does_not_have_is_refused_listing_what_exists(initialised):
    db, department = initialised
    code, _, err = _run("users", "add", "nguyenvana", "--role", "unit", "--unit", "Phòng Không Có")
    assert code == 2
    assert err.strip() == (f"Lỗi: Đơn vị «Phòng Không Có» không có trong danh sách đơn vị của cơ quan. Các đơn vị hiện có — "
                           f"{department.name}: {', '.join(department.units)}. Danh sách này sửa ở trang Cấu hình, "
                           "mục «Cơ quan và đơn vị».")
    assert "nguyenvana" not in {a.username for a in accounts.list_accounts(db)}


def test_messages_name_the_department_by_its_name(initialised):
    db, department = initialised
    code, out, _ = _run("users", "add", "nguyenvana", "--role", "unit", "--unit", "phòng tôn giáo", "--name", "Nguyễn Văn A",
                        "--department", department.name)
    assert code == 0
    assert out.splitlines()[0] == f"Đã tạo tài khoản «nguyenvana» (Phòng/đơn vị, Phòng Tôn giáo) cho {department.name}."
    code, listing, _ = _run("users", "list")
    line = next(line for line in listing.splitlines() if line.startswith("nguyenvana"))
    assert line.endswith(f"Phòng/đơn vị, Phòng Tôn giáo — {department.name} — đang dùng")
    assert not re.search(r"cơ quan \d", listing + out)

    code, _, err = _run("users", "add", "tranthib", "--role", "leader", "--department", "Sở Không Có")
    assert code == 2
    assert err.strip() == f"Lỗi: Không có cơ quan «Sở Không Có». Các cơ quan hiện có (mã: tên): {department.id}: {department.name}."


def test_with_several_departments_the_command_asks_which_by_name(initialised):
    db, department = initialised
    other = department_store.create_department(db, "Sở Xây dựng", ["Văn phòng"], actor=actors.SYSTEM_ACTOR)
    code, _, err = _run("users", "add", "tranthib", "--role", "leader")
    assert code == 2 and f"{department.id}: {department.name}; {other}: Sở Xây dựng" in err
    assert _run("users", "add", "tranthib", "--role", "leader", "--department", str(other))[0] == 0
    assert next(a for a in accounts.list_accounts(db) if a.username == "tranthib").department_ids == [other]


def test_users_list_on_a_folder_without_a_database_says_so_and_creates_nothing(tmp_path, monkeypatch):
    folder = tmp_path / "trong"
    folder.mkdir()
    monkeypatch.setenv("CCHC_DATA_DIR", str(folder))
    for command in (["users", "list"], ["users", "reset", "quantri"], ["users", "add", "x", "--role", "leader"]):
        code, out, err = _run(*command)
        assert code == 2 and not out
        assert err.strip() == (f"Lỗi: Chưa có cơ sở dữ liệu ({folder / 'cchc.db'}) nên chưa có tài khoản nào. Hãy chạy "
                               "`python -m scoring init` trước: lệnh này tạo cơ sở dữ liệu và tài khoản quản trị đầu tiên.")
    assert list(folder.iterdir()) == []


def _printed_hint(environ: dict[str, str]) -> str:
    """`python -m scoring init` run as scripts/run.sh runs it; the password-change line it prints."""
    done = subprocess.run([sys.executable, "-m", "scoring", "init"], cwd=ROOT, env=environ, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return next(line for line in done.stdout.splitlines() if line.startswith("Đổi mật khẩu: ")).removeprefix("Đổi mật khẩu: ")


def _run_as_printed(command: str, tmp_path: Path) -> str:
    """The printed command typed in a shell somewhere else, with none of the data settings exported."""
    environ = {k: v for k, v in os.environ.items() if k not in ("CCHC_DATA_DIR", "DATABASE_URL")}
    done = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.split("(chỉ hiện một lần): ", 1)[1].split()[0]


@pytest.mark.parametrize("setting", ["CCHC_DATA_DIR", "DATABASE_URL"])
def test_the_first_starts_password_hint_works_exactly_as_printed(tmp_path, setting):
    folder = tmp_path / "srv" / "cchc"
    environ = {**os.environ, "CCHC_AUTH": "on"}
    environ.pop("DATABASE_URL", None)
    environ["CCHC_DATA_DIR"] = str(folder)
    if setting == "DATABASE_URL":
        environ["DATABASE_URL"] = f"sqlite:///{tmp_path / 'rieng' / 'co so du lieu.db'}"  # a space, to be quoted
        (tmp_path / "rieng").mkdir()
    hint = _printed_hint(environ)
    assert hint.endswith("-m scoring users reset quantri")
    assert f"CCHC_DATA_DIR={folder}" in hint
    if setting == "DATABASE_URL":
        assert "DATABASE_URL='sqlite:///" in hint
    password = _run_as_printed(hint, tmp_path)
    url = environ.get("DATABASE_URL") or f"sqlite:///{folder / 'cchc.db'}"
    db = Database(Settings(data_dir=folder, database_url=url))
    try:
        assert accounts.sign_in(db, "quantri", password).username == "quantri"
    finally:
        db.dispose()


def test_help_is_in_vietnamese():
    done = subprocess.run([sys.executable, "-m", "scoring", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    assert done.stdout.startswith("Cách dùng: python -m scoring [-h] LỆNH ...")
    assert "tùy chọn:" in done.stdout and "hiện hướng dẫn này rồi thoát" in done.stdout
    assert not ARGPARSE_ENGLISH.search(done.stdout), done.stdout


@pytest.mark.parametrize("command", [["plan", "check"], ["criteria", "check"], ["init"], ["backup"], ["restore"],
                                     ["export", "scoresheet"], ["export", "charts"], ["users"], ["users", "add"],
                                     ["users", "reset"], ["users", "list"]])
def test_every_commands_help_is_in_vietnamese(command, capsys):
    with pytest.raises(SystemExit) as finished:
        main([*command, "--help"])
    assert finished.value.code == 0
    printed = capsys.readouterr().out
    assert printed.startswith("Cách dùng: ")
    assert not ARGPARSE_ENGLISH.search(printed), printed


@pytest.mark.parametrize("command, says", [
    ([], "còn thiếu tham số bắt buộc: LỆNH"),
    (["users", "add", "x"], "còn thiếu tham số bắt buộc: --role"),
    (["users", "add", "x", "--role", "chu-tich"], "tham số --role: không có lựa chọn 'chu-tich' (chọn một trong: 'admin'"),
    (["lam-gi"], "tham số LỆNH: không có lựa chọn 'lam-gi' (chọn một trong: 'plan', 'criteria'"),
    (["users", "list", "thua"], "không hiểu tham số: thua"),
    (["export", "scoresheet", "--year", "hai-nghin", "-o", "x.xlsx"], "tham số --year: giá trị không hợp lệ: 'hai-nghin'"),
    (["users", "add", "x", "--role"], "tham số --role: cần một giá trị"),
])
def test_a_wrong_command_is_refused_in_vietnamese(command, says, capsys):
    with pytest.raises(SystemExit) as finished:
        main(command)
    assert finished.value.code == 2
    printed = capsys.readouterr().err
    assert printed.startswith("Cách dùng: ") and f"Lỗi: tham số không hợp lệ ({says}" in printed, printed
    assert not ARGPARSE_ENGLISH.search(printed), printed


def test_an_error_from_the_shell_is_in_vietnamese():
    done = subprocess.run([sys.executable, "-m", "scoring", "users", "add"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and not done.stdout
    assert "Lỗi: tham số không hợp lệ (còn thiếu tham số bắt buộc: TÊN_ĐĂNG_NHẬP, --role)." in done.stderr
    assert not ARGPARSE_ENGLISH.search(done.stderr), done.stderr


def test_argparse_speaks_english_again_outside_our_parser():
    import argparse

    main_parser_help = io.StringIO()
    with pytest.raises(SystemExit):
        main(["--help"], out=main_parser_help)
    assert argparse.ArgumentParser(prog="khac").format_help().startswith("usage: khac")  # nothing left switched
