"""The evidence bundle the appraisers ask for: a .zip with one folder per criterion code holding its files,
and an index workbook "Danh-muc-tai-lieu.xlsx" (code, criterion, document, number, date, file, link).

A document that serves two criteria is copied into both folders (appraisers open one folder per
criterion). Names inside the archive are built here, never taken as paths: folders are the criterion
codes, files keep their cleaned display names (NFC, no folders, no reserved characters) and get
"(2)", "(3)" when two differ only by case. Documents that are only a link are listed in the index with
their address; documents not linked to any criterion go to the folder "Chua-gan-tieu-chi".
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from scoring.assessment.snapshot import Snapshot
from scoring.exports.cells import put_date, put_link, put_text
from scoring.exports.common import evidence_reference, require_criteria, safe_file_stem
from scoring.exports.scoresheet_layout import BORDER, HEADER_FILL, Column, print_setup, row_height
from scoring.store.evidence_files import EvidenceStore
from scoring.store.evidence_store import EvidenceView
from scoring.store.uploads import safe_display_name
from scoring.textnorm import local_now

INDEX_NAME = "Danh-muc-tai-lieu.xlsx"
UNLINKED_FOLDER = "Chua-gan-tieu-chi"

INDEX_COLUMNS = [
    Column("stt", "STT", 6), Column("code", "Mã tiêu chí", 10), Column("criterion", "Tiêu chí", 42),
    Column("document", "Tài liệu kiểm chứng", 42), Column("number", "Số, ký hiệu", 16),
    Column("date", "Ngày ban hành", 13), Column("section", "Phần, trang", 14),
    Column("file", "Tệp trong gói", 36), Column("link", "Đường dẫn", 30),
]


@dataclass(frozen=True)
class BundleEntry:
    """One (criterion, document) pair: a row of the index and, when the document has a file, a file in the zip."""

    code: str
    criterion: str
    evidence: EvidenceView
    path: str  # path inside the zip ("" when there is no file to put there)
    missing_file: bool = False


def write_evidence_bundle(snapshot: Snapshot, store: EvidenceStore, out: str | BinaryIO) -> list[BundleEntry]:
    """Write the bundle to a path or binary file; returns the index rows (what went where)."""
    criteria_set = require_criteria(snapshot)
    entries = _plan_entries(snapshot, store)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        contents: dict[str, bytes] = {}
        for entry in entries:
            if entry.path and not entry.missing_file:
                key = entry.evidence.file_key
                if key not in contents:
                    contents[key] = store.open_bytes(key)
                bundle.writestr(zip_info(entry.path), contents[key])
        bundle.writestr(zip_info(INDEX_NAME), _index_workbook(snapshot, entries, criteria_set.name))
    return entries


def _plan_entries(snapshot: Snapshot, store: EvidenceStore) -> list[BundleEntry]:
    criteria_set = snapshot.criteria_set
    names = {node.code: node.name for node in criteria_set.walk()}
    order = {node.code: i for i, node in enumerate(criteria_set.walk())}
    used: dict[str, set[str]] = {}  # folder → lower-cased names already in it
    entries: list[BundleEntry] = []
    pairs = [(code, e) for e in snapshot.evidence for code in e.criteria]
    pairs.sort(key=lambda pair: (order.get(pair[0], len(order)), pair[0], pair[1].id))
    pairs += [("", e) for e in snapshot.evidence if not e.criteria]
    for code, evidence in pairs:
        folder = safe_file_stem(code) if code else UNLINKED_FOLDER
        path, missing = "", False
        if evidence.file_key:
            missing = not store.exists(evidence.file_key)
            path = f"{folder}/{_unique_name(evidence, used.setdefault(folder, set()))}"
        criterion = names.get(code, "(tiêu chí không còn trong bộ tiêu chí)") if code else ""
        entries.append(BundleEntry(code, criterion, evidence, path, missing))
    return entries


def _unique_name(evidence: EvidenceView, taken: set[str]) -> str:
    name = safe_display_name(evidence.file_name) or f"tai-lieu-{evidence.id}.{evidence.file_kind or 'bin'}"
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    candidate, number = name, 1
    while candidate.lower() in taken:  # Windows and macOS folders ignore case
        number += 1
        candidate = f"{stem} ({number}).{extension}" if extension else f"{stem} ({number})"
    taken.add(candidate.lower())
    return candidate


def zip_info(path: str) -> zipfile.ZipInfo:
    if path.startswith("/") or ".." in path.split("/") or "\\" in path:
        raise ValueError(f"unsafe path in bundle: {path!r}")  # every path is built above; this must never happen
    info = zipfile.ZipInfo(path, date_time=local_now().timetuple()[:6])  # Vietnam time, not the server's
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _index_workbook(snapshot: Snapshot, entries: list[BundleEntry], set_name: str) -> bytes:
    workbook = Workbook()
    ws = workbook.active
    ws.title = "Danh mục tài liệu"
    last = "I"
    ws.merge_cells(f"A1:{last}1")
    put_text(ws["A1"], f"DANH MỤC TÀI LIỆU KIỂM CHỨNG CHỈ SỐ CCHC NĂM {snapshot.year}").font = Font(
        name="Times New Roman", size=14, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.merge_cells(f"A2:{last}2")
    put_text(ws["A2"], f"{snapshot.department.name} — {set_name}").font = Font(name="Times New Roman", size=12,
                                                                               italic=True)
    ws["A2"].alignment = Alignment(horizontal="center")
    header_row = 4
    for index, column in enumerate(INDEX_COLUMNS, start=1):
        cell = put_text(ws.cell(header_row, index), column.header)
        cell.font = Font(name="Times New Roman", size=12, bold=True)
        cell.fill = HEADER_FILL
        cell.border = BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[cell.column_letter].width = column.width
    for offset, entry in enumerate(entries, start=1):
        row = header_row + offset
        evidence = entry.evidence
        file_text = entry.path
        if entry.missing_file:
            file_text = f"{evidence.file_name} (không tìm thấy tệp trong kho lưu trữ)"
        values = [str(offset), entry.code or "—", entry.criterion, evidence_reference(evidence, entry.code or None),
                  evidence.number, None, evidence.sections.get(entry.code, ""), file_text, None]
        for index, value in enumerate(values, start=1):
            cell = ws.cell(row, index)
            cell.border = BORDER
            cell.font = Font(name="Times New Roman", size=12)
            cell.alignment = Alignment(wrap_text=True, vertical="top",
                                       horizontal="center" if index in (1, 2, 6) else None)
            if index == 6:
                put_date(cell, evidence.issued_on)
            elif index == 9:
                if evidence.link:
                    put_link(cell, evidence.link)
            else:
                put_text(cell, value or "")
        ws.row_dimensions[row].height = row_height(ws, row, INDEX_COLUMNS)
    ws.freeze_panes = ws[f"A{header_row + 1}"]
    ws.print_title_rows = f"{header_row}:{header_row}"
    if entries:
        ws.auto_filter.ref = f"A{header_row}:{last}{header_row + len(entries)}"
    print_setup(ws)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
