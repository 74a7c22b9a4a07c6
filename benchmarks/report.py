"""The figures as a Markdown table (Vietnamese number formats), and writing it into README between the markers."""

from __future__ import annotations

import os
import platform
import re
import sqlite3
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from benchmarks.measure import Timing
from benchmarks.suite import Results, Scale

START = "<!-- bench:start -->"
END = "<!-- bench:end -->"


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    target: float | None = None  # seconds; the median must stay below it
    target_text: str = "—"
    target_scales: tuple[str, ...] | None = None  # None: the target applies at every scale


ROWS = (
    Row("plan_parse", "Đọc tệp kế hoạch 2026 (.txt, 22 hoạt động)", 0.2, "< 200 ms"),
    Row("plan_import", "Nhập kế hoạch 2026: đọc tệp + lưu thay thế vào CSDL", 0.2, "< 200 ms"),
    Row("big_plan_parse", "Đọc tệp kế hoạch rất lớn sinh ra (`benchmarks/generate.py`)"),
    Row("big_plan_save", "Lưu kế hoạch rất lớn đó (thay thế, một giao dịch)"),
    Row("rollup", "Cộng điểm cả bộ tiêu chí (`roll_up`, 47 tiêu chí đã chấm)"),
    Row("snapshot", "Đọc một kỳ đánh giá (`load_snapshot`: kế hoạch, 47 điểm, 50 tài liệu)"),
    Row("save_score", "Lưu một điểm (`assessment_store.save_self_score`)"),
    Row("page_bare", "Chạy lại trang trống (`st.title` + `st.write`) — mốc so sánh"),
    Row("page_scoring", "Chạy lại trang **Chấm điểm** sau khi đổi một điểm", 0.15, "< 150 ms"),
    Row("ratio_scoring", "… so với trang trống", 3.0, "≤ 3 ×"),
    Row("page_scoring_signed_in", "… cùng thao tác khi đã đăng nhập (tài khoản Văn phòng)", 0.15, "< 150 ms"),
    Row("page_scoring_whole", "Vẽ lại cả trang **Chấm điểm** (đổi lĩnh vực, bật lọc, tải lại)"),
    Row("page_overview", "Chạy lại trang **Tổng quan** sau khi một điểm đổi", 0.3, "< 300 ms (cấp tỉnh)"),
    Row("export_scoresheet", "Xuất bảng điểm Excel (gồm đọc kỳ đánh giá)", 2.0, "< 2 s"),
    Row("export_report", "Xuất báo cáo Word, không biểu đồ", 2.0, "< 2 s"),
    Row("export_report_charts", "Xuất báo cáo Word kèm 2 biểu đồ (Chromium mở sẵn; lần đầu khởi động thêm khoảng 2 s)", 2.0, "< 2 s"),
    Row("export_bundle", "Xuất gói tài liệu kiểm chứng (.zip, 50 tài liệu)", 2.0, "< 2 s"),
    Row("backup", "Sao lưu toàn bộ (CSDL + mọi tệp tài liệu)"),
    Row("generate", "Sinh dữ liệu thử (một lần, không phải thao tác người dùng)"),
)


def vn(value: float, decimals: int) -> str:
    text = f"{value:,.{decimals}f}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def duration(seconds: float, unit_of: float | None = None, *, with_unit: bool = True) -> str:
    """"82 ms", "4,2 ms", "1,25 s"; the unit and decimals follow `unit_of` (default: the value itself)."""
    reference = (seconds if unit_of is None else unit_of) * 1000
    if reference >= 1000:
        text, unit = vn(seconds, 2), "s"
    else:
        decimals = 2 if reference < 1 else 1 if reference < 10 else 0
        text, unit = vn(seconds * 1000, decimals), "ms"
    return f"{text} {unit}" if with_unit else text


def spread(timing: Timing) -> str:
    """"82 ms (79–95)": the median, then the fastest and slowest run in the median's unit."""
    low = duration(timing.low, timing.median, with_unit=False)
    high = duration(timing.high, timing.median, with_unit=False)
    return f"{duration(timing.median)} ({low}–{high})"


def megabytes(count: int) -> str:
    return f"{vn(count / 1024 / 1024, 1)} MB"


