"""The province's two readings computed when a server process starts, so that the first viewer after a restart
does not wait for them: every department's progress in the newest year (scoring.province.progress) and the
published indexes (scoring.store.cycle_store.published_indexes, which the ranking, its Excel and Word files and the
projector read) of the newest year and the two before it — the ranking of the year a page opens on (the newest)
and of the year before, each beside its previous year. An older year's ranking is computed when first asked for.

Both are kept in the process by the modules that compute them, and checked there at each reading as always
(the data revision, each department-year's fingerprint, each publication): warming only fills those caches
earlier, by the same functions, so what a page shows is what it would have computed itself. It runs on a thread
of its own, once per process and database; a failure is logged and changes nothing (the page computes as before).

server.py starts it from the web app's lifespan (the process's start, before any page); CCHC_WARM=off leaves it
off (a process that only serves one department has no province page to warm).
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
from scoring.store import cycle_store, department_store
from scoring.store.db import Database
from scoring.store.models import Assessment

log = logging.getLogger(__name__)

WARM = "CCHC_WARM"
_OFF = ("off", "0", "false", "no")
_started: set[str] = set()  # database URLs warmed (or being warmed) in this process
_LOCK = threading.Lock()


def warms(environ: dict[str, str] | None = None) -> bool:
    environ = os.environ if environ is None else environ
    return (environ.get(WARM) or "on").strip().lower() not in _OFF


RANKED_YEARS = 3  # the newest year and the two before it (a ranking shows the year before beside its own)


def warm(db: Database, today: date | None = None) -> dict[str, float]:
    """Compute, for every viewer at once, the newest year's progress of every department and the published indexes
    of the newest RANKED_YEARS years. Returns the seconds each part took, for the log and the benchmark."""
    started = time.perf_counter()
    with db.session() as session:
        newest = session.scalar(select(func.max(Assessment.year)))
    if newest is None:  # no year opened yet: nothing to compute
        return {"progress": 0.0, "published": 0.0}
    province_progress(db, newest, viewer=None, today=today)  # rows are kept per department, shared by viewers
    took = {"progress": time.perf_counter() - started}
    mark = time.perf_counter()
    ids = [d.id for d in department_store.list_departments(db)]
    for year in range(newest, newest - RANKED_YEARS, -1):
        cycle_store.published_indexes(db, ids, year)
    took["published"] = time.perf_counter() - mark
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
            log.exception("computing the province's progress and published indexes at start failed")
            return
        log.info("province pages computed at start: progress %.1f s, published indexes %.1f s", took["progress"],
                 took["published"])

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
