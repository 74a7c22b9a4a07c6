"""`python -m benchmarks`: measure, print the table, write it into README between the bench markers.

    python -m benchmarks                 # full run (1 sở × 1 năm and 40 sở × 5 năm), updates README.md
    python -m benchmarks --quick         # a smaller, faster run for checking the benchmark itself; README untouched
    python -m benchmarks --profile       # also profile the page reruns at the largest scale (cProfile)
    python -m benchmarks --no-readme     # print only
    python -m benchmarks --browser ...   # the served app in headless Chromium (benchmarks/browser.py; its own options)
    python -m benchmarks --scale --database-url …  # 100 sở × 5 năm on PostgreSQL, two processes, 30 sessions (benchmarks/scale.py)
    python -m benchmarks --room ...      # a room scoring at once: one person in Chromium, the others peers (benchmarks/room.py)
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

from benchmarks.report import render, update_readme, vn
from benchmarks.suite import (
    QUICK_SCALES,
    SCALES,
    Results,
    Runs,
    measure_plan_files,
    measure_scale,
)
from scoring.defaults import PROJECT_ROOT

OUT = PROJECT_ROOT / "benchmarks" / "out"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--browser" in argv:
        from benchmarks.browser import main as browser_main

        return browser_main([a for a in argv if a != "--browser"])
    if "--scale" in argv:
        from benchmarks.scale import main as scale_main

        return scale_main([a for a in argv if a != "--scale"])
    if "--room" in argv:
        from benchmarks.room import main as room_main

        return room_main([a for a in argv if a != "--room"])
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description="Đo hiệu năng Chỉ số CCHC.")
    parser.add_argument("--quick", action="store_true", help="ít lần đo, quy mô nhỏ (5 sở × 2 năm); không sửa README")
    parser.add_argument("--profile", action="store_true", help="thêm: cProfile các lần chạy lại trang ở quy mô lớn nhất")
    parser.add_argument("--no-readme", action="store_true", help="chỉ in bảng, không ghi vào README.md")
    parser.add_argument("--no-charts", action="store_true", help="bỏ báo cáo kèm biểu đồ (không khởi động Chromium)")
    parser.add_argument("--browser", action="store_true", help="đo trong Chromium (benchmarks/browser.py, tùy chọn riêng)")
    parser.add_argument("--scale", action="store_true", help="quy mô tỉnh trên PostgreSQL (benchmarks/scale.py, tùy chọn riêng)")
    parser.add_argument("--room", action="store_true", help="một phòng cùng chấm điểm (benchmarks/room.py, tùy chọn riêng)")
    parser.add_argument("--keep", type=Path, help="giữ dữ liệu quy mô lớn nhất trong thư mục (trống) này")
    args = parser.parse_args(argv)

    scales = QUICK_SCALES if args.quick else SCALES
    runs = Runs.quick() if args.quick else Runs()
    started = time.perf_counter()
    results = Results()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {message}", file=sys.stderr, flush=True)

    log("tệp kế hoạch")
    measure_plan_files(results, runs, big_rows=2_000 if args.quick else 10_000, log=log)
    profile_text = ""
    for index, scale in enumerate(scales):
        log(f"quy mô {scale.label}")
        after = None
        if args.profile and index == len(scales) - 1:
            from benchmarks.profile import profile_pages

            def after(folder, population):
                nonlocal profile_text
                log("  cProfile các lần chạy lại trang")
                profile_text = profile_pages(folder, population, out_dir=OUT)

        measure_scale(results, scale, runs, keep=args.keep if index == len(scales) - 1 else None,
                      charts=not args.no_charts, log=log, after=after)

    runs_text = (f"{runs.fast} lần (phép tính thuần), {runs.page} lần (trang, lưu, đọc), {runs.export} lần (xuất tệp), "
                 f"{runs.slow} lần (báo cáo kèm biểu đồ, sao lưu, kế hoạch rất lớn), sau một lần chạy khởi động")
    table = render(results, scales, runs_text)
    elapsed = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    table += f"\n- Cả lần đo: {vn(elapsed / 60, 1)} phút; bộ nhớ thường trú đỉnh của tiến trình đo {vn(usage, 0)} MB."

    print(table)
    if profile_text:
        print(profile_text)

    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "ket-qua.json").write_text(json.dumps({
        "scales": [s.__dict__ for s in scales],
        "timings": {k: {s: t.as_dict() for s, t in v.items()} for k, v in results.timings.items()},
        "notes": results.notes,
        "skipped": results.skipped,
        "populations": {k: {"rows": p.rows, "evidence_files": p.evidence_files, "seconds": p.seconds,
                            "repository_calls": {n: sorted(v) for n, v in p.repository_calls.items()}}
                        for k, p in results.populations.items()},
        "seconds": elapsed,
    }, ensure_ascii=False, indent=2), encoding="utf-8")
    if profile_text:
        (OUT / "profile.txt").write_text(profile_text, encoding="utf-8")

    if not (args.quick or args.no_readme):
        readme = PROJECT_ROOT / "README.md"
        if update_readme(readme, table):
            log(f"đã ghi bảng vào {readme.name}")
        else:
            log(f"{readme.name} không có cặp đánh dấu <!-- bench:start --> / <!-- bench:end -->: chưa ghi")
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
