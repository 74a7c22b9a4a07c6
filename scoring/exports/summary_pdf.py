"""A one-page PDF summary for the meeting folder: headline index, per-area table and the two charts.

The page is HTML (escaped text, charts inlined as SVG so they stay sharp) printed to PDF by the headless
Chromium the chart export keeps open (scoring.exports.charts.print_pdf); nothing is fetched from the network.
The layout has fixed heights sized for up to 10 areas, so it stays on one A4 page.
"""

from __future__ import annotations

import base64
import html
import tempfile
from pathlib import Path
from typing import BinaryIO

from scoring.assessment.snapshot import Snapshot
from scoring.charts import completion_by_area_figure, score_by_area_figure
from scoring.exports.charts import ChartExportError, figures_svg, print_pdf
from scoring.exports.common import (
    NOT_APPLICABLE_TEXT,
    TEMPLATE_NOTE,
    require_criteria,
)
from scoring.textnorm import format_date, format_number, format_percent, roman

CHART_WIDTH_PX = 760  # each chart keeps its own height; the page scales both into the same box

_STYLE = """
@page { size: A4 portrait; margin: 11mm 12mm; }
* { box-sizing: border-box; }
body { margin: 0; font-family: "Liberation Serif", "Times New Roman", serif; font-size: 10.5pt; color: #111; }
header { display: flex; justify-content: space-between; align-items: flex-start; border-bottom: 1.5px solid #333;
         padding-bottom: 2mm; }
header .org { font-weight: bold; text-transform: uppercase; font-size: 11pt; }
header .date { font-style: italic; text-align: right; }
h1 { font-size: 14pt; text-align: center; margin: 3mm 0 1mm; }
.set { text-align: center; font-style: italic; font-size: 9.5pt; margin-bottom: 2.5mm; }
.tiles { display: flex; gap: 2.5mm; margin-bottom: 2.5mm; }
.tile { flex: 1; border: 1px solid #bbb; border-radius: 2mm; padding: 1.5mm 2mm; }
.tile .value { font-size: 17pt; font-weight: bold; color: #0072B2; line-height: 1.15; }
.tile .value.state { font-size: 12pt; color: #8a5a00; }  /* a state in words, not a figure */
.tile .label { font-size: 9pt; color: #333; }
table { width: 100%; border-collapse: collapse; font-size: 9.5pt; margin-bottom: 2mm; }
th, td { border: 1px solid #999; padding: 0.6mm 1.5mm; }
th { background: #D9E2F3; }
td.n { text-align: right; white-space: nowrap; }
td.c { text-align: center; }
tr.total td { font-weight: bold; background: #E2EFDA; }
.chart { width: 100%; height: 82mm; object-fit: contain; display: block; margin: 0 auto 1mm; }
.note { font-size: 8.5pt; color: #444; font-style: italic; }
"""


def write_summary_pdf(snapshot: Snapshot, out: str | Path | BinaryIO) -> None:
    """Write the one-page summary PDF to a path or binary file (needs Chromium, as the charts do)."""
    require_criteria(snapshot)
    pdf = html_to_pdf(summary_html(snapshot, summary_charts(snapshot)))
    if isinstance(out, (str, Path)):
        Path(out).write_bytes(pdf)
    else:
        out.write(pdf)


def summary_charts(snapshot: Snapshot) -> list[bytes]:
    """The page's two charts as SVG (also drawn ahead by the export page: charts.warm_up)."""
    figures = [score_by_area_figure(snapshot)]
    if snapshot.activities:
        figures.append(completion_by_area_figure(snapshot))
    return figures_svg(figures, width=CHART_WIDTH_PX)


