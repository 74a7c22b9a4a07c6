"""What every store module does with a row: fetch it or say it is gone, and refuse a write made from an older version.

Edits carry the version the person saw: a write against a newer version raises ConflictError, so two people
editing the same criterion or activity never silently overwrite each other.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from scoring.errors import ConflictError, NotFoundError
from scoring.textnorm import format_datetime


def get_row(session: Session, model, key, what: str):
    row = session.get(model, key)
    if row is None:
        raise not_found(what, key)
    return row


def not_found(what: str, key) -> NotFoundError:
    return NotFoundError(f"Không tìm thấy {what} (mã {key}); có thể đã bị xóa. Hãy tải lại trang.")


def check_version(row, expected_version: int, what: str) -> None:
    """Refuse a write made from an older version of the row than the stored one, naming who changed it and when."""
    check_seen(row.version, expected_version, what, getattr(row, "updated_by", ""), getattr(row, "updated_at", None))


def check_seen(version: int, expected_version: int, what: str, updated_by: str, updated_at: datetime | None) -> None:
    if version != expected_version:
        who = f" bởi {updated_by}" if updated_by else ""
        when = f" lúc {format_datetime(updated_at)}" if updated_at else ""
        raise ConflictError(
            f"{what} vừa được sửa{who}{when} sau khi bạn mở trang. Thay đổi của bạn chưa được lưu: "
            "hãy tải lại để xem bản mới nhất rồi sửa lại."
        )


def code_key(code: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in code.split("."))
