"""Evidence files (tài liệu kiểm chứng): checking uploads and storing them by content hash.

An upload is judged by its bytes, not its name: the extension must be one we accept *and* the
content must really be that kind of file, executables are always refused, and Office files are
inspected as zip archives without ever decompressing them (so a zip bomb costs nothing).
Accepted files are stored under `root/ab/<sha256>.<ext>`: the same document uploaded twice is
stored once, and no name a person typed ever becomes part of a path on disk. While a file is stored for
a record (`EvidenceStore.storing`), a locked marker beside it says so, so a record that fails to save,
or a process killed before it did, leaves no file behind (`sweep_abandoned_uploads` finishes at the next open).
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import re
import struct
import time
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from scoring.errors import InputError, raise_as_storage_error
from scoring.textnorm import format_number, nfc

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; an abandoned marker is then told by its age alone
    fcntl = None

_MIB = 1024 * 1024
_KIB = 1024
# Every uploader's ceiling: .streamlit/config.toml's server.maxUploadSize says the same (tests/test_uploads.py).
MAX_UPLOAD_BYTES = 20 * _MIB
# A temporary upload file older than this was left by a process killed mid-write (a write takes seconds).
ABANDONED_UPLOAD_SECONDS = 3600

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


# Keys are always matched whole (fullmatch): `$` would also accept a trailing newline.
_KEY_PATTERN = re.compile(
    r"(?P<prefix>[0-9a-f]{2})/(?P<digest>(?P=prefix)[0-9a-f]{62})\.(?P<kind>"
    + "|".join(sorted(ALLOWED_KINDS))
    + r")"
)


def evidence_key(sha256: str, kind: str) -> str:
    """The store key for content with this digest and kind: "ab/abcdef….pdf"."""
    key = f"{sha256[:2]}/{sha256}.{kind}"
    if not _KEY_PATTERN.fullmatch(key):
        raise ValueError(f"not a sha256 digest and allowed kind: {sha256!r}, {kind!r}")
    return key


class EvidenceStore:
    """Evidence files on disk under `root`, addressed by content hash.

    Every path is derived from a key that must match `ab/<sha256>.<kind>` exactly and must
    resolve inside `root`, so no key (whoever supplied it) can reach another file.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()

    def put(self, checked: CheckedUpload, content: bytes) -> str:
        """Store the content (once per distinct content) and return its key; the file stays whatever follows
        (a restore; `storing` is for a file that must not outlive a record that failed to save)."""
        key = self._key_of(checked, content)
        with self._pending(key) as pending:
            self._write(pending, content, for_record=False)
        return key

    @contextmanager
    def storing(self, checked: CheckedUpload, content: bytes, *, referenced: Callable[[str], bool]) -> Iterator[str]:
        """Store the content for a record the caller saves inside the block, and yield its key.

        Saved, the file stays. The block failed, or the process died inside it (sweep_abandoned_uploads then
        finishes at the next open): the file goes again if this upload put it there and `referenced(key)`,
        asked once the block is over, says no record has it. So no file is left without its record, and no
        record without its file: the content's marker stays locked until the block ends, and whoever else
        stores, or deletes, the same content waits for it."""
        key = self._key_of(checked, content)
        with self._pending(key) as pending:
            self._write(pending, content, for_record=True)
            try:
                yield key
            except BaseException:
                pending.undo(referenced)
                raise

    def delete_unreferenced(self, key: str, *, referenced: Callable[[str], bool]) -> bool:
        """Remove the file once `referenced(key)`, asked while nobody else stores or deletes this content,
        says no record has it (the content is shared by every record that uploaded the same bytes); True if removed."""
        with self._pending(key):
            if referenced(key):
                return False
            return self.delete(key, unreferenced=True)

    def _key_of(self, checked: CheckedUpload, content: bytes) -> str:
        digest = hashlib.sha256(content).hexdigest()
        if digest != checked.sha256 or len(content) != checked.size:
            # The key promises the content; storing other bytes under it would corrupt the store.
            raise ValueError("content does not match the CheckedUpload it is stored with")
        return evidence_key(digest, checked.kind)

    @contextmanager
    def _pending(self, key: str) -> Iterator[_Pending]:
        """The content's marker, locked for the block; removed when the block is over (left, unlocked, when the
        block's failure could not be undone, for the next open to finish)."""
        target = self.path_for(key)
        try:
            # Owner only, like the files: documents are the department's, and the folder of a server shared with
            # other logins lists nothing to them. mkdir's mode applies to the folder it makes, not to missing
            # parents, so the root is made first.
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            target.parent.mkdir(mode=0o700, exist_ok=True)
            pending = _Pending.lock(target, wait=True)
        except OSError as err:  # disk full, read-only folder: a sentence
            raise_as_storage_error(err)
        try:
            yield pending
        finally:
            pending.release()

    def _write(self, pending: _Pending, content: bytes, *, for_record: bool) -> None:
        """Write the content under the marker, unless it is stored already (content-addressed); `for_record`: the
        file must go again if its record is never saved, which the marker then says."""
        target = pending.target
        if target.is_file() and target.stat().st_size == len(content):
            return
        try:
            if for_record:
                pending.mark_new()
            _write_atomically(target, content)
        except OSError as err:  # disk full, read-only folder: a sentence; the temporary file is already gone
            raise_as_storage_error(err)

    def path_for(self, key: str) -> Path:
        """The file's path inside root; InputError for anything that is not a well-formed key."""
        if not isinstance(key, str) or not _KEY_PATTERN.fullmatch(key):
            raise InputError(f"Mã tệp kiểm chứng {_quote_key(key)} không hợp lệ.")
        prefix, name = key.split("/")
        path = (self.root / prefix / name).resolve()
        if not path.is_relative_to(self.root):
            raise InputError(
                f"Mã tệp kiểm chứng {_quote_key(key)} trỏ ra ngoài kho tài liệu kiểm chứng."
            )
        return path

    def exists(self, key: str) -> bool:
        """Whether a file is stored under this key; False for malformed keys (nothing can be stored there)."""
        try:
            return self.path_for(key).is_file()
        except InputError:
            return False

    def open_bytes(self, key: str) -> bytes:
        """The stored content; InputError if the key is malformed or nothing is stored under it."""
        path = self.path_for(key)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise InputError(
                f"Không tìm thấy tệp kiểm chứng {_quote_key(key)} trong kho; có thể tệp đã bị xoá."
            ) from None

    def delete(self, key: str, *, unreferenced: bool) -> bool:
        """Remove a stored file the caller has confirmed no record refers to; True if a file was removed.

        Content is shared between every record that uploaded the same bytes, so only the caller,
        which can see all references, may decide a file is garbage.
        """
        if unreferenced is not True:
            raise ValueError("delete() needs unreferenced=True: the caller must confirm no record uses the file")
        path = self.path_for(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        # The prefix folder is left in place even if empty: removing it could race a concurrent put().
        return True

    def iter_keys(self) -> Iterator[str]:
        """Keys of every stored file, sorted; temporary and foreign files are skipped."""
        if not self.root.is_dir():
            return
        for folder in sorted(self.root.iterdir()):
            if folder.is_symlink() or not folder.is_dir():
                continue  # a linked folder could lead out of root; path_for would refuse its keys anyway
            for entry in sorted(folder.iterdir()):
                key = f"{folder.name}/{entry.name}"
                if _KEY_PATTERN.fullmatch(key) and entry.is_file():
                    yield key


    def sweep_abandoned_uploads(self, *, referenced: Callable[[str], bool], older_than: float = ABANDONED_UPLOAD_SECONDS,
                                now: float | None = None) -> list[str]:
        """Finish what uploads killed half-way left behind; returns the names removed.

        An upload's marker (`.pending-<sha256>.<kind>`) that no process holds locked any more was left by a
        process that died inside `storing`: the file it put there goes unless `referenced(key)` says a record
        has it, and the marker and the temporary file (`.upload-….part`) go. A marker someone holds, and its
        temporary file, belong to an upload in progress (in this or another process) and are left alone.
        A temporary file of another name (an older version's) goes once older than `older_than` seconds;
        so does a marker where the system has no locks."""
        if not self.root.is_dir():
            return []
        cutoff = (time.time() if now is None else now) - older_than
        removed = []
        for folder in sorted(self.root.iterdir()):
            if folder.is_symlink() or not folder.is_dir():
                continue
            for marker in sorted(folder.glob(f"{_PENDING_PREFIX}*")):
                key = f"{folder.name}/{marker.name.removeprefix(_PENDING_PREFIX)}"
                if not _KEY_PATTERN.fullmatch(key) or marker.is_symlink() or (fcntl is None and _younger(marker, cutoff)):
                    continue
                try:
                    pending = _Pending.lock(self.path_for(key), wait=False)
                    if pending is None:
                        continue  # an upload in progress holds it
                    try:
                        removed += [f"{folder.name}/{name}" for name in pending.undo(referenced)]
                    finally:
                        pending.release()
                except OSError:
                    continue  # a read-only folder: left for an open that can write; the store opens all the same
            for entry in sorted(folder.glob(f"{_PART_PREFIX}*{_PART_SUFFIX}")):
                name = entry.name.removeprefix(_PART_PREFIX).removesuffix(_PART_SUFFIX)
                ours = _KEY_PATTERN.fullmatch(f"{folder.name}/{name}") is not None
                try:
                    if not entry.is_file() or entry.is_symlink():
                        continue
                    if (ours and not (folder / f"{_PENDING_PREFIX}{name}").exists()) or (not ours and entry.stat().st_mtime < cutoff):
                        entry.unlink()  # no upload writes a temporary file without holding its marker
                        removed.append(f"{folder.name}/{entry.name}")
                except OSError:
                    continue  # another process finished or swept it meanwhile, or the folder is read-only
        return removed


_PENDING_PREFIX, _PART_PREFIX, _PART_SUFFIX = ".pending-", ".upload-", ".part"
_NEW = b"new"  # what a marker holds once its upload may have put the file there


def _younger(path: Path, cutoff: float) -> bool:
    try:
        return path.stat().st_mtime >= cutoff
    except FileNotFoundError:
        return True


@dataclass
class _Pending:
    """The marker `ab/.pending-<sha256>.<kind>` of one content being stored or deleted, locked (flock, released by
    the system when its process dies) for as long as the work lasts: an upload killed half-way leaves it behind
    unlocked, and saying `new` when the upload may have put the file there."""

    target: Path
    marker: Path
    fd: int
    settled: bool = False  # the marker was removed by `undo`, or is left for the next open: release leaves its name alone

    @classmethod
    def lock(cls, target: Path, *, wait: bool) -> _Pending | None:
        """The marker of `target`, made if missing and locked (waiting for whoever holds it when `wait`); None when
        not waiting and it is held, or when it is gone."""
        marker = target.with_name(f"{_PENDING_PREFIX}{target.name}")
        while True:
            try:
                fd = os.open(marker, os.O_RDWR | (os.O_CREAT if wait else 0), 0o600)
            except FileNotFoundError:
                if wait:
                    raise
                return None
            try:
                if fcntl is not None:
                    fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
                if os.path.samestat(os.fstat(fd), os.stat(marker)):
                    return cls(target, marker, fd)
                # whoever held it before us finished and removed it: this one is nobody's; take a new one
            except BlockingIOError:
                os.close(fd)
                return None
            except FileNotFoundError:
                pass
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)
            if not wait:
                return None

    @property
    def part(self) -> Path:
        return self.target.with_name(f"{_PART_PREFIX}{self.target.name}{_PART_SUFFIX}")

    def is_new(self) -> bool:
        os.lseek(self.fd, 0, os.SEEK_SET)
        return os.read(self.fd, len(_NEW)) == _NEW

    def mark_new(self) -> None:
        """Said before the file is written: if the process dies from here on, the file may be this upload's."""
        os.lseek(self.fd, 0, os.SEEK_SET)
        os.write(self.fd, _NEW)
        os.fsync(self.fd)

    def undo(self, referenced: Callable[[str], bool]) -> list[str]:
        """The block under this marker failed (or its process died): take away the file it may have put there,
        unless a record has it; returns the names removed. When that cannot be known (the database cannot be
        read), the file and the marker stay for the next open to finish."""
        removed = []
        key = f"{self.target.parent.name}/{self.target.name}"
        self.settled = True
        try:
            if self.is_new() and self.target.exists() and not referenced(key):
                self.target.unlink()
                removed.append(self.target.name)
        except Exception:  # never hides the failure being undone; the marker stays
            return removed
        if self.part.exists():
            self.part.unlink(missing_ok=True)
            removed.append(self.part.name)
        self.marker.unlink(missing_ok=True)  # while locked: the name is still this marker's
        removed.append(self.marker.name)
        return removed

    def release(self) -> None:
        """Done: the marker goes (unless `undo` settled it), then its lock. Unlinked while still locked, so the
        name removed is this marker's and not one another process made after it."""
        try:
            if not self.settled:
                self.marker.unlink(missing_ok=True)
        finally:
            os.close(self.fd)


def _write_atomically(target: Path, content: bytes) -> None:
    """Write via a temporary file in the same folder, fsync, rename: readers see the old file or the whole new one.
    The temporary file's name is the target's (`.upload-<name>.part`): only the holder of the target's marker
    writes it (EvidenceStore._pending), and the sweep knows whose it is."""
    temp_path = target.with_name(f"{_PART_PREFIX}{target.name}{_PART_SUFFIX}")
    try:
        fd = os.open(temp_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(content)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp_path, target)
    except BaseException:
        temp_path.unlink(missing_ok=True)
        raise
    _fsync_directory(target.parent)


def _fsync_directory(folder: Path) -> None:
    # Makes the rename itself durable on POSIX; Windows cannot open a folder for fsync.
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _quote_key(key: object) -> str:
    """A user-supplied key made safe to echo in a message: printable, bounded."""
    text = key if isinstance(key, str) else repr(key)
    printable = "".join(ch if ch.isprintable() else "?" for ch in text)
    return f"«{_shorten(printable, 80)}»"
