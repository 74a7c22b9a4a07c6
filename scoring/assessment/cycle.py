"""The yearly appraisal cycle (chu kỳ xác định Chỉ số CCHC): a year's settings, the published index step by step,
locking the self-score, the appraisal rounds and the year-over-year comparison.

Pure core: no storage, no UI. What gets stored (YearSettings, LockState, LeafAppraisal) turns into plain
JSON-ready dicts with `to_dict` and back with `from_dict`, which raises InputError on malformed data.

The cycle (par-index.md, "The yearly cycle"): self-scoring (tự chấm) → the unit locks its self-score
(chốt điểm) → appraisal round 1 (thẩm định lần 1), cutting points and asking for explanations → the
explanation round (giải trình) with supplementary evidence → appraisal round 2 (thẩm định lần 2) → survey
results, bonus and penalty are added and the province publishes the index and the band.

How the published index is computed (`final_index`), every step shown to users:
1. The criteria part: the appraised (or self) points of every applicable non-survey leaf, rolled up by the
   engine's own rules (scoring.assessment.engine: "không đánh giá" leaves leave points and maximum out, caps, deductions).
2. The survey part (điều tra XHH): the set's survey leaves, or, for a set that has none, the published total
   `survey_points` out of the year's `survey_share`. In a year without a survey the part is left out
   entirely, so the index is the criteria part rescaled to 100 ("quy đổi phần thẩm định về thang 100").
3. Bonus and penalty (điểm thưởng / điểm trừ) are points of the same table, each capped by the year's
   settings, added to the achieved total before dividing — as the engine already treats a set's own
   deduction block (it lowers the total, never the maximum). In a year without a survey they are therefore
   rescaled with the rest of the total.
4. Index = achieved / applicable maximum × 100, rounded half-up to 2 decimals, then kept within 0..100 %.
5. The band is read from that rounded percentage: 89,995% is published as 90,00% and is group A.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum
from typing import Any, NamedTuple, Protocol

from scoring.access.auth import Action, PermissionDenied, Principal, Role, authorize
from scoring.assessment.engine import PERCENT_QUANTUM, LeafEntry, NodeTotals, Rollup, _combine, roll_up
from scoring.criteria.model import CriteriaSet, CriterionNode
from scoring.criteria.rules import RuleKind, json_number, parse_decimal, vn_number
from scoring.errors import InputError
from scoring.textnorm import format_date, format_datetime, format_percent, format_points, local_today, nfc

ZERO = Decimal(0)
HUNDRED = Decimal(100)

# --------------------------------------------------------------------------- rounds

# Round codes are stored: Vietnamese slugs, like the activity statuses in scoring.plan.stats.
ROUND_SELF_SCORING = "tu_cham"
ROUND_APPRAISAL_1 = "tham_dinh_1"
ROUND_EXPLANATION = "giai_trinh"
ROUND_APPRAISAL_2 = "tham_dinh_2"
ROUND_ORDER = (ROUND_SELF_SCORING, ROUND_APPRAISAL_1, ROUND_EXPLANATION, ROUND_APPRAISAL_2)
ROUND_LABELS = {
    ROUND_SELF_SCORING: "Tự chấm điểm",
    ROUND_APPRAISAL_1: "Thẩm định lần 1",
    ROUND_EXPLANATION: "Giải trình",
    ROUND_APPRAISAL_2: "Thẩm định lần 2",
}


@dataclass(frozen=True)
class Round:
    """One step of the year's cycle with its dates (both inclusive). A round without dates is not scheduled."""

    code: str  # one of ROUND_ORDER
    label: str
    opens: date | None = None
    closes: date | None = None

    def is_open_on(self, day: date) -> bool:
        """Within the round's dates; an unscheduled round (no dates) is never open by date."""
        if self.opens is None and self.closes is None:
            return False
        return (self.opens is None or self.opens <= day) and (self.closes is None or day <= self.closes)

    def period_text(self) -> str:
        """"01/11/2026 – 20/12/2026", as the settings page and reminders show it."""
        if self.opens is None and self.closes is None:
            return "chưa đặt lịch"
        return f"{format_date(self.opens)} – {format_date(self.closes)}"

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "label": self.label,
            "opens": self.opens.isoformat() if self.opens else None,
            "closes": self.closes.isoformat() if self.closes else None,
        }

    @staticmethod
    def from_dict(data: Any) -> Round:
        data = _mapping(data, "vòng chấm điểm")
        code = _text(data, "code", "vòng chấm điểm")
        where = f"vòng «{code}»"
        return Round(
            code=code,
            label=_text(data, "label", where, default=ROUND_LABELS.get(code, code)),
            opens=_date_field(data, "opens", where),
            closes=_date_field(data, "closes", where),
        )


# --------------------------------------------------------------------------- bands


@dataclass(frozen=True)
class Band:
    """A classification of the published index (xếp loại): from `min_percent` (inclusive) up to the next band.

    Not to be confused with scoring.criteria.rules.Band, the percentage interval of a ratio rule's tier.
    """

    label: str  # "Nhóm A", "Tốt"
    min_percent: Decimal
    code: str  # stored and compared; the label may be reworded

    def to_dict(self) -> dict:
        return {"label": self.label, "min_percent": json_number(self.min_percent), "code": self.code}

    @staticmethod
    def from_dict(data: Any) -> Band:
        data = _mapping(data, "mức xếp loại")
        label = _text(data, "label", "mức xếp loại")
        where = f"mức xếp loại «{label}»"
        return Band(label=label, min_percent=_decimal(data, "min_percent", where), code=_text(data, "code", where))


# Provinces' groups for departments (2024 onwards): A from 90%, B from 80% to under 90%, C under 80%.
PROVINCE_GROUP_BANDS = (
    Band("Nhóm A", Decimal(90), "A"),
    Band("Nhóm B", Decimal(80), "B"),
    Band("Nhóm C", ZERO, "C"),
)
# The four grades other provinces publish. The thresholds are this app's choice, to edit per the province's
# decision: 90 and 80 keep the same top lines as the groups above, and 65 puts "Yếu" at about two thirds.
QUALITY_GRADE_BANDS = (
    Band("Tốt", Decimal(90), "tot"),
    Band("Khá", Decimal(80), "kha"),
    Band("Trung bình", Decimal(65), "trung_binh"),
    Band("Yếu", ZERO, "yeu"),
)


# --------------------------------------------------------------------------- year settings

DEFAULT_SURVEY_SHARE = Decimal(30)  # one province's departments: about 70 appraised + 30 survey (par-index.md)
# Bonus and penalty caps are set by each province's yearly decision. Defaults: a bonus of at most 3 points
# rewards initiatives without lifting a unit a whole band (bands are 10 points wide); a penalty of up to
# 5 points lets serious breaches weigh more than any bonus. Both are meant to be edited.
DEFAULT_BONUS_CAP = Decimal(3)
DEFAULT_PENALTY_CAP = Decimal(5)


