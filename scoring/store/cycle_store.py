"""The yearly cycle as stored: the year's settings, bonus and penalty, locking (also at the deadline), the appraisal
rounds, publishing the index, and opening next year.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from scoring.access.auth import Action
from scoring.assessment.appraisal import LeafAppraisal, SourceDocument
from scoring.assessment.cycle import RoundOverride, Write, vietnam_today
from scoring.assessment.settings import ROUND_LABELS, YearSettings, copy_forward, default_settings, settings_problems
from scoring.errors import ConflictError, InputError, NotFoundError
from scoring.store.actors import Actor, actor_name, check_allowed, require_trusted
from scoring.store.assessment_state import (
    AssessmentView,
    actor_may_write,
    assessment_view,
    authorship,
    bonus_author,
    claim_settings_version,
    cycle_state_of,
    refuse_if_published,
)
from scoring.store.audit_trail import audit
from scoring.store.criteria_store import stored_set
from scoring.store.db import Database
from scoring.store.evidence_store import EvidenceView, evidence_view
from scoring.store.models import (
    Assessment,
    Department,
    EvidenceCriterion,
    EvidenceRecord,
    GroupCriteriaSet,
    ScoreRecord,
    utcnow,
)
from scoring.store.revisions import of_year
from scoring.store.rows import get_row
from scoring.textnorm import format_date, format_datetime, format_percent, nfc

# ---------------------------------------------------------------- the yearly cycle: settings, lock, bonus


def year_settings(db: Database, assessment_id: int) -> YearSettings:
    with db.session() as session:
        row = get_row(session, Assessment, assessment_id, "kỳ đánh giá")
        return YearSettings.from_dict(row.settings) if row.settings else default_settings(row.year)


def save_year_settings(db: Database, assessment_id: int, expected_version: int, settings: YearSettings, *,
                       actor: Actor) -> AssessmentView:
    """The year's settings, if the assessment is still the version the person saw (AssessmentView.version)."""
    problems = settings_problems(settings)
    if problems:
        raise InputError("Thiết lập năm chưa hợp lệ: " + "; ".join(problems))
    with db.session() as session:
        row = get_row(session, Assessment, assessment_id, "kỳ đánh giá")
        check_allowed(actor, Action.MANAGE_YEARS, department_id=row.department_id)
        # the settings (survey share, caps, bands) make the published index: they stay as published
        refuse_if_published(session, row.department_id, row.year, f"Không sửa được thiết lập năm {row.year}")
        claim_settings_version(session, row, expected_version, actor)
        audit(session, actor, row.department_id, "assessment", str(row.year),
               {"thiết lập năm": (row.settings or None, settings.to_dict())})
        row.settings = settings.to_dict()
        session.flush()
        return assessment_view(row)


def save_bonus_penalty(db: Database, assessment_id: int, expected_version: int, *, bonus, penalty,
                       source: SourceDocument | None = None, actor: Actor, today: date | None = None) -> AssessmentView:
    """Điểm thưởng / điểm trừ as the province decides them (the year's caps apply when the index is computed).

    Treated as appraisal results (scoring.assessment.cycle.may_write): an appraiser account enters them where the department
    has one, else the Office from the province's document `source`. `expected_version` is the
    `bonus_penalty_version` the person saw.
    """
    from sqlalchemy import update

    from scoring.criteria.numbers import parse_decimal

    values = {}
    for label, raw in (("Điểm thưởng", bonus), ("Điểm trừ", penalty)):
        value = None if raw in (None, "") else parse_decimal(raw)
        if raw not in (None, "") and (value is None or value < 0):
            raise InputError(f"{label} «{raw}» phải là một số không âm.")
        values[label] = value
    with db.session() as session:
        row = get_row(session, Assessment, assessment_id, "kỳ đánh giá")
        verdict = actor_may_write(session, row, actor, Write.BONUS_PENALTY, today=today)
        author = authorship(actor, verdict, source)
        # the version moves in the UPDATE itself, so two people saving at once cannot both pass the check
        moved = session.execute(of_year(update(Assessment).where(Assessment.id == row.id,
                                                                 Assessment.bonus_penalty_version == expected_version)
                                        .values(bonus_penalty_version=expected_version + 1), row.department_id, row.year)).rowcount
        if moved != 1:
            raise ConflictError(f"Điểm thưởng, điểm trừ năm {row.year} vừa được sửa sau khi bạn mở trang. Thay đổi của bạn "
                                "chưa được lưu: hãy tải lại để xem bản mới nhất rồi sửa lại.")
        session.refresh(row)
        old_author = bonus_author(row)
        audit(session, actor, row.department_id, "assessment", str(row.year), {
            "điểm thưởng": (row.bonus_points, values["Điểm thưởng"]), "điểm trừ": (row.penalty_points, values["Điểm trừ"]),
            "người nhập điểm thưởng, điểm trừ": (old_author.text if old_author else None, author.text),
        })
        row.bonus_points, row.penalty_points = values["Điểm thưởng"], values["Điểm trừ"]
        row.bonus_penalty_author = author.to_dict()
        session.flush()
        return assessment_view(row)


