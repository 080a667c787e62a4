"""The dispatch matrix: which department gets a registered case, by event class and area.

A rule names a class (a minor class ``0401``, a major class ``04``, or ``*`` for every class),
an area (a district, street or community code, or ``*`` for everywhere) and a department.
Dispatching an incident picks the most specific rule that matches it: the most specific
class first (minor, then major, then ``*``), then the smallest area (community, street,
district, ``*``). When no rule matches, the class's own default department handles it. The
default rules are data (``data/taxonomy/dispatch.csv``, loaded with the taxonomy);
administrators change them with ``gridmap dispatch set|unset`` (audited).
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from gridmap.audit import record
from gridmap.errors import InvalidInput, NotFound
from gridmap.i18n import msg
from gridmap.models.incident import Department, DispatchRule, EventClass

_CLASS = re.compile(r"\*|[0-9]{2}|[0-9]{4}", re.ASCII)
_AREA = re.compile(r"\*|[0-9]{6}|[0-9]{9}|[0-9]{12}", re.ASCII)

_PICK = text("""
    select r.department_code from dispatch_rule r
    where (r.class_pattern = :code or r.class_pattern = left(:code, 2)
           or r.class_pattern = '*')
      and (r.area_code = '*' or r.area_code = any(cast(:areas as text[])))
    order by length(replace(r.class_pattern, '*', '')) desc,
             length(replace(r.area_code, '*', '')) desc
    limit 1
""")


def check_rule(session: Session, class_pattern: str, area_code: str,
               department_code: str | None = None) -> None:
    """Refuse a malformed class or area, an unknown class, or an unknown department."""
    if not isinstance(class_pattern, str) or not _CLASS.fullmatch(class_pattern):
        raise InvalidInput(msg("class {value!r}: expected a minor class (4 digits), a major "
                               "class (2 digits) or *", value=str(class_pattern)[:20]))
    if not isinstance(area_code, str) or not _AREA.fullmatch(area_code):
        raise InvalidInput(msg("area {value!r}: expected a district (6 digits), street (9) or "
                               "community (12) code, or *", value=str(area_code)[:20]))
    if class_pattern != "*" and not session.execute(select(EventClass.code).where(
            EventClass.code.startswith(class_pattern, autoescape=True))).first():
        raise InvalidInput(msg("class {value}: no loaded event class is or starts with it",
                               value=class_pattern))
    if department_code is not None and session.get(Department, department_code) is None:
        raise InvalidInput(msg("department {value!r} is not loaded (data/taxonomy/"
                               "departments.csv)", value=str(department_code)[:40]))


def department_for(session: Session, class_code: str, areas: list[str]) -> str:
    """The department that handles ``class_code`` in the place whose division codes (its
    community, street and district) are ``areas``."""
    found = session.execute(_PICK, {"code": class_code, "areas": areas}).scalar()
    if found is not None:
        return found
    return session.get(EventClass, class_code).department_code


def set_rule(session: Session, class_pattern: str, area_code: str,
             department_code: str) -> None:
    """Add or change the rule for ``class_pattern`` in ``area_code`` (audited)."""
    check_rule(session, class_pattern, area_code, department_code)
    before = session.execute(select(DispatchRule.department_code).where(
        DispatchRule.class_pattern == class_pattern,
        DispatchRule.area_code == area_code)).scalar()
    statement = insert(DispatchRule).values(class_pattern=class_pattern, area_code=area_code,
                                            department_code=department_code)
    session.execute(statement.on_conflict_do_update(
        index_elements=["class_pattern", "area_code"],
        set_={"department_code": statement.excluded.department_code}))
    record(session, action="dispatch.set", table="dispatch_rule",
           key=f"{class_pattern}@{area_code}",
           before=None if before is None else {"department": before},
           after={"department": department_code})


def unset_rule(session: Session, class_pattern: str, area_code: str) -> None:
    """Remove the rule for ``class_pattern`` in ``area_code`` (audited)."""
    check_rule(session, class_pattern, area_code)
    gone = session.execute(delete(DispatchRule).where(
        DispatchRule.class_pattern == class_pattern, DispatchRule.area_code == area_code)
        .returning(DispatchRule.department_code)).scalar()
    if gone is None:
        raise NotFound(msg("no dispatch rule for class {cls} in area {area}",
                           cls=class_pattern, area=area_code))
    record(session, action="dispatch.unset", table="dispatch_rule",
           key=f"{class_pattern}@{area_code}", before={"department": gone})


def list_rules(session: Session) -> list[DispatchRule]:
    return list(session.execute(select(DispatchRule).order_by(
        DispatchRule.class_pattern, DispatchRule.area_code)).scalars())


def read_rules(path: Path) -> list[dict]:
    """Rows of ``dispatch.csv`` (class, area, department); checked when loaded."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as src:
        return [{"line": number, "class_pattern": (row.get("class") or "").strip(),
                 "area_code": (row.get("area") or "").strip(),
                 "department_code": (row.get("department") or "").strip()}
                for number, row in enumerate(csv.DictReader(src), start=2)]


def load_rules(session: Session, path: Path) -> int:
    """Upsert the rules of ``path``; return how many changed (a bad row is named)."""
    changed = 0
    stored = {(r.class_pattern, r.area_code): r.department_code for r in list_rules(session)}
    for row in read_rules(path):
        try:
            check_rule(session, row["class_pattern"], row["area_code"], row["department_code"])
        except InvalidInput as exc:
            raise InvalidInput(msg("{path} line {number}: {problem}", path=path,
                                   number=row["line"], problem=exc.detail)) from None
        key = (row["class_pattern"], row["area_code"])
        if stored.get(key) != row["department_code"]:
            set_rule(session, *key, row["department_code"])
            changed += 1
    return changed
