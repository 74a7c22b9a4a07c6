"""`python -m scoring export scoresheet|report|evidence|charts|summary --year 2026 [--department ID] -o OUT`, and
`python -m scoring export ranking --year 2026 --format xlsx|docx [--issuer so-noi-vu|ubnd-tinh] -o OUT` (the
province's ranking of every department: the Excel table with its RANK formulas or the Decree 30 Word document).

`add_export_commands` registers the commands on the command line's sub-command object (scoring/cli.py
wires it). Each command opens the configured database (CCHC_DATA_DIR / DATABASE_URL), creates the
bundled default workspace in an empty one, reads one snapshot and writes one file (a folder for
`charts`). Files are written to a temporary name first and renamed, so a failed export never leaves a
half-written file behind. Bad input raises InputError, which the command line prints with exit code 2.

`export_bytes` is the same export for the pages' download buttons: made when clicked, from a fresh read;
`write_ranking` is the ranking's, for the command line and the Các cơ quan page alike.
"""

from __future__ import annotations

import argparse
import io
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from scoring.errors import InputError
from scoring.textnorm import file_stamp

EXIT_OK = 0
CHART_FILES = {"score": "diem-theo-linh-vuc", "completion": "tien-do-ke-hoach"}
PAGE_EXPORTS = ("scoresheet", "report", "evidence", "summary", "charts")  # what the Xuất, nhập tệp page offers


def export_bytes(db, department_id: int, year: int, kind: str, *, viewer=None) -> bytes:
    """One export of the year as it is stored now: the year is read afresh (never a copy kept from an earlier
    read), so a download made after any change carries it. `viewer` (a signed-in Principal) must be allowed
    to export. "charts" is a .zip of the two chart images."""
    from scoring.access.auth import Action, Principal, authorize
    from scoring.assessment.snapshot import load_snapshot

    if kind not in PAGE_EXPORTS:
        raise ValueError(kind)
    if isinstance(viewer, Principal):
        authorize(viewer, Action.EXPORT, department_id=department_id)
    snapshot = load_snapshot(db, department_id, year, viewer=viewer)
    buffer = io.BytesIO()
    WRITERS[kind](snapshot, buffer, db)
    return buffer.getvalue()


def export_file_name(kind: str, year: int, moment=None) -> str:
    """The name a downloaded export gets: the year and the local date and time it was made,
    "bang-diem-cchc-2026-20261220-1405.xlsx"."""
    from scoring.exports.common import default_file_name

    name = default_file_name(kind, year) if kind != "charts" else f"bieu-do-cchc-{year}.zip"
    stem, dot, extension = name.rpartition(".")
    return f"{stem}-{file_stamp(moment)}{dot}{extension}"


RANKING_FORMATS = ("xlsx", "docx")


def ranking_file_name(year: int, file_format: str, moment=None) -> str:
    """ "xep-hang-chi-so-cchc-2026-20270210-0930.docx" """
    return f"xep-hang-chi-so-cchc-{year}-{file_stamp(moment)}.{file_format}"


def write_ranking(db, year: int, file_format: str, out, *, viewer, issuer: str | None = None,
                  governing_body: str | None = None, place: str | None = None) -> list:
    """The year's published ranking as `viewer` may see it (scoring.province.ranking), read now, written to `out` as the Excel
    table or the Word document issued by `issuer` (ranking_report.HOME_AFFAIRS by default); its tables returned."""
    from scoring.province import ranking
    from scoring.store import department_store

    if file_format not in RANKING_FORMATS:
        raise ValueError(file_format)
    tables = ranking.ranking(db, year, viewer=viewer)
    if file_format == "xlsx":
        from scoring.exports.ranking_sheet import write_ranking_workbook

        write_ranking_workbook(tables, year, out)
        return tables
    from scoring.exports.ranking_report import HOME_AFFAIRS, issuer_for, write_ranking_report

    ranked = {row.department_id for table in tables for row in table.rows}
    departments = [d for d in department_store.list_departments(db) if d.id in ranked]
    write_ranking_report(tables, year, out, issuer=issuer_for(departments, issuer or HOME_AFFAIRS,
                                                              governing_body=governing_body, place=place))
    return tables


