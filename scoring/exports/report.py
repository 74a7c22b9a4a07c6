"""The self-assessment report (báo cáo kết quả tự đánh giá, chấm điểm) as a Word document.

Laid out as Decree 30/2020/NĐ-CP lays out an administrative document: A4, Times New Roman 14, margins
20/20/30/15 mm (top, bottom, left, right); a letterhead table with the issuing body on the left (the
governing body, the department in bold capitals, a short rule, "Số: …/BC-…") and the national motto on the
right; the place and date line in italics (governing body and place: common.governing_body, place_name — the
department's settings, "……………" where nobody has set them); the document type
and summary in bold, centred; page numbers from page 2; the "Nơi nhận" block and the signer's title.

The body holds what the Home Affairs guidance asks of the report: I. the score summary per area with the
index (and the plan's completion, with the two charts), II. the explanations for criteria without
evidence, grouped by what is missing, III. difficulties and recommendations. Numbers come from the snapshot; where only the
department can write the text, the document says so with a highlighted "(Cơ quan bổ sung nội dung)".
"""

from __future__ import annotations

import io
import unicodedata
from typing import BinaryIO

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt
from docx.table import Table, _Cell
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
from scoring.textnorm import format_number, format_percent, format_points, roman

FONT_NAME = "Times New Roman"
BODY_SIZE = Pt(14)
TABLE_SIZE = Pt(13)
TEXT_WIDTH = Mm(210 - 30 - 15)
TO_BE_WRITTEN = "(Cơ quan bổ sung nội dung)"
SIGNER_TITLE = "GIÁM ĐỐC"
RECIPIENTS = ("Sở Nội vụ (b/c);", "Lãnh đạo Sở;", "Lưu: VT, VP.")


def write_report(snapshot: Snapshot, out: str | BinaryIO, charts: bool = True) -> None:
    """Write the report .docx to a path or binary file. `charts` False leaves the two charts out (no browser needed)."""
    require_criteria(snapshot)
    images = chart_images(snapshot) if charts else []
    document = Document()
    _page_setup(document)
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


# --------------------------------------------------------------------------- page and text helpers


def _page_setup(document) -> None:
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    section.header_distance = Mm(10)
    normal = document.styles["Normal"]
    normal.font.name = FONT_NAME
    normal.font.size = BODY_SIZE
    fonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attribute), FONT_NAME)  # Vietnamese letters must not fall back to another font
    normal.paragraph_format.space_after = Pt(6)
    normal.paragraph_format.line_spacing = 1.15
    # Page numbers centred at the top from page 2 on (Decree 30/2020, Appendix I).
    section.different_first_page_header_footer = True
    number = section.header.paragraphs[0]
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _field(number, "PAGE", size=Pt(13))


def _field(paragraph: Paragraph, instruction: str, size) -> None:
    """A Word field (PAGE): begin, instruction, separator, a placeholder result Word replaces, end."""
    run = paragraph.add_run()
    run.font.size = size

    def char(kind: str):
        element = OxmlElement("w:fldChar")
        element.set(qn("w:fldCharType"), kind)
        return element

    code = OxmlElement("w:instrText")
    code.set(qn("xml:space"), "preserve")
    code.text = f" {instruction} "
    placeholder = OxmlElement("w:t")
    placeholder.text = "2"
    for element in (char("begin"), code, char("separate"), placeholder, char("end")):
        run._r.append(element)


def _paragraph(container, text: str = "", *, bold=False, italic=False, underline=False, size=None,
               align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent=True, space_after=None, space_before=None) -> Paragraph:
    paragraph = container.add_paragraph()
    paragraph.alignment = align
    if indent and align == WD_ALIGN_PARAGRAPH.JUSTIFY:
        paragraph.paragraph_format.first_line_indent = Cm(1)
    if space_after is not None:
        paragraph.paragraph_format.space_after = space_after
    if space_before is not None:
        paragraph.paragraph_format.space_before = space_before
    if text:
        _run(paragraph, text, bold=bold, italic=italic, underline=underline, size=size)
    return paragraph


