"""The province's progress computed when a server process starts, so that the first viewer of Các cơ quan after a
restart does not wait for it: every department's progress in the newest year (scoring.province.progress).

The published indexes need nothing of the kind: publication records them (scoring.store.cycle_store.published_record)
and the ranking reads the records. What is left is the one-time record of the years published before that
(migration 0014): the start fills them here, so that no viewer waits for it either (a year the start has not
reached is filled by its first reading, cycle_store.published_indexes); once they are filled this is one query.

The progress is kept in the process by the module that computes it, and checked there at each reading as always
(the data revision, each department-year's fingerprint): warming only fills that cache earlier, by the same
function, so what a page shows is what it would have computed itself. It runs on a thread of its own, once per
process and database, and only where several departments are stored (a single department's install has no
province to wait for: its one row is read at once); a failure is logged and changes nothing.

server.py starts it from the web app's lifespan (the process's start, before any page); CCHC_WARM=off leaves it off.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date

from sqlalchemy import func, select

from scoring.province.progress import province_progress
from scoring.store import cycle_store
from scoring.store.db import Database
from scoring.store.models import Assessment, Department

log = logging.getLogger(__name__)

WARM = "CCHC_WARM"
_OFF = ("off", "0", "false", "no")
_started: set[str] = set()  # database URLs warmed (or being warmed) in this process
_LOCK = threading.Lock()


def warms(environ: dict[str, str] | None = None) -> bool:
    environ = os.environ if environ is None else environ
    return (environ.get(WARM) or "on").strip().lower() not in _OFF


def warm(db: Database, today: date | None = None) -> dict[str, float]:
    """Compute, for every viewer at once, the newest year's progress of every department, and record the published
    indexes older publications left unrecorded. Returns the seconds each part took (nothing where fewer than two
    departments or no year are stored), for the log and the benchmark."""
    started = time.perf_counter()
    with db.session() as session:
        departments = session.scalar(select(func.count()).select_from(Department))
        newest = session.scalar(select(func.max(Assessment.year)))
    if departments < 2 or newest is None:
        return {}
    province_progress(db, newest, viewer=None, today=today)  # rows are kept per department, shared by viewers
    took = {"progress": time.perf_counter() - started}
    mark = time.perf_counter()
    cycle_store.fill_published_records(db)
    took["records"] = time.perf_counter() - mark
    return took


def warm_in_background(database: Callable[[], Database]) -> threading.Thread | None:
    """warm() on a daemon thread, once per process and database; None when off or already done."""
    if not warms():
        return None

    def run() -> None:
        try:
            db = database()
            with _LOCK:
                if db.settings.database_url in _started:
                    return
                _started.add(db.settings.database_url)
            took = warm(db)
        except Exception:  # never reaches a page: the first viewer computes as it would have
            log.exception("computing the province's progress at start failed")
            return
        if took:
            log.info("province progress computed at start in %.1f s; published indexes left to record: %.1f s",
                     took["progress"], took["records"])

    thread = threading.Thread(target=run, name="cchc-warm-province", daemon=True)
    thread.start()
    return thread


def lifespan(database: Callable[[], Database]):
    """A lifespan for the web app (st.App(lifespan=…)) that starts warm_in_background and waits for nothing."""

    @asynccontextmanager
    async def starting(app) -> AsyncIterator[None]:
        warm_in_background(database)
        yield None

    return starting
