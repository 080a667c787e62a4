"""Devices (smoke sensors, cameras, gates, meters …), their telemetry, rejected messages and
alarm episodes (:mod:`gridmap.devices`).

``device.grid_id`` is the active grid covering the device's location (the incidents' rule:
boundary included, first code on a shared boundary), stored so the layer can be scoped by grid
like every other layer; it is refreshed when a moving device reports a new place and when the
grids of a community are redrawn (:func:`gridmap.devices.registry.refresh_device_grids`).
"""
from __future__ import annotations

import datetime as dt

from geoalchemy2 import Geometry
from sqlalchemy import (BigInteger, Boolean, CheckConstraint, DateTime, Float, ForeignKey,
                        Index, Integer, PrimaryKeyConstraint, String, Text, func, text)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from gridmap.geo import STORAGE_SRID
from gridmap.models.base import Base

DEVICE_STATUSES = ("active", "retired")
DEVICE_ID_PATTERN = "^[A-Za-z0-9._-]{1,64}$"


class Device(Base):
    """One registered device; ``last_state`` is the readings and alarms of the message with
    the latest event time (``last_seen``), whatever order messages arrived in."""

    __tablename__ = "device"
    __table_args__ = (CheckConstraint(f"id ~ '{DEVICE_ID_PATTERN}'", name="id"),
                      CheckConstraint(f"status in {DEVICE_STATUSES!r}", name="status"),
                      CheckConstraint("moving or location is not null", name="fixed_location"))
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    moving: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    location = mapped_column(Geometry("POINT", srid=STORAGE_SRID, spatial_index=True))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    last_seen: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_state: Mapped[dict | None] = mapped_column(JSONB)
    battery: Mapped[float | None] = mapped_column(Float)
    registered_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True),
                                                       server_default=func.now())


class DeviceTelemetry(Base):
    """One message as received: stored once per (device, message id)."""

    __tablename__ = "device_telemetry"
    __table_args__ = (PrimaryKeyConstraint("device_id", "message_id"),)
    device_id: Mapped[str] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(String(64))
    event_time: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    stored_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True),
                                                   server_default=text("clock_timestamp()"))
    location = mapped_column(Geometry("POINT", srid=STORAGE_SRID, spatial_index=False))
    readings: Mapped[dict] = mapped_column(JSONB)
    alarms: Mapped[dict] = mapped_column(JSONB)


class DeviceRejected(Base):
    """Rejected messages counted per reason, with the latest one's detail."""

    __tablename__ = "device_rejected"
    reason: Mapped[str] = mapped_column(String(32), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)
    last_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_detail: Mapped[str | None] = mapped_column(Text)


class DeviceAlarm(Base):
    """One alarm episode of a device: the incident it opened, whether the alarm is on now,
    when it last cleared, and when the episode ended (its incident was finished). At most one
    unended episode per device and alarm type (a partial unique index), so two consumers
    cannot open two incidents."""

    __tablename__ = "device_alarm"
    __table_args__ = (
        Index("device_alarm_open", "device_id", "alarm_type", unique=True,
              postgresql_where=text("ended_at is null")),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"),
                                           index=True)
    alarm_type: Mapped[str] = mapped_column(String(32))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    raised_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    cleared_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