def lock_self_score(db: Database, assessment_id: int, *, actor: Actor) -> AssessmentView:
    """Chốt điểm tự chấm: refused (with the list) while anything blocks a sound submission (scoring.assessment.cycle)."""
    from scoring.assessment.locking import LockState, lock_blockers

    with db.session() as session:
        row = get_row(session, Assessment, assessment_id, "kỳ đánh giá")
        actor_may_write(session, row, actor, Write.LOCK)
        state = LockState(locked=row.locked_at is not None, locked_at=row.locked_at, locked_by=row.locked_by)
        state = state.lock(utcnow(), actor_name(actor), lock_blockers(*_lock_inputs(session, row)))
        row.locked_at, row.locked_by = state.locked_at, state.locked_by
        audit(session, actor, row.department_id, "assessment", str(row.year), {"chốt điểm tự chấm": (None, "đã chốt")})
        session.flush()
        return assessment_view(row)


def _lock_inputs(session: Session, assessment: Assessment):
    """What scoring.assessment.locking.lock_blockers reads, straight from the stored rows (the rule never trusts a caller's copy)."""
    from scoring.assessment.engine import LeafEntry

    criteria_set = stored_set(session, assessment.criteria_set_id)
    scores = session.scalars(select(ScoreRecord).where(ScoreRecord.assessment_id == assessment.id)).all()
    entries = {s.code: LeafEntry(code=s.code, inputs=dict(s.inputs or {}), not_applicable=s.not_applicable) for s in scores}
    evidence: dict[str, list[EvidenceView]] = {}
    links = session.scalars(select(EvidenceCriterion).where(EvidenceCriterion.assessment_id == assessment.id)).all()
    for link in links:
        document = session.get(EvidenceRecord, link.evidence_id)
        evidence.setdefault(link.code, []).append(evidence_view(session, document))
    explanations = {s.code: s.explanation for s in scores}
    return criteria_set, entries, evidence, explanations


@dataclass(frozen=True)
class ClosedByDeadline:
    department_id: int
    department: str
    year: int
    deadline: date
    blockers: int  # what would have refused a lock by hand: the appraisal will see it


