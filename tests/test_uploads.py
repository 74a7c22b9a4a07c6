"""Uploads: a document is saved with its file or, when the person says so, without one; one upload limit, stated
under every uploader; file names cleaned before any message; a published year's evidence stays as published.

Streamlit's uploader refuses a file over `server.maxUploadSize` or of another type in the browser: the server then
receives nothing at all, exactly as if no file had been chosen. So the form asks how the document is registered
(evidence_store.EVIDENCE_ATTACHMENTS), and "with its file" without a file is refused, naming the limit and the types.
"""

from __future__ import annotations

import re
import tomllib
from datetime import datetime
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import ui
from scoring.assessment.appraisal import LeafAppraisal
from scoring.criteria.files import MAX_CRITERIA_BYTES, load_criteria_set_bytes
from scoring.errors import ConflictError, InputError
from scoring.exports.scoresheet_import import MAX_SCORESHEET_BYTES
from scoring.plan.importer import MAX_PLAN_BYTES, load_plan_bytes
from scoring.store import (
    actors,
    assessment_state,
    assessment_store,
    audit_trail,
    cycle_store,
    department_store,
    evidence_store,
)
from scoring.store.db import open_database
from scoring.store.evidence_files import EvidenceStore
from scoring.store.models import Assessment, ScoreRecord
from scoring.store.uploads import EVIDENCE_UPLOAD_RULE, MAX_UPLOAD_BYTES, check_upload, safe_display_name
from scoring.store.workspace import ensure_default_workspace

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")
HOSTILE_NAMES = ["ke\x00hoach.pdf", "bao\x07cao\x1b[31m.pdf", "a\u202egpj.pdf", "..\\..\\x\x00.pdf"]


def _plain(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown)


# ---------------------------------------------------------------- one limit, stated once


def test_streamlit_upload_limit_is_the_apps_and_no_importer_takes_more():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] * 1024 * 1024 == MAX_UPLOAD_BYTES
    # an importer allowing more than the browser passes would promise what never arrives; less is refused in Vietnamese
    for limit in (MAX_PLAN_BYTES, MAX_CRITERIA_BYTES, MAX_SCORESHEET_BYTES):
        assert limit <= MAX_UPLOAD_BYTES
    assert EVIDENCE_UPLOAD_RULE.startswith("Mỗi tệp tối đa 20 MB; nhận tài liệu kiểm chứng dạng PDF, Word (.docx)")


# ---------------------------------------------------------------- core: with its file, or without one by choice


@pytest.fixture
def workspace(db):
    ws = ensure_default_workspace(db)
    return db, ws


def _stored_files(db) -> list[str]:
    return list(EvidenceStore(db.settings.evidence_dir).iter_keys())


def test_with_file_chosen_but_none_arrived_nothing_is_saved_and_the_limit_is_said(workspace):
    db, ws = workspace
    meta = evidence_store.EvidenceInput(doc_type="Báo cáo", number="1/BC", summary="Báo cáo quý I")
    with pytest.raises(InputError) as refused:
        evidence_store.add_evidence(db, ws.department_id, ws.year, meta, actor="vp", upload=None, criteria=["1.1.1"])
    message = str(refused.value)
    assert message.startswith("Chưa nhận được tệp đính kèm nên tài liệu chưa được lưu.")
    assert "tối đa 20 MB" in message and "PDF, Word (.docx), Excel (.xlsx), ảnh JPG hoặc PNG" in message
    assert "«Không kèm tệp: chỉ ghi số hiệu văn bản»" in message
    assert evidence_store.list_evidence(db, ws.department_id, ws.year) == []
    assert audit_trail.audit_log(db, ws.department_id, entity_key=f"{ws.year}/TL1", viewer=actors.SYSTEM_ACTOR) == []


