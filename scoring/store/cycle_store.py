"""The yearly cycle as stored: the year's settings, bonus and penalty, locking (also at the deadline), the appraisal
rounds, publishing the index, and opening next year.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Iterable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from scoring.access.auth import Action
from scoring.assessment.appraisal import LeafAppraisal, SourceDocument
from scoring.assessment.cycle import RoundOverride, Write, vietnam_today
from scoring.assessment.settings import ROUND_LABELS, YearSettings, copy_forward, default_settings, settings_problems
from scoring.errors import ConflictError, InputError, NotFoundError, StorageError
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

log = logging.getLogger(__name__)

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
    """Công bố: the administrator publishes the appraised index; afterwards nothing changes until reopened. The index
    is recorded as published (Assessment.published_index): the ranking and its files read that record.

    Refused while the appraised index cannot be computed (criteria not appraised, survey points missing)."""
    with db.session() as session:
        row = get_row(session, Assessment, assessment_id, "kỳ đánh giá")
        state = cycle_state_of(session, row, today)
        actor_may_write(session, row, actor, Write.PUBLISH, today=today)
        index, rollup = appraised_index(session, row, state.settings)
        if index.percent is None:
            raise InputError(f"Chưa công bố được chỉ số năm {row.year}: " + " ".join(index.problems))
        row.published_at, row.published_by = utcnow(), actor_name(actor)
        row.published_index = published_record(index, rollup)  # the figures as published: the ranking reads them
        audit(session, actor, row.department_id, "assessment", str(row.year), {
            "công bố chỉ số": (None, f"{format_percent(index.percent, 2)} — {index.band.label}"),
        })
        session.flush()
        return assessment_view(row)


def appraised_index(session: Session, row: Assessment, settings: YearSettings):
    """The appraised index as it is published (scoring.assessment.index.final_index over the final appraisals), and the roll-up
    it comes from: what publication checks and records (published_record), computed one way (index_of_year)."""
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
    # recorded at its first reading after migration 0014 (a year published before it), by the engine of that day
    filled_later: bool = False


# Assessment.published_index: what publication records, in JSON (points as text: exact decimals).
RECORD_FORMAT = 1
AT_PUBLICATION, FILLED_LATER = "publication", "filled"  # the record's "recorded"


def published_record(index, rollup, *, recorded: str = AT_PUBLICATION) -> dict:
    """The index as it is published (scoring.assessment.index.final_index and the roll-up it comes from): what the
    ranking, its Excel and Word files and the projector show — the total, the band, each area and each criterion
    below the areas with its name, points and applicable maximum."""
    areas = [(a.code, a.name, a.appraised_points or Decimal(0), a.applicable_max) for a in rollup.areas if not a.not_applicable]
    area_codes = {a[0] for a in areas}
    criteria = [(n.code, n.name, n.appraised_points or Decimal(0), n.applicable_max) for n in rollup.nodes.values()
                if n.code and n.code not in area_codes and not n.not_applicable and n.applicable_max > 0]
    return {
        "format": RECORD_FORMAT, "recorded": recorded, "recorded_at": utcnow().isoformat(timespec="seconds"),
        "percent": str(index.percent), "band": index.band.label if index.band else "",
        "areas": [[code, name, str(points), str(maximum)] for code, name, points, maximum in areas],
        "criteria": [[code, name, str(points), str(maximum)] for code, name, points, maximum in criteria],
    }


def _from_record(department_id: int, year: int, published_at: datetime, record: dict) -> PublishedIndex:
    def entries(key: str) -> tuple:
        return tuple((code, name, Decimal(points), Decimal(maximum)) for code, name, points, maximum in record[key])

    return PublishedIndex(department_id, year, Decimal(record["percent"]), record["band"], published_at, entries("areas"),
                          entries("criteria"), filled_later=record.get("recorded") == FILLED_LATER)


def published_indexes(db: Database, department_ids: Iterable[int], year: int) -> dict[int, PublishedIndex]:
    """The published index of each of these departments' `year`, for those that have published it (công bố): the
    record publication stored, never a figure computed again. A year published before migration 0014 has none
    yet: it is recorded now, once for every process (fill_published_records).

    A record is written once per publication and cleared only with its published_at, so a record read is kept in
    the process under (assessment, published_at): a later reading asks for the published years, not their records."""
    wanted = list(department_ids)
    found, unread, missing = {}, [], []
    with db.session() as session:
        rows = session.execute(select(Assessment.id, Assessment.department_id, Assessment.published_at,
                                      Assessment.published_index.is_(None).label("unrecorded"))
                               .where(Assessment.year == year, Assessment.department_id.in_(wanted),
                                      Assessment.published_at.is_not(None))).all()
        for row in rows:
            kept = _RECORDS.get((db.settings.database_url, row.id, row.published_at))
            if kept is not None:
                found[row.department_id] = kept
            else:
                (missing if row.unrecorded else unread).append(row)
        if unread:
            records = {record.id: record for record in session.execute(
                select(Assessment.id, Assessment.published_at, Assessment.published_index)
                .where(Assessment.id.in_([row.id for row in unread])))}
            for row in unread:
                record = records.get(row.id)
                if record is None or record.published_at != row.published_at or record.published_index is None:
                    continue  # reopened since the first query (PostgreSQL reads each statement afresh): not published as read
                index = _from_record(row.department_id, year, row.published_at, record.published_index)
                if len(_RECORDS) >= KEPT_RECORDS:
                    _RECORDS.pop(next(iter(_RECORDS)))
                _RECORDS[(db.settings.database_url, row.id, row.published_at)] = found[row.department_id] = index
    if missing:  # kept once read back from the database, at the next reading
        found.update({index.department_id: index for index in fill_published_records(db, [r.id for r in missing]).values()})
    return found


KEPT_RECORDS = 4096  # published years kept in the process (a province publishes a few hundred a year), oldest dropped first
_RECORDS: dict[tuple[str, int, datetime], PublishedIndex] = {}


def fill_published_records(db: Database, assessment_ids: Iterable[int] | None = None) -> dict[int, PublishedIndex]:
    """Record the index of the years published before migration 0014 (those of `assessment_ids`, or all), by assessment
    id. A migration cannot run the engine (its code is today's, not the migration's), so each is computed here, once,
    by index_of_year from its stored scores as publication computes it — a published year's scores, settings and set
    cannot have changed since — and stored marked FILLED_LATER. The years are read together (their scores in one
    query per _BATCH years, each criteria set once). A year whose index cannot be computed is not ranked, as before.

    The record is written only where the year is still published as it was read (a reopening meanwhile wins), in a
    unit of work of its own that moves those department-years' revisions; if the database refuses the write
    (read-only, busy), the figures are returned all the same and the next reading tries again."""
    computed: dict[int, tuple[Assessment, dict]] = {}
    with db.session() as session:
        query = select(Assessment).where(Assessment.published_at.is_not(None), Assessment.published_index.is_(None))
        if assessment_ids is not None:
            query = query.where(Assessment.id.in_(list(assessment_ids)))
        missing = session.scalars(query.order_by(Assessment.id)).all()
        sets = {set_id: stored_set(session, set_id) for set_id in {row.criteria_set_id for row in missing}}
        for start in range(0, len(missing), _BATCH):
            batch = missing[start:start + _BATCH]
            scores: dict[int, list] = {row.id: [] for row in batch}
            for score in session.execute(select(*_INDEX_COLUMNS).where(ScoreRecord.assessment_id.in_(list(scores)))):
                scores[score.assessment_id].append(score)
            for row in batch:
                settings = YearSettings.from_dict(row.settings) if row.settings else default_settings(row.year)
                index, rollup = index_of_year(row, settings, sets[row.criteria_set_id], scores[row.id])
                if index.percent is not None:
                    computed[row.id] = (row, published_record(index, rollup, recorded=FILLED_LATER))
    if computed:
        try:
            with db.session() as session:
                for row, record in computed.values():
                    session.execute(of_year(
                        update(Assessment).where(Assessment.id == row.id, Assessment.published_at == row.published_at,
                                                 Assessment.published_index.is_(None))
                        .values(published_index=record).execution_options(synchronize_session=False),
                        row.department_id, row.year))
        except StorageError as problem:
            log.warning("the published indexes of %d years could not be recorded (computed again next time): %s",
                        len(computed), problem)
    return {assessment_id: _from_record(row.department_id, row.year, row.published_at, record)
            for assessment_id, (row, record) in computed.items()}


_BATCH = 500  # years whose scores one query reads (a bound on the IN list, far below any database's limit)


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
        row.published_at, row.published_by, row.published_index = None, "", None
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
