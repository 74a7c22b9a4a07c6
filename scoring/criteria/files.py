"""Criteria sets of the PAR index (bộ tiêu chí Chỉ số CCHC) as data: reading and writing files, the check command.

The model and its validation live in scoring.criteria.model and are re-exported here (CriteriaSet,
CriterionNode, validate, …). `load_criteria_set` / `load_criteria_set_bytes` read YAML/JSON (below) and
the provinces' criteria table in Excel (.xlsx), Word (.docx) or a PDF with a text layer, through
scoring.criteria.table and its readers (scoring.criteria.excel, .word, .pdf).

A set is a tree of any depth — areas (lĩnh vực) → criteria (tiêu chí) → sub-criteria (tiêu chí thành phần)
→ … — whose leaves carry a scoring rule (scoring.criteria.rules), the evidence they expect and the plan activities
they draw on. Provinces issue a new set most years, so sets are files users import, never code.

File format (YAML or JSON, checked against scoring/criteria/schema.json):

    name: Bộ tiêu chí mẫu …
    template: true            # a template, not a province's decision
    sources: [Quyết định 892/QĐ-BNV …]
    province: null
    year: 2026
    total_max: 100
    nodes:                    # the areas
      - code: "1"             # codes are text: quote them in YAML ("1.1", not 1.1)
        name: Công tác chỉ đạo, điều hành CCHC
        max: 13
        cap_children: false   # true: children's maxima may add up to more; the node caps their sum
        children:
          - code: "1.1"
            name: Ban hành kế hoạch CCHC năm
            max: 1
            rule: {kind: tiers, tiers: [{label: Kịp thời, points: 1}, {label: Không kịp thời, points: 0.5}]}
            evidence: Kế hoạch CCHC năm
            activities: [I.5]
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, TextIO

import jsonschema
import yaml

from scoring.criteria.model import (  # noqa: F401 — re-exported: the model lives there so its readers need not import this module
    SEVERITY_ERROR,
    SEVERITY_WARNING,
    CriteriaIssue,
    CriteriaSet,
    CriterionNode,
    has_errors,
    validate,
)
from scoring.criteria.numbers import parse_decimal, vn_number
from scoring.criteria.rules import KIND_LABELS, RuleKind, rule_from_dict
from scoring.errors import InputError
from scoring.exit_codes import EXIT_BAD_INPUT, EXIT_OK
from scoring.textnorm import format_points, nfc

SCHEMA_PATH = Path(__file__).with_name("schema.json")
CRITERIA_EXTENSIONS = (".yaml", ".yml", ".json", ".xlsx", ".docx", ".pdf")  # what is read
WRITTEN_CRITERIA_EXTENSIONS = (".yaml", ".yml", ".json", ".xlsx")  # what `dump_criteria_set` writes
MAX_CRITERIA_BYTES = 5 * 1024 * 1024
MAX_REPORTED_SCHEMA_ERRORS = 15

EXIT_USABLE = EXIT_OK
EXIT_UNUSABLE = EXIT_BAD_INPUT


# --------------------------------------------------------------------------- reading and writing files


@cache
def criteria_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def load_criteria_set(path: str | Path) -> CriteriaSet:
    """Read a set from .yaml/.yml/.json (schema-checked), or from the provinces' table in .xlsx, .docx or a PDF
    with a text layer (scoring.criteria.table).

    Raises InputError naming the file and what is wrong. Validation findings are not raised: call `validate`.
    """
    path = Path(path)
    if path.suffix.lower() not in CRITERIA_EXTENSIONS:
        raise InputError(
            f"Tệp «{path.name}»: không đọc được loại tệp này; chỉ nhận {', '.join(CRITERIA_EXTENSIONS)}."
        )
    try:
        data = path.read_bytes()
    except OSError as problem:
        raise InputError(f"Tệp «{path.name}»: không mở được ({problem.strerror or problem}).") from None
    return load_criteria_set_bytes(path.name, data)


def load_criteria_set_bytes(filename: str, data: bytes) -> CriteriaSet:
    """Same as `load_criteria_set` for an uploaded file's bytes."""
    from scoring.store.uploads import safe_display_name

    filename = safe_display_name(filename) or "bộ tiêu chí"  # no folders, control characters or NUL in any message
    suffix = Path(filename).suffix.lower()
    if len(data) > MAX_CRITERIA_BYTES:
        raise InputError(f"Tệp «{filename}»: quá lớn (tối đa {MAX_CRITERIA_BYTES // (1024 * 1024)} MB).")
    # The table readers load only for their kind of file (openpyxl, python-docx, pdfplumber are slow to import).
    if suffix == ".xlsx":
        from scoring.criteria.excel import import_criteria_xlsx

        return import_criteria_xlsx(data, source_name=filename)
    if suffix == ".docx":
        from scoring.criteria.word import import_criteria_docx

        return import_criteria_docx(data, source_name=filename)
    if suffix == ".pdf":
        from scoring.criteria.pdf import import_criteria_pdf

        return import_criteria_pdf(data, source_name=filename)
    if suffix not in (".yaml", ".yml", ".json"):
        raise InputError(
            f"Tệp «{filename}»: không đọc được loại tệp này; chỉ nhận {', '.join(CRITERIA_EXTENSIONS)}."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"Tệp «{filename}»: không phải văn bản UTF-8.") from None
    document = _parse_json(filename, text) if suffix == ".json" else _parse_yaml(filename, text)
    if document is None:
        raise InputError(f"Tệp «{filename}» rỗng: không có bộ tiêu chí nào.")
    return criteria_set_from_dict(document, filename)