def test_without_file_only_when_chosen_and_with_what_identifies_it(workspace):
    db, ws = workspace
    by_number = evidence_store.add_evidence(db, ws.department_id, ws.year, evidence_store.EvidenceInput(doc_type="Quyết định", number="20/QĐ"),
                                  actor="vp", attachment=evidence_store.ATTACH_NUMBER)
    by_link = evidence_store.add_evidence(db, ws.department_id, ws.year, evidence_store.EvidenceInput(link="https://example.org/bc"),
                                actor="vp", attachment=evidence_store.ATTACH_LINK)
    assert (by_number.file_key, by_link.file_key) == (None, None)
    with pytest.raises(InputError, match="hãy ghi số, ký hiệu"):
        evidence_store.add_evidence(db, ws.department_id, ws.year, evidence_store.EvidenceInput(link="https://example.org/x"), actor="vp",
                          attachment=evidence_store.ATTACH_NUMBER)
    with pytest.raises(InputError, match="hãy ghi đường dẫn"):
        evidence_store.add_evidence(db, ws.department_id, ws.year, evidence_store.EvidenceInput(number="3/BC"), actor="vp",
                          attachment=evidence_store.ATTACH_LINK)
    with pytest.raises(InputError, match="nhưng có tệp «x.pdf»"):  # said "no file" yet a file came: neither is guessed
        evidence_store.add_evidence(db, ws.department_id, ws.year, evidence_store.EvidenceInput(number="4/BC"), actor="vp",
                          upload=("x\x00.pdf", PDF), attachment=evidence_store.ATTACH_NUMBER)
    assert _stored_files(db) == []
    with_file = evidence_store.add_evidence(db, ws.department_id, ws.year, evidence_store.EvidenceInput(number="5/BC"), actor="vp",
                                  upload=("bao-cao.pdf", PDF))
    assert with_file.file_name == "bao-cao.pdf" and len(_stored_files(db)) == 1
    assert [e.number for e in evidence_store.list_evidence(db, ws.department_id, ws.year)] == ["20/QĐ", "", "5/BC"]


# ---------------------------------------------------------------- core: names before any message


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_names_are_cleaned_before_any_message(name):
    shown = safe_display_name(name)
    assert shown and shown.isprintable() and "\x00" not in shown and "\u202e" not in shown
    with pytest.raises(InputError) as evidence:
        check_upload(name, b"not a pdf")
    with pytest.raises(InputError) as plan:
        load_plan_bytes(name.replace(".pdf", ".txt"), b"")
    with pytest.raises(InputError) as criteria:
        load_criteria_set_bytes(name.replace(".pdf", ".json"), b"{}")
    for refused in (evidence, plan, criteria):
        message = str(refused.value)
        assert all(line.isprintable() for line in message.splitlines()), repr(message)
        assert "«" in message and "\x00" not in message and "\\" not in message.split("»")[0]


# ---------------------------------------------------------------- core: after publication


def _publish(db, assessment_id: int) -> None:
    with db.session() as session:  # published as publish_index leaves it (its own checks are in test_cycle_windows)
        row = session.get(Assessment, assessment_id)
        row.published_at, row.published_by = datetime(2026, 12, 1, 3, 0), "quantri"


def _give_as_supplementary(db, assessment_id: int, code: str, evidence_id: int) -> None:
    assessment_store.save_self_score(db, assessment_id, code, 0, inputs={}, actor="vp")
    with db.session() as session:  # as save_explanation stores it, without running the rounds to get there
        row = session.query(ScoreRecord).filter_by(assessment_id=assessment_id, code=code).one()
        row.appraisal = LeafAppraisal(supplementary_evidence_ids=(evidence_id,)).to_dict()


