"""benchmarks/scale.py at a tiny size, so that its seeding and its checks cannot rot: no browser, no time asserted
(the figures are measured by `python -m benchmarks.scale` and written in README)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from benchmarks import scale
from benchmarks.suite import SCORED_LEAF
from scoring.access import accounts
from scoring.province import groups, progress, ranking
from scoring.store import assessment_store
from scoring.store.models import Assessment, ScoreRecord, utcnow


def test_seed_writes_a_province_the_pages_can_read(db):
    seeded = scale.seed(db, departments=3, years=2, locked=1, appraised=1, log=lambda _: None)
    assert seeded.years == [2025, 2026] and len(seeded.departments) == 3
    assert seeded.published_years == 3  # every department's 2025
    assert len(seeded.locked) == 1 and seeded.appraised == seeded.locked
    assert [d[0] for d in seeded.scoring_departments(2)] == [d[0] for d in seeded.departments if d[0] not in seeded.locked]
    assert all(accounts.sign_in(db, username, scale.PASSWORD).username == username for *_, username in seeded.departments)
    appraiser = accounts.sign_in(db, scale.APPRAISER, scale.PASSWORD)
    assert accounts.sign_in(db, scale.ADMIN, scale.PASSWORD)
    assert sorted(d for g in groups.list_groups(db) for d in g.department_ids) == sorted(d[0] for d in seeded.departments)
    rows = progress.province_progress(db, 2026, viewer=appraiser)
    assert [r.locked_at is not None for r in sorted(rows, key=lambda r: r.department_id)] == [False, False, True]
    assert all(r.scored == r.applicable > 0 for r in rows)
    ranked = [row for table in ranking.ranking(db, 2025, viewer=appraiser) for row in table.rows]
    assert len(ranked) == 3 and all(row.rank is not None for row in ranked)

    figures = scale.measure_core(db, 2026, runs=1, log=lambda _: None)
    assert figures[0][0].startswith("Tiến độ năm 2026")
    assert all(t["runs"] >= 1 and t["low"] <= t["median"] <= t["high"] for _, t in figures)
    # the first reading in new processes, without and after the start's computation (scoring.province.warm)
    first = scale.first_readings_in_new_processes(db.settings.database_url, 2026, runs=1, log=lambda _: None)
    assert [label.split(",")[0] for label, _ in first] == ["Tiến độ năm 2026", "Xếp hạng năm 2025",
                                                           "Tính sẵn khi tiến trình khởi động (tiến độ năm 2026", "Tiến độ năm 2026",
                                                           "Xếp hạng năm 2025"]
    assert all(t["runs"] == 1 and t["median"] > 0 for _, t in first)


def test_a_confirmed_save_the_database_does_not_hold_is_a_lost_update(db):
    seeded = scale.seed(db, departments=2, years=1, locked=0, appraised=0, log=lambda _: None)
    labels = scale.tier_labels(db)
    department_id = seeded.departments[1][0]
    since = utcnow() - timedelta(seconds=1)
    with db.session() as session:
        assessment_id = session.scalar(select(Assessment.id).where(Assessment.department_id == department_id))
        version = session.scalar(select(ScoreRecord.version).where(ScoreRecord.assessment_id == assessment_id,
                                                                   ScoreRecord.code == SCORED_LEAF))
    assessment_store.save_self_score(db, assessment_id, SCORED_LEAF, version, inputs={"tier": 0}, actor="Văn phòng")
    held = scale.SessionSaves(department_id, confirmed=1, last_confirmed=labels[0], last_attempted=labels[0],
                              last_was_confirmed=True)
    other = scale.SessionSaves(department_id, confirmed=1, last_confirmed=labels[1], last_attempted=labels[1],
                               last_was_confirmed=True)
    unseen = scale.SessionSaves(department_id, confirmed=1, unconfirmed=1, last_confirmed=labels[1],
                                last_attempted=labels[0], last_was_confirmed=False)  # the last click went through unseen
    checked = scale.check_saves(db, 2026, [held, other, unseen], since)
    assert [d["problem"] for d in checked["details"]] == [None, "lost", None]
    assert checked["lost_updates"] == 1 and checked["ended_unconfirmed"] == 1
    assert all(d["audit_rows"] >= 1 for d in checked["details"])
    assert checked["sessions_with_fewer_audit_rows_than_saves"] == 0


def test_an_option_text_names_its_tier():
    labels = ["Ban hành kịp thời", "Ban hành kịp thời (trước ngày 20/12 năm trước)", "Không ban hành"]
    assert scale.label_of_option("Ban hành kịp thời (trước ngày 20/12 năm trước): 1 điểm", labels) == labels[1]
    assert scale.label_of_option("Không ban hành: 0 điểm", labels) == labels[2]
    assert scale.label_of_option("Mức đạt được", labels) is None