def close_due_self_scoring(db: Database, *, actor: Actor, today: date | None = None) -> list[ClosedByDeadline]:
    """Lock every year whose self-scoring deadline has passed (scoring.assessment.cycle.self_scoring_due), as it stands: what
    is scored is what the department submitted, and what still blocks a sound submission is counted in the audit
    entry. A job of the system, not of a person: for trusted callers only (the app's own check of the deadlines,
    SYSTEM_ACTOR, and the command line)."""
    from scoring.assessment.cycle import closed_by_deadline_text, self_scoring_deadline, self_scoring_due
    from scoring.assessment.locking import LockState, lock_blockers

    require_trusted(actor)
    day = vietnam_today(today)
    closed = []
    with db.session() as session:
        open_years = session.scalars(select(Assessment).where(Assessment.locked_at.is_(None), Assessment.published_at.is_(None))
                                     .order_by(Assessment.id)).all()
        for row in open_years:
            state = cycle_state_of(session, row, day)
            if not self_scoring_due(state, row.self_scoring_closed_on):
                continue
            deadline = self_scoring_deadline(state)
            blockers = lock_blockers(*_lock_inputs(session, row))
            by = closed_by_deadline_text(deadline)
            locked = LockState().lock(utcnow(), by, [])  # the deadline does not wait for the blockers
            row.locked_at, row.locked_by, row.self_scoring_closed_on = locked.locked_at, locked.locked_by, day
            note = f"tự động chốt khi hết hạn {format_date(deadline)}" + (f", còn {len(blockers)} vướng mắc" if blockers else "")
            audit(session, actor, row.department_id, "assessment", str(row.year), {"chốt điểm tự chấm": (None, note)})
            department = session.get(Department, row.department_id)
            closed.append(ClosedByDeadline(row.department_id, department.name, row.year, deadline, len(blockers)))
        session.flush()
    return closed


def reopen_self_score(db: Database, assessment_id: int, reason: str, *, actor: Actor) -> AssessmentView:
    """Open a locked self-score again for corrections; the reason goes into the audit log."""
    from scoring.assessment.locking import LockState

    with db.session() as session:
        row = get_row(session, Assessment, assessment_id, "kỳ đánh giá")
        actor_may_write(session, row, actor, Write.REOPEN_LOCK)  # not once published: the publication is reopened first
        state = LockState(locked=row.locked_at is not None, locked_at=row.locked_at, locked_by=row.locked_by)
        state.reopen(utcnow(), actor_name(actor), reason)  # validates: locked, reason given
        audit(session, actor, row.department_id, "assessment", str(row.year),
               {"mở lại điểm tự chấm": (f"đã chốt bởi {row.locked_by}", f"mở lại: {nfc(reason)}")})
        row.locked_at, row.locked_by = None, ""
        session.flush()
        return assessment_view(row)


def override_round(db: Database, assessment_id: int, round_code: str, until: date, reason: str, *, actor: Actor,
                   today: date | None = None) -> AssessmentView:
    """The administrator opens a round from today to `until` outside the year's dates (open now, or extend);
    the reason is required and kept with the override and in the audit log."""
    if round_code not in ROUND_LABELS:
        raise InputError(f"Không có vòng «{round_code}» trong quy trình đánh giá.")
    day = vietnam_today(today)
    if not nfc(reason):
        raise InputError(f"Cần ghi lý do mở vòng «{ROUND_LABELS[round_code]}» ngoài lịch.")
    if until < day:
        raise InputError(f"Ngày kết thúc {format_date(until)} đã qua (hôm nay {format_date(day)}).")
    with db.session() as session:
        row = get_row(session, Assessment, assessment_id, "kỳ đánh giá")
        actor_may_write(session, row, actor, Write.OVERRIDE_ROUND, today=day)
        override = RoundOverride(round_code, day, until, nfc(reason), actor_name(actor), utcnow())
        row.round_overrides = [*(row.round_overrides or []), override.to_dict()]
        audit(session, actor, row.department_id, "assessment", str(row.year), {
            "mở vòng ngoài lịch": (None, f"{ROUND_LABELS[round_code]} từ {format_date(day)} đến {format_date(until)}: "
                                         f"{override.reason}"),
        })
        session.flush()
        return assessment_view(row)


def publish_index(db: Database, assessment_id: int, *, actor: Actor, today: date | None = None) -> AssessmentView:
    """Công bố: the administrator publishes the appraised index; afterwards nothing changes until reopened.

    Refused while the appraised index cannot be computed (criteria not appraised, survey points missing)."""
    with db.session() as session:
        row = get_row(session, Assessment, assessment_id, "kỳ đánh giá")
        state = cycle_state_of(session, row, today)
        actor_may_write(session, row, actor, Write.PUBLISH, today=today)
        index, _ = appraised_index(session, row, state.settings)
        if index.percent is None:
            raise InputError(f"Chưa công bố được chỉ số năm {row.year}: " + " ".join(index.problems))
        row.published_at, row.published_by = utcnow(), actor_name(actor)
        audit(session, actor, row.department_id, "assessment", str(row.year), {
            "công bố chỉ số": (None, f"{format_percent(index.percent, 2)} — {index.band.label}"),
        })
        session.flush()
        return assessment_view(row)