@dataclass(frozen=True)
class YearSettings:
    """How one scoring year runs: its rounds, the survey split, the bonus/penalty caps and the bands.

    `survey_share` is the survey part's weight in points out of 100 (30 → 70 appraised + 30 survey). A year
    without a survey (`survey_run` False) rescales the appraised part to 100: the only method the official
    guidance describes, so it is not a choice here.
    """

    year: int
    rounds: tuple[Round, ...]
    survey_run: bool = True
    survey_share: Decimal = DEFAULT_SURVEY_SHARE
    bonus_cap: Decimal = DEFAULT_BONUS_CAP
    penalty_cap: Decimal = DEFAULT_PENALTY_CAP
    bands: tuple[Band, ...] = PROVINCE_GROUP_BANDS

    def get_round(self, code: str) -> Round | None:
        return next((r for r in self.rounds if r.code == code), None)

    def open_rounds(self, day: date) -> list[Round]:
        """The rounds open on `day` (the settings allow a shared first/last day, hence a list)."""
        return [r for r in self.rounds if r.is_open_on(day)]

    def to_dict(self) -> dict:
        return {
            "year": self.year,
            "rounds": [r.to_dict() for r in self.rounds],
            "survey_run": self.survey_run,
            "survey_share": json_number(self.survey_share),
            "bonus_cap": json_number(self.bonus_cap),
            "penalty_cap": json_number(self.penalty_cap),
            "bands": [b.to_dict() for b in self.bands],
        }

    @staticmethod
    def from_dict(data: Any) -> YearSettings:
        """Settings from stored data. Keys added after the data was saved take the year's defaults."""
        data = _mapping(data, "thiết lập năm")
        year = data.get("year")
        if not isinstance(year, int) or isinstance(year, bool):
            raise InputError(f"Thiết lập năm không đúng dạng: năm «{year}» phải là số nguyên.")
        defaults = default_settings(year)
        where = f"thiết lập năm {year}"
        rounds = data.get("rounds")
        bands = data.get("bands")
        for key, value in (("rounds", rounds), ("bands", bands)):
            if value is not None and not isinstance(value, list):
                raise InputError(f"Thiết lập năm {year} không đúng dạng: trường «{key}» phải là danh sách.")
        survey_run = data.get("survey_run", defaults.survey_run)
        if not isinstance(survey_run, bool):
            raise InputError(f"Thiết lập năm {year} không đúng dạng: trường «survey_run» phải là true hoặc false.")
        return YearSettings(
            year=year,
            rounds=defaults.rounds if rounds is None else tuple(Round.from_dict(r) for r in rounds),
            survey_run=survey_run,
            survey_share=_decimal(data, "survey_share", where, defaults.survey_share),
            bonus_cap=_decimal(data, "bonus_cap", where, defaults.bonus_cap),
            penalty_cap=_decimal(data, "penalty_cap", where, defaults.penalty_cap),
            bands=defaults.bands if bands is None else tuple(Band.from_dict(b) for b in bands),
        )


def default_settings(year: int, bands: tuple[Band, ...] = PROVINCE_GROUP_BANDS) -> YearSettings:
    """Defaults for a scoring year, to be edited to the province's plan for that year.

    Rounds: self-scoring 01/11 – 20/12 of the year; appraisal 1 21/12 – 15/01 of the next year; explanation
    16/01 – 25/01; appraisal 2 26/01 – 10/02, leaving the rest of Q1 for the survey and publication.
    """
    following = year + 1
    rounds = (
        Round(ROUND_SELF_SCORING, ROUND_LABELS[ROUND_SELF_SCORING], date(year, 11, 1), date(year, 12, 20)),
        Round(ROUND_APPRAISAL_1, ROUND_LABELS[ROUND_APPRAISAL_1], date(year, 12, 21), date(following, 1, 15)),
        Round(ROUND_EXPLANATION, ROUND_LABELS[ROUND_EXPLANATION], date(following, 1, 16), date(following, 1, 25)),
        Round(ROUND_APPRAISAL_2, ROUND_LABELS[ROUND_APPRAISAL_2], date(following, 1, 26), date(following, 2, 10)),
    )
    return YearSettings(year=year, rounds=rounds, bands=tuple(bands))


def copy_forward(settings: YearSettings, new_year: int) -> YearSettings:
    """The same settings for `new_year`, every date moved by the difference in years (29/02 → 28/02)."""
    shift = new_year - settings.year

    def moved(day: date | None) -> date | None:
        return None if day is None else _shift_years(day, shift)

    rounds = tuple(dataclasses.replace(r, opens=moved(r.opens), closes=moved(r.closes)) for r in settings.rounds)
    return dataclasses.replace(settings, year=new_year, rounds=rounds)


def _shift_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a year that has none
        return day.replace(year=day.year + years, day=28)


def settings_problems(settings: YearSettings) -> list[str]:
    """Everything wrong with a year's settings, in Vietnamese; empty when they can be used."""
    problems: list[str] = []
    if not 2000 <= settings.year <= 2100:
        problems.append(f"Năm chấm điểm {settings.year} không hợp lệ (cần từ 2000 đến 2100).")
    problems.extend(_round_problems(settings.rounds))
    share = settings.survey_share
    if not ZERO <= share <= HUNDRED:
        problems.append(f"Tỷ trọng điều tra XHH phải từ 0 đến 100 điểm (đang là {vn_number(share)}).")
    elif settings.survey_run and share == 0:
        problems.append("Năm có điều tra XHH nhưng tỷ trọng điều tra XHH bằng 0 điểm.")
    for cap, what in ((settings.bonus_cap, "điểm thưởng"), (settings.penalty_cap, "điểm trừ")):
        if cap < 0:
            problems.append(f"Mức tối đa {what} không được âm (đang là {vn_number(cap)}).")
    problems.extend(_band_problems(settings.bands))
    return problems


