"""The facility ID codec: every valid ID round-trips, nothing else decodes."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from gridmap.errors import InvalidInput
from gridmap.facilities.ids import FacilityId, decode, encode, is_facility_id

districts = st.from_regex(r"[1-9][0-9]{5}", fullmatch=True)
halves = st.integers(1, 99).map(lambda n: f"{n:02d}")
serials = st.integers(1, 999_999)


@given(districts, halves, halves, serials)
def test_encode_decode_round_trip(district, major, minor, serial):
    code = encode(district, major + minor, serial)
    assert len(code) == 16 and code.isdigit()
    assert decode(code) == FacilityId(district, major, minor, serial)
    assert str(decode(code)) == code and decode(code).class_code == major + minor


@given(st.text(max_size=20))
def test_decode_rejects_what_encode_cannot_make(value):
    try:
        parts = decode(value)
    except InvalidInput:
        assert not is_facility_id(value)
        return
    assert encode(parts.district, parts.class_code, parts.serial) == value


@pytest.mark.parametrize("value", [
    "420111011100000",      # 15 digits
    "42011101110000011",    # 17
    "4201110011000001",     # major 00
    "4201110100000001",     # minor 00
    "4201110111000000",     # serial 0
    "0201110111000001",     # district starting 0
    "４２０１１１０１１１０００００１",  # full-width digits
    "420111011100000a", None, 4201110111000001])
def test_decode_rejects(value):
    with pytest.raises(InvalidInput):
        decode(value)


@pytest.mark.parametrize("args", [("42011", "0111", 1), ("420111", "011", 1),
                                  ("420111", "0111", 0), ("420111", "0111", 1_000_000),
                                  ("420111", "0111", True)])
def test_encode_rejects(args):
    with pytest.raises(InvalidInput):
        encode(*args)
