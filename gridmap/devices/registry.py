"""The device registry: register, import, list, describe, retire; device statistics; and the
devices' grids kept current.

A device's grid is the active grid covering its location, by the incidents' rule (boundary
included; on a boundary two grids share, the grid whose code sorts first); it is stored
(``device.grid_id``) and refreshed when a moving device reports a new place
(:mod:`gridmap.devices.telemetry`) and when a community's grids are redrawn
(:func:`refresh_device_grids`, called by :mod:`gridmap.grid.redraw`).
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from gridmap.audit import record
from gridmap.auth.scope import Scope, grid_condition
from gridmap.devices.messages import DEVICE_ID, REASONS
from gridmap.devices.taxonomy import device_types
from gridmap.errors import Conflict, InvalidInput, NotFound
from gridmap.i18n import msg
from gridmap.models.device import Device

IMPORT_COLUMNS = ("id", "type", "name", "lon", "lat", "moving")
MAX_NAME = 200
#: The grid covering each device's location (the rule of gridmap.incidents.service).
GRID_OF_LOCATION = """(select g.id from grid g where g.valid_to is null
                       and ST_Covers(g.geom, {location}) order by g.code limit 1)"""


@dataclass(frozen=True)
class DeviceSpec:
    """A device to register; ``lon``/``lat`` may be None only for a moving device."""

    id: str
    type: str
    name: str | None
    lon: float | None
    lat: float | None
    moving: bool = False


def check_spec(spec: DeviceSpec, types: dict, where: str = "") -> DeviceSpec:
    """The spec, checked.

    Raises
    ------
    InvalidInput
        A malformed id, an unknown type, a fixed device without a location, a place off the
        globe, an over-long name.
    """
    if not isinstance(spec.id, str) or not DEVICE_ID.fullmatch(spec.id):
        raise InvalidInput(msg("{where}device id {value!r}: expected 1–64 letters, digits, '.', "
                               "'_' or '-'", where=where, value=str(spec.id)[:70]))
    if spec.type not in types:
        raise InvalidInput(msg("{where}device type {value!r}: expected one of {items} "
                               "(data/taxonomy/device_types.csv)", where=where,
                               value=str(spec.type)[:40], items=", ".join(sorted(types))))
    located = spec.lon is not None and spec.lat is not None
    if located and not (math.isfinite(spec.lon) and math.isfinite(spec.lat)
                        and -180 <= spec.lon <= 180 and -90 <= spec.lat <= 90):
        raise InvalidInput(msg("{where}location {lon}, {lat}: expected longitude -180…180 and "
                               "latitude -90…90 (CGCS2000, degrees)", where=where,
                               lon=spec.lon, lat=spec.lat))
    if not located and not spec.moving:
        raise InvalidInput(msg("{where}device {id}: a fixed device needs its location (lon, "
                               "lat)", where=where, id=spec.id))
    name = (spec.name or "").strip() or None
    if name is not None and (len(name) > MAX_NAME or not name.isprintable()):
        raise InvalidInput(msg("{where}name: expected at most {limit} printable characters",
                               where=where, limit=MAX_NAME))
    return DeviceSpec(spec.id, spec.type, name, spec.lon if located else None,
                      spec.lat if located else None, bool(spec.moving))


def register_devices(session: Session, specs: list[DeviceSpec], *, data_dir: str,
                     update: bool = False) -> dict[str, int]:
    """Register devices in one statement (their grids looked up in the same statement).

    ``update`` re-registers known ids with the given type, name and place (an import run
    again); without it a known id is a conflict. Returns counts of ``inserted`` and
    ``updated``.
    """
    types = device_types(data_dir)
    specs = [check_spec(s, types, f"{n}: " if len(specs) > 1 else "")
             for n, s in enumerate(specs, start=1)]
    ids = [s.id for s in specs]
    if len(set(ids)) != len(ids):
        twice = next(i for i in ids if ids.count(i) > 1)
        raise InvalidInput(msg("device {id} is listed more than once", id=twice))
    known = set(session.execute(select(Device.id).where(Device.id.in_(ids))).scalars())
    if known and not update:
        raise Conflict(msg("device {id} is already registered", id=sorted(known)[0]))
    if not specs:
        return {"inserted": 0, "updated": 0}
    point = "case when s.lon is null then null else ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4490) end"
    session.execute(text(f"""
        insert into device (id, type, name, moving, location, grid_id, status)
        select s.id, s.type, s.name, s.moving, {point},
               {GRID_OF_LOCATION.format(location=point)}, 'active'
        from unnest(cast(:ids as text[]), cast(:types as text[]), cast(:names as text[]),
                    cast(:moving as boolean[]), cast(:lons as float8[]), cast(:lats as float8[]))
             as s(id, type, name, moving, lon, lat)
        on conflict (id) do update set type = excluded.type, name = excluded.name,
            moving = excluded.moving,
            location = coalesce(excluded.location, device.location),
            grid_id = case when excluded.location is null then device.grid_id
                           else excluded.grid_id end,
            status = 'active'
    """), {"ids": ids, "types": [s.type for s in specs], "names": [s.name for s in specs],
           "moving": [s.moving for s in specs], "lons": [s.lon for s in specs],
           "lats": [s.lat for s in specs]})
    counts = {"inserted": len(specs) - len(known), "updated": len(known)}
    record(session, action="register", table="device",
           key=ids[0] if len(ids) == 1 else f"{len(ids)} devices",
           after={"ids": ids[:50], **counts})
    return counts


def read_device_csv(source: Path | str | io.TextIOBase) -> list[DeviceSpec]:
    """Devices of a CSV file with the columns ``id,type,name,lon,lat,moving``."""
    try:
        handle = source if hasattr(source, "read") else \
            Path(source).open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InvalidInput(msg("{path} cannot be read: {reason}", path=source,
                               reason=exc.strerror)) from None
    with handle:
        try:
            reader = csv.DictReader(handle)
            missing = [c for c in IMPORT_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise InvalidInput(msg("columns {missing} are missing; expected {expected}",
                                       missing=", ".join(missing),
                                       expected=",".join(IMPORT_COLUMNS)))
            return [_spec_of_row(number, row) for number, row in enumerate(reader, start=2)]
        except UnicodeDecodeError:
            raise InvalidInput(msg("the file is not UTF-8 text")) from None


def _spec_of_row(number: int, row: dict[str, str]) -> DeviceSpec:
    def coordinate(name: str) -> float | None:
        raw = (row.get(name) or "").strip()
        if not raw:
            return None
        try:
            return float(raw)
        except ValueError:
            raise InvalidInput(msg("line {number}: {name} {raw!r}: expected a number",
                                   number=number, name=name, raw=raw[:40])) from None

    moving = (row.get("moving") or "").strip().lower()
    if moving not in ("", "0", "1", "true", "false", "yes", "no"):
        raise InvalidInput(msg("line {number}: moving {raw!r}: expected true or false",
                               number=number, raw=moving[:20]))
    return DeviceSpec((row.get("id") or "").strip(), (row.get("type") or "").strip(),
                      row.get("name"), coordinate("lon"), coordinate("lat"),
                      moving in ("1", "true", "yes"))


def get_device(session: Session, scope: Scope, device_id: str) -> Device:
    """The device, if it exists and its grid lies in the caller's scope (else 404)."""
    device = session.get(Device, device_id) if DEVICE_ID.fullmatch(device_id or "") else None
    if device is None or not _reaches(session, scope, device):
        raise NotFound(msg("device {id} does not exist", id=str(device_id)[:70]))
    return device


