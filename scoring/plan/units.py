"""Units (phòng, đơn vị) named in the plan's "Chủ trì" and "Phối hợp" cells.

A cell names one or more units ("Phòng CSĐT, phòng Tôn giáo, Văn phòng"; "Văn phòng và Phòng
Tôn giáo", but "Sở Dân tộc và Tôn giáo" is one body: "và" separates only before a unit name) or the whole
department in one phrase ("Các phòng thuộc Sở", "các phòng, đơn vị thuộc Sở"). Collective
phrases become the single entry `COLLECTIVE_UNIT`, which `expand_units` later replaces by
the units the department has configured.

Naming policy (so the same unit written differently counts once):
- NFC, single spaces, no list bullets in front ("- ", "+ ", "•") nor punctuation at the end;
- the first letter is upper-case; when the name starts with a unit-type word (phòng, văn phòng,
  ban, trung tâm, chi cục, ...) that word is written in its usual form whatever its case, so
  "VĂN PHÒNG", "văn phòng" and "Văn phòng" are one unit; the rest is kept as written, so
  acronyms ("CSĐT") and proper nouns ("Tôn giáo") survive;
- two names that differ only in case ("Phòng CSĐT" / "Phòng Csđt") are the same unit
  (`unit_key`), the first spelling met wins. Accents are NOT ignored: "Ban" and "Bàn" differ.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from scoring.textnorm import fold, nfc

COLLECTIVE_UNIT = "Các phòng thuộc Sở"

# Collective phrases, matched on folded text (accent-free, lower-case) so decomposed or
# upper-case input matches too: "Tất cả (các) <nouns> [owner]", "Các <nouns> <owner>", or
# "Các <nouns>" standing alone. The owner (or nothing after it) is what tells the department
# as a whole ("Các phòng thuộc Sở") from a plural list ("Các phòng CSĐT, Tôn giáo").
_UNIT_NOUN = r"(?:phong|ban|don vi|bo phan|co quan)(?: chuyen mon(?: nghiep vu)?| nghiep vu)?"
_NOUN_LIST = rf"{_UNIT_NOUN}(?:\s*(?:,|;|/|\bva\b)\s*{_UNIT_NOUN})*"
_OWNER = r"(?:(?:truc )?thuoc(?: (?:so|co quan))?|cua (?:so|co quan))"
_COLLECTIVE = re.compile(
    rf"\b(?:tat ca(?: cac)? {_NOUN_LIST}(?: {_OWNER})?|cac {_NOUN_LIST}(?: {_OWNER}|(?=\s*(?:$|[,;\n]|\bva\b))))(?!\w)"
)

# Separators between units: comma, semicolon, line break. Never " - ": "Phòng Kế hoạch - Tài
# chính" is one unit. The word "và" separates only when a unit name follows it (see _split_on_and).
_SEPARATOR = re.compile(r"\s*[,;\n]\s*")
_AND_WORD = re.compile(r"\s*(?<!\w)(và)(?!\w)\s*", re.IGNORECASE)

_LEADING_BULLETS = "-+•*·–—−>  "
_TRAILING_PUNCTUATION = ".,;:!?-+•*·–—−  "

# Unit-type words as they are usually written; longest first so "văn phòng" wins over "phòng".
# Not "Tổ": it also starts "Tổ chức", which follows "và" inside names ("Phòng Nội vụ và Tổ chức").
_UNIT_TYPE_WORDS = sorted(
    [
        "Văn phòng",
        "Phòng",
        "Ban",
        "Trung tâm",
        "Chi cục",
        "Cục",
        "Đơn vị",
        "Sở",
        "Thanh tra",
        "Hội đồng",
        "Bộ phận",
        "Lãnh đạo",
    ],
    key=len,
    reverse=True,
)
_UNIT_TYPE_PREFIX = re.compile(
    r"^(" + "|".join(re.escape(word) for word in _UNIT_TYPE_WORDS) + r")(?!\w)", re.IGNORECASE
)
_CANONICAL_TYPE_WORD = {word.casefold(): word for word in _UNIT_TYPE_WORDS}


def _fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """Fold `text` one character at a time, remembering which source character each folded one came from.

    Folding can change the length (a lone combining mark disappears), so spans found in the
    folded text are mapped back through these offsets rather than reused as they are.
    """
    folded: list[str] = []
    offsets: list[int] = []
    for index, char in enumerate(text):
        # fold() trims, which would swallow a lone space: keep whitespace as one space.
        piece = " " if char.isspace() else fold(char)
        folded.append(piece)
        offsets.extend([index] * len(piece))
    return "".join(folded), offsets


def _clean(name: str) -> str:
    """NFC, one line, single spaces, no leading bullet nor trailing punctuation."""
    text = " ".join(nfc(name).split())
    return text.lstrip(_LEADING_BULLETS).rstrip(_TRAILING_PUNCTUATION)


def is_collective(name: str) -> bool:
    """True when the whole name means every unit of the department ("Các phòng thuộc Sở", "tất cả các phòng")."""
    cleaned = _clean(name)
    return bool(cleaned) and _COLLECTIVE.fullmatch(fold(cleaned)) is not None


def normalise_unit(name: str) -> str:
    """One spelling per unit: see the module docstring. A collective phrase becomes `COLLECTIVE_UNIT`."""
    cleaned = _clean(name)
    if not cleaned:
        return ""
    if is_collective(cleaned):
        return COLLECTIVE_UNIT
    prefix = _UNIT_TYPE_PREFIX.match(cleaned)
    if prefix:
        canonical = _CANONICAL_TYPE_WORD[prefix.group(1).casefold()]
        return canonical + cleaned[prefix.end() :]
    return cleaned[0].upper() + cleaned[1:]


def unit_key(name: str) -> str:
    """Identity of a unit: its normalised name, case ignored (accents are not)."""
    return normalise_unit(name).casefold()


def _dedupe(names: Iterable[str]) -> list[str]:
    seen: dict[str, str] = {}
    for name in names:
        if name:
            seen.setdefault(name.casefold(), name)
    return list(seen.values())


def _starts_unit_name(text: str) -> bool:
    """Whether `text` begins like a unit's name: a unit-type word, "các"/"tất cả", or an acronym (UBND)."""
    words = text.split(maxsplit=1)
    if not words:
        return False
    first = words[0]
    return (
        _UNIT_TYPE_PREFIX.match(text) is not None
        or fold(first) in {"cac", "tat"}
        or (len(first) >= 2 and first.isupper())
    )


