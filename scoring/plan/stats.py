"""Completion statistics of the plan's activities, for the dashboard's charts and the plan criterion.

Pure functions over `ActivityState` (one activity's area, lead units, due date and status): no
database, no clock unless the caller leaves `today` out (then today's date in Vietnam, textnorm.local_today). Percentages (`done_pct`) are 0–100 and
count done activities among the applicable ones ("Không áp dụng" leaves both the count and the
total); `plan_completion_ratio` is the same quotient as a 0–1 ratio. Where nothing applies the
value is None, never a division by zero. Areas come in plan order (I, II, … VII), units in
Vietnamese alphabetical order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from scoring.errors import InputError
from scoring.plan.deadlines import is_overdue
from scoring.plan.units import expand_units, is_collective, unit_key
from scoring.textnorm import format_date, format_number, local_today, roman_value, vn_sort_key

STATUS_NOT_STARTED = "chua_bat_dau"
STATUS_IN_PROGRESS = "dang_thuc_hien"
STATUS_DONE = "hoan_thanh"
STATUS_NOT_APPLICABLE = "khong_ap_dung"

# Display order of statuses in tables and chart legends.
STATUSES = (STATUS_NOT_STARTED, STATUS_IN_PROGRESS, STATUS_DONE, STATUS_NOT_APPLICABLE)

STATUS_LABELS = {
    STATUS_NOT_STARTED: "Chưa bắt đầu",
    STATUS_IN_PROGRESS: "Đang thực hiện",
    STATUS_DONE: "Hoàn thành",
    STATUS_NOT_APPLICABLE: "Không áp dụng",
}

# Okabe–Ito colours (designed to stay distinct for red–green colour blindness), each dark
# enough to keep at least 3:1 contrast on a white slide so it survives a washed-out projector.
STATUS_COLOURS = {
    STATUS_NOT_STARTED: "#D55E00",  # vermilion
    STATUS_IN_PROGRESS: "#0072B2",  # blue
    STATUS_DONE: "#009E73",  # bluish green
    STATUS_NOT_APPLICABLE: "#7F7F7F",  # mid grey: out of the count, so it should not draw the eye
}

# Row label for activities whose lead cell is empty, so they are not lost from per-unit views.
NO_LEAD_UNIT = "(Chưa có đơn vị chủ trì)"


@dataclass
class ActivityState:
    id: str  # as in the plan model, "I.3"
    area: str  # Roman numeral of the plan area, "I"–"VII"
    lead: list[str] = field(default_factory=list)
    due: date | None = None
    status: str = STATUS_NOT_STARTED
    progress: int = 0  # 0–100, as the lead unit reports it

    def __post_init__(self) -> None:
        if self.status not in STATUS_LABELS:
            allowed = ", ".join(f"“{label}”" for label in STATUS_LABELS.values())
            raise InputError(
                f"Hoạt động {self.id}: trạng thái “{self.status}” không hợp lệ; chỉ nhận {allowed}."
            )
        if isinstance(self.progress, bool) or not isinstance(self.progress, int) or not 0 <= self.progress <= 100:
            raise InputError(
                f"Hoạt động {self.id}: tiến độ “{self.progress}” không hợp lệ; phải là số nguyên từ 0 đến 100."
            )

    @property
    def applicable(self) -> bool:
        return self.status != STATUS_NOT_APPLICABLE

    @property
    def done(self) -> bool:
        return self.status == STATUS_DONE

    def is_overdue(self, today: date) -> bool:
        return self.applicable and is_overdue(self.due, self.done, today)


def area_sort_key(code: str) -> tuple:
    """Plan order: I, II, … by numeral value; codes that are not Roman numerals after them, alphabetically."""
    value = roman_value(code)
    return (0, value, ()) if value is not None else (1, 0, vn_sort_key(code))


def unit_sort_key(unit: str) -> tuple:
    """Vietnamese alphabetical order, with the no-lead row last."""
    return (unit == NO_LEAD_UNIT, vn_sort_key(unit))


def _natural_key(text: str) -> tuple:
    # "I.10" after "I.9": digit runs compare as numbers.
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text) if part)


def _activity_sort_key(state: ActivityState) -> tuple:
    return (state.due or date.max, area_sort_key(state.area), _natural_key(state.id))


def _summary(states: list[ActivityState], today: date) -> dict:
    counts = {status: 0 for status in STATUSES}
    for state in states:
        counts[state.status] += 1
    applicable = len(states) - counts[STATUS_NOT_APPLICABLE]
    return {
        "total": len(states),
        **counts,
        "applicable": applicable,
        "done_pct": counts[STATUS_DONE] / applicable * 100 if applicable else None,
        "overdue": sum(state.is_overdue(today) for state in states),
    }


def _leads_per_state(
    states: list[ActivityState], department_units: list[str]
) -> tuple[list[str], list[list[str]]]:
    """The unit rows in display order, and each state's lead units spelled as those rows are.

    Rows are every configured unit (even one that leads nothing: the chart should show it) plus
    every lead named; the collective entry stands for the configured units. Spellings that differ
    only in case share one row, the configured spelling first.
    """
    spelling: dict[str, str] = {}
    for unit in expand_units(department_units, []):
        if not is_collective(unit):
            spelling.setdefault(unit_key(unit), unit)
    leads = []
    for state in states:
        names = expand_units(state.lead, department_units) or [NO_LEAD_UNIT]
        leads.append(list(dict.fromkeys(spelling.setdefault(unit_key(name), name) for name in names)))
    return sorted(spelling.values(), key=unit_sort_key), leads


def completion_by_area(states: Iterable[ActivityState], today: date | None = None) -> list[dict]:
    """One row per area in plan order: area, total, a count per status, applicable, done_pct, overdue."""
    today = today or local_today()
    by_area: dict[str, list[ActivityState]] = {}
    for state in states:
        by_area.setdefault(state.area, []).append(state)
    return [
        {"area": area, **_summary(by_area[area], today)} for area in sorted(by_area, key=area_sort_key)
    ]


def completion_by_unit(
    states: Iterable[ActivityState], department_units: Iterable[str], today: date | None = None
) -> list[dict]:
    """One row per lead unit (same columns as by area, `unit` instead of `area`).

    An activity led by "Các phòng thuộc Sở" counts once for every configured unit; an activity
    led by several units counts once for each of them, so the rows may add up to more than the plan.
    """
    today = today or local_today()
    states = list(states)
    department_units = list(department_units)
    units, leads = _leads_per_state(states, department_units)
    by_unit: dict[str, list[ActivityState]] = {unit: [] for unit in units}
    for state, state_leads in zip(states, leads):
        for unit in state_leads:
            by_unit[unit].append(state)
    return [{"unit": unit, **_summary(unit_states, today)} for unit, unit_states in by_unit.items()]


def unit_area_matrix(states: Iterable[ActivityState], department_units: Iterable[str]) -> list[dict]:
    """Long-form heatmap cells, every (unit, area) pair: unit, area, total, applicable, done, done_pct.

    Units in the order of `completion_by_unit`, areas in plan order; a pair with no applicable
    activity has done_pct None (an empty cell, not a red 0%).
    """
    states = list(states)
    department_units = list(department_units)
    units, leads = _leads_per_state(states, department_units)
    areas = sorted({state.area for state in states}, key=area_sort_key)
    cells = {(unit, area): [0, 0, 0] for unit in units for area in areas}  # total, applicable, done
    for state, state_leads in zip(states, leads):
        for unit in state_leads:
            cell = cells[unit, state.area]
            cell[0] += 1
            cell[1] += state.applicable
            cell[2] += state.done
    return [
        {
            "unit": unit,
            "area": area,
            "total": total,
            "applicable": applicable,
            "done": done,
            "done_pct": done / applicable * 100 if applicable else None,
        }
        for (unit, area), (total, applicable, done) in cells.items()
    ]


def overdue(states: Iterable[ActivityState], today: date) -> list[ActivityState]:
    """Applicable activities past their due date and not done, the longest overdue first."""
    return sorted((state for state in states if state.is_overdue(today)), key=_activity_sort_key)


def upcoming(states: Iterable[ActivityState], today: date, days: int = 30) -> list[ActivityState]:
    """Applicable activities not done and due from today to `days` days ahead (both ends included), soonest first."""
    if days < 0:
        raise InputError(f"Số ngày sắp đến hạn phải từ 0 trở lên (đang là {days}).")
    horizon = today + timedelta(days=days)
    return sorted(
        (
            state
            for state in states
            if state.applicable and not state.done and state.due is not None and today <= state.due <= horizon
        ),
        key=_activity_sort_key,
    )


def plan_completion_ratio(states: Iterable[ActivityState]) -> float | None:
    """Done ÷ applicable activities (0–1), for the "mức độ thực hiện kế hoạch" criterion; None if nothing applies."""
    applicable = done = 0
    for state in states:
        applicable += state.applicable
        done += state.done
    return done / applicable if applicable else None


# ---------------------------------------------------------------- one activity's progress, kept coherent

UNCHANGED = "unchanged"  # a field the person did not touch (None means "empty" for the completion date)


@dataclass(frozen=True)
class ActivityProgress:
    """Status, progress and completion date of one activity after a change, and what was adjusted to keep
    them coherent, each a sentence for the person (`notices`)."""

    status: str
    progress: int
    completed_on: date | None
    notices: tuple[str, ...] = ()


def reconcile_progress(code: str, stored: tuple[str, int, date | None], *, status: str | None = None,
                       progress: object = None, completed_on: object = UNCHANGED, today: date) -> ActivityProgress:
    """Apply a person's change to an activity's (status, progress, completion date), keeping the three coherent.

    The field the person changed wins and the others follow when one consequence is obvious; a change that
    cannot be made coherent is refused (InputError naming the activity and the field, saying what to do):

    Refused
      1. progress that is not a whole number from 0 to 100 (150, -5, 12,5, "abc");
      2. a completion date after today (Vietnam date);
      3. status and progress changed together and contradicting each other: «Chưa bắt đầu» or «Không áp dụng»
         with progress above 0, «Hoàn thành» with progress below 100, «Đang thực hiện» with 100 %;
      4. «Đang thực hiện» chosen while progress is 100 % (lower the progress instead: the status follows);
      5. a completion date given while the status (after the change) is not «Hoàn thành».
    Adjusted, and said
      6. choosing «Hoàn thành»: progress becomes 100 %, and the completion date today if there is none;
      7. choosing «Chưa bắt đầu» or «Không áp dụng»: progress becomes 0 %;
      8. progress 100 % on an activity not done: status «Hoàn thành» (and rule 6's date);
         progress between 1 and 99 % on one «Chưa bắt đầu», «Hoàn thành» or «Không áp dụng»: «Đang thực hiện»;
         progress 0 % on one «Hoàn thành»: «Chưa bắt đầu»;
      9. leaving «Hoàn thành» clears the stored completion date (unless this change gives one: rule 5).
    A «Hoàn thành» activity whose date is cleared stays done with no date (the date may be unknown).
    """
    old_status, old_progress, old_date = stored
    where = f"Hoạt động {code}"
    if status is not None and status not in STATUS_LABELS:
        allowed = ", ".join(f"«{label}»" for label in STATUS_LABELS.values())
        raise InputError(f"{where}: trạng thái «{status}» không hợp lệ; chỉ nhận {allowed}.")
    if progress is not None:
        progress = _whole_percent(where, progress)
    if completed_on not in (UNCHANGED, None):
        if not isinstance(completed_on, date):
            raise InputError(f"{where}: ngày hoàn thành «{completed_on}» không phải một ngày.")
        if completed_on > today:
            raise InputError(f"{where}: ngày hoàn thành {format_date(completed_on)} ở sau hôm nay ({format_date(today)}); "
                             "hãy ghi ngày hoạt động đã hoàn thành thật.")
    notices: list[str] = []
    new_status, new_progress = old_status, old_progress
    if status is not None and progress is not None:
        _refuse_contradiction(where, status, progress)
        new_status, new_progress = status, progress
    elif status is not None:
        new_status = status
        if status == STATUS_DONE:
            new_progress = 100
        elif status in (STATUS_NOT_STARTED, STATUS_NOT_APPLICABLE):
            new_progress = 0
        elif old_progress == 100:
            raise InputError(f"{where}: tiến độ đang là 100% nên chưa thể chọn «{STATUS_LABELS[status]}»; "
                             "hãy sửa tiến độ xuống dưới 100% (trạng thái sẽ chuyển theo).")
        if new_progress != old_progress:
            notices.append(f"{where}: tiến độ được đặt thành {new_progress}% cho khớp trạng thái «{STATUS_LABELS[status]}».")
    elif progress is not None:
        new_progress = progress
        if progress == 100:
            new_status = STATUS_DONE
        elif progress > 0 and old_status != STATUS_IN_PROGRESS:
            new_status = STATUS_IN_PROGRESS
        elif progress == 0 and old_status == STATUS_DONE:
            new_status = STATUS_NOT_STARTED
        if new_status != old_status:
            notices.append(f"{where}: trạng thái được chuyển thành «{STATUS_LABELS[new_status]}» cho khớp tiến độ {progress}%.")
    new_date = old_date if completed_on == UNCHANGED else completed_on
    if new_status != STATUS_DONE:
        if completed_on not in (UNCHANGED, None):
            raise InputError(f"{where}: ngày hoàn thành {format_date(completed_on)} chỉ ghi cho hoạt động «Hoàn thành», "
                             f"mà trạng thái là «{STATUS_LABELS[new_status]}»; hãy chọn «Hoàn thành» hoặc xóa ngày hoàn thành.")
        if new_date is not None:
            notices.append(f"{where}: ngày hoàn thành {format_date(new_date)} được xóa vì hoạt động không còn «Hoàn thành».")
            new_date = None
    elif old_status != STATUS_DONE and new_date is None and completed_on == UNCHANGED:
        new_date = today
        notices.append(f"{where}: ngày hoàn thành được ghi là hôm nay, {format_date(today)}; sửa lại nếu hoàn thành ngày khác.")
    return ActivityProgress(new_status, new_progress, new_date, tuple(notices))


def _whole_percent(where: str, value: object) -> int:
    if isinstance(value, bool):
        value = None
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or not 0 <= value <= 100:
        shown = format_number(value) if isinstance(value, float) else ("" if value is None else value)
        raise InputError(f"{where}: tiến độ «{shown}» không hợp lệ; "
                         "hãy nhập một số nguyên từ 0 đến 100 (%).")
    return value


def _refuse_contradiction(where: str, status: str, progress: int) -> None:
    label = STATUS_LABELS[status]
    if status in (STATUS_NOT_STARTED, STATUS_NOT_APPLICABLE) and progress > 0:
        fix = "hãy để tiến độ 0% hoặc chọn «Đang thực hiện»"
    elif status == STATUS_DONE and progress < 100:
        fix = "hãy ghi tiến độ 100% hoặc chọn «Đang thực hiện»"
    elif status == STATUS_IN_PROGRESS and progress == 100:
        fix = "hãy ghi tiến độ dưới 100% hoặc chọn «Hoàn thành»"
    else:
        return
    raise InputError(f"{where}: trạng thái «{label}» không khớp tiến độ {progress}%; {fix}.")
