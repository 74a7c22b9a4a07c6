"""The yearly appraisal cycle (chu kỳ xác định Chỉ số CCHC): which round is under way, its deadlines, and who may
write what now (`may_write`, the one answer every store write enforces and the pages ask before offering a control).

The cycle (par-index.md, "The yearly cycle"): self-scoring (tự chấm) → the unit locks its self-score
(chốt điểm) → appraisal round 1 (thẩm định lần 1), cutting points and asking for explanations → the
explanation round (giải trình) with supplementary evidence → appraisal round 2 (thẩm định lần 2) → survey
results, bonus and penalty are added and the province publishes the index and the band.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from scoring.access.auth import Action, PermissionDenied, Principal, Role, authorize
from scoring.assessment.appraisal import AUTHOR_APPRAISER, AUTHOR_TRANSCRIBED, Authorship, LeafAppraisal
from scoring.assessment.fields import date_field, datetime_field, required_mapping, text_field
from scoring.assessment.settings import (
    ROUND_APPRAISAL_1,
    ROUND_APPRAISAL_2,
    ROUND_EXPLANATION,
    ROUND_LABELS,
    ROUND_SELF_SCORING,
    Round,
    YearSettings,
)
from scoring.errors import InputError
from scoring.textnorm import format_date, format_datetime, local_today

ZERO = Decimal(0)
HUNDRED = Decimal(100)


# --------------------------------------------------------------------------- who writes what, and when

def vietnam_today(today: date | None = None) -> date:
    """The calendar day where people work (the rounds' dates are their days whatever the server's zone:
    scoring.textnorm.local_today, Vietnam unless CCHC_TIMEZONE says otherwise); `today` when given, so tests
    and callers that already know the day pass it through."""
    return today if today is not None else local_today()


@dataclass(frozen=True)
class RoundOverride:
    """An administrator opened a round outside its dates (open now, or extend): from `opened_on` to `until`."""

    round_code: str
    opened_on: date  # the Vietnam day it was granted
    until: date  # inclusive
    reason: str
    by: str
    at: datetime

    def covers(self, day: date) -> bool:
        return self.opened_on <= day <= self.until

    def to_dict(self) -> dict:
        return {"round": self.round_code, "opened_on": self.opened_on.isoformat(), "until": self.until.isoformat(),
                "reason": self.reason, "by": self.by, "at": self.at.isoformat()}

    @staticmethod
    def from_dict(data: Any) -> RoundOverride:
        where = "lần mở vòng ngoài lịch"
        data = required_mapping(data, where)
        opened_on, until, at = (date_field(data, "opened_on", where), date_field(data, "until", where),
                                datetime_field(data, "at", where))
        if opened_on is None or until is None or at is None:
            raise InputError(f"Dữ liệu {where} không đúng dạng: thiếu ngày mở, ngày kết thúc hoặc thời điểm.")
        return RoundOverride(text_field(data, "round", where), opened_on, until, text_field(data, "reason", where, default=""),
                             text_field(data, "by", where, default=""), at)


class Write(Enum):
    """A write the cycle governs, with the permission it needs and its Vietnamese phrase."""

    SELF_SCORE = ("self_score", Action.EDIT_SELF_SCORE)
    LOCK = ("lock", Action.LOCK_SELF_SCORE)
    REOPEN_LOCK = ("reopen_lock", Action.REOPEN_SELF_SCORE)
    APPRAISAL_1 = ("appraisal_1", Action.EDIT_APPRAISAL)
    EXPLANATION = ("explanation", Action.EDIT_EXPLANATION)
    APPRAISAL_2 = ("appraisal_2", Action.EDIT_APPRAISAL)
    BONUS_PENALTY = ("bonus_penalty", Action.EDIT_APPRAISAL)
    OVERRIDE_ROUND = ("override_round", Action.OVERRIDE_ROUND)
    PUBLISH = ("publish", Action.PUBLISH_INDEX)
    REOPEN_PUBLISHED = ("reopen_published", Action.REOPEN_PUBLISHED)

    def __init__(self, key: str, action: Action) -> None:
        self.key = key
        self.action = action


APPRAISAL_WRITES = {1: Write.APPRAISAL_1, 2: Write.APPRAISAL_2}


@dataclass(frozen=True)
class CycleState:
    """What decides whether a write is allowed today: the year's rounds, the lock, the publication, the
    administrator's overrides, and the appraiser accounts assigned to the department."""

    settings: YearSettings
    today: date
    locked: bool = False
    published_at: datetime | None = None
    published_by: str = ""
    overrides: tuple[RoundOverride, ...] = ()
    appraisers: tuple[str, ...] = ()  # usernames of the active appraiser accounts assigned to the department

    @property
    def published(self) -> bool:
        return self.published_at is not None

    def round(self, code: str) -> Round:
        found = self.settings.get_round(code)
        return found if found is not None else Round(code, ROUND_LABELS.get(code, code))

    def _overrides(self, code: str) -> list[RoundOverride]:
        return [o for o in self.overrides if o.round_code == code]

    def round_open(self, code: str) -> bool:
        """Open today by the year's dates or by an administrator's override."""
        return self.round(code).is_open_on(self.today) or any(o.covers(self.today) for o in self._overrides(code))

    def round_over(self, code: str) -> bool:
        """The round has been held and has ended (its last day may be today: rounds may share a day)."""
        r = self.round(code)
        spans = [(o.opened_on, o.until) for o in self._overrides(code)]
        if r.opens is not None or r.closes is not None:
            spans.append((r.opens, r.closes))
        if not spans:
            return False
        return all(end is not None and end <= self.today for _, end in spans) and any(
            start is None or start <= self.today for start, _ in spans)

    def round_started(self, code: str) -> bool:
        r = self.round(code)
        return self.round_open(code) or self.round_over(code) or (r.opens is not None and r.opens <= self.today)

    def closed_text(self, code: str) -> str:
        """Why a round is not open today, as the page's caption says it: "Vòng thẩm định lần 1 mở từ 21/12/2026"."""
        r = self.round(code)
        name = f"Vòng {r.label[:1].lower()}{r.label[1:]}"
        if r.opens is None and r.closes is None and not self._overrides(code):
            return f"{name} chưa đặt lịch (thiết lập năm {self.settings.year})."
        latest = max([o.until for o in self._overrides(code)] + ([r.closes] if r.closes else []), default=None)
        if r.opens is not None and self.today < r.opens:
            return f"{name} mở từ {format_date(r.opens)}" + (f" đến {format_date(r.closes)}." if r.closes else ".")
        return f"{name} đã kết thúc ngày {format_date(latest)}; quản trị viên có thể mở lại vòng (ghi lý do)."

    @property
    def published_text(self) -> str:
        return (f"Chỉ số năm {self.settings.year} đã công bố lúc {format_datetime(self.published_at)} "
                f"({self.published_by}): không sửa được nữa, trừ khi quản trị viên mở lại (ghi lý do).")


