"""Data revisions: counters in the database that committed writes move on, so what was computed from the data can
be kept until the part of the data it was computed from moves.

- The **data revision** (migration 0004): one number that every committed write moves on by one. The province's
  pages (overview, ranking, the projector's ranking) follow it.
- The **revision of a department-year** (migration 0013): one number per department and year, moved by one by every
  committed write that changed that department's year (its assessment, scores, plan, activities, evidence). A page
  showing one department's year follows its own year (and the year before, when it compares with it) and
  `SHARED`, so another department's save leaves it alone.
- `SHARED`, kept as a row of the same table: moved by every write not known to belong to one department-year
  (accounts and their departments, departments, groups, criteria sets, mappings, a bulk statement not marked
  with `of_year`, anything unknown), and by a restore: every page's kept data then reloads, which is always safe.

Which department-years a unit of work changed is found here, once, for every write: `track_writes` listens on
the session factory (Database does), and `Database.session()` asks `scopes_written` just before it commits,
then moves the counters in the same transaction (`move_on`). Writes made through Core outside a session (sign-in
sessions, reminders' bookkeeping) are not data and move nothing; a Core write that changes data (a restore)
moves `SHARED` itself.

Both tables are kept out of the models' metadata on purpose: they describe this database, not the data, so a
backup neither carries nor restores them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import BigInteger, Column, Connection, Integer, MetaData, Table, and_, event, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.orm.util import identity_key

from scoring.store.models import (
    ActivityRecord,
    Assessment,
    AuditEntry,
    EvidenceActivity,
    EvidenceCriterion,
    EvidenceRecord,
    PlanRecord,
    ScoreRecord,
)

Scope = tuple[int, int]  # (department id, year)
SHARED: Scope = (0, 0)  # no department has id 0 and no year is 0: the row of whatever is not one department-year's

DATA_REVISION = Table(
    "data_revision", MetaData(),
    Column("id", Integer, primary_key=True),
    Column("revision", BigInteger, nullable=False),
)
YEAR_REVISION = Table(  # no foreign key: SHARED is no department, and a deleted department's count may stay
    "year_revision", MetaData(),
    Column("department_id", Integer, primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("revision", BigInteger, nullable=False),
)

# Rows that name their department-year themselves, and rows that belong to one through the row they refer to.
_OWN_YEAR = (PlanRecord, Assessment, EvidenceRecord)
_THROUGH = {
    ScoreRecord: ("assessment_id", Assessment),
    EvidenceCriterion: ("assessment_id", Assessment),
    ActivityRecord: ("plan_id", PlanRecord),
    EvidenceActivity: ("evidence_id", EvidenceRecord),
}
_MOVES_NOTHING = (AuditEntry,)  # the trail of a change, written with the change itself

_WRITES = "cchc_writes"  # Session.info: what this unit of work changed (_Writes)
_OF_YEAR = "cchc_of_year"  # execution option: the department-year a bulk statement writes (of_year)


class _Writes:
    """What one unit of work changed so far: department-years known, rows whose department-year is still to be
    read (by the id of the row they refer to), and whether anything not of one department-year was written."""

    def __init__(self) -> None:
        self.scopes: set[Scope] = set()
        self.pending: dict[type, set[int]] = {}
        self.known: dict[tuple[type, int], set[Scope]] = {}  # rows of this unit seen with their department-year

    def note(self, obj: object) -> None:
        if isinstance(obj, _MOVES_NOTHING):
            return
        if isinstance(obj, _OWN_YEAR):
            scopes = {(d, y) for d in _values(obj, "department_id") for y in _values(obj, "year")}
            self.scopes |= scopes or {SHARED}
            for row_id in _values(obj, "id"):
                self.known.setdefault((type(obj), row_id), set()).update(scopes)
            return
        through = _THROUGH.get(type(obj))
        ids = _values(obj, through[0]) if through else set()
        if not ids:
            self.scopes.add(SHARED)  # a kind of row with no department-year, or one we cannot place: everyone reloads
            return
        self.pending.setdefault(through[1], set()).update(ids)


def _values(obj: object, attribute: str) -> set:
    """Every value the attribute had in this flush (before and after), without loading anything."""
    history = instance_state(obj).attrs[attribute].history
    return {value for value in (*history.added, *history.unchanged, *history.deleted) if value is not None}


def track_writes(sessions: sessionmaker) -> None:
    """Note, for every session the factory makes, what its flushes and bulk statements change."""
    event.listen(sessions, "after_flush", _note_flushed_changes)
    event.listen(sessions, "do_orm_execute", _note_bulk_write)


def _writes(session: Session) -> _Writes:
    writes = session.info.get(_WRITES)
    if writes is None:
        writes = session.info[_WRITES] = _Writes()
    return writes


def _note_flushed_changes(session: Session, _flush_context) -> None:
    # after_flush still sees the pre-flush collections and histories: anything in them was just written. An object
    # only touched (an attribute set to the value it had) is in session.dirty but wrote nothing.
    changed = [*session.new, *session.deleted, *(o for o in session.dirty if session.is_modified(o, include_collections=False))]
    if changed:
        writes = _writes(session)
        for obj in changed:
            writes.note(obj)


def _note_bulk_write(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        scope = state.execution_options.get(_OF_YEAR)
        _writes(state.session).scopes.add(SHARED if scope is None else scope)


def of_year(statement, department_id: int, year: int):
    """A bulk insert/update/delete that writes one department-year only, marked so: unmarked, it moves SHARED."""
    return statement.execution_options(**{_OF_YEAR: (int(department_id), int(year))})


def scopes_written(session: Session) -> set[Scope] | None:
    """The department-years (and SHARED) the session's unit of work changed, None if it wrote nothing. Reads the
    department-year of rows known by reference only (a score by its assessment), in the unit's own transaction."""
    writes = session.info.get(_WRITES)
    if writes is None:
        return None
    scopes = set(writes.scopes)
    for model, ids in writes.pending.items():
        found: dict[int, set[Scope]] = {}
        for row_id in ids:
            if (model, row_id) in writes.known:
                found[row_id] = writes.known[(model, row_id)]
            elif (loaded := session.identity_map.get(identity_key(model, row_id))) is not None:  # read in this unit
                found[row_id] = {(d, y) for d in _values(loaded, "department_id") for y in _values(loaded, "year")}
        wanted = sorted(row_id for row_id in ids if not found.get(row_id))
        if wanted:
            table = model.__table__
            for row_id, department_id, year in session.connection().execute(
                    select(table.c.id, table.c.department_id, table.c.year).where(table.c.id.in_(wanted))):
                found[row_id] = {(department_id, year)}
        for row_id in ids:
            scopes |= found.get(row_id) or {SHARED}  # gone in this very unit, by a path we did not see: everyone reloads
    return scopes