def _run(paragraph: Paragraph, text: str, *, bold=False, italic=False, underline=False, size=None):
    run = paragraph.add_run(unicodedata.normalize("NFC", text))  # not nfc(): blanks to fill in must stay wide
    # only what is on: an explicit "off" is one more XML element per run and changes nothing under Normal
    if bold:
        run.bold = True
    if italic:
        run.italic = True
    if underline:
        run.underline = True
    if size is not None:
        run.font.size = size
    return run


def _to_be_written(paragraph: Paragraph):
    """The visible prompt where only the department can write: italic and highlighted, so it cannot slip through."""
    run = _run(paragraph, TO_BE_WRITTEN, italic=True)
    run.font.highlight_color = WD_COLOR_INDEX.YELLOW
    return run


def _short_rule(container, line_width: Mm, container_width: Mm, space_after: Pt | None = None) -> None:
    """The short horizontal line under the issuing body and the motto: a bottom border between indents."""
    paragraph = container.add_paragraph()
    side = int((container_width - line_width) / 2)
    paragraph.paragraph_format.left_indent = side
    paragraph.paragraph_format.right_indent = side
    paragraph.paragraph_format.space_after = space_after if space_after is not None else Pt(6)
    paragraph.paragraph_format.space_before = Pt(0)
    paragraph.paragraph_format.line_spacing = Pt(2)
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)


def _no_borders(table: Table) -> None:
    properties = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    properties.append(borders)


def _set_widths(table: Table, widths: list) -> None:
    """Column widths in both places Word and LibreOffice read them (the grid and every cell)."""
    table.autofit = False
    for column, width in zip(table._tbl.tblGrid.gridCol_lst, widths):
        column.w = width
    for row in table.rows:
        for cell, width in zip(row.cells, widths):
            cell.width = width


def _first_paragraph(cell: _Cell, align=WD_ALIGN_PARAGRAPH.CENTER) -> Paragraph:
    paragraph = cell.paragraphs[0]
    paragraph.alignment = align
    paragraph.paragraph_format.space_after = Pt(0)
    paragraph.paragraph_format.line_spacing = 1.0
    return paragraph


def _cell_line(cell: _Cell, text: str, *, bold=False, italic=False, underline=False, size=TABLE_SIZE,
               align=WD_ALIGN_PARAGRAPH.CENTER, first=False) -> Paragraph:
    paragraph = _first_paragraph(cell, align) if first else cell.add_paragraph()
    paragraph.alignment = align
    paragraph.paragraph_format.space_after = Pt(0)
    paragraph.paragraph_format.line_spacing = 1.0
    _run(paragraph, text, bold=bold, italic=italic, underline=underline, size=size)
    return paragraph


# --------------------------------------------------------------------------- letterhead and title


def _letterhead(document, snapshot: Snapshot) -> None:
    left_width, right_width = Mm(68), TEXT_WIDTH - Mm(68)
    table = document.add_table(rows=1, cols=2)
    _no_borders(table)
    _set_widths(table, [left_width, right_width])
    left, right = table.rows[0].cells

    _cell_line(left, governing_body(snapshot).upper(), first=True)
    _cell_line(left, snapshot.department.name.upper(), bold=True)
    _short_rule(left, Mm(25), left_width)
    sign = department_abbreviation(snapshot.department.name, snapshot.evidence)
    _cell_line(left, f"Số:        /BC-{sign}" if sign else "Số:        /BC")

    _cell_line(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold=True, size=Pt(12), first=True)
    _cell_line(right, "Độc lập - Tự do - Hạnh phúc", bold=True, underline=True)
    _cell_line(right, "", size=Pt(8))
    _cell_line(right, date_line(snapshot), italic=True, size=BODY_SIZE)


