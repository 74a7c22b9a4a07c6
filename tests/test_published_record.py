"""The published index is a record (scoring.store.cycle_store.published_record, migration 0014): publication stores
it as computed then, reopening clears it, the ranking and its files read it and never compute it again — so a
published figure stays as published whatever the engine's code does later; a year published before the record
existed is recorded once, by its first reading, marked as filled later."""

from __future__ import annotations

import io
from contextlib import contextmanager
from decimal import Decimal

import pytest
from alembic import command
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import select, update

import scoring.assessment.index
import scoring.store.db
from scoring.assessment.settings import YearSettings, default_settings
from scoring.errors import StorageError
from scoring.exports.commands import write_ranking
from scoring.province import ranking
from scoring.store import actors, assessment_state, assessment_store, cycle_store
from scoring.store.models import Assessment
from scoring.store.revisions import SHARED
from tests.test_ranking import RESULT, province  # noqa: F401  (the fixture: five departments, two groups, two years)
from tests.test_province_first_reading import forget_records

D = Decimal


def _assessment_id(db, department_id: int, year: int) -> int:
    return assessment_state.get_assessment(db, department_id, year).id


def _stored(db, assessment_id: int):
    """(published_at, the record) as the row holds them; the record None only where the column is SQL NULL."""
    with db.session() as session:
        row = session.execute(select(Assessment.published_at, Assessment.published_index,
                                     Assessment.published_index.is_(None).label("is_null"))
                              .where(Assessment.id == assessment_id)).one()
    assert (row.published_index is None) == bool(row.is_null)  # cleared is NULL, not JSON null
    return row.published_at, row.published_index


def _computed_now(db, assessment_id: int):
    with db.session() as session:
        row = session.get(Assessment, assessment_id)
        settings = YearSettings.from_dict(row.settings) if row.settings else default_settings(row.year)
        return cycle_store.appraised_index(session, row, settings)


def _engine_changed(monkeypatch) -> None:
    """Tomorrow's engine: every index it computes is one point higher (publication and the fill would see it)."""
    final_index = scoring.assessment.index.final_index

    def higher(*args, **kwargs):
        index = final_index(*args, **kwargs)
        return type(index)(**{**index.__dict__, "percent": index.percent + 1}) if index.percent is not None else index

    monkeypatch.setattr(scoring.assessment.index, "final_index", higher)


def test_the_record_is_the_index_as_publication_computed_it(province):
    db, ids = province
    assessment_id = _assessment_id(db, ids["Sở A"], 2026)
    index, rollup = _computed_now(db, assessment_id)
    published_at, record = _stored(db, assessment_id)
    assert record["recorded"] == cycle_store.AT_PUBLICATION and record["format"] == cycle_store.RECORD_FORMAT
    assert (record["percent"], record["band"]) == (str(index.percent), index.band.label) == ("84.00", index.band.label)
    assert record["areas"] == [["1", "CHỈ ĐẠO, ĐIỀU HÀNH", "6", "7"], ["2", "ĐIỀU TRA XÃ HỘI HỌC", "2.4", "3"]]
    assert [code for code, *_ in record["criteria"]] == ["1.1", "1.2", "2.1"]
    assert record == {**cycle_store.published_record(index, rollup), "recorded_at": record["recorded_at"]}
    read = cycle_store.published_indexes(db, ids.values(), 2026)[ids["Sở A"]]
    assert (read.percent, read.published_at, read.filled_later) == (D("84.00"), published_at, False)
    assert read.criteria[1] == ("1.2", "Báo cáo CCHC", D("2.00"), D("3.00"))


