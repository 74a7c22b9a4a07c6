"""Where a page rerun spends its time: cProfile switched on inside AppTest's script thread (the page runs there,
not in the caller's thread), over several reruns after a score change. Prints the heaviest functions."""

from __future__ import annotations

import cProfile
import io
import pstats
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.generate import Population
from benchmarks.suite import (
    APP,
    OTHER_LEAF,
    SCORED_LEAF,
    _alternating_score,
    open_scratch,
    server_like_script_cache,
)
from scoring.defaults import PROJECT_ROOT

PAGES = {"cham_diem": "views/cham_diem.py", "tong_quan": "views/tong_quan.py"}


@contextmanager
def profiled_script_thread(profiler: cProfile.Profile) -> Iterator[None]:
    from streamlit.testing.v1.local_script_runner import LocalScriptRunner

    original = LocalScriptRunner._run_script_thread

    def run(self) -> None:
        profiler.enable()
        try:
            original(self)
        finally:
            profiler.disable()

    LocalScriptRunner._run_script_thread = run
    try:
        yield
    finally:
        LocalScriptRunner._run_script_thread = original


def _scoring_change(at, population: Population):
    """Each call picks the other of two tiers for the scored leaf: the next run saves it."""
    radio_key = f"s-{population.focus_assessment_id}-{SCORED_LEAF}-tier"
    labels = list(at.radio(key=radio_key).options)

    def change(i: int) -> None:
        at.radio(key=radio_key).set_value(labels[i % 2])

    return change


def _elsewhere_change(db, population: Population):
    """Each call saves a score the way another page would, before the overview runs again."""
    save = _alternating_score(db, population.focus_assessment_id, OTHER_LEAF)
    return lambda _i: save()


def profile_pages(folder: Path, population: Population, *, reruns: int = 10, out_dir: Path | None = None,
                  top: int = 30) -> str:
    """Profile `reruns` reruns of the scoring page (a tier changed each time) and of the overview (a score saved
    elsewhere before each); the report text. Scripts are compiled once, as on a server."""
    from streamlit.testing.v1 import AppTest

    db = open_scratch(folder)
    report = io.StringIO()
    for name, page in PAGES.items():
        with server_like_script_cache():
            at = AppTest.from_file(str(APP), default_timeout=120)
            at.session_state["department_id"] = population.focus_department_id
            at.run()
            at.switch_page(page)
            at.run()
            change = _scoring_change(at, population) if name == "cham_diem" else _elsewhere_change(db, population)
            profiler = cProfile.Profile()
            with profiled_script_thread(profiler):
                for i in range(reruns):
                    change(i)
                    at.run()
            if at.exception:
                raise RuntimeError([e.value for e in at.exception])
            stats = pstats.Stats(profiler, stream=report)
            if out_dir is not None:
                out_dir.mkdir(parents=True, exist_ok=True)
                stats.dump_stats(str(out_dir / f"{name}.prof"))
            report.write(f"\n===== {page}: {reruns} lần chạy lại — theo thời gian tích lũy =====\n")
            stats.sort_stats("cumulative").print_stats(top)
            report.write(f"\n===== {page}: chỉ mã của dự án (scoring/, ui.py, views/), theo thời gian tích lũy =====\n")
            stats.sort_stats("cumulative").print_stats(re.escape(str(PROJECT_ROOT)) + r"/(scoring|ui\.py|views)", top)
            report.write(f"\n===== {page}: theo thời gian riêng =====\n")
            stats.sort_stats("tottime").print_stats(top)
    db.dispose()
    return report.getvalue()
