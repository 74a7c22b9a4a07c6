"""Criteria tables in a Word annex (.docx): the document's tables as rows of cell texts for scoring.criteria.table.

A province issues its criteria as an annex to a decision: title paragraphs, then one table (or one table
per part, or a table split at page breaks with its header typed again). This module only turns the
document into `SourceTable`s, in document order:

- a cell's paragraphs are its lines (a line break inside a paragraph too), so rule lines written under the
  name in the same cell stay lines;
- merged cells are resolved from the table's grid: a horizontally merged cell (gridSpan) and a vertically
  merged one (vMerge) keep their text in their first column and row, and spread it over what they cover
  for the header labels; rows that start late or end early (gridBefore/gridAfter) keep their columns;
- paragraphs before a table are the lines that stand before it (the annex's title);
- every row is named for messages as "Bảng t, dòng r": the t-th table of the document, its r-th row.

Before python-docx builds anything, the file is checked: it must really be a Word document, and the zip
checks of scoring.import_limits apply (declared unpacked size, parts, compression ratio, table rows).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import IO

from scoring.criteria.model import CriteriaSet
from scoring.criteria.table import SourceRow, SourceTable, cell_text, read_criteria_tables, source_bytes
from scoring.errors import InputError
from scoring.import_limits import MAX_CRITERIA_ROWS, MAX_TABLE_COLUMNS, check_document_rows, check_package
from scoring.store.uploads import sniff_kind

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def import_criteria_docx(source: bytes | str | Path | IO[bytes], source_name: str | None = None) -> CriteriaSet:
    """Read a criteria set from the tables of a Word document (see scoring.criteria.table). Raises InputError."""
    source_name, data = source_bytes(source, source_name, "bảng tiêu chí.docx")
    return read_criteria_tables(document_tables(source_name, data), source_name)


def document_tables(source_name: str, data: bytes) -> list[SourceTable]:
    """The document's tables in order, each with the paragraphs that stand before it."""
    kind = sniff_kind(data)
    if kind != "docx":
        what = {"pdf": "nội dung thực ra là tệp PDF", "xlsx": "nội dung thực ra là bảng tính Excel (.xlsx)"}.get(
            kind or "", "nội dung không phải tài liệu Word .docx (tệp .doc cũ cần được lưu lại thành .docx)"
        )
        raise InputError(f"Tệp «{source_name}»: không phải tệp Word .docx đọc được: {what}.")
    check_package(source_name, data)  # before python-docx builds anything in memory
    check_document_rows(source_name, data, MAX_CRITERIA_ROWS)
    import docx  # only a Word upload pays for loading python-docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as problem:  # python-docx raises several types for damaged packages
        raise InputError(
            f"Tệp «{source_name}»: không mở được bằng Word (.docx): tệp bị hỏng ({type(problem).__name__})."
        ) from None

    from docx.text.paragraph import Paragraph

    tables: list[SourceTable] = []
    lines: list[str] = []
    for block in document.element.body.iterchildren():
        if block.tag == f"{_W}p":
            text = cell_text(Paragraph(block, document).text)
            if text:
                lines.append(text)
        elif block.tag == f"{_W}tbl":
            tables.append(SourceTable(_table_rows(block, len(tables) + 1, document), lines))
            lines = []
    return tables


def _cell_lines(tc, parent) -> str:
    """A cell's text, one line per paragraph (content controls included), nested tables left out."""
    from docx.text.paragraph import Paragraph

    paragraphs = tc.xpath("./w:p | ./w:sdt/w:sdtContent/w:p")
    return "\n".join(Paragraph(p, parent).text for p in paragraphs)


def _table_rows(tbl, number: int, parent) -> list[SourceRow]:
    """The rows of one table, merged cells resolved on its grid (see the module doc)."""
    # grid[r][c] = (row, col) of the cell that owns that slot: its first row and column
    grid: list[list[tuple[int, int] | None]] = []
    texts: dict[tuple[int, int], str] = {}
    for r, tr in enumerate(tbl.tr_lst):
        slots: list[tuple[int, int] | None] = [None] * min(tr.grid_before, MAX_TABLE_COLUMNS)
        for tc in tr.tc_lst:
            col = len(slots)
            if col >= MAX_TABLE_COLUMNS:
                break
            span = max(1, min(tc.grid_span, MAX_TABLE_COLUMNS - col))
            above = grid[r - 1][col] if r > 0 and col < len(grid[r - 1]) else None
            if tc.vMerge == "continue" and above is not None:
                owner = above
            else:
                owner = (r, col)
                texts[owner] = cell_text(_cell_lines(tc, parent))
            slots.extend([owner] * span)
        grid.append(slots)
    width = max((len(slots) for slots in grid), default=0)
    rows = []
    for r, slots in enumerate(grid):
        slots = slots + [None] * (width - len(slots))
        cells = tuple(texts[owner] if owner == (r, c) else "" for c, owner in enumerate(slots))
        spread = tuple(texts[owner] if owner is not None else "" for owner in slots)
        continued = frozenset(c for c, owner in enumerate(slots) if owner is not None and owner[0] < r)
        rows.append(SourceRow(cells, f"Bảng {number}, dòng {r + 1}", spread, continued))
    return rows