def _title(document, snapshot: Snapshot) -> None:
    _paragraph(document, "BÁO CÁO", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_before=Pt(18),
               space_after=Pt(0))
    _paragraph(document, f"Kết quả tự đánh giá, chấm điểm Chỉ số CCHC năm {snapshot.year}", bold=True,
               align=WD_ALIGN_PARAGRAPH.CENTER, space_after=Pt(0))
    _short_rule(document, Mm(40), TEXT_WIDTH, space_after=Pt(12))

    criteria_set = snapshot.criteria_set
    intro = _paragraph(document)
    _run(intro, f"Căn cứ {criteria_set.name}, {snapshot.department.name} đã tự đánh giá, chấm điểm các tiêu chí "
                f"xác định Chỉ số cải cách hành chính (CCHC) năm {snapshot.year}, kết quả như sau:")
    if criteria_set.template:
        note = _paragraph(document, italic=True)
        _run(note, "Lưu ý: điểm được chấm theo Bộ tiêu chí mẫu của phần mềm, chưa phải bộ tiêu chí do UBND tỉnh "
                   "ban hành; khi tỉnh ban hành bộ tiêu chí của năm, cần chấm lại theo bộ tiêu chí đó.", italic=True)


# --------------------------------------------------------------------------- body


def _heading(document, text: str) -> None:
    _paragraph(document, text, bold=True, space_before=Pt(6))


def _section_results(document, snapshot: Snapshot, images: list[tuple[bytes, str]]) -> None:
    rollup = snapshot.rollup
    total = rollup.total
    _heading(document, "I. KẾT QUẢ TỰ ĐÁNH GIÁ, CHẤM ĐIỂM")
    _paragraph(document, "1. Tổng hợp điểm theo lĩnh vực", bold=True, italic=True)
    summary = _paragraph(document)
    _run(summary, f"Tổng điểm tự đánh giá: {format_number(total.self_points or 0)}/"
                  f"{format_points(total.applicable_max)}; Chỉ số CCHC tự đánh giá: ")
    _run(summary, rollup.self_index.text(), bold=True)
    _run(summary, ".")
    appraisal = snapshot.appraisal()
    if appraisal.complete and rollup.index_appraised is not None:
        appraised = _paragraph(document)
        _run(appraised, f"Điểm thẩm định: {format_number(appraisal.points)}/{format_points(total.applicable_max)}"
                        f"; Chỉ số sau thẩm định: {format_percent(rollup.index_appraised, 2)}.")
    elif appraisal.in_progress:
        appraised = _paragraph(document)
        _run(appraised, f"Điểm thẩm định: {appraisal.text()} tiêu chí thành phần; điểm và chỉ số sau thẩm định "
                        "có khi mọi tiêu chí đã được thẩm định.")
    sources = snapshot.appraisal_sources()
    if sources:
        _run(_paragraph(document), "Kết quả thẩm định: " + "; ".join(sources) + ".")
    published = snapshot.final_index(use_appraised=rollup.index_appraised is not None)
    if published is not None and published.percent is not None:
        line = _paragraph(document)
        _run(line, f"Chỉ số tính theo cách tỉnh công bố (điểm {published.basis}, gồm điểm thưởng, điểm trừ): ")
        _run(line, format_percent(published.percent, 2), bold=True)
        _run(line, f"; xếp loại {published.band.label}." if published.band else ".")
    scored = _paragraph(document)
    text = f"Đã chấm {total.scored_leaves}/{total.applicable_leaves} tiêu chí thành phần áp dụng"
    unscored = [n.code for n in rollup.nodes.values() if n.is_leaf and not n.not_applicable and n.self_points is None]
    text += f"; chưa chấm: {', '.join(unscored)}." if unscored else "."
    not_applicable = [n.code for n in rollup.nodes.values() if n.is_leaf and n.not_applicable]
    if not_applicable:
        text += (f" Không đánh giá (không tính điểm và điểm tối đa): {', '.join(not_applicable)}.")
    _run(scored, text)
    _score_table(document, snapshot)

    _paragraph(document, f"2. Kết quả thực hiện Kế hoạch CCHC năm {snapshot.year}", bold=True, italic=True,
               space_before=Pt(12))
    plan = _paragraph(document)
    if snapshot.activities:
        rows = snapshot.completion_by_area()
        applicable = snapshot.activities_applicable
        in_progress = sum(r["dang_thuc_hien"] for r in rows)
        overdue = snapshot.overdue()
        share = format_percent(snapshot.plan_completion * 100) if snapshot.plan_completion is not None else "—"
        _run(plan, f"Kế hoạch có {len(snapshot.activities)} hoạt động, trong đó {applicable} hoạt động phải thực hiện; "
                   f"đã hoàn thành {snapshot.activities_done}/{applicable} hoạt động ({share}), "
                   f"đang thực hiện {in_progress} hoạt động")
        _run(plan, f"; quá hạn chưa hoàn thành: {', '.join(s.id for s in overdue)}." if overdue else ".")
    else:
        _run(plan, f"Chưa nhập Kế hoạch CCHC năm {snapshot.year} vào phần mềm.")

    for number, (picture, caption) in enumerate(images, start=1):
        holder = _paragraph(document, align=WD_ALIGN_PARAGRAPH.CENTER, space_before=Pt(6), space_after=Pt(0))
        holder.paragraph_format.keep_with_next = True
        holder.add_run().add_picture(io.BytesIO(picture), width=Mm(160))
        _paragraph(document, f"Hình {number}. {caption}", italic=True, size=Pt(12), align=WD_ALIGN_PARAGRAPH.CENTER)


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
    _set_widths(table, widths)
    _header_cells(table, headers)
    _repeat_header(table.rows[0])
    for row, (cells, bold) in zip(table.rows[1:], rows):
        row_cells = row.cells
        for column, text in enumerate(cells):
            align = WD_ALIGN_PARAGRAPH.LEFT if column == 1 else (
                WD_ALIGN_PARAGRAPH.CENTER if column == 0 else WD_ALIGN_PARAGRAPH.RIGHT)
            if bold and column == 1:
                align = WD_ALIGN_PARAGRAPH.CENTER
            _cell_line(row_cells[column], text, bold=bold, first=True, align=align)


