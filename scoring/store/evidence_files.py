"""Evidence files (tài liệu kiểm chứng): checking uploads and storing them by content hash.

An upload is judged by its bytes, not its name: the extension must be one we accept *and* the
content must really be that kind of file, executables are always refused, and Office files are
inspected as zip archives without ever decompressing them (so a zip bomb costs nothing).
Accepted files are stored under `root/ab/<sha256>.<ext>`: the same document uploaded twice is
stored once, and no name a person typed ever becomes part of a path on disk. While a file is stored for
a record (`EvidenceStore.storing`), a locked marker beside it says so, so a record that fails to save,
or a process killed before it did, leaves no file behind (`sweep_abandoned_uploads` finishes at the next open).

How an upload is checked before it is stored is scoring.store.uploads.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from scoring.errors import InputError, raise_as_storage_error
from scoring.store.uploads import ALLOWED_KINDS, CheckedUpload, shorten

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; an abandoned marker is then told by its age alone
    fcntl = None

# A temporary upload file older than this was left by a process killed mid-write (a write takes seconds).
ABANDONED_UPLOAD_SECONDS = 3600


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
            write_atomically(target, content)
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


def write_atomically(target: Path, content: bytes) -> None:
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


def _quote_key(key: object) -> str:
    """A user-supplied key made safe to echo in a message: printable, bounded."""
    text = key if isinstance(key, str) else repr(key)
    printable = "".join(ch if ch.isprintable() else "?" for ch in text)
    return f"«{shorten(printable, 80)}»"