def round_last_day(state: CycleState, code: str) -> date | None:
    """A round's last day: its closing day, or a later day an administrator extended it to; None without either."""
    planned = state.round(code).closes
    ends = ([planned] if planned else []) + [o.until for o in state.overrides if o.round_code == code and o.until]
    return max(ends, default=None)


def self_scoring_deadline(state: CycleState) -> date | None:
    """The last day of self-scoring (round_last_day of the self-scoring round)."""
    return round_last_day(state, ROUND_SELF_SCORING)


def self_scoring_due(state: CycleState, closed_on: date | None) -> bool:
    """Self-scoring closes by itself once its last day has passed (provincial systems lock at the deadline), unless
    the year is locked or published already, or the deadline closed it before and an administrator reopened it
    since (`closed_on`, the day it closed, after the last day then in force: only a later extension counts again)."""
    deadline = self_scoring_deadline(state)
    if deadline is None or state.locked or state.published or state.today <= deadline:
        return False
    return closed_on is None or closed_on <= deadline


def closed_by_deadline_text(deadline: date) -> str:
    """Who locked a year its deadline closed, as the lock shows it ("Đã chốt … (hệ thống: hết hạn …)")."""
    return f"hệ thống: hết hạn tự chấm {format_date(deadline)}"


@dataclass(frozen=True)
class Verdict:
    """Whether a write is allowed now and, if not, why (`error`, to raise or to show)."""

    error: InputError | None = None
    author_kind: str | None = None  # for appraisal results: how the write will be recorded

    @property
    def allowed(self) -> bool:
        return self.error is None

    @property
    def reason(self) -> str:
        return str(self.error) if self.error is not None else ""

    @property
    def by_role(self) -> bool:
        """Refused by the account's role or department: pages say that once, not beside every criterion."""
        return isinstance(self.error, PermissionDenied)

    @property
    def needs_source(self) -> bool:
        return self.author_kind == AUTHOR_TRANSCRIBED

    def check(self) -> Verdict:
        if self.error is not None:
            raise self.error
        return self


