"""The self-assessment report (báo cáo kết quả tự đánh giá, chấm điểm) as a Word document.

Laid out as Decree 30/2020/NĐ-CP lays out an administrative document: A4, Times New Roman 14, margins
20/20/30/15 mm (top, bottom, left, right); a letterhead table with the issuing body on the left (the
governing body, the department in bold capitals, a short rule, "Số: …/BC-…") and the national motto on the
right; the place and date line in italics (governing body and place: common.governing_body, place_name — the
department's settings, "……………" where nobody has set them); the document type
and summary in bold, centred; page numbers from page 2; the "Nơi nhận" block and the signer's title (the layout
itself: scoring.exports.decree30, shared with the province's ranking, scoring.exports.ranking_report).

The body holds what the Home Affairs guidance asks of the report: I. the score summary per area with the
index (and the plan's completion, with the two charts), II. the explanations for criteria without
evidence, grouped by what is missing, III. difficulties and recommendations. Numbers come from the snapshot; where only the
department can write the text, the document says so with a highlighted "(Cơ quan bổ sung nội dung)".
"""

from __future__ import annotations

import io
from typing import BinaryIO

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX
from docx.shared import Mm, Pt
from docx.text.paragraph import Paragraph

from scoring.assessment.snapshot import Snapshot
from scoring.exports.common import (
    NOT_APPLICABLE_TEXT,
    date_line,
    department_abbreviation,
    governing_body,
    incomplete_evidence,
    require_criteria,
)
from scoring.exports.decree30 import (
    TEXT_WIDTH,
    add_paragraph,
    add_run,
    cell_line,
    closing,
    first_paragraph,
    header_cells,
    keep_row_on_one_page,
    letterhead,
    page_setup,
    repeat_header,
    set_widths,
    short_rule,
)
from scoring.textnorm import format_number, format_percent, format_points, roman

TO_BE_WRITTEN = "(Cơ quan bổ sung nội dung)"
SIGNER_TITLE = "GIÁM ĐỐC"
RECIPIENTS = ("Sở Nội vụ (b/c);", "Lãnh đạo Sở;", "Lưu: VT, VP.")


def write_report(snapshot: Snapshot, out: str | BinaryIO, charts: bool = True) -> None:
    """Write the report .docx to a path or binary file. `charts` False leaves the two charts out (no browser needed)."""
    require_criteria(snapshot)
    images = chart_images(snapshot) if charts else []
    document = Document()
    page_setup(document)
    _letterhead(document, snapshot)
    _title(document, snapshot)
    _section_results(document, snapshot, images)
    _section_explanations(document, snapshot)
    _section_difficulties(document)
    _closing(document, snapshot)
    document.core_properties.title = f"Báo cáo kết quả tự đánh giá, chấm điểm Chỉ số CCHC năm {snapshot.year}"
    document.core_properties.author = snapshot.department.name
    document.save(out)


def chart_images(snapshot: Snapshot) -> list[tuple[bytes, str]]:
    """The report's charts as PNG, with their captions (also drawn ahead by the export page: charts.warm_up)."""
    from scoring.charts import completion_by_area_figure, score_by_area_figure
    from scoring.exports.charts import figures_png

    what = "Điểm tự đánh giá và điểm thẩm định" if snapshot.appraisal_started else "Điểm tự đánh giá"
    figures = [(score_by_area_figure(snapshot), f"{what} theo lĩnh vực năm {snapshot.year}")]
    if snapshot.activities:
        figures.append((completion_by_area_figure(snapshot), f"Tiến độ thực hiện Kế hoạch CCHC năm {snapshot.year}"))
    pictures = figures_png([figure for figure, _ in figures], width=780, scale=2)
    return list(zip(pictures, [caption for _, caption in figures]))


def _to_be_written(paragraph: Paragraph):
    """The visible prompt where only the department can write: italic and highlighted, so it cannot slip through."""
    run = add_run(paragraph, TO_BE_WRITTEN, italic=True)
    run.font.highlight_color = WD_COLOR_INDEX.YELLOW
    return run


# --------------------------------------------------------------------------- letterhead and title


