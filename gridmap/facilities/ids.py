"""Facility IDs: 16 digits = 6 district + 2 major class + 2 minor class + 6 serial.

Pure functions, no database: :func:`encode` builds an ID, :func:`decode` takes one apart and
refuses anything that is not an ID (wrong length, non-ASCII digits, class or serial 00).
Serials are issued by :mod:`gridmap.facilities.serials`, never twice.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from gridmap.errors import InvalidInput
from gridmap.i18n import msg

#: A facility's states: in order, as the check constraint and the API list them.
STATES = ("intact", "damaged", "missing", "occupied")
MAX_SERIAL = 999_999
_ID = re.compile(r"([1-9][0-9]{5})(0[1-9]|[1-9][0-9])(0[1-9]|[1-9][0-9])([0-9]{6})", re.ASCII)
_DISTRICT = re.compile(r"[1-9][0-9]{5}", re.ASCII)
_CLASS = re.compile(r"(0[1-9]|[1-9][0-9]){2}", re.ASCII)


@dataclass(frozen=True)
class FacilityId:
    """The parts of a facility ID."""

    district: str
    major: str
    minor: str
    serial: int

    @property
    def class_code(self) -> str:
        """The 4-digit component class (major + minor)."""
        return self.major + self.minor

    def __str__(self) -> str:
        return f"{self.district}{self.major}{self.minor}{self.serial:06d}"


def check_class_code(code: object) -> str:
    """``code`` if it is a 4-digit component class with neither half 00."""
    if not isinstance(code, str) or not _CLASS.fullmatch(code):
        raise InvalidInput(msg("component class {code!r}: expected 4 digits, 2 major + 2 minor, "
                              "neither 00", code=str(code)[:20]))
    return code


def encode(district: str, class_code: str, serial: int) -> str:
    """The ID of serial ``serial`` of class ``class_code`` in ``district``."""
    if not isinstance(district, str) or not _DISTRICT.fullmatch(district):
        raise InvalidInput(msg("district {code!r}: expected 6 digits (GB/T 2260)",
                              code=str(district)[:20]))
    check_class_code(class_code)
    if isinstance(serial, bool) or not isinstance(serial, int) \
            or not 1 <= serial <= MAX_SERIAL:
        raise InvalidInput(msg("serial {serial!r}: expected 1 to {limit}", serial=serial,
                              limit=MAX_SERIAL))
    return f"{district}{class_code}{serial:06d}"


def decode(value: object) -> FacilityId:
    """The parts of facility ID ``value``.

    Raises
    ------
    InvalidInput
        ``value`` is not 16 ASCII digits, or its class or serial is 00 / 000000.
    """
    match = _ID.fullmatch(value) if isinstance(value, str) else None
    if match is None or match.group(4) == "000000":
        raise InvalidInput(msg("facility ID {value!r}: expected 16 digits (6 district + 2 major "
                              "+ 2 minor class + 6 serial)", value=str(value)[:30]))
    district, major, minor, serial = match.groups()
    return FacilityId(district, major, minor, int(serial))


def is_facility_id(value: object) -> bool:
    """Whether ``value`` is a well-formed facility ID."""
    try:
        decode(value)
    except InvalidInput:
        return False
    return True