def test_after_publication_the_years_evidence_stays_until_the_administrator_reopens(workspace):
    db, ws = workspace
    assessment = assessment_state.get_assessment(db, ws.department_id, ws.year)
    add = lambda number, **kw: evidence_store.add_evidence(db, ws.department_id, ws.year, evidence_store.EvidenceInput(doc_type="Báo cáo", number=number),
                                                 actor="vp", attachment=evidence_store.ATTACH_NUMBER, **kw)
    linked, loose, supplementary = add("1/BC", criteria=["1.1.1"]), add("2/BC"), add("3/BC")
    _give_as_supplementary(db, assessment.id, "1.1.2", supplementary.id)
    _publish(db, assessment.id)
    before = audit_trail.audit_log(db, ws.department_id, viewer=actors.SYSTEM_ACTOR)
    current = lambda document: next(e for e in evidence_store.list_evidence(db, ws.department_id, ws.year) if e.id == document.id)

    refusals = {
        "Không thêm được tài liệu cho các tiêu chí": lambda: evidence_store.add_evidence(
            db, ws.department_id, ws.year, evidence_store.EvidenceInput(number="9/BC"), actor="vp", upload=("moi.pdf", PDF),
            criteria=["1.1.1"]),
        "Không đổi được các tiêu chí của tài liệu": lambda: evidence_store.update_evidence(
            db, loose.id, loose.version, evidence_store.EvidenceInput(doc_type="Báo cáo", number="2/BC"), actor="vp", criteria=["1.1.1"]),
        "Không đổi được các tiêu chí của tài liệu «Báo cáo 1/BC»": lambda: evidence_store.update_evidence(
            db, linked.id, linked.version, evidence_store.EvidenceInput(doc_type="Báo cáo", number="1/BC"), actor="vp", criteria=[]),
        "Không sửa được tài liệu «Báo cáo 1/BC» của các tiêu chí 1.1.1": lambda: evidence_store.update_evidence(
            db, linked.id, linked.version, evidence_store.EvidenceInput(doc_type="Báo cáo", number="1/BC-sửa"), actor="vp"),
        "Không gắn được tài liệu «Báo cáo 2/BC» vào tiêu chí 1.1.2": lambda: evidence_store.link_evidence_to_criterion(
            db, loose.id, loose.version, "1.1.2", actor="vp"),
        "Không xóa được tài liệu «Báo cáo 1/BC» của các tiêu chí năm 2026": lambda: evidence_store.delete_evidence(
            db, linked.id, linked.version, actor="vp"),
        "Không xóa được tài liệu «Báo cáo 3/BC»": lambda: evidence_store.delete_evidence(
            db, supplementary.id, supplementary.version, actor="vp"),
    }
    for opening, write in refusals.items():
        with pytest.raises(InputError) as refused:
            write()
        assert str(refused.value).startswith(opening), str(refused.value)
        assert "Chỉ số năm 2026 đã công bố lúc 10:00 01/12/2026 (quantri): không sửa được nữa, trừ khi quản trị viên " \
               "mở lại (ghi lý do)." in str(refused.value)
    assert audit_trail.audit_log(db, ws.department_id, viewer=actors.SYSTEM_ACTOR) == before
    assert _stored_files(db) == []  # the refused upload left no file behind
    assert (current(linked).criteria, current(loose).criteria) == (["1.1.1"], [])

    # what serves no criterion of the year is not the published index: it still changes
    assert evidence_store.update_evidence(db, loose.id, loose.version, evidence_store.EvidenceInput(doc_type="Báo cáo", number="2/BC-sửa"),
                                actor="vp").number == "2/BC-sửa"
    assert add("4/BC").criteria == []

    cycle_store.reopen_published(db, assessment.id, "Bổ sung tài liệu tiêu chí 1.1.2", actor="quantri")
    evidence_store.link_evidence_to_criterion(db, loose.id, current(loose).version, "1.1.2", actor="vp")
    assert current(loose).criteria == ["1.1.2"]
    evidence_store.delete_evidence(db, linked.id, current(linked).version, actor="vp")
    assert linked.id not in {e.id for e in evidence_store.list_evidence(db, ws.department_id, ws.year)}


def test_a_second_persons_edit_of_the_same_document_is_refused(workspace):
    db, ws = workspace
    document = evidence_store.add_evidence(db, ws.department_id, ws.year, evidence_store.EvidenceInput(doc_type="Báo cáo", number="1/BC"),
                                 actor="vp", attachment=evidence_store.ATTACH_NUMBER)
    evidence_store.update_evidence(db, document.id, document.version, evidence_store.EvidenceInput(doc_type="Báo cáo", number="2/BC"),
                         actor="an", criteria=["1.1.1"])
    with pytest.raises(ConflictError, match="vừa được sửa bởi an"):
        evidence_store.update_evidence(db, document.id, document.version, evidence_store.EvidenceInput(doc_type="Báo cáo", number="1/BC"),
                             actor="bình", criteria=[])
    stored = evidence_store.list_evidence(db, ws.department_id, ws.year)[0]
    assert (stored.number, stored.criteria) == ("2/BC", ["1.1.1"])


