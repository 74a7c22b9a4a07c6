"""The province's ranking as a Word document, in the Decree 30/2020/NĐ-CP layout (scoring.exports.decree30): the
letterhead of the issuing body, "BÁO CÁO — KẾT QUẢ XÁC ĐỊNH CHỈ SỐ CẢI CÁCH HÀNH CHÍNH NĂM …", one table per group
(rank, department, published index, band, the year before's index and rank, places gained or lost), departments
that have not published listed in their group as not ranked, the place-and-date line, "Nơi nhận" and the signer;
then, in a landscape appendix, each department's points per area with its rank in the area.

Who issues it: the province's ranking is issued by the Department of Home Affairs (Sở Nội vụ, the default) or the
provincial People's Committee (UBND tỉnh): `issuer_for` builds the letterhead from that choice (the page's option,
the command line's --issuer) and from the departments' own letterhead settings (Cấu hình → Cơ quan và đơn vị): the
governing body they share ("UBND TỈNH QUẢNG NINH") is the line above Sở Nội vụ, or the People's Committee's own
name; the place they share heads the date line. Where the departments set none, or set different ones, the line is
left to be written by hand ("……………"), never invented; --governing-body and --place set them outright.

The figures are scoring.province.ranking's (published indexes only), so the document, the Excel table and the page agree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO

from docx import Document
from docx.enum.table import WD_ALIGN_VERTICAL, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Mm, Pt

from scoring.exports.common import TO_FILL_IN
from scoring.exports.decree30 import (
    LANDSCAPE_TEXT_WIDTH,
    add_paragraph,
    cell_line,
    closing,
    header_cells,
    keep_row_on_one_page,
    landscape_section,
    letterhead,
    page_setup,
    repeat_header,
    set_widths,
)
from scoring.province.ranking import GroupRanking, Ranked
from scoring.textnorm import fold, format_number, local_today, nfc, roman

HOME_AFFAIRS, PEOPLES_COMMITTEE = "so-noi-vu", "ubnd-tinh"
ISSUERS = {HOME_AFFAIRS: "Sở Nội vụ", PEOPLES_COMMITTEE: "Ủy ban nhân dân tỉnh"}  # choice → how the page names it
NOT_PUBLISHED = "Chưa công bố"  # the band column of a department not ranked
TABLE_TEXT = Pt(12)
AREA_TEXT = Pt(11)


@dataclass(frozen=True)
class Issuer:
    """The body issuing the ranking, as its letterhead, number, date line and signature name it."""

    governing_line: str  # above the body's name ("UBND TỈNH QUẢNG NINH"); "" for a body with none above it
    name: str  # "Sở Nội vụ", "Ủy ban nhân dân tỉnh Quảng Ninh", as a sentence names it
    heading: str  # the name as the letterhead sets it, on its lines ("ỦY BAN NHÂN DÂN\nTỈNH QUẢNG NINH")
    sign: str  # in the document's number: "SNV" in "Số: …/BC-SNV"
    place: str  # the date line's place ("Quảng Ninh"), TO_FILL_IN where unknown
    signer_lines: tuple[str, ...]
    recipients: tuple[str, ...]


def issuer_for(departments: Iterable, kind: str = HOME_AFFAIRS, *, governing_body: str | None = None,
               place: str | None = None) -> Issuer:
    """The issuing body of `kind` (HOME_AFFAIRS or PEOPLES_COMMITTEE), its governing body and place taken from
    `governing_body`/`place` when given, else from what the departments (repository.DepartmentView) share."""
    if kind not in ISSUERS:
        raise ValueError(kind)
    departments = list(departments)
    above = nfc(governing_body) if governing_body is not None else _shared(d.governing_body for d in departments)
    where = nfc(place) if place is not None else _shared(d.place for d in departments)
    where = where or TO_FILL_IN
    if kind == HOME_AFFAIRS:
        return Issuer(above or TO_FILL_IN, "Sở Nội vụ", "SỞ NỘI VỤ", "SNV", where, ("GIÁM ĐỐC",),
                      ("UBND tỉnh (b/c);", "Các sở, ban, ngành;", "Lưu: VT, CCHC."))
    locality = _locality(above)
    return Issuer("", f"Ủy ban nhân dân {locality}", f"ỦY BAN NHÂN DÂN\n{locality.upper()}", "UBND", where,
                  ("TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"),
                  ("Bộ Nội vụ (b/c);", "Thường trực Tỉnh ủy, HĐND tỉnh (b/c);", "Các sở, ban, ngành;", "Lưu: VT."))


def _shared(values: Iterable[str]) -> str:
    """The one value the departments that set it agree on; "" when none set it or they differ."""
    found = Counter(nfc(v) for v in values if nfc(v))
    return next(iter(found)) if len(found) == 1 else ""


def _locality(governing_body: str) -> str:
    """The province the People's Committee is of, from the departments' governing body line: "UBND TỈNH QUẢNG NINH"
    → "TỈNH QUẢNG NINH"; a line naming another body says nothing of it, and it is left to write ("tỉnh ……………")."""
    folded = fold(governing_body)
    for prefix in ("ubnd ", "uy ban nhan dan "):
        if folded.startswith(prefix) and governing_body[len(prefix):].strip():
            return governing_body[len(prefix):].strip()
    return f"tỉnh {TO_FILL_IN}"


def write_ranking_report(tables: Sequence[GroupRanking], year: int, out: str | BinaryIO, *, issuer: Issuer,
                         today: date | None = None) -> None:
    """Write the ranking .docx to a path or binary file."""
    day = today or local_today()
    document = Document()
    page_setup(document)
    letterhead(document, governing_line=issuer.governing_line, issuer=issuer.heading,
               number=f"Số:        /BC-{issuer.sign}",
               date_line=f"{issuer.place}, ngày      tháng      năm {_issue_year(year, day)}")
    add_paragraph(document, "BÁO CÁO", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_before=Pt(18),
                  space_after=Pt(0))
    add_paragraph(document, f"KẾT QUẢ XÁC ĐỊNH CHỈ SỐ CẢI CÁCH HÀNH CHÍNH NĂM {year}", bold=True,
                  align=WD_ALIGN_PARAGRAPH.CENTER, space_after=Pt(0))
    add_paragraph(document, "của các cơ quan, xếp hạng theo nhóm", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER,
                  space_after=Pt(12))
    _introduction(document, tables, year)
    for number, table in enumerate(tables, start=1):
        _group(document, number, table, year)
    ending = add_paragraph(document, f"Trên đây là kết quả xác định Chỉ số cải cách hành chính năm {year} của các cơ "
                                     "quan./.", space_before=Pt(6), space_after=Pt(12))
    ending.paragraph_format.keep_with_next = True
    closing(document, recipients=issuer.recipients, signer_lines=issuer.signer_lines, on_one_page=True)
    if any(table.areas for table in tables):
        _areas_appendix(document, tables, year, issuer, day)
    document.core_properties.title = f"Kết quả xác định Chỉ số cải cách hành chính năm {year}"
    document.core_properties.author = issuer.name
    document.save(out)


def _issue_year(year: int, day: date) -> int:
    """A year's ranking is issued once its appraisal is over, in the year after at the earliest."""
    return max(year + 1, day.year)


