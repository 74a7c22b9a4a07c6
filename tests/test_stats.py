import unicodedata
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.errors import InputError
from scoring.plan.stats import (
    NO_LEAD_UNIT,
    STATUS_COLOURS,
    STATUS_DONE,
    STATUS_IN_PROGRESS,
    STATUS_LABELS,
    STATUS_NOT_APPLICABLE,
    STATUS_NOT_STARTED,
    STATUSES,
    ActivityState,
    area_sort_key,
    completion_by_area,
    completion_by_unit,
    overdue,
    plan_completion_ratio,
    unit_area_matrix,
    upcoming,
)
from scoring.plan.units import COLLECTIVE_UNIT

TODAY = date(2026, 6, 15)
DEPARTMENT = ["Văn phòng", "Phòng CSĐT", "Phòng Tôn giáo"]


def state(id, area, lead, due, status, progress=0):
    return ActivityState(id=id, area=area, lead=lead, due=due, status=status, progress=progress)


# Listed out of area order on purpose: the functions must put areas in plan order themselves.
STATES = [
    state("VII.1", "VII", ["Phòng CSĐT"], date(2026, 6, 15), STATUS_IN_PROGRESS, 40),  # due today
    state("I.1", "I", ["Văn phòng"], date(2026, 2, 28), STATUS_DONE, 100),
    state("I.2", "I", ["Văn phòng"], date(2026, 12, 31), STATUS_IN_PROGRESS, 50),
    state("I.3", "I", [COLLECTIVE_UNIT], date(2026, 3, 31), STATUS_NOT_STARTED),  # overdue
    state("II.1", "II", [COLLECTIVE_UNIT], date(2026, 12, 31), STATUS_DONE, 100),
    state("III.1", "III", ["Phòng CSĐT", "Phòng Tôn giáo", "Văn phòng"], date(2026, 6, 30), STATUS_NOT_STARTED),
    state("IV.1", "IV", ["Văn phòng"], None, STATUS_NOT_APPLICABLE),
    state("IV.2", "IV", ["Văn phòng"], date(2026, 1, 31), STATUS_NOT_APPLICABLE),  # past due, but not applicable
    state("VI.1", "VI", [], date(2026, 5, 1), STATUS_NOT_STARTED),  # overdue, no lead
]


def row(key, value, total, not_started, in_progress, done, not_applicable, done_pct, overdue_count):
    return {
        key: value,
        "total": total,
        STATUS_NOT_STARTED: not_started,
        STATUS_IN_PROGRESS: in_progress,
        STATUS_DONE: done,
        STATUS_NOT_APPLICABLE: not_applicable,
        "applicable": total - not_applicable,
        "done_pct": done_pct,
        "overdue": overdue_count,
    }


def approx_rows(rows):
    return [{**r, "done_pct": pytest.approx(r["done_pct"]) if r["done_pct"] is not None else None} for r in rows]


# --- labels and colours ----------------------------------------------------------------------


def test_every_status_has_a_vietnamese_label_and_a_distinct_colour():
    assert set(STATUS_LABELS) == set(STATUSES) == set(STATUS_COLOURS)
    assert all(unicodedata.is_normalized("NFC", label) for label in STATUS_LABELS.values())
    assert STATUS_LABELS[STATUS_DONE] == "Hoàn thành"
    assert len(set(STATUS_COLOURS.values())) == len(STATUSES)


def _relative_luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


@pytest.mark.parametrize("status", STATUSES)
def test_status_colours_keep_graphics_contrast_on_white(status):
    # WCAG 2.1 §1.4.11: graphical objects need 3:1 against their background.
    contrast = 1.05 / (_relative_luminance(STATUS_COLOURS[status]) + 0.05)
    assert contrast >= 3


# --- ActivityState validation ----------------------------------------------------------------


@pytest.mark.parametrize("status", ["done", "Hoàn thành", ""])
def test_unknown_status_is_rejected_naming_the_activity(status):
    with pytest.raises(InputError, match=r"Hoạt động I\.1: trạng thái"):
        state("I.1", "I", [], None, status)