def _round_problems(rounds: tuple[Round, ...]) -> list[str]:
    problems = []
    codes = [r.code for r in rounds]
    for code in ROUND_ORDER:
        if code not in codes:
            problems.append(f"Thiếu vòng «{ROUND_LABELS[code]}».")
        elif codes.count(code) > 1:
            problems.append(f"Vòng «{ROUND_LABELS[code]}» được khai báo {codes.count(code)} lần.")
    for code in dict.fromkeys(codes):
        if code not in ROUND_ORDER:
            problems.append(f"Vòng có mã «{code}» không thuộc quy trình (chỉ nhận: {', '.join(ROUND_ORDER)}).")
    known = [code for code in codes if code in ROUND_ORDER]
    if known != sorted(known, key=ROUND_ORDER.index):
        labels = " → ".join(ROUND_LABELS[code] for code in ROUND_ORDER)
        problems.append(f"Các vòng phải theo thứ tự: {labels}.")
    previous: Round | None = None  # the latest round so far that has a closing date
    for r in rounds:
        if not nfc(r.label):
            problems.append(f"Vòng có mã «{r.code}» chưa có tên.")
        if r.opens and r.closes and r.opens > r.closes:
            problems.append(
                f"Vòng «{r.label}»: ngày bắt đầu {format_date(r.opens)} sau ngày kết thúc {format_date(r.closes)}."
            )
        # A round may start on the day the previous one ends (a unit can lock in the morning), not before.
        if previous is not None and r.opens and r.opens < previous.closes:
            problems.append(
                f"Vòng «{r.label}» bắt đầu {format_date(r.opens)}, trước khi vòng «{previous.label}» "
                f"kết thúc ({format_date(previous.closes)})."
            )
        if r.closes:
            previous = r
    return problems


def _band_problems(bands: tuple[Band, ...]) -> list[str]:
    if not bands:
        return ["Chưa có mức xếp loại nào."]
    problems = []
    codes = [b.code for b in bands]
    for position, band in enumerate(bands, start=1):
        if not nfc(band.label):
            problems.append(f"Mức xếp loại thứ {position} chưa có tên.")
        if not nfc(band.code):
            problems.append(f"Mức xếp loại «{band.label}» chưa có mã.")
        elif codes.count(band.code) > 1 and codes.index(band.code) == position - 1:  # once, at its first use
            problems.append(f"Mã xếp loại «{band.code}» được dùng {codes.count(band.code)} lần.")
        if not ZERO <= band.min_percent <= HUNDRED:
            problems.append(
                f"Ngưỡng của mức «{band.label}» phải từ 0% đến 100% (đang là {vn_number(band.min_percent)}%)."
            )
    for higher, lower in itertools.pairwise(bands):
        if lower.min_percent >= higher.min_percent:
            problems.append(
                f"Các mức xếp loại phải xếp từ cao xuống thấp, không trùng ngưỡng: «{lower.label}» (từ "
                f"{vn_number(lower.min_percent)}%) đứng sau «{higher.label}» (từ {vn_number(higher.min_percent)}%)."
            )
    lowest = bands[-1]
    if lowest.min_percent > 0:
        problems.append(
            f"Mức thấp nhất «{lowest.label}» bắt đầu từ {vn_number(lowest.min_percent)}%: chỉ số thấp hơn không "
            "có xếp loại (đặt ngưỡng của mức thấp nhất là 0%)."
        )
    return problems


def band_for(percent: Decimal, settings: YearSettings) -> Band:
    """The band of a published (already rounded) percentage: the first band, from the top, it reaches."""
    for band in settings.bands:
        if percent >= band.min_percent:
            return band
    raise InputError(
        f"Chỉ số {format_percent(percent, 2)} không thuộc mức xếp loại nào của năm {settings.year}: "
        "hãy kiểm tra các mức xếp loại trong thiết lập năm."
    )


def band_range_text(band: Band, bands: tuple[Band, ...]) -> str:
    """The band's interval as rules are written: "từ 80% đến dưới 90%", "từ 90% trở lên", "dưới 80%"."""
    position = bands.index(band)
    upper = bands[position - 1].min_percent if position > 0 else None
    low = vn_number(band.min_percent)
    if upper is None:
        return f"từ {low}% trở lên"
    if band.min_percent == 0:
        return f"dưới {vn_number(upper)}%"
    return f"từ {low}% đến dưới {vn_number(upper)}%"


# --------------------------------------------------------------------------- the published index


def is_survey_leaf(node: CriterionNode) -> bool:
    """Survey leaves (điều tra XHH) are neither self-scored nor appraised: their points are entered as published."""
    return node.is_leaf and node.rule is not None and node.rule.kind == RuleKind.SURVEY


@dataclass(frozen=True)
class Step:
    """One line of the index explanation: what, how much, and why (caps, exclusions, formulas)."""

    label: str
    value: Decimal | None  # None: not known yet, or a step without a number (the band)
    note: str = ""
    unit: str = "điểm"  # "điểm" or "%"

    @property
    def display(self) -> str:
        if self.value is None:
            return "—"
        return format_percent(self.value, 2) if self.unit == "%" else format_points(self.value)


@dataclass(frozen=True)
class IndexBreakdown:
    """The index from leaf points to the band. `percent` is None when points are still missing (`problems` say which)."""

    steps: tuple[Step, ...]
    basis: str  # "thẩm định" or "tự chấm"
    survey_included: bool
    achieved_points: Decimal | None
    applicable_max: Decimal
    percent: Decimal | None
    band: Band | None
    problems: tuple[str, ...] = ()


