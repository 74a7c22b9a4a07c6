"""Each file of the Xuất, nhập tệp page as one download makes it (`export_bytes`: read the year, write the file),
on the bundled department with a realistic self-assessment half done (most criteria still without evidence),
with the chart browser already open as the page keeps it (`charts.warm_up`).

`python -m benchmarks.exports [--runs 5]` prints, per export, the median (lowest–highest) of the runs in two
cases: "dữ liệu vừa đổi" — the chart images are drawn again, as after any change (the image cache emptied before
each run) — and "dữ liệu không đổi" — a second download of the same data, whose charts come from the cache.
Apart from benchmarks/suite.py (AppTest pages and the core) so that it can be run on its own in a few seconds.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from datetime import date
from pathlib import Path

from benchmarks.measure import Timing, timing_of
from scoring.textnorm import format_number

EXPORTS = (("scoresheet", "Bảng điểm Excel"), ("report", "Báo cáo Word kèm 2 biểu đồ"),
           ("summary", "Trang tóm tắt PDF"), ("charts", "Ảnh biểu đồ (.zip)"), ("evidence", "Gói tài liệu kiểm chứng"))
SELF_SCORES = {"1.1.1": {"tier": 0}, "1.1.2": {"tier": 0}, "1.1.3": {"tier": 1}, "1.1.4": {"numerator": 17, "denominator": 20},
               "1.2.1": {"tier": 1}, "1.2.3": {"occurrences": 1}, "1.3.2": {"count": 3}, "1.3.3": {"value": "0,75"},
               "2.1.3": {"numerator": 3, "denominator": 4}, "8.1": {"survey": "3,25"}}


def _workspace(folder: Path):
    os.environ["CCHC_DATA_DIR"] = str(folder)
    os.environ.pop("DATABASE_URL", None)
    from scoring.store import assessment_store, evidence_store
    from scoring.store.db import open_database
    from scoring.store.workspace import ensure_default_workspace

    db = open_database()
    workspace = ensure_default_workspace(db)
    for code, inputs in SELF_SCORES.items():
        assessment_store.save_self_score(db, workspace.assessment_id, code, 0, inputs=inputs, actor="vp")
    evidence_store.add_evidence(db, workspace.department_id, workspace.year,
                      evidence_store.EvidenceInput(doc_type="Kế hoạch", number="15/KH-SDTTG", issued_on=date(2025, 12, 18)),
                      actor="vp", attachment=evidence_store.ATTACH_NUMBER, criteria=["1.1.1", "1.1.3"])
    return db, workspace


def run(runs: int) -> dict[tuple[str, bool], Timing]:
    from scoring.exports import charts
    from scoring.exports.commands import export_bytes

    with tempfile.TemporaryDirectory(prefix="cchc-bench-exports-") as folder:
        db, workspace = _workspace(Path(folder))
        try:
            charts.warm_up()
            started = time.monotonic()
            while not charts.RENDERER.running(charts.browser_path()) and time.monotonic() - started < 60:
                time.sleep(0.1)
            results = {}
            for kind, _ in EXPORTS:
                export_bytes(db, workspace.department_id, workspace.year, kind)  # warm: imports, first tab load
                for cached in (False, True):
                    samples = []
                    for _ in range(runs):
                        if not cached:
                            charts.RENDER_CACHE.clear()
                        time.sleep(0.5)  # a person clicks again: the tabs' background reloads are done
                        began = time.perf_counter()
                        export_bytes(db, workspace.department_id, workspace.year, kind)
                        samples.append(time.perf_counter() - began)
                    results[(kind, cached)] = timing_of(samples)
            return results
        finally:
            db.dispose()


def _seconds(timing: Timing) -> str:
    return (f"{format_number(timing.median, 2)} s ({format_number(timing.low, 2)}–{format_number(timing.high, 2)})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.exports", description="Đo thời gian xuất từng tệp.")
    parser.add_argument("--runs", type=int, default=5, help="Số lần đo mỗi trường hợp (mặc định 5)")
    args = parser.parse_args(argv)
    results = run(args.runs)
    print(f"| Tệp | Dữ liệu vừa đổi (vẽ lại biểu đồ) | Dữ liệu không đổi |\n|---|---|---|")
    for kind, label in EXPORTS:
        print(f"| {label} | {_seconds(results[(kind, False)])} | {_seconds(results[(kind, True)])} |")
    print(f"\nTrung vị (nhỏ nhất–lớn nhất) của {args.runs} lần; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} lõi, Python {platform.python_version()}; tải máy lúc đo: {os.getloadavg()[0]:.1f}.")


if __name__ == "__main__":
    main()
