"""What every Word export shares to be laid out as Decree 30/2020/NĐ-CP lays out an administrative document: A4,
Times New Roman 14, margins 20/20/30/15 mm (top, bottom, left, right), page numbers centred at the top from page 2;
the letterhead table (the governing body, the issuing body in bold capitals, a short rule, "Số: …" on the left; the
national motto and the place-and-date line on the right); the "Nơi nhận" block beside the signer's title; and the
text and table helpers both documents write with (scoring.exports.report, scoring.exports.ranking_report).

A landscape section (a wide table) keeps the binding edge: its top edge is the portrait page's left one (Appendix I:
"đầu trang là lề trái"), so its top margin is 30 mm.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

FONT_NAME = "Times New Roman"
BODY_SIZE = Pt(14)
TABLE_SIZE = Pt(13)
TEXT_WIDTH = Mm(210 - 30 - 15)
LANDSCAPE_TEXT_WIDTH = Mm(297 - 20 - 20)
LETTERHEAD_LEFT = Mm(68)  # the issuing body's column: the motto takes the rest of the text width
HEADER_FILL = "D9E2F3"
NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # characters a .docx cannot hold


def page_setup(document) -> None:
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
    field(number, "PAGE", size=Pt(13))


def landscape_section(document):
    """A new landscape A4 section for a wide table (its page numbers follow on from the portrait pages')."""
    section = document.add_section(WD_SECTION.NEW_PAGE)
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    section.top_margin, section.bottom_margin = Mm(30), Mm(15)
    section.left_margin, section.right_margin = Mm(20), Mm(20)
    section.different_first_page_header_footer = False
    return section


def field(paragraph: Paragraph, instruction: str, size) -> None:
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


def add_paragraph(container, text: str = "", *, bold=False, italic=False, underline=False, size=None,
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
        add_run(paragraph, text, bold=bold, italic=italic, underline=underline, size=size)
    return paragraph


def add_run(paragraph: Paragraph, text: str, *, bold=False, italic=False, underline=False, size=None):
    """Text as a run of plain text (never a field or markup: what a person typed stays what they typed)."""
    # not nfc(): blanks to fill in must stay wide
    run = paragraph.add_run(NOT_IN_XML.sub("", unicodedata.normalize("NFC", text)))
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


def short_rule(container, line_width: Mm, container_width: Mm, space_after: Pt | None = None) -> None:
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


def no_borders(table: Table) -> None:
    properties = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    properties.append(borders)


def set_widths(table: Table, widths: list) -> None:
    """Column widths in both places Word and LibreOffice read them (the grid and every cell)."""
    table.autofit = False
    for column, width in zip(table._tbl.tblGrid.gridCol_lst, widths):
        column.w = width
    for row in table.rows:
        for cell, width in zip(row.cells, widths):
            cell.width = width


def first_paragraph(cell: _Cell, align=WD_ALIGN_PARAGRAPH.CENTER) -> Paragraph:
    paragraph = cell.paragraphs[0]
    paragraph.alignment = align
    paragraph.paragraph_format.space_after = Pt(0)
    paragraph.paragraph_format.line_spacing = 1.0
    return paragraph


def cell_line(cell: _Cell, text: str, *, bold=False, italic=False, underline=False, size=TABLE_SIZE,
              align=WD_ALIGN_PARAGRAPH.CENTER, first=False) -> Paragraph:
    paragraph = first_paragraph(cell, align) if first else cell.add_paragraph()
    paragraph.alignment = align
    paragraph.paragraph_format.space_after = Pt(0)
    paragraph.paragraph_format.line_spacing = 1.0
    add_run(paragraph, text, bold=bold, italic=italic, underline=underline, size=size)
    return paragraph


def header_cells(table: Table, headers: list[str], size=TABLE_SIZE) -> None:
    """The shaded header row, repeated on every page. Cells are reached row by row: python-docx's table.cell()
    rebuilds the whole table's cell list on each call (quadratic: 3 s for a table of 40 criteria)."""
    for cell, header in zip(table.rows[0].cells, headers):
        cell_line(cell, header, bold=True, first=True, size=size)
        shade(cell, HEADER_FILL)


def shade(cell: _Cell, colour: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), colour)
    cell._tc.get_or_add_tcPr().append(shading)


def keep_row_on_one_page(row) -> None:
    marker = OxmlElement("w:cantSplit")
    marker.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(marker)


def repeat_header(row) -> None:
    marker = OxmlElement("w:tblHeader")
    marker.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(marker)


def letterhead(document, *, governing_line: str, issuer: str, number: str, date_line: str) -> None:
    """The letterhead table: on the left the governing body (none for a body that has none above it, such as the
    provincial People's Committee), the issuing body in bold capitals, a short rule and the document's number; on
    the right the national motto, its rule-like underline and the place-and-date line in italics."""
    left_width, right_width = LETTERHEAD_LEFT, TEXT_WIDTH - LETTERHEAD_LEFT
    table = document.add_table(rows=1, cols=2)
    no_borders(table)
    set_widths(table, [left_width, right_width])
    left, right = table.rows[0].cells

    if governing_line:
        cell_line(left, governing_line.upper(), first=True)
    cell_line(left, issuer.upper(), bold=True, first=not governing_line)
    short_rule(left, Mm(25), left_width)
    cell_line(left, number)

    cell_line(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold=True, size=Pt(12), first=True)
    cell_line(right, "Độc lập - Tự do - Hạnh phúc", bold=True, underline=True)
    cell_line(right, "", size=Pt(8))
    cell_line(right, date_line, italic=True, size=BODY_SIZE)


def closing(document, *, recipients: Sequence[str], signer_lines: Sequence[str], on_one_page: bool = False) -> None:
    """The "Nơi nhận" block on the left, the signer's title (bold capitals, "TM. …" above it where one signs on
    behalf of a body) on the right with room for the signature and the seal; `on_one_page` keeps the block whole."""
    table = document.add_table(rows=1, cols=2)
    no_borders(table)
    if on_one_page:
        keep_row_on_one_page(table.rows[0])
    set_widths(table, [Mm(80), TEXT_WIDTH - Mm(80)])
    left, right = table.rows[0].cells
    cell_line(left, "Nơi nhận:", bold=True, italic=True, size=Pt(12), align=WD_ALIGN_PARAGRAPH.LEFT, first=True)
    for line in recipients:
        cell_line(left, f"- {line}", size=Pt(11), align=WD_ALIGN_PARAGRAPH.LEFT)
    for number, line in enumerate(signer_lines):
        cell_line(right, line, bold=True, size=BODY_SIZE, first=number == 0)
    for _ in range(5):  # room for the signature and the seal
        cell_line(right, "", size=BODY_SIZE)
