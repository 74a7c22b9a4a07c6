"""Checking an upload by its content: the extension must be one we accept *and* the bytes must really be that kind
of file, executables are always refused, and Office files are inspected as zip archives without ever
decompressing them (so a zip bomb costs nothing). Also the names shown for a file, and the limits said to people.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import struct
import unicodedata
import zipfile
from dataclasses import dataclass

from scoring.errors import InputError
from scoring.textnorm import format_number, nfc

_MIB = 1024 * 1024
_KIB = 1024
# Every uploader's ceiling: .streamlit/config.toml's server.maxUploadSize says the same (tests/test_uploads.py).
MAX_UPLOAD_BYTES = 20 * _MIB

# Canonical kind → MIME type. The kind is also the extension files are stored under.
KIND_MIME: dict[str, str] = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "jpg": "image/jpeg",
    "png": "image/png",
}
ALLOWED_KINDS: frozenset[str] = frozenset(KIND_MIME)

# Extension a person may use (lower case, no dot) → canonical kind.
EXTENSION_KIND: dict[str, str] = {
    "pdf": "pdf",
    "docx": "docx",
    "xlsx": "xlsx",
    "jpg": "jpg",
    "jpeg": "jpg",
    "png": "png",
}

MAX_DISPLAY_NAME_CHARS = 150

# Zip-bomb guards for .docx/.xlsx, applied to what the archive's directory declares. We never
# inflate anything here, but whatever opens the file later (python-docx, openpyxl, a viewer) will.
# Real Office files with large sheets reach a few hundred MB unpacked and ratios of a few dozen;
# a bomb declares gigabytes at ratios near 1000.
MAX_UNPACKED_BYTES = 512 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
MAX_ZIP_ENTRIES = 10_000

_KIND_LABEL = {
    "pdf": "PDF",
    "docx": "tài liệu Word (.docx)",
    "xlsx": "bảng tính Excel (.xlsx)",
    "jpg": "ảnh JPEG",
    "png": "ảnh PNG",
}
_ACCEPTED_SUMMARY = "PDF, Word (.docx), Excel (.xlsx), ảnh JPG hoặc PNG"

_PDF_MAGIC = b"%PDF-"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"
_ZIP_LOCAL_HEADER = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc/.xls, and password-protected .docx/.xlsx
_EXECUTABLE_MAGICS = (
    b"MZ",  # Windows PE / DOS
    b"\x7fELF",  # Linux
    b"#!",  # script with an interpreter line
    b"\xfe\xed\xfa\xce",  # Mach-O, both word sizes and byte orders
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",  # Mach-O universal binary (also a Java class file)
)

# Part names are case-insensitive in Office packages, so they are compared lower-cased.
_OOXML_CONTENT_TYPES = "[content_types].xml"
_OOXML_MAIN_PART = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}

_RESERVED_NAME_CHARS = re.compile(r'[<>:"/\\|?*]')
_WINDOWS_DEVICE_NAMES = frozenset(
    ["CON", "PRN", "AUX", "NUL"] + [f"COM{i}" for i in range(1, 10)] + [f"LPT{i}" for i in range(1, 10)]
)
_FALLBACK_STEM = "Tài liệu kiểm chứng"

# Errors zipfile may raise on a damaged or hostile archive; all of them mean "not a usable file".
_ZIP_FAILURES = (
    zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
    NotImplementedError, RuntimeError, struct.error, OverflowError, IndexError,
)


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed `check_upload`: safe to store and to show."""

    kind: str  # canonical kind, one of ALLOWED_KINDS ("jpg" also for .jpeg)
    mime: str
    display_name: str  # cleaned name for display and downloads; never used as a path
    size: int
    sha256: str  # lower-case hex digest of the content


@dataclass(frozen=True)
class _ZipSummary:
    names: frozenset[str]  # lower-cased entry names
    entry_count: int
    declared_unpacked_bytes: int


def sniff_kind(content: bytes) -> str | None:
    """The allowed kind the bytes really are ("pdf", "docx", "xlsx", "jpg", "png"), or None.

    Never raises: damaged archives and arbitrary bytes are simply not a known kind.
    """
    return _sniff(content)[0]


def _sniff(content: bytes) -> tuple[str | None, _ZipSummary | None]:
    """The kind, plus the zip directory when the content is a zip (Office checks need it too)."""
    if content.startswith(_PDF_MAGIC):
        return "pdf", None
    if content.startswith(_PNG_MAGIC):
        return "png", None
    if content.startswith(_JPEG_MAGIC):
        return "jpg", None
    summary = _read_zip_directory(content)
    if summary is None or _OOXML_CONTENT_TYPES not in summary.names:
        return None, summary
    for kind, main_part in _OOXML_MAIN_PART.items():
        if main_part in summary.names:
            return kind, summary
    return None, summary


