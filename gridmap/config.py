"""Settings: one documented table, read from the environment and checked at start.

Every setting has a name, a default, a help text and a check; :func:`load_settings` reads the
environment variable ``GRIDMAP_<NAME>`` (or the plain name for the few listed with ``env``),
converts it to the default's type and checks it. A bad value is a
:class:`~gridmap.errors.ConfigurationError` whose one-line message names the variable, the value
received and what was expected. A test fails when a setting read elsewhere is missing here, and
another when the README's settings table differs from this one.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from gridmap.errors import ConfigurationError
from gridmap.i18n import msg

REPO_ROOT = Path(__file__).resolve().parent.parent
DISTRICT_TABLE = Path("reference") / "districts.csv"  # as gridmap.codes.district_table_path
_WHOLE = re.compile(r"^[-+]?[0-9]+$")  # ASCII digits only: int() also takes '²' and '١'
_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")
_DECIMAL = re.compile(r"^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$")

@dataclass(frozen=True)
class Check:
    """A setting's check: what it expects (for messages and the README) and the test,
    which returns what is wrong with a value, or None."""

    expects: str
    problem: Callable[[Any], str | None]

    def __call__(self, value: Any) -> None:
        found = self.problem(value)
        if found:
            raise ValueError(found)


def _whole(minimum: int) -> Check:
    def problem(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            return f"expected a whole number ≥ {minimum}"
        return None
    return Check(f"whole number ≥ {minimum}", problem)


def _number(minimum: float) -> Check:
    def problem(value: Any) -> str | None:
        if (isinstance(value, bool) or not isinstance(value, (int, float))
                or not value >= minimum):  # `not >=` also rejects NaN
            return f"expected a number ≥ {minimum:g}"
        return None
    return Check(f"number ≥ {minimum:g}", problem)


def _code_profile(value: Any) -> str | None:
    from gridmap.codes import PROFILES

    return None if value in PROFILES else f"expected one of {', '.join(sorted(PROFILES))}"


def _database_url(value: Any) -> str | None:
    expected = "expected postgresql://USER@HOST:PORT/DATABASE"
    try:
        url = make_url(value)
        port = url.port
    except (ArgumentError, ValueError, TypeError):
        return f"not a database URL; {expected}"
    if url.get_backend_name() != "postgresql":
        return f"{url.drivername!r} is not PostgreSQL; {expected}"
    if port is not None and not 1 <= port <= 65535:
        return f"port {port} is outside 1–65535; {expected}"
    if not url.database:
        return f"no database name; {expected}"
    return None


def _data_dir(value: Any) -> str | None:
    path = Path(value)
    if not path.is_dir():
        return f"no such folder; expected the data folder holding {DISTRICT_TABLE.as_posix()}"
    if not (path / DISTRICT_TABLE).is_file():
        return (f"the folder has no {DISTRICT_TABLE.as_posix()} (the official district "
                f"table that district codes are checked against)")
    return None


_ANY_TEXT = Check("any text", lambda v: None if isinstance(v, str) else "expected text")


def _collection_list(value: Any) -> str | None:
    names = [n.strip() for n in value.split(",")] if isinstance(value, str) else None
    if names is None or (value.strip() and not all(re.fullmatch(r"[a-z][a-z0-9_]{0,63}", n)
                                                   for n in names)):
        return "expected layer names separated by commas, e.g. districts,streets"
    return None


_COLLECTION_LIST = Check("layer names, comma-separated", _collection_list)
_BOOLEAN = Check("true or false",
                 lambda v: None if isinstance(v, bool) else "expected true or false")
_DATABASE_URL = Check("postgresql://USER@HOST:PORT/DATABASE", _database_url)
_DATA_DIR = Check(f"folder with {DISTRICT_TABLE.as_posix()}", _data_dir)
_CODE_PROFILE = Check("gbt30428, cjt213 or cjt349", _code_profile)


def _timezone(value: Any) -> str | None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return "expected an IANA time zone such as Asia/Shanghai"
    return None


_TIMEZONE = Check("IANA time zone", _timezone)


def _working_hours(value: Any) -> str | None:
    from gridmap.incidents.calendar import parse_periods

    try:
        parse_periods(value)
    except (ValueError, AttributeError) as exc:
        return f"{exc}; expected periods such as 08:30-12:00,14:00-17:30"
    return None


_WORKING_HOURS = Check("HH:MM-HH:MM periods, comma-separated", _working_hours)


def _clock(value: Any) -> str | None:
    import datetime as dt

    try:
        dt.time.fromisoformat(value)
    except (ValueError, TypeError):
        return "expected a time of day such as 08:30"
    return None


_CLOCK = Check("time of day HH:MM", _clock)


def _mqtt_url(value: Any) -> str | None:
    from urllib.parse import urlsplit

    expected = "expected mqtt://HOST:PORT"
    try:
        parts = urlsplit(value)
        port = parts.port
    except (ValueError, TypeError, AttributeError):
        return f"not a URL; {expected}"
    if parts.scheme != "mqtt" or not parts.hostname:
        return expected
    if port is not None and not 1 <= port <= 65535:
        return f"port {port} is outside 1–65535; {expected}"
    return None


_MQTT_URL = Check("mqtt://HOST:PORT", _mqtt_url)


@dataclass(frozen=True)
class Setting:
    """One configurable value with its documentation and its check."""

    name: str
    default: Any
    help: str
    check: Check = _ANY_TEXT
    env: str | None = None

    @property
    def env_var(self) -> str:
        return self.env or f"GRIDMAP_{self.name.upper()}"

    @property
    def expects(self) -> str:
        return self.check.expects


SETTINGS: tuple[Setting, ...] = (
    Setting("database_url", "postgresql://postgres@127.0.0.1:5432/gridmap",
            "SQLAlchemy URL of the PostGIS database (psycopg 3 driver is used).",
            _DATABASE_URL, env="DATABASE_URL"),
    Setting("data_dir", str(REPO_ROOT / "data"),
            "Folder of reference tables (the official district table that district codes "
            "are checked against) and the demo district.", _DATA_DIR),
    Setting("code_profile", "gbt30428",
            "Default grid-code profile for new districts: gbt30428 (15 digits), cjt213 (14), "
            "cjt349 (20).", _CODE_PROFILE),
    Setting("min_households", 250, "Default lower household bound of a residential grid.",
            _whole(1)),
    Setting("max_households", 500, "Default upper household bound of a residential grid.",
            _whole(1)),
    Setting("containment_tolerance_m", 0.5,
            "How far (metres) a grid may stick out of its community before it is a violation.",
            _number(0)),
    Setting("gap_tolerance_m2", 1.0,
            "Smallest gap or overlap area (m²) reported by the validator.", _number(0)),
    Setting("api_max_features", 5000, "Upper limit of features in one API response.",
            _whole(1)),
    Setting("ogcapi_public_collections", "",
            "Collections of the OGC API – Features service (/ogcapi) anyone may read without "
            "an API key, comma-separated layer names (e.g. districts,streets,roads); every "
            "other collection needs an agency key naming it.", _COLLECTION_LIST),
    Setting("max_request_kib", 8192,
            "Largest request body the web app reads (KiB); a larger one is answered 413.",
            _whole(16)),
    Setting("statement_timeout_ms", 15000,
            "Web requests: longest a database statement may run (ms) before it is cancelled "
            "and the request answered 503; keep it below gunicorn's worker timeout.",
            _whole(1)),
    Setting("lock_timeout_ms", 3000,
            "Web requests: longest a statement waits for a lock (ms) before the request is "
            "answered 503 with Retry-After.", _whole(1)),
    Setting("batch_statement_timeout_ms", 3_600_000,
            "CLI commands (imports, validation, migrations): longest one statement may run "
            "(ms).", _whole(1)),
    Setting("batch_lock_timeout_ms", 600_000,
            "CLI commands: longest a statement waits for a lock (ms), e.g. for another import "
            "into the same district to finish.", _whole(1)),
    Setting("password_min_length", 10,
            "Shortest password accepted (characters); common passwords are refused whatever "
            "their length.", _whole(8)),
    Setting("login_max_failures", 5,
            "Wrong passwords in a row that lock an account (counted in the database, so "
            "across every server process).", _whole(1)),
    Setting("lockout_minutes", 15, "How long a locked account stays locked (minutes).",
            _whole(1)),
    Setting("argon2_time_cost", 2, "argon2id passes over memory when hashing a password.",
            _whole(1)),
    Setting("argon2_memory_kib", 19456, "argon2id memory per password hash (KiB).",
            _whole(8192)),
    Setting("argon2_parallelism", 1, "argon2id lanes per password hash.", _whole(1)),
    Setting("timezone", "Asia/Shanghai",
            "Time zone in which the web pages show times and the OGC API writes them (the "
            "database keeps UTC).", _TIMEZONE),
    Setting("attachments_dir", str(REPO_ROOT / "var" / "attachments"),
            "Folder where attachments (incident photos) are stored, each under its SHA-256."),
    Setting("export_dir", str(REPO_ROOT / "var" / "exports"),
            "Folder where exports made in the background wait to be downloaded, one "
            "sub-folder per job."),
    Setting("export_keep_hours", 24,
            "How long a background export's file is kept for its download (hours); older "
            "ones are removed when the next background export starts.", _whole(1)),
    Setting("export_direct_max_features", 20000,
            "Largest export the web app downloads at once; a larger one runs as a "
            "background job with progress (0: every one).", _whole(0)),
    Setting("attachment_max_kib", 6144,
            "Largest attachment accepted (KiB); a larger one is answered 413. Keep it below "
            "GRIDMAP_MAX_REQUEST_KIB.", _whole(1)),
    Setting("working_hours", "08:30-12:00,14:00-17:30",
            "Working periods of a working day, in the time zone above: incidents' time limits "
            "count these hours only, on the working days of data/calendar/china.csv.",
            _WORKING_HOURS),
    Setting("session_idle_minutes", 30,
            "Minutes without a request after which a signed-in person is signed out.",
            _whole(1)),
    Setting("trusted_proxies", 0,
            "Reverse proxies in front of the web app (nginx: 1): their X-Forwarded-For and "
            "X-Forwarded-Proto are believed, so the audit trail records the client's address "
            "and cookies are Secure behind HTTPS; 0 believes no such header.", _whole(0)),
    Setting("session_max_hours", 12,
            "Hours after sign-in at which a web session ends however active it is.",
            _whole(1)),
    Setting("secret_key", "",
            "Key that signs web sessions, the same for every server process; empty means one "
            "generated once and kept in the database (table server_secret)."),
    Setting("mqtt_url", "mqtt://127.0.0.1:1883",
            "MQTT broker that devices publish telemetry to and `gridmap ingest-mqtt` reads "
            "from; `make run` and `make test` start Mosquitto when none answers here.",
            _MQTT_URL),
    Setting("device_message_max_bytes", 8192,
            "Largest device telemetry message accepted (bytes of JSON); a larger one is "
            "rejected and counted as oversized.", _whole(64)),
    Setting("device_low_battery_percent", 20.0,
            "A device reporting a battery reading below this percentage raises a low-battery "
            "alarm (an incident in its grid).", _number(0)),
    Setting("device_offline_minutes", 60,
            "An active device with no message for longer than this raises an offline alarm; "
            "`gridmap ingest-mqtt` checks every minute.", _whole(1)),
    Setting("max_snap_m", 80.0,
            "A route stop farther than this (metres) from every walkable street is reported, "
            "not routed.", _number(0)),
    Setting("walk_speed_mps", 1.2,
            "Grid workers' walking speed on inspection rounds (metres per second): turns "
            "route lengths into times.", _number(0.1)),
    Setting("route_day_minutes", 240,
            "Length of a grid worker's inspection day (walking and stops, minutes) where the "
            "community's station does not set its own.", _whole(10)),
    Setting("route_day_start", "08:30",
            "Time the inspection round leaves the service station, where the community's "
            "station does not set its own (expected arrivals count from it).", _CLOCK),
    Setting("route_building_days", 7,
            "Visit cycle of buildings: every building of a grid is visited at least once in "
            "this many days, where the community's station does not set its own.", _whole(1)),
    Setting("route_plan_days", 7,
            "Days planned ahead for each grid (the plan kept so that tomorrow's route changes "
            "little); a longer request plans as far as asked.", _whole(1)),
    Setting("route_building_visit_s", 60,
            "Time a building visit takes on the route (seconds).", _whole(0)),
    Setting("route_facility_visit_s", 60,
            "Time a facility inspection takes on the route (seconds).", _whole(0)),
    Setting("route_incident_visit_s", 300,
            "Time verifying a handled incident on site takes on the route (seconds).",
            _whole(0)),
    Setting("tile_cache", True,
            "Keep rendered vector tiles in the shared cache (table tile_cache, invalidated by "
            "the data's triggers); false renders every tile (to measure rendering).",
            _BOOLEAN),
    Setting("tile_cache_max_mb", 1024,
            "Largest size of the tile cache (MiB of stored tiles); past it the oldest rendered "
            "tiles are deleted (checked every ~200 renders) and rendered again when asked.",
            _whole(1)),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def _convert(raw: str, default: Any) -> Any:
    """The environment's text as the type of the default; ValueError when it is not one."""
    text = raw.strip()
    if isinstance(default, bool):
        lowered = text.lower()
        if lowered not in {"1", "true", "yes", "on", "0", "false", "no", "off"}:
            raise ValueError("expected true or false")
        return lowered in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        if not _WHOLE.match(text):
            raise ValueError("expected a whole number in ASCII digits")
        return int(text)
    if isinstance(default, float):
        if not _DECIMAL.match(text):
            raise ValueError("expected a number in ASCII digits")
        return float(text)
    return raw