def _write_scoresheet_to(snapshot, out, _db) -> None:
    from scoring.exports.scoresheet import write_scoresheet

    write_scoresheet(snapshot, out)


def _write_report_to(snapshot, out, _db) -> None:
    from scoring.exports.report import write_report

    write_report(snapshot, out)


def _write_evidence_to(snapshot, out, db) -> None:
    from scoring.exports.evidence_bundle import write_evidence_bundle
    from scoring.store.evidence_files import EvidenceStore

    write_evidence_bundle(snapshot, EvidenceStore(db.settings.evidence_dir), out)


def _write_summary_to(snapshot, out, _db) -> None:
    from scoring.exports.summary_pdf import write_summary_pdf

    write_summary_pdf(snapshot, out)


def _write_charts_zip_to(snapshot, out, _db) -> None:
    from scoring.charts import completion_by_area_figure, score_by_area_figure
    from scoring.exports.charts import figures_png

    figures = {f"{CHART_FILES['score']}.png": score_by_area_figure(snapshot)}
    if snapshot.activities:
        figures[f"{CHART_FILES['completion']}.png"] = completion_by_area_figure(snapshot)
    images = figures_png(list(figures.values()))
    with zipfile.ZipFile(out, "w") as archive:
        for name, image in zip(figures, images):
            archive.writestr(name, image)


WRITERS = {"scoresheet": _write_scoresheet_to, "report": _write_report_to, "evidence": _write_evidence_to,
           "summary": _write_summary_to, "charts": _write_charts_zip_to}