def check_upload(filename: str, content: bytes, max_bytes: int = MAX_UPLOAD_BYTES) -> CheckedUpload:
    """Check an uploaded evidence file's name, size and content; InputError names the file if it is refused."""
    display_name = safe_display_name(filename)
    shown = f"«{display_name}»" if display_name else "(không có tên)"
    extension = _split_extension(display_name)[1].lower()
    kind = EXTENSION_KIND.get(extension)
    if kind is None:
        raise InputError(_extension_refusal(shown, extension))
    if not content:
        raise InputError(f"Tệp {shown} rỗng (0 byte); hãy chọn lại đúng tệp cần tải lên.")
    if len(content) > max_bytes:
        size_text, limit_text = _format_size_against_limit(len(content), max_bytes)
        raise InputError(
            f"Tệp {shown} có dung lượng {size_text}, vượt giới hạn {limit_text} cho mỗi tệp; "
            "hãy nén hoặc tách nhỏ tệp rồi tải lên lại."
        )
    if content.startswith(_EXECUTABLE_MAGICS):
        raise InputError(
            f"Tệp {shown} là chương trình chạy được (tệp thực thi), "
            "không được tải lên làm tài liệu kiểm chứng."
        )
    actual_kind, zip_summary = _sniff(content)
    if actual_kind != kind:
        raise InputError(_mismatch_refusal(shown, extension, kind, actual_kind, content))
    if zip_summary is not None:
        _check_office_package(shown, content, zip_summary)
    return CheckedUpload(
        kind=kind,
        mime=KIND_MIME[kind],
        display_name=display_name,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )


def upload_rule(max_bytes: int, accepted: str) -> str:
    """The one sentence every uploader shows under it: its limit and what it takes ("Mỗi tệp tối đa 20 MB; nhận …")."""
    return f"Mỗi tệp tối đa {format_number(max_bytes / _MIB, 0 if max_bytes % _MIB == 0 else 1)} MB; nhận {accepted}."


def extensions_text(extensions) -> str:
    """".docx, .xlsx hoặc .txt" from extensions with or without their dot."""
    names = [f".{e.lstrip('.')}" for e in extensions]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} hoặc {names[-1]}"


def upload_megabytes(max_bytes: int) -> int:
    """A limit in whole MB, as Streamlit's `server.maxUploadSize` states it."""
    return max_bytes // _MIB


EVIDENCE_UPLOAD_RULE = upload_rule(MAX_UPLOAD_BYTES, f"tài liệu kiểm chứng dạng {_ACCEPTED_SUMMARY}")


def safe_display_name(filename: str | None) -> str:
    """A file name safe to show and to offer as a download name: NFC, no folders, no control or reserved chars.

    Only the last path component is kept, whichever separator the sender's system used, so
    "../../x.pdf" and "C:\\Users\\x.pdf" both become "x.pdf". The extension is lower-cased; long
    names are shortened to MAX_DISPLAY_NAME_CHARS keeping it. "" when nothing usable is left.
    """
    name = unicodedata.normalize("NFC", filename or "")
    name = re.split(r"[/\\]", name)[-1]
    cleaned = []
    for ch in name:
        if ch.isspace():
            cleaned.append(" ")  # tabs, line breaks, odd Unicode spaces
        elif ch.isprintable():
            cleaned.append(ch)
        # else dropped: control chars, lone surrogates, unassigned code points and invisible format
        # chars such as U+202E, which can make "gpj.exe" display as "exe.jpg".
    name = _RESERVED_NAME_CHARS.sub("_", "".join(cleaned))
    name = nfc(name).rstrip(" .")  # Windows drops trailing dots and spaces: "x.pdf." is "x.pdf"
    stem, extension = _split_extension(name)
    stem = stem.strip(" .")  # a leading dot would make a downloaded copy a hidden file
    if not stem and extension:
        stem = _FALLBACK_STEM  # ".pdf", or a name that was only folders
    if stem.split(".")[0].upper() in _WINDOWS_DEVICE_NAMES:
        stem = "_" + stem  # "CON.pdf" cannot be saved on Windows
    suffix = f".{extension.lower()}" if extension else ""
    stem = stem[: MAX_DISPLAY_NAME_CHARS - len(suffix)].rstrip(" .")
    return unicodedata.normalize("NFC", stem + suffix)