def appraised_index(session: Session, row: Assessment, settings: YearSettings):
    """The appraised index as it is published (scoring.assessment.index.final_index over the final appraisals), and the roll-up
    it comes from: what publication checks and the ranking shows, computed one way (index_of_year)."""
    scores = session.execute(select(*_INDEX_COLUMNS).where(ScoreRecord.assessment_id == row.id)).all()
    return index_of_year(row, settings, stored_set(session, row.criteria_set_id), scores)


# what of a score the index is computed from: read as columns, not whole rows (the ranking reads hundreds of years)
_INDEX_COLUMNS = (ScoreRecord.assessment_id, ScoreRecord.code, ScoreRecord.inputs, ScoreRecord.not_applicable,
                  ScoreRecord.appraisal)


def index_of_year(row: Assessment, settings: YearSettings, criteria_set, scores):
    """appraised_index once its criteria set and its scores (_INDEX_COLUMNS) are read, one year or many at a time."""
    from scoring.assessment.appraisal import with_final_appraisals
    from scoring.assessment.engine import LeafEntry, roll_up
    from scoring.assessment.index import final_index

    entries = {s.code: LeafEntry(code=s.code, inputs=dict(s.inputs or {}), not_applicable=s.not_applicable) for s in scores}
    appraisals = {s.code: LeafAppraisal.from_dict(s.appraisal) for s in scores if s.appraisal}
    rollup = roll_up(criteria_set, with_final_appraisals(entries, appraisals))
    return final_index(rollup, settings, row.bonus_points or 0, row.penalty_points or 0, criteria_set=criteria_set), rollup


@dataclass(frozen=True)
class PublishedIndex:
    department_id: int
    year: int
    percent: Decimal  # the published index, 2 decimals
    band: str  # xếp loại
    published_at: datetime
    areas: tuple[tuple[str, str, Decimal, Decimal], ...]  # (code, name, appraised points, applicable maximum) per area
    criteria: tuple[tuple[str, str, Decimal, Decimal], ...] = ()  # the same for every criterion below the areas


# A published year cannot change until it is reopened (scoring.assessment.cycle: no score, appraisal, bonus, setting or set),
# and reopening clears published_at: so its index, once computed, holds for that (assessment, publication).
_PUBLISHED: dict[tuple[str, int, datetime], PublishedIndex | None] = {}


def published_indexes(db: Database, department_ids: Iterable[int], year: int) -> dict[int, PublishedIndex]:
    """The published index of each of these departments' `year`, for those that have published it (công bố).

    The years not computed yet in this process are read together — their scores in one query per
    _BATCH years, each criteria set once — then each is computed by index_of_year, as publication computes it."""
    wanted = list(department_ids)
    found = {}
    with db.session() as session:
        rows = session.scalars(select(Assessment).where(Assessment.year == year, Assessment.department_id.in_(wanted),
                                                        Assessment.published_at.is_not(None))).all()
        key = lambda row: (db.settings.database_url, row.id, row.published_at)  # noqa: E731
        missing = [row for row in rows if key(row) not in _PUBLISHED]
        sets = {set_id: stored_set(session, set_id) for set_id in {row.criteria_set_id for row in missing}}
        for start in range(0, len(missing), _BATCH):
            batch = missing[start:start + _BATCH]
            scores: dict[int, list] = {row.id: [] for row in batch}
            for score in session.execute(select(*_INDEX_COLUMNS).where(ScoreRecord.assessment_id.in_(list(scores)))):
                scores[score.assessment_id].append(score)
            for row in batch:
                _PUBLISHED[key(row)] = _published_index(row, sets[row.criteria_set_id], scores[row.id])
        for row in rows:
            if _PUBLISHED[key(row)] is not None:
                found[row.department_id] = _PUBLISHED[key(row)]
    return found