@pytest.mark.parametrize("progress", [-1, 101, 50.5, True, "50"])
def test_progress_outside_0_to_100_is_rejected(progress):
    with pytest.raises(InputError, match=r"Hoạt động I\.1: tiến độ"):
        state("I.1", "I", [], None, STATUS_IN_PROGRESS, progress)


@pytest.mark.parametrize("progress", [0, 100])
def test_progress_bounds_are_accepted(progress):
    assert state("I.1", "I", [], None, STATUS_IN_PROGRESS, progress).progress == progress


# --- by area ---------------------------------------------------------------------------------


def test_completion_by_area_hand_computed():
    assert completion_by_area(STATES, TODAY) == approx_rows(
        [
            row("area", "I", 3, 1, 1, 1, 0, 100 / 3, 1),
            row("area", "II", 1, 0, 0, 1, 0, 100.0, 0),
            row("area", "III", 1, 1, 0, 0, 0, 0.0, 0),
            row("area", "IV", 2, 0, 0, 0, 2, None, 0),  # nothing applicable: None, not 0 nor an error
            row("area", "VI", 1, 1, 0, 0, 0, 0.0, 1),
            row("area", "VII", 1, 0, 1, 0, 0, 0.0, 0),
        ]
    )


def test_completion_by_area_of_nothing_is_empty():
    assert completion_by_area([], TODAY) == []


def test_areas_sort_by_numeral_value_not_alphabetically():
    codes = ["X", "IX", "V", "Khác", "IV", "VIII", "I", "II"]
    assert sorted(codes, key=area_sort_key) == ["I", "II", "IV", "V", "VIII", "IX", "X", "Khác"]
    states = [state(f"{code}.1", code, [], None, STATUS_DONE) for code in ["IX", "V", "X"]]
    assert [r["area"] for r in completion_by_area(states, TODAY)] == ["V", "IX", "X"]


def test_overdue_count_moves_with_today():
    # I.3 (due 31/3) is not overdue on its due date, and is the day after.
    on_due = completion_by_area([s for s in STATES if s.id == "I.3"], date(2026, 3, 31))
    day_after = completion_by_area([s for s in STATES if s.id == "I.3"], date(2026, 4, 1))
    assert (on_due[0]["overdue"], day_after[0]["overdue"]) == (0, 1)


# --- by unit ---------------------------------------------------------------------------------


def test_completion_by_unit_hand_computed_with_collective_expansion():
    # The two activities led by "Các phòng thuộc Sở" (I.3, II.1) count for each of the three units.
    assert completion_by_unit(STATES, DEPARTMENT, TODAY) == approx_rows(
        [
            row("unit", "Phòng CSĐT", 4, 2, 1, 1, 0, 25.0, 1),
            row("unit", "Phòng Tôn giáo", 3, 2, 0, 1, 0, 100 / 3, 1),
            row("unit", "Văn phòng", 7, 2, 1, 2, 2, 40.0, 1),
            row("unit", NO_LEAD_UNIT, 1, 1, 0, 0, 0, 0.0, 1),
        ]
    )


def test_configured_unit_that_leads_nothing_still_has_a_row():
    rows = completion_by_unit(STATES, [*DEPARTMENT, "Thanh tra"], TODAY)
    inspection = next(r for r in rows if r["unit"] == "Thanh tra")
    # The collective activities (I.3, II.1) are Thanh tra's too.
    assert (inspection["total"], inspection[STATUS_DONE], inspection["done_pct"]) == (2, 1, 50.0)
    idle = completion_by_unit([], ["Thanh tra"], TODAY)
    assert idle == [row("unit", "Thanh tra", 0, 0, 0, 0, 0, None, 0)]


def test_without_configured_units_the_collective_entry_is_its_own_row():
    rows = completion_by_unit(STATES, [], TODAY)
    assert [r["unit"] for r in rows] == [COLLECTIVE_UNIT, "Phòng CSĐT", "Phòng Tôn giáo", "Văn phòng", NO_LEAD_UNIT]
    collective = rows[0]
    assert (collective["total"], collective[STATUS_DONE], collective["overdue"]) == (2, 1, 1)


