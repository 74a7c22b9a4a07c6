"""The audit log: every change as who, when and old → new, stored as it was written and made readable when read.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from scoring.access.auth import Action
from scoring.plan.stats import STATUS_LABELS
from scoring.store.actors import Actor, actor_name, check_allowed
from scoring.store.db import Database
from scoring.store.models import (
    Account,
    AuditEntry,
    utcnow,
)
from scoring.textnorm import format_date, format_datetime, format_number, local_zone, nfc

# ---------------------------------------------------------------- audit
#
# Rows keep what was changed as it was stored (status codes, JSON for structured values, dates already
# Vietnamese) and the login of who changed it. They are made readable when read (audit_log), so rows written
# before a wording changes read as well as new ones.


def _text(value: Any) -> str | None:
    """A value as the audit row stores it: JSON for structures, so audit_log can read them back."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return format_number(value)
    if isinstance(value, bool):
        return "có" if value else "không"
    if isinstance(value, datetime):  # before date: a datetime is a date too, and the time would be lost
        return value.isoformat()
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(_plain_json(value), ensure_ascii=False, sort_keys=True)
    return str(value)


def _plain_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_json(v) for v in value]
    if isinstance(value, Decimal):
        return format_number(value, 4)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def audit(session: Session, actor: Actor, department_id: int | None, entity: str, key: str, changes: dict[str, tuple[Any, Any]]) -> None:
    now = utcnow()
    for name, (old, new) in changes.items():
        if _text(old) != _text(new):
            session.add(AuditEntry(at=now, actor=actor_name(actor), department_id=department_id, entity=entity,
                                   entity_key=key, field=name, old=_text(old), new=_text(new)))


@dataclass(frozen=True)
class AuditView:
    """One change as people read it: old and new are readable text ("Đang thực hiện", "có", "20/02/2026",
    "mức: 1; tử số: 17"), "—" when empty; actor is the stored login (what the filter matches), actor_label
    the person's full name beside it ("Nguyễn Văn A (nguyenvana)")."""

    at: datetime
    actor: str
    entity: str
    entity_key: str
    field: str
    old: str
    new: str
    actor_label: str = ""

    @property
    def at_text(self) -> str:
        return format_datetime(self.at)

    @property
    def subject(self) -> str:
        """What was changed, "Tiêu chí 2026/1.1.1"."""
        kind = _AUDIT_ENTITY_LABELS.get(self.entity)
        return f"{kind} {self.entity_key}" if kind else self.entity_key


EMPTY_AUDIT_VALUE = "—"
_AUDIT_ENTITY_LABELS = {
    "score": "Tiêu chí", "activity": "Hoạt động", "evidence": "Tài liệu", "plan": "Kế hoạch năm", "assessment": "Kỳ đánh giá",
    "department": "Cơ quan", "criteria_set": "Bộ tiêu chí", "account": "Tài khoản",
    "criteria_mapping": "Đối chiếu tiêu chí", "department_group": "Nhóm cơ quan",
}

# Keys of structured values (score inputs, year settings) in the words the pages use for them.
_AUDIT_KEY_LABELS = {
    "tier": "mức", "numerator": "tử số", "denominator": "mẫu số", "count": "số lượng", "value": "điểm",
    "occurrences": "số lần vi phạm", "survey": "điểm điều tra XHH",
    "year": "năm", "rounds": "các vòng", "survey_run": "có điều tra XHH", "survey_share": "điểm phần điều tra XHH",
    "bonus_cap": "điểm thưởng tối đa", "penalty_cap": "điểm trừ tối đa", "bands": "xếp loại", "code": "mã",
    "label": "tên", "opens": "từ ngày", "closes": "đến ngày", "min_percent": "từ (%)",
}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?")


def audit_value_text(stored: str | None) -> str:
    """A stored audit value as people read it (rows of every age: status codes, JSON, Python's True/None)."""
    if stored is None or not stored.strip() or stored.strip() == "None":
        return EMPTY_AUDIT_VALUE
    stored = stored.strip()
    if stored[0] in "[{":
        try:
            return _readable(json.loads(stored))
        except ValueError:
            pass
    return _readable_scalar(stored)


def _readable(value: Any) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY_AUDIT_VALUE
    if isinstance(value, dict):
        return "; ".join(f"{_AUDIT_KEY_LABELS.get(k, k)}: {_readable(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(f"({_readable(v)})" if isinstance(v, dict) else _readable(v) for v in value)
    if isinstance(value, bool):
        return "có" if value else "không"
    if isinstance(value, (int, float)):
        return format_number(value, 4)
    return _readable_scalar(str(value))


def _readable_scalar(text: str) -> str:
    if text in ("True", "true"):
        return "có"
    if text in ("False", "false"):
        return "không"
    if text in STATUS_LABELS:
        return STATUS_LABELS[text]
    if _ISO_DATE.fullmatch(text):
        return format_date(date.fromisoformat(text))
    if _ISO_DATETIME.fullmatch(text):
        try:
            return format_datetime(datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            return text
    return text


def _actor_labels(session: Session, logins: Iterable[str]) -> dict[str, str]:
    """Login → "Full Name (login)" for the accounts among them; typed names and "hệ thống" stay as they are."""
    logins = sorted(set(logins))
    if not logins:
        return {}
    rows = session.execute(select(Account.username, Account.display_name).where(Account.username.in_(logins))).all()
    names = {username: (display or "").strip() for username, display in rows}
    return {login: f"{names[login]} ({login})" if names.get(login) and names[login] != login else login for login in logins}


def _utc_bound(day: date, end: bool) -> datetime:
    """The first (or last) moment of a local calendar day, as the naive UTC the log stores."""
    moment = datetime.combine(day, datetime.max.time() if end else datetime.min.time(), tzinfo=local_zone())
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def audit_log(db: Database, department_id: int, *, viewer: Actor, actor: str | None = None, entity_key: str | None = None,
              since: date | None = None, until: date | None = None, limit: int = 500, with_accounts: bool = False) -> list[AuditView]:
    """The department's changes, newest first, readable (AuditView), for `viewer` (a Principal allowed to see the
    log there, or a trusted caller's name: see Actor). `actor` is a login or an account's full name; since/until
    are days in local time.

    with_accounts adds the changes that belong to no department (accounts, criteria sets): for those who
    manage accounts."""
    check_allowed(viewer, Action.VIEW_AUDIT_LOG, department_id=department_id)
    if with_accounts:
        check_allowed(viewer, Action.MANAGE_ACCOUNTS, department_id=department_id)
    with db.session() as session:
        scope = AuditEntry.department_id == department_id
        query = select(AuditEntry).where(scope | AuditEntry.department_id.is_(None) if with_accounts else scope)
        if actor:  # the login, or the full name of an account
            named = session.scalars(select(Account.username).where(Account.display_name == nfc(actor))).all()
            query = query.where(AuditEntry.actor.in_({actor, *named}))
        if entity_key:
            query = query.where(AuditEntry.entity_key.contains(entity_key))
        if since:
            query = query.where(AuditEntry.at >= _utc_bound(since, end=False))
        if until:
            query = query.where(AuditEntry.at <= _utc_bound(until, end=True))
        rows = session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit)).all()
        labels = _actor_labels(session, (r.actor for r in rows))
        return [AuditView(r.at, r.actor, r.entity, r.entity_key, r.field, audit_value_text(r.old), audit_value_text(r.new),
                          labels.get(r.actor, r.actor)) for r in rows]
