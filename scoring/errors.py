"""The one error type the core raises for bad input: its message is a Vietnamese sentence for users."""

from typing import NoReturn


class InputError(Exception):
    """Input a person supplied cannot be used. `str(err)` is shown to users as is (Vietnamese, names the file/row/field)."""


class ConflictError(InputError):
    """Someone else saved the same thing after this person loaded it: nothing was overwritten."""


class NotFoundError(InputError):
    """What was asked for does not exist (any more)."""


STALE_WRITE_MESSAGE = (
    "Dữ liệu vừa được người khác sửa sau khi bạn mở trang. Thay đổi của bạn chưa được lưu: "
    "hãy tải lại để xem bản mới nhất rồi sửa lại."
)


class StorageError(InputError):
    """The database or the data folder cannot take the write (disk full, read-only, busy, unreachable).

    Nothing was saved; the message says what happened so the person (or the administrator) can act."""


_SQLITE_PROBLEMS = (  # the text SQLite puts in its error, and what it means for the person
    (("database is locked", "database table is locked", "database is busy"),
     "Cơ sở dữ liệu đang bận (một tiến trình khác đang giữ quyền ghi). Thay đổi chưa được lưu; hãy thử lại sau ít phút."),
    (("database or disk is full", "no space left"),
     "Ổ đĩa chứa dữ liệu đã đầy nên thay đổi chưa được lưu. Hãy báo quản trị viên giải phóng dung lượng rồi thử lại."),
    (("readonly database", "read-only file system", "read only"),
     "Thư mục dữ liệu đang ở chế độ chỉ đọc nên thay đổi chưa được lưu. Hãy báo quản trị viên cấp quyền ghi cho thư mục dữ liệu."),
    (("unable to open database", "permission denied"),
     "Không mở được cơ sở dữ liệu (thư mục dữ liệu không tồn tại hoặc không có quyền truy cập). Hãy báo quản trị viên."),
    (("disk i/o error", "file is not a database", "malformed"),
     "Không đọc, ghi được tệp cơ sở dữ liệu (lỗi ổ đĩa hoặc tệp hỏng). Thay đổi chưa được lưu; hãy báo quản trị viên."),
)
_POSTGRES_PROBLEMS = {  # SQLSTATE class or code → sentence
    "53": "Máy chủ cơ sở dữ liệu hết dung lượng hoặc tài nguyên nên thay đổi chưa được lưu. Hãy báo quản trị viên.",
    "25006": "Cơ sở dữ liệu đang ở chế độ chỉ đọc nên thay đổi chưa được lưu. Hãy báo quản trị viên.",
    "55P03": "Cơ sở dữ liệu đang bận (dữ liệu đang được người khác ghi). Thay đổi chưa được lưu; hãy thử lại sau ít phút.",
    "57014": "Cơ sở dữ liệu trả lời quá lâu nên thao tác đã dừng; thay đổi chưa được lưu. Hãy thử lại sau ít phút.",
    "08": "Không kết nối được máy chủ cơ sở dữ liệu. Thay đổi chưa được lưu; hãy báo quản trị viên.",
    "57P": "Máy chủ cơ sở dữ liệu đang khởi động lại hoặc đã dừng. Thay đổi chưa được lưu; hãy thử lại sau ít phút.",
}
_OS_PROBLEMS = {  # errno name → sentence, for the evidence store and the data folder
    "ENOSPC": _SQLITE_PROBLEMS[1][1],
    "EDQUOT": _SQLITE_PROBLEMS[1][1],
    "EROFS": _SQLITE_PROBLEMS[2][1],
    "EACCES": _SQLITE_PROBLEMS[3][1],
    "EPERM": _SQLITE_PROBLEMS[3][1],
    "EIO": _SQLITE_PROBLEMS[4][1],
}


def raise_as_storage_error(err: BaseException) -> NoReturn:
    """Raise StorageError with the sentence for a storage failure, or `err` itself when it is not one."""
    message = storage_problem(err)
    if message is None:
        raise err
    raise StorageError(message) from err


def storage_problem(err: BaseException) -> str | None:
    """A Vietnamese sentence for a storage failure (SQLite, PostgreSQL or the file system); None for anything else.

    Reads the error SQLAlchemy wraps (`.orig`) and the causes it chains, so a driver's error reaches us whole."""
    import errno

    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        inner = getattr(err, "orig", None)
        if isinstance(inner, BaseException):
            err = inner  # the driver's own error: SQLAlchemy's text also quotes the statement and its values
            continue
        if isinstance(err, OSError) and err.errno is not None:
            sentence = _OS_PROBLEMS.get(errno.errorcode.get(err.errno, ""))
            if sentence:
                return sentence
        state = getattr(err, "sqlstate", None) or getattr(err, "pgcode", None)
        if isinstance(state, str):
            for prefix in sorted(_POSTGRES_PROBLEMS, key=len, reverse=True):
                if state.startswith(prefix):
                    return _POSTGRES_PROBLEMS[prefix]
        text = str(err).casefold()
        for needles, sentence in _SQLITE_PROBLEMS:
            if any(needle in text for needle in needles):
                return sentence
        if type(err).__module__.startswith("psycopg") and type(err).__name__ == "OperationalError":
            return _POSTGRES_PROBLEMS["08"]  # could not connect, server closed the connection
        err = err.__cause__ or err.__context__
    return None