def _reaches(session: Session, scope: Scope, device: Device) -> bool:
    if scope.reaches_everything:
        return True
    if device.grid_id is None:
        return False
    condition, params = grid_condition(scope, "g")
    return bool(session.execute(text(f"select 1 from grid g where g.id = :id and {condition}"),
                                {**params, "id": device.grid_id}).scalar())


_DESCRIBE = """
    select d.id, d.type, d.name, d.moving, d.status, d.last_seen, d.last_state, d.battery,
           d.registered_at, ST_X(d.location) as lon, ST_Y(d.location) as lat,
           g.code as grid,
           (select coalesce(json_agg(json_build_object(
                'alarm', a.alarm_type, 'active', a.active, 'incident', a.incident_id,
                'raised_at', a.raised_at, 'cleared_at', a.cleared_at) order by a.id), '[]')
            from device_alarm a where a.device_id = d.id and a.ended_at is null) as alarms
    from device d left join grid g on g.id = d.grid_id
    where {condition}
"""


def _row(row) -> dict:
    out = dict(row._mapping)
    for key in ("last_seen", "registered_at"):
        out[key] = out[key].isoformat() if out[key] else None
    return out


def describe_devices(session: Session, scope: Scope, *, ids: list[str] | None = None,
                     status: str | None = None, limit: int = 1000) -> list[dict]:
    """Devices as plain data (one statement), in the caller's scope, by id."""
    filters, params = [], {"limit": limit}
    if not scope.reaches_everything:
        condition, scope_params = grid_condition(scope, "g")
        filters.append(f"g.id is not null and {condition}")
        params.update(scope_params)
    if ids is not None:
        filters.append("d.id = any(cast(:ids as text[]))")
        params["ids"] = ids
    if status is not None:
        if status not in ("active", "retired"):
            raise InvalidInput(msg("status {value!r}: expected active or retired",
                                   value=status[:20]))
        filters.append("d.status = :status")
        params["status"] = status
    sql = _DESCRIBE.format(condition=" and ".join(filters) or "true") + \
        " order by d.id limit :limit"
    return [_row(r) for r in session.execute(text(sql), params)]