def _header_cells(table: Table, headers: list[str]) -> None:
    """The shaded header row, repeated on every page. Cells are reached row by row: python-docx's table.cell()
    rebuilds the whole table's cell list on each call (quadratic: 3 s for a table of 40 criteria)."""
    for cell, header in zip(table.rows[0].cells, headers):
        _cell_line(cell, header, bold=True, first=True)
        _shade(cell, "D9E2F3")


def _shade(cell: _Cell, colour: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), colour)
    cell._tc.get_or_add_tcPr().append(shading)


def _keep_row_on_one_page(row) -> None:
    marker = OxmlElement("w:cantSplit")
    marker.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(marker)


def _repeat_header(row) -> None:
    marker = OxmlElement("w:tblHeader")
    marker.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(marker)


def _section_explanations(document, snapshot: Snapshot) -> None:
    """Grouped by what is missing, each group under one heading: the criteria without any evidence (one table:
    what each asks for, the self score, the explanation), then the documents lacking their number or date."""
    _heading(document, "II. GIẢI TRÌNH CÁC TIÊU CHÍ KHÔNG CÓ HOẶC THIẾU TÀI LIỆU KIỂM CHỨNG")
    gaps = snapshot.evidence_gaps()
    incomplete = incomplete_evidence(snapshot)
    if not gaps and not incomplete:
        _paragraph(document, "Các tiêu chí có yêu cầu tài liệu kiểm chứng đều đã có tài liệu kèm theo, "
                             "ghi đủ số, ký hiệu và ngày ban hành.")
        return
    number = 0
    if gaps:
        number += 1
        _paragraph(document, f"{number}. Thiếu tài liệu kiểm chứng", bold=True, italic=True)
        intro = _paragraph(document, f"Có {len(gaps)} tiêu chí thành phần chưa có tài liệu kiểm chứng kèm theo; "
                                     "cơ quan giải trình như sau:")
        intro.paragraph_format.keep_with_next = True
        _gaps_table(document, snapshot, gaps)
    if incomplete:
        number += 1
        _paragraph(document, f"{number}. Tài liệu kiểm chứng chưa ghi đủ số, ký hiệu, ngày ban hành", bold=True,
                   italic=True, space_before=Pt(12) if gaps else None)
        _paragraph(document, f"Có {len(incomplete)} tài liệu kiểm chứng chưa ghi đủ số, ký hiệu hoặc ngày ban hành "
                             "(Sở Nội vụ trích dẫn tài liệu theo số và ngày):")
        for evidence, codes in incomplete:
            item = _paragraph(document)
            _run(item, f"- {evidence.title or evidence.file_name or 'Tài liệu chưa có tên'}", bold=True)
            _run(item, f" (tiêu chí {', '.join(codes)}): chưa có {' và '.join(evidence.missing_metadata)}.")