def _introduction(document, tables: Sequence[GroupRanking], year: int) -> None:
    rows = [row for table in tables for row in table.rows]
    if not rows:
        add_paragraph(document, f"Năm {year} chưa có cơ quan nào để xếp hạng.")
        return
    ranked = sum(1 for row in rows if row.rank is not None)
    add_paragraph(document, f"Năm {year} có {ranked}/{len(rows)} cơ quan đã công bố Chỉ số cải cách hành chính (CCHC). "
                            "Các cơ quan được xếp hạng trong nhóm của mình theo chỉ số đã công bố (điểm sau thẩm định, "
                            "gồm điểm thưởng, điểm trừ); cơ quan bằng chỉ số cùng hạng, hạng kế tiếp bỏ qua số hạng "
                            "đã dùng chung; cơ quan chưa công bố chỉ số không xếp hạng. Kết quả như sau:")


def index_text(row: Ranked) -> str:
    """The published index with its two decimals, Vietnamese style ("41,20")."""
    return format_number(row.percent, 2, fixed=True) if row.percent is not None else "—"


def change_text(row: Ranked) -> str:
    """Places gained or lost since the year before: "Tăng 2", "Giảm 1", "Giữ nguyên"; "—" where a year is not ranked."""
    if row.change is None:
        return "—"
    if row.change > 0:
        return f"Tăng {row.change}"
    if row.change < 0:
        return f"Giảm {-row.change}"
    return "Giữ nguyên"