_BATCH = 500  # years whose scores one query reads (a bound on the IN list, far below any database's limit)


def _published_index(row: Assessment, criteria_set, scores) -> PublishedIndex | None:
    """The published year's index and its areas; None where it cannot be computed (not a figure to rank)."""
    settings = YearSettings.from_dict(row.settings) if row.settings else default_settings(row.year)
    index, rollup = index_of_year(row, settings, criteria_set, scores)
    if index.percent is None:
        return None
    areas = tuple((a.code, a.name, a.appraised_points or Decimal(0), a.applicable_max) for a in rollup.areas
                  if not a.not_applicable)
    area_codes = {a[0] for a in areas}
    criteria = tuple((n.code, n.name, n.appraised_points or Decimal(0), n.applicable_max) for n in rollup.nodes.values()
                     if n.code and n.code not in area_codes and not n.not_applicable and n.applicable_max > 0)
    return PublishedIndex(row.department_id, row.year, index.percent, index.band.label if index.band else "",
                          row.published_at, areas, criteria)


def reopen_published(db: Database, assessment_id: int, reason: str, *, actor: Actor) -> AssessmentView:
    """The administrator reopens a published index for a correction; the reason goes into the audit log."""
    if not nfc(reason):
        raise InputError("Cần ghi lý do mở lại chỉ số đã công bố.")
    with db.session() as session:
        row = get_row(session, Assessment, assessment_id, "kỳ đánh giá")
        actor_may_write(session, row, actor, Write.REOPEN_PUBLISHED)
        audit(session, actor, row.department_id, "assessment", str(row.year), {
            "mở lại chỉ số đã công bố": (f"công bố lúc {format_datetime(row.published_at)} bởi {row.published_by}",
                                         f"mở lại: {nfc(reason)}"),
        })
        row.published_at, row.published_by = None, ""
        session.flush()
        return assessment_view(row)


def group_criteria_set_id(session: Session, department_id: int, year: int) -> int | None:
    """The criteria set the department's group is scored on in `year` (scoring.province.groups), if its group has one."""
    return session.scalar(
        select(GroupCriteriaSet.criteria_set_id)
        .join(Department, Department.group_id == GroupCriteriaSet.group_id)
        .where(Department.id == department_id, GroupCriteriaSet.year == year))


def open_next_year(db: Database, department_id: int, from_year: int, to_year: int, *, actor: Actor) -> AssessmentView:
    """Open `to_year` from `from_year`: the criteria set of the department's group for `to_year` where the group has
    one (scoring.province.groups), otherwise the same set; the year settings moved forward, scores empty.

    Nothing of one criterion is copied (scores, evidence and evidence links belong to their year), so nothing here
    depends on criteria codes, and a criteria mapping (scoring.criteria.mapping) has nothing to carry: it matters
    once the new year takes the province's new set, for the comparison with the year before."""
    with db.session() as session:
        source = session.scalar(select(Assessment).where(Assessment.department_id == department_id, Assessment.year == from_year))
        if source is None:
            raise NotFoundError(f"Năm {from_year} chưa có kỳ đánh giá để sao chép.")
        if session.scalar(select(Assessment).where(Assessment.department_id == department_id, Assessment.year == to_year)):
            raise InputError(f"Năm {to_year} đã có kỳ đánh giá.")
        check_allowed(actor, Action.MANAGE_YEARS, department_id=department_id)
        settings = YearSettings.from_dict(source.settings) if source.settings else default_settings(from_year)
        criteria_set_id = group_criteria_set_id(session, department_id, to_year) or source.criteria_set_id
        row = Assessment(department_id=department_id, year=to_year, criteria_set_id=criteria_set_id,
                         settings=copy_forward(settings, to_year).to_dict(), settings_updated_by=actor_name(actor))
        session.add(row)
        session.flush()
        audit(session, actor, department_id, "assessment", str(to_year), {"mở kỳ đánh giá": (None, f"{to_year} (từ {from_year})")})
        return assessment_view(row)
