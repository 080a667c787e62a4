"""Grid-code codec: parse, format, validate, parent/child. Pure (no database); the one file it
reads is the official district table (:func:`load_district_table`).

Profiles (see DESIGN.md §1):

========== ====== =============================================================================
profile    digits layout
========== ====== =============================================================================
gbt30428   15     district 6 · street 3 · community 3 · sequence 3 (GB/T 30428.1, DB11/T 2157)
cjt213     14     district 6 · street 3 · community 3 · sequence 2 (``00``: whole community)
cjt349     20     service object 6 · district 6 · street 3 · community 3 · sequence 2;
                  merged communities take community codes from 601
========== ====== =============================================================================

Street codes follow GB/T 10114: 001–099 street (街道), 100–199 town (镇), 200–399 township (乡),
400–599 government-enterprise unit (政企合一单位: state farms, forestry centres, development zones).
Community codes follow the statistical division codes of the National Bureau of Statistics (NBS):
001–199 residents' committee (社区居委会), 200–399 village committee (村委会); the 2023 table also
uses 400–499 for residents'-committee-like units (虚拟社区 …) and 500–599 for village-like units
(农场生活区, 管理区 …). District codes must be in the official table
(``data/reference/districts.csv``, see :func:`load_district_table`).

Every code is ASCII digits 0–9 only: ``str.isdigit()`` alone also accepts full-width (``４``),
other scripts' decimal digits (``٤``) and superscripts (``²``), which look like a code but are
not one; :func:`is_ascii_digits` is the one test used everywhere.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Collection, Iterable, Mapping

import numpy as np

from gridmap.errors import InvalidCode, InvalidInput
from gridmap.i18n import N_, msg

__all__ = [
    "PROFILES", "CodeProfile", "GridCode", "parse", "format_code", "is_valid", "street_kind",
    "community_kind", "parent_code", "child_code", "is_ascii_digits", "check_division_code",
    "DIVISION_DIGITS", "load_district_table", "district_table_path", "spatial_sequence_order",
]

DIVISION_DIGITS = {"district": 6, "street": 9, "community": 12}


@dataclass(frozen=True)
class CodeProfile:
    """Layout of one grid-code standard."""

    name: str
    prefix_digits: int
    sequence_digits: int
    allows_whole_community: bool
    merged_community_from: int | None

    @property
    def length(self) -> int:
        return self.prefix_digits + 12 + self.sequence_digits

    @property
    def max_sequence(self) -> int:
        return 10 ** self.sequence_digits - 1


PROFILES: dict[str, CodeProfile] = {
    "gbt30428": CodeProfile("gbt30428", 0, 3, False, None),
    "cjt213": CodeProfile("cjt213", 0, 2, True, None),
    "cjt349": CodeProfile("cjt349", 6, 2, False, 601),
}
_BY_LENGTH = {p.length: p for p in PROFILES.values()}


@dataclass(frozen=True, order=True)
class GridCode:
    """The parts of a grid code. ``str(code)`` formats it."""

    district: str
    street: str
    community: str
    sequence: int
    profile: str = "gbt30428"
    service_object: str = ""

    @property
    def street_code(self) -> str:
        """District + street: the 9-digit code of the street (街道)."""
        return self.district + self.street

    @property
    def community_code(self) -> str:
        """District + street + community: the 12-digit code of the community (社区)."""
        return self.district + self.street + self.community

    def __str__(self) -> str:
        return format_code(self)


#: The parts of a code as messages name them (translated with the message).
_PART_NAMES = {"district": N_("district"), "street": N_("street"),
               "community": N_("community"), "sequence": N_("sequence"),
               "service object": N_("service object")}


def _fail(code: str, part: str, value: str, expected: str) -> InvalidCode:
    return InvalidCode(msg("{part} {value!r} of {code!r}: expected {expected}",
                           part=msg(_PART_NAMES.get(part, part)), value=value, code=code,
                           expected=expected),
                       code=code, part=part)


def _profile(name: str) -> CodeProfile:
    try:
        return PROFILES[name]
    except KeyError:
        raise InvalidCode(msg("unknown code profile {name!r}; known: {items}", name=name,
                              items=', '.join(PROFILES)),
                          part="profile") from None


def is_ascii_digits(text: object) -> bool:
    """True for a non-empty string of ASCII digits 0–9 and nothing else.

    ``str.isdigit()`` alone is not a code check: it is true for ``'４２０１１１'`` (full-width),
    ``'٤٢٠١١١'`` (Arabic-Indic) and ``'²'`` (superscript), and ``int()`` happily converts most
    of them, so such a "code" would pass every later check and be stored as a different string.
    """
    return isinstance(text, str) and text != "" and text.isascii() and text.isdigit()


def _first_non_digit(text: str) -> int:
    """0-based position of the first character that is not ASCII 0–9 (0 for an empty text)."""
    return next((i for i, ch in enumerate(text) if ch not in "0123456789"), 0)


def street_kind(street: str) -> str:
    """``street``, ``town``, ``township`` or ``enterprise`` for a 3-digit GB/T 10114 code."""
    number = int(street) if is_ascii_digits(street) and len(street) == 3 else -1
    if 1 <= number <= 99:
        return "street"
    if 100 <= number <= 199:
        return "town"
    if 200 <= number <= 399:
        return "township"
    if 400 <= number <= 599:
        return "enterprise"
    raise InvalidCode(msg("street code {street!r}: expected 001–599 (GB/T 10114: 001–099 "
                          "street, 100–199 town, 200–399 township, 400–599 "
                          "government-enterprise unit)", street=street),
                      part="street")


def community_kind(community: str, profile: str = "gbt30428") -> str:
    """``residents``, ``village``, ``residents_like``, ``village_like`` or ``merged`` for a
    3-digit community code (``merged`` only in profiles with merged communities)."""
    number = int(community) if is_ascii_digits(community) and len(community) == 3 else -1
    if 1 <= number <= 199:
        return "residents"
    if 200 <= number <= 399:
        return "village"
    if 400 <= number <= 499:
        return "residents_like"
    if 500 <= number <= 599:
        return "village_like"
    merged_from = _profile(profile).merged_community_from
    if merged_from is not None and number >= merged_from:
        return "merged"
    if merged_from:
        raise InvalidCode(msg("community code {community!r}: expected 001–199 (residents' "
                              "committee), 200–399 (village committee), 400–599 (units like "
                              "them) or {merged_from}–999 (merged)", community=community,
                              merged_from=merged_from), part="community")
    raise InvalidCode(msg("community code {community!r}: expected 001–199 (residents' "
                          "committee), 200–399 (village committee) or 400–599 (units like "
                          "them)", community=community), part="community")


_COUNTY_LEVEL = N_("a county-level code (province 11–82, not a province code)")


def _is_county_level(district: str) -> bool:
    return 11 <= int(district[:2]) <= 82 and district[2:] != "0000"


def check_division_code(code: object, level: str) -> str:
    """Check the form of a district (6 digits), street (9) or community (12) code.

    Parameters
    ----------
    code
        The code as received.
    level
        ``district``, ``street`` or ``community``.

    Returns
    -------
    str
        ``code``, unchanged.

    Raises
    ------
    InvalidCode
        Saying what was received and what was expected: non-ASCII-digit characters (with
        their position), a wrong length, a province code, a street or community part outside
        its ranges. Whether the code is in the official table is :mod:`gridmap.reference`'s
        question, not this one's.
    """
    digits = DIVISION_DIGITS.get(level)
    if digits is None:
        raise InvalidCode(msg("level {level!r}: expected one of {items}", level=level,
                              items=', '.join(DIVISION_DIGITS)),
                          part="level")
    if not isinstance(code, str):
        raise InvalidCode(msg("{level} code {code!r}: expected a string of {digits} digits, got "
                              "{type}", level=level, code=code, digits=digits,
                              type=type(code).__name__), part=level)
    if not is_ascii_digits(code):
        bad = _first_non_digit(code)
        raise InvalidCode(msg("{level} code {code!r}: character {position} is {character!r}; "
                              "expected {digits} ASCII digits 0–9", level=level, code=code,
                              position=bad + 1, character=code[bad:bad + 1], digits=digits)
                          if code else msg("{level} code is empty; expected {digits} digits",
                                           level=level, digits=digits),
                          code=code, part=level)
    if len(code) != digits:
        raise InvalidCode(msg("{level} code {code!r}: expected {digits} digits, got {count}",
                              level=level, code=code, digits=digits, count=len(code)),
                          code=code, part=level)
    if not _is_county_level(code[:6]):
        raise InvalidCode(msg("{level} code {code!r}: district part {district!r} is not a "
                              "county-level code (province 11–82, not a province code)",
                              level=level, code=code, district=code[:6])
                          if digits > 6 else
                          msg("{level} code {code!r}: expected a county-level code (province "
                              "11–82, not a province code)", level=level, code=code),
                          code=code, part="district")
    if digits >= 9:
        street_kind(code[6:9])
    if digits >= 12:
        community_kind(code[9:12])
    return code


def _check_digits(code: str, profile: CodeProfile | None) -> CodeProfile:
    if not isinstance(code, str):
        raise InvalidCode(msg("expected a string of digits, got {type}",
                              type=type(code).__name__), part="code")
    if not is_ascii_digits(code):
        bad = _first_non_digit(code)
        raise InvalidCode(msg("{code!r} is not all digits (character {position} is "
                              "{character!r})", code=code, position=bad + 1,
                              character=code[bad:bad + 1])
                          if code else msg("the code is empty"), code=code, part="code")
    if profile is None:
        found = _BY_LENGTH.get(len(code))
        if found is None:
            raise InvalidCode(msg("{code!r} has {count} digits; expected 15 (gbt30428), 14 "
                                  "(cjt213) or 20 (cjt349)", code=code, count=len(code)),
                              code=code, part="length")
        return found
    if len(code) != profile.length:
        raise InvalidCode(msg("{code!r} has {count} digits; profile {name} has {length}",
                              code=code, count=len(code), name=profile.name,
                              length=profile.length), code=code, part="length")
    return profile


def parse(code: str, profile: str | None = None, *,
          known_districts: Collection[str] | None = None) -> GridCode:
    """Split a grid code into its parts, checking each against its standard.

    Parameters
    ----------
    code
        The code as digits.
    profile
        A key of :data:`PROFILES`; ``None`` infers it from the length.
    known_districts
        District codes to accept (the official table: :func:`load_district_table`);
        ``None`` checks only the form.

    Raises
    ------
    InvalidCode
        Naming the part that is wrong, what it was and what was expected.
    """
    prof = _check_digits(code, _profile(profile) if profile else None)
    prefix, rest = code[:prof.prefix_digits], code[prof.prefix_digits:]
    district, street, community, seq = rest[:6], rest[6:9], rest[9:12], rest[12:]
    if not _is_county_level(district):
        raise _fail(code, "district", district, msg(_COUNTY_LEVEL))
    if known_districts is not None and district not in known_districts:
        raise _fail(code, "district", district, msg("a district in the official table of "
                    "county-level codes (data/reference/districts.csv)"))
    if prefix and prefix == "000000":
        raise _fail(code, "service object", prefix,
                    msg("a non-zero 6-digit service-object code"))
    try:
        street_kind(street)
    except InvalidCode as exc:
        raise _fail(code, "street", street, exc.detail.split("expected ", 1)[1]) from None
    try:
        community_kind(community, prof.name)
    except InvalidCode as exc:
        raise _fail(code, "community", community, exc.detail.split("expected ", 1)[1]) from None
    number = int(seq)
    if number == 0 and not prof.allows_whole_community:
        raise _fail(code, "sequence", seq, f"1–{prof.max_sequence}")
    return GridCode(district, street, community, number, prof.name, prefix)


def format_code(code: GridCode) -> str:
    """Format parts into the code string of their profile (inverse of :func:`parse`)."""
    prof = _profile(code.profile)
    if not 0 <= code.sequence <= prof.max_sequence:
        raise InvalidCode(msg("sequence {sequence} does not fit {sequence_digits} digits",
                              sequence=code.sequence, sequence_digits=prof.sequence_digits),
                          part="sequence")
    if len(code.service_object) != prof.prefix_digits:
        raise InvalidCode(msg("service object {service_object!r}: profile {name} needs "
                              "{prefix_digits} digits", service_object=code.service_object,
                              name=prof.name, prefix_digits=prof.prefix_digits),
                          part="service object")
    text = (f"{code.service_object}{code.district}{code.street}{code.community}"
            f"{code.sequence:0{prof.sequence_digits}d}")
    parse(text, prof.name)
    return text


def is_valid(code: str, profile: str | None = None, *,
             known_districts: Collection[str] | None = None) -> bool:
    try:
        parse(code, profile, known_districts=known_districts)
    except InvalidCode:
        return False
    return True


def parent_code(code: str, level: str = "community") -> str:
    """The code of the community, street or district a grid code belongs to."""
    parts = parse(code)
    try:
        return {"community": parts.community_code, "street": parts.street_code,
                "district": parts.district}[level]
    except KeyError:
        raise InvalidCode(msg("level {level!r}: expected community, street or district",
                              level=level),
                          part="level") from None


def child_code(community_code: str, sequence: int, profile: str = "gbt30428", *,
               service_object: str = "") -> str:
    """The grid code of sequence ``sequence`` inside a 12-digit community code."""
    check_division_code(community_code, "community")
    return format_code(GridCode(community_code[:6], community_code[6:9], community_code[9:],
                                sequence, profile, service_object))


def district_table_path(data_dir: Path | str | None = None) -> Path:
    """``<data_dir>/reference/districts.csv``; ``data_dir`` defaults to the ``data_dir`` setting."""
    if data_dir is None:
        from gridmap.config import load_settings

        data_dir = load_settings()["data_dir"]
    return Path(data_dir) / "reference" / "districts.csv"


def load_district_table(path: Path | str | None = None) -> Mapping[str, str]:
    """The official county-level codes as a read-only ``{code: name}``.

    Parameters
    ----------
    path
        A CSV with at least ``code`` and ``name`` columns; default
        :func:`district_table_path` (the full NBS 2023 table shipped in ``data/reference``).

    Raises
    ------
    InvalidInput
        When the file cannot be read or lacks the columns.
    """
    return _read_district_table(str(Path(path) if path else district_table_path()))


@lru_cache(maxsize=8)
def _read_district_table(path: str) -> Mapping[str, str]:
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            if not {"code", "name"} <= set(reader.fieldnames or ()):
                raise InvalidInput(msg("district table {path}: expected columns code,name; "
                                       "found {fieldnames}", path=path,
                                       fieldnames=reader.fieldnames))
            return MappingProxyType({row["code"]: row["name"] for row in reader})
    except OSError as exc:
        raise InvalidInput(msg("cannot read the district table {path}: {strerror}", path=path,
                               strerror=exc.strerror)) from None


def sequence_rows(y: Iterable[float], *, row_height: float) -> np.ndarray:
    """Row number of each point for sequence numbering, 0 for the northernmost row.

    Rule: sorted from north to south, a new row starts wherever the next point lies more than
    half a ``row_height`` (the typical grid's height) below the previous one. Rows are thus
    separated by gaps, not cut at fixed lines, so a lattice of grids whose label points wander
    a little up and down still reads as rows; the rule is invariant under translation.
    """
    ys = np.asarray(list(y), dtype=float)
    if ys.size == 0:
        return np.zeros(0, dtype=int)
    if row_height <= 0:
        raise ValueError(f"row_height must be positive, got {row_height}")
    north_first = np.argsort(-ys, kind="stable")
    starts = np.concatenate([[0], (-np.diff(ys[north_first]) > row_height / 2).astype(int)])
    rows = np.empty(ys.size, dtype=int)
    rows[north_first] = np.cumsum(starts)
    return rows


def spatial_sequence_order(x: Iterable[float], y: Iterable[float], *,
                           row_height: float) -> np.ndarray:
    """Indices ordering points west→east inside rows, rows north→south (:func:`sequence_rows`)."""
    xs = np.asarray(list(x), dtype=float)
    rows = sequence_rows(y, row_height=row_height)
    if xs.size != rows.size:
        raise ValueError(f"{xs.size} x values but {rows.size} y values")
    return np.lexsort((xs, rows))