def final_index(
    rollup: Rollup,
    settings: YearSettings,
    bonus: Decimal | int | str | None,
    penalty: Decimal | int | str | None,
    survey_points: Decimal | int | str | None = None,
    use_appraised: bool = True,
    *,
    criteria_set: CriteriaSet,
) -> IndexBreakdown:
    """The published index of `rollup` (computed with `criteria_set`), every step explained (module doc).

    `bonus` and `penalty` are the points proposed (penalty as a positive number); each is capped by the
    settings. `survey_points` is the published survey total; without it the set's survey leaves supply it.
    Raises InputError for a negative bonus or penalty, or survey points outside the survey part's maximum.
    """
    bonus_asked = _non_negative(bonus, "Điểm thưởng")
    penalty_asked = _non_negative(penalty, "Điểm trừ")
    survey_given = None if survey_points is None else _non_negative(survey_points, "Điểm điều tra XHH")
    basis = "thẩm định" if use_appraised else "tự chấm"
    steps: list[Step] = []
    problems: list[str] = []

    criteria_part = _part_totals(criteria_set, rollup, lambda leaf: not is_survey_leaf(leaf))
    criteria_step = _criteria_part_step(criteria_set, rollup, criteria_part, use_appraised, basis, problems)
    criteria_points, criteria_max = criteria_step.points, criteria_step.max
    steps.append(criteria_step.step)

    survey_part = _part_totals(criteria_set, rollup, is_survey_leaf)
    survey_step = _survey_part_step(criteria_set, settings, survey_part, survey_given, use_appraised, problems)
    steps.append(survey_step.step)

    bonus_counted = min(bonus_asked, settings.bonus_cap)
    penalty_counted = min(penalty_asked, settings.penalty_cap)
    steps.append(_capped_step("Điểm thưởng", bonus_asked, bonus_counted, settings.bonus_cap, "tính"))
    steps.append(_capped_step("Điểm trừ", penalty_asked, penalty_counted, settings.penalty_cap, "trừ"))

    known = criteria_points is not None and (not settings.survey_run or survey_step.points is not None)
    achieved = None
    if known:
        survey_counted = survey_step.points if settings.survey_run else ZERO
        achieved = criteria_points + survey_counted + bonus_counted - penalty_counted
        terms = [vn_number(criteria_points)]
        if settings.survey_run:
            terms.append(vn_number(survey_counted))
        formula = " + ".join(terms) + f" + {vn_number(bonus_counted)} − {vn_number(penalty_counted)}"
        steps.append(Step("Tổng điểm đạt được", achieved, f"{formula} = {vn_number(achieved)}"))
    else:
        steps.append(Step("Tổng điểm đạt được", None, "Chưa đủ điểm để cộng (xem các bước trên)."))

    maximum = criteria_max + survey_step.max
    if settings.survey_run:
        max_note = f"{vn_number(criteria_max)} (các tiêu chí) + {vn_number(survey_step.max)} (điều tra XHH)"
    else:
        max_note = f"Chỉ phần các tiêu chí: {vn_number(criteria_max)} (năm không điều tra XHH)"
    steps.append(Step("Tổng điểm tối đa áp dụng", maximum, max_note))

    index_label = (
        "Chỉ số = tổng điểm / tối đa" if settings.survey_run
        else f"Năm không điều tra XHH: quy đổi phần {basis} về thang 100"
    )
    percent = None
    if maximum <= 0:
        problems.append("Không có tiêu chí nào được đánh giá: không tính được chỉ số.")
        steps.append(Step(index_label, None, "Tổng điểm tối đa áp dụng bằng 0.", "%"))
    elif achieved is None:
        steps.append(Step(index_label, None, "Chưa tính được: còn thiếu điểm.", "%"))
    else:
        exact = (achieved / maximum * HUNDRED).quantize(PERCENT_QUANTUM, rounding=ROUND_HALF_UP)
        percent = min(max(exact, ZERO), HUNDRED)
        note = f"{vn_number(achieved)} / {vn_number(maximum)} × 100 = {format_percent(exact, 2)}"
        if exact > HUNDRED:
            note += "; chỉ số không vượt quá 100%"
        elif exact < 0:
            note += "; chỉ số không thấp hơn 0%"
        steps.append(Step(index_label, percent, note, "%"))

    band = None
    if percent is None:
        steps.append(Step("Xếp loại: chưa xác định", None, "Cần có chỉ số để xếp loại."))
    else:
        band = band_for(percent, settings)
        range_text = band_range_text(band, settings.bands)
        steps.append(Step(f"Xếp loại: {band.label}", None, f"Chỉ số {format_percent(percent, 2)}: {range_text}."))

    return IndexBreakdown(
        steps=tuple(steps),
        basis=basis,
        survey_included=settings.survey_run,
        achieved_points=achieved,
        applicable_max=maximum,
        percent=percent,
        band=band,
        problems=tuple(problems),
    )


@dataclass(frozen=True)
class _PartStep:
    step: Step
    points: Decimal | None  # None while missing: the index waits for it
    max: Decimal  # the part's applicable maximum (0 for the survey in a year without one)


def _criteria_part_step(criteria_set: CriteriaSet, rollup: Rollup, part: NodeTotals, use_appraised: bool,
                        basis: str, problems: list[str]) -> _PartStep:
    label = f"Điểm {basis} các tiêu chí (không tính điều tra XHH)"
    if part.not_applicable:
        return _PartStep(Step(label, ZERO, "Không có tiêu chí nào được đánh giá."), ZERO, ZERO)
    notes = []
    left_out = sum(
        1 for leaf in criteria_set.leaves() if not is_survey_leaf(leaf) and rollup.nodes[leaf.code].not_applicable
    )
    if left_out:
        notes.append(f"{left_out} tiêu chí không đánh giá: không tính điểm và điểm tối đa")
    done = part.appraised_leaves if use_appraised else part.scored_leaves
    missing = part.applicable_leaves - done
    if use_appraised and missing:
        # A half-done appraisal must not read as a cut (as in the engine): no points until every leaf is in.
        problems.append(f"Còn {missing}/{part.applicable_leaves} tiêu chí chưa thẩm định: chưa tính được chỉ số.")
        notes.insert(0, f"còn {missing} tiêu chí chưa thẩm định")
        return _PartStep(Step(label, None, _sentence(notes)), None, part.applicable_max)
    points = part.appraised_points if use_appraised else part.self_points
    notes.insert(0, f"{vn_number(points)}/{vn_number(part.applicable_max)} điểm tối đa áp dụng")
    if missing:  # self-scoring in progress: the engine counts unscored leaves as 0, and so does this estimate
        problems.append(f"Còn {missing}/{part.applicable_leaves} tiêu chí chưa tự chấm (đang tính 0 điểm).")
        notes.append(f"còn {missing} tiêu chí chưa tự chấm, tính 0 điểm")
    return _PartStep(Step(label, points, _sentence(notes)), points, part.applicable_max)