def may_write(who: Principal | str, write: Write, state: CycleState, *, department_id: int,
              leaf: LeafAppraisal | None = None, code: str = "", bonus_author: Authorship | None = None) -> Verdict:
    """May `who` make `write` now, and if not, why: the one answer the store's writes enforce and the
    scoring page follows to show or hide an editor.

    `who` is a signed-in Principal (its role checked) or, for trusted callers without an account (the command
    line, a single office computer running open), a name: such callers count as the Office. `leaf` is the
    criterion's stored appraisal for the per-criterion writes (`code` names it in messages); `bonus_author`
    who entered the stored bonus and penalty. Decisions are in the module doc of scoring.access.auth ("The cycle").
    """
    if isinstance(who, Principal):
        try:
            authorize(who, write.action, department_id=department_id, assessment_locked=state.locked)
        except PermissionDenied as refused:
            return Verdict(refused)
    year = state.settings.year
    if write is Write.REOPEN_PUBLISHED:
        return Verdict() if state.published else Verdict(InputError(f"Chỉ số năm {year} chưa công bố nên không cần mở lại."))
    if state.published:
        return Verdict(InputError(state.published_text))
    if write is Write.SELF_SCORE:
        if state.locked:
            return Verdict(InputError(f"Điểm tự chấm năm {year} đã chốt; cần quản trị viên mở lại trước khi sửa."))
        return Verdict()
    if write is Write.LOCK:
        if state.locked:
            return Verdict(InputError(f"Điểm tự chấm năm {year} đã được chốt."))
        return Verdict()  # what still blocks the lock is LockState.lock's answer, on the stored scores
    if write is Write.REOPEN_LOCK:
        if not state.locked:
            return Verdict(InputError("Điểm tự chấm chưa được chốt nên không cần mở lại."))
        return Verdict()
    if write is Write.PUBLISH:
        if not state.locked:
            return Verdict(InputError(f"Năm {year} chưa chốt điểm tự chấm nên chưa công bố được chỉ số."))
        return Verdict()  # whether the appraised index is complete is the store's check, on the stored scores
    if write is Write.OVERRIDE_ROUND:
        return Verdict()
    if write is Write.EXPLANATION:
        where = f"Tiêu chí {code}: " if code else ""
        if leaf is None or not leaf.explanation_requested:
            return Verdict(InputError(f"{where}Sở Nội vụ chưa yêu cầu giải trình."))
        if not state.round_open(ROUND_EXPLANATION):
            return Verdict(InputError(state.closed_text(ROUND_EXPLANATION)))
        return Verdict()
    if not state.locked:
        return Verdict(InputError(f"Năm {year} chưa chốt điểm tự chấm nên chưa nhập được kết quả thẩm định."))
    if write is Write.BONUS_PENALTY:
        if not state.round_started(ROUND_APPRAISAL_1):
            return Verdict(InputError("Điểm thưởng, điểm trừ nhập được từ khi vòng thẩm định lần 1 bắt đầu "
                                      f"({state.round(ROUND_APPRAISAL_1).period_text()})."))
        return _authorship(who, state, bonus_author, "Điểm thưởng, điểm trừ")
    round_number = 1 if write is Write.APPRAISAL_1 else 2
    round_code = ROUND_APPRAISAL_1 if round_number == 1 else ROUND_APPRAISAL_2
    if round_number == 2:
        for earlier in (ROUND_APPRAISAL_1, ROUND_EXPLANATION):
            if not state.round_over(earlier):
                label = ROUND_LABELS[earlier].lower()
                return Verdict(InputError(f"Thẩm định lần 2 chỉ sau khi vòng {label} đã kết thúc "
                                          f"({state.round(earlier).period_text()})."))
    if not state.round_open(round_code):
        return Verdict(InputError(state.closed_text(round_code)))
    stored = leaf.author(round_number) if leaf is not None else None
    return _authorship(who, state, stored, f"Kết quả thẩm định lần {round_number}" + (f" tiêu chí {code}" if code else ""))


def _authorship(who: Principal | str, state: CycleState, stored: Authorship | None, what: str) -> Verdict:
    """Appraisal results have one author at a time: the appraiser account where the department has one, else
    the Office from the province's document; neither changes what the other entered."""
    if isinstance(who, Principal) and who.role is Role.APPRAISER:
        if stored is not None and stored.kind != AUTHOR_APPRAISER:
            return Verdict(InputError(f"{what}: {stored.text}; tài khoản thẩm định không sửa kết quả này."))
        return Verdict(author_kind=AUTHOR_APPRAISER)
    if state.appraisers:
        names = ", ".join(f"«{name}»" for name in state.appraisers)
        return Verdict(InputError(f"Cơ quan đã có tài khoản thẩm định {names}: kết quả thẩm định do tài khoản đó nhập, "
                                  "Văn phòng không ghi thay."))
    if stored is not None and stored.kind == AUTHOR_APPRAISER:
        return Verdict(InputError(f"{what}: {stored.text}; Văn phòng không sửa kết quả này."))
    return Verdict(author_kind=AUTHOR_TRANSCRIBED)