# ---------------------------------------------------------------- pages


def _assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert ui.UNEXPECTED_ERROR not in [_plain(e.value) for e in at.error]


def _open(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page(page).run()
    _assert_clean(at)
    return at


def _in_form(widgets, label: str, form: str):
    (widget,) = [w for w in widgets if w.label == label and w.form_id.startswith(form)]
    return widget


def _submit(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click().run()
    _assert_clean(at)
    return at


def _evidence():
    db = open_database()  # the scratch folder the app uses (CCHC_DATA_DIR from conftest)
    department = department_store.list_departments(db)[0]
    return evidence_store.list_evidence(db, department.id, 2026)


def test_register_form_refuses_a_file_that_did_not_arrive_and_keeps_what_was_typed():
    at = _open("views/tai_lieu.py")
    form = "evidence-add-"
    assert EVIDENCE_UPLOAD_RULE in [_plain(c.value) for c in at.caption]
    _in_form(at.text_input, "Số, ký hiệu", form).input("15/KH-SDTTG")
    _in_form(at.text_area, "Trích yếu", form).input("Kế hoạch CCHC năm 2026")
    _submit(at, "Lưu tài liệu")  # "with its file" chosen; the browser refused the 24 MB PDF, so nothing came
    errors = [_plain(e.value) for e in at.error]
    assert any(e.startswith("Chưa nhận được tệp đính kèm nên tài liệu chưa được lưu.") for e in errors), errors
    assert not any("Đã lưu tài liệu" in s.value for s in at.success)
    assert _evidence() == []
    assert _in_form(at.text_input, "Số, ký hiệu", form).value == "15/KH-SDTTG"  # kept, to correct
    assert _in_form(at.text_area, "Trích yếu", form).value == "Kế hoạch CCHC năm 2026"

    (uploader,) = [u for u in at.file_uploader if u.form_id.startswith(form)]
    uploader.upload("ke\x00hoach.pdf", PDF, "application/pdf")
    _submit(at, "Lưu tài liệu")
    assert any("kèm tệp «kehoach.pdf»" in _plain(s.value) for s in at.success), [s.value for s in at.success]
    (saved,) = _evidence()
    assert (saved.number, saved.file_name, saved.file_kind) == ("15/KH-SDTTG", "kehoach.pdf", "pdf")
    assert _in_form(at.text_input, "Số, ký hiệu", form).value == ""  # a saved document starts an empty form


def test_register_form_saves_without_file_when_chosen():
    at = _open("views/tai_lieu.py")
    form = "evidence-add-"
    _in_form(at.radio, "Tài liệu lưu kèm", form).set_value(evidence_store.ATTACH_NUMBER)
    _in_form(at.text_input, "Số, ký hiệu", form).input("20/QĐ-SDTTG")
    _submit(at, "Lưu tài liệu")
    (saved,) = _evidence()
    assert (saved.number, saved.file_key) == ("20/QĐ-SDTTG", None)


def test_plan_evidence_form_refuses_a_file_that_did_not_arrive():
    at = _open("views/ke_hoach.py")
    form = "plan-evidence-"
    assert EVIDENCE_UPLOAD_RULE in [_plain(c.value) for c in at.caption]
    _in_form(at.text_input, "Số, ký hiệu", form).input("5/BC")
    _submit(at, "Gắn tài liệu")
    assert any(_plain(e.value).startswith("Chưa nhận được tệp đính kèm") for e in at.error)
    assert _evidence() == []
    assert _in_form(at.text_input, "Số, ký hiệu", form).value == "5/BC"
    _in_form(at.radio, "Tài liệu lưu kèm", form).set_value(evidence_store.ATTACH_NUMBER)
    _submit(at, "Gắn tài liệu")
    (saved,) = _evidence()
    assert saved.number == "5/BC" and saved.activities and saved.file_key is None


@pytest.mark.parametrize("page, key", [("views/ke_hoach.py", "plan-upload"), ("views/xuat_tep.py", "scoresheet-upload")])
def test_an_importer_given_a_name_with_nul_says_so_in_vietnamese(page, key):
    at = _open(page)
    assert any(_plain(c.value).startswith("Mỗi tệp tối đa") for c in at.caption)
    at.file_uploader(key=key).upload("bang\x00diem\x1b.xlsx", b"not a workbook", "application/octet-stream").run()
    _assert_clean(at)
    errors = [_plain(e.value) for e in at.error]
    assert errors and all("\x00" not in e and "\x1b" not in e for e in errors), errors
    assert any("«bangdiem.xlsx»" in e for e in errors), errors


def test_criteria_importer_given_a_name_with_nul_says_so_in_vietnamese():
    at = _open("views/cau_hinh.py")
    (uploader,) = [u for u in at.file_uploader if u.label == "Chọn tệp bộ tiêu chí"]
    uploader.upload("bo\x00tieu chi.json", b"{}", "application/json").run()
    _assert_clean(at)
    errors = [_plain(e.value) for e in at.error]
    assert any(e.startswith("Tệp «botieu chi.json»") for e in errors), errors
    assert any("python -m scoring restore" in _plain(m.value) for m in at.markdown)


def test_criterion_evidence_list_expects_the_document_version_it_showed():
    db = open_database()
    ensure_default_workspace(db)
    department = department_store.list_departments(db)[0]
    document = evidence_store.add_evidence(db, department.id, 2026, evidence_store.EvidenceInput(doc_type="Báo cáo", number="1/BC"),
                                 actor="vp", attachment=evidence_store.ATTACH_NUMBER)
    at = _open("views/cham_diem.py")
    assessment = assessment_state.get_assessment(db, department.id, 2026)
    key = f"s-{assessment.id}-1.1.1-evidence"
    assert at.multiselect(key=key).value == []
    evidence_store.update_evidence(db, document.id, document.version, evidence_store.EvidenceInput(doc_type="Báo cáo", number="2/BC"),
                         actor="an")  # someone else's change after the list was drawn
    at.multiselect(key=key).set_value([document.id]).run()
    _assert_clean(at)
    errors = [_plain(e.value) for e in at.error]
    assert any("vừa được sửa bởi an" in e for e in errors), errors
    assert evidence_store.list_evidence(db, department.id, 2026)[0].criteria == []
    at.multiselect(key=key).set_value([document.id]).run()  # the list now shows what is stored: saved
    _assert_clean(at)
    assert evidence_store.list_evidence(db, department.id, 2026)[0].criteria == ["1.1.1"]
    at.button(key="score-open-1.1.2").click().run()  # the person works on the next criterion
    at.multiselect(key=f"s-{assessment.id}-1.1.2-evidence").set_value([document.id]).run()  # its own save is not a conflict
    _assert_clean(at)
    assert evidence_store.list_evidence(db, department.id, 2026)[0].criteria == ["1.1.1", "1.1.2"]
    db.dispose()


def test_after_publication_the_pages_offer_no_evidence_link():
    db = open_database()
    ensure_default_workspace(db)
    department = department_store.list_departments(db)[0]
    evidence_store.add_evidence(db, department.id, 2026, evidence_store.EvidenceInput(doc_type="Báo cáo", number="1/BC"), actor="vp",
                      attachment=evidence_store.ATTACH_NUMBER, criteria=["1.1.1"])
    assessment = assessment_state.get_assessment(db, department.id, 2026)
    _publish(db, assessment.id)
    register = _open("views/tai_lieu.py")
    assert any("đã công bố: tài liệu kiểm chứng của các tiêu chí năm này" in _plain(i.value) for i in register.info)
    assert _in_form(register.multiselect, "Dùng cho tiêu chí", "evidence-add-").disabled
    scoring_page = _open("views/cham_diem.py")
    assert scoring_page.multiselect(key=f"s-{assessment.id}-1.1.1-evidence").disabled
    db.dispose()