def _survey_part_step(criteria_set: CriteriaSet, settings: YearSettings, part: NodeTotals,
                      survey_given: Decimal | None, use_appraised: bool, problems: list[str]) -> _PartStep:
    label = "Điểm điều tra XHH"
    set_has_survey = not part.not_applicable
    if not settings.survey_run:
        note = f"Năm {settings.year} không điều tra XHH: không tính"
        if set_has_survey:
            note += f" (các tiêu chí điều tra XHH, tối đa {vn_number(part.applicable_max)} điểm, để ra ngoài)"
        if survey_given is not None:
            problems.append("Đã nhập điểm điều tra XHH nhưng năm này không điều tra XHH: điểm đó không được tính.")
        return _PartStep(Step(label, None, note + "."), None, ZERO)

    share = settings.survey_share
    if set_has_survey:
        # The issued criteria set governs its own maxima; the year's share is a cross-check.
        survey_max = part.applicable_max
        if survey_max != share:
            problems.append(
                f"Phần điều tra XHH trong bộ tiêu chí tối đa {vn_number(survey_max)} điểm, khác tỷ trọng "
                f"{vn_number(share)} điểm trong thiết lập năm {settings.year}; chỉ số tính theo bộ tiêu chí."
            )
    else:
        survey_max = share
        if criteria_set.total_max + share != HUNDRED:
            problems.append(
                f"Bộ tiêu chí ({vn_number(criteria_set.total_max)} điểm) không có phần điều tra XHH; cộng tỷ trọng "
                f"điều tra {vn_number(share)} điểm thành {vn_number(criteria_set.total_max + share)}, không phải "
                "100: kiểm tra lại tỷ trọng trong thiết lập năm."
            )

    if survey_given is not None:
        if survey_given > survey_max:
            raise InputError(
                f"Điểm điều tra XHH {vn_number(survey_given)} vượt điểm tối đa {vn_number(survey_max)} của phần "
                "điều tra XHH."
            )
        note = f"{vn_number(survey_given)}/{vn_number(survey_max)} điểm, theo kết quả tỉnh công bố"
        return _PartStep(Step(label, survey_given, note + "."), survey_given, survey_max)
    if not set_has_survey:
        problems.append("Chưa có điểm điều tra XHH: chưa tính được chỉ số.")
        missing_step = Step(label, None, f"Chưa có kết quả (tối đa {vn_number(survey_max)} điểm).")
        return _PartStep(missing_step, None, survey_max)
    entered = part.appraised_leaves if use_appraised else part.scored_leaves
    missing = part.applicable_leaves - entered
    if missing:
        problems.append(f"Còn {missing}/{part.applicable_leaves} tiêu chí điều tra XHH chưa có điểm: "
                        "chưa tính được chỉ số.")
        return _PartStep(Step(label, None, f"Còn {missing} tiêu chí điều tra XHH chưa có điểm."), None, survey_max)
    points = part.appraised_points if use_appraised else part.self_points
    note = (f"{vn_number(points)}/{vn_number(survey_max)} điểm, cộng từ {part.applicable_leaves} tiêu chí "
            "điều tra XHH.")
    return _PartStep(Step(label, points, note), points, survey_max)


def _capped_step(what: str, asked: Decimal, counted: Decimal, cap: Decimal, verb: str) -> Step:
    note = ""
    if asked > cap:
        note = (f"Đề nghị {format_points(asked)}, vượt mức tối đa {format_points(cap)}: "
                f"chỉ {verb} {format_points(cap)}.")
    return Step(f"{what} (tối đa {format_points(cap)})", counted, note)


def _sentence(parts: list[str]) -> str:
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "." if text else ""


def _non_negative(value: Decimal | int | str | None, what: str) -> Decimal:
    if value is None or (isinstance(value, str) and not value.strip()):
        return ZERO
    number = parse_decimal(value)
    if number is None:
        raise InputError(f"{what} «{value}» không phải là số.")
    if number < 0:
        raise InputError(f"{what} phải nhập số không âm (đang là {vn_number(number)}).")
    return number


# --------------------------------------------------------------------------- parts of a roll-up


def _retotal(criteria_set: CriteriaSet, leaf_totals: Callable[[CriterionNode], NodeTotals]
             ) -> tuple[dict[str, NodeTotals], NodeTotals]:
    """Roll up again from given leaf totals with the engine's own combination, so caps and clamps match."""
    nodes: dict[str, NodeTotals] = {}

    def visit(node: CriterionNode) -> NodeTotals:
        if node.is_leaf:
            result = leaf_totals(node)
        else:
            children = [visit(child) for child in node.children]
            result = _combine(node.code, node.name, node.level, node.max_points, node.cap_children, children)
        nodes[node.code] = result
        return result

    areas = [visit(area) for area in criteria_set.nodes]
    return nodes, _combine("", "Tổng cộng", 0, criteria_set.total_max, False, areas)


def _rollup_leaf(rollup: Rollup, leaf: CriterionNode) -> NodeTotals:
    totals = rollup.nodes.get(leaf.code)
    if totals is None or not totals.is_leaf:
        raise InputError(f"Kết quả chấm điểm không khớp bộ tiêu chí: thiếu tiêu chí {leaf.code}.")
    return totals


def _left_out(totals: NodeTotals) -> NodeTotals:
    return dataclasses.replace(totals, applicable_max=ZERO, not_applicable=True, self_points=None,
                               appraised_points=None, gap=None, applicable_leaves=0, scored_leaves=0,
                               appraised_leaves=0)


def _part_totals(criteria_set: CriteriaSet, rollup: Rollup, belongs: Callable[[CriterionNode], bool]) -> NodeTotals:
    """The whole set's totals counting only the leaves that `belongs` keeps (the others as not applicable)."""
    _, total = _retotal(
        criteria_set, lambda leaf: _rollup_leaf(rollup, leaf) if belongs(leaf) else _left_out(_rollup_leaf(rollup, leaf))
    )
    return total


# --------------------------------------------------------------------------- locking the self-score

BLOCKER_UNSCORED = "chua_cham"
BLOCKER_NO_EVIDENCE = "thieu_kiem_chung"
BLOCKER_EVIDENCE_DETAILS = "thieu_so_ngay"


class EvidenceLike(Protocol):
    """What locking needs of an evidence document (scoring.store.evidence_store.EvidenceView has it)."""

    number: str
    issued_on: date | None

    @property
    def title(self) -> str: ...


@dataclass(frozen=True)
class EvidenceRef:
    """A minimal evidence document, for callers that do not hold the store's views."""

    number: str
    issued_on: date | None
    title: str


@dataclass(frozen=True)
class Blocker:
    code: str  # the criterion's code
    message: str  # a Vietnamese sentence naming the criterion
    kind: str = BLOCKER_UNSCORED  # BLOCKER_*: lets a page group them


def lock_blockers(
    criteria_set: CriteriaSet,
    entries: Mapping[str, LeafEntry],
    evidence_by_code: Mapping[str, Iterable[EvidenceLike]],
    explanations: Mapping[str, str],
    rollup: Rollup | None = None,
) -> list[Blocker]:
    """What stands in the way of a sound self-score submission, in document order.

    For every applicable leaf the unit scores itself (survey leaves are not self-scored): it must be scored;
    it must have evidence or an explanation of how it was scored (the guidance asks for an explanation where
    evidence is missing); each evidence document must carry its number and date, as the appraisers cite them.
    """
    if rollup is None:  # a caller that has rolled these entries up already passes its roll-up
        rollup = roll_up(criteria_set, dict(entries))  # the engine decides what "scored" means
    blockers: list[Blocker] = []
    for leaf in criteria_set.leaves():
        totals = rollup.nodes[leaf.code]
        if totals.not_applicable or is_survey_leaf(leaf):
            continue
        code = leaf.code
        if totals.self_points is None:
            reason = " — " + " ".join(totals.problems) if totals.problems else "."
            blockers.append(Blocker(code, f"Tiêu chí {code}: chưa chấm điểm{reason}", BLOCKER_UNSCORED))
        evidence = list(evidence_by_code.get(code) or [])
        if not evidence and not nfc(explanations.get(code)):
            blockers.append(Blocker(
                code, f"Tiêu chí {code}: chưa có tài liệu kiểm chứng và chưa giải trình cách chấm điểm.",
                BLOCKER_NO_EVIDENCE,
            ))
        for document in evidence:
            missing = [what for what, present in (("số, ký hiệu", nfc(document.number)),
                                                  ("ngày ban hành", document.issued_on)) if not present]
            if missing:
                title = nfc(document.title) or "(chưa có tên)"
                blockers.append(Blocker(
                    code, f"Tiêu chí {code}: tài liệu «{title}» chưa có {' và '.join(missing)}.",
                    BLOCKER_EVIDENCE_DETAILS,
                ))
    return blockers