def add_export_commands(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser("export", help="Xuất bảng điểm, báo cáo, tài liệu kiểm chứng, biểu đồ, trang tóm tắt")
    kinds = export.add_subparsers(dest="what", required=True, parser_class=type(export))

    scoresheet = _command(kinds, "scoresheet", "Bảng tự đánh giá, chấm điểm (Excel .xlsx)", "tệp .xlsx cần ghi")
    scoresheet.set_defaults(handler=_export_scoresheet)

    report = _command(kinds, "report", "Báo cáo kết quả tự đánh giá (Word .docx)", "tệp .docx cần ghi")
    report.add_argument("--no-charts", action="store_true", help="Không chèn biểu đồ (không cần trình duyệt Chromium)")
    report.set_defaults(handler=_export_report)

    evidence = _command(kinds, "evidence", "Gói tài liệu kiểm chứng theo tiêu chí (.zip, kèm danh mục Excel)",
                        "tệp .zip cần ghi")
    evidence.set_defaults(handler=_export_evidence)

    charts = _command(kinds, "charts", "Hai biểu đồ: điểm theo lĩnh vực và tiến độ kế hoạch (ảnh PNG hoặc SVG)",
                      "thư mục ghi ảnh (tạo mới nếu chưa có)")
    charts.add_argument("--format", choices=("png", "svg"), default="png", help="Định dạng ảnh (mặc định: png)")
    charts.set_defaults(handler=_export_charts)

    summary = _command(kinds, "summary", "Trang tóm tắt một trang cho hồ sơ cuộc họp (PDF)", "tệp .pdf cần ghi")
    summary.set_defaults(handler=_export_summary)

    from scoring.exports.ranking_report import HOME_AFFAIRS, ISSUERS

    about = "Bảng xếp hạng Chỉ số CCHC đã công bố của các cơ quan theo nhóm (Excel .xlsx hoặc Word .docx)"
    ranking = kinds.add_parser("ranking", help=about, description=about)
    ranking.add_argument("--year", type=int, required=True, help="Năm đánh giá, ví dụ 2026")
    ranking.add_argument("--format", choices=RANKING_FORMATS,
                         help="xlsx: bảng tính có công thức RANK; docx: văn bản theo Nghị định 30/2020/NĐ-CP "
                              "(mặc định: theo đuôi tệp ghi, không có thì xlsx)")
    ranking.add_argument("--issuer", choices=tuple(ISSUERS), default=HOME_AFFAIRS,
                         help="Cơ quan ban hành văn bản .docx: " + "; ".join(f"{k} = {v}" for k, v in ISSUERS.items())
                              + f" (mặc định: {HOME_AFFAIRS})")
    ranking.add_argument("--governing-body", help="Dòng cơ quan chủ quản trên tiêu đề, ví dụ \"UBND tỉnh Quảng Ninh\" "
                                                  "(mặc định: dòng chung của các cơ quan, đặt ở trang Cấu hình)")
    ranking.add_argument("--place", help="Địa danh ở dòng ngày tháng, ví dụ \"Quảng Ninh\" (mặc định: địa danh chung của "
                                         "các cơ quan)")
    ranking.add_argument("-o", "--output", required=True, help="tệp .xlsx hoặc .docx cần ghi")
    ranking.set_defaults(handler=_export_ranking)


def _command(kinds, name: str, help_text: str, output_help: str) -> argparse.ArgumentParser:
    command = kinds.add_parser(name, help=help_text, description=help_text)
    command.add_argument("--year", type=int, required=True, help="Năm đánh giá, ví dụ 2026")
    command.add_argument("--department", type=int, help="Mã cơ quan (mặc định: cơ quan duy nhất trong dữ liệu)")
    command.add_argument("-o", "--output", required=True, help=output_help)
    return command


# --------------------------------------------------------------------------- handlers


def _export_scoresheet(args, out: TextIO) -> int:
    from scoring.exports.scoresheet import write_scoresheet

    with _snapshot(args) as (snapshot, _db):
        _write_atomically(Path(args.output), lambda handle: write_scoresheet(snapshot, handle))
    out.write(f"Đã ghi bảng điểm: {args.output}\n")
    return EXIT_OK


def _export_report(args, out: TextIO) -> int:
    from scoring.exports.report import write_report

    with _snapshot(args) as (snapshot, _db):
        _write_atomically(Path(args.output), lambda handle: write_report(snapshot, handle, charts=not args.no_charts))
    out.write(f"Đã ghi báo cáo: {args.output}\n")
    return EXIT_OK


def _export_evidence(args, out: TextIO) -> int:
    from scoring.exports.evidence_bundle import write_evidence_bundle
    from scoring.store.evidence_files import EvidenceStore

    with _snapshot(args) as (snapshot, db):
        store = EvidenceStore(db.settings.evidence_dir)
        entries: list = []
        _write_atomically(Path(args.output),
                          lambda handle: entries.extend(write_evidence_bundle(snapshot, store, handle)))
    files = sum(1 for e in entries if e.path and not e.missing_file)
    missing = [e for e in entries if e.missing_file]
    out.write(f"Đã ghi gói tài liệu kiểm chứng: {args.output} ({files} tệp, {len(entries)} dòng danh mục)\n")
    for entry in missing:
        out.write(f"Cảnh báo: không tìm thấy tệp «{entry.evidence.file_name}» (tiêu chí {entry.code or '—'}) "
                  "trong kho lưu trữ; đã ghi vào danh mục.\n")
    return EXIT_OK


def _export_charts(args, out: TextIO) -> int:
    from scoring.charts import completion_by_area_figure, score_by_area_figure
    from scoring.exports.charts import figures_png, figures_svg

    folder = Path(args.output)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"«{folder}» là một tệp; lệnh charts cần một thư mục để ghi ảnh.")
    with _snapshot(args) as (snapshot, _db):
        figures = {"score": score_by_area_figure(snapshot)}
        if snapshot.activities:
            figures["completion"] = completion_by_area_figure(snapshot)
        render = figures_png if args.format == "png" else figures_svg
        images = render(list(figures.values()))
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as problem:
        raise InputError(f"Không tạo được thư mục «{folder}»: {problem.strerror or problem}.") from None
    for key, image in zip(figures, images):
        target = folder / f"{CHART_FILES[key]}.{args.format}"
        _write_atomically(target, lambda handle, data=image: handle.write(data))
        out.write(f"Đã ghi biểu đồ: {target}\n")
    return EXIT_OK


