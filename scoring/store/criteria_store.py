"""Criteria sets as stored data: saved once by content, read back as the model (built once per content).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from scoring.access.auth import Action
from scoring.store.actors import Actor, check_allowed
from scoring.store.audit_trail import audit
from scoring.store.db import Database
from scoring.store.models import (
    CriteriaSetRecord,
)
from scoring.store.rows import not_found

# ---------------------------------------------------------------- criteria sets and assessments


def save_criteria_set(db: Database, criteria_set, *, actor: Actor, source_name: str = "",
                      corrections: dict[str, tuple[str, str]] | None = None) -> int:
    """Store a criteria set as data (it changes by province and year); returns its id. For the administrator
    (or a trusted caller): a stored set may be chosen by any department. `corrections`: what the person changed
    from the file before saving (label → (as read, as saved), scoring.criteria.draft.draft_corrections), audited
    with the import."""
    check_allowed(actor, Action.MANAGE_CRITERIA)
    with db.session() as session:
        from scoring.criteria.files import content_digest

        content = criteria_set.to_dict()
        record = CriteriaSetRecord(name=criteria_set.name, year=criteria_set.year, content=content,
                                   digest=content_digest(content), source_name=source_name or criteria_set.source)
        session.add(record)
        session.flush()
        audit(session, actor, None, "criteria_set", str(record.id),
              {"nhập bộ tiêu chí": (None, criteria_set.name), **(corrections or {})})
        return record.id


@dataclass(frozen=True)
class CriteriaSetView:
    id: int
    name: str
    year: int | None
    source_name: str
    created_at: datetime


def list_criteria_sets(db: Database) -> list[CriteriaSetView]:
    with db.session() as session:
        rows = session.scalars(select(CriteriaSetRecord).order_by(CriteriaSetRecord.id.desc())).all()
        return [CriteriaSetView(r.id, r.name, r.year, r.source_name, r.created_at) for r in rows]


def load_criteria(db: Database, criteria_set_id: int):
    """The stored set, shared between callers (see criteria.stored_criteria_set): do not change it."""
    with db.session() as session:
        return stored_set(session, criteria_set_id)


SET_IDENTITY = (CriteriaSetRecord.digest, CriteriaSetRecord.source_name, CriteriaSetRecord.name)


def stored_set(session: Session, criteria_set_id: int):
    """A stored set without reading its content when it is built already (its content is most of its row)."""
    row = session.execute(select(*SET_IDENTITY).where(CriteriaSetRecord.id == criteria_set_id)).one_or_none()
    if row is None:
        raise not_found("bộ tiêu chí", criteria_set_id)
    return set_from_identity(session, criteria_set_id, row.digest, row.source_name, row.name)


def set_from_identity(session: Session, criteria_set_id: int, digest: str, source_name: str, name: str):
    from scoring.criteria.files import stored_criteria_set

    content = lambda: session.scalar(select(CriteriaSetRecord.content).where(CriteriaSetRecord.id == criteria_set_id))  # noqa: E731
    return stored_criteria_set(digest, content, source_name=source_name or name)