@dataclass(frozen=True)
class Reopening:
    """A locked self-score opened again: when, by whom, why, and which lock it undid."""

    at: datetime
    by: str
    reason: str
    previous_locked_at: datetime | None
    previous_locked_by: str

    def to_dict(self) -> dict:
        return {
            "at": self.at.isoformat(),
            "by": self.by,
            "reason": self.reason,
            "previous_locked_at": self.previous_locked_at.isoformat() if self.previous_locked_at else None,
            "previous_locked_by": self.previous_locked_by,
        }

    @staticmethod
    def from_dict(data: Any) -> Reopening:
        data = _mapping(data, "lần mở lại")
        at = _datetime_field(data, "at", "lần mở lại")
        if at is None:
            raise InputError("Lần mở lại không đúng dạng: thiếu thời điểm «at».")
        return Reopening(
            at=at,
            by=_text(data, "by", "lần mở lại", default=""),
            reason=_text(data, "reason", "lần mở lại", default=""),
            previous_locked_at=_datetime_field(data, "previous_locked_at", "lần mở lại"),
            previous_locked_by=_text(data, "previous_locked_by", "lần mở lại", default=""),
        )


@dataclass(frozen=True)
class LockState:
    """Whether a unit's self-score is locked (chốt điểm tự chấm), with the history of reopenings."""

    locked: bool = False
    locked_at: datetime | None = None
    locked_by: str = ""
    reopened: tuple[Reopening, ...] = ()

    def lock(self, at: datetime, by: str, blockers: list[Blocker]) -> LockState:
        """Locked by `by` at `at`. Pass `lock_blockers(...)`: any blocker refuses the lock (InputError)."""
        if self.locked:
            raise InputError(f"Điểm tự chấm đã được chốt lúc {format_datetime(self.locked_at)}.")
        if blockers:
            shown = "\n".join(f"- {b.message}" for b in blockers[:10])
            more = f"\n… và {len(blockers) - 10} vướng mắc khác." if len(blockers) > 10 else ""
            raise InputError(f"Chưa chốt được điểm tự chấm, còn {len(blockers)} vướng mắc:\n{shown}{more}")
        if not nfc(by):
            raise InputError("Cần ghi rõ người chốt điểm.")
        return dataclasses.replace(self, locked=True, locked_at=at, locked_by=nfc(by))

    def reopen(self, at: datetime, by: str, reason: str) -> LockState:
        """Unlocked again for corrections; the reason is required and kept with the lock it undid."""
        if not self.locked:
            raise InputError("Điểm tự chấm chưa được chốt nên không cần mở lại.")
        if not nfc(reason):
            raise InputError("Cần ghi lý do mở lại điểm tự chấm đã chốt.")
        if not nfc(by):
            raise InputError("Cần ghi rõ người mở lại điểm tự chấm.")
        reopening = Reopening(at, nfc(by), nfc(reason), self.locked_at, self.locked_by)
        return LockState(locked=False, locked_at=None, locked_by="", reopened=(*self.reopened, reopening))

    @property
    def status_text(self) -> str:
        if self.locked:
            text = f"Đã chốt điểm tự chấm lúc {format_datetime(self.locked_at)} ({self.locked_by})"
        else:
            text = "Chưa chốt điểm tự chấm"
        if self.reopened:
            last = self.reopened[-1]
            text += (f"; đã mở lại {len(self.reopened)} lần, lần gần nhất lúc {format_datetime(last.at)} "
                     f"({last.by}): {last.reason}")
        return text + "."

    def to_dict(self) -> dict:
        return {
            "locked": self.locked,
            "locked_at": self.locked_at.isoformat() if self.locked_at else None,
            "locked_by": self.locked_by,
            "reopened": [r.to_dict() for r in self.reopened],
        }

    @staticmethod
    def from_dict(data: Any) -> LockState:
        data = _mapping(data, "trạng thái chốt điểm")
        locked = data.get("locked", False)
        if not isinstance(locked, bool):
            raise InputError("Trạng thái chốt điểm không đúng dạng: trường «locked» phải là true hoặc false.")
        reopened = data.get("reopened") or []
        if not isinstance(reopened, list):
            raise InputError("Trạng thái chốt điểm không đúng dạng: trường «reopened» phải là danh sách.")
        return LockState(
            locked=locked,
            locked_at=_datetime_field(data, "locked_at", "trạng thái chốt điểm"),
            locked_by=_text(data, "locked_by", "trạng thái chốt điểm", default=""),
            reopened=tuple(Reopening.from_dict(r) for r in reopened),
        )


# --------------------------------------------------------------------------- appraisal rounds


