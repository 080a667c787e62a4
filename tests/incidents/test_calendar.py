"""Working-hour deadlines: hand-checked cases over a weekend, a holiday and a worked
weekend day (调休), and properties of the arithmetic (hypothesis)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, strategies as st

from gridmap.config import REPO_ROOT
from gridmap.errors import ConfigurationError
from gridmap.incidents.calendar import (WorkingCalendar, load_calendar, parse_periods,
                                        read_calendar_days)

TZ = ZoneInfo("Asia/Shanghai")
CAL = load_calendar({"data_dir": str(REPO_ROOT / "data"),
                     "working_hours": "08:30-12:00,14:00-17:30", "timezone": "Asia/Shanghai"})


def at(y, m, d, h=0, mi=0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=TZ)


def test_within_one_morning():
    assert CAL.add_working_hours(at(2026, 12, 3, 9), 2) == at(2026, 12, 3, 11)


def test_over_the_lunch_break():
    # 11:00 + 2 h: one hour before noon, one after 14:00
    assert CAL.add_working_hours(at(2026, 12, 3, 11), 2) == at(2026, 12, 3, 15)


def test_reported_at_night_starts_next_morning():
    assert CAL.add_working_hours(at(2026, 12, 3, 22), 1) == at(2026, 12, 4, 9, 30)


def test_across_a_weekend():
    # Friday 2026-12-04 17:00 + 4 h: half an hour on Friday, 3.5 h on Monday morning
    assert CAL.add_working_hours(at(2026, 12, 4, 17), 4) == at(2026, 12, 7, 12)


def test_across_the_national_day_holiday_and_its_worked_saturday():
    # 2026-09-30 (Wed) 17:00 + 1 h: 1–7 October are off, Thu 8 and Fri 9 work, Saturday
    # 10 October is worked in the holiday's place (调休).
    assert CAL.add_working_hours(at(2026, 9, 30, 17), 1) == at(2026, 10, 8, 9)
    assert CAL.is_working_day(dt.date(2026, 10, 10))            # a Saturday, worked
    assert not CAL.is_working_day(dt.date(2026, 10, 5))          # a Monday, holiday
    assert CAL.add_working_hours(at(2026, 10, 9, 17), 1) == at(2026, 10, 10, 9)


def test_zero_hours_is_now_and_an_end_of_day_deadline_is_that_end():
    assert CAL.add_working_hours(at(2026, 12, 5, 10), 0) == at(2026, 12, 5, 10)
    # exactly the morning's working time ends at noon, not at the afternoon's start
    assert CAL.add_working_hours(at(2026, 12, 3, 8, 30), 3.5) == at(2026, 12, 3, 12)
    # … and adding nothing more there stays there (hypothesis found 12:00 + 0 → 14:00)
    assert CAL.add_working_hours(at(2026, 12, 3, 12), 0) == at(2026, 12, 3, 12)


def test_working_time_between_over_a_weekend():
    assert CAL.working_time_between(at(2026, 12, 4, 17), at(2026, 12, 7, 9)) == \
        dt.timedelta(minutes=60)


@pytest.mark.parametrize("text, problem", [
    ("8:30-12:00", "expected HH:MM-HH:MM"),
    ("12:00-08:30", "ends before it starts"),
    ("08:30-12:00,11:00-13:00", "overlaps"),
    ("08:30-24:30", "the day ends at 24:00"),
])
def test_malformed_periods_are_named(text, problem):
    with pytest.raises(ValueError, match=problem):
        parse_periods(text)


def test_setting_check_refuses_bad_working_hours():
    from gridmap.config import load_settings

    with pytest.raises(Exception, match="working_hours|GRIDMAP_WORKING_HOURS"):
        load_settings({"working_hours": "9-5"})


def test_a_bad_calendar_line_is_named(tmp_path: Path):
    bad = tmp_path / "c.csv"
    bad.write_text("date,kind,name\n2026-13-01,holiday,x\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="line 2"):
        read_calendar_days(bad)
    bad.write_text("date,kind,name\n2026-12-01,festival,x\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="holiday or workday"):
        read_calendar_days(bad)


starts = st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2027, 6, 30),
                      timezones=st.just(TZ))
hours = st.integers(min_value=0, max_value=200 * 60).map(lambda m: m / 60)
calendars = st.sampled_from([CAL, WorkingCalendar(CAL.holidays, CAL.workdays,
                                                  parse_periods("00:00-24:00"), TZ),
                             WorkingCalendar(frozenset(), frozenset(),
                                             parse_periods("09:00-10:00,10:00-17:00"), TZ)])


@given(calendars, starts, hours)
def test_deadline_is_exactly_that_much_working_time_later(cal, start, h):
    end = cal.add_working_hours(start, h)
    assert end >= start
    assert abs(cal.working_time_between(start, end) - dt.timedelta(hours=h)) \
        < dt.timedelta(microseconds=2)


@given(calendars, starts, hours, hours)
def test_adding_in_two_steps_is_adding_once(cal, start, a, b):
    twice = cal.add_working_hours(cal.add_working_hours(start, a), b)
    assert abs(twice - cal.add_working_hours(start, a + b)) < dt.timedelta(microseconds=2)


@given(calendars, starts, hours.filter(lambda h: h > 0))
def test_a_deadline_falls_in_working_time(cal, start, h):
    end = cal.add_working_hours(start, h).astimezone(TZ)
    # the last instant counted lies inside a working period of a working day
    just_before = end - dt.timedelta(microseconds=1)
    assert cal.working_time_between(just_before, end) == dt.timedelta(microseconds=1)
