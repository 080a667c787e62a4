"""Write ``data/calendar/china.csv``: China's public holidays and the weekend days worked in
their place (调休), from the PyPI package ``chinesecalendar`` (MIT; the State Council's yearly
notices), for the years it covers from 2024.

Maintainer tool (not run by ``make``): ``pip install chinesecalendar`` then
``python tools/make_calendar.py``. gridmap reads the CSV, never the package: a city replaces
the file, or adds its own days, without code.
"""
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import chinese_calendar
from chinese_calendar import constants

OUT = Path(__file__).resolve().parents[1] / "data" / "calendar" / "china.csv"
FIRST_YEAR = 2024


def main() -> None:
    rows = []
    for day, name in constants.holidays.items():
        if day.year >= FIRST_YEAR and day.weekday() < 5:  # weekends are off anyway
            rows.append((day, "holiday", name))
    for day, name in constants.workdays.items():
        if day.year >= FIRST_YEAR:
            rows.append((day, "workday", name))
    rows.sort()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["date", "kind", "name"])
        writer.writerows((d.isoformat(), kind, name) for d, kind, name in rows)
    last = max(d for d, _, _ in rows)
    print(f"{OUT}: {len(rows)} days, {FIRST_YEAR}–{last.year} "
          f"(chinesecalendar {chinese_calendar.__version__})")


if __name__ == "__main__":
    main()