@dataclass(frozen=True)
class LeafAppraisal:
    """The appraisal of one leaf over the two rounds, with the unit's explanation in between."""

    round1_points: Decimal | None = None
    round1_remark: str = ""
    explanation_requested: bool = False  # yêu cầu giải trình
    explanation: str = ""  # the unit's answer
    supplementary_evidence_ids: tuple[int, ...] = ()  # tài liệu bổ sung
    round2_points: Decimal | None = None
    round2_remark: str = ""
    round1_author: Authorship | None = None  # who entered round 1 (None: entered before authors were kept)
    round2_author: Authorship | None = None

    def author(self, round_number: int) -> Authorship | None:
        return self.round1_author if round_number == 1 else self.round2_author

    def points(self, round_number: int) -> Decimal | None:
        return self.round1_points if round_number == 1 else self.round2_points

    def remark(self, round_number: int) -> str:
        return self.round1_remark if round_number == 1 else self.round2_remark

    @property
    def final_appraised_points(self) -> Decimal | None:
        """Round 2 decides where it was held for this leaf; otherwise round 1 stands."""
        return self.round2_points if self.round2_points is not None else self.round1_points

    @property
    def final_remark(self) -> str:
        return self.round2_remark if self.round2_points is not None else self.round1_remark

    def difference_vs_self(self, self_points: Decimal | None) -> Decimal | None:
        """Final appraised − self points: negative when points were cut; None until both exist."""
        final = self.final_appraised_points
        if final is None or self_points is None:
            return None
        return final - self_points

    def problems(self, leaf: CriterionNode) -> list[str]:
        """What is wrong with the appraisal of `leaf`, in Vietnamese, naming its code."""
        problems = []
        lowest = leaf.rule.lowest_points if leaf.rule is not None else ZERO
        for round_number, points in ((1, self.round1_points), (2, self.round2_points)):
            if points is None:
                continue
            if points > leaf.max_points or points < lowest:
                low = "" if lowest == Decimal("-Infinity") else f"từ {vn_number(lowest)} "
                problems.append(f"Tiêu chí {leaf.code}: điểm thẩm định lần {round_number} {vn_number(points)} "
                                f"phải {low}đến {vn_number(leaf.max_points)}.")
        if self.round2_points is not None and self.round1_points is None:
            problems.append(f"Tiêu chí {leaf.code}: có điểm thẩm định lần 2 nhưng chưa có điểm thẩm định lần 1.")
        return problems

    def to_dict(self) -> dict:
        return {
            "round1_points": json_number(self.round1_points),
            "round1_remark": self.round1_remark,
            "explanation_requested": self.explanation_requested,
            "explanation": self.explanation,
            "supplementary_evidence_ids": list(self.supplementary_evidence_ids),
            "round2_points": json_number(self.round2_points),
            "round2_remark": self.round2_remark,
            "round1_author": self.round1_author.to_dict() if self.round1_author else None,
            "round2_author": self.round2_author.to_dict() if self.round2_author else None,
        }

    @staticmethod
    def from_dict(data: Any) -> LeafAppraisal:
        where = "kết quả thẩm định"
        data = _mapping(data, where)
        ids = data.get("supplementary_evidence_ids") or []
        if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise InputError(f"{where.capitalize()} không đúng dạng: «supplementary_evidence_ids» phải là "
                             "danh sách số nguyên.")
        requested = data.get("explanation_requested", False)
        if not isinstance(requested, bool):
            raise InputError(f"{where.capitalize()} không đúng dạng: «explanation_requested» phải là true hoặc false.")
        return LeafAppraisal(
            round1_points=_decimal(data, "round1_points", where, None),
            round1_remark=_text(data, "round1_remark", where, default=""),
            explanation_requested=requested,
            explanation=_text(data, "explanation", where, default=""),
            supplementary_evidence_ids=tuple(ids),
            round2_points=_decimal(data, "round2_points", where, None),
            round2_remark=_text(data, "round2_remark", where, default=""),
            round1_author=Authorship.from_dict(data["round1_author"]) if data.get("round1_author") else None,
            round2_author=Authorship.from_dict(data["round2_author"]) if data.get("round2_author") else None,
        )


def with_final_appraisals(entries: Mapping[str, LeafEntry], appraisals: Mapping[str, LeafAppraisal]
                          ) -> dict[str, LeafEntry]:
    """Entries whose appraised points and remark are the appraisals' final ones, ready for `roll_up`.

    The appraisals are the only source of appraised points: an entry without one loses any it carried.
    """
    result = {code: dataclasses.replace(entry, appraised_points=None, appraisal_remark="")
              for code, entry in entries.items()}
    for code, appraisal in appraisals.items():
        entry = result.get(code) or LeafEntry(code)
        result[code] = dataclasses.replace(entry, appraised_points=appraisal.final_appraised_points,
                                           appraisal_remark=appraisal.final_remark)
    return result


class AreaLoss(NamedTuple):
    code: str
    name: str
    self_points: Decimal | None
    appraised_points: Decimal | None  # None until every applicable leaf of the area is appraised
    lost: Decimal | None  # self − appraised


def points_lost_by_area(criteria_set: CriteriaSet, rollup_self: Rollup, appraisals: Mapping[str, LeafAppraisal]
                        ) -> list[AreaLoss]:
    """Per area, in document order: self points, final appraised points and the points the appraisal took away.

    Appraised totals are rolled up by the engine's rules (caps, deductions) from the appraisals' final points;
    survey leaves keep their published points on both sides unless appraised. Raises InputError for an
    appraisal outside its leaf's range (check `LeafAppraisal.problems` when saving).
    """
    def leaf_totals(leaf: CriterionNode) -> NodeTotals:
        totals = _rollup_leaf(rollup_self, leaf)
        if totals.not_applicable:
            return totals
        appraisal = appraisals.get(leaf.code)
        if appraisal is not None:
            problems = appraisal.problems(leaf)
            if problems:
                raise InputError(" ".join(problems))
        appraised = appraisal.final_appraised_points if appraisal is not None else None
        if appraised is None and is_survey_leaf(leaf):
            appraised = totals.self_points
        gap = totals.self_points - appraised if totals.self_points is not None and appraised is not None else None
        return dataclasses.replace(totals, appraised_points=appraised, gap=gap,
                                   appraised_leaves=int(appraised is not None))

    nodes, _ = _retotal(criteria_set, leaf_totals)
    losses = []
    for area in criteria_set.nodes:
        totals = nodes[area.code]
        appraised = totals.appraised_points if totals.appraisal_complete else None
        lost = totals.self_points - appraised if appraised is not None and totals.self_points is not None else None
        losses.append(AreaLoss(area.code, area.name, totals.self_points, appraised, lost))
    return losses


# --------------------------------------------------------------------------- who writes what, and when

def vietnam_today(today: date | None = None) -> date:
    """The calendar day where people work (the rounds' dates are their days whatever the server's zone:
    scoring.textnorm.local_today, Vietnam unless CCHC_TIMEZONE says otherwise); `today` when given, so tests
    and callers that already know the day pass it through."""
    return today if today is not None else local_today()


AUTHOR_APPRAISER = "tham_dinh"  # entered in the app by an appraiser account of the Department of Home Affairs
AUTHOR_TRANSCRIBED = "van_phong_ghi"  # recorded by the Office from the province's result document


@dataclass(frozen=True)
class SourceDocument:
    """The province's document an appraisal result is transcribed from: its number (số, ký hiệu) and date."""

    number: str
    issued_on: date | None

    def checked(self) -> SourceDocument:
        """The document with its number cleaned; InputError unless both the number and the date are given."""
        number = nfc(self.number)
        missing = [what for what, present in (("số, ký hiệu", number), ("ngày", self.issued_on)) if not present]
        if missing:
            raise InputError("Văn phòng ghi kết quả thẩm định theo văn bản của tỉnh: cần ghi "
                             f"{' và '.join(missing)} của văn bản đó.")
        return SourceDocument(number, self.issued_on)

    @property
    def text(self) -> str:
        return f"văn bản số {self.number} ngày {format_date(self.issued_on)}"


