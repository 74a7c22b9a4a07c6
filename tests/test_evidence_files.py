"""Evidence-file uploads: name, size and content checks, and the content-addressed store."""

from __future__ import annotations

import hashlib
import io
import os
import unicodedata
import zipfile
from pathlib import Path

import docx
import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.errors import InputError, StorageError
from scoring.store import evidence_files, uploads
from scoring.store.evidence_files import EvidenceStore, evidence_key
from scoring.store.uploads import (
    ALLOWED_KINDS,
    MAX_DISPLAY_NAME_CHARS,
    MAX_UPLOAD_BYTES,
    CheckedUpload,
    check_upload,
    safe_display_name,
    sniff_kind,
)

# ---------------------------------------------------------------------------
# Fixture files, built for real in tmp_path by the libraries that make them.


def _tiny_pdf() -> bytes:
    """A minimal but well-formed one-page PDF (correct xref offsets)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref_at)
    return bytes(out)


def _image(tmp_path: Path, image_format: str) -> bytes:
    image_module = pytest.importorskip("PIL.Image")
    path = tmp_path / f"scan.{image_format.lower()}"
    image_module.new("RGB", (4, 3), (200, 30, 30)).save(path, format=image_format)
    return path.read_bytes()


@pytest.fixture
def pdf_bytes(tmp_path: Path) -> bytes:
    path = tmp_path / "bao-cao.pdf"
    path.write_bytes(_tiny_pdf())
    return path.read_bytes()


@pytest.fixture
def png_bytes(tmp_path: Path) -> bytes:
    return _image(tmp_path, "PNG")


@pytest.fixture
def jpeg_bytes(tmp_path: Path) -> bytes:
    return _image(tmp_path, "JPEG")


@pytest.fixture
def docx_bytes(tmp_path: Path) -> bytes:
    document = docx.Document()
    document.add_paragraph("Báo cáo kết quả thực hiện cải cách hành chính năm 2026")
    path = tmp_path / "bao-cao.docx"
    document.save(path)
    return path.read_bytes()


@pytest.fixture
def xlsx_bytes(tmp_path: Path) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "Tiêu chí"
    workbook.active["B1"] = 1.5
    path = tmp_path / "bang-diem.xlsx"
    workbook.save(path)
    return path.read_bytes()


def _zip(entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _with_extra_entry(package: bytes, name: str, data: bytes) -> bytes:
    buffer = io.BytesIO(package)
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


OOXML_MIME = "application/vnd.openxmlformats-officedocument"
ELF_BYTES = b"\x7fELF\x02\x01\x01\x00" + bytes(56)
PE_BYTES = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(48) + b"This program cannot be run in DOS mode."
)


# ---------------------------------------------------------------------------
# Accepted uploads


@pytest.mark.parametrize(
    ("fixture", "filename", "kind", "mime"),
    [
        ("pdf_bytes", "Báo cáo CCHC 2026.pdf", "pdf", "application/pdf"),
        ("png_bytes", "anh-chup.png", "png", "image/png"),
        ("jpeg_bytes", "anh-chup.jpg", "jpg", "image/jpeg"),
        ("jpeg_bytes", "anh-chup.jpeg", "jpg", "image/jpeg"),
        ("docx_bytes", "Kế hoạch.docx", "docx", f"{OOXML_MIME}.wordprocessingml.document"),
        ("xlsx_bytes", "Bảng điểm.xlsx", "xlsx", f"{OOXML_MIME}.spreadsheetml.sheet"),
    ],
)
def test_real_files_of_every_allowed_kind_are_accepted(request, fixture, filename, kind, mime):
    content = request.getfixturevalue(fixture)

    checked = check_upload(filename, content)

    assert checked == CheckedUpload(
        kind=kind,
        mime=mime,
        display_name=filename,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )
    assert sniff_kind(content) == kind
    assert checked.kind in ALLOWED_KINDS


def test_extension_case_does_not_matter_and_is_shown_lower_case(jpeg_bytes):
    assert check_upload("SCAN.JPG", jpeg_bytes).display_name == "SCAN.jpg"


# ---------------------------------------------------------------------------
# Names


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../x.pdf", "x.pdf"),
        ("C:\\..\\x.pdf", "x.pdf"),
        ("C:\\Users\\Lan\\Tài liệu\\Quyết định.pdf", "Quyết định.pdf"),
        ("/etc/passwd/../x.pdf", "x.pdf"),
        ("x.pdf.", "x.pdf"),
        ("  x.pdf  ", "x.pdf"),
        ("x\n\ty.pdf", "x y.pdf"),
        ("a\x00b\x07c\x7f.pdf", "abc.pdf"),
        ("a\U00012544b\ue000.pdf", "ab.pdf"),  # unassigned and private-use code points
        ('a<b>:c|d?e*"f.pdf', "a_b__c_d_e__f.pdf"),
        ("ba\u0301o ca\u0301o.pdf", "báo cáo.pdf"),  # decomposed (NFD) accents arrive from macOS
        ("hoa_don\u202efdp.exe", "hoa_donfdp.exe"),  # right-to-left override would show "exe.pdf"
        ("CON.pdf", "_CON.pdf"),
        (".pdf", "Tài liệu kiểm chứng.pdf"),
        ("../.pdf", "Tài liệu kiểm chứng.pdf"),
        ("Báo cáo v1.2 quý 3", "Báo cáo v1.2 quý 3"),
        ("thư mục/", ""),
        ("", ""),
    ],
)
def test_display_name_is_a_clean_basename(raw, expected):
    assert safe_display_name(raw) == expected


def test_long_names_are_shortened_keeping_the_extension():
    name = safe_display_name("Quyết định " * 40 + ".docx")

    assert len(name) == MAX_DISPLAY_NAME_CHARS
    assert name.endswith(".docx")
    assert name.startswith("Quyết định Quyết định")
    assert not name[: -len(".docx")].endswith(" ")


def test_the_stored_display_name_is_the_cleaned_one(pdf_bytes):
    assert check_upload("..\\..\\Windows\\Báo cáo.pdf", pdf_bytes).display_name == "Báo cáo.pdf"


@pytest.mark.parametrize(
    ("filename", "expected_message"),
    [
        (
            "virus.exe",
            "Tệp «virus.exe» có đuôi .exe không được nhận; "
            "chỉ nhận tài liệu kiểm chứng dạng PDF, Word (.docx), Excel (.xlsx), ảnh JPG hoặc PNG.",
        ),
        ("x.pdf.exe", "Tệp «x.pdf.exe» có đuôi .exe không được nhận"),
        ("README", "Tệp «README» không có đuôi tệp"),
        ("", "Tệp (không có tên) không có đuôi tệp"),
        ("Báo cáo.doc", "Tệp «Báo cáo.doc» là định dạng cũ .doc; hãy mở và lưu lại thành .docx"),
        ("Bảng điểm.xls", "là định dạng cũ .xls; hãy mở và lưu lại thành .xlsx"),
    ],
)
def test_extensions_outside_the_allowed_kinds_are_refused(pdf_bytes, filename, expected_message):
    with pytest.raises(InputError) as refused:
        check_upload(filename, pdf_bytes)
    assert expected_message in str(refused.value)


# ---------------------------------------------------------------------------
# Size


def test_empty_file_is_refused(tmp_path):
    empty = tmp_path / "trong.pdf"
    empty.write_bytes(b"")

    with pytest.raises(InputError, match="Tệp «trong.pdf» rỗng"):
        check_upload(empty.name, empty.read_bytes())


def test_file_over_the_default_limit_is_refused_with_the_limit_in_megabytes(pdf_bytes):
    oversized = pdf_bytes + bytes(MAX_UPLOAD_BYTES)

    with pytest.raises(InputError) as refused:
        check_upload("Hồ sơ.pdf", oversized)

    message = str(refused.value)
    assert "Tệp «Hồ sơ.pdf» có dung lượng 20,1 MB, vượt giới hạn 20 MB cho mỗi tệp" in message


def test_file_at_exactly_the_limit_is_accepted(pdf_bytes):
    assert check_upload("x.pdf", pdf_bytes, max_bytes=len(pdf_bytes)).size == len(pdf_bytes)


def test_limit_is_configurable_per_call_and_written_the_vietnamese_way(pdf_bytes):
    limit = int(1.5 * 1024 * 1024)
    content = pdf_bytes + bytes(limit)

    with pytest.raises(InputError) as refused:
        check_upload("x.pdf", content, max_bytes=limit)

    assert "vượt giới hạn 1,5 MB" in str(refused.value)


def test_small_limits_are_shown_in_smaller_units(pdf_bytes):
    with pytest.raises(InputError, match="có dung lượng .* byte, vượt giới hạn 100 byte"):
        check_upload("x.pdf", pdf_bytes, max_bytes=100)


def test_a_file_just_over_the_limit_never_reads_as_equal_to_it(pdf_bytes):
    limit = 20 * 1024 * 1024
    with pytest.raises(InputError) as refused:
        check_upload("x.pdf", pdf_bytes + bytes(limit - len(pdf_bytes) + 1), max_bytes=limit)

    assert "dung lượng 20,1 MB, vượt giới hạn 20 MB" in str(refused.value)


# ---------------------------------------------------------------------------
# Content


@pytest.mark.parametrize("executable", [ELF_BYTES, PE_BYTES, b"#!/bin/sh\nrm -rf /\n"], ids=["elf", "pe", "script"])
@pytest.mark.parametrize("filename", ["Báo cáo.pdf", "anh.png", "ke-hoach.docx"])
def test_executables_are_refused_whatever_their_name(tmp_path, executable, filename):
    disguised = tmp_path / filename
    disguised.write_bytes(executable)

    with pytest.raises(InputError) as refused:
        check_upload(filename, disguised.read_bytes())

    assert str(refused.value) == (
        f"Tệp «{filename}» là chương trình chạy được (tệp thực thi), "
        "không được tải lên làm tài liệu kiểm chứng."
    )


def test_self_extracting_archive_is_an_executable_not_a_document(docx_bytes):
    with pytest.raises(InputError, match="tệp thực thi"):
        check_upload("x.docx", PE_BYTES + docx_bytes)


def test_text_named_pdf_is_refused_naming_the_file():
    with pytest.raises(InputError) as refused:
        check_upload("x.pdf", "Đây không phải PDF".encode())

    assert str(refused.value).startswith("Tệp «x.pdf» có đuôi .pdf nhưng nội dung không phải PDF")


def test_plain_zip_renamed_docx_is_refused(tmp_path):
    renamed = tmp_path / "ho-so.docx"
    renamed.write_bytes(_zip({"readme.txt": b"hello", "data.csv": b"a,b\n1,2\n"}))

    with pytest.raises(InputError) as refused:
        check_upload(renamed.name, renamed.read_bytes())

    assert str(refused.value).startswith(
        "Tệp «ho-so.docx» có đuôi .docx nhưng nội dung không phải tài liệu Word (.docx)"
    )


def test_zip_with_word_part_but_no_content_types_is_not_a_docx():
    not_a_package = _zip({"word/document.xml": b"<w:document/>"})

    assert sniff_kind(not_a_package) is None
    with pytest.raises(InputError, match="không phải tài liệu Word"):
        check_upload("x.docx", not_a_package)


def test_mismatch_between_two_allowed_kinds_suggests_the_right_extension(xlsx_bytes, png_bytes):
    with pytest.raises(InputError) as refused:
        check_upload("bang-diem.docx", xlsx_bytes)
    assert str(refused.value) == (
        "Tệp «bang-diem.docx» có đuôi .docx nhưng nội dung không phải tài liệu Word (.docx) "
        "(nội dung là bảng tính Excel (.xlsx); hãy đổi đuôi thành .xlsx)."
    )

    with pytest.raises(InputError, match=r"nội dung là ảnh PNG; hãy đổi đuôi thành \.png"):
        check_upload("anh.jpg", png_bytes)


def test_old_office_or_password_protected_file_gets_a_useful_hint():
    ole_container = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)

    with pytest.raises(InputError, match="định dạng Office cũ .doc/.xls hoặc tệp đã đặt mật khẩu"):
        check_upload("x.docx", ole_container)


def test_truncated_docx_is_refused(docx_bytes):
    with pytest.raises(InputError, match="nội dung không phải tài liệu Word"):
        check_upload("x.docx", docx_bytes[: len(docx_bytes) // 2])


def test_zip_with_junk_before_it_is_not_accepted_as_office(docx_bytes):
    # zipfile itself would read it (it searches from the end); Office files start with an entry.
    assert sniff_kind(b"junk" + docx_bytes) is None


def test_macro_enabled_package_renamed_docx_is_refused(docx_bytes):
    with_macros = _with_extra_entry(docx_bytes, "word/vbaProject.bin", b"\x00" * 64)

    with pytest.raises(InputError, match=r"Tệp «x.docx» có chứa macro \(VBA\)"):
        check_upload("x.docx", with_macros)


def test_zip_bomb_is_refused_by_its_compression_ratio():
    # 64 MB of zeros deflates to about 64 KB: far above any real document's ratio.
    bomb = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": bytes(64 * 1024 * 1024)})
    assert len(bomb) < 1024 * 1024

    with pytest.raises(InputError, match="khi giải nén sẽ lớn bất thường"):
        check_upload("bom.docx", bomb)


def test_unpacked_size_cap_applies_even_at_ordinary_ratios(monkeypatch, xlsx_bytes):
    monkeypatch.setattr(uploads, "MAX_UNPACKED_BYTES", 1024)

    with pytest.raises(InputError, match="Tệp «x.xlsx» khi giải nén sẽ lớn bất thường"):
        check_upload("x.xlsx", xlsx_bytes)


def test_entry_count_cap(monkeypatch, docx_bytes):
    monkeypatch.setattr(uploads, "MAX_ZIP_ENTRIES", 3)

    with pytest.raises(InputError, match="thành phần"):
        check_upload("x.docx", docx_bytes)


def test_lying_directory_is_never_inflated():
    # The directory declares tiny sizes; since nothing is decompressed the lie costs nothing,
    # and the archive is judged by its part names only.
    package = _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})

    assert check_upload("x.xlsx", package).kind == "xlsx"


# ---------------------------------------------------------------------------
# Properties: whatever arrives, the only failure is an InputError a person can read.


_MAGIC_PREFIXES = st.sampled_from(
    [b"", b"%PDF-", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"PK\x03\x04", b"PK\x05\x06", b"MZ", b"\x7fELF", b"#!"]
)
_NAMES = st.one_of(
    st.text(),
    st.builds(
        lambda stem, ext: stem + ext,
        st.text(),
        st.sampled_from([".pdf", ".docx", ".xlsx", ".jpg", ".jpeg", ".png", ".PDF"]),
    ),
)


def _assert_sound(checked: CheckedUpload, content: bytes) -> None:
    name = checked.display_name
    assert checked.kind in ALLOWED_KINDS and checked.size == len(content)
    assert name == unicodedata.normalize("NFC", name)
    assert 0 < len(name) <= MAX_DISPLAY_NAME_CHARS
    assert not any(ch in name for ch in '/\\<>:"|?*')
    assert all(ch.isprintable() for ch in name)
    assert name.rpartition(".")[2] in uploads.EXTENSION_KIND


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(filename=_NAMES, prefix=_MAGIC_PREFIXES, body=st.binary(max_size=2048))
def test_check_upload_raises_only_input_error(filename, prefix, body):
    content = prefix + body
    try:
        checked = check_upload(filename, content, max_bytes=1024)
    except InputError as refused:
        assert str(refused).startswith("Tệp ")
    else:
        _assert_sound(checked, content)


def _office_packages() -> list[tuple[str, bytes]]:
    document = docx.Document()
    document.add_paragraph("Tài liệu kiểm chứng")
    docx_buffer = io.BytesIO()
    document.save(docx_buffer)
    xlsx_buffer = io.BytesIO()
    openpyxl.Workbook().save(xlsx_buffer)
    return [("x.docx", docx_buffer.getvalue()), ("x.xlsx", xlsx_buffer.getvalue())]


_PACKAGES = _office_packages()


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    package=st.sampled_from(_PACKAGES),
    edits=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=8),
    cut=st.one_of(st.none(), st.floats(0, 1)),
)
def test_damaged_office_files_raise_only_input_error(package, edits, cut):
    # Corrupting real archives reaches zipfile's parser far deeper than random bytes do.
    filename, original = package
    content = bytearray(original)
    for position, value in edits:
        content[int(position * len(content))] = value
    if cut is not None:
        content = content[: int(cut * len(content))]
    try:
        checked = check_upload(filename, bytes(content))
    except InputError as refused:
        assert str(refused).startswith("Tệp ")
    else:
        _assert_sound(checked, bytes(content))


# ---------------------------------------------------------------------------
# The store


@pytest.fixture
def store(tmp_path: Path) -> EvidenceStore:
    return EvidenceStore(tmp_path / "evidence")


def test_put_stores_by_content_hash_and_reads_back(store, pdf_bytes):
    checked = check_upload("Báo cáo.pdf", pdf_bytes)

    key = store.put(checked, pdf_bytes)

    assert key == f"{checked.sha256[:2]}/{checked.sha256}.pdf"
    assert store.path_for(key) == store.root / checked.sha256[:2] / f"{checked.sha256}.pdf"
    assert store.open_bytes(key) == pdf_bytes
    assert store.exists(key)
    assert list(store.iter_keys()) == [key]


def test_reuploads_do_not_duplicate(store, pdf_bytes):
    first = store.put(check_upload("a.pdf", pdf_bytes), pdf_bytes)
    second = store.put(check_upload("bản sao của a.pdf", pdf_bytes), pdf_bytes)

    assert first == second
    assert [p for p in store.root.rglob("*") if p.is_file()] == [store.path_for(first)]


def test_jpeg_uploads_are_stored_under_the_canonical_jpg_extension(store, jpeg_bytes):
    key = store.put(check_upload("anh.jpeg", jpeg_bytes), jpeg_bytes)
    assert key.endswith(".jpg")


def test_put_refuses_content_that_is_not_what_was_checked(store, pdf_bytes, png_bytes):
    checked = check_upload("a.pdf", pdf_bytes)

    with pytest.raises(ValueError):
        store.put(checked, png_bytes)
    assert list(store.iter_keys()) == []


def test_iter_keys_skips_foreign_and_temporary_files(store, pdf_bytes, png_bytes, docx_bytes):
    uploads = [("a.pdf", pdf_bytes), ("b.png", png_bytes), ("c.docx", docx_bytes)]
    keys = {store.put(check_upload(name, data), data) for name, data in uploads}
    some_folder = store.path_for(next(iter(keys))).parent
    (some_folder / ".upload-abc.part").write_bytes(b"half written")
    (some_folder / "notes.txt").write_text("không phải tệp kiểm chứng")
    (store.root / "README").write_text("kho")

    assert list(store.iter_keys()) == sorted(keys)


def test_iter_keys_on_a_store_never_written_is_empty(tmp_path):
    assert list(EvidenceStore(tmp_path / "chua-co").iter_keys()) == []


def test_delete_needs_the_caller_to_confirm_the_file_is_unreferenced(store, pdf_bytes):
    key = store.put(check_upload("a.pdf", pdf_bytes), pdf_bytes)

    with pytest.raises(ValueError):
        store.delete(key, unreferenced=False)
    assert store.exists(key)

    assert store.delete(key, unreferenced=True) is True
    assert not store.exists(key)
    assert store.delete(key, unreferenced=True) is False


def test_open_bytes_of_a_missing_file_is_a_readable_error(store):
    key = evidence_key("ab" + "0" * 62, "pdf")

    with pytest.raises(InputError, match="Không tìm thấy tệp kiểm chứng"):
        store.open_bytes(key)


_DIGEST = "ab" + "c" * 62
_TRAVERSAL_KEYS = [
    "../secret.pdf",
    f"../{_DIGEST}.pdf",
    f"ab/../../{_DIGEST}.pdf",
    f"ab/../{_DIGEST[:2]}/{_DIGEST}.pdf",
    f"/etc/{_DIGEST}.pdf",
    f"ab\\{_DIGEST}.pdf",
    f"ab/{_DIGEST}.pdf/../../../etc/passwd",
    f"ab/{_DIGEST}.pdf\n",  # `$` would accept this; fullmatch must not
    f"ab/{_DIGEST}.exe",
    f"ab/{_DIGEST}.PDF",
    f"AB/{_DIGEST.upper()}.pdf",
    f"cd/{_DIGEST}.pdf",  # prefix must be the digest's first two characters
    f"ab/{_DIGEST[:-1]}.pdf",
    f"ab/{_DIGEST}\x00.pdf",
    "ab/" + "٣" * 64 + ".pdf",  # Unicode digits are not hex
    "",
    None,
    ["ab", f"{_DIGEST}.pdf"],
]


@pytest.mark.parametrize("key", _TRAVERSAL_KEYS)
def test_malformed_or_traversing_keys_are_refused_everywhere(store, tmp_path, key):
    outside = tmp_path / "secret.pdf"
    outside.write_bytes(b"%PDF-secret")

    with pytest.raises(InputError, match="Mã tệp kiểm chứng .* không hợp lệ"):
        store.path_for(key)
    with pytest.raises(InputError):
        store.open_bytes(key)
    with pytest.raises(InputError):
        store.delete(key, unreferenced=True)
    assert store.exists(key) is False
    assert outside.read_bytes() == b"%PDF-secret"


def test_a_linked_folder_cannot_lead_out_of_the_store(store, tmp_path, pdf_bytes):
    checked = check_upload("a.pdf", pdf_bytes)
    key = evidence_key(checked.sha256, checked.kind)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / f"{checked.sha256}.pdf").write_bytes(b"%PDF-not in the store")
    store.root.mkdir(parents=True)
    try:
        (store.root / checked.sha256[:2]).symlink_to(elsewhere, target_is_directory=True)
    except OSError:
        pytest.skip("this system cannot create symbolic links")

    with pytest.raises(InputError, match="trỏ ra ngoài kho"):
        store.open_bytes(key)
    with pytest.raises(InputError, match="trỏ ra ngoài kho"):
        store.put(checked, pdf_bytes)
    assert list(store.iter_keys()) == []
    assert (elsewhere / f"{checked.sha256}.pdf").read_bytes() == b"%PDF-not in the store"


@settings(max_examples=300)
@given(key=st.text(max_size=120))
def test_path_for_never_leaves_root(tmp_path_factory, key):
    store = EvidenceStore(tmp_path_factory.mktemp("evidence"))
    try:
        path = store.path_for(key)
    except InputError:
        return
    assert path.is_relative_to(store.root)
    assert path.relative_to(store.root).as_posix() == key


def test_failed_write_leaves_neither_a_partial_file_nor_a_temp_file(store, pdf_bytes, monkeypatch):
    checked = check_upload("a.pdf", pdf_bytes)

    def disk_full(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(evidence_files.os, "fsync", disk_full)
    with pytest.raises(StorageError, match="đã đầy"):  # told as a sentence, not a traceback
        store.put(checked, pdf_bytes)

    assert [p for p in store.root.rglob("*") if p.is_file()] == []
    assert not store.exists(evidence_key(checked.sha256, checked.kind))


def test_write_goes_through_a_rename_in_the_same_folder(store, pdf_bytes, monkeypatch):
    renames = []
    real_replace = os.replace

    def recording_replace(source, target):
        renames.append((Path(source), Path(target)))
        real_replace(source, target)

    monkeypatch.setattr(evidence_files.os, "replace", recording_replace)
    key = store.put(check_upload("a.pdf", pdf_bytes), pdf_bytes)

    [(source, target)] = renames
    assert target == store.path_for(key)
    assert source.parent == target.parent and source != target
    assert not source.exists()


def test_a_damaged_stored_copy_is_replaced_on_reupload(store, pdf_bytes):
    checked = check_upload("a.pdf", pdf_bytes)
    key = store.put(checked, pdf_bytes)
    store.path_for(key).write_bytes(pdf_bytes[:10])

    assert store.put(checked, pdf_bytes) == key
    assert store.open_bytes(key) == pdf_bytes
