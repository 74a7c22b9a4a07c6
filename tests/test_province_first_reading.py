"""The first reading of the province's pages: the years published before migration 0014 have no record of their index;
recorded together on their first reading (scoring.store.cycle_store.fill_published_records) they give exactly what
each year gives computed alone, as publication computes it; and warming at the process's start
(scoring.province.warm) leaves the pages nothing to compute, showing what they would have computed themselves."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select, update

from scoring.assessment.settings import YearSettings, default_settings
from scoring.criteria.files import criteria_set_from_dict
from scoring.province import groups, progress, ranking, warm
from scoring.store import actors, assessment_store, criteria_store, cycle_store, department_store
from scoring.store.models import Assessment
from tests.test_cycle_store import CYCLE_SET
from tests.test_ranking import _published

YEARS = (2025, 2026)


@pytest.fixture
def province(db):
    """Seven departments in two groups and none, on two criteria sets: ties (A and C in 2026; F level with E),
    a year opened and locked but not published (D 2026), a department with no year at all (G), and a department
    published on the second set (F)."""
    first = criteria_store.save_criteria_set(db, criteria_set_from_dict(CYCLE_SET), actor=actors.SYSTEM_ACTOR)
    second = criteria_store.save_criteria_set(db, criteria_set_from_dict({**CYCLE_SET, "name": "Bộ tiêu chí của ban, ngành"}),
                                              actor=actors.SYSTEM_ACTOR)
    ids = {name: department_store.create_department(db, name, ["Văn phòng"], actor=actors.SYSTEM_ACTOR)
           for name in ("Sở A", "Sở B", "Sở C", "Sở D", "Ban E", "Ban F", "Sở G")}
    group_ids = {name: groups.create_group(db, name, actor=actors.SYSTEM_ACTOR) for name in ("Sở", "Ban, ngành")}
    for name, department_id in ids.items():
        if name == "Sở G":
            continue  # in no group: a table of its own
        version = next(d.version for d in department_store.list_departments(db) if d.id == department_id)
        groups.assign_group(db, department_id, version, group_ids["Ban, ngành" if name.startswith("Ban") else "Sở"],
                            actor=actors.SYSTEM_ACTOR)
    for name, set_id, year, points in (("Sở A", first, 2026, (4, 2)), ("Sở B", first, 2026, (4, 3)),
                                       ("Sở C", first, 2026, (4, 2)), ("Ban E", first, 2026, (2, 1)),
                                       ("Ban F", second, 2026, (2, 1)), ("Sở A", first, 2025, (4, 3)),
                                       ("Sở B", first, 2025, (2, 2)), ("Ban E", first, 2025, (3, 1)),
                                       ("Ban F", second, 2025, (1, 1))):
        _published(db, ids[name], set_id, year, *points)
    unpublished = assessment_store.open_assessment(db, ids["Sở D"], 2026, first, actor=actors.SYSTEM_ACTOR)
    for code, inputs in (("1.1", {"tier": "Kịp thời"}), ("1.2", {"value": "3"}), ("2.1", {"survey": "2,4"})):
        assessment_store.save_self_score(db, unpublished.id, code, 0, inputs=inputs, explanation="Có tài liệu", actor="vp")
    cycle_store.lock_self_score(db, unpublished.id, actor="vp")
    return db, ids


def _one_at_a_time(db, year: int) -> dict[int, tuple]:
    """Each published year read alone and computed as publication computes it (cycle_store.appraised_index)."""
    found = {}
    with db.session() as session:
        for row in session.scalars(select(Assessment).where(Assessment.year == year, Assessment.published_at.is_not(None))):
            settings = YearSettings.from_dict(row.settings) if row.settings else default_settings(row.year)
            index, rollup = cycle_store.appraised_index(session, row, settings)
            found[row.department_id] = (index.percent, index.band.label, tuple(
                (a.code, a.appraised_points or Decimal(0)) for a in rollup.areas if not a.not_applicable))
    return found


def _as_compared(indexes: dict[int, cycle_store.PublishedIndex]) -> dict[int, tuple]:
    return {d: (p.percent, p.band, tuple((code, points) for code, _, points, _ in p.areas)) for d, p in indexes.items()}


def forget_records(db) -> None:
    """Every published year as migration 0014 leaves one published before it: no record of its index (and none
    read yet by this process, which a new process started on the migrated database would be)."""
    with db.session() as session:
        session.execute(update(Assessment).values(published_index=None))
    cycle_store._RECORDS.clear()


def _records(db) -> dict[int, dict | None]:
    with db.session() as session:
        return dict(session.execute(select(Assessment.id, Assessment.published_index)
                                    .where(Assessment.published_at.is_not(None))).all())


@pytest.mark.parametrize("batch", [500, 2])  # one query for every year, and years split over several queries
def test_the_records_filled_together_are_those_each_year_gives_alone(province, monkeypatch, batch):
    db, ids = province
    monkeypatch.setattr(cycle_store, "_BATCH", batch)
    published = {2025: ("Sở A", "Sở B", "Ban E", "Ban F"), 2026: ("Sở A", "Sở B", "Sở C", "Ban E", "Ban F")}
    as_published = {year: cycle_store.published_indexes(db, ids.values(), year) for year in YEARS}
    for year in YEARS:
        forget_records(db)
        together = cycle_store.published_indexes(db, ids.values(), year)
        assert set(together) == {ids[n] for n in published[year]}  # D locked, not published; G has no year
        assert _as_compared(together) == _one_at_a_time(db, year) == _as_compared(as_published[year])
        assert all(index.filled_later for index in together.values())
        assert {d: (i.areas, i.criteria) for d, i in together.items()} == \
               {d: (i.areas, i.criteria) for d, i in as_published[year].items()}
        alone = {}
        for department_id in ids.values():  # and each department asked for alone
            forget_records(db)
            alone.update(cycle_store.published_indexes(db, [department_id], year))
        assert together == alone


def test_a_year_published_before_the_record_is_recorded_once_by_its_first_reading(province, monkeypatch):
    db, ids = province
    forget_records(db)
    computed = []
    index_of = cycle_store.index_of_year
    monkeypatch.setattr(cycle_store, "index_of_year", lambda *a: computed.append(a[0].id) or index_of(*a))
    first = cycle_store.published_indexes(db, ids.values(), 2026)
    assert len(computed) == 5
    records = _records(db)
    filled = {i for i, record in records.items() if record is not None}
    assert len(filled) == 5 and all(records[i]["recorded"] == cycle_store.FILLED_LATER for i in filled)
    computed.clear()
    assert cycle_store.published_indexes(db, ids.values(), 2026) == first and computed == []  # read, not computed
    cycle_store.published_indexes(db, ids.values(), 2025)
    assert len(computed) == 4 and all(record is not None for record in _records(db).values())


def test_the_ranks_from_the_records_filled_are_those_of_the_indexes_one_at_a_time(province):
    db, ids = province
    forget_records(db)
    tables = {t.name: t for t in ranking.ranking(db, 2026, viewer=actors.SYSTEM_ACTOR)}
    now, before = _one_at_a_time(db, 2026), _one_at_a_time(db, 2025)
    members = {"Sở": ["Sở A", "Sở B", "Sở C", "Sở D"], "Ban, ngành": ["Ban E", "Ban F"], groups.NO_GROUP: ["Sở G"]}
    assert set(tables) == set(members)
    for name, table in tables.items():
        wanted = [ids[m] for m in members[name]]
        ranks = ranking.competition_ranks([(d, now[d][0]) for d in wanted if d in now])
        previous = ranking.competition_ranks([(d, before[d][0]) for d in wanted if d in before])
        assert {r.department_id: (r.percent, r.rank, r.previous_rank) for r in table.rows} == {
            d: (now[d][0] if d in now else None, ranks.get(d), previous.get(d)) for d in wanted}
    assert [(r.name, r.rank) for r in tables["Sở"].rows] == [("Sở B", 1), ("Sở A", 2), ("Sở C", 2), ("Sở D", None)]
    assert [r.rank for r in tables["Ban, ngành"].rows] == [1, 1]  # E and F level, on two different sets


def test_warming_leaves_the_first_reading_nothing_to_compute(province, monkeypatch):
    db, ids = province
    set_id = criteria_store.list_criteria_sets(db)[0].id
    _published(db, ids["Sở G"], set_id, 2023, 4, 3)  # an older year: its record is filled by the start all the same
    forget_records(db)
    monkeypatch.setattr(progress, "_ROWS", {})
    monkeypatch.setattr(progress, "_KEPT", {})
    computed = []
    index_of, rolled_up = cycle_store.index_of_year, progress.roll_up
    monkeypatch.setattr(cycle_store, "index_of_year", lambda *a: computed.append("index") or index_of(*a))
    monkeypatch.setattr(progress, "roll_up", lambda *a: computed.append("progress") or rolled_up(*a))
    took = warm.warm(db)
    assert set(took) == {"progress", "records"}
    # the 10 years published without a record (2023–2026); the 6 departments that opened 2026
    assert computed.count("index") == 10 and computed.count("progress") == 6
    computed.clear()
    viewer = actors.SYSTEM_ACTOR
    tables = ranking.ranking(db, 2026, viewer=viewer)
    rows = progress.province_progress(db, 2026, viewer=viewer)
    assert ranking.ranking(db, 2024, viewer=viewer)[-1].rows[0].previous_percent == Decimal("94.00")  # Sở G's 2023
    assert computed == []  # the pages compute nothing: what the start computed, as they would have
    warm.warm(db)  # the next start
    assert computed.count("index") == 0  # every record is there now: one query finds nothing to fill
    monkeypatch.setattr(progress, "_ROWS", {})
    monkeypatch.setattr(progress, "_KEPT", {})
    assert ranking.ranking(db, 2026, viewer=viewer) == tables and progress.province_progress(db, 2026, viewer=viewer) == rows


def test_a_single_departments_install_is_not_warmed(db, monkeypatch):
    department_id = department_store.create_department(db, "Sở Dân tộc và Tôn giáo", ["Văn phòng"], actor=actors.SYSTEM_ACTOR)
    set_id = criteria_store.save_criteria_set(db, criteria_set_from_dict(CYCLE_SET), actor=actors.SYSTEM_ACTOR)
    _published(db, department_id, set_id, 2026, 4, 2)
    forget_records(db)
    monkeypatch.setattr(progress, "province_progress", lambda *a, **k: pytest.fail("no province to warm"))
    assert warm.warm(db) == {}
    assert set(_records(db).values()) == {None}  # left to its first reading
    assert cycle_store.published_indexes(db, [department_id], 2026)[department_id].percent == Decimal("84.00")


def test_warming_is_off_when_the_environment_says_so(monkeypatch):
    assert warm.warms({}) and not warm.warms({"CCHC_WARM": "off"})
    monkeypatch.setenv("CCHC_WARM", "off")
    assert warm.warm_in_background(lambda: pytest.fail("no database is opened")) is None


def test_warming_in_the_background_warms_each_database_once(province, monkeypatch):
    db, _ = province
    monkeypatch.delenv("CCHC_WARM", raising=False)
    monkeypatch.setattr(warm, "_started", set())
    runs = []
    monkeypatch.setattr(warm, "warm", lambda database, today=None: runs.append(database) or {"progress": 0, "records": 0})
    warm.warm_in_background(lambda: db).join(10)
    warm.warm_in_background(lambda: db).join(10)
    assert runs == [db]
