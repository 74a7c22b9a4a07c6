"""The cycle's windows hold on stored data (issue 14): rounds open and close by the year's settings, in the
Vietnam calendar; the administrator may open or extend a round with a reason; round 2 only after round 1 and
the explanation round; nothing changes after publication until the administrator reopens; appraisal results
have one author at a time; bonus and penalty expect the version the person saw."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from scoring.access import accounts
from scoring.access.auth import PermissionDenied, Principal, Role
from scoring.assessment.appraisal import AUTHOR_APPRAISER, AUTHOR_TRANSCRIBED, SourceDocument
from scoring.assessment.cycle import vietnam_today
from scoring.assessment.settings import (
    ROUND_APPRAISAL_1,
    ROUND_APPRAISAL_2,
    ROUND_EXPLANATION,
    ROUND_SELF_SCORING,
    Round,
    default_settings,
)
from scoring.criteria.files import criteria_set_from_dict
from scoring.errors import ConflictError, InputError
from scoring.store import (
    actors,
    assessment_state,
    assessment_store,
    audit_trail,
    criteria_store,
    cycle_store,
    department_store,
)
from scoring.textnorm import format_date

SET = {"name": "Bộ thử lịch", "total_max": 4, "year": 2026, "nodes": [
    {"code": "1", "name": "CHỈ ĐẠO", "max": 4, "children": [
        {"code": "1.1", "name": "Kế hoạch", "max": 2, "rule": {"kind": "value"}},
        {"code": "1.2", "name": "Báo cáo", "max": 2, "rule": {"kind": "value"}},
    ]},
]}
# The default 2026 dates: round 1 21/12/2026–15/01/2027, explanation 16/01–25/01, round 2 26/01–10/02.
BEFORE_ROUND_1, ROUND_1, EXPLANATION, ROUND_2, AFTER = (date(2026, 12, 1), date(2026, 12, 21), date(2027, 1, 16),
                                                        date(2027, 1, 26), date(2027, 2, 15))
RESULT_1 = SourceDocument("12/KQ-SNV", date(2026, 12, 28))
RESULT_2 = SourceDocument("30/KQ-SNV", date(2027, 2, 5))
ADMIN = Principal("quantri", "Quản trị", Role.ADMIN, frozenset({1}))
OFFICE = Principal("vanphong", "Văn phòng", Role.OFFICE, frozenset({1}))
APPRAISER = Principal("snv", "Sở Nội vụ", Role.APPRAISER, frozenset({1}))


@pytest.fixture
def locked(db):
    """Both criteria self-scored and the self-score locked; a year without a survey, so the index needs only them."""
    department = department_store.create_department(db, "Sở Dân tộc và Tôn giáo", ["Văn phòng"], actor=actors.SYSTEM_ACTOR)
    assessment = assessment_store.open_assessment(db, department, 2026, criteria_store.save_criteria_set(db, criteria_set_from_dict(SET), actor=actors.SYSTEM_ACTOR)).id
    cycle_store.save_year_settings(db, assessment, 1, replace(default_settings(2026), survey_run=False), actor="quantri")  # new: version 1
    for code in ("1.1", "1.2"):
        assessment_store.save_self_score(db, assessment, code, 0, inputs={"value": 2}, explanation="Đối chiếu hồ sơ", actor="vp")
    cycle_store.lock_self_score(db, assessment, actor="vp")
    return db, department, assessment


def _version(db, assessment, code="1.1") -> int:
    return assessment_store.list_scores(db, assessment)[code].version


def _appraise(db, assessment, code="1.1", *, round_number=1, today, actor="vp", points=1, source=RESULT_1, **more):
    return assessment_store.save_appraisal(db, assessment, code, _version(db, assessment, code), points=points, round_number=round_number,
                               source=source, actor=actor, today=today, **more)


def test_round_1_is_refused_before_its_dates_and_after_them(locked):
    db, department, assessment = locked
    before = audit_trail.audit_log(db, department, viewer=actors.SYSTEM_ACTOR)
    # the reported case: 01/12/2026 accepted although round 1 opens on 21/12/2026
    with pytest.raises(InputError, match="Vòng thẩm định lần 1 mở từ 21/12/2026 đến 15/01/2027"):
        _appraise(db, assessment, today=BEFORE_ROUND_1)
    assert audit_trail.audit_log(db, department, viewer=actors.SYSTEM_ACTOR) == before and assessment_store.list_scores(db, assessment)["1.1"].appraised_points is None
    assert _appraise(db, assessment, today=ROUND_1).appraisal.round1_points == Decimal(1)  # its first day counts
    assert _appraise(db, assessment, today=date(2027, 1, 15), points=2).appraised_points == Decimal(2)  # and its last
    with pytest.raises(InputError, match="Vòng thẩm định lần 1 đã kết thúc ngày 15/01/2027"):
        _appraise(db, assessment, today=EXPLANATION, points=0)


def test_round_2_waits_for_round_1_and_the_explanation_round(locked):
    db, _, assessment = locked
    _appraise(db, assessment, today=ROUND_1, request_explanation=True)
    # even an administrator's override opening round 2 early does not skip the rounds before it
    cycle_store.override_round(db, assessment, ROUND_APPRAISAL_2, date(2027, 1, 5), "Thử mở sớm", actor=ADMIN, today=ROUND_1)
    with pytest.raises(InputError, match="chỉ sau khi vòng thẩm định lần 1 đã kết thúc"):
        _appraise(db, assessment, round_number=2, today=ROUND_1, source=RESULT_2)
    with pytest.raises(InputError, match="chỉ sau khi vòng giải trình đã kết thúc \\(16/01/2027 – 25/01/2027\\)"):
        _appraise(db, assessment, round_number=2, today=EXPLANATION, source=RESULT_2)
    with pytest.raises(InputError, match="Vòng thẩm định lần 2 đã kết thúc ngày 10/02/2027"):
        _appraise(db, assessment, round_number=2, today=AFTER, source=RESULT_2)
    saved = _appraise(db, assessment, round_number=2, today=ROUND_2, points=2, source=RESULT_2)
    assert (saved.appraisal.round1_points, saved.appraised_points) == (Decimal(1), Decimal(2))


def test_explanations_only_when_asked_and_during_the_explanation_window(locked):
    db, _, assessment = locked
    _appraise(db, assessment, today=ROUND_1, request_explanation=True)
    _appraise(db, assessment, "1.2", today=ROUND_1, points=2)

    def explain(code, today):
        return assessment_store.save_explanation(db, assessment, code, _version(db, assessment, code), explanation="Đã bổ sung",
                                     actor=OFFICE, today=today)

    with pytest.raises(InputError, match="Vòng giải trình mở từ 16/01/2027 đến 25/01/2027"):
        explain("1.1", ROUND_1)
    with pytest.raises(InputError, match="Tiêu chí 1.2: Sở Nội vụ chưa yêu cầu giải trình"):
        explain("1.2", EXPLANATION)
    with pytest.raises(PermissionDenied):  # the department explains, never the appraiser
        assessment_store.save_explanation(db, assessment, "1.1", _version(db, assessment), explanation="x", actor=APPRAISER,
                              today=EXPLANATION)
    assert explain("1.1", EXPLANATION).appraisal.explanation == "Đã bổ sung"
    with pytest.raises(InputError, match="Vòng giải trình đã kết thúc ngày 25/01/2027"):
        explain("1.1", ROUND_2)


def test_the_administrator_opens_a_round_now_with_a_reason_and_it_is_audited(locked):
    db, department, assessment = locked
    with pytest.raises(PermissionDenied):
        cycle_store.override_round(db, assessment, ROUND_APPRAISAL_1, date(2026, 12, 5), "Sớm", actor=OFFICE, today=BEFORE_ROUND_1)
    with pytest.raises(InputError, match="Cần ghi lý do"):
        cycle_store.override_round(db, assessment, ROUND_APPRAISAL_1, date(2026, 12, 5), "  ", actor=ADMIN, today=BEFORE_ROUND_1)
    with pytest.raises(InputError, match="đã qua"):
        cycle_store.override_round(db, assessment, ROUND_APPRAISAL_1, date(2026, 11, 30), "Sớm", actor=ADMIN, today=BEFORE_ROUND_1)
    opened = cycle_store.override_round(db, assessment, ROUND_APPRAISAL_1, date(2026, 12, 5), "Sở Nội vụ thẩm định sớm theo "
                                 "Công văn 99/SNV", actor=ADMIN, today=BEFORE_ROUND_1)
    assert [(o.round_code, o.opened_on, o.until, o.by) for o in opened.round_overrides] == [
        (ROUND_APPRAISAL_1, BEFORE_ROUND_1, date(2026, 12, 5), "quantri")]
    entry = next(e for e in audit_trail.audit_log(db, department, viewer=actors.SYSTEM_ACTOR) if e.field == "mở vòng ngoài lịch")
    assert entry.actor == "quantri" and entry.new == ("Thẩm định lần 1 từ 01/12/2026 đến 05/12/2026: "
                                                      "Sở Nội vụ thẩm định sớm theo Công văn 99/SNV")
    assert _appraise(db, assessment, today=BEFORE_ROUND_1).appraised_points == Decimal(1)
    with pytest.raises(InputError, match="Vòng thẩm định lần 1 mở từ 21/12/2026"):  # the override is over
        _appraise(db, assessment, today=date(2026, 12, 6), points=2)


def test_an_extension_keeps_a_closed_round_open(locked):
    db, _, assessment = locked
    cycle_store.override_round(db, assessment, ROUND_EXPLANATION, date(2027, 1, 28), "Gia hạn giải trình", actor=ADMIN,
                        today=date(2027, 1, 25))
    _appraise(db, assessment, today=ROUND_1, request_explanation=True)
    saved = assessment_store.save_explanation(db, assessment, "1.1", _version(db, assessment), explanation="Nộp muộn có phép",
                                  actor=OFFICE, today=date(2027, 1, 27))
    assert saved.appraisal.explanation == "Nộp muộn có phép"
    with pytest.raises(InputError, match="chỉ sau khi vòng giải trình đã kết thúc"):  # round 2 waits for the extension
        _appraise(db, assessment, round_number=2, today=date(2027, 1, 27), source=RESULT_2)


def test_after_publication_nothing_changes_until_the_administrator_reopens(locked):
    db, department, assessment = locked
    _appraise(db, assessment, today=ROUND_1, request_explanation=True)
    with pytest.raises(InputError, match="Còn 1/2 tiêu chí chưa thẩm định"):
        cycle_store.publish_index(db, assessment, actor=ADMIN, today=AFTER)
    _appraise(db, assessment, "1.2", today=ROUND_1, points=2)
    with pytest.raises(PermissionDenied):
        cycle_store.publish_index(db, assessment, actor=OFFICE, today=AFTER)
    published = cycle_store.publish_index(db, assessment, actor=ADMIN, today=AFTER)
    assert published.published_by == "quantri" and published.published_at is not None
    assert any(e.field == "công bố chỉ số" and e.new == "75% — Nhóm C" for e in audit_trail.audit_log(db, department, viewer=actors.SYSTEM_ACTOR))

    before = audit_trail.audit_log(db, department, viewer=actors.SYSTEM_ACTOR)
    every_write = [
        lambda: assessment_store.save_self_score(db, assessment, "1.1", _version(db, assessment), inputs={"value": 1}, actor="vp"),
        lambda: _appraise(db, assessment, today=ROUND_1, points=2),
        lambda: assessment_store.save_explanation(db, assessment, "1.1", _version(db, assessment), explanation="x", actor=OFFICE,
                                      today=EXPLANATION),
        lambda: cycle_store.save_bonus_penalty(db, assessment, 0, bonus="1", penalty="", source=RESULT_2, actor="vp", today=AFTER),
        lambda: cycle_store.reopen_self_score(db, assessment, "Sửa", actor=ADMIN),
        lambda: cycle_store.override_round(db, assessment, ROUND_APPRAISAL_1, date(2027, 3, 1), "Sửa", actor=ADMIN, today=AFTER),
        lambda: cycle_store.publish_index(db, assessment, actor=ADMIN, today=AFTER),
    ]
    for write in every_write:
        with pytest.raises(InputError):
            write()
    assert audit_trail.audit_log(db, department, viewer=actors.SYSTEM_ACTOR) == before
    with pytest.raises(InputError, match="lý do"):
        cycle_store.reopen_published(db, assessment, " ", actor=ADMIN)
    cycle_store.reopen_published(db, assessment, "Tỉnh điều chỉnh điểm tiêu chí 1.1", actor=ADMIN)
    entry = next(e for e in audit_trail.audit_log(db, department, viewer=actors.SYSTEM_ACTOR) if e.field == "mở lại chỉ số đã công bố")
    assert entry.actor == "quantri" and entry.new == "mở lại: Tỉnh điều chỉnh điểm tiêu chí 1.1"
    assert entry.old.startswith("công bố lúc ") and entry.old.endswith("bởi quantri")
    assert cycle_store.save_bonus_penalty(db, assessment, 0, bonus="1", penalty="", source=RESULT_2, actor="vp",
                                   today=AFTER).bonus_points == Decimal(1)


def test_without_an_appraiser_account_the_office_transcribes_naming_the_document(locked):
    db, department, assessment = locked
    with pytest.raises(InputError, match="cần ghi số, ký hiệu và ngày"):
        _appraise(db, assessment, today=ROUND_1, source=None)
    with pytest.raises(InputError, match="cần ghi ngày"):
        _appraise(db, assessment, today=ROUND_1, source=SourceDocument("12/KQ-SNV", None))
    saved = _appraise(db, assessment, today=ROUND_1, actor=OFFICE)
    author = saved.appraisal.round1_author
    assert (author.kind, author.username, author.source) == (AUTHOR_TRANSCRIBED, "vanphong", RESULT_1)
    assert author.text == "Văn phòng ghi theo văn bản số 12/KQ-SNV ngày 28/12/2026 («vanphong»)"
    assert assessment_store.list_scores(db, assessment)["1.1"].appraisal.round1_author == author  # stored with the appraisal
    entry = next(e for e in audit_trail.audit_log(db, department, viewer=actors.SYSTEM_ACTOR) if e.field == "người nhập thẩm định lần 1")
    assert entry.new == author.text


def test_with_an_appraiser_account_only_it_appraises_and_nobody_edits_the_others_entries(locked):
    db, department, assessment = locked
    _appraise(db, assessment, "1.2", today=ROUND_1, actor=OFFICE)  # transcribed before any appraiser account existed
    accounts.create_account(db, "snv", role=Role.APPRAISER, password="Mat-khau-du-dai-2026", department_ids=[department], actor=actors.SYSTEM_ACTOR)
    with pytest.raises(InputError, match="đã có tài khoản thẩm định «snv»"):
        _appraise(db, assessment, today=ROUND_1, actor=OFFICE)
    with pytest.raises(InputError, match="đã có tài khoản thẩm định «snv»"):
        cycle_store.save_bonus_penalty(db, assessment, 0, bonus="1", penalty="", source=RESULT_1, actor=OFFICE, today=ROUND_1)
    saved = _appraise(db, assessment, today=ROUND_1, actor=APPRAISER, source=None, remark="Thiếu phụ lục")
    assert (saved.appraisal.round1_author.kind, saved.appraisal.round1_author.username) == (AUTHOR_APPRAISER, "snv")
    assert saved.appraisal.round1_author.text == "Thẩm định «snv» nhập"
    with pytest.raises(InputError, match="Văn phòng ghi theo văn bản số 12/KQ-SNV.*tài khoản thẩm định không sửa"):
        _appraise(db, assessment, "1.2", today=ROUND_1, actor=APPRAISER, source=None)
    # the appraiser account is disabled: the Office may transcribe again, but still not over the appraiser's entry
    with db.session() as session:
        session.get(accounts.Account, 1).active = False
    with pytest.raises(InputError, match="Thẩm định «snv» nhập; Văn phòng không sửa"):
        _appraise(db, assessment, today=ROUND_1, actor=OFFICE, points=2)
    bonus = cycle_store.save_bonus_penalty(db, assessment, 0, bonus="1", penalty="", source=RESULT_1, actor=OFFICE, today=ROUND_1)
    assert bonus.bonus_penalty_author.kind == AUTHOR_TRANSCRIBED


def test_bonus_and_penalty_expect_the_version_the_person_saw(locked):
    db, department, assessment = locked
    first = cycle_store.save_bonus_penalty(db, assessment, 0, bonus="1", penalty="0,5", source=RESULT_1, actor="vp", today=ROUND_1)
    assert (first.bonus_points, first.penalty_points, first.bonus_penalty_version) == (Decimal(1), Decimal("0.5"), 1)
    before = audit_trail.audit_log(db, department, viewer=actors.SYSTEM_ACTOR)
    with pytest.raises(ConflictError, match="vừa được sửa"):
        cycle_store.save_bonus_penalty(db, assessment, 0, bonus="2", penalty="", source=RESULT_1, actor="vp2", today=ROUND_1)
    assert audit_trail.audit_log(db, department, viewer=actors.SYSTEM_ACTOR) == before
    assert assessment_state.get_assessment(db, department, 2026).bonus_points == Decimal(1)
    second = cycle_store.save_bonus_penalty(db, assessment, 1, bonus="2", penalty="", source=RESULT_1, actor="vp2", today=ROUND_1)
    assert (second.bonus_points, second.penalty_points, second.bonus_penalty_version) == (Decimal(2), None, 2)
    with pytest.raises(InputError, match="từ khi vòng thẩm định lần 1 bắt đầu"):
        cycle_store.save_bonus_penalty(db, assessment, 2, bonus="1", penalty="", source=RESULT_1, actor="vp",
                                today=BEFORE_ROUND_1)


def test_the_cycle_state_the_page_reads_is_the_one_the_writes_check(locked):
    db, department, assessment = locked
    state = assessment_state.cycle_state(db, assessment, today=ROUND_1)
    assert state.locked and state.round_open(ROUND_APPRAISAL_1) and not state.round_open(ROUND_EXPLANATION)
    assert state.appraisers == ()
    accounts.create_account(db, "snv", role=Role.APPRAISER, password="Mat-khau-du-dai-2026", department_ids=[department], actor=actors.SYSTEM_ACTOR)
    accounts.create_account(db, "snv-khac", role=Role.APPRAISER, password="Mat-khau-du-dai-2026", department_ids=[], actor=actors.SYSTEM_ACTOR)
    assert assessment_state.cycle_state(db, assessment, today=ROUND_1).appraisers == ("snv",)


def test_today_is_the_vietnam_date(monkeypatch):
    import scoring.textnorm

    class LateEveningUtc(datetime):
        @classmethod
        def now(cls, tz=None):  # 23:30 UTC on 20/12 is 06:30 on 21/12 in Vietnam (UTC+7, no daylight saving)
            moment = datetime(2026, 12, 20, 23, 30, tzinfo=timezone.utc)
            return moment.astimezone(tz) if tz is not None else moment.replace(tzinfo=None)

    monkeypatch.setattr(scoring.textnorm, "datetime", LateEveningUtc)  # the one clock: textnorm.local_now
    assert vietnam_today() == date(2026, 12, 21)  # round 1's first day, although the server's UTC date is the 20th
    assert vietnam_today(date(2026, 12, 1)) == date(2026, 12, 1)


def test_authors_and_overrides_are_stored_as_plain_data_and_read_back():
    from scoring.assessment.appraisal import Authorship, LeafAppraisal
    from scoring.assessment.cycle import RoundOverride

    appraisal = LeafAppraisal(round1_points=Decimal("0.5"), round1_author=Authorship(AUTHOR_TRANSCRIBED, "vp", RESULT_1),
                              round2_points=Decimal(1), round2_author=Authorship(AUTHOR_APPRAISER, "snv"))
    assert LeafAppraisal.from_dict(appraisal.to_dict()) == appraisal
    assert LeafAppraisal.from_dict({"round1_points": 1}).round1_author is None  # entered before authors were kept
    override = RoundOverride(ROUND_APPRAISAL_1, date(2026, 12, 1), date(2026, 12, 5), "Sớm", "quantri",
                             datetime(2026, 12, 1, 2, 0))
    assert RoundOverride.from_dict(override.to_dict()) == override
    with pytest.raises(InputError, match="không phải là cách nhập đã biết"):
        Authorship.from_dict({"kind": "ai_do", "username": "x"})
    with pytest.raises(InputError, match="thiếu ngày mở"):
        RoundOverride.from_dict({"round": ROUND_APPRAISAL_1, "until": "2026-12-05", "at": "2026-12-01T02:00:00"})

# --------------------------------------------------------------------------- on the scoring page

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PASSWORD = "Mat-khau-du-dai-2026"


def _settings_with_round_1_from(first_day: date):
    """The 2026 settings with round 1 opening on `first_day` (the page uses the real Vietnam date)."""
    day = timedelta(days=1)
    rounds = (Round(ROUND_SELF_SCORING, "Tự chấm điểm", first_day - 60 * day, first_day - day),
              Round(ROUND_APPRAISAL_1, "Thẩm định lần 1", first_day, first_day + 10 * day),
              Round(ROUND_EXPLANATION, "Giải trình", first_day + 11 * day, first_day + 15 * day),
              Round(ROUND_APPRAISAL_2, "Thẩm định lần 2", first_day + 16 * day, first_day + 20 * day))
    return replace(default_settings(2026), rounds=rounds)


@pytest.fixture
def locked_app(monkeypatch, browser_cookie):
    """The default workspace with sign-in on, every criterion scored and the self-score locked; round 1 opens
    tomorrow. Returns the database, the assessment and a function that signs an account in on the scoring page."""
    from streamlit.testing.v1 import AppTest

    from scoring.criteria.rules import RuleKind
    from scoring.store.db import open_database
    from scoring.store.workspace import ensure_default_workspace

    monkeypatch.setenv("CCHC_AUTH", "on")
    db = open_database()
    workspace = ensure_default_workspace(db)
    assessment = assessment_state.get_assessment(db, workspace.department_id, 2026)
    sample = {RuleKind.TIERS: lambda r: {"tier": r.tiers[0].label}, RuleKind.RATIO: lambda r: {"numerator": 9, "denominator": 10},
              RuleKind.COUNT: lambda r: {"count": 1}, RuleKind.VALUE: lambda r: {"value": "0"},
              RuleKind.DEDUCTION: lambda r: {"occurrences": 0}, RuleKind.SURVEY: lambda r: {}}
    for leaf in criteria_store.load_criteria(db, assessment.criteria_set_id).leaves():
        assessment_store.save_self_score(db, assessment.id, leaf.code, 0, inputs=sample[leaf.rule.kind](leaf.rule),
                             explanation="Đối chiếu hồ sơ", actor="vanphong")
    cycle_store.lock_self_score(db, assessment.id, actor="vanphong")
    cycle_store.save_year_settings(db, assessment.id, assessment_state.get_assessment(db, workspace.department_id, 2026).settings_version,
                            _settings_with_round_1_from(vietnam_today() + timedelta(days=1)), actor="quantri")

    def sign_in(username: str, role: Role) -> AppTest:
        if accounts.principal_for(db, username) is None:
            accounts.create_account(db, username, role=role, password=PASSWORD, department_ids=[workspace.department_id],
                                    unit="Phòng Tôn giáo" if role is Role.UNIT else None, actor=actors.SYSTEM_ACTOR)
        at = AppTest.from_file(APP, default_timeout=60)
        browser_cookie(at, username, PASSWORD)
        at.run()
        at.session_state["cycle-panel-open"] = True  # the rounds, bonus and publication panel, as a click opens it
        at.switch_page("views/cham_diem.py").run()  # the appraiser lands on Các cơ quan, the others on Tổng quan
        assert not at.exception and not at.error, [e.value for e in at.error]
        return at

    return db, assessment, sign_in


def _keys(at) -> set[str]:
    return {w.key for w in (*at.text_input, *at.text_area, *at.checkbox, *at.date_input) if w.key}


def _captions(at) -> list[str]:
    return [re.sub(r"\\(.)", r"\1", c.value) for c in at.caption]


def test_the_page_shows_round_1_inputs_only_once_the_round_is_open(locked_app):
    db, assessment, sign_in = locked_app
    office = sign_in("vanphong", Role.OFFICE)
    points = f"s-{assessment.id}-1.1.1-r1-points"
    tomorrow = format_date(vietnam_today() + timedelta(days=1))
    assert points not in _keys(office) and "appraisal-source-number" not in _keys(office)
    assert any(c.startswith(f"Vòng thẩm định lần 1 mở từ {tomorrow}") for c in _captions(office))
    assert f"s-{assessment.id}-1.1.1-answer" not in _keys(office)

    cycle_store.override_round(db, assessment.id, ROUND_APPRAISAL_1, vietnam_today() + timedelta(days=3),
                        "Sở Nội vụ thẩm định sớm", actor="quantri")
    office = sign_in("vanphong", Role.OFFICE)
    assert {points, "appraisal-source-number", "appraisal-source-date"} <= _keys(office)
    office.text_input(key=points).input("0,5").run()  # without the document: refused, nothing stored
    assert any("cần ghi số, ký hiệu và ngày" in e.value for e in office.error)
    assert assessment_store.list_scores(db, assessment.id)["1.1.1"].appraisal.round1_points is None
    office.text_input(key="appraisal-source-number").input("25/KQ-SNV")
    office.date_input(key="appraisal-source-date").set_value(date(2026, 12, 28))
    office.text_input(key=points).input("0,25").run()
    stored = assessment_store.list_scores(db, assessment.id)["1.1.1"].appraisal
    assert stored.round1_points == Decimal("0.25")
    assert stored.round1_author.text == "Văn phòng ghi theo văn bản số 25/KQ-SNV ngày 28/12/2026 («vanphong»)"
    office = sign_in("vanphong", Role.OFFICE)
    assert stored.round1_author.text in _captions(office)


def test_with_an_appraiser_account_the_office_sees_the_appraisal_read_only(locked_app):
    db, assessment, sign_in = locked_app
    cycle_store.override_round(db, assessment.id, ROUND_APPRAISAL_1, vietnam_today() + timedelta(days=3), "Thẩm định sớm",
                        actor="quantri")
    appraiser = sign_in("snv", Role.APPRAISER)
    points = f"s-{assessment.id}-1.1.1-r1-points"
    assert points in _keys(appraiser) and "appraisal-source-number" not in _keys(appraiser)
    assert "bonus-points" in _keys(appraiser)
    office = sign_in("vanphong", Role.OFFICE)
    assert points not in _keys(office) and "bonus-points" not in _keys(office)
    assert any("đã có tài khoản thẩm định «snv»" in c for c in _captions(office))
    unit = sign_in("phongtg", Role.UNIT)
    assert points not in _keys(unit)
    assert not any("tài khoản thẩm định" in c or "Vòng thẩm định" in c for c in _captions(unit))  # said once, as read-only


def test_after_publication_the_page_offers_no_editor_and_the_administrator_reopens(locked_app):
    from scoring.store.models import Assessment

    db, assessment, sign_in = locked_app
    cycle_store.override_round(db, assessment.id, ROUND_APPRAISAL_1, vietnam_today() + timedelta(days=3), "Thẩm định sớm",
                        actor="quantri")
    with db.session() as session:  # published as publish_index leaves it (its own checks are tested above)
        row = session.get(Assessment, assessment.id)
        row.published_at, row.published_by = datetime(2026, 12, 1, 3, 0), "quantri"
    office = sign_in("vanphong", Role.OFFICE)
    assert f"s-{assessment.id}-1.1.1-r1-points" not in _keys(office) and "bonus-points" not in _keys(office)
    assert any("đã công bố lúc 10:00 01/12/2026 (quantri)" in re.sub(r"\\(.)", r"\1", s.value) for s in office.success)
    assert not [b for b in office.button if b.key in ("lock-reopen", "publish-reopen", "override-now")]
    admin = sign_in("quantri", Role.ADMIN)
    assert not [b for b in admin.button if b.key in ("lock-reopen", "override-now", "publish-now")]
    admin.text_input(key="publish-reopen-reason").input("Tỉnh điều chỉnh kết quả")
    admin.button(key="publish-reopen").click().run()
    assert assessment_state.get_assessment(db, assessment.department_id, 2026).published_at is None
    assert f"s-{assessment.id}-1.1.1-r1-points" in _keys(admin)
