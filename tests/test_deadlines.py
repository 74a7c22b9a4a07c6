import unicodedata
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.plan.deadlines import Deadline, DeadlineKind, is_overdue, parse_deadline

YEAR = 2026


def due(text: str, plan_year: int = YEAR) -> date | None:
    deadline = parse_deadline(text, plan_year)
    assert deadline.kind == DeadlineKind.DATE, deadline
    return deadline.due


# Every deadline cell of the 2026 plan, as written.
SEED_CELLS = {
    "Tháng 1 - 2": date(2026, 2, 28),
    "Trong năm": date(2026, 12, 31),
    "Hàng năm": date(2026, 12, 31),
    "Hàng Năm": date(2026, 12, 31),
    "Trong năm 2026 theo yêu cầu nhiệm vụ": date(2026, 12, 31),
    "Khi có sự thay đổi": None,
    "Sau khi có hướng dẫn của Trung ương, của tỉnh": None,
    "Sau khi có Đề án, Quyết định của cấp có thẩm quyền": None,
    "": None,
}


@pytest.mark.parametrize(("cell", "expected"), SEED_CELLS.items())
def test_every_seed_plan_cell_is_read(cell, expected):
    deadline = parse_deadline(cell, YEAR)
    assert deadline.kind != DeadlineKind.UNPARSED
    assert deadline.due == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Month ranges: due at the end of the last month.
        ("Tháng 1 - 2", date(2026, 2, 28)),
        ("Tháng 1-2", date(2026, 2, 28)),
        ("Tháng 01 đến tháng 02", date(2026, 2, 28)),
        ("tháng 1 – 3", date(2026, 3, 31)),
        ("Tháng 11 - 12/2027", date(2027, 12, 31)),
        # One month.
        ("Tháng 12", date(2026, 12, 31)),
        ("Tháng 12/2026", date(2026, 12, 31)),
        ("Tháng 12 - 2026", date(2026, 12, 31)),
        ("tháng 6 năm 2027", date(2027, 6, 30)),
        ("Tháng 6/27", date(2027, 6, 30)),
        ("Trong tháng 4", date(2026, 4, 30)),
        ("Tháng 9", date(2026, 9, 30)),
        # Quarters.
        ("Quý I", date(2026, 3, 31)),
        ("Quý III", date(2026, 9, 30)),
        ("Quý 3", date(2026, 9, 30)),
        ("Quý II/2027", date(2027, 6, 30)),
        ("quý IV năm 2026", date(2026, 12, 31)),
        ("Quý I - II", date(2026, 6, 30)),
        # Days, day before month.
        ("Trước ngày 15/12/2026", date(2026, 12, 15)),
        ("ngày 15/12", date(2026, 12, 15)),
        ("15/12/2026", date(2026, 12, 15)),
        ("15-12-2026", date(2026, 12, 15)),
        ("15.12.2026", date(2026, 12, 15)),
        ("Trước 20/12", date(2026, 12, 20)),
        ("05/01/2027", date(2027, 1, 5)),
        ("15/12/26", date(2026, 12, 15)),
        ("ngày 15 tháng 12 năm 2026", date(2026, 12, 15)),
        ("Trước ngày 10 tháng 1", date(2026, 1, 10)),
        # "năm trước" / "năm sau" move the plan year when no year is written.
        ("Trước ngày 20/12 năm trước", date(2025, 12, 20)),
        ("Tháng 3 năm sau", date(2027, 3, 31)),
        # Half years.
        ("6 tháng đầu năm", date(2026, 6, 30)),
        ("6 tháng cuối năm", date(2026, 12, 31)),
        ("06 tháng đầu năm 2027", date(2027, 6, 30)),
        # The whole year.
        ("Trong năm", date(2026, 12, 31)),
        ("Hàng năm", date(2026, 12, 31)),
        ("HÀNG NĂM", date(2026, 12, 31)),
        ("Thường xuyên", date(2026, 12, 31)),
        ("Cả năm", date(2026, 12, 31)),
        ("Năm 2026", date(2026, 12, 31)),
        ("Năm 2027", date(2027, 12, 31)),
        ("2027", date(2027, 12, 31)),
        ("Trong năm 2027", date(2027, 12, 31)),
        ("Định kỳ hàng quý", date(2026, 12, 31)),
    ],
)
def test_dated_deadlines(text, expected):
    assert due(text) == expected


def test_february_end_follows_leap_years():
    assert due("Tháng 1 - 2", 2028) == date(2028, 2, 29)
    assert due("Tháng 1 - 2", 2100) == date(2100, 2, 28)


def test_year_in_text_wins_over_plan_year():
    assert due("Tháng 12/2025", 2026) == date(2025, 12, 31)
    assert due("Hàng năm", 2030) == date(2030, 12, 31)