@dataclass(frozen=True)
class Authorship:
    """Who entered an appraisal result: an appraiser account, or the Office transcribing a province document."""

    kind: str  # AUTHOR_APPRAISER or AUTHOR_TRANSCRIBED
    username: str
    source: SourceDocument | None = None  # for AUTHOR_TRANSCRIBED

    @property
    def text(self) -> str:
        """"Thẩm định «snv» nhập" or "Văn phòng ghi theo văn bản số 12/KQ-SNV ngày 15/01/2027 («vanphong»)"."""
        if self.kind == AUTHOR_APPRAISER:
            return f"Thẩm định «{self.username}» nhập"
        source = self.source.text if self.source else "văn bản của tỉnh"
        return f"Văn phòng ghi theo {source} («{self.username}»)"

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "username": self.username,
            "source_number": self.source.number if self.source else None,
            "source_issued_on": self.source.issued_on.isoformat() if self.source and self.source.issued_on else None,
        }

    @staticmethod
    def from_dict(data: Any) -> Authorship:
        where = "người nhập kết quả thẩm định"
        data = _mapping(data, where)
        kind = _text(data, "kind", where)
        if kind not in (AUTHOR_APPRAISER, AUTHOR_TRANSCRIBED):
            raise InputError(f"Dữ liệu {where} không đúng dạng: «{kind}» không phải là cách nhập đã biết.")
        number = data.get("source_number")
        source = None
        if number is not None or data.get("source_issued_on") is not None:
            source = SourceDocument(_text(data, "source_number", where, default=""),
                                    _date_field(data, "source_issued_on", where))
        return Authorship(kind, _text(data, "username", where, default=""), source)


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
        data = _mapping(data, where)
        opened_on, until, at = (_date_field(data, "opened_on", where), _date_field(data, "until", where),
                                _datetime_field(data, "at", where))
        if opened_on is None or until is None or at is None:
            raise InputError(f"Dữ liệu {where} không đúng dạng: thiếu ngày mở, ngày kết thúc hoặc thời điểm.")
        return RoundOverride(_text(data, "round", where), opened_on, until, _text(data, "reason", where, default=""),
                             _text(data, "by", where, default=""), at)


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


# --------------------------------------------------------------------------- year over year


@dataclass(frozen=True)
class YearDelta:
    """One node compared with the year before, matched by code. None on the side a node is absent or not
    applicable (or, for appraised points, not fully appraised yet)."""

    code: str  # "" for the whole set
    name: str
    level: int  # 0 total, 1 area, 2 criterion
    current_points: Decimal | None
    previous_points: Decimal | None
    current_pct: Decimal | None  # % of the node's applicable maximum that year
    previous_pct: Decimal | None
    delta_points: Decimal | None
    delta_pct: Decimal | None  # percentage points
    # Set by a confirmed criteria mapping (scoring.criteria.mapping): which of last year's criteria the previous
    # figure adds up, and why a criterion that existed last year has no figure to compare with (split, say).
    note: str = ""
    not_compared: str = ""

    @property
    def status(self) -> str:
        if self.not_compared:
            return self.not_compared
        if self.previous_pct is None and self.current_pct is None:
            return "không so sánh được"
        if self.previous_pct is None:
            return "mới năm nay"
        if self.current_pct is None:
            return "không còn năm nay"
        return "tăng" if self.delta_pct > 0 else "giảm" if self.delta_pct < 0 else "không đổi"


def compare_years(current: Rollup, previous: Rollup, current_appraised: bool = True,
                  previous_appraised: bool = True) -> list[YearDelta]:
    """The total, each area and each criterion (levels 0–2) against the previous year, by code.

    Codes present in only one year keep None on the other side. Rows follow the codes' numeric order
    (1, 1.2, 1.10, 2), which places a criterion dropped this year where it used to be. Compare percentages:
    maxima change between sets, so point deltas only mean something where the maximum stayed.
    """
    def rows(rollup: Rollup) -> dict[str, NodeTotals]:
        found = {"": rollup.total}
        found.update((code, node) for code, node in rollup.nodes.items() if node.level <= 2)
        return found

    now, before = rows(current), rows(previous)
    deltas = []
    for code in sorted(now.keys() | before.keys(), key=_code_order):
        node_now, node_before = now.get(code), before.get(code)
        points_now, pct_now = _points_and_pct(node_now, current_appraised)
        points_before, pct_before = _points_and_pct(node_before, previous_appraised)
        named = node_now or node_before
        deltas.append(YearDelta(
            code=code,
            name=named.name,
            level=named.level,
            current_points=points_now,
            previous_points=points_before,
            current_pct=pct_now,
            previous_pct=pct_before,
            delta_points=points_now - points_before if points_now is not None and points_before is not None else None,
            delta_pct=pct_now - pct_before if pct_now is not None and pct_before is not None else None,
        ))
    return deltas


def _points_and_pct(node: NodeTotals | None, appraised: bool) -> tuple[Decimal | None, Decimal | None]:
    if node is None or node.not_applicable or node.applicable_max <= 0:
        return None, None
    if appraised:
        if not node.appraisal_complete:
            return None, None
        points = node.appraised_points
    else:
        points = node.self_points if node.self_points is not None else ZERO
    return points, (points / node.applicable_max * HUNDRED).quantize(PERCENT_QUANTUM, rounding=ROUND_HALF_UP)


def _code_order(code: str) -> tuple:
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in code.split(".")) if code else ()


# --------------------------------------------------------------------------- reading stored dicts


def _mapping(data: Any, what: str) -> Mapping:
    if not isinstance(data, Mapping):
        raise InputError(f"Dữ liệu {what} không đúng dạng (cần các cặp tên: giá trị).")
    return data


def _text(data: Mapping, key: str, where: str, default: str | None = None) -> str:
    value = data.get(key)
    if value is None and default is not None:
        return default
    if not isinstance(value, str):
        raise InputError(f"Dữ liệu {where} không đúng dạng: trường «{key}» phải là chữ.")
    return nfc(value)


def _decimal(data: Mapping, key: str, where: str, default: Decimal | None = ZERO) -> Decimal | None:
    if data.get(key) is None:
        return default
    number = parse_decimal(data[key])
    if number is None:
        raise InputError(f"Dữ liệu {where} không đúng dạng: trường «{key}» phải là số (đang là «{data[key]}»).")
    return number


def _date_field(data: Mapping, key: str, where: str) -> date | None:
    value = data.get(key)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise InputError(f"Dữ liệu {where} không đúng dạng: ngày «{value}» ở trường «{key}» không đọc được.") from None


def _datetime_field(data: Mapping, key: str, where: str) -> datetime | None:
    value = data.get(key)
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise InputError(f"Dữ liệu {where} không đúng dạng: thời điểm «{value}» ở trường «{key}» không đọc được.") from None