def move_on(connection: Connection, scopes: Iterable[Scope]) -> dict[Scope, int]:
    """Move the revisions of `scopes` on by one inside the caller's transaction (a row is made at 1 the first time);
    returns their new values. Rows are taken in one order by every writer, so two writers never wait on each other
    in a circle (PostgreSQL locks each row until commit)."""
    rows = [{"department_id": d, "year": y, "revision": 1} for d, y in sorted(set(scopes))]
    if not rows:
        return {}
    dialect = {"sqlite": sqlite, "postgresql": postgresql}[connection.dialect.name]
    statement = dialect.insert(YEAR_REVISION).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=[YEAR_REVISION.c.department_id, YEAR_REVISION.c.year],
        set_={"revision": YEAR_REVISION.c.revision + 1},
    ).returning(YEAR_REVISION.c.department_id, YEAR_REVISION.c.year, YEAR_REVISION.c.revision)
    return {(d, y): revision for d, y, revision in connection.execute(statement)}


def bump_revision(connection: Connection) -> int:
    """Move the data revision on by one inside the caller's transaction; returns the new revision."""
    statement = (update(DATA_REVISION).where(DATA_REVISION.c.id == 1)
                 .values(revision=DATA_REVISION.c.revision + 1).returning(DATA_REVISION.c.revision))
    return connection.execute(statement).scalar_one()


def move_everything_on(connection: Connection) -> None:
    """After a write outside the ORM that may have changed anything (a restore): every page's kept data is old."""
    move_on(connection, [SHARED])
    bump_revision(connection)


def data_revision(connection: Connection) -> int:
    return connection.execute(select(DATA_REVISION.c.revision).where(DATA_REVISION.c.id == 1)).scalar_one()


def read_revisions(connection: Connection, scopes: Iterable[Scope]) -> dict[Scope, int]:
    """The revisions of `scopes` now, in one query (0 for a department-year never written)."""
    wanted = sorted(set(scopes))
    if not wanted:
        return {}
    found = dict.fromkeys(wanted, 0)
    condition = or_(*(and_(YEAR_REVISION.c.department_id == d, YEAR_REVISION.c.year == y) for d, y in wanted))
    for department_id, year, revision in connection.execute(
            select(YEAR_REVISION.c.department_id, YEAR_REVISION.c.year, YEAR_REVISION.c.revision).where(condition)):
        found[(department_id, year)] = revision
    return found


def scopes_of_year(department_id: int, year: int, *, with_previous_year: bool = False) -> tuple[Scope, ...]:
    """What data of one department's year depends on: SHARED, the year, and the year before when it is compared."""
    scopes = (SHARED, (int(department_id), int(year)))
    return scopes + ((int(department_id), int(year) - 1),) if with_previous_year else scopes


def unchanged_but_for(kept: Mapping[Scope, int], written: Mapping[Scope, int] | None, scope: Scope) -> bool:
    """Whether a write that left `written` is the one and only write to `scope` since `kept` was read (it moved the
    scope's revision by exactly one) and touched nothing else of `kept` (SHARED, another year)."""
    if written is None or scope not in kept or scope not in written:
        return False
    return written[scope] == kept[scope] + 1 and not (set(written) & set(kept)) - {scope}