def describe_device(session: Session, scope: Scope, device_id: str) -> dict:
    """One device as plain data, with its open alarms (404 outside the scope)."""
    get_device(session, scope, device_id)
    return describe_devices(session, scope, ids=[device_id])[0]


def retire_device(session: Session, device_id: str) -> Device:
    """Mark a device retired: its messages are rejected from now on. Idempotent."""
    device = session.get(Device, device_id) if DEVICE_ID.fullmatch(device_id or "") else None
    if device is None:
        raise NotFound(msg("device {id} does not exist", id=str(device_id)[:70]))
    if device.status != "retired":
        device.status = "retired"
        session.flush()
        record(session, action="retire", table="device", key=device.id,
               before={"status": "active"}, after={"status": "retired"})
    return device


def device_stats(session: Session) -> dict:
    """Devices by status, messages stored, open alarms by type, rejected messages by
    reason."""
    devices = dict(session.execute(text(
        "select status, count(*) from device group by status")).all())
    stored = session.execute(text("select count(*) from device_telemetry")).scalar()
    alarms = dict(session.execute(text(
        "select alarm_type, count(*) from device_alarm where ended_at is null and active "
        "group by alarm_type")).all())
    rejected = {r.reason: {"count": r.count, "last_at": r.last_at.isoformat(),
                           "last_detail": r.last_detail}
                for r in session.execute(text(
                    "select reason, count, last_at, last_detail from device_rejected "
                    "order by reason"))}
    return {"devices": devices, "messages_stored": stored, "active_alarms": alarms,
            "rejected": rejected, "reasons": list(REASONS)}


def refresh_device_grids(session: Session, community_code: str) -> int:
    """Point the devices in or near a redrawn community at the grids that hold them now;
    return how many changed. Called by :mod:`gridmap.grid.redraw` after the grids change."""
    return session.execute(text(f"""
        update device d set grid_id = {GRID_OF_LOCATION.format(location="d.location")}
        where d.location is not null
          and (d.grid_id in (select id from grid where community_code = :c)
               or exists (select 1 from grid g where g.community_code = :c
                          and g.valid_to is null and ST_Covers(g.geom, d.location)))
          and d.grid_id is distinct from {GRID_OF_LOCATION.format(location="d.location")}
    """), {"c": community_code}).rowcount
