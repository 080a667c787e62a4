"""Device types and the alarm → event class mapping: data in ``data/taxonomy/``.

``device_types.csv`` (code, name_zh, name_en) lists the kinds of device a city registers;
``device_alarms.csv`` (alarm, event_class, name_zh, name_en) says which event class an alarm's
incident gets. Alarms come from a message's ``alarms`` flags (``smoke``, ``tamper``, any name
the file lists), and from two checks of the receiver: ``low_battery`` (a battery reading
below the configured percentage) and ``offline`` (no message for longer than the configured
time). An alarm flag the file does not list is stored with the message but opens nothing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from gridmap.errors import InvalidInput
from gridmap.i18n import msg
from gridmap.incidents.taxonomy import read_rows

TYPES_FILE = Path("taxonomy") / "device_types.csv"
ALARMS_FILE = Path("taxonomy") / "device_alarms.csv"
_CODE = re.compile(r"[a-z][a-z0-9_]{0,31}", re.ASCII)
_CLASS = re.compile(r"[0-9]{4}", re.ASCII)


@dataclass(frozen=True)
class Named:
    code: str
    name_zh: str
    name_en: str
    event_class: str | None = None


def _named(path: Path, key: str, with_class: bool) -> dict[str, Named]:
    columns = (key, "event_class", "name_zh", "name_en") if with_class \
        else (key, "name_zh", "name_en")
    out: dict[str, Named] = {}
    for number, row in read_rows(path, columns):
        code = (row[key] or "").strip()
        event_class = (row.get("event_class") or "").strip() if with_class else None
        if not _CODE.fullmatch(code) or code in out or (
                with_class and not _CLASS.fullmatch(event_class or "")):
            raise InvalidInput(msg("{path} line {number}: {value!r}: expected a new lower-case "
                                   "code (letters, digits, _) and, for alarms, a 4-digit event "
                                   "class", path=path, number=number, value=code[:40]))
        out[code] = Named(code, (row["name_zh"] or "").strip(), (row["name_en"] or "").strip(),
                          event_class)
    return out


@lru_cache(maxsize=8)
def device_types(data_dir: str) -> dict[str, Named]:
    """The device types of ``data_dir``'s ``taxonomy/device_types.csv``."""
    return _named(Path(data_dir) / TYPES_FILE, "code", False)


@lru_cache(maxsize=8)
def alarm_classes(data_dir: str) -> dict[str, Named]:
    """The alarms of ``data_dir``'s ``taxonomy/device_alarms.csv`` with their event class."""
    return _named(Path(data_dir) / ALARMS_FILE, "alarm", True)