def _group(document, number: int, table: GroupRanking, year: int) -> None:
    heading = add_paragraph(document, f"{roman(number)}. NHÓM: {table.name.upper()}", bold=True, space_before=Pt(6))
    heading.paragraph_format.keep_with_next = True
    headers = ["Thứ hạng", "Cơ quan", "Chỉ số (%)", "Xếp loại", f"Chỉ số năm {year - 1} (%)", f"Hạng năm {year - 1}",
               "Tăng/giảm hạng"]
    widths = [Mm(16), Mm(46), Mm(19), Mm(28), Mm(20), Mm(16), Mm(20)]  # 165 mm: the text width
    grid = document.add_table(rows=1 + len(table.rows), cols=len(headers))
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    set_widths(grid, widths)
    header_cells(grid, headers, size=TABLE_TEXT)
    repeat_header(grid.rows[0])
    right, left, centre = WD_ALIGN_PARAGRAPH.RIGHT, WD_ALIGN_PARAGRAPH.LEFT, WD_ALIGN_PARAGRAPH.CENTER
    for line, row in zip(grid.rows[1:], table.rows):
        keep_row_on_one_page(line)
        cells = line.cells
        ranked = row.rank is not None
        cell_line(cells[0], str(row.rank) if ranked else "—", first=True, size=TABLE_TEXT)
        cell_line(cells[1], row.name, first=True, align=left, size=TABLE_TEXT)
        cell_line(cells[2], index_text(row), first=True, align=right if ranked else centre, size=TABLE_TEXT)
        cell_line(cells[3], _band_text(row), first=True, size=TABLE_TEXT, italic=not ranked)
        previous = format_number(row.previous_percent, 2, fixed=True) if row.previous_percent is not None else "—"
        cell_line(cells[4], previous, first=True, align=right if row.previous_percent is not None else centre,
                  size=TABLE_TEXT)
        cell_line(cells[5], str(row.previous_rank) if row.previous_rank is not None else "—", first=True,
                  size=TABLE_TEXT)
        cell_line(cells[6], change_text(row), first=True, size=TABLE_TEXT)
    _middle(grid)
    unpublished = [row.name for row in table.rows if row.rank is None]
    if unpublished:
        add_paragraph(document, f"Chưa công bố chỉ số năm {year}, không xếp hạng ({len(unpublished)} cơ quan): "
                                + "; ".join(unpublished) + ".", italic=True, size=Pt(13), space_before=Pt(3))


def _middle(grid) -> None:
    """Every cell's text centred on its row's height (the header's three lines beside one-line cells)."""
    for line in grid.rows:
        for cell in line.cells:
            cell.vertical_alignment = WD_ALIGN_VERTICAL.CENTER


def _band_text(row: Ranked) -> str:
    if row.rank is None:
        return NOT_PUBLISHED
    return row.band or "—"


def _areas_appendix(document, tables: Sequence[GroupRanking], year: int, issuer: Issuer, day: date) -> None:
    """Each group's published points per area and the department's rank in that area, on landscape pages."""
    landscape_section(document)
    add_paragraph(document, "PHỤ LỤC", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=Pt(0))
    add_paragraph(document, f"ĐIỂM THEO LĨNH VỰC CỦA CÁC CƠ QUAN NĂM {year}", bold=True,
                  align=WD_ALIGN_PARAGRAPH.CENTER, space_after=Pt(0))
    add_paragraph(document, f"(Kèm theo Báo cáo số        /BC-{issuer.sign} ngày      tháng      năm "
                            f"{_issue_year(year, day)} của {issuer.name})", italic=True,
                  align=WD_ALIGN_PARAGRAPH.CENTER, space_after=Pt(12))
    for number, table in enumerate(tables, start=1):
        if not table.areas:
            continue
        heading = add_paragraph(document, f"{roman(number)}. NHÓM: {table.name.upper()}", bold=True, indent=False)
        heading.paragraph_format.keep_with_next = True
        headers = ["Thứ hạng", "Cơ quan", "Chỉ số (%)"] + [f"{code}. {name}" for code, name in table.areas]
        fixed = [Mm(15), Mm(52), Mm(18)]
        each = int((LANDSCAPE_TEXT_WIDTH - sum(fixed)) / len(table.areas))
        grid = document.add_table(rows=1 + len(table.rows), cols=len(headers))
        grid.style = "Table Grid"
        grid.alignment = WD_TABLE_ALIGNMENT.CENTER
        set_widths(grid, fixed + [each] * len(table.areas))
        header_cells(grid, headers, size=AREA_TEXT)
        repeat_header(grid.rows[0])
        ranks = {code: table.area_ranks(code) for code, _ in table.areas}
        for line, row in zip(grid.rows[1:], table.rows):
            keep_row_on_one_page(line)
            cells = line.cells
            cell_line(cells[0], str(row.rank) if row.rank is not None else "—", first=True, size=AREA_TEXT)
            cell_line(cells[1], row.name, first=True, align=WD_ALIGN_PARAGRAPH.LEFT, size=AREA_TEXT)
            cell_line(cells[2], index_text(row), first=True, size=AREA_TEXT)
            for cell, (code, _) in zip(cells[3:], table.areas):
                points = row.areas.get(code)
                if points is None:
                    cell_line(cell, "—", first=True, size=AREA_TEXT)
                    continue
                cell_line(cell, format_number(points), first=True, size=AREA_TEXT)
                cell_line(cell, f"(hạng {ranks[code][row.department_id]})", size=Pt(10), italic=True)
        _middle(grid)
        add_paragraph(document, "", space_after=Pt(6))

