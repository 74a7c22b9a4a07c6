"""The province's ranking as a Word document (scoring.exports.ranking_report), read back with python-docx: the Decree 30
layout, ranks with ties, the unpublished listed unranked, Vietnamese numbers, the issuing body, user text as text."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
from docx import Document

from scoring.exports.common import TO_FILL_IN
from scoring.exports.ranking_report import (
    HOME_AFFAIRS,
    NOT_PUBLISHED,
    PEOPLES_COMMITTEE,
    issuer_for,
    write_ranking_report,
)
from scoring.province import groups, ranking
from scoring.store import actors, department_store
from tests.test_ranking import province  # noqa: F401  (the fixture: five departments, two groups, two years)

SIGNED = date(2027, 2, 10)


def _document(db, kind=HOME_AFFAIRS, **letterhead) -> Document:
    tables = ranking.ranking(db, 2026, viewer=actors.SYSTEM_ACTOR)
    buffer = io.BytesIO()
    write_ranking_report(tables, 2026, buffer, issuer=issuer_for(department_store.list_departments(db), kind, **letterhead),
                         today=SIGNED)
    return Document(io.BytesIO(buffer.getvalue()))


def _rows(table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def _set_letterhead(db, governing_body: str, place: str) -> None:
    for department in department_store.list_departments(db):
        department_store.update_department(db, department.id, department.version, name=department.name, units=department.units,
                               governing_body=governing_body, place=place, actor=actors.SYSTEM_ACTOR)


def test_each_group_is_one_table_ties_sharing_a_rank_the_unpublished_unranked(province):
    db, _ = province
    document = _document(db)
    texts = [p.text for p in document.paragraphs]
    assert "BÁO CÁO" in texts and "KẾT QUẢ XÁC ĐỊNH CHỈ SỐ CẢI CÁCH HÀNH CHÍNH NĂM 2026" in texts
    assert "I. NHÓM: BAN, NGÀNH" in texts and "II. NHÓM: SỞ" in texts
    header = ["Thứ hạng", "Cơ quan", "Chỉ số (%)", "Xếp loại", "Chỉ số năm 2025 (%)", "Hạng năm 2025", "Tăng/giảm hạng"]
    boards, departments = _rows(document.tables[1]), _rows(document.tables[2])
    assert boards[0] == header and boards[1][:4] == ["1", "Ban E", "54,00", boards[1][3]]
    assert departments == [
        header,
        ["1", "Sở B", "94,00", departments[1][3], "64,00", "2", "Tăng 1"],
        ["2", "Sở A", "84,00", departments[2][3], "94,00", "1", "Giảm 1"],
        ["2", "Sở C", "84,00", departments[3][3], "—", "—", "—"],  # level with A; not ranked the year before
        ["—", "Sở D", "—", NOT_PUBLISHED, "—", "—", "—"],
    ]
    bands = [r.band for r in ranking.ranking(db, 2026, viewer=actors.SYSTEM_ACTOR)[1].rows[:3]]
    assert [row[3] for row in departments[1:4]] == bands and all(bands)
    assert "Chưa công bố chỉ số năm 2026, không xếp hạng (1 cơ quan): Sở D." in texts
    assert any(t.startswith("Năm 2026 có 4/5 cơ quan đã công bố") for t in texts)


def test_the_layout_is_decree_30s_with_a_landscape_appendix_of_areas(province):
    db, ids = province
    document = _document(db)
    portrait, landscape = document.sections

    def mm(length) -> float:
        return round(length.mm, 1)

    assert (mm(portrait.page_width), mm(portrait.page_height)) == (210, 297)
    assert [mm(portrait.top_margin), mm(portrait.bottom_margin), mm(portrait.left_margin), mm(portrait.right_margin)] == [
        20, 20, 30, 15]
    assert (mm(landscape.page_width), mm(landscape.page_height)) == (297, 210) and mm(landscape.top_margin) == 30
    assert document.styles["Normal"].font.name == "Times New Roman" and document.styles["Normal"].font.size.pt == 14
    right = [p.text for p in document.tables[0].cell(0, 1).paragraphs if p.text]
    assert right == ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                     f"{TO_FILL_IN}, ngày      tháng      năm 2027"]
    signature = document.tables[3]
    assert signature.cell(0, 0).paragraphs[0].text == "Nơi nhận:" and signature.cell(0, 1).paragraphs[0].text == "GIÁM ĐỐC"
    texts = [p.text for p in document.paragraphs]
    assert "PHỤ LỤC" in texts and "ĐIỂM THEO LĨNH VỰC CỦA CÁC CƠ QUAN NĂM 2026" in texts
    areas = _rows(document.tables[5])  # the group «Sở»: area 1 at 7, 6, 6 points → B first, A and C share second
    assert areas[0] == ["Thứ hạng", "Cơ quan", "Chỉ số (%)", "1. CHỈ ĐẠO, ĐIỀU HÀNH", "2. ĐIỀU TRA XÃ HỘI HỌC"]
    assert areas[1][:4] == ["1", "Sở B", "94,00", "7\n(hạng 1)"]
    assert areas[2][3] == areas[3][3] == "6\n(hạng 2)" and areas[2][4] == "2,4\n(hạng 1)"
    assert areas[4][1:] == ["Sở D", "—", "—", "—"]


def test_the_issuing_body_comes_from_the_departments_shared_letterhead(province):
    db, _ = province
    _set_letterhead(db, "UBND tỉnh Quảng Ninh", "Quảng Ninh")
    left = [p.text for p in _document(db).tables[0].cell(0, 0).paragraphs if p.text]
    assert left[:2] == ["UBND TỈNH QUẢNG NINH", "SỞ NỘI VỤ"] and left[2].endswith("/BC-SNV")
    committee = _document(db, PEOPLES_COMMITTEE)
    left = [p for p in committee.tables[0].cell(0, 0).paragraphs if p.text]
    assert left[0].text == "ỦY BAN NHÂN DÂN\nTỈNH QUẢNG NINH" and left[0].runs[0].bold  # no body above it
    assert left[1].text.endswith("/BC-UBND")
    assert committee.tables[0].cell(0, 1).paragraphs[-1].text == "Quảng Ninh, ngày      tháng      năm 2027"
    signer = [p.text for p in committee.tables[3].cell(0, 1).paragraphs if p.text]
    assert signer == ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"]
    # the command line's (or the page's) own lines win
    left = [p.text for p in _document(db, governing_body="UBND tỉnh Sơn La", place="Sơn La").tables[0].cell(0, 0).paragraphs]
    assert left[0] == "UBND TỈNH SƠN LA"


def test_departments_that_disagree_on_their_letterhead_leave_it_to_write_by_hand(province):
    db, ids = province
    _set_letterhead(db, "UBND tỉnh Quảng Ninh", "Quảng Ninh")
    other = next(d for d in department_store.list_departments(db) if d.id == ids["Sở D"])
    department_store.update_department(db, other.id, other.version, name=other.name, units=other.units, governing_body="UBND tỉnh Sơn La",
                           place="Sơn La", actor=actors.SYSTEM_ACTOR)
    issuer = issuer_for(department_store.list_departments(db), HOME_AFFAIRS)
    assert (issuer.governing_line, issuer.place) == (TO_FILL_IN, TO_FILL_IN)
    assert issuer_for(department_store.list_departments(db), PEOPLES_COMMITTEE).heading == f"ỦY BAN NHÂN DÂN\nTỈNH {TO_FILL_IN}"
    with pytest.raises(ValueError):
        issuer_for([], "so-khac")


HOSTILE = '=HYPERLINK("http://x.example","bấm") <b>đậm</b> **sao** {PAGE}\x07'


def test_user_text_stays_text(province):
    db, ids = province
    department = next(d for d in department_store.list_departments(db) if d.id == ids["Sở C"])
    department_store.update_department(db, department.id, department.version, name=HOSTILE, units=department.units,
                           actor=actors.SYSTEM_ACTOR)
    group = groups.group_of(db, ids["Sở C"])
    groups.rename_group(db, group.id, group.version, "<i>Sở</i> =1+1", actor=actors.SYSTEM_ACTOR)
    tables = ranking.ranking(db, 2026, viewer=actors.SYSTEM_ACTOR)
    buffer = io.BytesIO()
    write_ranking_report(tables, 2026, buffer, issuer=issuer_for(department_store.list_departments(db)), today=SIGNED)
    document = Document(io.BytesIO(buffer.getvalue()))
    stored = next(d.name for d in department_store.list_departments(db) if d.id == ids["Sở C"])
    names = [row[1] for row in _rows(document.tables[2])]
    assert stored.rstrip("\x07") in names  # as typed, less what a .docx cannot hold
    with zipfile.ZipFile(buffer) as archive:
        body = archive.read("word/document.xml").decode()
    assert "<w:hyperlink" not in body and "<w:fldSimple" not in body and body.count("<w:instrText") == 0
    assert "<b>" not in body and "&lt;b&gt;đậm&lt;/b&gt;" in body  # escaped as text, not markup
    assert "II. NHÓM: <I>SỞ</I> =1+1" in [p.text for p in document.paragraphs]


def test_the_command_line_writes_the_ranking_as_docx_or_xlsx(tmp_path, capsys):
    from openpyxl import load_workbook

    from tests.test_exports import _run_cli

    document = tmp_path / "xep-hang.docx"
    code, out, _ = _run_cli(["export", "ranking", "--year", "2026", "--format", "docx", "--issuer", "ubnd-tinh",
                             "--governing-body", "UBND tỉnh Quảng Ninh", "--place", "Hạ Long", "-o", str(document)], capsys)
    assert code == 0 and out == f"Đã ghi bảng xếp hạng năm 2026: {document} (1 nhóm, 0/1 cơ quan đã công bố chỉ số)\n"
    written = Document(document)
    assert written.tables[0].cell(0, 0).paragraphs[0].text == "ỦY BAN NHÂN DÂN\nTỈNH QUẢNG NINH"
    assert written.tables[0].cell(0, 1).paragraphs[-1].text.startswith("Hạ Long, ngày")
    assert _rows(written.tables[1])[1][:4] == ["—", "Sở Dân tộc và Tôn giáo", "—", NOT_PUBLISHED]  # nothing published
    sheet = tmp_path / "xep-hang.xlsx"
    code, _, _ = _run_cli(["export", "ranking", "--year", "2026", "-o", str(sheet)], capsys)
    assert code == 0 and load_workbook(sheet).sheetnames == ["Chưa xếp nhóm"]
    code, _, err = _run_cli(["export", "ranking", "--year", "2026", "--format", "docx", "-o", str(tmp_path / "x.xlsx")],
                            capsys)
    assert code == 2 and "có đuôi .xlsx nhưng --format là docx" in err
    assert not (tmp_path / "x.xlsx").exists()
