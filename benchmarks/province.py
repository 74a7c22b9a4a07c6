"""The province's pages at the province's size: every department's progress (scoring.province.progress) and the published
ranking (scoring.province.ranking), as the Các cơ quan page asks for them.

    python -m benchmarks.province [--departments 100] [--years 5] [--runs 5] [--database-url postgresql+psycopg://…]

The data is benchmarks.generate.populate (the bundled 47-criterion set, every year scored); the years before the
last are then appraised as scored and published, written straight into the rows the cycle would leave (a lock,
round 1 equal to the self score, a publication), so that the ranking has every department's published index to
compute. Prints, per figure, the median (lowest–highest) of the runs: the first reading after a change of the
data, and a reading while the data has not moved (the page rerun, another viewer of the same departments).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from benchmarks.generate import populate
from benchmarks.measure import Timing, timing_of
from scoring.assessment.appraisal import LeafAppraisal
from scoring.assessment.settings import YearSettings, default_settings
from scoring.province import progress, ranking
from scoring.store import actors, cycle_store
from scoring.store.db import Database, Settings
from scoring.store.models import Assessment, ScoreRecord, utcnow
from scoring.textnorm import format_number


def publish_past_years(db: Database, last_year: int) -> int:
    """Lock, appraise (round 1 = the self score; survey criteria keep their published points) and publish every
    year before `last_year`, as the cycle would have left them: with the index recorded as publication records it
    (cycle_store.published_record). Returns the number of years published."""
    now = utcnow()
    with db.session() as session:
        years = session.scalars(select(Assessment).where(Assessment.year < last_year)).all()
        for assessment in years:
            for score in session.scalars(select(ScoreRecord).where(ScoreRecord.assessment_id == assessment.id)):
                if "survey" not in (score.inputs or {}):
                    score.appraisal = LeafAppraisal(round1_points=score.self_points).to_dict()
            assessment.locked_at, assessment.locked_by = now, "benchmark"
            assessment.published_at, assessment.published_by = now, "benchmark"
        session.flush()
        for assessment in years:
            settings = YearSettings.from_dict(assessment.settings) if assessment.settings else default_settings(assessment.year)
            assessment.published_index = cycle_store.published_record(*cycle_store.appraised_index(session, assessment, settings))
        return len(years)


def bump_data(db: Database) -> None:
    """One write anywhere (a department renamed to itself is not a write: a score's explanation is)."""
    with db.session() as session:
        score = session.scalar(select(ScoreRecord).order_by(ScoreRecord.id).limit(1))
        score.explanation = (score.explanation or "") + " "


def _ms(seconds: float) -> str:
    return format_number(seconds * 1000, 1 if seconds < 0.01 else 0)


def _timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def measure_province_pages(db: Database, last_year: int, viewer, runs: int, log=print) -> list[tuple[str, Timing]]:
    """What the Các cơ quan page asks the core for, as `viewer` sees it: the last year's progress of every
    department (after a change of the data, and again with the data unchanged) and the year before's ranking
    (the first reading in this process, then the others). (label, timing) rows, in seconds."""
    before = last_year - 1
    first_progress = _timed(lambda: progress.province_progress(db, last_year, viewer=viewer))
    first_ranking = _timed(lambda: ranking.ranking(db, before, viewer=viewer))
    ranked_rows = [row for table in ranking.ranking(db, before, viewer=viewer) for row in table.rows]
    log(f"Xếp hạng năm {before}: {sum(r.rank is not None for r in ranked_rows)}/{len(ranked_rows)} cơ quan có hạng")
    changed, kept, ranked = [], [], []
    for _ in range(runs):
        bump_data(db)
        changed.append(_timed(lambda: progress.province_progress(db, last_year, viewer=viewer)))
        kept.append(_timed(lambda: progress.province_progress(db, last_year, viewer=viewer)))
        ranked.append(_timed(lambda: ranking.ranking(db, before, viewer=viewer)))
    return [
        (f"Tiến độ năm {last_year}, lần đầu trong tiến trình", timing_of([first_progress])),
        (f"Tiến độ năm {last_year}, sau một thay đổi dữ liệu", timing_of(changed)),
        (f"Tiến độ năm {last_year}, dữ liệu không đổi", timing_of(kept)),
        (f"Xếp hạng năm {before}, lần đầu trong tiến trình", timing_of([first_ranking])),
        (f"Xếp hạng năm {before}, các lần sau", timing_of(ranked)),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.province", description="Đo trang Các cơ quan ở quy mô tỉnh.")
    parser.add_argument("--departments", type=int, default=100)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", help="mặc định: SQLite trong một thư mục tạm")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cchc-tinh-") as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'cchc.db'}"
        db = Database(Settings(data_dir=Path(folder), database_url=url))
        started = time.perf_counter()
        population = populate(db, departments=args.departments, years=args.years, evidence_per_year=2)
        published = publish_past_years(db, max(population.years))
        print(f"Dữ liệu: {args.departments} cơ quan × {args.years} năm, {published} năm đã công bố "
              f"({time.perf_counter() - started:.0f} s để tạo)")
        rows = measure_province_pages(db, max(population.years), actors.SYSTEM_ACTOR, args.runs, log=print)
        backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        print(f"{backend}, {args.runs} lần đo:")
        for label, timing in rows:
            print(f"  {label}: {_ms(timing.median)} ms ({_ms(timing.low)}–{_ms(timing.high)})")
        db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
