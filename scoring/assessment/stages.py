"""Where a department's year stands (its stage) and the date that stage ends, as every page says it: the sidebar's
countdown, the province's overview and what awaits each person read these rules, so they never disagree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from scoring.assessment.cycle import CycleState, round_last_day
from scoring.assessment.settings import ROUND_APPRAISAL_1, ROUND_APPRAISAL_2, ROUND_EXPLANATION, ROUND_SELF_SCORING
from scoring.textnorm import format_date

STAGE_NOT_OPENED = "Chưa mở năm đánh giá"
STAGE_SELF_SCORING = "Đang tự chấm"
STAGE_WAITING = "Đã chốt, chờ thẩm định"
STAGE_APPRAISAL_1 = "Thẩm định lần 1"
STAGE_EXPLANATION = "Giải trình"
STAGE_APPRAISAL_2 = "Thẩm định lần 2"
STAGE_TO_PUBLISH = "Chờ công bố"
STAGE_PUBLISHED = "Đã công bố"
STAGE_ORDER = (STAGE_NOT_OPENED, STAGE_SELF_SCORING, STAGE_WAITING, STAGE_APPRAISAL_1, STAGE_EXPLANATION,
               STAGE_APPRAISAL_2, STAGE_TO_PUBLISH, STAGE_PUBLISHED)


@dataclass(frozen=True)
class Deadline:
    what: str  # "Hạn tự chấm", "Hạn giải trình"…
    day: date
    days_left: int  # negative once passed

    @property
    def left_text(self) -> str:
        """ "còn 19 ngày", "hôm nay", "quá hạn 3 ngày"."""
        if self.days_left > 0:
            return f"còn {self.days_left} ngày"
        return "hôm nay" if self.days_left == 0 else f"quá hạn {-self.days_left} ngày"

    @property
    def text(self) -> str:
        """ "Hạn tự chấm 20/12/2026 (còn 19 ngày)"."""
        return f"{self.what} {format_date(self.day)} ({self.left_text})"


def stage_of(state: CycleState) -> str:
    """Where an opened year stands on `state.today`."""
    if state.published:
        return STAGE_PUBLISHED
    if not state.locked:
        return STAGE_SELF_SCORING
    for code, stage in ((ROUND_APPRAISAL_2, STAGE_APPRAISAL_2), (ROUND_EXPLANATION, STAGE_EXPLANATION),
                        (ROUND_APPRAISAL_1, STAGE_APPRAISAL_1)):
        if state.round_open(code):
            return stage
    if state.round_over(ROUND_APPRAISAL_2) or state.round_over(ROUND_APPRAISAL_1) and state.round_over(ROUND_EXPLANATION):
        return STAGE_TO_PUBLISH
    return STAGE_WAITING


_DEADLINE_OF = {
    STAGE_SELF_SCORING: (ROUND_SELF_SCORING, "Hạn tự chấm"),
    STAGE_APPRAISAL_1: (ROUND_APPRAISAL_1, "Hạn thẩm định lần 1"),
    STAGE_EXPLANATION: (ROUND_EXPLANATION, "Hạn giải trình"),
    STAGE_APPRAISAL_2: (ROUND_APPRAISAL_2, "Hạn thẩm định lần 2"),
    STAGE_WAITING: (ROUND_APPRAISAL_1, "Thẩm định lần 1 bắt đầu"),
}


def next_deadline(state: CycleState, stage: str) -> Deadline | None:
    """The date the stage under way ends (its round's last day, an administrator's extension included), or, while
    the locked year waits for the appraisal, the day the appraisal opens; None where the year's settings give none."""
    if stage not in _DEADLINE_OF:
        return None
    code, what = _DEADLINE_OF[stage]
    planned = state.round(code)
    if stage == STAGE_WAITING:
        day = planned.opens
    else:
        day = round_last_day(state, code)
    if day is None:
        return None
    return Deadline(what, day, (day - state.today).days)


def countdown_text(state: CycleState, *, closes_at_deadline: bool) -> str:
    """The year's countdown as the department's pages show it: the stage under way and the day it ends, "" once
    published or where the settings give no date. While self-scoring, whether the app locks it at the deadline."""
    stage = stage_of(state)
    deadline = next_deadline(state, stage)
    if deadline is None:
        return ""
    if stage == STAGE_SELF_SCORING:
        return deadline.text + ("; sau hạn, bản tự chấm tự động chốt." if closes_at_deadline else ".")
    if stage == STAGE_WAITING:
        return f"{stage}: thẩm định lần 1 bắt đầu {format_date(deadline.day)} ({deadline.left_text})."
    return f"Đang {stage.lower()}, hạn {format_date(deadline.day)} ({deadline.left_text})."