def test_unit_spellings_that_differ_in_case_share_one_row():
    states = [
        state("I.1", "I", ["phòng csđt"], None, STATUS_DONE),
        state("I.2", "I", ["PHÒNG CSĐT"], None, STATUS_NOT_STARTED),
    ]
    rows = completion_by_unit(states, ["Phòng CSĐT"], TODAY)
    assert [(r["unit"], r["total"], r["done_pct"]) for r in rows] == [("Phòng CSĐT", 2, 50.0)]


def test_a_unit_named_twice_in_one_activity_counts_it_once():
    states = [state("I.1", "I", ["Văn phòng", COLLECTIVE_UNIT], None, STATUS_DONE)]
    rows = completion_by_unit(states, DEPARTMENT, TODAY)
    assert {r["unit"]: r["total"] for r in rows} == {"Phòng CSĐT": 1, "Phòng Tôn giáo": 1, "Văn phòng": 1}


def test_units_follow_vietnamese_alphabetical_order():
    # Plain code-point order would put "Đ" after "V"; Vietnamese puts it right after "D".
    units = ["Văn phòng", "Đội Kiểm tra", "Dịch vụ công", "Phòng Ưu đãi", "Phòng Uỷ thác", "Ban Dân tộc"]
    rows = completion_by_unit([], units, TODAY)
    assert [r["unit"] for r in rows] == [
        "Ban Dân tộc",
        "Dịch vụ công",
        "Đội Kiểm tra",
        "Phòng Uỷ thác",
        "Phòng Ưu đãi",
        "Văn phòng",
    ]


# --- heatmap matrix --------------------------------------------------------------------------


def test_unit_area_matrix_covers_every_pair_in_order():
    cells = unit_area_matrix(STATES, DEPARTMENT)
    units = ["Phòng CSĐT", "Phòng Tôn giáo", "Văn phòng", NO_LEAD_UNIT]
    areas = ["I", "II", "III", "IV", "VI", "VII"]
    assert [(c["unit"], c["area"]) for c in cells] == [(u, a) for u in units for a in areas]


@pytest.mark.parametrize(
    ("unit", "area", "total", "applicable", "done", "done_pct"),
    [
        ("Văn phòng", "I", 3, 3, 1, 100 / 3),  # I.1, I.2 and the collective I.3
        ("Phòng CSĐT", "I", 1, 1, 0, 0.0),  # only I.3, through the collective entry
        ("Phòng Tôn giáo", "II", 1, 1, 1, 100.0),
        ("Văn phòng", "IV", 2, 0, 0, None),  # all not applicable
        ("Phòng Tôn giáo", "VII", 0, 0, 0, None),  # no activity at all
        (NO_LEAD_UNIT, "VI", 1, 1, 0, 0.0),
    ],
)
def test_unit_area_matrix_cells(unit, area, total, applicable, done, done_pct):
    cell = next(c for c in unit_area_matrix(STATES, DEPARTMENT) if c["unit"] == unit and c["area"] == area)
    expected_pct = pytest.approx(done_pct) if done_pct is not None else None
    assert cell == {
        "unit": unit,
        "area": area,
        "total": total,
        "applicable": applicable,
        "done": done,
        "done_pct": expected_pct,
    }


def test_unit_area_matrix_agrees_with_completion_by_unit():
    by_unit = {r["unit"]: r for r in completion_by_unit(STATES, DEPARTMENT, TODAY)}
    cells = unit_area_matrix(STATES, DEPARTMENT)
    for unit, unit_row in by_unit.items():
        assert sum(c["total"] for c in cells if c["unit"] == unit) == unit_row["total"]
        assert sum(c["done"] for c in cells if c["unit"] == unit) == unit_row[STATUS_DONE]


# --- overdue / upcoming ----------------------------------------------------------------------


def ids(states):
    return [s.id for s in states]


def test_overdue_lists_applicable_undone_past_due_longest_first():
    # IV.2 is past due but not applicable; VII.1 is due today; I.1 is done.
    assert ids(overdue(STATES, TODAY)) == ["I.3", "VI.1"]


def test_overdue_on_a_date_before_everything_is_empty():
    assert overdue(STATES, date(2026, 1, 1)) == []