def test_a_published_figure_stays_as_published_when_the_engine_changes(province, monkeypatch):
    db, ids = province
    before = ranking.ranking(db, 2026, viewer=actors.SYSTEM_ACTOR)
    _engine_changed(monkeypatch)
    assert _computed_now(db, _assessment_id(db, ids["Sở A"], 2026))[0].percent == D("85.00")  # what it would compute now
    monkeypatch.setattr(cycle_store, "index_of_year", lambda *a: pytest.fail("a published index is read, not computed"))
    assert ranking.ranking(db, 2026, viewer=actors.SYSTEM_ACTOR) == before
    assert [(r.name, r.percent, r.rank, r.previous_percent) for r in before[1].rows] == [
        ("Sở B", D("94.00"), 1, D("64.00")), ("Sở A", D("84.00"), 2, D("94.00")), ("Sở C", D("84.00"), 2, None),
        ("Sở D", None, None, None)]
    sheet = io.BytesIO()
    write_ranking(db, 2026, "xlsx", sheet, viewer=actors.SYSTEM_ACTOR)
    cells = [[c.value for c in row] for row in load_workbook(sheet)["Sở"].iter_rows(min_row=5, max_row=7, max_col=3)]
    assert [(name, points) for _, name, points in cells] == [("Sở B", 94), ("Sở A", 84), ("Sở C", 84)]
    document = io.BytesIO()
    write_ranking(db, 2026, "docx", document, viewer=actors.SYSTEM_ACTOR)
    rows = [[c.text for c in row.cells][:3] for table in Document(io.BytesIO(document.getvalue())).tables[1:3]
            for row in table.rows[1:]]
    assert rows[:5] == [["1", "Ban E", "54,00"], ["1", "Sở B", "94,00"], ["2", "Sở A", "84,00"], ["2", "Sở C", "84,00"],
                        ["—", "Sở D", "—"]]


def test_reopening_clears_the_record_and_publishing_again_records_the_new_figure(province, monkeypatch):
    db, ids = province
    assessment_id = _assessment_id(db, ids["Sở C"], 2026)
    kept = db.revisions((SHARED, (ids["Sở C"], 2026)))
    cycle_store.reopen_published(db, assessment_id, "Sửa điểm tiêu chí 1.2", actor="quantri")
    assert _stored(db, assessment_id) == (None, None)
    assert ids["Sở C"] not in cycle_store.published_indexes(db, ids.values(), 2026)
    assert [(r.name, r.rank) for r in ranking.ranking(db, 2026, viewer=actors.SYSTEM_ACTOR)[1].rows] == [
        ("Sở B", 1), ("Sở A", 2), ("Sở C", None), ("Sở D", None)]
    score = assessment_store.list_scores(db, assessment_id)["1.2"]
    assessment_store.save_appraisal(db, assessment_id, "1.2", score.version, points="3", actor="vp", source=RESULT,
                                    today=RESULT.issued_on.replace(year=2026))
    published = cycle_store.publish_index(db, assessment_id, actor="quantri")
    # reopening, the appraisal and publishing again wrote this department-year only: nothing shared moved
    moved = db.revisions((SHARED, (ids["Sở C"], 2026)))
    assert moved[SHARED] == kept[SHARED] and moved[(ids["Sở C"], 2026)] == kept[(ids["Sở C"], 2026)] + 3
    published_at, record = _stored(db, assessment_id)
    assert published_at == published.published_at and record["percent"] == "94.00"
    assert [(r.name, r.rank) for r in ranking.ranking(db, 2026, viewer=actors.SYSTEM_ACTOR)[1].rows] == [
        ("Sở B", 1), ("Sở C", 1), ("Sở A", 3), ("Sở D", None)]


def test_a_year_published_before_the_record_ranks_as_before_and_is_recorded_once(province, monkeypatch):
    db, ids = province
    as_published = ranking.ranking(db, 2026, viewer=actors.SYSTEM_ACTOR)
    forget_records(db)  # as migration 0014 leaves them
    kept = db.revisions((SHARED, (ids["Sở A"], 2026), (ids["Sở A"], 2025)))
    filled = ranking.ranking(db, 2026, viewer=actors.SYSTEM_ACTOR)
    assert filled == as_published  # the same figures, ranks, areas and criteria, 2026 and 2025 beside it
    _, record = _stored(db, _assessment_id(db, ids["Sở A"], 2026))
    assert record["recorded"] == cycle_store.FILLED_LATER and record["percent"] == "84.00"
    assert cycle_store.published_indexes(db, [ids["Sở A"]], 2026)[ids["Sở A"]].filled_later
    moved = db.revisions((SHARED, (ids["Sở A"], 2026), (ids["Sở A"], 2025)))
    assert moved[SHARED] == kept[SHARED]  # the records moved their own department-years only
    assert moved[(ids["Sở A"], 2026)] > kept[(ids["Sở A"], 2026)] and moved[(ids["Sở A"], 2025)] > kept[(ids["Sở A"], 2025)]
    _engine_changed(monkeypatch)  # once recorded, a later engine changes nothing
    assert ranking.ranking(db, 2026, viewer=actors.SYSTEM_ACTOR) == as_published