_EXTENSION = re.compile(r"[0-9A-Za-z]{1,10}")


def _split_extension(name: str) -> tuple[str, str]:
    """(stem, extension without dot); "Báo cáo v1.2 quý 3" has no extension, only a dot in its name."""
    stem, dot, extension = name.rpartition(".")
    if dot and _EXTENSION.fullmatch(extension):
        return stem, extension
    return name, ""


def _read_zip_directory(content: bytes) -> _ZipSummary | None:
    """The archive's directory (names and declared sizes), or None if this is not a readable zip.

    Reads only the central directory: nothing is decompressed. Zips with data before the first
    entry (self-extracting programs, polyglots) are not accepted as Office files.
    """
    if not content.startswith(_ZIP_LOCAL_HEADER):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            infos = archive.infolist()
            return _ZipSummary(
                names=frozenset(info.filename.lower() for info in infos),
                entry_count=len(infos),
                declared_unpacked_bytes=sum(info.file_size for info in infos),
            )
    except _ZIP_FAILURES:
        return None


def _check_office_package(shown: str, content: bytes, summary: _ZipSummary) -> None:
    ratio_cap = MAX_COMPRESSION_RATIO * len(content)
    if (
        summary.entry_count > MAX_ZIP_ENTRIES
        or summary.declared_unpacked_bytes > MAX_UNPACKED_BYTES
        or summary.declared_unpacked_bytes > ratio_cap
    ):
        unpacked = _format_bytes(summary.declared_unpacked_bytes)
        entries = format_number(summary.entry_count, 0)
        raise InputError(
            f"Tệp {shown} khi giải nén sẽ lớn bất thường ({unpacked}, {entries} thành phần), "
            "có thể là tệp độc hại; hãy mở và lưu lại tệp bằng Word/Excel rồi tải lên lại."
        )
    if any(name.endswith("vbaproject.bin") for name in summary.names):
        raise InputError(
            f"Tệp {shown} có chứa macro (VBA); "
            "hãy lưu lại thành tệp .docx/.xlsx thông thường rồi tải lên lại."
        )


def _extension_refusal(shown: str, extension: str) -> str:
    if not extension:
        return f"Tệp {shown} không có đuôi tệp; chỉ nhận tài liệu kiểm chứng dạng {_ACCEPTED_SUMMARY}."
    old_office = {"doc": "docx", "xls": "xlsx"}.get(extension)
    if old_office:
        return f"Tệp {shown} là định dạng cũ .{extension}; hãy mở và lưu lại thành .{old_office} rồi tải lên lại."
    return (
        f"Tệp {shown} có đuôi .{extension} không được nhận; "
        f"chỉ nhận tài liệu kiểm chứng dạng {_ACCEPTED_SUMMARY}."
    )


def _mismatch_refusal(shown: str, extension: str, kind: str, actual_kind: str | None, content: bytes) -> str:
    message = f"Tệp {shown} có đuôi .{extension} nhưng nội dung không phải {_KIND_LABEL[kind]}"
    if actual_kind is not None:
        return f"{message} (nội dung là {_KIND_LABEL[actual_kind]}; hãy đổi đuôi thành .{actual_kind})."
    if content.startswith(_OLE_MAGIC):
        return (
            f"{message} (có thể là định dạng Office cũ .doc/.xls hoặc tệp đã đặt mật khẩu); "
            "hãy lưu lại thành .docx/.xlsx không đặt mật khẩu rồi tải lên lại."
        )
    return f"{message}; tệp có thể bị hỏng hoặc bị đổi đuôi."



def _format_size_against_limit(size: int, limit: int) -> tuple[str, str]:
    """Size and limit in the same unit (MB unless the limit is tiny); size rounded up and limit down,
    so an over-limit file never reads as equal to the limit ("20 MB vượt giới hạn 20 MB")."""
    unit, unit_name = (_MIB, "MB") if limit >= _MIB else (_KIB, "KB") if limit >= _KIB else (1, "byte")
    size_units = math.ceil(size * 10 / unit) / 10
    limit_units = math.floor(max(limit, 0) * 10 / unit) / 10
    return f"{format_number(size_units, 1)} {unit_name}", f"{format_number(limit_units, 1)} {unit_name}"


def _format_bytes(count: int) -> str:
    if count >= _MIB:
        return f"{format_number(count / _MIB, 1)} MB"
    if count >= _KIB:
        return f"{format_number(count / _KIB, 1)} KB"
    return f"{format_number(count, 0)} byte"


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