def test_upcoming_includes_today_and_the_horizon_day():
    assert ids(upcoming(STATES, TODAY)) == ["VII.1", "III.1"]
    assert ids(upcoming(STATES, TODAY, days=15)) == ["VII.1", "III.1"]  # III.1 due exactly on day 15
    assert ids(upcoming(STATES, TODAY, days=14)) == ["VII.1"]
    assert ids(upcoming(STATES, TODAY, days=0)) == ["VII.1"]


def test_upcoming_skips_done_not_applicable_and_undated():
    states = [
        state("I.1", "I", [], TODAY + timedelta(days=3), STATUS_DONE),
        state("I.2", "I", [], TODAY + timedelta(days=3), STATUS_NOT_APPLICABLE),
        state("I.3", "I", [], None, STATUS_NOT_STARTED),
        state("I.4", "I", [], TODAY + timedelta(days=3), STATUS_NOT_STARTED),
    ]
    assert ids(upcoming(states, TODAY)) == ["I.4"]


def test_activities_due_the_same_day_sort_by_area_then_natural_id():
    same_day = TODAY + timedelta(days=1)
    states = [
        state(activity_id, area, [], same_day, STATUS_NOT_STARTED)
        for activity_id, area in [("II.1", "II"), ("I.10", "I"), ("I.9", "I"), ("IX.1", "IX"), ("V.1", "V")]
    ]
    assert ids(upcoming(states, TODAY)) == ["I.9", "I.10", "II.1", "V.1", "IX.1"]


def test_negative_horizon_is_rejected():
    with pytest.raises(InputError, match="Số ngày"):
        upcoming(STATES, TODAY, days=-1)


# --- plan completion ratio -------------------------------------------------------------------


def test_plan_completion_ratio_hand_computed():
    # Done: I.1, II.1. Applicable: 9 activities less IV.1 and IV.2.
    assert plan_completion_ratio(STATES) == pytest.approx(2 / 7)


def test_plan_completion_ratio_is_none_when_nothing_applies():
    assert plan_completion_ratio([]) is None
    assert plan_completion_ratio([state("I.1", "I", [], None, STATUS_NOT_APPLICABLE)]) is None


def test_plan_completion_ratio_bounds():
    assert plan_completion_ratio([state("I.1", "I", [], None, STATUS_DONE)]) == 1.0
    assert plan_completion_ratio([state("I.1", "I", [], None, STATUS_IN_PROGRESS, 99)]) == 0.0


# --- invariants on random plans --------------------------------------------------------------

_states = st.lists(
    st.builds(
        ActivityState,
        id=st.from_regex(r"[IVX]{1,3}\.[0-9]{1,2}", fullmatch=True),
        area=st.sampled_from(["I", "II", "III", "IV", "V", "VI", "VII"]),
        lead=st.lists(st.sampled_from([*DEPARTMENT, COLLECTIVE_UNIT, "Thanh tra"]), max_size=3),
        due=st.one_of(st.none(), st.dates(date(2026, 1, 1), date(2026, 12, 31))),
        status=st.sampled_from(STATUSES),
        progress=st.integers(0, 100),
    ),
    max_size=25,
)


@given(_states)
def test_counts_add_up_and_percentages_stay_in_range(states):
    area_rows = completion_by_area(states, TODAY)
    assert sum(r["total"] for r in area_rows) == len(states)
    for r in [*area_rows, *completion_by_unit(states, DEPARTMENT, TODAY)]:
        assert sum(r[status] for status in STATUSES) == r["total"]
        assert r["overdue"] <= r["applicable"]
        assert (r["done_pct"] is None) == (r["applicable"] == 0)
        assert r["done_pct"] is None or 0 <= r["done_pct"] <= 100
    ratio = plan_completion_ratio(states)
    assert ratio is None or 0 <= ratio <= 1
    assert len(overdue(states, TODAY)) == sum(r["overdue"] for r in area_rows)


def test_roman_numerals_read_and_write_back():
    from scoring.textnorm import roman, roman_value

    assert [roman(n) for n in (1, 4, 7, 9, 14, 39)] == ["I", "IV", "VII", "IX", "XIV", "XXXIX"]
    assert all(roman_value(roman(n)) == n for n in range(1, 200))
    assert roman_value(" vii ") == 7 and roman_value("IIII") is None and roman_value("Văn phòng") is None