def _gaps_table(document, snapshot: Snapshot, gaps) -> None:
    headers = ["Mã", "Tiêu chí thành phần", "Tự đánh giá", "Tài liệu cần có", "Giải trình"]
    widths = [Mm(14), Mm(55), Mm(17), Mm(42), Mm(37)]  # 165 mm: the text width
    size = Pt(12)  # a long table: one size smaller than the summary table
    table = document.add_table(rows=1 + len(gaps), cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _set_widths(table, widths)
    _header_cells(table, headers)
    _repeat_header(table.rows[0])
    left = WD_ALIGN_PARAGRAPH.LEFT
    for row, gap in zip(table.rows[1:], gaps):
        _keep_row_on_one_page(row)
        code, name, points_cell, expected, explained = row.cells
        points = snapshot.rollup.node(gap.code).self_points
        _cell_line(code, gap.code, first=True, size=size)
        _cell_line(name, gap.name, first=True, align=left, size=size)
        _cell_line(points_cell, format_number(points) if points is not None else "chưa chấm", first=True,
                   align=WD_ALIGN_PARAGRAPH.RIGHT if points is not None else WD_ALIGN_PARAGRAPH.CENTER, size=size)
        _cell_line(expected, gap.expected, first=True, align=left, size=size)
        explanation = snapshot.score(gap.code).explanation
        if explanation:
            _cell_line(explained, explanation, first=True, align=left, size=size)
        else:
            paragraph = _first_paragraph(explained, left)
            _to_be_written(paragraph).font.size = size


def _section_difficulties(document) -> None:
    _heading(document, "III. KHÓ KHĂN, VƯỚNG MẮC VÀ KIẾN NGHỊ, ĐỀ XUẤT")
    for heading in ("1. Khó khăn, vướng mắc", "2. Kiến nghị, đề xuất"):
        _paragraph(document, heading, bold=True, italic=True)
        _to_be_written(_paragraph(document))


def _closing(document, snapshot: Snapshot) -> None:
    _paragraph(document, f"Trên đây là báo cáo kết quả tự đánh giá, chấm điểm Chỉ số CCHC năm {snapshot.year} "
                         f"của {snapshot.department.name}./.", space_after=Pt(12))
    table = document.add_table(rows=1, cols=2)
    _no_borders(table)
    _set_widths(table, [Mm(80), TEXT_WIDTH - Mm(80)])
    left, right = table.rows[0].cells
    _cell_line(left, "Nơi nhận:", bold=True, italic=True, size=Pt(12), align=WD_ALIGN_PARAGRAPH.LEFT, first=True)
    for line in RECIPIENTS:
        _cell_line(left, f"- {line}", size=Pt(11), align=WD_ALIGN_PARAGRAPH.LEFT)
    _cell_line(right, SIGNER_TITLE, bold=True, size=BODY_SIZE, first=True)
    for _ in range(5):  # room for the signature and the seal
        _cell_line(right, "", size=BODY_SIZE)
