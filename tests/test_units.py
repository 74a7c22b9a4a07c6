import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.plan.units import COLLECTIVE_UNIT, expand_units, is_collective, normalise_unit, split_units, unit_key


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


# --- split_units -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        # The lead and partner cells of the 2026 plan, as written.
        ("Văn phòng", ["Văn phòng"]),
        ("Các phòng thuộc Sở", [COLLECTIVE_UNIT]),
        ("Phòng CSĐT, phòng Tôn giáo, Văn phòng", ["Phòng CSĐT", "Phòng Tôn giáo", "Văn phòng"]),
    ],
)
def test_split_units_reads_the_seed_plan_cells(cell, expected):
    assert split_units(cell) == expected


@pytest.mark.parametrize(
    "phrase",
    [
        "Các phòng thuộc Sở",
        "các phòng, đơn vị thuộc Sở",
        "Các phòng chuyên môn thuộc Sở",
        "Các phòng, ban, đơn vị trực thuộc",
        "Tất cả các phòng",
        "các đơn vị thuộc Sở",
        "Các phòng, đơn vị trực thuộc Sở",
        "Các phòng và đơn vị thuộc Sở",
        "Các phòng",
        "CÁC PHÒNG THUỘC SỞ",
        nfd("các phòng, đơn vị thuộc Sở"),
    ],
)
def test_collective_phrases_become_one_entry(phrase):
    assert split_units(phrase) == [COLLECTIVE_UNIT]
    assert is_collective(phrase)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("Văn phòng; Phòng Tôn giáo", ["Văn phòng", "Phòng Tôn giáo"]),
        ("Văn phòng\nPhòng Tôn giáo", ["Văn phòng", "Phòng Tôn giáo"]),
        ("Văn phòng và Phòng Tôn giáo", ["Văn phòng", "Phòng Tôn giáo"]),
        ("VĂN PHÒNG VÀ phòng Tôn giáo", ["Văn phòng", "Phòng Tôn giáo"]),
        ("Văn phòng Và Phòng Tôn giáo", ["Văn phòng", "Phòng Tôn giáo"]),
        # " - " is part of a unit's name, never a separator.
        ("Phòng Kế hoạch - Tài chính, Văn phòng", ["Phòng Kế hoạch - Tài chính", "Văn phòng"]),
        # "và" only as a word ("vàng" never splits), and only before a new unit's name: names of
        # bodies contain "và" (this department is "Sở Dân tộc và Tôn giáo").
        ("Phòng Quản lý vàng bạc", ["Phòng Quản lý vàng bạc"]),
        ("Sở Dân tộc và Tôn giáo", ["Sở Dân tộc và Tôn giáo"]),
        ("Phòng Dân tộc và Tôn giáo, Văn phòng", ["Phòng Dân tộc và Tôn giáo", "Văn phòng"]),
        ("Phòng Nội vụ và Tổ chức cán bộ", ["Phòng Nội vụ và Tổ chức cán bộ"]),
        ("Văn phòng và UBND tỉnh", ["Văn phòng", "UBND tỉnh"]),
        ("Văn phòng và các phòng chuyên môn", ["Văn phòng", COLLECTIVE_UNIT]),
        ("Sở Dân tộc và Tôn giáo và Văn phòng", ["Sở Dân tộc và Tôn giáo", "Văn phòng"]),
        ("Văn phòng và", ["Văn phòng"]),
        ("và Văn phòng", ["Văn phòng"]),
        # Bullet lists pasted from Word.
        ("- Văn phòng;\n- Phòng CSĐT.", ["Văn phòng", "Phòng CSĐT"]),
        ("+ Văn phòng\n+ Phòng CSĐT", ["Văn phòng", "Phòng CSĐT"]),
    ],
)
def test_split_units_separators(cell, expected):
    assert split_units(cell) == expected


def test_collective_phrase_with_commas_among_named_units_keeps_its_place():
    cell = "Văn phòng, các phòng, đơn vị thuộc Sở và Phòng Kế hoạch - Tài chính"
    assert split_units(cell) == ["Văn phòng", COLLECTIVE_UNIT, "Phòng Kế hoạch - Tài chính"]


def test_plural_list_of_named_units_is_not_collective():
    # "Các phòng CSĐT, Tôn giáo" names two units; only an owner ("thuộc Sở") or nothing after
    # "các phòng" makes it mean the whole department.
    assert split_units("Các phòng CSĐT, Tôn giáo") == ["Các phòng CSĐT", "Tôn giáo"]
    assert not is_collective("Các phòng CSĐT")


def test_split_units_drops_empties_and_duplicates_keeping_first_order():
    cell = "Văn phòng, , văn phòng; Phòng CSĐT,,VĂN PHÒNG, phòng CSĐT, Các phòng thuộc Sở, tất cả các phòng"
    assert split_units(cell) == ["Văn phòng", "Phòng CSĐT", COLLECTIVE_UNIT]


@pytest.mark.parametrize("cell", ["", "   ", "\n\t", None, ", ; ,", "-"])
def test_split_units_of_blank_cells_is_empty(cell):
    assert split_units(cell) == []


