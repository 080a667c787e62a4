"""Working time: deadlines counted in working hours over a working calendar.

An event class's time limit (处置时限) counts working hours only: the hours of the working
periods of a working day (``working_hours`` setting, e.g. ``08:30-12:00,14:00-17:30``), on
working days. A working day is a weekday that is not a public holiday, or a weekend day the
calendar names as worked in a holiday's place (调休). Holidays and those days are data
(``data/calendar/china.csv``: date, kind ``holiday``/``workday``, name), so a city replaces or
extends the file without code. Beyond the file's last date every weekday works.

Times are aware datetimes; the working periods are wall-clock times in the calendar's time
zone (the ``timezone`` setting, Asia/Shanghai by default). The arithmetic is exact to the
microsecond: a deadline is the instant at which exactly that much working time has passed.
"""
from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from gridmap.errors import ConfigurationError
from gridmap.i18n import msg

CALENDAR_FILE = Path("calendar") / "china.csv"
_PERIOD = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
_MAX_DAYS = 3660  # a deadline further than ten years of calendar days is a data error


def parse_periods(text: str) -> tuple[tuple[dt.time, dt.time], ...]:
    """``"08:30-12:00,14:00-17:30"`` → ordered, non-overlapping (start, end) pairs.

    Raises
    ------
    ValueError
        Naming the period that is malformed, empty or out of order.
    """
    periods: list[tuple[dt.time, dt.time]] = []
    for part in text.split(","):
        match = _PERIOD.match(part.strip())
        if not match:
            raise ValueError(f"{part.strip()!r}: expected HH:MM-HH:MM")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h2 == 24 and m2:
            raise ValueError(f"{part.strip()!r}: the day ends at 24:00")
        start = dt.time(h1, m1)
        end = dt.time.max if h2 == 24 else dt.time(h2, m2)
        if end <= start:
            raise ValueError(f"{part.strip()!r}: ends before it starts")
        if periods and start < periods[-1][1]:
            raise ValueError(f"{part.strip()!r}: overlaps or precedes the period before it")
        periods.append((start, end))
    return tuple(periods)


@dataclass(frozen=True)
class WorkingCalendar:
    """Which days work, which hours of them, in which time zone."""

    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]
    periods: tuple[tuple[dt.time, dt.time], ...]
    tz: ZoneInfo

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def _spans(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The working periods of ``day`` as aware datetimes (none on a day off)."""
        if not self.is_working_day(day):
            return []
        return [(dt.datetime.combine(day, start, self.tz), _end(day, end, self.tz))
                for start, end in self.periods]

    def add_working_hours(self, start: dt.datetime, hours: float) -> dt.datetime:
        """The earliest instant at which ``hours`` of working time have passed since
        ``start`` (so ``hours`` = 0 gives ``start`` itself, and adding in two steps is adding
        once).
        """
        if start.tzinfo is None:
            raise ValueError("start must be an aware datetime")
        if hours < 0:
            raise ValueError(f"hours {hours}: expected 0 or more")
        if hours == 0:
            return start
        left = dt.timedelta(hours=hours)
        local = start.astimezone(self.tz)
        day = local.date()
        for _ in range(_MAX_DAYS):
            for lo, hi in self._spans(day):
                begin = max(lo, local)
                if begin >= hi:
                    continue
                if begin + left <= hi:
                    return begin + left
                left -= hi - begin
            day += dt.timedelta(days=1)
        raise ValueError(f"{hours} working hours reach beyond {_MAX_DAYS} days")

    def working_time_between(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        """Working time from ``start`` to ``end`` (zero when ``end`` is not later)."""
        if end <= start:
            return dt.timedelta(0)
        local_start, local_end = start.astimezone(self.tz), end.astimezone(self.tz)
        total = dt.timedelta(0)
        day = local_start.date()
        while day <= local_end.date():
            for lo, hi in self._spans(day):
                lo, hi = max(lo, local_start), min(hi, local_end)
                if hi > lo:
                    total += hi - lo
            day += dt.timedelta(days=1)
        return total


def _end(day: dt.date, end: dt.time, tz: ZoneInfo) -> dt.datetime:
    if end == dt.time.max:  # 24:00: midnight of the next day, exactly
        return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tz)
    return dt.datetime.combine(day, end, tz)


def read_calendar_days(path: Path) -> tuple[frozenset[dt.date], frozenset[dt.date]]:
    """Holidays and worked weekend days from a calendar CSV (date, kind, name)."""
    holidays: set[dt.date] = set()
    workdays: set[dt.date] = set()
    try:
        with path.open(encoding="utf-8", newline="") as src:
            for number, row in enumerate(csv.DictReader(src), start=2):
                try:
                    day = dt.date.fromisoformat(row["date"])
                except (TypeError, ValueError, KeyError):
                    raise ConfigurationError(msg(
                        "{path} line {number}: date {value!r}: expected YYYY-MM-DD",
                        path=path, number=number, value=row.get("date"))) from None
                kind = row.get("kind")
                if kind not in ("holiday", "workday"):
                    raise ConfigurationError(msg(
                        "{path} line {number}: kind {value!r}: expected holiday or workday",
                        path=path, number=number, value=kind))
                (holidays if kind == "holiday" else workdays).add(day)
    except OSError as exc:
        raise ConfigurationError(msg("working calendar {path} cannot be read: {reason}",
                                     path=path, reason=exc.strerror)) from None
    return frozenset(holidays), frozenset(workdays)


def load_calendar(settings) -> WorkingCalendar:
    """The working calendar of the settings (``data_dir``, ``working_hours``, ``timezone``)."""
    holidays, workdays = read_calendar_days(Path(settings["data_dir"]) / CALENDAR_FILE)
    return WorkingCalendar(holidays, workdays, parse_periods(settings["working_hours"]),
                           ZoneInfo(settings["timezone"]))
