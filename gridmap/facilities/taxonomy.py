"""The component taxonomy: ``data/taxonomy/components.csv``, loaded into ``component_class``.

Columns: ``major`` and ``minor`` (2 digits each, neither 00), ``major_zh``, ``major_en``,
``name_zh``, ``name_en``, ``department`` (the default owning and maintaining department, a
code of ``departments.csv``) and ``inspection_days`` (how often a grid worker checks one, in
days). Like the event taxonomy (:mod:`gridmap.incidents.taxonomy`) it is data a city replaces:
a reload updates classes in place and never deletes one a facility refers to.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from gridmap.audit import record
from gridmap.errors import InvalidInput
from gridmap.facilities.ids import check_class_code
from gridmap.i18n import msg
from gridmap.incidents.taxonomy import (check_unique, checked_text, read_departments,
                                        read_rows, upsert_changed)
from gridmap.models.facility import ComponentClass

COMPONENTS = "components.csv"
MAX_INSPECTION_DAYS = 3660


def read_component_classes(path: Path, departments: set[str]) -> list[dict]:
    """Component class rows of ``components.csv``, checked against the departments."""
    out = []
    for number, row in read_rows(path):
        code = (row.get("major") or "").strip() + (row.get("minor") or "").strip()
        try:
            check_class_code(code)
        except InvalidInput:
            raise InvalidInput(msg("{path} line {number}: major {major!r}, minor {minor!r}: "
                                   "expected 2 digits each, neither 00", path=path,
                                   number=number, major=(row.get("major") or "")[:10],
                                   minor=(row.get("minor") or "")[:10])) from None
        days = (row.get("inspection_days") or "").strip()
        if not (days.isascii() and days.isdigit() and 1 <= int(days) <= MAX_INSPECTION_DAYS):
            raise InvalidInput(msg("{path} line {number}: inspection_days {value!r}: expected "
                                   "a whole number of days from 1 to {limit}", path=path,
                                   number=number, value=days[:20], limit=MAX_INSPECTION_DAYS))
        department = (row.get("department") or "").strip()
        if department not in departments:
            raise InvalidInput(msg("{path} line {number}: department {value!r} is not in "
                                   "departments.csv", path=path, number=number,
                                   value=department[:40]))
        out.append({"code": code, "department_code": department, "inspection_days": int(days),
                    **{c: checked_text(path, number, row, c)
                       for c in ("major_zh", "major_en", "name_zh", "name_en")}})
    check_unique(path, [r["code"] for r in out])
    return out


def load_components(session: Session, directory: Path | str) -> dict[str, int] | None:
    """Upsert the component classes of ``directory``/components.csv (the departments must be
    loaded: :func:`gridmap.incidents.taxonomy.load_taxonomy` of the same directory); None
    when the directory has no components.csv. The caller commits."""
    directory = Path(directory)
    path = directory / COMPONENTS
    if not path.exists():
        return None
    departments = {d["code"] for d in read_departments(directory / "departments.csv")}
    classes = read_component_classes(path, departments)
    changed = upsert_changed(session, ComponentClass, classes)
    session.flush()
    if changed:
        record(session, action="load", table="component_class", key=str(path),
               after={"component_classes": len(classes), "changed": changed})
    return {"component_classes": len(classes), "changed": changed}
