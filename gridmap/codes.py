"""Grid-code codec: parse, format, validate, parent/child. Pure: no database, no I/O.

Profiles (see DESIGN.md §1):

========== ====== =============================================================================
profile    digits layout
========== ====== =============================================================================
gbt30428   15     district 6 · street 3 · community 3 · sequence 3 (GB/T 30428.1, DB11/T 2157)
cjt213     14     district 6 · street 3 · community 3 · sequence 2 (``00``: whole community)
cjt349     20     service object 6 · district 6 · street 3 · community 3 · sequence 2;
                  merged communities take community codes from 601
========== ====== =============================================================================

Street codes follow GB/T 10114: 001–099 street (街道), 100–199 town (镇), 200–399 township (乡).
Community codes: 001–199 residents' committee (社区居委会), 200–399 village committee (村委会).
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Collection, Iterable

import numpy as np

from gridmap.errors import InvalidCode

__all__ = [
    "PROFILES", "CodeProfile", "GridCode", "parse", "format_code", "is_valid", "street_kind",
    "community_kind", "parent_code", "load_district_table", "spatial_sequence_order",
]


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


def _fail(code: str, part: str, value: str, expected: str) -> InvalidCode:
    return InvalidCode(f"{part} {value!r} of {code!r}: expected {expected}",
                       code=code, part=part)


def _profile(name: str) -> CodeProfile:
    try:
        return PROFILES[name]
    except KeyError:
        raise InvalidCode(f"unknown code profile {name!r}; known: {', '.join(PROFILES)}",
                          part="profile") from None


def street_kind(street: str) -> str:
    """``street``, ``town`` or ``township`` for a 3-digit GB/T 10114 street code."""
    number = int(street)
    if 1 <= number <= 99:
        return "street"
    if 100 <= number <= 199:
        return "town"
    if 200 <= number <= 399:
        return "township"
    raise InvalidCode(f"street code {street!r}: expected 001–399 (GB/T 10114)", part="street")


def community_kind(community: str, profile: str = "gbt30428") -> str:
    """``residents``, ``village`` or ``merged`` for a 3-digit community code."""
    number = int(community)
    if 1 <= number <= 199:
        return "residents"
    if 200 <= number <= 399:
        return "village"
    merged_from = _profile(profile).merged_community_from
    if merged_from is not None and number >= merged_from:
        return "merged"
    raise InvalidCode(f"community code {community!r}: expected 001–199 (residents' committee) "
                      f"or 200–399 (village committee)"
                      + (f" or {merged_from}–999 (merged)" if merged_from else ""),
                      part="community")


def _check_digits(code: str, profile: CodeProfile | None) -> CodeProfile:
    if not isinstance(code, str):
        raise InvalidCode(f"expected a string of digits, got {type(code).__name__}", part="code")
    if not code.isascii() or not code.isdigit():
        bad = next((i for i, ch in enumerate(code) if not ("0" <= ch <= "9")), 0)
        raise InvalidCode(f"{code!r} is not all digits (character {bad + 1} is "
                          f"{code[bad:bad + 1]!r})" if code else "the code is empty",
                          code=code, part="code")
    if profile is None:
        found = _BY_LENGTH.get(len(code))
        if found is None:
            raise InvalidCode(f"{code!r} has {len(code)} digits; expected 15 (gbt30428), "
                              f"14 (cjt213) or 20 (cjt349)", code=code, part="length")
        return found
    if len(code) != profile.length:
        raise InvalidCode(f"{code!r} has {len(code)} digits; profile {profile.name} has "
                          f"{profile.length}", code=code, part="length")
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
        GB/T 2260 district codes to accept; ``None`` checks only the form.

    Raises
    ------
    InvalidCode
        Naming the part that is wrong, what it was and what was expected.
    """
    prof = _check_digits(code, _profile(profile) if profile else None)
    prefix, rest = code[:prof.prefix_digits], code[prof.prefix_digits:]
    district, street, community, seq = rest[:6], rest[6:9], rest[9:12], rest[12:]
    if not 11 <= int(district[:2]) <= 82 or district[2:] == "0000":
        raise _fail(code, "district", district, "a GB/T 2260 county-level code "
                    "(province 11–82, not a province code)")
    if known_districts is not None and district not in known_districts:
        raise _fail(code, "district", district, "a district in the loaded GB/T 2260 table")
    if prefix and prefix == "000000":
        raise _fail(code, "service object", prefix, "a non-zero 6-digit service-object code")
    if not 1 <= int(street) <= 399:
        raise _fail(code, "street", street, "001–399 (GB/T 10114: 001–099 street, "
                    "100–199 town, 200–399 township)")
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
        raise InvalidCode(f"sequence {code.sequence} does not fit {prof.sequence_digits} digits",
                          part="sequence")
    if len(code.service_object) != prof.prefix_digits:
        raise InvalidCode(f"service object {code.service_object!r}: profile {prof.name} needs "
                          f"{prof.prefix_digits} digits", part="service object")
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
        raise InvalidCode(f"level {level!r}: expected community, street or district",
                          part="level") from None


def child_code(community_code: str, sequence: int, profile: str = "gbt30428", *,
               service_object: str = "") -> str:
    """The grid code of sequence ``sequence`` inside a 12-digit community code."""
    if len(community_code) != 12 or not community_code.isdigit():
        raise InvalidCode(f"community code {community_code!r}: expected 12 digits "
                          f"(district 6 · street 3 · community 3)", part="community")
    return format_code(GridCode(community_code[:6], community_code[6:9], community_code[9:],
                                sequence, profile, service_object))


def load_district_table(path: Path) -> dict[str, str]:
    """Read a GB/T 2260 table (CSV with ``code,name``) into ``{code: name}``."""
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["code"]: row["name"] for row in csv.DictReader(handle)}


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