def summary_html(snapshot: Snapshot, chart_svgs: list[bytes]) -> str:
    """The page as HTML; every text from the database is escaped."""
    criteria_set = require_criteria(snapshot)
    rollup = snapshot.rollup
    total = rollup.total
    e = html.escape
    set_line = criteria_set.name + (f" ({TEMPLATE_NOTE})" if criteria_set.template else "")
    tiles = [
        (rollup.self_index.text(brief=True), "Chỉ số CCHC tự đánh giá"),
        (f"{format_number(total.self_points or 0)}/{format_number(total.applicable_max)}", "Tổng điểm tự đánh giá"),
        (f"{total.scored_leaves}/{total.applicable_leaves}", "Tiêu chí thành phần đã chấm"),
    ]
    appraisal = snapshot.appraisal()
    if appraisal.complete and rollup.index_appraised is not None:
        tiles.insert(1, (format_percent(rollup.index_appraised, 2), "Chỉ số sau thẩm định"))
    elif appraisal.in_progress:
        tiles.insert(1, (appraisal.text(), "Chỉ số sau thẩm định (có khi thẩm định xong)", "state"))
    if snapshot.activities:
        share = format_percent(snapshot.plan_completion * 100) if snapshot.plan_completion is not None else "—"
        tiles.append((f"{snapshot.activities_done}/{snapshot.activities_applicable}",
                      f"Hoạt động kế hoạch hoàn thành ({share})"))
    tiles.append((str(len(snapshot.evidence_gaps())), "Tiêu chí chưa có tài liệu kiểm chứng"))

    with_appraisal = snapshot.appraisal_started
    head = "<tr><th>STT</th><th>Lĩnh vực</th><th>Điểm tối đa</th><th>Tự đánh giá</th><th>Tỷ lệ</th>"
    head += "<th>Thẩm định</th></tr>" if with_appraisal else "</tr>"
    rows = []
    for number, area in enumerate(rollup.areas, start=1):
        if area.not_applicable:
            cells = ["—", NOT_APPLICABLE_TEXT, "—"]
        else:
            cells = [format_number(area.applicable_max), format_number(area.self_points or 0),
                     area.self_index.text(brief=True)]
        if with_appraisal:
            cells.append("—" if area.not_applicable else snapshot.appraisal(area.code).text())
        rows.append(f"<tr><td class='c'>{roman(number)}</td><td>{e(area.name)}</td>"
                    + "".join(f"<td class='n'>{e(c)}</td>" for c in cells) + "</tr>")
    total_cells = [format_number(total.applicable_max), format_number(total.self_points or 0),
                   rollup.self_index.text(brief=True)]
    if with_appraisal:
        total_cells.append(snapshot.appraisal().text())
    rows.append("<tr class='total'><td></td><td>Tổng cộng</td>"
                + "".join(f"<td class='n'>{e(c)}</td>" for c in total_cells) + "</tr>")

    images = "".join(
        f"<img class='chart' alt='Biểu đồ {i}' src='data:image/svg+xml;base64,{base64.b64encode(svg).decode()}'>"
        for i, svg in enumerate(chart_svgs, start=1)
    )
    tile_html = "".join(f"<div class='tile'><div class='{' '.join(['value', *style])}'>{e(value)}</div>"
                        f"<div class='label'>{e(label)}</div></div>" for value, label, *style in tiles)
    return f"""<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><title>Tóm tắt Chỉ số CCHC năm {snapshot.year}</title>
<style>{_STYLE}</style></head>
<body>
<header><div class="org">{e(snapshot.department.name)}</div>
<div class="date">Số liệu đến ngày {format_date(snapshot.today)}</div></header>
<h1>TÓM TẮT KẾT QUẢ TỰ ĐÁNH GIÁ CHỈ SỐ CẢI CÁCH HÀNH CHÍNH NĂM {snapshot.year}</h1>
<div class="set">{e(set_line)}</div>
<div class="tiles">{tile_html}</div>
<table>{head}{''.join(rows)}</table>
{images}
<div class="note">Số liệu lấy từ phần mềm Chỉ số CCHC; điểm tự đánh giá chưa qua thẩm định của Sở Nội vụ
trừ khi có cột «Thẩm định», cột này ghi điểm của lĩnh vực đã thẩm định xong.</div>
</body></html>"""


def html_to_pdf(page: str) -> bytes:
    """Print an HTML page to PDF with headless Chromium (offline: the page must not load anything remote)."""
    with tempfile.TemporaryDirectory(prefix="cchc-pdf-") as folder:
        source = Path(folder) / "trang.html"
        source.write_text(page, encoding="utf-8")
        pdf = print_pdf(source)
    if not pdf.startswith(b"%PDF"):
        raise ChartExportError("Không in được trang tóm tắt ra PDF: trình duyệt không trả về tệp PDF.")
    return pdf
