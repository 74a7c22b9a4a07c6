"""Measured speed and scale of the app: `python -m benchmarks` (see README, «Hiệu năng (đo thực tế)»).

generate.py  — generated data: a plan file of any size, a province's departments × years in a scratch data folder
measure.py   — timing (time.perf_counter, median and range of several runs) and peak memory (tracemalloc)
suite.py     — what is measured, at 1 department × 1 year and at 40 departments × 5 years
report.py    — the Markdown table, written into README between <!-- bench:start --> and <!-- bench:end -->
profile.py   — where a page rerun spends its time (cProfile inside the AppTest script thread)
browser.py   — the served app in headless Chromium: click to visible update against a bare page, GC on/off, sessions, memory
"""