def _split_on_and(piece: str) -> list[str]:
    """Split on "và" only where a new unit begins after it.

    "Văn phòng và Phòng Tôn giáo" is two units, but "Sở Dân tộc và Tôn giáo" is one: names of
    Vietnamese bodies often contain "và", and a unit's name starts with a word such as "Phòng".
    """
    tokens = _AND_WORD.split(piece)  # text, "và", text, "và", text ...
    parts = [tokens[0]]
    for conjunction, following in zip(tokens[1::2], tokens[2::2]):
        if not parts[-1] or not following or _starts_unit_name(following):
            parts.append(following)
        else:
            parts[-1] = f"{parts[-1]} {conjunction} {following}"
    return parts


def _split_plain(segment: str) -> list[str]:
    return [normalise_unit(part) for piece in _SEPARATOR.split(segment) for part in _split_on_and(piece)]


def split_units(text: str | None) -> list[str]:
    """The units a "Chủ trì"/"Phối hợp" cell names, normalised, in order, each once.

    Collective phrases are recognised before splitting (some contain commas) and kept as the
    single entry `COLLECTIVE_UNIT`.
    """
    return list(_split_units(text or ""))


@functools.lru_cache(maxsize=16384)  # the same few "Chủ trì" cells recur on every row of a plan
def _split_units(text: str) -> tuple[str, ...]:
    return tuple(_split_units_uncached(text))


def _split_units_uncached(text: str) -> list[str]:
    source = nfc(text)
    if not source:
        return []
    folded, offsets = _fold_with_offsets(source)
    units: list[str] = []
    position = 0
    for match in _COLLECTIVE.finditer(folded):
        start = offsets[match.start()]
        end = offsets[match.end() - 1] + 1
        units.extend(_split_plain(source[position:start]))
        units.append(COLLECTIVE_UNIT)
        position = end
    units.extend(_split_plain(source[position:]))
    return _dedupe(units)


def expand_units(units: Iterable[str], department_units: Iterable[str]) -> list[str]:
    """Replace the collective entry by every configured unit of the department; normalised, each once.

    With no units configured the collective entry is kept, so the work it stands for still
    shows up (as "Các phòng thuộc Sở") instead of silently belonging to nobody.
    """
    configured = [
        unit for unit in (normalise_unit(name) for name in department_units) if unit and not is_collective(unit)
    ]
    expanded: list[str] = []
    for name in units:
        unit = normalise_unit(name)
        if unit == COLLECTIVE_UNIT and configured:
            expanded.extend(configured)
        else:
            expanded.append(unit)
    return _dedupe(expanded)