def test_split_units_decomposed_input_gives_nfc_names():
    units = split_units(nfd("phòng Tôn giáo, Văn phòng"))
    assert units == ["Phòng Tôn giáo", "Văn phòng"]
    assert all(unicodedata.is_normalized("NFC", unit) for unit in units)


@given(st.text())
def test_split_units_never_raises_and_returns_clean_distinct_names(text):
    units = split_units(text)
    assert all(unit and unit == unit.strip() for unit in units)
    assert len({unit.casefold() for unit in units}) == len(units)
    assert all(unicodedata.is_normalized("NFC", unit) for unit in units)


# --- normalise_unit --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("phòng Tôn giáo", "Phòng Tôn giáo"),
        ("PHÒNG Tôn giáo", "Phòng Tôn giáo"),
        ("Phòng CSĐT", "Phòng CSĐT"),
        ("phòng CSĐT", "Phòng CSĐT"),
        ("Văn phòng", "Văn phòng"),
        ("văn phòng", "Văn phòng"),
        ("VĂN PHÒNG", "Văn phòng"),
        ("Văn Phòng", "Văn phòng"),
        ("trung tâm Công nghệ thông tin", "Trung tâm Công nghệ thông tin"),
        ("TRUNG TÂM CNTT", "Trung tâm CNTT"),
        ("chi cục Văn thư - Lưu trữ", "Chi cục Văn thư - Lưu trữ"),
        ("ban Giám đốc", "Ban Giám đốc"),
        ("đơn vị sự nghiệp", "Đơn vị sự nghiệp"),
        ("thanh tra Sở", "Thanh tra Sở"),
        ("lãnh đạo Sở", "Lãnh đạo Sở"),
        ("  Phòng   Tôn\u00a0giáo .  ", "Phòng Tôn giáo"),
        ("Phòng Tôn giáo;", "Phòng Tôn giáo"),
        ("- Phòng Tôn giáo", "Phòng Tôn giáo"),
        ("BỘ PHẬN Một cửa", "Bộ phận Một cửa"),
        # Not a unit-type word: only the first letter changes.
        ("tổ công tác CCHC", "Tổ công tác CCHC"),
        ("TỔ CHỨC CÔNG ĐOÀN", "TỔ CHỨC CÔNG ĐOÀN"),
        ("công an tỉnh", "Công an tỉnh"),
        ("UBND tỉnh", "UBND tỉnh"),
        # A prefix word only counts as a whole word: "BANGKOK" does not start with "Ban".
        ("BANGKOK office", "BANGKOK office"),
        ("các phòng thuộc sở", COLLECTIVE_UNIT),
        ("", ""),
        (" . ", ""),
    ],
)
def test_normalise_unit(name, expected):
    assert normalise_unit(name) == expected


def test_normalise_unit_of_decomposed_text_is_nfc():
    assert normalise_unit(nfd("VĂN PHÒNG")) == "Văn phòng"
    assert normalise_unit(nfd("phòng Tôn giáo")) == "Phòng Tôn giáo"


@given(st.text())
def test_normalise_unit_is_idempotent(name):
    once = normalise_unit(name)
    assert normalise_unit(once) == once


def test_unit_key_ignores_case_but_not_accents():
    assert unit_key("Phòng CSĐT") == unit_key("phòng csđt")
    assert unit_key("Ban Tổ chức") != unit_key("Bàn Tổ chức")


# --- is_collective / expand_units ------------------------------------------------------------


@pytest.mark.parametrize("name", ["Văn phòng", "Phòng Tôn giáo", "Sở Nội vụ", "Các phòng CSĐT", "", "thuộc Sở"])
def test_is_collective_false_for_single_units(name):
    assert not is_collective(name)


DEPARTMENT = ["Văn phòng", "Phòng CSĐT", "Phòng Tôn giáo", "Thanh tra"]


def test_expand_units_replaces_the_collective_entry_by_every_configured_unit():
    assert expand_units([COLLECTIVE_UNIT], DEPARTMENT) == DEPARTMENT


def test_expand_units_keeps_named_units_and_dedupes():
    units = ["Phòng Tôn giáo", COLLECTIVE_UNIT, "Phòng Pháp chế"]
    assert expand_units(units, DEPARTMENT) == [
        "Phòng Tôn giáo",
        "Văn phòng",
        "Phòng CSĐT",
        "Thanh tra",
        "Phòng Pháp chế",
    ]


def test_expand_units_normalises_both_sides():
    assert expand_units(["tất cả các phòng", "phòng csđt"], ["văn phòng", "Phòng CSĐT"]) == [
        "Văn phòng",
        "Phòng CSĐT",
    ]


def test_expand_units_keeps_the_collective_entry_when_no_unit_is_configured():
    assert expand_units([COLLECTIVE_UNIT, "Văn phòng"], []) == [COLLECTIVE_UNIT, "Văn phòng"]
    # A collective entry in the configuration itself is not a unit to expand into.
    assert expand_units([COLLECTIVE_UNIT], [COLLECTIVE_UNIT]) == [COLLECTIVE_UNIT]


def test_expand_units_without_collective_does_not_add_department_units():
    assert expand_units(["Văn phòng"], DEPARTMENT) == ["Văn phòng"]