def _letterhead(document, snapshot: Snapshot) -> None:
    sign = department_abbreviation(snapshot.department.name, snapshot.evidence)
    letterhead(document, governing_line=governing_body(snapshot), issuer=snapshot.department.name,
               number=f"Số:        /BC-{sign}" if sign else "Số:        /BC", date_line=date_line(snapshot))


def _title(document, snapshot: Snapshot) -> None:
    add_paragraph(document, "BÁO CÁO", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_before=Pt(18),
                  space_after=Pt(0))
    add_paragraph(document, f"Kết quả tự đánh giá, chấm điểm Chỉ số CCHC năm {snapshot.year}", bold=True,
                  align=WD_ALIGN_PARAGRAPH.CENTER, space_after=Pt(0))
    short_rule(document, Mm(40), TEXT_WIDTH, space_after=Pt(12))

    criteria_set = snapshot.criteria_set
    intro = add_paragraph(document)
    add_run(intro, f"Căn cứ {criteria_set.name}, {snapshot.department.name} đã tự đánh giá, chấm điểm các tiêu chí "
                f"xác định Chỉ số cải cách hành chính (CCHC) năm {snapshot.year}, kết quả như sau:")
    if criteria_set.template:
        note = add_paragraph(document, italic=True)
        add_run(note, "Lưu ý: điểm được chấm theo Bộ tiêu chí mẫu của phần mềm, chưa phải bộ tiêu chí do UBND tỉnh "
                   "ban hành; khi tỉnh ban hành bộ tiêu chí của năm, cần chấm lại theo bộ tiêu chí đó.", italic=True)


# --------------------------------------------------------------------------- body


def _heading(document, text: str) -> None:
    add_paragraph(document, text, bold=True, space_before=Pt(6))


def _section_results(document, snapshot: Snapshot, images: list[tuple[bytes, str]]) -> None:
    rollup = snapshot.rollup
    total = rollup.total
    _heading(document, "I. KẾT QUẢ TỰ ĐÁNH GIÁ, CHẤM ĐIỂM")
    add_paragraph(document, "1. Tổng hợp điểm theo lĩnh vực", bold=True, italic=True)
    summary = add_paragraph(document)
    add_run(summary, f"Tổng điểm tự đánh giá: {format_number(total.self_points or 0)}/"
                  f"{format_points(total.applicable_max)}; Chỉ số CCHC tự đánh giá: ")
    add_run(summary, rollup.self_index.text(), bold=True)
    add_run(summary, ".")
    appraisal = snapshot.appraisal()
    if appraisal.complete and rollup.index_appraised is not None:
        appraised = add_paragraph(document)
        add_run(appraised, f"Điểm thẩm định: {format_number(appraisal.points)}/{format_points(total.applicable_max)}"
                        f"; Chỉ số sau thẩm định: {format_percent(rollup.index_appraised, 2)}.")
    elif appraisal.in_progress:
        appraised = add_paragraph(document)
        add_run(appraised, f"Điểm thẩm định: {appraisal.text()} tiêu chí thành phần; điểm và chỉ số sau thẩm định "
                        "có khi mọi tiêu chí đã được thẩm định.")
    sources = snapshot.appraisal_sources()
    if sources:
        add_run(add_paragraph(document), "Kết quả thẩm định: " + "; ".join(sources) + ".")
    published = snapshot.final_index(use_appraised=rollup.index_appraised is not None)
    if published is not None and published.percent is not None:
        line = add_paragraph(document)
        add_run(line, f"Chỉ số tính theo cách tỉnh công bố (điểm {published.basis}, gồm điểm thưởng, điểm trừ): ")
        add_run(line, format_percent(published.percent, 2), bold=True)
        add_run(line, f"; xếp loại {published.band.label}." if published.band else ".")
    scored = add_paragraph(document)
    text = f"Đã chấm {total.scored_leaves}/{total.applicable_leaves} tiêu chí thành phần áp dụng"
    unscored = [n.code for n in rollup.nodes.values() if n.is_leaf and not n.not_applicable and n.self_points is None]
    text += f"; chưa chấm: {', '.join(unscored)}." if unscored else "."
    not_applicable = [n.code for n in rollup.nodes.values() if n.is_leaf and n.not_applicable]
    if not_applicable:
        text += (f" Không đánh giá (không tính điểm và điểm tối đa): {', '.join(not_applicable)}.")
    add_run(scored, text)
    _score_table(document, snapshot)

    add_paragraph(document, f"2. Kết quả thực hiện Kế hoạch CCHC năm {snapshot.year}", bold=True, italic=True,
                  space_before=Pt(12))
    plan = add_paragraph(document)
    if snapshot.activities:
        rows = snapshot.completion_by_area()
        applicable = snapshot.activities_applicable
        in_progress = sum(r["dang_thuc_hien"] for r in rows)
        overdue = snapshot.overdue()
        share = format_percent(snapshot.plan_completion * 100) if snapshot.plan_completion is not None else "—"
        add_run(plan, f"Kế hoạch có {len(snapshot.activities)} hoạt động, trong đó {applicable} hoạt động phải thực hiện; "
                   f"đã hoàn thành {snapshot.activities_done}/{applicable} hoạt động ({share}), "
                   f"đang thực hiện {in_progress} hoạt động")
        add_run(plan, f"; quá hạn chưa hoàn thành: {', '.join(s.id for s in overdue)}." if overdue else ".")
    else:
        add_run(plan, f"Chưa nhập Kế hoạch CCHC năm {snapshot.year} vào phần mềm.")

    for number, (picture, caption) in enumerate(images, start=1):
        holder = add_paragraph(document, align=WD_ALIGN_PARAGRAPH.CENTER, space_before=Pt(6), space_after=Pt(0))
        holder.paragraph_format.keep_with_next = True
        holder.add_run().add_picture(io.BytesIO(picture), width=Mm(160))
        add_paragraph(document, f"Hình {number}. {caption}", italic=True, size=Pt(12), align=WD_ALIGN_PARAGRAPH.CENTER)