def _cell(row: Row, scale: str, timing: Timing | None, note: str) -> str:
    if timing is None:
        return "—"
    if row.key == "ratio_scoring":
        text = f"{vn(timing.median, 1)} ×"
    elif timing.runs == 1:
        text = duration(timing.median)
    else:
        text = spread(timing)
    if note:
        text += f" · {note}"
    if row.target is not None and (row.target_scales is None or scale in row.target_scales):
        text += " ✅" if timing.median < row.target or (row.key == "ratio_scoring" and timing.median <= row.target) else " ❌"
    return text


def with_ratio(results: Results, scales: tuple[Scale, ...]) -> dict[str, dict[str, Timing]]:
    timings = dict(results.timings)
    ratio: dict[str, Timing] = {}
    for scale in scales:
        page = timings.get("page_scoring", {}).get(scale.key)
        bare = timings.get("page_bare", {}).get(scale.key)
        if page and bare:
            value = page.median / bare.median
            ratio[scale.key] = Timing(value, value, value, 1)
    timings["ratio_scoring"] = ratio
    return timings


def render(results: Results, scales: tuple[Scale, ...], runs_text: str) -> str:
    timings = with_ratio(results, scales)
    province = scales[-1].key
    lines = [
        "| Phép đo | Mục tiêu | " + " | ".join(s.label for s in scales) + " | Bộ nhớ đỉnh (Python) |",
        "|---|---|" + "---|" * len(scales) + "---|",
    ]
    for row in ROWS:
        if row.key == "page_overview":
            row = Row(row.key, row.label, row.target, row.target_text, (province,))
        by_scale = timings.get(row.key, {})
        if not by_scale:
            if row.key in results.skipped:
                lines.append(f"| {row.label} | {row.target_text} | " + " | ".join("không đo" for _ in scales)
                             + f" | {results.skipped[row.key]} |")
            continue
        cells = [_cell(row, s.key, by_scale.get(s.key), results.notes.get(row.key, {}).get(s.key, "")) for s in scales]
        peaks = [by_scale[s.key].peak_bytes for s in scales if s.key in by_scale and by_scale[s.key].peak_bytes is not None]
        memory = " / ".join(megabytes(p) for p in peaks) if peaks else "—"
        lines.append(f"| {row.label} | {row.target_text} | " + " | ".join(cells) + f" | {memory} |")
    lines.append("")
    lines.append(f"Trung vị (nhỏ nhất–lớn nhất) của {runs_text}; ✅/❌: trung vị so với mục tiêu. "
                 "Bộ nhớ đỉnh: phần Python cấp phát trong một lần chạy thêm (tracemalloc), theo thứ tự các cột quy mô; "
                 "không gồm Chromium.")
    lines.append("")
    for scale in scales:
        population = results.populations.get(scale.key)
        if population is None:
            continue
        rows = population.rows
        lines.append(
            f"- **{scale.label}**: {rows.get('department', 0)} cơ quan, {rows.get('plan', 0)} kế hoạch, "
            f"{vn(rows.get('activity', 0), 0)} hoạt động, {vn(rows.get('score', 0), 0)} điểm, "
            f"{vn(rows.get('evidence', 0), 0)} tài liệu ({vn(population.evidence_files, 0)} tệp PDF), "
            f"{vn(rows.get('audit_log', 0), 0)} dòng nhật ký."
        )
    focus = next((results.populations[s.key] for s in scales if s.key in results.populations), None)
    if focus is not None and focus.repository_calls:
        parts = []
        for name, samples in sorted(focus.repository_calls.items()):
            mean = sum(samples) / len(samples)
            parts.append(f"`{name}` {duration(mean)}/lần")
        lines.append("- Ghi qua repository (kỳ đánh giá chính, từng lần một như các trang ghi): " + ", ".join(parts) + ".")
    lines.append(f"- Máy đo: {machine()}; ngày đo {date.today():%d/%m/%Y}.")
    return "\n".join(lines)


def machine() -> str:
    import streamlit

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (f"{cpu}, {cores} lõi; Python {platform.python_version()}, Streamlit {streamlit.__version__}, "
            f"SQLite {sqlite3.sqlite_version}")


def update_readme(readme: Path, block: str) -> bool:
    """Replace what lies between the markers; False (README untouched) when the markers are missing."""
    text = readme.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(text):
        return False
    replaced = pattern.sub(lambda _: f"{START}\n{block}\n{END}", text, count=1)
    readme.write_text(replaced, encoding="utf-8")
    return True
