"""Database tables (SQLAlchemy 2). Several departments and years live in one database.

Schema changes go through Alembic migrations in scoring/store/migrations/ so a later version opens an older
database; `python -m alembic` is not needed by users: scoring.store.db upgrades on open.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names, so migrations behave the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

POINTS = Numeric(8, 2)  # points are quarter-point exact: never floats in storage


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class DepartmentGroup(Base):
    """A group of departments as the province groups them (sở; ban, ngành…): ranked among themselves, each group
    with its own criteria set per year (GroupCriteriaSet)."""

    __tablename__ = "department_group"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(120), default="")

    __mapper_args__ = {"version_id_col": version}


class GroupCriteriaSet(Base):
    """The criteria set a group's departments are scored on in a year (a new year of theirs opens on it)."""

    __tablename__ = "group_criteria_set"
    __table_args__ = (UniqueConstraint("group_id", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("department_group.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    criteria_set_id: Mapped[int] = mapped_column(ForeignKey("criteria_set.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(120), default="")


class Department(Base):
    __tablename__ = "department"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("department_group.id", ondelete="SET NULL"), index=True)
    units: Mapped[list] = mapped_column(JSON, default=list)  # the department's units, expand "Các phòng thuộc Sở"
    # the letterhead of its official forms (migration 0008): "UBND TỈNH QUẢNG NINH" above its name, and the
    # place of the date line ("Quảng Ninh, ngày …"); "" when not set
    governing_body: Mapped[str] = mapped_column(String(200), default="", server_default="")
    place: Mapped[str] = mapped_column(String(100), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(120), default="")

    __mapper_args__ = {"version_id_col": version}


class CriteriaSetRecord(Base):
    __tablename__ = "criteria_set"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    year: Mapped[int | None] = mapped_column(Integer)
    content: Mapped[dict] = mapped_column(JSON)  # the whole set, as scoring.criteria.files serialises it
    digest: Mapped[str] = mapped_column(String(64), default="")  # SHA-256 of the content (criteria.content_digest)
    source_name: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class PlanRecord(Base):
    __tablename__ = "plan"
    __table_args__ = (UniqueConstraint("department_id", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text, default="")
    organisation: Mapped[str] = mapped_column(String(300), default="")
    source_name: Mapped[str] = mapped_column(String(300), default="")
    areas: Mapped[list] = mapped_column(JSON, default=list)  # [{code, name, declared, goals, tasks}]
    warnings: Mapped[list] = mapped_column(JSON, default=list)
    imported_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    activities: Mapped[list[ActivityRecord]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="ActivityRecord.position"
    )


class ActivityRecord(Base):
    __tablename__ = "activity"
    __table_args__ = (UniqueConstraint("plan_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(20))  # "I.3"
    position: Mapped[int] = mapped_column(Integer, default=0)
    area: Mapped[str] = mapped_column(String(10))
    goal: Mapped[str] = mapped_column(Text, default="")
    task: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    output: Mapped[str] = mapped_column(Text, default="")
    lead: Mapped[list] = mapped_column(JSON, default=list)
    partners: Mapped[list] = mapped_column(JSON, default=list)
    deadline: Mapped[str] = mapped_column(Text, default="")
    due: Mapped[date | None] = mapped_column(Date)
    deadline_kind: Mapped[str] = mapped_column(String(20), default="missing")
    conditional: Mapped[bool] = mapped_column(Boolean, default=False)
    # progress tracked by the Office
    status: Mapped[str] = mapped_column(String(30), default="chua_bat_dau")
    progress: Mapped[int] = mapped_column(Integer, default=0)
    completed_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(120), default="")
    plan: Mapped[PlanRecord] = relationship(back_populates="activities")

    __mapper_args__ = {"version_id_col": version}


class Assessment(Base):
    """One department × one year × one criteria set."""

    __tablename__ = "assessment"
    __table_args__ = (UniqueConstraint("department_id", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    criteria_set_id: Mapped[int] = mapped_column(ForeignKey("criteria_set.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # chốt điểm tự chấm: once locked, self scores are read-only until the Office reopens (audited)
    locked_at: Mapped[datetime | None] = mapped_column(DateTime)
    locked_by: Mapped[str] = mapped_column(String(120), default="")
    # the Vietnam day the self-scoring deadline closed the year by itself (scoring.assessment.cycle.self_scoring_due), so a
    # reopening afterwards is not undone by the next check of the deadlines
    self_scoring_closed_on: Mapped[date | None] = mapped_column(Date)
    settings: Mapped[dict] = mapped_column(JSON, default=dict)  # the year's settings (rounds, caps, bands), scoring.assessment.cycle
    bonus_points: Mapped[Decimal | None] = mapped_column(POINTS)  # điểm thưởng, as the province awards it
    penalty_points: Mapped[Decimal | None] = mapped_column(POINTS)  # điểm trừ outside the criteria
    # who entered the bonus and penalty (scoring.assessment.appraisal.Authorship), and their own version: edits expect it
    bonus_penalty_author: Mapped[dict] = mapped_column(JSON, default=dict)
    bonus_penalty_version: Mapped[int] = mapped_column(Integer, default=0)
    # rounds the administrator opened or extended outside their dates (scoring.assessment.cycle.RoundOverride)
    round_overrides: Mapped[list] = mapped_column(JSON, default=list)
    # công bố: once published, nothing changes until the administrator reopens (audited)
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
    published_by: Mapped[str] = mapped_column(String(120), default="")
    # the index as published (migration 0014; scoring.store.cycle_store.published_record): written with published_at,
    # cleared with it, and read by the ranking instead of computing it again. None for a year published before 0014
    # until its first reading fills it. Deferred: nothing else that loads a whole assessment reads it.
    published_index: Mapped[dict | None] = mapped_column(JSON(none_as_null=True), deferred=True)
    # The year's settings and its criteria set, edited together on the settings page, have their own version
    # (scoring.store.cycle_store.save_year_settings): a lock or a bonus entered meanwhile is no edit of theirs.
    settings_version: Mapped[int] = mapped_column(Integer, default=1)
    settings_updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    settings_updated_by: Mapped[str] = mapped_column(String(120), default="")
    scores: Mapped[list[ScoreRecord]] = relationship(back_populates="assessment", cascade="all, delete-orphan")
    criteria_set: Mapped[CriteriaSetRecord] = relationship()


class ScoreRecord(Base):
    """One leaf criterion's self score (and later its appraisal) in one assessment."""

    __tablename__ = "score"
    __table_args__ = (UniqueConstraint("assessment_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    inputs: Mapped[dict] = mapped_column(JSON, default=dict)  # tier chosen, numerator/denominator, count, value
    not_applicable: Mapped[bool] = mapped_column(Boolean, default=False)
    self_points: Mapped[Decimal | None] = mapped_column(POINTS)
    explanation: Mapped[str] = mapped_column(Text, default="")
    appraised_points: Mapped[Decimal | None] = mapped_column(POINTS)
    appraisal_remark: Mapped[str] = mapped_column(Text, default="")
    # both appraisal rounds and the explanation between them (scoring.assessment.appraisal.LeafAppraisal); the two columns
    # above keep the final result, which the roll-up and queries use
    appraisal: Mapped[dict] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(120), default="")
    assessment: Mapped[Assessment] = relationship(back_populates="scores")

    __mapper_args__ = {"version_id_col": version}


class EvidenceRecord(Base):
    """A document that proves work was done (tài liệu kiểm chứng): a stored file or a link."""

    __tablename__ = "evidence"
    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    doc_type: Mapped[str] = mapped_column(String(60), default="")  # Kế hoạch, Báo cáo, Quyết định, ...
    number: Mapped[str] = mapped_column(String(120), default="")  # "15/KH-SDTTG"
    issued_on: Mapped[date | None] = mapped_column(Date)
    issuer: Mapped[str] = mapped_column(String(300), default="")
    summary: Mapped[str] = mapped_column(Text, default="")  # trích yếu
    file_key: Mapped[str | None] = mapped_column(String(200))  # content-hash key in the evidence store
    file_name: Mapped[str] = mapped_column(String(300), default="")
    file_kind: Mapped[str] = mapped_column(String(20), default="")
    file_size: Mapped[int] = mapped_column(Integer, default=0)
    link: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(120), default="")
    criteria: Mapped[list[EvidenceCriterion]] = relationship(cascade="all, delete-orphan")
    activities: Mapped[list[EvidenceActivity]] = relationship(cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}


class EvidenceCriterion(Base):
    __tablename__ = "evidence_criterion"
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id", ondelete="CASCADE"), primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    section: Mapped[str] = mapped_column(String(200), default="")  # which part/page serves this criterion


class EvidenceActivity(Base):
    __tablename__ = "evidence_activity"
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id", ondelete="CASCADE"), primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"), primary_key=True)


class AuditEntry(Base):
    """Every change to a score, evidence or activity: who, when, old → new."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(120))
    department_id: Mapped[int | None] = mapped_column(Integer, index=True)
    entity: Mapped[str] = mapped_column(String(40))  # score, evidence, activity, plan, criteria_set
    entity_key: Mapped[str] = mapped_column(String(120))  # e.g. "2026/1.1.1"
    field: Mapped[str] = mapped_column(String(60))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)


class Account(Base):
    """A person who signs in. Only the argon2 hash of the password is stored."""

    __tablename__ = "account"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))  # scoring.access.auth.Role values
    unit: Mapped[str | None] = mapped_column(String(200))  # for unit accounts: the unit it speaks for
    email: Mapped[str | None] = mapped_column(String(254))  # where reminders go (scoring.assessment.reminders); None: none sent
    password_hash: Mapped[str] = mapped_column(String(300))
    failures: Mapped[int] = mapped_column(Integer, default=0)  # consecutive failed sign-ins
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Moved by the changes a person makes (password, role, unit, departments, active), not by the sign-in
    # counters: a failed sign-in between drawing an account and resetting it is no edit to be warned about.
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(120), default="")
    departments: Mapped[list[AccountDepartment]] = relationship(cascade="all, delete-orphan")


class AccountDepartment(Base):
    """Which departments an account works with (an appraiser may be assigned several)."""

    __tablename__ = "account_department"
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="CASCADE"), primary_key=True)


class ReminderSent(Base):
    """A reminder (one item of scoring.assessment.awaiting, by its key) claimed for an account, then sent (scoring.assessment.reminders).

    The row is written before the message goes out and the pair (account, item) is unique: of two processes
    building the same digest, only the one whose row lands sends that item. A claim whose sending failed is
    deleted again (tried at the next run); one left by a process that died is taken over once it is old."""

    __tablename__ = "reminder_sent"
    __table_args__ = (UniqueConstraint("account_id", "item_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    item_key: Mapped[str] = mapped_column(String(200))  # scoring.assessment.awaiting.Awaiting.key
    claimed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    claimed_by: Mapped[str] = mapped_column(String(64))  # the sending run's own token
    sent_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)  # None: claimed, not sent (yet)
    address: Mapped[str] = mapped_column(String(254))  # the address it went to (the account's may change later)
    text: Mapped[str] = mapped_column(Text)  # the sentence as sent


class CriteriaMappingRecord(Base):
    """Which of one criteria set's leaves became which of another's (scoring.criteria.mapping), as a person confirmed.

    Keyed by the two sets' content digests, not their rows: a set is the province's, and each department that
    imports the same decision stores its own row of the same content; one confirmation serves them all.
    """

    __tablename__ = "criteria_mapping"
    __table_args__ = (UniqueConstraint("from_digest", "to_digest"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    from_digest: Mapped[str] = mapped_column(String(64))  # last year's set (criteria.content_digest)
    to_digest: Mapped[str] = mapped_column(String(64))  # this year's
    links: Mapped[dict] = mapped_column(JSON, default=dict)  # CriteriaMapping.to_dict()
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)  # when it was last confirmed
    updated_by: Mapped[str] = mapped_column(String(120), default="")  # who confirmed it

    __mapper_args__ = {"version_id_col": version}