class _LoaderWithoutAliases(yaml.SafeLoader):
    """YAML without anchors' aliases: a criteria set never needs them, and a few hundred bytes of nested
    aliases expand to gigabytes in memory ("billion laughs") before any check can look at the result."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.MarkedYAMLError(problem="tệp dùng bí danh YAML (*tên) — bộ tiêu chí không cho phép; hãy viết đầy đủ từng mục",
                                       problem_mark=mark)
        return super().compose_node(parent, index)


def _parse_yaml(filename: str, text: str) -> Any:
    try:
        return yaml.load(text, Loader=_LoaderWithoutAliases)  # noqa: S506 — a SafeLoader, with aliases refused
    except yaml.YAMLError as problem:
        mark = getattr(problem, "problem_mark", None)
        at = f" (dòng {mark.line + 1}, cột {mark.column + 1})" if mark else ""
        reason = getattr(problem, "problem", None) or "cú pháp không đúng"
        raise InputError(f"Tệp «{filename}»: không đọc được YAML{at}: {reason}.") from None


def _parse_json(filename: str, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as problem:
        raise InputError(
            f"Tệp «{filename}»: không đọc được JSON (dòng {problem.lineno}, cột {problem.colno}): {problem.msg}."
        ) from None


# Canonical JSON of documents that already passed the schema: stored sets are read on every page run, and
# the schema check is most of the cost of reading one. Keyed by content, so a restored or edited set is
# checked again.
_SCHEMA_VALID: set[str] = set()
_SCHEMA_VALID_LIMIT = 256


def criteria_set_from_dict(document: Any, source_name: str = "bộ tiêu chí") -> CriteriaSet:
    """Build a set from plain data in the file format, after checking it against the JSON Schema."""
    try:
        canonical = json.dumps(document, sort_keys=True, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        canonical = None
    if canonical is None or canonical not in _SCHEMA_VALID:
        _check_schema(document, source_name)
        if canonical is not None:
            if len(_SCHEMA_VALID) >= _SCHEMA_VALID_LIMIT:
                _SCHEMA_VALID.clear()
            _SCHEMA_VALID.add(canonical)
    return _build_set(document, source_name)


# Sets read back from the database, by the digest of their content: the pages, each save and each lock
# check read the assessment's set, and decoding and building its tree costs more than the rest of a save.
_STORED_SETS: dict[tuple[str, str], CriteriaSet] = {}
_STORED_SETS_LIMIT = 32


def content_digest(document: Any) -> str:
    """SHA-256 of a set's plain data in canonical JSON: equal digests mean equal content."""
    canonical = json.dumps(document, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def stored_criteria_set(digest: str, read_content: Callable[[], Any], source_name: str = "bộ tiêu chí") -> CriteriaSet:
    """The stored set whose content has this digest, built once and shared: callers must not change it.

    `read_content` fetches the content only when the set is not built yet. Keyed by content, not by row,
    so a set restored from a backup or stored under another id is never mistaken for a different one.
    """
    if not digest:  # a row without a digest (never written by this version): key it by its content
        document = read_content()
        digest, read_content = content_digest(document), (lambda: document)
    key = (digest, source_name)
    found = _STORED_SETS.get(key)
    if found is None:
        found = criteria_set_from_dict(read_content(), source_name)
        if len(_STORED_SETS) >= _STORED_SETS_LIMIT:
            _STORED_SETS.clear()
        _STORED_SETS[key] = found
    return found


def _check_schema(document: Any, source_name: str) -> None:
    validator = schema_validator()
    errors = list(validator.iter_errors(document))
    if errors:
        lines = [schema_error_text(err, document) for err in errors[:MAX_REPORTED_SCHEMA_ERRORS]]
        more = len(errors) - len(lines)
        if more > 0:
            lines.append(f"… và {more} lỗi khác.")
        listing = "\n".join(f"- {line}" for line in lines)
        raise InputError(f"Tệp «{source_name}» không đúng định dạng bộ tiêu chí:\n{listing}")


@cache
def schema_validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(criteria_schema())


def _build_set(document: Any, source_name: str) -> CriteriaSet:
    try:
        nodes = [_node_from_dict(area) for area in document["nodes"]]
        return CriteriaSet(
            name=nfc(document["name"]),
            nodes=nodes,
            total_max=parse_decimal(document["total_max"]),
            year=document.get("year"),
            province=nfc(document.get("province") or ""),
            template=bool(document.get("template", False)),
            sources=[nfc(s) for s in document.get("sources") or []],
            source=source_name,
        )
    except InputError as problem:
        raise InputError(f"Tệp «{source_name}»: {problem}") from None


def _node_from_dict(data: dict) -> CriterionNode:
    max_points = parse_decimal(data["max"])
    rule = None
    if data.get("rule") is not None:
        try:
            rule = rule_from_dict(data["rule"], max_points)
        except InputError as problem:
            raise InputError(f"tiêu chí {data['code']}: {problem}") from None
    return CriterionNode(
        code=nfc(data["code"]),
        name=nfc(data["name"]),
        max_points=max_points,
        children=[_node_from_dict(child) for child in data.get("children") or []],
        rule=rule,
        evidence=nfc(data.get("evidence") or ""),
        activities=[nfc(a) for a in data.get("activities") or []],
        cap_children=bool(data.get("cap_children", False)),
        note=nfc(data.get("note") or ""),
    )


_TYPE_NAMES = {
    "string": "chuỗi ký tự",
    "number": "số",
    "integer": "số nguyên",
    "boolean": "true hoặc false",
    "array": "danh sách",
    "object": "nhóm trường (tên: giá trị)",
    "null": "để trống",
}


def schema_error_text(err: jsonschema.ValidationError, document: Any) -> str:
    """One schema error as a Vietnamese sentence: where (criterion code and field path) and what."""
    path = list(err.absolute_path)
    field_path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".") or "(gốc tệp)"
    code = nearest_code(document, path)
    where = f"tiêu chí {code}, trường {field_path}" if code else f"trường {field_path}"
    value = err.instance
    match err.validator:
        case "required":
            missing = [name for name in err.validator_value if not isinstance(value, dict) or name not in value]
            what = f"thiếu trường «{missing[0]}»" if missing else "thiếu trường bắt buộc"
        case "additionalProperties":
            allowed = set(err.schema.get("properties", {}))
            extra = sorted(k for k in value if k not in allowed) if isinstance(value, dict) else []
            what = f"có trường không được hỗ trợ «{extra[0]}»" if extra else "có trường không được hỗ trợ"
        case "type":
            wanted = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
            what = f"phải là {' hoặc '.join(_TYPE_NAMES.get(t, t) for t in wanted)} (đang là «{value}»)"
            if path and path[-1] == "code":
                what += '; trong YAML hãy viết mã trong dấu nháy, ví dụ "1.1"'
        case "pattern":
            what = f"«{value}» không phải là số" if "\\d" in str(err.validator_value) else f"«{value}» không đúng dạng"
        case "enum":
            options = ", ".join(str(v) for v in err.validator_value)
            what = f"«{value}» không hợp lệ; chỉ nhận: {options}"
        case "const":
            what = f"phải là «{err.validator_value}»"
        case "minLength":
            what = "không được để trống"
        case "minItems":
            what = f"cần ít nhất {err.validator_value} phần tử"
        case "minimum":
            what = f"phải từ {err.validator_value} trở lên (đang là {value})"
        case "maximum":
            what = f"không được lớn hơn {err.validator_value} (đang là {value})"
        case "exclusiveMinimum":
            what = f"phải lớn hơn {err.validator_value} (đang là {value})"
        case "exclusiveMaximum":
            what = f"phải nhỏ hơn {err.validator_value} (đang là {value})"
        case _:
            what = f"không hợp lệ ({err.message})"
    return f"{where}: {what}."


