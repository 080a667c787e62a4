"""The event taxonomy and the handling departments: data in ``data/taxonomy/``, loaded into
the database so incidents can refer to them.

``departments.csv`` (code, name_zh, name_en), ``dispatch.csv`` (the default dispatch
matrix, :mod:`gridmap.incidents.dispatch`; optional) and ``event_classes.csv`` (code: 2-digit major +
2-digit minor, major_zh, major_en, name_zh, name_en, time_limit_hours in working hours,
department: its code). Cities differ (10 major / 194 minor classes in one, 7 / 94 in
another): a city replaces the files and loads them again; a reload updates classes in place
and never deletes one an incident refers to.
"""
from __future__ import annotations

import csv
import math
import re
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from gridmap.audit import record
from gridmap.errors import InvalidInput
from gridmap.i18n import msg
from gridmap.incidents.dispatch import load_rules
from gridmap.models.incident import Department, EventClass

TAXONOMY_DIR = Path("taxonomy")
_CODE = re.compile(r"[0-9]{4}", re.ASCII)
_DEPARTMENT = re.compile(r"[a-z][a-z0-9_]{0,31}", re.ASCII)
_COLUMNS = {
    "departments.csv": ("code", "name_zh", "name_en"),
    "event_classes.csv": ("code", "major_zh", "major_en", "name_zh", "name_en",
                          "time_limit_hours", "department"),
    # the component taxonomy (gridmap.facilities.taxonomy)
    "components.csv": ("major", "minor", "major_zh", "major_en", "name_zh", "name_en",
                       "department", "inspection_days"),
}
_LENGTHS = {"name_zh": 100, "name_en": 100, "major_zh": 50, "major_en": 100}


def read_rows(path: Path, columns: tuple[str, ...] | None = None
              ) -> list[tuple[int, dict[str, str]]]:
    """The rows of a UTF-8 CSV file with their line numbers, once its header is checked for
    ``columns`` (by default those of the taxonomy file of that name); an unreadable file, a
    missing column or text that is not UTF-8 is :class:`InvalidInput`."""
    expected = _COLUMNS[path.name] if columns is None else columns
    try:
        with path.open(encoding="utf-8", newline="") as src:
            reader = csv.DictReader(src)
            missing = [c for c in expected if c not in (reader.fieldnames or [])]
            if missing:
                raise InvalidInput(msg("{path}: columns {missing} are missing; expected "
                                       "{expected}", path=path, missing=", ".join(missing),
                                       expected=", ".join(expected)))
            return [(number, row) for number, row in enumerate(reader, start=2)]
    except OSError as exc:
        raise InvalidInput(msg("{path} cannot be read: {reason}", path=path,
                               reason=exc.strerror)) from None
    except UnicodeDecodeError:
        raise InvalidInput(msg("{path} is not UTF-8 text", path=path)) from None


def checked_text(path: Path, number: int, row: dict[str, str], column: str) -> str:
    value = (row.get(column) or "").strip()
    if not value or len(value) > _LENGTHS.get(column, 100):
        raise InvalidInput(msg("{path} line {number}: {column} {value!r}: expected 1 to "
                               "{limit} characters", path=path, number=number, column=column,
                               value=value[:40], limit=_LENGTHS.get(column, 100)))
    return value


def read_departments(path: Path) -> list[dict]:
    """Department rows of ``departments.csv``, checked."""
    out = []
    for number, row in read_rows(path):
        code = (row.get("code") or "").strip()
        if not _DEPARTMENT.fullmatch(code):
            raise InvalidInput(msg("{path} line {number}: code {value!r}: expected lower-case "
                                   "letters, digits and _ (at most 32)", path=path,
                                   number=number, value=code[:40]))
        out.append({"code": code, "name_zh": checked_text(path, number, row, "name_zh"),
                    "name_en": checked_text(path, number, row, "name_en")})
    return out


def read_event_classes(path: Path, departments: set[str]) -> list[dict]:
    """Event class rows of ``event_classes.csv``, checked against the departments."""
    out = []
    for number, row in read_rows(path):
        code = (row.get("code") or "").strip()
        if not _CODE.fullmatch(code):
            raise InvalidInput(msg("{path} line {number}: code {value!r}: expected 4 digits "
                                   "(2 major + 2 minor)", path=path, number=number,
                                   value=code[:40]))
        try:
            hours = float(row.get("time_limit_hours") or "")
        except ValueError:
            hours = math.nan
        if not (math.isfinite(hours) and 0 < hours <= 10_000):
            raise InvalidInput(msg("{path} line {number}: time_limit_hours {value!r}: expected "
                                   "working hours above 0", path=path, number=number,
                                   value=row.get("time_limit_hours")))
        department = (row.get("department") or "").strip()
        if department not in departments:
            raise InvalidInput(msg("{path} line {number}: department {value!r} is not in "
                                   "departments.csv", path=path, number=number,
                                   value=department[:40]))
        out.append({"code": code, "time_limit_hours": hours, "department_code": department,
                    **{c: checked_text(path, number, row, c)
                       for c in ("major_zh", "major_en", "name_zh", "name_en")}})
    check_unique(path, [r["code"] for r in out])
    return out


def check_unique(path: Path, codes: list[str]) -> None:
    """Refuse a file that gives one code twice."""
    if len(set(codes)) != len(codes):
        twice = next(c for c in codes if codes.count(c) > 1)
        raise InvalidInput(msg("{path}: code {code} appears more than once", path=path,
                               code=twice))


def upsert_changed(session: Session, model, rows: list[dict]) -> int:
    """Upsert the rows (keyed by ``code``) of ``model`` that are new or differ from what is
    stored; return how many were written. A reload never deletes a class."""
    columns = [c for c in rows[0] if c != "code"] if rows else []
    stored = {r.code: r for r in session.execute(select(model)).scalars()}
    fresh = [r for r in rows if r["code"] not in stored
             or any(getattr(stored[r["code"]], c) != r[c] for c in columns)]
    if fresh:
        statement = insert(model).values(fresh)
        session.execute(statement.on_conflict_do_update(
            index_elements=["code"], set_={c: statement.excluded[c] for c in columns}))
    return len(fresh)


def load_taxonomy(session: Session, directory: Path | str) -> dict[str, int]:
    """Upsert the departments and event classes of ``directory`` (the caller commits);
    return how many of each were read. Unchanged rows are left alone."""
    directory = Path(directory)
    departments = read_departments(directory / "departments.csv")
    classes = read_event_classes(directory / "event_classes.csv",
                                 {d["code"] for d in departments})
    changed = sum(upsert_changed(session, model, rows)
                  for model, rows in ((Department, departments), (EventClass, classes)))
    session.flush()
    rules = load_rules(session, directory / "dispatch.csv")
    if changed:
        record(session, action="load", table="taxonomy", key=str(directory),
               after={"departments": len(departments), "event_classes": len(classes),
                      "changed": changed})
    return {"departments": len(departments), "event_classes": len(classes),
            "changed": changed + rules}
