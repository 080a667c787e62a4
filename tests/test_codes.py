"""Grid codes: round trips and rejection of every malformed part (property tests)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st

from gridmap import codes
from gridmap.errors import InvalidCode

DISTRICTS = ["420111", "320508", "110101", "440305"]


@st.composite
def grid_codes(draw, profile=None):
    profile = profile or draw(st.sampled_from(sorted(codes.PROFILES)))
    prof = codes.PROFILES[profile]
    community_ranges = [(1, 599)] + ([(prof.merged_community_from, 999)]
                                     if prof.merged_community_from else [])
    lo, hi = draw(st.sampled_from(community_ranges))
    return codes.GridCode(
        district=draw(st.sampled_from(DISTRICTS)),
        street=f"{draw(st.integers(1, 599)):03d}",
        community=f"{draw(st.integers(lo, hi)):03d}",
        sequence=draw(st.integers(0 if prof.allows_whole_community else 1, prof.max_sequence)),
        profile=profile,
        service_object=f"{draw(st.integers(1, 999999)):06d}" if prof.prefix_digits else "")


@given(grid_codes())
def test_parse_format_round_trip(code):
    text = codes.format_code(code)
    assert len(text) == codes.PROFILES[code.profile].length
    assert codes.parse(text) == code
    assert codes.parse(text, code.profile, known_districts=DISTRICTS) == code
    assert str(codes.parse(text)) == text


@given(grid_codes(profile="gbt30428"))
def test_parents_are_prefixes(code):
    text = str(code)
    assert codes.parent_code(text, "community") == text[:12]
    assert codes.parent_code(text, "street") == text[:9]
    assert codes.parent_code(text, "district") == text[:6]
    assert codes.child_code(text[:12], code.sequence) == text


@given(grid_codes(profile="gbt30428"), st.sampled_from([0, *range(600, 1000)]))
def test_street_outside_gbt10114_is_rejected_by_name(code, street):
    text = str(code)
    bad = text[:6] + f"{street:03d}" + text[9:]
    with pytest.raises(InvalidCode, match=r"street '\d{3}'"):
        codes.parse(bad)


@given(grid_codes(profile="gbt30428"), st.sampled_from([0, *range(600, 1000)]))
def test_community_outside_ranges_is_rejected(code, community):
    text = str(code)
    with pytest.raises(InvalidCode, match="community"):
        codes.parse(text[:9] + f"{community:03d}" + text[12:])


@given(grid_codes(profile="gbt30428"))
def test_sequence_zero_is_rejected_in_15_digit_profile(code):
    with pytest.raises(InvalidCode, match="sequence '000'"):
        codes.parse(str(code)[:12] + "000")


@given(st.text(min_size=1, max_size=25))
def test_arbitrary_text_is_parsed_or_rejected_with_reason(text):
    try:
        parsed = codes.parse(text)
    except InvalidCode as exc:
        assert exc.detail and (repr(text) in exc.detail or "digits" in exc.detail
                               or "expected" in exc.detail)
    else:
        assert codes.format_code(parsed) == text


@given(grid_codes(), st.integers(0, 19), st.characters(blacklist_categories=("Nd",)))
def test_non_digit_is_located(code, position, char):
    text = str(code)
    position %= len(text)
    bad = text[:position] + char + text[position + 1:]
    with pytest.raises(InvalidCode, match=f"character {position + 1} "):
        codes.parse(bad)


def test_unknown_district_rejected_with_table():
    with pytest.raises(InvalidCode, match="district '420199'.*official table"):
        codes.parse("420199005001001", known_districts=DISTRICTS)


def test_province_code_is_not_a_district():
    with pytest.raises(InvalidCode, match="district '420000'"):
        codes.parse("420000005001001")


def test_whole_community_code_in_cjt213():
    parsed = codes.parse("42011100500100")
    assert parsed.profile == "cjt213" and parsed.sequence == 0


def test_merged_community_only_in_cjt349():
    assert codes.parse("10000142011100560101").community == "601"
    assert codes.community_kind("601", "cjt349") == "merged"
    with pytest.raises(InvalidCode, match="community '601'"):
        codes.parse("420111005601001")


def test_street_kinds():
    assert [codes.street_kind(s) for s in ("001", "099", "100", "199", "200", "399", "400",
                                           "599")] == \
        ["street", "street", "town", "town", "township", "township", "enterprise", "enterprise"]


def test_community_kinds():
    assert [codes.community_kind(c) for c in ("001", "199", "200", "399", "400", "499", "500",
                                              "599")] == \
        ["residents", "residents", "village", "village", "residents_like", "residents_like",
         "village_like", "village_like"]


def test_real_streets_of_hongshan_above_399_are_codes():
    # 清谭湖街道 420111460 and 东湖风景区街道（洪山）420111491 are real (NBS 2023); GB/T 10114
    # gives 400–599 to government-enterprise units.
    assert codes.parse("420111460001001").street == "460"
    assert codes.check_division_code("420111491", "street") == "420111491"


# --- ASCII digits only --------------------------------------------------------------------
# str.isdigit() is true for every Unicode decimal digit (Nd: ４, ٤, ߄ …) and for digits such as
# superscripts and circled numbers (No: ², ④); none of them may pass as part of a code.
NON_ASCII_DIGITS = st.characters(
    categories=("Nd", "No")).filter(lambda ch: ch.isdigit() and ch not in "0123456789")


def test_non_ascii_digit_strategy_holds_the_cases_reported():
    for ch in "４²٤④":
        assert ch.isdigit() and not codes.is_ascii_digits(ch)


@given(grid_codes(), st.integers(0, 19), NON_ASCII_DIGITS)
def test_unicode_digit_in_a_grid_code_is_rejected(code, position, char):
    text = str(code)
    position %= len(text)
    bad = text[:position] + char + text[position + 1:]
    assert bad.isdigit()  # what the old check accepted
    with pytest.raises(InvalidCode, match=f"character {position + 1} is {char!r}"):
        codes.parse(bad)
    assert not codes.is_valid(bad)


@given(st.sampled_from(["420111", "420111002", "420111002023"]), st.integers(0, 11),
       NON_ASCII_DIGITS)
def test_unicode_digit_in_a_division_code_is_rejected(code, position, char):
    position %= len(code)
    bad = code[:position] + char + code[position + 1:]
    level = {6: "district", 9: "street", 12: "community"}[len(code)]
    with pytest.raises(InvalidCode, match=f"character {position + 1} is {char!r}"):
        codes.check_division_code(bad, level)
    with pytest.raises(InvalidCode):
        codes.child_code(bad.ljust(12, "1")[:12], 1)


@given(st.text(alphabet=st.characters(categories=("Nd", "No")), min_size=1, max_size=20))
def test_is_ascii_digits_is_exactly_0_to_9(text):
    assert codes.is_ascii_digits(text) == all(ch in "0123456789" for ch in text)


def test_full_width_district_is_rejected_everywhere():
    full = "４２０１１１"
    assert full.isdigit() and int(full) == 420111  # why str.isdigit() was not enough
    with pytest.raises(InvalidCode, match="character 1 is '４'"):
        codes.check_division_code(full, "district")
    with pytest.raises(InvalidCode, match="character 1 is '４'"):
        codes.parse(full + "002023001")


def test_division_code_form():
    assert codes.check_division_code("420111002023", "community") == "420111002023"
    with pytest.raises(InvalidCode, match="expected 9 digits, got 8"):
        codes.check_division_code("42011100", "street")
    with pytest.raises(InvalidCode, match="'420000'.*not a province code"):
        codes.check_division_code("420000", "district")
    with pytest.raises(InvalidCode, match="street code '600'"):
        codes.check_division_code("420111600", "street")
    with pytest.raises(InvalidCode, match="community code '000'"):
        codes.check_division_code("420111002000", "community")
    with pytest.raises(InvalidCode, match="level 'grid'"):
        codes.check_division_code("420111", "grid")
    with pytest.raises(InvalidCode, match="expected a string"):
        codes.check_division_code(420111, "district")


def test_district_table_is_the_full_official_one():
    table = codes.load_district_table()
    assert len(table) == 2978 and table["420111"] == "洪山区"
    assert "999999" not in table
    assert all(codes.is_ascii_digits(c) and len(c) == 6 for c in table)


def test_spatial_order_runs_west_east_then_north_south():
    # Two rows: north row at y≈100 (x = 30, 10, 20), south row at y≈0 (x = 5, 15).
    x = [30, 10, 20, 5, 15]
    y = [101, 99, 100, 1, 0]
    order = codes.spatial_sequence_order(x, y, row_height=50)
    assert list(order) == [1, 2, 0, 3, 4]


@given(st.lists(st.tuples(st.floats(-1e4, 1e4), st.floats(-1e4, 1e4)), min_size=1,
                max_size=30))
def test_spatial_order_is_rows_north_to_south_each_west_to_east(points):
    x, y = np.array(points).T
    order = codes.spatial_sequence_order(x, y, row_height=100)
    assert sorted(order) == list(range(len(points)))
    rows = codes.sequence_rows(y, row_height=100)[order]
    xs, ys = x[order], y[order]
    assert all(np.diff(rows) >= 0)
    same_row = np.diff(rows) == 0
    assert all(np.diff(xs)[same_row] >= 0)
    for row in range(1, rows.max() + 1):  # rows are separated by more than half a row
        assert ys[rows == row].max() < ys[rows == row - 1].min() - 50


def test_spatial_order_of_a_two_by_two_lattice():
    """Label points one grid height apart are two rows, even when the heights are a little
    less than the typical size (fixed row bands put them in one row)."""
    x = [600, 0, 10, 590]
    y = [-970, 0, -960, 5]
    assert list(codes.spatial_sequence_order(x, y, row_height=1000)) == [1, 3, 2, 0]