def nearest_code(document: Any, path: list) -> str | None:
    """The code of the deepest node on the error's path, so a person can find the criterion."""
    code = None
    current = document
    for step in path:
        if isinstance(current, dict) and isinstance(current.get("code"), str) and "name" in current:
            code = current["code"]
        try:
            current = current[step]
        except (KeyError, IndexError, TypeError):
            break
    if isinstance(current, dict) and isinstance(current.get("code"), str) and "name" in current:
        code = current["code"]
    return code


def dump_criteria_set(criteria_set: CriteriaSet, path: str | Path) -> None:
    """Write a set as .yaml/.yml, .json or .xlsx (the provinces' layout), chosen by the file's extension."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        from scoring.criteria.excel import export_criteria_xlsx

        export_criteria_xlsx(criteria_set, path)
    elif suffix in (".yaml", ".yml"):
        path.write_text(dump_criteria_yaml(criteria_set), encoding="utf-8")
    elif suffix == ".json":
        path.write_text(json.dumps(criteria_set.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    else:
        raise InputError(
            f"Tệp «{path.name}»: không ghi được loại tệp này; chỉ ghi {', '.join(WRITTEN_CRITERIA_EXTENSIONS)}."
        )


def dump_criteria_yaml(criteria_set: CriteriaSet) -> str:
    return yaml.safe_dump(criteria_set.to_dict(), allow_unicode=True, sort_keys=False, width=120)


# --------------------------------------------------------------------------- the check command


def run_criteria_check(path: str, as_json: bool, activity_ids: set[str] | None, out: TextIO) -> int:
    """Read and check a set; print a Vietnamese summary, or exactly one JSON object (`to_check_json`).

    Returns 0 when the set is usable (warnings allowed) and 2 when it is not (unreadable or with errors).
    """
    try:
        criteria_set = load_criteria_set(path)
    except InputError as problem:
        if as_json:
            report = {"name": None, "total_max": None, "nodes": [], "warnings": [
                {"where": Path(path).name, "message": f"Lỗi: {problem}"}
            ]}
            json.dump(report, out, ensure_ascii=False, indent=2)
            out.write("\n")
        else:
            out.write(f"Lỗi: {problem}\nKết luận: KHÔNG dùng được bộ tiêu chí này.\n")
        return EXIT_UNUSABLE
    issues = validate(criteria_set, activity_ids)
    usable = not has_errors(issues)
    if as_json:
        json.dump(criteria_set.to_check_json(activity_ids), out, ensure_ascii=False, indent=2)
        out.write("\n")
    else:
        out.write(criteria_summary(criteria_set, issues))
    return EXIT_USABLE if usable else EXIT_UNUSABLE


def criteria_summary(criteria_set: CriteriaSet, issues: list[CriteriaIssue]) -> str:
    """A readable Vietnamese report of a set: what it holds, then errors and warnings, then a verdict."""
    title = criteria_set.name or "(chưa có tên)"
    template_mark = " — BỘ MẪU, cần thay bằng bộ tiêu chí của tỉnh" if criteria_set.template else ""
    lines = [f"Bộ tiêu chí: {title}{template_mark}"]
    details = []
    if criteria_set.province:
        details.append(f"Tỉnh: {criteria_set.province}")
    if criteria_set.year:
        details.append(f"Năm: {criteria_set.year}")
    if details:
        lines.append(" · ".join(details))
    lines.extend(f"Nguồn: {source}" for source in criteria_set.sources)
    leaves = criteria_set.leaves()
    lines.append(
        f"Tổng điểm tối đa: {format_points(criteria_set.total_max)} · {len(criteria_set.nodes)} lĩnh vực · "
        f"{len(leaves)} tiêu chí chấm điểm"
    )
    kinds = Counter(leaf.rule.kind for leaf in leaves if leaf.rule is not None)
    if kinds:
        lines.append("Cách chấm: " + " · ".join(f"{KIND_LABELS[k]} {kinds[k]}" for k in RuleKind if kinds[k]))
    lines.append("")
    lines.append(f"{'Mã':<5}{'Lĩnh vực':<60}{'Tối đa':>8}{'Số tiêu chí':>13}")
    for area in criteria_set.nodes:
        lines.append(f"{area.code:<5}{_clip(area.name, 58):<60}{vn_number(area.max_points):>8}{len(area.leaves()):>13}")
    lines.append("")
    all_issues = [*criteria_set.warnings, *issues]
    errors = [i for i in all_issues if getattr(i, "is_error", False)]
    warnings = [i for i in all_issues if not getattr(i, "is_error", False)]
    for heading, group in (("Lỗi", errors), ("Cảnh báo", warnings)):
        if group:
            lines.append(f"{heading} ({len(group)}):")
            lines.extend(f"  - {issue.where}: {issue.message}" for issue in group)
    if not all_issues:
        lines.append("Không có lỗi hay cảnh báo.")
    lines.append("")
    if errors:
        lines.append("Kết luận: KHÔNG dùng được bộ tiêu chí này; hãy sửa các lỗi ở trên.")
    else:
        lines.append("Kết luận: dùng được để chấm điểm.")
    return "\n".join(lines) + "\n"


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