def test_a_year_reopened_while_its_record_is_filled_is_not_given_one(province, monkeypatch):
    db, ids = province
    forget_records(db)
    assessment_id = _assessment_id(db, ids["Sở B"], 2026)
    record_of = cycle_store.published_record

    def reopened_meanwhile(index, rollup, **kwargs):
        if not reopened:
            reopened.append(cycle_store.reopen_published(db, assessment_id, "Sửa điểm", actor="quantri"))
        return record_of(index, rollup, **kwargs)

    reopened = []
    monkeypatch.setattr(cycle_store, "published_record", reopened_meanwhile)
    cycle_store.fill_published_records(db, [assessment_id])
    assert reopened and _stored(db, assessment_id) == (None, None)
    assert ids["Sở B"] not in cycle_store.published_indexes(db, ids.values(), 2026)


def test_a_database_that_refuses_the_record_still_ranks(province, monkeypatch):
    db, ids = province
    as_published = ranking.ranking(db, 2026, viewer=actors.SYSTEM_ACTOR)
    forget_records(db)
    session = type(db).session

    @contextmanager
    def refusing_writes(self):
        with session(self) as opened:
            yield opened
            if opened.info.get("cchc_writes") is not None:
                raise StorageError("Cơ sở dữ liệu chỉ cho đọc: không ghi được.")

    monkeypatch.setattr(type(db), "session", refusing_writes)
    assert ranking.ranking(db, 2026, viewer=actors.SYSTEM_ACTOR) == as_published
    monkeypatch.setattr(type(db), "session", session)
    assert set(_stored(db, _assessment_id(db, ids["Sở A"], 2026))[1:]) == {None}  # tried again at the next reading


def _downgrade(db, revision: str) -> None:
    """Alembic down to `revision`, as scoring.store.db.upgrade_schema goes up (SQLite's foreign keys off meanwhile:
    rebuilding a table must not cascade)."""
    config = scoring.store.db.alembic_config()
    with db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                command.downgrade(config, revision)
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def test_the_migration_leaves_older_publications_without_a_record_and_they_rank_as_published(province):
    db, ids = province
    as_published = ranking.ranking(db, 2026, viewer=actors.SYSTEM_ACTOR)
    _downgrade(db, "0013")
    scoring.store.db.upgrade_schema(db.engine)
    cycle_store._RECORDS.clear()  # a process started on the migrated database
    with db.session() as session:
        assert session.scalars(select(Assessment.published_index).where(Assessment.published_at.is_not(None))).all() == [None] * 6
    assert ranking.ranking(db, 2026, viewer=actors.SYSTEM_ACTOR) == as_published
    assert len(assessment_store.list_scores(db, _assessment_id(db, ids["Sở A"], 2026))) == 3  # nothing cascaded away


def test_a_record_changed_outside_the_app_is_shown_as_stored(province):
    """What the ranking shows is the record: nothing computes it again on the way."""
    db, ids = province
    assessment_id = _assessment_id(db, ids["Ban E"], 2026)
    _, record = _stored(db, assessment_id)
    with db.session() as session:
        session.execute(update(Assessment).where(Assessment.id == assessment_id).values(
            published_index={**record, "percent": "55.25"}))
    cycle_store._RECORDS.clear()  # a process that has not read it yet
    assert cycle_store.published_indexes(db, [ids["Ban E"]], 2026)[ids["Ban E"]].percent == D("55.25")


def test_a_record_read_is_kept_for_its_publication_only(province, monkeypatch):
    db, ids = province
    first = cycle_store.published_indexes(db, ids.values(), 2026)
    from_record = cycle_store._from_record
    monkeypatch.setattr(cycle_store, "_from_record", lambda *a: pytest.fail("a record already read is kept"))
    assert cycle_store.published_indexes(db, ids.values(), 2026) == first
    monkeypatch.setattr(cycle_store, "_from_record", from_record)
    assessment_id = _assessment_id(db, ids["Ban E"], 2026)
    cycle_store.reopen_published(db, assessment_id, "Sửa điểm", actor="quantri")
    assert ids["Ban E"] not in cycle_store.published_indexes(db, ids.values(), 2026)
    again = cycle_store.publish_index(db, assessment_id, actor="quantri")  # a new publication: its own record is read
    assert cycle_store.published_indexes(db, ids.values(), 2026)[ids["Ban E"]].published_at == again.published_at