@pytest.mark.parametrize(
    "text",
    [
        "Khi có sự thay đổi",
        "Sau khi có hướng dẫn của Trung ương, của tỉnh",
        "Sau khi có Đề án, Quyết định của cấp có thẩm quyền",
        "Khi có chỉ đạo của UBND tỉnh",
        "Theo yêu cầu",
        "Theo chỉ đạo của cấp trên",
        "Khi có văn bản hướng dẫn",
        "Nếu có phát sinh",
        "KHI CÓ SỰ THAY ĐỔI",
    ],
)
def test_event_triggered_deadlines_are_conditional(text):
    deadline = parse_deadline(text, YEAR)
    assert deadline == Deadline(text, None, DeadlineKind.CONDITIONAL)


@pytest.mark.parametrize("text", ["", "   ", "\n\t ", None])
def test_empty_cells_are_missing(text):
    deadline = parse_deadline(text, YEAR)
    assert deadline.kind == DeadlineKind.MISSING
    assert deadline.due is None


@pytest.mark.parametrize(
    "text",
    [
        "31/02",  # no such day
        "30/02/2026",
        "29/02/2026",  # 2026 is not a leap year
        "Tháng 13",
        "Tháng 0",
        "Quý V",
        "Tháng 3 - 1",  # a range that runs backwards
        "Quý IV - II",
        "Năm 0000",
        "Sớm nhất có thể",
        "abc",
        "theo quy định",
    ],
)
def test_unreadable_or_impossible_dates_are_unparsed(text):
    deadline = parse_deadline(text, YEAR)
    assert deadline == Deadline(text, None, DeadlineKind.UNPARSED)


def test_leap_day_is_a_date_in_a_leap_year():
    assert due("29/02/2028") == date(2028, 2, 29)


def test_decomposed_unicode_reads_like_composed():
    for text in ["Hàng năm", "Quý III", "Tháng 01 đến tháng 02", "Khi có sự thay đổi"]:
        decomposed = unicodedata.normalize("NFD", text)
        assert parse_deadline(decomposed, YEAR).due == parse_deadline(text, YEAR).due
        assert parse_deadline(decomposed, YEAR).kind == parse_deadline(text, YEAR).kind


def test_original_text_is_kept_exactly():
    text = "  Quý  III \n"
    assert parse_deadline(text, YEAR).text == text


def test_kind_values_are_plain_strings():
    assert parse_deadline("Quý III", YEAR).kind == "date"
    assert parse_deadline("Khi có sự thay đổi", YEAR).kind == "conditional"
    assert parse_deadline("", YEAR).kind == "missing"
    assert parse_deadline("abc", YEAR).kind == "unparsed"


def test_a_year_out_of_the_calendar_is_unparsed_not_an_error():
    assert parse_deadline("Tháng 12 năm sau", 9999).kind == DeadlineKind.UNPARSED
    assert parse_deadline("Hàng năm", 10**30).kind == DeadlineKind.UNPARSED


@given(st.text(), st.integers(min_value=-(10**6), max_value=10**6))
def test_parse_deadline_never_raises(text, plan_year):
    deadline = parse_deadline(text, plan_year)
    assert deadline.text == text
    assert deadline.kind in set(DeadlineKind)
    assert (deadline.due is not None) == (deadline.kind == DeadlineKind.DATE)


_DEADLINE_WORDS = st.sampled_from(
    ["tháng", "quý", "ngày", "năm", "trước", "đến", "-", "/", ".", " ", "hàng", "khi", "sau", "6", "đầu", "III", "IV"]
)


@given(
    st.lists(st.one_of(_DEADLINE_WORDS, st.integers(0, 3000).map(str)), max_size=12).map(" ".join),
    st.integers(min_value=1, max_value=9999),
)
def test_parse_deadline_never_raises_on_deadline_like_text(text, plan_year):
    # Random text rarely reaches the date rules; these words do, with impossible numbers.
    deadline = parse_deadline(text, plan_year)
    assert (deadline.due is not None) == (deadline.kind == DeadlineKind.DATE)


# --- is_overdue ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due_date", "done", "today", "expected"),
    [
        (date(2026, 2, 28), False, date(2026, 3, 1), True),
        (date(2026, 2, 28), False, date(2026, 2, 28), False),  # due today: not yet overdue
        (date(2026, 2, 28), False, date(2026, 2, 27), False),
        (date(2026, 2, 28), True, date(2026, 3, 1), False),  # done
        (None, False, date(2030, 1, 1), False),  # conditional or missing: never overdue
    ],
)
def test_is_overdue(due_date, done, today, expected):
    assert is_overdue(due_date, done, today) is expected