def _score_table(document, snapshot: Snapshot) -> None:
    rollup = snapshot.rollup
    with_appraisal = snapshot.appraisal_started
    headers = ["STT", "Lĩnh vực", "Điểm tối đa", "Điểm tự đánh giá", "Tỷ lệ đạt"]
    widths = [Mm(15), Mm(74), Mm(24), Mm(28), Mm(24)]  # 165 mm: the text width
    if with_appraisal:
        headers.append("Điểm thẩm định")
        widths = [Mm(15), Mm(59), Mm(21), Mm(25), Mm(22), Mm(23)]
    rows = []
    for number, area in enumerate(rollup.areas, start=1):
        if area.not_applicable:
            cells = [roman(number), area.name, "—", NOT_APPLICABLE_TEXT, "—"]
            rows.append((cells + (["—"] if with_appraisal else []), False))
            continue
        cells = [roman(number), area.name, format_number(area.applicable_max), format_number(area.self_points or 0),
                 area.self_index.text(brief=True)]
        if with_appraisal:
            cells.append(snapshot.appraisal(area.code).text())
        rows.append((cells, False))
    total = rollup.total
    cells = ["", "Tổng cộng", format_number(total.applicable_max), format_number(total.self_points or 0),
             rollup.self_index.text(brief=True)]
    if with_appraisal:
        cells.append(snapshot.appraisal().text())
    rows.append((cells, True))

    table = document.add_table(rows=1 + len(rows), cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    set_widths(table, widths)
    header_cells(table, headers)
    repeat_header(table.rows[0])
    for row, (cells, bold) in zip(table.rows[1:], rows):
        row_cells = row.cells
        for column, text in enumerate(cells):
            align = WD_ALIGN_PARAGRAPH.LEFT if column == 1 else (
                WD_ALIGN_PARAGRAPH.CENTER if column == 0 else WD_ALIGN_PARAGRAPH.RIGHT)
            if bold and column == 1:
                align = WD_ALIGN_PARAGRAPH.CENTER
            cell_line(row_cells[column], text, bold=bold, first=True, align=align)


def _section_explanations(document, snapshot: Snapshot) -> None:
    """Grouped by what is missing, each group under one heading: the criteria without any evidence (one table:
    what each asks for, the self score, the explanation), then the documents lacking their number or date."""
    _heading(document, "II. GIẢI TRÌNH CÁC TIÊU CHÍ KHÔNG CÓ HOẶC THIẾU TÀI LIỆU KIỂM CHỨNG")
    gaps = snapshot.evidence_gaps()
    incomplete = incomplete_evidence(snapshot)
    if not gaps and not incomplete:
        add_paragraph(document, "Các tiêu chí có yêu cầu tài liệu kiểm chứng đều đã có tài liệu kèm theo, "
                             "ghi đủ số, ký hiệu và ngày ban hành.")
        return
    number = 0
    if gaps:
        number += 1
        add_paragraph(document, f"{number}. Thiếu tài liệu kiểm chứng", bold=True, italic=True)
        intro = add_paragraph(document, f"Có {len(gaps)} tiêu chí thành phần chưa có tài liệu kiểm chứng kèm theo; "
                                     "cơ quan giải trình như sau:")
        intro.paragraph_format.keep_with_next = True
        _gaps_table(document, snapshot, gaps)
    if incomplete:
        number += 1
        add_paragraph(document, f"{number}. Tài liệu kiểm chứng chưa ghi đủ số, ký hiệu, ngày ban hành", bold=True,
                      italic=True, space_before=Pt(12) if gaps else None)
        add_paragraph(document, f"Có {len(incomplete)} tài liệu kiểm chứng chưa ghi đủ số, ký hiệu hoặc ngày ban hành "
                             "(Sở Nội vụ trích dẫn tài liệu theo số và ngày):")
        for evidence, codes in incomplete:
            item = add_paragraph(document)
            add_run(item, f"- {evidence.title or evidence.file_name or 'Tài liệu chưa có tên'}", bold=True)
            add_run(item, f" (tiêu chí {', '.join(codes)}): chưa có {' và '.join(evidence.missing_metadata)}.")


def _gaps_table(document, snapshot: Snapshot, gaps) -> None:
    headers = ["Mã", "Tiêu chí thành phần", "Tự đánh giá", "Tài liệu cần có", "Giải trình"]
    widths = [Mm(14), Mm(55), Mm(17), Mm(42), Mm(37)]  # 165 mm: the text width
    size = Pt(12)  # a long table: one size smaller than the summary table
    table = document.add_table(rows=1 + len(gaps), cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    set_widths(table, widths)
    header_cells(table, headers)
    repeat_header(table.rows[0])
    left = WD_ALIGN_PARAGRAPH.LEFT
    for row, gap in zip(table.rows[1:], gaps):
        keep_row_on_one_page(row)
        code, name, points_cell, expected, explained = row.cells
        points = snapshot.rollup.node(gap.code).self_points
        cell_line(code, gap.code, first=True, size=size)
        cell_line(name, gap.name, first=True, align=left, size=size)
        cell_line(points_cell, format_number(points) if points is not None else "chưa chấm", first=True,
                  align=WD_ALIGN_PARAGRAPH.RIGHT if points is not None else WD_ALIGN_PARAGRAPH.CENTER, size=size)
        cell_line(expected, gap.expected, first=True, align=left, size=size)
        explanation = snapshot.score(gap.code).explanation
        if explanation:
            cell_line(explained, explanation, first=True, align=left, size=size)
        else:
            paragraph = first_paragraph(explained, left)
            _to_be_written(paragraph).font.size = size


def _section_difficulties(document) -> None:
    _heading(document, "III. KHÓ KHĂN, VƯỚNG MẮC VÀ KIẾN NGHỊ, ĐỀ XUẤT")
    for heading in ("1. Khó khăn, vướng mắc", "2. Kiến nghị, đề xuất"):
        add_paragraph(document, heading, bold=True, italic=True)
        _to_be_written(add_paragraph(document))


def _closing(document, snapshot: Snapshot) -> None:
    add_paragraph(document, f"Trên đây là báo cáo kết quả tự đánh giá, chấm điểm Chỉ số CCHC năm {snapshot.year} "
                         f"của {snapshot.department.name}./.", space_after=Pt(12))
    closing(document, recipients=RECIPIENTS, signer_lines=[SIGNER_TITLE])
