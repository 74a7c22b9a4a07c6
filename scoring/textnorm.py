"""Text normalisation and Vietnamese formatting used everywhere (one place, so every page and export agrees)."""

from __future__ import annotations

import os
import re
import unicodedata
from datetime import date, datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scoring.errors import InputError

_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u3000]+")


def nfc(text: str | None) -> str:
    """Unicode NFC (documents pasted from other tools arrive decomposed), spaces folded, trimmed."""
    if text is None:
        return ""
    text = unicodedata.normalize("NFC", str(text))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line).strip()


@lru_cache(maxsize=65536)  # a plan repeats the same cells (units, deadlines) on thousands of rows
def fold(text: str) -> str:
    """Lower-case, accent-free form for matching words whatever their diacritics or case ("Đ" → "d")."""
    text = nfc(text).lower().replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def format_number(value: float | int | Decimal | None, decimals: int = 2, *, fixed: bool = False) -> str:
    """Vietnamese number: decimal comma, dot for thousands, trailing zeros dropped ("0,5", "1.234,25"); `fixed`
    keeps them, for figures published with their decimals (an index of "41,20")."""
    if value is None:
        return "—"
    quantum = Decimal(1).scaleb(-decimals)
    d = Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP)
    sign = "-" if d < 0 else ""
    d = abs(d)
    whole, _, frac = f"{d:f}".partition(".")
    frac = frac if fixed else frac.rstrip("0")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    text = ".".join(groups)
    return f"{sign}{text},{frac}" if frac else f"{sign}{text}"


def format_points(value: float | int | Decimal | None) -> str:
    """Points as users write them: "0,5 điểm"."""
    if value is None:
        return "—"
    return f"{format_number(value)} điểm"


def format_percent(value: float | None, decimals: int = 1, *, fixed: bool = False) -> str:
    """A percentage, "87,5%" (`fixed`: with every decimal, "87,50%", as a published index is written)."""
    if value is None:
        return "—"
    return f"{format_number(value, decimals, fixed=fixed)}%"


def format_date(value: date | None) -> str:
    """Vietnamese date, "20/12/2026"."""
    if value is None:
        return "—"
    return f"{value.day:02d}/{value.month:02d}/{value.year}"


# the form format_date writes, read back: day first, then month, then year ("1/12/2026", "01-12-2026", "01.12.2026")
DATE_TEXT_PATTERN = r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$"
_DATE_TEXT = re.compile(DATE_TEXT_PATTERN)


def parse_date(text: str) -> date | None:
    """A Vietnamese date as typed, day first ("01/12/2026" is 1 December 2026); None if it is not one."""
    match = _DATE_TEXT.match(text or "")
    if not match:
        return None
    day, month, year = (int(group) for group in match.groups())
    try:
        return date(year, month, day)
    except ValueError:  # 31/02/2026
        return None


# Vietnamese alphabetical order: a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y,
# then tones (none, huyền, hỏi, ngã, sắc, nặng) as a later key.
_BASE_ORDER = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
_BASE_RANK = {ch: i for i, ch in enumerate(_BASE_ORDER)}
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}
_SHAPE_MARKS = {"\u0306", "\u0302", "\u031b"}  # breve, circumflex, horn: part of the letter, not the tone


def _letter_key(ch: str) -> tuple[tuple[int, int], int]:
    decomposed = unicodedata.normalize("NFD", ch.lower())
    tone = 0
    base_chars = []
    for part in decomposed:
        if part in _TONES:
            tone = _TONES[part]
        else:
            base_chars.append(part)
    base = unicodedata.normalize("NFC", "".join(base_chars))
    if base in _BASE_RANK:
        return (0, _BASE_RANK[base]), tone
    return (1, ord(base[0]) if base else 0), tone


def vn_sort_key(text: str) -> tuple:
    """Sort key respecting Vietnamese letters: "Đ" after "D", "Ư" after "U", tones as a tie-breaker."""
    keys = [_letter_key(ch) for ch in nfc(text)]
    return tuple(k[0] for k in keys), tuple(k[1] for k in keys)


VIETNAM_TZ = "Asia/Ho_Chi_Minh"
TIMEZONE_VARIABLE = "CCHC_TIMEZONE"


def local_zone(environ: dict[str, str] | None = None) -> ZoneInfo:
    """The zone people read times in: CCHC_TIMEZONE (an IANA name), Asia/Ho_Chi_Minh when unset.

    A name that is no zone raises InputError; the app and the command line ask for it when they start.
    """
    environ = os.environ if environ is None else environ
    return _zone(nfc(environ.get(TIMEZONE_VARIABLE)) or VIETNAM_TZ)


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # unknown name, a path ("../x"), a folder ("Asia")
        raise InputError(
            f"Biến môi trường {TIMEZONE_VARIABLE} ghi múi giờ «{name[:60]}» không hợp lệ: hãy ghi tên múi giờ IANA, "
            f"ví dụ «{VIETNAM_TZ}» (giờ Việt Nam), hoặc bỏ biến này để dùng giờ Việt Nam."
        ) from None


def to_local(value: datetime) -> datetime:
    """A moment in the local zone (see local_zone). The database keeps naive UTC (models.utcnow), so a naive
    value is read as UTC; an aware one is converted from its own zone. The one conversion every display uses."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(local_zone())


def local_now() -> datetime:
    """Now, in the local zone (aware)."""
    return to_local(datetime.now(timezone.utc))


def local_today() -> date:
    """Today's date where people work: at 23:00 UTC it is already tomorrow in Vietnam."""
    return local_now().date()


def format_datetime(value: datetime | None) -> str:
    """A stored moment as local time (Vietnam unless configured), "14:05 20/12/2026"."""
    if value is None:
        return "—"
    local = to_local(value)
    return f"{local:%H:%M} {format_date(local.date())}"


def file_stamp(value: datetime | None = None) -> str:
    """Local date and time for file names, "20261220-1405" (now when no moment is given)."""
    local = to_local(value) if value is not None else local_now()
    return f"{local:%Y%m%d-%H%M}"


# Roman numerals: plan areas (I–VII) and the areas of the official tables are numbered this way.
_ROMAN_NUMERAL = re.compile(r"M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
_ROMAN_LETTERS = ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
                  (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))


def roman_value(code: str) -> int | None:
    """ "VII" → 7; None for anything that is not a Roman numeral."""
    code = code.strip().upper()
    if not code or not _ROMAN_NUMERAL.fullmatch(code):
        return None
    total = 0
    for current, following in zip(code, [*code[1:], ""]):
        value = _ROMAN_VALUES[current]
        total += -value if following and _ROMAN_VALUES[following] > value else value
    return total


def roman(number: int) -> str:
    """7 → "VII"."""
    parts = []
    for value, letters in _ROMAN_LETTERS:
        while number >= value:
            parts.append(letters)
            number -= value
    return "".join(parts)
