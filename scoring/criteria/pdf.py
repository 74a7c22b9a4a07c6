"""Criteria tables in a PDF with a text layer: the ruled tables of its pages as rows for scoring.criteria.table.

A province often publishes its annex as a PDF printed from Word. Its tables are found by their ruling
lines (pdfplumber); each page's part of a table is a table of its own here, and scoring.criteria.table
reads them as one (the header Word repeats on every page is skipped, a part without one continues the
table above). What a PDF loses is put back where it can be:

- a cell's text wraps at the cell's edge: a line is joined to the next one with a space when the next
  line's first word would not have fitted on it, and kept as a line of its own otherwise (a rule line
  written after a line break, "- Kịp thời: 1");
- a merged cell is one cell spanning columns or rows: its text is in its first column and row;
- the text above a table (the annex's title) is what stands before it;
- every row is named for messages as "Trang p, dòng r" ("Trang p, bảng k, dòng r" when a page holds more
  than one table).

A scanned PDF (pages that are only pictures) has no text to read: it is refused with a sentence saying
so. Before anything is parsed the file is checked (scoring.import_limits.check_pdf: that it is a PDF, its
size and its number of pages). Known limit: a table row that Word lets break across two pages is read
as two rows; tables without ruling lines are not found.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from scoring.criteria.model import CriteriaSet
from scoring.criteria.table import SourceRow, SourceTable, cell_text, read_criteria_tables, source_bytes
from scoring.errors import InputError
from scoring.import_limits import MAX_CRITERIA_PDF_PAGES, MAX_TABLE_COLUMNS, check_pdf

_BULLET_START = ("-", "+", "•", "*", "–", "—")


def import_criteria_pdf(source: bytes | str | Path | IO[bytes], source_name: str | None = None) -> CriteriaSet:
    """Read a criteria set from the ruled tables of a PDF with a text layer. Raises InputError."""
    source_name, data = source_bytes(source, source_name, "bảng tiêu chí.pdf")
    return read_criteria_tables(pdf_tables(source_name, data), source_name)


def pdf_tables(source_name: str, data: bytes) -> list[SourceTable]:
    """The ruled tables of every page, in reading order, each with the text lines above it."""
    check_pdf(source_name, data, MAX_CRITERIA_PDF_PAGES)
    import pdfplumber  # only a PDF upload pays for loading pdfplumber
    from pdfminer.pdfdocument import PDFPasswordIncorrect

    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except PDFPasswordIncorrect:
        raise InputError(f"Tệp «{source_name}»: tệp PDF có mật khẩu, không đọc được.") from None
    except Exception as problem:  # pdfminer raises many types for damaged files
        raise InputError(f"Tệp «{source_name}»: không phải tệp PDF đọc được ({type(problem).__name__}).") from None
    with pdf:
        tables: list[SourceTable] = []
        lines: list[str] = []
        any_text = False
        for number, page in enumerate(pdf.pages, start=1):
            try:
                words = page.extract_words(extra_attrs=["size"])
                found = page.find_tables()
            except Exception as problem:  # a damaged page: say which
                raise InputError(
                    f"Tệp «{source_name}»: trang {number} bị hỏng, không đọc được ({type(problem).__name__})."
                ) from None
            any_text = any_text or bool(words)
            found.sort(key=lambda table: table.bbox[1])
            for k, table in enumerate(found, start=1):
                lines += _lines_outside(words, found, above=table.bbox[1])
                words = [w for w in words if _middle(w) >= table.bbox[1]]
                where = f"Trang {number}, bảng {k}" if len(found) > 1 else f"Trang {number}"
                tables.append(SourceTable(_table_rows(table, words, where), lines))
                lines = []
            lines += _lines_outside(words, found, above=float("inf"))
    if not any_text:
        raise InputError(
            f"Tệp «{source_name}» là bản quét (chỉ có hình ảnh), không có chữ để đọc. Văn phòng hãy dùng tệp Word "
            "(.docx) hoặc Excel (.xlsx) của bộ tiêu chí — xin cơ quan ban hành nếu chưa có."
        )
    if not tables:
        raise InputError(
            f"Tệp «{source_name}»: không tìm thấy bảng có đường kẻ nào trong tệp PDF. Văn phòng hãy dùng tệp Word "
            "(.docx) hoặc Excel (.xlsx) của bộ tiêu chí."
        )
    return tables


@dataclass
class _Line:
    words: list[dict[str, Any]]

    @property
    def x0(self) -> float:
        return self.words[0]["x0"]

    @property
    def x1(self) -> float:
        return self.words[-1]["x1"]

    @property
    def text(self) -> str:
        return " ".join(word["text"] for word in self.words)


def _group_lines(words: list[dict[str, Any]]) -> list[_Line]:
    """Words in reading order grouped into lines: a word starts a new line when it sits below the last one."""
    lines: list[_Line] = []
    for word in sorted(words, key=lambda w: (round(w["top"]), w["x0"])):
        last = lines[-1].words[-1] if lines else None
        if last is not None and abs(word["top"] - last["top"]) <= (last["bottom"] - last["top"]) / 2:
            lines[-1].words.append(word)
        else:
            lines.append(_Line([word]))
    for line in lines:
        line.words.sort(key=lambda w: w["x0"])
    return lines


def _middle(word: dict[str, Any]) -> float:
    return (word["top"] + word["bottom"]) / 2


def _inside(word: dict[str, Any], bbox: tuple[float, float, float, float]) -> bool:
    """Whether the word's middle is in the box (its glyphs' box may stick out past a ruling line)."""
    x = (word["x0"] + word["x1"]) / 2
    return bbox[0] <= x <= bbox[2] and bbox[1] <= _middle(word) <= bbox[3]


def _lines_outside(words: list[dict[str, Any]], tables, above: float) -> list[str]:
    """The text lines above `above` that are in no table (a title, a heading between two tables)."""
    free = [w for w in words if _middle(w) < above and not any(_inside(w, t.bbox) for t in tables)]
    return [cell_text(line.text) for line in _group_lines(free)]


def _cell_text(words: list[dict[str, Any]], bbox: tuple[float, float, float, float]) -> str:
    """A cell's text with the wrapping undone: a break is kept only where the next word would have fitted."""
    lines = _group_lines(words)
    if not lines:
        return ""
    padding = max(min(line.x0 for line in lines) - bbox[0], 1.0)
    right = bbox[2] - padding
    text = lines[0].text
    for previous, line in zip(lines, lines[1:]):
        first = line.words[0]
        space = first.get("size", 10) * 0.3
        would_fit = previous.x1 + space + (first["x1"] - first["x0"]) <= right
        text += "\n" if would_fit or first["text"].startswith(_BULLET_START) else " "
        text += line.text
    return cell_text(text)


def _table_rows(table, words: list[dict[str, Any]], where: str) -> list[SourceRow]:
    rows = []
    in_table = [w for w in words if _inside(w, table.bbox)]
    for r, table_row in enumerate(table.rows, start=1):
        cells = []
        for bbox in table_row.cells[:MAX_TABLE_COLUMNS]:
            if bbox is None:  # covered by a merged cell: its text is in the cell it starts at
                cells.append("")
                continue
            cells.append(_cell_text([w for w in in_table if _inside(w, bbox)], bbox))
        rows.append(SourceRow(tuple(cells), f"{where}, dòng {r}"))
    return rows
