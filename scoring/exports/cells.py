"""Writing cells so that text a person typed can never run as an Excel formula.

Spreadsheet programs treat a cell whose text starts with "=", "+", "-" or "@" as a formula when it is
typed, and openpyxl turns a Python string starting with "=" into a formula. Every piece of user text
(names, explanations, document numbers, file names…) therefore goes through `put_text`: the cell is
stored as a string *and* carries the "quote prefix" style (Excel's leading apostrophe), so it stays
text even when someone opens the cell and presses Enter. Only this module's `put_formula` writes
formulas, and only with formulas our own code built.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from decimal import Decimal

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Font

EXCEL_MAX_TEXT = 32_767  # characters Excel keeps in one cell
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def clean_text(text: object) -> str:
    """NFC text without the control characters the xlsx format cannot hold, cut to Excel's cell limit."""
    value = unicodedata.normalize("NFC", "" if text is None else str(text))
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return value[:EXCEL_MAX_TEXT]


def put_text(cell: Cell, text: object) -> Cell:
    """Write `text` as plain text, never as a formula (see the module doc)."""
    value = clean_text(text)
    cell.value = value
    cell.data_type = "s"  # openpyxl typed "=…" as a formula on assignment: undo that
    if value.startswith(FORMULA_TRIGGERS):
        cell.quotePrefix = True
    return cell


def put_number(cell: Cell, value: Decimal | int | float | None, number_format: str = "0.00") -> Cell:
    """A number cell (None leaves the cell empty). Decimals are written as floats: quarter points are exact."""
    cell.value = None if value is None else (int(value) if isinstance(value, int) else float(value))
    cell.number_format = number_format
    return cell


def put_date(cell: Cell, value: date | None) -> Cell:
    """A real date cell shown the Vietnamese way (20/12/2026), so it still sorts and filters as a date."""
    cell.value = value
    if value is not None:
        cell.number_format = "DD/MM/YYYY"
    return cell


def put_formula(cell: Cell, formula: str, number_format: str = "0.00") -> Cell:
    """A formula this package built itself (never one containing user text)."""
    if not formula.startswith("="):
        raise ValueError(f"not a formula: {formula!r}")
    cell.value = formula
    cell.number_format = number_format
    return cell


def put_link(cell: Cell, url: str) -> Cell:
    """A clickable web address. The address stays text; only http(s) addresses become links."""
    put_text(cell, url)
    if url.lower().startswith(("http://", "https://")):
        cell.hyperlink = clean_text(url)
        cell.font = Font(color="0563C1", underline="single")
    return cell