def _export_summary(args, out: TextIO) -> int:
    from scoring.exports.summary_pdf import write_summary_pdf

    with _snapshot(args) as (snapshot, _db):
        _write_atomically(Path(args.output), lambda handle: write_summary_pdf(snapshot, handle))
    out.write(f"Đã ghi trang tóm tắt: {args.output}\n")
    return EXIT_OK


def _export_ranking(args, out: TextIO) -> int:
    from scoring.store import actors
    from scoring.store.db import open_database
    from scoring.store.workspace import ensure_default_workspace

    target = Path(args.output)
    suffix = target.suffix.lower().lstrip(".")
    file_format = args.format or (suffix if suffix in RANKING_FORMATS else "xlsx")
    if suffix in RANKING_FORMATS and suffix != file_format:
        raise InputError(f"Tệp «{target}» có đuôi .{suffix} nhưng --format là {file_format}: hãy đặt tên tệp "
                         f".{file_format} hoặc bỏ --format.")
    db = open_database()
    try:
        ensure_default_workspace(db)
        tables: list = []
        _write_atomically(target, lambda handle: tables.extend(write_ranking(
            db, args.year, file_format, handle, viewer=actors.SYSTEM_ACTOR, issuer=args.issuer,
            governing_body=args.governing_body, place=args.place)))
    finally:
        db.dispose()
    rows = [row for table in tables for row in table.rows]
    ranked = sum(1 for row in rows if row.rank is not None)
    out.write(f"Đã ghi bảng xếp hạng năm {args.year}: {args.output} ({len(tables)} nhóm, {ranked}/{len(rows)} cơ quan "
              "đã công bố chỉ số)\n")
    return EXIT_OK


# --------------------------------------------------------------------------- shared steps


@contextmanager
def _snapshot(args) -> Iterator[tuple]:
    """The snapshot the command exports, from the configured database (the default workspace if it is empty)."""
    from scoring.assessment.snapshot import load_snapshot
    from scoring.store import department_store
    from scoring.store.db import open_database
    from scoring.store.workspace import ensure_default_workspace

    db = open_database()
    try:
        ensure_default_workspace(db)
        department_id = _department_id(department_store.list_departments(db), args.department)
        yield load_snapshot(db, department_id, args.year), db
    finally:
        db.dispose()


def _department_id(departments, wanted: int | None) -> int:
    listed = ", ".join(f"{d.id} ({d.name})" for d in departments)
    if wanted is not None:
        if not any(d.id == wanted for d in departments):
            raise InputError(f"Không có cơ quan mã {wanted}. Các cơ quan: {listed or '(chưa có)'}.")
        return wanted
    if len(departments) == 1:
        return departments[0].id
    raise InputError(f"Dữ liệu có {len(departments)} cơ quan; hãy chọn bằng --department: {listed}.")


def _write_atomically(target: Path, write: Callable) -> None:
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"Thư mục «{folder}» không tồn tại; hãy tạo trước hoặc chọn nơi ghi khác.")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=folder)
    except OSError as problem:
        raise InputError(f"Không ghi được vào thư mục «{folder}»: {problem.strerror or problem}.") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; an export is an ordinary document
        os.replace(temporary, target)
    except OSError as problem:
        raise InputError(f"Không ghi được «{target}»: {problem.strerror or problem}.") from None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