def _shown(value: Any) -> str:
    """``repr`` of a value for a message, with any password in a URL masked."""
    return _PASSWORD.sub(r"\1***@", repr(value))


def _checked(setting: Setting, value: Any, source: str) -> Any:
    try:
        setting.check(value)
    except ValueError as exc:
        raise ConfigurationError(msg("{source}={value}: {exc}", source=source,
                                     value=_shown(value), exc=exc),
                                 setting=setting.name) from None
    return value


def load_settings(overrides: Mapping[str, Any] | None = None,
                  environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Return every setting, checked: overrides, then the environment, then the default.

    Raises
    ------
    KeyError
        When an override names a setting that is not in :data:`SETTINGS`.
    ConfigurationError
        When a value is malformed or out of range; the message names the variable, the value
        and what was expected (one line).
    """
    environ = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(_BY_NAME))
    if unknown:
        raise KeyError(f"unknown setting {unknown[0]!r}; known: {', '.join(sorted(_BY_NAME))}")
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.name in overrides:
            values[setting.name] = _checked(setting, overrides[setting.name], setting.name)
            continue
        raw = environ.get(setting.env_var)
        if raw in (None, ""):
            values[setting.name] = setting.default
            continue
        try:
            value = _convert(raw, setting.default)
        except ValueError as exc:
            expected = f"expected a {setting.expects} (ASCII digits)" if setting.expects else exc
            raise ConfigurationError(msg("{env_var}={raw}: {expected}", env_var=setting.env_var,
                                         raw=_shown(raw), expected=expected),
                                     setting=setting.name) from None
        values[setting.name] = _checked(setting, value, setting.env_var)
    if values["min_households"] > values["max_households"]:
        raise ConfigurationError(
            msg("GRIDMAP_MIN_HOUSEHOLDS={value} is above GRIDMAP_MAX_HOUSEHOLDS={value2}: "
                "expected min ≤ max", value=values['min_households'],
                value2=values['max_households']),
            setting="min_households")
    return values


def settings_table() -> str:
    """The settings as a Markdown table (the README carries it; a test keeps them equal)."""
    lines = ["| variable | default | expected | meaning |", "| --- | --- | --- | --- |"]
    for s in SETTINGS:
        default = s.default or "(empty)"
        if isinstance(default, str) and default.startswith(str(REPO_ROOT)):
            # a folder of the clone: the same table whichever folder it is cloned into
            default = "(repository)" + default[len(str(REPO_ROOT)):]
        lines.append(f"| `{s.env_var}` | `{default}` | {s.expects} | {s.help} |")
    return "\n".join(lines)
